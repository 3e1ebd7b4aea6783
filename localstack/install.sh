#!/usr/bin/env bash
# Installs the no-Docker emulator tier into gitignored folders of the repo, pinned:
#   MiniStack (PyPI)            -> .tools/venv
#   DynamoDB Local (Maven)      -> .cache/ddblocal   (Maven repo in .cache/m2)
#   AWS CDK CLI (npm)           -> .tools/cdk
# Usage: localstack/install.sh [ministack] [ddblocal] [cdk]   (no argument = all three)
# Idempotent: each part keeps a stamp of what it installed and is skipped when the stamp
# still matches the pinned inputs, so a second run takes about a second.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
HERE="$ROOT/localstack"
TOOLS="$ROOT/.tools"
CACHE="$ROOT/.cache"
STAMPS="$TOOLS/stamps"
CDK_VERSION="2.1148.1"
DDB_JAR="DynamoDBLocal-3.1.0.jar"
SQLITE_SO="libsqlite4java-linux-amd64-1.0.392.so"

die() { echo "install.sh: $*" >&2; exit 1; }
log() { echo "install.sh: $*"; }
need() { command -v "$1" >/dev/null 2>&1 || die "$1 not found on PATH ($2)"; }
digest() { cat "$@" | sha256sum | cut -d' ' -f1; }
stamp_ok() { [[ -f "$STAMPS/$1" && "$(cat "$STAMPS/$1")" == "$2" ]]; }
stamp_set() { mkdir -p "$STAMPS" && printf '%s' "$2" >"$STAMPS/$1"; }

install_ministack() {
  local want
  want="$(digest "$HERE/requirements.txt")"
  if stamp_ok ministack "$want" && [[ -x "$TOOLS/venv/bin/ministack" ]]; then
    log "ministack: up to date"; return
  fi
  need python3 "MiniStack needs Python >= 3.10"
  python3 -c 'import sys; sys.exit(sys.version_info < (3, 10))' ||
    die "MiniStack needs Python >= 3.10, found $(python3 --version 2>&1)"
  log "ministack: creating $TOOLS/venv and installing localstack/requirements.txt"
  [[ -x "$TOOLS/venv/bin/python" ]] || python3 -m venv "$TOOLS/venv"
  "$TOOLS/venv/bin/python" -m pip install -q --disable-pip-version-check -r "$HERE/requirements.txt"
  "$TOOLS/venv/bin/python" -c 'import ministack.app, cbor2' || die "ministack import failed after install"
  stamp_set ministack "$want"
}

install_ddblocal() {
  local want out="$CACHE/ddblocal"
  want="$(digest "$HERE/ddblocal/pom.xml")"
  if stamp_ok ddblocal "$want" && [[ -f "$out/$DDB_JAR" && -f "$out/$SQLITE_SO" ]]; then
    log "ddblocal: up to date"; return
  fi
  need java "DynamoDB Local needs Java >= 17"
  need mvn "used to fetch DynamoDB Local from Maven Central"
  local jv
  jv="$(java -XshowSettings:properties -version 2>&1 | awk -F'= ' '/java.specification.version/ {print $2}')"
  [[ "${jv%%.*}" -ge 17 ]] || die "DynamoDB Local 3.x needs Java >= 17, found $jv"
  log "ddblocal: resolving localstack/ddblocal/pom.xml into $out"
  rm -rf "$out"
  # Absolute paths: maven-dependency-plugin resolves relative ones against the pom's folder.
  mvn -q -B -Dstyle.color=never -f "$HERE/ddblocal/pom.xml" -Dmaven.repo.local="$CACHE/m2" \
    org.apache.maven.plugins:maven-dependency-plugin:3.8.1:copy-dependencies \
    -DoutputDirectory="$out" -DincludeScope=runtime ||
    die "mvn could not fetch DynamoDB Local (see output above)"
  [[ -f "$out/$DDB_JAR" && -f "$out/$SQLITE_SO" ]] || die "ddblocal: $DDB_JAR or $SQLITE_SO missing in $out"
  # sqlite4java looks for the unversioned name first; the link avoids its slower fallback search.
  ln -sf "$SQLITE_SO" "$out/libsqlite4java-linux-amd64.so"
  stamp_set ddblocal "$want"
}

install_cdk() {
  local pkg="$TOOLS/cdk/node_modules/aws-cdk/package.json"
  if [[ -f "$pkg" && -x "$TOOLS/cdk/node_modules/.bin/cdk" ]] &&
    grep -q "\"version\": \"$CDK_VERSION\"" "$pkg"; then
    log "cdk: up to date ($CDK_VERSION)"; return
  fi
  need npm "the CDK CLI is installed from npm"
  log "cdk: installing aws-cdk@$CDK_VERSION into $TOOLS/cdk"
  mkdir -p "$TOOLS/cdk"
  npm i --prefix "$TOOLS/cdk" --no-audit --no-fund --loglevel=error "aws-cdk@$CDK_VERSION"
  "$TOOLS/cdk/node_modules/.bin/cdk" --version >/dev/null || die "cdk CLI does not run after install"
}

parts=("$@")
[[ ${#parts[@]} -gt 0 ]] || parts=(ministack ddblocal cdk)
for p in "${parts[@]}"; do
  case "$p" in
    ministack) install_ministack ;;
    ddblocal) install_ddblocal ;;
    cdk) install_cdk ;;
    *) die "unknown part '$p' (want ministack, ddblocal or cdk)" ;;
  esac
done
