# Cgroup quotas and the verbs that act through the cgroup: memory, pids,
# cpu and cpuset limits, pause and resume, update, events --stats, ps,
# kill --all and delete --force, the cgroupsPath forms, and the errors for
# fields this host cannot apply.  Each test checks the effect from inside
# the container (what its processes see or suffer) and from outside (the
# cgroup files on the host).  The tests run on cgroup v1, on the hybrid
# layout (v1 controllers beside a cgroup2 mount) and on pure v2.

# --- helpers -----------------------------------------------------------------

# Succeeds on a pure cgroup v2 host.
cg_v2() {
  [ -e /sys/fs/cgroup/cgroup.controllers ]
}

# Succeeds on a hybrid host: v1 controllers and a cgroup2 mount beside them.
cg_hybrid() {
  ! cg_v2 && [ -e /sys/fs/cgroup/unified/cgroup.controllers ]
}

# Prints the host folder of the cgroup of process PID that carries
# CONTROLLER: its v1 hierarchy, or its cgroup2 folder on a v2 host.  The
# CONTROLLER "unified" names the cgroup2 hierarchy of a hybrid host.
cg_dir_of() {
  local pid=$1 controller=$2 path hierarchy
  if cg_v2 || [ "$controller" = unified ]; then
    path=$(sed -n 's/^0:://p' "/proc/$pid/cgroup")
    [ -n "$path" ] || fail "/proc/$pid/cgroup has no cgroup2 line"
    if cg_v2; then
      echo "/sys/fs/cgroup$path"
    else
      echo "/sys/fs/cgroup/unified$path"
    fi
    return 0
  fi
  hierarchy=$(awk -F: -v c="$controller" '{
      n = split($2, names, ",")
      for (i = 1; i <= n; i++) if (names[i] == c) { print $2; exit }
    }' "/proc/$pid/cgroup")
  path=$(awk -F: -v h="$hierarchy" '$2 == h { print $3; exit }' "/proc/$pid/cgroup")
  [ -n "$hierarchy" ] && [ -n "$path" ] || fail "process $pid is in no $controller cgroup"
  echo "/sys/fs/cgroup/$hierarchy$path"
}

# Prints the host folder of container ID's cgroup that carries CONTROLLER
# (see cg_dir_of); the container must have a live process.
cg_dir() {
  cg_dir_of "$(state_field "$ID" pid)" "$1"
}

# Prints a cgroup file without its trailing newline, or fails.
cg_read() {
  local file=$1/$2
  [ -e "$file" ] || fail "cgroup file $file is missing"
  cat "$file"
}

# Prints the value of KEY in a flat-keyed cgroup file such as memory.events.
cg_key() {
  local value
  value=$(awk -v k="$3" '$1 == k { print $2; exit }' "$1/$2") || fail "cannot read $1/$2"
  [ -n "$value" ] || fail "$1/$2 has no key $3: $(cat "$1/$2")"
  echo "$value"
}

# Creates and starts container ID from BUNDLE, running SCRIPT, and waits
# until SCRIPT has created /shared/running.
start_script_container() {
  set_script "$1"
  create_container
  rt_capture start "$ID"
  expect_success "start"
  wait_file "$AR_TEST_DIR/shared/running" 10
}

# A container process that writes a growing counter to /shared/counter
# every 50 ms, and a file once it runs.
COUNTER_SCRIPT='i=0; touch /shared/running
  while :; do i=$((i + 1)); echo "$i" >/shared/counter; sleep 0.05; done'

# A container process that spins on the CPU until /shared/stop exists.
BUSY_SCRIPT='touch /shared/running; while [ ! -e /shared/stop ]; do :; done'

# A container process that waits until /shared/go exists.
WAIT_SCRIPT='touch /shared/running; while [ ! -e /shared/go ]; do sleep 0.05; done'

# Prints the counter that COUNTER_SCRIPT writes.
counter_value() {
  local value=""
  value=$(cat "$AR_TEST_DIR/shared/counter" 2>/dev/null) || true
  echo "${value:-0}"
}

# Waits up to 5 s until the counter exceeds VALUE.
wait_counter_above() {
  local value=$1 i
  for ((i = 0; i < 100; i++)); do
    [ "$(counter_value)" -gt "$value" ] && return 0
    sleep 0.05
  done
  fail "the counter stayed at $(counter_value), expected it to pass $value"
}

# Prints the container's CPU time in nanoseconds from `events --stats`.
stats_cpu_total() {
  local events
  rt_capture events --stats "$ID"
  expect_success "events --stats"
  events=$OUT
  jq -r '.data.cpu.usage.total // 0' <<<"$events" || fail "events --stats printed no JSON: $events"
}

# Fails unless no process of container ID is alive (zombies excepted).
assert_no_live_processes() {
  local pid
  for pid in $(pids_in_cgroup_named "$ID"); do
    grep -q '^State:.*Z' "/proc/$pid/status" 2>/dev/null || fail "process $pid of $ID is still alive"
  done
}

# --- memory ------------------------------------------------------------------

