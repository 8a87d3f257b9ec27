# OTLP ingestion end to end (own server and data dir): the real OpenTelemetry
# JS exporters (tests/otlp/send.mjs) over http/protobuf, http/json and grpc
# with tenants; the rows in the built-in otel tables over 8123; a bad body
# gets 400; after a restart on the same data dir the counts and the schema
# are unchanged.
source "$(dirname "$0")/lib.sh"
root=$(cd "$(dirname "$0")/../.." && pwd)
otlp_dir="$root/tests/otlp"
command -v node >/dev/null 2>&1 || fail "node is not installed"
if [ ! -d "$otlp_dir/node_modules" ]; then
  (cd "$otlp_dir" && npm ci --no-audit --no-fund --silent) || fail "npm ci in tests/otlp"
fi
log=$(mktemp)
keep=$(mktemp -d)
trap 'stop_server; rm -rf "$log" "$keep"' EXIT

ports() {
  for _ in $(seq 100); do
    HTTP_OTLP=$(sed -n 's/.*OTLP\/HTTP on http:\/\/[^:]*:\([0-9]*\).*/\1/p' "$log")
    GRPC_OTLP=$(sed -n 's/.*OTLP\/gRPC on [^ ]*:\([0-9]*\)$/\1/p' "$log")
    [ -n "$HTTP_OTLP" ] && [ -n "$GRPC_OTLP" ] && grep -q ' ready' "$log" && return 0
    sleep 0.05
  done
  cat "$log" >&2
  fail "OTLP ports not logged"
}
q() { curl -sS -f "http://127.0.0.1:$SERVER_PORT/" --data-binary "$1" || fail "query failed: $1"; }
expect() { local got; got=$(q "$1"); [ "$got" = "$2" ] || fail "$1: got '$got', want '$2'"; }
send() { timeout 60 node "$otlp_dir/send.mjs" "$@" >&2 || fail "send.mjs $*"; }

start_server "$log"
ports
# first start created the otel database as ordinary tables
expect "SELECT count() FROM system.tables WHERE database = 'otel'" 8
q "SHOW CREATE TABLE otel.otel_traces" | grep -q 'ENGINE = MergeTree' || fail "SHOW CREATE otel_traces"

send --endpoint "http://127.0.0.1:$HTTP_OTLP" --protocol http/protobuf --count 5 \
  --resource service.name=checkout --header X-Scope-OrgID=acme
send --endpoint "http://127.0.0.1:$HTTP_OTLP" --protocol http/json --count 4 \
  --resource service.name=cart --header X-Scope-OrgID=beta
send --endpoint "http://127.0.0.1:$GRPC_OTLP" --protocol grpc --count 3 \
  --resource service.name=pay --header X-Scope-OrgID=gamma
# no tenant header: tenant "default"
send --endpoint "http://127.0.0.1:$HTTP_OTLP" --protocol http/protobuf --signal traces --count 2 \
  --resource service.name=anon

traces="acme	5
beta	4
default	2
gamma	3"
per_tenant="acme	5
beta	4
gamma	3"
expect "SELECT TenantId, count() FROM otel.otel_traces GROUP BY TenantId ORDER BY TenantId" "$traces"
expect "SELECT TenantId, count() FROM otel.otel_logs GROUP BY TenantId ORDER BY TenantId" "$per_tenant"
expect "SELECT TenantId, count() FROM otel.otel_metrics_gauge GROUP BY TenantId ORDER BY TenantId" "$per_tenant"
for t in otel_metrics_sum otel_metrics_histogram otel_metrics_exp_histogram otel_metrics_summary; do
  expect "SELECT count() FROM otel.$t" 0
done
expect "SELECT DISTINCT ServiceName FROM otel.otel_traces WHERE TenantId = 'acme'" checkout
expect "SELECT DISTINCT ServiceName FROM otel.otel_logs WHERE TenantId = 'gamma'" pay
expect "SELECT SpanName FROM otel.otel_traces WHERE TenantId = 'beta' ORDER BY SpanName" "send root
send span 1
send span 2
send span 3"
expect "SELECT count() FROM otel.otel_traces WHERE length(TraceId) != 32 OR length(SpanId) != 16 OR Duration = 0" 0
expect "SELECT count() FROM otel.otel_traces WHERE TenantId = 'acme' AND SpanKind = 'Internal' AND has(Events.Name, 'checkpoint')" 4
expect "SELECT Body FROM otel.otel_logs WHERE TenantId = 'acme' ORDER BY Body LIMIT 1" "log record 0"
expect "SELECT groupArray(Value) FROM (SELECT Value FROM otel.otel_metrics_gauge WHERE TenantId = 'gamma' ORDER BY Value)" "[0,1.5,3]"
n=$(q "SELECT count() FROM otel.otel_traces_trace_id_ts")
[ "$n" -gt 0 ] || fail "otel_traces_trace_id_ts is empty"
expect "SELECT count() FROM otel.otel_traces_trace_id_ts WHERE TraceId NOT IN (SELECT TraceId FROM otel.otel_traces)" 0

