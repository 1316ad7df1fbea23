# exec: a new process in a running container gets what the container's
# own process has (its namespaces, cgroup, capabilities, seccomp filter,
# no_new_privs, rlimits, user and groups) plus what the exec flags or
# --process add.  The tests compare the exec process with the container's
# process from the host, or check /proc/self inside the container.

# Makes a bundle whose process sleeps, applies the jq FILTER (default:
# none) to its config, creates and starts it, sets PID to the container's
# process on the host and waits until that process runs sleep.
start_sleeping_container() {
  make_bundle
  set_args sleep 600
  [ -z "${1:-}" ] || config_edit "$1"
  create_container
  rt_capture start "$ID"
  expect_success "start"
  PID=$(state_field "$ID" pid)
  # start may return before the process has executed sleep.
  local i
  for ((i = 0; i < 50; i++)); do
    [ "$(cat "/proc/$PID/comm")" = sleep ] && break
    sleep 0.05
  done
}

# Runs `exec EXEC_OPTS... ID ARGS...`, storing OUT, ERR and RC.
exec_in() {
  rt_capture exec "${EXEC_OPTS[@]}" "$ID" "$@"
}

# Writes a process.json for --process into AR_TEST_DIR, from the jq
# FILTER applied to the container's own process.
write_process_file() {
  jq "$1" <<<"$(jq '.process' "$BUNDLE/config.json")" >"$AR_TEST_DIR/process.json" ||
    fail "jq filter failed on the process: $1"
}

EXEC_OPTS=()

test_exec_output_and_exit_status() {
  start_sleeping_container
  exec_in sh -c 'echo "hello from exec"; exit 3'
  assert_eq "$RC" 3 "exit status of exec"
  assert_eq "$OUT" "hello from exec" "output of exec"
}

test_exec_joins_every_namespace() {
  start_sleeping_container '.linux.namespaces += [{type: "user"}]
    | .linux.uidMappings = [{containerID: 0, hostID: 100000, size: 65536}]
    | .linux.gidMappings = [{containerID: 0, hostID: 100000, size: 65536}]'
  exec_in sh -c 'for kind in pid net ipc uts mnt cgroup user; do
      echo "$kind $(readlink /proc/self/ns/$kind)"; done
    echo "pid1 $(cat /proc/1/comm)"; echo "hostname $(hostname)"; echo "uid $(id -u)"'
  expect_success "exec"
  local kind
  for kind in pid net ipc uts mnt cgroup user; do
    assert_contains "$OUT" "$kind $(readlink "/proc/$PID/ns/$kind")" "$kind namespace of the exec process"
  done
  assert_contains "$OUT" "pid1 sleep" "pid 1 seen by the exec process"
  assert_contains "$OUT" "hostname ar-test" "hostname seen by the exec process"
  assert_contains "$OUT" "uid 0" "uid in the user namespace"
}

test_exec_sees_the_container_root() {
  start_sleeping_container
  echo "in the rootfs" >"$BUNDLE/rootfs/marker"
  exec_in sh -c 'cat /marker; [ "$(stat -c %i /)" = "$(stat -c %i /proc/1/root/)" ] && echo "same root"'
  expect_success "exec"
  assert_contains "$OUT" "in the rootfs" "a file of the container's rootfs"
  assert_contains "$OUT" "same root" "root directory of the exec process and of pid 1"
}

test_exec_joins_the_cgroup() {
  start_sleeping_container
  exec_in sh -c 'cat /proc/self/cgroup; echo; cat /proc/1/cgroup'
  expect_success "exec"
  assert_eq "${OUT%%$'\n\n'*}" "${OUT#*$'\n\n'}" "cgroups of the exec process and of pid 1, seen inside"
  EXEC_OPTS=(--detach --pid-file "$AR_TEST_DIR/exec.pid")
  exec_in sleep 30
  expect_success "exec --detach"
  local epid
  epid=$(cat "$AR_TEST_DIR/exec.pid")
  local ours theirs
  ours=$(sed 's/^[0-9]*://' "/proc/$epid/cgroup" | sort)
  theirs=$(sed 's/^[0-9]*://' "/proc/$PID/cgroup" | sort)
  assert_eq "$ours" "$theirs" "host view of the cgroups of the exec process"
}

