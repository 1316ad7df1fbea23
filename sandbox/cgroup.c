/* The cgroup interface: the cgroupsPath rules, and creating, joining and
 * removing the container's directories.  Layout detection lives in
 * cgroup_layout.c, the state file form in cgroup_state.c, resource
 * settings in cgroup_apply.c and the per-version files, and freezing,
 * killing and listing in cgroup_control.c. */
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

/* The parent cgroup of containers whose config.json has no cgroupsPath. */
#define DEFAULT_PARENT "/agentrun"

/* rmdir of a cgroup fails with EBUSY until the last killed process has
 * left it; this bounds the wait (200 tries, 10 ms apart). */
#define RMDIR_TRIES 200
#define RMDIR_SLEEP_MS 10

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

      /* cgroup2 is the line "0::PATH"; v1 lines name their controllers. */
      if (m->unified ? (strcmp (line, "0") != 0 || *controllers != '\0')
                     : !ar_cgroup_lists_equal (controllers, m->controllers))
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

void
ar_cgroup_release (struct ar_cgroup **cgroup)
{
  ar_cgroup_free (*cgroup);
}

static void
mounts_release (struct ar_cgroup_mounts *mounts)
{
  ar_cgroup_mounts_clear (mounts);
}

struct ar_cgroup_hierarchy *
ar_cgroup_add_hierarchy (struct ar_cgroup *cgroup)
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
  struct ar_cgroup_hierarchy *h = ar_cgroup_add_hierarchy (cgroup);

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

void
ar_cgroup_append_created (struct ar_cgroup_hierarchy *h, const char *dir)
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
              ar_cgroup_append_created (h, dir);
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

/* Rejects a cgroup that already has processes, because another container
 * may be using that cgroupsPath. */
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
  cleanup_cgroup struct ar_cgroup *cgroup = NULL;
  cleanup_free char *path = NULL;
  enum ar_cgroup_layout layout;
  bool relative;
  int ret;

  ret = check_systemd (cgroups_path, use_systemd, err);
  if (ret < 0)
    return ret;

  ret = ar_cgroup_read_mounts (&mounts, &layout, err);
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

/* Removes what make_hierarchy_dirs created, deepest first, and drops each
 * directory that is gone from the record.  Keeps going after an error so one busy
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

          /* Removed, or left to the cgroups that use it now: either way it
           * is no longer this cgroup's to remove. */
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
