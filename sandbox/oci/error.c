#define _GNU_SOURCE
#include "error.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

int
ar_make_error_v (ar_error_t *err, int errno_value, const char *fmt, va_list ap)
{
  struct ar_error *e;
  char *message = NULL;

  if (vasprintf (&message, fmt, ap) < 0)
    message = NULL;

  e = calloc (1, sizeof (*e));
  if (e == NULL)
    {
      /* Out of memory: keep the older error, if any, as the best we have. */
      free (message);
      return errno_value > 0 ? -errno_value : -ENOMEM;
    }

  e->errno_value = errno_value;
  e->message = message;
  if (err != NULL)
    {
      e->cause = *err;
      *err = e;
    }
  else
    ar_error_free (e);

  return errno_value > 0 ? -errno_value : -EINVAL;
}

int
ar_make_error (ar_error_t *err, int errno_value, const char *fmt, ...)
{
  va_list ap;
  int ret;

  va_start (ap, fmt);
  ret = ar_make_error_v (err, errno_value, fmt, ap);
  va_end (ap);
  return ret;
}

int
ar_error_wrap (ar_error_t *err, const char *fmt, ...)
{
  va_list ap;
  int errno_value = (err != NULL && *err != NULL) ? ar_error_errno (*err) : 0;
  int ret;

  va_start (ap, fmt);
  ret = ar_make_error_v (err, 0, fmt, ap);
  va_end (ap);

  /* The wrapper reports the errno of its cause, so exit codes and podman's
   * error mapping still see the original failure. */
  return errno_value > 0 ? -errno_value : ret;
}

int
ar_error_errno (const struct ar_error *err)
{
  int errno_value = 0;

  for (; err != NULL; err = err->cause)
    if (err->errno_value != 0)
      errno_value = err->errno_value;
  return errno_value;
}

char *
ar_error_format (const struct ar_error *err)
{
  char *out = NULL;
  size_t len = 0;
  FILE *f;
  int last_errno = 0;

  f = open_memstream (&out, &len);
  if (f == NULL)
    return NULL;

  for (const struct ar_error *e = err; e != NULL; e = e->cause)
    {
      if (e != err)
        fputs (": ", f);
      fputs (e->message ? e->message : "unknown error", f);
      if (e->errno_value != 0)
        last_errno = e->errno_value;
      /* The errno text goes once, after the innermost link, unless that
       * message already ends with it, in any case (a message relayed from
       * the container process carries it, and "permission denied" is
       * worded for podman). */
      if (e->cause == NULL && last_errno != 0)
        {
          const char *text = strerror (last_errno);
          size_t msg_len = e->message ? strlen (e->message) : 0;
          size_t text_len = strlen (text);

          if (msg_len < text_len || strcasecmp (e->message + msg_len - text_len, text) != 0)
            fprintf (f, ": %s", text);
        }
    }

  fclose (f);
  return out;
}

void
ar_error_free (ar_error_t err)
{
  while (err != NULL)
    {
      struct ar_error *cause = err->cause;
      free (err->message);
      free (err);
      err = cause;
    }
}

void
ar_error_release (ar_error_t *err)
{
  if (err == NULL)
    return;
  ar_error_free (*err);
  *err = NULL;
}
