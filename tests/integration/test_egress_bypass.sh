# Egress bypass attempts: each test tries one way that an agent could get
# around its network policy, and shows that it fails.  The policy is an
# allowlist with one CIDR rule (BP_SERVER, TCP port 8081) and one domain
# rule (*.allowed.test, TCP port 8080), enforced.
#
# Each test makes three network namespaces of its own, as test_dns.sh does.
# agentrun and the keeper run in "$ID-h", the test's host.  "$ID-s" is a
# test host with busybox httpd on TCP ports 53, 8080 and 8081 of every
# address, and the upstream DNS server (dns_upstream.py) on UDP port 53 of
# BP_SERVER.  The container joins "$ID-c" by path.  One veth pair joins
# "$ID-c" to "$ID-s" with 10.213.79.0/29 and fd7a:7200:79::/64, and carries
# the metadata addresses 169.254.169.254 and fd00:ec2::254 on the "$ID-s"
# side.  Another joins "$ID-h" to "$ID-s" (10.213.79.8/30), so the keeper
# reaches the upstream at the address that the container would use.  No
# namespace forwards, no traffic leaves them, and they are removed when the
# test ends.
#
# Where a probe finds a port closed, bp_expect_open_without_table then
# deletes the table in "$ID-c" (after the container is gone) and probes the
# same address from there: the port opens, so only the table closed it.
#
# Related checks elsewhere: test_network.sh rejects CAP_NET_ADMIN and
# CAP_NET_RAW in the permitted set, shows that `ip link set`, `ip route add`
# and `nft flush ruleset` fail in the container, and that link-local and
# host addresses stay closed under a wider rule.  test_dns.sh shows that a
# refused name's address and the address of another domain rule's name stay
# closed.

BP_SERVER=10.213.79.1
BP_CLIENT=10.213.79.2
BP_NAMED=10.213.79.3
BP_OTHER=10.213.79.4
BP_HOST=10.213.79.9
BP_HOST_PEER=10.213.79.10
BP_SERVER6=fd7a:7200:79::1
BP_CLIENT6=fd7a:7200:79::2
BP_METADATA=169.254.169.254
BP_METADATA6=fd00:ec2::254

# The upstream's records.  No name resolves to BP_OTHER over IPv4, and
# mapped.allowed.test has the IPv4-mapped form of BP_OTHER, written in hex
# for dnslib.
BP_RECORDS="api.allowed.test A $BP_NAMED 300
meta.allowed.test A $BP_METADATA 300
meta.allowed.test AAAA $BP_METADATA6 300
mapped.allowed.test AAAA ::ffff:0ad5:4f04 300"

