/* The cgroup interface: layout detection, the cgroupsPath rules, creating,
 * joining and removing the container's directories, and the state file
 * form.  Resource settings live in cgroup_apply.c and the per-version
 * files; freezing, killing and listing in cgroup_control.c. */
#define _GNU_SOURCE
#include "cgroup.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <time.h>
#include <unistd.h>

#include "cgroup_internal.h"
#include "oci/log.h"
#include "oci/util.h"

/* Where a container goes when config.json has no cgroupsPath. */
#define DEFAULT_PARENT "/agentrun"

/* rmdir of a cgroup fails with EBUSY until the last killed process has
 * left it; this bounds the wait (200 tries, 10 ms apart). */
#define RMDIR_TRIES 200
#define RMDIR_SLEEP_MS 10

const char *
ar_cgroup_layout_name (enum ar_cgroup_layout layout)
{
  switch (layout)
    {
    case AR_CGROUP_LAYOUT_V1:
      return "v1";
    case AR_CGROUP_LAYOUT_HYBRID:
      return "hybrid";
    case AR_CGROUP_LAYOUT_V2:
      return "v2";
    }
  return "unknown";
}

static int
layout_from_name (const char *name, enum ar_cgroup_layout *out)
{
  for (int l = AR_CGROUP_LAYOUT_V1; l <= AR_CGROUP_LAYOUT_V2; l++)
    if (strcmp (name, ar_cgroup_layout_name (l)) == 0)
      {
        *out = l;
        return 0;
      }
  return -EINVAL;
}

/* --- Small helpers shared by the cgroup files ------------------------- */

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

/* Whether two comma-separated lists hold the same names in any order. */
static bool
lists_equal (const char *a, const char *b)
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

/* --- Mounts and layout ------------------------------------------------- */

/* Decodes the \ooo escapes that mountinfo uses for spaces and such. */
static char *
unescape_mountinfo (const char *s)
{
  char *out = ar_xmalloc0 (strlen (s) + 1);
  char *o = out;

  while (*s != '\0')
    {
      if (s[0] == '\\' && s[1] >= '0' && s[1] <= '3' && s[2] >= '0' && s[2] <= '7' && s[3] >= '0' && s[3] <= '7')
        {
          *o++ = (char) (((s[1] - '0') << 6) | ((s[2] - '0') << 3) | (s[3] - '0'));
          s += 4;
        }
      else
        *o++ = *s++;
    }
  return out;
}

/* Keeps the controller names of a v1 super-block option list, dropping
 * the other options that cgroup v1 mounts show there. */
static char *
controllers_from_options (const char *options)
{
  static const char *const not_controllers[] = { "rw", "ro", "sync", "dirsync", "mand", "lazytime", "noprefix",
                                                 "clone_children", "cpuset_v2_mode", "xattr", "favordynmods",
                                                 "none", "all", NULL };
  cleanup_free char *copy = ar_xstrdup (options);
  char *out = ar_xmalloc0 (strlen (options) + 1);
  char *saveptr = NULL;

  for (char *opt = strtok_r (copy, ",", &saveptr); opt != NULL; opt = strtok_r (NULL, ",", &saveptr))
    {
      bool skip = ar_str_has_prefix (opt, "release_agent=");

      for (size_t i = 0; not_controllers[i] != NULL && !skip; i++)
        skip = strcmp (opt, not_controllers[i]) == 0;
      if (skip)
        continue;
      if (*out != '\0')
        strcat (out, ",");
      strcat (out, opt);
    }
  return out;
}

static void
add_mount (struct ar_cgroup_mounts *mounts, bool unified, char *controllers, char *mountpoint, char *root)
{
  bool preferred = ar_str_has_prefix (mountpoint, "/sys/fs/cgroup");
  struct ar_cgroup_mount_entry *e;

  for (size_t i = 0; i < mounts->n_entries; i++)
    {
      e = &mounts->entries[i];
      if (e->unified != unified || (!unified && !lists_equal (e->controllers, controllers)))
        continue;

      /* The same hierarchy again: keep the mount under /sys/fs/cgroup. */
      if (preferred && !ar_str_has_prefix (e->mountpoint, "/sys/fs/cgroup"))
        {
          free (e->controllers);
          free (e->mountpoint);
          free (e->root);
          e->controllers = controllers;
          e->mountpoint = mountpoint;
          e->root = root;
          return;
        }
      free (controllers);
      free (mountpoint);
      free (root);
      return;
    }

  mounts->entries = realloc (mounts->entries, (mounts->n_entries + 1) * sizeof (*mounts->entries));
  if (mounts->entries == NULL)
    abort ();
  e = &mounts->entries[mounts->n_entries++];
  e->unified = unified;
  e->controllers = controllers;
  e->mountpoint = mountpoint;
  e->root = root;
}

