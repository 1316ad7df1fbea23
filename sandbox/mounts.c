/* One mount of config.json, performed inside the rootfs.  The destination
 * is resolved with ar_path_open_in_root and the mount goes onto
 * /proc/self/fd/N of the resulting O_PATH fd, so that a symlink placed in
 * the rootfs cannot redirect it to the host.  Every later step (remount,
 * propagation, recursive attributes) works on a freshly resolved fd of the
 * new mount. */
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
#include <sys/statvfs.h>
#include <unistd.h>

#include "oci/log.h"
#include "oci/util.h"

#define PROPAGATION_MASK (MS_SHARED | MS_SLAVE | MS_PRIVATE | MS_UNBINDABLE)

/* Flags that describe how to mount rather than what to mount with.  They
 * never reach mount(2) as options of a new filesystem. */
#define NOT_FILESYSTEM_FLAGS (MS_BIND | MS_REC | MS_REMOUNT | MS_MOVE | PROPAGATION_MASK)

static bool
str_equal (const char *a, const char *b)
{
  return a != NULL && b != NULL && strcmp (a, b) == 0;
}

static unsigned long
ms_flags_from_statvfs (unsigned long f_flag)
{
  static const struct
  {
    unsigned long st;
    unsigned long ms;
  } map[] = {
    { ST_RDONLY, MS_RDONLY },         { ST_NOSUID, MS_NOSUID },     { ST_NODEV, MS_NODEV },
    { ST_NOEXEC, MS_NOEXEC },         { ST_NOATIME, MS_NOATIME },   { ST_NODIRATIME, MS_NODIRATIME },
    { ST_RELATIME, MS_RELATIME },
  };
  unsigned long flags = 0;

  for (size_t i = 0; i < sizeof (map) / sizeof (map[0]); i++)
    if (f_flag & map[i].st)
      flags |= map[i].ms;
  return flags;
}

/* Formats per-mount flags as mount(8) options, for error messages. */
static void
format_flags (char *buf, size_t size, unsigned long flags)
{
  static const struct
  {
    unsigned long ms;
    const char *name;
  } names[] = {
    { MS_NOSUID, "nosuid" },   { MS_NODEV, "nodev" },           { MS_NOEXEC, "noexec" },
    { MS_NOATIME, "noatime" }, { MS_NODIRATIME, "nodiratime" }, { MS_RELATIME, "relatime" },
    { MS_STRICTATIME, "strictatime" },
  };
  size_t len;

  snprintf (buf, size, "%s", (flags & MS_RDONLY) ? "ro" : "rw");
  for (size_t i = 0; i < sizeof (names) / sizeof (names[0]); i++)
    {
      len = strlen (buf);
      if ((flags & names[i].ms) && len < size)
        snprintf (buf + len, size - len, ",%s", names[i].name);
    }
}

int
ar_mount_change_flags (int mount_fd, const char *target, const char *what, unsigned long set, unsigned long clear,
                       ar_error_t *err)
{
  const unsigned long atime_bits = AR_MS_ATIME_MASK | MS_NODIRATIME;
  char fd_path[AR_FD_PATH_SIZE];
  char description[128];
  struct statvfs sv;
  unsigned long current, desired, flags;

  if (fstatvfs (mount_fd, &sv) < 0)
    return ar_make_error (err, errno, "cannot read the mount flags of `%s`", what);

  current = ms_flags_from_statvfs (sv.f_flag);
  desired = current & ~clear;
  if (set & AR_MS_ATIME_MASK)
    desired &= ~AR_MS_ATIME_MASK;
  desired |= set & AR_MS_PER_MOUNT_MASK;
  if (desired == current)
    return 0;

  /* A remount without any atime flag keeps the current atime setting.
   * That is the only way to leave the setting alone, because statvfs
   * cannot report strictatime and a locked setting must not change. */
  flags = desired;
  if ((desired & atime_bits) == (current & atime_bits))
    flags &= ~atime_bits;
  else if (!(desired & (MS_NOATIME | MS_RELATIME)))
    flags |= MS_STRICTATIME;

  if (target == NULL)
    {
      ar_format_fd_path (fd_path, mount_fd);
      target = fd_path;
    }
  if (mount (NULL, target, NULL, MS_REMOUNT | MS_BIND | flags, NULL) == 0)
    return 0;

  /* In a user namespace, the atime setting of a mount from the host is
   * locked.  Keep it rather than fail, because atime options only tune
   * performance. */
  if (errno == EPERM && (flags & atime_bits) != 0
      && mount (NULL, target, NULL, MS_REMOUNT | MS_BIND | (flags & ~atime_bits), NULL) == 0)
    {
      ar_debug ("kept the locked atime setting of `%s`", what);
      return 0;
    }

  format_flags (description, sizeof (description), desired);
  if (errno == EPERM)
    return ar_make_error (err, errno,
                          "cannot remount `%s` with `%s`: a flag that the source mount locks in this user "
                          "namespace (ro, nosuid, nodev, noexec) would be cleared",
                          what, description);
  return ar_make_error (err, errno, "cannot remount `%s` with `%s`", what, description);
}

