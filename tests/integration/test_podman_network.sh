# podman's networks with the runtime under test: --network none, and
# podman's default CNI network with a port published on 127.0.0.1.
#
# The CNI test runs podman, and so the CNI plugins, in a network
# namespace of its own: the bridge, veth pairs, iptables rules and sysctls
# that CNI makes end with that namespace, and the host's network is left
# alone.  Traffic goes from that namespace's loopback address to the
# container only.  What CNI keeps in files (/var/lib/cni, /run/netns) is
# removed when podman removes the container, and the folders it created
# are removed when the test ends.  The helpers are in podman_lib.sh.

# shellcheck source=tests/integration/podman_lib.sh
. "$AR_REPO/tests/integration/podman_lib.sh"

# Folders that CNI and podman create on the host, deepest first.
CNI_HOST_DIRS=(/run/netns /var/lib/cni/results /var/lib/cni/networks/podman /var/lib/cni/networks /var/lib/cni)

# Removes the folders of CNI_HOST_DIRS that did not exist before the test,
# when they are empty but for the files of host-local's own bookkeeping.
remove_cni_host_dirs() {
  local dir
  for dir in "${CNI_CREATED_DIRS[@]}"; do
    [ -d "$dir" ] || continue
    [ "$dir" != /var/lib/cni/networks/podman ] || rm -f "$dir/lock" "$dir/last_reserved_ip.0"
    if [ -n "$(ls -A "$dir")" ]; then
      echo "cleanup: $dir is not empty, left it: $(ls -A "$dir")" >&2
      continue
    fi
    # podman, like `ip netns`, bind-mounts /run/netns on itself.
    ! mountpoint -q "$dir" || umount "$dir" || echo "cleanup: cannot unmount $dir" >&2
    rmdir "$dir" || echo "cleanup: cannot remove $dir" >&2
  done
}

# Starts a network namespace with its loopback up, and makes podman_capture
# run podman inside it (PODMAN_PREFIX).  Call it before setup_podman, so
# that podman removes its containers before the CNI folders go.
setup_podman_netns() {
  require_cmd unshare nsenter ip
  local dir i
  CNI_CREATED_DIRS=()
  for dir in "${CNI_HOST_DIRS[@]}"; do
    [ -e "$dir" ] || CNI_CREATED_DIRS+=("$dir")
  done
  add_exit_hook remove_cni_host_dirs

  spawn unshare --net sleep 600
  NETNS_PID=$SPAWNED_PID
  for ((i = 0; i < 100; i++)); do
    [ "$(readlink "/proc/$NETNS_PID/ns/net" 2>/dev/null)" != "$(readlink /proc/self/ns/net)" ] && break
    sleep 0.02
  done
  [ "$(readlink "/proc/$NETNS_PID/ns/net")" != "$(readlink /proc/self/ns/net)" ] ||
    fail "unshare --net made no network namespace"
  PODMAN_PREFIX=(nsenter "--net=/proc/$NETNS_PID/ns/net")
  "${PODMAN_PREFIX[@]}" ip link set lo up || fail "cannot set up the loopback of the test's network namespace"
}

# Runs COMMAND in the test's network namespace.
in_netns() {
  "${PODMAN_PREFIX[@]}" "$@"
}

test_podman_network_none() {
  setup_podman
  podman_run localhost/busybox sh -c 'ls /sys/class/net; ip -o -4 addr show'
  expect_success "podman run --network none"
  assert_eq "$(head -n 1 <<<"$OUT")" lo "network interfaces with --network none"
  assert_eq "$(grep -c . <<<"$OUT")" 2 "lines: the interface lo and its address"
  assert_contains "$OUT" "inet 127.0.0.1/8" "loopback address"
}

test_podman_network_cni_published_port() {
  require_cmd curl
  setup_podman_netns
  setup_podman
  local port=18080
  podman_capture run -d --pull never --cgroup-parent "/$ID" -p "127.0.0.1:$port:$port" localhost/busybox \
    sh -c 'mkdir -p /tmp/www && echo "hello from the container" >/tmp/www/index.html
      exec httpd -f -p '"$port"' -h /tmp/www'
  expect_success "podman run -d -p 127.0.0.1:$port:$port"
  CID=$OUT
  assert_runtime_called "create --bundle "

  local body="" i
  for ((i = 0; i < 50; i++)); do
    body=$(in_netns curl -sS --max-time 2 "http://127.0.0.1:$port/index.html" 2>&1) && break
    body=""
    sleep 0.2
  done
  assert_eq "$body" "hello from the container" "what curl got from 127.0.0.1:$port"

  podman_capture exec "$CID" sh -c 'ls /sys/class/net; ip -o -4 addr show eth0'
  expect_success "podman exec"
  assert_contains "$OUT" eth0 "interfaces of the container"
  assert_match "$OUT" "inet 10\.88\.[0-9]+\.[0-9]+/16" "address on podman's default network"

  podman_capture port "$CID"
  assert_contains "$OUT" "127.0.0.1:$port" "podman port"

  local netns
  netns=$(podman_field '{{.NetworkSettings.SandboxKey}}')
  assert_match "$netns" "^/run/netns/" "the container's network namespace"
  [ -e "$netns" ] || fail "$netns does not exist"
  podman_capture stop -t 1 "$CID"
  expect_success "podman stop"
  podman_capture rm "$CID"
  expect_success "podman rm"
  [ ! -e "$netns" ] || fail "$netns is left after podman rm"
}
