# Egress rules by name: the keeper's DNS responder answers the container at
# 127.0.0.53, forwards the names its policy allows to the upstream, and puts
# the answered addresses into the nftables sets of the rules.
#
# Each test makes three network namespaces of its own.  In "$ID-h", the
# test's host, agentrun and the keeper run, with the test's upstream DNS
# server (tests/integration/dns_upstream.py) on its loopback.  "$ID-s" is a
# test host with busybox httpd servers.  The container joins "$ID-c" by
# path, and a veth pair joins "$ID-c" to "$ID-s" with addresses of
# 10.213.78.0/29 and fd7a:7200:78::/64 that exist only there.  No traffic
# leaves these namespaces, and they are removed when the test ends.

DNS_SERVER=10.213.78.1
DNS_SERVER_OTHER=10.213.78.4
DNS_SERVER_CNAME=10.213.78.5
DNS_CLIENT=10.213.78.2
DNS_SERVER6=fd7a:7200:78::1
DNS_CLIENT6=fd7a:7200:78::2
DNS_UPSTREAM=127.0.0.1:5353

# The upstream's records: allowed names, a name under an allowed suffix, a
# CNAME chain, and names that the policy does not allow.
DNS_RECORDS="api.allowed.test A $DNS_SERVER 5
api.allowed.test AAAA $DNS_SERVER6 5
pkg.mirror.test A $DNS_SERVER 300
mirror.test A $DNS_SERVER 300
alias.allowed.test CNAME edge.cdn.test 300
edge.cdn.test CNAME node.cdn.test 300
node.cdn.test A $DNS_SERVER_CNAME 300
hidden.test A $DNS_SERVER_OTHER 300
evil.test A $DNS_SERVER_OTHER 300
pypi.org A $DNS_SERVER 300
files.pythonhosted.org A $DNS_SERVER_OTHER 300
example.com A $DNS_SERVER_CNAME 300"

# Prints "HOST PORT open" or "HOST PORT closed" for each HOST PORT pair,
# after an HTTP request with busybox nc.  A HOST that is a name is first
# resolved with busybox nslookup, which asks the server of the container's
# /etc/resolv.conf (the static busybox cannot resolve names in nc).
DNS_PROBE='while [ $# -ge 2 ]; do
  case $1 in
    *[g-z]*) address=$(busybox nslookup -type=a "$1" 2>/dev/null | awk "/^Address: / { print \$2; exit }") ;;
    *) address=$1 ;;
  esac
  if [ -n "$address" ] && printf "GET / HTTP/1.0\r\n\r\n" |
      busybox timeout 4 busybox nc -w 2 "$address" "$2" 2>/dev/null | grep -q agentrun-hello; then
    echo "$1 $2 open"
  else
    echo "$1 $2 closed"
  fi
  shift 2
done'

dns_require() {
  [ "$(basename "$RUNTIME")" = agentrun ] || skip "the DNS responder is agentrun's own"
  require_cmd ip nft nsenter jq
  /usr/bin/python3 -c 'import dnslib' 2>/dev/null || skip "python3-dnslib is not installed"
  if ! unshare --net nft add table inet ar_probe 2>/dev/null; then
    skip "nf_tables is missing from the kernel (nft cannot add a table in a new network namespace)"
  fi
}

dns_cleanup() {
  local ns
  for ns in h s c; do
    ip netns del "$ID-$ns" 2>/dev/null || true
  done
}

