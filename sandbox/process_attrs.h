/* The per-process settings of config.json that the container process
 * applies to itself: user and groups, capabilities, rlimits, umask, I/O
 * priority, scheduler, personality, no_new_privileges. */
#ifndef AGENTRUN_PROCESS_ATTRS_H
#define AGENTRUN_PROCESS_ATTRS_H

#include "oci/config.h"
#include "oci/error.h"

/* Maps a capability name ("CAP_SYS_ADMIN") to its number using libcap;
 * -1 when unknown. */
int ar_capability_from_name (const char *name);

/* The highest capability number the running kernel supports. */
int ar_capability_last (void);

int ar_apply_rlimits (const struct ar_process *process, ar_error_t *err);

/* Drops capabilities outside the bounding set.  Needs CAP_SETPCAP, so it
 * runs before the user switch. */
int ar_apply_bounding_set (const struct ar_capabilities *caps, ar_error_t *err);

/* Switches to process.user (additional groups, gid, uid) keeping the
 * capabilities, then sets effective, permitted, inheritable and ambient.
 * caps NULL drops every capability. */
int ar_apply_user_and_capabilities (const struct ar_process *process, ar_error_t *err);

int ar_apply_io_priority (const struct ar_io_priority *prio, ar_error_t *err);
int ar_apply_scheduler (const struct ar_scheduler *sched, ar_error_t *err);
int ar_apply_personality (const struct ar_personality *personality, ar_error_t *err);
int ar_apply_oom_score_adj (int value, ar_error_t *err);

#endif
