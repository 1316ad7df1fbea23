# Network policy: the annotation agentrun.policy.network becomes the
# nftables table inet agentrun in the container's network namespace.
#
# Each test makes two network namespaces of its own: "$ID-s", a test host
# with busybox httpd servers, and "$ID-c", which the container joins by path
# as it would one that podman made.  A veth pair created inside them joins
# them, with addresses of 10.213.77.0/29 and fd7a:7200:77::/64 that exist
# only there.  No traffic leaves these namespaces and loopback, and the
# namespaces are removed when the test ends.

NET_V4_NET=10.213.77.0/29
NET_SERVER=10.213.77.1
NET_SERVER_OTHER=10.213.77.4
NET_CLIENT=10.213.77.2
NET_SERVER6=fd7a:7200:77::1
NET_CLIENT6=fd7a:7200:77::2
# A link-local address on the test host, which the table closes unless a
# rule lists it.
NET_LINK_LOCAL=169.254.77.1

# Prints "ADDRESS PORT open" or "ADDRESS PORT closed" for each ADDRESS PORT
# pair given, after an HTTP request with busybox nc (in the container or a
# test namespace).
PROBE_SCRIPT='while [ $# -ge 2 ]; do
  if printf "GET / HTTP/1.0\r\n\r\n" | busybox timeout 4 busybox nc -w 2 "$1" "$2" 2>/dev/null | grep -q agentrun-hello; then
    echo "$1 $2 open"
  else
    echo "$1 $2 closed"
  fi
  shift 2
done'

net_require() {
  [ "$(basename "$RUNTIME")" = agentrun ] || skip "the network policy is agentrun's own"
  require_cmd ip nft nsenter setpriv
  if ! unshare --net nft add table inet ar_probe 2>/dev/null; then
    skip "nf_tables is missing from the kernel (nft cannot add a table in a new network namespace)"
  fi
}

# Removes the namespaces after the processes that the test started are
# gone (the EXIT trap of run.sh kills those first).
net_cleanup() {
  ip netns del "$ID-s" 2>/dev/null || true
  ip netns del "$ID-c" 2>/dev/null || true
}

# Creates the namespaces "$ID-s" and "$ID-c" and the veth pair, and starts
# busybox httpd on the test host at ports 8080 and 8081.
net_setup() {
  local s=$ID-s c=$ID-c old port
  net_require
  old=$(trap -p EXIT | sed -E "s/^trap -- '(.*)' EXIT$/\\1/")
  # shellcheck disable=SC2064
  trap "$old; net_cleanup" EXIT

  ip netns add "$s"
  ip netns add "$c"
  ip -n "$s" link add v0 type veth peer name v1 netns "$c"
  ip -n "$s" addr add "$NET_SERVER/29" dev v0
  ip -n "$s" addr add "$NET_SERVER_OTHER/29" dev v0
  ip -n "$s" addr add "$NET_LINK_LOCAL/16" dev v0
  ip -n "$s" addr add "$NET_SERVER6/64" dev v0 nodad
  ip -n "$c" addr add "$NET_CLIENT/29" dev v1
  ip -n "$c" addr add "${NET_LINK_LOCAL%.1}.2/16" dev v1
  ip -n "$c" addr add "$NET_CLIENT6/64" dev v1 nodad
  ip -n "$s" link set lo up
  ip -n "$s" link set v0 up
  ip -n "$c" link set v1 up

  mkdir -p "$AR_TEST_DIR/www"
  echo agentrun-hello >"$AR_TEST_DIR/www/index.html"
  for port in 8080 8081; do
    spawn ip netns exec "$s" busybox httpd -f -p "$port" -h "$AR_TEST_DIR/www"
  done
  for port in 8080 8081; do
    wait_listen "$s" "$port"
  done
}

# Waits until something listens on TCP PORT in namespace NETNS.
wait_listen() {
  local i
  for ((i = 0; i < 100; i++)); do
    ip netns exec "$1" ss -Hltn "sport = :$2" | grep -q LISTEN && return 0
    sleep 0.05
  done
  fail "nothing listens on port $2 in $1"
}