/* Whether mountpoint still shows the mount with device major:minor, and
 * not a later mount on top of it or above it. */
static bool
mount_visible (const char *mountpoint, const char *major_minor)
{
  unsigned int major, minor;
  struct stat st;

  if (sscanf (major_minor, "%u:%u", &major, &minor) != 2 || stat (mountpoint, &st) < 0)
    return false;
  return st.st_dev == makedev (major, minor);
}

int
ar_cgroup_parse_mountinfo (const char *text, bool check_visible, struct ar_cgroup_mounts *out, ar_error_t *err)
{
  cleanup_free char *copy = ar_xstrdup (text);
  struct ar_cgroup_mounts mounts = { 0 };
  char *line_save = NULL;

  for (char *line = strtok_r (copy, "\n", &line_save); line != NULL; line = strtok_r (NULL, "\n", &line_save))
    {
      char *fields[64];
      size_t n = 0, sep = 0;
      char *field_save = NULL;
      const char *fstype;

      for (char *f = strtok_r (line, " ", &field_save); f != NULL && n < 64; f = strtok_r (NULL, " ", &field_save))
        fields[n++] = f;

      /* id parent major:minor root mountpoint options [optional...] - fstype source super-options */
      for (size_t i = 6; i < n; i++)
        if (strcmp (fields[i], "-") == 0)
          {
            sep = i;
            break;
          }
      if (sep == 0 || sep + 3 >= n)
        continue;

      fstype = fields[sep + 1];
      if (strcmp (fstype, "cgroup2") != 0 && strcmp (fstype, "cgroup") != 0)
        continue;
      if (check_visible)
        {
          cleanup_free char *mountpoint = unescape_mountinfo (fields[4]);

          if (!mount_visible (mountpoint, fields[2]))
            continue;
        }

      if (strcmp (fstype, "cgroup2") == 0)
        add_mount (&mounts, true, NULL, unescape_mountinfo (fields[4]), unescape_mountinfo (fields[3]));
      else if (strcmp (fstype, "cgroup") == 0)
        {
          char *controllers = controllers_from_options (fields[sep + 3]);

          if (*controllers == '\0')
            {
              free (controllers);
              continue;
            }
          add_mount (&mounts, false, controllers, unescape_mountinfo (fields[4]), unescape_mountinfo (fields[3]));
        }
    }

  if (mounts.n_entries == 0)
    return ar_make_error (err, ENOENT, "no cgroup filesystem is mounted; mount cgroup2 on /sys/fs/cgroup");
  *out = mounts;
  return 0;
}

void
ar_cgroup_mounts_clear (struct ar_cgroup_mounts *mounts)
{
  for (size_t i = 0; i < mounts->n_entries; i++)
    {
      free (mounts->entries[i].controllers);
      free (mounts->entries[i].mountpoint);
      free (mounts->entries[i].root);
    }
  free (mounts->entries);
  mounts->entries = NULL;
  mounts->n_entries = 0;
}

static bool
has_real_controller (const char *controllers)
{
  for (const char *p = controllers; *p != '\0';)
    {
      const char *end = strchrnul (p, ',');

      if (!ar_str_has_prefix (p, "name="))
        return true;
      p = *end == ',' ? end + 1 : end;
    }
  return false;
}

int
ar_cgroup_layout_of_mounts (const struct ar_cgroup_mounts *mounts, enum ar_cgroup_layout *out, ar_error_t *err)
{
  bool v1 = false, v2 = false;

  for (size_t i = 0; i < mounts->n_entries; i++)
    {
      if (mounts->entries[i].unified)
        v2 = true;
      else if (has_real_controller (mounts->entries[i].controllers))
        v1 = true;
    }

  if (v1)
    *out = v2 ? AR_CGROUP_LAYOUT_HYBRID : AR_CGROUP_LAYOUT_V1;
  else if (v2)
    *out = AR_CGROUP_LAYOUT_V2;
  else
    return ar_make_error (err, ENOENT, "no cgroup controller is mounted, only named cgroup v1 hierarchies");
  return 0;
}

