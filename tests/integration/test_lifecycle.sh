# The lifecycle: create and start, the state JSON and its status
# transitions, kill and delete in each state, run and its exit status,
# run --detach, the pid file, list, duplicate ids.

# A process that records which signal ended it in /shared/signal and
# exits 0.  It installs handlers because the init of a pid namespace
# ignores signals it has no handler for.
SIGNAL_SCRIPT='
  for sig in HUP INT USR1 USR2 TERM; do trap "echo $sig >/shared/signal; exit 0" $sig; done
  touch /shared/ready
  while :; do sleep 0.05; done'

# Creates and starts a container that waits until /shared/go exists.
start_waiting_container() {
  make_bundle
  share_dir shared
  set_script 'touch /shared/running; while [ ! -e /shared/go ]; do sleep 0.05; done'
  create_container
  rt_capture start "$ID"
  expect_success "start"
  wait_file "$AR_TEST_DIR/shared/running"
}

# Creates and starts a container that exits 0 at once, and waits until it
# has stopped.
make_stopped_container() {
  make_bundle
  set_args /bin/true
  create_container
  rt_capture start "$ID"
  expect_success "start"
  wait_status "$ID" stopped
}

test_create_start_split_process_waits() {
  make_bundle
  share_dir shared
  set_script 'echo started >/shared/started'
  create_container
  assert_eq "$(state_field "$ID" status)" created "status after create"
  sleep 0.5
  [ ! -e "$AR_TEST_DIR/shared/started" ] || fail "the process ran before start"
  local pid
  pid=$(state_field "$ID" pid)
  [ -d "/proc/$pid" ] || fail "the container's pid $pid does not exist after create"
  rt_capture start "$ID"
  expect_success "start"
  wait_file "$AR_TEST_DIR/shared/started"
  wait_status "$ID" stopped
}

test_pid_file_written_at_create() {
  make_bundle
  create_container --pid-file "$AR_TEST_DIR/container.pid"
  [ -s "$AR_TEST_DIR/container.pid" ] || fail "no pid file after create"
  local pid
  pid=$(tr -d '\n' <"$AR_TEST_DIR/container.pid")
  assert_match "$pid" '^[1-9][0-9]*$' "content of the pid file"
  assert_eq "$pid" "$(state_field "$ID" pid)" "pid file and state pid"
  [ -d "/proc/$pid" ] || fail "the pid $pid of the pid file does not exist"
}

test_state_fields_and_transitions() {
  make_bundle
  config_edit '.annotations = {"org.example.agent": "test"}'
  share_dir shared
  set_script 'while [ ! -e /shared/go ]; do sleep 0.05; done'
  create_container

  local state pid
  state=$(state_of "$ID")
  assert_eq "$(jq -r .id <<<"$state")" "$ID" "state id"
  assert_eq "$(jq -r .status <<<"$state")" created "state status after create"
  assert_eq "$(jq -r .bundle <<<"$state")" "$BUNDLE" "state bundle"
  assert_match "$(jq -r .ociVersion <<<"$state")" '^1\.[0-9]+\.[0-9]+' "state ociVersion"
  assert_match "$(jq -r .pid <<<"$state")" '^[1-9][0-9]*$' "state pid after create"
  assert_eq "$(jq -r '.annotations["org.example.agent"]' <<<"$state")" test "state annotations"
  pid=$(jq -r .pid <<<"$state")

  rt_capture start "$ID"
  expect_success "start"
  state=$(state_of "$ID")
  assert_eq "$(jq -r .status <<<"$state")" running "state status after start"
  assert_eq "$(jq -r .pid <<<"$state")" "$pid" "state pid after start"

  touch "$AR_TEST_DIR/shared/go"
  wait_status "$ID" stopped
  state=$(state_of "$ID")
  assert_eq "$(jq -r .id <<<"$state")" "$ID" "state id after the process exited"

  rt_capture delete "$ID"
  expect_success "delete"
  rt_capture state "$ID"
  expect_failure
}

test_start_twice_fails() {
  start_waiting_container
  rt_capture start "$ID"
  expect_failure
  assert_eq "$(state_field "$ID" status)" running "status after a second start"
}