# Creates the namespaces, the veth pair, the upstream DNS server and busybox
# httpd on the test host at ports 8080, 8081 and 443.
dns_setup() {
  local h=$ID-h s=$ID-s c=$ID-c old port
  dns_require
  old=$(trap -p EXIT | sed -E "s/^trap -- '(.*)' EXIT$/\\1/")
  # shellcheck disable=SC2064
  trap "$old; dns_cleanup" EXIT

  ip netns add "$h"
  ip netns add "$s"
  ip netns add "$c"
  ip -n "$h" link set lo up
  ip -n "$s" link add v0 type veth peer name v1 netns "$c"
  ip -n "$s" addr add "$DNS_SERVER/29" dev v0
  ip -n "$s" addr add "$DNS_SERVER_OTHER/29" dev v0
  ip -n "$s" addr add "$DNS_SERVER_CNAME/29" dev v0
  ip -n "$s" addr add "$DNS_SERVER6/64" dev v0 nodad
  ip -n "$c" addr add "$DNS_CLIENT/29" dev v1
  ip -n "$c" addr add "$DNS_CLIENT6/64" dev v1 nodad
  ip -n "$s" link set lo up
  ip -n "$s" link set v0 up
  ip -n "$c" link set v1 up

  mkdir -p "$AR_TEST_DIR/www"
  echo agentrun-hello >"$AR_TEST_DIR/www/index.html"
  for port in 8080 8081 443; do
    spawn ip netns exec "$s" busybox httpd -f -p "$port" -h "$AR_TEST_DIR/www"
  done
  printf '%s\n' "$DNS_RECORDS" >"$AR_TEST_DIR/records"
  : >"$AR_TEST_DIR/upstream.log"
  spawn ip netns exec "$h" /usr/bin/python3 "$AR_REPO/tests/integration/dns_upstream.py" \
    "${DNS_UPSTREAM%:*}" "${DNS_UPSTREAM#*:}" "$AR_TEST_DIR/records" "$AR_TEST_DIR/upstream.log"
  for port in 8080 8081 443; do
    dns_wait_listen "$s" "$port"
  done
  wait_file "$AR_TEST_DIR/upstream.log" 10
  local i
  for ((i = 0; i < 100; i++)); do
    grep -q ready "$AR_TEST_DIR/upstream.log" && return 0
    sleep 0.05
  done
  fail "the upstream DNS server did not start"
}

dns_wait_listen() {
  local i
  for ((i = 0; i < 100; i++)); do
    ip netns exec "$1" ss -Hltn "sport = :$2" | grep -q LISTEN && return 0
    sleep 0.05
  done
  fail "nothing listens on port $2 in $1"
}

# Prints a domain rule: dns_rule NAME PORT.
dns_rule() {
  jq -nc --arg domain "$1" --argjson port "$2" \
    '{domain: $domain, ports: [{first: $port, last: $port}], protocol: "tcp", rule: "test.yaml:\($port)"}'
}

# Gives BUNDLE the network policy (ENFORCE, EGRESS as a JSON list), audit
# events to AR_TEST_DIR/events.jsonl, the test's upstream and the namespace
# "$ID-c" by path.
dns_bundle() {
  make_bundle
  config_edit '.annotations["agentrun.policy.network"] =
      ({mode: "allowlist", enforce: $enforce, egress: $egress, ingress: []} | tojson)
    | .annotations["agentrun.policy.mode"] = (if $enforce then "enforce" else "audit" end)
    | .annotations["agentrun.policy.name"] = "dns-test"
    | .annotations["agentrun.policy.audit"] = $events
    | .annotations["agentrun.network.dns-upstream"] = $upstream
    | .linux.namespaces = [.linux.namespaces[] | select(.type != "network")]
      + [{type: "network", path: $path}]' \
    --argjson enforce "$1" --argjson egress "$2" --arg events "$AR_TEST_DIR/events.jsonl" \
    --arg upstream "$DNS_UPSTREAM" --arg path "/run/netns/$ID-c"
}

# Runs the runtime in the test's host namespace "$ID-h", as rt_capture does
# (nsenter, unlike ip netns exec, keeps the mounts and so the cgroups).
dns_rt() {
  RC=0
  timeout -k 5 60 nsenter --net="/run/netns/$ID-h" "$RUNTIME" --root "$AR_ROOT" "$@" \
    >"$AR_TEST_DIR/.out" 2>"$AR_TEST_DIR/.err" </dev/null || RC=$?
  OUT=$(cat "$AR_TEST_DIR/.out")
  ERR=$(cat "$AR_TEST_DIR/.err")
  echo "+ runtime $* in $ID-h (exit status $RC)" >&2
  [ "$RC" != 124 ] || fail "runtime $* timed out after 60s"
  return 0
}

# Runs SCRIPT (with arguments) in the container with `run` in "$ID-h".
dns_run_script() {
  set_script "$@"
  dns_rt run --bundle "$BUNDLE" "$ID"
  expect_success "container script"
}

# The dns events of AR_TEST_DIR/events.jsonl for NAME, one JSON a line.
dns_events_for() {
  [ -f "$AR_TEST_DIR/events.jsonl" ] || return 0
  jq -c --arg name "$1" 'select(.type == "dns" and .name == $name)' "$AR_TEST_DIR/events.jsonl"
}