# a bad body: 400, nothing stored, the server keeps serving
code=$(curl -s -o /dev/null -w '%{http_code}' -H 'Content-Type: application/x-protobuf' \
  --data-binary 'not protobuf at all' "http://127.0.0.1:$HTTP_OTLP/v1/traces")
[ "$code" = 400 ] || fail "bad protobuf body: $code"
code=$(curl -s -o /dev/null -w '%{http_code}' -H 'Content-Type: application/json' \
  --data-binary '{"resourceSpans":[' "http://127.0.0.1:$HTTP_OTLP/v1/traces")
[ "$code" = 400 ] || fail "bad JSON body: $code"
send --endpoint "http://127.0.0.1:$HTTP_OTLP" --protocol http/protobuf --signal logs --count 1 \
  --resource service.name=after --header X-Scope-OrgID=delta
expect "SELECT count() FROM otel.otel_logs WHERE TenantId = 'delta'" 1
expect "SELECT count() FROM otel.otel_traces" 14

# restart on the same data dir: same counts, schema not duplicated
kill -TERM "$SERVER_PID"; wait "$SERVER_PID" || fail "exit status after SIGTERM"
grep -q 'stopped' "$log" || fail "no graceful stop"
data="$SERVER_DIR/data"
mv "$data" "$keep/data"
rm -rf "$SERVER_DIR"
SERVER_PID=
start_server "$log" --data-dir "$keep/data"
ports
grep -q 'error' "$log" && { cat "$log" >&2; fail "errors after restart"; }
expect "SELECT count() FROM system.tables WHERE database = 'otel'" 8
expect "SELECT TenantId, count() FROM otel.otel_traces GROUP BY TenantId ORDER BY TenantId" "$traces"
expect "SELECT count() FROM otel.otel_logs" 13
expect "SELECT count() FROM otel.otel_metrics_gauge" 12
# and keeps ingesting
send --endpoint "http://127.0.0.1:$GRPC_OTLP" --protocol grpc --signal traces --count 2 --header X-Scope-OrgID=acme
expect "SELECT count() FROM otel.otel_traces WHERE TenantId = 'acme'" 7
stop_server || fail "exit status after SIGTERM (restart)"

# API keys from the config file: the key's tenant, 401 without a key
cat >"$keep/keys.conf" <<CONF
otlp_api_key = s3cret-key:keyed
CONF
start_server "$log" --config "$keep/keys.conf"
ports
body='{"resourceSpans":[{"resource":{"attributes":[{"key":"service.name","value":{"stringValue":"k"}}]},"scopeSpans":[{"spans":[{"traceId":"5b8efff798038103d269b633813fc60c","spanId":"eee19b7ec3c1b174","name":"keyed","startTimeUnixNano":"1700000000000000000","endTimeUnixNano":"1700000000001000000"}]}]}]}'
code=$(curl -s -o /dev/null -w '%{http_code}' -H 'Content-Type: application/json' -H 'X-Scope-OrgID: acme' \
  --data-binary "$body" "http://127.0.0.1:$HTTP_OTLP/v1/traces")
[ "$code" = 401 ] || fail "no API key: $code"
code=$(curl -s -o /dev/null -w '%{http_code}' -H 'Content-Type: application/json' -H 'Authorization: Bearer s3cret-key' \
  -H 'X-Scope-OrgID: acme' --data-binary "$body" "http://127.0.0.1:$HTTP_OTLP/v1/traces")
[ "$code" = 200 ] || fail "API key: $code"
expect "SELECT TenantId, SpanName, Duration FROM otel.otel_traces" "keyed	keyed	1000000"
grep -q 's3cret' "$log" && fail "API key logged"
stop_server || fail "exit status (API keys)"
exit 0