test_exec_capabilities() {
  start_sleeping_container '.process.capabilities = {bounding: ["CAP_CHOWN", "CAP_KILL"],
    effective: ["CAP_CHOWN", "CAP_KILL"], permitted: ["CAP_CHOWN", "CAP_KILL"],
    inheritable: [], ambient: []}'
  exec_in grep ^Cap /proc/self/status
  expect_success "exec"
  local field
  for field in CapInh CapPrm CapEff CapBnd CapAmb; do
    assert_eq "$(status_value "$OUT" "$field")" "$(status_value "$(cat "/proc/$PID/status")" "$field")" \
      "$field of the exec process"
  done
  assert_eq "$(status_value "$OUT" CapEff)" 0000000000000021 "CapEff (chown and kill)"
}

test_exec_cap_flag_adds_a_capability() {
  start_sleeping_container '.process.capabilities = {bounding: ["CAP_CHOWN"],
    effective: ["CAP_CHOWN"], permitted: ["CAP_CHOWN"], inheritable: [], ambient: []}'
  EXEC_OPTS=(--cap CAP_KILL)
  exec_in grep ^CapEff /proc/self/status
  expect_success "exec --cap"
  assert_eq "$(status_value "$OUT" CapEff)" 0000000000000021 "CapEff with --cap CAP_KILL"
}

test_exec_seccomp() {
  start_sleeping_container '.linux.seccomp = {defaultAction: "SCMP_ACT_ALLOW",
    syscalls: [{names: ["mkdir", "mkdirat"], action: "SCMP_ACT_ERRNO", errnoRet: 1}]}'
  exec_in sh -c 'mkdir /tmp/dir 2>&1 || echo "mkdir failed"; grep ^Seccomp: /proc/self/status'
  expect_success "exec"
  assert_contains "$OUT" "Operation not permitted" "mkdir under the container's filter"
  assert_match "$OUT" "Seccomp:[[:space:]]+2" "seccomp mode of the exec process"
}

test_exec_seccomp_unprivileged_user() {
  start_sleeping_container '.process.user = {uid: 1000, gid: 1000}
    | .process.capabilities = {bounding: [], effective: [], permitted: [], inheritable: [], ambient: []}
    | .linux.seccomp = {defaultAction: "SCMP_ACT_ALLOW",
        syscalls: [{names: ["mkdir", "mkdirat"], action: "SCMP_ACT_ERRNO", errnoRet: 13}]}'
  exec_in sh -c 'mkdir /tmp/dir 2>&1 || echo "mkdir failed"; id -u'
  expect_success "exec"
  assert_contains "$OUT" "Permission denied" "mkdir under the container's filter"
  assert_contains "$OUT" 1000 "uid of the exec process"
}

test_exec_no_new_privileges() {
  start_sleeping_container '.process.noNewPrivileges = true'
  exec_in grep ^NoNewPrivs /proc/self/status
  expect_success "exec"
  assert_eq "$(status_value "$OUT" NoNewPrivs)" 1 "no_new_privs of the exec process"
}

test_exec_no_new_privs_flag() {
  start_sleeping_container
  exec_in grep ^NoNewPrivs /proc/self/status
  assert_eq "$(status_value "$OUT" NoNewPrivs)" 0 "no_new_privs without the flag"
  EXEC_OPTS=(--no-new-privs)
  exec_in grep ^NoNewPrivs /proc/self/status
  expect_success "exec --no-new-privs"
  assert_eq "$(status_value "$OUT" NoNewPrivs)" 1 "no_new_privs with --no-new-privs"
}