# Runs the runtime as rt_capture does, but in network namespace NETNS
# (nsenter, unlike ip netns exec, keeps the mounts, and so the cgroups).
rt_capture_in_netns() {
  local netns=$1
  shift
  RC=0
  timeout -k 5 30 nsenter --net="/run/netns/$netns" "$RUNTIME" --root "$AR_ROOT" "$@" \
    >"$AR_TEST_DIR/.out" 2>"$AR_TEST_DIR/.err" </dev/null || RC=$?
  OUT=$(cat "$AR_TEST_DIR/.out")
  ERR=$(cat "$AR_TEST_DIR/.err")
  echo "+ runtime $* in $netns (exit status $RC)" >&2
  [ "$RC" != 124 ] || fail "runtime $* timed out after 30s"
  return 0
}

# Prints the annotation for an allowlist: net_policy ENFORCE EGRESS INGRESS
# with the rules as JSON lists.
net_policy() {
  jq -nc --argjson enforce "$1" --argjson egress "$2" --argjson ingress "${3:-[]}" \
    '{mode: "allowlist", enforce: $enforce, egress: $egress, ingress: $ingress}'
}

# Prints an egress rule: egress_rule CIDR PORT [PROTOCOL].
egress_rule() {
  jq -nc --arg cidr "$1" --argjson port "$2" --arg protocol "${3:-tcp}" \
    '{cidr: $cidr, ports: [{first: $port, last: $port}], protocol: $protocol, rule: "test.yaml:1"}'
}

# Gives BUNDLE the annotation and the namespace "$ID-c" by path.
net_bundle() {
  make_bundle
  config_edit '.annotations["agentrun.policy.network"] = $policy
    | .linux.namespaces = [.linux.namespaces[] | select(.type != "network")]
      + [{type: "network", path: $path}]' \
    --arg policy "$1" --arg path "/run/netns/$ID-c"
}

# The number of packets that passed the deny chain in namespace NETNS.
deny_count() {
  ip netns exec "$1" nft list chain inet agentrun deny | awk '/counter packets/ { print $3 }'
}

test_allowlist_opens_only_listed_address_and_port() {
  net_setup
  net_bundle "$(net_policy true "[$(egress_rule "$NET_SERVER/32" 8080), $(egress_rule "$NET_SERVER6/128" 8080)]")"
  run_script "$PROBE_SCRIPT" "$NET_SERVER" 8080 "$NET_SERVER" 8081 "$NET_SERVER_OTHER" 8080 \
    "$NET_SERVER6" 8080 "$NET_SERVER6" 8081
  assert_contains "$OUT" "$NET_SERVER 8080 open" "allowed address and port"
  assert_contains "$OUT" "$NET_SERVER 8081 closed" "allowed address, other port"
  assert_contains "$OUT" "$NET_SERVER_OTHER 8080 closed" "other address"
  assert_contains "$OUT" "$NET_SERVER6 8080 open" "allowed IPv6 address and port"
  assert_contains "$OUT" "$NET_SERVER6 8081 closed" "allowed IPv6 address, other port"
  [ "$(deny_count "$ID-c")" -gt 0 ] || fail "the deny chain counted no packets"
  assert_no_leftovers "$ID"
}

test_allowlist_by_range_and_any_protocol() {
  net_setup
  net_bundle "$(net_policy true "[$(egress_rule "$NET_V4_NET" 8081 any)]")"
  run_script "$PROBE_SCRIPT" "$NET_SERVER" 8081 "$NET_SERVER_OTHER" 8081 "$NET_SERVER" 8080
  assert_contains "$OUT" "$NET_SERVER 8081 open" "address in the range"
  assert_contains "$OUT" "$NET_SERVER_OTHER 8081 open" "other address in the range"
  assert_contains "$OUT" "$NET_SERVER 8080 closed" "port outside the rule"
}

