# The example policies of examples/policies/: each passes `policy check`,
# prints the explanation of its golden file, and holds when a container runs under
# it: read-only paths, denied system calls, dropped capabilities, limits,
# and the ceiling over config.json in enforce and audit mode.

EXAMPLES=$AR_REPO/examples/policies

# Makes BUNDLE from the example agent's config.json, fitted to the example
# policy NAME so that it asks for nothing beyond it: no capabilities, no
# rlimits or resource limits (the policy fills in its own), the policy's
# user, and no writable mount where the policy allows none.  Further
# arguments become the container's command.
make_fitted_bundle() {
  local name=$1 user
  shift
  make_bundle
  cp "$AR_TEMPLATE/config.json" "$BUNDLE/config.json"
  config_edit 'del(.process.capabilities) | del(.process.rlimits) | del(.linux.resources)'
  user=$(sed -n 's/^  user: "\([0-9]*\):\([0-9]*\)"$/\1 \2/p' "$EXAMPLES/$name.yaml")
  [ -n "$user" ] || fail "cannot read process.user of $name.yaml"
  config_edit '.process.user = {uid: ($u | split(" ")[0] | tonumber), gid: ($u | split(" ")[1] | tonumber)}' \
    --arg u "$user"
  case $name in
    locked-down) config_edit '.mounts |= map(select(.destination != "/workspace" and .destination != "/tmp"))
                              | .process.cwd = "/"' ;;
    mcp-server) config_edit '.mounts |= map(select(.destination != "/workspace")) | .process.cwd = "/"' ;;
  esac
  # A policy with an identity needs a source of SVIDs: a local CA here.
  if grep -q '^identity:' "$EXAMPLES/$name.yaml"; then
    [ -d "$AR_TEST_DIR/ca" ] || "$RUNTIME" ca init --trust-domain "$(sed -n 's/^  trust_domain: //p' \
      "$EXAMPLES/$name.yaml")" --dir "$AR_TEST_DIR/ca" >/dev/null || fail "ca init for $name.yaml"
    config_edit '.annotations["agentrun.identity.ca"] = $ca' --arg ca "$AR_TEST_DIR/ca"
  fi
  [ $# -eq 0 ] || set_args "$@"
}

# Runs BUNDLE under the example policy NAME (or a policy file path).
run_with_policy() {
  local policy=$1
  [ -f "$policy" ] || policy=$EXAMPLES/$policy.yaml
  rt_capture run --bundle "$BUNDLE" --policy "$policy" "$ID"
}

