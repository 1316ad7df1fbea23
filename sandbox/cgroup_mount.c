/* The container's /sys/fs/cgroup: what a "cgroup" entry of config.json's
 * mounts becomes.  Mounts are built with the new mount API (open_tree,
 * fsmount, move_mount, mount_setattr; Linux 5.12), so a bind mount gets
 * its flags before it becomes visible and no step resolves a path inside
 * the container's rootfs. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cgroup_internal.h"
#include "oci/log.h"
#include "oci/util.h"

/* The MOUNT_ATTR_* equivalent of the MS_* flags of a mount entry. */
static void
mount_attr_from_flags (unsigned long flags, struct mount_attr *attr)
{
  memset (attr, 0, sizeof (*attr));
  if (flags & MS_RDONLY)
    attr->attr_set |= MOUNT_ATTR_RDONLY;
  if (flags & MS_NOSUID)
    attr->attr_set |= MOUNT_ATTR_NOSUID;
  if (flags & MS_NODEV)
    attr->attr_set |= MOUNT_ATTR_NODEV;
  if (flags & MS_NOEXEC)
    attr->attr_set |= MOUNT_ATTR_NOEXEC;
  if (flags & MS_NODIRATIME)
    attr->attr_set |= MOUNT_ATTR_NODIRATIME;

  /* The atime mode is one field: changing it means clearing the field. */
  if (flags & (MS_NOATIME | MS_STRICTATIME | MS_RELATIME))
    {
      attr->attr_clr |= MOUNT_ATTR__ATIME;
      if (flags & MS_NOATIME)
        attr->attr_set |= MOUNT_ATTR_NOATIME;
      else if (flags & MS_STRICTATIME)
        attr->attr_set |= MOUNT_ATTR_STRICTATIME;
      else
        attr->attr_set |= MOUNT_ATTR_RELATIME;
    }
}

/* The flags a new filesystem mount (not a bind) takes directly. */
static unsigned long
new_mount_flags (unsigned long flags)
{
  return flags & (MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC | MS_NOATIME | MS_NODIRATIME | MS_RELATIME
                  | MS_STRICTATIME);
}

/* Bind-mounts host directory source on target_fd with the attributes. */
static int
bind_cgroup_dir (const char *source, int target_fd, const struct mount_attr *attr, ar_error_t *err)
{
  cleanup_close int tree = -1;
  struct mount_attr a = *attr;

  tree = open_tree (AT_FDCWD, source, OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC);
  if (tree < 0)
    return ar_make_error (err, errno, "cannot clone a bind mount of `%s`", source);

  if ((a.attr_set != 0 || a.attr_clr != 0) && mount_setattr (tree, "", AT_EMPTY_PATH, &a, sizeof (a)) < 0)
    return ar_make_error (err, errno, "cannot set the mount flags of the bind mount of `%s`", source);

  if (move_mount (tree, "", target_fd, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) < 0)
    return ar_make_error (err, errno, "cannot attach the bind mount of `%s`", source);
  ar_debug ("cgroup: bind-mounted `%s` into the container", source);
  return 0;
}

/* Mounts a hierarchy afresh: inside a cgroup namespace its root is the
 * namespace's root, the container's own cgroup.  Falls back to a bind
 * mount where the kernel refuses (EPERM, EBUSY), as runc does. */
static int
mount_hierarchy (const struct ar_cgroup_hierarchy *h, int target_fd, unsigned long flags,
                 const struct mount_attr *attr, ar_error_t *err)
{
  char target[64];
  const char *fstype = h->unified ? "cgroup2" : "cgroup";

  snprintf (target, sizeof (target), "/proc/self/fd/%d", target_fd);
  if (mount (fstype, target, fstype, new_mount_flags (flags), h->unified ? NULL : h->controllers) == 0)
    {
      ar_debug ("cgroup: mounted %s `%s` in the cgroup namespace", fstype, h->unified ? "" : h->controllers);
      return 0;
    }
  if (errno != EPERM && errno != EBUSY)
    return ar_make_error (err, errno, "cannot mount %s (%s) in the cgroup namespace", fstype,
                          h->unified ? "unified" : h->controllers);

  ar_debug ("cgroup: cannot mount %s here (%s), bind-mounting `%s` instead", fstype, strerror (errno), h->dir);
  return bind_cgroup_dir (h->dir, target_fd, attr, err);
}

/* The name of a hierarchy's directory in the container, as on the host:
 * "cpu", "cpu,cpuacct", "systemd", "unified". */
static const char *
hierarchy_dir_name (const struct ar_cgroup_hierarchy *h)
{
  const char *slash = strrchr (h->mountpoint, '/');

  return slash != NULL && slash[1] != '\0' ? slash + 1 : (h->unified ? "unified" : h->controllers);
}

