# Shared helpers for tests/http/NN_*.sh (sourced). Each test gets
# SPANHOUSE_URL, SPANHOUSE_PORT and SPANHOUSE_BIN from run.sh.

fail() { echo "FAIL: $*" >&2; exit 1; }

# start_server LOGFILE [flags...]: starts "$SPANHOUSE_BIN server" on a free
# port with a temp data dir; sets SERVER_PID and SERVER_PORT.
start_server() {
  local log=$1; shift
  local dir; dir=$(mktemp -d)
  : >"$log"      # a reused log still names the previous server's port
  "$SPANHOUSE_BIN" server --http-port 0 --otlp-http-port 0 --otlp-grpc-port 0 --data-dir "$dir/data" --threads 2 "$@" 2>"$log" &
  SERVER_PID=$!
  SERVER_DIR=$dir
  for _ in $(seq 100); do
    SERVER_PORT=$(sed -n 's/.*ClickHouse HTTP interface on http:\/\/[^:]*:\([0-9]*\).*/\1/p' "$log")
    [ -n "$SERVER_PORT" ] && return 0
    kill -0 "$SERVER_PID" 2>/dev/null || { cat "$log" >&2; fail "server did not start"; }
    sleep 0.05
  done
  cat "$log" >&2
  fail "server did not report its port"
}

# otlp_ports LOGFILE: waits until the server logging there is ready; sets
# HTTP_OTLP and GRPC_OTLP to its OTLP/HTTP and OTLP/gRPC ports.
otlp_ports() {
  local log=$1
  for _ in $(seq 100); do
    HTTP_OTLP=$(sed -n 's/.*OTLP\/HTTP on http:\/\/[^:]*:\([0-9]*\).*/\1/p' "$log")
    GRPC_OTLP=$(sed -n 's/.*OTLP\/gRPC on [^ ]*:\([0-9]*\)$/\1/p' "$log")
    [ -n "$HTTP_OTLP" ] && [ -n "$GRPC_OTLP" ] && grep -q ' ready' "$log" && return 0
    sleep 0.05
  done
  cat "$log" >&2
  fail "OTLP ports not logged"
}

# stop_server: SIGTERM and wait; returns the server's exit status (a
# sanitizer build reports leaks through it).
stop_server() {
  local rc=0
  if [ -n "${SERVER_PID:-}" ]; then
    kill -TERM "$SERVER_PID" 2>/dev/null
    wait "$SERVER_PID" 2>/dev/null; rc=$?
  fi
  [ -n "${SERVER_DIR:-}" ] && rm -rf "$SERVER_DIR"
  SERVER_PID=
  return $rc
}

# raw_request PORT: sends stdin over /dev/tcp and prints the reply until the
# server closes (or 5 s pass).
raw_request() {
  local port=$1
  exec 3<>"/dev/tcp/127.0.0.1/$port" || return 1
  cat >&3
  timeout 5 cat <&3
  exec 3<&- 3>&-
}

status_of() { head -n1 | sed -n 's/^HTTP\/1\.[01] \([0-9]*\).*/\1/p'; }
