# Two requests on one connection; the Keep-Alive header is sent.
source "$(dirname "$0")/lib.sh"
out=$(curl -sv "$SPANHOUSE_URL/ping" "$SPANHOUSE_URL/health" 2>&1)
grep -qi 'Re-using existing connection' <<<"$out" || fail "connection was not reused: $out"
[ "$(grep -c '^Ok\.$' <<<"$out")" = 2 ] || fail "expected two Ok. bodies: $out"
grep -qi '^< Keep-Alive: timeout=10' <<<"$out" || fail "no Keep-Alive header"
# raw pipelining: both answered in order
replies=$(printf 'GET /ping HTTP/1.1\r\nHost: x\r\n\r\nGET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n' |
          raw_request "$SPANHOUSE_PORT")
[ "$(grep -c '^HTTP/1.1 200 OK' <<<"$replies")" = 2 ] || fail "pipelined replies: $replies"
exit 0
