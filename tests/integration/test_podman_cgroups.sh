# podman's resource flags, `podman update`, pause and unpause, top and
# stats with the runtime under test.  Each test checks the cgroup values
# from inside the container or from the host, and the effect the limit
# has on the container's processes.

# setup_podman, podman_run and assert_no_podman_containers come from the
# podman tests, and the cgroup helpers (cg_v2, cg_dir_of, cg_read) from
# the cgroup tests.  The helpers defined here start with cg_, so that
# they replace none of those.
# shellcheck source=tests/integration/test_podman.sh
. "$AR_REPO/tests/integration/test_podman.sh"
# shellcheck source=tests/integration/test_cgroups.sh
. "$AR_REPO/tests/integration/test_cgroups.sh"

# Prints the path of a cgroup file inside a podman container:
# inner_cgroup_file V1_CONTROLLER V1_FILE V2_FILE names V1_FILE of the
# V1_CONTROLLER hierarchy on v1 and hybrid hosts, and V2_FILE on v2 hosts.
inner_cgroup_file() {
  if cg_v2; then
    echo "/sys/fs/cgroup/$3"
  else
    echo "/sys/fs/cgroup/$1/$2"
  fi
}

# Starts a detached podman container that runs SCRIPT, the last argument,
# with the podman options before it.  Sets CID to the container's id and
# CPID to the host pid of its first process.
cg_podman_detached() {
  local options=("${@:1:$#-1}") script=${!#}
  CID=$(timeout 60 "${PODMAN[@]}" --runtime "$RUNTIME_NAME" run -d --network none --pull never \
    --cgroup-parent "/$ID" "${options[@]}" localhost/busybox sh -c "$script" 2>"$AR_TEST_DIR/.err") ||
    fail "podman run -d failed: $(cat "$AR_TEST_DIR/.err")"
  CPID=$("${PODMAN[@]}" inspect -f '{{.State.Pid}}' "$CID") || fail "podman inspect failed"
  [ "$CPID" -gt 0 ] || fail "podman inspect shows no pid for the running container $CID"
}

# Runs podman with the test's storage and stores its output in OUT.  Fails
# with podman's error output unless podman succeeds.
cg_podman() {
  OUT=$(timeout 60 "${PODMAN[@]}" "$@" 2>"$AR_TEST_DIR/.err") ||
    fail "podman $* failed: $(cat "$AR_TEST_DIR/.err")"
}

# Removes the detached container and checks that its cgroups are gone.
cg_podman_remove() {
  cg_podman rm -f -t 0 "$CID"
  assert_no_podman_containers
  assert_eq "$(cgroups_named "libpod-$CID")" "" "cgroups of the removed container"
}

test_podman_memory_and_swap() {
  setup_podman
  local limit swap
  limit=$(inner_cgroup_file memory memory.limit_in_bytes memory.max)
  swap=$(inner_cgroup_file memory memory.memsw.limit_in_bytes memory.swap.max)
  podman_run --memory 64m --memory-swap 96m localhost/busybox cat "$limit" "$swap"
  expect_success "podman run --memory --memory-swap"
  if cg_v2; then
    # memory.swap.max counts swap alone: 96 MiB - 64 MiB.
    assert_eq "$OUT" "$(printf '%s\n' 67108864 33554432)" "memory.max and memory.swap.max"
  else
    assert_eq "$OUT" "$(printf '%s\n' 67108864 100663296)" "memory.limit_in_bytes and memory.memsw.limit_in_bytes"
  fi

  # The OOM killer ends a process that fills more than the limit.
  podman_run --memory 32m --memory-swap 32m localhost/busybox dd if=/dev/zero of=/dev/null bs=64M count=1
  assert_eq "$RC" 137 "exit status of podman run when the OOM killer ends the process"
  assert_no_podman_containers
}

test_podman_cpus_and_shares() {
  setup_podman
  local quota shares stat
  stat=$(inner_cgroup_file cpu cpu.stat cpu.stat)
  if cg_v2; then
    quota=/sys/fs/cgroup/cpu.max
    shares=/sys/fs/cgroup/cpu.weight
  else
    quota=/sys/fs/cgroup/cpu/cpu.cfs_quota_us
    shares=/sys/fs/cgroup/cpu/cpu.shares
  fi
  # A busy loop for a second under half a CPU, then the throttling count.
  podman_run --cpus 0.5 --cpu-shares 512 localhost/busybox sh -c \
    "cat $quota $shares; timeout 1 sh -c 'while :; do :; done'; grep nr_throttled $stat"
  expect_success "podman run --cpus --cpu-shares"
  local lines
  mapfile -t lines <<<"$OUT"
  if cg_v2; then
    assert_eq "${lines[0]}" "50000 100000" "cpu.max for --cpus 0.5"
    assert_eq "${lines[1]}" 20 "cpu.weight for --cpu-shares 512"
  else
    assert_eq "${lines[0]}" 50000 "cpu.cfs_quota_us for --cpus 0.5"
    assert_eq "${lines[1]}" 512 "cpu.shares for --cpu-shares 512"
  fi
  assert_match "${lines[2]}" '^nr_throttled [1-9][0-9]*$' "throttling of a busy loop under --cpus 0.5"
}

test_podman_pids_limit() {
  setup_podman
  local max
  max=$(inner_cgroup_file pids pids.max pids.max)
  podman_run --pids-limit 20 localhost/busybox sh -c "cat $max
    ( i=0; while [ \$i -lt 50 ]; do sleep 30 & i=\$((i + 1)); echo \$i >/tmp/forked; done ) 2>/dev/null
    cat /tmp/forked"
  expect_success "podman run --pids-limit"
  local lines
  mapfile -t lines <<<"$OUT"
  assert_eq "${lines[0]}" 20 "pids.max for --pids-limit 20"
  [ "${lines[1]}" -lt 50 ] || fail "all 50 forks succeeded under --pids-limit 20"
  [ "${lines[1]}" -ge 10 ] || fail "only ${lines[1]} forks succeeded under --pids-limit 20"
  assert_no_podman_containers
}

test_podman_update() {
  setup_podman
  cg_podman_detached --memory 64m --cpu-shares 512 'sleep 600'
  local memory cpu
  memory=$(cg_dir_of "$CPID" memory)
  cpu=$(cg_dir_of "$CPID" cpu)

  # podman 4.3 has no --pids-limit for update.
  cg_podman --runtime "$RUNTIME_NAME" update --memory 128m --cpus 0.25 --cpu-shares 256 "$CID"
  if cg_v2; then
    assert_eq "$(cg_read "$memory" memory.max)" 134217728 "memory.max after podman update"
    assert_eq "$(cg_read "$cpu" cpu.max)" "25000 100000" "cpu.max after podman update"
    assert_eq "$(cg_read "$cpu" cpu.weight)" 10 "cpu.weight after podman update"
  else
    assert_eq "$(cg_read "$memory" memory.limit_in_bytes)" 134217728 "memory.limit_in_bytes after podman update"
    assert_eq "$(cg_read "$cpu" cpu.cfs_quota_us)" 25000 "cpu.cfs_quota_us after podman update"
    assert_eq "$(cg_read "$cpu" cpu.shares)" 256 "cpu.shares after podman update"
  fi
  # NOTE: podman 4.3.1 stats showed the limit of the container's
  # config after an update, so the test reads the cgroup files only.
  cg_podman_remove
}

test_podman_pause_unpause() {
  setup_podman
  cg_podman_detached 'i=0; while :; do i=$((i + 1)); echo $i >/tmp/counter; sleep 0.05; done'
  local freezer counter="/proc/$CPID/root/tmp/counter" frozen_at i
  freezer=$(cg_dir_of "$CPID" freezer)
  for ((i = 0; i < 100; i++)); do
    [ -s "$counter" ] && break
    sleep 0.05
  done

  cg_podman --runtime "$RUNTIME_NAME" pause "$CID"
  cg_podman inspect -f '{{.State.Status}}' "$CID"
  assert_eq "$OUT" paused "podman status after pause"
  if cg_v2; then
    assert_eq "$(cg_read "$freezer" cgroup.freeze)" 1 "cgroup.freeze after podman pause"
  else
    assert_eq "$(cg_read "$freezer" freezer.state)" FROZEN "freezer.state after podman pause"
  fi
  frozen_at=$(cat "$counter")
  sleep 0.5
  assert_eq "$(cat "$counter")" "$frozen_at" "counter of a paused container"

  cg_podman --runtime "$RUNTIME_NAME" unpause "$CID"
  cg_podman inspect -f '{{.State.Status}}' "$CID"
  assert_eq "$OUT" running "podman status after unpause"
  if cg_v2; then
    assert_eq "$(cg_read "$freezer" cgroup.freeze)" 0 "cgroup.freeze after podman unpause"
  else
    assert_eq "$(cg_read "$freezer" freezer.state)" THAWED "freezer.state after podman unpause"
  fi
  for ((i = 0; i < 100; i++)); do
    [ "$(cat "$counter")" -gt "$frozen_at" ] && break
    sleep 0.05
  done
  [ "$(cat "$counter")" -gt "$frozen_at" ] || fail "the counter did not advance after podman unpause"
  cg_podman_remove
}

test_podman_top_and_stats() {
  setup_podman
  cg_podman_detached --memory 64m --pids-limit 50 'sleep 600 & sleep 700 & wait'
  cg_podman top "$CID"
  assert_contains "$OUT" "sleep 600" "podman top"
  assert_contains "$OUT" "sleep 700" "podman top"

  cg_podman stats --no-stream --format json "$CID"
  local stats
  stats=$(jq -c '.[0]' <<<"$OUT") || fail "podman stats printed no JSON: $OUT"
  assert_eq "$(jq -r .id <<<"$stats")" "${CID:0:12}" "id in podman stats"
  assert_match "$(jq -r .mem_usage <<<"$stats")" '^[0-9.]+[kMG]?B / 67\.11MB$' "memory in podman stats"
  assert_eq "$(jq -r .pids <<<"$stats")" 3 "pids in podman stats"
  cg_podman_remove
}
