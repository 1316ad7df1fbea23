/* The container's root filesystem: config mounts, devices, pivot_root,
 * masked and read-only paths.  Every function here runs in the container
 * process, inside its new mount namespace. */
#ifndef AGENTRUN_ROOTFS_H
#define AGENTRUN_ROOTFS_H

#include <stdbool.h>
#include <sys/types.h>

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

/* Before the createRuntime hooks: makes the mount tree recursively slave
 * (or private, when rootfsPropagation requests it), turns the rootfs into a mount
 * point, performs every mount of config.json with targets that cannot
 * leave the rootfs (symlinks resolved inside it), and creates the devices.
 * Mounts do not propagate back to the host, whatever rootfsPropagation
 * says: a shared or unbindable propagation is applied by ar_rootfs_enter,
 * after pivot_root.  Fails without mounting anything when the process is
 * still in the mount namespace of PID 1. */
int ar_rootfs_prepare (const struct ar_rootfs_context *ctx, ar_error_t *err);

/* After the createContainer hooks: pivot_root (or MS_MOVE and chroot),
 * then linux.sysctl (ar_apply_sysctl), masked paths, read-only paths,
 * rootfsPropagation, a read-only root and chdir("/").  The sysctls come
 * before the read-only paths because those usually include /proc/sys. */
int ar_rootfs_enter (const struct ar_rootfs_context *ctx, ar_error_t *err);

/* Writes linux.sysctl under /proc/sys of the current root.  ar_rootfs_enter
 * calls it, so a caller of ar_rootfs_enter must not call it again.  Every
 * key is checked before the first write, so an invalid key changes
 * nothing. */
int ar_apply_sysctl (const struct ar_config *config, ar_error_t *err);

/* Safe path resolution inside a root directory, for every part that
 * creates or opens files in the container's rootfs before pivot_root. */
enum ar_path_create
{
  AR_PATH_NO_CREATE,
  AR_PATH_CREATE_DIR,  /* missing parents and the final component become directories (0755) */
  AR_PATH_CREATE_FILE, /* missing parents become directories, the final component an empty file (0644) */
};

/* Opens path inside the directory root_fd as if root_fd were "/": every
 * symlink, absolute or relative, and every ".." is resolved without
 * leaving it (openat2 with RESOLVE_IN_ROOT, and magic links such as
 * /proc/self/root are rejected).  Missing components are created
 * according to create, one at a time, with the same resolution, and a
 * dangling symlink gets its target created inside the root.  *out_fd is an O_PATH descriptor.
 * Fails with ENOENT when a component is missing and create is
 * AR_PATH_NO_CREATE.  Needs openat2 (Linux 5.6 or later). */
int ar_path_open_in_root (int root_fd, const char *path, enum ar_path_create create, int *out_fd,
                          ar_error_t *err);

/* Opens the parent directory of path inside root_fd (creating missing
 * directories when create_parents is set) and stores the final component
 * in *name_out, so that the caller can create it with mknodat, symlinkat
 * and the like.  The final component must be a plain name, not "." or
 * "..". */
int ar_path_open_parent_in_root (int root_fd, const char *path, bool create_parents, int *parent_fd_out,
                                 char **name_out, ar_error_t *err);

#endif
