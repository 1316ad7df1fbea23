# Helpers for the integration tests, sourced by run.sh before each test file.
#
# run.sh runs every test function in its own bash process with `set -eE`,
# inside its own temporary folder, and sets:
#   RUNTIME       absolute path of the runtime under test
#   AR_REPO       the repository's top folder
#   AR_TEST_DIR   the test's temporary folder (removed afterwards)
#   AR_ROOT       the runtime's --root for this test, under AR_TEST_DIR
#   AR_TEMPLATE   a bundle made once per suite by examples/busybox/make-bundle.sh
#   AR_BASE_CONFIG  the config.json that make_bundle starts from
#   ID            a container id unique to this test; every cgroup, state
#                 folder or container that the test creates has ID in its name
#
# A test fails on the first failed assertion or failed command, and then
# run.sh removes every container, process, mount and cgroup it left.
# Assertions print what they expected and what they got.  After a runtime
# call, OUT, ERR and RC hold its stdout, stderr and exit status.

# A container with a new network namespace and a network policy would get
# agentrun's veth network in the namespace where the runtime runs, which for
# most tests is the machine's own.  Only tests/integration/test_veth.sh turns
# it on, inside a network namespace of its own.
export AGENTRUN_NETWORK_SUBNET=none

# Reports the test as failed with MESSAGE and ends it.
fail() {
  [ -e "$AR_TEST_DIR/.reason" ] || printf '%s\n' "$*" >"$AR_TEST_DIR/.reason"
  echo "FAIL: $*" >&2
  exit 1
}

# Reports the test as skipped because it cannot run on this machine.
skip() {
  printf '%s\n' "$*" >"$AR_TEST_DIR/.skip"
  echo "SKIP: $*" >&2
  exit 77
}

# Marks a test that fails with a known runtime (for example runc) for a
# reason of that runtime, not of the test.  When the runtime under test has
# that basename and the test fails, run.sh reports it as skipped with
# REASON and the failure.  When it passes, it counts as passed.
known_gap() {
  local runtime_name=$1
  shift
  if [ "$(basename "$RUNTIME")" = "$runtime_name" ]; then
    printf '%s: %s\n' "$runtime_name" "$*" >"$AR_TEST_DIR/.known_gap"
  fi
}

# Skips the test unless every command named is installed.
require_cmd() {
  local cmd
  for cmd in "$@"; do
    command -v "$cmd" >/dev/null || skip "$cmd is not installed"
  done
}

# Called by the ERR trap that run.sh sets: names the command that failed.
ar_on_err() {
  local status=$1 command=$2 file=$3 line=$4
  [ -e "$AR_TEST_DIR/.reason" ] ||
    printf 'command failed with exit status %s: %s (%s:%s)\n' "$status" "$command" \
      "${file##*/}" "$line" >"$AR_TEST_DIR/.reason"
}

# --- runtime calls -----------------------------------------------------------

# Runs the runtime with this test's --root; output goes to the caller.
rt() {
  "$RUNTIME" --root "$AR_ROOT" "$@"
}

# Runs the runtime with this test's --root and a timeout of
# AR_RUN_TIMEOUT seconds (30), storing stdout in OUT, stderr in ERR and the
# exit status in RC, and logs the call on stderr.  Fails only on a
# timeout: check RC with expect_success or expect_failure.
rt_capture() {
  RC=0
  timeout -k 5 "${AR_RUN_TIMEOUT:-30}" "$RUNTIME" --root "$AR_ROOT" "$@" \
    >"$AR_TEST_DIR/.out" 2>"$AR_TEST_DIR/.err" </dev/null || RC=$?
  OUT=$(cat "$AR_TEST_DIR/.out")
  ERR=$(cat "$AR_TEST_DIR/.err")
  {
    echo "+ runtime $* (exit status $RC)"
    [ -z "$OUT" ] || printf 'stdout: %s\n' "$OUT"
    [ -z "$ERR" ] || printf 'stderr: %s\n' "$ERR"
  } >&2
  [ "$RC" != 124 ] || fail "runtime $* timed out after ${AR_RUN_TIMEOUT:-30}s"
  return 0
}

