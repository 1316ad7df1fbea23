#!/bin/bash
# Runs libFuzzer targets built by the Makefile, each for SECONDS:
#
#   tests/fuzz/run.sh SECONDS BUILD_DIR TARGET...
#
# Each run starts by replaying tests/fuzz/corpus/TARGET/ (the seeds) and
# tests/fuzz/regressions/TARGET/ (inputs that once crashed), then mutates
# them.  New inputs go to BUILD_DIR/corpus/TARGET/, which later runs
# reuse, and a crash, leak or timeout leaves its input in
# BUILD_DIR/artifacts/TARGET/.  Prints one line per target with its run
# count, coverage and corpus size, then `fuzz: N passed, N failed`.
set -u

seconds=$1 build=$2
shift 2
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$repo" || exit 1
passed=0 failed=0

for target in "$@"; do
  bin=$build/fuzz_$target
  work=$build/corpus/$target
  artifacts=$build/artifacts/$target/
  log=$build/logs/$target.log
  mkdir -p "$work" "$artifacts" "$(dirname "$log")"
  dirs=("$work")
  for dir in tests/fuzz/corpus/$target tests/fuzz/regressions/$target; do
    [ -d "$dir" ] && dirs+=("$dir")
  done

  # -timeout: one input taking over 10 s is a hang.  The outer timeout
  # covers a fuzzer that stops answering altogether.
  rc=0
  timeout -k 10 $((seconds + 120)) "$bin" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
    -print_final_stats=1 -artifact_prefix="$artifacts" "${dirs[@]}" >"$log" 2>&1 || rc=$?

  stats=$(grep -E '^#[0-9]+.*(DONE|pulse|NEW|REDUCE|INITED).*cov: ' "$log" | tail -n 1)
  runs=$(sed -nE 's/^stat::number_of_executed_units: *([0-9]+)/\1/p' "$log")
  cov=$(sed -nE 's/.* cov: ([0-9]+).*/\1/p' <<<"$stats")
  corp=$(sed -nE 's/.* corp: ([0-9]+\/[0-9]+[a-zA-Z]*).*/\1/p' <<<"$stats")
  if [ "$rc" = 0 ]; then
    echo "ok - fuzz/$target: ${runs:-?} runs in ${seconds}s, cov ${cov:-?}, corpus ${corp:-?}"
    passed=$((passed + 1))
  else
    echo "FAIL - fuzz/$target: exit status $rc; input in $artifacts, log $log"
    grep -E '^(==[0-9]+==ERROR|SUMMARY|.*runtime error:)' "$log" | head -n 5 | sed 's/^/  /'
    failed=$((failed + 1))
  fi
done

echo "fuzz: $passed passed, $failed failed"
[ "$failed" = 0 ]
