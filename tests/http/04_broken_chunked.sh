# A malformed chunked body gets 400 and the server keeps serving.
source "$(dirname "$0")/lib.sh"
reply=$(printf 'POST /ping HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhelloWORLD\r\n0\r\n\r\n' |
        raw_request "$SPANHOUSE_PORT")
[ "$(status_of <<<"$reply")" = 400 ] || fail "broken chunk: $reply"
reply=$(printf 'POST /ping HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nnothex\r\n' | raw_request "$SPANHOUSE_PORT")
[ "$(status_of <<<"$reply")" = 400 ] || fail "bad chunk size: $reply"
reply=$(printf 'POST /ping HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip\r\n\r\n' | raw_request "$SPANHOUSE_PORT")
[ "$(status_of <<<"$reply")" = 501 ] || fail "unsupported transfer coding: $reply"
reply=$(printf 'GARBAGE\r\n\r\n' | raw_request "$SPANHOUSE_PORT")
[ "$(status_of <<<"$reply")" = 400 ] || fail "garbage request line: $reply"
# a good chunked body still works
out=$(printf 'hello' | curl -sf -H 'Transfer-Encoding: chunked' --data-binary @- "$SPANHOUSE_URL/ping") || fail "good chunked"
[ "$out" = "Ok." ] || fail "good chunked body answered $out"
[ "$(curl -sf "$SPANHOUSE_URL/ping")" = "Ok." ] || fail "server stopped answering"
exit 0
