# process.terminal with --console-socket, as podman run -t uses it: the
# runtime sends the pseudoterminal's master over the socket and the
# process gets the slave as its stdio.

# Receives one file descriptor on the unix socket $1, touches $2 when
# listening, and copies what the descriptor delivers into $3 until EOF.
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
