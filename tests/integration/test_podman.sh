# podman run with the runtime under test: output, exit statuses, and the
# run options that change the container's process, files and mounts.
# The helpers are in podman_lib.sh.

# shellcheck source=tests/integration/podman_lib.sh
. "$AR_REPO/tests/integration/podman_lib.sh"

test_podman_run_echo() {
  setup_podman
  podman_run localhost/busybox echo hello
  expect_success "podman run"
  assert_eq "$OUT" hello "output of podman run"
  assert_runtime_called "^--log-format=json --log .* create --bundle "
  assert_no_podman_containers
}

test_podman_run_exit_status() {
  setup_podman
  podman_run localhost/busybox sh -c 'exit 3'
  assert_eq "$RC" 3 "exit status of podman run"
  assert_no_podman_containers
}

test_podman_run_missing_command_is_127() {
  setup_podman
  podman_run localhost/busybox /no/such/program
  assert_eq "$RC" 127 "exit status of podman run of a missing program"
  assert_contains "$ERR" "/no/such/program" "podman's error message"
  podman_run localhost/busybox no-such-program
  assert_eq "$RC" 127 "exit status of podman run of a program not in PATH"
  assert_no_podman_containers
}

test_podman_run_not_executable_is_126() {
  setup_podman
  podman_run localhost/busybox /etc/passwd
  assert_eq "$RC" 126 "exit status of podman run of a file that is not executable"
  assert_contains "$ERR" "/etc/passwd" "podman's error message"
  podman_run localhost/busybox /etc
  assert_eq "$RC" 126 "exit status of podman run of a folder"
  assert_no_podman_containers
}

test_podman_run_default_ulimits() {
  setup_podman
  podman_run localhost/busybox sh -c 'echo "$(ulimit -n) $(ulimit -Hn)"'
  expect_success "podman run"
  assert_eq "$OUT" "20000 20000" "nofile limits from the drop-in's default_ulimits"
}

test_podman_run_without_cgroups() {
  known_gap runc "runc cannot run containers without cgroups, so podman allows --cgroups=disabled only for runtimes in runtime_supports_nocgroups"
  setup_podman
  podman_run --cgroups=disabled localhost/busybox echo hello
  expect_success "podman run --cgroups=disabled"
  assert_eq "$OUT" hello "output of podman run --cgroups=disabled"
}

test_podman_run_env_and_workdir() {
  setup_podman
  podman_run --env GREETING=hello --env EMPTY= --workdir /tmp localhost/busybox \
    sh -c 'echo "$GREETING [$EMPTY] $(pwd)"'
  expect_success "podman run --env --workdir"
  assert_eq "$OUT" "hello [] /tmp" "environment and working directory"
}

test_podman_run_tmpfs() {
  setup_podman
  podman_run --read-only --tmpfs /scratch:rw,size=1m,mode=1777 localhost/busybox \
    sh -c 'grep " /scratch " /proc/mounts; echo data >/scratch/f && cat /scratch/f'
  expect_success "podman run --tmpfs"
  assert_match "$OUT" "^tmpfs /scratch tmpfs rw,.*size=1024k" "the tmpfs mount"
  assert_contains "$OUT" data "a file written to the tmpfs"
}

test_podman_run_bind_mounts() {
  setup_podman
  mkdir -p "$AR_TEST_DIR/ro" "$AR_TEST_DIR/rw"
  echo "from the host" >"$AR_TEST_DIR/ro/file"
  podman_run -v "$AR_TEST_DIR/ro:/ro:ro" -v "$AR_TEST_DIR/rw:/rw:rw" localhost/busybox sh -c '
    cat /ro/file
    echo changed 2>/dev/null >/ro/file || echo "read-only refused"
    echo "from the container" >/rw/file && echo "read-write written"'
  expect_success "podman run -v"
  assert_contains "$OUT" "from the host" "file of the read-only bind mount"
  assert_contains "$OUT" "read-only refused" "write to the read-only bind mount"
  assert_contains "$OUT" "read-write written" "write to the read-write bind mount"
  assert_eq "$(cat "$AR_TEST_DIR/ro/file")" "from the host" "host file behind the read-only mount"
  assert_eq "$(cat "$AR_TEST_DIR/rw/file")" "from the container" "host file behind the read-write mount"
}

# podman 4.3 runs /usr/libexec/podman/catatonit (init_path) for --init.
require_catatonit() {
  [ -x /usr/libexec/podman/catatonit ] ||
    skip "/usr/libexec/podman/catatonit, podman's init for --init, is not installed (Debian package catatonit)"
}

test_podman_run_init() {
  require_catatonit
  setup_podman
  podman_run --init localhost/busybox sh -c 'cat /proc/1/cmdline | tr "\0" " "; echo; echo "sh is pid $$"'
  expect_success "podman run --init"
  assert_match "$OUT" "^/run/podman-init -- sh -c" "pid 1 of the container"
  assert_not_contains "$OUT" "sh is pid 1" "the command's pid"
}

# catatonit forwards signals to the command and reaps it, so the exit
# status is the command's.
test_podman_run_init_exit_status() {
  require_catatonit
  setup_podman
  podman_run --init localhost/busybox sh -c 'exit 7'
  assert_eq "$RC" 7 "exit status of podman run --init"
}

test_podman_error_reaches_user() {
  setup_podman
  podman_run localhost/busybox /no/such/program
  [ "$RC" != 0 ] || fail "podman run of a missing program succeeded"
  assert_contains "$ERR" "/no/such/program" "podman's error message"
  assert_no_podman_containers
}
