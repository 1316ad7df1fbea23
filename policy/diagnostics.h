/* Collecting errors and warnings about one policy file. */
#ifndef AGENTRUN_POLICY_DIAGNOSTICS_H
#define AGENTRUN_POLICY_DIAGNOSTICS_H

#include "oci/error.h"
#include "policy.h"

struct ar_policy_report *ar_policy_report_new (const char *origin);

/* Adds a finding at line:column (1-based, 0 for the whole file) about
 * field ("" for the top level). */
void ar_policy_report_add (struct ar_policy_report *report, enum ar_policy_severity severity, unsigned int line,
                           unsigned int column, const char *field, const char *fmt, ...) ar_printf_like (6, 7);

/* Sorts the findings into file order, keeping the order of findings at
 * the same place. */
void ar_policy_report_sort (struct ar_policy_report *report);

/* Formats one finding as "FILE:LINE:COLUMN: error: FIELD: MESSAGE". */
char *ar_policy_diagnostic_format (const char *origin, const struct ar_policy_diagnostic *diagnostic);

#endif
