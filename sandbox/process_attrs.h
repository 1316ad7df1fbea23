/* The per-process settings of config.json that the container process
 * applies to itself: user and groups, capabilities, rlimits, umask, I/O
 * priority, scheduler, personality and oom_score_adj.  Errors name the
 * JSON path of the field, such as process.user.uid. */
#ifndef AGENTRUN_PROCESS_ATTRS_H
#define AGENTRUN_PROCESS_ATTRS_H

#include "oci/config.h"
#include "oci/error.h"

/* Maps a capability name ("CAP_SYS_ADMIN", any case) to its number using
 * libcap; -1 when unknown or not of the form CAP_*. */
int ar_capability_from_name (const char *name);

/* The highest capability number the running kernel supports, from
 * /proc/sys/kernel/cap_last_cap (libcap's probe without /proc), at most 63. */
int ar_capability_last (void);

/* Sets each of process.rlimits.  Raising a hard limit needs
 * CAP_SYS_RESOURCE, so this runs before the user switch.  When the kernel
 * rejects a limit, the error names the rlimit, the requested and current
 * values, and the missing privilege. */
int ar_apply_rlimits (const struct ar_process *process, ar_error_t *err);

/* Drops capabilities outside caps->bounding from the bounding set (all of
 * them when caps is NULL).  Needs CAP_SETPCAP, so it runs before the user
 * switch. */
int ar_apply_bounding_set (const struct ar_capabilities *caps, ar_error_t *err);

/* Switches to process.user (additional groups, gid, uid) keeping the
 * permitted capabilities, then sets effective, permitted and inheritable,
 * raises the ambient ones and sets the umask when given.
 * process->capabilities NULL drops every capability.  Where setgroups(2)
 * is denied in a user namespace, the groups are left with a warning.
 * Ambient capabilities outside permitted and inheritable are skipped with
 * a warning. */
int ar_apply_user_and_capabilities (const struct ar_process *process, ar_error_t *err);

int ar_apply_io_priority (const struct ar_io_priority *prio, ar_error_t *err);
int ar_apply_scheduler (const struct ar_scheduler *sched, ar_error_t *err);

/* Sets linux.personality: domain LINUX or LINUX32, plus flags named as the
 * constants of personality(2), such as ADDR_NO_RANDOMIZE. */
int ar_apply_personality (const struct ar_personality *personality, ar_error_t *err);

/* Writes /proc/self/oom_score_adj.  Going below the value that a process
 * with CAP_SYS_RESOURCE last set (usually the inherited one) needs
 * CAP_SYS_RESOURCE, so this runs before capabilities are dropped. */
int ar_apply_oom_score_adj (int value, ar_error_t *err);

#endif