static int
read_mounts (struct ar_cgroup_mounts *mounts, enum ar_cgroup_layout *layout, ar_error_t *err)
{
  cleanup_free char *text = NULL;
  int ret;

  ret = ar_read_file ("/proc/self/mountinfo", &text, NULL, err);
  if (ret < 0)
    return ret;
  ret = ar_cgroup_parse_mountinfo (text, true, mounts, err);
  if (ret < 0)
    return ret;
  ret = ar_cgroup_layout_of_mounts (mounts, layout, err);
  if (ret < 0)
    ar_cgroup_mounts_clear (mounts);
  return ret;
}

int
ar_cgroup_detect_layout (enum ar_cgroup_layout *out, ar_error_t *err)
{
  struct ar_cgroup_mounts mounts = { 0 };
  int ret;

  ret = read_mounts (&mounts, out, err);
  if (ret < 0)
    return ret;
  ar_cgroup_mounts_clear (&mounts);
  return 0;
}

/* --- Path rules --------------------------------------------------------- */

/* Turns a cgroupsPath into "/a/b": empty and "." components dropped, ".."
 * rejected so the path cannot leave the hierarchy. */
static int
normalize_path (const char *path, char **out, ar_error_t *err)
{
  cleanup_free char *copy = ar_xstrdup (path);
  char *result = ar_xmalloc0 (strlen (path) + 2);
  char *saveptr = NULL;

  for (char *c = strtok_r (copy, "/", &saveptr); c != NULL; c = strtok_r (NULL, "/", &saveptr))
    {
      if (strcmp (c, ".") == 0)
        continue;
      if (strcmp (c, "..") == 0)
        {
          free (result);
          return ar_make_error (err, 0, "linux.cgroupsPath `%s`: `..` is not allowed", path);
        }
      strcat (result, "/");
      strcat (result, c);
    }
  if (*result == '\0')
    {
      free (result);
      return ar_make_error (err, 0,
                            "linux.cgroupsPath `%s`: names the root cgroup; use a path such as /agentrun/ID", path);
    }
  *out = result;
  return 0;
}

/* "slice:prefix:name", the form that runc's and crun's systemd drivers
 * take. */
static bool
is_systemd_path (const char *path)
{
  const char *first = strchr (path, ':');

  return path[0] != '/' && first != NULL && strchr (first + 1, ':') != NULL
         && strchr (strchr (first + 1, ':') + 1, ':') == NULL;
}

static int
check_systemd (const char *cgroups_path, bool use_systemd, ar_error_t *err)
{
  bool systemd_running;
  cleanup_free char *comm = NULL;
  ar_error_t ignored = NULL;

  if (!use_systemd && (cgroups_path == NULL || !is_systemd_path (cgroups_path)))
    return 0;

  /* sd_booted(3) tests the same directory. */
  systemd_running = access ("/run/systemd/system", F_OK) == 0;
  if (!systemd_running)
    {
      if (ar_read_file ("/proc/1/comm", &comm, NULL, &ignored) < 0)
        ar_error_release (&ignored);
      else
        comm[strcspn (comm, "\n")] = '\0';
    }

  /* TODO: a systemd cgroup driver (transient scopes over D-Bus). */
  if (use_systemd && !systemd_running)
    return ar_make_error (err, 0,
                          "--systemd-cgroup: systemd is not running on this host (PID 1 is `%s`); "
                          "drop the option to use the cgroupfs driver",
                          comm != NULL ? comm : "unknown");
  if (!systemd_running)
    return ar_make_error (err, 0,
                          "linux.cgroupsPath `%s`: a systemd path (slice:prefix:name) needs systemd, which is "
                          "not running on this host (PID 1 is `%s`); use a cgroupfs path such as /agentrun/ID",
                          cgroups_path, comm != NULL ? comm : "unknown");
  if (use_systemd)
    return ar_make_error (err, 0,
                          "--systemd-cgroup: the systemd cgroup driver is not supported yet; drop the option "
                          "to use the cgroupfs driver");
  return ar_make_error (err, 0,
                        "linux.cgroupsPath `%s`: systemd paths (slice:prefix:name) need the systemd cgroup driver, "
                        "which is not supported yet; use a cgroupfs path such as /agentrun/ID",
                        cgroups_path);
}

/* This process's cgroup in the hierarchy of mount m, relative to the
 * mount's root, from /proc/self/cgroup. */