test_examples_pass_check() {
  local file name
  # Relative paths, as the golden files name the policies.
  cd "$AR_REPO"
  for file in examples/policies/*; do
    name=$(basename "$file" .yaml)
    [ "$name.yaml" = "$(basename "$file")" ] || fail "$file: name examples NAME.yaml"
    rt_capture policy check --fail-on-warning "$file"
    expect_success "policy check $name"
    assert_eq "$OUT" "$file: ok" "policy check $name"
    # The unit tests compare the library's output with the golden files;
    # this compares what the command prints.
    rt_capture policy explain "$file"
    expect_success "policy explain $name"
    [ -f "$AR_REPO/tests/policy/$name.explain.golden" ] || fail "no tests/policy/$name.explain.golden"
    assert_eq "$OUT" "$(cat "$AR_REPO/tests/policy/$name.explain.golden")" "policy explain $name"
    rt_capture policy compile "$file"
    expect_success "policy compile $name"
    [ -f "$AR_REPO/tests/policy/$name.compile.golden" ] || fail "no tests/policy/$name.compile.golden"
    # The golden file reduces the seccomp profile to its default action
    # and rule count, as the unit test does.
    assert_eq "$(jq -S 'walk(if type == "object" and (.seccomp | type) == "object"
                             then .seccomp |= {defaultAction, rules: (.syscalls | length)} else . end)' <<<"$OUT")" \
      "$(jq -S . "$AR_REPO/tests/policy/$name.compile.golden")" "policy compile $name"
  done
}

test_examples_run_restricted() {
  local name expected_user
  for name in default-agent coding-agent mcp-server locked-down; do
    make_fitted_bundle "$name" /bin/sh -c 'id -u; id -g; grep -E "^(CapEff|CapBnd|CapPrm|NoNewPrivs):" /proc/self/status
      if touch /agent/.probe 2>/dev/null; then echo root writable; else echo root read-only; fi'
    run_with_policy "$name"
    expect_success "run under $name"
    expected_user=$(sed -n 's/^  user: "\([0-9]*\):\([0-9]*\)"$/\1\n\2/p' "$EXAMPLES/$name.yaml")
    assert_eq "$(head -2 <<<"$OUT")" "$expected_user" "uid and gid under $name"
    assert_match "$OUT" "^CapEff:[[:space:]]+0000000000000000$" "CapEff under $name"
    assert_match "$OUT" "^CapBnd:[[:space:]]+0000000000000000$" "CapBnd under $name"
    assert_match "$OUT" "^NoNewPrivs:[[:space:]]+1$" "NoNewPrivs under $name"
    assert_contains "$OUT" "root read-only" "root filesystem under $name"
    assert_no_leftovers "$ID"
    rm -rf "$BUNDLE"
    ID=$ID-x
  done
}

test_example_readonly_path_write_fails() {
  make_fitted_bundle default-agent /bin/sh -c 'echo x >/etc/probe && echo etc writable
    echo x >/workspace/probe && echo workspace writable
    echo x >/tmp/probe && echo tmp writable'
  run_with_policy default-agent
  expect_success "run under default-agent"
  assert_not_contains "$OUT" "etc writable"
  assert_contains "$ERR$OUT" "Read-only file system" "the write to /etc"
  assert_contains "$OUT" "workspace writable" "the write to the readwrite path"
  assert_contains "$OUT" "tmp writable" "the write to the policy's tmpfs"
  assert_no_leftovers "$ID"
}

test_example_denied_path_hidden() {
  make_fitted_bundle default-agent /bin/sh -c 'cat /proc/kcore | wc -c; ls /sys/firmware | wc -l'
  run_with_policy default-agent
  expect_success "run under default-agent"
  assert_eq "$OUT" "$(printf '0\n0')" "masked /proc/kcore and /sys/firmware"
  assert_no_leftovers "$ID"
}

test_example_denied_syscall_eperm() {
  # The strict profile of mcp-server.yaml denies mknod, which the default
  # profile of default-agent.yaml allows for a FIFO.
  make_fitted_bundle mcp-server /bin/sh -c 'mknod /tmp/fifo p; echo "status $?"'
  run_with_policy mcp-server
  expect_success "run under mcp-server"
  assert_contains "$OUT" "status 1" "mknod under the strict profile"
  assert_contains "$ERR$OUT" "Operation not permitted" "mknod's error under the strict profile"
  rm -rf "$BUNDLE"
  ID=$ID-default

  make_fitted_bundle default-agent /bin/sh -c 'mknod /tmp/fifo p; echo "status $?"'
  run_with_policy default-agent
  expect_success "run under default-agent"
  assert_contains "$OUT" "status 0" "mknod under the default profile"
  assert_no_leftovers "$ID"
}

test_example_denied_syscall_kills() {
  # locked-down.yaml's action is kill: the denied call ends the process
  # with SIGSYS (exit status 128 + 31).
  make_fitted_bundle locked-down /bin/mknod /dev/shm/fifo p
  run_with_policy locked-down
  assert_eq "$RC" 159 "exit status of mknod killed by SIGSYS"
  assert_no_leftovers "$ID"
}

test_example_pids_limit_enforced() {
  # locked-down.yaml allows 64 processes and threads.  The subshell starts
  # sleeps until fork fails, which ends it; the outer shell then reports
  # with builtins only, since it cannot fork either.
  make_fitted_bundle locked-down /bin/sh -c 'read max </sys/fs/cgroup/pids/pids.max || read max </sys/fs/cgroup/pids.max; echo "max $max"
    (n=0; while [ $n -lt 80 ]; do sleep 30 & n=$((n + 1)); echo $n >/dev/shm/started; done)
    read n </dev/shm/started; echo "started $n"'
  run_with_policy locked-down
  expect_success "run under locked-down"
  assert_contains "$OUT" "max 64" "pids.max"
  assert_contains "$ERR" "can't fork" "the failed fork"
  local started
  started=$(sed -n 's/^started //p' <<<"$OUT")
  [ -n "$started" ] && [ "$started" -lt 64 ] || fail "expected fewer than 64 sleeps to start, got '${started:-none}'"
  assert_no_leftovers "$ID"
}

test_example_memory_limit_enforced() {
  # locked-down.yaml allows 256Mi without swap; sort holds its whole input,
  # a 400 MiB line, in memory.
  make_fitted_bundle locked-down /bin/sh -c 'cat /sys/fs/cgroup/memory/memory.limit_in_bytes || cat /sys/fs/cgroup/memory.max
    head -c 400m /dev/zero | sort >/dev/null; echo "status $?"'
  run_with_policy locked-down
  expect_success "run under locked-down"
  assert_contains "$OUT" "268435456" "the memory limit"
  assert_contains "$OUT" "status 137" "sort killed by the OOM killer"
  assert_no_leftovers "$ID"
}

test_example_enforce_refuses_more() {
  # The example agent's config.json keeps CAP_NET_BIND_SERVICE, which
  # default-agent.yaml drops.
  make_fitted_bundle default-agent
  cp "$AR_TEMPLATE/config.json" "$BUNDLE/config.json"
  config_edit 'del(.process.rlimits)'
  run_with_policy default-agent
  expect_failure "config.json: process.capabilities.bounding\[0\]: grants CAP_NET_BIND_SERVICE.*policy rule .*default-agent.yaml:[0-9]+:[0-9]+ \(process.capabilities\)"
  assert_no_leftovers "$ID"
}

test_example_audit_writes_conflict_event() {
  local events=$AR_TEST_DIR/events.jsonl
  sed -e 's/^mode: enforce$/mode: audit/' -e "s|^  events: log$|  events: $events|" \
    "$EXAMPLES/default-agent.yaml" >"$AR_TEST_DIR/audit.yaml"
  grep -q "^mode: audit$" "$AR_TEST_DIR/audit.yaml" || fail "cannot switch the copy to audit mode"
  make_fitted_bundle default-agent
  cp "$AR_TEMPLATE/config.json" "$BUNDLE/config.json"
  config_edit 'del(.process.rlimits)'
  set_args /bin/sh -c 'grep -E "^CapBnd:" /proc/self/status'
  run_with_policy "$AR_TEST_DIR/audit.yaml"
  expect_success "run under the audit copy"
  # config.json keeps what it asked for: CAP_NET_BIND_SERVICE is bit 10.
  assert_match "$OUT" "^CapBnd:[[:space:]]+0000000000000400$" "CapBnd in audit mode"
  [ -s "$events" ] || fail "no events in $events"
  jq -e -s 'any(.[]; .type == "policy-conflict" and .mode == "audit" and .outcome == "allowed"
              and .requested == "CAP_NET_BIND_SERVICE" and .policy_field == "process.capabilities"
              and (.policy_rule | test("audit.yaml:[0-9]+:[0-9]+$")))' "$events" >/dev/null ||
    fail "no policy-conflict event for CAP_NET_BIND_SERVICE in $events: $(cat "$events")"
  assert_eq "$(stat -c %a "$events")" 600 "the mode of the events file"

  # The events draft a policy that allows the run, and the draft passes
  # `policy check`.
  rt_capture policy learn --base "$AR_TEST_DIR/audit.yaml" --name learned-agent "$events"
  expect_success "policy learn"
  assert_match "$OUT" "^    - CAP_NET_BIND_SERVICE  # " "the learned capability"
  printf '%s\n' "$OUT" >"$AR_TEST_DIR/learned.yaml"
  rt_capture policy check "$AR_TEST_DIR/learned.yaml"
  expect_success "policy check of the draft"
  assert_no_leftovers "$ID"
}

test_policy_learn_cli() {
  printf '%s\n' '{"type": "syscall", "syscall": "ptrace", "arch": "x86_64", "pid": 1}' \
    '{"type": "connection", "protocol": "tcp", "family": "ipv4", "destination": "192.0.2.7", "port": 8080}' \
    '{"type": "file", "path": "/data/out", "access": "write"}' >"$AR_TEST_DIR/events.jsonl"
  rt_capture policy learn "$AR_TEST_DIR/events.jsonl"
  expect_success "policy learn"
  assert_contains "$OUT" "name: learned"
  assert_contains "$OUT" "    - ptrace  # $AR_TEST_DIR/events.jsonl:1"
  assert_contains "$OUT" "    - cidr: 192.0.2.7/32"
  assert_contains "$OUT" "    - /data/out  # "
  assert_contains "$ERR" "warning: syscalls.allow[0]: allowing ptrace is risky"
  printf '%s\n' "$OUT" >"$AR_TEST_DIR/draft.yaml"
  rt_capture policy check "$AR_TEST_DIR/draft.yaml"
  expect_success "policy check of the draft"

  rt_capture policy learn --name Bad "$AR_TEST_DIR/events.jsonl"
  expect_failure "draft.yaml:[0-9]+:[0-9]+: error: name: invalid name"
  printf 'not json\n' >"$AR_TEST_DIR/bad.jsonl"
  rt_capture policy learn "$AR_TEST_DIR/bad.jsonl"
  expect_failure "bad.jsonl:1: .*each line must be one JSON object"
  rt_capture policy learn --base "$AR_TEST_DIR/missing.yaml" "$AR_TEST_DIR/events.jsonl"
  expect_failure "missing.yaml"
}

# Each kind of mistake is reported by `policy check` at FILE:LINE:COLUMN.
test_policy_check_locates_mistakes() {
  local file=$AR_TEST_DIR/p.yaml
  check_mistake() {
    local text=$1 expected=$2
    printf 'name: t\nversion: 1\n%s' "$text" >"$file"
    rt_capture policy check "$file"
    [ "$RC" = 1 ] || fail "policy check exited with $RC for: $text"
    assert_contains "$OUT" "$file:$expected" "the location of: $text"
  }
  check_mistake $'filesystem:\n  readonly_path: [/etc]\n' "4:3: error: filesystem.readonly_path: unknown field"
  check_mistake $'process:\n  no_new_privileges: "true"\n' "4:22: error: process.no_new_privileges: expected"
  check_mistake $'network:\n  mode: allowlist\n  egress:\n    - cidr: 10.1.2.3/8\n' \
    "6:13: error: network.egress[0].cidr:"
  check_mistake $'network:\n  mode: allowlist\n  egress:\n    - domain: https://pypi.org\n' \
    "6:15: error: network.egress[0].domain:"
  check_mistake $'process:\n  capabilities: [CAP_SYS_ADMN]\n' "4:18: error: process.capabilities[0]:"
  check_mistake $'syscalls:\n  allow: [opne]\n' "4:11: error: syscalls.allow[0]:"
  check_mistake $'identity:\n  trust_domain: example.org\n  id_template: "spiffe://{trust_domain}/{annotation:Bad_Prefix/x}"\n' \
    "5:16: error: identity.id_template: invalid annotation key"

  printf '{"name": "t", "version": 1,\n "syscalls": {"deny": ["ptrase"]}}\n' >"$AR_TEST_DIR/p.json"
  rt_capture policy check "$AR_TEST_DIR/p.json"
  assert_contains "$OUT" "$AR_TEST_DIR/p.json:2:24: error: syscalls.deny[0]:" "a JSON policy's location"
}
