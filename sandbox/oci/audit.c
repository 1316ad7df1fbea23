/* Writing audit events to their destination. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "audit.h"
#include "log.h"
#include "util.h"

void
ar_audit_set_time (json_t *event)
{
  struct timespec now;
  struct tm tm;
  char text[64];

  clock_gettime (CLOCK_REALTIME, &now);
  gmtime_r (&now.tv_sec, &tm);
  strftime (text, sizeof (text), "%Y-%m-%dT%H:%M:%S", &tm);
  json_object_set_new (event, "time", json_sprintf ("%s.%03ldZ", text, now.tv_nsec / 1000000));
}

void
ar_audit_write (const char *destination, json_t *event)
{
  cleanup_free char *line = NULL;
  cleanup_free char *record = NULL;
  cleanup_close int fd = -1;
  size_t len;

  if (json_object_get (event, "time") == NULL)
    ar_audit_set_time (event);
  line = json_dumps (event, JSON_COMPACT | JSON_PRESERVE_ORDER);
  if (line == NULL)
    return;
  len = strlen (line);

  if (destination == NULL || strcmp (destination, AR_AUDIT_TO_LOG) == 0)
    {
      ar_log (AR_LOG_WARNING, "%s", line);
      return;
    }
  if (strcmp (destination, AR_AUDIT_TO_STDERR) == 0)
    {
      fprintf (stderr, "%s\n", line);
      return;
    }

  /* One write per event, so that events from several processes appending
   * to one file never interleave. */
  record = ar_xasprintf ("%s\n", line);
  fd = open (destination, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd < 0 || ar_write_all (fd, record, len + 1) < 0)
    ar_log (AR_LOG_WARNING, "cannot write the audit event to `%s` (%s): %s", destination, strerror (errno), line);
}