int
ar_mount_reopen (int root_fd, const char *path, int below_fd, int *out_fd, ar_error_t *err)
{
  cleanup_close int fd = -1;
  struct statx below, top;

  fd = ar_openat2_in_root (root_fd, path, O_PATH);
  if (fd < 0)
    return ar_make_error (err, errno, "cannot open `%s` again after mounting on it", path);

  if (statx (fd, "", AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW, STATX_MNT_ID, &top) < 0
      || statx (below_fd, "", AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW, STATX_MNT_ID, &below) < 0)
    return ar_make_error (err, errno, "cannot stat `%s`", path);

  /* Kernels before 5.8 report no mount id, and the lookup above stays
   * confined to the rootfs all the same. */
  if ((top.stx_mask & STATX_MNT_ID) && (below.stx_mask & STATX_MNT_ID))
    {
      bool is_mount_root = (top.stx_attributes_mask & STATX_ATTR_MOUNT_ROOT) == 0
                           || (top.stx_attributes & STATX_ATTR_MOUNT_ROOT) != 0;
      if (top.stx_mnt_id == below.stx_mnt_id || !is_mount_root)
        return ar_make_error (err, EXDEV,
                              "`%s` changed while it was being mounted on: it no longer leads to the new mount",
                              path);
    }

  *out_fd = ar_steal_fd (fd);
  return 0;
}

static int
apply_propagation (int mount_fd, const char *what, unsigned long propagation, ar_error_t *err)
{
  static const unsigned long types[] = { MS_PRIVATE, MS_SLAVE, MS_SHARED, MS_UNBINDABLE };
  char target[AR_FD_PATH_SIZE];

  ar_format_fd_path (target, mount_fd);

  /* mount(2) takes one propagation type per call. */
  for (size_t i = 0; i < sizeof (types) / sizeof (types[0]); i++)
    {
      if (!(propagation & types[i]))
        continue;
      if (mount (NULL, target, NULL, types[i] | (propagation & MS_REC), NULL) < 0)
        return ar_make_error (err, errno, "cannot set the propagation of `%s`", what);
    }
  return 0;
}

static int
apply_recursive_attributes (int mount_fd, const char *what, uint64_t attr_set, uint64_t attr_clear,
                            ar_error_t *err)
{
  struct mount_attr attr = {
    .attr_set = attr_set,
    .attr_clr = attr_clear,
  };

  if (attr_set == 0 && attr_clear == 0)
    return 0;

  /* The atime settings exclude each other, so the kernel requires the whole
   * atime field in attr_clr whenever one of them changes. */
  if ((attr.attr_set | attr.attr_clr) & MOUNT_ATTR__ATIME)
    attr.attr_clr |= MOUNT_ATTR__ATIME;

  if (mount_setattr (mount_fd, "", AT_EMPTY_PATH | AT_RECURSIVE, &attr, sizeof (attr)) < 0)
    {
      if (errno == ENOSYS)
        return ar_make_error (err, errno,
                              "cannot set the recursive options of `%s`: mount_setattr needs Linux 5.12 or "
                              "later; remove the r-prefixed options (rro, rnosuid, ...) on this kernel",
                              what);
      return ar_make_error (err, errno, "cannot set the recursive options of `%s`", what);
    }
  return 0;
}

