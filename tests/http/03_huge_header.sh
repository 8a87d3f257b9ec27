# A 10 MB header is refused with 431 (after ~1 MiB, without buffering it
# all), too many header lines too, and the server keeps serving. curl itself
# refuses to send headers this large, so the requests go over /dev/tcp.
source "$(dirname "$0")/lib.sh"
tmp=$(mktemp)
trap 'rm -f "$tmp"' EXIT
head -c 10000000 /dev/zero | tr '\0' 'a' >"$tmp"
reply=$({ printf 'GET /ping HTTP/1.1\r\nHost: x\r\nX-Huge: '; cat "$tmp"; printf '\r\n\r\n'; } | raw_request "$SPANHOUSE_PORT" 2>/dev/null)
[ "$(status_of <<<"$reply")" = 431 ] || fail "10 MB header: $(head -c 200 <<<"$reply")"
reply=$({ printf 'GET /ping HTTP/1.1\r\nHost: x\r\n'; for i in $(seq 200); do printf 'X-H%d: v\r\n' "$i"; done; printf '\r\n'; } |
        raw_request "$SPANHOUSE_PORT")
[ "$(status_of <<<"$reply")" = 431 ] || fail "200 header lines: $(head -c 200 <<<"$reply")"
reply=$({ printf 'GET /'; head -c 1100000 "$tmp"; printf ' HTTP/1.1\r\nHost: x\r\n\r\n'; } | raw_request "$SPANHOUSE_PORT" 2>/dev/null)
[ "$(status_of <<<"$reply")" = 414 ] || fail "1.1 MB request line: $(head -c 200 <<<"$reply")"
[ "$(curl -sf "$SPANHOUSE_URL/ping")" = "Ok." ] || fail "server stopped answering"
exit 0
