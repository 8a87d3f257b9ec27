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

q() { curl -sS -f "http://127.0.0.1:$SERVER_PORT/" --data-binary "$1" || fail "query failed: $1"; }
expect() { local got; got=$(q "$1"); [ "$got" = "$2" ] || fail "$1: got '$got', want '$2'"; }
send() { timeout 60 node "$otlp_dir/send.mjs" "$@" >&2 || fail "send.mjs $*"; }

start_server "$log"
otlp_ports "$log"
# first start created the otel database as ordinary tables and the exporter's trace-id view
expect "SELECT count() FROM system.tables WHERE database = 'otel' AND engine = 'MergeTree'" 8
expect "SELECT name FROM system.tables WHERE database = 'otel' AND engine = 'MaterializedView'" otel_traces_trace_id_ts_mv
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
: >"$log"                       # else start_server may read the old server's port
start_server "$log" --data-dir "$keep/data"
otlp_ports "$log"
grep -q 'error' "$log" && { cat "$log" >&2; fail "errors after restart"; }
expect "SELECT count() FROM system.tables WHERE database = 'otel'" 9
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
: >"$log"
start_server "$log" --config "$keep/keys.conf"
otlp_ports "$log"
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

# Every field of logs and every metric kind the JS SDK can produce, through
# each of the three exporter protocols (one tenant each): gauge, sum
# (monotonic and not), explicit and exponential histograms. The SDK has no
# summary instrument and attaches no exemplars (its exemplar code is not
# wired into aggregation), so otel_metrics_summary and Exemplars.* stay empty.
# (The log is emptied first: start_server would otherwise read the previous
# server's port if it looks before the new process truncates the file.)
: >"$log"
start_server "$log"
otlp_ports "$log"
for p in http/protobuf http/json grpc; do
  case $p in
    grpc) url="http://127.0.0.1:$GRPC_OTLP" tenant=k-grpc ;;
    http/json) url="http://127.0.0.1:$HTTP_OTLP" tenant=k-json ;;
    *) url="http://127.0.0.1:$HTTP_OTLP" tenant=k-proto ;;
  esac
  send --endpoint "$url" --protocol "$p" --count 3 --metric-kinds all --resource service.name=kinds \
    --resource deployment.environment=test --header X-Scope-OrgID=$tenant
