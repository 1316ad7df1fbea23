/* Seccomp user notifications in audit mode: every system call that the
 * policy would deny reaches the runtime, which records it and lets it
 * continue. */
#ifndef AGENTRUN_SECCOMP_NOTIFY_H
#define AGENTRUN_SECCOMP_NOTIFY_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "oci/config.h"
#include "oci/error.h"

/* One system call that stopped at the filter. */
struct ar_seccomp_notice
{
  pid_t pid; /* in the runtime's pid namespace */
  int syscall_nr;
  uint32_t arch; /* AUDIT_ARCH_* */
};

/* Turns every SCMP_ACT_LOG of seccomp (its default action and its rules)
 * into SCMP_ACT_NOTIFY, for a container in audit mode whose filter has no
 * listenerPath.  Returns whether anything changed. */
bool ar_seccomp_log_to_notify (struct ar_seccomp *seccomp);

/* Receives one notification from listener_fd and lets the system call run
 * (SECCOMP_USER_NOTIF_FLAG_CONTINUE).  Returns 0 with *notice filled,
 * -EAGAIN when there was none, or another negative errno. */
int ar_seccomp_notice_answer (int listener_fd, struct ar_seccomp_notice *notice, ar_error_t *err);

/* Builds the `syscall` audit event of notice (docs/events.md), outcome
 * "allowed": only audit mode notifies. */
json_t *ar_seccomp_notice_event (const struct ar_seccomp_notice *notice);

#endif
