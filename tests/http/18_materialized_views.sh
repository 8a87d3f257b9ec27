# Materialized views end to end (own server): a SQL INSERT into
# otel.otel_traces keeps otel_traces_trace_id_ts current through the built-in
# view, so Grafana's trace-by-id query finds SQL-loaded spans; a user's
# rollup view over otel_traces is fed by OTLP exports over HTTP and gRPC
# (spanhouse loadgen) and agrees with the spans; views survive a restart and
# keep firing; a failing view fails the export and stores nothing.
source "$(dirname "$0")/lib.sh"
log=$(mktemp)
keep=$(mktemp -d)
trap 'stop_server; rm -rf "$log" "$keep"' EXIT

q() { curl -sS -f "http://127.0.0.1:$SERVER_PORT/" --data-binary "$1" || fail "query failed: $1"; }
expect() { local got; got=$(q "$1"); [ "$got" = "$2" ] || fail "$1: got '$got', want '$2'"; }
same() { local a b; a=$(q "$1"); b=$(q "$2"); [ -n "$a" ] && [ "$a" = "$b" ] || fail "$1 / $2 differ: '$a' vs '$b'"; }
loadgen() { timeout 60 "$SPANHOUSE_BIN" loadgen "$@" >/dev/null 2>&1 || fail "loadgen $*"; }

start_server "$log" --data-dir "$keep/data"
otlp_ports "$log"
expect "SELECT engine FROM system.tables WHERE database = 'otel' AND name = 'otel_traces_trace_id_ts_mv'" \
  MaterializedView

# 1. spans loaded with SQL, two inserts (one trace spans both), one without a trace id
spans="SELECT if(number % 2 = 0, 'acme', 'beta') AS TenantId, toDateTime64(1740787200 + number * 7, 9, 'UTC') AS Timestamp,
  concat('trace-', toString(intDiv(number, 10))) AS TraceId, concat('span-', toString(number)) AS SpanId,
  'checkout' AS ServiceName, 'GET /cart' AS SpanName, 1000 + number AS Duration"
q "INSERT INTO otel.otel_traces (TenantId, Timestamp, TraceId, SpanId, ServiceName, SpanName, Duration)
   $spans FROM numbers(1000)"
q "INSERT INTO otel.otel_traces (TenantId, Timestamp, TraceId, SpanId, ServiceName, SpanName, Duration)
   $spans FROM numbers(995, 10)"
q "INSERT INTO otel.otel_traces (TenantId, Timestamp, TraceId, SpanId, ServiceName, SpanName)
   VALUES ('acme', '2025-03-02 00:00:00', '', 'orphan', 'checkout', 'GET /cart')"
expect "SELECT count() FROM otel.otel_traces" 1011
# one row per tenant and trace per insert: 100 traces x 2 tenants, then traces 99 and 100 again
expect "SELECT count() FROM otel.otel_traces_trace_id_ts" 204
expect "SELECT count() FROM otel.otel_traces_trace_id_ts WHERE TraceId = ''" 0
same "SELECT TenantId, TraceId, min(Start), max(End) FROM otel.otel_traces_trace_id_ts
      GROUP BY TenantId, TraceId ORDER BY TenantId, TraceId FORMAT TSV" \
     "SELECT TenantId, TraceId, toDateTime(min(Timestamp)), toDateTime(max(Timestamp)) FROM otel.otel_traces
      WHERE TraceId != '' GROUP BY TenantId, TraceId ORDER BY TenantId, TraceId FORMAT TSV"
# Grafana's trace-by-id query (with the lookup table) over SQL-loaded spans
expect "WITH 'trace-99' AS __gf_trace_id,
  (SELECT min(Start) FROM otel.otel_traces_trace_id_ts WHERE TraceId = __gf_trace_id) AS __gf_trace_start,
  (SELECT max(End) + 1 FROM otel.otel_traces_trace_id_ts WHERE TraceId = __gf_trace_id) AS __gf_trace_end
  SELECT count(), min(SpanId), max(SpanId) FROM otel.otel_traces
  WHERE TraceId = __gf_trace_id AND Timestamp >= __gf_trace_start AND Timestamp <= __gf_trace_end" \
  "15	span-990	span-999"

