# podman run -it and podman exec -it with the runtime under test, driven
# through a pseudo-terminal that the test owns (python3's pty module):
# podman hands the terminal to conmon, which gets the container's
# terminal from the runtime over --console-socket.  The helpers are in
# podman_lib.sh.

# shellcheck source=tests/integration/podman_lib.sh
. "$AR_REPO/tests/integration/podman_lib.sh"

# What the test types at the shell prompt, and what it expects back.
TTY_INPUT=$'tty; stty size; [ -t 0 ] && [ -t 1 ] && echo "stdio is a terminal"; echo $((6 * 7)); exit 5\n'

check_tty_transcript() {
  local transcript=$1
  assert_eq "$RC" 5 "exit status of the shell on the terminal"
  assert_match "$(cat "$transcript")" "^/dev/pts/[0-9]+$" "tty of the container's shell"
  assert_match "$(cat "$transcript")" "^33 101$" "terminal size (the test's pty is 33x101)"
  assert_contains "$(cat "$transcript")" "stdio is a terminal"
  assert_match "$(cat "$transcript")" "^42$" "output of the shell"
}

test_podman_run_interactive_tty() {
  require_cmd python3
  setup_podman
  pty_drive "$AR_TEST_DIR/transcript" "# " "$TTY_INPUT" -- \
    "${PODMAN[@]}" run --rm -it --network none --pull never --cgroup-parent "/$ID" localhost/busybox sh
  check_tty_transcript "$AR_TEST_DIR/transcript"
  assert_runtime_called "create --bundle .* --console-socket "
  assert_no_podman_containers
}

test_podman_exec_interactive_tty() {
  require_cmd python3
  setup_podman
  podman_run_detached localhost/busybox sleep 600
  pty_drive "$AR_TEST_DIR/transcript" "# " "$TTY_INPUT" -- "${PODMAN[@]}" exec -it "$CID" sh
  check_tty_transcript "$AR_TEST_DIR/transcript"
  assert_runtime_called "exec .*--console-socket .* $CID\$"
  assert_eq "$(podman_field '{{.State.Status}}')" running "container status after the exec shell exited"
}

# ^C on the terminal sends SIGINT to the container's foreground process.
test_podman_run_tty_ctrl_c() {
  require_cmd python3
  setup_podman
  pty_drive "$AR_TEST_DIR/transcript" waiting $'\x03' -- \
    "${PODMAN[@]}" run --rm -it --network none --pull never --cgroup-parent "/$ID" localhost/busybox \
    sh -c 'trap "echo caught INT; exit 9" INT; echo waiting; while :; do sleep 1; done'
  assert_eq "$RC" 9 "exit status after ^C"
  assert_contains "$(cat "$AR_TEST_DIR/transcript")" "caught INT" "the shell's trap"
}
