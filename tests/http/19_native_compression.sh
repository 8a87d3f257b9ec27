# ClickHouse's own block framing over HTTP: compress=1 responses and
# decompress=1 request bodies. Responses must carry the same bytes as without
# compress=1 (method NONE is compared byte for byte, ZSTD through the zstd
# command (make installs it), LZ4 by sending the frames back with decompress=1), and
# bad bodies get ClickHouse's codes while the server keeps serving.
source "$(dirname "$0")/lib.sh"
url=$SPANHOUSE_URL
t=chc_19_$$
tmp=$(mktemp -d)
trap 'curl -sS "$url/" --data-binary "DROP TABLE IF EXISTS $t" >/dev/null; curl -sS "$url/" --data-binary "DROP TABLE IF EXISTS ${t}_b" >/dev/null; rm -rf "$tmp"' EXIT
q() { curl -sS -f "$url/" --data-binary "$1" || fail "query failed: $1"; }
enc() { local s=$1; s=${s// /%20}; s=${s//(/%28}; s=${s//)/%29}; s=${s//,/%2C}; s=${s//=/%3D}; echo "$s"; }

command -v zstd >/dev/null || fail "the zstd command is missing (tools/install-deps.sh installs it)"

u32() { od -An --endian=little -tu4 -j "$2" -N4 "$1" | tr -d ' '; }
u8() { od -An -tu1 -j "$2" -N1 "$1" | tr -d ' '; }

# unframe FILE OUT: concatenates the payloads (NONE) or decoded payloads
# (ZSTD, needs zstd); checks every frame's sizes. Prints the frame count.
unframe() {
  local f=$1 out=$2 off=0 size n=0 m cs us
  size=$(stat -c %s "$f"); : >"$out"
  while [ "$off" -lt "$size" ]; do
    m=$(u8 "$f" $((off + 16))); cs=$(u32 "$f" $((off + 17))); us=$(u32 "$f" $((off + 21)))
    [ "$cs" -ge 9 ] && [ $((off + 16 + cs)) -le "$size" ] || fail "bad frame at $off in $f (size $cs)"
    [ "$us" -le 1048576 ] || fail "frame of $us bytes is larger than ClickHouse's 1 MiB buffer"
    tail -c +$((off + 26)) "$f" | head -c $((cs - 9)) >"$tmp/payload"
    case $m in
      2) [ $((cs - 9)) -eq "$us" ] || fail "NONE frame sizes $cs/$us"; cat "$tmp/payload" >>"$out" ;;
      144) zstd -qdc <"$tmp/payload" >>"$out" || fail "zstd frame at $off does not decode" ;;
      *) fail "unexpected method $m" ;;
    esac
    off=$((off + 16 + cs)); n=$((n + 1))
  done
  echo "$n"
}

nostats=output_format_write_statistics=0     # JSON's elapsed time differs per request
# 1. Every output format, small and multi-frame: NONE payloads == plain body.
for fmt in TSV TSVWithNamesAndTypes CSVWithNames JSON JSONEachRow JSONCompact Native RowBinary Pretty Values; do
  for rows in 0 7 150000; do
    sql="SELECT number, toString(number * 3) AS s, number % 7 = 0 AS b FROM numbers($rows) FORMAT $fmt"
    curl -sS -f "$url/?$nostats" --data-binary "$sql" -o "$tmp/plain" || fail "$fmt plain"
    curl -sS -f "$url/?$nostats&compress=1&network_compression_method=none" --data-binary "$sql" -o "$tmp/framed" \
      || fail "$fmt compress=1 none"
    frames=$(unframe "$tmp/framed" "$tmp/decoded") || exit 1
    cmp -s "$tmp/plain" "$tmp/decoded" || fail "$fmt $rows rows: framed body differs from plain"
    [ "$(stat -c %s "$tmp/plain")" -gt 1048576 ] && [ "$frames" -lt 2 ] && fail "$fmt: big body in one frame"
    curl -sS -f "$url/?$nostats&compress=1&network_compression_method=zstd" --data-binary "$sql" -o "$tmp/framed" \
      || fail "$fmt compress=1 zstd"
    unframe "$tmp/framed" "$tmp/decoded" >/dev/null || exit 1
    cmp -s "$tmp/plain" "$tmp/decoded" || fail "$fmt $rows rows: zstd frames differ from plain"
  done
