/* Sandbox policies: one short YAML or JSON file per kind of agent that
 * states what it may read, write, run, reach and use.  A policy is parsed with the
 * line and column of every value, validated, and applied to a config.json
 * document as a ceiling: it can only narrow what config.json grants.
 *
 * This part uses the config model (oci/) only, never the runtime library. */
#ifndef AGENTRUN_POLICY_H
#define AGENTRUN_POLICY_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "oci/error.h"

/* The annotations that record the policy for the runtime (its network
 * and identity parts, its keeper) and for `agentrun state`. */
#define AR_POLICY_ANNOTATION_NAME "agentrun.policy.name"
#define AR_POLICY_ANNOTATION_MODE "agentrun.policy.mode"
#define AR_POLICY_ANNOTATION_NETWORK "agentrun.policy.network"
#define AR_POLICY_ANNOTATION_IDENTITY "agentrun.policy.identity"
#define AR_POLICY_ANNOTATION_WALL_CLOCK "agentrun.policy.wall_clock"
#define AR_POLICY_ANNOTATION_AUDIT "agentrun.policy.audit"
#define AR_POLICY_ANNOTATION_FILESYSTEM "agentrun.policy.filesystem"

struct ar_policy;

enum ar_policy_severity
{
  AR_POLICY_ERROR,
  AR_POLICY_WARNING,
};

/* One finding of the parser or validator. */
struct ar_policy_diagnostic
{
  enum ar_policy_severity severity;
  unsigned int line;   /* 1-based; 0 when it concerns the whole file */
  unsigned int column; /* 1-based; 0 when it concerns the whole file */
  char *field;         /* "filesystem.tmpfs[0].size"; "" for the top level */
  char *message;       /* what is wrong, then how to fix it */
};

/* Every finding about one policy file, in file order. */
struct ar_policy_report
{
  char *origin;
  struct ar_policy_diagnostic *items;
  size_t n_items;
  size_t n_errors;
  size_t n_warnings;
};

/* Reads, parses and validates a policy file (YAML, or JSON when the name
 * ends in .json).  Fails when the file has any error; the message names
 * the first one as FILE:LINE:COLUMN and counts the others.  Warnings are
 * logged at debug level only: `agentrun policy check` shows them. */
int ar_policy_load (const char *path, struct ar_policy **out, ar_error_t *err);

/* Same, for a policy held in memory (the `agentrun.policy.inline`
 * annotation).  origin names it in messages; JSON is recognised by a
 * leading `{`. */
int ar_policy_load_text (const char *text, size_t len, const char *origin, struct ar_policy **out,
                         ar_error_t *err);

/* Parses and validates, keeping every error and warning.  Returns a
 * negative errno when the file cannot be read.  Otherwise it returns 0
 * and sets *report_out, and also *policy_out when the report has no
 * error.  policy_out may be NULL. */
int ar_policy_check (const char *path, struct ar_policy **policy_out, struct ar_policy_report **report_out,
                     ar_error_t *err);
int ar_policy_check_text (const char *text, size_t len, const char *origin, struct ar_policy **policy_out,
                          struct ar_policy_report **report_out, ar_error_t *err);

/* Formats a report as "FILE:LINE:COLUMN: error: FIELD: MESSAGE" lines, the
 * way compilers print diagnostics.  The caller frees the result. */
char *ar_policy_report_format (const struct ar_policy_report *report);
void ar_policy_report_free (struct ar_policy_report *report);

void ar_policy_free (struct ar_policy *policy);
void ar_policy_release (struct ar_policy **policy);
#define cleanup_policy __attribute__ ((cleanup (ar_policy_release)))

const char *ar_policy_name (const struct ar_policy *policy);
const char *ar_policy_origin (const struct ar_policy *policy);
bool ar_policy_is_audit (const struct ar_policy *policy);

/* Applies the policy to a parsed config.json document (edited in place).
 * config_origin names the document in messages ("BUNDLE/config.json").
 *
 * An absent field is filled from the policy.  A value that config.json
 * states and that goes beyond the policy (a capability not kept, a
 * writable mount outside the writable paths, a host namespace, a bigger
 * limit, noNewPrivileges false, ...) is a conflict.  In enforce mode a
 * conflict fails with one error that names the config field (its JSON
 * path) and the policy rule (FILE:LINE), and the document is left as it
 * was.  In audit mode each conflict is written as a JSON event line to the
 * policy's audit destination, and config.json keeps what it asked for.
 * Audit mode blocks nothing new: it adds only the annotations and a
 * seccomp filter that logs the calls the policy would deny. */
int ar_policy_apply (const struct ar_policy *policy, json_t *config, const char *config_origin, ar_error_t *err);

/* Receives each audit event (a JSON object, borrowed for the call). */
typedef void (*ar_policy_event_fn) (json_t *event, void *user_data);

/* ar_policy_apply with the events passed to on_event instead of the
 * policy's audit destination. */
int ar_policy_apply_with_events (const struct ar_policy *policy, json_t *config, const char *config_origin,
                                 ar_policy_event_fn on_event, void *user_data, ar_error_t *err);

/* Lists the conflicts between a policy and a config.json document without
 * changing it: a new JSON array of event objects (empty when none). */
int ar_policy_conflicts (const struct ar_policy *policy, json_t *config, const char *config_origin, json_t **out,
                         ar_error_t *err);

/* Builds what `agentrun policy compile` prints: a new object with the
 * policy's name, file and mode, "conflicts" (as ar_policy_conflicts lists them) and
 * "patch", the changes to config.json as a JSON Patch (RFC 6902).  With
 * config NULL the policy is applied to an empty document, so the patch
 * shows every value the policy sets.  In enforce mode with conflicts the
 * patch is empty, as create would fail. */
int ar_policy_compile (const struct ar_policy *policy, json_t *config, const char *config_origin, json_t **out,
                       ar_error_t *err);

/* Describes in plain language what the agent can and cannot do.  The
 * caller frees the text. */
char *ar_policy_explain (const struct ar_policy *policy);

/* Lists what changing old_policy into new_policy grants and takes away,
 * one line per change; "" when nothing that matters changed.  The caller
 * frees the text. */
char *ar_policy_diff (const struct ar_policy *old_policy, const struct ar_policy *new_policy);

/* Options of ar_policy_learn. */
struct ar_policy_learn_options
{
  const char *name;          /* the draft's name; NULL keeps the base's */
  const char *events_origin; /* names the events in comments ("events.jsonl") */
  bool collapse_domains;     /* two or more names under one parent become *.parent */
};

/* Drafts a policy, as commented YAML, that would have allowed what the
 * audit events (JSON lines, docs/events.md) show: each system call in
 * syscalls.allow, each connection as an egress rule (by the name that a
 * dns event answered with its address, else by address), each looked-up
 * name as a domain rule, each write as a writable path, and each conflict
 * as the grant config.json asked for.  It starts from base, or from a
 * locked-down base when base is NULL.  Fails on a line that is not a JSON
 * object with a "type"; events that a policy cannot express are listed in
 * the draft's header comment.  The caller frees *out. */
int ar_policy_learn (const struct ar_policy *base, const char *events, size_t len,
                     const struct ar_policy_learn_options *options, char **out, ar_error_t *err);

/* Builds the JSON Schema (draft 2020-12) of the policy format, a new
 * reference. */
json_t *ar_policy_schema (void);

/* Builds the policy's seccomp profile before any config.json is applied,
 * as an OCI linux.seccomp object (a new reference). */
json_t *ar_policy_seccomp_profile (const struct ar_policy *policy);

#endif
