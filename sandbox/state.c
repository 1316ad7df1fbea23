#define _GNU_SOURCE
#include "state.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "oci/util.h"

#define AR_OCI_VERSION "1.2.0"

int
ar_state_validate_id (const char *id, ar_error_t *err)
{
  size_t len = id ? strlen (id) : 0;

  if (len == 0)
    return ar_make_error (err, 0, "container id is empty; pass an id such as `agent-1`");
  if (len > 1024)
    return ar_make_error (err, 0, "container id is longer than 1024 bytes");
  if (id[0] == '.')
    return ar_make_error (err, 0, "invalid container id `%s`: it must not start with `.`", id);

  for (const char *p = id; *p; p++)
    {
      char c = *p;
      bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_'
                || c == '-' || c == '.' || c == '+';
      if (!ok)
        return ar_make_error (err, 0,
                              "invalid container id `%s`: use only letters, digits, `_`, `-`, `.` and `+`",
                              id);
    }
  return 0;
}

int
ar_state_root_prepare (const char *root, ar_error_t *err)
{
  struct stat st;

  if (stat (root, &st) == 0)
    {
      if (!S_ISDIR (st.st_mode))
        return ar_make_error (err, 0, "state root `%s` is not a directory", root);
      return 0;
    }
  if (ar_mkdir_p (root, 0700, err) < 0)
    return ar_error_wrap (err, "cannot create the state root; pass a writable folder with --root");
  return 0;
}

int
ar_state_dir_create (const char *root, const char *id, ar_error_t *err)
{
  cleanup_free char *dir = ar_xasprintf ("%s/%s", root, id);

  if (mkdir (dir, 0700) < 0)
    {
      if (errno == EEXIST)
        return ar_make_error (err, 0, "container `%s` already exists; choose another id or "
                                           "remove it with `agentrun delete %s`", id, id);
      return ar_make_error (err, errno, "cannot create state directory `%s`", dir);
    }
  return 0;
}

int
ar_state_lock (const char *root, const char *id, ar_error_t *err)
{
  cleanup_free char *dir = ar_xasprintf ("%s/%s", root, id);
  cleanup_close int fd = -1;

  fd = open (dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0)
    {
      if (errno == ENOENT)
        {
          ar_make_error (err, 0, "container `%s` does not exist", id);
          return -ENOENT;
        }
      return ar_make_error (err, errno, "cannot open state directory `%s`", dir);
    }
  while (flock (fd, LOCK_EX) < 0)
    if (errno != EINTR)
      return ar_make_error (err, errno, "cannot lock state directory `%s`", dir);
  return ar_steal_fd (fd);
}

static json_t *
state_to_json (const struct ar_state *state)
{
  json_t *obj = json_object ();

  json_object_set_new (obj, "id", json_string (state->id));
  json_object_set_new (obj, "pid", json_integer (state->pid));
  json_object_set_new (obj, "pid_start", json_integer ((json_int_t) state->pid_start));
  json_object_set_new (obj, "creating", json_boolean (state->creating));
  if (!state->has_process)
    json_object_set_new (obj, "has_process", json_false ());
  json_object_set_new (obj, "poststart_hooks", json_boolean (state->has_poststart_hooks));
  json_object_set_new (obj, "poststop_hooks", json_boolean (state->has_poststop_hooks));
  json_object_set_new (obj, "bundle", json_string (state->bundle ? state->bundle : ""));
  json_object_set_new (obj, "rootfs", json_string (state->rootfs ? state->rootfs : ""));
  json_object_set_new (obj, "created", json_string (state->created ? state->created : ""));
  json_object_set_new (obj, "owner", json_integer (state->owner));
  if (state->annotations)
    json_object_set (obj, "annotations", state->annotations);
  if (state->cgroup)
    json_object_set (obj, "cgroup", state->cgroup);
  if (state->network)
    json_object_set (obj, "network", state->network);
  if (state->config_path)
    json_object_set_new (obj, "config", json_string (state->config_path));
  if (state->keeper_pid > 0)
    {
      json_object_set_new (obj, "keeper_pid", json_integer (state->keeper_pid));
      json_object_set_new (obj, "keeper_start", json_integer ((json_int_t) state->keeper_start));
    }
  return obj;
}

int
ar_state_write (const char *root, const struct ar_state *state, ar_error_t *err)
{
  cleanup_free char *path = ar_xasprintf ("%s/%s/%s", root, state->id, AR_STATE_FILE);
  cleanup_free char *text = NULL;
  json_t *obj = state_to_json (state);

  text = json_dumps (obj, JSON_COMPACT);
  json_decref (obj);
  if (text == NULL)
    return ar_make_error (err, ENOMEM, "cannot serialise the state of `%s`", state->id);
  return ar_write_file_atomic (path, text, strlen (text), 0600, err);
}

