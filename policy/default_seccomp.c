/* agentrun's own seccomp profiles, allow-list style: every system call not
 * listed here fails with EPERM.
 *
 * `default` aims at the coverage of the default profiles that Docker
 * (moby profiles/seccomp/default.json) and podman (containers-common
 * seccomp.json) ship.  It allows the ordinary calls of Linux programs,
 * clone without namespace flags, personality for the usual domains and
 * socket without AF_VSOCK.  A kept capability adds its calls: CAP_SYS_ADMIN
 * brings mount, CAP_SYS_PTRACE brings userfaultfd, and so on.
 *
 * `strict` is for agents that run untrusted code.  Whatever capabilities
 * are kept, it allows no tracing or memory access of other processes, no
 * mounts, namespaces, eBPF, keyrings, userfaultfd or perf_event_open, and
 * no kexec or modules.  Sockets are limited to local, IPv4, IPv6 and
 * routing netlink, and only the native architecture's system call ABI is
 * accepted.
 *
 * Neither profile allows io_uring: its operations bypass seccomp, and it
 * has been a steady source of kernel exploits.  Names that the installed
 * libseccomp does not know are left out, so the profile loads with it. */
#define _GNU_SOURCE
#include <errno.h>
#include <linux/capability.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <sys/personality.h>
#include <sys/socket.h>

#include "oci/util.h"
#include "seccomp_rules.h"
#include "values.h"

/* Files, folders, extended attributes and file descriptors. */
static const char *const file_syscalls[] = {
  "access", "cachestat", "chdir", "chmod", "chown", "chown32", "close", "close_range", "copy_file_range", "creat",
  "dup", "dup2", "dup3", "faccessat", "faccessat2", "fadvise64", "fadvise64_64", "fallocate", "fchdir", "fchmod",
  "fchmodat", "fchmodat2", "fchown", "fchown32", "fchownat", "fcntl", "fcntl64", "fdatasync", "fgetxattr",
  "flistxattr", "flock", "fremovexattr", "fsetxattr", "fstat", "fstat64", "fstatat64", "fstatfs", "fstatfs64",
  "fsync", "ftruncate", "ftruncate64", "futimesat", "getcwd", "getdents", "getdents64", "getxattr",
  "inotify_add_watch", "inotify_init", "inotify_init1", "inotify_rm_watch", "ioctl", "lchown", "lchown32",
  "lgetxattr", "link", "linkat", "listxattr", "llistxattr", "_llseek", "lremovexattr", "lseek", "lsetxattr", "lstat",
  "lstat64", "mkdir", "mkdirat", "newfstatat", "oldfstat", "oldlstat", "oldstat", "open", "openat", "openat2",
  "pipe", "pipe2", "pread64", "preadv", "preadv2", "pwrite64", "pwritev", "pwritev2", "read", "readahead", "readlink",
  "readlinkat", "readv", "removexattr", "rename", "renameat", "renameat2", "rmdir", "sendfile", "sendfile64",
  "setxattr", "splice", "stat", "stat64", "statfs", "statfs64", "statx", "symlink", "symlinkat", "sync",
  "sync_file_range", "sync_file_range2", "syncfs", "tee", "truncate", "truncate64", "umask", "unlink", "unlinkat",
  "utime", "utimensat", "utimensat_time64", "utimes", "vmsplice", "write", "writev",
  "arm_fadvise64_64", "arm_sync_file_range", NULL,
};

/* Memory of the calling process. */
static const char *const memory_syscalls[] = {
  "brk", "get_mempolicy", "madvise", "map_shadow_stack", "mbind", "membarrier", "memfd_create", "memfd_secret",
  "mincore", "mlock", "mlock2", "mlockall", "mmap", "mmap2", "mprotect", "mremap", "msync", "munlock", "munlockall",
  "munmap", "pkey_alloc", "pkey_free", "pkey_mprotect", "remap_file_pages", "set_mempolicy", "set_mempolicy_home_node",
  NULL,
};

