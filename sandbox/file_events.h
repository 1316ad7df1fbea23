/* The writes that a policy's filesystem section would stop, for the
 * keeper module that reports them in audit mode (sandbox/file_events.c).
 * The rules come from the annotation agentrun.policy.filesystem. */
#ifndef AGENTRUN_FILE_EVENTS_H
#define AGENTRUN_FILE_EVENTS_H

#include <stdbool.h>

#include "oci/error.h"

struct ar_file_rules;

/* Parses the annotation's JSON text. */
int ar_file_rules_parse (const char *text, struct ar_file_rules **out, ar_error_t *err);
void ar_file_rules_free (struct ar_file_rules *rules);

/* Returns the rule that would stop a write to path (a normalized path as
 * the container sees it) and sets *field to the policy field, or returns
 * NULL when enforce mode would let the write through. */
const char *ar_file_rules_check (const struct ar_file_rules *rules, const char *path, const char **field);

/* Whether writes on the mount at mount_point may need an event: false
 * when the whole mount lies in a writable place. */
bool ar_file_rules_watch_mount (const struct ar_file_rules *rules, const char *mount_point);

#endif
