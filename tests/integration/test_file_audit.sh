# Writes that a policy's filesystem section would stop: in audit mode they
# succeed and the keeper reports each as a `file` event; in enforce mode
# they fail and no keeper watches files.

# Skips the test for runtimes without policies (runc, crun).
require_policies() {
  "$RUNTIME" policy --help >/dev/null 2>&1 || skip "$(basename "$RUNTIME") has no policies"
}

# Writes AR_TEST_DIR/policy.yaml in MODE: /workspace and /tmp writable,
# /srv/secrets (on the root) and /workspace/secrets (in a writable place)
# denied, the root read-only by default.
write_file_policy() {
  local mode=$1
  cat >"$AR_TEST_DIR/policy.yaml" <<POLICY
name: file-audit
version: 1
description: Reports the writes it would stop.
mode: $mode
filesystem:
  readwrite_paths: [/workspace, /tmp]
  denied_paths: [/srv/secrets, /workspace/secrets]
process:
  capabilities: [CAP_NET_BIND_SERVICE]
network:
  mode: none
audit:
  events: $AR_TEST_DIR/events.jsonl
POLICY
}

# The example agent's config.json run as root, with /workspace a folder of
# AR_TEST_DIR that holds a secrets folder, and /srv/secrets on the root.
make_file_bundle() {
  make_bundle
  cp "$AR_TEMPLATE/config.json" "$BUNDLE/config.json"
  config_edit '.process.user = {uid: 0, gid: 0} | .mounts |= map(select(.destination != "/workspace"))'
  share_dir workspace
  mkdir -p "$AR_TEST_DIR/workspace/secrets" "$BUNDLE/rootfs/srv/secrets"
}

# Prints the pid of the keeper that the state of ID records, or nothing.
keeper_pid_of() {
  jq -r '.keeper_pid // empty' "$AR_ROOT/$1/state.json"
}

# Whether process PID holds a fanotify descriptor.
holds_fanotify() {
  local fd
  for fd in /proc/"$1"/fd/*; do
    [ "$(readlink "$fd" 2>/dev/null)" = "anon_inode:[fanotify]" ] && return 0
  done
  return 1
}

# The writes each test makes; the script writes one line per write to
# /workspace/result.
# shellcheck disable=SC2016 # expanded by the container's shell
WRITES='for f in /workspace/ok /etc/x /srv/secrets/key /workspace/secrets/key; do
  if echo data 2>/tmp/err >"$f"; then echo "$f: written"; else echo "$f: $(cat /tmp/err)"; fi
done >/workspace/result
for i in $(seq 200); do echo "$i" >>/etc/x; done 2>/dev/null'

test_audit_mode_reports_denied_writes() {
  require_policies
  write_file_policy audit
  make_file_bundle
  config_edit '.root.readonly = false'
  set_script "$WRITES"
  create_container --policy "$AR_TEST_DIR/policy.yaml"
  local keeper
  keeper=$(keeper_pid_of "$ID")
  [ -n "$keeper" ] || fail "the state records no keeper"
  holds_fanotify "$keeper" || fail "the keeper $keeper watches no file writes"
  rt_capture start "$ID"
  expect_success "start"
  wait_status "$ID" stopped 20
  OUT=$(cat "$AR_TEST_DIR/workspace/result")
  local f
  for f in /workspace/ok /etc/x /srv/secrets/key /workspace/secrets/key; do
    assert_contains "$OUT" "$f: written" "the container's output"
  done
  rt_capture delete "$ID"
  expect_success "delete"
  [ ! -e "$BUNDLE/rootfs/etc/x" ] || rm -f "$BUNDLE/rootfs/etc/x"

  local events
  events=$(jq -c 'select(.type == "file")' "$AR_TEST_DIR/events.jsonl") || fail "unreadable events"
  jq -se --arg id "$ID" 'any(.path == "/etc/x" and .access == "write" and .outcome == "allowed"
    and .mode == "audit" and .rule == "(readonly_rootfs)" and .policy_field == "filesystem.readonly_rootfs"
    and .container == $id and .policy == "file-audit")' <<<"$events" >/dev/null ||
    fail "no event for /etc/x: $events"
  jq -se --arg rule "$AR_TEST_DIR/policy.yaml:7" 'any(.path == "/srv/secrets/key" and .rule == $rule
    and .policy_field == "filesystem.denied_paths[0]")' <<<"$events" >/dev/null ||
    fail "no event for /srv/secrets/key: $events"
  jq -se 'any(.path == "/workspace/secrets/key" and .policy_field == "filesystem.denied_paths[1]")' \
    <<<"$events" >/dev/null || fail "no event for /workspace/secrets/key: $events"
  jq -se 'all(.path != "/workspace/ok" and (.path | startswith("/tmp") | not))' <<<"$events" >/dev/null ||
    fail "an event for a writable place: $events"
  # 201 writes to /etc/x make one event a second at most; the bound
  # leaves room for a slow machine.
  jq -se 'map(select(.path == "/etc/x")) | length <= 5' <<<"$events" >/dev/null ||
    fail "more than one event per path and second: $events"
  assert_no_leftovers "$ID"
}

test_enforce_mode_stops_the_writes_without_watching() {
  require_policies
  write_file_policy enforce
  make_file_bundle
  set_script "$WRITES"
  create_container --policy "$AR_TEST_DIR/policy.yaml"
  local keeper
  keeper=$(keeper_pid_of "$ID")
  # The keeper runs for the network policy's events.
  [ -n "$keeper" ] || fail "the state records no keeper"
  ! holds_fanotify "$keeper" || fail "the keeper $keeper watches file writes in enforce mode"
  rt_capture start "$ID"
  expect_success "start"
  wait_status "$ID" stopped 20
  OUT=$(cat "$AR_TEST_DIR/workspace/result")
  assert_contains "$OUT" "/workspace/ok: written" "the container's output"
  local f
  for f in /etc/x /srv/secrets/key /workspace/secrets/key; do
    assert_match "$OUT" "$f: .*(Read-only file system|Permission denied)" "the container's output"
  done
  rt_capture delete "$ID"
  expect_success "delete"
  [ ! -s "$AR_TEST_DIR/events.jsonl" ] || ! jq -se 'any(.type == "file")' "$AR_TEST_DIR/events.jsonl" >/dev/null ||
    fail "file events in enforce mode: $(cat "$AR_TEST_DIR/events.jsonl")"
  assert_no_leftovers "$ID"
}
