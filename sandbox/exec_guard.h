/* The last step of every container process: executing the user's command
 * so that the container can never reach the agentrun binary through
 * /proc/self/exe (CVE-2019-5736).
 *
 * Until it executes the command, the container process is a fork of
 * agentrun.  A command that is a symlink to /proc/self/exe, or a script
 * starting with `#!/proc/self/exe`, would then run the host's agentrun
 * binary inside the container, where it could be reopened for writing.
 * Here the container process first executes a tiny trampoline program from
 * a sealed memfd, and the trampoline executes the command.  Whatever the
 * command resolves /proc/self/exe to is then that memfd, whose seals stop
 * every write, and not the host binary.  Started that way, the
 * trampoline only prints an error and exits 126.
 *
 * The trampoline adds one execve of a static program without file
 * capabilities or set-user-ID bits, so the command gets the same
 * capability sets, user and group IDs and AT_SECURE flag as with a direct
 * execve (tests/unit/test_exec_guard.c compares them).  If the
 * trampoline cannot execute the command, it prints
 * "agentrun: cannot execute `PATH`: REASON" on stderr and exits 127 when
 * the file does not exist, 126 otherwise.
 *
 * NOTE: the guard starts at this call.  Until then /proc/PID/exe of the
 * container process is the agentrun binary, so the process must be out of
 * reach of the container's other processes (for example non-dumpable).
 * An SELinux or AppArmor exec label set before the call applies to the
 * trampoline's execve, so the policy must allow entering the container's
 * domain or profile through the memfd, whose rules then govern the
 * command's execve.  A seccomp filter or a tracer observes an execveat of
 * the memfd (or an execve of /proc/self/fd/N) before the command's. */
#ifndef AGENTRUN_EXEC_GUARD_H
#define AGENTRUN_EXEC_GUARD_H

#include <stdbool.h>

#include "oci/error.h"

/* Creates the sealed, close-on-exec memfd that contains the trampoline and
 * stores its descriptor in *guard_fd_out.  The container process calls it
 * before it loads its seccomp filter, which may deny memfd_create, and
 * passes the descriptor to ar_exec_guarded_fd.  On architectures without a
 * trampoline it stores -1 and succeeds. */
int ar_exec_guard_prepare (int *guard_fd_out, ar_error_t *err);

/* Executes path with argv and envp through the trampoline in guard_fd, a
 * descriptor from ar_exec_guard_prepare.  A negative guard_fd makes it
 * create the memfd first.  It executes the memfd with execveat, or with
 * execve of /proc/self/fd/N (which needs /proc) when a seccomp filter
 * denies execveat.  Returns only on failure, with the error in *err. */
int ar_exec_guarded_fd (int guard_fd, const char *path, char *const argv[], char *const envp[],
                        ar_error_t *err);

/* Same as ar_exec_guarded_fd with a memfd created on the spot. */
int ar_exec_guarded (const char *path, char *const argv[], char *const envp[], ar_error_t *err);

/* Re-executes the runtime from a sealed memfd copy of its own binary.
 * `exec`, and create into a pid namespace that other processes already
 * share, call it first.  Their child is visible to container processes
 * before it reaches the trampoline, and being non-dumpable does not hide
 * it from a container process that has CAP_SYS_PTRACE.  Returns 0 at once
 * when the runtime already runs from a sealed copy; otherwise it returns
 * only on failure. */
int ar_reexec_from_sealed_copy (char **argv, ar_error_t *err);

/* Returns true when the runtime already runs from a sealed memfd. */
bool ar_running_from_sealed_copy (void);

#endif