done
for tenant in k-grpc k-json k-proto; do
  w="WHERE TenantId = '$tenant'"
  expect "SELECT SpanName, SpanKind, StatusCode, ScopeName, ScopeVersion, SpanAttributes, Events.Name, Events.Attributes,
    ResourceAttributes['deployment.environment'] FROM otel.otel_traces $w ORDER BY SpanName" \
"send root	Internal	Unset	spanhouse-send	1.0.0	{'test.index':'0'}	[]	[]	test
send span 1	Internal	Unset	spanhouse-send	1.0.0	{'test.index':'1','http.method':'GET'}	['checkpoint']	[{'step':'1'}]	test
send span 2	Internal	Unset	spanhouse-send	1.0.0	{'test.index':'2','http.method':'GET'}	['checkpoint']	[{'step':'2'}]	test"
  # severity, body, trace context (the SDK's active span), typed attributes as text
  expect "SELECT SeverityNumber, SeverityText, Body, TraceId, SpanId, TraceFlags, LogAttributes, ServiceName, ScopeName,
    ScopeVersion, Timestamp > '2020-01-01' FROM otel.otel_logs $w ORDER BY Body" \
"9	INFO	log record 0	4bf92f3577b34da6a3ce929d0e0e4736	00f067aa0ba902b7	1	{'test.index':'0','test.flag':'false','test.ratio':'0.25','test.list':'[\"a\",\"b\"]'}	kinds	spanhouse-send	1.0.0	1
17	ERROR	log record 1	4bf92f3577b34da6a3ce929d0e0e4736	00f067aa0ba902b7	1	{'test.index':'1','test.flag':'true','test.ratio':'0.25','test.list':'[\"a\",\"b\"]'}	kinds	spanhouse-send	1.0.0	1
9	INFO	log record 2	4bf92f3577b34da6a3ce929d0e0e4736	00f067aa0ba902b7	1	{'test.index':'2','test.flag':'false','test.ratio':'0.25','test.list':'[\"a\",\"b\"]'}	kinds	spanhouse-send	1.0.0	1"
  expect "SELECT MetricName, Value, Attributes, ServiceName, ScopeName, StartTimeUnix <= TimeUnix
    FROM otel.otel_metrics_gauge $w ORDER BY Value" \
"send.gauge	0	{'test.index':'0'}	kinds	spanhouse-send	1
send.gauge	1.5	{'test.index':'1'}	kinds	spanhouse-send	1
send.gauge	3	{'test.index':'2'}	kinds	spanhouse-send	1"
  # sums: cumulative (AggregationTemporality 2), monotonic counter and an up-down counter
  expect "SELECT MetricName, MetricUnit, MetricDescription, Value, IsMonotonic, AggregationTemporality, Attributes,
    StartTimeUnix < TimeUnix FROM otel.otel_metrics_sum $w ORDER BY MetricName, Value" \
"send.counter	{call}	calls made	1	true	2	{'test.index':'0'}	1
send.counter	{call}	calls made	2	true	2	{'test.index':'1'}	1
send.counter	{call}	calls made	3	true	2	{'test.index':'2'}	1
send.updown			-2	false	2	{}	1"
  # bounds [1, 10, 100], values 0.5 5 5 50 500
  expect "SELECT MetricName, MetricUnit, Count, Sum, BucketCounts, ExplicitBounds, Min, Max, AggregationTemporality,
    Attributes FROM otel.otel_metrics_histogram $w" \
    "send.histogram	ms	5	560.5	[1,2,1,1]	[1,10,100]	0.5	500	2	{'kind':'explicit'}"
  # values 0 1 2 4 1024 at scale 3: zero bucket 1; 1, 2, 4, 1024 in buckets -1, 7, 15, 79
  expect "SELECT MetricName, Count, Sum, Scale, ZeroCount, PositiveOffset, length(PositiveBucketCounts),
    PositiveBucketCounts[1], PositiveBucketCounts[9], PositiveBucketCounts[17], PositiveBucketCounts[81],
    NegativeBucketCounts, Min, Max, AggregationTemporality, Attributes FROM otel.otel_metrics_exp_histogram $w" \
    "send.exp_histogram	5	1031	3	1	-1	81	1	1	1	1	[]	0	1024	2	{'kind':'exponential'}"
done
expect "SELECT sum(arraySum(PositiveBucketCounts)) FROM otel.otel_metrics_exp_histogram" 12
expect "SELECT count() FROM otel.otel_metrics_summary" 0
for t in otel_metrics_gauge otel_metrics_sum otel_metrics_histogram otel_metrics_exp_histogram; do
  expect "SELECT sum(length(Exemplars.Value)) FROM otel.$t" 0
done
# per-tenant self-metrics: 3 gauge + 4 sum + 1 + 1 histogram points
metrics_text=$(curl -sS -f "http://127.0.0.1:$SERVER_PORT/metrics") || fail "GET /metrics"
for tenant in k-grpc k-json k-proto; do
  for line in "accepted_total{tenant=\"$tenant\",signal=\"metrics\"} 9" "accepted_total{tenant=\"$tenant\",signal=\"logs\"} 3" \
    "refused_total{tenant=\"$tenant\",signal=\"traces\"} 0"; do
    grep -qxF "spanhouse_otlp_tenant_items_$line" <<<"$metrics_text" || fail "/metrics lacks spanhouse_otlp_tenant_items_$line"
  done
done
stop_server || fail "exit status (metric kinds)"
exit 0