test_start_stopped_fails() {
  make_stopped_container
  rt_capture start "$ID"
  expect_failure
  assert_eq "$(state_field "$ID" status)" stopped "status after start of a stopped container"
}

# Starts the SIGNAL_SCRIPT container, sends SIGNAL_ARG with kill and checks
# that the process got EXPECTED.
check_kill_signal() {
  local signal_arg=$1 expected=$2
  make_bundle
  share_dir shared
  set_script "$SIGNAL_SCRIPT"
  create_container
  rt_capture start "$ID"
  expect_success "start"
  wait_file "$AR_TEST_DIR/shared/ready"
  if [ -n "$signal_arg" ]; then
    rt_capture kill "$ID" "$signal_arg"
  else
    rt_capture kill "$ID"
  fi
  expect_success "kill $signal_arg"
  wait_status "$ID" stopped
  assert_eq "$(cat "$AR_TEST_DIR/shared/signal" 2>/dev/null)" "$expected" "signal received for kill $signal_arg"
}

test_kill_running_default_is_term() {
  check_kill_signal "" TERM
}

test_kill_running_by_name() {
  check_kill_signal TERM TERM
}

test_kill_running_by_sig_name() {
  check_kill_signal SIGUSR1 USR1
}

test_kill_running_by_number() {
  check_kill_signal 10 USR1
}

test_kill_running_hup_by_number() {
  check_kill_signal 1 HUP
}

test_kill_running_sigkill() {
  start_waiting_container
  rt_capture kill "$ID" KILL
  expect_success "kill KILL"
  wait_status "$ID" stopped
}

test_kill_running_sigkill_by_number() {
  start_waiting_container
  rt_capture kill "$ID" 9
  expect_success "kill 9"
  wait_status "$ID" stopped
}

test_kill_created() {
  make_bundle
  create_container
  local pid
  pid=$(state_field "$ID" pid)
  rt_capture kill "$ID" SIGKILL
  expect_success "kill of a created container"
  wait_status "$ID" stopped
  rt_capture delete "$ID"
  expect_success "delete"
  assert_no_leftovers "$ID"
}

test_kill_stopped_fails() {
  make_stopped_container
  rt_capture kill "$ID" TERM
  expect_failure
}

test_kill_invalid_signal_fails() {
  start_waiting_container
  rt_capture kill "$ID" SIGNOTASIGNAL
  expect_failure 'signal|SIGNOTASIGNAL'
  rt_capture kill "$ID" 4096
  expect_failure 'signal|4096'
  assert_eq "$(state_field "$ID" status)" running "status after kill with an invalid signal"
}

test_kill_all_reaches_every_process() {
  make_bundle
  share_dir shared
  # Without a pid namespace, killing the first process would not end the others.
  config_edit '.linux.namespaces |= map(select(.type != "pid"))'
  set_script 'sleep 60 & echo $! >/shared/child; sleep 60 & touch /shared/ready; wait'
  create_container
  rt_capture start "$ID"
  expect_success "start"
  wait_file "$AR_TEST_DIR/shared/ready"
  rt_capture kill --all "$ID" KILL
  expect_success "kill --all"
  wait_status "$ID" stopped
  # Without a pid namespace, the pid that the container wrote is the host's.
  local child i
  child=$(cat "$AR_TEST_DIR/shared/child")
  for ((i = 0; i < 40; i++)); do
    grep -qs '^State:.*Z' "/proc/$child/status" || [ ! -e "/proc/$child" ] && break
    sleep 0.05
  done
  if [ -e "/proc/$child" ] && ! grep -qs '^State:.*Z' "/proc/$child/status"; then
    fail "background process $child survived kill --all"
  fi
  local pid
  for pid in $(pids_in_cgroup_named "$ID"); do
    grep -q '^State:.*Z' "/proc/$pid/status" 2>/dev/null || fail "process $pid survived kill --all"
  done
}

test_delete_stopped() {
  make_stopped_container
  rt_capture delete "$ID"
  expect_success "delete"
  assert_no_leftovers "$ID"
}

