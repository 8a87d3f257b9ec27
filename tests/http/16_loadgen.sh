# spanhouse loadgen end to end (own server): over OTLP/HTTP and OTLP/gRPC,
# every span the load generator reports as acknowledged is in
# otel.otel_traces under its tenant, with the asked-for attribute and
# service counts, current timestamps and fresh ids when bodies are reused;
# an unreachable endpoint and failed requests give a non-zero exit.
source "$(dirname "$0")/lib.sh"
log=$(mktemp)
out=$(mktemp)
err=$(mktemp)
trap 'stop_server; rm -f "$log" "$out" "$err"' EXIT

q() { curl -sS -f "http://127.0.0.1:$SERVER_PORT/" --data-binary "$1" || fail "query failed: $1"; }
expect() { local got; got=$(q "$1"); [ "$got" = "$2" ] || fail "$1: got '$got', want '$2'"; }
# field NAME: a number from loadgen's --json output
field() { sed -n "s/.*\"$1\":\([0-9.]*\).*/\1/p" "$out"; }
loadgen() { timeout 60 "$SPANHOUSE_BIN" loadgen "$@" >"$out" 2>"$err"; }

start_server "$log"
otlp_ports "$log"

# OTLP/HTTP; 2 distinct bodies for 6 requests, so bodies are resent with new ids
tenant_http="lg-http-$$"
loadgen --protocol http --endpoint "127.0.0.1:$HTTP_OTLP" --requests 6 --batch 500 --connections 2 \
  --bodies 2 --attributes 15 --tenant "$tenant_http" --json ||
  fail "loadgen http: exit $? $(cat "$err")"
[ "$(field requests_ok)" = 6 ] || fail "http: requests_ok $(field requests_ok) in $(cat "$out")"
[ "$(field requests_failed)" = 0 ] || fail "http: requests_failed in $(cat "$out")"
acked=$(field spans_acked)
[ "$acked" = 3000 ] || fail "http: spans_acked '$acked' in $(cat "$out")"
grep -q '"status_counts":{"200":6}' "$out" || fail "http: status counts in $(cat "$out")"
grep -q '"latency_ms":{"p50":[0-9.]*,"p90":[0-9.]*,"p99":[0-9.]*,"max":[0-9.]*}' "$out" || fail "http: latency in $(cat "$out")"
grep -q '^requests: 6 ok' "$err" || fail "http: no text summary on stderr: $(cat "$err")"
expect "SELECT count() FROM otel.otel_traces WHERE TenantId = '$tenant_http'" "$acked"
expect "SELECT uniqExact(concat(TraceId, SpanId)) FROM otel.otel_traces WHERE TenantId = '$tenant_http'" "$acked"
expect "SELECT min(length(SpanAttributes)), max(length(SpanAttributes)) FROM otel.otel_traces WHERE TenantId = '$tenant_http'" "15	15"
expect "SELECT count() FROM otel.otel_traces WHERE TenantId = '$tenant_http' AND (Timestamp < now() - 3600 OR Timestamp > now() + 3600)" 0

# OTLP/gRPC, with a service count
tenant_grpc="lg-grpc-$$"
loadgen --protocol grpc --endpoint "127.0.0.1:$GRPC_OTLP" --requests 4 --batch 1000 --connections 3 \
  --services 5 --tenant "$tenant_grpc" --json ||
  fail "loadgen grpc: exit $? $(cat "$err")"
[ "$(field requests_ok)" = 4 ] || fail "grpc: requests_ok in $(cat "$out")"
acked=$(field spans_acked)
[ "$acked" = 4000 ] || fail "grpc: spans_acked '$acked' in $(cat "$out")"
grep -q '"status_counts":{"0":4}' "$out" || fail "grpc: status counts in $(cat "$out")"
expect "SELECT count() FROM otel.otel_traces WHERE TenantId = '$tenant_grpc'" "$acked"
expect "SELECT uniqExact(ServiceName) FROM otel.otel_traces WHERE TenantId = '$tenant_grpc'" 5

# the text summary by default
loadgen --endpoint "127.0.0.1:$HTTP_OTLP" --requests 1 --batch 10 --tenant "$tenant_http" || fail "text run"
grep -q '^spans: 10 sent, 10 acknowledged' "$out" || fail "text summary: $(cat "$out")"
grep -q '^latency ms: p50 ' "$out" || fail "text summary latency: $(cat "$out")"
expect "SELECT count() FROM otel.otel_traces WHERE TenantId = '$tenant_http'" 3010

# nothing listening: non-zero exit and the reason
if loadgen --endpoint 127.0.0.1:1 --requests 1; then fail "bad endpoint: exit 0"; fi
grep -q 'cannot connect to 127.0.0.1:1' "$err" || fail "bad endpoint message: $(cat "$err")"
if loadgen --protocol grpc --endpoint 127.0.0.1:1 --requests 1; then fail "bad grpc endpoint: exit 0"; fi

# requests that fail (HTTP/1.1 spoken to the gRPC port): exit 1, unless allowed
loadgen --endpoint "127.0.0.1:$GRPC_OTLP" --requests 2 --batch 10 --timeout 5 --json
rc=$?
[ $rc = 1 ] || fail "failed requests: exit $rc, want 1"
[ "$(field requests_failed)" = 2 ] || fail "failed requests: $(cat "$out")"
loadgen --endpoint "127.0.0.1:$GRPC_OTLP" --requests 2 --batch 10 --timeout 5 --allow-failures ||
  fail "--allow-failures: exit $?"

# bad usage
if loadgen --protocol carrier-pigeon; then fail "bad protocol: exit 0"; fi
grep -q 'neither http nor grpc' "$err" || fail "bad protocol message: $(cat "$err")"
stop_server || fail "server exit status"
