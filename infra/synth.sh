#!/usr/bin/env bash
# Synthesizes the Lazyflow stack into infra/cdk.out and lints the template with cfn-lint.
#
# Usage: infra/synth.sh [-c key=value ...]    (context keys: see infra/README.md)
# Needs the function binaries from `make build` (or -c assetDir=<dir>). cfn-lint is installed
# once, pinned, into .tools/venv-cfnlint at the repository root; later runs work offline.
set -euo pipefail

CFN_LINT_VERSION=1.58.0
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/.." && pwd)"
venv="$root/.tools/venv-cfnlint"

install_cfn_lint() {
	if [[ -x "$venv/bin/cfn-lint" ]] && [[ "$("$venv/bin/cfn-lint" --version 2>/dev/null)" == *"$CFN_LINT_VERSION"* ]]; then
		return 0
	fi
	echo "synth.sh: installing cfn-lint==$CFN_LINT_VERSION into $venv" >&2
	rm -rf "$venv"
	python3 -m venv "$venv"
	"$venv/bin/python" -m pip install --quiet "cfn-lint==$CFN_LINT_VERSION"
}

install_cfn_lint

out="$here/cdk.out"
rm -rf "$out"
cd "$here"
# jsii prints a large banner on every run when Node 20 (this machine's) is past its end of life;
# synth still works, and the banner would bury cfn-lint's findings. Newer Nodes are not muted.
export JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION="${JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION:-20}"
CDK_OUTDIR="$out" go run . "$@"

shopt -s nullglob
templates=("$out"/*.template.json)
if [[ ${#templates[@]} -eq 0 ]]; then
	echo "synth.sh: no template in $out" >&2
	exit 1
fi
# No rule is ignored: any finding (error, warning or informational) fails the build.
"$venv/bin/cfn-lint" --format parseable -- "${templates[@]}"
echo "synth.sh: ${templates[*]#"$root"/} synthesized and clean under cfn-lint $CFN_LINT_VERSION"
