#!/bin/sh
# make valgrind: every spec file (but the pure-Lua CIF parser specs, which
# reach no C, as in the ASan pass) under valgrind, one valgrind process per
# spec file, H5LUA_VALGRIND_JOBS of them at once (default: one per CPU).
# Serially the run takes hours; spec files are independent (each test makes
# its own temporary directory), so they can share the machine.
# Any valgrind error or definite leak (exit 99), in the spec's process or in a
# child h5lua it starts, fails that file.  Logs: build/valgrind/<spec>.log.
# Ends with the plain line "N passed, N failed".
set -u
cd "$(dirname "$0")/.."
. tests/tally.sh
jobs=${H5LUA_VALGRIND_JOBS:-$(nproc 2>/dev/null || echo 1)}
logs=build/valgrind
rm -rf "$logs"
mkdir -p "$logs"

# The one valgrind command line: the spec's process runs under it, and
# tests/helper.lua puts the h5lua children it starts under it too.  Only
# definite leaks are listed: a child ended on purpose mid-read (the
# watchdog's exit 2) holds "possibly lost" blocks, and listing them would
# bury its one-line message.
H5LUA_VALGRIND="valgrind --quiet --error-exitcode=99 --leak-check=full \
--errors-for-leak-kinds=definite --show-leak-kinds=definite \
--suppressions=$PWD/tests/valgrind.supp"
export H5LUA_VALGRIND

# Biggest spec files first, so that the long ones do not start last.
specs=$(find tests -name '*_spec.lua' ! -name 'cif*' -printf '%s %p\n' | sort -rn | cut -d' ' -f2)
[ $# -gt 0 ] && specs="$*"
count=$(echo "$specs" | wc -w)
echo "valgrind: $count spec files, $jobs at a time; logs in $logs/"

# xargs -P keeps $jobs spec files running; each line of progress names one.
echo "$specs" | tr ' ' '\n' | grep . | xargs -P "$jobs" -I{} sh -c '
  log="$0/$(echo "$1" | sed "s|^tests/||; s|/|_|g; s|\.lua\$||").log"
  start=$(date +%s)
  H5LUA_TEST_TRACE="${log%.log}.running" $H5LUA_VALGRIND build/h5lua tests/run.lua "$1" \
    >"$log" 2>&1 </dev/null
  code=$?
  echo "exit: $code" >>"$log"
  echo "[$(( $(date +%s) - start )) s] $1: $(grep -E "^[0-9]+ passed, [0-9]+ failed\$" "$log" | tail -n 1), exit $code"
' "$logs" {}

passed=0 failed=0 skipped=0 status=0
for log in "$logs"/*.log; do
  if ! add_tally "$log"; then
    echo "$log: no tally (the spec did not finish); it was stopped in:"
    cat "${log%.log}.running" 2>/dev/null
    failed=$((failed + 1)) status=1
    continue
  fi
  if ! grep -q '^exit: 0$' "$log"; then
    status=1
    # valgrind's exit 99 with every test passed: the report is in the log
    [ "$f" -eq 0 ] && { echo "$log: valgrind reported (exit $(tail -n 1 "$log"))"; failed=$((failed + 1)); }
  fi
done
[ "$failed" -eq 0 ] || status=1
print_failures "$logs"/*.log
print_summary
exit $status
