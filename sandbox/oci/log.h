/* The one output handler for warnings, debug lines and the final error:
 * plain text on stderr, or the JSON lines that podman reads from --log. */
#ifndef AGENTRUN_LOG_H
#define AGENTRUN_LOG_H

#include <stdbool.h>

#include "error.h"

enum ar_log_level
{
  AR_LOG_ERROR,
  AR_LOG_WARNING,
  AR_LOG_INFO,
  AR_LOG_DEBUG,
};

enum ar_log_format
{
  AR_LOG_FORMAT_TEXT,
  AR_LOG_FORMAT_JSON,
};

/* Opens path (append) as the log destination; NULL keeps stderr.  Errors go
 * to stderr as well as to the file when both differ, so that a user at a
 * terminal sees them. */
int ar_log_init (const char *path, enum ar_log_format format, bool debug, ar_error_t *err);

/* Restores the defaults: stderr, text, no debug. */
void ar_log_reset (void);

bool ar_log_debug_enabled (void);

/* The log file's descriptor, or -1 when the log goes to stderr. */
int ar_log_fd (void);

void ar_log (enum ar_log_level level, const char *fmt, ...) ar_printf_like (2, 3);

/* Prints the error chain once, as one message, at error level. */
void ar_log_error (const struct ar_error *err);

#define ar_debug(...)                    \
  do                                     \
    {                                    \
      if (ar_log_debug_enabled ())       \
        ar_log (AR_LOG_DEBUG, __VA_ARGS__); \
    }                                    \
  while (0)
#define ar_warn(...) ar_log (AR_LOG_WARNING, __VA_ARGS__)

#endif