test_delete_running_without_force_fails() {
  start_waiting_container
  local pid
  pid=$(state_field "$ID" pid)
  rt_capture delete "$ID"
  expect_failure 'running|stopped|force'
  assert_eq "$(state_field "$ID" status)" running "status after a refused delete"
  [ -d "/proc/$pid" ] || fail "a refused delete killed the process"
}

test_delete_running_force() {
  start_waiting_container
  local pid
  pid=$(state_field "$ID" pid)
  rt_capture delete --force "$ID"
  expect_success "delete --force"
  assert_no_leftovers "$ID"
  sleep 0.1
  if [ -d "/proc/$pid" ] && ! grep -q '^State:.*Z' "/proc/$pid/status"; then
    fail "process $pid survived delete --force"
  fi
}

test_delete_created_without_force_fails() {
  known_gap runc "runc 1.1.5 deletes a created container without --force, where the runtime spec requires an error"
  make_bundle
  create_container
  rt_capture delete "$ID"
  expect_failure 'created|stopped|force'
  assert_eq "$(state_field "$ID" status)" created "status after a refused delete"
}

test_delete_created_force() {
  make_bundle
  create_container
  rt_capture delete --force "$ID"
  expect_success "delete --force"
  assert_no_leftovers "$ID"
}

# podman's cleanup calls delete --force for containers that may be gone.
test_delete_force_unknown_succeeds() {
  make_bundle
  rt_capture delete --force "$ID-never-created"
  expect_success "delete --force of an unknown id"
}

test_run_exit_status() {
  make_bundle
  set_script 'exit 42'
  run_container
  assert_eq "$RC" 42 "exit status of run"
  assert_no_leftovers "$ID"
  set_args /bin/true
  run_container
  assert_eq "$RC" 0 "exit status of run"
}

test_run_exit_status_of_signal() {
  make_bundle
  # The init of a pid namespace cannot kill itself, so share the host's.
  config_edit '.linux.namespaces |= map(select(.type != "pid"))'
  set_script 'kill -KILL $$'
  run_container
  assert_eq "$RC" 137 "exit status of run for a process killed by SIGKILL"
}

test_run_passes_stdio() {
  make_bundle
  set_script 'echo out; echo err >&2'
  run_container
  expect_success
  assert_eq "$OUT" out "stdout of the container"
  assert_contains "$ERR" err "stderr of the container"
}

test_run_detach() {
  make_bundle
  share_dir shared
  set_script 'while [ ! -e /shared/go ]; do sleep 0.05; done; echo done >/shared/done'
  # run --detach must return while the process still waits for /shared/go.
  rt_capture run --detach --bundle "$BUNDLE" "$ID"
  expect_success "run --detach"
  assert_eq "$(state_field "$ID" status)" running "status after run --detach"
  touch "$AR_TEST_DIR/shared/go"
  wait_file "$AR_TEST_DIR/shared/done"
  wait_status "$ID" stopped
  rt_capture delete "$ID"
  expect_success "delete"
  assert_no_leftovers "$ID"
}

test_run_detach_pid_file() {
  make_bundle
  set_args sleep 10
  rt_capture run --detach --pid-file "$AR_TEST_DIR/run.pid" --bundle "$BUNDLE" "$ID"
  expect_success "run --detach --pid-file"
  [ -s "$AR_TEST_DIR/run.pid" ] || fail "no pid file after run --detach --pid-file"
  local pid
  pid=$(tr -d '\n' <"$AR_TEST_DIR/run.pid")
  assert_match "$pid" '^[1-9][0-9]*$' "content of the pid file"
  assert_eq "$pid" "$(state_field "$ID" pid)" "pid file and state pid"
}

test_duplicate_id_rejected() {
  make_bundle
  set_args sleep 10
  create_container
  local pid
  pid=$(state_field "$ID" pid)
  rt_capture create --bundle "$BUNDLE" "$ID"
  expect_failure 'exist|already|in use'
  rt_capture run --bundle "$BUNDLE" "$ID"
  expect_failure 'exist|already|in use'
  assert_eq "$(state_field "$ID" status)" created "status of the first container"
  assert_eq "$(state_field "$ID" pid)" "$pid" "pid of the first container"
}

