/* Placeholder until the real implementation lands. */
#define _GNU_SOURCE
#include <errno.h>
#include <stddef.h>
#include "exec_guard.h"

int ar_exec_guarded (const char *path, char *const argv[], char *const envp[], ar_error_t *err)
{
  return ar_make_error (err, ENOSYS, "ar_exec_guarded is not implemented yet");
}
