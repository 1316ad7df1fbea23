# Known ways out of a container that the runtime must close: writes to the
# masked and read-only parts of /proc and /sys, a setuid-root binary under
# noNewPrivileges, and file descriptors of the runtime or its caller that
# reach the container.

# --- masked and read-only /proc and /sys -------------------------------------

# The script tries each write and read as root with CAP_DAC_OVERRIDE, and
# prints one line per attempt: `WROTE PATH`, `blocked PATH`, or
# `read N PATH` with the number of bytes read.  Every write puts back the
# value that the file had, or is a harmless command (sysrq h prints the
# help to the kernel log), so a runtime that fails the test changes
# nothing on the host.
PROC_SYS_SCRIPT='
try_write() {
  if printf "%s\n" "$2" >"$1" 2>/dev/null; then echo "WROTE $1"; else echo "blocked $1"; fi
}
try_write /proc/sysrq-trigger h
try_write /proc/sys/kernel/printk_ratelimit "$(cat /proc/sys/kernel/printk_ratelimit)"
try_write /proc/sys/vm/overcommit_ratio "$(cat /proc/sys/vm/overcommit_ratio)"
try_write /sys/kernel/uevent_helper "$(cat /sys/kernel/uevent_helper)"
if touch /sys/ar-escape-probe 2>/dev/null; then echo "WROTE /sys/ar-escape-probe"; else echo "blocked /sys/ar-escape-probe"; fi
if mkdir /sys/fs/cgroup/ar-escape-probe 2>/dev/null; then echo "WROTE /sys/fs/cgroup"; else echo "blocked /sys/fs/cgroup"; fi
if touch /sys/firmware/ar-escape-probe 2>/dev/null; then echo "WROTE /sys/firmware"; else echo "blocked /sys/firmware"; fi
for f in /proc/kcore /proc/keys /proc/timer_list; do
  echo "read $(head -c 4096 "$f" 2>/dev/null | wc -c) $f"
done
echo "entries $(ls -A /sys/firmware | wc -l) /sys/firmware"
'

# Fails unless the output of PROC_SYS_SCRIPT shows every attempt blocked
# and every masked file empty: check_proc_sys OUTPUT WHAT.
check_proc_sys() {
  local output=$1 what=$2 path
  for path in /proc/sysrq-trigger /proc/sys/kernel/printk_ratelimit /proc/sys/vm/overcommit_ratio \
    /sys/kernel/uevent_helper /sys/ar-escape-probe /sys/fs/cgroup /sys/firmware; do
    assert_contains "$output" "blocked $path" "$what: write to $path"
  done
  for path in /proc/kcore /proc/keys /proc/timer_list; do
    assert_contains "$output" "read 0 $path" "$what: read of the masked $path"
  done
  assert_contains "$output" "entries 0 /sys/firmware" "$what: the masked folder /sys/firmware"
}

test_proc_sys_writes_blocked() {
  make_bundle
  run_script "$PROC_SYS_SCRIPT"
  check_proc_sys "$OUT" run
}

test_proc_sys_writes_blocked_in_exec() {
  make_bundle
  set_args sleep 60
  rt_capture run --detach --bundle "$BUNDLE" "$ID"
  expect_success "run --detach"
  rt_capture exec "$ID" /bin/sh -c "$PROC_SYS_SCRIPT"
  expect_success "exec"
  check_proc_sys "$OUT" exec
  rt_capture delete --force "$ID"
  expect_success "delete --force"
  assert_no_leftovers "$ID"
}

# --- setuid under noNewPrivileges ---------------------------------------------

# Builds a static helper that prints its effective uid and its effective
# and permitted capabilities, installs it setuid root in the rootfs as
# /suid-probe, and runs the process as uid 1000 with no capabilities of
# its own.
setup_setuid_probe() {
  require_cmd cc
  make_bundle
  cat >"$AR_TEST_DIR/probe.c" <<'C'
#include <stdio.h>
#include <string.h>
#include <unistd.h>

int
main (void)
{
  char line[256];
  FILE *status = fopen ("/proc/self/status", "r");

  printf ("euid=%d\n", (int) geteuid ());
  while (status != NULL && fgets (line, sizeof (line), status) != NULL)
    if (strncmp (line, "CapEff:", 7) == 0 || strncmp (line, "CapPrm:", 7) == 0)
      fputs (line, stdout);
  return 0;
}
C
  cc -static -O1 -o "$BUNDLE/rootfs/suid-probe" "$AR_TEST_DIR/probe.c" 2>"$AR_TEST_DIR/cc.err" ||
    skip "cannot build a static binary: $(cat "$AR_TEST_DIR/cc.err")"
  chown 0:0 "$BUNDLE/rootfs/suid-probe"
  chmod 4755 "$BUNDLE/rootfs/suid-probe"
  config_edit '.process.user = {uid: 1000, gid: 1000}
    | .process.capabilities.effective = [] | .process.capabilities.permitted = []
    | .process.capabilities.inheritable = [] | .process.capabilities.ambient = []'
  set_args /suid-probe
}