test_list_table_and_json() {
  make_bundle
  set_args sleep 10
  create_container
  rt_capture create --bundle "$BUNDLE" "$ID-b"
  expect_success "create of a second container"
  rt_capture start "$ID-b"
  expect_success "start"

  rt_capture list
  expect_success "list"
  assert_match "$(head -n 1 <<<"$OUT")" "^ID +PID +STATUS +BUNDLE" "list header"
  assert_match "$OUT" "^$ID +[0-9]+ +created +$BUNDLE" "list line of the created container"
  assert_match "$OUT" "^$ID-b +[0-9]+ +running +$BUNDLE" "list line of the running container"

  rt_capture list --format table
  expect_success "list --format table"
  assert_match "$OUT" "^$ID +[0-9]+ +created" "list --format table"

  rt_capture list --format json
  expect_success "list --format json"
  jq -e 'type == "array"' <<<"$OUT" >/dev/null || fail "list --format json is not an array: $OUT"
  assert_eq "$(jq -r --arg id "$ID" '.[] | select(.id == $id) | .status' <<<"$OUT")" created \
    "status of the created container in list json"
  assert_eq "$(jq -r --arg id "$ID-b" '.[] | select(.id == $id) | .status' <<<"$OUT")" running \
    "status of the running container in list json"
  assert_eq "$(jq -r --arg id "$ID-b" '.[] | select(.id == $id) | .bundle' <<<"$OUT")" "$BUNDLE" \
    "bundle of the running container in list json"
  assert_eq "$(jq -r --arg id "$ID" '.[] | select(.id == $id) | .pid' <<<"$OUT")" \
    "$(state_field "$ID" pid)" "pid of the created container in list json"
}

test_list_empty() {
  rt_capture list --format json
  expect_success "list --format json"
  # runc 1.1.5 prints null for an empty list, and an empty array passes too.
  jq -e '(. // []) | length == 0' <<<"$OUT" >/dev/null || fail "list of an empty root is not empty: $OUT"
  rt_capture list
  expect_success "list"
  assert_eq "$(wc -l <<<"$OUT")" 1 "lines of list for an empty root (the header)"
}

test_run_no_pivot() {
  make_bundle
  set_script 'echo fine'
  run_container --no-pivot
  expect_success "run --no-pivot"
  assert_eq "$OUT" fine "output with --no-pivot"
}

test_run_no_new_keyring() {
  make_bundle
  set_script 'echo fine'
  run_container --no-new-keyring
  expect_success "run --no-new-keyring"
  assert_eq "$OUT" fine "output with --no-new-keyring"
}

test_run_preserve_fds() {
  make_bundle
  echo "passed through fd 3" >"$AR_TEST_DIR/extra"
  set_script 'cat <&3'
  RC=0
  OUT=$(timeout 30 "$RUNTIME" --root "$AR_ROOT" run --preserve-fds 1 --bundle "$BUNDLE" "$ID" \
    3<"$AR_TEST_DIR/extra" 2>"$AR_TEST_DIR/.err" </dev/null) || RC=$?
  ERR=$(cat "$AR_TEST_DIR/.err")
  expect_success "run --preserve-fds 1"
  assert_eq "$OUT" "passed through fd 3" "content read from fd 3"
}

test_fds_not_preserved_by_default() {
  make_bundle
  echo "secret" >"$AR_TEST_DIR/extra"
  set_script 'ls /proc/self/fd'
  RC=0
  OUT=$(timeout 30 "$RUNTIME" --root "$AR_ROOT" run --bundle "$BUNDLE" "$ID" \
    3<"$AR_TEST_DIR/extra" 2>"$AR_TEST_DIR/.err" </dev/null) || RC=$?
  ERR=$(cat "$AR_TEST_DIR/.err")
  expect_success "run"
  # ls itself opens one descriptor for the listing.
  local fds
  fds=$(tr '\n' ' ' <<<"$OUT")
  assert_match "$fds" "^0 1 2 [0-9]+ ?$" "open file descriptors in the container"
}