/* For a hierarchy of several controllers ("cpu,cpuacct"), the links "cpu"
 * and "cpuacct" to it, as hosts have them. */
static int
link_controllers (int tmpfs_fd, const char *name, ar_error_t *err)
{
  cleanup_free char *copy = NULL;
  char *saveptr = NULL;

  if (strchr (name, ',') == NULL)
    return 0;
  copy = ar_xstrdup (name);
  for (char *c = strtok_r (copy, ",", &saveptr); c != NULL; c = strtok_r (NULL, ",", &saveptr))
    if (symlinkat (name, tmpfs_fd, c) < 0 && errno != EEXIST)
      return ar_make_error (err, errno, "cannot link `%s` to `%s` in the cgroup tmpfs", c, name);
  return 0;
}

static int
mount_v1_tree (struct ar_cgroup *cgroup, int target_dirfd, bool in_cgroup_namespace, unsigned long flags,
               const struct mount_attr *attr, ar_error_t *err)
{
  cleanup_close int fs = -1;
  cleanup_close int tmpfs = -1;
  struct mount_attr tmpfs_attr = *attr;
  int ret;

  /* The tmpfs stays writable until its directories exist. */
  tmpfs_attr.attr_set &= ~(uint64_t) MOUNT_ATTR_RDONLY;

  fs = fsopen ("tmpfs", FSOPEN_CLOEXEC);
  if (fs < 0)
    return ar_make_error (err, errno, "cannot open a tmpfs for the cgroup mount");
  if (fsconfig (fs, FSCONFIG_SET_STRING, "mode", "0755", 0) < 0
      || fsconfig (fs, FSCONFIG_SET_STRING, "size", "64k", 0) < 0
      || fsconfig (fs, FSCONFIG_CMD_CREATE, NULL, NULL, 0) < 0)
    return ar_make_error (err, errno, "cannot create a tmpfs for the cgroup mount");
  tmpfs = fsmount (fs, FSMOUNT_CLOEXEC, (unsigned int) tmpfs_attr.attr_set);
  if (tmpfs < 0)
    return ar_make_error (err, errno, "cannot create the cgroup tmpfs mount");
  if (move_mount (tmpfs, "", target_dirfd, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) < 0)
    return ar_make_error (err, errno, "cannot attach the cgroup tmpfs");

  /* tmpfs now refers to the root of the attached tmpfs, so the
   * directories below are made and mounted on through it. */
  for (size_t i = 0; i < cgroup->n_hierarchies; i++)
    {
      const struct ar_cgroup_hierarchy *h = &cgroup->hierarchies[i];
      const char *name = hierarchy_dir_name (h);
      cleanup_close int dir = -1;

      if (mkdirat (tmpfs, name, 0755) < 0 && errno != EEXIST)
        return ar_make_error (err, errno, "cannot create `%s` in the cgroup tmpfs", name);
      dir = openat (tmpfs, name, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
      if (dir < 0)
        return ar_make_error (err, errno, "cannot open `%s` in the cgroup tmpfs", name);

      if (in_cgroup_namespace)
        ret = mount_hierarchy (h, dir, flags, attr, err);
      else
        ret = bind_cgroup_dir (h->dir, dir, attr, err);
      if (ret < 0)
        return ret;

      if (!h->unified)
        {
          ret = link_controllers (tmpfs, name, err);
          if (ret < 0)
            return ret;
        }
    }

  if (attr->attr_set & MOUNT_ATTR_RDONLY)
    {
      struct mount_attr ro = { .attr_set = MOUNT_ATTR_RDONLY };

      if (mount_setattr (tmpfs, "", AT_EMPTY_PATH, &ro, sizeof (ro)) < 0)
        return ar_make_error (err, errno, "cannot make the cgroup tmpfs read-only");
    }
  return 0;
}

int
ar_cgroup_mount (struct ar_cgroup *cgroup, int target_dirfd, bool in_cgroup_namespace, unsigned long flags,
                 ar_error_t *err)
{
  struct mount_attr attr;
  int ret;

  mount_attr_from_flags (flags, &attr);

  if (cgroup->layout == AR_CGROUP_LAYOUT_V2)
    {
      const struct ar_cgroup_hierarchy *h = ar_cgroup_unified (cgroup);

      if (h == NULL)
        return ar_make_error (err, ENOENT, "the cgroup has no cgroup2 hierarchy to mount");
      ret = in_cgroup_namespace ? mount_hierarchy (h, target_dirfd, flags, &attr, err)
                                : bind_cgroup_dir (h->dir, target_dirfd, &attr, err);
    }
  else
    ret = mount_v1_tree (cgroup, target_dirfd, in_cgroup_namespace, flags, &attr, err);

  if (ret < 0)
    return ar_error_wrap (err, "cannot mount the cgroup filesystem in the container");
  return 0;
}
