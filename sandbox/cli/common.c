#define _GNU_SOURCE
#include <errno.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "cli.h"
#include "oci/util.h"

int
ar_cli_usage_error (ar_error_t *err, const char *verb, const char *fmt, ...)
{
  cleanup_free char *msg = NULL;
  va_list ap;

  va_start (ap, fmt);
  if (vasprintf (&msg, fmt, ap) < 0)
    msg = NULL;
  va_end (ap);
  return ar_make_error (err, 0, "%s: %s; see `agentrun %s --help`", verb, msg ? msg : "invalid usage",
                        verb);
}

int
ar_cli_parse_count (const char *verb, const char *flag, const char *value, int *out, ar_error_t *err)
{
  long n;

  if (ar_parse_long (value, &n) < 0 || n < 0 || n > 1048576)
    return ar_cli_usage_error (err, verb, "invalid %s `%s`: expected a non-negative integer", flag, value);
  *out = (int) n;
  return 0;
}

int
ar_cli_print_json (json_t *value, ar_error_t *err)
{
  cleanup_free char *text = json_dumps (value, JSON_INDENT (2) | JSON_PRESERVE_ORDER);

  if (text == NULL)
    return ar_make_error (err, ENOMEM, "cannot serialise the output");
  printf ("%s\n", text);
  if (fflush (stdout) != 0)
    return ar_make_error (err, errno, "cannot write to stdout");
  return 0;
}
