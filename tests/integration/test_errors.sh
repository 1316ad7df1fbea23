# Errors: each must exit non-zero with a message that names what is wrong.
# It must leave nothing behind: no state under --root, no cgroup, no mount
# and no process.

test_unknown_id_fails() {
  local verb
  for verb in state start "kill" delete; do
    rt_capture $verb "$ID-unknown"
    expect_failure 'not exist|not found|no such|unknown'
  done
  assert_no_leftovers "$ID-unknown"
}

test_unknown_id_message_names_id() {
  known_gap runc "runc 1.1.5 says only \"container does not exist\""
  rt_capture state "$ID-unknown"
  expect_failure "$ID-unknown"
}

test_missing_bundle_fails() {
  rt_capture create --bundle "$AR_TEST_DIR/no-such-bundle" "$ID"
  expect_failure 'no-such-bundle|no such file|not found|not exist'
  assert_no_leftovers "$ID"
  rt_capture run --bundle "$AR_TEST_DIR/no-such-bundle" "$ID"
  expect_failure 'no-such-bundle|no such file|not found|not exist'
  assert_no_leftovers "$ID"
}

test_missing_config_fails() {
  make_bundle
  rm "$BUNDLE/config.json"
  rt_capture create --bundle "$BUNDLE" "$ID"
  expect_failure 'config\.json'
  assert_no_leftovers "$ID"
}

test_malformed_config_fails() {
  make_bundle
  printf '{"ociVersion": "1.0.2", "process": {' >"$BUNDLE/config.json"
  rt_capture create --bundle "$BUNDLE" "$ID"
  expect_failure
  assert_no_leftovers "$ID"
}

test_malformed_config_message_names_file() {
  known_gap runc "runc 1.1.5 says only \"unexpected EOF\""
  make_bundle
  printf '{"ociVersion": "1.0.2", "process": {' >"$BUNDLE/config.json"
  rt_capture create --bundle "$BUNDLE" "$ID"
  expect_failure 'config\.json'
}

test_wrong_type_in_config_fails() {
  make_bundle
  config_edit '.process.args = "/bin/true"'
  rt_capture create --bundle "$BUNDLE" "$ID"
  expect_failure 'args|array|string|json'
  assert_no_leftovers "$ID"
}

test_missing_rootfs_fails() {
  make_bundle
  rm -rf "$BUNDLE/rootfs"
  rt_capture create --bundle "$BUNDLE" "$ID"
  expect_failure 'rootfs|root|no such file|not exist'
  assert_no_leftovers "$ID"
}

test_missing_executable_fails() {
  make_bundle
  set_args /no/such/program
  rt_capture run --bundle "$BUNDLE" "$ID"
  expect_failure '/no/such/program|no such file|not found'
  assert_no_leftovers "$ID"
}

test_bad_namespace_type_fails() {
  make_bundle
  config_edit '.linux.namespaces += [{type: "bogus"}]'
  rt_capture create --bundle "$BUNDLE" "$ID"
  expect_failure 'namespace|bogus'
  assert_no_leftovers "$ID"
}

test_bad_namespace_path_fails() {
  make_bundle
  config_edit '.linux.namespaces = (.linux.namespaces | map(select(.type != "network")))
    + [{type: "network", path: "/no/such/netns"}]'
  rt_capture create --bundle "$BUNDLE" "$ID"
  expect_failure 'namespace|/no/such/netns|no such file'
  assert_no_leftovers "$ID"
}

test_unknown_capability_fails() {
  known_gap runc "runc 1.1.5 ignores unknown capability names with a warning"
  make_bundle
  config_edit '.process.capabilities.bounding += ["CAP_NOT_A_CAPABILITY"]'
  rt_capture create --bundle "$BUNDLE" "$ID"
  expect_failure 'CAP_NOT_A_CAPABILITY|capabilit'
  assert_no_leftovers "$ID"
}

test_unknown_rlimit_fails() {
  make_bundle
  config_edit '.process.rlimits += [{type: "RLIMIT_BOGUS", soft: 1, hard: 1}]'
  rt_capture create --bundle "$BUNDLE" "$ID"
  expect_failure 'RLIMIT_BOGUS|rlimit'
  assert_no_leftovers "$ID"
}

test_bad_mount_fails() {
  make_bundle
  add_mount /data bind "$AR_TEST_DIR/no-such-source" bind ro
  rt_capture create --bundle "$BUNDLE" "$ID"
  expect_failure 'no-such-source|mount|no such file'
  assert_no_leftovers "$ID"
}

test_bad_seccomp_action_fails() {
  make_bundle
  config_edit '.linux.seccomp = {defaultAction: "SCMP_ACT_ALLOW",
    syscalls: [{names: ["mkdir"], action: "SCMP_ACT_BOGUS"}]}'
  rt_capture create --bundle "$BUNDLE" "$ID"
  expect_failure 'SCMP_ACT_BOGUS|seccomp|action'
  assert_no_leftovers "$ID"
}

test_invalid_ids_rejected() {
  make_bundle
  local id
  for id in "../$ID-escape" "$ID/sub" "." ".." ""; do
    rt_capture create --bundle "$BUNDLE" "$id"
    expect_failure
  done
  [ ! -e "$AR_TEST_DIR/$ID-escape" ] || fail "an id with ../ created $AR_TEST_DIR/$ID-escape"
  assert_no_leftovers "$ID-escape"
  assert_no_leftovers "$ID"
}

test_start_without_process_fails() {
  known_gap runc "runc 1.1.5 rejects a config without process at create"
  make_bundle
  config_edit 'del(.process)'
  create_container
  rt_capture start "$ID"
  expect_failure 'process'
}

test_failed_run_leaves_nothing() {
  make_bundle
  # The process cannot be executed, after the runtime made the cgroup,
  # namespaces and mounts.
  config_edit '.process.args = ["/etc/passwd"]'
  rt_capture run --bundle "$BUNDLE" "$ID"
  expect_failure 'permission denied|exec|/etc/passwd'
  assert_no_leftovers "$ID"
}
