# Hooks: the six kinds run in order, each gets the state JSON on stdin,
# env and timeout apply, and a failing hook fails create and leaves nothing.

# Each hook appends its kind to LOG/order and saves its stdin as
# LOG/KIND.json.  Host-side hooks write to AR_TEST_DIR/hooklog;
# startContainer runs inside the container, where that folder is /hooklog.
HOOK_SCRIPT='cat >"$2/$1.json"; echo "$1" >>"$2/order"'

# Prints the hook object for KIND that runs HOOK_SCRIPT with log folder DIR.
hook_json() {
  jq -nc --arg kind "$1" --arg dir "$2" --arg script "$HOOK_SCRIPT" \
    '{path: "/bin/sh", args: ["sh", "-c", $script, "sh", $kind, $dir]}'
}

# Adds one logging hook of each kind to the bundle.
add_logging_hooks() {
  local log=$AR_TEST_DIR/hooklog kind hooks="{}"
  share_dir hooklog
  for kind in prestart createRuntime createContainer poststart poststop; do
    hooks=$(jq -c --arg k "$kind" --argjson h "$(hook_json "$kind" "$log")" '.[$k] = [$h]' <<<"$hooks")
  done
  hooks=$(jq -c --argjson h "$(hook_json startContainer /hooklog)" '.startContainer = [$h]' <<<"$hooks")
  config_edit '.hooks = $h' --argjson h "$hooks"
}

hook_order() {
  tr '\n' ' ' <"$AR_TEST_DIR/hooklog/order" 2>/dev/null | sed 's/ $//'
}

# runc 1.1.5 runs poststart hooks at the end of create, before the
# startContainer hooks and the process; runc fixed this in 2026.
RUNC_POSTSTART_GAP="runc 1.1.5 runs poststart hooks during create, before startContainer"

test_hooks_run_in_order() {
  known_gap runc "$RUNC_POSTSTART_GAP"
  make_bundle
  add_logging_hooks
  set_script 'echo process >>/hooklog/order'
  create_container
  assert_eq "$(hook_order)" "prestart createRuntime createContainer" "hooks run by create"
  rt_capture start "$ID"
  expect_success "start"
  wait_status "$ID" stopped
  local order
  order=$(hook_order)
  # The process and the poststart hooks run at the same time.
  assert_match "$order" "^prestart createRuntime createContainer startContainer (process poststart|poststart process)$" \
    "hooks run by start"
  rt_capture delete "$ID"
  expect_success "delete"
  assert_match "$(hook_order)" " poststop$" "hooks run by delete"
}

test_hooks_run_in_order_with_run() {
  known_gap runc "$RUNC_POSTSTART_GAP"
  make_bundle
  add_logging_hooks
  run_container
  expect_success
  assert_eq "$(hook_order)" "prestart createRuntime createContainer startContainer poststart poststop" \
    "hooks run by run"
}

test_hooks_get_state_on_stdin() {
  make_bundle
  add_logging_hooks
  set_script 'sleep 0.5'
  run_container
  expect_success
  local kind file
  for kind in prestart createRuntime createContainer startContainer poststart poststop; do
    file=$AR_TEST_DIR/hooklog/$kind.json
    [ -s "$file" ] || fail "$kind hook got no state on stdin"
    jq -e . "$file" >/dev/null || fail "$kind hook got invalid JSON on stdin: $(cat "$file")"
    assert_eq "$(jq -r .id "$file")" "$ID" "id in the state that $kind got"
    assert_eq "$(jq -r .bundle "$file")" "$BUNDLE" "bundle in the state that $kind got"
    assert_match "$(jq -r .ociVersion "$file")" "^1\\.[0-9]" "ociVersion in the state that $kind got"
  done
  for kind in prestart createRuntime createContainer startContainer poststart; do
    file=$AR_TEST_DIR/hooklog/$kind.json
    assert_match "$(jq -r .pid "$file")" "^[1-9][0-9]*$" "pid in the state that $kind got"
  done
  assert_eq "$(jq -r .status "$AR_TEST_DIR/hooklog/poststop.json")" stopped \
    "status in the state that poststop got"
}

test_poststart_hook_sees_running() {
  known_gap runc "$RUNC_POSTSTART_GAP"
  make_bundle
  add_logging_hooks
  set_script 'sleep 0.5'
  run_container
  expect_success
  assert_eq "$(jq -r .status "$AR_TEST_DIR/hooklog/poststart.json")" running \
    "status in the state that poststart got"
}

