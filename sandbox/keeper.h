/* The keeper: one background process per container that needs one, for
 * the work that lasts as long as the container runs: serving DNS answers
 * to it, renewing its SVIDs, turning blocked attempts into audit events,
 * ending it at its wall-clock limit.
 *
 * create starts the keeper after the container process exists and before
 * its command may run, and fails when a module cannot start.  The keeper
 * is not a child of any runtime call (it is reparented to the nearest
 * subreaper or init), stays in the caller's cgroup and namespaces, and
 * exits when the container process exits or when delete stops it.  Each
 * piece of work is a module: a start function that opens file
 * descriptors and registers them with the keeper's epoll loop, and a stop
 * function. */
#ifndef AGENTRUN_KEEPER_H
#define AGENTRUN_KEEPER_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "oci/config.h"
#include "oci/error.h"

struct ar_egress_policy;
struct ar_identity;

/* The modules' view of their container.  The pointers stay valid for the
 * keeper's whole life, because the keeper is a fork of create. */
struct ar_keeper_context
{
  const char *id;
  const char *root; /* the runtime's state root (--root) */
  pid_t pid;        /* the container process */
  const struct ar_config *config;
  struct ar_egress_policy *egress;    /* NULL without a network policy */
  const struct ar_identity *identity; /* NULL without an identity */
  int seccomp_listener;               /* audit mode's seccomp notifications, or -1 */
  int identity_dir_fd;                /* root of the SVID tmpfs in the container, or -1 */
};

struct ar_keeper;

/* Called when fd is ready; a negative return stops the keeper, which
 * logs err. */
typedef int (*ar_keeper_handler) (struct ar_keeper *keeper, int fd, uint32_t events, void *data, ar_error_t *err);

struct ar_keeper_module
{
  const char *name;
  /* True when this container needs the module. */
  bool (*wanted) (const struct ar_keeper_context *context);
  /* Runs in the keeper before the container's command may run; a failure
   * makes create fail with err. */
  int (*start) (struct ar_keeper *keeper, void **data, ar_error_t *err);
  /* Runs when the container process has exited or delete stops the
   * keeper, and releases what start made. */
  void (*stop) (struct ar_keeper *keeper, void *data);
};

const struct ar_keeper_context *ar_keeper_context (const struct ar_keeper *keeper);

/* Adds fd to the loop; the module keeps ownership of fd and unwatches it
 * before it closes it. */
int ar_keeper_watch (struct ar_keeper *keeper, int fd, uint32_t events, ar_keeper_handler handler, void *data,
                     ar_error_t *err);
void ar_keeper_unwatch (struct ar_keeper *keeper, int fd);

/* Creates a monotonic timerfd that first fires after first_ms milliseconds,
 * then every interval_ms (0: once), and watches it.  The caller owns the
 * returned fd; ar_keeper_timer_arm changes its schedule. */
int ar_keeper_timer (struct ar_keeper *keeper, uint64_t first_ms, uint64_t interval_ms, ar_keeper_handler handler,
                     void *data, ar_error_t *err);
int ar_keeper_timer_arm (int timer_fd, uint64_t first_ms, uint64_t interval_ms, ar_error_t *err);

/* Writes an audit event (see docs/events.md) to the policy's destination,
 * with "container", "policy" and "mode" filled in; takes the reference. */
void ar_keeper_event (struct ar_keeper *keeper, json_t *event);

/* True when the policy is in audit mode: modules report and let pass. */
bool ar_keeper_audit_mode (const struct ar_keeper *keeper);

/* Kills every process of the container, as `kill --all KILL` would. */
int ar_keeper_kill_container (struct ar_keeper *keeper, ar_error_t *err);

/* Starts the keeper when at least one module wants this container, and
 * waits until every module has started.  *pid and *start_time identify
 * the keeper for ar_keeper_stop; *pid is 0 when no module was wanted. */
int ar_keeper_spawn (const struct ar_keeper_context *context, pid_t *pid, unsigned long long *start_time,
                     ar_error_t *err);

/* Stops the keeper pid if it still runs and is the one that started at
 * start_time: SIGTERM, then SIGKILL when it has not exited in 2 s. */
int ar_keeper_stop (pid_t pid, unsigned long long start_time, ar_error_t *err);

#endif
