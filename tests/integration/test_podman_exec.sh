# podman exec with the runtime under test: output and exit statuses,
# the exec options, and an exec process that gets the container's user,
# capabilities, no_new_privs and seccomp filter.  The helpers are in
# podman_lib.sh.

# shellcheck source=tests/integration/podman_lib.sh
. "$AR_REPO/tests/integration/podman_lib.sh"

test_podman_exec_output_and_exit_status() {
  setup_podman
  podman_run_detached localhost/busybox sleep 600
  podman_capture exec "$CID" sh -c 'echo "in exec"; echo "to stderr" >&2; exit 3'
  assert_eq "$RC" 3 "exit status of podman exec"
  assert_eq "$OUT" "in exec" "stdout of podman exec"
  assert_eq "$ERR" "to stderr" "stderr of podman exec"
  assert_runtime_called "^--log-format=json --log .* exec --pid-file .* --process .* --detach $CID\$"
  podman_ok stop -t 0 "$CID"
  podman_ok rm "$CID"
  assert_no_podman_containers
}

test_podman_exec_stdin() {
  setup_podman
  podman_run_detached localhost/busybox sleep 600
  RC=0
  OUT=$(printf 'line one\nline two\n' | timeout 60 "${PODMAN[@]}" exec -i "$CID" wc -l) || RC=$?
  expect_success "podman exec -i"
  assert_eq "$(tr -d ' ' <<<"$OUT")" 2 "lines that the exec process read from stdin"
}

test_podman_exec_missing_command_is_127() {
  setup_podman
  podman_run_detached localhost/busybox sleep 600
  podman_capture exec "$CID" /no/such/program
  assert_eq "$RC" 127 "exit status of podman exec of a missing program"
  assert_contains "$ERR" /no/such/program "podman's error message"
  podman_capture exec "$CID" no-such-program
  assert_eq "$RC" 127 "exit status of podman exec of a program not in PATH"
  assert_eq "$(podman_field '{{.State.Status}}')" running "status after failed execs"
}

test_podman_exec_not_executable_is_126() {
  setup_podman
  podman_run_detached localhost/busybox sleep 600
  podman_capture exec "$CID" /etc/passwd
  assert_eq "$RC" 126 "exit status of podman exec of a file that is not executable"
  assert_contains "$ERR" /etc/passwd "podman's error message"
  podman_capture exec "$CID" /etc
  assert_eq "$RC" 126 "exit status of podman exec of a folder"
}

test_podman_exec_options() {
  setup_podman
  podman_run_detached localhost/busybox sleep 600
  podman_capture exec --user 1000:1000 --env GREETING=hello --workdir /tmp "$CID" \
    sh -c 'echo "$(id -u):$(id -g) $GREETING $(pwd)"'
  expect_success "podman exec --user --env --workdir"
  assert_eq "$OUT" "1000:1000 hello /tmp" "user, environment and directory of the exec process"
}

test_podman_exec_joins_the_container() {
  setup_podman
  podman_run_detached --hostname ar-exec-host localhost/busybox sleep 600
  local pid kind
  pid=$(podman_field '{{.State.Pid}}')
  podman_capture exec "$CID" sh -c 'for kind in pid net ipc uts mnt cgroup; do
      echo "$kind $(readlink /proc/self/ns/$kind)"; done
    echo "pid1 $(cat /proc/1/comm)"; echo "hostname $(hostname)"'
  expect_success "podman exec"
  for kind in pid net ipc uts mnt; do
    assert_contains "$OUT" "$kind $(readlink "/proc/$pid/ns/$kind")" "$kind namespace of the exec process"
  done
  assert_contains "$OUT" "pid1 sleep" "pid 1 seen by the exec process"
  assert_contains "$OUT" "hostname ar-exec-host" "hostname seen by the exec process"
}

test_podman_exec_inherits_security() {
  setup_podman
  cat >"$AR_TEST_DIR/seccomp.json" <<'JSON'
{"defaultAction": "SCMP_ACT_ALLOW",
 "syscalls": [{"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO", "errnoRet": 1}]}
JSON
  podman_run_detached --user 1000:1000 --cap-drop ALL --cap-add CHOWN \
    --security-opt no-new-privileges --security-opt "seccomp=$AR_TEST_DIR/seccomp.json" \
    localhost/busybox sleep 600
  podman_capture exec "$CID" sh -c 'id -u; grep -E "^(CapEff|CapBnd|NoNewPrivs|Seccomp):" /proc/self/status
    mkdir /tmp/dir 2>&1 || true'
  expect_success "podman exec"
  assert_match "$OUT" "^1000" "uid of the exec process"
  assert_eq "$(status_value "$OUT" CapBnd)" 0000000000000001 "bounding set of the exec process (chown)"
  assert_eq "$(status_value "$OUT" NoNewPrivs)" 1 "no_new_privs of the exec process"
  assert_eq "$(status_value "$OUT" Seccomp)" 2 "seccomp mode of the exec process"
  assert_contains "$OUT" "Operation not permitted" "mkdir under the container's filter"
}

test_podman_exec_preserve_fds() {
  setup_podman
  podman_run_detached localhost/busybox sleep 600
  echo "passed on fd 3" >"$AR_TEST_DIR/fd3"
  RC=0
  OUT=$(timeout 60 "${PODMAN[@]}" exec --preserve-fds 1 "$CID" cat /proc/self/fd/3 3<"$AR_TEST_DIR/fd3") || RC=$?
  expect_success "podman exec --preserve-fds 1"
  assert_eq "$OUT" "passed on fd 3" "what the exec process read from fd 3"
  assert_runtime_called "exec .*--preserve-fds 1 .*$CID\$"
}
