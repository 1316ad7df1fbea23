#!/bin/bash
# Runs the integration tests: every function named test_* in
# tests/integration/test_*.sh, in file order, each in its own bash process
# with its own temporary bundle, --root folder and container id.
#
#   tests/integration/run.sh [PATTERN...]
#
# PATTERN keeps only the tests whose name (FILE/FUNCTION without the test_
# prefixes, e.g. lifecycle/kill_running) contains it.  Prints `ok - NAME`,
# `FAIL - NAME` with the reason and the end of the test's log, or
# `skip - NAME: REASON`, then `N passed, N failed` (with `, N skipped` when
# any test was skipped), and exits 1 when any test failed.
#
# Environment:
#   RUNTIME           runtime binary under test (default: ./agentrun of the repository)
#   AR_TEST_TIMEOUT   seconds one test may take (120)
#   AR_KEEP=1         keep the suite's temporary folder and logs
#   AR_LOG_LINES      lines of a failed test's log to print (15)
#
# After every test, passed or not, the runner deletes the containers under
# the test's --root, kills the test's processes, unmounts everything under
# its folder, removes its cgroups and then the folder.  Needs root.
set -u

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)

# --- child mode: run one test function ----------------------------------------

if [ "${1:-}" = --run-one ]; then
  file=$2 func=$3
  # shellcheck source=tests/integration/lib.sh
  . "$here/lib.sh"
  # shellcheck disable=SC1090
  . "$file"
  cd "$AR_TEST_DIR" || exit 1
  # Background processes that the test started end with the test.  Some
  # may have exited already, which is no failure.
  trap 'trap - ERR; [ ! -s "$AR_TEST_DIR/.pids" ] || kill -9 $(cat "$AR_TEST_DIR/.pids") 2>/dev/null || true' EXIT
  set -eE -o pipefail
  trap 'ar_on_err $? "$BASH_COMMAND" "${BASH_SOURCE[0]}" "$LINENO"' ERR
  "$func"
  exit 0
fi

# --- cleanup -----------------------------------------------------------------

# Succeeds when process PID exists and is not a zombie: a killed container
# process is reparented to the host's init, which may reap it late.
is_alive() {
  local stat
  stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
  stat=${stat##*) }
  [ "${stat%% *}" != Z ]
}

# Thaws frozen cgroups and kills every process of a test: the pids it
# recorded, processes in a cgroup named after its id prefix, and processes
# whose command line names its folder (the runtime, conmon).
kill_test_processes() {
  local dir=$1 prefix=$2 pids="" pid freezer round
  for freezer in $(find /sys/fs/cgroup/freezer -mindepth 1 -maxdepth 8 -type d -name "*$prefix*" \
    2>/dev/null); do
    echo THAWED >"$freezer/freezer.state" 2>/dev/null || true
  done
  for freezer in $(find /sys/fs/cgroup -mindepth 1 -maxdepth 8 -name cgroup.freeze -path "*$prefix*" \
    2>/dev/null); do
    echo 0 >"$freezer" 2>/dev/null || true
  done
  for round in 1 2 3 4 5 6 7 8 9 10; do
    pids=""
    [ -s "$dir/.pids" ] && pids=$(cat "$dir/.pids")
    # One grep over every process: a loop of one grep per process takes
    # seconds on a busy host.
    pids="$pids $(grep -lE -- "$prefix([^0-9]|\$)" /proc/[0-9]*/cgroup 2>/dev/null |
      sed 's|^/proc/||; s|/cgroup$||')"
    pids="$pids $(grep -laF -- "$dir/" /proc/[0-9]*/cmdline 2>/dev/null |
      sed 's|^/proc/||; s|/cmdline$||')"
    pids=$(for pid in $pids; do [ "$pid" != $$ ] && is_alive "$pid" && echo "$pid"; done)
    [ -z "$pids" ] && return 0
    # shellcheck disable=SC2086
    kill -9 $pids 2>/dev/null
    sleep 0.1
    : > "$dir/.pids" 2>/dev/null
  done
  for pid in $pids; do
    echo "cleanup: process still alive: $(tr '\0' ' ' 2>/dev/null <"/proc/$pid/cmdline")" \
      "($(cut -d' ' -f1-4 2>/dev/null <"/proc/$pid/stat"))" >&2
  done
}

