/* Placeholder until the real implementation lands. */
#define _GNU_SOURCE
#include <errno.h>
#include <stddef.h>
#include "process_attrs.h"

int ar_capability_from_name (const char *name)
{
  return -1;
}

int ar_capability_last (void)
{
  return -1;
}

int ar_apply_rlimits (const struct ar_process *process, ar_error_t *err)
{
  return ar_make_error (err, ENOSYS, "ar_apply_rlimits is not implemented yet");
}

int ar_apply_bounding_set (const struct ar_capabilities *caps, ar_error_t *err)
{
  return ar_make_error (err, ENOSYS, "ar_apply_bounding_set is not implemented yet");
}

int ar_apply_user_and_capabilities (const struct ar_process *process, ar_error_t *err)
{
  return ar_make_error (err, ENOSYS, "ar_apply_user_and_capabilities is not implemented yet");
}

int ar_apply_io_priority (const struct ar_io_priority *prio, ar_error_t *err)
{
  return ar_make_error (err, ENOSYS, "ar_apply_io_priority is not implemented yet");
}

int ar_apply_scheduler (const struct ar_scheduler *sched, ar_error_t *err)
{
  return ar_make_error (err, ENOSYS, "ar_apply_scheduler is not implemented yet");
}

int ar_apply_personality (const struct ar_personality *personality, ar_error_t *err)
{
  return ar_make_error (err, ENOSYS, "ar_apply_personality is not implemented yet");
}

int ar_apply_oom_score_adj (int value, ar_error_t *err)
{
  return ar_make_error (err, ENOSYS, "ar_apply_oom_score_adj is not implemented yet");
}
