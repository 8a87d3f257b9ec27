#!/usr/bin/env bash
# bench/run.sh: spanhouse and a real ClickHouse side by side on the same spans
# (`make bench`; docs/benchmarks.md says how to read the output). It generates
# a seeded data set with build/spangen, starts a private ClickHouse and a
# private spanhouse on free loopback ports with their own data directories,
# loads, merges, measures bytes on disk and a fixed query suite, and writes
# bench/results/<date>.json and .md. Anything spanhouse cannot do yet is
# reported as "not measured: <the server's reason>"; no figure is ever estimated.
set -uo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
DEFAULT_SPANS=500000
SPANS=${BENCH_SPANS:-$DEFAULT_SPANS}
SEED=${BENCH_SEED:-42}
INGEST_RUNS=${BENCH_INGEST_RUNS:-3}
QUERY_RUNS=${BENCH_QUERY_RUNS:-50}
QUERY_MIN_RUNS=${BENCH_QUERY_MIN_RUNS:-10}
QUERY_SECONDS=${BENCH_QUERY_SECONDS:-8}
QUERY_WARMUP=${BENCH_QUERY_WARMUP:-3}
BUDGET=${BENCH_BUDGET:-840}
CONCURRENCY=${BENCH_CONCURRENCY:-2}
INSERT_ROWS=${BENCH_INSERT_ROWS:-100000}
OTLP_BATCH=${BENCH_OTLP_BATCH:-1000}
SETTLE_MAX=${BENCH_SETTLE_MAX:-60}
LOADGEN_SECONDS=${BENCH_LOADGEN_SECONDS:-20}
LOADGEN_CONNECTIONS=${BENCH_LOADGEN_CONNECTIONS:-4}
RESULTS=${BENCH_RESULTS:-$ROOT/bench/results}
KEEP=${BENCH_KEEP:-0}
UPDATE_DOCS=${BENCH_UPDATE_DOCS:-auto}
CH_SERVER=${BENCH_CLICKHOUSE_SERVER:-/usr/sbin/clickhouse-server}
SPANGEN=$ROOT/build/spangen
SPANHOUSE=$ROOT/build/spanhouse

for v in SPANS SEED INGEST_RUNS QUERY_RUNS QUERY_MIN_RUNS QUERY_SECONDS QUERY_WARMUP BUDGET CONCURRENCY INSERT_ROWS \
  OTLP_BATCH SETTLE_MAX LOADGEN_SECONDS LOADGEN_CONNECTIONS; do
  [[ ${!v} =~ ^[0-9]+$ ]] || { echo "bench: $v must be a number" >&2; exit 2; }
  [[ $v == QUERY_WARMUP || $v == BUDGET ]] || ((${!v} > 0)) || { echo "bench: $v must be positive" >&2; exit 2; }
done
((QUERY_MIN_RUNS <= QUERY_RUNS)) || QUERY_MIN_RUNS=$QUERY_RUNS

WORK=$(mktemp -d "${TMPDIR:-/tmp}/spanhouse-bench.XXXXXX")
M=$WORK/measure                      # one JSON fragment per measurement
mkdir -p "$M" "$WORK/data"
LOG=$WORK/bench.log
CLK_TCK=$(getconf CLK_TCK)
START_EPOCH=$(date +%s)
# Ingest runs after a method's first stop once they would eat into the time
# the queries need (each query gets at most QUERY_SECONDS of timed runs per
# system, plus warm-ups). BENCH_BUDGET=0: no limit.
QUERY_COUNT=$(find "$ROOT/bench/queries" -name '*.clickhouse.sql' | wc -l)
INGEST_DEADLINE=$((BUDGET ? START_EPOCH + BUDGET - QUERY_COUNT * 2 * (QUERY_SECONDS + 4) - 90 : 0))
CH_PID='' SH_PID=''

log() { printf '[bench %s] %s\n' "$(date +%H:%M:%S)" "$*" | tee -a "$LOG" >&2; }
die() { log "FATAL: $*"; exit 1; }
now() { date +%s.%N; }
fsub() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.6f", a - b }'; }
fdiv() { awk -v a="$1" -v b="$2" 'BEGIN { if (b == 0) print "null"; else printf "%.6f", a / b }'; }

# ---- processes ----------------------------------------------------------------

stop_pid() {                          # stop_pid PID NAME: TERM, wait, then KILL
  local pid=$1 name=$2 i
  [[ -n $pid ]] && kill -0 "$pid" 2>/dev/null || return 0
  kill -TERM "$pid" 2>/dev/null
  for ((i = 0; i < 120; i++)); do
    kill -0 "$pid" 2>/dev/null || { wait "$pid" 2>/dev/null; log "stopped $name (pid $pid)"; return 0; }
    sleep 0.25
  done
  log "$name (pid $pid) ignored SIGTERM for 30 s; sending SIGKILL"
  kill -KILL "$pid" 2>/dev/null
  wait "$pid" 2>/dev/null
}