static bool
mount_setattr_supported (void)
{
  struct mount_attr attr = { 0 };

  /* With an invalid fd the call fails with ENOSYS when the kernel lacks
   * the syscall, and with EBADF when it has it. */
  return mount_setattr (-1, "", AT_EMPTY_PATH, &attr, sizeof (attr)) == 0 || errno != ENOSYS;
}

static uint64_t
mount_attr_from_ms_flags (unsigned long flags)
{
  uint64_t attr = 0;

  if (flags & MS_RDONLY)
    attr |= MOUNT_ATTR_RDONLY;
  if (flags & MS_NOSUID)
    attr |= MOUNT_ATTR_NOSUID;
  if (flags & MS_NODEV)
    attr |= MOUNT_ATTR_NODEV;
  if (flags & MS_NOEXEC)
    attr |= MOUNT_ATTR_NOEXEC;
  return attr;
}

/* Bind mounts source onto the destination, a directory or a file like the
 * source, then remounts it with the requested per-mount flags, which a
 * bind mount ignores on the first call. */
static int
mount_bind (int root_fd, const struct ar_mount *m, const char *source, bool recursive, bool readonly_later,
            int *mount_fd_out, ar_error_t *err)
{
  cleanup_close int target_fd = -1;
  cleanup_close int mount_fd = -1;
  char target[AR_FD_PATH_SIZE];
  struct stat st;
  unsigned long set = m->flags & AR_MS_PER_MOUNT_MASK;
  int ret;

  if (source == NULL || source[0] == '\0')
    return ar_make_error (err, EINVAL, "a bind mount needs a source");
  if (stat (source, &st) < 0)
    return ar_make_error (err, errno, "cannot use `%s` as the source of a bind mount", source);

  ret = ar_path_open_in_root (root_fd, m->destination, S_ISDIR (st.st_mode) ? AR_PATH_CREATE_DIR : AR_PATH_CREATE_FILE,
                              &target_fd, err);
  if (ret < 0)
    return ret;

  ar_format_fd_path (target, target_fd);
  if (mount (source, target, NULL, MS_BIND | (recursive ? MS_REC : 0), NULL) < 0)
    return ar_make_error (err, errno, "cannot bind mount `%s`", source);

  ret = ar_mount_reopen (root_fd, m->destination, target_fd, &mount_fd, err);
  if (ret < 0)
    return ret;

  if (readonly_later)
    set &= ~MS_RDONLY;
  if (set != 0)
    {
      ret = ar_mount_change_flags (mount_fd, NULL, m->destination, set, m->clear_flags & AR_MS_PER_MOUNT_MASK, err);
      if (ret < 0)
        return ret;
    }

  *mount_fd_out = ar_steal_fd (mount_fd);
  return 0;
}

static void
append_option (char **options, const char *option)
{
  char *longer = (*options)[0] == '\0' ? ar_xstrdup (option) : ar_xasprintf ("%s,%s", *options, option);

  free (*options);
  *options = longer;
}

/* devpts gets its own instance, which keeps the host's terminals out of
 * the container, and a /dev/pts/ptmx that every user may open. */
static char *
devpts_data (const char *data)
{
  bool has_newinstance = false;
  bool has_ptmxmode = false;
  cleanup_free char *copy = ar_xstrdup (data != NULL ? data : "");
  char *options = ar_xstrdup (data != NULL ? data : "");
  char *saveptr = NULL;

  for (char *option = strtok_r (copy, ",", &saveptr); option != NULL; option = strtok_r (NULL, ",", &saveptr))
    {
      if (strcmp (option, "newinstance") == 0)
        has_newinstance = true;
      else if (ar_str_has_prefix (option, "ptmxmode="))
        has_ptmxmode = true;
    }

  if (!has_newinstance)
    append_option (&options, "newinstance");
  if (!has_ptmxmode)
    append_option (&options, "ptmxmode=0666");
  return options;
}

