#!/usr/bin/env bash
# Installs python-mistralclient (pinned in functions/internal/mistralapi/mistralclient/requirements.txt) into
# .tools/mistralclient-venv, for the client tier (functions/internal/mistralapi/mistralclient/client_test.go).
# Idempotent: a stamp of the requirements skips a second install.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../../../.." && pwd)"
VENV="$ROOT/.tools/mistralclient-venv"
STAMP="$ROOT/.tools/stamps/mistralclient"

die() { echo "mistralclient install.sh: $*" >&2; exit 1; }
want="$(sha256sum "$ROOT/functions/internal/mistralapi/mistralclient/requirements.txt" | cut -d' ' -f1)"
if [[ -f "$STAMP" && "$(cat "$STAMP")" == "$want" && -x "$VENV/bin/mistral" ]]; then
  echo "mistralclient install.sh: up to date"; exit 0
fi
command -v python3 >/dev/null 2>&1 || die "python3 not found on PATH (python-mistralclient needs Python >= 3.10)"
python3 -c 'import sys; sys.exit(sys.version_info < (3, 10))' ||
  die "python-mistralclient needs Python >= 3.10, found $(python3 --version 2>&1)"
echo "mistralclient install.sh: creating $VENV"
[[ -x "$VENV/bin/python" ]] || python3 -m venv "$VENV"
"$VENV/bin/python" -m pip install -q --disable-pip-version-check -r "$ROOT/functions/internal/mistralapi/mistralclient/requirements.txt"
"$VENV/bin/python" -c 'import mistralclient.api.client' || die "mistralclient import failed after install"
mkdir -p "$(dirname "$STAMP")" && printf '%s' "$want" >"$STAMP"
