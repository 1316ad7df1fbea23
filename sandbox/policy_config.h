/* Loading a bundle's config.json under the sandbox policies that apply to
 * it: one given on the command line (--policy FILE), one named by the
 * annotation agentrun.policy (a file under the policy folder), and one
 * written inline in the annotation agentrun.policy.inline.  Each policy
 * can only narrow what config.json grants, so all that apply are applied. */
#ifndef AGENTRUN_POLICY_CONFIG_H
#define AGENTRUN_POLICY_CONFIG_H

#include "oci/config.h"
#include "oci/error.h"

#define AR_POLICY_ANNOTATION "agentrun.policy"
#define AR_POLICY_INLINE_ANNOTATION "agentrun.policy.inline"

/* The folder of named policies, AGENTRUN_POLICY_DIR or this default. */
#define AR_DEFAULT_POLICY_DIR "/etc/agentrun/policies"

/* Reads BUNDLE/config.json, applies the policies and parses the result.
 * policy_path may be NULL. */
int ar_config_load_with_policies (const char *bundle, const char *policy_path, struct ar_config **out,
                                  ar_error_t *err);

#endif
