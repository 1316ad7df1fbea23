#!/bin/bash
# Runs the unit tests (make check-unit) and then the integration tests
# (tests/integration/run.sh, which needs root), and ends with one line
# `N passed, N failed` (and `, N skipped`) that sums both.  Exits 1 when
# any test failed or a suite ended without its result line.
#
# Arguments go to tests/integration/run.sh (patterns that select tests);
# RUNTIME and the other AR_* variables it reads pass through.
set -u

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
passed=0 failed=0 skipped=0

# Adds the counts of a suite's result line, read from a file of its output.
# A suite that printed no result line counts as one failure.
add_counts() {
  local suite=$1 output=$2 status=$3 line
  line=$(grep -E '([a-z]+: )?[0-9]+ passed, [0-9]+ failed' "$output" | tail -n 1)
  if [ -z "$line" ]; then
    echo "FAIL - $suite ended without a result line (exit status $status)"
    failed=$((failed + 1))
    return
  fi
  line=${line#*: }
  local p f s=0
  p=$(sed -E 's/^([0-9]+) passed.*/\1/' <<<"$line")
  f=$(sed -E 's/.* ([0-9]+) failed.*/\1/' <<<"$line")
  if [[ $line == *skipped* ]]; then
    s=$(sed -E 's/.* ([0-9]+) skipped.*/\1/' <<<"$line")
  fi
  passed=$((passed + p)) failed=$((failed + f)) skipped=$((skipped + s))
  if [ "$status" != 0 ] && [ "$f" = 0 ]; then
    echo "FAIL - $suite exited with status $status but reported no failure"
    failed=$((failed + 1))
  fi
}

output=$(mktemp "${TMPDIR:-/tmp}/ar-tests-run.XXXXXX") || exit 1
trap 'rm -f "$output"' EXIT

echo "# unit tests"
make -s -C "$repo" check-unit 2>&1 | tee "$output"
add_counts unit "$output" "${PIPESTATUS[0]}"

echo "# integration tests"
"$repo/tests/integration/run.sh" "$@" 2>&1 | tee "$output"
add_counts integration "$output" "${PIPESTATUS[0]}"

line="$passed passed, $failed failed"
[ "$skipped" = 0 ] || line="$line, $skipped skipped"
echo "$line"
[ "$failed" = 0 ]