# Unmounts everything mounted under DIR in this mount namespace, deepest first.
unmount_under() {
  local dir=$1 mounts round
  for round in 1 2 3 4 5; do
    mounts=$(awk -v d="$dir/" 'index($5, d) == 1 { print length($5), $5 }' /proc/self/mountinfo |
      sort -rn | cut -d' ' -f2-)
    [ -z "$mounts" ] && return 0
    while read -r mount; do
      umount -l "$(printf '%b' "$mount")" 2>/dev/null
    done <<<"$mounts"
  done
  echo "cleanup: mounts left under $dir: $mounts" >&2
}

# Removes every cgroup folder whose name contains PREFIX, and the folders
# below it, deepest first.
remove_cgroups() {
  local prefix=$1 top left="" round
  for round in 1 2 3 4 5 6 7 8 9 10; do
    left=""
    for top in $(find /sys/fs/cgroup -mindepth 1 -maxdepth 8 -type d -name "*$prefix*" -prune \
      2>/dev/null); do
      find "$top" -depth -type d -exec rmdir {} + 2>/dev/null
      [ -d "$top" ] && left="$left $top"
    done
    [ -z "$left" ] && return 0
    sleep 0.1
  done
  echo "cleanup: cgroups left:$left" >&2
}

cleanup_test() {
  local dir=$1 prefix=$2 state id
  if [ -d "$dir/root" ]; then
    for state in "$dir/root"/*/; do
      [ -d "$state" ] || continue
      id=$(basename "$state")
      timeout -k 2 10 "$RUNTIME" --root "$dir/root" delete --force "$id" >/dev/null 2>&1
    done
  fi
  kill_test_processes "$dir" "$prefix"
  unmount_under "$dir"
  remove_cgroups "$prefix"
  if [ "${AR_KEEP:-}" != 1 ]; then
    rm -rf --one-file-system "$dir"
  fi
}

# --- the suite ---------------------------------------------------------------

passed=0 failed=0 skipped=0

summary() {
  local line="$passed passed, $failed failed"
  [ "$skipped" = 0 ] || line="$line, $skipped skipped"
  echo "$line"
}

# Reports a failure that stops the suite before any test runs.
abort_suite() {
  echo "FAIL - setup: $*"
  failed=$((failed + 1))
  summary
  exit 1
}

if [ "$(id -u)" != 0 ]; then
  echo "skip - integration: the tests create containers, mounts and cgroups, so they need root"
  skipped=1
  summary
  exit 0
fi

RUNTIME=${RUNTIME:-$repo/agentrun}
if [[ $RUNTIME != */* ]]; then
  RUNTIME=$(command -v "$RUNTIME") || abort_suite "runtime ${RUNTIME} not found in PATH"
fi
RUNTIME=$(realpath -m "$RUNTIME")
[ -x "$RUNTIME" ] || abort_suite "runtime $RUNTIME is missing: run make, or set RUNTIME"
command -v jq >/dev/null || abort_suite "jq is not installed (Debian package jq)"
export RUNTIME

