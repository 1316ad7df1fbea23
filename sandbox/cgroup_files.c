/* Reading and writing cgroup files, and small helpers that every cgroup
 * file shares. */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cgroup_internal.h"
#include "oci/log.h"
#include "oci/util.h"

bool
ar_cgroup_list_contains (const char *list, const char *name)
{
  size_t len = strlen (name);

  if (list == NULL)
    return false;
  for (const char *p = list; *p != '\0';)
    {
      const char *end = strchrnul (p, ',');

      if ((size_t) (end - p) == len && strncmp (p, name, len) == 0)
        return true;
      p = *end == ',' ? end + 1 : end;
    }
  return false;
}

bool
ar_cgroup_lists_equal (const char *a, const char *b)
{
  size_t n_a = 0, n_b = 0;

  for (const char *p = a; *p != '\0'; p++)
    n_a += *p == ',';
  for (const char *p = b; *p != '\0'; p++)
    n_b += *p == ',';
  if (n_a != n_b)
    return false;

  for (const char *p = a; *p != '\0';)
    {
      const char *end = strchrnul (p, ',');
      cleanup_free char *name = strndup (p, (size_t) (end - p));

      if (name == NULL || !ar_cgroup_list_contains (b, name))
        return false;
      p = *end == ',' ? end + 1 : end;
    }
  return true;
}

struct ar_cgroup_hierarchy *
ar_cgroup_v1_hierarchy (const struct ar_cgroup *cgroup, const char *controller)
{
  for (size_t i = 0; i < cgroup->n_hierarchies; i++)
    {
      struct ar_cgroup_hierarchy *h = &cgroup->hierarchies[i];

      if (!h->unified && ar_cgroup_list_contains (h->controllers, controller))
        return h;
    }
  return NULL;
}

const char *
ar_cgroup_v1_dir (const struct ar_cgroup *cgroup, const char *controller)
{
  struct ar_cgroup_hierarchy *h = ar_cgroup_v1_hierarchy (cgroup, controller);

  return h != NULL ? h->dir : NULL;
}

struct ar_cgroup_hierarchy *
ar_cgroup_unified (const struct ar_cgroup *cgroup)
{
  for (size_t i = 0; i < cgroup->n_hierarchies; i++)
    if (cgroup->hierarchies[i].unified)
      return &cgroup->hierarchies[i];
  return NULL;
}

bool
ar_cgroup_file_exists (const char *dir, const char *file)
{
  cleanup_free char *path = ar_xasprintf ("%s/%s", dir, file);

  return access (path, F_OK) == 0;
}

int
ar_cgroup_read (const char *dir, const char *file, char **out, ar_error_t *err)
{
  cleanup_free char *path = ar_xasprintf ("%s/%s", dir, file);

  return ar_read_file (path, out, NULL, err);
}

int
ar_cgroup_write (const char *dir, const char *file, const char *value, ar_error_t *err)
{
  cleanup_free char *path = ar_xasprintf ("%s/%s", dir, file);
  cleanup_close int fd = -1;

  fd = open (path, O_WRONLY | O_CLOEXEC);
  if (fd < 0)
    return ar_make_error (err, errno, "cannot open `%s`", path);

  /* A cgroup file takes one value per write(2); a short write is an error
   * that the kernel reports through errno. */
  if (write (fd, value, strlen (value)) < 0)
    return ar_make_error (err, errno, "cannot write `%s` to `%s`", value, path);
  ar_debug ("cgroup: wrote `%s` to `%s`", value, path);
  return 0;
}

static int
parse_u64_value (const char *text, uint64_t *out)
{
  char *end;
  unsigned long long v;

  while (*text == ' ' || *text == '\t')
    text++;
  if (strncmp (text, "max", 3) == 0 && (text[3] == '\0' || text[3] == '\n' || text[3] == ' '))
    {
      *out = UINT64_MAX;
      return 0;
    }
  errno = 0;
  v = strtoull (text, &end, 10);
  if (errno != 0 || end == text || (*end != '\0' && *end != '\n' && *end != ' '))
    return -EINVAL;
  *out = v;
  return 0;
}

int
ar_cgroup_read_u64 (const char *dir, const char *file, uint64_t *out, ar_error_t *err)
{
  cleanup_free char *text = NULL;
  int ret;

  ret = ar_cgroup_read (dir, file, &text, err);
  if (ret < 0)
    return ret;
  if (parse_u64_value (text, out) < 0)
    return ar_make_error (err, EINVAL, "cannot parse `%s/%s`: unexpected content `%.40s`", dir, file, text);
  return 0;
}

