# INSERT data streams from the URL statement / body: multi-line formats, a
# body far larger than max_query_size, X-ClickHouse-Summary written_rows,
# all-or-nothing on a bad row at the end of a big body, GET is read-only.
source "$(dirname "$0")/lib.sh"
url=$SPANHOUSE_URL
t=ins_13_$$
q() { curl -sS -f "$url/" --data-binary "$1" || fail "query failed: $1"; }
trap 'curl -sS "$url/" --data-binary "DROP TABLE IF EXISTS $t" >/dev/null' EXIT
q "DROP TABLE IF EXISTS $t"
q "CREATE TABLE $t (k UInt64, s String, d Date DEFAULT '2024-01-01') ENGINE = MergeTree PARTITION BY toYYYYMM(d) ORDER BY k"
# statement in the URL, TSV in the body
hdr=$(curl -sS -f -D - -o /dev/null "$url/?query=INSERT%20INTO%20$t%20(k,%20s)%20FORMAT%20TSV" \
      --data-binary $'1\ta\n2\tb\n') || fail "TSV insert"
grep -q '"written_rows":"2"' <<<"$hdr" || fail "summary: $hdr"
# statement and data in the body; TSVWithNames, CSVWithNames, JSONEachRow
q "INSERT INTO $t FORMAT TSVWithNames
s	k
c	3
" >/dev/null
q "INSERT INTO $t FORMAT CSVWithNames
\"k\",\"s\",\"d\"
4,\"d,e\",2024-02-03
" >/dev/null
q "INSERT INTO $t FORMAT JSONEachRow
{\"k\": 5, \"s\": \"f\"}
{\"k\": 6, \"s\": \"g\", \"d\": \"2024-03-04\"}
" >/dev/null
[ "$(q "SELECT groupArray(k), groupArray(s), groupArray(toString(d)) FROM (SELECT * FROM $t ORDER BY k)")" = \
  "[1,2,3,4,5,6]	['a','b','c','d,e','f','g']	['2024-01-01','2024-01-01','2024-01-01','2024-02-03','2024-01-01','2024-03-04']" ] \
  || fail "rows: $(q "SELECT * FROM $t ORDER BY k")"
# a body of ~3 MB with max_query_size = 1000: streamed past the statement
big=$(mktemp)
trap 'rm -f "$big"; curl -sS "$url/" --data-binary "DROP TABLE IF EXISTS $t" >/dev/null' EXIT
{ echo "INSERT INTO $t (k, s) FORMAT TSV"; seq 100 200099 | awk '{print $1 "\tvalue_" $1}'; } >"$big"
hdr=$(curl -sS -f -D - -o /dev/null "$url/?max_query_size=1000" --data-binary @"$big") || fail "big insert"
grep -q '"written_rows":"200000"' <<<"$hdr" || fail "big summary: $hdr"
[ "$(q "SELECT count(), sum(k) FROM $t WHERE k >= 100")" = "200000	20019900000" ] || fail "big insert rows"
# a bad value in the last row: nothing of the INSERT is visible
{ echo "INSERT INTO $t (k, s) FORMAT TSV"; seq 300000 399999 | awk '{print $1 "\tv"}'; echo "oops	bad"; } >"$big"
code=$(curl -sS -o /dev/null -w '%{http_code}' "$url/" --data-binary @"$big")
[ "$code" != 200 ] || fail "bad row accepted"
[ "$(q "SELECT count() FROM $t WHERE k >= 300000")" = 0 ] || fail "a failed INSERT is partly visible"
# GET cannot insert
code=$(curl -sS -o /dev/null -w '%{http_code}' "$url/?query=INSERT%20INTO%20$t%20VALUES%20(9,'x','2024-01-01')")
[ "$code" != 200 ] || fail "GET inserted"
exit 0
