#!/usr/bin/env bash
# Starts the no-Docker emulators as background processes (make local-up):
#   MiniStack       (LocalStack-compatible API, Lambda via local processes)  default port 4566
#   DynamoDB Local  (AWS's own DynamoDB emulator, -inMemory -sharedDb)       default port 8000
# Usage: localstack/up.sh [ministack] [ddblocal]   (no argument = both)
# Ports: MINISTACK_PORT / DDB_LOCAL_PORT pick them; when such a variable is set and the port
# is taken, up.sh fails; when unset and the default is taken, it picks a free port.
# Writes .cache/localstack/env (KEY=VALUE lines; `set -a; . .cache/localstack/env; set +a`),
# PID files and logs in .cache/localstack/. Idempotent: a part already running from an
# earlier up.sh is kept and its endpoint written again. Run localstack/install.sh first.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
STATE="$ROOT/.cache/localstack"
PY="$ROOT/.tools/venv/bin/python"
DDB_DIR="$ROOT/.cache/ddblocal"
READY_TIMEOUT="${LOCALSTACK_READY_TIMEOUT:-60}"

die() { echo "up.sh: $*" >&2; exit 1; }
log() { echo "up.sh: $*"; }

alive() { [[ -n "${1:-}" ]] && kill -0 "$1" 2>/dev/null; }
pid_of() { [[ -f "$STATE/$1.pid" ]] && cat "$STATE/$1.pid" || true; }
port_of() { [[ -f "$STATE/$1.port" ]] && cat "$STATE/$1.port" || true; }

# port_busy PORT: true when something accepts connections on 127.0.0.1:PORT or the port
# cannot be bound on all interfaces (both servers bind 0.0.0.0 or a wildcard).
port_busy() {
  python3 - "$1" <<'PY'
import socket, sys
port = int(sys.argv[1])
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
try:
    s.bind(("0.0.0.0", port))
except OSError:
    sys.exit(0)
finally:
    s.close()
sys.exit(1)
PY
}

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

# choose_port NAME VAR DEFAULT: prints the port to use or fails.
choose_port() {
  local name="$1" var="$2" def="$3" want
  want="${!var:-}"
  if [[ -n "$want" ]]; then
    port_busy "$want" && die "$name: port $want (from $var) is already in use; free it or set $var to another port"
    echo "$want"; return
  fi
  if port_busy "$def"; then
    local p; p="$(free_port)"
    echo "up.sh: $name: default port $def is in use, using free port $p instead" >&2
    echo "$p"; return
  fi
  echo "$def"
}

# wait_ready NAME PID URL: waits until URL answers with any HTTP status, or fails.
wait_ready() {
  local name="$1" pid="$2" url="$3" log="$4" deadline=$((SECONDS + READY_TIMEOUT)) code
  while ((SECONDS < deadline)); do
    alive "$pid" || { tail -n 30 "$log" >&2; die "$name exited during start-up (log: $log)"; }
    code="$(curl -s -o /dev/null -m 2 -w '%{http_code}' "$url" || true)"
    [[ "$code" != "000" && -n "$code" ]] && return 0
    sleep 0.3
  done
  tail -n 30 "$log" >&2
  die "$name not ready on $url after ${READY_TIMEOUT}s (log: $log); stop it with localstack/down.sh"
}

# start_detached NAME LOG CMD...: runs CMD in its own session (so down.sh can kill the whole
# process group, Lambda bootstraps included) and records its PID.
start_detached() {
  local name="$1" logf="$2"; shift 2
  setsid "$@" >"$logf" 2>&1 </dev/null &
  echo $! >"$STATE/$name.pid"
}

