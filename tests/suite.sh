#!/bin/sh
# make test: the suite with the normal build, then again with the ASan/UBSan
# build (issue 8; without the pure-Lua CIF parser specs, which reach no C),
# each printing its own tally; ends with one combined line
# "N passed, N failed" that CI reads.  Exit status: non-zero if either failed.
set -u
cd "$(dirname "$0")/.."
. tests/tally.sh
mkdir -p build
status=0
# Each pass has a time limit (they take about 4 minutes), so that a hang
# still ends the run with a named failure inside CI's 90 minutes; the test
# running at any moment is in the pass's .running file.
PASS_LIMIT=${H5LUA_PASS_LIMIT:-2100}
run() {  # run LABEL LOG COMMAND...
  label=$1 log=$2
  shift 2
  echo "=== $label"
  { H5LUA_TEST_TRACE="${log%.log}.running" timeout -k 30 "$PASS_LIMIT" "$@"
    code=$?; echo; echo "exit: $code"; } 2>&1 | tee "$log"
}
run "suite (build/h5lua)" build/test-normal.log build/h5lua tests/run.lua "$@"
run "suite under ASan/UBSan (build-asan/h5lua)" build/test-asan.log \
  env ASAN_OPTIONS=detect_leaks=1:allocator_may_return_null=1:exitcode=86 \
  UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1:exitcode=86 \
  LSAN_OPTIONS=suppressions="$PWD/tests/lsan.supp" H5LUA_BIN="$PWD/build-asan/h5lua" \
  build-asan/h5lua tests/run.lua --exclude-pattern="^cif" "$@"

passed=0 failed=0 skipped=0
for log in build/test-normal.log build/test-asan.log; do
  if grep -qE '^exit: (124|137)$' "$log"; then
    echo "$log: the pass did not finish within $PASS_LIMIT s; it was stopped in:"
    cat "${log%.log}.running" 2>/dev/null
  fi
  add_tally "$log" || { failed=$((failed + 1)); status=1; continue; }
  grep -q '^exit: 0$' "$log" || status=1
  # a sanitizer report fails the run even when busted counted the test as passed
  if grep -qE '^(==[0-9]+==ERROR|SUMMARY: (Address|Undefined|Leak)Sanitizer)|runtime error:' "$log"; then
    echo "sanitizer report in $log"; failed=$((failed + 1)); status=1
  fi
done
[ "$failed" -eq 0 ] || status=1
print_failures build/test-normal.log build/test-asan.log
print_summary
exit $status
