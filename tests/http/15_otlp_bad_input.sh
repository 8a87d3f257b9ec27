# Bad OTLP input against the real server (own data dir, ports 0): each
# malformed, oversized or misrouted request gets the status the OTLP
# specification asks for (OTLP/HTTP: status code and google.rpc.Status body;
# OTLP/gRPC: grpc-status, through curl over h2c with the 5-byte message
# prefix), nothing of it is stored, and the server answers right after.
# Also partial success for bad ids, deep attribute nesting, unknown fields,
# empty requests, and the per-tenant item counters on /metrics.
source "$(dirname "$0")/lib.sh"
tmp=$(mktemp -d)
log="$tmp/server.log"
trap 'stop_server; rm -rf "$tmp"' EXIT

q() { curl -sS -f "http://127.0.0.1:$SERVER_PORT/" --data-binary "$1" || fail "query failed: $1"; }
expect() { local got; got=$(q "$1"); [ "$got" = "$2" ] || fail "$1: got '$got', want '$2'"; }

# ---- payloads. pb EXPR: protobuf bytes from a Perl expression over these
# helpers (field numbers from opentelemetry/proto/{trace,common}/v1):
#   ld(field, bytes), f64(field, n), vint(field, n); span(name, trace_hex,
#   span_hex, extra_fields); req(span...) = one resource (service.name
#   bad-input) with one scope; arr(n)/kvl(n) = AnyValue nested n deep.
pb_lib='
sub v { my $n = shift; my $s = ""; while ($n >= 0x80) { $s .= chr(($n & 0x7f) | 0x80); $n >>= 7 } $s . chr($n) }
sub ld { my ($f, $b) = @_; v(($f << 3) | 2) . v(length $b) . $b }
sub f64 { my ($f, $x) = @_; v(($f << 3) | 1) . pack("Q<", $x) }
sub vint { my ($f, $x) = @_; v($f << 3) . v($x) }
sub span { my ($name, $t, $s, $extra) = @_;
  ld(1, pack("H*", $t)) . ld(2, pack("H*", $s)) . ld(5, $name) .
  f64(7, 1700000000000000000) . f64(8, 1700000000001000000) . ($extra // "") }
sub req { ld(1, ld(1, ld(1, ld(1, "service.name") . ld(2, ld(1, "bad-input")))) .
  ld(2, join("", map { ld(2, $_) } @_))) }
sub attr { my ($k, $any) = @_; ld(9, ld(1, $k) . ld(2, $any)) }
sub arr { my $x = ld(1, "leaf"); $x = ld(5, ld(1, $x)) for 1 .. $_[0]; $x }
sub kvl { my $x = ld(1, "leaf"); $x = ld(6, ld(1, ld(1, "k") . ld(2, $x))) for 1 .. $_[0]; $x }
'
pb() { perl -e "$pb_lib"'binmode STDOUT; my $r = eval $ARGV[0]; die $@ if $@; print $r' "$1"; }
# frame FLAG: the gRPC length-prefixed message of stdin.
frame() { perl -e 'binmode STDIN; binmode STDOUT; local $/; my $m = <STDIN>; print pack("CN", $ARGV[0], length $m), $m' "$1"; }
T1=5b8efff798038103d269b633813fc60c
S1=eee19b7ec3c1b174
S2=eee19b7ec3c1b175
# JSON span: jspan TRACE_ID SPAN_ID NAME [extra members]
jspan() {
  printf '{"traceId":"%s","spanId":"%s","name":"%s","startTimeUnixNano":"1700000000000000000","endTimeUnixNano":"1700000000001000000"%s}' \
    "$1" "$2" "$3" "${4:+,$4}"
}
jtraces() { printf '{"resourceSpans":[{"scopeSpans":[{"spans":[%s]}]}]}' "$1"; }

# ---- OTLP/HTTP: post PATH CONTENT_TYPE FILE [curl args]: prints the status;
# the body is in $tmp/body, the header section in $tmp/head.
post() {
  local path=$1 ct=$2 file=$3
  shift 3
  curl -s -o "$tmp/body" -D "$tmp/head" -w '%{http_code}' -H "Content-Type: $ct" "$@" \
    --data-binary @"$file" "http://127.0.0.1:$HTTP_OTLP$path"
}
body_text() { tr -c '[:print:]' '.' <"$tmp/body" | head -c 400; }
# body_hex SKIP COUNT: bytes of the body as hex (coreutils od, no xxd needed).
body_hex() { od -An -tx1 -v -j "$1" -N "$2" "$tmp/body" | tr -d ' \n'; }
want() { [ "$1" = "$2" ] || fail "$3: HTTP $1, want $2 (body: $(body_text))"; }
header() { tr -d '\r' <"$tmp/head" | sed -n "s/^$1: *//Ip" | tail -n1; }
# A protobuf google.rpc.Status body: code (field 1) as the first two bytes.
want_pb_status() {
  local code; code=$(body_hex 0 2)
  [ "$code" = "$(printf '08%02x' "$1")" ] || fail "$2: Status body starts with '$code', want code $1"
  grep -aq -- "$3" "$tmp/body" || fail "$2: Status message lacks '$3' (body: $(body_text))"
}

# ---- OTLP/gRPC: grpc METHOD FILE [curl args]: prints grpc-status (headers
# or trailers; "none" without one); the header section is in $tmp/ghead.
# FILE "-" sends no body (HEADERS with END_STREAM).
TRACE_EXPORT=/opentelemetry.proto.collector.trace.v1.TraceService/Export
grpc() {
  local path=$1 file=$2 data=(-X POST)
  shift 2
  [ "$file" = - ] || data=(--data-binary @"$file")
  : >"$tmp/ghead"
  curl -s --http2-prior-knowledge -o "$tmp/gbody" -D "$tmp/ghead" -H 'Content-Type: application/grpc' \
    -H 'TE: trailers' "$@" "${data[@]}" "http://127.0.0.1:$GRPC_OTLP$path" >/dev/null
  local st; st=$(tr -d '\r' <"$tmp/ghead" | sed -n 's/^grpc-status: *//Ip' | tail -n1)
  echo "${st:-none}"
}
# grpc_early: the same for calls the server refuses from their headers,
# before the body. It then ends the stream with RST_STREAM(NO_ERROR), as
# RFC 9113 8.1 allows, and curl 7.88 drops the whole answer when that comes
# while it is still sending; so retry until an answer gets through.
grpc_early() {
  local st i
  for i in $(seq 60); do
    st=$(grpc "$@")
    [ "$st" = none ] || break
  done
  echo "$st"
}
gheader() { tr -d '\r' <"$tmp/ghead" | sed -n "s/^$1: *//Ip" | tail -n1; }
want_grpc() { [ "$1" = "$2" ] || fail "$3: grpc-status $1, want $2 ($(tr -d '\r' <"$tmp/ghead" | tr '\n' ' '))"; }

# alive WHAT: the server still answers on all three ports, and the tenant
# WHAT wrote to has no rows in any otel table.
: >"$tmp/empty"
printf '{}' >"$tmp/empty.json"
alive() {
  kill -0 "$SERVER_PID" 2>/dev/null || { tail -20 "$log" >&2; fail "server died after: $1"; }
  local code; code=$(post /v1/traces application/json "$tmp/empty.json")
  [ "$code" = 200 ] || fail "after $1: OTLP/HTTP answers $code"
  frame 0 <"$tmp/empty" >"$tmp/empty.grpc"
  [ "$(grpc $TRACE_EXPORT "$tmp/empty.grpc")" = 0 ] || fail "after $1: OTLP/gRPC does not answer OK"
  expect "SELECT 1" 1
}
nothing_stored() {
  local t
  for t in otel_traces otel_logs otel_metrics_gauge otel_metrics_sum; do
    expect "SELECT count() FROM otel.$t WHERE TenantId = '$1'" 0
  done
}

start_server "$log" --otlp-max-body-bytes 65536 --otlp-grpc-max-message-bytes 32768
otlp_ports "$log"

# A valid request first: the payload helpers produce what the server stores.
pb "req(span('ok', '$T1', '$S1'))" >"$tmp/ok.pb"
want "$(post /v1/traces application/x-protobuf "$tmp/ok.pb" -H 'X-Scope-OrgID: good')" 200 "valid protobuf"
[ ! -s "$tmp/body" ] || fail "full success must leave the response empty (body: $(body_text))"
expect "SELECT SpanName, TraceId, ServiceName FROM otel.otel_traces WHERE TenantId = 'good'" "ok	$T1	bad-input"

# ---- 400: random bytes as protobuf (fixed seed: the same bytes every run)
perl -e 'srand(42); binmode STDOUT; print map { chr(int rand 256) } 1 .. 4096' >"$tmp/random.pb"
want "$(post /v1/traces application/x-protobuf "$tmp/random.pb" -H 'X-Scope-OrgID: random')" 400 "random bytes"
[ "$(header Content-Type)" = application/x-protobuf ] || fail "random bytes: Content-Type $(header Content-Type)"
want_pb_status 3 "random bytes" "malformed ExportTraceServiceRequest"
want "$(post /v1/logs application/x-protobuf "$tmp/random.pb" -H 'X-Scope-OrgID: random')" 400 "random bytes (logs)"
want "$(post /v1/metrics application/x-protobuf "$tmp/random.pb" -H 'X-Scope-OrgID: random')" 400 "random bytes (metrics)"
alive "random bytes"
nothing_stored random

# ---- 400: a truncated gzip body (a valid request, compressed, cut in half)
pb "req(span('gz', '$T1', '$S1', attr('pad', ld(1, 'x' x 2000))))" | gzip -c >"$tmp/ok.gz"
head -c $(($(stat -c %s "$tmp/ok.gz") / 2)) "$tmp/ok.gz" >"$tmp/truncated.gz"
want "$(post /v1/traces application/x-protobuf "$tmp/truncated.gz" -H 'Content-Encoding: gzip' \
  -H 'X-Scope-OrgID: gzcut')" 400 "truncated gzip"
want_pb_status 3 "truncated gzip" "truncated"
# ... and not gzip at all under Content-Encoding: gzip
want "$(post /v1/traces application/x-protobuf "$tmp/ok.pb" -H 'Content-Encoding: gzip' \
  -H 'X-Scope-OrgID: gzcut')" 400 "gzip header on a plain body"
alive "truncated gzip"
nothing_stored gzcut
# the whole gzip body is fine
want "$(post /v1/traces application/x-protobuf "$tmp/ok.gz" -H 'Content-Encoding: gzip' -H 'X-Scope-OrgID: gzok')" \
  200 "complete gzip"
expect "SELECT count() FROM otel.otel_traces WHERE TenantId = 'gzok'" 1

# ---- 413: over --otlp-max-body-bytes (65536): declared, chunked, and only
# after gzip decoding (a 1 MB attribute compresses to ~1 KB)
pb "req(span('big', '$T1', '$S1', attr('pad', ld(1, 'x' x 100000))))" >"$tmp/big.pb"
want "$(post /v1/traces application/x-protobuf "$tmp/big.pb" -H 'X-Scope-OrgID: big')" 413 "body over the limit"
want_pb_status 3 "body over the limit" "over the 65536 byte limit"
want "$(post /v1/traces application/x-protobuf "$tmp/big.pb" -H 'Transfer-Encoding: chunked' \
  -H 'X-Scope-OrgID: big')" 413 "chunked body over the limit"
pb "req(span('bomb', '$T1', '$S1', attr('pad', ld(1, 'x' x 1000000))))" | gzip -9 -c >"$tmp/bomb.gz"
[ "$(stat -c %s "$tmp/bomb.gz")" -lt 65536 ] || fail "the gzip bomb is not small"
want "$(post /v1/traces application/x-protobuf "$tmp/bomb.gz" -H 'Content-Encoding: gzip' \
  -H 'X-Scope-OrgID: big')" 413 "gzip body over the limit once decoded"
[ "$(header Connection | tr A-Z a-z)" = close ] || fail "413 must close the connection (unread body)"
alive "bodies over the limit"
nothing_stored big
# just under the limit is fine
pb "req(span('under', '$T1', '$S1', attr('pad', ld(1, 'x' x 60000))))" >"$tmp/under.pb"
want "$(post /v1/traces application/x-protobuf "$tmp/under.pb" -H 'X-Scope-OrgID: under')" 200 "body under the limit"
expect "SELECT length(SpanAttributes['pad']) FROM otel.otel_traces WHERE TenantId = 'under'" 60000

# ---- 415: media types and encodings the receiver does not speak
want "$(post /v1/traces text/plain "$tmp/ok.pb" -H 'X-Scope-OrgID: media')" 415 "text/plain"
want_pb_status 3 "text/plain" "unsupported Content-Type 'text/plain'"
want "$(post /v1/traces '' "$tmp/ok.pb" -H 'X-Scope-OrgID: media')" 415 "no Content-Type"
want "$(post /v1/traces application/x-protobuf "$tmp/ok.pb" -H 'Content-Encoding: br' -H 'X-Scope-OrgID: media')" \
  415 "Content-Encoding: br"
alive "unsupported media types"
nothing_stored media

# ---- 405 (with Allow) and 404
code=$(curl -s -o "$tmp/body" -D "$tmp/head" -w '%{http_code}' "http://127.0.0.1:$HTTP_OTLP/v1/traces")
want "$code" 405 "GET /v1/traces"
[ "$(header Allow)" = POST ] || fail "405 without 'Allow: POST' ($(header Allow))"
want_pb_status 12 "GET /v1/traces" "use POST"
want "$(post /v1/spans application/x-protobuf "$tmp/ok.pb" -H 'X-Scope-OrgID: path')" 404 "unknown path"
want_pb_status 5 "unknown path" "unknown path"
want "$(post / application/json "$tmp/empty.json" -H 'X-Scope-OrgID: path')" 404 "path /"
[ "$(header Content-Type)" = application/json ] || fail "404 of a JSON request: Content-Type $(header Content-Type)"
alive "405 and 404"
nothing_stored path

# ---- 200 with partial success: ids that are the wrong length or not hex.
# The valid spans of the same request are kept; the response says how many
# were rejected and why (OTLP/JSON: int64 as a string).
jtraces "$(jspan 0102030405 $S1 fivebytes),$(jspan abc $S1 odd),$(jspan $T1 $S1 good1),$(jspan zz8efff798038103d269b633813fc60c $S1 nonhex),$(jspan $T1 $S2 good2),$(jspan $T1 xyz badspan)" \
  >"$tmp/ids.json"
want "$(post /v1/traces application/json "$tmp/ids.json" -H 'X-Scope-OrgID: ids')" 200 "invalid ids (JSON)"
[ "$(cat "$tmp/body")" = '{"partialSuccess":{"rejectedSpans":"4","errorMessage":"span 0: trace_id is 5 bytes, want 16; 3 more invalid spans rejected"}}' ] ||
  fail "invalid ids (JSON): response $(body_text)"
expect "SELECT SpanName FROM otel.otel_traces WHERE TenantId = 'ids' ORDER BY SpanName" "good1
good2"
# protobuf: a 5-byte trace id; ExportTraceServiceResponse{partial_success{rejected_spans=1, error_message}}
pb "req(span('pgood', '$T1', '$S1'), span('pbad', '0102030405', '$S2'))" >"$tmp/ids.pb"
want "$(post /v1/traces application/x-protobuf "$tmp/ids.pb" -H 'X-Scope-OrgID: pids')" 200 "invalid ids (protobuf)"
[ "$(body_hex 2 3)" = 080112 ] || fail "invalid ids (protobuf): response $(body_hex 0 64)"
grep -aq 'span 1: trace_id is 5 bytes, want 16' "$tmp/body" || fail "invalid ids (protobuf): message $(body_text)"
expect "SELECT SpanName FROM otel.otel_traces WHERE TenantId = 'pids'" pgood
# logs: a log record's trace id must be empty or 16 bytes of hex
printf '{"resourceLogs":[{"scopeLogs":[{"logRecords":[%s,%s]}]}]}' \
  '{"timeUnixNano":"1700000000000000000","body":{"stringValue":"kept"},"traceId":"'$T1'","spanId":"'$S1'"}' \
  '{"timeUnixNano":"1700000000000000000","body":{"stringValue":"dropped"},"traceId":"nothex"}' >"$tmp/logids.json"
want "$(post /v1/logs application/json "$tmp/logids.json" -H 'X-Scope-OrgID: ids')" 200 "invalid log ids"
grep -q '"rejectedLogRecords":"1"' "$tmp/body" || fail "invalid log ids: response $(body_text)"
expect "SELECT Body, TraceId, SpanId FROM otel.otel_logs WHERE TenantId = 'ids'" "kept	$T1	$S1"
alive "partial success"

# ---- deeply nested attribute values. OTLP gives no depth limit; a request
# nested past ours (protobuf: 100 messages, a kvlist level costs 3 and an
# array level 2; JSON: 160 levels) is not decodable as a whole: 400, nothing
# stored, like any other undecodable body. Shallower values are stored as
# JSON text, as the ClickHouse exporter stores them.
pb "req(span('arr10', '$T1', '$S1', attr('d', arr(10))), span('kvl10', '$T1', '$S2', attr('d', kvl(10))))" \
  >"$tmp/nested.pb"
want "$(post /v1/traces application/x-protobuf "$tmp/nested.pb" -H 'X-Scope-OrgID: nested')" 200 "nested 10 deep"
expect "SELECT SpanName, SpanAttributes['d'] FROM otel.otel_traces WHERE TenantId = 'nested' ORDER BY SpanName" \
  'arr10	[[[[[[[[[["leaf"]]]]]]]]]]
kvl10	{"k":{"k":{"k":{"k":{"k":{"k":{"k":{"k":{"k":{"k":"leaf"}}}}}}}}}}'
for deep in 'arr(5000)' 'kvl(4000)'; do             # 35 KB and 56 KB, under the body limit
  pb "req(span('good', '$T1', '$S1'), span('deep', '$T1', '$S2', attr('d', $deep)))" >"$tmp/deep.pb"
  want "$(post /v1/traces application/x-protobuf "$tmp/deep.pb" -H 'X-Scope-OrgID: deep')" 400 "$deep"
  want_pb_status 3 "$deep" "nested deeper than 100"
done
deep_json() {
  local n=$1 open=$2 close=$3 i pre="" post=""
  for ((i = 0; i < n; i++)); do pre+=$open; post+=$close; done
  jtraces "$(jspan $T1 $S1 good),$(jspan $T1 $S2 deep "\"attributes\":[{\"key\":\"d\",\"value\":$pre{\"stringValue\":\"leaf\"}$post}]")"
}
deep_json 2000 '{"arrayValue":{"values":[' ']}}' >"$tmp/deep.json"
want "$(post /v1/traces application/json "$tmp/deep.json" -H 'X-Scope-OrgID: deep')" 400 "JSON arrays 2000 deep"
grep -q '"message":"JSON: nesting deeper than 160' "$tmp/body" || fail "JSON 2000 deep: $(body_text)"
deep_json 1000 '{"kvlistValue":{"values":[{"key":"k","value":' '}]}}' >"$tmp/deep.json"
want "$(post /v1/traces application/json "$tmp/deep.json" -H 'X-Scope-OrgID: deep')" 400 "JSON kvlists 1000 deep"
alive "deep nesting"
nothing_stored deep

# ---- unknown fields are skipped (protobuf: every wire type, at request,
# resource-spans and span level; JSON: unknown member names)
pb "ld(77, 'top') . req(span('unknown', '$T1', '$S1', vint(99, 7) . ld(1000, 'zzz') . v((3000 << 3) | 5) . 'abcd' . f64(4000, 1))) . vint(123456, 1)" \
  >"$tmp/unknown.pb"
want "$(post /v1/traces application/x-protobuf "$tmp/unknown.pb" -H 'X-Scope-OrgID: unknown')" 200 "unknown protobuf fields"
[ ! -s "$tmp/body" ] || fail "unknown fields: not a full success ($(body_text))"
printf '{"resourceSpans":[{"futureField":{"a":[1,2]},"scopeSpans":[{"spans":[%s]}]}],"extra":true}' \
  "$(jspan $T1 $S2 unknownjson '"someNewField":"x","another":{"n":null}')" >"$tmp/unknown.json"
want "$(post /v1/traces application/json "$tmp/unknown.json" -H 'X-Scope-OrgID: unknown')" 200 "unknown JSON fields"
[ "$(cat "$tmp/body")" = '{}' ] || fail "unknown JSON fields: not a full success ($(body_text))"
expect "SELECT SpanName FROM otel.otel_traces WHERE TenantId = 'unknown' ORDER BY SpanName" "unknown
unknownjson"

# ---- empty requests succeed (OTLP: "SHOULD respond with success")
for s in traces logs metrics; do
  want "$(post /v1/$s application/x-protobuf "$tmp/empty" -H 'X-Scope-OrgID: empty')" 200 "empty protobuf $s"
  [ ! -s "$tmp/body" ] || fail "empty $s: response $(body_text)"
  want "$(post /v1/$s application/json "$tmp/empty.json" -H 'X-Scope-OrgID: empty')" 200 "empty JSON $s"
  [ "$(cat "$tmp/body")" = '{}' ] || fail "empty JSON $s: response $(body_text)"
  # (a zero-length JSON body is not JSON: 400, as test_otlp_http.c also checks)
  want "$(post /v1/$s application/json "$tmp/empty" -H 'X-Scope-OrgID: empty')" 400 "zero-length JSON $s"
done
pb "ld(1, ld(1, ld(1, ld(1, 'service.name') . ld(2, ld(1, 'nothing')))))" >"$tmp/nospans.pb"
want "$(post /v1/traces application/x-protobuf "$tmp/nospans.pb" -H 'X-Scope-OrgID: empty')" 200 "a resource without spans"
nothing_stored empty

# ---- OTLP/gRPC
frame 0 <"$tmp/ok.pb" >"$tmp/ok.grpc"
want_grpc "$(grpc $TRACE_EXPORT "$tmp/ok.grpc" -H 'x-scope-orgid: grpcok')" 0 "valid message"
expect "SELECT SpanName FROM otel.otel_traces WHERE TenantId = 'grpcok'" ok
# not a valid request → INVALID_ARGUMENT (3)
frame 0 <"$tmp/random.pb" >"$tmp/random.grpc"
want_grpc "$(grpc $TRACE_EXPORT "$tmp/random.grpc" -H 'x-scope-orgid: grpcbad')" 3 "random bytes"
[[ "$(gheader grpc-message)" == *malformed* ]] || fail "random bytes: grpc-message '$(gheader grpc-message)'"
pb "req(span('good', '$T1', '$S1'), span('deep', '$T1', '$S2', attr('d', arr(3000))))" | frame 0 >"$tmp/deep.grpc"
want_grpc "$(grpc $TRACE_EXPORT "$tmp/deep.grpc" -H 'x-scope-orgid: grpcbad')" 3 "nested 3000 deep"
# over --otlp-grpc-max-message-bytes (32768) → RESOURCE_EXHAUSTED (8), as gRPC's own limit
pb "req(span('big', '$T1', '$S1', attr('pad', ld(1, 'x' x 40000))))" | frame 0 >"$tmp/big.grpc"
want_grpc "$(grpc $TRACE_EXPORT "$tmp/big.grpc" -H 'x-scope-orgid: grpcbad')" 8 "message over the limit"
[[ "$(gheader grpc-message)" == *"larger than max"* ]] || fail "oversized: grpc-message '$(gheader grpc-message)'"
# ... also when only the decompressed message is over it
pb "req(span('bomb', '$T1', '$S1', attr('pad', ld(1, 'x' x 1000000))))" | gzip -9 -c | frame 1 >"$tmp/bomb.grpc"
want_grpc "$(grpc $TRACE_EXPORT "$tmp/bomb.grpc" -H 'grpc-encoding: gzip' -H 'x-scope-orgid: grpcbad')" 8 \
  "decompressed message over the limit"
# unknown methods and services → UNIMPLEMENTED (12), from the headers alone
want_grpc "$(grpc /opentelemetry.proto.collector.trace.v1.TraceService/Upload - -H 'x-scope-orgid: grpcbad')" 12 \
  "unknown method"
want_grpc "$(grpc /opentelemetry.proto.collector.profiles.v1development.ProfilesService/Export - \
  -H 'x-scope-orgid: grpcbad')" 12 "unknown service"
want_grpc "$(grpc_early /opentelemetry.proto.collector.trace.v1.TraceService/Upload "$tmp/ok.grpc" \
  -H 'x-scope-orgid: grpcbad')" 12 "unknown method, with a message"
# a compressed message in an encoding the server lacks → UNIMPLEMENTED (12),
# with grpc-accept-encoding listing what it takes (gRPC compression spec)
gzip -c <"$tmp/ok.pb" | frame 1 >"$tmp/okgz.grpc"
want_grpc "$(grpc $TRACE_EXPORT - -H 'grpc-encoding: snappy' -H 'x-scope-orgid: grpcbad')" 12 "unsupported grpc-encoding"
[[ "$(gheader grpc-accept-encoding)" == *gzip* ]] || fail "UNIMPLEMENTED encoding without grpc-accept-encoding"
want_grpc "$(grpc_early $TRACE_EXPORT "$tmp/okgz.grpc" -H 'grpc-encoding: snappy' -H 'x-scope-orgid: grpcbad')" 12 \
  "unsupported grpc-encoding, with a compressed message"
# the compressed flag without any grpc-encoding, and a truncated gzip
# message: INTERNAL (13), as gRPC implementations answer broken framing
want_grpc "$(grpc $TRACE_EXPORT "$tmp/okgz.grpc" -H 'x-scope-orgid: grpcbad')" 13 "compressed flag, no grpc-encoding"
frame 1 <"$tmp/truncated.gz" >"$tmp/truncated.grpc"
want_grpc "$(grpc $TRACE_EXPORT "$tmp/truncated.grpc" -H 'grpc-encoding: gzip' -H 'x-scope-orgid: grpcbad')" 13 \
  "truncated gzip message"
alive "bad gRPC calls"
nothing_stored grpcbad
# the same gzip message with its encoding is stored
want_grpc "$(grpc $TRACE_EXPORT "$tmp/okgz.grpc" -H 'grpc-encoding: gzip' -H 'x-scope-orgid: grpcok')" 0 "gzip message"
expect "SELECT count() FROM otel.otel_traces WHERE TenantId = 'grpcok'" 2

# ---- every span stored above, and nothing else
expect "SELECT TenantId, count() FROM otel.otel_traces GROUP BY TenantId ORDER BY TenantId" "good	1
grpcok	2
gzok	1
ids	2
nested	2
pids	1
under	1
unknown	2"

# ---- per-tenant item counters on /metrics (SQL port)
curl -sS -f "http://127.0.0.1:$SERVER_PORT/metrics" >"$tmp/metrics" || fail "GET /metrics"
has_metric() { grep -qxF "$1" "$tmp/metrics" || fail "/metrics lacks '$1' ($(grep -F "tenant=\"$2\"" "$tmp/metrics" | head -5 | tr '\n' ' '))"; }
has_metric 'spanhouse_otlp_tenant_items_received_total{tenant="ids",signal="traces"} 6' ids
has_metric 'spanhouse_otlp_tenant_items_accepted_total{tenant="ids",signal="traces"} 2' ids
has_metric 'spanhouse_otlp_tenant_items_refused_total{tenant="ids",signal="traces"} 4' ids
has_metric 'spanhouse_otlp_tenant_items_received_total{tenant="ids",signal="logs"} 2' ids
has_metric 'spanhouse_otlp_tenant_items_accepted_total{tenant="ids",signal="logs"} 1' ids
has_metric 'spanhouse_otlp_tenant_items_accepted_total{tenant="grpcok",signal="traces"} 2' grpcok
# requests that were not decodable have no items to count
grep -q 'tenant="random"' "$tmp/metrics" && fail "an undecodable request counted items"

stop_server || fail "exit status after SIGTERM"

# ---- saturation: memtables over --memtable-max-bytes refuse exports with
# retryable statuses (429 + Retry-After + RetryInfo; gRPC UNAVAILABLE with a
# RetryInfo in grpc-status-details-bin) and store nothing
start_server "$log" --memtable-max-bytes 1
otlp_ports "$log"
want "$(post /v1/traces application/x-protobuf "$tmp/ok.pb" -H 'X-Scope-OrgID: full')" 429 "over the memory budget"
[ -n "$(header Retry-After)" ] || fail "429 without Retry-After"
want_pb_status 8 "over the memory budget" "Memory limit"
want_grpc "$(grpc $TRACE_EXPORT "$tmp/ok.grpc" -H 'x-scope-orgid: full')" 14 "gRPC over the memory budget"
[ -n "$(gheader grpc-status-details-bin)" ] || fail "gRPC UNAVAILABLE without grpc-status-details-bin"
expect "SELECT count() FROM otel.otel_traces WHERE TenantId = 'full'" 0
stop_server || fail "exit status after SIGTERM"
exit 0
