# The demo of `make demo` (examples/demo/demo.sh), with agentrun run and
# with podman: every line of its report, and nothing left behind, neither
# in its namespaces nor in the network of the namespace the tests run in.
#
# The demo keeps its Debian rootfs in /var/cache/agentrun/demo-rootfs and
# its CA in /var/lib/agentrun/demo-ca.  `make check` builds the rootfs
# before the tests (with debootstrap, from the Debian mirror of
# /etc/apt/sources.list), because on the project's 2-core machines that
# took 38 to 58 seconds, and over 110 while other builds loaded the
# machine.  Without it, the first test here builds it within its own time
# limit.  With the rootfs in place, a demo run took about 3 seconds with
# agentrun run and 12 with podman.

DEMO_POLICY=examples/policies/demo-agent.yaml

demo_require() {
  [ "$(basename "$RUNTIME")" = agentrun ] || skip "the demo runs agentrun's policies"
  require_cmd ip nsenter nft jq debootstrap
  /usr/bin/python3 -c 'import dnslib' 2>/dev/null || skip "/usr/bin/python3 lacks dnslib (python3-dnslib)"
  if ! unshare --net nft add table inet ar_probe 2>/dev/null; then
    skip "nf_tables is missing from the kernel (nft cannot add a table in a new network namespace)"
  fi
}

# Runs the demo with ARGS, named after the test, storing OUT, ERR and RC.
demo_run() {
  local start=$SECONDS
  RC=0
  DEMO_NAME=$ID AGENTRUN=$RUNTIME TMPDIR=$AR_TEST_DIR timeout -k 5 110 "$AR_REPO/examples/demo/demo.sh" "$@" \
    >"$AR_TEST_DIR/.out" 2>"$AR_TEST_DIR/.err" </dev/null || RC=$?
  OUT=$(cat "$AR_TEST_DIR/.out")
  ERR=$(cat "$AR_TEST_DIR/.err")
  {
    echo "+ examples/demo/demo.sh $* (exit status $RC, $((SECONDS - start)) seconds)"
    printf 'stdout:\n%s\nstderr:\n%s\n' "$OUT" "$ERR"
  } >&2
  [ "$RC" != 124 ] || fail "the demo timed out"
}

# Prints DEMO_POLICY's FILE:LINE of the first line matching the extended
# regular expression PATTERN.
policy_line() {
  local n
  n=$(grep -nE -m 1 -- "$1" "$AR_REPO/$DEMO_POLICY" | cut -d: -f1)
  [ -n "$n" ] || fail "no line of $DEMO_POLICY matches /$1/"
  echo "demo-agent.yaml:$n"
}

# Fails unless OUT has a line equal to LINE.
assert_line() {
  grep -qxF -- "$1" <<<"$OUT" || fail "the report lacks the line '$1'"
}

