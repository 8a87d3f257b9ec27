# --max-body-bytes: a larger body gets 413 (by Content-Length or while
# reading a chunked one); a smaller one is fine.
source "$(dirname "$0")/lib.sh"
log=$(mktemp)
trap 'stop_server; rm -f "$log"' EXIT
start_server "$log" --max-body-bytes 1000
url="http://127.0.0.1:$SERVER_PORT"
code=$(head -c 5000 /dev/zero | curl -s -o /dev/null -w '%{http_code}' --data-binary @- "$url/ping")
[ "$code" = 413 ] || fail "5000-byte body gave $code"
code=$(head -c 5000 /dev/zero | curl -s -o /dev/null -w '%{http_code}' -H 'Transfer-Encoding: chunked' --data-binary @- "$url/ping")
[ "$code" = 413 ] || fail "5000-byte chunked body gave $code"
code=$(head -c 500 /dev/zero | curl -s -o /dev/null -w '%{http_code}' --data-binary @- "$url/ping")
[ "$code" = 200 ] || fail "500-byte body gave $code"
[ "$(curl -sf "$url/ping")" = "Ok." ] || fail "server stopped answering"
exit 0