/* Processes, threads, credentials, scheduling and limits of the caller. */
static const char *const process_syscalls[] = {
  "arch_prctl", "capget", "capset", "execve", "execveat", "exit", "exit_group", "fork", "getcpu", "getegid",
  "getegid32", "geteuid", "geteuid32", "getgid", "getgid32", "getgroups", "getgroups32", "getpgid", "getpgrp",
  "getpid", "getppid", "getpriority", "getrandom", "getresgid", "getresgid32", "getresuid", "getresuid32",
  "getrlimit", "get_robust_list", "getrusage", "getsid", "get_thread_area", "gettid", "getuid", "getuid32",
  "ioprio_get", "ioprio_set", "kill", "landlock_add_rule", "landlock_create_ruleset", "landlock_restrict_self",
  "pidfd_open", "pidfd_send_signal", "prctl", "prlimit64", "process_mrelease", "restart_syscall", "rseq",
  "sched_getaffinity", "sched_getattr", "sched_getparam", "sched_get_priority_max", "sched_get_priority_min",
  "sched_getscheduler", "sched_rr_get_interval", "sched_rr_get_interval_time64", "sched_setaffinity",
  "sched_setattr", "sched_setparam", "sched_setscheduler", "sched_yield", "seccomp", "setfsgid", "setfsgid32",
  "setfsuid", "setfsuid32", "setgid", "setgid32", "setgroups", "setgroups32", "setpgid", "setpriority", "setregid",
  "setregid32", "setresgid", "setresgid32", "setresuid", "setresuid32", "setreuid", "setreuid32", "setrlimit",
  "set_robust_list", "setsid", "set_thread_area", "set_tid_address", "setuid", "setuid32", "sysinfo", "tgkill",
  "times", "tkill", "ugetrlimit", "uname", "vfork", "wait4", "waitid", "waitpid",
  "breakpoint", "cacheflush", "set_tls", NULL,
};

/* Signals, clocks, timers and waiting for events. */
static const char *const event_syscalls[] = {
  "adjtimex", "alarm", "clock_adjtime", "clock_adjtime64", "clock_getres", "clock_getres_time64", "clock_gettime",
  "clock_gettime64", "clock_nanosleep", "clock_nanosleep_time64", "epoll_create", "epoll_create1", "epoll_ctl",
  "epoll_ctl_old", "epoll_pwait", "epoll_pwait2", "epoll_wait", "epoll_wait_old", "eventfd", "eventfd2", "futex",
  "futex_requeue", "futex_time64", "futex_wait", "futex_waitv", "futex_wake", "getitimer", "gettimeofday",
  "io_cancel", "io_destroy", "io_getevents", "io_pgetevents", "io_pgetevents_time64", "io_setup", "io_submit",
  "nanosleep", "pause", "poll", "ppoll", "ppoll_time64", "pselect6", "pselect6_time64", "rt_sigaction",
  "rt_sigpending", "rt_sigprocmask", "rt_sigqueueinfo", "rt_sigreturn", "rt_sigsuspend", "rt_sigtimedwait",
  "rt_sigtimedwait_time64", "rt_tgsigqueueinfo", "select", "_newselect", "setitimer", "sigaction", "sigaltstack",
  "signal", "signalfd", "signalfd4", "sigpending", "sigprocmask", "sigreturn", "sigsuspend", "time", "timer_create",
  "timer_delete", "timer_getoverrun", "timer_gettime", "timer_gettime64", "timer_settime", "timer_settime64",
  "timerfd_create", "timerfd_gettime", "timerfd_gettime64", "timerfd_settime", "timerfd_settime64", NULL,
};

/* Sockets (socket itself has conditions) and System V and POSIX IPC. */
static const char *const ipc_syscalls[] = {
  "accept", "accept4", "bind", "connect", "getpeername", "getsockname", "getsockopt", "listen", "recv", "recvfrom",
  "recvmmsg", "recvmmsg_time64", "recvmsg", "send", "sendmmsg", "sendmsg", "sendto", "setsockopt", "shutdown",
  "socketpair", "ipc", "mq_getsetattr", "mq_notify", "mq_open", "mq_timedreceive", "mq_timedreceive_time64",
  "mq_timedsend", "mq_timedsend_time64", "mq_unlink", "msgctl", "msgget", "msgrcv", "msgsnd", "semctl", "semget",
  "semop", "semtimedop", "semtimedop_time64", "shmat", "shmctl", "shmdt", "shmget", NULL,
};

/* In `default` only: calls that programs use now and then but that an
 * untrusted agent does not need.  socketcall multiplexes every socket
 * call of 32-bit x86, so its arguments cannot be checked. */
static const char *const default_only_syscalls[] = {
  "fanotify_mark", "mknod", "mknodat", "name_to_handle_at", "socketcall", NULL,
};

