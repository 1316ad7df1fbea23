/* An LD_PRELOAD library that lets agentrun run under valgrind 3.19, which
 * answers clone3(2) and openat2(2) with ENOSYS, while agentrun has no
 * fallback for either yet.  It replaces glibc's syscall():
 *
 * - a fork-like clone3 (no CLONE_VM, no new stack, no CLONE_INTO_CGROUP or
 *   pidfd) becomes the same clone(2).  The child's glibc thread descriptor
 *   keeps the parent's tid, which agentrun's child path does not read.
 * - openat2 becomes openat(2) of the path with its leading slashes
 *   removed.  That drops RESOLVE_IN_ROOT and RESOLVE_NO_MAGICLINKS, so a
 *   symlink in the rootfs may lead out of it: use it only with the
 *   benchmark's own busybox bundle.
 *
 * Every other call goes to glibc unchanged.  bench/run.sh preloads it only
 * for the callgrind count of agentrun.
 *
 * Build: cc -O2 -shared -fPIC -o valgrind_shim.so bench/valgrind_shim.c -ldl */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <linux/sched.h>
#include <stdarg.h>
#include <stddef.h>
#include <sys/syscall.h>

typedef long (*syscall_fn) (long, ...);

static long
clone3_as_clone (syscall_fn next, const struct clone_args *args)
{
  const unsigned long long unsupported = CLONE_VM | CLONE_INTO_CGROUP | CLONE_PIDFD | CLONE_SETTLS
                                         | CLONE_PARENT_SETTID | CLONE_CHILD_SETTID
                                         | CLONE_CHILD_CLEARTID | CLONE_NEWTIME;

  if (args == NULL || (args->flags & unsupported) != 0 || args->stack != 0 || args->set_tid != 0
      || args->exit_signal > 0xff)
    {
      errno = ENOSYS;
      return -1;
    }
  return next (SYS_clone, (long) (args->flags | args->exit_signal), 0L, 0L, 0L, 0L);
}

static long
openat2_as_openat (int dirfd, const char *path, const struct open_how *how)
{
  while (*path == '/')
    path++;
  if (*path == '\0')
    path = ".";
  return openat (dirfd, path, (int) how->flags, (mode_t) how->mode);
}

long
syscall (long number, ...)
{
  static syscall_fn next;
  long a[6];
  va_list ap;

  va_start (ap, number);
  for (int i = 0; i < 6; i++)
    a[i] = va_arg (ap, long);
  va_end (ap);

  if (next == NULL)
    next = (syscall_fn) dlsym (RTLD_NEXT, "syscall");

  if (number == SYS_clone3)
    return clone3_as_clone (next, (const struct clone_args *) a[0]);
  if (number == SYS_openat2)
    return openat2_as_openat ((int) a[0], (const char *) a[1], (const struct open_how *) a[2]);
  return next (number, a[0], a[1], a[2], a[3], a[4], a[5]);
}
