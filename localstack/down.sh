#!/usr/bin/env bash
# Stops what localstack/up.sh started (make local-down): exactly the recorded processes, each
# with its whole process group (MiniStack's Lambda bootstraps run in it) and any descendants
# that left it. Idempotent: nothing recorded or already gone is fine.
# Usage: localstack/down.sh [ministack] [ddblocal]   (no argument = both)
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
STATE="$ROOT/.cache/localstack"

log() { echo "down.sh: $*"; }

descendants() {
  local c
  for c in $(pgrep -P "$1" 2>/dev/null || true); do
    echo "$c"; descendants "$c"
  done
}

stop_part() {
  local name="$1" pidf="$STATE/$1.pid" pid pids p
  if [[ ! -f "$pidf" ]]; then log "$name: not running"; return; fi
  pid="$(cat "$pidf")"
  if ! kill -0 "$pid" 2>/dev/null; then
    log "$name: pid $pid already gone"; rm -f "$pidf" "$STATE/$name.port"; return
  fi
  # up.sh started it with setsid, so its pid is its process group id; a recorded pid that
  # does not lead its own group is not ours any more (pid reuse), so leave it alone.
  if [[ "$(ps -o pgid= -p "$pid" | tr -d ' ')" != "$pid" ]]; then
    log "$name: pid $pid is not the process group leader up.sh started; not killing it"
    rm -f "$pidf" "$STATE/$name.port"; return
  fi
  pids="$pid $(descendants "$pid" | tr '\n' ' ')"
  kill -TERM -- "-$pid" 2>/dev/null || true
  for p in $pids; do kill -TERM "$p" 2>/dev/null || true; done
  for _ in $(seq 1 50); do
    local left=""
    for p in $pids; do kill -0 "$p" 2>/dev/null && left="$left $p"; done
    [[ -z "$left" ]] && break
    sleep 0.1
  done
  kill -KILL -- "-$pid" 2>/dev/null || true
  for p in $pids; do kill -KILL "$p" 2>/dev/null || true; done
  rm -f "$pidf" "$STATE/$name.port"
  log "$name: stopped (pid $pid)"
}

parts=("$@")
[[ ${#parts[@]} -gt 0 ]] || parts=(ministack ddblocal)
for p in "${parts[@]}"; do
  case "$p" in
    ministack | ddblocal) stop_part "$p" ;;
    *) echo "down.sh: unknown part '$p' (want ministack or ddblocal)" >&2; exit 1 ;;
  esac
done
# Remove the env file only when nothing is left running, so tests cannot source stale ports.
if [[ ! -f "$STATE/ministack.pid" && ! -f "$STATE/ddblocal.pid" ]]; then
  rm -f "$STATE/env"
fi