test_memory_limit_oom_kills() {
  make_bundle
  share_dir shared
  # swap equal to limit: no swap on top, so the limit holds on hosts with swap.
  config_edit '.linux.resources.memory = {limit: 33554432, swap: 33554432}'
  set_script 'touch /shared/running
    dd if=/dev/zero of=/dev/null bs=64M count=1 2>/dev/null; status=$?
    echo "$status" >/shared/status; exit "$status"'
  create_container
  local memory
  memory=$(cg_dir memory)
  if cg_v2; then
    assert_eq "$(cg_read "$memory" memory.max)" 33554432 "memory.max"
    assert_eq "$(cg_read "$memory" memory.swap.max)" 0 "memory.swap.max"
  else
    assert_eq "$(cg_read "$memory" memory.limit_in_bytes)" 33554432 "memory.limit_in_bytes"
  fi
  rt_capture start "$ID"
  expect_success "start"
  wait_status "$ID" stopped 20

  # Inside: the shell saw dd killed by SIGKILL.
  assert_eq "$(cat "$AR_TEST_DIR/shared/status")" 137 "exit status of dd inside the container"
  # Outside: the memory cgroup counted the OOM kill.
  if cg_v2; then
    [ "$(cg_key "$memory" memory.events oom_kill)" -ge 1 ] ||
      fail "memory.events shows no OOM kill: $(cat "$memory/memory.events")"
  else
    [ "$(cg_key "$memory" memory.oom_control oom_kill)" -ge 1 ] ||
      fail "memory.oom_control shows no OOM kill: $(cat "$memory/memory.oom_control")"
  fi
  rt_capture delete "$ID"
  expect_success "delete"
  assert_no_leftovers "$ID"

  # The container's own process killed: run reports 128 + SIGKILL.
  set_args dd if=/dev/zero of=/dev/null bs=64M count=1
  run_container
  assert_eq "$RC" 137 "exit status of run when the OOM killer ends the process"
  assert_no_leftovers "$ID"
}

test_memory_fields_written() {
  make_bundle
  share_dir shared
  if cg_v2; then
    config_edit '.linux.resources.memory = {limit: 67108864, reservation: 33554432, swap: 100663296}'
  else
    config_edit '.linux.resources.memory = {limit: 67108864, reservation: 33554432, swap: 100663296,
                                            swappiness: 10, disableOOMKiller: true}'
  fi
  start_script_container "$WAIT_SCRIPT"
  local memory
  memory=$(cg_dir memory)
  if cg_v2; then
    assert_eq "$(cg_read "$memory" memory.max)" 67108864 "memory.max"
    assert_eq "$(cg_read "$memory" memory.low)" 33554432 "memory.low (reservation)"
    assert_eq "$(cg_read "$memory" memory.swap.max)" 33554432 "memory.swap.max (swap minus limit)"
  else
    assert_eq "$(cg_read "$memory" memory.limit_in_bytes)" 67108864 "memory.limit_in_bytes"
    assert_eq "$(cg_read "$memory" memory.soft_limit_in_bytes)" 33554432 "memory.soft_limit_in_bytes"
    assert_eq "$(cg_read "$memory" memory.memsw.limit_in_bytes)" 100663296 "memory.memsw.limit_in_bytes"
    assert_eq "$(cg_read "$memory" memory.swappiness)" 10 "memory.swappiness"
    assert_eq "$(cg_key "$memory" memory.oom_control oom_kill_disable)" 1 "oom_kill_disable"
  fi
  touch "$AR_TEST_DIR/shared/go"
  wait_status "$ID" stopped
  rt_capture delete "$ID"
  expect_success "delete"
  assert_no_leftovers "$ID"
}

# --- pids --------------------------------------------------------------------

test_pids_limit_stops_fork_loop() {
  make_bundle
  share_dir shared
  config_edit '.linux.resources.pids = {limit: 10}'
  mkfifo "$AR_TEST_DIR/shared/fifo"
  # The loop runs in a subshell, since busybox sh exits when a fork fails.
  # Its sleeps end up as children of the container's first process.
  set_script 'touch /shared/running
    ( i=0; while [ $i -lt 50 ]; do sleep 600 & i=$((i + 1)); echo $i >/shared/forked; done ) \
      2>/shared/fork-error
    echo $? >/shared/loop-status
    read -r line </shared/fifo
    echo alive >/shared/alive'
  create_container
  local pids
  pids=$(cg_dir pids)
  assert_eq "$(cg_read "$pids" pids.max)" 10 "pids.max"
  rt_capture start "$ID"
  expect_success "start"
  wait_file "$AR_TEST_DIR/shared/loop-status" 20

  # Inside: fork failed before the loop's end.
  local forked
  forked=$(cat "$AR_TEST_DIR/shared/forked")
  [ "$forked" -lt 50 ] || fail "the fork loop started all 50 processes despite pids.max 10"
  [ "$forked" -ge 1 ] || fail "the fork loop started no process"
  assert_match "$(cat "$AR_TEST_DIR/shared/fork-error")" "can't fork|Resource temporarily unavailable" \
    "error of the fork loop"
  # Outside: the limit holds and the kernel counted the refusals.
  [ "$(cg_read "$pids" pids.current)" -le 10 ] || fail "pids.current above pids.max: $(cat "$pids/pids.current")"
  [ "$(cg_key "$pids" pids.events max)" -ge 1 ] || fail "pids.events counts no refused fork"

  # The container survives and still runs commands.
  assert_eq "$(state_field "$ID" status)" running "status after the fork loop"
  echo go >"$AR_TEST_DIR/shared/fifo"
  wait_file "$AR_TEST_DIR/shared/alive"
  rt_capture delete --force "$ID"
  expect_success "delete --force"
  assert_no_leftovers "$ID"
}

# --- cpu and cpuset ----------------------------------------------------------

