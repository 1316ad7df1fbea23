/* Errors that carry their cause up to the CLI verb, which prints them once. */
#ifndef AGENTRUN_ERROR_H
#define AGENTRUN_ERROR_H

#include <stdarg.h>

/* One link of an error chain: the message of the step that failed, the
 * errno it saw (0 when none applies), and the lower-level error it wraps. */
struct ar_error
{
  int errno_value;
  char *message;
  struct ar_error *cause;
};

typedef struct ar_error *ar_error_t;

#define ar_printf_like(fmt, args) __attribute__ ((format (printf, fmt, args)))

/* Stores a new error in *err and returns a negative errno (-EINVAL when
 * errno_value is 0), so call sites read `return ar_make_error (...)`.
 * An error already in *err becomes the cause of the new one. */
int ar_make_error (ar_error_t *err, int errno_value, const char *fmt, ...) ar_printf_like (3, 4);
int ar_make_error_v (ar_error_t *err, int errno_value, const char *fmt, va_list ap);

/* Wraps the error in *err with context ("while doing X") and returns the
 * same negative value that ar_make_error would. */
int ar_error_wrap (ar_error_t *err, const char *fmt, ...) ar_printf_like (2, 3);

/* Formats the whole chain as "outer: inner: strerror(errno)".  The caller
 * frees the result. */
char *ar_error_format (const struct ar_error *err);

/* Returns the innermost errno of the chain, or 0. */
int ar_error_errno (const struct ar_error *err);

void ar_error_free (ar_error_t err);

/* Frees *err and sets it to NULL; for use with the cleanup attribute. */
void ar_error_release (ar_error_t *err);

#define cleanup_error __attribute__ ((cleanup (ar_error_release)))

#endif
