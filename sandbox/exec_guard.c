/* The container's last execve, through the trampoline in a sealed memfd:
 * see exec_guard.h for why, and sandbox/init/trampoline.c for the program
 * that runs in between. */
#define _GNU_SOURCE
#include "exec_guard.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "init/trampoline.h"
#include "oci/log.h"
#include "oci/util.h"

#if defined(__x86_64__) || defined(__aarch64__)
#define AR_HAVE_EXEC_TRAMPOLINE 1
#endif

/* Linux 6.3 added MFD_EXEC; older uapi headers lack it. */
#ifndef MFD_EXEC
#define MFD_EXEC 0x0010U
#endif

#define TRAMPOLINE_MEMFD_NAME "agentrun-exec-guard"
#define TRAMPOLINE_SEALS (F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE)

#ifdef AR_HAVE_EXEC_TRAMPOLINE

/* The trampoline's ELF image, embedded by sandbox/init/trampoline_blob.S. */
extern const unsigned char ar_exec_trampoline_start[] __attribute__ ((visibility ("hidden")));
extern const unsigned char ar_exec_trampoline_end[] __attribute__ ((visibility ("hidden")));

static int
create_trampoline_memfd (ar_error_t *err)
{
  size_t size = (size_t) (ar_exec_trampoline_end - ar_exec_trampoline_start);
  cleanup_close int fd = -1;

  /* MFD_EXEC keeps the memfd executable where the vm.memfd_noexec sysctl
   * is 1.  Kernels before Linux 6.3 reject the flag with EINVAL, and their
   * memfds are always executable. */
  fd = memfd_create (TRAMPOLINE_MEMFD_NAME, MFD_CLOEXEC | MFD_ALLOW_SEALING | MFD_EXEC);
  if (fd < 0 && errno == EINVAL)
    fd = memfd_create (TRAMPOLINE_MEMFD_NAME, MFD_CLOEXEC | MFD_ALLOW_SEALING);
  if (fd < 0)
    return ar_make_error (err, errno,
                          "cannot create an executable memfd for the exec trampoline: memfd_create "
                          "with MFD_EXEC must be allowed (the vm.memfd_noexec sysctl must be below 2 "
                          "and no seccomp filter loaded before this step may deny memfd_create)");

  if (ar_write_all (fd, ar_exec_trampoline_start, size) < 0)
    return ar_make_error (err, errno, "cannot write the exec trampoline (%zu bytes) into its memfd", size);

  /* The seals make the memfd immutable for good, so a process that reaches
   * it through /proc/PID/exe cannot change what the next exec runs. */
  if (fcntl (fd, F_ADD_SEALS, TRAMPOLINE_SEALS) < 0)
    return ar_make_error (err, errno, "cannot seal the memfd of the exec trampoline");

  return ar_steal_fd (fd);
}

int
ar_exec_guard_prepare (int *guard_fd_out, ar_error_t *err)
{
  int fd = create_trampoline_memfd (err);

  if (fd < 0)
    return fd;
  *guard_fd_out = fd;
  return 0;
}

int
ar_exec_guarded_fd (int guard_fd, const char *path, char *const argv[], char *const envp[],
                    ar_error_t *err)
{
  cleanup_close int own_fd = -1;
  cleanup_free char **trampoline_argv = NULL;
  size_t argc = ar_strv_len (argv);
  char proc_path[64];
  int execveat_errno;

  if (guard_fd < 0)
    {
      own_fd = create_trampoline_memfd (err);
      if (own_fd < 0)
        return ar_error_wrap (err, "cannot execute `%s`", path);
      guard_fd = own_fd;
    }

  /* The trampoline gets its marker as argv[0], then the path, then the
   * command's own argv, and calls execve (argv[1], argv + 2, envp). */
  trampoline_argv = ar_xmalloc0 ((argc + 3) * sizeof (char *));
  trampoline_argv[0] = (char *) AR_TRAMPOLINE_MAGIC;
  trampoline_argv[1] = (char *) path;
  if (argc > 0)
    memcpy (trampoline_argv + 2, argv, argc * sizeof (char *));

  syscall (SYS_execveat, guard_fd, "", trampoline_argv, envp, AT_EMPTY_PATH);
  execveat_errno = errno;

  /* A seccomp filter may deny execveat with EPERM, or with ENOSYS, which
   * some profiles return for every call they do not list.  The same memfd
   * is reachable through /proc/self/fd, which execve accepts even though
   * the descriptor is close-on-exec, because the trampoline is an ELF
   * binary rather than a script. */
  if (execveat_errno != ENOSYS && execveat_errno != EPERM)
    return ar_make_error (err, execveat_errno,
                          "cannot execute the exec trampoline (memfd descriptor %d) to run `%s`",
                          guard_fd, path);

  snprintf (proc_path, sizeof (proc_path), "/proc/self/fd/%d", guard_fd);
  ar_debug ("execveat of the exec trampoline failed (%s), executing `%s` instead",
            strerror (execveat_errno), proc_path);
  execve (proc_path, trampoline_argv, envp);
  return ar_make_error (err, errno,
                        "cannot execute the exec trampoline through `%s` to run `%s`, after "
                        "execveat failed with \"%s\" (mount /proc in the container or allow "
                        "execveat in its seccomp profile)",
                        proc_path, path, strerror (execveat_errno));
}

