# containerd with the runtime under test.  Each test starts containerd
# (Debian package containerd) with a config, root, state and socket of its
# own in the test's folder, and imports the busybox image from a docker
# archive that podman saves.  Containers run through containerd's runc
# shim (io.containerd.runc.v2), whose BinaryName option (ctr's
# --runc-binary) names a wrapper that logs each call and runs the runtime
# under test.  When the test ends, containerd is stopped.  The CRI plugin
# is disabled, so there is no CNI: containers get new network namespaces
# with loopback only.
#
# NOTE: containerd 1.6 puts its shims' sockets in /run/containerd/s,
# which no option moves; the test removes that folder (and
# /run/containerd/fifo, ctr's default for FIFOs) when it made it.

# shellcheck source=tests/integration/podman_lib.sh
. "$AR_REPO/tests/integration/podman_lib.sh"

# Folders that containerd creates on the host, deepest first.
CONTAINERD_HOST_DIRS=(/run/containerd/s /run/containerd/fifo /run/containerd)

# Removes the folders of CONTAINERD_HOST_DIRS that the test made, when empty.
remove_containerd_host_dirs() {
  local dir
  for dir in "${CONTAINERD_CREATED_DIRS[@]}"; do
    [ -d "$dir" ] || continue
    rmdir "$dir" 2>/dev/null || echo "cleanup: $dir is not empty, left it: $(ls -A "$dir")" >&2
  done
}

# Stops containerd with SIGTERM and waits up to 10 seconds for it.
stop_containerd() {
  local i
  [ -n "${CONTAINERD_PID:-}" ] || return 0
  kill -TERM "$CONTAINERD_PID" 2>/dev/null || return 0
  for ((i = 0; i < 100; i++)); do
    kill -0 "$CONTAINERD_PID" 2>/dev/null || return 0
    sleep 0.1
  done
  echo "cleanup: containerd $CONTAINERD_PID did not stop on SIGTERM" >&2
}

# Starts containerd in AR_TEST_DIR/containerd, imports localhost/busybox
# into the namespace named after the test, and sets CTR, a ctr command
# line for it, CTR_RUN, the options of `ctr run` that select the runtime
# under test, and CTR_EXEC, those of `ctr task exec`.  The runtime's calls are logged into RUNTIME_CALLS.
setup_containerd() {
  require_cmd containerd ctr containerd-shim-runc-v2 podman
  local dir=$AR_TEST_DIR/containerd dir_made i
  mkdir -p "$dir/fifo" "$dir/runc-root"

  CONTAINERD_CREATED_DIRS=()
  for dir_made in "${CONTAINERD_HOST_DIRS[@]}"; do
    [ -e "$dir_made" ] || CONTAINERD_CREATED_DIRS+=("$dir_made")
  done
  add_exit_hook remove_containerd_host_dirs

  RUNTIME_CALLS=$dir/runtime-calls.log
  printf '#!/bin/sh\nprintf "%%s\\n" "$*" >>"%s"\nexec "%s" "$@"\n' "$RUNTIME_CALLS" "$RUNTIME" \
    >"$dir/runtime-wrapper"
  chmod 0755 "$dir/runtime-wrapper"

  cat >"$dir/config.toml" <<EOF
version = 2
root = "$dir/root"
state = "$dir/state"
disabled_plugins = ["io.containerd.grpc.v1.cri", "io.containerd.internal.v1.opt",
  "io.containerd.snapshotter.v1.aufs", "io.containerd.snapshotter.v1.btrfs",
  "io.containerd.snapshotter.v1.devmapper", "io.containerd.snapshotter.v1.zfs",
  "io.containerd.internal.v1.tracing", "io.containerd.tracing.processor.v1.otlp"]

[grpc]
  address = "$dir/containerd.sock"

[ttrpc]
  address = "$dir/containerd.sock.ttrpc"

[debug]
  address = ""
EOF

  spawn containerd --config "$dir/config.toml" >"$dir/containerd.log" 2>&1
  CONTAINERD_PID=$SPAWNED_PID
  add_exit_hook stop_containerd
  CTR=(ctr --address "$dir/containerd.sock" --namespace "$ID")
  for ((i = 0; i < 100; i++)); do
    "${CTR[@]}" version >/dev/null 2>&1 && break
    kill -0 "$CONTAINERD_PID" 2>/dev/null || fail "containerd exited: $(tail -n 20 "$dir/containerd.log")"
    sleep 0.1
  done
  "${CTR[@]}" version >/dev/null 2>&1 || fail "containerd did not answer within 10s: $(tail -n 20 "$dir/containerd.log")"

  # The image: the busybox rootfs imported into podman, saved as a docker
  # archive.
  setup_podman
  "${PODMAN[@]}" save -o "$dir/busybox.tar" localhost/busybox >"$dir/save.log" 2>&1 ||
    fail "podman save failed: $(cat "$dir/save.log")"
  "${CTR[@]}" images import --snapshotter native "$dir/busybox.tar" >"$dir/import.log" 2>&1 ||
    fail "ctr images import failed: $(cat "$dir/import.log")"

  CTR_EXEC=(--fifo-dir "$dir/fifo")
  CTR_RUN=(--snapshotter native --fifo-dir "$dir/fifo" --runtime io.containerd.runc.v2
    --runc-binary "$dir/runtime-wrapper" --runc-root "$dir/runc-root")
}

