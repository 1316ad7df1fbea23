# Crashes and broken state roots: the runtime killed at each failpoint of
# create, start, exec, run and delete (AGENTRUN_FAILPOINT, see
# sandbox/failpoint.h), a full state root and a read-only one.  After each,
# `delete --force` must remove everything and `list` must stay consistent.

# Skips the test for runtimes without agentrun's failpoints.
require_failpoints() {
  [ "$(basename "$RUNTIME")" = agentrun ] || skip "failpoints are agentrun's own"
}

# Runs the runtime with the failpoint NAME armed and fails unless the
# runtime was killed there: crash_at NAME ARGS...
crash_at() {
  local name=$1
  shift
  AGENTRUN_FAILPOINT=$name rt_capture "$@"
  [ "$RC" = 137 ] || fail "runtime $* with failpoint $name: expected exit status 137 (SIGKILL), got $RC"
  assert_contains "$ERR" "failpoint $name reached" "stderr of the crashed runtime"
}

# Fails unless `list` succeeds and shows container CID exactly once, and
# `state CID` agrees with it on the status.
assert_listed_once() {
  local cid=$1 listing count list_status state_status
  rt_capture list --format json
  expect_success "list after the crash"
  listing=$OUT
  count=$(jq --arg id "$cid" '(. // []) | map(select(.id == $id)) | length' <<<"$listing") ||
    fail "list printed invalid JSON: $listing"
  assert_eq "$count" 1 "entries of $cid in list"
  list_status=$(jq -r --arg id "$cid" '.[] | select(.id == $id) | .status' <<<"$listing")
  rt_capture state "$cid"
  expect_success "state after the crash"
  state_status=$(jq -r .status <<<"$OUT")
  assert_eq "$list_status" "$state_status" "status of $cid in list and in state"
}

# Removes container CID with delete --force and checks that nothing of it
# is left and that list is still valid.
force_delete_clean() {
  local cid=$1
  rt_capture delete --force "$cid"
  expect_success "delete --force $cid after the crash"
  assert_no_leftovers "$cid"
  rt_capture list --format json
  expect_success "list after delete --force"
  jq -e 'type == "array" or . == null' <<<"$OUT" >/dev/null || fail "list printed invalid JSON: $OUT"
}

test_crash_in_create() {
  require_failpoints
  make_bundle
  set_args sleep 60
  local name n=0 cid
  for name in create.state-dir-created create.cgroup-created create.cloned create.spawned \
    create.network-applied create.keeper-started create.before-state-write create.state-written; do
    n=$((n + 1))
    cid=$ID-$n
    crash_at "$name" create --bundle "$BUNDLE" "$cid"
    assert_listed_once "$cid"
    force_delete_clean "$cid"
  done
}

test_crash_in_start() {
  require_failpoints
  make_bundle
  set_args sleep 60
  local name n=0 cid
  for name in start.before-fifo start.fifo-read; do
    n=$((n + 1))
    cid=$ID-$n
    rt_capture create --bundle "$BUNDLE" "$cid"
    expect_success "create $cid"
    crash_at "$name" start "$cid"
    assert_listed_once "$cid"
    force_delete_clean "$cid"
  done
}

test_crash_in_run() {
  require_failpoints
  make_bundle
  set_args sleep 60
  local name n=0 cid
  for name in create.cgroup-created create.cloned create.spawned create.state-written \
    start.before-fifo start.fifo-read; do
    n=$((n + 1))
    cid=$ID-$n
    crash_at "$name" run --bundle "$BUNDLE" "$cid"
    assert_listed_once "$cid"
    force_delete_clean "$cid"
  done
}

test_crash_in_exec() {
  require_failpoints
  make_bundle
  set_args sleep 60
  rt_capture run --detach --bundle "$BUNDLE" "$ID"
  expect_success "run --detach"
  crash_at exec.loaded exec "$ID" /bin/true
  # The process that exec started keeps running in the container, as a
  # detached exec would, until delete kills it.
  crash_at exec.joined exec "$ID" sleep 50
  assert_listed_once "$ID"
  assert_eq "$(state_field "$ID" status)" running "status after the crashed execs"
  rt_capture exec "$ID" /bin/true
  expect_success "exec after the crashed execs"
  force_delete_clean "$ID"
}

test_crash_in_delete() {
  require_failpoints
  make_bundle
  set_args sleep 60
  local name n=0 cid
  for name in delete.killed delete.cgroup-removed; do
    n=$((n + 1))
    cid=$ID-$n
    rt_capture run --detach --bundle "$BUNDLE" "$cid"
    expect_success "run --detach $cid"
    crash_at "$name" delete --force "$cid"
    assert_listed_once "$cid"
    assert_eq "$(state_field "$cid" status)" stopped "status after the crashed delete"
    force_delete_clean "$cid"
  done
}