test_allowed_name_resolves_and_connects() {
  dns_setup
  dns_bundle true "[$(dns_rule api.allowed.test 8080)]"
  dns_run_script "nslookup api.allowed.test; $DNS_PROBE" \
    api.allowed.test 8080 api.allowed.test 8081 "$DNS_SERVER6" 8080 "$DNS_SERVER_OTHER" 8080
  assert_contains "$OUT" "Address: $DNS_SERVER" "the A record"
  assert_contains "$OUT" "Address: $DNS_SERVER6" "the AAAA record"
  assert_contains "$OUT" "api.allowed.test 8080 open" "allowed name and port"
  assert_contains "$OUT" "api.allowed.test 8081 closed" "allowed name, other port"
  assert_contains "$OUT" "$DNS_SERVER6 8080 open" "the AAAA address of the allowed name"
  assert_contains "$OUT" "$DNS_SERVER_OTHER 8080 closed" "an address that was never resolved"
  grep -q '^api.allowed.test A$' "$AR_TEST_DIR/upstream.log" || fail "the upstream never saw the query"
  [ -z "$(dns_events_for api.allowed.test)" ] || fail "an allowed name wrote an event"
}

test_suffix_rule_and_cname_chain() {
  dns_setup
  dns_bundle true "[$(dns_rule '*.mirror.test' 8080), $(dns_rule alias.allowed.test 8081)]"
  dns_run_script "nslookup mirror.test; $DNS_PROBE" pkg.mirror.test 8080 alias.allowed.test 8081 \
    "$DNS_SERVER_CNAME" 8080 mirror.test 8080
  assert_contains "$OUT" "pkg.mirror.test 8080 open" "a name under the allowed suffix"
  assert_contains "$OUT" "alias.allowed.test 8081 open" "the end of the CNAME chain of an allowed name"
  assert_contains "$OUT" "$DNS_SERVER_CNAME 8080 closed" "the CNAME's address, other rule's port"
  assert_contains "$OUT" "mirror.test 8080 closed" "the suffix itself"
  assert_contains "$OUT" "REFUSED" "nslookup of the suffix itself"
  grep -q '^mirror.test ' "$AR_TEST_DIR/upstream.log" && fail "the upstream saw the refused name mirror.test"
  [ -n "$(dns_events_for mirror.test)" ] || fail "no dns event for mirror.test"
}

test_refused_name_writes_event() {
  dns_setup
  dns_bundle true "[$(dns_rule api.allowed.test 8080)]"
  dns_run_script "nslookup evil.test || true; $DNS_PROBE" evil.test 8080 "$DNS_SERVER_OTHER" 8080
  assert_contains "$OUT" "REFUSED" "nslookup of a name outside the policy"
  assert_contains "$OUT" "evil.test 8080 closed" "wget by the refused name"
  assert_contains "$OUT" "$DNS_SERVER_OTHER 8080 closed" "the refused name's address, never resolved"
  grep -q '^evil.test ' "$AR_TEST_DIR/upstream.log" && fail "the upstream saw the refused name"
  local event
  event=$(dns_events_for evil.test | head -n 1)
  [ -n "$event" ] || fail "no dns event for evil.test in $(cat "$AR_TEST_DIR/events.jsonl" 2>/dev/null)"
  jq -e '.outcome == "blocked" and .answer == "refused" and .container == env.ID and .mode == "enforce"
    and .policy == "dns-test" and .rule == "(default)" and (.qtype == "A" or .qtype == "AAAA")
    and (.time | test("Z$"))' <<<"$event" >/dev/null || fail "unexpected dns event: $event"
}

test_audit_mode_forwards_refused_names() {
  dns_setup
  dns_bundle false "[$(dns_rule api.allowed.test 8080)]"
  dns_run_script "nslookup evil.test; $DNS_PROBE" evil.test 8080
  assert_contains "$OUT" "Address: $DNS_SERVER_OTHER" "the refused name's answer in audit mode"
  assert_contains "$OUT" "evil.test 8080 open" "the connection in audit mode"
  grep -q '^evil.test A$' "$AR_TEST_DIR/upstream.log" || fail "the upstream never saw the name"
  dns_events_for evil.test | jq -e -s 'map(select(.outcome == "allowed" and .mode == "audit"
    and (.answer | type) == "array")) | length > 0' >/dev/null ||
    fail "no audit dns event with the answer: $(dns_events_for evil.test)"
}