int
ar_cgroup_read_keyed (const char *dir, const char *file, const char *key, uint64_t *out, ar_error_t *err)
{
  cleanup_free char *text = NULL;
  size_t key_len = strlen (key);
  int ret;

  ret = ar_cgroup_read (dir, file, &text, err);
  if (ret < 0)
    return ret;

  for (char *line = text; line != NULL && *line != '\0';)
    {
      char *next = strchr (line, '\n');

      if (next != NULL)
        *next++ = '\0';
      if (strncmp (line, key, key_len) == 0 && line[key_len] == ' ')
        {
          if (parse_u64_value (line + key_len + 1, out) < 0)
            return ar_make_error (err, EINVAL, "cannot parse `%s` in `%s/%s`", key, dir, file);
          return 0;
        }
      line = next;
    }
  return -ENOENT;
}

void
ar_cgroup_move_error (ar_error_t *dst, ar_error_t *src)
{
  struct ar_error *inner;

  if (*src == NULL)
    return;
  if (dst == NULL)
    {
      ar_error_release (src);
      return;
    }
  for (inner = *src; inner->cause != NULL; inner = inner->cause)
    ;
  inner->cause = *dst;
  *dst = *src;
  *src = NULL;
}

void
ar_cgroup_sleep_ms (unsigned int ms)
{
  struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (long) (ms % 1000) * 1000000L };

  while (nanosleep (&ts, &ts) < 0 && errno == EINTR)
    ;
}

static void
append_pid (pid_t **pids, size_t *n, size_t *cap, pid_t pid)
{
  if (*n == *cap)
    {
      pid_t *bigger;

      *cap = *cap ? *cap * 2 : 16;
      bigger = realloc (*pids, *cap * sizeof (pid_t));
      if (bigger == NULL)
        abort ();
      *pids = bigger;
    }
  (*pids)[(*n)++] = pid;
}

static int
read_fd (int fd, const char *path, char **out, ar_error_t *err)
{
  cleanup_free char *buf = NULL;
  size_t len = 0, cap = 0;

  for (;;)
    {
      ssize_t n;

      if (cap - len < 1024)
        {
          cap = cap ? cap * 2 : 4096;
          buf = realloc (buf, cap + 1);
          if (buf == NULL)
            abort ();
        }
      n = read (fd, buf + len, cap - len);
      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        return ar_make_error (err, errno, "cannot read `%s`", path);
      if (n == 0)
        break;
      len += (size_t) n;
    }
  buf[len] = '\0';
  *out = ar_steal_ptr (buf);
  return 0;
}

static int
collect_pids_rec (const char *dir, pid_t **pids, size_t *n, size_t *cap, int depth, ar_error_t *err)
{
  cleanup_free char *procs = NULL;
  cleanup_free char *procs_path = ar_xasprintf ("%s/cgroup.procs", dir);
  cleanup_close int fd = -1;
  DIR *d;
  struct dirent *de;
  int ret;

  /* A cgroup below the first one may go away while we walk. */
  fd = open (procs_path, O_RDONLY | O_CLOEXEC);
  if (fd < 0 && errno == ENOENT && depth > 0)
    return 0;
  if (fd < 0)
    return ar_make_error (err, errno, "cannot open `%s`", procs_path);
  ret = read_fd (fd, procs_path, &procs, err);
  if (ret < 0)
    return ret;
  for (char *line = procs; *line != '\0';)
    {
      char *next = strchrnul (line, '\n');
      long pid;

      if (*next == '\n')
        *next++ = '\0';
      if (ar_parse_long (line, &pid) == 0 && pid > 0)
        append_pid (pids, n, cap, (pid_t) pid);
      line = next;
    }

  /* Cgroups nest at most a few levels; this bound only stops a loop. */
  if (depth > 64)
    return 0;

  d = opendir (dir);
  if (d == NULL)
    return errno == ENOENT ? 0 : ar_make_error (err, errno, "cannot open `%s`", dir);
  while ((de = readdir (d)) != NULL)
    {
      cleanup_free char *child = NULL;

      if (de->d_type != DT_DIR || strcmp (de->d_name, ".") == 0 || strcmp (de->d_name, "..") == 0)
        continue;
      child = ar_xasprintf ("%s/%s", dir, de->d_name);
      ret = collect_pids_rec (child, pids, n, cap, depth + 1, err);
      if (ret < 0)
        {
          closedir (d);
          return ret;
        }
    }
  closedir (d);
  return 0;
}

int
ar_cgroup_collect_pids (const char *dir, pid_t **pids, size_t *n_pids, ar_error_t *err)
{
  pid_t *list = NULL;
  size_t n = 0, cap = 0;
  int ret;

  ret = collect_pids_rec (dir, &list, &n, &cap, 0, err);
  if (ret < 0)
    {
      free (list);
      return ret;
    }
  *pids = list;
  *n_pids = n;
  return 0;
}