static char *
dup_json_string (json_t *obj, const char *key)
{
  json_t *v = json_object_get (obj, key);
  return json_is_string (v) ? ar_xstrdup (json_string_value (v)) : NULL;
}

static bool
dir_is_empty (const char *path)
{
  DIR *dir = opendir (path);
  struct dirent *de;
  bool empty = true;

  if (dir == NULL)
    return false;
  while ((de = readdir (dir)) != NULL)
    if (strcmp (de->d_name, ".") != 0 && strcmp (de->d_name, "..") != 0)
      {
        empty = false;
        break;
      }
  closedir (dir);
  return empty;
}

int
ar_state_read (const char *root, const char *id, struct ar_state **out, ar_error_t *err)
{
  cleanup_free char *path = ar_xasprintf ("%s/%s/%s", root, id, AR_STATE_FILE);
  cleanup_free char *dir = ar_xasprintf ("%s/%s", root, id);
  cleanup_state struct ar_state *state = NULL;
  json_error_t jerr;
  json_t *obj;
  struct stat st;

  if (stat (dir, &st) < 0)
    return ar_make_error (err, 0, "container `%s` does not exist", id);

  obj = json_load_file (path, 0, &jerr);
  if (obj == NULL)
    {
      cleanup_free char *config_copy = ar_xasprintf ("%s/%s", dir, AR_CONFIG_COPY);

      /* A folder with neither file is a create that died at once when it
       * is empty, and otherwise not a container's folder at all. */
      if (access (config_copy, F_OK) < 0 && !dir_is_empty (dir))
        return ar_make_error (err, 0, "container `%s` does not exist", id);

      /* A folder without state.json belongs to a create that has not got
       * far yet, or that died before writing it. */
      state = ar_xmalloc0 (sizeof (*state));
      state->id = ar_xstrdup (id);
      state->creating = true;
      *out = ar_steal_ptr (state);
      return 0;
    }

  state = ar_xmalloc0 (sizeof (*state));
  state->id = ar_xstrdup (id);
  state->pid = (pid_t) json_integer_value (json_object_get (obj, "pid"));
  state->pid_start = (unsigned long long) json_integer_value (json_object_get (obj, "pid_start"));
  state->creating = json_is_true (json_object_get (obj, "creating"));
  state->has_process = !json_is_false (json_object_get (obj, "has_process"));
  /* A state file without these keys may have hooks: check the config. */
  state->has_poststart_hooks = !json_is_false (json_object_get (obj, "poststart_hooks"));
  state->has_poststop_hooks = !json_is_false (json_object_get (obj, "poststop_hooks"));
  state->bundle = dup_json_string (obj, "bundle");
  state->rootfs = dup_json_string (obj, "rootfs");
  state->created = dup_json_string (obj, "created");
  state->owner = (uid_t) json_integer_value (json_object_get (obj, "owner"));
  state->config_path = dup_json_string (obj, "config");
  state->keeper_pid = (pid_t) json_integer_value (json_object_get (obj, "keeper_pid"));
  state->keeper_start = (unsigned long long) json_integer_value (json_object_get (obj, "keeper_start"));
  state->annotations = json_incref (json_object_get (obj, "annotations"));
  state->cgroup = json_incref (json_object_get (obj, "cgroup"));
  state->network = json_incref (json_object_get (obj, "network"));
  json_decref (obj);

  *out = ar_steal_ptr (state);
  return 0;
}

static int
remove_tree_at (int parent_fd, const char *name)
{
  cleanup_close int fd = -1;
  DIR *dir;
  struct dirent *de;

  if (unlinkat (parent_fd, name, 0) == 0 || errno == ENOENT)
    return 0;
  if (errno != EISDIR && errno != EPERM)
    return -errno;

  fd = openat (parent_fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0)
    return -errno;
  dir = fdopendir (fd);
  if (dir == NULL)
    return -errno;
  fd = -1;
  while ((de = readdir (dir)) != NULL)
    {
      if (strcmp (de->d_name, ".") == 0 || strcmp (de->d_name, "..") == 0)
        continue;
      remove_tree_at (dirfd (dir), de->d_name);
    }
  closedir (dir);

  if (unlinkat (parent_fd, name, AT_REMOVEDIR) < 0 && errno != ENOENT)
    return -errno;
  return 0;
}

