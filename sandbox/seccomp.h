/* linux.seccomp of the OCI config compiled to a BPF program with
 * libseccomp, and loaded in the container process. */
#ifndef AGENTRUN_SECCOMP_H
#define AGENTRUN_SECCOMP_H

#include <linux/filter.h>
#include <stdbool.h>

#include "oci/config.h"
#include "oci/error.h"

struct ar_seccomp_program
{
  struct sock_filter *filter;
  unsigned short n_filter;
  unsigned int flags;  /* SECCOMP_FILTER_FLAG_* */
  bool needs_listener; /* some rule uses SCMP_ACT_NOTIFY */
};

/* Compiles the filter; runs in the runtime process before the container
 * process is cloned, so errors reach the user before anything starts. */
int ar_seccomp_compile (const struct ar_seccomp *seccomp, struct ar_seccomp_program **out, ar_error_t *err);

/* Loads the program into the calling thread.  With needs_listener,
 * *listener_fd receives the notification fd (else -1). */
int ar_seccomp_load (const struct ar_seccomp_program *program, int *listener_fd, ar_error_t *err);

/* Sends the listener fd and the container state (JSON text) to the
 * listenerPath socket, as the runtime spec describes. */
int ar_seccomp_send_listener (const char *listener_path, const char *state_json, int listener_fd,
                              ar_error_t *err);

void ar_seccomp_program_free (struct ar_seccomp_program *program);

#endif
