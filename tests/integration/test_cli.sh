# The command line beside the lifecycle: --version, spec, features and
# the global --log, --log-format and --debug options that podman passes.

test_version() {
  rt_capture --version
  expect_success "--version"
  assert_match "$OUT" "version [0-9]+\.[0-9]+" "--version output"
  assert_match "$OUT" "spec:? 1\.[0-9]+" "runtime-spec version in --version output"
}

test_spec_writes_a_config_that_runs() {
  mkdir "$AR_TEST_DIR/spec"
  (cd "$AR_TEST_DIR/spec" && "$RUNTIME" spec) || fail "spec failed"
  local config=$AR_TEST_DIR/spec/config.json
  [ -s "$config" ] || fail "spec wrote no config.json"
  jq -e . "$config" >/dev/null || fail "spec wrote invalid JSON"
  assert_match "$(jq -r .ociVersion "$config")" '^1\.[0-9]+\.[0-9]+' "ociVersion of the spec"
  assert_eq "$(jq -r .root.path "$config")" rootfs "root.path of the spec"

  # The default spec runs with a rootfs and a process that needs no terminal.
  BUNDLE=$AR_TEST_DIR/spec
  cp -a "$AR_TEMPLATE/rootfs" "$BUNDLE/rootfs"
  config_edit '.process.terminal = false | .process.args = ["echo", "from spec"]'
  run_container
  expect_success "run of the default spec"
  assert_eq "$OUT" "from spec" "output of the default spec"
}

test_spec_refuses_to_overwrite() {
  mkdir "$AR_TEST_DIR/spec"
  echo '{"keep": true}' >"$AR_TEST_DIR/spec/config.json"
  if (cd "$AR_TEST_DIR/spec" && "$RUNTIME" spec) >/dev/null 2>&1; then
    fail "spec succeeded in a folder that has a config.json"
  fi
  assert_eq "$(jq -c . "$AR_TEST_DIR/spec/config.json")" '{"keep":true}' "existing config.json"
}

test_features() {
  rt_capture features
  expect_success "features"
  jq -e . <<<"$OUT" >/dev/null || fail "features did not print JSON: $OUT"
  assert_match "$(jq -r .ociVersionMax <<<"$OUT")" '^1\.[0-9]+' "features ociVersionMax"
  local hook namespace
  for hook in prestart createRuntime createContainer startContainer poststart poststop; do
    jq -e --arg h "$hook" '.hooks | index($h)' <<<"$OUT" >/dev/null || fail "features lacks hook $hook"
  done
  for namespace in pid network ipc uts mount user cgroup; do
    jq -e --arg n "$namespace" '.linux.namespaces | index($n)' <<<"$OUT" >/dev/null ||
      fail "features lacks namespace $namespace"
  done
  jq -e '.linux.seccomp.enabled == true' <<<"$OUT" >/dev/null || fail "features: seccomp not enabled"
}

test_log_format_json_error() {
  rt_capture --log "$AR_TEST_DIR/runtime.log" --log-format json state "$ID-unknown"
  expect_failure
  [ -s "$AR_TEST_DIR/runtime.log" ] || fail "no error written to the --log file"
  local line
  line=$(grep -v '^$' "$AR_TEST_DIR/runtime.log" | tail -n 1)
  jq -e . <<<"$line" >/dev/null || fail "log line is not JSON: $line"
  assert_eq "$(jq -r .level <<<"$line")" error "level of the logged error"
  assert_match "$(jq -r .msg <<<"$line")" 'not exist|not found' "message of the logged error"
}

test_log_format_text_error() {
  rt_capture --log "$AR_TEST_DIR/runtime.log" --log-format text state "$ID-unknown"
  expect_failure
  [ -s "$AR_TEST_DIR/runtime.log" ] || fail "no error written to the --log file"
  assert_match "$(cat "$AR_TEST_DIR/runtime.log")" 'not exist|not found' "logged error"
}

test_debug_logs_steps() {
  make_bundle
  rt_capture --debug --log "$AR_TEST_DIR/runtime.log" --log-format json run --bundle "$BUNDLE" "$ID"
  expect_success "run with --debug"
  [ -s "$AR_TEST_DIR/runtime.log" ] || fail "--debug wrote nothing to the --log file"
  grep -q '"level":"debug"' "$AR_TEST_DIR/runtime.log" || fail "no debug line in the log: $(head -c 2000 "$AR_TEST_DIR/runtime.log")"
  local line
  while read -r line; do
    [ -z "$line" ] || jq -e . <<<"$line" >/dev/null || fail "log line is not JSON: $line"
  done <"$AR_TEST_DIR/runtime.log"
}

test_unknown_command_fails() {
  rt_capture no-such-command
  expect_failure 'no-such-command|unknown|usage|help'
}