up_ministack() {
  local pid port
  pid="$(pid_of ministack)"; port="$(port_of ministack)"
  if alive "$pid" && curl -sf -m 2 "http://127.0.0.1:$port/_ministack/health" >/dev/null; then
    log "ministack: already running (pid $pid, port $port)"; MS_PORT="$port"; return
  fi
  [[ -x "$ROOT/.tools/venv/bin/ministack" ]] || die "MiniStack not installed; run localstack/install.sh"
  port="$(choose_port ministack MINISTACK_PORT 4566)"
  local endpoint="http://127.0.0.1:$port"
  mkdir -p "$STATE/tmp"
  # AWS_ENDPOINT_URL on the server is inherited by every Lambda process, so functions talk
  # to MiniStack. TMPDIR keeps MiniStack's unzipped code and pid file inside the repo cache.
  start_detached ministack "$STATE/ministack.log" env \
    AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test \
    AWS_REGION=us-east-1 AWS_DEFAULT_REGION=us-east-1 \
    AWS_ENDPOINT_URL="$endpoint" TMPDIR="$STATE/tmp" \
    BIND_HOST=127.0.0.1 GATEWAY_PORT="$port" IOT_MTLS_ENABLED=0 \
    LAMBDA_EXECUTOR=local LOG_LEVEL="${MINISTACK_LOG_LEVEL:-INFO}" \
    "$ROOT/.tools/venv/bin/ministack"
  echo "$port" >"$STATE/ministack.port"
  wait_ready ministack "$(pid_of ministack)" "$endpoint/_ministack/health" "$STATE/ministack.log"
  log "ministack: ready on $endpoint (pid $(pid_of ministack))"
  MS_PORT="$port"
}

up_ddblocal() {
  local pid port
  pid="$(pid_of ddblocal)"; port="$(port_of ddblocal)"
  if alive "$pid" && [[ "$(curl -s -o /dev/null -m 2 -w '%{http_code}' "http://127.0.0.1:$port/" || true)" != "000" ]]; then
    log "ddblocal: already running (pid $pid, port $port)"; DDB_PORT="$port"; return
  fi
  [[ -f "$DDB_DIR/DynamoDBLocal-3.1.0.jar" ]] || die "DynamoDB Local not installed; run localstack/install.sh"
  command -v java >/dev/null || die "java not found on PATH (DynamoDB Local needs Java >= 17)"
  port="$(choose_port ddblocal DDB_LOCAL_PORT 8000)"
  # DynamoDB Local has no bind-address flag: it listens on every interface. Clients use 127.0.0.1.
  # The -Dlazyflow.emulator marker makes `pgrep -f DynamoDBLocal` find it (the jar is on a glob).
  start_detached ddblocal "$STATE/ddblocal.log" \
    java -Xmx512m -Dlazyflow.emulator=DynamoDBLocal -Djava.library.path="$DDB_DIR" -Dsqlite4java.library.path="$DDB_DIR" \
    -cp "$DDB_DIR/*" software.amazon.dynamodb.services.local.main.ServerRunner \
    -inMemory -sharedDb -port "$port" -disableTelemetry
  echo "$port" >"$STATE/ddblocal.port"
  wait_ready ddblocal "$(pid_of ddblocal)" "http://127.0.0.1:$port/" "$STATE/ddblocal.log"
  log "ddblocal: ready on http://127.0.0.1:$port (pid $(pid_of ddblocal))"
  DDB_PORT="$port"
}

mkdir -p "$STATE"
command -v curl >/dev/null || die "curl not found on PATH"
command -v setsid >/dev/null || die "setsid not found on PATH (util-linux)"
MS_PORT=""; DDB_PORT=""
parts=("$@")
[[ ${#parts[@]} -gt 0 ]] || parts=(ministack ddblocal)
for p in "${parts[@]}"; do
  case "$p" in
    ministack) up_ministack ;;
    ddblocal) up_ddblocal ;;
    *) die "unknown part '$p' (want ministack or ddblocal)" ;;
  esac
done

# The env file describes every part that is running now, including ones from earlier calls.
[[ -n "$MS_PORT" ]] || { alive "$(pid_of ministack)" && MS_PORT="$(port_of ministack)"; } || true
[[ -n "$DDB_PORT" ]] || { alive "$(pid_of ddblocal)" && DDB_PORT="$(port_of ddblocal)"; } || true
{
  echo "AWS_ACCESS_KEY_ID=test"
  echo "AWS_SECRET_ACCESS_KEY=test"
  echo "AWS_REGION=us-east-1"
  echo "AWS_DEFAULT_REGION=us-east-1"
  [[ -z "$MS_PORT" ]] || echo "AWS_ENDPOINT_URL=http://127.0.0.1:$MS_PORT"
  [[ -z "$DDB_PORT" ]] || echo "LAZYFLOW_DDB_LOCAL_ENDPOINT=http://127.0.0.1:$DDB_PORT"
} >"$STATE/env.tmp"
mv "$STATE/env.tmp" "$STATE/env"
log "endpoints written to $STATE/env"
