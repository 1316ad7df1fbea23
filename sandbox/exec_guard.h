/* The last step of every container process: executing the user's command
 * so that the container can never reach the agentrun binary through
 * /proc/self/exe (CVE-2019-5736). */
#ifndef AGENTRUN_EXEC_GUARD_H
#define AGENTRUN_EXEC_GUARD_H

#include "oci/error.h"

/* Executes path with argv and envp.  Returns only on failure, with the
 * error in *err. */
int ar_exec_guarded (const char *path, char *const argv[], char *const envp[], ar_error_t *err);

#endif
