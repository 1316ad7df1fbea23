/* Placeholder until the real implementation lands. */
#define _GNU_SOURCE
#include <errno.h>
#include <stddef.h>
#include "seccomp.h"

int ar_seccomp_compile (const struct ar_seccomp *seccomp, struct ar_seccomp_program **out, ar_error_t *err)
{
  return ar_make_error (err, ENOSYS, "ar_seccomp_compile is not implemented yet");
}

int ar_seccomp_load (const struct ar_seccomp_program *program, int *listener_fd, ar_error_t *err)
{
  return ar_make_error (err, ENOSYS, "ar_seccomp_load is not implemented yet");
}

int ar_seccomp_send_listener (const char *listener_path, const char *state_json, int listener_fd, ar_error_t *err)
{
  return ar_make_error (err, ENOSYS, "ar_seccomp_send_listener is not implemented yet");
}

void ar_seccomp_program_free (struct ar_seccomp_program *program)
{
}