test_cpu_fields_written() {
  make_bundle
  share_dir shared
  config_edit '.linux.resources.cpu = {shares: 512, quota: 20000, period: 100000, cpus: "0", mems: "0"}'
  set_script 'touch /shared/running
    grep Cpus_allowed_list /proc/self/status >/shared/cpus.new; mv /shared/cpus.new /shared/cpus
    while [ ! -e /shared/stop ]; do :; done'
  create_container
  local cpu cpuset
  cpu=$(cg_dir cpu)
  cpuset=$(cg_dir cpuset)
  if cg_v2; then
    # cpu.weight = 1 + (shares - 2) * 9999 / 262142
    assert_eq "$(cg_read "$cpu" cpu.weight)" 20 "cpu.weight for shares 512"
    assert_eq "$(cg_read "$cpu" cpu.max)" "20000 100000" "cpu.max"
    assert_eq "$(cg_read "$cpuset" cpuset.cpus)" 0 "cpuset.cpus"
    assert_eq "$(cg_read "$cpuset" cpuset.mems)" 0 "cpuset.mems"
  else
    assert_eq "$(cg_read "$cpu" cpu.shares)" 512 "cpu.shares"
    assert_eq "$(cg_read "$cpu" cpu.cfs_quota_us)" 20000 "cpu.cfs_quota_us"
    assert_eq "$(cg_read "$cpu" cpu.cfs_period_us)" 100000 "cpu.cfs_period_us"
    assert_eq "$(cg_read "$cpuset" cpuset.cpus)" 0 "cpuset.cpus"
    assert_eq "$(cg_read "$cpuset" cpuset.mems)" 0 "cpuset.mems"
  fi
  rt_capture start "$ID"
  expect_success "start"
  wait_file "$AR_TEST_DIR/shared/running" 10

  # Inside: the process may run on CPU 0 only.
  wait_file "$AR_TEST_DIR/shared/cpus"
  assert_match "$(cat "$AR_TEST_DIR/shared/cpus")" '^Cpus_allowed_list:[[:space:]]+0$' "CPUs of the process"
  # Outside: a busy loop at 20% of one CPU gets throttled.
  sleep 1
  local throttled
  rt_capture events --stats "$ID"
  expect_success "events --stats"
  throttled=$(jq -r '.data.cpu.throttling.throttledPeriods // 0' <<<"$OUT")
  [ "$throttled" -ge 1 ] || fail "a busy loop under a 20% CPU quota was never throttled: $OUT"
  touch "$AR_TEST_DIR/shared/stop"
  wait_status "$ID" stopped
  rt_capture delete "$ID"
  expect_success "delete"
  assert_no_leftovers "$ID"
}

# --- block I/O ---------------------------------------------------------------

test_block_io_throttle_written() {
  [ -e /sys/block/loop0/dev ] || skip "no loop0 block device to throttle (modprobe loop)"
  local device major minor
  device=$(cat /sys/block/loop0/dev)
  major=${device%:*} minor=${device#*:}
  make_bundle
  share_dir shared
  config_edit '.linux.resources.blockIO = {
      throttleReadBpsDevice: [{major: $ma, minor: $mi, rate: 1048576}],
      throttleWriteBpsDevice: [{major: $ma, minor: $mi, rate: 2097152}],
      throttleReadIOPSDevice: [{major: $ma, minor: $mi, rate: 300}],
      throttleWriteIOPSDevice: [{major: $ma, minor: $mi, rate: 100}]}' \
    --argjson ma "$major" --argjson mi "$minor"
  start_script_container "$WAIT_SCRIPT"
  local io
  if cg_v2; then
    io=$(cg_dir io)
    assert_eq "$(grep "^$device " "$io/io.max")" "$device rbps=1048576 wbps=2097152 riops=300 wiops=100" "io.max"
  else
    io=$(cg_dir blkio)
    assert_eq "$(cg_read "$io" blkio.throttle.read_bps_device)" "$device 1048576" "blkio.throttle.read_bps_device"
    assert_eq "$(cg_read "$io" blkio.throttle.write_bps_device)" "$device 2097152" "blkio.throttle.write_bps_device"
    assert_eq "$(cg_read "$io" blkio.throttle.read_iops_device)" "$device 300" "blkio.throttle.read_iops_device"
    assert_eq "$(cg_read "$io" blkio.throttle.write_iops_device)" "$device 100" "blkio.throttle.write_iops_device"
  fi
  rt_capture delete --force "$ID"
  expect_success "delete --force"
  assert_no_leftovers "$ID"
}

# --- pause and resume --------------------------------------------------------

test_pause_resume_freezes() {
  make_bundle
  share_dir shared
  start_script_container "$COUNTER_SCRIPT"
  wait_counter_above 0
  local freezer frozen_at
  freezer=$(cg_dir freezer)

  rt_capture pause "$ID"
  expect_success "pause"
  assert_eq "$(state_field "$ID" status)" paused "status after pause"
  if cg_v2; then
    assert_eq "$(cg_read "$freezer" cgroup.freeze)" 1 "cgroup.freeze after pause"
    assert_eq "$(cg_key "$freezer" cgroup.events frozen)" 1 "frozen in cgroup.events after pause"
  else
    assert_eq "$(cg_read "$freezer" freezer.state)" FROZEN "freezer.state after pause"
  fi
  # Inside: the frozen process writes nothing.
  frozen_at=$(counter_value)
  sleep 0.5
  assert_eq "$(counter_value)" "$frozen_at" "counter of a paused container"

  rt_capture resume "$ID"
  expect_success "resume"
  assert_eq "$(state_field "$ID" status)" running "status after resume"
  if cg_v2; then
    assert_eq "$(cg_read "$freezer" cgroup.freeze)" 0 "cgroup.freeze after resume"
    assert_eq "$(cg_key "$freezer" cgroup.events frozen)" 0 "frozen in cgroup.events after resume"
  else
    assert_eq "$(cg_read "$freezer" freezer.state)" THAWED "freezer.state after resume"
  fi
  wait_counter_above "$frozen_at"

  rt_capture resume "$ID"
  expect_failure 'not paused|paused'
  rt_capture delete --force "$ID"
  expect_success "delete --force"
  assert_no_leftovers "$ID"
}