suite=$(mktemp -d "${TMPDIR:-/tmp}/ar-tests.XXXXXX") || abort_suite "cannot create a temporary folder"
tag=${suite##*.}
# Container roots mapped to other host uids by a user namespace must reach
# their bundles.
chmod 0755 "$suite"
current_dir="" current_prefix=""
on_signal() {
  [ -n "$current_dir" ] && cleanup_test "$current_dir" "$current_prefix"
  [ "${AR_KEEP:-}" = 1 ] || rm -rf --one-file-system "$suite"
  echo "interrupted"
  summary
  exit 130
}
trap on_signal INT TERM

template=$suite/template
if ! make_log=$("$repo/examples/busybox/make-bundle.sh" "$template" 2>&1); then
  rm -rf "$suite"
  abort_suite "examples/busybox/make-bundle.sh failed: $make_log"
fi

# The tests start from the example agent's config with a root user, the
# usual default capabilities and no seccomp filter, so that each test
# changes only what it checks.
jq '.process.user = {uid: 0, gid: 0}
  | .process.args = ["/bin/true"]
  | .process.env = ["PATH=/usr/sbin:/usr/bin:/sbin:/bin", "HOME=/root"]
  | .process.cwd = "/"
  | .process.capabilities = ({bounding: $caps, effective: $caps, permitted: $caps,
                              inheritable: [], ambient: []})
  | .process.rlimits = [{type: "RLIMIT_NOFILE", hard: 1024, soft: 1024}]
  | .process.noNewPrivileges = false
  | del(.process.oomScoreAdj)
  | .hostname = "ar-test"
  | del(.linux.seccomp)' \
  --argjson caps '["CAP_AUDIT_WRITE", "CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FOWNER",
                   "CAP_KILL", "CAP_NET_BIND_SERVICE", "CAP_SETGID", "CAP_SETUID"]' \
  "$template/config.json" >"$suite/base-config.json" || abort_suite "jq failed on the example config"

mkdir -p "$suite/logs"
echo "# runtime: $RUNTIME ($("$RUNTIME" --version 2>&1 | head -1))"

selected() {
  local name=$1 pattern
  [ ${#patterns[@]} -eq 0 ] && return 0
  for pattern in "${patterns[@]}"; do
    [[ $name == *"$pattern"* ]] && return 0
  done
  return 1
}
patterns=("$@")

n=0
for file in "$here"/test_*.sh; do
  base=$(basename "$file" .sh)
  base=${base#test_}
  for func in $(grep -oE '^test_[A-Za-z0-9_]+ *\(\)' "$file" | sed 's/ *()//'); do
    name=$base/${func#test_}
    selected "$name" || continue
    n=$((n + 1))
    # Fixed-width numbers, so that no test's prefix is a prefix of another's.
    number=$(printf '%03d' "$n")
    dir=$suite/$number
    prefix=ar-tests-$tag-$number
    log=$suite/logs/$number-${name//\//-}.log
    mkdir -p "$dir/root"
    current_dir=$dir current_prefix=$prefix

    rc=0
    AR_REPO=$repo AR_TEST_DIR=$dir AR_ROOT=$dir/root AR_TEMPLATE=$template \
      AR_BASE_CONFIG=$suite/base-config.json ID=$prefix \
      timeout -k 10 "${AR_TEST_TIMEOUT:-120}" bash "$here/run.sh" --run-one "$file" "$func" \
      >"$log" 2>&1 </dev/null || rc=$?

    reason="" gap="" skip_reason=""
    [ -s "$dir/.reason" ] && reason=$(cat "$dir/.reason")
    [ -s "$dir/.skip" ] && skip_reason=$(cat "$dir/.skip")
    [ -s "$dir/.known_gap" ] && gap=$(cat "$dir/.known_gap")
    if [ "$rc" = 124 ] || [ "$rc" = 137 ]; then
      rc=1 reason="timed out after ${AR_TEST_TIMEOUT:-120}s${reason:+ ($reason)}"
    fi
    cleanup_log=$(cleanup_test "$dir" "$prefix" 2>&1)
    current_dir=""
    [ -z "$cleanup_log" ] || echo "$cleanup_log" >>"$log"

    if [ "$rc" = 0 ]; then
      echo "ok - $name"
      passed=$((passed + 1))
    elif [ "$rc" = 77 ] && [ -n "$skip_reason" ]; then
      echo "skip - $name: $skip_reason"
      skipped=$((skipped + 1))
    elif [ -n "$gap" ]; then
      echo "skip - $name: known gap of $gap; failed with: ${reason:-exit status $rc}"
      skipped=$((skipped + 1))
    else
      echo "FAIL - $name: ${reason:-exit status $rc}"
      tail -n "${AR_LOG_LINES:-15}" "$log" | sed 's/^/    | /'
      failed=$((failed + 1))
    fi
    [ -z "$cleanup_log" ] || echo "    cleanup after $name: $cleanup_log"
  done
done

if [ "$n" = 0 ] && [ ${#patterns[@]} -gt 0 ]; then
  echo "FAIL - selection: no test name contains any of: ${patterns[*]}"
  failed=$((failed + 1))
fi

if [ "${AR_KEEP:-}" = 1 ]; then
  echo "# logs and bundles kept in $suite"
else
  rm -rf --one-file-system "$suite"
fi
summary
[ "$failed" = 0 ]
