#!/bin/bash
# Runs each unit test binary given as an argument and sums their counts.
set -u
passed=0 failed=0
for bin in "$@"; do
  out=$("$bin" 2>&1)
  rc=$?
  printf '%s\n' "$out" | grep -v '^ok - ' | grep -v ' passed, .* failed$'
  line=$(printf '%s\n' "$out" | grep -E '^[0-9]+ passed, [0-9]+ failed$' | tail -1)
  if [ -z "$line" ]; then
    echo "FAIL - $bin ended without a result line (exit $rc)"
    failed=$((failed + 1))
    continue
  fi
  set -- $line
  passed=$((passed + $1)) failed=$((failed + $3))
  [ "$rc" = 0 ] || [ "$3" != 0 ] || { echo "FAIL - $bin exited $rc"; failed=$((failed + 1)); }
done
echo "unit: $passed passed, $failed failed"
[ "$failed" = 0 ]
