# Detached podman containers with the runtime under test: run -d, stop
# (gracefully and ending in SIGKILL), kill, top, logs, restart, rm, and
# the runtime's own `state` of a container that podman started.  The
# helpers are in podman_lib.sh.

# shellcheck source=tests/integration/podman_lib.sh
. "$AR_REPO/tests/integration/podman_lib.sh"

# A process that reports the signals it gets on stdout, which podman
# logs; TERM ends it with exit status 42.
SIGNAL_REPORTER='
  trap "echo got USR1" USR1
  trap "echo got HUP" HUP
  trap "echo got TERM; exit 42" TERM
  echo ready
  while :; do sleep 0.1; done'

test_podman_run_detached_stop_rm() {
  setup_podman
  podman_run_detached localhost/busybox sleep 600
  assert_eq "$(podman_field '{{.State.Status}}')" running "podman status"
  local pid
  pid=$(podman_field '{{.State.Pid}}')
  # start may return before the process has executed sleep.
  local i
  for ((i = 0; i < 50; i++)); do
    [ "$(cat "/proc/$pid/comm")" = sleep ] && break
    sleep 0.05
  done
  assert_eq "$(cat "/proc/$pid/comm")" sleep "process of the container on the host"
  # sleep as pid 1 of its namespace ignores SIGTERM, so podman stop ends
  # with SIGKILL after its timeout.
  podman_ok stop -t 1 "$CID"
  assert_eq "$(podman_field '{{.State.Status}}')" exited "podman status after stop"
  podman_ok rm "$CID"
  assert_no_podman_containers
  assert_runtime_called "^start $CID\$"
  assert_runtime_called "^delete --force $CID\$"
}

test_podman_stop_graceful() {
  setup_podman
  podman_run_detached localhost/busybox sh -c "$SIGNAL_REPORTER"
  podman_wait_log ready
  local start end
  start=$(date +%s)
  podman_ok stop -t 30 "$CID"
  end=$(date +%s)
  [ $((end - start)) -lt 10 ] || fail "podman stop of a process that exits on SIGTERM took $((end - start))s"
  assert_eq "$(podman_field '{{.State.ExitCode}}')" 42 "exit code after SIGTERM"
  podman_wait_log "got TERM"
  assert_runtime_called "^kill $CID 15\$"
}

test_podman_stop_timeout_ends_in_sigkill() {
  setup_podman
  podman_run_detached localhost/busybox sh -c 'trap "echo ignored TERM" TERM; echo ready; while :; do sleep 0.1; done'
  podman_wait_log ready
  local start end
  start=$(date +%s.%N)
  podman_ok stop -t 2 "$CID"
  end=$(date +%s.%N)
  awk -v s="$start" -v e="$end" 'BEGIN { exit !(e - s >= 1.9 && e - s < 15) }' ||
    fail "podman stop -t 2 took $(awk -v s="$start" -v e="$end" 'BEGIN { print e - s }')s, expected about 2s"
  assert_eq "$(podman_field '{{.State.Status}}')" exited "podman status after stop"
  assert_eq "$(podman_field '{{.State.ExitCode}}')" 137 "exit code after SIGKILL"
  podman_wait_log "ignored TERM"
  assert_runtime_called "^kill $CID 15\$"
  assert_runtime_called "^kill $CID 9\$"
}

test_podman_kill() {
  setup_podman
  podman_run_detached localhost/busybox sh -c "$SIGNAL_REPORTER"
  podman_wait_log ready
  podman_ok kill -s USR1 "$CID"
  podman_wait_log "got USR1"
  podman_ok kill -s HUP "$CID"
  podman_wait_log "got HUP"
  assert_eq "$(podman_field '{{.State.Status}}')" running "status after USR1 and HUP"
  podman_ok kill "$CID"
  podman_wait_status exited
  assert_eq "$(podman_field '{{.State.ExitCode}}')" 137 "exit code after podman kill (SIGKILL)"
  assert_runtime_called "^kill $CID 10\$"
  assert_runtime_called "^kill $CID 9\$"
}

test_podman_top() {
  setup_podman
  podman_run_detached localhost/busybox sh -c 'sleep 600 & wait'
  podman_ok top "$CID" pid user args
  assert_match "$OUT" "^ *1 +root +sh -c sleep 600 & wait" "pid 1 in podman top"
  assert_match "$OUT" "root +sleep 600" "the child in podman top"
}

test_podman_logs() {
  setup_podman
  podman_run_detached localhost/busybox sh -c 'echo to-stdout; echo to-stderr >&2; sleep 600'
  podman_wait_log to-stderr
  podman_ok logs "$CID"
  assert_contains "$OUT" to-stdout "stdout in podman logs"
  assert_contains "$ERR" to-stderr "stderr in podman logs"
}

