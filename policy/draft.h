/* A policy as an editable JSON document in the policy format (sizes as
 * "512Mi", ports as 443 or "8000-8100"), and its printing as commented
 * YAML.  `policy learn` turns a base policy into a draft, edits it and
 * prints it. */
#ifndef AGENTRUN_POLICY_DRAFT_H
#define AGENTRUN_POLICY_DRAFT_H

#include <jansson.h>

#include "model.h"

/* The member of a list item (an egress rule, a tmpfs entry) that contains its
 * comment in a draft; the printer writes it after the item's first line. */
#define AR_DRAFT_NOTE_KEY "#note"

/* Builds the draft of a parsed policy: every value that its file sets, in
 * the units that a person writes, without the defaults that the parser
 * filled in.  A new reference. */
json_t *ar_policy_draft_from_policy (const struct ar_policy *policy);

/* Prints a draft as YAML, with the sections and fields in the order of the
 * format.  header contains comment lines printed first (without `# `).
 * notes maps "FIELD" (a scalar, such as "process.no_new_privileges") or
 * "FIELD\tVALUE" (a list entry, such as "syscalls.allow\tptrace") to a
 * comment for that line.  Members that the format does not know are not
 * printed.  The caller frees the text. */
char *ar_policy_draft_format (json_t *draft, json_t *header, json_t *notes);

#endif
