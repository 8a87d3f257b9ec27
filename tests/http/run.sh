#!/usr/bin/env bash
# Runs every tests/http/NN_*.sh against a freshly started server.
# usage: tests/http/run.sh [path/to/spanhouse]   (default build/spanhouse)
# Prints one line per test and `N passed, N failed`; exits 1 on any failure.
set -u
here=$(cd "$(dirname "$0")" && pwd)
bin=$(realpath "${1:-$here/../../build/spanhouse}")
[ -x "$bin" ] || { echo "no binary at $bin (run make)"; exit 1; }
export SPANHOUSE_BIN=$bin
source "$here/lib.sh"
log=$(mktemp)
start_server "$log"
export SPANHOUSE_PORT=$SERVER_PORT SPANHOUSE_URL="http://127.0.0.1:$SERVER_PORT"
pass=0; failed=0
for t in "$here"/[0-9][0-9]_*.sh; do
  name=$(basename "$t")
  out=$(timeout 120 bash "$t" 2>&1); rc=$?
  if [ $rc -eq 0 ]; then pass=$((pass + 1)); echo "ok   $name"
  else failed=$((failed + 1)); echo "FAIL $name (exit $rc)"; echo "$out" | sed 's/^/     /' | tail -20; fi
done
kill -0 "$SERVER_PID" 2>/dev/null || { echo "FAIL the shared server died"; failed=$((failed + 1)); cat "$log"; }
stop_server || { echo "FAIL the shared server exited with status $?"; failed=$((failed + 1)); tail -30 "$log"; }
rm -f "$log"
echo "$pass passed, $failed failed"
[ $failed -eq 0 ]
