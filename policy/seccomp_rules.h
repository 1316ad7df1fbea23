/* Seccomp profiles as sets of per-syscall rules, so that a policy can add
 * and remove system calls, intersect its profile with the one config.json
 * brings, and turn denials into log entries for audit mode.  Profiles come
 * in and go out as OCI linux.seccomp objects (jansson). */
#ifndef AGENTRUN_POLICY_SECCOMP_RULES_H
#define AGENTRUN_POLICY_SECCOMP_RULES_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "model.h"

enum ar_seccomp_op
{
  AR_SECCOMP_NE,
  AR_SECCOMP_LT,
  AR_SECCOMP_LE,
  AR_SECCOMP_EQ,
  AR_SECCOMP_GE,
  AR_SECCOMP_GT,
  AR_SECCOMP_MASKED_EQ,
};

/* One argument comparison: args[index] OP value (for MASKED_EQ:
 * (args[index] & value) == value_two). */
struct ar_seccomp_condition
{
  unsigned int index;
  enum ar_seccomp_op op;
  uint64_t value;
  uint64_t value_two;
};

/* Comparisons that must all hold; none means "always". */
struct ar_seccomp_conjunction
{
  struct ar_seccomp_condition *conditions;
  size_t n;
};

/* When one system call is allowed: under any of the conjunctions (none
 * means never).  A denied call gets `action` (with errno_ret when
 * has_errno), or the profile's default action when action is NULL. */
struct ar_seccomp_syscall
{
  char *name;
  struct ar_seccomp_conjunction *allowed;
  size_t n_allowed;
  char *action;
  bool has_errno;
  unsigned int errno_ret;
};

struct ar_seccomp_set
{
  char *default_action;
  bool has_default_errno;
  unsigned int default_errno;
  bool default_allows; /* SCMP_ACT_ALLOW or SCMP_ACT_LOG */
  char **architectures; /* NULL: the native one only */
  char **flags;
  char *listener_path;
  char *listener_metadata;
  struct ar_seccomp_syscall *syscalls;
  size_t n_syscalls;
};

struct ar_seccomp_set *ar_seccomp_set_new (const char *default_action, bool has_errno, unsigned int errno_ret);
void ar_seccomp_set_free (struct ar_seccomp_set *set);

/* Finds a system call's entry; with create, adds one that follows the
 * default action. */
struct ar_seccomp_syscall *ar_seccomp_set_lookup (struct ar_seccomp_set *set, const char *name, bool create);

/* Allows a call always, or under one more conjunction (copied). */
void ar_seccomp_allow_always (struct ar_seccomp_set *set, const char *name);
void ar_seccomp_allow_when (struct ar_seccomp_set *set, const char *name, const struct ar_seccomp_condition *conditions,
                            size_t n);

/* Denies a call with action (NULL: the default action). */
void ar_seccomp_deny (struct ar_seccomp_set *set, const char *name, const char *action, bool has_errno,
                      unsigned int errno_ret);

/* Reads an OCI linux.seccomp object that ar_config_parse accepted. */
struct ar_seccomp_set *ar_seccomp_set_from_json (json_t *profile);

/* Writes the set as an OCI linux.seccomp object (a new reference). */
json_t *ar_seccomp_set_to_json (const struct ar_seccomp_set *set);

/* The set that allows a call only where both sets allow it.  Comparisons
 * that OCI profiles cannot combine (libseccomp takes one comparison per
 * argument in a rule) are resolved toward denial. */
struct ar_seccomp_set *ar_seccomp_intersect (struct ar_seccomp_set *policy, struct ar_seccomp_set *config);

/* Whether a set allows a call with no condition. */
bool ar_seccomp_allows_always (struct ar_seccomp_set *set, const char *name);

/* The action name for a policy's syscalls.action, and its errno value. */
const char *ar_seccomp_denial_action (enum ar_policy_syscall_action action, bool *has_errno, unsigned int *errno_ret);

/* The base profile of the policy format: `default` or `strict`, for the
 * capabilities in capability_mask (bit n for capability n).  Built in
 * default_seccomp.c. */
struct ar_seccomp_set *ar_seccomp_base_profile (enum ar_policy_seccomp_base base, uint64_t capability_mask);

/* The policy's profile as the set of rules it enforces: its base, then
 * syscalls.allow and syscalls.deny, with denials taking syscalls.action. */
struct ar_seccomp_set *ar_seccomp_policy_set (const struct ar_policy *policy);

/* The profile for audit mode: with config_profile NULL, the policy's
 * profile with each denial turned into SCMP_ACT_LOG; otherwise
 * config.json's profile, unchanged except that calls it allows and the
 * policy does not allow unconditionally are logged.  A new reference. */
json_t *ar_seccomp_audit_profile (struct ar_seccomp_set *policy, json_t *config_profile);

#endif
