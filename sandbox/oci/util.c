#define _GNU_SOURCE
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

void
ar_free_ptr (void *ptr)
{
  free (*(void **) ptr);
}

void
ar_close_ptr (int *fd)
{
  if (*fd >= 0)
    {
      int saved_errno = errno;
      close (*fd);
      errno = saved_errno;
    }
}

void
ar_fclose_ptr (FILE **f)
{
  if (*f != NULL)
    fclose (*f);
}

void
ar_strv_free_ptr (char ***strv)
{
  ar_strv_free (*strv);
}

void *
ar_xmalloc0 (size_t size)
{
  void *p = calloc (1, size ? size : 1);
  if (p == NULL)
    abort ();
  return p;
}

char *
ar_xstrdup (const char *s)
{
  char *p;

  if (s == NULL)
    return NULL;
  p = strdup (s);
  if (p == NULL)
    abort ();
  return p;
}

char *
ar_xasprintf (const char *fmt, ...)
{
  va_list ap;
  char *out;

  va_start (ap, fmt);
  if (vasprintf (&out, fmt, ap) < 0)
    abort ();
  va_end (ap);
  return out;
}

size_t
ar_strv_len (char *const *strv)
{
  size_t n = 0;

  while (strv != NULL && strv[n] != NULL)
    n++;
  return n;
}

void
ar_strv_free (char **strv)
{
  if (strv == NULL)
    return;
  for (size_t i = 0; strv[i] != NULL; i++)
    free (strv[i]);
  free (strv);
}

char **
ar_strv_dup (char *const *strv)
{
  size_t n = ar_strv_len (strv);
  char **out = ar_xmalloc0 ((n + 1) * sizeof (char *));

  for (size_t i = 0; i < n; i++)
    out[i] = ar_xstrdup (strv[i]);
  return out;
}

ssize_t
ar_write_all (int fd, const void *buf, size_t len)
{
  const char *p = buf;
  size_t done = 0;

  while (done < len)
    {
      ssize_t n = write (fd, p + done, len - done);
      if (n < 0)
        {
          if (errno == EINTR)
            continue;
          return -1;
        }
      done += (size_t) n;
    }
  return (ssize_t) done;
}

ssize_t
ar_read_all (int fd, void *buf, size_t len)
{
  char *p = buf;
  size_t done = 0;

  while (done < len)
    {
      ssize_t n = read (fd, p + done, len - done);
      if (n < 0)
        {
          if (errno == EINTR)
            continue;
          return -1;
        }
      if (n == 0)
        break;
      done += (size_t) n;
    }
  return (ssize_t) done;
}

int
ar_read_file_at (int dirfd, const char *path, char **out, size_t *len_out, ar_error_t *err)
{
  cleanup_close int fd = -1;
  cleanup_free char *buf = NULL;
  size_t len = 0, cap = 0;

  fd = openat (dirfd, path, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return ar_make_error (err, errno, "cannot open `%s`", path);

  for (;;)
    {
      ssize_t n;

      if (cap - len < 4096)
        {
          char *bigger;
          cap = cap ? cap * 2 : 8192;
          bigger = realloc (buf, cap + 1);
          if (bigger == NULL)
            return ar_make_error (err, ENOMEM, "cannot read `%s`", path);
          buf = bigger;
        }
      n = read (fd, buf + len, cap - len);
      if (n < 0)
        {
          if (errno == EINTR)
            continue;
          return ar_make_error (err, errno, "cannot read `%s`", path);
        }
      if (n == 0)
        break;
      len += (size_t) n;
    }

  buf[len] = '\0';
  if (len_out)
    *len_out = len;
  *out = ar_steal_ptr (buf);
  return 0;
}

int
ar_read_file (const char *path, char **out, size_t *len_out, ar_error_t *err)
{
  return ar_read_file_at (AT_FDCWD, path, out, len_out, err);
}

int
ar_write_file_at (int dirfd, const char *path, const void *data, size_t len, ar_error_t *err)
{
  cleanup_close int fd = -1;

  fd = openat (dirfd, path, O_WRONLY | O_CLOEXEC);
  if (fd < 0)
    return ar_make_error (err, errno, "cannot open `%s` for writing", path);
  if (ar_write_all (fd, data, len) < 0)
    return ar_make_error (err, errno, "cannot write `%s`", path);
  return 0;
}

int
ar_write_file (const char *path, const void *data, size_t len, ar_error_t *err)
{
  return ar_write_file_at (AT_FDCWD, path, data, len, err);
}

int
ar_write_file_atomic (const char *path, const void *data, size_t len, mode_t mode, ar_error_t *err)
{
  cleanup_free char *tmp = ar_xasprintf ("%s.tmp.%d", path, (int) getpid ());
  cleanup_close int fd = -1;

  fd = open (tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
  if (fd < 0)
    return ar_make_error (err, errno, "cannot create `%s`", tmp);

  /* No fsync: the rename alone makes the replacement atomic for every
   * reader and against a crash of this process, and the runtime's state
   * (under /run) does not outlive a reboot, so a power loss needs no
   * ordering.  An fsync cost 5-20 ms per write on a disk-backed root. */
  if (ar_write_all (fd, data, len) < 0)
    {
      int saved = errno;
      unlink (tmp);
      return ar_make_error (err, saved, "cannot write `%s`", tmp);
    }

  if (rename (tmp, path) < 0)
    {
      int saved = errno;
      unlink (tmp);
      return ar_make_error (err, saved, "cannot rename `%s` to `%s`", tmp, path);
    }
  return 0;
}

int
ar_mkdir_p (const char *path, mode_t mode, ar_error_t *err)
{
  cleanup_free char *copy = ar_xstrdup (path);

  for (char *p = copy + 1; *p; p++)
    {
      if (*p != '/')
        continue;
      *p = '\0';
      if (mkdir (copy, mode) < 0 && errno != EEXIST)
        return ar_make_error (err, errno, "cannot create directory `%s`", copy);
      *p = '/';
    }
  if (mkdir (copy, mode) < 0 && errno != EEXIST)
    return ar_make_error (err, errno, "cannot create directory `%s`", copy);
  return 0;
}

int
ar_parse_long (const char *s, long *out)
{
  char *end;
  long v;

  if (s == NULL || *s == '\0')
    return -EINVAL;
  errno = 0;
  v = strtol (s, &end, 10);
  if (errno != 0 || *end != '\0')
    return -EINVAL;
  *out = v;
  return 0;
}

bool
ar_str_has_prefix (const char *s, const char *prefix)
{
  return strncmp (s, prefix, strlen (prefix)) == 0;
}