test_delete_force_paused_removes_cgroups() {
  make_bundle
  share_dir shared
  start_script_container "$COUNTER_SCRIPT"
  rt_capture pause "$ID"
  expect_success "pause"
  assert_eq "$(state_field "$ID" status)" paused "status after pause"
  rt_capture delete "$ID"
  expect_failure 'paused|force'
  rt_capture delete --force "$ID"
  expect_success "delete --force of a paused container"
  assert_no_leftovers "$ID"
  assert_no_live_processes
}

test_kill_all_paused_container() {
  make_bundle
  share_dir shared
  start_script_container "$COUNTER_SCRIPT"
  rt_capture pause "$ID"
  expect_success "pause"
  rt_capture kill --all "$ID" KILL
  expect_success "kill --all of a paused container"
  wait_status "$ID" stopped
  assert_no_live_processes
  rt_capture delete "$ID"
  expect_success "delete"
  assert_no_leftovers "$ID"
}

test_cgroup_verbs_on_stopped_fail() {
  make_bundle
  set_args /bin/true
  create_container
  rt_capture start "$ID"
  expect_success "start"
  wait_status "$ID" stopped
  local verb
  for verb in pause resume ps "events --stats" "update --memory 64M"; do
    # shellcheck disable=SC2086
    rt_capture $verb "$ID"
    expect_failure 'stopped|not running|not paused'
  done
  rt_capture delete "$ID"
  expect_success "delete"
  assert_no_leftovers "$ID"
}

# A running container whose cgroup has child cgroups, one with a process.
test_delete_force_running_removes_cgroups() {
  make_bundle
  share_dir shared
  start_script_container "$WAIT_SCRIPT"
  local dir controller dirs=() pid
  if cg_v2; then
    dirs=("$(cg_dir memory)")
  else
    for controller in memory pids cpu freezer; do
      dirs+=("$(cg_dir "$controller")")
    done
  fi
  rt_capture exec --detach --pid-file "$AR_TEST_DIR/exec.pid" "$ID" sleep 600
  expect_success "exec --detach"
  pid=$(cat "$AR_TEST_DIR/exec.pid")
  # Move the exec'd process to a child cgroup, as a container managing its
  # own cgroups would.
  for dir in "${dirs[@]}"; do
    mkdir -p "$dir/inner/deeper"
    echo "$pid" >"$dir/inner/deeper/cgroup.procs"
  done
  rt_capture delete --force "$ID"
  expect_success "delete --force of a running container"
  assert_no_leftovers "$ID"
  assert_no_live_processes
}

# --- update ------------------------------------------------------------------

# Prints the exit status of dd filling a buffer of SIZE inside container
# ID, started with exec.
exec_dd_status() {
  # dd marks itself as the OOM killer's first choice, which it is by size
  # anyway, so that a kill never falls on the container's own process.
  rt_capture exec "$ID" /bin/sh -c \
    "(echo 1000 >/proc/self/oom_score_adj; exec dd if=/dev/zero of=/dev/null bs=$1 count=1 2>/dev/null); echo \$?"
  expect_success "exec dd"
  echo "$OUT"
}

# Prints how many of 20 background sleeps a process exec'd into container
# ID could fork before a fork failed.
exec_fork_count() {
  rt_capture exec "$ID" /bin/sh -c '
    ( i=0; while [ $i -lt 20 ]; do sleep 1 & i=$((i + 1)); echo $i >/tmp/forked; done ) 2>/dev/null
    cat /tmp/forked; rm -f /tmp/forked'
  expect_success "exec fork loop"
  echo "$OUT"
}

test_update_memory_live() {
  make_bundle
  share_dir shared
  config_edit '.linux.resources.memory = {limit: 268435456}'
  start_script_container "$WAIT_SCRIPT"
  local memory
  memory=$(cg_dir memory)
  assert_eq "$(exec_dd_status 48M)" 0 "dd of 48 MiB under a 256 MiB limit"

  rt_capture update --memory 32M "$ID"
  expect_success "update --memory"
  if cg_v2; then
    assert_eq "$(cg_read "$memory" memory.max)" 33554432 "memory.max after update"
  else
    assert_eq "$(cg_read "$memory" memory.limit_in_bytes)" 33554432 "memory.limit_in_bytes after update"
  fi
  assert_eq "$(exec_dd_status 48M)" 137 "dd of 48 MiB after update --memory 32M"
  assert_eq "$(state_field "$ID" status)" running "status after an OOM kill of an exec'd process"

  rt_capture update --memory 128M --memory-swap 128M "$ID"
  expect_success "update --memory --memory-swap"
  if cg_v2; then
    assert_eq "$(cg_read "$memory" memory.max)" 134217728 "memory.max after the second update"
    assert_eq "$(cg_read "$memory" memory.swap.max)" 0 "memory.swap.max after the second update"
  else
    assert_eq "$(cg_read "$memory" memory.limit_in_bytes)" 134217728 "memory.limit_in_bytes after the second update"
    assert_eq "$(cg_read "$memory" memory.memsw.limit_in_bytes)" 134217728 \
      "memory.memsw.limit_in_bytes after the second update"
  fi
  assert_eq "$(exec_dd_status 48M)" 0 "dd of 48 MiB after update --memory 128M"
  rt_capture delete --force "$ID"
  expect_success "delete --force"
  assert_no_leftovers "$ID"
}

