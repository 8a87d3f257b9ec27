# MergeTree pruning shows in X-ClickHouse-Summary read_rows: partition
# min/max, primary-key ranges (columns and monotonic functions of them:
# toStartOfHour), skip indexes (bloom_filter, set, tokenbf_v1, minmax).
source "$(dirname "$0")/lib.sh"
url=$SPANHOUSE_URL
t=prune_11_$$
q() { curl -sS -f "$url/" --data-binary "$1" >/dev/null || fail "query failed: $1"; }
# read_rows QUERY EXPECTED_RESULT: prints read_rows, checks the result
read_rows() {
  local hdr body
  hdr=$(mktemp); body=$(mktemp)
  curl -sS -D "$hdr" -o "$body" "$url/" --data-binary "$1" || fail "curl: $1"
  [ "$(cat "$body")" = "$2" ] || fail "$1: result $(cat "$body"), expected $2"
  sed -n 's/^X-ClickHouse-Summary: .*"read_rows":"\([0-9]*\)".*/\1/p' "$hdr" | tr -d '\r'
  rm -f "$hdr" "$body"
}
# expect QUERY RESULT MAX_READ_ROWS
expect() {
  local r; r=$(read_rows "$1" "$2")
  [ -n "$r" ] || fail "no read_rows for: $1"
  [ "$r" -le "$3" ] || fail "$1: read_rows $r > $3"
}
trap 'curl -sS "$url/" --data-binary "DROP TABLE IF EXISTS $t" >/dev/null' EXIT
q "DROP TABLE IF EXISTS $t"
q "CREATE TABLE $t (ts DateTime, k UInt32, s String, tag LowCardinality(String), m Map(String, String),
   INDEX ix_s s TYPE bloom_filter GRANULARITY 1, INDEX ix_tok s TYPE tokenbf_v1(4096, 3, 0) GRANULARITY 1,
   INDEX ix_k k TYPE minmax GRANULARITY 1, INDEX ix_tag tag TYPE set(10) GRANULARITY 1,
   INDEX ix_mk mapKeys(m) TYPE bloom_filter GRANULARITY 1)
   ENGINE = MergeTree PARTITION BY toYYYYMM(ts) ORDER BY (toStartOfHour(ts), ts) SETTINGS index_granularity = 100"
q "INSERT INTO $t SELECT toDateTime('2024-01-01 00:00:00') + number * 60, number, concat('w', toString(number)),
   if(number % 1000 = 7, 'rare', 'common'), if(number = 4242, map('special', 'x'), map('k', 'v')) FROM numbers(100000)"

expect "SELECT count() FROM $t" 100000 100000
# partition pruning: only January
expect "SELECT count() FROM $t WHERE ts < '2024-02-01 00:00:00'" 44640 44700
# primary key on ts and through toStartOfHour(ts)
expect "SELECT count() FROM $t WHERE ts >= '2024-01-05 00:00:00' AND ts < '2024-01-05 01:00:00'" 60 200
expect "SELECT count() FROM $t WHERE toStartOfHour(ts) = '2024-01-05 00:00:00'" 60 200
expect "SELECT count() FROM $t WHERE ts IN ('2024-01-05 00:00:00', '2024-01-06 00:00:00')" 2 400
expect "SELECT count() FROM $t WHERE ts BETWEEN '2024-01-05 00:00:00' AND '2024-01-05 00:59:00'" 60 200
# skip indexes
expect "SELECT count() FROM $t WHERE s = 'w555'" 1 200
expect "SELECT count() FROM $t WHERE s IN ('w1', 'w99999')" 2 400
expect "SELECT count() FROM $t WHERE hasToken(s, 'w777')" 1 200
expect "SELECT count() FROM $t WHERE k >= 500 AND k < 600" 100 200
expect "SELECT count() FROM $t WHERE mapContains(m, 'special')" 1 200
# LIKE 'prefix%' on a sorting-key column
q "DROP TABLE IF EXISTS ${t}_s"
q "CREATE TABLE ${t}_s (name String, n UInt32) ENGINE = MergeTree ORDER BY name SETTINGS index_granularity = 100"
q "INSERT INTO ${t}_s SELECT concat('name', leftPad(toString(number), 6, '0')), number FROM numbers(100000)"
expect "SELECT count() FROM ${t}_s WHERE name LIKE 'name0123%'" 100 300
expect "SELECT count() FROM ${t}_s WHERE name LIKE 'name012345'" 1 200
q "DROP TABLE ${t}_s"
# no pruning without a usable condition
expect "SELECT count() FROM $t WHERE k % 2 = 0" 50000 100000
exit 0
