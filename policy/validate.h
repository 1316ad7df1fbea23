/* Checks of a decoded policy that go beyond types: names, paths that
 * contradict each other, address ranges, host names, capabilities, system
 * calls, SPIFFE IDs, and warnings about risky grants. */
#ifndef AGENTRUN_POLICY_VALIDATE_H
#define AGENTRUN_POLICY_VALIDATE_H

#include "model.h"

/* Adds errors and warnings to report.  Normalises values in place
 * (capability names to upper case, host names to lower case, address
 * ranges to NETWORK/PREFIX), computes process.capability_mask and loads a
 * seccomp profile file named by syscalls.base. */
void ar_policy_validate (struct ar_policy *policy, struct ar_policy_report *report);

/* Every capability name that libcap resolves ("CAP_CHOWN", ...),
 * NULL-terminated.  The caller frees it with ar_strv_free. */
char **ar_policy_capability_names (void);

/* Every system call name that libseccomp resolves for the native
 * architecture, NULL-terminated. */
char **ar_policy_syscall_names (void);

/* Names of capabilities and system calls that give an agent a way around
 * the sandbox, each with the reason, or NULL. */
const char *ar_policy_capability_risk (const char *name);
const char *ar_policy_syscall_risk (const char *name);

#endif