static int
own_cgroup (const struct ar_cgroup_mount_entry *m, char **out, ar_error_t *err)
{
  cleanup_free char *text = NULL;
  int ret;

  ret = ar_read_file ("/proc/self/cgroup", &text, NULL, err);
  if (ret < 0)
    return ret;

  for (char *line = text; *line != '\0';)
    {
      char *next = strchrnul (line, '\n');
      char *controllers, *path;
      size_t root_len;

      if (*next == '\n')
        *next++ = '\0';
      controllers = strchr (line, ':');
      path = controllers != NULL ? strchr (controllers + 1, ':') : NULL;
      if (path == NULL)
        {
          line = next;
          continue;
        }
      *controllers++ = '\0';
      *path++ = '\0';

      if (m->unified ? (strcmp (line, "0") != 0 || *controllers != '\0') : !lists_equal (controllers, m->controllers))
        {
          line = next;
          continue;
        }

      root_len = strcmp (m->root, "/") == 0 ? 0 : strlen (m->root);
      if (root_len > 0 && (strncmp (path, m->root, root_len) != 0 || (path[root_len] != '/' && path[root_len] != '\0')))
        return ar_make_error (err, ENOENT,
                              "this process's cgroup `%s` is outside the part of the hierarchy mounted on `%s`; "
                              "use an absolute linux.cgroupsPath",
                              path, m->mountpoint);
      *out = ar_xstrdup (path[root_len] == '\0' ? "/" : path + root_len);
      return 0;
    }
  return ar_make_error (err, ENOENT, "/proc/self/cgroup has no line for the `%s` hierarchy",
                        m->unified ? "cgroup2" : m->controllers);
}

static void
hierarchy_clear (struct ar_cgroup_hierarchy *h)
{
  free (h->controllers);
  free (h->mountpoint);
  free (h->path);
  free (h->dir);
  ar_strv_free (h->created);
  memset (h, 0, sizeof (*h));
}

void
ar_cgroup_free (struct ar_cgroup *cgroup)
{
  if (cgroup == NULL)
    return;
  for (size_t i = 0; i < cgroup->n_hierarchies; i++)
    hierarchy_clear (&cgroup->hierarchies[i]);
  free (cgroup->hierarchies);
  free (cgroup);
}

static void
cgroup_release (struct ar_cgroup **cgroup)
{
  ar_cgroup_free (*cgroup);
}

static void
mounts_release (struct ar_cgroup_mounts *mounts)
{
  ar_cgroup_mounts_clear (mounts);
}

static struct ar_cgroup_hierarchy *
add_hierarchy (struct ar_cgroup *cgroup)
{
  struct ar_cgroup_hierarchy *h;

  cgroup->hierarchies = realloc (cgroup->hierarchies, (cgroup->n_hierarchies + 1) * sizeof (*h));
  if (cgroup->hierarchies == NULL)
    abort ();
  h = &cgroup->hierarchies[cgroup->n_hierarchies++];
  memset (h, 0, sizeof (*h));
  h->created = ar_xmalloc0 (sizeof (char *));
  return h;
}

/* Fills one hierarchy of the new cgroup: the path below the mount is the
 * normalized cgroupsPath, under this process's own cgroup when the
 * cgroupsPath was relative. */
static int
plan_hierarchy (struct ar_cgroup *cgroup, const struct ar_cgroup_mount_entry *m, const char *path, bool relative,
                ar_error_t *err)
{
  struct ar_cgroup_hierarchy *h = add_hierarchy (cgroup);

  h->unified = m->unified;
  h->controllers = ar_xstrdup (m->controllers);
  h->mountpoint = ar_xstrdup (m->mountpoint);
  if (relative)
    {
      cleanup_free char *own = NULL;
      int ret = own_cgroup (m, &own, err);

      if (ret < 0)
        return ret;
      h->path = ar_xasprintf ("%s%s", strcmp (own, "/") == 0 ? "" : own, path);
    }
  else
    h->path = ar_xstrdup (path);
  h->dir = ar_xasprintf ("%s%s", h->mountpoint, h->path);
  return 0;
}

static void
append_created (struct ar_cgroup_hierarchy *h, const char *dir)
{
  size_t n = ar_strv_len (h->created);

  h->created = realloc (h->created, (n + 2) * sizeof (char *));
  if (h->created == NULL)
    abort ();
  h->created[n] = ar_xstrdup (dir);
  h->created[n + 1] = NULL;
}

