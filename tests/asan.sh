#!/bin/bash
# Runs the unit tests and the integration suite against a build with
# AddressSanitizer, LeakSanitizer and UBSan (make check-asan):
#
#   tests/asan.sh BUILD_DIR UNIT_TEST...
#
# BUILD_DIR contains the instrumented agentrun.  Every instrumented process,
# the runtime's forked children included, writes its reports to a file
# BUILD_DIR/reports/asan.PID instead of stderr, so that tests which read
# the runtime's stderr see what they would see without sanitizers, and a
# report from a process whose stderr nobody reads (a detached runtime
# child, a hook under podman) still counts.
# NOTE: a runtime child that reports after it moved into the container's
# root cannot reach the report folder.  It still ends with exit status 66,
# which fails its test.  The run fails when any test
# fails or any report file exists; the report files are printed.
#
# Extra arguments after `--` go to tests/integration/run.sh (patterns).
set -u

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=$(realpath -m "$1")
shift
units=()
while [ $# -gt 0 ] && [ "$1" != -- ]; do
  units+=("$1")
  shift
done
[ "${1:-}" = -- ] && shift

reports=$build/reports
rm -rf "$reports"
mkdir -p "$reports"
# Runtime children that switched to the container's user write here too.
chmod 1777 "$reports"

# detect_leaks: LeakSanitizer checks a process when it calls exit().  The
#   runtime's forked children end in execve or _exit instead, so they are
#   not checked.
# abort_on_error=0 and exitcode=66: a report ends the process with 66,
#   which a test sees as a failed command.
# halt_on_error: UBSan stops at its first report, as ASan does.
export ASAN_OPTIONS="detect_leaks=1:abort_on_error=0:exitcode=66:log_path=$reports/asan:${AR_ASAN_OPTIONS:-}"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1:exitcode=66:log_path=$reports/ubsan"
export LSAN_OPTIONS="suppressions=$repo/tests/lsan.supp"

passed=0 failed=0 skipped=0
output=$(mktemp "${TMPDIR:-/tmp}/ar-asan-run.XXXXXX") || exit 1
trap 'rm -f "$output"' EXIT

# Adds a suite's result line (`N passed, N failed[, N skipped]`).
add_counts() {
  local line p f s=0
  line=$(grep -E '([a-z]+: )?[0-9]+ passed, [0-9]+ failed' "$output" | tail -n 1)
  if [ -z "$line" ]; then
    echo "FAIL - $1 ended without a result line"
    failed=$((failed + 1))
    return
  fi
  line=${line#*: }
  p=$(sed -E 's/^([0-9]+) passed.*/\1/' <<<"$line")
  f=$(sed -E 's/.* ([0-9]+) failed.*/\1/' <<<"$line")
  [[ $line == *skipped* ]] && s=$(sed -E 's/.* ([0-9]+) skipped.*/\1/' <<<"$line")
  passed=$((passed + p)) failed=$((failed + f)) skipped=$((skipped + s))
}

echo "# unit tests (ASan, UBSan)"
"$repo/tests/unit/run.sh" "${units[@]}" 2>&1 | tee "$output"
add_counts unit

echo "# integration tests (ASan, UBSan): $build/agentrun"
RUNTIME=$build/agentrun "$repo/tests/integration/run.sh" "$@" 2>&1 | tee "$output"
add_counts integration

# Each report file is one process's report; it counts as one failure.
n_reports=0
for report in "$reports"/*; do
  [ -e "$report" ] || continue
  n_reports=$((n_reports + 1))
  echo "FAIL - sanitizer report in ${report##*/}:"
  sed 's/^/  /' "$report" | head -n 60
done
failed=$((failed + n_reports))

line="asan: $passed passed, $failed failed"
[ "$skipped" = 0 ] || line="$line, $skipped skipped"
echo "$line"
[ "$failed" = 0 ]