test_link_local_closed_unless_listed() {
  net_setup
  net_bundle "$(net_policy true "[$(egress_rule 0.0.0.0/0 8080)]")"
  run_script "$PROBE_SCRIPT" "$NET_SERVER" 8080 "$NET_LINK_LOCAL" 8080
  assert_contains "$OUT" "$NET_SERVER 8080 open" "address under 0.0.0.0/0"
  assert_contains "$OUT" "$NET_LINK_LOCAL 8080 closed" "link-local address under 0.0.0.0/0"

  net_bundle "$(net_policy true "[$(egress_rule 0.0.0.0/0 8080), $(egress_rule "$NET_LINK_LOCAL" 8080)]")"
  run_script "$PROBE_SCRIPT" "$NET_LINK_LOCAL" 8080
  assert_contains "$OUT" "$NET_LINK_LOCAL 8080 open" "link-local address listed explicitly"
}

# The runtime runs in the test host's namespace, so the test host's
# addresses are the host's own: closed under a wider range, open when a rule
# lists the address itself.
test_host_addresses_closed_unless_listed() {
  net_setup
  net_bundle "$(net_policy true "[$(egress_rule "$NET_V4_NET" 8080)]")"
  set_script "$PROBE_SCRIPT" "$NET_SERVER" 8080
  rt_capture_in_netns "$ID-s" run --bundle "$BUNDLE" "$ID"
  expect_success "run in the test host's namespace"
  assert_contains "$OUT" "$NET_SERVER 8080 closed" "host address under a wider range"

  net_bundle "$(net_policy true "[$(egress_rule "$NET_V4_NET" 8080), $(egress_rule "$NET_SERVER" 8080)]")"
  set_script "$PROBE_SCRIPT" "$NET_SERVER" 8080
  rt_capture_in_netns "$ID-s" run --bundle "$BUNDLE" "$ID"
  expect_success "run in the test host's namespace"
  assert_contains "$OUT" "$NET_SERVER 8080 open" "host address listed"
  assert_no_leftovers "$ID"
}

test_audit_mode_lets_through_and_counts() {
  net_setup
  net_bundle "$(net_policy false "[$(egress_rule "$NET_SERVER/32" 8080)]")"
  run_script "$PROBE_SCRIPT" "$NET_SERVER" 8081
  assert_contains "$OUT" "$NET_SERVER 8081 open" "port outside the rules in audit mode"
  [ "$(deny_count "$ID-c")" -gt 0 ] || fail "the deny chain counted no packets"
  # grep reads the whole listing: with -q it could exit first and fail nft
  # on the closed pipe under pipefail.
  ip netns exec "$ID-c" nft list chain inet agentrun deny | grep 'agentrun-audit ' >/dev/null ||
    fail "the deny chain does not log with the prefix agentrun-audit"
}

test_ingress_opens_only_listed_port() {
  net_setup
  net_bundle "$(net_policy true '[]' '[{"ports": [{"first": 9000, "last": 9000}], "protocol": "tcp"}]')"
  mkdir -p "$BUNDLE/rootfs/www"
  echo agentrun-hello >"$BUNDLE/rootfs/www/index.html"
  config_edit '.root.readonly = false'
  set_script 'httpd -p 9000 -h /www; httpd -p 9001 -h /www; sleep 30'
  create_container
  rt_capture start "$ID"
  expect_success "start"
  wait_listen "$ID-c" 9000
  wait_listen "$ID-c" 9001
  local probe
  probe=$(ip netns exec "$ID-s" sh -c "$PROBE_SCRIPT" sh "$NET_CLIENT" 9000 "$NET_CLIENT" 9001)
  assert_contains "$probe" "$NET_CLIENT 9000 open" "ingress port listed"
  assert_contains "$probe" "$NET_CLIENT 9001 closed" "ingress port not listed"
  rt_capture delete --force "$ID"
  expect_success "delete --force"
}

