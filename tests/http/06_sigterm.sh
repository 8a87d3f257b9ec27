# SIGTERM while a request is in flight (its body still arriving): the request
# completes, new connections are refused, and the server exits 0.
source "$(dirname "$0")/lib.sh"
log=$(mktemp)
trap 'stop_server; rm -f "$log"' EXIT
start_server "$log"
port=$SERVER_PORT
exec 3<>"/dev/tcp/127.0.0.1/$port" || fail "connect"
printf 'POST /ping HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nhello' >&3
sleep 0.5
kill -TERM "$SERVER_PID"
sleep 0.5
kill -0 "$SERVER_PID" 2>/dev/null || fail "server exited with a request in flight"
curl -s -m 2 "http://127.0.0.1:$port/ping" >/dev/null && fail "new connection accepted while stopping"
printf 'world' >&3
reply=$(timeout 5 cat <&3)
exec 3<&- 3>&-
[ "$(status_of <<<"$reply")" = 200 ] || fail "in-flight request: $reply"
grep -qi '^Connection: Close' <<<"$reply" || fail "no Connection: Close while stopping: $reply"
wait "$SERVER_PID"; rc=$?
SERVER_PID=
[ $rc -eq 0 ] || { cat "$log" >&2; fail "exit status $rc"; }
grep -q 'stopped' "$log" || fail "no stop log line"
exit 0