/* The calls a kept capability brings in `default`, as in Docker's and
 * podman's profiles. */
static const struct
{
  int capability;
  const char *const *names;
} capability_syscalls[] = {
  { CAP_SYS_ADMIN, (const char *const[]){ "bpf", "fanotify_init", "fsconfig", "fsmount", "fsopen", "fspick",
                                          "lookup_dcookie", "mount", "mount_setattr", "move_mount", "open_tree",
                                          "perf_event_open", "quotactl", "quotactl_fd", "setdomainname",
                                          "sethostname", "setns", "syslog", "umount", "umount2", "unshare",
                                          NULL } },
  { CAP_SYS_BOOT, (const char *const[]){ "reboot", NULL } },
  { CAP_SYS_CHROOT, (const char *const[]){ "chroot", NULL } },
  { CAP_SYS_MODULE, (const char *const[]){ "delete_module", "finit_module", "init_module", NULL } },
  { CAP_SYS_PACCT, (const char *const[]){ "acct", NULL } },
  { CAP_SYS_PTRACE, (const char *const[]){ "kcmp", "pidfd_getfd", "process_madvise", "process_vm_readv",
                                           "process_vm_writev", "ptrace", "userfaultfd", NULL } },
  { CAP_SYS_RAWIO, (const char *const[]){ "ioperm", "iopl", NULL } },
  { CAP_SYS_TIME, (const char *const[]){ "clock_settime", "clock_settime64", "settimeofday", "stime", NULL } },
  { CAP_SYS_TTY_CONFIG, (const char *const[]){ "vhangup", NULL } },
  { CAP_SYS_NICE, (const char *const[]){ "migrate_pages", "move_pages", NULL } },
  { CAP_SYSLOG, (const char *const[]){ "syslog", NULL } },
  { CAP_DAC_READ_SEARCH, (const char *const[]){ "open_by_handle_at", NULL } },
  { CAP_BPF, (const char *const[]){ "bpf", NULL } },
  { CAP_PERFMON, (const char *const[]){ "perf_event_open", NULL } },
};

/* Since Linux 4.8 seccomp runs after ptrace, so a tracer cannot rewrite a
 * call past the filter, and Docker and podman allow reading one's own
 * children (a debugger, strace) without CAP_SYS_PTRACE.  `strict` does
 * not. */
static const char *const default_ptrace_syscalls[] = {
  "kcmp", "pidfd_getfd", "process_vm_readv", "process_vm_writev", "ptrace", NULL,
};

/* The namespace flags that clone must not carry without CAP_SYS_ADMIN. */
#define CLONE_NAMESPACE_FLAGS \
  (CLONE_NEWNS | CLONE_NEWCGROUP | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWUSER | CLONE_NEWPID | CLONE_NEWNET)

/* clone takes its flags first, except on s390, where the stack comes
 * first. */
#if defined(__s390__) || defined(__s390x__)
#define CLONE_FLAGS_INDEX 1
#else
#define CLONE_FLAGS_INDEX 0
#endif

/* personality(0xffffffff) reads the persona without changing it. */
#define PERSONALITY_QUERY 0xffffffffu

/* NETLINK_ROUTE: addresses and routes, which getaddrinfo reads. */
#define NETLINK_ROUTE_PROTOCOL 0

static void
allow_names (struct ar_seccomp_set *set, const char *const *names)
{
  for (size_t i = 0; names[i] != NULL; i++)
    if (ar_policy_syscall_known (names[i]))
      ar_seccomp_allow_always (set, names[i]);
}

static void
allow_when_equal (struct ar_seccomp_set *set, const char *name, unsigned int index, uint64_t value)
{
  struct ar_seccomp_condition condition = { .index = index, .op = AR_SECCOMP_EQ, .value = value };

  ar_seccomp_allow_when (set, name, &condition, 1);
}

/* The architectures whose system call ABI the filter accepts; the first
 * is the native one.  Others are killed by the kernel filter. */
