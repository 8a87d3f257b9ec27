# The ClickHouse HTTP interface contract (docs/http-interface.md): query in
# URL and/or body, GET read-only, params, settings, auth, headers, errors.
source "$(dirname "$0")/lib.sh"
u=$SPANHOUSE_URL
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# body / status / header helpers over one curl call
req() { curl -s -D "$tmp/h" -o "$tmp/b" -w '%{http_code}' "$@"; }
header() { tr -d '\r' <"$tmp/h" | sed -n "s/^$1: //Ip" | head -1; }
body() { cat "$tmp/b"; }

# the acceptance query
[ "$(req "$u/?query=SELECT+number*2+AS+x+FROM+numbers(5)+WHERE+x>2+FORMAT+JSONEachRow")" = 200 ] || fail "acceptance query status"
[ "$(body)" = $'{"x":"4"}\n{"x":"6"}\n{"x":"8"}' ] || fail "acceptance query body: $(body)"
[ "$(header X-ClickHouse-Format)" = JSONEachRow ] || fail "X-ClickHouse-Format: $(header X-ClickHouse-Format)"
[[ "$(header X-ClickHouse-Query-Id)" =~ ^[0-9a-f-]{36}$ ]] || fail "generated query id: $(header X-ClickHouse-Query-Id)"
[[ "$(header X-ClickHouse-Summary)" == *'"result_rows":"3"'* ]] || fail "summary: $(header X-ClickHouse-Summary)"

# syntax error: 400, code 62 in header and body
[ "$(req "$u/?query=SELEC+1")" = 400 ] || fail "syntax error status"
[ "$(header X-ClickHouse-Exception-Code)" = 62 ] || fail "exception code header"
[[ "$(body)" == "Code: 62. DB::Exception: Syntax error"*"(SYNTAX_ERROR)"* ]] || fail "syntax error body: $(body)"

# query split between URL and body, joined with a line feed
[ "$(req --data-binary ' 1 + 1' "$u/?query=SELECT")" = 200 ] && [ "$(body)" = 2 ] || fail "URL + body: $(body)"

# GET is read-only; POST is not
[ "$(req "$u/?query=CREATE+DATABASE+x")" = 403 ] || fail "GET DDL status $(cat "$tmp/b")"
[ "$(header X-ClickHouse-Exception-Code)" = 164 ] || fail "GET DDL code"

# query_id, default_format, X-ClickHouse-Format header
req "$u/?query=SELECT+1&query_id=my-id-1" >/dev/null
[ "$(header X-ClickHouse-Query-Id)" = my-id-1 ] || fail "query_id echo"
req "$u/?query=SELECT+1+AS+a&default_format=JSONCompactEachRow" >/dev/null
[ "$(body)" = '[1]' ] || fail "default_format: $(body)"
req -H 'X-ClickHouse-Format: CSVWithNames' "$u/?query=SELECT+'x'+AS+a" >/dev/null
[ "$(body)" = $'"a"\n"x"' ] || fail "X-ClickHouse-Format header: $(body)"
req "$u/?query=SELECT+1+FORMAT+TSV&default_format=JSON" >/dev/null
[ "$(body)" = 1 ] || fail "FORMAT clause beats default_format: $(body)"

# parameters: typed, string with escapes, identifier, missing
req "$u/?query=SELECT+%7Bn:UInt8%7D+%2B+1,+toTypeName(%7Bn:UInt8%7D)&param_n=41" >/dev/null
[ "$(body)" = $'42\tUInt8' ] || fail "typed param: $(body)"
req "$u/?query=SELECT+length(%7Bs:String%7D)&param_s=a%5Ctb" >/dev/null
[ "$(body)" = 3 ] || fail "escaped string param: $(body)"
req "$u/?query=SELECT+%7Bs:String%7D+FORMAT+TSVRaw&param_s=1'+OR+1=1" >/dev/null
[ "$(body)" = "1' OR 1=1" ] || fail "param is a value, never SQL: $(body)"
req "$u/?query=SELECT+count()+FROM+%7Bt:Identifier%7D&param_t=system.one" >/dev/null
[ "$(body)" = 1 ] || fail "identifier param: $(body)"
[ "$(req "$u/?query=SELECT+%7Bmissing:UInt8%7D")" = 400 ] || fail "missing param status"
[ "$(header X-ClickHouse-Exception-Code)" = 456 ] || fail "missing param code"