# Fails unless the last runtime call succeeded.
expect_success() {
  [ "$RC" = 0 ] || fail "${1:-runtime call} failed with exit status $RC: ${ERR:-no error output}"
}

# Fails unless the last runtime call failed and its stderr matches the
# extended regular expression PATTERN (case-insensitive), when given.
expect_failure() {
  local pattern=${1:-}
  [ "$RC" != 0 ] || fail "runtime call succeeded but should have failed; stdout: $OUT"
  [ -n "$ERR" ] || fail "runtime call failed with exit status $RC but wrote no error message"
  if [ -n "$pattern" ] && ! grep -qiE -- "$pattern" <<<"$ERR"; then
    fail "error message does not match /$pattern/: $ERR"
  fi
}

# --- bundles -----------------------------------------------------------------

# Creates a bundle at DIR (default AR_TEST_DIR/bundle) with a copy of the
# template rootfs and AR_BASE_CONFIG, and sets BUNDLE to it.  The base
# config runs /bin/true as root with a read-only root, a few capabilities
# and no seccomp filter, in new pid, network, ipc, uts, mount and cgroup
# namespaces.  Tests edit it with config_edit.
make_bundle() {
  BUNDLE=${1:-$AR_TEST_DIR/bundle}
  mkdir -p "$BUNDLE"
  cp -a "$AR_TEMPLATE/rootfs" "$BUNDLE/rootfs"
  cp "$AR_BASE_CONFIG" "$BUNDLE/config.json"
}

# Applies the jq FILTER to BUNDLE/config.json in place.  Further arguments
# go to jq after the filter, e.g. --arg name value.
config_edit() {
  local filter=$1
  shift
  jq "$filter" "$@" <"$BUNDLE/config.json" >"$BUNDLE/config.json.new" ||
    fail "jq filter failed on $BUNDLE/config.json: $filter"
  mv "$BUNDLE/config.json.new" "$BUNDLE/config.json"
}

# Prints the arguments as a JSON array of strings.  (jq --args would parse
# arguments like -c as its own options.)
json_array() {
  local i=0 value named=()
  for value in "$@"; do
    named+=(--arg "a$i" "$value")
    i=$((i + 1))
  done
  jq -nc --argjson n "$#" "${named[@]}" '[range(0; $n) as $i | $ARGS.named["a\($i)"]]'
}

# Sets process.args to the arguments given.
set_args() {
  local args
  args=$(json_array "$@")
  config_edit '.process.args = $a' --argjson a "$args"
}

# Sets process.args to run SCRIPT with the container's /bin/sh; further
# arguments become $1, $2, ... of the script.
set_script() {
  local script=$1
  shift
  set_args /bin/sh -c "$script" sh "$@"
}

# Appends a mount: add_mount DESTINATION TYPE SOURCE [OPTION...].
add_mount() {
  local destination=$1 type=$2 source=$3
  shift 3
  local options
  options=$(json_array "$@")
  config_edit '.mounts += [{destination: $d, type: $t, source: $s, options: $o}]' \
    --arg d "$destination" --arg t "$type" --arg s "$source" --argjson o "$options"
}

# Creates the host folder AR_TEST_DIR/NAME and bind-mounts it read-write at
# /NAME in the container, for files that the container and the test share.
share_dir() {
  local name=$1
  mkdir -p "$AR_TEST_DIR/$name"
  chmod 0777 "$AR_TEST_DIR/$name"
  add_mount "/$name" bind "$AR_TEST_DIR/$name" rbind rw
}

# Runs BUNDLE as container ID with `run` (extra options before the id).
run_container() {
  rt_capture run --bundle "$BUNDLE" "$@" "$ID"
}

# Sets SCRIPT as the container's process, runs it and fails the test
# unless it exits 0.  OUT contains what the script printed.
run_script() {
  set_script "$@"
  run_container
  expect_success "container script"
}

