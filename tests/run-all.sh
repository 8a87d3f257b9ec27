#!/usr/bin/env bash
# The whole test suite, as `make test` runs it: for the plain build and the
# ASan+UBSan build in turn, unit tests, fuzz-corpus replays, then a live
# server on free ports for the golden SQL suite and the HTTP shell tests.
# Ends with one line `N passed, N failed` over everything.
set -u
cd "$(dirname "$0")/.."
root=$(pwd)
jobs=$(nproc 2>/dev/null || echo 2)
passed=0
failed=0
failures=()

pass() { passed=$((passed + 1)); }
fail() { failed=$((failed + 1)); failures+=("$1"); echo "FAIL $1"; }

# run_suite NAME BUILD_DIR MAKE_ARGS...
run_suite() {
  local name=$1 build=$2
  shift 2
  echo "== $name build"
  mkdir -p "$build"
  if ! make -s -j"$jobs" "$@" all unit replay >"$build/make.log" 2>&1; then
    tail -40 "$build/make.log"
    fail "$name: build"
    return
  fi

  echo "== $name unit tests"
  local t rc
  for t in $(find "$build/tests/unit" -type f -perm -u+x 2>/dev/null | sort); do
    "$t" >"$t.out" 2>&1
    rc=$?
    case $rc in
      0) pass ;;
      77) echo "skip ${t#$build/} ($(tail -1 "$t.out"))" ;;
      *) tail -20 "$t.out"; fail "$name: ${t#$build/}" ;;
    esac
  done

  echo "== $name fuzz corpus replay"
  local r target
  for r in $(find "$build/tests/fuzz" -name '*_replay' -type f 2>/dev/null | sort); do
    target=$(basename "$r" _replay)
    target=${target#fuzz_}
    if [ -d "tests/fuzz/corpus/$target" ] && "$r" "tests/fuzz/corpus/$target" >"$r.out" 2>&1; then
      pass
    else
      tail -20 "$r.out" 2>/dev/null
      fail "$name: corpus replay $target"
    fi
  done

  echo "== $name live server"
  local port="" data pid log
  data=$(mktemp -d)
  log="$build/server-test.log"
  "$build/spanhouse" server --listen-host 127.0.0.1 --http-port 0 --otlp-http-port 0 --otlp-grpc-port 0 --data-dir "$data" >"$log" 2>&1 &
  pid=$!
  for _ in $(seq 1 200); do
    port=$(sed -n 's/.*ClickHouse HTTP interface on http:\/\/[^:]*:\([0-9]*\).*/\1/p' "$log")
    [ -n "$port" ] && curl -sf "http://127.0.0.1:$port/ping" >/dev/null 2>&1 && break
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  if [ -z "$port" ] || ! curl -sf "http://127.0.0.1:$port/ping" >/dev/null 2>&1; then
    tail -20 "$log"
    fail "$name: server did not start"
    kill "$pid" 2>/dev/null
    return
  fi

  local out summary p f
  out=$(bash tests/run-queries.sh --url "http://127.0.0.1:$port" 2>&1)
  echo "$out" | grep -E '^(FAIL|---|\+\+\+|[-+@ ])' | head -200
  summary=$(echo "$out" | tail -1)
  if [[ $summary =~ ^([0-9]+)\ passed,\ ([0-9]+)\ failed$ ]]; then
    p=${BASH_REMATCH[1]}
    f=${BASH_REMATCH[2]}
    passed=$((passed + p))
    failed=$((failed + f))
    [ "$f" -eq 0 ] || failures+=("$name: $f golden SQL tests")
    echo "golden SQL: $summary"
  else
    echo "$out" | tail -20
    fail "$name: golden SQL runner"
  fi

  local s
  for s in tests/http/[0-9][0-9]_*.sh; do
    [ -e "$s" ] || continue
    if SPANHOUSE_URL="http://127.0.0.1:$port" SPANHOUSE_PORT="$port" SPANHOUSE_BIN="$root/$build/spanhouse" \
       timeout 120 bash "$s" >"$build/$(basename "$s").out" 2>&1; then
      pass
    else
      tail -20 "$build/$(basename "$s").out"
      fail "$name: ${s#tests/}"
    fi
  done

  if ! kill -0 "$pid" 2>/dev/null; then
    tail -20 "$log"
    fail "$name: server died during the tests"
  else
    kill -TERM "$pid"
    wait "$pid"
    rc=$?
    if [ "$rc" -eq 0 ]; then pass; else tail -20 "$log"; fail "$name: server exit status $rc after SIGTERM"; fi
  fi
  rm -rf "$data"
}

# The OTLP end-to-end test drives the real OpenTelemetry JS exporters.
echo "== npm packages for tests/otlp"
if ! command -v npm >/dev/null 2>&1 && [ "$(id -u)" -eq 0 ]; then
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nodejs npm >/dev/null
fi
if [ ! -d tests/otlp/node_modules ] && ! (cd tests/otlp && npm ci --no-audit --no-fund --silent); then
  fail "npm ci in tests/otlp"
fi

echo "== dependency direction"
if bash tools/check-deps.sh; then pass; else fail "dependency direction (tools/check-deps.sh)"; fi

export ASAN_OPTIONS=${ASAN_OPTIONS:-abort_on_error=1:detect_leaks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
run_suite plain build
run_suite sanitizer build/san SAN=address,undefined

if [ ${#failures[@]} -gt 0 ]; then
  echo "failures:"
  printf '  %s\n' "${failures[@]}"
fi
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