# 2. a user's rollup view over otel_traces, fed by OTLP exports
q "CREATE TABLE default.svc_minute (TenantId LowCardinality(String), ServiceName LowCardinality(String),
   t DateTime, spans UInt64, errors UInt64) ENGINE = SummingMergeTree ORDER BY (TenantId, ServiceName, t)"
q "CREATE MATERIALIZED VIEW default.svc_minute_mv TO default.svc_minute AS
   SELECT TenantId, ServiceName, toStartOfMinute(Timestamp) AS t, count() AS spans,
          countIf(StatusCode = 'Error') AS errors
   FROM otel.otel_traces GROUP BY TenantId, ServiceName, t"
loadgen --endpoint "127.0.0.1:$HTTP_OTLP" --requests 6 --batch 200 --tenant rollup
loadgen --protocol grpc --endpoint "127.0.0.1:$GRPC_OTLP" --requests 6 --batch 200 --tenant rollup
expect "SELECT sum(spans) FROM svc_minute WHERE TenantId = 'rollup'" 2400
same "SELECT ServiceName, sum(spans), sum(errors) FROM svc_minute WHERE TenantId = 'rollup'
      GROUP BY ServiceName ORDER BY ServiceName FORMAT TSV" \
     "SELECT ServiceName, count(), countIf(StatusCode = 'Error') FROM otel.otel_traces WHERE TenantId = 'rollup'
      GROUP BY ServiceName ORDER BY ServiceName FORMAT TSV"
expect "SELECT count() FROM otel.otel_traces_trace_id_ts WHERE TenantId = 'rollup' AND TraceId NOT IN
        (SELECT TraceId FROM otel.otel_traces WHERE TenantId = 'rollup')" 0
n=$(q "SELECT count() FROM otel.otel_traces_trace_id_ts WHERE TenantId = 'rollup'")
[ "$n" -gt 0 ] || fail "OTLP spans of tenant rollup did not reach otel_traces_trace_id_ts"

# 3. a view that fails fails the export; nothing of the request is stored
q "CREATE TABLE default.bad_target (n UInt64) ENGINE = MergeTree ORDER BY n"
q "CREATE MATERIALIZED VIEW default.bad_mv TO default.bad_target AS
   SELECT throwIf(TenantId = 'poison', 'poisoned tenant') AS n FROM otel.otel_traces"
"$SPANHOUSE_BIN" loadgen --endpoint "127.0.0.1:$HTTP_OTLP" --requests 2 --batch 10 --tenant poison \
  --allow-failures >/dev/null 2>&1
expect "SELECT count() FROM otel.otel_traces WHERE TenantId = 'poison'" 0
expect "SELECT count() FROM default.bad_target" 0
q "DROP TABLE default.bad_mv"
loadgen --endpoint "127.0.0.1:$HTTP_OTLP" --requests 1 --batch 10 --tenant poison
expect "SELECT count() FROM otel.otel_traces WHERE TenantId = 'poison'" 10

# 4. restart: the views are still there and still fire
kill -TERM "$SERVER_PID"
wait "$SERVER_PID" || fail "server exit status after SIGTERM"
SERVER_PID=
start_server "$log" --data-dir "$keep/data"
otlp_ports "$log"
expect "SELECT name FROM system.tables WHERE engine = 'MaterializedView' ORDER BY database, name FORMAT TSV" \
  "svc_minute_mv
otel_traces_trace_id_ts_mv"
loadgen --endpoint "127.0.0.1:$HTTP_OTLP" --requests 2 --batch 100 --tenant rollup
expect "SELECT sum(spans) FROM svc_minute WHERE TenantId = 'rollup'" 2600
q "INSERT INTO otel.otel_traces (TenantId, Timestamp, TraceId, SpanId) VALUES ('late', '2025-04-01 00:00:00', 'trace-late', 's1')"
expect "SELECT count() FROM otel.otel_traces_trace_id_ts WHERE TraceId = 'trace-late'" 1
stop_server || fail "server exit status after SIGTERM"
echo ok