# Checks every line of the report:
# assert_report RUNTIME_TEXT SPIFFE_ID_REGEX NETWORK_LINE_REGEX PACKETS_REGEX.
assert_report() {
  local runtime=$1 id_regex=$2 network_regex=$3 packets_regex=$4 mode
  mode=$(policy_line '^  mode: allowlist')
  assert_line "agentrun demo: $DEMO_POLICY, run by $runtime"
  assert_match "$OUT" "^identity spiffe://demo\\.agentrun\\.test/agentrun/demo-agent/$id_regex  \\[identity $(policy_line '^identity:'): X509- and JWT-SVID, aud api\\.demo\\.test\\]\$"
  assert_line "allowed  GET http://api.demo.test/ (10.213.90.10:80): HTTP 200 api.demo.test: hello, agent  [network.egress $(policy_line 'domain: api\.demo\.test$')]"
  # agentrun's DNS responder refuses the name that no rule allows, and
  # writes a dns event.
  assert_line "blocked  GET http://exfil.demo.test/: cannot resolve exfil.demo.test: Temporary failure in name resolution  [network.mode $mode: no egress rule matches]"
  assert_line "blocked  DNS A exfil.demo.test (to 127.0.0.53): REFUSED  [network.mode $mode: agentrun's DNS responder refuses the name; dns event: answer refused, rule (default)]"
  # An address never resolved through the responder stays closed, and the
  # keeper writes a connection event.
  assert_match "$OUT" "^blocked  GET http://10\\.213\\.90\\.20/ \\(10\\.213\\.90\\.20:80\\): timed out  \\[network\\.mode $mode: the address was never resolved through agentrun; connection event: tcp 10\\.213\\.90\\.20:80, rule \\(default\\); ${packets_regex}0 requests served\\]\$"
  assert_line "allowed  write /workspace/agent-notes.txt: wrote 26 bytes  [filesystem.readwrite_paths $(policy_line 'readwrite_paths:')]"
  assert_line "blocked  write /etc/agent-notes.txt: Read-only file system  [filesystem.readonly_rootfs $(policy_line 'readonly_rootfs:')]"
  assert_line "blocked  unshare(CLONE_NEWUSER): Operation not permitted  [syscalls.base $(policy_line '^  base:'): seccomp]"
  assert_line "blocked  bind TCP port 80: Permission denied  [process.capabilities $(policy_line '^  capabilities:'): CAP_NET_BIND_SERVICE not kept]"
  assert_match "$OUT" "^network  address and default route: $network_regex\$"
  assert_not_contains "$OUT" "UNEXPECTED"
  [ "$(grep -c . <<<"$OUT")" = 11 ] || fail "the report has $(grep -c . <<<"$OUT") lines, not 11"
}

# Fails when the demo left a namespace, a file or a container behind.
assert_demo_gone() {
  local left
  left=$(ip netns list | grep -F "$ID" || true)
  [ -z "$left" ] || fail "network namespaces left behind: $left"
  # The test servers name the demo's temporary folder in their arguments.
  left=$(pgrep -af -- "$AR_TEST_DIR/ar-demo\." || true)
  [ -z "$left" ] || fail "processes left behind: $left"
  left=$(find "$AR_TEST_DIR" -maxdepth 1 -name 'ar-demo.*')
  [ -z "$left" ] || fail "the demo's temporary folder is left: $left"
  # find exits with 1 when another test removes a cgroup while it walks
  # the tree, so only its output counts.
  left=$(cgroups_named "$ID" || true)
  [ -z "$left" ] || fail "cgroups left behind: $left"
}

# The network settings of the namespace the tests run in, which the demo
# must leave alone: forwarding, and agentrun's host table and veth ends.
host_network_state() {
  sysctl -n net.ipv4.ip_forward
  nft list table inet agentrun-host 2>/dev/null | head -n 1
  ip -o link show | awk -F': ' '$2 ~ /^ar[0-9a-f]{12}(@|$)/ { print $2 }'
}

test_demo_agentrun_report() {
  local before
  demo_require
  before=$(host_network_state)
  demo_run agentrun
  expect_success "the demo with agentrun run"
  # A new network namespace with agentrun's own network, made in the
  # demo's host namespace.
  assert_report "agentrun run" "$ID" \
    "eth0 10\\.213\\.92\\.[0-9]+ via 10\\.213\\.92\\.1  \\[agentrun's own network: a new namespace, a veth pair from $ID, table inet agentrun-host there, subnet 10\\.213\\.92\\.0/24\\]" ""
  assert_demo_gone
  assert_eq "$(host_network_state)" "$before" "the network settings of the tests' namespace"
}

test_demo_podman_report() {
  local before
  demo_require
  require_cmd podman conmon
  before=$(host_network_state)
  demo_run podman
  expect_success "the demo with podman"
  assert_report "podman --runtime agentrun" "[0-9a-f]{64}" \
    "eth0 10\\.213\\.91\\.6 via 10\\.213\\.91\\.5  \\[a namespace that demo\\.sh made \\($ID-c2, a veth pair from $ID\\), joined by path\\]" \
    "[1-9][0-9]* packets dropped; "
  assert_demo_gone
  assert_eq "$(host_network_state)" "$before" "the network settings of the tests' namespace"
}