done
# an empty result is an empty body, as in ClickHouse
[ "$(curl -sS "$url/?compress=1" --data-binary 'SELECT 1 WHERE 0' | wc -c)" -eq 0 ] || fail "empty result not empty"

# 2. LZ4 (the default) round trips through decompress=1.
q "CREATE TABLE $t (n UInt64, s String, b UInt8) ENGINE = MergeTree ORDER BY n"
q "CREATE TABLE ${t}_b (line String) ENGINE = MergeTree ORDER BY tuple()"
sel="SELECT number AS n, toString(number * 3) AS s, number % 7 = 0 AS b FROM numbers(200000)"
want=$(q "SELECT count(), sum(n), sum(length(s)), sum(b) FROM ($sel)")
for fmt in Native RowBinary TSV JSONEachRow CSV JSON JSONCompact; do
  q "TRUNCATE TABLE $t"
  curl -sS -f "$url/?compress=1" --data-binary "$sel FORMAT $fmt" -o "$tmp/lz4" || fail "$fmt lz4"
  [ "$(u8 "$tmp/lz4" 16)" = 130 ] || fail "$fmt: default method is not LZ4 (0x82)"
  curl -sS -f "$url/?decompress=1&query=$(enc "INSERT INTO $t FORMAT $fmt")" --data-binary @"$tmp/lz4" \
    || fail "$fmt: decompress=1 insert of our own frames"
  [ "$(q "SELECT count(), sum(n), sum(length(s)), sum(b) FROM $t")" = "$want" ] \
    || fail "$fmt round trip: $(q "SELECT count(), sum(n), sum(length(s)), sum(b) FROM $t")"
done
# text formats without tabs, line by line (sorted), through a String column
for fmt in Pretty PrettyCompact Vertical; do
  q "TRUNCATE TABLE ${t}_b"
  curl -sS -f "$url/?$nostats" --data-binary "$sel LIMIT 5000 FORMAT $fmt" -o "$tmp/plain" || fail "$fmt plain"
  curl -sS -f "$url/?$nostats&compress=1" --data-binary "$sel LIMIT 5000 FORMAT $fmt" -o "$tmp/lz4" || fail "$fmt lz4"
  curl -sS -f "$url/?decompress=1&query=$(enc "INSERT INTO ${t}_b FORMAT TSVRaw")" --data-binary @"$tmp/lz4" \
    || fail "$fmt lines insert"
  q "SELECT line FROM ${t}_b ORDER BY line FORMAT TSVRaw" >"$tmp/got"
  LC_ALL=C sort "$tmp/plain" >"$tmp/want"
  cmp -s "$tmp/want" "$tmp/got" || fail "$fmt: lines differ after the LZ4 round trip"
done
# the statement itself may come framed in the body
q "TRUNCATE TABLE $t"
curl -sS -f "$url/?compress=1&network_compression_method=none" --data-binary \
  "INSERT INTO $t (n, s) VALUES (1, 'x') (2, 'y')" -o /dev/null || fail "values"
curl -sS -f "$url/?compress=1&network_compression_method=none" --data-binary \
  "SELECT 'SELECT sum(n) FROM $t' FORMAT TSVRaw" -o "$tmp/stmt" || fail "framed statement"
[ "$(curl -sS -f "$url/?decompress=1" --data-binary @"$tmp/stmt")" = 3 ] || fail "statement in a framed body"

# 3. Bad bodies: ClickHouse's codes, and the server keeps serving.
curl -sS -f "$url/?compress=1&network_compression_method=none" --data-binary "SELECT number FROM numbers(1000)" \
  -o "$tmp/good" || fail "frames"
printf '\x01' | dd of="$tmp/good" bs=1 seek=40 conv=notrunc status=none      # flip a payload byte
code=$(curl -sS -D "$tmp/h" -o "$tmp/b" -w '%{http_code}' \
  "$url/?decompress=1&query=$(enc "INSERT INTO $t (n) FORMAT TSV")" --data-binary @"$tmp/good")