# Creates container ID from BUNDLE (extra options before the id) and fails
# the test unless that succeeded and the state says "created".
create_container() {
  rt_capture create --bundle "$BUNDLE" "$@" "$ID"
  expect_success "create"
  local status
  status=$(state_field "$ID" status)
  [ "$status" = created ] || fail "status after create: expected 'created', got '$status'"
}

# --- state -------------------------------------------------------------------

# Prints the state JSON of container ID_ARG, or fails.
state_of() {
  local id=$1 json
  json=$(rt state "$id") || fail "state $id failed"
  printf '%s\n' "$json"
}

# Prints one field of the state of a container: state_field ID FIELD.
state_field() {
  local json
  json=$(state_of "$1")
  jq -r --arg f "$2" '.[$f] // empty' <<<"$json" || fail "state $1 is not JSON: $json"
}

# Waits up to TIMEOUT seconds (5) until container ID reaches STATUS.
wait_status() {
  local id=$1 status=$2 timeout=${3:-5} now="" i
  for ((i = 0; i < timeout * 20; i++)); do
    now=$(rt state "$id" 2>/dev/null | jq -r '.status // empty') || now=""
    [ "$now" = "$status" ] && return 0
    sleep 0.05
  done
  fail "container $id did not reach status $status within ${timeout}s (status: ${now:-unknown})"
}

# Waits up to TIMEOUT seconds (5) until PATH exists.
wait_file() {
  local path=$1 timeout=${2:-5} i
  for ((i = 0; i < timeout * 20; i++)); do
    [ -e "$path" ] && return 0
    sleep 0.05
  done
  fail "$path did not appear within ${timeout}s"
}

# --- assertions --------------------------------------------------------------

assert_eq() {
  [ "$1" = "$2" ] || fail "${3:-value}: expected '$2', got '$1'"
}

assert_ne() {
  [ "$1" != "$2" ] || fail "${3:-value}: expected anything but '$2'"
}

# assert_contains TEXT NEEDLE [WHAT]: TEXT contains the fixed string NEEDLE.
assert_contains() {
  grep -qF -- "$2" <<<"$1" || fail "${3:-output} does not contain '$2': $1"
}

assert_not_contains() {
  ! grep -qF -- "$2" <<<"$1" || fail "${3:-output} contains '$2' but should not: $1"
}

# assert_match TEXT PATTERN [WHAT]: TEXT matches the extended regex PATTERN.
assert_match() {
  grep -qE -- "$2" <<<"$1" || fail "${3:-output} does not match /$2/: $1"
}

# Prints the value of FIELD in a /proc/PID/status text: status_value TEXT FIELD.
status_value() {
  sed -n "s/^$2:[[:space:]]*//p" <<<"$1" | head -n 1
}

