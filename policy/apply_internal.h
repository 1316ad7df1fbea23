/* Shared by the files that apply a policy to config.json: finding the
 * conflicts (apply_conflicts.c), editing the document (apply.c) and
 * printing the changes (compile.c). */
#ifndef AGENTRUN_POLICY_APPLY_INTERNAL_H
#define AGENTRUN_POLICY_APPLY_INTERNAL_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "model.h"
#include "policy.h"

/* The parts of /proc and /sys that every policy hides or makes read-only,
 * as `agentrun spec`, runc and podman do, unless readwrite_paths opens
 * one of them.  NULL-terminated. */
extern const char *const ar_policy_builtin_masked_paths[];
extern const char *const ar_policy_builtin_readonly_paths[];

/* The CFS period that a cpu limit uses when config.json gives none, in
 * microseconds (the kernel's default). */
#define AR_POLICY_CPU_PERIOD 100000

/* A policy rule: the field that states it and its position in the file. */
struct ar_policy_rule
{
  const char *field;
  struct ar_policy_pos pos;
};

/* Collects the conflicts between a policy and a config.json document as
 * event objects appended to events.  Fails (without a conflict) only when
 * the document has a field of the wrong JSON type. */
int ar_policy_collect_conflicts (const struct ar_policy *policy, json_t *config, const char *config_origin,
                                 json_t *events, ar_error_t *err);

/* The value of each annotation the policy writes (NULL: the policy removes
 * the annotation).  The caller frees the strings. */
char *ar_policy_annotation_value (const struct ar_policy *policy, const char *key);

/* The policy's SPIFFE ID with {trust_domain} and {policy} filled in.
 * {container_id} stays for the runtime to fill in. */
char *ar_policy_spiffe_id (const struct ar_policy *policy);

/* The keys of those annotations, NULL-terminated. */
extern const char *const ar_policy_annotation_keys[];

/* The swap ceiling in the OCI sense (memory plus swap), when the policy
 * limits memory. */
uint64_t ar_policy_swap_ceiling (const struct ar_policy *policy);

/* Reads the size of a tmpfs "size=" option: bytes with an optional k, m,
 * g, t, p or e suffix (powers of 1024).  -1 for percentages and anything
 * else. */
int ar_policy_tmpfs_option_size (const char *value, uint64_t *out);

/* Whether a config.json mount lets the container write: no "ro" or "rro"
 * option. */
bool ar_policy_mount_writable (json_t *mount);

/* Whether a capability name from config.json is kept by the policy. */
bool ar_policy_capability_kept (const struct ar_policy *policy, const char *name);

/* Formats the JSON path of a member or element, in the form the config
 * parser's messages use: `process.capabilities.bounding[2]`,
 * `annotations["agentrun.policy.network"]`. */
char *ar_policy_json_path (const char *parent, const char *key);
char *ar_policy_json_index (const char *parent, size_t index);

/* The JSON patch (RFC 6902) that turns before into after. */
json_t *ar_policy_json_diff (json_t *before, json_t *after);

#endif
