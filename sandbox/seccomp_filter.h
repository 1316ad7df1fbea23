/* linux.seccomp of the OCI config compiled to a BPF program with
 * libseccomp, and loaded in the container process.
 *
 * The file is not named seccomp.h because the build adds -Isandbox, and a
 * sandbox/seccomp.h would then hide libseccomp's <seccomp.h> from every
 * file of the project. */
#ifndef AGENTRUN_SECCOMP_FILTER_H
#define AGENTRUN_SECCOMP_FILTER_H

#include <linux/filter.h>
#include <stdbool.h>
#include <sys/types.h>

#include "oci/config.h"
#include "oci/error.h"

struct ar_seccomp_program
{
  struct sock_filter *filter;
  unsigned short n_filter;
  unsigned int flags;  /* SECCOMP_FILTER_FLAG_* that the running kernel supports */
  bool needs_listener; /* some rule, or the default action, uses SCMP_ACT_NOTIFY */
};

/* Compiles the filter.  Runs in the runtime process before the container
 * process is cloned, so errors reach the user before anything starts.
 * Errors name the JSON path of the field, e.g. linux.seccomp.syscalls[3].action.
 * Syscall names that libseccomp does not know are skipped with a debug line. */
int ar_seccomp_compile (const struct ar_seccomp *seccomp, struct ar_seccomp_program **out, ar_error_t *err);

/* Loads the program into the calling thread with seccomp(2), or into all
 * threads with SECCOMP_FILTER_FLAG_TSYNC.  Without CAP_SYS_ADMIN the caller
 * must set no_new_privs first.  With needs_listener, *listener_fd receives
 * the notification fd (close-on-exec); else it is set to -1. */
int ar_seccomp_load (const struct ar_seccomp_program *program, int *listener_fd, ar_error_t *err);

/* Connects to listener_path (linux.seccomp.listenerPath) and sends the
 * listener fd with SCM_RIGHTS, and as payload the container process state
 * of the runtime spec: ociVersion, fds ["seccompFd"], pid (the container
 * process in the runtime's PID namespace), metadata (linux.seccomp.listenerMetadata,
 * may be NULL) and state.  state_json is the container state document, as
 * `agentrun state` prints it; its ociVersion is reused. */
int ar_seccomp_send_listener (const char *listener_path, const char *listener_metadata, pid_t pid,
                              const char *state_json, int listener_fd, ar_error_t *err);

void ar_seccomp_program_free (struct ar_seccomp_program *program);

/* Frees *program; for use with the cleanup attribute. */
void ar_seccomp_program_release (struct ar_seccomp_program **program);
#define cleanup_seccomp_program __attribute__ ((cleanup (ar_seccomp_program_release)))

#endif
