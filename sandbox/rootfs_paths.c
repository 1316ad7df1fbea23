/* Safe path resolution inside the container's rootfs.  The container, or
 * another container that shares a volume with it, may replace any path
 * component with a symlink at any time.  So a path inside the rootfs is
 * never joined to the rootfs path as a string.  It is opened with openat2
 * and RESOLVE_IN_ROOT, which treats the rootfs as "/" for every symlink and
 * "..", and missing components are created one at a time, each in a
 * directory opened that way. */
#define _GNU_SOURCE
#include "rootfs.h"
#include "rootfs_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "oci/log.h"
#include "oci/util.h"

/* The kernel's own limit on symlinks followed in one lookup. */
#define MAX_SYMLINKS 40

/* How often the creation of one component may lose a race (EEXIST after
 * ENOENT) before the walk fails. */
#define MAX_CREATE_RETRIES 64

int
ar_openat2_in_root (int root_fd, const char *path, int flags)
{
  struct open_how how = {
    .flags = (uint64_t) (flags | O_CLOEXEC),
    .resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS,
  };
  int fd;

  if (path == NULL || *path == '\0')
    path = ".";

  /* openat2 returns EAGAIN when a rename raced with ".." resolution, so
   * the lookup is retried. */
  for (int attempt = 0; attempt < 128; attempt++)
    {
      fd = (int) syscall (SYS_openat2, root_fd, path, &how, sizeof (how));
      if (fd >= 0 || (errno != EAGAIN && errno != EINTR))
        return fd;
    }
  return -1;
}

/* Removes the last component of a relative canonical path ("a/b" -> "a",
 * "a" -> ""), which is what ".." means once symlinks are expanded. */
static void
strip_last_component (char *path)
{
  char *slash = strrchr (path, '/');

  if (slash != NULL)
    *slash = '\0';
  else
    path[0] = '\0';
}

static char *
join_relative (const char *dir, const char *name)
{
  if (dir[0] == '\0')
    return ar_xstrdup (name);
  return ar_xasprintf ("%s/%s", dir, name);
}

/* Creates name in the directory resolved as parent_path: a directory, or
 * an empty file when it is the last component of an AR_PATH_CREATE_FILE
 * path.  EEXIST is returned as is, since the caller retries the lookup. */