test_setuid_gains_nothing_under_no_new_privileges() {
  setup_setuid_probe

  # The control: without noNewPrivileges the setuid bit works, so the
  # check below can see a gain.
  config_edit '.process.noNewPrivileges = false'
  run_container
  expect_success "the setuid probe without noNewPrivileges"
  if [ "$(sed -n 's/^euid=//p' <<<"$OUT")" != 0 ]; then
    skip "the setuid bit does not take effect in this rootfs (nosuid mount?): $OUT"
  fi
  rt_capture delete --force "$ID"

  config_edit '.process.noNewPrivileges = true'
  run_container
  expect_success "the setuid probe with noNewPrivileges"
  assert_eq "$(sed -n 's/^euid=//p' <<<"$OUT")" 1000 "euid of the setuid-root probe"
  assert_eq "$(status_value "$OUT" CapEff)" 0000000000000000 "CapEff of the setuid-root probe"
  assert_eq "$(status_value "$OUT" CapPrm)" 0000000000000000 "CapPrm of the setuid-root probe"
}

test_setuid_gains_nothing_in_exec_no_new_privs() {
  setup_setuid_probe
  config_edit '.process.noNewPrivileges = true'
  set_args sleep 60
  rt_capture run --detach --bundle "$BUNDLE" "$ID"
  expect_success "run --detach"
  rt_capture exec "$ID" /suid-probe
  expect_success "exec of the setuid probe"
  assert_eq "$(sed -n 's/^euid=//p' <<<"$OUT")" 1000 "euid of the setuid-root probe in exec"
  assert_eq "$(status_value "$OUT" CapEff)" 0000000000000000 "CapEff of the setuid-root probe in exec"
  rt_capture delete --force "$ID"
  expect_success "delete --force"
}

# --- file descriptors ---------------------------------------------------------

# The process lists its own fds with `ls -l /proc/self/fd`, whose open
# folder is one of them: fd_numbers drops that one and prints the other
# fd numbers, sorted, on one line.
fd_numbers() {
  awk '$(NF - 1) == "->" && $NF !~ /^\/proc\/[0-9]+\/fd$/ { print $(NF - 2) }' <<<"$1" |
    sort -n | tr '\n' ' '
}

# Opens fds 3 to 9 on files of the test in the current shell.
open_extra_fds() {
  local fd
  for fd in 3 4 5 6 7 8 9; do
    echo "fd $fd" >"$AR_TEST_DIR/fd$fd"
  done
  exec 3<"$AR_TEST_DIR/fd3" 4<"$AR_TEST_DIR/fd4" 5<"$AR_TEST_DIR/fd5" 6<"$AR_TEST_DIR/fd6" \
    7<"$AR_TEST_DIR/fd7" 8<>"$AR_TEST_DIR/fd8" 9>>"$AR_TEST_DIR/fd9"
}

# Runs the runtime with the extra fds open and the log in a file, so that
# its own log fd is open too: rt_fds ARGS...; output in OUT.
rt_fds() {
  RC=0
  # Files, not a pipe: a created container keeps the stdout of create.
  timeout -k 5 30 "$RUNTIME" --root "$AR_ROOT" --log "$AR_TEST_DIR/runtime.log" "$@" \
    </dev/null >"$AR_TEST_DIR/.out" 2>"$AR_TEST_DIR/.err" || RC=$?
  OUT=$(cat "$AR_TEST_DIR/.out")
  ERR=$(cat "$AR_TEST_DIR/.err")
  echo "+ runtime $* with fds 3-9 open (exit status $RC): $OUT $ERR" >&2
}

test_no_fds_leak_into_run() {
  make_bundle
  set_args ls -l /proc/self/fd
  open_extra_fds
  rt_fds run --bundle "$BUNDLE" "$ID"
  expect_success "run"
  assert_eq "$(fd_numbers "$OUT")" "0 1 2 " "fds of the container process of run"

  rt_fds run --preserve-fds 2 --bundle "$BUNDLE" "$ID"
  expect_success "run --preserve-fds 2"
  assert_eq "$(fd_numbers "$OUT")" "0 1 2 3 4 " "fds of the container process of run --preserve-fds 2"
}

test_no_fds_leak_into_create_start() {
  make_bundle
  set_args ls -l /proc/self/fd
  open_extra_fds
  # The container process writes to the stdout of create.
  timeout -k 5 30 "$RUNTIME" --root "$AR_ROOT" --log "$AR_TEST_DIR/runtime.log" create --bundle "$BUNDLE" \
    "$ID" </dev/null >"$AR_TEST_DIR/create.out" 2>&1 || fail "create failed: $(cat "$AR_TEST_DIR/create.out")"
  rt_fds start "$ID"
  expect_success "start"
  wait_status "$ID" stopped
  assert_eq "$(fd_numbers "$(cat "$AR_TEST_DIR/create.out")")" "0 1 2 " \
    "fds of the container process of create and start"
  rt_fds delete "$ID"
  expect_success "delete"
  assert_no_leftovers "$ID"
}

test_no_fds_leak_into_exec() {
  make_bundle
  set_args sleep 60
  rt_capture run --detach --bundle "$BUNDLE" "$ID"
  expect_success "run --detach"
  open_extra_fds
  rt_fds exec "$ID" ls -l /proc/self/fd
  expect_success "exec"
  assert_eq "$(fd_numbers "$OUT")" "0 1 2 " "fds of the exec process"

  rt_fds exec --preserve-fds 1 "$ID" ls -l /proc/self/fd
  expect_success "exec --preserve-fds 1"
  assert_eq "$(fd_numbers "$OUT")" "0 1 2 3 " "fds of the exec --preserve-fds 1 process"
  rt_capture delete --force "$ID"
  expect_success "delete --force"
  assert_no_leftovers "$ID"
}
