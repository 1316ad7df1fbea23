# Helpers for the podman tests (test_podman*.sh) and the containerd tests,
# which source this file.
#
# podman runs with the runtime under test, configured by the drop-in that
# agentrun ships (examples/podman/agentrun.conf).  What podman keeps
# (images, containers, its database, CNI configs, logs) lives in the
# test's folder.  The runtime keeps its state under its default --root
# (/run/agentrun, /run/runc), because podman passes none, and podman
# deletes it with the container.  Containers run with --network none
# unless a test passes another network, and their cgroups go under a
# parent named after the test, so the runner finds and removes them.
#
# NOTE: podman import also writes its blob cache to
# /var/lib/containers/cache, which has no option to move it.

# Adds COMMAND to what the test runs when it ends, passed or failed, before
# the commands added earlier (so in reverse order, as a stack unwinds).
add_exit_hook() {
  local hook=$1 previous
  eval "set -- $(trap -p EXIT)"
  previous=${3:-:}
  # shellcheck disable=SC2064
  trap "$hook; $previous" EXIT
}

# Sets up PODMAN, a podman command line with the test's storage and
# settings, and imports the busybox rootfs as localhost/busybox.  The
# runtime is called through a wrapper that logs each call, one a line,
# into PODMAN_CALLS.  When the test ends, podman removes the containers
# it left.
setup_podman() {
  require_cmd podman conmon
  local dir=$AR_TEST_DIR/podman
  mkdir -p "$dir/storage" "$dir/run" "$dir/tmp" "$dir/cni"
  PODMAN_CALLS=$dir/runtime-calls.log

  # The runtime is registered under its own name: podman matches
  # runtime_supports_json and runtime_supports_nocgroups against that
  # name, never against the path, so the wrapper may have any path.
  RUNTIME_NAME=$(basename "$RUNTIME")
  printf '#!/bin/sh\nprintf "%%s\\n" "$*" >>"%s"\nexec "%s" "$@"\n' "$PODMAN_CALLS" "$RUNTIME" \
    >"$dir/runtime-wrapper"
  chmod 0755 "$dir/runtime-wrapper"

  # CONTAINERS_CONF replaces every other containers.conf, drop-ins
  # included, so the drop-in alone must be enough.
  sed -e '/^agentrun = \[/d' \
    -e "/^\[engine.runtimes\]/a $RUNTIME_NAME = [\"$dir/runtime-wrapper\"]" \
    "$AR_REPO/examples/podman/agentrun.conf" >"$dir/containers.conf"
  grep -q "^$RUNTIME_NAME = " "$dir/containers.conf" ||
    fail "the drop-in has no [engine.runtimes] table to register $RUNTIME_NAME in"
  printf '[storage]\ndriver = "vfs"\ngraphroot = "%s"\nrunroot = "%s"\n' \
    "$dir/storage" "$dir/run" >"$dir/storage.conf"
  : >"$dir/registries.conf"
  export CONTAINERS_CONF=$dir/containers.conf
  export CONTAINERS_STORAGE_CONF=$dir/storage.conf
  export CONTAINERS_REGISTRIES_CONF=$dir/registries.conf
  PODMAN=(podman --root "$dir/storage" --runroot "$dir/run" --tmpdir "$dir/tmp"
    --storage-driver vfs --network-config-dir "$dir/cni" --runtime "$RUNTIME_NAME")

  tar -C "$AR_TEMPLATE/rootfs" -cf "$dir/busybox.tar" . || fail "cannot pack the busybox rootfs"
  "${PODMAN[@]}" import "$dir/busybox.tar" localhost/busybox >"$dir/import.log" 2>&1 ||
    fail "podman import failed: $(cat "$dir/import.log")"
  add_exit_hook 'podman_remove_all'
}

# Removes every container of the test's podman and logs podman's output.
podman_remove_all() {
  echo "+ podman rm -a -f -t 0 (when the test ends)" >&2
  timeout -k 5 60 "${PODMAN_PREFIX[@]}" "${PODMAN[@]}" rm -a -f -t 0 >&2 ||
    echo "podman rm -a -f -t 0 failed with exit status $?" >&2
}

# Runs `podman ARGS...` with a timeout of 60 seconds, storing stdout in
# OUT, stderr in ERR and the exit status in RC, and logs the call.  Fails
# only on a timeout.
podman_capture() {
  RC=0
  timeout -k 5 60 "${PODMAN_PREFIX[@]}" "${PODMAN[@]}" "$@" \
    >"$AR_TEST_DIR/.out" 2>"$AR_TEST_DIR/.err" </dev/null || RC=$?
  OUT=$(cat "$AR_TEST_DIR/.out")
  ERR=$(cat "$AR_TEST_DIR/.err")
  {
    echo "+ podman $* (exit status $RC)"
    [ -z "$OUT" ] || printf 'stdout: %s\n' "$OUT"
    [ -z "$ERR" ] || printf 'stderr: %s\n' "$ERR"
  } >&2
  [ "$RC" != 124 ] || fail "podman $* timed out after 60s"
  return 0
}