int
ar_state_dir_remove (const char *root, const char *id, ar_error_t *err)
{
  cleanup_close int rootfd = open (root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  int ret;

  if (rootfd < 0)
    return ar_make_error (err, errno, "cannot open state root `%s`", root);
  ret = remove_tree_at (rootfd, id);
  if (ret < 0)
    return ar_make_error (err, -ret, "cannot remove state directory `%s/%s`", root, id);
  return 0;
}

static int
compare_strings (const void *a, const void *b)
{
  return strcmp (*(char *const *) a, *(char *const *) b);
}

int
ar_state_list_ids (const char *root, char ***ids, ar_error_t *err)
{
  DIR *dir = opendir (root);
  struct dirent *de;
  char **out = NULL;
  size_t n = 0;

  if (dir == NULL)
    {
      if (errno == ENOENT)
        {
          *ids = ar_xmalloc0 (sizeof (char *));
          return 0;
        }
      return ar_make_error (err, errno, "cannot open state root `%s`", root);
    }

  out = ar_xmalloc0 (sizeof (char *));
  while ((de = readdir (dir)) != NULL)
    {
      if (de->d_name[0] == '.')
        continue;
      if (de->d_type != DT_DIR && de->d_type != DT_UNKNOWN)
        continue;
      out = realloc (out, (n + 2) * sizeof (char *));
      if (out == NULL)
        abort ();
      out[n++] = ar_xstrdup (de->d_name);
      out[n] = NULL;
    }
  closedir (dir);

  qsort (out, n, sizeof (char *), compare_strings);
  *ids = out;
  return 0;
}

unsigned long long
ar_process_start_time (pid_t pid)
{
  cleanup_free char *path = ar_xasprintf ("/proc/%d/stat", (int) pid);
  cleanup_free char *text = NULL;
  unsigned long long start = 0;
  char *p;

  if (pid <= 0 || ar_read_file (path, &text, NULL, NULL) < 0)
    return 0;

  /* The command name may hold spaces and parentheses: fields start after
   * the last ')'.  State is field 3, starttime field 22. */
  p = strrchr (text, ')');
  if (p == NULL)
    return 0;
  p += 2;
  if (*p == 'Z' || *p == 'X')
    return 0;
  for (int field = 3; field < 22 && p != NULL; field++)
    {
      p = strchr (p, ' ');
      if (p)
        p++;
    }
  if (p == NULL)
    return 0;
  start = strtoull (p, NULL, 10);
  return start;
}

bool
ar_state_process_alive (const struct ar_state *state)
{
  unsigned long long start;

  if (state->pid <= 0)
    return false;
  start = ar_process_start_time (state->pid);
  return start != 0 && (state->pid_start == 0 || start == state->pid_start);
}

enum ar_status
ar_state_status (const char *root, const struct ar_state *state)
{
  cleanup_free char *fifo = NULL;

  if (!ar_state_process_alive (state))
    return state->creating && state->pid == 0 ? AR_STATUS_CREATING : AR_STATUS_STOPPED;
  if (state->creating)
    return AR_STATUS_CREATING;

  fifo = ar_xasprintf ("%s/%s/%s", root, state->id, AR_EXEC_FIFO);
  if (access (fifo, F_OK) == 0)
    return AR_STATUS_CREATED;
  return AR_STATUS_RUNNING;
}

const char *
ar_status_name (enum ar_status status)
{
  switch (status)
    {
    case AR_STATUS_CREATING:
      return "creating";
    case AR_STATUS_CREATED:
      return "created";
    case AR_STATUS_RUNNING:
      return "running";
    case AR_STATUS_PAUSED:
      return "paused";
    case AR_STATUS_STOPPED:
      return "stopped";
    }
  return "unknown";
}

json_t *
ar_state_to_oci_json (const struct ar_state *state, enum ar_status status)
{
  json_t *obj = json_object ();

  json_object_set_new (obj, "ociVersion", json_string (AR_OCI_VERSION));
  json_object_set_new (obj, "id", json_string (state->id));
  json_object_set_new (obj, "status", json_string (ar_status_name (status)));
  if (status != AR_STATUS_STOPPED && state->pid > 0)
    json_object_set_new (obj, "pid", json_integer (state->pid));
  else
    json_object_set_new (obj, "pid", json_integer (0));
  json_object_set_new (obj, "bundle", json_string (state->bundle ? state->bundle : ""));
  json_object_set_new (obj, "rootfs", json_string (state->rootfs ? state->rootfs : ""));
  json_object_set_new (obj, "created", json_string (state->created ? state->created : ""));
  json_object_set_new (obj, "owner", json_string (""));
  if (state->annotations && json_object_size (state->annotations) > 0)
    json_object_set (obj, "annotations", state->annotations);
  return obj;
}

void
ar_state_free (struct ar_state *state)
{
  if (state == NULL)
    return;
  free (state->id);
  free (state->bundle);
  free (state->rootfs);
  free (state->created);
  free (state->config_path);
  json_decref (state->annotations);
  json_decref (state->cgroup);
  json_decref (state->network);
  free (state);
}

void
ar_state_release (struct ar_state **state)
{
  ar_state_free (*state);
  *state = NULL;
}