test_exec_rlimits() {
  start_sleeping_container '.process.rlimits = [{type: "RLIMIT_NOFILE", hard: 900, soft: 800},
    {type: "RLIMIT_NPROC", hard: 500, soft: 400}]'
  exec_in sh -c 'echo "$(ulimit -Sn) $(ulimit -Hn) $(ulimit -Su) $(ulimit -Hu)"'
  expect_success "exec"
  assert_eq "$OUT" "800 900 400 500" "rlimits of the exec process"
}

test_exec_user_and_additional_groups() {
  start_sleeping_container '.process.user = {uid: 1000, gid: 1000, additionalGids: [5, 20]}'
  exec_in sh -c 'echo "$(id -u) $(id -g) $(id -G)"'
  expect_success "exec"
  assert_eq "$OUT" "1000 1000 1000 5 20" "uid, gid and groups of the exec process"
}

test_exec_user_flag() {
  start_sleeping_container
  EXEC_OPTS=(--user 1000:1000 --additional-gids 7)
  exec_in sh -c 'echo "$(id -u) $(id -g) $(id -G)"'
  expect_success "exec --user"
  assert_eq "$OUT" "1000 1000 1000 7" "uid, gid and groups with --user 1000:1000 --additional-gids 7"
}

test_exec_env_and_cwd_flags() {
  start_sleeping_container
  EXEC_OPTS=(--env FOO=bar --env HOME=/tmp --cwd /etc)
  exec_in sh -c 'echo "$FOO $HOME $(pwd) $PATH"'
  expect_success "exec --env --cwd"
  assert_eq "$OUT" "bar /tmp /etc /usr/sbin:/usr/bin:/sbin:/bin" "environment and directory"
}

test_exec_process_file() {
  start_sleeping_container
  write_process_file '.args = ["sh", "-c", "echo \"$A $(pwd) $(id -u) $(id -G)\""]
    | .env = ["PATH=/bin", "A=from-process-file"] | .cwd = "/tmp"
    | .user = {uid: 1000, gid: 1000, additionalGids: [9]}'
  EXEC_OPTS=(--process "$AR_TEST_DIR/process.json")
  exec_in
  expect_success "exec --process"
  assert_eq "$OUT" "from-process-file /tmp 1000 1000 9" "process from the file"
}

test_exec_process_file_rlimits() {
  start_sleeping_container
  write_process_file '.args = ["sh", "-c", "ulimit -n"]
    | .rlimits = [{type: "RLIMIT_NOFILE", hard: 700, soft: 600}]'
  EXEC_OPTS=(--process "$AR_TEST_DIR/process.json")
  exec_in
  expect_success "exec --process"
  assert_eq "$OUT" 600 "nofile from the process file"
}

# podman maps a runtime error that contains "no such file or directory" or
# "executable file not found in" (any case) to exit status 127, and one
# that contains "permission denied" or "operation not permitted" to 126,
# checking for the second kind first.
PODMAN_DENIED_WORDS='[Pp]ermission denied|[Oo]peration not permitted'
PODMAN_NOT_FOUND_WORDS='[Nn]o such file or directory|[Ee]xecutable file not found in'

test_exec_missing_command_error() {
  start_sleeping_container
  exec_in /no/such/program
  expect_failure "$PODMAN_NOT_FOUND_WORDS"
  assert_contains "$ERR" /no/such/program "error of exec"
  ! grep -qE "$PODMAN_DENIED_WORDS" <<<"$ERR" || fail "podman would read this error as permission denied: $ERR"
  exec_in no-such-program
  expect_failure "$PODMAN_NOT_FOUND_WORDS"
  assert_contains "$ERR" no-such-program "error of exec"
}

test_exec_not_executable_error() {
  start_sleeping_container
  exec_in /etc/passwd
  expect_failure "$PODMAN_DENIED_WORDS"
  assert_contains "$ERR" /etc/passwd "error of exec"
  exec_in /etc
  expect_failure "$PODMAN_DENIED_WORDS"
}