test_table_in_new_namespace_cannot_be_removed() {
  net_require
  make_bundle
  config_edit '.annotations["agentrun.policy.network"] = $policy' \
    --arg policy "$(net_policy true "[$(egress_rule 10.0.0.0/8 443)]")"
  share_dir out
  set_script '{ ip link set lo down; ip route add 10.9.9.0/24 dev lo; } >/out/log.tmp 2>&1
    mv /out/log.tmp /out/log; sleep 30'
  create_container
  local pid ruleset
  pid=$(state_field "$ID" pid)
  ruleset=$(nsenter -t "$pid" -n nft list table inet agentrun)
  assert_contains "$ruleset" "policy drop" "the table in the container's namespace"
  assert_contains "$ruleset" "ip daddr 10.0.0.0/8 tcp dport 443 accept" "the allow rule"
  assert_contains "$ruleset" "ip daddr 169.254.0.0/16 jump deny" "the link-local rule"
  assert_contains "$ruleset" "ip6 daddr fd00:ec2::254 jump deny" "the IPv6 metadata rule"

  rt_capture start "$ID"
  expect_success "start"
  wait_file "$AR_TEST_DIR/out/log"
  assert_match "$(cat "$AR_TEST_DIR/out/log")" "[Oo]peration not permitted" "ip in the container"
  # nft in the container's namespace without CAP_NET_ADMIN, as the
  # container's processes run: the kernel rejects the flush.
  if nsenter -t "$pid" -n setpriv --bounding-set=-all --inh-caps=-all nft flush ruleset 2>"$AR_TEST_DIR/nft.err"; then
    fail "nft flush ruleset without CAP_NET_ADMIN succeeded"
  fi
  assert_match "$(cat "$AR_TEST_DIR/nft.err")" "[Oo]peration not permitted" "nft flush without CAP_NET_ADMIN"
  ruleset=$(nsenter -t "$pid" -n nft list table inet agentrun)
  assert_contains "$ruleset" "policy drop" "the table after the attempts"
  rt_capture delete --force "$ID"
  expect_success "delete --force"
  assert_no_leftovers "$ID"
}

test_rejects_cap_net_admin() {
  net_require
  make_bundle
  config_edit '.annotations["agentrun.policy.network"] = $policy
    | .process.capabilities.bounding += ["CAP_NET_ADMIN"]' --arg policy "$(net_policy true '[]')"
  rt_capture create --bundle "$BUNDLE" "$ID"
  expect_failure "CAP_NET_ADMIN"
  assert_no_leftovers "$ID"
}

test_rejects_cap_net_raw() {
  net_require
  make_bundle
  config_edit '.annotations["agentrun.policy.network"] = $policy
    | .process.capabilities.permitted += ["CAP_NET_RAW"]' --arg policy "$(net_policy true '[]')"
  rt_capture create --bundle "$BUNDLE" "$ID"
  expect_failure "CAP_NET_RAW"
  assert_no_leftovers "$ID"
}

# A UDP server for the test host: prints the address that each datagram
# reached, on every address given, at port 53.
UDP_SERVER='import select, socket, sys
socks = []
for address in sys.argv[1:]:
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind((address, 53))
    socks.append(s)
while True:
    for s in select.select(socks, [], [])[0]:
        s.recvfrom(512)
        print(s.getsockname()[0], flush=True)'

test_udp_outside_rules_dropped() {
  require_cmd python3
  net_setup
  net_bundle "$(net_policy true "[$(egress_rule "$NET_SERVER/32" 53 udp)]")"
  spawn ip netns exec "$ID-s" python3 -c "$UDP_SERVER" "$NET_SERVER" "$NET_SERVER_OTHER" >"$AR_TEST_DIR/udp.log"
  local i
  for ((i = 0; i < 100; i++)); do
    ip netns exec "$ID-s" ss -Hlun "sport = :53" | grep -q "$NET_SERVER_OTHER" && break
    sleep 0.05
  done
  # busybox nslookup sends its queries over UDP to port 53 of the server.
  run_script 'for server in "$@"; do nslookup -timeout=1 -retry=1 agentrun.test "$server" >/dev/null 2>&1; done
    ping -c 1 -W 1 "$1" 2>&1 || true' "$NET_SERVER" "$NET_SERVER_OTHER"
  # busybox ping needs a raw socket, and so CAP_NET_RAW, which create
  # rejects together with a network policy.
  assert_contains "$OUT" "permission denied" "ping without CAP_NET_RAW"
  assert_contains "$(cat "$AR_TEST_DIR/udp.log")" "$NET_SERVER" "UDP datagrams to the allowed address"
  assert_not_contains "$(cat "$AR_TEST_DIR/udp.log")" "$NET_SERVER_OTHER" "UDP datagrams to the other address"
  [ "$(deny_count "$ID-c")" -gt 0 ] || fail "the deny chain counted no packets"
}