test_podman_restart() {
  setup_podman
  podman_run_detached localhost/busybox sh -c 'echo "started as $$"; sleep 600'
  podman_wait_log "started as 1"
  local pid_before pid_after
  pid_before=$(podman_field '{{.State.Pid}}')
  podman_ok restart -t 1 "$CID"
  assert_eq "$(podman_field '{{.State.Status}}')" running "status after restart"
  pid_after=$(podman_field '{{.State.Pid}}')
  assert_ne "$pid_after" "$pid_before" "host pid after restart"
  [ ! -e "/proc/$pid_before" ] || fail "the first process $pid_before still exists after restart"
  local starts
  for ((i = 0; i < 50; i++)); do
    starts=$("${PODMAN[@]}" logs "$CID" | grep -c "started as 1") || true
    [ "$starts" = 2 ] && break
    sleep 0.1
  done
  assert_eq "$starts" 2 "starts in podman logs"
  [ "$(grep -c "^start $CID\$" "$PODMAN_CALLS")" = 2 ] || fail "expected two start calls: $(cat "$PODMAN_CALLS")"
}

test_podman_restart_stopped() {
  setup_podman
  podman_run_detached localhost/busybox sh -c 'echo run; exit 3'
  podman_wait_status exited
  assert_eq "$(podman_field '{{.State.ExitCode}}')" 3 "exit code of the first run"
  podman_capture start -a "$CID"
  assert_eq "$RC" 3 "exit status of podman start -a"
  assert_eq "$OUT" run "output of podman start -a"
  podman_wait_status exited
  assert_eq "$(podman_field '{{.State.ExitCode}}')" 3 "exit code of the second run"
}

# podman calls `RUNTIME state ID` with no global option, and so may a
# user: the runtime finds podman's containers under its default root.
test_podman_runtime_state_without_global_options() {
  setup_podman
  podman_run_detached localhost/busybox sleep 600
  local json
  json=$("$RUNTIME" state "$CID") || fail "$RUNTIME state $CID failed"
  assert_eq "$(jq -r .id <<<"$json")" "$CID" "id in the state"
  assert_eq "$(jq -r .status <<<"$json")" running "status in the state"
  assert_eq "$(jq -r .pid <<<"$json")" "$(podman_field '{{.State.Pid}}')" "pid in the state"
  assert_eq "$(jq -r .bundle <<<"$json")" "$(podman_field '{{.StaticDir}}')" "bundle in the state"
}

test_podman_pause_unpause() {
  setup_podman
  podman_run_detached localhost/busybox sh -c 'i=0; while :; do i=$((i + 1)); echo "tick $i"; sleep 0.1; done'
  podman_wait_log "tick 2"
  podman_ok pause "$CID"
  assert_eq "$(podman_field '{{.State.Status}}')" paused "status after pause"
  local before after
  before=$("${PODMAN[@]}" logs "$CID" | wc -l)
  sleep 1
  after=$("${PODMAN[@]}" logs "$CID" | wc -l)
  assert_eq "$after" "$before" "lines logged while paused"
  podman_ok unpause "$CID"
  assert_eq "$(podman_field '{{.State.Status}}')" running "status after unpause"
  podman_wait_log "tick $((after + 3))"
  assert_runtime_called "^pause $CID\$"
  assert_runtime_called "^resume $CID\$"
}

test_podman_update_memory() {
  setup_podman
  podman_run_detached localhost/busybox sleep 600
  podman_ok update --memory 64m "$CID"
  podman_capture exec "$CID" sh -c 'cat /sys/fs/cgroup/memory.max 2>/dev/null ||
    cat /sys/fs/cgroup/memory/memory.limit_in_bytes'
  expect_success "podman exec"
  assert_eq "$OUT" 67108864 "memory limit after podman update --memory 64m"
  assert_runtime_called "^update --resources[= ].* $CID\$"
}

test_podman_stats() {
  setup_podman
  podman_run_detached localhost/busybox sh -c 'sleep 600 & sleep 600 & wait'
  podman_ok stats --no-stream --format '{{.ID}} {{.PIDs}}' "$CID"
  assert_eq "$OUT" "${CID:0:12} 3" "container id and pids in podman stats"
}

test_podman_wait() {
  setup_podman
  podman_run_detached localhost/busybox sh -c 'sleep 0.5; exit 6'
  podman_ok wait "$CID"
  assert_eq "$OUT" 6 "exit code printed by podman wait"
}

test_podman_cp() {
  setup_podman
  podman_run_detached localhost/busybox sleep 600
  echo "from the host" >"$AR_TEST_DIR/in.txt"
  podman_ok cp "$AR_TEST_DIR/in.txt" "$CID:/tmp/in.txt"
  podman_capture exec "$CID" cat /tmp/in.txt
  assert_eq "$OUT" "from the host" "file copied into the container"
  podman_ok exec "$CID" sh -c 'echo "from the container" >/tmp/out.txt'
  podman_ok cp "$CID:/tmp/out.txt" "$AR_TEST_DIR/out.txt"
  assert_eq "$(cat "$AR_TEST_DIR/out.txt")" "from the container" "file copied out of the container"
}
