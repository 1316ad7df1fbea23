/* Placeholder until the real implementation lands. */
#define _GNU_SOURCE
#include <errno.h>
#include <stddef.h>
#include "rootfs.h"

int ar_rootfs_prepare (const struct ar_rootfs_context *ctx, ar_error_t *err)
{
  return ar_make_error (err, ENOSYS, "ar_rootfs_prepare is not implemented yet");
}

int ar_rootfs_enter (const struct ar_rootfs_context *ctx, ar_error_t *err)
{
  return ar_make_error (err, ENOSYS, "ar_rootfs_enter is not implemented yet");
}

int ar_apply_sysctl (const struct ar_config *config, ar_error_t *err)
{
  return ar_make_error (err, ENOSYS, "ar_apply_sysctl is not implemented yet");
}
