# The example agent bundle of examples/busybox, run unchanged.

test_example_agent_runs() {
  BUNDLE=$AR_TEST_DIR/example
  "$AR_REPO/examples/busybox/make-bundle.sh" "$BUNDLE"
  run_container
  expect_success "example agent"
  assert_contains "$OUT" "agent: user agent (uid 1000, gid 1000, groups 1000)"
  assert_contains "$OUT" "agent: hostname agent"
  assert_contains "$OUT" "agent: effective capabilities: net_bind_service"
  assert_contains "$OUT" "agent: bounding capabilities: net_bind_service"
  assert_contains "$OUT" "agent: no_new_privs 1"
  assert_contains "$OUT" "agent: root filesystem read-only"
  assert_match "$OUT" "agent: network interfaces: lo *$"
  assert_match "$OUT" "agent: work: counted [0-9]+ words"
  assert_no_leftovers "$ID"
}
