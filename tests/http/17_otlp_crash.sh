# OTLP durability: two clients stream export requests (each a distinct
# service with SPANS spans) while the server is killed with SIGKILL twice;
# after each restart every acknowledged request is stored exactly once, no
# request is stored in part, and otel_traces_trace_id_ts agrees with
# otel_traces. Small memtables make flushes and merges run during the load.
source "$(dirname "$0")/lib.sh"
SPANS=20
work=$(mktemp -d)
log="$work/server.log"
data="$work/data"
trap 'kill $SENDERS 2>/dev/null; [ -n "${SERVER_PID:-}" ] && kill -9 "$SERVER_PID" 2>/dev/null; rm -rf "$work"' EXIT

boot() {
  : >"$log"
  "$SPANHOUSE_BIN" server --http-port 0 --otlp-http-port 0 --otlp-grpc-port 0 --data-dir "$data" --threads 2 \
    --memtable-flush-ms 200 --memtable-flush-bytes 200000 2>"$log" &
  SERVER_PID=$!
  for _ in $(seq 200); do
    SERVER_PORT=$(sed -n 's/.*ClickHouse HTTP interface on http:\/\/[^:]*:\([0-9]*\).*/\1/p' "$log")
    OTLP_PORT=$(sed -n 's/.*OTLP\/HTTP on http:\/\/[^:]*:\([0-9]*\).*/\1/p' "$log")
    [ -n "$SERVER_PORT" ] && [ -n "$OTLP_PORT" ] && grep -q ' ready' "$log" && return 0
    kill -0 "$SERVER_PID" 2>/dev/null || { cat "$log" >&2; fail "server did not start"; }
    sleep 0.05
  done
  cat "$log" >&2
  fail "server did not become ready"
}
q() { curl -sS -f "http://127.0.0.1:$SERVER_PORT/" --data-binary "$1" || fail "query failed: $1"; }

# request N: service req-N, SPANS spans with ids derived from N
body() {
  local n=$1 i spans=""
  for ((i = 0; i < SPANS; i++)); do
    [ -n "$spans" ] && spans+=","
    spans+=$(printf '{"traceId":"%016x%016x","spanId":"%08x%08x","name":"op%d","kind":2,' "$n" "$i" "$n" "$i" "$i")
    spans+='"startTimeUnixNano":"1763000000000000000","endTimeUnixNano":"1763000000250000000",'
    spans+='"attributes":[{"key":"http.method","value":{"stringValue":"GET"}}]}'
  done
  printf '{"resourceSpans":[{"resource":{"attributes":[{"key":"service.name","value":{"stringValue":"req-%d"}}]},' "$n"
  printf '"scopeSpans":[{"scope":{"name":"crash-test"},"spans":[%s]}]}]}' "$spans"
}

# sender K: requests K, K+2, K+4, ... ; appends N to acked.K after a 200
sender() {
  local k=$1 n=$1 code
  while :; do
    body "$n" >"$work/body.$k"
    code=$(curl -s -o /dev/null -w '%{http_code}' -H 'Content-Type: application/json' \
      --data-binary "@$work/body.$k" "http://127.0.0.1:$OTLP_PORT/v1/traces" 2>/dev/null)
    [ "$code" = 200 ] && echo "$n" >>"$work/acked.$k"
    [ "$code" = 000 ] && return 0      # the server is gone
    n=$((n + 2))
  done
}

check() {
  local round=$1
  q "SELECT ServiceName, count(), uniqExact(SpanId) FROM otel.otel_traces GROUP BY ServiceName FORMAT TSV" \
    >"$work/stored"
  q "SELECT count() FROM otel.otel_traces_trace_id_ts" >"$work/ts_count"
  q "SELECT uniqExact(TraceId) FROM otel.otel_traces" >"$work/trace_count"
  cat "$work"/acked.* 2>/dev/null | sort -n | uniq >"$work/acked"
  local acked stored
  acked=$(wc -l <"$work/acked")
  stored=$(wc -l <"$work/stored")
  [ "$acked" -gt 10 ] || fail "round $round: only $acked requests were acknowledged before the kill"
  awk -F'\t' -v s="$SPANS" '$2 != s || $3 != s { print "round '"$round"': " $1 " has " $2 " rows, " $3 " distinct spans"; bad = 1 }
    END { exit bad }' "$work/stored" || fail "a request is stored partly or twice"
  while read -r n; do
    grep -q "^req-$n	" "$work/stored" || fail "round $round: acknowledged request $n is missing after the restart"
  done <"$work/acked"
  # one trace per span here, and the lookup table holds every stored trace once
  [ "$(cat "$work/ts_count")" = "$(cat "$work/trace_count")" ] ||
    fail "round $round: otel_traces_trace_id_ts has $(cat "$work/ts_count") rows for $(cat "$work/trace_count") traces"
  echo "round $round: $acked acknowledged, $stored stored" >&2
}

boot
for round in 1 2; do
  SENDERS=""
  sender $((round * 100000)) & SENDERS="$SENDERS $!"
  sender $((round * 100000 + 1)) & SENDERS="$SENDERS $!"
  sleep 2.5
  kill -9 "$SERVER_PID"
  wait "$SERVER_PID" 2>/dev/null
  for p in $SENDERS; do wait "$p" 2>/dev/null; done
  boot
  check "$round"
done
# a clean stop writes the memtables down and leaves no log to replay
kill -TERM "$SERVER_PID"
wait "$SERVER_PID" || fail "SIGTERM exit status $?"
SERVER_PID=
boot
grep -q 'put back into memtables' "$log" && fail "a clean shutdown left rows in the write-ahead log"
check 3
kill -TERM "$SERVER_PID"
wait "$SERVER_PID" || fail "SIGTERM exit status $?"
SERVER_PID=
