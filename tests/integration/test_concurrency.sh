# Many runtime calls at once on one --root: creates and deletes of distinct
# ids, and creates that race for one id.  The state under --root must stay
# valid throughout, and `list` must agree with it.

CONCURRENCY=${AR_CONCURRENCY:-50}

# Runs `list --format json` and `state ID` in a loop until the file STOP
# exists, and appends to AR_TEST_DIR/invalid every output that is not
# valid JSON of the expected shape.  `state` may fail while the container
# does not exist yet.
watch_state() {
  local id=$1 stop=$2 text
  while [ ! -e "$stop" ]; do
    if text=$("$RUNTIME" --root "$AR_ROOT" list --format json 2>&1); then
      jq -e 'type == "array" or . == null' <<<"$text" >/dev/null 2>&1 ||
        printf 'list: %s\n' "$text" >>"$AR_TEST_DIR/invalid"
    else
      printf 'list failed: %s\n' "$text" >>"$AR_TEST_DIR/invalid"
    fi
    if text=$("$RUNTIME" --root "$AR_ROOT" state "$id" 2>/dev/null); then
      jq -e --arg id "$id" '.id == $id and (.status | type == "string")' <<<"$text" >/dev/null 2>&1 ||
        printf 'state: %s\n' "$text" >>"$AR_TEST_DIR/invalid"
    fi
  done
}

# Prints the number of containers in `list`.
list_count() {
  rt list --format json | jq '(. // []) | length'
}

test_parallel_create_delete_distinct_ids() {
  make_bundle
  set_args sleep 60
  local i failed=() pids=()
  mkdir -p "$AR_TEST_DIR/rc"
  for i in $(seq "$CONCURRENCY"); do
    (
      trap - ERR
      set +e
      "$RUNTIME" --root "$AR_ROOT" create --bundle "$BUNDLE" "$ID-$i" >"$AR_TEST_DIR/rc/$i.create" 2>&1
      echo "create $?" >"$AR_TEST_DIR/rc/$i"
      "$RUNTIME" --root "$AR_ROOT" delete --force "$ID-$i" >"$AR_TEST_DIR/rc/$i.delete" 2>&1
      echo "delete $?" >>"$AR_TEST_DIR/rc/$i"
    ) &
    pids+=($!)
  done
  wait "${pids[@]}"

  for i in $(seq "$CONCURRENCY"); do
    if [ "$(cat "$AR_TEST_DIR/rc/$i" 2>/dev/null)" != "$(printf 'create 0\ndelete 0')" ]; then
      failed+=("$i: $(cat "$AR_TEST_DIR/rc/$i" "$AR_TEST_DIR/rc/$i.create" "$AR_TEST_DIR/rc/$i.delete" 2>&1 | tr '\n' ' ')")
    fi
  done
  [ ${#failed[@]} -eq 0 ] || fail "${#failed[@]} of $CONCURRENCY create+delete pairs failed: ${failed[*]}"
  assert_eq "$(list_count)" 0 "containers in list after all the deletes"
  for i in $(seq "$CONCURRENCY"); do
    assert_no_leftovers "$ID-$i"
  done
}

# All creates first, then all deletes, so that every container exists at
# the same time.
test_parallel_creates_then_deletes() {
  make_bundle
  set_args sleep 60
  local i verb failed=() pids=()
  mkdir -p "$AR_TEST_DIR/rc"
  for verb in create delete; do
    pids=()
    for i in $(seq "$CONCURRENCY"); do
      if [ "$verb" = create ]; then
        spawn "$RUNTIME" --root "$AR_ROOT" create --bundle "$BUNDLE" "$ID-$i"
      else
        spawn "$RUNTIME" --root "$AR_ROOT" delete --force "$ID-$i"
      fi
      pids+=("$SPAWNED_PID")
    done
    for i in $(seq "$CONCURRENCY"); do
      wait "${pids[$((i - 1))]}" || failed+=("$verb $ID-$i")
    done
    [ ${#failed[@]} -eq 0 ] || fail "${#failed[@]} parallel calls failed: ${failed[*]}"
    if [ "$verb" = create ]; then
      assert_eq "$(list_count)" "$CONCURRENCY" "containers in list after the creates"
      assert_eq "$(rt list --format json | jq -r '[.[].status] | unique | join(",")')" created \
        "statuses in list after the creates"
    fi
  done
  assert_eq "$(list_count)" 0 "containers in list after the deletes"
  for i in $(seq "$CONCURRENCY"); do
    assert_no_leftovers "$ID-$i"
  done
}

test_parallel_creates_of_one_id() {
  make_bundle
  set_args sleep 60
  local i winners=() others=() pids=()
  mkdir -p "$AR_TEST_DIR/rc"
  spawn bash -c "$(declare -f watch_state); AR_TEST_DIR=$AR_TEST_DIR AR_ROOT=$AR_ROOT RUNTIME=$RUNTIME \
    watch_state $ID $AR_TEST_DIR/stop"
  local watcher=$SPAWNED_PID

  for i in $(seq "$CONCURRENCY"); do
    (
      trap - ERR
      set +e
      "$RUNTIME" --root "$AR_ROOT" create --bundle "$BUNDLE" "$ID" >"$AR_TEST_DIR/rc/$i.out" 2>&1
      echo $? >"$AR_TEST_DIR/rc/$i"
    ) &
    pids+=($!)
  done
  wait "${pids[@]}"
  touch "$AR_TEST_DIR/stop"
  wait "$watcher" || true

  for i in $(seq "$CONCURRENCY"); do
    if [ "$(cat "$AR_TEST_DIR/rc/$i")" = 0 ]; then
      winners+=("$i")
    elif ! grep -q "container \`$ID\` already exists" "$AR_TEST_DIR/rc/$i.out"; then
      others+=("$i: exit status $(cat "$AR_TEST_DIR/rc/$i"): $(cat "$AR_TEST_DIR/rc/$i.out")")
    fi
  done
  assert_eq "${#winners[@]}" 1 "creates of $ID that succeeded"
  [ ${#others[@]} -eq 0 ] || fail "creates that failed without 'already exists': ${others[*]}"
  [ ! -s "$AR_TEST_DIR/invalid" ] || fail "invalid list or state output during the race: $(cat "$AR_TEST_DIR/invalid")"

  assert_eq "$(list_count)" 1 "containers in list after the race"
  assert_eq "$(state_field "$ID" status)" created "status of the winner"
  rt_capture start "$ID"
  expect_success "start of the winner"
  rt_capture delete --force "$ID"
  expect_success "delete --force"
  assert_no_leftovers "$ID"
  assert_eq "$(list_count)" 0 "containers in list after delete"
}
