#define _GNU_SOURCE
#include "log.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "util.h"

/* The log settings of this process: one CLI call sets them once. */
static struct
{
  int fd;
  enum ar_log_format format;
  bool debug;
} log_config = { .fd = -1, .format = AR_LOG_FORMAT_TEXT, .debug = false };

int
ar_log_init (const char *path, enum ar_log_format format, bool debug, ar_error_t *err)
{
  ar_log_reset ();
  log_config.format = format;
  log_config.debug = debug;

  if (path != NULL && *path != '\0')
    {
      int fd = open (path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
      if (fd < 0)
        return ar_make_error (err, errno, "cannot open log file `%s`", path);
      log_config.fd = fd;
    }
  return 0;
}

void
ar_log_reset (void)
{
  if (log_config.fd >= 0)
    close (log_config.fd);
  log_config.fd = -1;
  log_config.format = AR_LOG_FORMAT_TEXT;
  log_config.debug = false;
}

bool
ar_log_debug_enabled (void)
{
  return log_config.debug;
}

int
ar_log_fd (void)
{
  return log_config.fd;
}

static const char *
level_name (enum ar_log_level level)
{
  switch (level)
    {
    case AR_LOG_ERROR:
      return "error";
    case AR_LOG_WARNING:
      return "warning";
    case AR_LOG_INFO:
      return "info";
    case AR_LOG_DEBUG:
      return "debug";
    }
  return "info";
}

static void
write_line (int fd, enum ar_log_format format, enum ar_log_level level, const char *msg)
{
  cleanup_free char *line = NULL;

  if (format == AR_LOG_FORMAT_JSON)
    {
      char stamp[64];
      struct timespec ts;
      struct tm tm;
      json_t *obj;
      char *dump;

      clock_gettime (CLOCK_REALTIME, &ts);
      gmtime_r (&ts.tv_sec, &tm);
      strftime (stamp, sizeof (stamp), "%Y-%m-%dT%H:%M:%S", &tm);
      snprintf (stamp + strlen (stamp), sizeof (stamp) - strlen (stamp), ".%09ldZ", ts.tv_nsec);
      obj = json_pack ("{s:s, s:s, s:s}", "level", level_name (level), "msg", msg, "time", stamp);
      dump = obj ? json_dumps (obj, JSON_COMPACT) : NULL;
      json_decref (obj);
      if (dump == NULL)
        return;
      line = ar_xasprintf ("%s\n", dump);
      free (dump);
    }
  else
    line = ar_xasprintf ("%s%s%s\n", level == AR_LOG_ERROR ? "" : level_name (level),
                         level == AR_LOG_ERROR ? "" : ": ", msg);

  if (ar_write_all (fd, line, strlen (line)) < 0)
    return;
}

static void
ar_log_message (enum ar_log_level level, const char *msg)
{
  if (level == AR_LOG_DEBUG && !log_config.debug)
    return;

  if (log_config.fd >= 0)
    write_line (log_config.fd, log_config.format, level, msg);

  /* Without a log file everything goes to stderr.  With a log file the
   * final error goes to stderr too, as runc does: a person at a terminal
   * sees it, and podman falls back to stderr when it cannot use the file. */
  if (log_config.fd < 0 || level == AR_LOG_ERROR)
    {
      cleanup_free char *text = ar_xasprintf ("agentrun: %s%s%s\n",
                                              level == AR_LOG_ERROR ? "" : level_name (level),
                                              level == AR_LOG_ERROR ? "" : ": ", msg);
      if (ar_write_all (STDERR_FILENO, text, strlen (text)) < 0)
        return;
    }
}

void
ar_log (enum ar_log_level level, const char *fmt, ...)
{
  cleanup_free char *msg = NULL;
  va_list ap;
  int saved_errno = errno;

  va_start (ap, fmt);
  if (vasprintf (&msg, fmt, ap) < 0)
    msg = NULL;
  va_end (ap);
  if (msg != NULL)
    ar_log_message (level, msg);
  errno = saved_errno;
}

void
ar_log_error (const struct ar_error *err)
{
  cleanup_free char *msg = ar_error_format (err);

  ar_log_message (AR_LOG_ERROR, msg ? msg : "unknown error");
}
