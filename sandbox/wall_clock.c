/* The keeper module that ends a container at its policy's wall-clock
 * limit (the annotation agentrun.policy.wall_clock, in seconds), counted
 * from create.  In audit mode it reports the limit and lets the container
 * run on. */
#define _GNU_SOURCE
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <unistd.h>

#include "keeper.h"
#include "keeper_modules.h"
#include "oci/log.h"
#include "oci/util.h"
#include "policy/policy.h"

struct wall_clock
{
  int timer_fd;
  uint64_t seconds;
};

static int
parse_limit (const struct ar_config *config, uint64_t *seconds, ar_error_t *err)
{
  const char *text = ar_config_annotation (config, AR_POLICY_ANNOTATION_WALL_CLOCK);
  char *end = NULL;
  unsigned long long value;

  errno = 0;
  value = strtoull (text, &end, 10);
  if (errno != 0 || end == text || *end != '\0' || value == 0 || value > UINT64_MAX / 1000)
    return ar_make_error (err, EINVAL,
                          "annotations[\"%s\"]: `%s` is not a number of seconds; set a whole number from 1 "
                          "(the policy's resources.wall_clock writes it)",
                          AR_POLICY_ANNOTATION_WALL_CLOCK, text);
  *seconds = value;
  return 0;
}

static bool
wall_clock_wanted (const struct ar_keeper_context *context)
{
  return context->config->process != NULL
         && ar_config_annotation (context->config, AR_POLICY_ANNOTATION_WALL_CLOCK) != NULL;
}

static int
on_limit (struct ar_keeper *keeper, int fd, uint32_t events, void *data, ar_error_t *err)
{
  struct wall_clock *clock = data;
  const struct ar_keeper_context *context = ar_keeper_context (keeper);
  bool audit = ar_keeper_audit_mode (keeper);
  uint64_t expirations;
  json_t *event;

  if (read (fd, &expirations, sizeof (expirations)) < 0 && errno == EAGAIN)
    return 0;
  ar_keeper_unwatch (keeper, fd);

  event = json_pack ("{s:s, s:s, s:s, s:I}", "type", "limit", "outcome", audit ? "allowed" : "blocked", "limit",
                     "wall_clock", "value", (json_int_t) clock->seconds);
  if (event != NULL)
    ar_keeper_event (keeper, event);
  if (audit)
    return 0;

  ar_debug ("container %s reached its wall-clock limit of %" PRIu64 " s: killing it", context->id, clock->seconds);
  if (ar_keeper_kill_container (keeper, err) < 0)
    return ar_error_wrap (err, "cannot end container `%s` at its wall-clock limit", context->id);
  return 0;
}

static int
wall_clock_start (struct ar_keeper *keeper, void **data, ar_error_t *err)
{
  const struct ar_keeper_context *context = ar_keeper_context (keeper);
  cleanup_free struct wall_clock *clock = ar_xmalloc0 (sizeof (*clock));

  if (parse_limit (context->config, &clock->seconds, err) < 0)
    return -1;
  clock->timer_fd = ar_keeper_timer (keeper, clock->seconds * 1000, 0, on_limit, clock, err);
  if (clock->timer_fd < 0)
    return -1;
  *data = ar_steal_ptr (clock);
  return 0;
}

static void
wall_clock_stop (struct ar_keeper *keeper, void *data)
{
  struct wall_clock *clock = data;

  ar_keeper_unwatch (keeper, clock->timer_fd);
  close (clock->timer_fd);
  free (clock);
}

const struct ar_keeper_module ar_keeper_wall_clock = {
  .name = "wall-clock limit",
  .wanted = wall_clock_wanted,
  .start = wall_clock_start,
  .stop = wall_clock_stop,
};
