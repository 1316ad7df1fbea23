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
