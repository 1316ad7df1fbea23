/* The sequence that turns the bundle's rootfs into the container's "/":
 * propagation, the rootfs bind mount, config mounts and devices
 * (ar_rootfs_prepare), then pivot_root, sysctls, masked and read-only
 * paths and a read-only root (ar_rootfs_enter). */
#define _GNU_SOURCE
#include "rootfs.h"
#include "rootfs_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "oci/log.h"
#include "oci/util.h"

#define PROPAGATION_TYPES (MS_SHARED | MS_SLAVE | MS_PRIVATE | MS_UNBINDABLE)

/* Rejects a set-up in the mount namespace of PID 1 (of the /proc mounted
 * here), which on the host is the host's own mount table.  Where
 * /proc/1/ns/mnt cannot be read (no ptrace access to PID 1 from a user
 * namespace) the check is skipped. */
static int
check_new_mount_namespace (ar_error_t *err)
{
  struct stat self, init;
  char self_pid[16];
  ssize_t len;

  /* PID 1 of this /proc is this process itself: nothing to compare. */
  len = readlink ("/proc/self", self_pid, sizeof (self_pid) - 1);
  if (len > 0)
    {
      self_pid[len] = '\0';
      if (strcmp (self_pid, "1") == 0)
        return 0;
    }

  if (stat ("/proc/self/ns/mnt", &self) < 0 || stat ("/proc/1/ns/mnt", &init) < 0)
    return 0;
  if (self.st_dev == init.st_dev && self.st_ino == init.st_ino)
    return ar_make_error (err, EINVAL,
                          "refusing to set up the rootfs in the mount namespace of PID 1: the container "
                          "process must run in a new mount namespace");
  return 0;
}

/* The propagation that "/" gets before any mount.  Only private and slave
 * are safe here, because the rootfs mounts must not reach the host.  A
 * shared or unbindable rootfsPropagation waits for ar_rootfs_enter. */
static unsigned long
prepare_propagation (const struct ar_config *config)
{
  unsigned long requested = config->linux_config.rootfs_propagation_flags;

  if (requested & MS_PRIVATE)
    return MS_PRIVATE | MS_REC;
  /* Slave is the default, as in runc: host mounts made later (a new disk,
   * an NFS share) still appear in the container, but nothing mounted in
   * the container reaches the host.  NOTE: unlike runc, a "shared"
   * rootfsPropagation therefore never propagates mounts back to the host
   * (no bidirectional mount propagation). */
  return MS_SLAVE | MS_REC;
}

static int
remount_delayed_readonly (int root_fd, const struct ar_mount *m, size_t index, ar_error_t *err)
{
  cleanup_close int fd = -1;
  int ret;

  ret = ar_path_open_in_root (root_fd, m->destination, AR_PATH_NO_CREATE, &fd, err);
  if (ret == 0)
    ret = ar_mount_change_flags (fd, NULL, m->destination, MS_RDONLY, 0, err);
  if (ret < 0)
    return ar_error_wrap (err, "mounts[%zu] (%s on `%s`): cannot make it read-only", index,
                          m->type != NULL ? m->type : "bind", m->destination);
  return 0;
}