static int
copy_up (int below_fd, int mount_fd, const char *what, ar_error_t *err)
{
  cleanup_close int src_fd = -1;
  cleanup_close int dst_fd = -1;
  int ret;

  /* Opening "." from the O_PATH fd of the mount target reaches the
   * directory below the new mount, with the content to copy. */
  src_fd = openat (below_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (src_fd < 0)
    return ar_make_error (err, errno, "cannot open the previous content of `%s` for tmpcopyup", what);
  dst_fd = openat (mount_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dst_fd < 0)
    return ar_make_error (err, errno, "cannot open the new mount on `%s` for tmpcopyup", what);

  ret = ar_rootfs_copy_tree (src_fd, dst_fd, err);
  if (ret < 0)
    return ar_error_wrap (err, "cannot copy the previous content of `%s` into the new tmpfs (tmpcopyup)", what);
  return 0;
}

/* Mounts a new filesystem of m->type (tmpfs, proc, mqueue, ...) with the
 * mount's flags and data. */
static int
mount_filesystem (int root_fd, const struct ar_mount *m, bool readonly_later, int *mount_fd_out, ar_error_t *err)
{
  cleanup_close int target_fd = -1;
  cleanup_close int mount_fd = -1;
  cleanup_free char *data = NULL;
  char target[AR_FD_PATH_SIZE];
  unsigned long flags = m->flags & ~NOT_FILESYSTEM_FLAGS;
  const char *source = m->source != NULL ? m->source : m->type;
  int ret;

  ret = ar_path_open_in_root (root_fd, m->destination, AR_PATH_CREATE_DIR, &target_fd, err);
  if (ret < 0)
    return ret;

  if (readonly_later)
    flags &= ~MS_RDONLY;
  if (str_equal (m->type, "devpts"))
    data = devpts_data (m->data);
  else if (m->data != NULL)
    data = ar_xstrdup (m->data);

  ar_format_fd_path (target, target_fd);
  if (mount (source, target, m->type, flags, data) < 0)
    return ar_make_error (err, errno, "cannot mount `%s` of type %s with options `%s`", source, m->type,
                          data != NULL ? data : "");

  ret = ar_mount_reopen (root_fd, m->destination, target_fd, &mount_fd, err);
  if (ret < 0)
    return ret;

  if (m->tmpcopyup)
    {
      ret = copy_up (target_fd, mount_fd, m->destination, err);
      if (ret < 0)
        return ret;
    }

  *mount_fd_out = ar_steal_fd (mount_fd);
  return 0;
}

static int
mount_cgroup (const struct ar_rootfs_context *ctx, int root_fd, const struct ar_mount *m, int *mount_fd_out,
              ar_error_t *err)
{
  cleanup_close int target_fd = -1;
  int ret;

  ret = ar_path_open_in_root (root_fd, m->destination, AR_PATH_CREATE_DIR, &target_fd, err);
  if (ret < 0)
    return ret;

  /* A container without a cgroup of its own (--cgroup-manager disabled)
   * has no hierarchy to show: it gets an empty tmpfs there instead. */
  if (ctx->cgroup == NULL)
    {
      cleanup_free char *target = ar_xasprintf ("/proc/self/fd/%d", target_fd);

      ar_debug ("%s: the container has no cgroup; mounting an empty tmpfs", m->destination);
      if (mount ("tmpfs", target, "tmpfs", (m->flags & ~NOT_FILESYSTEM_FLAGS) | MS_NOSUID | MS_NODEV | MS_NOEXEC,
                 "mode=0555,size=4k")
          < 0)
        return ar_make_error (err, errno, "cannot mount an empty tmpfs on `%s`", m->destination);
      return ar_mount_reopen (root_fd, m->destination, target_fd, mount_fd_out, err);
    }

  ret = ar_cgroup_mount (ctx->cgroup, target_fd, ctx->in_cgroup_namespace, m->flags & ~NOT_FILESYSTEM_FLAGS, err);
  if (ret < 0)
    return ar_error_wrap (err, "cannot mount the cgroup hierarchy");

  return ar_mount_reopen (root_fd, m->destination, target_fd, mount_fd_out, err);
}

/* sysfs belongs to the network namespace: a user namespace that shares the
 * host's network namespace may not mount a new instance, so it gets the
 * runtime's /sys, read-only throughout when the mount requests ro. */
static int
mount_sysfs_as_bind (int root_fd, const struct ar_mount *m, int *mount_fd_out, ar_error_t *err)
{
  cleanup_close int mount_fd = -1;
  int ret;

  ret = mount_bind (root_fd, m, "/sys", true, false, &mount_fd, err);
  if (ret < 0)
    return ret;

  /* Without mount_setattr only the top mount gets the flags, from the
   * remount in mount_bind. */
  if (mount_setattr_supported ())
    {
      ret = apply_recursive_attributes (mount_fd, m->destination, mount_attr_from_ms_flags (m->flags), 0, err);
      if (ret < 0)
        return ret;
    }

  *mount_fd_out = ar_steal_fd (mount_fd);
  return 0;
}

static bool
has_new_network_namespace (const struct ar_config *config)
{
  const struct ar_namespace *ns = &config->linux_config.namespaces[AR_NS_NETWORK];

  return ns->present && ns->path == NULL;
}

static int
mount_one (const struct ar_rootfs_context *ctx, int root_fd, const struct ar_mount *m, bool *delayed_readonly,
           ar_error_t *err)
{
  cleanup_close int mount_fd = -1;
  bool bind = m->bind || (m->flags & MS_BIND) || str_equal (m->type, "bind") || str_equal (m->type, "rbind");
  bool recursive = m->recursive_bind || (bind && (m->flags & MS_REC)) || str_equal (m->type, "rbind");
  bool readonly_later;
  int ret;

  if (m->destination == NULL || m->destination[0] != '/')
    return ar_make_error (err, EINVAL, "the destination must be an absolute path");
  if (!bind && (m->type == NULL || m->type[0] == '\0'))
    return ar_make_error (err, EINVAL, "the mount has no type; give one, or the option `bind` or `rbind`");
  if (m->idmap)
    /* TODO: idmapped mounts need a user namespace fd with the mount's
     * mappings, open_tree and mount_setattr(MOUNT_ATTR_IDMAP). */
    return ar_make_error (err, ENOTSUP, "idmapped mounts (options `idmap`, `ridmap`) are not supported yet");

  /* Later steps create mount points and device nodes inside a tmpfs or
   * /dev, so those stay writable until the end of ar_rootfs_prepare. */
  readonly_later = (m->flags & MS_RDONLY)
                   && ((!bind && str_equal (m->type, "tmpfs")) || ar_path_is (m->destination, "/dev"));

  if (bind)
    ret = mount_bind (root_fd, m, m->source, recursive, readonly_later, &mount_fd, err);
  else if (str_equal (m->type, "cgroup"))
    ret = mount_cgroup (ctx, root_fd, m, &mount_fd, err);
  else if (str_equal (m->type, "sysfs") && ctx->in_user_namespace && !has_new_network_namespace (ctx->config))
    ret = mount_sysfs_as_bind (root_fd, m, &mount_fd, err);
  else
    {
      ret = mount_filesystem (root_fd, m, readonly_later, &mount_fd, err);
      if (ret == -EPERM && str_equal (m->type, "sysfs") && ctx->in_user_namespace)
        {
          ar_debug ("cannot mount sysfs on `%s` in this user namespace, binding /sys instead", m->destination);
          ar_error_release (err);
          ret = mount_sysfs_as_bind (root_fd, m, &mount_fd, err);
        }
    }
  if (ret < 0)
    return ret;

  ret = apply_propagation (mount_fd, m->destination, m->propagation, err);
  if (ret < 0)
    return ret;

  ret = apply_recursive_attributes (mount_fd, m->destination, m->attr_set, m->attr_clear, err);
  if (ret < 0)
    return ret;

  *delayed_readonly = readonly_later;
  return 0;
}

int
ar_rootfs_mount_one (const struct ar_rootfs_context *ctx, int root_fd, size_t index, bool *delayed_readonly,
                     ar_error_t *err)
{
  const struct ar_mount *m = &ctx->config->mounts[index];
  int ret;

  ret = mount_one (ctx, root_fd, m, delayed_readonly, err);
  if (ret < 0)
    return ar_error_wrap (err, "mounts[%zu] (%s on `%s`)", index,
                          m->type != NULL ? m->type : (m->bind ? "bind" : "no type"),
                          m->destination != NULL ? m->destination : "(none)");
  ar_debug ("mounted mounts[%zu] on `%s`", index, m->destination);
  return 0;
}
