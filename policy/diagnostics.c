/* Errors and warnings about a policy file, printed the way compilers print
 * theirs so that editors can jump to them. */
#define _GNU_SOURCE
#include "diagnostics.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "oci/util.h"

struct ar_policy_report *
ar_policy_report_new (const char *origin)
{
  struct ar_policy_report *report = ar_xmalloc0 (sizeof (*report));

  report->origin = ar_xstrdup (origin != NULL ? origin : "policy");
  return report;
}

void
ar_policy_report_add (struct ar_policy_report *report, enum ar_policy_severity severity, unsigned int line,
                      unsigned int column, const char *field, const char *fmt, ...)
{
  struct ar_policy_diagnostic *diagnostic;
  char *message = NULL;
  va_list ap;

  va_start (ap, fmt);
  if (vasprintf (&message, fmt, ap) < 0)
    abort ();
  va_end (ap);

  report->items = realloc (report->items, (report->n_items + 1) * sizeof (*report->items));
  if (report->items == NULL)
    abort ();
  diagnostic = &report->items[report->n_items++];
  diagnostic->severity = severity;
  diagnostic->line = line;
  diagnostic->column = column;
  diagnostic->field = ar_xstrdup (field != NULL ? field : "");
  diagnostic->message = message;

  if (severity == AR_POLICY_ERROR)
    report->n_errors++;
  else
    report->n_warnings++;
}

static int
compare_place (const struct ar_policy_diagnostic *a, const struct ar_policy_diagnostic *b)
{
  if (a->line != b->line)
    return a->line < b->line ? -1 : 1;
  if (a->column != b->column)
    return a->column < b->column ? -1 : 1;
  return 0;
}

void
ar_policy_report_sort (struct ar_policy_report *report)
{
  /* Insertion sort: stable, and reports hold a handful of findings. */
  for (size_t i = 1; i < report->n_items; i++)
    {
      struct ar_policy_diagnostic moving = report->items[i];
      size_t j = i;

      while (j > 0 && compare_place (&report->items[j - 1], &moving) > 0)
        {
          report->items[j] = report->items[j - 1];
          j--;
        }
      report->items[j] = moving;
    }
}

char *
ar_policy_diagnostic_format (const char *origin, const struct ar_policy_diagnostic *diagnostic)
{
  const char *severity = diagnostic->severity == AR_POLICY_ERROR ? "error" : "warning";
  const char *sep = diagnostic->field[0] != '\0' ? ": " : "";

  if (diagnostic->line == 0)
    return ar_xasprintf ("%s: %s: %s%s%s", origin, severity, diagnostic->field, sep, diagnostic->message);
  return ar_xasprintf ("%s:%u:%u: %s: %s%s%s", origin, diagnostic->line, diagnostic->column, severity,
                       diagnostic->field, sep, diagnostic->message);
}

char *
ar_policy_report_format (const struct ar_policy_report *report)
{
  char *out = NULL;
  size_t len = 0;
  FILE *f = open_memstream (&out, &len);

  if (f == NULL)
    abort ();
  for (size_t i = 0; i < report->n_items; i++)
    {
      cleanup_free char *line = ar_policy_diagnostic_format (report->origin, &report->items[i]);

      fprintf (f, "%s\n", line);
    }
  fclose (f);
  return out;
}

void
ar_policy_report_free (struct ar_policy_report *report)
{
  if (report == NULL)
    return;
  for (size_t i = 0; i < report->n_items; i++)
    {
      free (report->items[i].field);
      free (report->items[i].message);
    }
  free (report->items);
  free (report->origin);
  free (report);
}
