/* OCI lifecycle hooks: each hook runs with the container state on its
 * stdin and, when configured, a timeout in seconds. */
#ifndef AGENTRUN_HOOKS_H
#define AGENTRUN_HOOKS_H

#include "oci/config.h"
#include "oci/error.h"

/* Runs the hooks of one kind in order and stops at the first failure.
 * Failed poststart and poststop hooks are logged as warnings instead, and
 * the rest still run.  state_json is the OCI state written to each
 * hook's stdin. */
int ar_hooks_run (const struct ar_config *config, enum ar_hook_kind kind, const char *state_json,
                  ar_error_t *err);

#endif
