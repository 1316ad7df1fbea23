/* Audit events: one JSON object per line, written to a policy's audit
 * destination.  docs/events.md lists the event types and their fields. */
#ifndef AGENTRUN_AUDIT_H
#define AGENTRUN_AUDIT_H

#include <jansson.h>

/* The destinations a policy can name besides an absolute path. */
#define AR_AUDIT_TO_LOG "log"
#define AR_AUDIT_TO_STDERR "stderr"

/* Sets "time" on event to now, as RFC 3339 in UTC with milliseconds. */
void ar_audit_set_time (json_t *event);

/* Writes event as one line to destination: "log" (the runtime's log, at
 * warning level), "stderr", or an absolute path, appended to and created
 * with mode 0600 without following a symbolic link.  An event that cannot
 * be written to its file goes to the log instead, so none is lost.  Adds
 * "time" when the event has none. */
void ar_audit_write (const char *destination, json_t *event);

#endif