# settings as URL parameters; unknown ones refused
req "$u/?query=SELECT+number+FROM+numbers(3)+FORMAT+JSON&output_format_write_statistics=0" >/dev/null
grep -q '"statistics"' "$tmp/b" && fail "output_format_write_statistics=0 ignored"
grep -q '"rows": 3' "$tmp/b" || fail "JSON rows: $(body)"
[ "$(req "$u/?query=SELECT+1&no_such_setting=1")" = 404 ] || fail "unknown setting status"
[ "$(header X-ClickHouse-Exception-Code)" = 115 ] || fail "unknown setting code"

# authentication: default user without password in every form; others refused
[ "$(req -u default: "$u/?query=SELECT+currentUser()")" = 200 ] && [ "$(body)" = default ] || fail "basic auth"
[ "$(req -H 'X-ClickHouse-User: default' "$u/?query=SELECT+1")" = 200 ] || fail "X-ClickHouse-User"
[ "$(req -u nobody:secret "$u/?query=SELECT+1")" = 403 ] || fail "unknown user status"
[ "$(header X-ClickHouse-Exception-Code)" = 516 ] || fail "unknown user code"
[ "$(req "$u/?query=SELECT+1&user=default&password=wrong")" = 403 ] || fail "wrong password"

# compressed request body and response compression on request
printf 'SELECT 40 + 2' | gzip | curl -s -H 'Content-Encoding: gzip' --data-binary @- "$u/" >"$tmp/g"
[ "$(cat "$tmp/g")" = 42 ] || fail "gzip request body: $(cat "$tmp/g")"
curl -s -D "$tmp/h" -H 'Accept-Encoding: gzip' "$u/?query=SELECT+number+FROM+numbers(1000)&enable_http_compression=1" -o "$tmp/z"
[ "$(header Content-Encoding)" = gzip ] || fail "response not gzip"
[ "$(gzip -dc "$tmp/z" | wc -l)" = 1000 ] || fail "gzip response content"
curl -s -D "$tmp/h" -H 'Accept-Encoding: gzip' "$u/?query=SELECT+1" -o "$tmp/z"
[ -z "$(header Content-Encoding)" ] || fail "compressed without enable_http_compression"

# multi-statements refused; empty query refused
[ "$(req --data-binary 'SELECT 1; SELECT 2' "$u/")" = 400 ] || fail "multi-statement status"
[[ "$(body)" == *"Multi-statements are not allowed"* ]] || fail "multi-statement message: $(body)"
[ "$(req -X POST "$u/")" = 400 ] || fail "empty POST"

# a large result streams (chunked) and arrives whole
curl -s -D "$tmp/h" "$u/?query=SELECT+number+FROM+numbers(500000)" -o "$tmp/big"
[ "$(header Transfer-Encoding)" = chunked ] || fail "large result not streamed"
[ "$(wc -l <"$tmp/big")" = 500000 ] && [ "$(tail -1 "$tmp/big")" = 499999 ] || fail "streamed result incomplete"
# wait_end_of_query holds it back and sends a length
curl -s -D "$tmp/h" "$u/?query=SELECT+number+FROM+numbers(500000)&wait_end_of_query=1" -o "$tmp/big"
[ -n "$(header Content-Length)" ] || fail "wait_end_of_query did not buffer"

# an error after streaming began is appended in the __exception__ framing
curl -s -D "$tmp/h" "$u/?query=SELECT+throwIf(number=400000)+FROM+numbers(500000)&max_block_size=8192&buffer_size=4096" -o "$tmp/b"
tag=$(header X-ClickHouse-Exception-Tag)
[ -n "$tag" ] || fail "no exception tag header"
grep -aq "__exception__" "$tmp/b" && grep -aq "$tag" "$tmp/b" && grep -aq "Code: 395" "$tmp/b" || fail "mid-stream exception framing: $(tail -c 300 "$tmp/b")"
exit 0