static char **
architectures (bool native_only)
{
#if defined(__x86_64__)
  static const char *const names[] = { "SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32", NULL };
#elif defined(__aarch64__)
  static const char *const names[] = { "SCMP_ARCH_AARCH64", "SCMP_ARCH_ARM", NULL };
#elif defined(__s390x__)
  static const char *const names[] = { "SCMP_ARCH_S390X", "SCMP_ARCH_S390", NULL };
#elif defined(__powerpc64__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
  static const char *const names[] = { "SCMP_ARCH_PPC64LE", NULL };
#elif defined(__riscv) && __riscv_xlen == 64
  static const char *const names[] = { "SCMP_ARCH_RISCV64", NULL };
#else
  static const char *const names[] = { NULL };
#endif
  char **out;

  if (names[0] == NULL)
    return NULL;
  out = ar_strv_dup ((char *const *) names);
  if (native_only)
    {
      for (size_t i = 1; out[i] != NULL; i++)
        free (out[i]);
      out[1] = NULL;
    }
  return out;
}

static void
add_socket_rules (struct ar_seccomp_set *set, bool strict)
{
  if (!strict)
    {
      struct ar_seccomp_condition not_vsock = { .index = 0, .op = AR_SECCOMP_NE, .value = AF_VSOCK };

      /* AF_VSOCK reaches the hypervisor host, outside every namespace. */
      ar_seccomp_allow_when (set, "socket", &not_vsock, 1);
      return;
    }

  allow_when_equal (set, "socket", 0, AF_UNIX);
  allow_when_equal (set, "socket", 0, AF_INET);
  allow_when_equal (set, "socket", 0, AF_INET6);
  {
    struct ar_seccomp_condition route[] = {
      { .index = 0, .op = AR_SECCOMP_EQ, .value = AF_NETLINK },
      { .index = 2, .op = AR_SECCOMP_EQ, .value = NETLINK_ROUTE_PROTOCOL },
    };
    ar_seccomp_allow_when (set, "socket", route, 2);
  }
}

static void
add_personality_rules (struct ar_seccomp_set *set, bool strict)
{
  allow_when_equal (set, "personality", 0, PER_LINUX);
  allow_when_equal (set, "personality", 0, PERSONALITY_QUERY);
  if (strict)
    return;
  /* 32-bit personas and the old kernel version string, which some build
   * tools set; not ADDR_NO_RANDOMIZE, which turns ASLR off. */
  allow_when_equal (set, "personality", 0, PER_LINUX32);
  allow_when_equal (set, "personality", 0, UNAME26);
  allow_when_equal (set, "personality", 0, PER_LINUX32 | UNAME26);
}

static void
add_clone_rules (struct ar_seccomp_set *set, bool allow_namespaces)
{
  struct ar_seccomp_condition no_namespaces = {
    .index = CLONE_FLAGS_INDEX,
    .op = AR_SECCOMP_MASKED_EQ,
    .value = CLONE_NAMESPACE_FLAGS,
    .value_two = 0,
  };

  if (allow_namespaces)
    {
      ar_seccomp_allow_always (set, "clone");
      ar_seccomp_allow_always (set, "clone3");
      return;
    }

  ar_seccomp_allow_when (set, "clone", &no_namespaces, 1);
  /* clone3 passes its flags in memory, out of the filter's reach.  ENOSYS
   * makes glibc 2.34 and later fall back to clone, which is checked. */
  ar_seccomp_deny (set, "clone3", "SCMP_ACT_ERRNO", true, ENOSYS);
}

struct ar_seccomp_set *
ar_seccomp_base_profile (enum ar_policy_seccomp_base base, uint64_t capability_mask)
{
  bool strict = base == AR_POLICY_SECCOMP_STRICT;
  struct ar_seccomp_set *set = ar_seccomp_set_new ("SCMP_ACT_ERRNO", true, EPERM);

  set->architectures = architectures (strict);

  allow_names (set, file_syscalls);
  allow_names (set, memory_syscalls);
  allow_names (set, process_syscalls);
  allow_names (set, event_syscalls);
  allow_names (set, ipc_syscalls);
  add_socket_rules (set, strict);
  add_personality_rules (set, strict);
  add_clone_rules (set, !strict && (capability_mask & (UINT64_C (1) << CAP_SYS_ADMIN)) != 0);
  if (strict)
    return set;

  allow_names (set, default_only_syscalls);
  allow_names (set, default_ptrace_syscalls);
  for (size_t i = 0; i < sizeof (capability_syscalls) / sizeof (capability_syscalls[0]); i++)
    if (capability_mask & (UINT64_C (1) << capability_syscalls[i].capability))
      allow_names (set, capability_syscalls[i].names);
  return set;
}
