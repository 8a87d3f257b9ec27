# /ping, bare GET /, /health, /ready and /metrics answer as documented.
source "$(dirname "$0")/lib.sh"
[ "$(curl -sf "$SPANHOUSE_URL/ping")" = "Ok." ] || fail "/ping"
[ "$(curl -s "$SPANHOUSE_URL/ping" | od -c | head -1)" = "$(printf 'Ok.\n' | od -c | head -1)" ] || fail "/ping body is not 'Ok.\\n'"
[ "$(curl -sf "$SPANHOUSE_URL/")" = "Ok." ] || fail "GET /"
[ "$(curl -sf "$SPANHOUSE_URL/health")" = "Ok." ] || fail "/health"
code=$(curl -s -o /dev/null -w '%{http_code}' "$SPANHOUSE_URL/ready")
[ "$code" = 200 ] || fail "/ready gave $code"
m=$(curl -sf "$SPANHOUSE_URL/metrics") || fail "/metrics"
for want in '# TYPE spanhouse_http_requests_total counter' 'spanhouse_http_requests_total{server="http"}' \
            'spanhouse_http_errors_total{server="http",kind="bad_request"}' \
            'spanhouse_http_received_bytes_total' 'spanhouse_http_sent_bytes_total' \
            '# TYPE spanhouse_query_duration_seconds histogram' 'spanhouse_query_duration_seconds_bucket{le="+Inf"}' \
            'spanhouse_mem_live_bytes' 'spanhouse_mem_peak_bytes' 'spanhouse_evloop_ops_completed_total' \
            'spanhouse_evloop_ops_queued_total' '# HELP spanhouse_http_connections'; do
  grep -qF "$want" <<<"$m" || fail "/metrics lacks: $want"
done
# everything else goes to the SQL handler (ClickHouse-style error until wired)
body=$(curl -s "$SPANHOUSE_URL/?query=SELECT%201")
grep -q '^Code: [0-9]*\. DB::Exception: ' <<<"$body" || [ "$body" = 1 ] || fail "SQL route answered: $body"
exit 0
