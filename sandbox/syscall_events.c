/* The keeper module that handles the seccomp notifications of a container
 * in audit mode: each system call that the policy would deny continues,
 * and becomes a `syscall` event.  One process that repeats a call makes one
 * event per call and second, so a loop cannot flood the destination. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <time.h>
#include <unistd.h>

#include "keeper.h"
#include "keeper_modules.h"
#include "oci/log.h"
#include "oci/util.h"
#include "seccomp_notify.h"

/* The calls reported in the last second, by (pid, number, arch). */
#define RECENT_SLOTS 64

struct recent_call
{
  struct ar_seccomp_notice notice;
  time_t when;
};

struct syscall_events
{
  int fd;
  struct recent_call recent[RECENT_SLOTS];
  size_t next_slot;
};

static bool
syscall_events_wanted (const struct ar_keeper_context *context)
{
  return context->seccomp_listener >= 0;
}

/* Returns whether the same call of the same process was reported within
 * the last second; remembers this one otherwise. */
static bool
reported_recently (struct syscall_events *events, const struct ar_seccomp_notice *notice)
{
  struct timespec now;

  clock_gettime (CLOCK_MONOTONIC, &now);
  for (size_t i = 0; i < RECENT_SLOTS; i++)
    {
      const struct recent_call *r = &events->recent[i];

      if (r->when != 0 && now.tv_sec - r->when < 1 && r->notice.pid == notice->pid
          && r->notice.syscall_nr == notice->syscall_nr && r->notice.arch == notice->arch)
        return true;
    }
  events->recent[events->next_slot] = (struct recent_call) { .notice = *notice, .when = now.tv_sec };
  events->next_slot = (events->next_slot + 1) % RECENT_SLOTS;
  return false;
}

static int
on_notification (struct ar_keeper *keeper, int fd, uint32_t ready, void *data, ar_error_t *err)
{
  struct syscall_events *events = data;
  struct ar_seccomp_notice notice;
  json_t *event;
  int ret;

  if (ready & (EPOLLHUP | EPOLLERR))
    {
      /* Every process of the filter has exited. */
      ar_keeper_unwatch (keeper, fd);
      return 0;
    }
  ret = ar_seccomp_notice_answer (fd, &notice, err);
  if (ret == -EAGAIN)
    return 0;
  if (ret < 0)
    return ret;
  if (reported_recently (events, &notice))
    return 0;
  event = ar_seccomp_notice_event (&notice);
  if (event != NULL)
    ar_keeper_event (keeper, event);
  return 0;
}

static int
syscall_events_start (struct ar_keeper *keeper, void **data, ar_error_t *err)
{
  struct syscall_events *events = ar_xmalloc0 (sizeof (*events));

  events->fd = ar_keeper_context (keeper)->seccomp_listener;
  if (ar_keeper_watch (keeper, events->fd, EPOLLIN, on_notification, events, err) < 0)
    {
      free (events);
      return -1;
    }
  *data = events;
  return 0;
}

static void
syscall_events_stop (struct ar_keeper *keeper, void *data)
{
  struct syscall_events *events = data;

  ar_keeper_unwatch (keeper, events->fd);
  close (events->fd);
  free (events);
}

const struct ar_keeper_module ar_keeper_syscall_events = {
  .name = "system call events",
  .wanted = syscall_events_wanted,
  .start = syscall_events_start,
  .stop = syscall_events_stop,
};
