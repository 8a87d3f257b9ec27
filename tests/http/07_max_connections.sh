# Over --max-connections a client gets a polite 503 and the server keeps
# serving once connections are free again.
source "$(dirname "$0")/lib.sh"
log=$(mktemp)
trap 'stop_server; rm -f "$log"' EXIT
start_server "$log" --max-connections 4
url="http://127.0.0.1:$SERVER_PORT"
fds=()
for i in 1 2 3 4; do
  exec {fd}<>"/dev/tcp/127.0.0.1/$SERVER_PORT" || fail "connect $i"
  fds+=("$fd")
done
sleep 0.3
out=$(curl -s -w ' %{http_code}' "$url/ping")
[ "${out##* }" = 503 ] || fail "fifth connection got: $out"
grep -q 'Too many connections' <<<"$out" || fail "no explanation: $out"
for fd in "${fds[@]}"; do exec {fd}<&-; done
sleep 0.3
[ "$(curl -sf "$url/ping")" = "Ok." ] || fail "not serving after connections closed"
exit 0
