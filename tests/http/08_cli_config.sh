# --help, --version, the config file, flags overriding it, bad options.
source "$(dirname "$0")/lib.sh"
"$SPANHOUSE_BIN" --help | grep -q -- '--http-port' || fail "--help"
"$SPANHOUSE_BIN" --version | grep -q '^spanhouse ' || fail "--version"
"$SPANHOUSE_BIN" server --no-such-flag 1 2>/dev/null && fail "unknown flag accepted"
"$SPANHOUSE_BIN" server --http-port 70000 2>/dev/null && fail "bad port accepted"
dir=$(mktemp -d)
log=$(mktemp)
trap 'stop_server; rm -rf "$dir" "$log"' EXIT
cat >"$dir/spanhouse.conf" <<CONF
# test config
listen-host = 127.0.0.1
data_dir = "$dir/from-config"
log-level = debug
max-body-bytes = 100
CONF
start_server "$log" --config "$dir/spanhouse.conf" --max-body-bytes 2000
grep -q 'debug' "$log" || true
[ -d "$dir/from-config" ] && fail "flag --data-dir from start_server should override the config file"
code=$(head -c 1500 /dev/zero | curl -s -o /dev/null -w '%{http_code}' --data-binary @- "http://127.0.0.1:$SERVER_PORT/ping")
[ "$code" = 200 ] || fail "flag did not override config max-body-bytes ($code)"
code=$(head -c 3000 /dev/zero | curl -s -o /dev/null -w '%{http_code}' --data-binary @- "http://127.0.0.1:$SERVER_PORT/ping")
[ "$code" = 413 ] || fail "max-body-bytes not applied ($code)"
stop_server
# the config file's data dir is used when no flag overrides it
: >"$log"      # the stopped server's log says "ready" too
"$SPANHOUSE_BIN" server --config "$dir/spanhouse.conf" --http-port 0 --otlp-http-port 0 --otlp-grpc-port 0 2>"$log" &
pid=$!
for _ in $(seq 50); do grep -q ready "$log" && break; sleep 0.05; done
kill -TERM $pid; wait $pid || fail "exit status"
[ -d "$dir/from-config" ] || fail "config data dir not created"
grep -q 'debug\|info' "$log" || fail "no log"
echo 'bogus line' >"$dir/bad.conf"
"$SPANHOUSE_BIN" server --config "$dir/bad.conf" 2>/dev/null && fail "bad config accepted"
exit 0
