/* The container's root filesystem: config mounts, devices, pivot_root,
 * masked and read-only paths.  Every function here runs in the container
 * process, inside its new mount namespace. */
#ifndef AGENTRUN_ROOTFS_H
#define AGENTRUN_ROOTFS_H

#include <stdbool.h>

#include "cgroup.h"
#include "oci/config.h"
#include "oci/error.h"

struct ar_rootfs_context
{
  const struct ar_config *config;
  const char *rootfs;          /* absolute path of root.path */
  struct ar_cgroup *cgroup;    /* for "cgroup" mounts; may be NULL */
  bool in_user_namespace;      /* new user namespace: bind devices, no mknod */
  bool in_cgroup_namespace;
  bool no_pivot;               /* --no-pivot: MS_MOVE and chroot */
};

/* Before the createRuntime hooks: makes the mount tree private (or as
 * rootfsPropagation says), turns the rootfs into a mount point, performs
 * every mount of config.json with targets that cannot leave the rootfs
 * (symlinks resolved inside it), and creates the devices. */
int ar_rootfs_prepare (const struct ar_rootfs_context *ctx, ar_error_t *err);

/* After the createContainer hooks: pivot_root (or MS_MOVE and chroot),
 * then masked paths, read-only paths, rootfsPropagation and a read-only
 * root. */
int ar_rootfs_enter (const struct ar_rootfs_context *ctx, ar_error_t *err);

/* Writes linux.sysctl under /proc/sys; runs after ar_rootfs_enter. */
int ar_apply_sysctl (const struct ar_config *config, ar_error_t *err);

#endif