/* Creates every missing directory from the mount point down to the leaf,
 * recording each one made here. */
static int
make_hierarchy_dirs (struct ar_cgroup_hierarchy *h, ar_error_t *err)
{
  bool has_cpuset = !h->unified && ar_cgroup_list_contains (h->controllers, "cpuset");

  /* A parent that existed may vanish under us when another runtime
   * removes the cgroup it made; walking again recreates it. */
  for (int attempt = 0;; attempt++)
    {
      cleanup_free char *dir = ar_xstrdup (h->mountpoint);
      cleanup_free char *rest = ar_xstrdup (h->path);
      char *saveptr = NULL;
      bool vanished = false;

      for (char *c = strtok_r (rest, "/", &saveptr); c != NULL; c = strtok_r (NULL, "/", &saveptr))
        {
          char *child = ar_xasprintf ("%s/%s", dir, c);
          int ret;

          free (dir);
          dir = child;
          if (mkdir (dir, 0755) == 0)
            {
              ar_debug ("cgroup: created `%s`", dir);
              append_created (h, dir);
            }
          else if (errno == ENOENT && attempt < 3)
            {
              vanished = true;
              break;
            }
          else if (errno != EEXIST)
            return ar_make_error (err, errno, "cannot create cgroup `%s`", dir);

          /* A new v1 cpuset cgroup starts with no CPUs and no memory nodes,
           * and no process can join it until both are set. */
          if (has_cpuset)
            {
              ret = ar_cgroup_v1_init_cpuset (h->mountpoint, dir, err);
              if (ret < 0)
                return ret;
            }
        }
      if (!vanished)
        return 0;
    }
}

/* Refuses a cgroup that already has processes: another container may be
 * using that cgroupsPath. */
static int
check_leaf_unused (const struct ar_cgroup *cgroup, ar_error_t *err)
{
  for (size_t i = 0; i < cgroup->n_hierarchies; i++)
    {
      const struct ar_cgroup_hierarchy *h = &cgroup->hierarchies[i];
      cleanup_free char *procs = NULL;
      ar_error_t ignored = NULL;

      if (ar_cgroup_read (h->dir, "cgroup.procs", &procs, &ignored) < 0)
        {
          ar_error_release (&ignored);
          continue;
        }
      if (procs[strspn (procs, " \n")] != '\0')
        return ar_make_error (err, EBUSY,
                              "cgroup `%s` already exists and contains processes; choose another linux.cgroupsPath "
                              "or delete the container that uses it",
                              h->dir);
    }
  return 0;
}

static int remove_created (struct ar_cgroup *cgroup, ar_error_t *err);

int
ar_cgroup_create (const char *id, const char *cgroups_path, bool use_systemd, const struct ar_resources *resources,
                  struct ar_cgroup **out, ar_error_t *err)
{
  __attribute__ ((cleanup (mounts_release))) struct ar_cgroup_mounts mounts = { 0 };
  __attribute__ ((cleanup (cgroup_release))) struct ar_cgroup *cgroup = NULL;
  cleanup_free char *path = NULL;
  enum ar_cgroup_layout layout;
  bool relative;
  int ret;

  ret = check_systemd (cgroups_path, use_systemd, err);
  if (ret < 0)
    return ret;

  ret = read_mounts (&mounts, &layout, err);
  if (ret < 0)
    return ret;

  if (cgroups_path == NULL || *cgroups_path == '\0')
    {
      if (id == NULL || *id == '\0' || strchr (id, '/') != NULL || strcmp (id, ".") == 0 || strcmp (id, "..") == 0)
        return ar_make_error (err, 0, "invalid container id `%s` for a cgroup name", id ? id : "");
      path = ar_xasprintf ("%s/%s", DEFAULT_PARENT, id);
      relative = false;
    }
  else
    {
      ret = normalize_path (cgroups_path, &path, err);
      if (ret < 0)
        return ret;
      relative = cgroups_path[0] != '/';
    }

  cgroup = ar_xmalloc0 (sizeof (*cgroup));
  cgroup->layout = layout;
  for (size_t i = 0; i < mounts.n_entries; i++)
    {
      const struct ar_cgroup_mount_entry *m = &mounts.entries[i];

      if (layout == AR_CGROUP_LAYOUT_V2 && !m->unified)
        continue;
      ret = plan_hierarchy (cgroup, m, path, relative, err);
      if (ret < 0)
        return ret;
    }