test_rejects_host_network_namespace() {
  net_require
  make_bundle
  config_edit '.annotations["agentrun.policy.network"] = $policy
    | .linux.namespaces = [.linux.namespaces[] | select(.type != "network")]' \
    --arg policy "$(net_policy true '[]')"
  rt_capture create --bundle "$BUNDLE" "$ID"
  expect_failure "network namespace"
  assert_no_leftovers "$ID"
}

test_rejects_invalid_annotation() {
  net_require
  make_bundle
  config_edit '.annotations["agentrun.policy.network"] = $policy' \
    --arg policy '{"mode": "allowlist", "egress": [{"cidr": "10.0.0.1/8; flush ruleset"}]}'
  rt_capture create --bundle "$BUNDLE" "$ID"
  expect_failure 'egress\[0\]\.cidr'
  assert_no_leftovers "$ID"
}

test_mode_host_installs_nothing() {
  net_require
  make_bundle
  config_edit '.annotations["agentrun.policy.network"] = "{\"mode\": \"host\", \"enforce\": true}"'
  set_script 'sleep 30'
  create_container
  local pid
  pid=$(state_field "$ID" pid)
  if nsenter -t "$pid" -n nft list table inet agentrun >/dev/null 2>&1; then
    fail "mode host installed a table"
  fi
  rt_capture delete --force "$ID"
  expect_success "delete --force"
}

# The example agent's config.json (not the tests' base config), which asks
# for nothing beyond this policy.
test_policy_file_reaches_only_listed_server() {
  net_setup
  cat >"$AR_TEST_DIR/policy.yaml" <<POLICY
name: network-test
version: 1
description: Reaches one server of the network test.
mode: enforce
filesystem:
  readwrite_paths: [/tmp, /workspace]
process:
  capabilities: [CAP_NET_BIND_SERVICE]
network:
  mode: allowlist
  egress:
    - cidr: $NET_SERVER
      ports: [8080]
POLICY
  make_bundle
  cp "$AR_TEMPLATE/config.json" "$BUNDLE/config.json"
  config_edit '.linux.namespaces = [.linux.namespaces[] | select(.type != "network")]
    + [{type: "network", path: $path}]' --arg path "/run/netns/$ID-c"
  set_script "$PROBE_SCRIPT" "$NET_SERVER" 8080 "$NET_SERVER" 8081 "$NET_SERVER_OTHER" 8080
  run_container --policy "$AR_TEST_DIR/policy.yaml"
  expect_success "run with --policy"
  assert_contains "$OUT" "$NET_SERVER 8080 open" "the server the policy lists"
  assert_contains "$OUT" "$NET_SERVER 8081 closed" "another port"
  assert_contains "$OUT" "$NET_SERVER_OTHER 8080 closed" "another address"
  assert_no_leftovers "$ID"
}

# Runs `podman run --rm` with the namespace "$ID-c" by path, storing OUT,
# ERR and RC.
podman_run_in_netns() {
  RC=0
  timeout -k 5 60 "${PODMAN[@]}" --runtime "$RUNTIME_NAME" run --rm --pull never --cgroup-parent "/$ID" \
    --network "ns:/run/netns/$ID-c" "$@" >"$AR_TEST_DIR/.out" 2>"$AR_TEST_DIR/.err" </dev/null || RC=$?
  OUT=$(cat "$AR_TEST_DIR/.out")
  ERR=$(cat "$AR_TEST_DIR/.err")
  echo "+ podman run $* (exit status $RC)" >&2
}