# Commands put before podman, e.g. nsenter for a network namespace.
PODMAN_PREFIX=()

# Runs `podman run --rm` with --network none and the test's cgroup parent,
# as podman_capture.  With --cgroups=disabled as first argument, no cgroup
# parent is given.
podman_run() {
  local cgroup_parent=(--cgroup-parent "/$ID")
  [ "$1" != --cgroups=disabled ] || cgroup_parent=()
  podman_capture run --rm --network none --pull never "${cgroup_parent[@]}" "$@"
}

# Runs `podman run -d` with --network none and the test's cgroup parent,
# fails unless it succeeds, and sets CID to the new container's id.
podman_run_detached() {
  podman_capture run -d --network none --pull never --cgroup-parent "/$ID" "$@"
  expect_success "podman run -d"
  CID=$OUT
}

# Runs `podman ARGS...` and fails unless it succeeds.
podman_ok() {
  podman_capture "$@"
  expect_success "podman $1"
}

# Prints a field of `podman inspect` of container CID: podman_field FORMAT.
podman_field() {
  "${PODMAN[@]}" inspect -f "$1" "$CID" || fail "podman inspect -f '$1' $CID failed"
}

# Waits up to TIMEOUT seconds (10) until the container's status is STATUS.
podman_wait_status() {
  local status=$1 timeout=${2:-10} now="" i
  for ((i = 0; i < timeout * 10; i++)); do
    now=$("${PODMAN[@]}" inspect -f '{{.State.Status}}' "$CID" 2>/dev/null) || now=""
    [ "$now" = "$status" ] && return 0
    sleep 0.1
  done
  fail "container $CID did not reach status $status within ${timeout}s (status: ${now:-unknown})"
}

# Waits up to TIMEOUT seconds (10) until `podman logs` of the container
# contains TEXT.
podman_wait_log() {
  local text=$1 timeout=${2:-10} i
  for ((i = 0; i < timeout * 10; i++)); do
    "${PODMAN[@]}" logs "$CID" 2>&1 | grep -qF -- "$text" && return 0
    sleep 0.1
  done
  fail "podman logs of $CID did not show '$text' within ${timeout}s: $("${PODMAN[@]}" logs "$CID" 2>&1)"
}

# Fails unless the runtime got a call whose arguments match the extended
# regular expression PATTERN.
assert_runtime_called() {
  grep -qE -- "$1" "$PODMAN_CALLS" ||
    fail "podman never called the runtime with /$1/; calls: $(cat "$PODMAN_CALLS")"
}

# Fails when podman still lists a container.
assert_no_podman_containers() {
  local left
  left=$("${PODMAN[@]}" ps -a -q) || fail "podman ps failed"
  [ -z "$left" ] || fail "podman containers left: $left"
}

# Runs COMMAND on a new pseudo-terminal of 33 rows and 101 columns:
#   pty_drive TRANSCRIPT [EXPECT SEND]... -- COMMAND...
# Each time COMMAND's output so far contains EXPECT, types SEND, pair
# after pair.  Copies what COMMAND writes to TRANSCRIPT (carriage returns
# removed) and sets RC to its exit status.  COMMAND is killed after 40
# seconds.  Needs python3.
pty_drive() {
  local transcript=$1
  shift
  RC=0
  python3 -c "$PTY_DRIVER" "$transcript.raw" "$@" || RC=$?
  tr -d '\r' <"$transcript.raw" >"$transcript"
  while [ "$1" != -- ]; do shift; done
  shift
  echo "+ $* on a terminal (exit status $RC):" >&2
  cat "$transcript" >&2
}

PTY_DRIVER='
import fcntl, os, pty, select, signal, struct, sys, termios, time
transcript, args = sys.argv[1], sys.argv[2:]
split = args.index("--")
steps = [(args[i].encode(), args[i + 1].encode()) for i in range(0, split, 2)]
argv = args[split + 1:]
pid, fd = pty.fork()
if pid == 0:
    os.execvp(argv[0], argv)
fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", 33, 101, 0, 0))
seen, deadline = b"", time.time() + 40
with open(transcript, "wb") as log:
    while True:
        if time.time() > deadline:
            os.kill(pid, signal.SIGKILL)
            break
        ready, _, _ = select.select([fd], [], [], 0.2)
        if not ready:
            continue
        try:
            chunk = os.read(fd, 4096)
        except OSError:
            break
        if not chunk:
            break
        seen += chunk
        log.write(chunk)
        log.flush()
        if steps and steps[0][0] in seen:
            seen = seen[seen.index(steps[0][0]) + len(steps[0][0]):]
            os.write(fd, steps.pop(0)[1])
_, status = os.waitpid(pid, 0)
sys.exit(os.waitstatus_to_exitcode(status))
'
