/* Helpers shared by the files that set up the container's rootfs
 * (rootfs.c, rootfs_paths.c, mounts.c, devices.c, rootfs_copyup.c). */
#ifndef AGENTRUN_ROOTFS_INTERNAL_H
#define AGENTRUN_ROOTFS_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/mount.h>

#include "rootfs.h"

/* Size of a "/proc/self/fd/N" buffer. */
#define AR_FD_PATH_SIZE 32

/* The per-mount flags that MS_REMOUNT|MS_BIND can change. */
#define AR_MS_ATIME_MASK (MS_NOATIME | MS_RELATIME | MS_STRICTATIME)
#define AR_MS_PER_MOUNT_MASK \
  (MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC | MS_NODIRATIME | AR_MS_ATIME_MASK)

/* openat2 (root_fd, path, flags | O_CLOEXEC) with RESOLVE_IN_ROOT and
 * RESOLVE_NO_MAGICLINKS, retried on EAGAIN.  "" means the root itself.
 * Returns the fd, or -1 with errno set. */
int ar_openat2_in_root (int root_fd, const char *path, int flags);

/* Writes "/proc/self/fd/FD" into buf, the path through which mount(2)
 * reaches exactly the file that fd refers to. */
void ar_format_fd_path (char buf[AR_FD_PATH_SIZE], int fd);

/* Whether path names the same absolute path as canonical once repeated
 * slashes, "." and a trailing slash are ignored ("//dev/" is "/dev"). */
bool ar_path_is (const char *path, const char *canonical);

/* Opens again, inside root_fd, a path onto which something was just
 * mounted: the O_PATH fd used as the mount target still refers to the
 * directory below the new mount.  Checks that the result is the root of a
 * mount other than the one below_fd is on, which catches a symlink swapped
 * in between the two lookups. */
int ar_mount_reopen (int root_fd, const char *path, int below_fd, int *out_fd, ar_error_t *err);

/* Remounts (MS_REMOUNT|MS_BIND) the mount whose root mount_fd refers to,
 * with its current per-mount flags (read with fstatvfs), minus clear, plus
 * set.  Keeping the current flags is what makes this work in a user
 * namespace, where the flags of mounts inherited from the host are locked.
 * Does nothing when the flags would not change.  target is the path
 * handed to mount(2); NULL means /proc/self/fd/MOUNT_FD, the only choice
 * while a path can still be swapped by the container.  what names the
 * mount in errors. */
int ar_mount_change_flags (int mount_fd, const char *target, const char *what, unsigned long set,
                           unsigned long clear, ar_error_t *err);

/* Performs config.mounts[index] inside root_fd.  *delayed_readonly is set
 * when the mount had to stay writable for now (a read-only tmpfs or
 * /dev, into which later steps still create files): the caller remounts
 * it read-only at the end of ar_rootfs_prepare. */
int ar_rootfs_mount_one (const struct ar_rootfs_context *ctx, int root_fd, size_t index, bool *delayed_readonly,
                         ar_error_t *err);

/* Creates the default devices, linux.devices and the /dev symlinks inside
 * root_fd, unless config.json bind mounts /dev itself. */
int ar_rootfs_create_devices (const struct ar_rootfs_context *ctx, int root_fd, ar_error_t *err);

/* Copies the content of the directory src_dir_fd into dst_dir_fd, keeping
 * modes, owners and times (tmpcopyup). */
int ar_rootfs_copy_tree (int src_dir_fd, int dst_dir_fd, ar_error_t *err);

#endif