  ret = check_leaf_unused (cgroup, err);
  if (ret < 0)
    return ret;

  for (size_t i = 0; i < cgroup->n_hierarchies; i++)
    {
      ret = make_hierarchy_dirs (&cgroup->hierarchies[i], err);
      if (ret < 0)
        break;
    }
  if (ret >= 0)
    ret = ar_cgroup_apply (cgroup, resources, false, err);

  if (ret < 0)
    {
      ar_error_t cleanup_err = NULL;

      if (remove_created (cgroup, &cleanup_err) < 0)
        {
          cleanup_free char *msg = ar_error_format (cleanup_err);
          ar_warn ("cgroup: cleanup after a failed create: %s", msg);
          ar_error_release (&cleanup_err);
        }
      return ret;
    }

  ar_debug ("cgroup: created `%s` for `%s` (%s layout)", path, id ? id : "", ar_cgroup_layout_name (layout));
  *out = ar_steal_ptr (cgroup);
  return 0;
}

enum ar_cgroup_layout
ar_cgroup_get_layout (const struct ar_cgroup *cgroup)
{
  return cgroup->layout;
}

const char *
ar_cgroup_get_path (const struct ar_cgroup *cgroup)
{
  const struct ar_cgroup_hierarchy *h = ar_cgroup_unified (cgroup);

  if (h == NULL && cgroup->n_hierarchies > 0)
    h = &cgroup->hierarchies[0];
  return h != NULL ? h->path : NULL;
}

int
ar_cgroup_update (struct ar_cgroup *cgroup, const struct ar_resources *resources, ar_error_t *err)
{
  return ar_cgroup_apply (cgroup, resources, true, err);
}

int
ar_cgroup_enter (struct ar_cgroup *cgroup, pid_t pid, ar_error_t *err)
{
  char value[32];

  snprintf (value, sizeof (value), "%d", (int) pid);
  for (size_t i = 0; i < cgroup->n_hierarchies; i++)
    {
      const struct ar_cgroup_hierarchy *h = &cgroup->hierarchies[i];
      int ret = ar_cgroup_write (h->dir, "cgroup.procs", value, err);

      if (ret == -ENOSPC && !h->unified)
        return ar_error_wrap (err, "cannot move process %d into cgroup `%s`: its cpuset has no CPUs or memory nodes",
                              (int) pid, h->dir);
      if (ret < 0)
        return ar_error_wrap (err, "cannot move process %d into cgroup `%s`", (int) pid, h->dir);
    }
  return 0;
}

int
ar_cgroup_clone_into_fd (struct ar_cgroup *cgroup, int *fd_out, ar_error_t *err)
{
  const struct ar_cgroup_hierarchy *h = ar_cgroup_unified (cgroup);
  int fd;

  if (cgroup->layout != AR_CGROUP_LAYOUT_V2 || h == NULL)
    {
      *fd_out = -1;
      return 0;
    }
  fd = open (h->dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0)
    return ar_make_error (err, errno, "cannot open cgroup `%s`", h->dir);
  *fd_out = fd;
  return 0;
}

/* --- Removal ------------------------------------------------------------ */

static bool
has_child_cgroups (const char *dir)
{
  DIR *d = opendir (dir);
  struct dirent *de;
  bool found = false;

  if (d == NULL)
    return false;
  while (!found && (de = readdir (d)) != NULL)
    found = de->d_type == DT_DIR && strcmp (de->d_name, ".") != 0 && strcmp (de->d_name, "..") != 0;
  closedir (d);
  return found;
}

/* Removes dir, waiting while killed processes leave it.  A parent that
 * other cgroups use now (has_children) stays, and that is no error. */
static int
rmdir_cgroup (const char *dir, bool is_leaf, ar_error_t *err)
{
  for (int tries = 0;; tries++)
    {
      if (rmdir (dir) == 0)
        {
          ar_debug ("cgroup: removed `%s`", dir);
          return 0;
        }
      if (errno == ENOENT)
        return 0;
      if (errno != EBUSY && errno != ENOTEMPTY)
        return ar_make_error (err, errno, "cannot remove cgroup `%s`", dir);
      if (!is_leaf && has_child_cgroups (dir))
        {
          ar_debug ("cgroup: leaving `%s`, other cgroups use it now", dir);
          return 1;
        }
      if (tries == RMDIR_TRIES)
        return ar_make_error (err, EBUSY, "cannot remove cgroup `%s`: processes are still in it", dir);

      /* Stragglers forked while the first kill ran; kill them too. */
      if (is_leaf && tries % 20 == 19)
        {
          pid_t *pids = NULL;
          size_t n = 0;
          ar_error_t ignored = NULL;

          if (ar_cgroup_collect_pids (dir, &pids, &n, &ignored) == 0)
            for (size_t i = 0; i < n; i++)
              kill (pids[i], SIGKILL);
          ar_error_release (&ignored);
          free (pids);
        }
      ar_cgroup_sleep_ms (RMDIR_SLEEP_MS);
    }
}

