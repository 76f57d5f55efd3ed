# Sourced by tests/suite.sh and tests/valgrind.sh: reading the logs of test
# runs (tests/run.lua's output, then "exit: CODE") into one tally.

# The log's "N passed, N failed" line, or nothing when the run did not finish.
tally() { grep -E '^[0-9]+ passed, [0-9]+ failed$' "$1" | tail -n 1; }

# add_tally LOG: adds LOG's counts to $passed, $failed and $skipped, leaving
# the log's own failures in $f; fails when LOG has no tally.
add_tally() {
  line=$(tally "$1")
  [ -n "$line" ] || return 1
  p=${line%% passed*}
  f=${line#*passed, }
  f=${f%% failed}
  s=$(grep -E '^[0-9]+ skipped$' "$1" | tail -n 1 | cut -d' ' -f1)
  passed=$((passed + p)) failed=$((failed + f)) skipped=$((skipped + ${s:-0}))
}

# print_failures LOG...: each failure's heading and message again, so that
# the tail of the output (all CI shows) names what failed.
print_failures() {
  for log in "$@"; do
    if grep -qE '^(Failure|Error) -> ' "$log"; then
      echo
      echo "failures in $log:"
      awk '/^(Failure|Error) -> /{n=8} n>0{print; n--}' "$log"
    fi
  done
}

# print_summary: the closing lines; the last is the plain "N passed, N failed"
print_summary() {
  echo
  [ "$skipped" -eq 0 ] || echo "$skipped skipped"
  echo "$passed passed, $failed failed"
}
