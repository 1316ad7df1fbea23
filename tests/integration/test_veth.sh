# agentrun's own container network: a veth pair per container, addresses
# from AGENTRUN_NETWORK_SUBNET, and the host table inet agentrun-host.
#
# The runtime never runs in the machine's own network namespace here.  Each
# test makes "$ID-h", the "host" where agentrun runs and makes its veth
# pairs, forwarding and nftables table.  It also makes "$ID-s", a server
# that the veth pair up0/up1 joins to the host, with addresses of the
# documentation ranges 198.51.100.0/24 and 2001:db8:51::/64.  The EXIT
# trap deletes the containers from inside "$ID-h" and removes both
# namespaces, which takes every veth and table in them along.

VETH_HOST_UP=198.51.100.1
VETH_SERVER=198.51.100.2
VETH_SERVER_OTHER=198.51.100.3
VETH_HOST_UP6=2001:db8:51::1
VETH_SERVER6=2001:db8:51::2
VETH_GATEWAY=10.231.0.1
VETH_GATEWAY6=fd5c:3a1e:7b29:1::1

# Prints "ADDRESS PORT open" or "ADDRESS PORT closed" for each ADDRESS PORT
# pair given, after an HTTP request with busybox nc.
VETH_PROBE='while [ $# -ge 2 ]; do
  if printf "GET / HTTP/1.0\r\n\r\n" | busybox timeout 4 busybox nc -w 2 "$1" "$2" 2>/dev/null | grep -q agentrun-hello; then
    echo "$1 $2 open"
  else
    echo "$1 $2 closed"
  fi
  shift 2
done'

