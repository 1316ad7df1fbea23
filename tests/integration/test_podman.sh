# podman with the runtime under test, configured by the drop-in that
# agentrun ships (examples/podman/agentrun.conf).  Everything podman keeps
# (images, containers, its database, runtime state, CNI configs) lives in
# the test's folder; the network is "none".
#
# NOTE: podman import also writes its blob cache to
# /var/lib/containers/cache, which has no option to move it.

# Sets up PODMAN, a podman command line with the test's storage and
# settings, and imports the busybox rootfs as localhost/busybox.
setup_podman() {
  require_cmd podman conmon
  local dir=$AR_TEST_DIR/podman
  mkdir -p "$dir/storage" "$dir/run" "$dir/tmp" "$dir/cni"

  # CONTAINERS_CONF replaces every other containers.conf, drop-ins
  # included, so the drop-in alone must be enough.
  # The runtime is registered under its own name, pointing at the binary
  # under test: podman matches runtime_supports_json and
  # runtime_supports_nocgroups against that name, never against a path.
  RUNTIME_NAME=$(basename "$RUNTIME")
  sed "s|^agentrun = \[.*\]|agentrun = [\"$RUNTIME\"]|" \
    "$AR_REPO/examples/podman/agentrun.conf" >"$dir/containers.conf"
  [ "$RUNTIME_NAME" = agentrun ] ||
    printf '%s = ["%s"]\n' "$RUNTIME_NAME" "$RUNTIME" >>"$dir/containers.conf"
  printf '[storage]\ndriver = "vfs"\ngraphroot = "%s"\nrunroot = "%s"\n' \
    "$dir/storage" "$dir/run" >"$dir/storage.conf"
  : >"$dir/registries.conf"
  export CONTAINERS_CONF=$dir/containers.conf
  export CONTAINERS_STORAGE_CONF=$dir/storage.conf
  export CONTAINERS_REGISTRIES_CONF=$dir/registries.conf
  PODMAN=(podman --root "$dir/storage" --runroot "$dir/run" --tmpdir "$dir/tmp"
    --storage-driver vfs --network-config-dir "$dir/cni")

  tar -C "$AR_TEMPLATE/rootfs" -cf "$dir/busybox.tar" . || fail "cannot pack the busybox rootfs"
  "${PODMAN[@]}" import "$dir/busybox.tar" localhost/busybox >"$dir/import.log" 2>&1 ||
    fail "podman import failed: $(cat "$dir/import.log")"
}

# Runs `podman run --rm` with the runtime under test, storing OUT, ERR and
# RC.  The container's cgroups go under a parent named after the test,
# unless the arguments start with --cgroups=disabled.
podman_run() {
  local cgroup_parent=(--cgroup-parent "/$ID")
  [ "$1" != --cgroups=disabled ] || cgroup_parent=()
  RC=0
  timeout -k 5 60 "${PODMAN[@]}" --runtime "$RUNTIME_NAME" run --rm --network none --pull never \
    "${cgroup_parent[@]}" "$@" >"$AR_TEST_DIR/.out" 2>"$AR_TEST_DIR/.err" </dev/null || RC=$?
  OUT=$(cat "$AR_TEST_DIR/.out")
  ERR=$(cat "$AR_TEST_DIR/.err")
  {
    echo "+ podman run $* (exit status $RC)"
    [ -z "$OUT" ] || printf 'stdout: %s\n' "$OUT"
    [ -z "$ERR" ] || printf 'stderr: %s\n' "$ERR"
  } >&2
}

# Fails when podman still lists a container.
assert_no_podman_containers() {
  local left
  left=$("${PODMAN[@]}" ps -a -q) || fail "podman ps failed"
  [ -z "$left" ] || fail "podman containers left after --rm: $left"
}

test_podman_run_echo() {
  setup_podman
  podman_run localhost/busybox echo hello
  expect_success "podman run"
  assert_eq "$OUT" hello "output of podman run"
  assert_no_podman_containers
}

test_podman_run_exit_status() {
  setup_podman
  podman_run localhost/busybox sh -c 'exit 3'
  assert_eq "$RC" 3 "exit status of podman run"
  assert_no_podman_containers
}

test_podman_run_default_ulimits() {
  setup_podman
  podman_run localhost/busybox sh -c 'echo "$(ulimit -n) $(ulimit -Hn)"'
  expect_success "podman run"
  assert_eq "$OUT" "20000 20000" "nofile limits from the drop-in's default_ulimits"
}

test_podman_run_detached_stop() {
  setup_podman
  RC=0
  local cid
  cid=$(timeout 60 "${PODMAN[@]}" --runtime "$RUNTIME_NAME" run -d --network none --pull never \
    --cgroup-parent "/$ID" localhost/busybox sleep 600 2>"$AR_TEST_DIR/.err") ||
    fail "podman run -d failed: $(cat "$AR_TEST_DIR/.err")"
  assert_eq "$("${PODMAN[@]}" inspect -f '{{.State.Status}}' "$cid")" running "podman status"
  # sleep as pid 1 ignores SIGTERM, so podman stop ends with SIGKILL.
  timeout 60 "${PODMAN[@]}" stop -t 1 "$cid" >/dev/null 2>"$AR_TEST_DIR/.err" ||
    fail "podman stop failed: $(cat "$AR_TEST_DIR/.err")"
  assert_eq "$("${PODMAN[@]}" inspect -f '{{.State.Status}}' "$cid")" exited "podman status after stop"
  timeout 60 "${PODMAN[@]}" rm "$cid" >/dev/null 2>"$AR_TEST_DIR/.err" ||
    fail "podman rm failed: $(cat "$AR_TEST_DIR/.err")"
  assert_no_podman_containers
}

test_podman_run_without_cgroups() {
  known_gap runc "runc cannot run containers without cgroups, so podman allows --cgroups=disabled only for runtimes in runtime_supports_nocgroups"
  setup_podman
  podman_run --cgroups=disabled localhost/busybox echo hello
  expect_success "podman run --cgroups=disabled"
  assert_eq "$OUT" hello "output of podman run --cgroups=disabled"
}

test_podman_error_reaches_user() {
  setup_podman
  podman_run localhost/busybox /no/such/program
  [ "$RC" != 0 ] || fail "podman run of a missing program succeeded"
  assert_contains "$ERR" "/no/such/program" "podman's error message"
  assert_no_podman_containers
}