test_update_pids_limit_live() {
  make_bundle
  share_dir shared
  config_edit '.linux.resources.pids = {limit: 100}'
  start_script_container "$WAIT_SCRIPT"
  local pids
  pids=$(cg_dir pids)

  rt_capture update --pids-limit 8 "$ID"
  expect_success "update --pids-limit"
  assert_eq "$(cg_read "$pids" pids.max)" 8 "pids.max after update"
  local count
  count=$(exec_fork_count)
  [ "$count" -lt 20 ] || fail "all 20 forks succeeded after update --pids-limit 8"
  # The sleeps of the refused loop end after a second.
  sleep 1.5

  rt_capture update --pids-limit 64 "$ID"
  expect_success "update --pids-limit"
  assert_eq "$(cg_read "$pids" pids.max)" 64 "pids.max after the second update"
  assert_eq "$(exec_fork_count)" 20 "forks after update --pids-limit 64"

  rt_capture update --pids-limit -1 "$ID"
  expect_success "update --pids-limit -1"
  assert_eq "$(cg_read "$pids" pids.max)" max "pids.max after update --pids-limit -1"
  rt_capture delete --force "$ID"
  expect_success "delete --force"
  assert_no_leftovers "$ID"
}

test_update_resources_file() {
  make_bundle
  share_dir shared
  start_script_container "$BUSY_SCRIPT"
  local memory pids cpu
  memory=$(cg_dir memory)
  pids=$(cg_dir pids)
  cpu=$(cg_dir cpu)
  cat >"$AR_TEST_DIR/resources.json" <<'JSON'
{
  "memory": { "limit": 100663296 },
  "pids": { "limit": 42 },
  "cpu": { "shares": 256, "quota": 10000, "period": 100000 }
}
JSON
  rt_capture update --resources "$AR_TEST_DIR/resources.json" "$ID"
  expect_success "update --resources"
  assert_eq "$(cg_read "$pids" pids.max)" 42 "pids.max"
  if cg_v2; then
    assert_eq "$(cg_read "$memory" memory.max)" 100663296 "memory.max"
    assert_eq "$(cg_read "$cpu" cpu.weight)" 10 "cpu.weight for shares 256"
    assert_eq "$(cg_read "$cpu" cpu.max)" "10000 100000" "cpu.max"
  else
    assert_eq "$(cg_read "$memory" memory.limit_in_bytes)" 100663296 "memory.limit_in_bytes"
    assert_eq "$(cg_read "$cpu" cpu.shares)" 256 "cpu.shares"
    assert_eq "$(cg_read "$cpu" cpu.cfs_quota_us)" 10000 "cpu.cfs_quota_us"
    assert_eq "$(cg_read "$cpu" cpu.cfs_period_us)" 100000 "cpu.cfs_period_us"
  fi

  # The busy loop now gets 10% of a CPU: over a second, about 0.1 s.
  local before after
  before=$(stats_cpu_total)
  sleep 1
  after=$(stats_cpu_total)
  [ $((after - before)) -lt 400000000 ] ||
    fail "a busy loop under a 10% quota used $(((after - before) / 1000000)) ms of CPU in 1 s"

  echo '{"memory": {"limit": "lots"}}' >"$AR_TEST_DIR/bad.json"
  rt_capture update --resources "$AR_TEST_DIR/bad.json" "$ID"
  expect_failure 'memory\.limit'
  touch "$AR_TEST_DIR/shared/stop"
  wait_status "$ID" stopped
  rt_capture delete "$ID"
  expect_success "delete"
  assert_no_leftovers "$ID"
}

test_update_flag_overrides_file() {
  known_gap runc "runc 1.1.5 ignores the other flags when --resources is given"
  make_bundle
  share_dir shared
  start_script_container "$WAIT_SCRIPT"
  echo '{"pids": {"limit": 42}, "memory": {"limit": 100663296}}' >"$AR_TEST_DIR/resources.json"
  rt_capture update --resources "$AR_TEST_DIR/resources.json" --pids-limit 43 "$ID"
  expect_success "update --resources with --pids-limit"
  assert_eq "$(cg_read "$(cg_dir pids)" pids.max)" 43 "pids.max when a flag overrides the file"
  if cg_v2; then
    assert_eq "$(cg_read "$(cg_dir memory)" memory.max)" 100663296 "memory.max from the file"
  else
    assert_eq "$(cg_read "$(cg_dir memory)" memory.limit_in_bytes)" 100663296 "memory.limit_in_bytes from the file"
  fi
  rt_capture delete --force "$ID"
  expect_success "delete --force"
  assert_no_leftovers "$ID"
}

# --- events, ps, kill --------------------------------------------------------