# podman hands the container a namespace by path with --network ns:PATH, as
# it does with the namespaces that CNI sets up, and passes the annotation on
# to config.json.
test_podman_namespace_by_path() {
  # shellcheck source=tests/integration/test_podman.sh
  source "$AR_REPO/tests/integration/test_podman.sh"
  net_setup
  setup_podman
  local policy annotation
  policy=$(net_policy true "[$(egress_rule "$NET_SERVER/32" 8080)]")
  # podman reads --annotation as CSV: quote the field and double its quotes.
  annotation="agentrun.policy.network=$policy"
  annotation="\"${annotation//\"/\"\"}\""
  # podman's default capabilities here include CAP_NET_RAW, which create
  # rejects with a policy.
  podman_run_in_netns --annotation "$annotation" localhost/busybox true
  expect_failure "CAP_NET_RAW.*--cap-drop NET_RAW"

  podman_run_in_netns --annotation "$annotation" --cap-drop NET_RAW \
    localhost/busybox sh -c "$PROBE_SCRIPT" sh "$NET_SERVER" 8080 "$NET_SERVER" 8081 "$NET_SERVER_OTHER" 8080
  expect_success "podman run"
  assert_contains "$OUT" "$NET_SERVER 8080 open" "the allowed server under podman"
  assert_contains "$OUT" "$NET_SERVER 8081 closed" "another port under podman"
  assert_contains "$OUT" "$NET_SERVER_OTHER 8080 closed" "another address under podman"
  ip netns exec "$ID-c" nft list table inet agentrun >/dev/null || fail "no table in the namespace podman passed"
  assert_no_podman_containers
}

# Blocked attempts become connection events in the policy's audit file.
test_blocked_connections_become_events() {
  net_setup
  cat >"$AR_TEST_DIR/policy.yaml" <<POLICY
name: events-test
version: 1
description: Reaches one port of the network test and reports the rest.
mode: enforce
filesystem:
  readwrite_paths: [/tmp, /workspace]
process:
  capabilities: [CAP_NET_BIND_SERVICE]
network:
  mode: allowlist
  egress:
    - cidr: $NET_SERVER
      ports: [8080]
audit:
  events: $AR_TEST_DIR/events.jsonl
POLICY
  make_bundle
  cp "$AR_TEMPLATE/config.json" "$BUNDLE/config.json"
  config_edit '.linux.namespaces = [.linux.namespaces[] | select(.type != "network")]
    + [{type: "network", path: $path}]' --arg path "/run/netns/$ID-c"
  set_script "$PROBE_SCRIPT" "$NET_SERVER" 8080 "$NET_SERVER" 8081 "$NET_LINK_LOCAL" 8080
  run_container --policy "$AR_TEST_DIR/policy.yaml"
  expect_success "run with --policy"
  assert_contains "$OUT" "$NET_SERVER 8081 closed" "another port"
  wait_file "$AR_TEST_DIR/events.jsonl"
  local events
  events=$(cat "$AR_TEST_DIR/events.jsonl")
  jq -se --arg d "$NET_SERVER" --arg id "$ID" 'any(.type == "connection" and .destination == $d and .port == 8081
    and .outcome == "blocked" and .protocol == "tcp" and .family == "ipv4" and .direction == "egress"
    and .rule == "(default)" and .container == $id and .policy == "events-test")' \
    <<<"$events" >/dev/null || fail "no event for port 8081: $events"
  jq -se --arg d "$NET_LINK_LOCAL" 'any(.type == "connection" and .destination == $d
    and .rule == "(link-local or cloud metadata address)")' \
    <<<"$events" >/dev/null || fail "no event for the link-local address: $events"
  if jq -se --arg d "$NET_SERVER" 'any(.destination == $d and .port == 8080)' <<<"$events" >/dev/null; then
    fail "an allowed connection was reported: $events"
  fi
  assert_no_leftovers "$ID"
}