# Prints the pids of host processes in a cgroup whose last path component
# is NAME, or NAME with a suffix after a dot, in any hierarchy.
pids_in_cgroup_named() {
  awk -F: -v n="$1" '{
      c = $3; sub(/.*\//, "", c)
      if (c == n || index(c, n ".") == 1) {
        f = FILENAME; sub(/^\/proc\//, "", f); sub(/\/cgroup$/, "", f); print f; nextfile
      }
    }' /proc/[0-9]*/cgroup 2>/dev/null || true
}

# Prints the cgroup folders named NAME, or NAME with a suffix after a dot.
cgroups_named() {
  # find exits 1 when a folder of someone else's cgroup goes away during
  # the walk; what it printed is still right.
  find /sys/fs/cgroup -mindepth 1 -maxdepth 8 -type d \( -name "$1" -o -name "$1.*" \) 2>/dev/null || true
}

# Fails when anything of container ID is left on the host: its state under
# AR_ROOT, an entry in `list`, a cgroup, a mount of BUNDLE or a process.
assert_no_leftovers() {
  local id=$1 found listing pid stat
  found=$(find "$AR_ROOT" -mindepth 1 -name "*$id*" 2>/dev/null || true)
  [ -z "$found" ] || fail "state of $id left under --root: $found"
  listing=$(rt list --format json 2>/dev/null || true)
  if [ -n "$listing" ] && jq -e --arg id "$id" '(. // []) | map(select(.id == $id)) | length > 0' \
    <<<"$listing" >/dev/null 2>&1; then
    fail "list still shows $id: $listing"
  fi
  found=$(cgroups_named "$id")
  [ -z "$found" ] || fail "cgroups of $id left behind: $found"
  if [ -n "${BUNDLE:-}" ]; then
    found=$(grep -F "$BUNDLE" /proc/self/mountinfo || true)
    [ -z "$found" ] || fail "mounts of $BUNDLE left behind: $found"
  fi
  found=$(pids_in_cgroup_named "$id")
  for pid in $found; do
    stat=$(cat "/proc/$pid/stat" 2>/dev/null) || continue
    stat=${stat##*) }
    # A zombie is gone but for its exit status, which the host's init may
    # collect late.
    [ "${stat%% *}" = Z ] || fail "process $pid of $id left behind: $(tr '\0' ' ' <"/proc/$pid/cmdline")"
  done
}

# Starts COMMAND in the background without the test's ERR trap and
# set -e, records its pid for cleanup and sets SPAWNED_PID to it.
spawn() {
  (
    trap - ERR
    set +e
    exec "$@"
  ) &
  SPAWNED_PID=$!
  echo "$SPAWNED_PID" >>"$AR_TEST_DIR/.pids"
}

# --- console socket --------------------------------------------------------

# A python3 program for the console socket tests: receives one file
# descriptor on the unix socket $1, touches $2 when listening, and copies
# what the descriptor delivers into $3 until EOF.  $1 may be relative, for
# a socket path longer than a unix socket address holds.
# shellcheck disable=SC2034 # used by the test files
CONSOLE_RECEIVER='
import array, os, socket, sys
server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
server.bind(sys.argv[1])
server.listen(1)
open(sys.argv[2], "w").close()
connection, _ = server.accept()
_, ancillary, _, _ = connection.recvmsg(4096, socket.CMSG_SPACE(4))
fds = array.array("i")
for level, kind, data in ancillary:
    if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:
        fds.frombytes(data[:4])
with open(sys.argv[3], "wb") as out:
    while True:
        try:
            chunk = os.read(fds[0], 4096)
        except OSError:
            break
        if not chunk:
            break
        out.write(chunk)
        out.flush()
'

# --- namespaces --------------------------------------------------------------

# Prints the namespace identifier, like net:[4026531840], of KIND for PID
# (default: this shell).
ns_of() {
  readlink "/proc/${2:-self}/ns/$1"
}

# Starts `unshare FLAGS... sleep 600` on the host to hold namespaces that a
# container can join, records its pid for cleanup and prints the pid of the
# sleep process, which is inside the new namespaces.
start_holder() {
  local pid child="" i
  spawn unshare "$@" sleep 600 </dev/null >/dev/null 2>&1
  pid=$SPAWNED_PID
  # With --fork, unshare waits for a child that is in the new pid namespace.
  if [[ " $* " == *" --fork "* || " $* " == *" -f "* ]]; then
    for ((i = 0; i < 100; i++)); do
      child=$(awk '{ print $1 }' "/proc/$pid/task/$pid/children" 2>/dev/null || true)
      [ -n "$child" ] && break
      sleep 0.02
    done
    [ -n "$child" ] || fail "unshare $* started no child"
    echo "$child" >>"$AR_TEST_DIR/.pids"
    pid=$child
  fi
  # Wait until unshare has made the namespaces and executed sleep.
  for ((i = 0; i < 100; i++)); do
    [ "$(readlink "/proc/$pid/exe" 2>/dev/null)" = "$(readlink -f "$(command -v sleep)")" ] && break
    sleep 0.02
  done
  echo "$pid"
}