test_events_stats_cpu_grows() {
  make_bundle
  share_dir shared
  start_script_container "$BUSY_SCRIPT"
  rt_capture events --stats "$ID"
  expect_success "events --stats"
  assert_eq "$(jq -s length <<<"$OUT")" 1 "number of JSON values that events --stats printed"
  assert_eq "$(jq -r .type <<<"$OUT")" stats "type of the event"
  assert_eq "$(jq -r .id <<<"$OUT")" "$ID" "id of the event"
  [ "$(jq -r '.data.memory.usage.usage // 0' <<<"$OUT")" -gt 0 ] || fail "memory usage is 0: $OUT"
  [ "$(jq -r '.data.pids.current // 0' <<<"$OUT")" -ge 1 ] || fail "pids.current is 0: $OUT"
  [ "$(jq -r '.data.memory.usage.limit // 0' <<<"$OUT")" = 268435456 ] ||
    fail "the memory limit of the stats is not the config's 268435456: $OUT"

  local before after
  before=$(stats_cpu_total)
  sleep 1
  after=$(stats_cpu_total)
  [ "$after" -gt "$before" ] || fail "CPU usage did not grow under a busy loop: $before, then $after"
  # A busy loop on a host with 2 CPUs or more uses most of one in a second.
  [ $((after - before)) -gt 200000000 ] ||
    fail "a busy loop used only $(((after - before) / 1000000)) ms of CPU in 1 s"
  touch "$AR_TEST_DIR/shared/stop"
  wait_status "$ID" stopped
  rt_capture delete "$ID"
  expect_success "delete"
}

test_ps_json_lists_pids() {
  make_bundle
  share_dir shared
  start_script_container 'sleep 600 & echo >/shared/running; wait'
  local pid list host_pids
  pid=$(state_field "$ID" pid)
  rt_capture ps --format json "$ID"
  expect_success "ps --format json"
  list=$(jq -c 'sort' <<<"$OUT") || fail "ps --format json printed no JSON: $OUT"
  assert_eq "$(jq length <<<"$list")" 2 "number of processes that ps lists"
  assert_contains "$list" "$pid" "pids that ps lists"
  # The same pids as the cgroup holds, seen from the host.
  host_pids=$(jq -cs 'sort' "$(cg_dir pids)/cgroup.procs")
  assert_eq "$list" "$host_pids" "pids that ps lists and the cgroup's cgroup.procs"

  rt_capture ps "$ID"
  expect_success "ps"
  assert_contains "$OUT" "PID" "header of ps"
  assert_contains "$OUT" "sleep 600" "table of ps"
  rt_capture delete --force "$ID"
  expect_success "delete --force"
}

