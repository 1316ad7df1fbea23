/* tmpcopyup: copies what a directory of the image held into the tmpfs
 * just mounted over it.  Every entry is opened relative to its parent's fd
 * with O_NOFOLLOW, so a symlink in the image is copied as a symlink and
 * never followed. */
#define _GNU_SOURCE
#include "rootfs_internal.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "oci/util.h"

/* Deeper trees are rejected instead of running out of file descriptors. */
#define MAX_DEPTH 128

static void
closedir_ptr (DIR **dir)
{
  if (*dir != NULL)
    closedir (*dir);
}

static int
copy_file_content (int src_fd, int dst_fd, const char *name, ar_error_t *err)
{
  char buf[65536];

  for (;;)
    {
      ssize_t n = read (src_fd, buf, sizeof (buf));

      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        return ar_make_error (err, errno, "cannot read `%s`", name);
      if (n == 0)
        return 0;
      if (ar_write_all (dst_fd, buf, (size_t) n) < 0)
        return ar_make_error (err, errno, "cannot write `%s`", name);
    }
}

/* Gives dst_dir_fd/name the owner, mode and times of st. */
static int
copy_attributes (int dst_dir_fd, const char *name, const struct stat *st, ar_error_t *err)
{
  struct timespec times[2] = { st->st_atim, st->st_mtim };

  if (fchownat (dst_dir_fd, name, st->st_uid, st->st_gid, AT_SYMLINK_NOFOLLOW) < 0)
    return ar_make_error (err, errno, "cannot change the owner of `%s`", name);

  /* Linux has no modes on symlinks.  chmod comes after chown, which clears
   * the setuid and setgid bits. */
  if (!S_ISLNK (st->st_mode) && fchmodat (dst_dir_fd, name, st->st_mode & 07777, 0) < 0)
    return ar_make_error (err, errno, "cannot change the mode of `%s`", name);

  if (utimensat (dst_dir_fd, name, times, AT_SYMLINK_NOFOLLOW) < 0)
    return ar_make_error (err, errno, "cannot set the times of `%s`", name);
  return 0;
}

static int copy_tree (int src_dir_fd, int dst_dir_fd, int depth, ar_error_t *err);

static int
copy_entry (int src_dir_fd, int dst_dir_fd, const char *name, int depth, ar_error_t *err)
{
  struct stat st;
  int ret;

  if (fstatat (src_dir_fd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
    return ar_make_error (err, errno, "cannot stat `%s`", name);

  if (S_ISDIR (st.st_mode))
    {
      cleanup_close int src_fd = -1;
      cleanup_close int dst_fd = -1;

      if (mkdirat (dst_dir_fd, name, 0700) < 0 && errno != EEXIST)
        return ar_make_error (err, errno, "cannot create directory `%s`", name);
      src_fd = openat (src_dir_fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
      if (src_fd < 0)
        return ar_make_error (err, errno, "cannot open directory `%s`", name);
      dst_fd = openat (dst_dir_fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
      if (dst_fd < 0)
        return ar_make_error (err, errno, "cannot open the copy of directory `%s`", name);
      ret = copy_tree (src_fd, dst_fd, depth + 1, err);
      if (ret < 0)
        return ar_error_wrap (err, "in `%s`", name);
    }
  else if (S_ISREG (st.st_mode))
    {
      cleanup_close int src_fd = -1;
      cleanup_close int dst_fd = -1;

      src_fd = openat (src_dir_fd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
      if (src_fd < 0)
        return ar_make_error (err, errno, "cannot open `%s`", name);
      dst_fd = openat (dst_dir_fd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
      if (dst_fd < 0)
        return ar_make_error (err, errno, "cannot create `%s`", name);
      ret = copy_file_content (src_fd, dst_fd, name, err);
      if (ret < 0)
        return ret;
    }
  else if (S_ISLNK (st.st_mode))
    {
      char target[PATH_MAX];
      ssize_t len = readlinkat (src_dir_fd, name, target, sizeof (target) - 1);

      if (len < 0)
        return ar_make_error (err, errno, "cannot read symlink `%s`", name);
      target[len] = '\0';
      if (symlinkat (target, dst_dir_fd, name) < 0)
        return ar_make_error (err, errno, "cannot create symlink `%s`", name);
    }
  else
    {
      /* Device nodes, FIFOs and sockets. */
      if (mknodat (dst_dir_fd, name, (st.st_mode & S_IFMT) | 0600, st.st_rdev) < 0)
        return ar_make_error (err, errno, "cannot create special file `%s`", name);
    }

  return copy_attributes (dst_dir_fd, name, &st, err);
}

static int
copy_tree (int src_dir_fd, int dst_dir_fd, int depth, ar_error_t *err)
{
  __attribute__ ((cleanup (closedir_ptr))) DIR *dir = NULL;
  int dir_fd;

  if (depth > MAX_DEPTH)
    return ar_make_error (err, ELOOP, "the directory tree is deeper than %d levels", MAX_DEPTH);

  /* fdopendir takes over the fd, and the caller keeps its own. */
  dir_fd = openat (src_dir_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir_fd < 0)
    return ar_make_error (err, errno, "cannot open directory");
  dir = fdopendir (dir_fd);
  if (dir == NULL)
    {
      int saved = errno;
      close (dir_fd);
      return ar_make_error (err, saved, "cannot read directory");
    }

  for (;;)
    {
      struct dirent *entry;
      int ret;

      errno = 0;
      entry = readdir (dir);
      if (entry == NULL)
        {
          if (errno != 0)
            return ar_make_error (err, errno, "cannot read directory");
          return 0;
        }
      if (strcmp (entry->d_name, ".") == 0 || strcmp (entry->d_name, "..") == 0)
        continue;

      ret = copy_entry (src_dir_fd, dst_dir_fd, entry->d_name, depth, err);
      if (ret < 0)
        return ret;
    }
}

int
ar_rootfs_copy_tree (int src_dir_fd, int dst_dir_fd, ar_error_t *err)
{
  /* NOTE: hard links become separate copies, and extended attributes
   * (security.capability, SELinux labels) are not copied. */
  return copy_tree (src_dir_fd, dst_dir_fd, 0, err);
}