static int
create_component (int root_fd, const char *parent_path, const char *name, bool as_file, ar_error_t *err)
{
  cleanup_close int parent_fd = -1;

  parent_fd = ar_openat2_in_root (root_fd, parent_path, O_PATH | O_DIRECTORY);
  if (parent_fd < 0)
    return ar_make_error (err, errno, "cannot open directory `/%s`", parent_path);

  if (as_file)
    {
      cleanup_close int fd = openat (parent_fd, name, O_RDONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
      if (fd < 0)
        return errno == EEXIST ? -EEXIST : ar_make_error (err, errno, "cannot create file `%s` in `/%s`", name, parent_path);
      return 0;
    }

  if (mkdirat (parent_fd, name, 0755) < 0)
    return errno == EEXIST ? -EEXIST : ar_make_error (err, errno, "cannot create directory `%s` in `/%s`", name, parent_path);
  return 0;
}

/* Walks path one component at a time, expanding symlinks by hand so that a
 * dangling one gets its target created, and creating what is missing.
 * Stores the canonical path relative to the root (no symlinks, no dots,
 * "" for the root itself) in *resolved_out. */
static int
walk_and_create (int root_fd, const char *path, enum ar_path_create create, char **resolved_out, ar_error_t *err)
{
  cleanup_free char *resolved = ar_xstrdup ("");
  cleanup_free char *remaining = ar_xstrdup (path);
  int n_symlinks = 0;
  int n_retries = 0;

  for (;;)
    {
      cleanup_free char *name = NULL;
      cleanup_free char *candidate = NULL;
      cleanup_close int fd = -1;
      const char *start = remaining, *end, *rest;
      struct stat st;
      bool last;

      while (*start == '/')
        start++;
      if (*start == '\0')
        break;
      end = strchrnul (start, '/');
      rest = end;
      while (*rest == '/')
        rest++;
      last = *rest == '\0';
      name = strndup (start, (size_t) (end - start));
      if (name == NULL)
        return ar_make_error (err, ENOMEM, "cannot resolve `%s`", path);

      if (strcmp (name, ".") == 0 || strcmp (name, "..") == 0)
        {
          if (name[1] == '.')
            strip_last_component (resolved);
          memmove (remaining, rest, strlen (rest) + 1);
          continue;
        }

      candidate = join_relative (resolved, name);
      fd = ar_openat2_in_root (root_fd, candidate, O_PATH | O_NOFOLLOW);
      if (fd < 0 && errno == ENOENT)
        {
          int ret;

          if (create == AR_PATH_NO_CREATE)
            return ar_make_error (err, ENOENT, "cannot open `%s`: `/%s` does not exist", path, candidate);

          ret = create_component (root_fd, resolved, name, last && create == AR_PATH_CREATE_FILE, err);
          if (ret == -EEXIST && ++n_retries <= MAX_CREATE_RETRIES)
            continue;
          if (ret < 0)
            return ret == -EEXIST ? ar_make_error (err, EEXIST, "cannot create `/%s`", candidate) : ret;
          ar_debug ("created `/%s` in the rootfs", candidate);
          continue; /* Open the new component on the next round. */
        }
      if (fd < 0)
        return ar_make_error (err, errno, "cannot open `/%s` while resolving `%s`", candidate, path);

      if (fstat (fd, &st) < 0)
        return ar_make_error (err, errno, "cannot stat `/%s`", candidate);

      if (S_ISLNK (st.st_mode))
        {
          char target[PATH_MAX];
          ssize_t len;
          char *expanded;

          if (++n_symlinks > MAX_SYMLINKS)
            return ar_make_error (err, ELOOP, "cannot resolve `%s`: too many symlinks", path);
          len = readlinkat (fd, "", target, sizeof (target) - 1);
          if (len < 0)
            return ar_make_error (err, errno, "cannot read symlink `/%s`", candidate);
          if (len == 0)
            return ar_make_error (err, ENOENT, "cannot resolve `%s`: `/%s` is an empty symlink", path, candidate);
          target[len] = '\0';

          /* The target replaces the link, and an absolute target restarts
           * from the root of the rootfs, not of the host. */
          if (target[0] == '/')
            resolved[0] = '\0';
          expanded = ar_xasprintf ("%s/%s", target, rest);
          free (remaining);
          remaining = expanded;
          continue;
        }

      if (!S_ISDIR (st.st_mode) && !last)
        return ar_make_error (err, ENOTDIR, "cannot resolve `%s`: `/%s` is not a directory", path, candidate);

      free (resolved);
      resolved = ar_steal_ptr (candidate);
      memmove (remaining, rest, strlen (rest) + 1);
    }

  *resolved_out = ar_steal_ptr (resolved);
  return 0;
}

int
ar_path_open_in_root (int root_fd, const char *path, enum ar_path_create create, int *out_fd, ar_error_t *err)
{
  cleanup_free char *resolved = NULL;
  int fd;
  int ret;

  fd = ar_openat2_in_root (root_fd, path, O_PATH);
  if (fd >= 0)
    {
      *out_fd = fd;
      return 0;
    }
  if (errno != ENOENT)
    return ar_make_error (err, errno, "cannot open `%s` inside the rootfs", path);
  if (create == AR_PATH_NO_CREATE)
    return ar_make_error (err, ENOENT, "cannot open `%s` inside the rootfs", path);

  ret = walk_and_create (root_fd, path, create, &resolved, err);
  if (ret < 0)
    return ret;

  /* The walk found or made every component.  The result is opened with the
   * same confinement, so a symlink swapped in meanwhile still resolves
   * inside the root. */
  fd = ar_openat2_in_root (root_fd, resolved, O_PATH);
  if (fd < 0)
    return ar_make_error (err, errno, "cannot open `%s` (resolved to `/%s`) inside the rootfs", path, resolved);
  *out_fd = fd;
  return 0;
}

int
ar_path_open_parent_in_root (int root_fd, const char *path, bool create_parents, int *parent_fd_out,
                             char **name_out, ar_error_t *err)
{
  cleanup_free char *copy = ar_xstrdup (path);
  cleanup_free char *name = NULL;
  char *slash;
  size_t len = strlen (copy);
  int ret;

  while (len > 1 && copy[len - 1] == '/')
    copy[--len] = '\0';

  slash = strrchr (copy, '/');
  name = ar_xstrdup (slash != NULL ? slash + 1 : copy);
  if (name[0] == '\0' || strcmp (name, ".") == 0 || strcmp (name, "..") == 0)
    return ar_make_error (err, EINVAL, "invalid path `%s`: it must end with a file name", path);

  if (slash != NULL)
    slash[1] = '\0';
  else
    copy[0] = '\0';

  ret = ar_path_open_in_root (root_fd, copy, create_parents ? AR_PATH_CREATE_DIR : AR_PATH_NO_CREATE,
                              parent_fd_out, err);
  if (ret < 0)
    return ret;
  *name_out = ar_steal_ptr (name);
  return 0;
}

static const char *
skip_separators (const char *p)
{
  for (;;)
    {
      if (*p == '/')
        p++;
      else if (p[0] == '.' && (p[1] == '/' || p[1] == '\0'))
        p++;
      else
        return p;
    }
}

bool
ar_path_is (const char *path, const char *canonical)
{
  const char *p = path;
  const char *c = canonical;

  /* Compares component by component, ignoring repeated slashes, "." and a
   * trailing slash, so "//dev/./" is "/dev". */
  for (;;)
    {
      p = skip_separators (p);
      c = skip_separators (c);
      if (*p == '\0' || *c == '\0')
        return *p == '\0' && *c == '\0';
      while (*p != '\0' && *p != '/' && *p == *c)
        p++, c++;
      if ((*p != '\0' && *p != '/') || (*c != '\0' && *c != '/'))
        return false;
    }
}

void
ar_format_fd_path (char buf[AR_FD_PATH_SIZE], int fd)
{
  snprintf (buf, AR_FD_PATH_SIZE, "/proc/self/fd/%d", fd);
}