veth_cleanup() {
  local state
  for state in "$AR_ROOT"/*/; do
    [ -d "$state" ] || continue
    timeout -k 2 10 nsenter --net="/run/netns/$ID-h" "$RUNTIME" --root "$AR_ROOT" delete --force \
      "$(basename "$state")" >/dev/null 2>&1 || true
  done
  ip netns del "$ID-h" 2>/dev/null || true
  ip netns del "$ID-s" 2>/dev/null || true
}

# Waits until something listens on TCP PORT in namespace NETNS.
veth_wait_listen() {
  local i
  for ((i = 0; i < 100; i++)); do
    ip netns exec "$1" ss -Hltn "sport = :$2" | grep -q LISTEN && return 0
    sleep 0.05
  done
  fail "nothing listens on port $2 in $1"
}

# Makes both namespaces, the veth pair between them, and busybox httpd at
# port 8080 in the server and in the host (where the containers must not
# reach it through their gateway).
veth_setup() {
  local h=$ID-h s=$ID-s old
  [ "$(basename "$RUNTIME")" = agentrun ] || skip "the container network is agentrun's own"
  require_cmd ip nft nsenter busybox
  if ! unshare --net nft add table inet ar_probe 2>/dev/null; then
    skip "nf_tables is missing from the kernel"
  fi
  old=$(trap -p EXIT | sed -E "s/^trap -- '(.*)' EXIT$/\\1/")
  # shellcheck disable=SC2064
  trap "$old; veth_cleanup" EXIT

  ip netns add "$h"
  ip netns add "$s"
  ip -n "$h" link set lo up
  ip -n "$s" link set lo up
  ip -n "$h" link add up0 type veth peer name up1 netns "$s"
  ip -n "$h" addr add "$VETH_HOST_UP/24" dev up0
  ip -n "$h" addr add "$VETH_HOST_UP6/64" dev up0 nodad
  ip -n "$s" addr add "$VETH_SERVER/24" dev up1
  ip -n "$s" addr add "$VETH_SERVER_OTHER/24" dev up1
  ip -n "$s" addr add "$VETH_SERVER6/64" dev up1 nodad
  ip -n "$h" link set up0 up
  ip -n "$s" link set up1 up

  mkdir -p "$AR_TEST_DIR/www"
  echo agentrun-hello >"$AR_TEST_DIR/www/index.html"
  spawn ip netns exec "$s" busybox httpd -f -p 8080 -h "$AR_TEST_DIR/www"
  spawn ip netns exec "$h" busybox httpd -f -p 8080 -h "$AR_TEST_DIR/www"
  veth_wait_listen "$s" 8080
  veth_wait_listen "$h" 8080
}

# Runs the runtime in the host namespace as rt_capture does, with
# AGENTRUN_NETWORK_SUBNET set to VETH_SUBNET (unset: the defaults).
rt_in_host() {
  local env=(env -u AGENTRUN_NETWORK_SUBNET)
  [ -z "${VETH_SUBNET+x}" ] || env=(env "AGENTRUN_NETWORK_SUBNET=$VETH_SUBNET")
  RC=0
  timeout -k 5 30 nsenter --net="/run/netns/$ID-h" "${env[@]}" "$RUNTIME" --root "$AR_ROOT" "$@" \
    >"$AR_TEST_DIR/.out" 2>"$AR_TEST_DIR/.err" </dev/null || RC=$?
  OUT=$(cat "$AR_TEST_DIR/.out")
  ERR=$(cat "$AR_TEST_DIR/.err")
  {
    echo "+ runtime $* in $ID-h (exit status $RC)"
    [ -z "$OUT" ] || printf 'stdout: %s\n' "$OUT"
    [ -z "$ERR" ] || printf 'stderr: %s\n' "$ERR"
  } >&2
  [ "$RC" != 124 ] || fail "runtime $* timed out after 30s"
  return 0
}

# A bundle at DIR with a new network namespace and an allowlist of EGRESS
# (a JSON list of rules).
veth_bundle() {
  make_bundle "$1"
  config_edit '.annotations["agentrun.policy.network"] = ({mode: "allowlist", enforce: true, egress: $egress} | tojson)' \
    --argjson egress "$2"
}

# An egress rule for CIDR at tcp port 8080.
veth_rule() {
  jq -nc --arg cidr "$1" '{cidr: $cidr, ports: [{first: 8080, last: 8080}], protocol: "tcp", rule: "test.yaml:1"}'
}

# The allowlist of most tests: the server, its IPv6 address and the
# gateway, which stays closed although a rule lists it.
veth_allowlist() {
  echo "[$(veth_rule "$VETH_SERVER/32"), $(veth_rule "$VETH_SERVER6/128"), $(veth_rule "$VETH_GATEWAY/32"), $(veth_rule "$VETH_GATEWAY6/128")]"
}

# Prints the elements of SET in the host table, one a line.
host_set() {
  ip netns exec "$ID-h" nft -j list set inet agentrun-host "$1" | jq -r '.nftables[].set.elem[]? // empty'
}

# Fails when the host still has a veth pair of agentrun, an element in its
# table or an address lease.
assert_network_removed() {
  local links leases
  links=$(ip -n "$ID-h" -o link show | awk -F': ' '$2 ~ /^ar/ { print $2 }')
  [ -z "$links" ] || fail "veth pairs left in the host: $links"
  if ip netns exec "$ID-h" nft list table inet agentrun-host >/dev/null 2>&1; then
    assert_eq "$(host_set interfaces)" "" "interfaces in the host table"
    assert_eq "$(host_set addresses4)" "" "IPv4 addresses in the host table"
    assert_eq "$(host_set addresses6)" "" "IPv6 addresses in the host table"
  fi
  leases=$(ls "$AR_ROOT/.network/leases" 2>/dev/null || true)
  [ -z "$leases" ] || fail "address leases left: $leases"
}

# The network record in the state.json of container ID_ARG.
network_record() {
  jq -c '.network // empty' "$AR_ROOT/$1/state.json"
}

test_allowlist_through_veth() {
  veth_setup
  veth_bundle "$AR_TEST_DIR/b" "$(veth_allowlist)"
  BUNDLE=$AR_TEST_DIR/b
  set_script 'ip -o addr show dev eth0; ip route; ip -6 route; '"$VETH_PROBE" \
    "$VETH_SERVER" 8080 "$VETH_SERVER_OTHER" 8080 "$VETH_SERVER6" 8080 "$VETH_GATEWAY" 8080 \
    "$VETH_GATEWAY6" 8080 "$VETH_HOST_UP" 8080
  rt_in_host run --bundle "$BUNDLE" "$ID"
  expect_success "run with the veth network"
  assert_contains "$OUT" "inet 10.231.0.2/16" "the container's IPv4 address"
  assert_contains "$OUT" "inet6 fd5c:3a1e:7b29:1::2/64" "the container's IPv6 address"
  assert_contains "$OUT" "default via $VETH_GATEWAY dev eth0" "the IPv4 default route"
  assert_contains "$OUT" "default via $VETH_GATEWAY6 dev eth0" "the IPv6 default route"
  assert_contains "$OUT" "$VETH_SERVER 8080 open" "the allowed server"
  assert_contains "$OUT" "$VETH_SERVER_OTHER 8080 closed" "an address outside the rules"
  assert_contains "$OUT" "$VETH_SERVER6 8080 open" "the allowed server over IPv6"
  assert_contains "$OUT" "$VETH_GATEWAY 8080 closed" "the gateway, listed by a rule"
  assert_contains "$OUT" "$VETH_GATEWAY6 8080 closed" "the IPv6 gateway, listed by a rule"
  assert_contains "$OUT" "$VETH_HOST_UP 8080 closed" "another address of the host"
  assert_eq "$(ip netns exec "$ID-h" cat /proc/sys/net/ipv4/ip_forward)" 1 "IPv4 forwarding in the host"
  assert_eq "$(ip netns exec "$ID-h" cat /proc/sys/net/ipv6/conf/all/forwarding)" 1 "IPv6 forwarding in the host"
  assert_network_removed
  assert_no_leftovers "$ID"
}

# Two creates at the same time get different addresses, both containers
# reach the server, and deleting one leaves the other's network working.
test_concurrent_containers_distinct() {
  veth_setup
  local a=$ID-a b=$ID-b pid_a pid_b rc_a=0 rc_b=0 record_a record_b
  veth_bundle "$AR_TEST_DIR/b" "$(veth_allowlist)"
  BUNDLE=$AR_TEST_DIR/b
  share_dir out
  set_script "$VETH_PROBE"' >/out/$(hostname).tmp; mv /out/$(hostname).tmp /out/$(hostname); sleep 60' \
    "$VETH_SERVER" 8080 "$VETH_SERVER6" 8080
  config_edit '.hostname = "a"'
  cp -a "$AR_TEST_DIR/b" "$AR_TEST_DIR/c"
  BUNDLE=$AR_TEST_DIR/c
  config_edit '.hostname = "b"'

  nsenter --net="/run/netns/$ID-h" env -u AGENTRUN_NETWORK_SUBNET "$RUNTIME" --root "$AR_ROOT" create \
    --bundle "$AR_TEST_DIR/b" "$a" 2>"$AR_TEST_DIR/a.err" &
  pid_a=$!
  nsenter --net="/run/netns/$ID-h" env -u AGENTRUN_NETWORK_SUBNET "$RUNTIME" --root "$AR_ROOT" create \
    --bundle "$AR_TEST_DIR/c" "$b" 2>"$AR_TEST_DIR/b.err" &
  pid_b=$!
  wait "$pid_a" || rc_a=$?
  wait "$pid_b" || rc_b=$?
  assert_eq "$rc_a" 0 "create of $a ($(cat "$AR_TEST_DIR/a.err"))"
  assert_eq "$rc_b" 0 "create of $b ($(cat "$AR_TEST_DIR/b.err"))"

  record_a=$(network_record "$a")
  record_b=$(network_record "$b")
  assert_ne "$(jq -r .ipv4.address <<<"$record_a")" "$(jq -r .ipv4.address <<<"$record_b")" "the IPv4 addresses"
  assert_ne "$(jq -r .ipv6.address <<<"$record_a")" "$(jq -r .ipv6.address <<<"$record_b")" "the IPv6 addresses"
  assert_ne "$(jq -r .interface <<<"$record_a")" "$(jq -r .interface <<<"$record_b")" "the host ends"
  assert_eq "$(host_set interfaces | sort)" "$(jq -rn --argjson a "$record_a" --argjson b "$record_b" \
    '[$a.interface, $b.interface] | sort[]')" "the interfaces in the host table"
  assert_eq "$(ls "$AR_ROOT/.network/leases" | sort | tr '\n' ' ')" "2 3 " "the leases"

  rt_in_host start "$a"
  expect_success "start $a"
  rt_in_host start "$b"
  expect_success "start $b"
  wait_file "$AR_TEST_DIR/out/a" 15
  wait_file "$AR_TEST_DIR/out/b" 15
  assert_contains "$(cat "$AR_TEST_DIR/out/a")" "$VETH_SERVER 8080 open" "the server from $a"
  assert_contains "$(cat "$AR_TEST_DIR/out/b")" "$VETH_SERVER 8080 open" "the server from $b"
  assert_contains "$(cat "$AR_TEST_DIR/out/a")" "$VETH_SERVER6 8080 open" "the IPv6 server from $a"
  assert_contains "$(cat "$AR_TEST_DIR/out/b")" "$VETH_SERVER6 8080 open" "the IPv6 server from $b"

  # Both host ends hold the gateway address: removing one must leave it
  # to the other.
  rt_in_host delete --force "$a"
  expect_success "delete --force $a"
  rt_in_host exec "$b" sh -c "$VETH_PROBE" sh "$VETH_SERVER" 8080 "$VETH_SERVER6" 8080
  expect_success "exec in $b"
  assert_contains "$OUT" "$VETH_SERVER 8080 open" "the server from $b after $a is deleted"
  assert_contains "$OUT" "$VETH_SERVER6 8080 open" "the IPv6 server from $b after $a is deleted"
  rt_in_host delete --force "$b"
  expect_success "delete --force $b"
  assert_network_removed
  assert_no_leftovers "$a"
  assert_no_leftovers "$b"
}

# After the container's process dies, delete --force still removes the
# host's part from the record in state.json.
test_delete_force_after_kill() {
  veth_setup
  local pid record
  veth_bundle "$AR_TEST_DIR/b" "$(veth_allowlist)"
  BUNDLE=$AR_TEST_DIR/b
  set_script 'sleep 60'
  rt_in_host create --bundle "$BUNDLE" "$ID"
  expect_success "create"
  record=$(network_record "$ID")
  [ -n "$record" ] || fail "state.json of $ID has no network record"
  assert_eq "$(host_set interfaces)" "$(jq -r .interface <<<"$record")" "the host end in the host table"
  assert_eq "$(host_set addresses4)" "10.231.0.2" "the address in the host table"
  pid=$(jq -r .pid "$AR_ROOT/$ID/state.json")
  kill -9 "$pid"
  rt_in_host delete --force "$ID"
  expect_success "delete --force"
  assert_network_removed
  assert_no_leftovers "$ID"
}

# Runs create under strace, which kills the runtime with SIGKILL when it
# enters its Nth rename: create writes config.json, then state.json once
# the cgroup exists, after the clone, after recording the network, and
# once more when it is done.
create_killed_at_rename() {
  RC=0
  timeout -k 5 30 nsenter --net="/run/netns/$ID-h" env -u AGENTRUN_NETWORK_SUBNET \
    strace -o /dev/null -e trace=rename -e inject="rename:signal=SIGKILL:when=$1" \
    "$RUNTIME" --root "$AR_ROOT" create --bundle "$BUNDLE" "$ID" </dev/null >/dev/null 2>&1 || RC=$?
  assert_eq "$RC" 137 "exit status of create killed at rename $1"
}

# A create killed after its network exists leaves state.json with the
# record, from which delete --force removes everything.  One killed
# before the record leaves only a lease, which the next create reuses.
test_delete_force_after_crash() {
  veth_setup
  require_cmd strace
  local record
  veth_bundle "$AR_TEST_DIR/b" "$(veth_allowlist)"
  BUNDLE=$AR_TEST_DIR/b
  set_script 'sleep 60'

  create_killed_at_rename 5
  record=$(network_record "$ID")
  [ -n "$record" ] || fail "state.json of the killed create has no network record"
  assert_eq "$(jq -r .creating "$AR_ROOT/$ID/state.json")" true "creating in state.json"
  ip -n "$ID-h" link show "$(jq -r .interface <<<"$record")" >/dev/null ||
    fail "the killed create made no veth pair"
  assert_eq "$(host_set interfaces)" "$(jq -r .interface <<<"$record")" "the host end in the host table"
  rt_in_host delete --force "$ID"
  expect_success "delete --force after the killed create"
  assert_network_removed
  assert_no_leftovers "$ID"

  create_killed_at_rename 4
  assert_eq "$(network_record "$ID")" "" "the network record before it was written"
  assert_eq "$(cat "$AR_ROOT/.network/leases/2")" "$ID" "the lease of the killed create"
  rt_in_host delete --force "$ID"
  expect_success "delete --force after the create killed before its record"
  assert_no_leftovers "$ID"
  rt_in_host create --bundle "$BUNDLE" "$ID-2"
  expect_success "create after the stale lease"
  assert_eq "$(jq -r .ipv4.address <<<"$(network_record "$ID-2")")" 10.231.0.2 "the address of the stale lease"
  assert_eq "$(ls "$AR_ROOT/.network/leases")" 2 "the leases"
  rt_in_host delete --force "$ID-2"
  expect_success "delete --force"
  assert_network_removed
  assert_no_leftovers "$ID-2"
}

test_failed_create_removes_network() {
  veth_setup
  veth_bundle "$AR_TEST_DIR/b" "$(veth_allowlist)"
  BUNDLE=$AR_TEST_DIR/b
  set_script 'true'

  VETH_SUBNET=10.231.0.1/16
  rt_in_host create --bundle "$BUNDLE" "$ID"
  expect_failure "AGENTRUN_NETWORK_SUBNET: .10\.231\.0\.1/16. has host bits set"
  assert_network_removed
  assert_no_leftovers "$ID"

  VETH_SUBNET=10.231.0.0/16,10.232.0.0/16
  rt_in_host create --bundle "$BUNDLE" "$ID"
  expect_failure "two IPv4 ranges"
  assert_no_leftovers "$ID"

  # A table of that name without the sets fails create after the veth
  # pair and the lease exist.
  unset VETH_SUBNET
  ip netns exec "$ID-h" nft add table inet agentrun-host
  rt_in_host create --bundle "$BUNDLE" "$ID"
  expect_failure "cannot add container interface .ar[0-9a-f]{12}. to the nftables table inet agentrun-host"
  assert_network_removed
  assert_no_leftovers "$ID"
  ip netns exec "$ID-h" nft delete table inet agentrun-host
}

# A custom IPv4-only subnet in mode open: every destination but the
# host's addresses and the gateway.
test_subnet_setting() {
  veth_setup
  make_bundle "$AR_TEST_DIR/b"
  BUNDLE=$AR_TEST_DIR/b
  config_edit '.annotations["agentrun.policy.network"] = "{\"mode\": \"open\"}"'
  set_script 'ip -o addr show; '"$VETH_PROBE" "$VETH_SERVER" 8080 "$VETH_SERVER_OTHER" 8080 \
    192.168.77.1 8080 "$VETH_HOST_UP" 8080
  VETH_SUBNET=192.168.77.0/29
  rt_in_host run --bundle "$BUNDLE" "$ID"
  expect_success "run with an IPv4 subnet only"
  assert_contains "$OUT" "inet 192.168.77.2/29" "the container's address"
  assert_not_contains "$OUT" "inet6 fd5c" "IPv6 without an IPv6 range"
  assert_contains "$OUT" "$VETH_SERVER 8080 open" "the server in mode open"
  assert_contains "$OUT" "$VETH_SERVER_OTHER 8080 open" "the other server address in mode open"
  assert_contains "$OUT" "192.168.77.1 8080 closed" "the gateway in mode open"
  assert_contains "$OUT" "$VETH_HOST_UP 8080 closed" "another host address in mode open"
  assert_network_removed

  veth_bundle "$AR_TEST_DIR/b2" "$(veth_allowlist)"
  BUNDLE=$AR_TEST_DIR/b2
  set_script 'ip -o addr show; '"$VETH_PROBE" "$VETH_SERVER" 8080

  VETH_SUBNET=none
  rt_in_host run --bundle "$BUNDLE" "$ID"
  expect_success "run with AGENTRUN_NETWORK_SUBNET=none"
  assert_not_contains "$OUT" "eth0" "the container's interfaces"
  assert_contains "$OUT" "$VETH_SERVER 8080 closed" "the server without a network"
  assert_no_leftovers "$ID"
}