# Runs `ctr ARGS...` with a timeout of 60 seconds, storing OUT, ERR and RC,
# and logs the call.
ctr_capture() {
  RC=0
  timeout -k 5 60 "${CTR[@]}" "$@" >"$AR_TEST_DIR/.out" 2>"$AR_TEST_DIR/.err" </dev/null || RC=$?
  OUT=$(cat "$AR_TEST_DIR/.out")
  ERR=$(cat "$AR_TEST_DIR/.err")
  {
    echo "+ ctr $* (exit status $RC)"
    [ -z "$OUT" ] || printf 'stdout: %s\n' "$OUT"
    [ -z "$ERR" ] || printf 'stderr: %s\n' "$ERR"
  } >&2
  [ "$RC" != 124 ] || fail "ctr $* timed out after 60s"
  return 0
}

# Fails unless the runtime got a call whose arguments match PATTERN.
assert_containerd_called_runtime() {
  grep -qE -- "$1" "$RUNTIME_CALLS" 2>/dev/null ||
    fail "the shim never called the runtime with /$1/; calls: $(cat "$RUNTIME_CALLS" 2>/dev/null)"
}

test_containerd_run_output_and_exit_status() {
  setup_containerd
  local name=ar-ctr-run
  ctr_capture run --rm "${CTR_RUN[@]}" localhost/busybox:latest "$name" \
    sh -c 'echo "hello from containerd"; echo "to stderr" >&2; exit 3'
  assert_eq "$RC" 3 "exit status of ctr run"
  assert_eq "$OUT" "hello from containerd" "stdout of ctr run"
  assert_eq "$ERR" "to stderr" "stderr of ctr run"
  assert_containerd_called_runtime "create --bundle .* $name\$"
  assert_containerd_called_runtime "start $name\$"
  assert_containerd_called_runtime "delete .*$name\$"
  ctr_capture containers ls -q
  assert_eq "$OUT" "" "containers left after ctr run --rm"
}

test_containerd_run_in_namespaces_and_cgroup() {
  setup_containerd
  ctr_capture run --rm "${CTR_RUN[@]}" localhost/busybox:latest ar-ctr-ns \
    sh -c 'echo "pid $$"; ls /sys/class/net; ip -o -4 addr show lo; cat /proc/self/cgroup'
  expect_success "ctr run"
  assert_contains "$OUT" "pid 1" "pid of the process in its pid namespace"
  assert_contains "$OUT" "inet 127.0.0.1/8" "loopback of the container"
  assert_not_contains "$OUT" eth0 "interfaces of the container"
  assert_match "$OUT" "pids:/$ID/ar-ctr-ns" "pids cgroup of the container (namespace/id)"
}

test_containerd_detached_exec_kill() {
  setup_containerd
  local name=ar-ctr-detached
  ctr_capture run -d "${CTR_RUN[@]}" localhost/busybox:latest "$name" sleep 600
  expect_success "ctr run -d"
  ctr_capture task ls
  assert_match "$OUT" "^$name +[0-9]+ +RUNNING" "ctr task ls"

  ctr_capture task exec "${CTR_EXEC[@]}" --exec-id ar-exec-1 "$name" sh -c 'echo "in exec"; cat /proc/1/comm; exit 4'
  assert_eq "$RC" 4 "exit status of ctr task exec"
  assert_contains "$OUT" "in exec" "output of ctr task exec"
  assert_contains "$OUT" sleep "pid 1 seen by the exec process"
  assert_containerd_called_runtime "exec --process .* $name\$"

  ctr_capture task exec "${CTR_EXEC[@]}" --exec-id ar-exec-2 "$name" /no/such/program
  [ "$RC" != 0 ] || fail "ctr task exec of a missing program succeeded"
  assert_match "$ERR" "no such file or directory|executable file not found" "error of ctr task exec"

  ctr_capture task kill --signal SIGKILL "$name"
  expect_success "ctr task kill"
  local i status=""
  for ((i = 0; i < 100; i++)); do
    status=$("${CTR[@]}" task ls | awk -v n="$name" '$1 == n { print $3 }')
    [ "$status" = STOPPED ] && break
    sleep 0.1
  done
  assert_eq "$status" STOPPED "status after ctr task kill"
  assert_containerd_called_runtime "kill $name (9|KILL|SIGKILL)\$"
  ctr_capture task delete "$name"
  expect_success "ctr task delete"
  ctr_capture containers delete "$name"
  expect_success "ctr containers delete"
  ctr_capture containers ls -q
  assert_eq "$OUT" "" "containers left"
}

# A terminal: the shim gets it from the runtime over --console-socket.
test_containerd_run_tty() {
  require_cmd python3
  setup_containerd
  pty_drive "$AR_TEST_DIR/transcript" "# " $'tty; stty size; echo $((6 * 7)); exit 5\n' -- \
    "${CTR[@]}" run --rm -t "${CTR_RUN[@]}" localhost/busybox:latest ar-ctr-tty sh
  assert_eq "$RC" 5 "exit status of the shell on the terminal"
  assert_match "$(cat "$AR_TEST_DIR/transcript")" "^/dev/pts/[0-9]+$" "tty of the container's shell"
  assert_match "$(cat "$AR_TEST_DIR/transcript")" "^33 101$" "terminal size (the test's pty is 33x101)"
  assert_match "$(cat "$AR_TEST_DIR/transcript")" "^42$" "output of the shell"
  assert_containerd_called_runtime "create --bundle .*--console-socket .* ar-ctr-tty\$"
}