cleanup() {
  local j
  for j in $(jobs -p); do [[ $j == "$SH_PID" || $j == "$CH_PID" ]] || kill "$j" 2>/dev/null; done
  stop_pid "$SH_PID" spanhouse
  stop_pid "$CH_PID" clickhouse-server
  if [[ $KEEP == 1 ]]; then log "kept $WORK"; else rm -rf "$WORK"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# Ports come from below the kernel's ephemeral range, so no outgoing
# connection holds them, and must be unused in any state.
USED_PORTS=" "
EPHEMERAL_LOW=$(awk '{ print $1 }' /proc/sys/net/ipv4/ip_local_port_range 2>/dev/null || echo 32768)
((EPHEMERAL_LOW > 12000)) || EPHEMERAL_LOW=32768
free_port() {
  local p
  for ((;;)); do
    p=$((10000 + RANDOM % (EPHEMERAL_LOW - 10000)))
    [[ $USED_PORTS == *" $p "* ]] && continue
    [[ -z $(ss -Htan "sport = :$p" 2>/dev/null) ]] || continue
    USED_PORTS+="$p "
    echo "$p"
    return
  done
}

cpu_ticks() { awk '{ sub(/^.*\) /, ""); print $12 + $13 }' "/proc/$1/stat" 2>/dev/null || echo 0; }
hwm_kib() { awk '/^VmHWM:/ { print $2 }' "/proc/$1/status" 2>/dev/null || echo 0; }
reset_hwm() { echo 5 >"/proc/$1/clear_refs" 2>/dev/null; }

# Waits until PID has used at most one clock tick per half second twice in a
# row (its flushes and merges are done), at most SETTLE_MAX seconds.
settle() {
  local pid=$1 a b quiet=0 i
  a=$(cpu_ticks "$pid")
  for ((i = 0; i < SETTLE_MAX * 2; i++)); do
    sleep 0.5
    b=$(cpu_ticks "$pid")
    if ((b - a <= 1)); then ((++quiet >= 2)) && return 0; else quiet=0; fi
    a=$b
  done
  return 0
}

# ---- HTTP helpers -------------------------------------------------------------

# sql URL SQL: runs one statement; the body goes to $WORK/body. Returns 0 on
# HTTP 200 without an exception in the body, else sets REASON.
REASON=
sql() {
  local url=$1 q=$2 code
  code=$(curl -sS -o "$WORK/body" -w '%{http_code}' --data-binary "$q" "$url" 2>"$WORK/curl.err")
  local rc=$?
  if ((rc != 0)); then
    REASON="$(head -c 300 "$WORK/curl.err" | tr '\n' ' ' | sed 's/ *$//')"
    return 1
  fi
  if [[ $code != 200 ]] || grep -q 'DB::Exception' "$WORK/body"; then
    REASON="HTTP $code: $(reason_of "$WORK/body")"
    return 1
  fi
  return 0
}

# The first line of a server error, without 18.16's e.what() tail, ≤ 240 bytes.
reason_of() {
  head -c 2000 "$1" | tr '\r\n' '  ' | sed -e 's/, e\.what() = DB::Exception//' -e 's/  */ /g' -e 's/ $//' | cut -c1-240
}

# run_statements URL FILE [EXTRA_URL_PARAMS]: statements end with ';' at a line end.
run_statements() {
  local url=$1 file=$2 stmt
  local -a stmts=()
  stmt=
  while IFS= read -r line || [[ -n $line ]]; do
    [[ $line =~ ^[[:space:]]*-- ]] && continue
    stmt+="$line"$'\n'
    if [[ $line =~ \;[[:space:]]*$ ]]; then
      stmts+=("${stmt%;*}")
      stmt=
    fi
  done <"$file"
  for stmt in "${stmts[@]}"; do
    if ! sql "$url" "$stmt"; then
      REASON="$(echo "$stmt" | head -1 | cut -c1-60 | sed 's/ *($//; s/ *$//'): $REASON"
      return 1
    fi
  done
}

wait_ping() {                         # wait_ping URL PID SECONDS
  local i
  for ((i = 0; i < $3 * 4; i++)); do
    kill -0 "$2" 2>/dev/null || return 1
    [[ $(curl -s --max-time 1 "$1/ping" 2>/dev/null) == Ok.* ]] && return 0
    sleep 0.25
  done
  return 1
}

# ---- measurement records ------------------------------------------------------

# record FILE JQ-ARGS... FILTER: writes one JSON fragment.
record() {
  local f=$1
  shift
  jq -n "$@" >"$f.tmp" && mv "$f.tmp" "$f"
}

median_of() { sort -g | awk '{ v[NR] = $1 } END { if (NR == 0) print "null"; else if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
p99_of() { sort -g | awk '{ v[NR] = $1 } END { if (NR == 0) { print "null"; exit } r = int(NR * 0.99); if (r < NR * 0.99) r++; if (r < 1) r = 1; print v[r] }'; }

# ---- setup --------------------------------------------------------------------

need_tools() {
  local missing=()
  command -v curl >/dev/null || missing+=(curl)
  command -v jq >/dev/null || missing+=(jq)
  command -v ss >/dev/null || missing+=(iproute2)
  [[ -x $CH_SERVER ]] || missing+=(clickhouse-server clickhouse-client)
  ((${#missing[@]} == 0)) && return 0
  log "installing ${missing[*]} from Debian"
  [[ $(id -u) == 0 ]] || die "run as root, or: apt-get install -y ${missing[*]}"
  # RUNLEVEL=1 keeps the package scripts from starting the system-wide server.
  apt-get update -qq >>"$LOG" 2>&1
  RUNLEVEL=1 DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >>"$LOG" 2>&1 ||
    die "apt-get install ${missing[*]} failed (see $LOG)"
  [[ -x $CH_SERVER ]] || die "$CH_SERVER missing after installing clickhouse-server"
}

machine_json() {
  jq -n --arg model "$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)" \
    --argjson cpus "$(nproc)" \
    --argjson mem "$(awk '/^MemTotal:/ { print $2 * 1024 }' /proc/meminfo)" \
    --arg kernel "$(uname -sr)" \
    --arg os "$(. /etc/os-release 2>/dev/null && echo "$PRETTY_NAME")" \
    --arg load "$(cut -d' ' -f1-3 /proc/loadavg)" \
    '{cpu_model: $model, cpus: $cpus, memory_bytes: $mem, kernel: $kernel, os: $os, loadavg_at_start: $load}'
}

start_clickhouse() {
  local d=$WORK/clickhouse
  mkdir -p "$d"/{data,tmp,log,user_files,format_schemas}
  CH_HTTP=$(free_port)
  local tcp inter
  tcp=$(free_port)
  inter=$(free_port)
  cat >"$d/config.xml" <<EOF
<?xml version="1.0"?>
<yandex>
    <logger><level>warning</level><log>$d/log/server.log</log>
        <errorlog>$d/log/server.err.log</errorlog><size>100M</size><count>2</count></logger>
    <listen_host>127.0.0.1</listen_host>
    <http_port>$CH_HTTP</http_port>
    <tcp_port>$tcp</tcp_port>
    <interserver_http_port>$inter</interserver_http_port>
    <max_concurrent_queries>16</max_concurrent_queries>
    <mark_cache_size>1073741824</mark_cache_size>
    <path>$d/data/</path>
    <tmp_path>$d/tmp/</tmp_path>
    <user_files_path>$d/user_files/</user_files_path>
    <format_schema_path>$d/format_schemas/</format_schema_path>
    <users_config>$d/users.xml</users_config>
    <default_profile>default</default_profile>
    <default_database>default</default_database>
    <timezone>UTC</timezone>
    <compression><case><method>zstd</method></case></compression>
    <merge_tree><old_parts_lifetime>1</old_parts_lifetime><cleanup_delay_period>1</cleanup_delay_period></merge_tree>
</yandex>
EOF
  cat >"$d/users.xml" <<'EOF'
<?xml version="1.0"?>
<yandex>
    <profiles><default></default></profiles>
    <users><default><password></password>
        <networks><ip>127.0.0.1</ip><ip>::1</ip></networks>
        <profile>default</profile><quota>default</quota></default></users>
    <quotas><default><interval><duration>3600</duration><queries>0</queries><errors>0</errors>
        <result_rows>0</result_rows><read_rows>0</read_rows><execution_time>0</execution_time>
    </interval></default></quotas>
</yandex>
EOF
  (cd "$d" && exec "$CH_SERVER" --config-file="$d/config.xml" >"$d/stdout.log" 2>&1) &
  CH_PID=$!
  CH_URL=http://127.0.0.1:$CH_HTTP
  wait_ping "$CH_URL" "$CH_PID" 60 || die "ClickHouse did not start (see $d/log/server.err.log)"
  # LowCardinality is experimental in 18.16; the setting rides on every statement.
  CH_Q="$CH_URL/?allow_experimental_low_cardinality_type=1"
  sql "$CH_URL/" "SELECT version()" || die "ClickHouse: $REASON"
  CH_VERSION=$(cat "$WORK/body")
  log "ClickHouse $CH_VERSION: pid $CH_PID, http port $CH_HTTP, data $d/data"
}

SH_DOWN=                              # why spanhouse is not running, if it is not
start_spanhouse() {
  local d=$WORK/spanhouse
  mkdir -p "$d"
  if ! make -C "$ROOT" -s -j"$(nproc)" build/spanhouse >"$WORK/build.log" 2>&1; then
    SH_DOWN="build failed: $(grep -m1 -E 'error|Error' "$WORK/build.log" | cut -c1-200)"
    log "spanhouse: $SH_DOWN"
    return 1
  fi
  SH_HTTP=$(free_port)
  SH_OTLP_HTTP=$(free_port)
  SH_OTLP_GRPC=$(free_port)
  ("$SPANHOUSE" server --listen-host 127.0.0.1 --http-port "$SH_HTTP" --otlp-http-port "$SH_OTLP_HTTP" \
    --otlp-grpc-port "$SH_OTLP_GRPC" --data-dir "$d/data" --log-level warn >"$d/server.log" 2>&1) &
  SH_PID=$!
  SH_URL=http://127.0.0.1:$SH_HTTP
  if ! wait_ping "$SH_URL" "$SH_PID" 30; then
    SH_DOWN="server did not start: $(tail -c 200 "$d/server.log" | tr '\n' ' ')"
    log "spanhouse: $SH_DOWN"
    SH_PID=
    return 1
  fi
  SH_VERSION=$("$SPANHOUSE" --version 2>/dev/null | head -1 | awk '{ print $NF }')
  log "spanhouse $SH_VERSION: pid $SH_PID, http $SH_HTTP, otlp-http $SH_OTLP_HTTP, otlp-grpc $SH_OTLP_GRPC"
}

# ---- data ---------------------------------------------------------------------

GEN_SECONDS=0
generate() {                          # generate FORMAT DIR BATCH [extra spangen args]
  local fmt=$1 dir=$2 batch=$3 t0
  shift 3
  [[ -f $dir/index.tsv ]] && return 0
  t0=$(now)
  "$SPANGEN" --spans "$SPANS" --seed "$SEED" --format "$fmt" --out-dir "$dir" --batch-spans "$batch" "$@" ||
    die "spangen --format $fmt failed"
  local dt
  dt=$(fsub "$(now)" "$t0")
  GEN_SECONDS=$(awk -v a="$GEN_SECONDS" -v b="$dt" 'BEGIN { print a + b }')
  log "generated $fmt: $(du -sh "$dir" | cut -f1) in ${dt%????} s"
  echo "$fmt $dt $(awk -F'\t' '{ s += $4 } END { print s }' "$dir/index.tsv")" >>"$WORK/generated"
}

# ---- loading ------------------------------------------------------------------

# load DIR URL MODE: sends every file listed in DIR/index.tsv, CONCURRENCY
# curl processes with keep-alive, each file one request. MODE: sql,
# otlp-proto, otlp-json, otlp-grpc. Returns 0 when every request succeeded,
# else sets REASON from the first failure.
load() {
  local dir=$1 url=$2 mode=$3 resp=$WORK/resp k i=0 file tenant
  rm -rf "$resp"
  mkdir -p "$resp"
  for ((k = 0; k < CONCURRENCY; k++)); do : >"$resp/cfg$k"; done
  while IFS=$'\t' read -r file tenant _; do
    k=$((i % CONCURRENCY))
    {
      [[ -s $resp/cfg$k ]] && printf 'next\n'    # separates transfers; none after the last
      printf 'url = "%s"\n' "$url"
      printf 'data-binary = "@%s/%s"\n' "$dir" "$file"
      printf 'output = "%s/%s.body"\n' "$resp" "$file"
      printf 'write-out = "%%{http_code} %s\\n"\n' "$file"
      # OTLP exporters retry 429/503 after Retry-After; so does curl --retry
      [[ $mode == sql ]] || printf 'retry = 20\n'
      case $mode in
      sql) printf 'header = "Content-Type: text/tab-separated-values"\n' ;;
      otlp-proto) printf 'header = "Content-Type: application/x-protobuf"\nheader = "X-Scope-OrgID: %s"\n' "$tenant" ;;
      otlp-json) printf 'header = "Content-Type: application/json"\nheader = "X-Scope-OrgID: %s"\n' "$tenant" ;;
      otlp-grpc)
        printf 'http2-prior-knowledge\nheader = "Content-Type: application/grpc"\nheader = "TE: trailers"\n'
        printf 'header = "X-Scope-OrgID: %s"\ndump-header = "%s/%s.hdr"\n' "$tenant" "$resp" "$file"
        ;;
      esac
    } >>"$resp/cfg$k"
    i=$((i + 1))
  done <"$dir/index.tsv"
  local -a pids=()
  for ((k = 0; k < CONCURRENCY && k < i; k++)); do
    if [[ $mode == otlp-grpc ]]; then
      # Debian's curl 7.88 cannot reuse an h2c prior-knowledge connection
      # (curl #10634, fixed in 8.0): one curl process per gRPC call.
      (csplit -s -z -n 6 -f "$resp/one$k." "$resp/cfg$k" '/^next$/' '{*}' &&
       for one in "$resp/one$k".*; do sed -i '/^next$/d' "$one"; curl -sS -K "$one"; done) \
        >"$resp/codes$k" 2>"$resp/err$k" &
    else
      curl -sS -K "$resp/cfg$k" >"$resp/codes$k" 2>"$resp/err$k" &
    fi
    pids+=($!)
  done
  for k in "${pids[@]}"; do wait "$k"; done
  local bad
  bad=$(cat "$resp"/codes* | awk '$1 != 200 { print; exit }')
  local ok
  ok=$(cat "$resp"/codes* | awk '$1 == 200' | wc -l)
  if [[ -n $bad || $ok != "$i" ]]; then
    if [[ -z $bad ]]; then
      REASON="$ok of $i requests answered: $(cat "$resp"/err* | head -c 200 | tr '\n' ' ')"
    elif [[ ${bad%% *} == 000 ]]; then
      REASON="no HTTP response: $(cat "$resp"/err* | head -1 | cut -c1-200)"
    else
      REASON="HTTP ${bad%% *}: $(reason_of "$resp/${bad#* }.body")"
    fi
    return 1
  fi
  if [[ $mode == otlp-grpc ]]; then
    local f st
    for f in "$resp"/*.hdr; do
      st=$(tr -d '\r' <"$f" | awk -F': *' 'tolower($1) == "grpc-status" { s = $2 } END { print s }')
      if [[ $st != 0 ]]; then
        REASON="grpc-status ${st:-missing}: $(tr -d '\r' <"$f" | awk -F': *' 'tolower($1) == "grpc-message" { print $2 }' | head -1)"
        return 1
      fi
    done
  fi
  return 0
}

# measure_ingest SYSTEM METHOD LABEL PID COUNT_URL DIR URL MODE RESET_FN
# Runs INGEST_RUNS loads of the whole data set and records spans/s (wall time
# from the first request to the last acknowledgement), the server's CPU
# seconds from the first request until it settles, and its peak RSS.
LAST_COMPLETE=
measure_ingest() {
  local system=$1 method=$2 label=$3 pid=$4 count_url=$5 dir=$6 url=$7 mode=$8 reset_fn=$9
  local out=$M/ingest-$system-$method.json run t0 t1 c0 c1 wall cpu rss count runs=$WORK/runs-$system-$method
  local note='' run_start last_s=0
  : >"$runs"
  for ((run = 1; run <= INGEST_RUNS; run++)); do
    if ((run > 1 && INGEST_DEADLINE && $(date +%s) + last_s > INGEST_DEADLINE)); then
      note="stopped after $((run - 1)) of $INGEST_RUNS runs to stay within BENCH_BUDGET=$BUDGET s"
      log "$label: $note"
      break
    fi
    run_start=$(date +%s)
    if ! $reset_fn; then
      if ((run == 1)); then
        record "$out" --arg s "$system" --arg m "$method" --arg l "$label" --arg r "cannot empty the tables: $REASON" \
          '{system: $s, method: $m, label: $l, status: "not measured", reason: $r}'
        return 1
      fi
      note="stopped after $((run - 1)) runs: cannot empty the tables: $REASON"
      log "$label: $note"
      break
    fi
    reset_hwm "$pid"
    c0=$(cpu_ticks "$pid")
    t0=$(now)
    if ! load "$dir" "$url" "$mode"; then
      LAST_COMPLETE=
      log "$label: run $run failed: $REASON"
      record "$out" --arg s "$system" --arg m "$method" --arg l "$label" --arg r "$REASON" \
        '{system: $s, method: $m, label: $l, status: "not measured", reason: $r}'
      return 1
    fi
    t1=$(now)
    settle "$pid"
    c1=$(cpu_ticks "$pid")
    rss=$(hwm_kib "$pid")
    if ! sql "$count_url" "SELECT count() FROM otel.otel_traces"; then
      LAST_COMPLETE=
      record "$out" --arg s "$system" --arg m "$method" --arg l "$label" --arg r "count() after loading: $REASON" \
        '{system: $s, method: $m, label: $l, status: "not measured", reason: $r}'
      return 1
    fi
    count=$(tr -d '[:space:]' <"$WORK/body")
    if [[ $count != "$SPANS" ]]; then
      LAST_COMPLETE=
      record "$out" --arg s "$system" --arg m "$method" --arg l "$label" \
        --arg r "every request was acknowledged but count() = $count, not $SPANS" \
        '{system: $s, method: $m, label: $l, status: "not measured", reason: $r}'
      return 1
    fi
    wall=$(fsub "$t1" "$t0")
    cpu=$(awk -v a="$c0" -v b="$c1" -v t="$CLK_TCK" 'BEGIN { printf "%.2f", (b - a) / t }')
    jq -n --argjson run "$run" --argjson wall "$wall" --argjson cpu "$cpu" --argjson rss "$((rss * 1024))" \
      --argjson spans "$SPANS" \
      '{run: $run, wall_s: $wall, spans_per_s: ($spans / $wall), cpu_s: $cpu,
        cpu_s_per_million_spans: ($cpu * 1000000 / $spans), peak_rss_bytes: $rss}' >>"$runs"
    LAST_COMPLETE=$system-$method
    last_s=$(($(date +%s) - run_start))
    log "$label: run $run: $(awk -v s="$SPANS" -v w="$wall" 'BEGIN { printf "%.0f", s / w }') spans/s, wall ${wall%????} s, cpu $cpu s, peak rss $((rss / 1024)) MiB"
  done
  jq -s --arg s "$system" --arg m "$method" --arg l "$label" --arg note "$note" '
    def median: sort | if length == 0 then null elif length % 2 == 1 then .[length / 2 | floor]
                else (.[length / 2 - 1] + .[length / 2]) / 2 end;
    {system: $s, method: $m, label: $l, status: "measured", note: $note, runs: .,
     spans_per_s: (map(.spans_per_s) | median),
     cpu_s_per_million_spans: (map(.cpu_s_per_million_spans) | median),
     peak_rss_bytes: (map(.peak_rss_bytes) | median)}' "$runs" >"$out"
  return 0
}

# ---- ClickHouse ---------------------------------------------------------------

ch_reset() {
  sql "$CH_Q" "DROP TABLE IF EXISTS otel.otel_traces_trace_id_ts_mv" &&
    sql "$CH_Q" "DROP TABLE IF EXISTS otel.otel_traces_trace_id_ts" &&
    sql "$CH_Q" "DROP TABLE IF EXISTS otel.otel_traces" &&
    run_statements "$CH_Q" "$ROOT/bench/schema/clickhouse-18.16.sql"
}

# OPTIMIZE ... FINAL partition by partition (18.16 merges one partition per
# statement), then waits for merges and the removal of the merged-away parts.
ch_optimize() {
  local table part
  for table in otel_traces otel_traces_trace_id_ts; do
    sql "$CH_Q" "SELECT DISTINCT partition FROM system.parts WHERE database = 'otel' AND table = '$table' AND active FORMAT TSVRaw" ||
      return 1
    cp "$WORK/body" "$WORK/partitions"
    while IFS= read -r part; do
      [[ -z $part ]] && continue
      sql "$CH_Q" "OPTIMIZE TABLE otel.$table PARTITION $part FINAL" || return 1
    done <"$WORK/partitions"
  done
  local i
  for ((i = 0; i < 240; i++)); do
    sql "$CH_Q" "SELECT (SELECT count() FROM system.merges) + (SELECT count() FROM system.parts WHERE database = 'otel' AND NOT active)" || return 1
    [[ $(tr -d '[:space:]' <"$WORK/body") == 0 ]] && return 0
    sleep 0.5
  done
  return 0
}

parts_json() {                        # parts_json URL TABLE → {"bytes":..,"rows":..,"parts":..}
  sql "$1" "SELECT sum(bytes_on_disk), sum(rows), count() FROM system.parts WHERE database = 'otel' AND table = '$2' AND active FORMAT TSV" ||
    return 1
  awk -F'\t' '{ printf "{\"bytes\": %s, \"rows\": %s, \"parts\": %s}", $1, $2, $3 }' "$WORK/body"
}

run_clickhouse() {
  log "ClickHouse: ingest, $INGEST_RUNS runs of $SPANS spans (HTTP INSERT TSV, $INSERT_ROWS rows per request, $CONCURRENCY streams)"
  local url="$CH_URL/?query=INSERT%20INTO%20otel.otel_traces%20FORMAT%20TabSeparated"
  if ! measure_ingest clickhouse http_insert_tsv "HTTP INSERT TSV" "$CH_PID" "$CH_Q" "$WORK/data/ch-tsv" "$url" sql ch_reset; then
    log "ClickHouse ingest failed: $(jq -r .reason "$M/ingest-clickhouse-http_insert_tsv.json")"
    return 1
  fi
  log "ClickHouse: OPTIMIZE ... FINAL"
  local t0 opt_s
  t0=$(now)
  ch_optimize || { log "ClickHouse OPTIMIZE failed: $REASON"; return 1; }
  opt_s=$(fsub "$(now)" "$t0")
  local traces lookup du_bytes
  traces=$(parts_json "$CH_Q" otel_traces) || { log "ClickHouse system.parts: $REASON"; return 1; }
  lookup=$(parts_json "$CH_Q" otel_traces_trace_id_ts) || return 1
  du_bytes=$(du -sb "$WORK/clickhouse/data/data/otel/otel_traces" | cut -f1)
  record "$M/storage-clickhouse.json" --argjson t "$traces" --argjson l "$lookup" --argjson du "$du_bytes" \
    --argjson spans "$SPANS" --argjson opt "$opt_s" \
    '{system: "clickhouse", status: "measured", source: "system.parts (active parts, bytes_on_disk)",
      loaded_by: "HTTP INSERT TSV", optimize_final_s: $opt, otel_traces: $t, trace_id_lookup: $l, du_otel_traces_bytes: $du,
      bytes_per_span: ($t.bytes / $spans), bytes_per_span_with_lookup: (($t.bytes + $l.bytes) / $spans)}'
  log "ClickHouse: $(jq -r '"\(.bytes_per_span | . * 100 | round / 100) bytes/span (\(.otel_traces.parts) parts), \(.bytes_per_span_with_lookup | . * 100 | round / 100) with the trace-id lookup"' "$M/storage-clickhouse.json")"
}

# ---- spanhouse ----------------------------------------------------------------

sh_exists() {                         # sh_exists TABLE: 0 if otel.TABLE exists; REASON set on errors
  REASON=
  sql "$SH_URL/" "EXISTS TABLE otel.$1" || return 1
  [[ $(tr -d '[:space:]' <"$WORK/body") == 1 ]]
}

# Empties the trace tables: TRUNCATE, else DROP and the DDL again. The DDL runs
# only for a table that is missing, so a server whose built-in schema exists
# needs no CREATE support.
sh_reset() {
  local t why
  for t in otel_traces otel_traces_trace_id_ts; do
    if ! sh_exists "$t"; then
      [[ -n $REASON ]] && return 1
      continue
    fi
    sql "$SH_URL/" "TRUNCATE TABLE otel.$t" && continue
    why=$REASON
    sql "$SH_URL/" "DROP TABLE otel.$t" || { REASON="TRUNCATE: $why; DROP: $REASON"; return 1; }
  done
  if ! sh_exists otel_traces || ! sh_exists otel_traces_trace_id_ts; then
    run_statements "$SH_URL/" "$ROOT/bench/schema/spanhouse.sql" || return 1
  fi
  sql "$SH_URL/" "SELECT count() FROM otel.otel_traces" || return 1
  [[ $(tr -d '[:space:]' <"$WORK/body") == 0 ]] || { REASON="otel.otel_traces still has rows after TRUNCATE"; return 1; }
}

# sh_alive WHEN: 0 while spanhouse runs; once it has died, sets SH_DOWN to
# how (exit status or signal) and when, for every later cell.
sh_alive() {
  [[ -z $SH_DOWN ]] || return 1
  kill -0 "$SH_PID" 2>/dev/null && return 0
  local st=0
  wait "$SH_PID" 2>/dev/null
  st=$?
  if ((st > 128)); then
    SH_DOWN="server died of signal $(kill -l $((st - 128)) 2>/dev/null || echo $((st - 128))) during $1"
  else
    SH_DOWN="server exited with status $st during $1"
  fi
  log "spanhouse: $SH_DOWN"
  SH_PID=
  return 1
}

sh_not_measured() {                   # sh_not_measured METHOD LABEL REASON
  record "$M/ingest-spanhouse-$1.json" --arg m "$1" --arg l "$2" --arg r "$3" \
    '{system: "spanhouse", method: $m, label: $l, status: "not measured", reason: $r}'
  log "spanhouse $2: not measured: $3"
}

# An export request with no spans: accepted by any working OTLP endpoint.
otlp_probe() {                        # otlp_probe MODE → 0 or REASON
  local code
  case $1 in
  otlp-proto) code=$(curl -sS -o "$WORK/body" -w '%{http_code}' -H 'Content-Type: application/x-protobuf' \
    -H "X-Scope-OrgID: probe" --data-binary '' "http://127.0.0.1:$SH_OTLP_HTTP/v1/traces" 2>"$WORK/curl.err") ;;
  otlp-json) code=$(curl -sS -o "$WORK/body" -w '%{http_code}' -H 'Content-Type: application/json' \
    -H "X-Scope-OrgID: probe" --data-binary '{}' "http://127.0.0.1:$SH_OTLP_HTTP/v1/traces" 2>"$WORK/curl.err") ;;
  otlp-grpc)
    printf '\0\0\0\0\0' >"$WORK/empty.grpc"
    code=$(curl -sS --http2-prior-knowledge -o "$WORK/body" -D "$WORK/hdr" -w '%{http_code}' \
      -H 'Content-Type: application/grpc' -H 'TE: trailers' -H "X-Scope-OrgID: probe" \
      --data-binary "@$WORK/empty.grpc" \
      "http://127.0.0.1:$SH_OTLP_GRPC/opentelemetry.proto.collector.trace.v1.TraceService/Export" 2>"$WORK/curl.err")
    ;;
  esac
  if [[ -z $code || $code == 000 ]]; then
    REASON="$(head -1 "$WORK/curl.err" | cut -c1-200)"
    return 1
  fi
  if [[ $code != 200 ]]; then
    REASON="HTTP $code: $(reason_of "$WORK/body")"
    return 1
  fi
  if [[ $1 == otlp-grpc ]]; then
    local st
    st=$(tr -d '\r' <"$WORK/hdr" | awk -F': *' 'tolower($1) == "grpc-status" { s = $2 } END { print s }')
    [[ $st == 0 ]] || { REASON="grpc-status ${st:-missing}"; return 1; }
  fi
  return 0
}

SH_DATA=                              # set when otel.otel_traces holds exactly the data set
SH_DATA_WHY="no ingest method completed"
SH_LOADED_BY=                         # the ingest method that loaded it
run_spanhouse() {
  local -a methods=(sql_insert_tsv otlp_http_json otlp_grpc otlp_http_protobuf)
  local -A label=([sql_insert_tsv]="SQL INSERT TSV" [otlp_http_json]="OTLP/HTTP JSON"
    [otlp_grpc]="OTLP/gRPC" [otlp_http_protobuf]="OTLP/HTTP protobuf")
  local m
  if [[ -n $SH_DOWN ]]; then
    for m in "${methods[@]}"; do sh_not_measured "$m" "${label[$m]}" "$SH_DOWN"; done
    SH_DATA_WHY=$SH_DOWN
    return 1
  fi
  # The built-in schema, else the DDL; OTLP may still work without SQL DDL.
  local schema_err=''
  if ! sh_exists otel_traces || ! sh_exists otel_traces_trace_id_ts; then
    run_statements "$SH_URL/" "$ROOT/bench/schema/spanhouse.sql" || schema_err=$REASON
  fi
  [[ -n $schema_err ]] && log "spanhouse: no otel.otel_traces: $schema_err"
  local good=
  for m in "${methods[@]}"; do
    local dir mode url
    case $m in
    sql_insert_tsv)
      mode=sql dir=$WORK/data/sh-tsv url="$SH_URL/?query=INSERT%20INTO%20otel.otel_traces%20FORMAT%20TabSeparated"
      # An INSERT with no rows tells whether the table takes rows at all.
      if ! sql "$SH_URL/?query=INSERT%20INTO%20otel.otel_traces%20FORMAT%20TabSeparated" ""; then
        sh_not_measured "$m" "${label[$m]}" "${schema_err:+$schema_err; }INSERT: $REASON"
        continue
      fi
      generate tsv "$dir" "$INSERT_ROWS"
      ;;
    otlp_http_json | otlp_http_protobuf | otlp_grpc)
      case $m in
      otlp_http_json) mode=otlp-json dir=$WORK/data/otlp-json url="http://127.0.0.1:$SH_OTLP_HTTP/v1/traces" ;;
      otlp_http_protobuf) mode=otlp-proto dir=$WORK/data/otlp-proto url="http://127.0.0.1:$SH_OTLP_HTTP/v1/traces" ;;
      otlp_grpc) mode=otlp-grpc dir=$WORK/data/otlp-grpc url="http://127.0.0.1:$SH_OTLP_GRPC/opentelemetry.proto.collector.trace.v1.TraceService/Export" ;;
      esac
      if ! otlp_probe "$mode"; then
        sh_not_measured "$m" "${label[$m]}" "empty export request: $REASON"
        continue
      fi
      case $mode in
      otlp-json) generate otlp-json "$dir" "$OTLP_BATCH" ;;
      otlp-proto) generate otlp-proto-batches "$dir" "$OTLP_BATCH" ;;
      otlp-grpc) generate otlp-grpc-batches "$dir" "$OTLP_BATCH" ;;
      esac
      ;;
    esac
    log "spanhouse: ingest via ${label[$m]}, $INGEST_RUNS runs"
    measure_ingest spanhouse "$m" "${label[$m]}" "$SH_PID" "$SH_URL/" "$dir" "$url" "$mode" sh_reset && good=$m
    sh_alive "${label[$m]} ingest" || { SH_DATA_WHY=$SH_DOWN; return 1; }
  done
  if [[ -z $good ]]; then
    SH_DATA_WHY="no ingest method completed"
    return 1
  fi
  if [[ $LAST_COMPLETE != spanhouse-* ]]; then
    log "spanhouse: reloading the data set via ${label[$good]} (not timed)"
    local -A dirs=([sql_insert_tsv]=sh-tsv [otlp_http_json]=otlp-json [otlp_grpc]=otlp-grpc [otlp_http_protobuf]=otlp-proto)
    local -A modes=([sql_insert_tsv]=sql [otlp_http_json]=otlp-json [otlp_grpc]=otlp-grpc [otlp_http_protobuf]=otlp-proto)
    local -A urls=([sql_insert_tsv]="$SH_URL/?query=INSERT%20INTO%20otel.otel_traces%20FORMAT%20TabSeparated"
      [otlp_http_json]="http://127.0.0.1:$SH_OTLP_HTTP/v1/traces" [otlp_http_protobuf]="http://127.0.0.1:$SH_OTLP_HTTP/v1/traces"
      [otlp_grpc]="http://127.0.0.1:$SH_OTLP_GRPC/opentelemetry.proto.collector.trace.v1.TraceService/Export")
    sh_reset && load "$WORK/data/${dirs[$good]}" "${urls[$good]}" "${modes[$good]}" ||
      { SH_DATA_WHY="reload failed: $REASON"; return 1; }
    settle "$SH_PID"
    SH_LOADED_BY=${label[$good]}
  else
    SH_LOADED_BY=${label[${LAST_COMPLETE#spanhouse-}]}
  fi
  SH_DATA=1
  return 0
}

spanhouse_storage() {
  local out=$M/storage-spanhouse.json
  [[ -z $SH_DATA ]] || sh_alive "storage" || SH_DATA_WHY=$SH_DOWN SH_DATA=
  if [[ -z $SH_DATA ]]; then
    record "$out" --arg r "$SH_DATA_WHY" '{system: "spanhouse", status: "not measured", reason: $r}'
    return
  fi
  local opt_note='' t0 opt_s=null
  t0=$(now)
  if sql "$SH_URL/" "OPTIMIZE TABLE otel.otel_traces FINAL" && sql "$SH_URL/" "OPTIMIZE TABLE otel.otel_traces_trace_id_ts FINAL"; then
    opt_s=$(fsub "$(now)" "$t0")
    settle "$SH_PID"
  else
    opt_note="OPTIMIZE FINAL failed ($REASON): measured as ingested, without a forced merge"
  fi
  local traces lookup
  if traces=$(parts_json "$SH_URL/" otel_traces) && lookup=$(parts_json "$SH_URL/" otel_traces_trace_id_ts); then
    # An empty lookup table is a missing feature, not a small one: no figure.
    record "$out" --argjson t "$traces" --argjson l "$lookup" --argjson spans "$SPANS" --argjson opt "$opt_s" \
      --arg note "$opt_note" --arg by "$SH_LOADED_BY" \
      '{system: "spanhouse", status: "measured", source: "system.parts (active parts, bytes_on_disk)", note: $note,
        loaded_by: $by, optimize_final_s: $opt, otel_traces: $t, trace_id_lookup: $l,
        bytes_per_span: ($t.bytes / $spans),
        bytes_per_span_with_lookup: (if $l.rows > 0 then ($t.bytes + $l.bytes) / $spans else null end),
        with_lookup_reason: (if $l.rows > 0 then null
          else "otel.otel_traces_trace_id_ts is empty after loading via \($by)" end)}'
  else
    # No system.parts yet: du of the part store, which holds every table (the
    # otel_traces share alone is not known), so only the "with lookup" figure.
    local why=$REASON store=$WORK/spanhouse/data/store du_bytes
    [[ -d $store ]] || store=$WORK/spanhouse/data
    du_bytes=$(du -sb "$store" | cut -f1)
    record "$out" --argjson du "$du_bytes" --argjson spans "$SPANS" --arg note "$opt_note" \
      --arg src "du -sb ${store#"$WORK"/} (all tables; system.parts: $why)" --arg by "$SH_LOADED_BY" \
      '{system: "spanhouse", status: "measured", source: $src, note: $note, loaded_by: $by,
        bytes_per_span: null, bytes_per_span_with_lookup: ($du / $spans), du_bytes: $du}'
  fi
}

# ---- queries ------------------------------------------------------------------

render() {                            # render FILE: the query with the probes filled in
  grep -v '^[[:space:]]*--' "$1" | sed -e "s/@TENANT@/$PROBE_TENANT/g" -e "s/@TRACE_ID@/$PROBE_TRACE_ID/g" \
    -e "s/@SERVICE@/$PROBE_SERVICE/g" -e "s/@HOUR@/$PROBE_HOUR/g" -e "s/@HOUR_END@/$PROBE_HOUR_END/g" \
    -e "s/@DAY@/$PROBE_DAY/g" -e "s/@DAY_END@/$PROBE_DAY_END/g" -e "s/@WEEK@/$PROBE_WEEK/g" \
    -e "s/@WEEK_END@/$PROBE_WEEK_END/g" -e "s/@USER@/$PROBE_USER/g" -e "s/@SLOW_NS@/$PROBE_SLOW_NS/g"
}

# time_query SYSTEM ID URL SQLFILE DATA_OK DATA_WHY → a fragment
time_query() {
  local system=$1 id=$2 url=$3 qf=$4 data_ok=$5 data_why=$6
  local out=$M/query-$id-$system.json
  local res=$WORK/result-$id-$system code t i
  code=$(curl -sS -o "$res" -w '%{http_code}' --data-binary "@$qf" "$url" 2>"$WORK/curl.err")
  if [[ -z $code || $code == 000 ]]; then
    record "$out" --arg r "$(head -1 "$WORK/curl.err" | cut -c1-200)" '{status: "not measured", reason: $r}'
    return
  fi
  if [[ $code != 200 ]] || grep -q 'DB::Exception' "$res"; then
    record "$out" --arg r "HTTP $code: $(reason_of "$res")" '{status: "not measured", reason: $r}'
    return
  fi
  if [[ $data_ok != 1 ]]; then
    record "$out" --arg r "the query runs but the data set is not loaded: $data_why" '{status: "not measured", reason: $r}'
    return
  fi
  for ((i = 0; i < QUERY_WARMUP; i++)); do curl -s -o /dev/null --data-binary "@$qf" "$url"; done
  : >"$WORK/times"
  local stop=$(($(date +%s) + QUERY_SECONDS))
  for ((i = 0; i < QUERY_RUNS; i++)); do
    ((i >= QUERY_MIN_RUNS && $(date +%s) >= stop)) && break
    t=$(curl -s -o /dev/null -w '%{http_code} %{time_total}' --data-binary "@$qf" "$url")
    [[ ${t%% *} == 200 ]] || {
      record "$out" --arg r "run $((i + 1)) answered HTTP ${t%% *}" '{status: "not measured", reason: $r}'
      return
    }
    echo "${t#* }" >>"$WORK/times"
  done
  local med p99
  med=$(median_of <"$WORK/times")
  p99=$(p99_of <"$WORK/times")
  record "$out" --argjson med "$med" --argjson p99 "$p99" --argjson runs "$i" \
    --argjson rows "$(wc -l <"$res")" --arg md5 "$(md5sum "$res" | cut -d' ' -f1)" \
    '{status: "measured", median_ms: ($med * 1000), p99_ms: ($p99 * 1000), runs: $runs, rows: $rows, result_md5: $md5}'
}

run_queries() {
  local f id title ch_ok=0
  jq -e '.status == "measured"' "$M/ingest-clickhouse-http_insert_tsv.json" >/dev/null 2>&1 && ch_ok=1
  for f in "$ROOT"/bench/queries/*.clickhouse.sql; do
    id=$(basename "$f" .clickhouse.sql)
    title=$(sed -n '1s/^-- *//p' "$f")   # the first line of a query file is its title
    render "$f" >"$WORK/q-$id-clickhouse.sql"
    render "$ROOT/bench/queries/$id.spanhouse.sql" >"$WORK/q-$id-spanhouse.sql"
    time_query clickhouse "$id" "$CH_URL/" "$WORK/q-$id-clickhouse.sql" "$ch_ok" "ClickHouse load failed"
    if sh_alive "the queries before $id"; then
      time_query spanhouse "$id" "$SH_URL/" "$WORK/q-$id-spanhouse.sql" "${SH_DATA:-0}" "$SH_DATA_WHY"
      # A crash in this query's runs is this query's result.
      sh_alive "$id" || record "$M/query-$id-spanhouse.json" --arg r "$SH_DOWN" '{status: "not measured", reason: $r}'
    else
      record "$M/query-$id-spanhouse.json" --arg r "$SH_DOWN" '{status: "not measured", reason: $r}'
    fi
    jq -n --arg id "$id" --arg title "$title" --rawfile chsql "$WORK/q-$id-clickhouse.sql" \
      --rawfile shsql "$WORK/q-$id-spanhouse.sql" --slurpfile ch "$M/query-$id-clickhouse.json" \
      --slurpfile sh "$M/query-$id-spanhouse.json" \
      '{id: $id, title: $title, sql: {clickhouse: $chsql, spanhouse: $shsql}, clickhouse: $ch[0], spanhouse: $sh[0]}' \
      >"$M/q-$id.json"
    log "query $id: ClickHouse $(jq -r 'if .status == "measured" then "\(.median_ms | . * 100 | round / 100) ms median, \(.p99_ms | . * 100 | round / 100) ms p99, \(.rows) rows" else "not measured: \(.reason)" end' "$M/query-$id-clickhouse.json"); spanhouse $(jq -r 'if .status == "measured" then "\(.median_ms | . * 100 | round / 100) ms median" else "not measured: \(.reason)" end' "$M/query-$id-spanhouse.json")"
  done
}

# ---- sustained OTLP load (spanhouse loadgen) ------------------------------------

# After the queries (it writes other spans): for OTLP/HTTP and OTLP/gRPC, an
# emptied otel schema takes LOADGEN_SECONDS of `spanhouse loadgen` (batches
# of OTLP_BATCH spans, 15 attributes each, LOADGEN_CONNECTIONS connections,
# one request in flight per connection) on this same machine. Records the
# acknowledged spans/s, request latency, refusals, and the server's CPU and
# peak RSS over the run (write-ahead log in its default fsync mode).
run_loadgen() {
  local proto port out res c0 c1
  for proto in http grpc; do
    out=$M/loadgen-$proto.json res=$WORK/loadgen-$proto.json
    if [[ -n $SH_DOWN ]] || ! sh_reset; then
      record "$out" --arg p "$proto" --arg r "${SH_DOWN:-reset failed: $REASON}" \
        '{protocol: $p, status: "not measured", reason: $r}'
      continue
    fi
    port=$SH_OTLP_HTTP
    [[ $proto == grpc ]] && port=$SH_OTLP_GRPC
    settle "$SH_PID"
    reset_hwm "$SH_PID"
    c0=$(cpu_ticks "$SH_PID")
    log "spanhouse loadgen: OTLP/$proto, $LOADGEN_CONNECTIONS connections, $LOADGEN_SECONDS s"
    if ! "$SPANHOUSE" loadgen --protocol "$proto" --endpoint "127.0.0.1:$port" --connections "$LOADGEN_CONNECTIONS" \
      --batch "$OTLP_BATCH" --duration "$LOADGEN_SECONDS" --tenant loadgen --json --allow-failures \
      >"$res" 2>>"$LOG" || ! jq -e . "$res" >/dev/null 2>&1; then
      record "$out" --arg p "$proto" --arg r "loadgen failed (see bench.log)" '{protocol: $p, status: "not measured", reason: $r}'
      continue
    fi
    c1=$(cpu_ticks "$SH_PID")
    record "$out" --arg p "$proto" --slurpfile r "$res" --argjson cpu "$(fdiv $((c1 - c0)) "$CLK_TCK")" \
      --argjson rss "$(($(hwm_kib "$SH_PID") * 1024))" \
      '{protocol: $p, status: "measured", connections: $r[0].connections, batch: $r[0].batch,
        attributes: $r[0].attributes, seconds: $r[0].elapsed_s, spans_per_s: $r[0].spans_per_s,
        requests_ok: $r[0].requests_ok, requests_refused: $r[0].requests_refused,
        requests_failed: $r[0].requests_failed, latency_ms: $r[0].latency_ms,
        server_cpu_s: $cpu, cpu_s_per_million_spans: (if $r[0].spans_acked > 0 then $cpu * 1e6 / $r[0].spans_acked else null end),
        peak_rss_bytes: $rss}'
    sh_alive "loadgen OTLP/$proto" || true
  done
}

# ---- report -------------------------------------------------------------------

assemble() {
  local date=$1 json=$2
  local ingest storage queries
  ingest=$(cat "$M"/ingest-*.json | jq -s 'sort_by({http_insert_tsv: 0, sql_insert_tsv: 1, otlp_http_protobuf: 2,
    otlp_http_json: 3, otlp_grpc: 4}[.method] // 9)')
  storage=$(jq -n --slurpfile ch "$M/storage-clickhouse.json" --slurpfile sh "$M/storage-spanhouse.json" \
    '{clickhouse: $ch[0], spanhouse: $sh[0]}' 2>/dev/null || echo '{}')
  queries=$(cat "$M"/q-*.json | jq -s .)
  local loadgen
  loadgen=$(cat "$M"/loadgen-*.json 2>/dev/null | jq -s 'sort_by(.protocol != "http")' || echo '[]')
  local gen
  gen=$(awk '{ printf "%s{\"format\": \"%s\", \"seconds\": %s, \"bytes\": %s}", (NR > 1 ? "," : ""), $1, $2, $3 }' "$WORK/generated")
  jq -n --arg date "$date" --arg started "$STARTED" --argjson dur "$(($(date +%s) - START_EPOCH))" \
    --argjson machine "$MACHINE" --arg loadend "$(cut -d' ' -f1-3 /proc/loadavg)" \
    --arg chv "${CH_VERSION:-}" --arg shv "${SH_VERSION:-}" \
    --arg commit "$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null)" \
    --argjson dirty "$([[ -n $(git -C "$ROOT" status --porcelain 2>/dev/null) ]] && echo true || echo false)" \
    --argjson dataset "$(cat "$WORK/dataset.json")" --argjson gen "[$gen]" \
    --argjson ingest "$ingest" --argjson storage "$storage" --argjson queries "$queries" --argjson loadgen "$loadgen" \
    --argjson cfg "$(jq -n --argjson spans "$SPANS" --argjson seed "$SEED" --argjson ir "$INGEST_RUNS" \
      --argjson qr "$QUERY_RUNS" --argjson qmin "$QUERY_MIN_RUNS" --argjson qs "$QUERY_SECONDS" \
      --argjson qw "$QUERY_WARMUP" --argjson c "$CONCURRENCY" --argjson budget "$BUDGET" \
      --argjson rows "$INSERT_ROWS" --argjson ob "$OTLP_BATCH" --argjson st "$SETTLE_MAX" \
      --argjson ls "$LOADGEN_SECONDS" --argjson lc "$LOADGEN_CONNECTIONS" \
      '{spans: $spans, seed: $seed, ingest_runs: $ir, query_runs_max: $qr, query_runs_min: $qmin,
        query_seconds: $qs, query_warmup: $qw, concurrency: $c, budget_s: $budget,
        insert_rows_per_request: $rows, otlp_spans_per_request: $ob, settle_max_s: $st,
        loadgen_seconds: $ls, loadgen_connections: $lc}')" '
    def ratio(a; b): if (a | type) == "number" and (b | type) == "number" and b != 0 then a / b else null end;
    ($ingest | map(select(.system == "clickhouse"))[0]) as $chi |
    {schema_version: 1, date: $date, started_at: $started, duration_s: $dur, config: $cfg,
     machine: ($machine + {loadavg_at_end: $loadend}),
     versions: {clickhouse: $chv, spanhouse: $shv, git_commit: $commit, git_dirty: $dirty},
     dataset: ($dataset + {generated: $gen}),
     ingest: ($ingest | map(. + (if .system == "spanhouse" then
       {ratio_vs_clickhouse: {spans_per_s: ratio(.spans_per_s; $chi.spans_per_s),
                              cpu_s_per_million_spans: ratio(.cpu_s_per_million_spans; $chi.cpu_s_per_million_spans),
                              peak_rss_bytes: ratio(.peak_rss_bytes; $chi.peak_rss_bytes)}} else {} end))),
     loadgen: ($loadgen | map(. + (if .status == "measured" then
       {ratio_vs_clickhouse_tsv: {spans_per_s: ratio(.spans_per_s; $chi.spans_per_s)}} else {} end))),
     storage: ($storage + {ratio: {bytes_per_span: ratio($storage.spanhouse.bytes_per_span; $storage.clickhouse.bytes_per_span),
       bytes_per_span_with_lookup: ratio($storage.spanhouse.bytes_per_span_with_lookup; $storage.clickhouse.bytes_per_span_with_lookup)}}),
     queries: ($queries | map(
       (.spanhouse.status == "measured" and .clickhouse.status == "measured") as $both |
       ($both and .spanhouse.rows == .clickhouse.rows) as $comparable |
       . + {rows_match: (if $both then $comparable else null end),
            same_result: (if $both then .spanhouse.result_md5 == .clickhouse.result_md5 else null end),
            # A latency of a different answer is no comparison: no ratio.
            ratio: {median: (if $comparable then ratio(.spanhouse.median_ms; .clickhouse.median_ms) else null end),
                    p99: (if $comparable then ratio(.spanhouse.p99_ms; .clickhouse.p99_ms) else null end)}}))}' >"$json"
}

