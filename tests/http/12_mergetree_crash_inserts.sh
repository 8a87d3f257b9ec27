# SIGKILL in the middle of a stream of INSERTs (own server and data dir):
# after a restart every acknowledged INSERT is there exactly once, nothing
# unacknowledged is half there, and the table keeps working.
source "$(dirname "$0")/lib.sh"
log=$(mktemp)
acked=$(mktemp)
trap 'stop_server; rm -f "$log" "$acked"' EXIT
start_server "$log"
url="http://127.0.0.1:$SERVER_PORT"
curl -sS -f "$url/" --data-binary "CREATE TABLE crash (batch UInt32, i UInt32, s String) ENGINE = MergeTree PARTITION BY batch % 4 ORDER BY (batch, i)" \
  || fail "create"
# Each INSERT is one batch of 50 rows (one partition).
( for b in $(seq 1 100000); do
    if curl -sS -f -m 10 "$url/?query=INSERT+INTO+crash+FORMAT+TSV" \
         --data-binary "$(for i in $(seq 1 50); do printf '%s\t%s\tv%s\n' "$b" "$i" "$i"; done)" >/dev/null 2>&1; then
      echo "$b" >>"$acked"
    else
      break
    fi
  done ) &
writer=$!
sleep 2
kill -KILL "$SERVER_PID"
wait "$SERVER_PID" 2>/dev/null
wait "$writer" 2>/dev/null
n_acked=$(wc -l <"$acked")
echo "acknowledged inserts before SIGKILL: $n_acked" >&2
[ "$n_acked" -gt 0 ] || fail "no insert was acknowledged before the kill"
# restart on the same data dir
dir=$SERVER_DIR
: >"$log"      # else the loop below may read the killed server's port before the new one truncates the log
"$SPANHOUSE_BIN" server --http-port 0 --otlp-http-port 0 --otlp-grpc-port 0 --data-dir "$dir/data" --threads 2 2>"$log" &
SERVER_PID=$!
for _ in $(seq 100); do
  port=$(sed -n 's/.*ClickHouse HTTP interface on http:\/\/[^:]*:\([0-9]*\).*/\1/p' "$log")
  [ -n "$port" ] && break
  sleep 0.05
done
[ -n "$port" ] || { cat "$log" >&2; fail "restart failed"; }
url="http://127.0.0.1:$port"
# every batch present has all 50 rows, exactly once
bad=$(curl -sS -f "$url/" --data-binary "SELECT count() FROM (SELECT batch, count() AS c, uniqExact(i) AS u FROM crash GROUP BY batch HAVING c != 50 OR u != 50)") \
  || fail "select after restart: $(tail -5 "$log")"
[ "$bad" = 0 ] || fail "$bad batches are partial or duplicated"
# every acknowledged batch is there
present=$(curl -sS -f "$url/" --data-binary "SELECT count() FROM (SELECT DISTINCT batch FROM crash)")
missing=$(curl -sS -f "$url/?query=SELECT+count()+FROM+(SELECT+DISTINCT+batch+FROM+crash)+WHERE+batch+IN+($(paste -sd, "$acked"))")
[ "$missing" = "$n_acked" ] || fail "acknowledged $n_acked batches, found $missing of them ($present present)"
# at most one unacknowledged batch (the one in flight) may have landed
[ "$present" -le $((n_acked + 1)) ] || fail "$present batches present, $n_acked acknowledged"
curl -sS -f "$url/" --data-binary "INSERT INTO crash VALUES (0, 1, 'after')" || fail "insert after restart"
exit 0
