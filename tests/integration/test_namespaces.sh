# Namespaces: each kind new, shared with the host (absent from the config)
# and joined by path, and user namespaces with id maps.  The tests compare
# /proc/self/ns/* inside the container with the host's, and with the
# namespaces of a holder process that the test starts.

# Prints "KIND NAMESPACE" for each kind given, as seen from the container.
NS_SCRIPT='for kind in "$@"; do echo "$kind $(readlink /proc/self/ns/$kind)"; done'

# Prints the container's namespace of KIND from the output of NS_SCRIPT.
container_ns() {
  awk -v k="$1" '$1 == k { print $2 }' <<<"$OUT"
}

test_new_namespaces_differ_from_host() {
  make_bundle
  run_script "$NS_SCRIPT" pid net ipc uts mnt cgroup
  local kind
  for kind in pid net ipc uts mnt cgroup; do
    [ -n "$(container_ns $kind)" ] || fail "no $kind namespace in the output: $OUT"
    assert_ne "$(container_ns $kind)" "$(ns_of $kind)" "$kind namespace of the container"
  done
  assert_eq "$(container_ns user)" "" "user namespace line (not asked for)"
}

test_absent_namespaces_are_the_hosts() {
  make_bundle
  config_edit '.linux.namespaces = [{type: "mount"}] | del(.hostname)'
  run_script "$NS_SCRIPT" pid net ipc uts cgroup user
  local kind
  for kind in pid net ipc uts cgroup user; do
    assert_eq "$(container_ns $kind)" "$(ns_of $kind)" "$kind namespace of the container"
  done
}

test_user_namespace_id_maps() {
  make_bundle
  config_edit '.linux.namespaces += [{type: "user"}]
    | .linux.uidMappings = [{containerID: 0, hostID: 100000, size: 65536}]
    | .linux.gidMappings = [{containerID: 0, hostID: 200000, size: 65536}]'
  run_script 'cat /proc/self/uid_map /proc/self/gid_map; echo "uid $(id -u)"; readlink /proc/self/ns/user'
  local lines
  lines=$(awk 'NF == 3 { print $1, $2, $3 }' <<<"$OUT")
  assert_eq "$lines" "$(printf '0 100000 65536\n0 200000 65536')" "uid_map and gid_map"
  assert_contains "$OUT" "uid 0" "id -u in the container"
  assert_not_contains "$OUT" "$(ns_of user)" "user namespace of the container"
}

test_user_namespace_process_uid_on_host() {
  make_bundle
  config_edit '.linux.namespaces += [{type: "user"}]
    | .linux.uidMappings = [{containerID: 0, hostID: 100000, size: 65536}]
    | .linux.gidMappings = [{containerID: 0, hostID: 100000, size: 65536}]
    | .process.user = {uid: 1000, gid: 1000}'
  set_script 'sleep 10'
  create_container
  rt_capture start "$ID"
  expect_success "start"
  local pid status
  pid=$(state_field "$ID" pid)
  status=$(cat "/proc/$pid/status")
  assert_eq "$(status_value "$status" Uid)" "$(printf '101000\t101000\t101000\t101000')" \
    "Uid of the container process seen from the host"
  assert_eq "$(status_value "$status" Gid)" "$(printf '101000\t101000\t101000\t101000')" \
    "Gid of the container process seen from the host"
}

# A new network namespace gets its loopback interface up, as runc and crun
# leave it: podman's --network none relies on it.
test_new_network_namespace_loopback_up() {
  make_bundle
  run_script 'ls /sys/class/net; cat /sys/class/net/lo/flags; ip -o -4 addr show lo'
  assert_eq "$(head -n 1 <<<"$OUT")" lo "interfaces of a new network namespace"
  assert_eq "$(( $(sed -n 2p <<<"$OUT") & 1 ))" 1 "IFF_UP in the flags of lo ($(sed -n 2p <<<"$OUT"))"
  assert_contains "$OUT" "inet 127.0.0.1/8" "address of lo"
}