test_kill_all_reaches_exec_session() {
  make_bundle
  share_dir shared
  # Without a pid namespace, the end of the first process ends no other.
  config_edit '.linux.namespaces |= map(select(.type != "pid"))'
  start_script_container "$WAIT_SCRIPT"
  rt_capture exec --detach "$ID" setsid sleep 600
  expect_success "exec --detach"
  local main_pid pid stat sessions=""
  main_pid=$(state_field "$ID" pid)
  # The exec'd sleep runs in a session of its own.
  for pid in $(cat "$(cg_dir pids)/cgroup.procs"); do
    stat=$(cat "/proc/$pid/stat" 2>/dev/null) || continue
    stat=${stat##*) }
    sessions="$sessions $(cut -d' ' -f4 <<<"$stat")"
  done
  [ "$(tr ' ' '\n' <<<"$sessions" | sort -u | grep -c .)" -ge 2 ] ||
    fail "the container's processes are in one session only:$sessions"

  rt_capture kill --all "$ID" KILL
  expect_success "kill --all"
  wait_status "$ID" stopped
  local i
  for ((i = 0; i < 40; i++)); do
    [ -z "$(pids_in_cgroup_named "$ID" | while read -r p; do
      grep -q '^State:.*Z' "/proc/$p/status" 2>/dev/null || echo "$p"; done)" ] && break
    sleep 0.05
  done
  assert_no_live_processes
  [ ! -d "/proc/$main_pid" ] || grep -q '^State:.*Z' "/proc/$main_pid/status" ||
    fail "the first process $main_pid survived kill --all"
  rt_capture delete "$ID"
  expect_success "delete"
  assert_no_leftovers "$ID"
}

# --- fields this host cannot apply -------------------------------------------

# Runs BUNDLE with linux.resources edited by the jq FILTER and expects
# the run to fail with an error matching PATTERN, leaving nothing behind.
expect_resources_rejected() {
  local filter=$1 pattern=$2
  cp "$AR_BASE_CONFIG" "$BUNDLE/config.json"
  config_edit "$filter"
  run_container
  expect_failure "$pattern"
  assert_no_leftovers "$ID"
}

# Whether a v1 hierarchy or the cgroup2 root offers CONTROLLER.
host_has_controller() {
  grep -qw "$1" /sys/fs/cgroup/cgroup.controllers /sys/fs/cgroup/unified/cgroup.controllers 2>/dev/null ||
    awk -v c="$1" '$1 == c && $2 != 0 { found = 1 } END { exit !found }' /proc/cgroups
}

test_unsupported_fields_named() {
  known_gap runc "runc 1.1.5 does not name the field of a resource that the host cannot apply"
  make_bundle
  local checked=0

  # No net_cls or net_prio: cgroup v2 has neither, and hosts without a v1
  # mount of them cannot apply the fields.
  if cg_v2 || [ ! -d /sys/fs/cgroup/net_cls ]; then
    expect_resources_rejected '.linux.resources.network = {classID: 1048577}' 'network\.classID'
    checked=$((checked + 1))
  fi
  if cg_v2 || [ ! -d /sys/fs/cgroup/net_prio ]; then
    expect_resources_rejected '.linux.resources.network = {priorities: [{name: "lo", priority: 5}]}' \
      'network\.priorities'
    checked=$((checked + 1))
  fi
  if ! host_has_controller rdma; then
    expect_resources_rejected '.linux.resources.rdma = {"mlx5_1": {hcaHandles: 3, hcaObjects: 10}}' \
      'resources\.rdma.*rdma'
    checked=$((checked + 1))
  fi

  if cg_v2; then
    expect_resources_rejected '.linux.resources.memory.swappiness = 10' 'memory\.swappiness'
    expect_resources_rejected '.linux.resources.memory.disableOOMKiller = true' 'memory\.disableOOMKiller'
    expect_resources_rejected '.linux.resources.cpu = {realtimeRuntime: 1000}' 'cpu\.realtimeRuntime'
    expect_resources_rejected '.linux.resources.blockIO = {leafWeight: 100}' 'blockIO\.leafWeight'
    checked=$((checked + 4))
  else
    # Without CFQ or BFQ, the blkio hierarchy has no weight files.
    local blkio=/sys/fs/cgroup/blkio
    if [ ! -e "$blkio/blkio.weight" ] && [ ! -e "$blkio/blkio.bfq.weight" ]; then
      expect_resources_rejected '.linux.resources.blockIO = {weight: 500}' 'blockIO\.weight'
      checked=$((checked + 1))
    fi
  fi

  # On a hybrid host hugetlb lives on cgroup2, where the host does not
  # enable it for child cgroups.
  if cg_hybrid && ! grep -qw hugetlb /sys/fs/cgroup/unified/cgroup.subtree_control; then
    expect_resources_rejected '.linux.resources.hugepageLimits = [{pageSize: "2MB", limit: 2097152}]' \
      'hugepageLimits.*hugetlb'
    checked=$((checked + 1))
  fi
  expect_resources_rejected '.linux.resources.hugepageLimits = [{pageSize: "3MB", limit: 3145728}]' \
    'hugepageLimits'
  [ "$checked" -gt 0 ] || skip "this host can apply every field that the test knows to reject"
}

test_unified_on_v1_rejected() {
  known_gap runc "runc 1.1.5 says only \"cannot use unified on cgroup v1\""
  cg_v2 && skip "the host has cgroup v2 only"
  make_bundle
  # On a hybrid host, memory is a v1 controller.
  if cg_hybrid; then
    expect_resources_rejected '.linux.resources.unified = {"memory.high": "100000000"}' 'unified.*memory'
  fi
  # A pure v1 view of the host: cgroup2 hidden in a mount namespace.
  require_cmd unshare
  cp "$AR_BASE_CONFIG" "$BUNDLE/config.json"
  config_edit '.linux.resources.unified = {"memory.high": "100000000"}'
  RC=0
  unshare --mount --propagation private sh -c \
    '[ ! -d /sys/fs/cgroup/unified ] || mount -t tmpfs none /sys/fs/cgroup/unified; exec "$@"' sh \
    "$RUNTIME" --root "$AR_ROOT" run --bundle "$BUNDLE" "$ID" >"$AR_TEST_DIR/.out" 2>"$AR_TEST_DIR/.err" ||
    RC=$?
  OUT=$(cat "$AR_TEST_DIR/.out") ERR=$(cat "$AR_TEST_DIR/.err")
  echo "+ runtime run on a cgroup v1 view (exit status $RC): $ERR" >&2
  expect_failure 'unified.*(v2|cgroup2)'
  assert_no_leftovers "$ID"
}

# --- the v1 view of a hybrid host ----------------------------------------------

# A container made while the host's cgroup2 mount is hidden joins v1 only,
# and a delete outside that view removes its cgroups.
test_pure_v1_view_runs() {
  cg_hybrid || skip "the host has no hybrid cgroup layout to hide cgroup2 from"
  require_cmd unshare
  make_bundle
  share_dir shared
  set_script "$WAIT_SCRIPT"
  RC=0
  unshare --mount --propagation private sh -c 'mount -t tmpfs none /sys/fs/cgroup/unified; exec "$@"' sh \
    "$RUNTIME" --root "$AR_ROOT" run --detach --bundle "$BUNDLE" "$ID" \
    >"$AR_TEST_DIR/.out" 2>"$AR_TEST_DIR/.err" </dev/null || RC=$?
  ERR=$(cat "$AR_TEST_DIR/.err")
  expect_success "run --detach on a cgroup v1 view"
  wait_file "$AR_TEST_DIR/shared/running"
  local pid
  pid=$(state_field "$ID" pid)
  assert_contains "$(cg_dir_of "$pid" memory)" "$ID" "memory cgroup of the container"
  assert_eq "$(cg_read "$(cg_dir_of "$pid" memory)" memory.limit_in_bytes)" 268435456 "memory.limit_in_bytes"
  assert_not_contains "$(sed -n 's/^0:://p' "/proc/$pid/cgroup")" "$ID" "cgroup2 cgroup of the container"
  rt_capture delete --force "$ID"
  expect_success "delete --force"
  assert_no_leftovers "$ID"
}

# --- cgroupsPath ---------------------------------------------------------------


test_cgroups_path_absolute_nested() {
  known_gap runc "runc 1.1.5 leaves the parent cgroups that it created"
  make_bundle
  share_dir shared
  config_edit '.linux.cgroupsPath = $p' --arg p "/$ID-top/middle/leaf"
  start_script_container "$WAIT_SCRIPT"
  local dir
  dir=$(cg_dir memory)
  assert_match "$dir" "^/sys/fs/cgroup(/memory)?/$ID-top/middle/leaf\$" "memory cgroup of the container"
  dir=$(cg_dir pids)
  assert_match "$dir" "^/sys/fs/cgroup(/pids)?/$ID-top/middle/leaf\$" "pids cgroup of the container"
  if cg_hybrid; then
    assert_eq "$(cg_dir unified)" "/sys/fs/cgroup/unified/$ID-top/middle/leaf" "cgroup2 cgroup of the container"
  fi
  touch "$AR_TEST_DIR/shared/go"
  wait_status "$ID" stopped
  rt_capture delete "$ID"
  expect_success "delete"
  # Every folder the runtime made is gone, the parents included.
  assert_no_leftovers "$ID"
  assert_eq "$(cgroups_named "$ID-top")" "" "cgroups of the nested path after delete"
}

test_cgroups_path_parent_kept() {
  make_bundle
  share_dir shared
  # A parent that exists before the container stays after it.
  local parent
  if cg_v2; then
    parent=/sys/fs/cgroup/$ID-parent
  else
    parent=/sys/fs/cgroup/memory/$ID-parent
  fi
  mkdir "$parent"
  config_edit '.linux.cgroupsPath = $p' --arg p "/$ID-parent/box"
  start_script_container "$WAIT_SCRIPT"
  assert_match "$(cg_dir memory)" "/$ID-parent/box\$" "memory cgroup of the container"
  rt_capture delete --force "$ID"
  expect_success "delete --force"
  [ -d "$parent" ] || fail "delete removed $parent, which the runtime did not make"
  [ ! -d "$parent/box" ] || fail "delete left $parent/box"
  rmdir "$parent"
  assert_no_leftovers "$ID"
}

test_cgroups_path_relative() {
  make_bundle
  share_dir shared
  config_edit '.linux.cgroupsPath = $p' --arg p "$ID-rel/leaf"
  start_script_container "$WAIT_SCRIPT"
  local controller own
  for controller in memory pids; do
    own=$(cg_dir_of $$ "$controller")
    assert_eq "$(cg_dir "$controller")" "${own%/}/$ID-rel/leaf" \
      "$controller cgroup of the container, below the caller's own"
  done
  rt_capture delete --force "$ID"
  expect_success "delete --force"
  assert_no_leftovers "$ID"
}

test_cgroups_path_systemd_rejected() {
  known_gap runc "runc 1.1.5 takes a systemd path without --systemd-cgroup as a cgroupfs path"
  [ ! -d /run/systemd/system ] || skip "systemd runs on this host"
  make_bundle
  config_edit '.linux.cgroupsPath = $p' --arg p "system.slice:agentrun:$ID"
  run_container
  expect_failure 'systemd'
  assert_contains "$ERR" "slice:prefix:name" "error for a systemd cgroupsPath"
  assert_no_leftovers "$ID"
  cp "$AR_BASE_CONFIG" "$BUNDLE/config.json"
  rt_capture --systemd-cgroup run --bundle "$BUNDLE" "$ID"
  expect_failure 'systemd'
  assert_no_leftovers "$ID"
}

test_cgroups_path_dotdot_rejected() {
  known_gap runc "runc 1.1.5 cleans .. out of cgroupsPath"
  make_bundle
  config_edit '.linux.cgroupsPath = $p' --arg p "/$ID/../../escape"
  run_container
  expect_failure 'cgroupsPath'
  assert_no_leftovers "$ID"
}

# --- features ----------------------------------------------------------------

test_features_cgroup_matches_host() {
  known_gap runc "runc 1.1.5 reports the cgroup versions it was built for and its systemd driver"
  rt_capture features
  expect_success "features"
  local cgroup v1=false v2=false rdma=false
  cgroup=$(jq -c .linux.cgroup <<<"$OUT") || fail "features printed no JSON: $OUT"
  if cg_v2; then
    v2=true
  else
    v1=true
    ! cg_hybrid || v2=true
  fi
  ! host_has_controller rdma || rdma=true
  assert_eq "$(jq -r .v1 <<<"$cgroup")" "$v1" "linux.cgroup.v1 of features"
  assert_eq "$(jq -r .v2 <<<"$cgroup")" "$v2" "linux.cgroup.v2 of features"
  assert_eq "$(jq -r .rdma <<<"$cgroup")" "$rdma" "linux.cgroup.rdma of features"
  assert_eq "$(jq -r .systemd <<<"$cgroup")" false "linux.cgroup.systemd of features"
  assert_eq "$(jq -r .systemdUser <<<"$cgroup")" false "linux.cgroup.systemdUser of features"

  if cg_hybrid; then
    OUT=$(unshare --mount --propagation private sh -c \
      'mount -t tmpfs none /sys/fs/cgroup/unified; exec "$@"' sh "$RUNTIME" features) ||
      fail "features on a cgroup v1 view failed"
    assert_eq "$(jq -c '[.linux.cgroup.v1, .linux.cgroup.v2]' <<<"$OUT")" "[true,false]" \
      "linux.cgroup v1 and v2 of features on a cgroup v1 view"
  fi
}
