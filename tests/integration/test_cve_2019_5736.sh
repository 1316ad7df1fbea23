# CVE-2019-5736: a container process must never be able to open the
# runtime's own binary through /proc/self/exe or /proc/PID/exe and write
# to it, which would replace the runtime on the host.
#
# Both tests attack a copy of the runtime in the test's folder, so that a
# vulnerable runtime damages only the copy.

# Copies RUNTIME into the test folder, points RUNTIME at the copy and
# records its checksum in RUNTIME_SUM.
use_runtime_copy() {
  cp "$RUNTIME" "$AR_TEST_DIR/runtime-copy"
  RUNTIME=$AR_TEST_DIR/runtime-copy
  RUNTIME_SUM=$(sha256sum <"$RUNTIME")
}

assert_runtime_unchanged() {
  assert_eq "$(sha256sum <"$RUNTIME")" "$RUNTIME_SUM" "checksum of the runtime binary after the attack"
}

# The entrypoint is a script whose interpreter is /proc/self/exe: the
# kernel resolves it to the binary of the process doing the execve.
test_entrypoint_proc_self_exe() {
  known_gap runc "runc 1.1.5 runs itself as the entrypoint (from a sealed copy) and exits 0 after printing its usage"
  use_runtime_copy
  make_bundle
  config_edit '.root.readonly = false'
  printf '#!/proc/self/exe\n' >"$BUNDLE/rootfs/evil"
  chmod 0755 "$BUNDLE/rootfs/evil"
  set_args /evil
  run_container
  [ "$RC" != 0 ] || fail "the #!/proc/self/exe entrypoint exited 0; it should have been refused"
  assert_runtime_unchanged
}

# A process in the container watches for runtime processes that enter the
# container (as `exec` does), opens their /proc/PID/exe, and after they
# exit reopens it for writing through /proc/self/fd, the published attack.
# It attacks memfd executables too, which must be sealed.  The watcher
# holds CAP_SYS_PTRACE, which defeats a merely non-dumpable process.
test_exec_runtime_binary_not_writable() {
  use_runtime_copy
  make_bundle
  share_dir out
  local watcher='
    end=$(( $(date +%s) + 8 ))
    while [ "$(date +%s)" -lt "$end" ]; do
      for exe in /proc/[0-9]*/exe; do
        pid=${exe#/proc/}; pid=${pid%/exe}
        [ "$pid" = $$ ] && continue
        target=$(readlink "$exe" 2>/dev/null) || continue
        case "$target" in
          *runtime-copy* | /memfd:*)
            echo "seen $pid $target" >>/out/log
            # A failed redirection on `exec` ends the shell, so the attack
            # runs in a subshell.
            (
              exec 3<"$exe" || exit 1
              echo "opened $pid" >>/out/log
              while [ -e "/proc/$pid" ]; do :; done
              if echo pwned >/proc/self/fd/3; then echo "WROTE" >>/out/log; fi
            ) 2>/dev/null ;;
        esac
      done
    done
    echo done >>/out/log'
  set_script "$watcher"
  config_edit '.process.capabilities.bounding += ["CAP_DAC_OVERRIDE", "CAP_SYS_PTRACE"]
    | .process.capabilities.effective += ["CAP_DAC_OVERRIDE", "CAP_SYS_PTRACE"]
    | .process.capabilities.permitted += ["CAP_DAC_OVERRIDE", "CAP_SYS_PTRACE"]'
  rt_capture run --detach --bundle "$BUNDLE" "$ID"
  expect_success "run --detach of the watcher"

  local i
  for i in $(seq 20); do
    rt_capture exec "$ID" /bin/true
    expect_success "exec $i"
  done

  local waited=0
  while ! grep -q '^done' "$AR_TEST_DIR/out/log" 2>/dev/null && [ "$waited" -lt 15 ]; do
    sleep 1
    waited=$((waited + 1))
  done
  echo "watcher log:" >&2
  cat "$AR_TEST_DIR/out/log" >&2 2>/dev/null || true
  if grep -q WROTE "$AR_TEST_DIR/out/log" 2>/dev/null; then
    fail "the container wrote to the runtime binary through /proc/PID/exe"
  fi
  assert_runtime_unchanged
  grep -q '^opened' "$AR_TEST_DIR/out/log" ||
    skip "the watcher caught no runtime process in time, so the write was not tried"
}