int
ar_rootfs_prepare (const struct ar_rootfs_context *ctx, ar_error_t *err)
{
  const struct ar_config *config = ctx->config;
  cleanup_close int root_fd = -1;
  cleanup_free bool *delayed = NULL;
  int ret;

  if (ctx->rootfs == NULL || ctx->rootfs[0] != '/')
    return ar_make_error (err, EINVAL, "the rootfs path `%s` must be absolute",
                          ctx->rootfs != NULL ? ctx->rootfs : "");

  ret = check_new_mount_namespace (err);
  if (ret < 0)
    return ret;

  if (mount (NULL, "/", NULL, prepare_propagation (config), NULL) < 0)
    return ar_make_error (err, errno, "cannot change the propagation of `/` in the container's mount namespace");

  /* pivot_root needs the new root to be a mount point. */
  if (mount (ctx->rootfs, ctx->rootfs, NULL, MS_BIND | MS_REC, NULL) < 0)
    return ar_make_error (err, errno, "cannot bind mount the rootfs `%s` onto itself", ctx->rootfs);

  /* Opened after the bind mount, so the fd is on the new mount. */
  root_fd = open (ctx->rootfs, O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (root_fd < 0)
    return ar_make_error (err, errno, "cannot open the rootfs `%s`", ctx->rootfs);

  delayed = ar_xmalloc0 ((config->n_mounts + 1) * sizeof (bool));
  for (size_t i = 0; i < config->n_mounts; i++)
    {
      ret = ar_rootfs_mount_one (ctx, root_fd, i, &delayed[i], err);
      if (ret < 0)
        return ret;
    }

  ret = ar_rootfs_create_devices (ctx, root_fd, err);
  if (ret < 0)
    return ret;

  for (size_t i = 0; i < config->n_mounts; i++)
    {
      if (!delayed[i])
        continue;
      ret = remount_delayed_readonly (root_fd, &config->mounts[i], i, err);
      if (ret < 0)
        return ret;
    }
  return 0;
}

/* Makes the rootfs "/" with pivot_root(".", "."), which stacks the old
 * root on top of the new one at "/", so that the old root can be
 * unmounted from there without a directory to hold it. */
static int
pivot_into (const char *rootfs, ar_error_t *err)
{
  cleanup_close int old_root = -1;
  cleanup_close int new_root = -1;

  old_root = open ("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (old_root < 0)
    return ar_make_error (err, errno, "cannot open the old root `/`");
  new_root = open (rootfs, O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (new_root < 0)
    return ar_make_error (err, errno, "cannot open the rootfs `%s`", rootfs);

  if (fchdir (new_root) < 0)
    return ar_make_error (err, errno, "cannot change directory to the rootfs `%s`", rootfs);
  if (syscall (SYS_pivot_root, ".", ".") < 0)
    return ar_make_error (err, errno, "pivot_root into `%s` failed", rootfs);

  if (fchdir (old_root) < 0)
    return ar_make_error (err, errno, "cannot change directory to the old root");
  /* A slave old root cannot pass the unmount on to a shared peer on the
   * host. */
  if (mount (NULL, ".", NULL, MS_SLAVE | MS_REC, NULL) < 0)
    return ar_make_error (err, errno, "cannot make the old root a slave mount");
  if (umount2 (".", MNT_DETACH) < 0)
    return ar_make_error (err, errno, "cannot unmount the old root");

  if (chdir ("/") < 0)
    return ar_make_error (err, errno, "cannot change directory to the new root");
  return 0;
}

/* Unescapes the octal escapes (\040 for a space) of a mountinfo field in
 * place. */
static void
unescape_mountinfo (char *s)
{
  char *out = s;

  for (char *in = s; *in != '\0'; in++)
    {
      if (in[0] == '\\' && in[1] >= '0' && in[1] <= '3' && in[2] >= '0' && in[2] <= '7' && in[3] >= '0'
          && in[3] <= '7')
        {
          *out++ = (char) ((in[1] - '0') * 64 + (in[2] - '0') * 8 + (in[3] - '0'));
          in += 3;
        }
      else
        *out++ = *in;
    }
  *out = '\0';
}

static bool
path_is_below (const char *path, const char *dir)
{
  size_t len = strlen (dir);

  if (strcmp (dir, "/") == 0)
    return true;
  return strncmp (path, dir, len) == 0 && (path[len] == '\0' || path[len] == '/');
}

/* Before MS_MOVE and chroot: detaches every mount that is neither the
 * rootfs, below it, nor one of its ancestors, so that the host's mounts
 * are out of reach even through a chroot escape.  What the kernel refuses
 * to detach stays, with a debug line. */
static int
detach_foreign_mounts (const char *rootfs_path, ar_error_t *err)
{
  cleanup_free char *mountinfo = NULL;
  cleanup_free char **mount_points = NULL;
  cleanup_free char *rootfs = NULL;
  size_t n = 0;
  int ret;

  /* mountinfo shows paths without symlinks. */
  rootfs = realpath (rootfs_path, NULL);
  if (rootfs == NULL)
    return ar_make_error (err, errno, "cannot resolve the rootfs path `%s`", rootfs_path);

  ret = ar_read_file ("/proc/self/mountinfo", &mountinfo, NULL, err);
  if (ret < 0)
    return ret;

  mount_points = ar_xmalloc0 ((strlen (mountinfo) / 8 + 1) * sizeof (char *));
  for (char *line = mountinfo, *next; line != NULL && *line != '\0'; line = next)
    {
      char *field = line;

      next = strchr (line, '\n');
      if (next != NULL)
        *next++ = '\0';
      /* The fifth field is the mount point. */
      for (int i = 0; i < 4 && field != NULL; i++)
        {
          field = strchr (field, ' ');
          if (field != NULL)
            field++;
        }
      if (field == NULL)
        continue;
      *strchrnul (field, ' ') = '\0';
      unescape_mountinfo (field);
      mount_points[n++] = field;
    }

  /* Children come after their parents in mountinfo, so detach from the end. */
  while (n-- > 0)
    {
      const char *point = mount_points[n];

      if (path_is_below (point, rootfs) || path_is_below (rootfs, point))
        continue;
      if (umount2 (point, MNT_DETACH) < 0 && errno != EINVAL && errno != ENOENT)
        ar_debug ("cannot detach `%s` before moving the rootfs: %s", point, strerror (errno));
    }
  return 0;
}

static int
move_into (const char *rootfs, ar_error_t *err)
{
  int ret;

  ret = detach_foreign_mounts (rootfs, err);
  if (ret < 0)
    return ret;

  if (chdir (rootfs) < 0)
    return ar_make_error (err, errno, "cannot change directory to the rootfs `%s`", rootfs);
  if (mount (rootfs, "/", NULL, MS_MOVE, NULL) < 0)
    return ar_make_error (err, errno, "cannot move the rootfs `%s` to `/`", rootfs);
  if (chroot (".") < 0)
    return ar_make_error (err, errno, "cannot chroot into the rootfs `%s`", rootfs);
  if (chdir ("/") < 0)
    return ar_make_error (err, errno, "cannot change directory to the new root");
  return 0;
}

/* Masked and read-only paths are mounted on through /proc/self/fd, which
 * after pivot_root is the container's own /proc. */
static int
require_proc (const char *path, ar_error_t *err)
{
  if (access ("/proc/self/fd", F_OK) == 0)
    return 0;
  return ar_make_error (err, errno,
                        "cannot mount over `%s` without /proc in the container: add a proc mount on "
                        "/proc to config.json",
                        path);
}

/* Opens the container's /dev/null to mask files with, checking that it is
 * the null device and not something the image placed there. */
static int
open_null_device (int root_fd, int *out_fd, ar_error_t *err)
{
  cleanup_close int fd = -1;
  struct stat st;
  int ret;

  ret = ar_path_open_in_root (root_fd, "/dev/null", AR_PATH_NO_CREATE, &fd, err);
  if (ret < 0)
    return ar_error_wrap (err, "maskedPaths need `/dev/null` in the container");
  if (fstat (fd, &st) < 0)
    return ar_make_error (err, errno, "cannot stat `/dev/null`");
  if (!S_ISCHR (st.st_mode) || major (st.st_rdev) != 1 || minor (st.st_rdev) != 3)
    return ar_make_error (err, EINVAL, "`/dev/null` in the container is not the null device (1:3)");
  *out_fd = ar_steal_fd (fd);
  return 0;
}

static int
mask_path (int root_fd, int *null_fd, const char *path, size_t index, ar_error_t *err)
{
  cleanup_close int fd = -1;
  char target[AR_FD_PATH_SIZE];
  char source[AR_FD_PATH_SIZE];
  struct stat st;
  int ret;

  ret = ar_path_open_in_root (root_fd, path, AR_PATH_NO_CREATE, &fd, err);
  if (ret == -ENOENT)
    {
      ar_error_release (err);
      ar_debug ("linux.maskedPaths[%zu] `%s` does not exist: nothing to mask", index, path);
      return 0;
    }
  if (ret < 0)
    return ret;
  if (fstat (fd, &st) < 0)
    return ar_make_error (err, errno, "cannot stat `%s`", path);
  ret = require_proc (path, err);
  if (ret < 0)
    return ret;

  ar_format_fd_path (target, fd);
  if (S_ISDIR (st.st_mode))
    {
      if (mount ("tmpfs", target, "tmpfs", MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) < 0)
        return ar_make_error (err, errno, "cannot mount an empty read-only tmpfs over `%s`", path);
      return 0;
    }

  if (*null_fd < 0)
    {
      ret = open_null_device (root_fd, null_fd, err);
      if (ret < 0)
        return ret;
    }
  ar_format_fd_path (source, *null_fd);
  if (mount (source, target, NULL, MS_BIND, NULL) < 0)
    return ar_make_error (err, errno, "cannot bind mount `/dev/null` over `%s`", path);
  return 0;
}

static int
make_path_readonly (int root_fd, const char *path, size_t index, ar_error_t *err)
{
  cleanup_close int fd = -1;
  cleanup_close int mount_fd = -1;
  char target[AR_FD_PATH_SIZE];
  int ret;

  ret = ar_path_open_in_root (root_fd, path, AR_PATH_NO_CREATE, &fd, err);
  if (ret == -ENOENT)
    {
      ar_error_release (err);
      ar_debug ("linux.readonlyPaths[%zu] `%s` does not exist: nothing to make read-only", index, path);
      return 0;
    }
  if (ret < 0)
    return ret;
  ret = require_proc (path, err);
  if (ret < 0)
    return ret;

  ar_format_fd_path (target, fd);
  if (mount (target, target, NULL, MS_BIND | MS_REC, NULL) < 0)
    return ar_make_error (err, errno, "cannot bind mount `%s` onto itself", path);

  ret = ar_mount_reopen (root_fd, path, fd, &mount_fd, err);
  if (ret < 0)
    return ret;
  return ar_mount_change_flags (mount_fd, NULL, path, MS_RDONLY, 0, err);
}

int
ar_rootfs_enter (const struct ar_rootfs_context *ctx, ar_error_t *err)
{
  const struct ar_linux *linux_config = &ctx->config->linux_config;
  cleanup_close int root_fd = -1;
  cleanup_close int null_fd = -1;
  int ret;

  if (ctx->rootfs == NULL || ctx->rootfs[0] != '/')
    return ar_make_error (err, EINVAL, "the rootfs path `%s` must be absolute",
                          ctx->rootfs != NULL ? ctx->rootfs : "");

  ret = ctx->no_pivot ? move_into (ctx->rootfs, err) : pivot_into (ctx->rootfs, err);
  if (ret < 0)
    return ret;

  root_fd = open ("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (root_fd < 0)
    return ar_make_error (err, errno, "cannot open the new root `/`");

  /* Before the read-only paths, which usually make /proc/sys read-only. */
  ret = ar_apply_sysctl (ctx->config, err);
  if (ret < 0)
    return ret;

  for (size_t i = 0; linux_config->masked_paths != NULL && linux_config->masked_paths[i] != NULL; i++)
    {
      ret = mask_path (root_fd, &null_fd, linux_config->masked_paths[i], i, err);
      if (ret < 0)
        return ar_error_wrap (err, "linux.maskedPaths[%zu] (`%s`)", i, linux_config->masked_paths[i]);
    }

  for (size_t i = 0; linux_config->readonly_paths != NULL && linux_config->readonly_paths[i] != NULL; i++)
    {
      ret = make_path_readonly (root_fd, linux_config->readonly_paths[i], i, err);
      if (ret < 0)
        return ar_error_wrap (err, "linux.readonlyPaths[%zu] (`%s`)", i, linux_config->readonly_paths[i]);
    }

  if (linux_config->rootfs_propagation_flags & PROPAGATION_TYPES)
    {
      unsigned long flags = linux_config->rootfs_propagation_flags & (PROPAGATION_TYPES | MS_REC);

      if (mount (NULL, "/", NULL, flags, NULL) < 0)
        return ar_make_error (err, errno, "cannot set linux.rootfsPropagation `%s` on `/`",
                              linux_config->rootfs_propagation != NULL ? linux_config->rootfs_propagation : "");
    }

  if (ctx->config->root.readonly)
    {
      /* After pivot_root nothing can swap "/", and the container may have
       * no /proc for the fd path. */
      ret = ar_mount_change_flags (root_fd, "/", "/", MS_RDONLY, 0, err);
      if (ret < 0)
        return ar_error_wrap (err, "root.readonly: cannot make the root read-only");
    }

  if (chdir ("/") < 0)
    return ar_make_error (err, errno, "cannot change directory to `/`");
  return 0;
}
