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
jobs=${H5LUA_VALGRIND_JOBS:-$(nproc 2>/dev/null || echo 1)}
logs=build/valgrind
rm -rf "$logs"
mkdir -p "$logs"

# Biggest spec files first, so that the long ones do not start last.
specs=$(find tests -name '*_spec.lua' ! -name 'cif*' -printf '%s %p\n' | sort -rn | cut -d' ' -f2)
[ $# -gt 0 ] && specs="$*"
count=$(echo "$specs" | wc -w)
echo "valgrind: $count spec files, $jobs at a time; logs in $logs/"

# xargs -P keeps $jobs spec files running; each line of progress names one.
echo "$specs" | tr ' ' '\n' | grep . | xargs -P "$jobs" -I{} sh -c '
  log="$0/$(echo "$1" | sed "s|^tests/||; s|/|_|g; s|\.lua\$||").log"
  start=$(date +%s)
  H5LUA_VALGRIND=1 H5LUA_TEST_TRACE="${log%.log}.running" \
    valgrind --quiet --error-exitcode=99 --leak-check=full \
    --suppressions="$PWD/tests/valgrind.supp" \
    --errors-for-leak-kinds=definite --show-leak-kinds=definite \
    build/h5lua tests/run.lua "$1" >"$log" 2>&1 </dev/null
  code=$?
  echo "exit: $code" >>"$log"
  echo "[$(( $(date +%s) - start )) s] $1: $(grep -E "^[0-9]+ passed, [0-9]+ failed\$" "$log" | tail -n 1), exit $code"
' "$logs" {}

passed=0 failed=0 skipped=0 status=0
for log in "$logs"/*.log; do
  line=$(grep -E '^[0-9]+ passed, [0-9]+ failed$' "$log" | tail -n 1)
  if [ -z "$line" ]; then
    echo "$log: no tally (the spec did not finish)"; failed=$((failed + 1)); status=1; continue
  fi
  p=${line%% passed*}
  f=${line#*passed, }; f=${f%% failed}
  s=$(grep -E '^[0-9]+ skipped$' "$log" | tail -n 1 | cut -d' ' -f1)
  passed=$((passed + p)) failed=$((failed + f)) skipped=$((skipped + ${s:-0}))
  if ! grep -q '^exit: 0$' "$log"; then
    status=1
    # valgrind's exit 99 with every test passed: the report is in the log
    [ "$f" -eq 0 ] && { echo "$log: valgrind reported (exit $(tail -n 1 "$log"))"; failed=$((failed + 1)); }
  fi
done
# the tail of the output names what failed
for log in "$logs"/*.log; do
  if grep -qE '^(Failure|Error) -> ' "$log"; then
    echo
    echo "failures in $log:"
    awk '/^(Failure|Error) -> /{n=8} n>0{print; n--}' "$log"
  fi
done
[ "$failed" -eq 0 ] || status=1
echo
[ "$skipped" -eq 0 ] || echo "$skipped skipped"
echo "$passed passed, $failed failed"
exit $status