# The markdown table, from the JSON only (so it can say nothing the JSON does not).
markdown() {
  jq -r '
    def esc: tostring | gsub("\\|"; "\\|") | gsub("\n"; " ");
    def nm(x): "not measured: " + (x.reason // "" | esc);
    def num(d): if . == null then "—" else (. * pow(10; d) | round / pow(10; d) | tostring) end;
    def int: if . == null then "—" else (round | tostring) as $s | ($s | length) as $n
      | [range(0; $n) as $i | (if $i > 0 and (($n - $i) % 3 == 0) then "," else "" end) + $s[$i:$i + 1]] | join("") end;
    def mib: if . == null then "—" else (. / 1048576 | num(0)) end;
    def rat: if . == null then "—" else num(2) end;
    "### \(.config.spans | int) spans, seed \(.config.seed), \(.date)",
    "",
    "ClickHouse \(.versions.clickhouse) (Debian package) vs spanhouse \(.versions.spanhouse) (commit \(.versions.git_commit)\(if .versions.git_dirty then ", uncommitted changes" else "" end)). Machine: \(.machine.cpus) × \(.machine.cpu_model), \(.machine.memory_bytes / 1073741824 | round) GiB, \(.machine.kernel); load average \(.machine.loadavg_at_start) at start, \(.machine.loadavg_at_end) at end. Ingest: median of the runs shown (up to \(.config.ingest_runs)); queries: median and p99 of the runs shown, after \(.config.query_warmup) warm-ups. Ratio = spanhouse / ClickHouse (for spans/s higher is better, for everything else lower is better).",
    "",
    "#### Ingest",
    "",
    "| system | method | runs | spans/s | CPU s per 1M spans | peak RSS MiB | ratio spans/s | ratio CPU | ratio RSS |",
    "|---|---|---:|---:|---:|---:|---:|---:|---:|",
    (.ingest[] | if .status == "measured" then
      "| \(.system) | \(.label) | \(.runs | length)\(if (.note // "") != "" then " (" + (.note | esc) + ")" else "" end) | \(.spans_per_s | int) | \(.cpu_s_per_million_spans | num(1)) | \(.peak_rss_bytes | mib) | \(.ratio_vs_clickhouse.spans_per_s | rat) | \(.ratio_vs_clickhouse.cpu_s_per_million_spans | rat) | \(.ratio_vs_clickhouse.peak_rss_bytes | rat) |"
      else "| \(.system) | \(.label) | | \(nm(.)) | | | | | |" end),
    "",
    "#### Sustained OTLP load (spanhouse loadgen, same machine)",
    "",
    "\(.config.loadgen_seconds) s per protocol, \(.config.loadgen_connections) connections, \(.config.otlp_spans_per_request) spans per request with 15 attributes each, write-ahead log fsync on; ratio against ClickHouse'"'"'s TSV ingest above.",
    "",
    "| protocol | spans/s | p50 ms | p99 ms | refused / failed requests | server CPU s per 1M spans | peak RSS MiB | ratio spans/s vs ClickHouse |",
    "|---|---:|---:|---:|---:|---:|---:|---:|",
    ((.loadgen // [])[] | if .status == "measured" then
      "| OTLP/\(.protocol) | \(.spans_per_s | int) | \(.latency_ms.p50 | num(1)) | \(.latency_ms.p99 | num(1)) | \(.requests_refused) / \(.requests_failed) | \(.cpu_s_per_million_spans | num(1)) | \(.peak_rss_bytes | mib) | \(.ratio_vs_clickhouse_tsv.spans_per_s | rat) |"
      else "| OTLP/\(.protocol) | \(nm(.)) | | | | | | |" end),
    "",
    "#### Bytes on disk per span, after OPTIMIZE … FINAL",
    "",
    "| | ClickHouse | spanhouse | ratio |",
    "|---|---:|---:|---:|",
    (.storage as $s |
      "| otel_traces | \(if $s.clickhouse.status == "measured" then ($s.clickhouse.bytes_per_span | num(1)) else nm($s.clickhouse) end) | \(if $s.spanhouse.status == "measured" then ($s.spanhouse.bytes_per_span | num(1)) else nm($s.spanhouse) end) | \($s.ratio.bytes_per_span | rat) |",
      "| otel_traces + trace-id lookup | \(if $s.clickhouse.status == "measured" then ($s.clickhouse.bytes_per_span_with_lookup | num(1)) else "—" end) | \(if $s.spanhouse.status != "measured" then "—" elif $s.spanhouse.bytes_per_span_with_lookup == null then "not measured: " + ($s.spanhouse.with_lookup_reason // "" | esc) else ($s.spanhouse.bytes_per_span_with_lookup | num(1)) end) | \($s.ratio.bytes_per_span_with_lookup | rat) |",
      "| data loaded via | \($s.clickhouse.loaded_by // "—" | esc) | \($s.spanhouse.loaded_by // "—" | esc) | |",
      "| measured with | \($s.clickhouse.source // "—" | esc) | \($s.spanhouse.source // "—" | esc) | |"
      + (if ($s.spanhouse.note // "") != "" then "\n\nspanhouse: " + ($s.spanhouse.note | esc) else "" end)),
    "",
    "#### Queries (milliseconds)",
    "",
    "| query | ClickHouse median | ClickHouse p99 | spanhouse median | spanhouse p99 | ratio median | ratio p99 | runs CH / sh | rows CH / sh |",
    "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    (.queries[] |
      "| \(.id): \(.title | esc) | \(if .clickhouse.status == "measured" then (.clickhouse.median_ms | num(2)) else nm(.clickhouse) end) | \(.clickhouse.p99_ms | num(2)) | \(if .spanhouse.status == "measured" then (.spanhouse.median_ms | num(2)) else nm(.spanhouse) end) | \(.spanhouse.p99_ms | num(2)) | \(.ratio.median | rat) | \(.ratio.p99 | rat) | \(.clickhouse.runs // "—") / \(.spanhouse.runs // "—") | \(.clickhouse.rows // "—") / \(.spanhouse.rows // "—")\(if .rows_match == false then " (different answer: no ratio)" elif .same_result == false then " (same rows, different bytes)" else "" end) |"),
    "",
    "Data set: \(.dataset.traces | int) traces over \(.dataset.services) services and \(.dataset.operations) operations, \(.dataset.tenants) tenants, \(.dataset.first_span) to \(.dataset.last_span); \(.dataset.mean_spans_per_trace) spans per trace on average, \(.dataset.error_span_ratio * 100 | num(2)) % error spans, \(.dataset.mean_span_attributes) span attributes on average. Total run time \(.duration_s) s."
  ' "$1"
}

update_docs() {                       # replaces the table between the markers in docs/benchmarks.md
  local md=$1 doc=$ROOT/docs/benchmarks.md
  [[ -f $doc ]] || { log "no $doc to update"; return; }
  grep -q '<!-- bench:latest:begin -->' "$doc" || { log "$doc has no bench:latest markers"; return; }
  awk -v f="$md" '
    /<!-- bench:latest:begin -->/ { print; while ((getline l < f) > 0) print l; skip = 1; next }
    /<!-- bench:latest:end -->/ { skip = 0 }
    !skip' "$doc" >"$doc.tmp" && mv "$doc.tmp" "$doc"
  log "updated docs/benchmarks.md"
}

# ---- main ---------------------------------------------------------------------

STARTED=$(date -u +%Y-%m-%dT%H:%M:%SZ)
log "work directory $WORK; $SPANS spans, seed $SEED"
need_tools
MACHINE=$(machine_json)
make -C "$ROOT" -s build/spangen >>"$LOG" 2>&1 || die "cannot build build/spangen (see $LOG)"

generate tsv-clickhouse "$WORK/data/ch-tsv" "$INSERT_ROWS" --probes "$WORK/probes.env" --stats "$WORK/dataset.json"
# shellcheck disable=SC1091
. "$WORK/probes.env"

start_clickhouse
start_spanhouse || true

run_clickhouse || log "ClickHouse figures are incomplete; see the table"
run_spanhouse || log "spanhouse: $SH_DATA_WHY"
spanhouse_storage
[[ -f $M/storage-clickhouse.json ]] || record "$M/storage-clickhouse.json" \
  '{system: "clickhouse", status: "not measured", reason: "the ClickHouse load failed"}'
log "queries: $QUERY_MIN_RUNS to $QUERY_RUNS timed runs each (more only within $QUERY_SECONDS s) after $QUERY_WARMUP warm-ups"
run_queries
run_loadgen

DATE=$(date -u +%Y-%m-%d)
mkdir -p "$RESULTS"
assemble "$DATE" "$RESULTS/$DATE.json" || die "assembling $RESULTS/$DATE.json failed"
markdown "$RESULTS/$DATE.json" >"$RESULTS/$DATE.md" || die "writing $RESULTS/$DATE.md failed"
log "wrote ${RESULTS#"$ROOT"/}/$DATE.json and .md ($(($(date +%s) - START_EPOCH)) s)"
if [[ $UPDATE_DOCS == 1 || ($UPDATE_DOCS == auto && $SPANS == "$DEFAULT_SPANS") ]]; then
  update_docs "$RESULTS/$DATE.md"
fi
cat "$RESULTS/$DATE.md"