#else /* !AR_HAVE_EXEC_TRAMPOLINE */

int
ar_exec_guard_prepare (int *guard_fd_out, ar_error_t *err)
{
  *guard_fd_out = -1;
  return 0;
}

int
ar_exec_guarded_fd (int guard_fd, const char *path, char *const argv[], char *const envp[],
                    ar_error_t *err)
{
  /* TODO: build the trampoline for this architecture (raw system calls and
   * _start in sandbox/init/trampoline.c, the target check in the Makefile).
   * Until then a command that resolves to /proc/self/exe reaches the
   * agentrun binary. */
  ar_debug ("no exec trampoline for this architecture, executing `%s` directly", path);
  execve (path, argv, envp);
  return ar_make_error (err, errno, "cannot execute `%s`", path);
}

#endif

int
ar_exec_guarded (const char *path, char *const argv[], char *const envp[], ar_error_t *err)
{
  return ar_exec_guarded_fd (-1, path, argv, envp, err);
}

#define SELF_MEMFD_NAME "agentrun"

bool
ar_running_from_sealed_copy (void)
{
  cleanup_close int fd = open ("/proc/self/exe", O_RDONLY | O_CLOEXEC);
  int seals;

  if (fd < 0)
    return false;
  seals = fcntl (fd, F_GET_SEALS);
  return seals >= 0 && (seals & F_SEAL_WRITE) != 0;
}

int
ar_reexec_from_sealed_copy (char **argv, ar_error_t *err)
{
  extern char **environ;
  cleanup_close int self = -1;
  cleanup_close int fd = -1;
  struct stat st;
  off_t copied = 0;

  if (ar_running_from_sealed_copy ())
    return 0;

  self = open ("/proc/self/exe", O_RDONLY | O_CLOEXEC);
  if (self < 0 || fstat (self, &st) < 0)
    return ar_make_error (err, errno, "cannot open the runtime's own binary");

  fd = memfd_create (SELF_MEMFD_NAME, MFD_CLOEXEC | MFD_ALLOW_SEALING | MFD_EXEC);
  if (fd < 0 && errno == EINVAL)
    fd = memfd_create (SELF_MEMFD_NAME, MFD_CLOEXEC | MFD_ALLOW_SEALING);
  if (fd < 0)
    return ar_make_error (err, errno, "cannot create a memfd for a sealed copy of the runtime");

  while (copied < st.st_size)
    {
      ssize_t n = sendfile (fd, self, NULL, (size_t) (st.st_size - copied));
      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0)
        return ar_make_error (err, n < 0 ? errno : EIO, "cannot copy the runtime into its memfd");
      copied += n;
    }
  if (fcntl (fd, F_ADD_SEALS, TRAMPOLINE_SEALS) < 0)
    return ar_make_error (err, errno, "cannot seal the memfd copy of the runtime");

  ar_debug ("re-executing from a sealed copy of the runtime (%lld bytes)", (long long) st.st_size);
  syscall (SYS_execveat, fd, "", argv, environ, AT_EMPTY_PATH);
  return ar_make_error (err, errno, "cannot execute the sealed copy of the runtime");
}
