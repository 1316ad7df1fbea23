/* Device nodes and the /dev symlinks of the container.  Without a user
 * namespace the nodes are made with mknod; in a user namespace, where
 * mknod of a device is not allowed, the host's nodes are bind mounted onto
 * empty files instead. */
#define _GNU_SOURCE
#include "rootfs.h"
#include "rootfs_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "oci/log.h"
#include "oci/util.h"

/* The devices that runtime-spec requires in every container, whether or
 * not linux.devices lists them. */
static const struct
{
  const char *path;
  unsigned int major;
  unsigned int minor;
} default_devices[] = {
  { "/dev/null", 1, 3 },    { "/dev/zero", 1, 5 },    { "/dev/full", 1, 7 },
  { "/dev/random", 1, 8 },  { "/dev/urandom", 1, 9 }, { "/dev/tty", 5, 0 },
};

/* runtime-spec's /dev symlinks, and /dev/ptmx for the devpts instance.  An
 * existing file at a link's place is kept, except at /dev/ptmx, where the
 * host's multiplexer would hand out terminals of the wrong devpts. */
static const struct
{
  const char *target;
  const char *path;
  bool replace;
} dev_symlinks[] = {
  { "/proc/self/fd", "/dev/fd", false },     { "/proc/self/fd/0", "/dev/stdin", false },
  { "/proc/self/fd/1", "/dev/stdout", false }, { "/proc/self/fd/2", "/dev/stderr", false },
  { "pts/ptmx", "/dev/ptmx", true },
};

struct device_node
{
  const char *path;
  mode_t type; /* S_IFCHR, S_IFBLK or S_IFIFO */
  dev_t rdev;
  mode_t mode;
  uid_t uid; /* (uid_t) -1: leave as created */
  gid_t gid;
};

/* Makes sure parent_fd/name is the requested node: an existing node of the
 * same type and numbers is kept, anything else but a directory is
 * replaced. */
