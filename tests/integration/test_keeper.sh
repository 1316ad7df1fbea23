# The keeper: the per-container background process that enforces the
# policy's wall-clock limit, reports through audit events, and goes away
# with its container.

# Skips the test for runtimes without policies (runc, crun).
require_policies() {
  "$RUNTIME" policy --help >/dev/null 2>&1 || skip "$(basename "$RUNTIME") has no policies"
}

# Writes AR_TEST_DIR/policy.yaml in MODE with a wall-clock limit of
# LIMIT and audit events to AR_TEST_DIR/events.jsonl.
write_limit_policy() {
  local mode=$1 limit=$2
  cat >"$AR_TEST_DIR/policy.yaml" <<POLICY
name: keeper-test
version: 1
description: Runs for a short time only.
mode: $mode
filesystem:
  readwrite_paths: [/tmp, /workspace]
process:
  capabilities: [CAP_NET_BIND_SERVICE]
resources:
  wall_clock: $limit
network:
  mode: none
audit:
  events: $AR_TEST_DIR/events.jsonl
POLICY
}

# Prints the pid of the keeper that the state of ID records, or nothing.
keeper_pid_of() {
  jq -r '.keeper_pid // empty' "$AR_ROOT/$1/state.json"
}

# The example agent's config.json, which asks for nothing beyond the
# test policy.
make_policy_bundle() {
  make_bundle
  cp "$AR_TEMPLATE/config.json" "$BUNDLE/config.json"
  config_edit '.linux.namespaces |= map(select(.type != "network")) + [{type: "network"}]'
}

test_wall_clock_limit_ends_the_container() {
  require_policies
  write_limit_policy enforce 2s
  make_policy_bundle
  set_script 'sleep 60'
  create_container --policy "$AR_TEST_DIR/policy.yaml"
  local keeper
  keeper=$(keeper_pid_of "$ID")
  [ -n "$keeper" ] || fail "the state records no keeper"
  [ "$(cat "/proc/$keeper/comm")" = agentrun-keep ] || fail "pid $keeper is not the keeper"
  rt_capture start "$ID"
  expect_success "start"
  wait_status "$ID" stopped 20
  wait_file "$AR_TEST_DIR/events.jsonl" 5
  jq -se --arg id "$ID" 'any(.type == "limit" and .limit == "wall_clock" and .value == 2
    and .outcome == "blocked" and .container == $id and .policy == "keeper-test" and .mode == "enforce")' \
    "$AR_TEST_DIR/events.jsonl" >/dev/null || fail "no limit event: $(cat "$AR_TEST_DIR/events.jsonl")"
  local i
  for i in $(seq 50); do
    [ -d "/proc/$keeper" ] || break
    sleep 0.1
  done
  [ ! -d "/proc/$keeper" ] || fail "the keeper $keeper outlived its container"
  rt_capture delete "$ID"
  expect_success "delete"
  assert_no_leftovers "$ID"
}

test_wall_clock_limit_in_audit_mode_only_reports() {
  require_policies
  write_limit_policy audit 1s
  make_policy_bundle
  set_script 'sleep 3; echo survived'
  run_container --policy "$AR_TEST_DIR/policy.yaml"
  expect_success "run in audit mode"
  assert_contains "$OUT" survived "the container's output"
  jq -se 'any(.type == "limit" and .outcome == "allowed" and .mode == "audit")' \
    "$AR_TEST_DIR/events.jsonl" >/dev/null || fail "no limit event: $(cat "$AR_TEST_DIR/events.jsonl")"
  assert_no_leftovers "$ID"
}

test_delete_stops_the_keeper() {
  require_policies
  write_limit_policy enforce 10m
  make_policy_bundle
  set_script 'sleep 60'
  create_container --policy "$AR_TEST_DIR/policy.yaml"
  local keeper
  keeper=$(keeper_pid_of "$ID")
  [ -n "$keeper" ] || fail "the state records no keeper"
  rt_capture delete --force "$ID"
  expect_success "delete --force"
  [ ! -d "/proc/$keeper" ] || [ "$(awk '{print $3}' "/proc/$keeper/stat" 2>/dev/null)" = Z ] ||
    fail "the keeper $keeper runs on after delete"
  assert_no_leftovers "$ID"
}