[ "$code" = 500 ] && grep -qi '^X-ClickHouse-Exception-Code: 40' "$tmp/h" && grep -q "Code: 40.*CHECKSUM_DOESNT_MATCH" "$tmp/b" \
  || fail "bad checksum: $code $(cat "$tmp/b")"
head -c 25 "$tmp/good" >"$tmp/trunc"
code=$(curl -sS -o "$tmp/b" -w '%{http_code}' "$url/?decompress=1&query=$(enc "INSERT INTO $t (n) FORMAT TSV")" \
  --data-binary @"$tmp/trunc")
[ "$code" = 400 ] && grep -q "Code: 33.*CANNOT_READ_ALL_DATA" "$tmp/b" || fail "truncated frame: $code $(cat "$tmp/b")"
{ head -c 16 /dev/zero; printf '\x55\x0e\x00\x00\x00\x05\x00\x00\x00abcde'; } >"$tmp/unk"
code=$(curl -sS -o "$tmp/b" -w '%{http_code}' \
  "$url/?decompress=1&http_native_compression_disable_checksumming_on_decompress=1&query=SELECT+1" --data-binary @"$tmp/unk")
grep -q "Code: 89.*UNKNOWN_COMPRESSION_METHOD" "$tmp/b" || fail "unknown method: $code $(cat "$tmp/b")"
{ head -c 16 /dev/zero; printf '\x82\x0e\x00\x00\x00\x05\x00\x10\x00abcde'; } >"$tmp/big"
curl -sS -o "$tmp/b" "$url/?decompress=1&http_native_compression_disable_checksumming_on_decompress=1&query=SELECT+1" \
  --data-binary @"$tmp/big"
grep -q "Code: 271.*CANNOT_DECOMPRESS" "$tmp/b" || fail "corrupt lz4: $(cat "$tmp/b")"
[ "$(q "SELECT count() FROM $t")" = 2 ] || fail "a failed framed insert left rows"
[ "$(q 'SELECT 1')" = 1 ] || fail "server not serving after bad frames"

# 4. Errors with compress=1 go through the frames, as ClickHouse does (before
# streaming, output not yet sent is dropped; a frame holds up to 1 MiB).
code=$(curl -sS -D "$tmp/h" -o "$tmp/framed" -w '%{http_code}' "$url/?compress=1&network_compression_method=none" \
  --data-binary 'SELECT nosuchfunction(1)')
unframe "$tmp/framed" "$tmp/decoded" >/dev/null || exit 1
[ "$code" = 404 ] && grep -q "Code: 46" "$tmp/decoded" && grep -qi '^X-ClickHouse-Exception-Code: 46' "$tmp/h" \
  || fail "framed early error: $code $(cat "$tmp/decoded")"
curl -sS -D "$tmp/h" -o "$tmp/framed" "$url/?compress=1&network_compression_method=none&max_block_size=8192&buffer_size=4096" \
  --data-binary 'SELECT number, throwIf(number = 400000) FROM numbers(500000)'
unframe "$tmp/framed" "$tmp/decoded" >/dev/null || exit 1
tag=$(sed -n 's/^X-ClickHouse-Exception-Tag: *\([^\r]*\).*/\1/ip' "$tmp/h")
[ -n "$tag" ] && grep -aq "__exception__" "$tmp/decoded" && grep -aq "$tag" "$tmp/decoded" && grep -aq "Code: 395" "$tmp/decoded" \
  || fail "mid-stream exception inside the frames: $(tail -c 300 "$tmp/decoded")"
head -c 7 "$tmp/decoded" | grep -q '^0' || fail "rows before the mid-stream error missing"
code=$(curl -sS -o "$tmp/b" -w '%{http_code}' "$url/?compress=1&network_compression_method=brotli" --data-binary 'SELECT 1')
grep -q "Code: 89" "$tmp/b" || fail "unknown network_compression_method: $code $(cat "$tmp/b")"
[ "$(q 'SELECT 1')" = 1 ] || fail "server not serving at the end"
exit 0
