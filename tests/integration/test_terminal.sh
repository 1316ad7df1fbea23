# process.terminal with --console-socket, as podman run -t uses it: the
# runtime sends the pseudoterminal's master over the socket and the
# process gets the slave as its stdio.

test_terminal_console_socket() {
  require_cmd python3
  make_bundle
  config_edit '.process.terminal = true | .process.consoleSize = {height: 30, width: 100}'
  set_script 'tty; [ -t 0 ] && [ -t 1 ] && echo "stdio is a terminal"; stty size; echo done'
  local socket=$AR_TEST_DIR/console.sock
  spawn python3 -c "$CONSOLE_RECEIVER" "$socket" "$AR_TEST_DIR/listening" "$AR_TEST_DIR/console.out"
  wait_file "$AR_TEST_DIR/listening"

  create_container --console-socket "$socket"
  rt_capture start "$ID"
  expect_success "start"
  wait_status "$ID" stopped
  local i
  for ((i = 0; i < 40; i++)); do
    grep -q 'done' "$AR_TEST_DIR/console.out" 2>/dev/null && break
    sleep 0.05
  done
  local out
  out=$(tr -d '\r' <"$AR_TEST_DIR/console.out")
  assert_match "$out" "^/dev/pts/[0-9]+" "tty of the container process"
  assert_contains "$out" "stdio is a terminal"
  assert_contains "$out" "30 100" "stty size with consoleSize 30x100"
}

test_terminal_without_console_socket_fails() {
  make_bundle
  config_edit '.process.terminal = true'
  rt_capture create --bundle "$BUNDLE" "$ID"
  expect_failure 'console|terminal|tty'
  assert_no_leftovers "$ID"
}