test_no_keeper_without_a_module() {
  make_bundle
  set_script 'sleep 60'
  create_container
  [ -z "$(keeper_pid_of "$ID")" ] || fail "a container without a policy got a keeper"
  rt_capture delete --force "$ID"
  expect_success "delete --force"
}

# In audit mode, system calls that the policy would deny run, and each one
# becomes a syscall event, also those made before the keeper started.
test_audit_mode_reports_denied_syscalls() {
  require_policies
  cat >"$AR_TEST_DIR/policy.yaml" <<POLICY
name: syscall-audit
version: 1
description: Reports the system calls it would deny.
mode: audit
filesystem:
  readwrite_paths: [/tmp, /workspace]
process:
  capabilities: [CAP_NET_BIND_SERVICE]
syscalls:
  base: default
  deny: [chroot, sethostname]
network:
  mode: none
audit:
  events: $AR_TEST_DIR/events.jsonl
POLICY
  make_policy_bundle
  set_script 'chroot / /bin/true 2>/dev/null; hostname agentrun-test 2>/dev/null; echo ran-on'
  run_container --policy "$AR_TEST_DIR/policy.yaml"
  expect_success "run in audit mode"
  assert_contains "$OUT" ran-on "the container's output"
  local events
  events=$(cat "$AR_TEST_DIR/events.jsonl")
  jq -se --arg id "$ID" 'any(.type == "syscall" and .syscall == "chroot" and .outcome == "allowed"
    and .mode == "audit" and .container == $id and .policy == "syscall-audit" and .arch != null)' \
    <<<"$events" >/dev/null || fail "no event for chroot: $events"
  jq -se 'any(.type == "syscall" and .syscall == "sethostname")' <<<"$events" >/dev/null ||
    fail "no event for sethostname: $events"
  assert_no_leftovers "$ID"
}

# exec'd processes keep the filter of config.json, which logs to the
# kernel: they need no listener and run unhindered.
test_audit_mode_exec_runs_without_listener() {
  require_policies
  cat >"$AR_TEST_DIR/policy.yaml" <<POLICY
name: syscall-audit
version: 1
description: Reports the system calls it would deny.
mode: audit
filesystem:
  readwrite_paths: [/tmp, /workspace]
process:
  capabilities: [CAP_NET_BIND_SERVICE]
syscalls:
  base: default
  deny: [sethostname]
network:
  mode: none
audit:
  events: $AR_TEST_DIR/events.jsonl
POLICY
  make_policy_bundle
  set_script 'sleep 60'
  create_container --policy "$AR_TEST_DIR/policy.yaml"
  rt_capture start "$ID"
  expect_success "start"
  rt_capture exec "$ID" /bin/sh -c 'hostname agentrun-exec 2>/dev/null; echo exec-ran'
  expect_success "exec"
  assert_contains "$OUT" exec-ran "the exec'd process's output"
  rt_capture delete --force "$ID"
  expect_success "delete --force"
  assert_no_leftovers "$ID"
}

# The learning loop: a run in audit mode records what the container did,
# `policy learn` drafts a policy from those events, and the same bundle
# then runs under the draft in enforce mode.
test_learned_policy_runs_the_same_container() {
  require_policies
  cat >"$AR_TEST_DIR/policy.yaml" <<POLICY
name: learn-loop
version: 1
description: Observes the container.
mode: audit
filesystem:
  readonly_rootfs: true
process:
  capabilities: []
syscalls:
  base: default
  deny: [sethostname]
network:
  mode: none
audit:
  events: $AR_TEST_DIR/events.jsonl
POLICY
  make_policy_bundle
  set_script 'hostname learn-loop 2>/dev/null; echo ran'
  run_container --policy "$AR_TEST_DIR/policy.yaml"
  expect_success "run in audit mode"
  rt_capture policy learn --name learned "$AR_TEST_DIR/events.jsonl"
  expect_success "policy learn"
  printf '%s\n' "$OUT" >"$AR_TEST_DIR/learned.yaml"
  assert_contains "$OUT" "sethostname" "the learned system call"
  rt_capture policy check "$AR_TEST_DIR/learned.yaml"
  expect_success "policy check of the draft"
  ID=$ID-enforce run_container --policy "$AR_TEST_DIR/learned.yaml"
  expect_success "run under the learned policy"
  assert_contains "$OUT" ran "the container's output"
  assert_no_leftovers "$ID"
  assert_no_leftovers "$ID-enforce"
}