# Defines probe_all, which prints "ADDRESS PORT open" or "ADDRESS PORT
# closed" for each ADDRESS PORT pair given, after an HTTP request with
# busybox nc.  It probes the pairs at the same time, so the lines come in
# any order.
BP_PROBE_FUNCTIONS='probe() {
  if printf "GET / HTTP/1.0\r\n\r\n" | busybox timeout 3 busybox nc -w 1 "$1" "$2" 2>/dev/null | grep -q agentrun-hello; then
    echo "$1 $2 open"
  else
    echo "$1 $2 closed"
  fi
}
probe_all() {
  while [ $# -ge 2 ]; do
    probe "$1" "$2" &
    shift 2
  done
  wait
}'

# A script that probes its arguments with probe_all.
BP_PROBE="$BP_PROBE_FUNCTIONS
probe_all \"\$@\""

# A static program that the container runs: it opens raw, packet and ICMP
# sockets, sends a netlink request that deletes the table inet agentrun,
# and tries both again in a new user namespace.  Prints one line for each
# attempt: "NAME opened", "NAME accepted" or "NAME denied ERRNO".
BP_PROBE_C='#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <linux/if_ether.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netlink.h>
#include <netinet/in.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

static void
try_socket (const char *name, int domain, int type, int protocol)
{
  int fd = socket (domain, type, protocol);

  if (fd < 0)
    printf ("%s denied %s\n", name, strerrorname_np (errno));
  else
    {
      printf ("%s opened\n", name);
      close (fd);
    }
}

static size_t
put_header (char *buf, size_t len, int type, int flags, int family, int res_id)
{
  struct nlmsghdr *nlh = (struct nlmsghdr *) (buf + len);
  struct nfgenmsg *nfg = NLMSG_DATA (nlh);

  nlh->nlmsg_len = NLMSG_LENGTH (sizeof (*nfg));
  nlh->nlmsg_type = type;
  nlh->nlmsg_flags = NLM_F_REQUEST | flags;
  nlh->nlmsg_seq = 1;
  nfg->nfgen_family = family;
  nfg->version = NFNETLINK_V0;
  nfg->res_id = htons (res_id);
  return len + NLMSG_ALIGN (nlh->nlmsg_len);
}

/* Sends the batch that `nft delete table inet agentrun` sends, and prints
 * the kernel'\''s answer. */
static void
try_delete_table (const char *name)
{
  char buf[512] = { 0 }, reply[4096];
  struct timeval timeout = { .tv_sec = 2 };
  struct nlmsghdr *nlh;
  struct nlattr *attr;
  size_t len = 0;
  ssize_t n;
  int fd;

  fd = socket (AF_NETLINK, SOCK_RAW, NETLINK_NETFILTER);
  if (fd < 0)
    {
      printf ("%s denied %s\n", name, strerrorname_np (errno));
      return;
    }
  setsockopt (fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof (timeout));

  len = put_header (buf, len, NFNL_MSG_BATCH_BEGIN, 0, AF_UNSPEC, NFNL_SUBSYS_NFTABLES);
  nlh = (struct nlmsghdr *) (buf + len);
  put_header (buf, len, (NFNL_SUBSYS_NFTABLES << 8) | NFT_MSG_DELTABLE, NLM_F_ACK, NFPROTO_INET, 0);
  attr = (struct nlattr *) ((char *) nlh + NLMSG_ALIGN (nlh->nlmsg_len));
  attr->nla_type = NFTA_TABLE_NAME;
  attr->nla_len = NLA_HDRLEN + sizeof ("agentrun");
  memcpy ((char *) attr + NLA_HDRLEN, "agentrun", sizeof ("agentrun"));
  nlh->nlmsg_len = NLMSG_ALIGN (nlh->nlmsg_len) + NLA_ALIGN (attr->nla_len);
  len += NLMSG_ALIGN (nlh->nlmsg_len);
  len = put_header (buf, len, NFNL_MSG_BATCH_END, 0, AF_UNSPEC, NFNL_SUBSYS_NFTABLES);

  if (send (fd, buf, len, 0) < 0)
    printf ("%s denied %s\n", name, strerrorname_np (errno));
  else if ((n = recv (fd, reply, sizeof (reply), 0)) < 0)
    printf ("%s unanswered %s\n", name, strerrorname_np (errno));
  else
    for (nlh = (struct nlmsghdr *) reply; NLMSG_OK (nlh, (size_t) n); nlh = NLMSG_NEXT (nlh, n))
      if (nlh->nlmsg_type == NLMSG_ERROR)
        {
          int error = ((struct nlmsgerr *) NLMSG_DATA (nlh))->error;

          if (error == 0)
            printf ("%s accepted\n", name);
          else
            printf ("%s denied %s\n", name, strerrorname_np (-error));
          break;
        }
  close (fd);
}

int
main (void)
{
  try_socket ("raw-ipv4", AF_INET, SOCK_RAW, IPPROTO_ICMP);
  try_socket ("raw-ipv4-tcp", AF_INET, SOCK_RAW, IPPROTO_TCP);
  try_socket ("raw-ipv6", AF_INET6, SOCK_RAW, IPPROTO_ICMPV6);
  try_socket ("packet-raw", AF_PACKET, SOCK_RAW, htons (ETH_P_ALL));
  try_socket ("packet-dgram", AF_PACKET, SOCK_DGRAM, htons (ETH_P_IP));
  try_socket ("ping-ipv4", AF_INET, SOCK_DGRAM, IPPROTO_ICMP);
  try_delete_table ("nft-delete-table");

  /* Capabilities in a new user namespace cover only the namespaces that it
   * owns, not the container'\''s network namespace. */
  if (unshare (CLONE_NEWUSER) < 0)
    printf ("userns denied %s\n", strerrorname_np (errno));
  else
    {
      printf ("userns entered\n");
      try_socket ("userns-raw-ipv4", AF_INET, SOCK_RAW, IPPROTO_ICMP);
      try_socket ("userns-packet-raw", AF_PACKET, SOCK_RAW, htons (ETH_P_ALL));
      try_delete_table ("userns-nft-delete-table");
    }
  return 0;
}'

bp_cleanup() {
  local ns
  for ns in h s c; do
    ip netns del "$ID-$ns" 2>/dev/null || true
  done
}

# Creates the namespaces, both veth pairs, the servers and the upstream.
bp_setup() {
  local h=$ID-h s=$ID-s c=$ID-c old port i
  # dns_require, dns_rt, dns_rule and dns_wait_listen.
  # shellcheck source=tests/integration/test_dns.sh
  . "$AR_REPO/tests/integration/test_dns.sh"
  dns_require
  old=$(trap -p EXIT | sed -E "s/^trap -- '(.*)' EXIT$/\\1/")
  # shellcheck disable=SC2064
  trap "$old; bp_cleanup" EXIT

  ip netns add "$h"
  ip netns add "$s"
  ip netns add "$c"
  ip -n "$s" link add v0 type veth peer name v1 netns "$c"
  ip -n "$s" link add vh type veth peer name vh netns "$h"
  ip -n "$s" addr add "$BP_SERVER/29" dev v0
  ip -n "$s" addr add "$BP_NAMED/29" dev v0
  ip -n "$s" addr add "$BP_OTHER/29" dev v0
  ip -n "$s" addr add "$BP_METADATA/16" dev v0
  ip -n "$s" addr add "$BP_SERVER6/64" dev v0 nodad
  ip -n "$s" addr add "$BP_METADATA6/64" dev v0 nodad
  ip -n "$s" addr add "$BP_HOST_PEER/30" dev vh
  ip -n "$c" addr add "$BP_CLIENT/29" dev v1
  ip -n "$c" addr add 169.254.79.2/16 dev v1
  ip -n "$c" addr add "$BP_CLIENT6/64" dev v1 nodad
  ip -n "$c" addr add fd00:ec2::2/64 dev v1 nodad
  ip -n "$h" addr add "$BP_HOST/30" dev vh
  for ns in "$h" "$s" "$c"; do
    ip -n "$ns" link set lo up
  done
  ip -n "$s" link set v0 up
  ip -n "$s" link set vh up
  ip -n "$c" link set v1 up
  ip -n "$h" link set vh up
  # The upstream's address is local to "$ID-s", which accepts packets for
  # it on the link to "$ID-h" without forwarding.
  ip -n "$h" route add "$BP_SERVER/32" via "$BP_HOST_PEER"

  mkdir -p "$AR_TEST_DIR/www"
  echo agentrun-hello >"$AR_TEST_DIR/www/index.html"
  for port in 53 8080 8081; do
    spawn ip netns exec "$s" busybox httpd -f -p "$port" -h "$AR_TEST_DIR/www"
  done
  printf '%s\n' "$BP_RECORDS" >"$AR_TEST_DIR/records"
  : >"$AR_TEST_DIR/upstream.log"
  spawn ip netns exec "$s" /usr/bin/python3 "$AR_REPO/tests/integration/dns_upstream.py" \
    "$BP_SERVER" 53 "$AR_TEST_DIR/records" "$AR_TEST_DIR/upstream.log"
  for port in 53 8080 8081; do
    dns_wait_listen "$s" "$port"
  done
  for ((i = 0; i < 100; i++)); do
    grep -q ready "$AR_TEST_DIR/upstream.log" && return 0
    sleep 0.05
  done
  fail "the upstream DNS server did not start"
}

# Gives BUNDLE the test's policy, the upstream at BP_SERVER:53 and the
# namespace "$ID-c" by path.
bp_bundle() {
  local egress
  egress="[{\"cidr\": \"$BP_SERVER/32\", \"ports\": [{\"first\": 8081, \"last\": 8081}], \"protocol\": \"tcp\",
    \"rule\": \"bypass.yaml:1\"}, $(dns_rule '*.allowed.test' 8080)]"
  make_bundle
  config_edit '.annotations["agentrun.policy.network"] =
      ({mode: "allowlist", enforce: true, egress: $egress, ingress: []} | tojson)
    | .annotations["agentrun.network.dns-upstream"] = $upstream
    | .linux.namespaces = [.linux.namespaces[] | select(.type != "network")]
      + [{type: "network", path: $path}]' \
    --argjson egress "$egress" --arg upstream "$BP_SERVER:53" --arg path "/run/netns/$ID-c"
}

# Runs SCRIPT (with arguments) in the container with `run` in "$ID-h", and
# copies its output to the test's log.
bp_run_script() {
  set_script "$@"
  dns_rt run --bundle "$BUNDLE" "$ID"
  expect_success "container script"
  printf '%s\n' "$OUT" >&2
}

# Deletes the table in "$ID-c", which outlives the container there, and
# fails unless every ADDRESS PORT pair given is then open from "$ID-c".
bp_expect_open_without_table() {
  local probe
  ip netns exec "$ID-c" nft delete table inet agentrun
  probe=$(ip netns exec "$ID-c" sh -c "$BP_PROBE" sh "$@")
  while [ $# -ge 2 ]; do
    assert_contains "$probe" "$1 $2 open" "$1 port $2 without the table (the route works)"
    shift 2
  done
}

# Builds BP_PROBE_C into the bundle's rootfs as /probe.
bp_build_probe() {
  require_cmd cc
  printf '%s\n' "$BP_PROBE_C" >"$AR_TEST_DIR/probe.c"
  cc -static -O2 -o "$BUNDLE/rootfs/probe" "$AR_TEST_DIR/probe.c" 2>"$AR_TEST_DIR/cc.err" ||
    skip "cc -static cannot build the probe (is libc6-dev installed?): $(head -n 3 "$AR_TEST_DIR/cc.err")"
}

test_raw_sockets_denied() {
  bp_setup
  bp_bundle
  bp_build_probe
  bp_run_script '/probe; for address in "$@"; do ping -c 1 -W 1 "$address" 2>&1 || true; done' \
    "$BP_SERVER" "$BP_OTHER"
  local name
  for name in raw-ipv4 raw-ipv4-tcp raw-ipv6 packet-raw packet-dgram; do
    assert_contains "$OUT" "$name denied EPERM" "$name socket without CAP_NET_RAW"
  done
  # ICMP datagram sockets need the group in net.ipv4.ping_group_range, which
  # is empty in a new network namespace.  Their packets would still go
  # through the table.
  assert_contains "$OUT" "ping-ipv4 denied EACCES" "ICMP datagram socket"
  for name in userns-raw-ipv4 userns-packet-raw; do
    if [[ $OUT == *"userns entered"* ]]; then
      assert_contains "$OUT" "$name denied EPERM" "$name socket in a new user namespace"
    fi
  done
  assert_not_contains "$OUT" "opened" "any raw or packet socket"
  # busybox ping needs a raw socket.
  [ "$(grep -c 'ping: permission denied' <<<"$OUT")" = 2 ] ||
    fail "expected busybox ping to fail twice with 'permission denied', got: $OUT"
}

# Only the bounding set: without no_new_privileges, a setuid-root or
# file-capability binary in the image (ping often is one) gets CAP_NET_RAW
# from it.
# test_network.sh covers the permitted set.
test_cap_net_raw_in_bounding_rejected() {
  bp_setup
  bp_bundle
  config_edit '.process.capabilities.bounding += ["CAP_NET_RAW"]'
  dns_rt create --bundle "$BUNDLE" "$ID"
  expect_failure "CAP_NET_RAW"
  assert_no_leftovers "$ID"
}

test_ipv6_forms_dropped() {
  bp_setup
  bp_bundle
  bp_run_script "nslookup -type=aaaa mapped.allowed.test >/dev/null; $BP_PROBE" \
    "$BP_SERVER" 8081 "$BP_SERVER6" 8081 "$BP_SERVER6" 8080 \
    "::ffff:$BP_SERVER" 8081 "::ffff:$BP_SERVER" 8080 "::ffff:$BP_OTHER" 8081 "::ffff:$BP_OTHER" 8080
  assert_contains "$OUT" "$BP_SERVER 8081 open" "the CIDR rule's server and port"
  assert_contains "$OUT" "$BP_SERVER6 8081 closed" "the IPv6 address of the CIDR rule's server"
  assert_contains "$OUT" "$BP_SERVER6 8080 closed" "the IPv6 address of the server, the domain rule's port"
  # A socket connected to an IPv4-mapped address sends IPv4 packets, which
  # the table judges by their IPv4 address: the allowed address and port
  # stay open, anything else stays closed.
  assert_contains "$OUT" "::ffff:$BP_SERVER 8081 open" "the IPv4-mapped form of the allowed server and port"
  assert_contains "$OUT" "::ffff:$BP_SERVER 8080 closed" "the IPv4-mapped form of the server, another port"
  assert_contains "$OUT" "::ffff:$BP_OTHER 8081 closed" "the IPv4-mapped form of an address outside the rules"
  # The AAAA answer of mapped.allowed.test, ::ffff:BP_OTHER, lands in the
  # domain rule's IPv6 set (the rule's index is 1) and opens no IPv4
  # address.
  assert_contains "$(ip netns exec "$ID-c" nft list set inet agentrun d6_1)" "::ffff:$BP_OTHER" \
    "the IPv6 set after the AAAA answer ::ffff:$BP_OTHER"
  assert_contains "$OUT" "::ffff:$BP_OTHER 8080 closed" "an IPv4-mapped address from an allowed name's AAAA answer"
  bp_expect_open_without_table "$BP_SERVER6" 8081 "::ffff:$BP_SERVER" 8080 "::ffff:$BP_OTHER" 8080
}

test_other_resolvers_dropped() {
  bp_setup
  bp_bundle
  bp_run_script "nslookup -timeout=1 -retry=1 direct.allowed.test $BP_SERVER 2>&1 || true
    nslookup api.allowed.test; $BP_PROBE" "$BP_SERVER" 53 "$BP_OTHER" 53 "$BP_SERVER6" 53 "$BP_METADATA" 53
  assert_not_contains "$(cat "$AR_TEST_DIR/upstream.log")" "direct.allowed.test" \
    "the upstream's log after a UDP query sent straight to it"
  assert_contains "$(cat "$AR_TEST_DIR/upstream.log")" "api.allowed.test A" "the upstream's log after a query to 127.0.0.53"
  assert_contains "$OUT" "Address: $BP_NAMED" "the answer of 127.0.0.53"
  assert_contains "$OUT" "$BP_SERVER 53 closed" "TCP port 53 of the upstream"
  assert_contains "$OUT" "$BP_OTHER 53 closed" "TCP port 53 of another address"
  assert_contains "$OUT" "$BP_SERVER6 53 closed" "TCP port 53 of an IPv6 address"
  assert_contains "$OUT" "$BP_METADATA 53 closed" "TCP port 53 of the metadata address"

  bp_expect_open_without_table "$BP_SERVER" 53 "$BP_OTHER" 53 "$BP_SERVER6" 53
  ip netns exec "$ID-c" busybox nslookup -timeout=1 -retry=1 direct.allowed.test "$BP_SERVER" >/dev/null 2>&1 || true
  assert_contains "$(cat "$AR_TEST_DIR/upstream.log")" "direct.allowed.test" \
    "the upstream's log after a UDP query without the table (the route works)"
}

test_unresolved_address_dropped() {
  bp_setup
  bp_bundle
  bp_run_script "$BP_PROBE_FUNCTIONS
    echo before; probe_all $BP_NAMED 8080
    nslookup api.allowed.test >/dev/null
    echo after; probe_all $BP_NAMED 8080 $BP_NAMED 8081 $BP_SERVER 8080"
  assert_contains "$OUT" "before
$BP_NAMED 8080 closed" "an allowed name's address before the container resolved the name"
  assert_contains "$OUT" "after" "the script's second part"
  local after=${OUT#*after}
  assert_contains "$after" "$BP_NAMED 8080 open" "the same address after resolving the name"
  assert_contains "$after" "$BP_NAMED 8081 closed" "the name's address at the CIDR rule's port"
  assert_contains "$after" "$BP_SERVER 8080 closed" "the CIDR rule's address at the domain rule's port"
  bp_expect_open_without_table "$BP_NAMED" 8081 "$BP_SERVER" 8080
}

test_metadata_dropped_when_resolved() {
  bp_setup
  bp_bundle
  bp_run_script "nslookup meta.allowed.test; $BP_PROBE" "$BP_METADATA" 8080 "$BP_METADATA6" 8080 \
    "$BP_METADATA" 8081
  assert_contains "$OUT" "Address: $BP_METADATA" "the A answer of the allowed name"
  # Whether the responder puts these addresses into the sets or not, the
  # table's deny rules for them come before the domain rule.
  ip netns exec "$ID-c" nft list set inet agentrun d4_1 >&2
  ip netns exec "$ID-c" nft list set inet agentrun d6_1 >&2
  assert_contains "$OUT" "$BP_METADATA 8080 closed" "the metadata address as an allowed name's answer"
  assert_contains "$OUT" "$BP_METADATA6 8080 closed" "the IPv6 metadata address as an allowed name's answer"
  assert_contains "$OUT" "$BP_METADATA 8081 closed" "the metadata address at the CIDR rule's port"
  bp_expect_open_without_table "$BP_METADATA" 8080 "$BP_METADATA6" 8080
}

test_table_cannot_be_changed() {
  bp_setup
  bp_bundle
  bp_build_probe
  share_dir out
  local before after
  # Each attempt prints "NAME failed: ERROR" or "NAME succeeded".
  set_script 'try() {
      name=$1
      shift
      if error=$("$@" 2>&1); then echo "$name succeeded"; else echo "$name failed: $error"; fi
    }
    {
      /probe | grep nft-delete-table
      try ip-addr-add ip addr add 10.213.79.6/29 dev v1
      try ip-link-add ip link add ar0 type dummy
      try ip-route-replace ip route replace default via '"$BP_SERVER"'
      try ip6-route-add ip -6 route add ::/0 via '"$BP_SERVER6"'
      try sysctl-ping-group sh -c "echo \"0 2147483647\" >/proc/sys/net/ipv4/ping_group_range"
      try sysctl-forwarding sh -c "echo 1 >/proc/sys/net/ipv4/ip_forward"
      try sysctl-ipv6 sh -c "echo 1 >/proc/sys/net/ipv6/conf/all/disable_ipv6"
    } >/out/log.tmp 2>&1
    mv /out/log.tmp /out/log'
  dns_rt create --bundle "$BUNDLE" "$ID"
  expect_success "create"
  before=$(ip netns exec "$ID-c" nft -s list table inet agentrun)
  dns_rt start "$ID"
  expect_success "start"
  wait_file "$AR_TEST_DIR/out/log"
  local log
  log=$(cat "$AR_TEST_DIR/out/log")
  printf '%s\n' "$log" >&2

  assert_contains "$log" "nft-delete-table denied EPERM" "a netlink request that deletes the table"
  assert_not_contains "$log" "userns-nft-delete-table accepted" "the request from a new user namespace"
  assert_not_contains "$log" "succeeded" "every ip and /proc/sys/net change"
  local name
  for name in ip-addr-add ip-link-add ip-route-replace ip6-route-add; do
    assert_match "$log" "$name failed: .*[Oo]peration not permitted" "$name"
  done
  for name in sysctl-ping-group sysctl-forwarding sysctl-ipv6; do
    assert_match "$log" "$name failed: .*Read-only file system" "$name"
  done

  after=$(ip netns exec "$ID-c" nft -s list table inet agentrun)
  assert_eq "$after" "$before" "the table after the attempts"
  assert_eq "$(ip netns exec "$ID-c" cat /proc/sys/net/ipv4/ping_group_range)" "$(printf '1\t0')" \
    "net.ipv4.ping_group_range of the container's namespace"
  assert_eq "$(ip netns exec "$ID-c" ip -o addr show dev v1 | grep -c 10.213.79.6 || true)" 0 \
    "addresses of the container's interface"
  dns_rt delete --force "$ID"
  expect_success "delete --force"
  assert_no_leftovers "$ID"
}
