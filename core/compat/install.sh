#!/usr/bin/env bash
# Installs the differential tier's oracle, the real Mistral 23.0.0, pinned
# (core/compat/requirements.txt) into .tools/mistral-venv (gitignored).
# Idempotent: a stamp of the requirements' digest skips a second install.
# Prints the venv's python on stdout.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
VENV="$ROOT/.tools/mistral-venv"
REQ="$ROOT/core/compat/requirements.txt"
STAMP="$ROOT/.tools/stamps/mistral-venv"

die() { echo "core/compat/install.sh: $*" >&2; exit 1; }
want="$(sha256sum "$REQ" | cut -d' ' -f1)"
if [[ -f "$STAMP" && "$(cat "$STAMP")" == "$want" && -x "$VENV/bin/python" ]]; then
  echo "$VENV/bin/python"; exit 0
fi
command -v python3 >/dev/null || die "python3 not found on PATH (Mistral 23.0.0 needs Python >= 3.10)"
python3 -c 'import sys; sys.exit(sys.version_info < (3, 10))' ||
  die "Mistral 23.0.0 needs Python >= 3.10, found $(python3 --version 2>&1)"
echo "core/compat/install.sh: installing Mistral 23.0.0 into $VENV" >&2
[[ -x "$VENV/bin/python" ]] || python3 -m venv "$VENV"
"$VENV/bin/python" -m pip install -q --disable-pip-version-check -r "$REQ" >&2 ||
  die "pip could not install core/compat/requirements.txt (see above)"
"$VENV/bin/python" -c 'import mistral.tests.unit.engine.base' >&2 || die "Mistral import failed after install"
mkdir -p "$(dirname "$STAMP")" && printf '%s' "$want" >"$STAMP"
echo "$VENV/bin/python"