static int
make_node (int parent_fd, const char *name, const struct device_node *node, ar_error_t *err)
{
  struct stat st;

  for (int attempt = 0; attempt < 3; attempt++)
    {
      if (mknodat (parent_fd, name, node->type, node->rdev) == 0)
        return 0;
      if (errno != EEXIST)
        return ar_make_error (err, errno, "cannot create device node `%s`", node->path);

      if (fstatat (parent_fd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
        {
          if (errno == ENOENT)
            continue;
          return ar_make_error (err, errno, "cannot stat `%s`", node->path);
        }
      if ((st.st_mode & S_IFMT) == node->type && (node->type == S_IFIFO || st.st_rdev == node->rdev))
        return 0;
      if (S_ISDIR (st.st_mode))
        return ar_make_error (err, EEXIST, "cannot create device node `%s`: a directory is in the way", node->path);
      if (unlinkat (parent_fd, name, 0) < 0 && errno != ENOENT)
        return ar_make_error (err, errno, "cannot replace `%s` with a device node", node->path);
    }
  return ar_make_error (err, EEXIST, "cannot create device node `%s`: it keeps being replaced", node->path);
}

static int
set_node_attributes (int parent_fd, const char *name, const struct device_node *node, ar_error_t *err)
{
  cleanup_close int fd = -1;
  char fd_path[AR_FD_PATH_SIZE];
  struct stat st;

  fd = openat (parent_fd, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0)
    return ar_make_error (err, errno, "cannot open `%s`", node->path);
  if (fstat (fd, &st) < 0)
    return ar_make_error (err, errno, "cannot stat `%s`", node->path);
  if ((st.st_mode & S_IFMT) != node->type)
    return ar_make_error (err, EEXIST, "`%s` was replaced while it was being created", node->path);

  /* chown first: it clears the setuid and setgid bits that chmod sets. */
  if ((node->uid != (uid_t) -1 || node->gid != (gid_t) -1)
      && fchownat (fd, "", node->uid, node->gid, AT_EMPTY_PATH) < 0)
    return ar_make_error (err, errno, "cannot change the owner of `%s` to %d:%d", node->path, (int) node->uid,
                          (int) node->gid);

  ar_format_fd_path (fd_path, fd);
  if (chmod (fd_path, node->mode) < 0)
    return ar_make_error (err, errno, "cannot change the mode of `%s` to %04o", node->path, (unsigned int) node->mode);
  return 0;
}

/* Bind mounts the host's node at the same path onto an empty file, for a
 * user namespace.  Mode and owner stay the host's: changing them through
 * the bind mount would change the host's node. */
static int
bind_host_node (int parent_fd, const char *name, const struct device_node *node, ar_error_t *err)
{
  cleanup_close int target_fd = -1;
  char target[AR_FD_PATH_SIZE];
  struct stat st;

  /* Never opens what is there for reading: opening a device node can have
   * side effects. */
  for (int attempt = 0; attempt < 5 && target_fd < 0; attempt++)
    {
      if (fstatat (parent_fd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
        {
          cleanup_close int created = -1;

          if (errno != ENOENT)
            return ar_make_error (err, errno, "cannot stat `%s`", node->path);
          created = openat (parent_fd, name, O_RDONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
          if (created < 0 && errno != EEXIST)
            return ar_make_error (err, errno, "cannot create the mount point `%s`", node->path);
          continue;
        }
      if (S_ISDIR (st.st_mode))
        return ar_make_error (err, EEXIST, "cannot bind mount the device `%s`: a directory is in the way", node->path);
      if (S_ISLNK (st.st_mode))
        {
          if (unlinkat (parent_fd, name, 0) < 0 && errno != ENOENT)
            return ar_make_error (err, errno, "cannot replace the symlink `%s`", node->path);
          continue;
        }

      target_fd = openat (parent_fd, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
      if (target_fd < 0 && errno != ENOENT)
        return ar_make_error (err, errno, "cannot open `%s`", node->path);
      if (target_fd >= 0 && (fstat (target_fd, &st) < 0 || S_ISDIR (st.st_mode) || S_ISLNK (st.st_mode)))
        {
          close (target_fd);
          target_fd = -1;
        }
    }
  if (target_fd < 0)
    return ar_make_error (err, EEXIST, "cannot create the mount point `%s`: it keeps being replaced", node->path);

  ar_format_fd_path (target, target_fd);
  if (mount (node->path, target, NULL, MS_BIND, NULL) < 0)
    return ar_make_error (err, errno, "cannot bind mount the host's device `%s`", node->path);
  return 0;
}

static int
create_device (const struct ar_rootfs_context *ctx, int root_fd, const struct device_node *node, ar_error_t *err)
{
  cleanup_close int parent_fd = -1;
  cleanup_free char *name = NULL;
  int ret;

  ret = ar_path_open_parent_in_root (root_fd, node->path, true, &parent_fd, &name, err);
  if (ret < 0)
    return ret;

  /* A user namespace may create a FIFO, but no device node. */
  if (ctx->in_user_namespace && node->type != S_IFIFO)
    return bind_host_node (parent_fd, name, node, err);

  ret = make_node (parent_fd, name, node, err);
  if (ret < 0)
    return ret;
  return set_node_attributes (parent_fd, name, node, err);
}

static bool
config_lists_device (const struct ar_config *config, const char *path)
{
  for (size_t i = 0; i < config->linux_config.n_devices; i++)
    if (config->linux_config.devices[i].path != NULL && ar_path_is (config->linux_config.devices[i].path, path))
      return true;
  return false;
}

static bool
config_binds_dev (const struct ar_config *config)
{
  for (size_t i = 0; i < config->n_mounts; i++)
    {
      const struct ar_mount *m = &config->mounts[i];
      bool bind = m->bind || (m->type != NULL && (strcmp (m->type, "bind") == 0 || strcmp (m->type, "rbind") == 0));

      if (bind && m->destination != NULL && ar_path_is (m->destination, "/dev"))
        return true;
    }
  return false;
}

static int
device_node_from_config (const struct ar_device *device, size_t index, struct device_node *node, ar_error_t *err)
{
  memset (node, 0, sizeof (*node));
  node->path = device->path;

  if (device->path == NULL || device->path[0] != '/')
    return ar_make_error (err, EINVAL, "linux.devices[%zu].path must be an absolute path", index);

  switch (device->type)
    {
    case 'c':
    case 'u':
      node->type = S_IFCHR;
      break;
    case 'b':
      node->type = S_IFBLK;
      break;
    case 'p':
      node->type = S_IFIFO;
      break;
    default:
      return ar_make_error (err, EINVAL, "linux.devices[%zu].type `%c` is invalid: use c, b, u or p", index,
                            device->type);
    }

  if (node->type != S_IFIFO)
    {
      if (device->major < 0 || device->major > UINT32_MAX || device->minor < 0 || device->minor > UINT32_MAX)
        return ar_make_error (err, EINVAL, "linux.devices[%zu] (`%s`) has an invalid major or minor number", index,
                              device->path);
      node->rdev = makedev ((unsigned int) device->major, (unsigned int) device->minor);
    }

  node->mode = device->has_file_mode ? (device->file_mode & 07777) : 0666;
  node->uid = device->has_uid ? device->uid : (uid_t) -1;
  node->gid = device->has_gid ? device->gid : (gid_t) -1;
  return 0;
}

static int
create_symlink (int root_fd, const char *target, const char *path, bool replace, ar_error_t *err)
{
  cleanup_close int parent_fd = -1;
  cleanup_free char *name = NULL;
  struct stat st;
  int ret;

  ret = ar_path_open_parent_in_root (root_fd, path, true, &parent_fd, &name, err);
  if (ret < 0)
    return ret;

  for (int attempt = 0; attempt < 3; attempt++)
    {
      if (symlinkat (target, parent_fd, name) == 0)
        return 0;
      if (errno != EEXIST)
        return ar_make_error (err, errno, "cannot create the symlink `%s` -> `%s`", path, target);
      if (!replace)
        return 0;

      if (fstatat (parent_fd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
        {
          if (errno == ENOENT)
            continue;
          return ar_make_error (err, errno, "cannot stat `%s`", path);
        }
      if (S_ISDIR (st.st_mode))
        return ar_make_error (err, EEXIST, "cannot create the symlink `%s`: a directory is in the way", path);
      if (unlinkat (parent_fd, name, 0) < 0 && errno != ENOENT)
        return ar_make_error (err, errno, "cannot replace `%s` with a symlink", path);
    }
  return ar_make_error (err, EEXIST, "cannot create the symlink `%s`: it keeps being replaced", path);
}

int
ar_rootfs_create_devices (const struct ar_rootfs_context *ctx, int root_fd, ar_error_t *err)
{
  const struct ar_linux *linux_config = &ctx->config->linux_config;
  int ret;

  /* A bind mounted /dev already contains the devices the user chose. */
  if (config_binds_dev (ctx->config))
    {
      ar_debug ("/dev is a bind mount: no device nodes or /dev symlinks are created");
      return 0;
    }

  for (size_t i = 0; i < sizeof (default_devices) / sizeof (default_devices[0]); i++)
    {
      struct device_node node = {
        .path = default_devices[i].path,
        .type = S_IFCHR,
        .rdev = makedev (default_devices[i].major, default_devices[i].minor),
        .mode = 0666,
        .uid = (uid_t) -1,
        .gid = (gid_t) -1,
      };

      /* linux.devices may give the same device another mode or owner. */
      if (config_lists_device (ctx->config, node.path))
        continue;
      ret = create_device (ctx, root_fd, &node, err);
      if (ret < 0)
        return ar_error_wrap (err, "cannot create the default device `%s`", node.path);
    }

  for (size_t i = 0; i < linux_config->n_devices; i++)
    {
      struct device_node node;

      ret = device_node_from_config (&linux_config->devices[i], i, &node, err);
      if (ret < 0)
        return ret;
      ret = create_device (ctx, root_fd, &node, err);
      if (ret < 0)
        return ar_error_wrap (err, "linux.devices[%zu] (`%s`)", i, node.path);
    }

  for (size_t i = 0; i < sizeof (dev_symlinks) / sizeof (dev_symlinks[0]); i++)
    {
      ret = create_symlink (root_fd, dev_symlinks[i].target, dev_symlinks[i].path, dev_symlinks[i].replace, err);
      if (ret < 0)
        return ret;
    }

  /* runc (libcontainer/rootfs_linux.go) creates /dev/core -> /proc/kcore
   * when /proc/kcore exists (CONFIG_PROC_KCORE), and crun creates it
   * always.  We follow runc for images that expect the link.  It gives
   * nothing away, because the default maskedPaths cover /proc/kcore and
   * reading it needs CAP_SYS_RAWIO. */
  if (access ("/proc/kcore", F_OK) == 0)
    {
      ret = create_symlink (root_fd, "/proc/kcore", "/dev/core", false, err);
      if (ret < 0)
        return ret;
    }
  return 0;
}