# With an egress policy the nftables table lives in the container's own
# network namespace: after delete --force no process and no mount may hold
# that namespace any more.
test_crash_with_egress_policy() {
  require_failpoints
  require_cmd nft
  unshare --net nft add table inet ar_probe 2>/dev/null ||
    skip "nf_tables is missing from the kernel (nft cannot add a table in a new network namespace)"
  make_bundle
  set_args sleep 60
  config_edit '.annotations["agentrun.policy.network"] = $policy' \
    --arg policy '{"mode": "allowlist", "enforce": true, "egress": [{"cidr": "10.0.0.0/8", "ports": [{"first": 443, "last": 443}], "protocol": "tcp", "rule": "test.yaml:1"}], "ingress": []}'
  local name n=0 cid pid netns holders
  for name in create.spawned create.network-applied create.keeper-started create.state-written \
    start.fifo-read; do
    n=$((n + 1))
    cid=$ID-$n
    if [[ $name == start.* ]]; then
      crash_at "$name" run --bundle "$BUNDLE" "$cid"
    else
      crash_at "$name" create --bundle "$BUNDLE" "$cid"
    fi
    assert_listed_once "$cid"
    pid=$(state_field "$cid" pid)
    if [ -z "$pid" ] || [ "$pid" = 0 ]; then
      fail "no container pid in the state after $name"
    fi
    netns=$(readlink "/proc/$pid/ns/net") || fail "container process $pid is gone before delete"
    assert_ne "$netns" "$(readlink /proc/self/ns/net)" "network namespace of the container"
    if [ "$name" != create.spawned ]; then
      nsenter -t "$pid" -n nft list table inet agentrun >/dev/null ||
        fail "no agentrun table in the container's namespace after $name"
    fi
    force_delete_clean "$cid"
    holders=$(for f in /proc/[0-9]*/ns/net; do
      [ "$(readlink "$f" 2>/dev/null)" = "$netns" ] && echo "${f%/ns/net}"
    done || true)
    [ -z "$holders" ] || fail "processes still in the container's network namespace $netns: $holders"
    ! grep -qF "$netns" /proc/self/mountinfo || fail "the network namespace $netns is still mounted"
  done
}

# --- broken state roots --------------------------------------------------------

# Mounts a tmpfs of SIZE at AR_TEST_DIR/NAME (run.sh unmounts it) and
# prints its path.
small_tmpfs() {
  local dir=$AR_TEST_DIR/$1
  mkdir -p "$dir"
  mount -t tmpfs -o "size=$2,mode=0700" "ar-faults" "$dir" || fail "cannot mount a tmpfs at $dir"
  echo "$dir"
}

# Fills the file system at DIR until writes fail.
fill_fs() {
  dd if=/dev/zero of="$1/filler" bs=4k 2>/dev/null || true
  ! dd if=/dev/zero of="$1/probe" bs=4k count=1 2>/dev/null || fail "$1 is not full after filling it"
  rm -f "$1/probe"
}

test_full_root_fails_cleanly() {
  make_bundle
  local fs root
  fs=$(small_tmpfs full 256k)
  root=$fs/root
  mkdir "$root"
  fill_fs "$fs"

  RC=0
  timeout -k 5 30 "$RUNTIME" --root "$root" create --bundle "$BUNDLE" "$ID" \
    >"$AR_TEST_DIR/.out" 2>"$AR_TEST_DIR/.err" </dev/null || RC=$?
  ERR=$(cat "$AR_TEST_DIR/.err")
  OUT=$(cat "$AR_TEST_DIR/.out")
  echo "create on a full root: exit status $RC: $ERR" >&2
  expect_failure "no space left on device"
  assert_contains "$ERR" "$root/$ID" "the error of create on a full root"

  assert_eq "$(ls -A "$root")" "" "contents of the full root after the failed create"
  AR_ROOT=$root assert_no_leftovers "$ID"
  timeout 30 "$RUNTIME" --root "$root" list --format json >"$AR_TEST_DIR/list.json" ||
    fail "list on the full root failed"

  # With space again, the same id can be created and deleted.
  rm -f "$fs/filler"
  AR_ROOT=$root create_container
  timeout 30 "$RUNTIME" --root "$root" delete --force "$ID" || fail "delete --force on the root with space"
  AR_ROOT=$root assert_no_leftovers "$ID"
}

# A container whose root fills up while it runs can still be deleted.
test_full_root_delete_still_works() {
  make_bundle
  set_args sleep 60
  local fs
  fs=$(small_tmpfs full 256k)
  AR_ROOT=$fs/root
  mkdir "$AR_ROOT"
  rt_capture run --detach --bundle "$BUNDLE" "$ID"
  expect_success "run --detach"
  fill_fs "$fs"
  rt_capture list --format json
  expect_success "list on the full root"
  assert_eq "$(jq -r --arg id "$ID" '.[] | select(.id == $id) | .status' <<<"$OUT")" running "status in list"
  rt_capture delete --force "$ID"
  expect_success "delete --force on the full root"
  assert_no_leftovers "$ID"
}

test_read_only_root_fails_cleanly() {
  make_bundle
  set_args sleep 60
  local fs
  fs=$(small_tmpfs ro 1m)
  AR_ROOT=$fs/root
  mkdir "$AR_ROOT"
  mount -o remount,ro "$fs" || fail "cannot remount $fs read-only"

  rt_capture create --bundle "$BUNDLE" "$ID"
  expect_failure "read-only file system"
  assert_contains "$ERR" "$AR_ROOT/$ID" "the error of create on a read-only root"
  assert_no_leftovers "$ID"
  rt_capture list --format json
  expect_success "list on the read-only root"

  # A container made before the root turned read-only: delete fails with
  # the path, and the state stays readable and complete.
  mount -o remount,rw "$fs"
  rt_capture run --detach --bundle "$BUNDLE" "$ID"
  expect_success "run --detach"
  mount -o remount,ro "$fs"
  rt_capture delete --force "$ID"
  expect_failure "read-only file system"
  assert_contains "$ERR" "$AR_ROOT" "the error of delete on a read-only root"
  assert_listed_once "$ID"
  assert_eq "$(state_field "$ID" status)" stopped "status after the failed delete"

  mount -o remount,rw "$fs"
  rt_capture delete --force "$ID"
  expect_success "delete --force once the root is writable"
  assert_no_leftovers "$ID"
}