# A folder on the way that the user may not search: the error is one of
# permission, not of a missing file.
test_exec_unsearchable_folder_error() {
  start_sleeping_container '.process.user = {uid: 1000, gid: 1000}
    | .process.capabilities = {bounding: [], effective: [], permitted: [], inheritable: [], ambient: []}'
  mkdir -m 0700 "$BUNDLE/rootfs/private"
  cp "$BUNDLE/rootfs/bin/busybox" "$BUNDLE/rootfs/private/true"
  exec_in /private/true
  expect_failure "$PODMAN_DENIED_WORDS"
}

test_exec_detach_pid_file() {
  start_sleeping_container
  EXEC_OPTS=(--detach --pid-file "$AR_TEST_DIR/exec.pid")
  exec_in sleep 30
  expect_success "exec --detach"
  local epid
  epid=$(cat "$AR_TEST_DIR/exec.pid")
  assert_match "$epid" '^[1-9][0-9]*$' "content of the pid file"
  # exec --detach may return before the process has executed sleep.
  local i
  for ((i = 0; i < 50; i++)); do
    [ "$(cat "/proc/$epid/comm")" = sleep ] && break
    sleep 0.05
  done
  assert_eq "$(cat "/proc/$epid/comm")" sleep "process of the pid file"
  assert_eq "$(readlink "/proc/$epid/ns/pid")" "$(readlink "/proc/$PID/ns/pid")" "pid namespace"
  assert_eq "$(state_field "$ID" status)" running "status after exec --detach"
}

test_exec_preserve_fds() {
  start_sleeping_container
  echo "passed on fd 3" >"$AR_TEST_DIR/fd3"
  RC=0
  timeout -k 5 30 "$RUNTIME" --root "$AR_ROOT" exec --preserve-fds 1 "$ID" cat /proc/self/fd/3 \
    3<"$AR_TEST_DIR/fd3" >"$AR_TEST_DIR/.out" 2>"$AR_TEST_DIR/.err" || RC=$?
  OUT=$(cat "$AR_TEST_DIR/.out") ERR=$(cat "$AR_TEST_DIR/.err")
  expect_success "exec --preserve-fds 1"
  assert_eq "$OUT" "passed on fd 3" "what the process read from fd 3"
}

test_exec_stopped_container_fails() {
  make_bundle
  set_args /bin/true
  create_container
  rt_capture start "$ID"
  expect_success "start"
  wait_status "$ID" stopped
  exec_in /bin/true
  expect_failure "stopped|not running"
}

test_exec_unknown_container_fails() {
  exec_in /bin/true
  expect_failure "$ID|not exist|not found"
}

# A terminal sent to a console socket whose path is longer than a UNIX
# socket address can hold (108 bytes), as conmon's sockets under long
# storage paths are.
test_exec_tty_console_socket_long_path() {
  known_gap runc "runc 1.1.5 cannot connect to a console socket path longer than 108 bytes"
  require_cmd python3
  start_sleeping_container
  local dir=$AR_TEST_DIR/a-folder-with-a-long-name-that-makes-the-socket-path-longer-than-a-sockaddr-un-can-hold
  mkdir -p "$dir"
  local socket=$dir/console.sock
  [ "${#socket}" -gt 108 ] || fail "socket path is only ${#socket} bytes"
  ( cd "$dir" && spawn python3 -c "$CONSOLE_RECEIVER" console.sock "$AR_TEST_DIR/listening" \
      "$AR_TEST_DIR/console.out" )
  wait_file "$AR_TEST_DIR/listening"
  EXEC_OPTS=(--tty --detach --console-socket "$socket")
  exec_in sh -c 'tty; [ -t 0 ] && [ -t 1 ] && echo "stdio is a terminal"; echo done'
  expect_success "exec --tty --console-socket"
  local i
  for ((i = 0; i < 60; i++)); do
    grep -q 'done' "$AR_TEST_DIR/console.out" 2>/dev/null && break
    sleep 0.05
  done
  local out
  out=$(tr -d '\r' <"$AR_TEST_DIR/console.out")
  assert_match "$out" "^/dev/pts/[0-9]+" "tty of the exec process"
  assert_contains "$out" "stdio is a terminal"
}
