# CVE-2022-29162: the inheritable capability set of a container process
# must be exactly what config.json lists in process.capabilities.inheritable.
# A wider inheritable set lets a file with inheritable file capabilities
# grant them on execve, beyond what the spec allowed.

# Prints the CapInh value of the process's own /proc/self/status.
CAPINH_SCRIPT='sed -n "s/^CapInh:[[:space:]]*//p" /proc/self/status'

# Sets the process's capability sets: caps_config INHERITABLE_JSON, on top
# of the base config's bounding, effective and permitted sets.
caps_config() {
  config_edit '.process.capabilities.inheritable = $inh | .process.capabilities.ambient = []' \
    --argjson inh "$1"
}

test_inheritable_empty_stays_empty() {
  make_bundle
  caps_config '[]'
  run_script "$CAPINH_SCRIPT"
  assert_eq "$OUT" 0000000000000000 "CapInh of run with an empty inheritable set"
}

test_inheritable_exactly_as_listed() {
  make_bundle
  # CAP_CHOWN is bit 0, CAP_KILL bit 5.
  caps_config '["CAP_CHOWN", "CAP_KILL"]'
  run_script "$CAPINH_SCRIPT"
  assert_eq "$OUT" 0000000000000021 "CapInh of run with CAP_CHOWN and CAP_KILL inheritable"
}

# The runtime's own inheritable set must not reach the container.
test_runtime_inheritable_not_passed_on() {
  require_cmd setpriv
  make_bundle
  caps_config '[]'
  set_script "$CAPINH_SCRIPT"
  OUT=$(setpriv --inh-caps=+sys_admin,+net_admin,+sys_ptrace "$RUNTIME" --root "$AR_ROOT" \
    run --bundle "$BUNDLE" "$ID" </dev/null) || fail "run under setpriv --inh-caps failed"
  assert_eq "$OUT" 0000000000000000 "CapInh of run from a runtime with inheritable capabilities"
}

test_exec_inheritable_empty() {
  make_bundle
  caps_config '[]'
  set_args sleep 60
  rt_capture run --detach --bundle "$BUNDLE" "$ID"
  expect_success "run --detach"

  rt_capture exec "$ID" /bin/sh -c "$CAPINH_SCRIPT"
  expect_success "exec"
  assert_eq "$OUT" 0000000000000000 "CapInh of exec"

  # --cap adds to the bounding, effective and permitted sets only.
  rt_capture exec --cap CAP_NET_RAW --cap CAP_SYS_CHROOT "$ID" /bin/sh -c "$CAPINH_SCRIPT"
  expect_success "exec --cap"
  assert_eq "$OUT" 0000000000000000 "CapInh of exec --cap CAP_NET_RAW --cap CAP_SYS_CHROOT"

  if command -v setpriv >/dev/null; then
    OUT=$(setpriv --inh-caps=+sys_admin,+net_admin "$RUNTIME" --root "$AR_ROOT" \
      exec "$ID" /bin/sh -c "$CAPINH_SCRIPT" </dev/null) || fail "exec under setpriv --inh-caps failed"
    assert_eq "$OUT" 0000000000000000 "CapInh of exec from a runtime with inheritable capabilities"
  fi

  rt_capture delete --force "$ID"
  expect_success "delete --force"
  assert_no_leftovers "$ID"
}