test_sets_and_ttl_floor() {
  dns_setup
  dns_bundle true "[$(dns_rule api.allowed.test 8080)]"
  set_script 'nslookup api.allowed.test >/dev/null; sleep 30'
  dns_rt create --bundle "$BUNDLE" "$ID"
  expect_success "create"
  local ruleset
  ruleset=$(ip netns exec "$ID-c" nft list table inet agentrun)
  assert_contains "$ruleset" "ip daddr @d4_0 tcp dport 8080 accept" "the IPv4 rule of the domain rule"
  assert_contains "$ruleset" "ip6 daddr @d6_0 tcp dport 8080 accept" "the IPv6 rule of the domain rule"
  # Over TCP, from the container's namespace: the allowed name is answered
  # and fills the set; another is refused.
  local tcp
  tcp=$(ip netns exec "$ID-c" /usr/bin/python3 -c '
import sys
from dnslib import DNSRecord
for name in sys.argv[1:]:
    reply = DNSRecord.parse(DNSRecord.question(name, "AAAA").send("127.0.0.53", 53, tcp=True, timeout=5))
    print(name, reply.header.rcode, " ".join(str(rr.rdata) for rr in reply.rr))
' api.allowed.test evil.test)
  assert_contains "$tcp" "api.allowed.test 0 $DNS_SERVER6" "the AAAA answer over TCP"
  assert_contains "$tcp" "evil.test 5" "REFUSED over TCP"
  assert_contains "$(ip netns exec "$ID-c" nft list set inet agentrun d6_0)" "$DNS_SERVER6" "the IPv6 set"

  # 200 refused names in a burst: every one is refused, but the events stop
  # at the rate limit (bursts of 20, then 10 a second).
  local refused events
  refused=$(ip netns exec "$ID-c" /usr/bin/python3 -c '
from dnslib import DNSRecord
print(sum(DNSRecord.parse(DNSRecord.question("n%d.evil.test" % i).send("127.0.0.53", 53, timeout=5)).header.rcode == 5
          for i in range(200)))')
  assert_eq "$refused" 200 "REFUSED answers to 200 refused names"
  events=$(jq -c 'select(.type == "dns")' "$AR_TEST_DIR/events.jsonl" | wc -l)
  [ "$events" -ge 20 ] && [ "$events" -lt 120 ] || fail "expected 20 to 120 dns events for 201 refused names, got $events"
  dns_rt start "$ID"
  expect_success "start"
  local i set=""
  for ((i = 0; i < 100; i++)); do
    set=$(ip netns exec "$ID-c" nft list set inet agentrun d4_0)
    [[ $set == *"$DNS_SERVER"* ]] && break
    sleep 0.1
  done
  assert_contains "$set" "$DNS_SERVER timeout 30s" "the address with the TTL floor (the record says 5 s)"
  dns_rt delete --force "$ID"
  expect_success "delete --force"
}

# After delete: no keeper, no listener in the namespace, no state; the
# namespaces, which the test made, go with the test.  A container in a new
# namespace of its own takes its table and responder sockets with it.
test_delete_leaves_nothing() {
  dns_setup
  dns_bundle true "[$(dns_rule api.allowed.test 8080)]"
  set_script 'cat /etc/resolv.conf; sleep 30'
  dns_rt create --bundle "$BUNDLE" "$ID"
  expect_success "create"
  local keeper
  keeper=$(jq -r '.keeper_pid // empty' "$AR_ROOT/$ID/state.json")
  [ -n "$keeper" ] || fail "the state records no keeper"
  ip netns exec "$ID-c" ss -Hlun | grep -q '127.0.0.53:53' || fail "nothing listens on 127.0.0.53:53 (udp)"
  ip netns exec "$ID-c" ss -Hltn | grep -q '127.0.0.53:53' || fail "nothing listens on 127.0.0.53:53 (tcp)"
  [ -f "$AR_ROOT/$ID/resolv.conf" ] || fail "no resolv.conf in the state folder"
  dns_rt delete --force "$ID"
  expect_success "delete --force"
  [ ! -d "/proc/$keeper" ] || [ "$(awk '{print $3}' "/proc/$keeper/stat" 2>/dev/null)" = Z ] ||
    fail "the keeper $keeper runs on after delete"
  if ip netns exec "$ID-c" ss -Hlun | grep -q '127.0.0.53:53'; then
    fail "127.0.0.53:53 still listens after delete"
  fi
  assert_no_leftovers "$ID"
  dns_cleanup
  if ip netns list | grep -q "^$ID-"; then
    fail "namespaces left: $(ip netns list | grep "^$ID-")"
  fi
  if ip link show | grep -q "v0@\|v1@"; then
    ip -o link show | grep -q "$ID" && fail "a veth is left"
  fi
}

test_resolv_conf_covers_the_engines() {
  dns_setup
  dns_bundle true "[$(dns_rule api.allowed.test 8080)]"
  # An engine's own resolv.conf, as podman bind-mounts it.
  printf 'nameserver 10.213.78.6\n' >"$AR_TEST_DIR/engine-resolv.conf"
  add_mount /etc/resolv.conf bind "$AR_TEST_DIR/engine-resolv.conf" rbind ro
  local host_before
  host_before=$(sha256sum /etc/resolv.conf)
  dns_run_script 'cat /etc/resolv.conf'
  assert_contains "$OUT" "nameserver 127.0.0.53" "the container's resolv.conf"
  assert_not_contains "$OUT" "10.213.78.6" "the engine's resolv.conf"
  assert_eq "$(sha256sum /etc/resolv.conf)" "$host_before" "the host's /etc/resolv.conf"
}

# The example policy for coding agents: its registries resolve and connect
# on port 443, other names are refused.
test_coding_agent_example_policy() {
  dns_setup
  make_bundle
  cp "$AR_TEMPLATE/config.json" "$BUNDLE/config.json"
  config_edit '.linux.namespaces = [.linux.namespaces[] | select(.type != "network")]
      + [{type: "network", path: $path}]
    | .annotations["agentrun.network.dns-upstream"] = $upstream
    | .process.capabilities = {bounding: [], effective: [], inheritable: [], permitted: [], ambient: []}' \
    --arg path "/run/netns/$ID-c" --arg upstream "$DNS_UPSTREAM"
  mkdir -p "$BUNDLE/rootfs/workspace" "$BUNDLE/rootfs/home/agent/.ssh"
  sed "s|events: log|events: $AR_TEST_DIR/events.jsonl|" "$AR_REPO/examples/policies/coding-agent.yaml" \
    >"$AR_TEST_DIR/coding-agent.yaml"
  set_script "nslookup example.com || true; $DNS_PROBE" pypi.org 443 files.pythonhosted.org 443 \
    example.com 443 pypi.org 8080
  dns_rt run --policy "$AR_TEST_DIR/coding-agent.yaml" --bundle "$BUNDLE" "$ID"
  expect_success "run with the coding-agent policy"
  assert_contains "$OUT" "pypi.org 443 open" "a registry of the policy"
  assert_contains "$OUT" "files.pythonhosted.org 443 open" "another registry of the policy"
  assert_contains "$OUT" "example.com 443 closed" "a name outside the policy"
  assert_contains "$OUT" "pypi.org 8080 closed" "a registry on another port"
  [ -n "$(dns_events_for example.com)" ] || fail "no dns event for example.com"
}

# A container in a network namespace of its own (only loopback) still gets
# answers; its responder sockets and table go with the namespace.
test_new_namespace_resolves() {
  dns_setup
  dns_bundle true "[$(dns_rule api.allowed.test 8080)]"
  config_edit '.linux.namespaces = [.linux.namespaces[] | select(.type != "network")] + [{type: "network"}]'
  dns_run_script 'nslookup api.allowed.test; nslookup evil.test || true'
  assert_contains "$OUT" "Address: $DNS_SERVER" "the answer in a new namespace"
  assert_contains "$OUT" "REFUSED" "a refused name in a new namespace"
  assert_no_leftovers "$ID"
}

# podman bind-mounts its own resolv.conf on its default network; with a
# domain rule, the container sees the responder's.  podman, CNI and the
# keeper run in a network namespace of the test (setup_podman_netns), the
# upstream is a loopback port there, and only a refused name is looked up.
test_podman_resolv_conf() {
  [ "$(basename "$RUNTIME")" = agentrun ] || skip "the DNS responder is agentrun's own"
  # setup_podman_netns and the podman helpers.
  # shellcheck source=tests/integration/test_podman_network.sh
  . "$AR_REPO/tests/integration/test_podman_network.sh"
  setup_podman_netns
  setup_podman
  local policy
  policy=$(jq -nc --argjson egress "[$(dns_rule api.allowed.test 8080)]" \
    '{mode: "allowlist", enforce: true, egress: $egress, ingress: []}')
  # podman reads --annotation as CSV, so the JSON goes in a quoted field.
  podman_capture run --rm --pull never --cgroup-parent "/$ID" --cap-drop NET_RAW,NET_ADMIN \
    --annotation "\"agentrun.policy.network=${policy//\"/\"\"}\"" --annotation agentrun.network.dns-upstream=127.0.0.1:9 \
    localhost/busybox sh -c 'cat /etc/resolv.conf; nslookup evil.test || true'
  expect_success "podman run with a domain rule"
  assert_contains "$OUT" "nameserver 127.0.0.53" "the container's resolv.conf"
  assert_not_contains "$OUT" "search dns.podman" "podman's resolv.conf"
  assert_contains "$OUT" "REFUSED" "a refused name"
}