/* Removes the cgroups that the container made below its own directory,
 * deepest first. */
static int
remove_descendants (const char *dir, int depth, ar_error_t *err)
{
  DIR *d;
  struct dirent *de;
  int ret = 0;

  if (depth > 64)
    return ar_make_error (err, ELOOP, "cgroups below `%s` nest too deep to remove", dir);
  d = opendir (dir);
  if (d == NULL)
    return errno == ENOENT ? 0 : ar_make_error (err, errno, "cannot open `%s`", dir);
  while (ret >= 0 && (de = readdir (d)) != NULL)
    {
      cleanup_free char *child = NULL;

      if (de->d_type != DT_DIR || strcmp (de->d_name, ".") == 0 || strcmp (de->d_name, "..") == 0)
        continue;
      child = ar_xasprintf ("%s/%s", dir, de->d_name);
      ret = remove_descendants (child, depth + 1, err);
      if (ret >= 0)
        ret = rmdir_cgroup (child, true, err);
    }
  closedir (d);
  return ret < 0 ? ret : 0;
}

/* Removes what make_hierarchy_dirs created, deepest first, and forgets
 * each directory that is gone.  Keeps going after an error so one busy
 * hierarchy does not leave the others behind. */
static int
remove_created (struct ar_cgroup *cgroup, ar_error_t *err)
{
  int first_error = 0;

  for (size_t i = 0; i < cgroup->n_hierarchies; i++)
    {
      struct ar_cgroup_hierarchy *h = &cgroup->hierarchies[i];
      size_t n = ar_strv_len (h->created);

      for (size_t j = n; j-- > 0;)
        {
          char *dir = h->created[j];
          bool is_leaf = strcmp (dir, h->dir) == 0;
          int ret = 0;

          if (is_leaf)
            ret = remove_descendants (dir, 0, err);
          if (ret >= 0)
            ret = rmdir_cgroup (dir, is_leaf, err);
          if (ret < 0)
            {
              if (first_error == 0)
                first_error = ret;
              continue;
            }

          /* Removed (or left to the cgroups that use it now): forget it. */
          free (dir);
          memmove (&h->created[j], &h->created[j + 1], (ar_strv_len (&h->created[j + 1]) + 1) * sizeof (char *));
        }
    }
  return first_error;
}

int
ar_cgroup_destroy (struct ar_cgroup *cgroup, ar_error_t *err)
{
  pid_t *pids = NULL;
  size_t n_pids = 0;
  ar_error_t local = NULL;
  int ret;

  if (ar_cgroup_list_pids (cgroup, &pids, &n_pids, &local) == 0 && n_pids > 0)
    {
      ar_debug ("cgroup: killing %zu processes left in `%s`", n_pids, ar_cgroup_get_path (cgroup));
      if (ar_cgroup_kill_all (cgroup, SIGKILL, &local) < 0)
        {
          cleanup_free char *msg = ar_error_format (local);
          ar_debug ("cgroup: %s", msg);
        }
    }
  ar_error_release (&local);
  free (pids);

  ret = remove_created (cgroup, err);
  if (ret < 0)
    return ar_error_wrap (err, "cannot remove the cgroup of `%s`", ar_cgroup_get_path (cgroup));
  return 0;
}

/* --- State file form ---------------------------------------------------- */

json_t *
ar_cgroup_to_json (const struct ar_cgroup *cgroup)
{
  json_t *hierarchies = json_array ();

  for (size_t i = 0; i < cgroup->n_hierarchies; i++)
    {
      const struct ar_cgroup_hierarchy *h = &cgroup->hierarchies[i];
      json_t *created = json_array ();
      json_t *obj;

      for (size_t j = 0; h->created[j] != NULL; j++)
        json_array_append_new (created, json_string (h->created[j]));
      obj = json_pack ("{s:b, s:s, s:s, s:o}", "unified", h->unified, "mountpoint", h->mountpoint, "path", h->path,
                       "created", created);
      if (!h->unified)
        json_object_set_new (obj, "controllers", json_string (h->controllers));
      json_array_append_new (hierarchies, obj);
    }
  return json_pack ("{s:s, s:o}", "layout", ar_cgroup_layout_name (cgroup->layout), "hierarchies", hierarchies);
}

