# linux.seccomp, checked by the errors that blocked system calls return in
# the container.  busybox's mkdir and chmod may use either the old or the
# *at system call, so each rule names both.

# Prints what `mkdir /tmp/dir` did in the container: "created" or the error.
MKDIR_SCRIPT='if mkdir /tmp/dir 2>/tmp/err; then echo created; else cat /tmp/err; fi; grep Seccomp: /proc/$$/status'

test_errno_default_is_eperm() {
  make_bundle
  config_edit '.linux.seccomp = {defaultAction: "SCMP_ACT_ALLOW",
    syscalls: [{names: ["mkdir", "mkdirat"], action: "SCMP_ACT_ERRNO"}]}'
  run_script "$MKDIR_SCRIPT"
  assert_contains "$OUT" "Operation not permitted" "mkdir blocked with SCMP_ACT_ERRNO"
  assert_match "$OUT" "Seccomp:[[:space:]]+2" "seccomp mode in /proc/self/status"
}

test_errno_ret() {
  make_bundle
  config_edit '.linux.seccomp = {defaultAction: "SCMP_ACT_ALLOW",
    syscalls: [{names: ["mkdir", "mkdirat"], action: "SCMP_ACT_ERRNO", errnoRet: 38}]}'
  run_script "$MKDIR_SCRIPT"
  assert_contains "$OUT" "Function not implemented" "mkdir blocked with errnoRet 38 (ENOSYS)"
}

# The filter must be loaded before the runtime drops privileges: here the
# process is not root and has no capabilities and no no_new_privs.
test_errno_ret_unprivileged_user() {
  make_bundle
  config_edit '.process.user = {uid: 1000, gid: 1000}
    | .process.noNewPrivileges = false
    | .process.capabilities = {bounding: [], effective: [], permitted: [], inheritable: [], ambient: []}
    | .linux.seccomp = {defaultAction: "SCMP_ACT_ALLOW",
        syscalls: [{names: ["mkdir", "mkdirat"], action: "SCMP_ACT_ERRNO", errnoRet: 13}]}'
  run_script "$MKDIR_SCRIPT"
  assert_contains "$OUT" "Permission denied" "mkdir blocked with errnoRet 13 (EACCES)"
}

test_argument_comparison() {
  make_bundle
  config_edit '.linux.seccomp = {defaultAction: "SCMP_ACT_ALLOW",
    syscalls: [
      {names: ["chmod"], action: "SCMP_ACT_ERRNO", errnoRet: 1,
       args: [{index: 1, value: 511, op: "SCMP_CMP_EQ"}]},
      {names: ["fchmodat"], action: "SCMP_ACT_ERRNO", errnoRet: 1,
       args: [{index: 2, value: 511, op: "SCMP_CMP_EQ"}]}]}'
  run_script '
    touch /tmp/f
    chmod 755 /tmp/f && echo "755 allowed"
    chmod 777 /tmp/f 2>/dev/null || echo "777 blocked"
    stat -c "mode %a" /tmp/f'
  assert_contains "$OUT" "755 allowed"
  assert_contains "$OUT" "777 blocked"
  assert_contains "$OUT" "mode 755"
}

test_default_action_errno_with_allow_list() {
  make_bundle
  # Everything but what the runtime's last steps, busybox sh, cat and grep
  # need fails with EPERM; mkdir and mkdirat are not listed.
  config_edit '.linux.seccomp = {defaultAction: "SCMP_ACT_ERRNO",
    syscalls: [{action: "SCMP_ACT_ALLOW", names: [
      "access", "arch_prctl", "brk", "capget", "capset", "chdir", "clock_gettime", "clone",
      "clone3", "close", "close_range", "dup", "dup2", "dup3", "epoll_create1", "epoll_ctl",
      "epoll_pwait", "epoll_wait", "execve", "execveat", "exit", "exit_group", "faccessat",
      "faccessat2", "fchdir", "fcntl", "fork", "fstat", "fstatfs", "futex", "getcwd",
      "getdents64", "getegid", "geteuid", "getgid", "getgroups", "getpid", "getppid",
      "getrandom", "getrlimit", "gettid", "getuid", "ioctl", "kill", "lseek", "lstat", "madvise",
      "mmap", "mprotect", "munmap", "nanosleep", "newfstatat", "open", "openat", "pipe",
      "pipe2", "poll", "ppoll", "prctl", "pread64", "prlimit64", "pselect6", "read", "readlink",
      "readlinkat", "rseq", "rt_sigaction", "rt_sigprocmask", "rt_sigreturn",
      "sched_getaffinity", "sched_yield", "select", "set_robust_list", "set_tid_address",
      "setgid", "setgroups", "setrlimit", "setuid", "sigaltstack", "stat", "statx", "tgkill",
      "umask", "uname", "vfork", "wait4", "write", "writev"]}]}'
  run_script "$MKDIR_SCRIPT"
  assert_contains "$OUT" "Operation not permitted" "mkdir under defaultAction SCMP_ACT_ERRNO"
}