test_hook_env_and_args() {
  make_bundle
  share_dir hooklog
  config_edit '.hooks.createRuntime = [{path: "/bin/sh",
      args: ["sh", "-c", "env >\"$0/env\"; echo \"$1\" >\"$0/arg\"", $dir, "an argument"],
      env: ["AR_HOOK=yes", "PATH=/usr/bin:/bin"]}]' --arg dir "$AR_TEST_DIR/hooklog"
  run_container
  expect_success
  local env
  env=$(grep -v -e '^PWD=' -e '^SHLVL=' -e '^_=' "$AR_TEST_DIR/hooklog/env" | sort)
  assert_eq "$env" "$(printf 'AR_HOOK=yes\nPATH=/usr/bin:/bin')" "environment of the hook"
  assert_eq "$(cat "$AR_TEST_DIR/hooklog/arg")" "an argument" "argument of the hook"
}

test_failing_create_runtime_hook_fails_create() {
  make_bundle
  config_edit '.hooks.createRuntime = [{path: "/bin/sh", args: ["sh", "-c", "echo hook-broke >&2; exit 3"]}]'
  rt_capture create --bundle "$BUNDLE" "$ID"
  expect_failure 'hook|createRuntime'
  assert_no_leftovers "$ID"
}

test_failing_prestart_hook_fails_create() {
  make_bundle
  config_edit '.hooks.prestart = [{path: "/bin/false", args: ["false"]}]'
  rt_capture create --bundle "$BUNDLE" "$ID"
  expect_failure 'hook|prestart'
  assert_no_leftovers "$ID"
}

test_failing_create_container_hook_fails_create() {
  make_bundle
  config_edit '.hooks.createContainer = [{path: "/bin/false", args: ["false"]}]'
  rt_capture create --bundle "$BUNDLE" "$ID"
  expect_failure 'hook|createContainer'
  assert_no_leftovers "$ID"
}

# startContainer hooks run in the container process during start, before
# start returns, so a failing one fails start and the process never runs.
test_failing_start_container_hook_fails_start() {
  known_gap runc "runc 1.1.5 runs startContainer hooks after start has returned"
  make_bundle
  share_dir hooklog
  config_edit '.hooks.startContainer = [{path: "/bin/sh", args: ["sh", "-c", "echo hook-broke >&2; exit 3"]}]'
  set_script 'echo ran >/hooklog/process'
  create_container
  rt_capture start "$ID"
  expect_failure 'startContainer|exited'
  wait_status "$ID" stopped
  [ ! -e "$AR_TEST_DIR/hooklog/process" ] || fail "the process ran although its startContainer hook failed"
}

test_missing_hook_binary_fails_create() {
  make_bundle
  config_edit '.hooks.createRuntime = [{path: "/nonexistent/hook", args: ["hook"]}]'
  rt_capture create --bundle "$BUNDLE" "$ID"
  expect_failure 'hook|/nonexistent/hook|no such file'
  assert_no_leftovers "$ID"
}

test_hook_timeout_fails_create() {
  make_bundle
  share_dir hooklog
  config_edit '.hooks.createRuntime = [{path: "/bin/sh",
      args: ["sh", "-c", "echo $$ >\"$0/pid\"; exec sleep 30", $dir], timeout: 1}]' \
    --arg dir "$AR_TEST_DIR/hooklog"
  local start=$SECONDS hook_pid
  rt_capture create --bundle "$BUNDLE" "$ID"
  expect_failure 'hook|timeout|timed out|createRuntime'
  [ $((SECONDS - start)) -lt 15 ] || fail "create took $((SECONDS - start))s with a hook timeout of 1s"
  assert_no_leftovers "$ID"
  hook_pid=$(cat "$AR_TEST_DIR/hooklog/pid")
  if [ -d "/proc/$hook_pid" ] && grep -q sleep "/proc/$hook_pid/cmdline"; then
    fail "the timed-out hook (pid $hook_pid) is still running"
  fi
}

# A failing poststop hook is logged, and delete still removes the container.
test_failing_poststop_hook_still_deletes() {
  make_bundle
  config_edit '.hooks.poststop = [{path: "/bin/false", args: ["false"]}]'
  create_container
  rt_capture delete --force "$ID"
  assert_no_leftovers "$ID"
}