/* Checks that dir lies at or below prefix, with no `..` on the way, so a
 * damaged state file cannot make destroy remove other directories. */
static bool
is_below (const char *dir, const char *prefix, bool allow_equal)
{
  size_t len = strlen (prefix);

  if (strncmp (dir, prefix, len) != 0)
    return false;
  if (dir[len] == '\0')
    return allow_equal;
  if (dir[len] != '/' || strstr (dir + len, "/..") != NULL || strstr (dir + len, "//") != NULL)
    return false;
  return true;
}

static int
hierarchy_from_json (json_t *obj, size_t index, struct ar_cgroup *cgroup, ar_error_t *err)
{
  struct ar_cgroup_hierarchy *h = add_hierarchy (cgroup);
  const char *mountpoint = NULL, *path = NULL, *controllers = NULL;
  json_t *created = NULL, *item;
  int unified = 0;
  size_t j;

  if (json_unpack (obj, "{s:b, s:s, s:s, s:o, s?s}", "unified", &unified, "mountpoint", &mountpoint, "path", &path,
                   "created", &created, "controllers", &controllers)
          < 0
      || !json_is_array (created) || mountpoint[0] != '/' || path[0] != '/' || (!unified && controllers == NULL))
    return ar_make_error (err, 0, "cgroup state: hierarchies[%zu] is malformed", index);

  h->unified = unified;
  h->controllers = ar_xstrdup (controllers);
  h->mountpoint = ar_xstrdup (mountpoint);
  h->path = ar_xstrdup (path);
  h->dir = ar_xasprintf ("%s%s", mountpoint, strcmp (path, "/") == 0 ? "" : path);
  if (!is_below (h->dir, h->mountpoint, true))
    return ar_make_error (err, 0, "cgroup state: hierarchies[%zu].path `%s` leaves `%s`", index, path,
                          mountpoint);

  json_array_foreach (created, j, item)
    {
      const char *dir = json_string_value (item);

      if (dir == NULL || !is_below (dir, h->mountpoint, false) || !is_below (h->dir, dir, true))
        return ar_make_error (err, 0,
                              "cgroup state: hierarchies[%zu].created[%zu] is not a directory between `%s` and `%s`",
                              index, j, h->mountpoint, h->dir);
      append_created (h, dir);
    }
  return 0;
}

int
ar_cgroup_from_json (json_t *json, struct ar_cgroup **out, ar_error_t *err)
{
  __attribute__ ((cleanup (cgroup_release))) struct ar_cgroup *cgroup = NULL;
  const char *layout = NULL;
  json_t *hierarchies = NULL, *item;
  size_t i;
  int ret;

  if (json_unpack (json, "{s:s, s:o}", "layout", &layout, "hierarchies", &hierarchies) < 0
      || !json_is_array (hierarchies))
    return ar_make_error (err, 0, "cgroup state: expected an object with `layout` and `hierarchies`");

  cgroup = ar_xmalloc0 (sizeof (*cgroup));
  if (layout_from_name (layout, &cgroup->layout) < 0)
    return ar_make_error (err, 0, "cgroup state: unknown layout `%s`", layout);

  json_array_foreach (hierarchies, i, item)
    {
      ret = hierarchy_from_json (item, i, cgroup, err);
      if (ret < 0)
        return ret;
    }
  if (cgroup->n_hierarchies == 0)
    return ar_make_error (err, 0, "cgroup state: no hierarchies");

  *out = ar_steal_ptr (cgroup);
  return 0;
}

uint64_t
ar_cgroup_shares_to_weight (uint64_t shares)
{
  if (shares == 0)
    return 0;
  if (shares < 2)
    shares = 2;
  if (shares > 262144)
    shares = 262144;
  return 1 + ((shares - 2) * 9999) / 262142;
}

uint64_t
ar_cgroup_blkio_to_io_weight (uint64_t weight)
{
  if (weight == 0)
    return 0;
  if (weight < 10)
    weight = 10;
  if (weight > 1000)
    weight = 1000;
  return 1 + ((weight - 10) * 9999) / 990;
}