# The same with a new user namespace, which owns the network namespace.
test_new_network_namespace_loopback_up_in_user_namespace() {
  make_bundle
  config_edit '.linux.namespaces += [{type: "user"}]
    | .linux.uidMappings = [{containerID: 0, hostID: 100000, size: 65536}]
    | .linux.gidMappings = [{containerID: 0, hostID: 100000, size: 65536}]'
  run_script 'ip -o -4 addr show lo'
  assert_contains "$OUT" "inet 127.0.0.1/8" "address of lo"
}

# Joins a namespace of KIND that a holder started with UNSHARE_FLAGS keeps,
# and checks that the container is in it.
check_join_by_path() {
  local kind=$1 type=$2
  shift 2
  local holder
  holder=$(start_holder "$@")
  make_bundle
  config_edit '.linux.namespaces = (.linux.namespaces | map(select(.type != $t))) + [{type: $t, path: $p}]' \
    --arg t "$type" --arg p "/proc/$holder/ns/$kind"
  run_script "$NS_SCRIPT" "$kind"
  assert_eq "$(container_ns "$kind")" "$(ns_of "$kind" "$holder")" "$type namespace of the container"
  assert_ne "$(container_ns "$kind")" "$(ns_of "$kind")" "$type namespace of the holder and host"
}

test_join_network_namespace() {
  check_join_by_path net network --net
}

test_join_ipc_namespace() {
  check_join_by_path ipc ipc --ipc
}

test_join_uts_namespace() {
  check_join_by_path uts uts --uts
}

test_join_cgroup_namespace() {
  check_join_by_path cgroup cgroup --cgroup
}

test_join_mount_namespace() {
  check_join_by_path mnt mount --mount --propagation private
}

test_join_pid_namespace() {
  check_join_by_path pid pid --pid --fork
}

test_join_user_namespace() {
  known_gap runc "runc 1.1.5 requires uidMappings even when joining a user namespace by path"
  local holder
  holder=$(start_holder --user)
  echo "0 100000 65536" >"/proc/$holder/uid_map"
  echo "0 100000 65536" >"/proc/$holder/gid_map"
  make_bundle
  config_edit '.linux.namespaces += [{type: "user", path: $p}]' --arg p "/proc/$holder/ns/user"
  run_script "$NS_SCRIPT"' ; cat /proc/self/uid_map' user
  assert_eq "$(container_ns user)" "$(ns_of user "$holder")" "user namespace of the container"
  assert_match "$OUT" "^ *0 +100000 +65536" "uid_map of the joined user namespace"
}

test_new_time_namespace() {
  known_gap runc "runc 1.1.5 does not know the time namespace"
  [ -e /proc/self/ns/time ] || skip "this kernel has no time namespaces"
  make_bundle
  config_edit '.linux.namespaces += [{type: "time"}]
    | .linux.timeOffsets = {monotonic: {secs: 86400, nanosecs: 0}, boottime: {secs: 86400, nanosecs: 0}}'
  # /proc/uptime reads CLOCK_BOOTTIME, so the boottime offset shows there.
  run_script "$NS_SCRIPT"'; cut -d" " -f1 /proc/uptime' time
  assert_ne "$(container_ns time)" "$(ns_of time)" "time namespace of the container"
  local uptime
  uptime=$(tail -n 1 <<<"$OUT")
  [ "${uptime%.*}" -ge 86400 ] || fail "boottime offset of one day not applied: uptime $uptime"
}

test_join_time_namespace() {
  known_gap runc "runc 1.1.5 does not know the time namespace"
  [ -e /proc/self/ns/time ] || skip "this kernel has no time namespaces"
  local holder
  holder=$(start_holder --time --fork)
  make_bundle
  config_edit '.linux.namespaces += [{type: "time", path: $p}]' --arg p "/proc/$holder/ns/time"
  run_script "$NS_SCRIPT" time
  assert_eq "$(container_ns time)" "$(ns_of time "$holder")" "time namespace of the container"
}
