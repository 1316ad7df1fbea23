#define _GNU_SOURCE
#include "exec.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cgroup.h"
#include "console.h"
#include "container.h"
#include "failpoint.h"
#include "identity.h"
#include "namespaces.h"
#include "oci/config.h"
#include "oci/log.h"
#include "oci/util.h"
#include "process_attrs.h"
#include "seccomp_filter.h"
#include "spawn.h"
#include "state.h"

static const char *const ns_proc_names[AR_NS_COUNT] = {
  [AR_NS_PID] = "pid",   [AR_NS_NETWORK] = "net",       [AR_NS_MOUNT] = "mnt",  [AR_NS_IPC] = "ipc",
  [AR_NS_UTS] = "uts",   [AR_NS_USER] = "user",         [AR_NS_CGROUP] = "cgroup", [AR_NS_TIME] = "time",
};

/* True when /proc/PID/ns/NAME differs from the runtime's own. */
static bool
namespace_differs (pid_t pid, const char *name)
{
  cleanup_free char *theirs = ar_xasprintf ("/proc/%d/ns/%s", (int) pid, name);
  cleanup_free char *ours = ar_xasprintf ("/proc/self/ns/%s", name);
  struct stat a, b;

  if (stat (theirs, &a) < 0 || stat (ours, &b) < 0)
    return false;
  return a.st_ino != b.st_ino || a.st_dev != b.st_dev;
}

/* Rewrites the container's namespaces as paths into its process, so the
 * spawn path joins them; the user namespace is handled apart. */
static void
point_namespaces_at (struct ar_config *config, pid_t pid, bool *join_user)
{
  struct ar_linux *lc = &config->linux_config;

  *join_user = false;
  for (int i = 0; i < AR_NS_COUNT; i++)
    {
      free (lc->namespaces[i].path);
      lc->namespaces[i].path = NULL;
      lc->namespaces[i].present = false;
      if (!namespace_differs (pid, ns_proc_names[i]))
        continue;
      if (i == AR_NS_USER)
        {
          *join_user = true;
          continue;
        }
      lc->namespaces[i].present = true;
      lc->namespaces[i].path = ar_xasprintf ("/proc/%d/ns/%s", (int) pid, ns_proc_names[i]);
    }
  lc->n_uid_mappings = 0;
  lc->n_gid_mappings = 0;
  lc->time_monotonic.present = false;
  lc->time_boottime.present = false;
}

static int
set_env (struct ar_process *process, const char *entry)
{
  const char *eq = strchr (entry, '=');
  size_t name_len = eq ? (size_t) (eq - entry) : strlen (entry);
  size_t n = ar_strv_len (process->env);

  for (size_t i = 0; i < n; i++)
    if (strncmp (process->env[i], entry, name_len) == 0 && process->env[i][name_len] == '=')
      {
        free (process->env[i]);
        process->env[i] = ar_xstrdup (entry);
        return 0;
      }
  process->env = realloc (process->env, (n + 2) * sizeof (char *));
  if (process->env == NULL)
    abort ();
  process->env[n] = ar_xstrdup (entry);
  process->env[n + 1] = NULL;
  return 0;
}

static int
apply_flags (const struct ar_exec_options *o, struct ar_process *process, ar_error_t *err)
{
  if (o->args == NULL || o->args[0] == NULL)
    return ar_make_error (err, 0, "exec: no command given; pass ARGS after the id or --process FILE");

  ar_strv_free (process->args);
  process->args = ar_strv_dup (o->args);
  process->terminal = o->tty;
  if (o->cwd)
    {
      free (process->cwd);
      process->cwd = ar_xstrdup (o->cwd);
    }
  for (size_t i = 0; o->env && o->env[i]; i++)
    set_env (process, o->env[i]);
  if (o->user)
    {
      char *end;
      unsigned long uid = strtoul (o->user, &end, 10);

      if (end == o->user || (*end != '\0' && *end != ':'))
        return ar_make_error (err, 0, "exec: invalid --user `%s`: expected UID[:GID] as numbers", o->user);
      process->user.uid = (uid_t) uid;
      if (*end == ':')
        {
          const char *gid_text = end + 1;
          unsigned long gid = strtoul (gid_text, &end, 10);
          if (end == gid_text || *end != '\0')
            return ar_make_error (err, 0, "exec: invalid --user `%s`: expected UID[:GID] as numbers",
                                  o->user);
          process->user.gid = (gid_t) gid;
        }
    }
  if (o->n_additional_gids > 0)
    {
      free (process->user.additional_gids);
      process->user.additional_gids = ar_xmalloc0 (o->n_additional_gids * sizeof (gid_t));
      memcpy (process->user.additional_gids, o->additional_gids, o->n_additional_gids * sizeof (gid_t));
      process->user.n_additional_gids = o->n_additional_gids;
    }
  for (size_t i = 0; o->caps && o->caps[i]; i++)
    {
      int cap = ar_capability_from_name (o->caps[i]);
      uint64_t bit;

      if (cap < 0)
        return ar_make_error (err, 0, "exec: unknown capability `%s` in --cap", o->caps[i]);
      bit = UINT64_C (1) << cap;
      if (process->capabilities == NULL)
        process->capabilities = ar_xmalloc0 (sizeof (*process->capabilities));
      process->capabilities->bounding |= bit;
      process->capabilities->effective |= bit;
      /* Not the inheritable set: that would let a file with inheritable
       * file capabilities keep them across execve, beyond what
       * process.capabilities.inheritable allows. */
      process->capabilities->permitted |= bit;
    }
  if (o->no_new_privileges)
    process->no_new_privileges = true;
  return 0;
}

static int
load_container (const struct ar_exec_options *o, struct ar_state **state, struct ar_config **config,
                ar_error_t *err)
{
  cleanup_free char *path = NULL;
  cleanup_free char *text = NULL;
  size_t len;
  json_t *status_json = NULL;
  const char *status;

  if (ar_state_validate_id (o->id, err) < 0)
    return -1;
  if (ar_container_state (o->root, o->id, &status_json, err) < 0)
    return -1;
  status = json_string_value (json_object_get (status_json, "status"));
  if (status == NULL || (strcmp (status, "running") != 0 && strcmp (status, "created") != 0))
    {
      int ret = ar_make_error (err, 0, "cannot exec in container `%s`: it is %s", o->id,
                               status ? status : "unknown");
      json_decref (status_json);
      return ret;
    }
  json_decref (status_json);

  if (ar_state_read (o->root, o->id, state, err) < 0)
    return -1;
  path = ar_xasprintf ("%s/%s/%s", o->root, o->id, AR_CONFIG_COPY);
  if (ar_read_file (path, &text, &len, err) < 0)
    return -1;
  return ar_config_parse (text, len, path, config, err);
}

static int
wait_child (pid_t pid, int *exit_code)
{
  int status;

  while (waitpid (pid, &status, 0) < 0)
    if (errno != EINTR)
      return -errno;
  *exit_code = WIFEXITED (status) ? WEXITSTATUS (status) : WIFSIGNALED (status) ? 128 + WTERMSIG (status) : 255;
  return 0;
}

int
ar_container_exec (const struct ar_exec_options *o, int *exit_code, ar_error_t *err)
{
  cleanup_state struct ar_state *state = NULL;
  cleanup_config struct ar_config *config = NULL;
  struct ar_cgroup *cgroup = NULL;
  struct ar_seccomp_program *seccomp = NULL;
  cleanup_close int user_fd = -1;
  cleanup_close int console_fd = -1;
  cleanup_close int proxy_fd = -1;
  bool join_user = false;
  pid_t pid;
  int ret = -1;

  if (load_container (o, &state, &config, err) < 0)
    return -1;
  ar_failpoint ("exec.loaded");

  if (o->process_path)
    {
      struct ar_process *process = NULL;
      if (ar_process_parse_file (o->process_path, &process, err) < 0)
        return -1;
      ar_process_free (config->process);
      config->process = process;
    }
  else if (apply_flags (o, config->process, err) < 0)
    return -1;

  /* A container created without a process got no SVIDs. */
  if (state->has_process && ar_identity_exec_env (config->process, config, err) < 0)
    return ar_error_wrap (err, "container `%s`", o->id);

  if (config->process->terminal && o->console_socket == NULL && o->detach)
    return ar_make_error (err, 0, "exec: a terminal with --detach needs --console-socket");

  point_namespaces_at (config, state->pid, &join_user);
  if (join_user)
    {
      cleanup_free char *path = ar_xasprintf ("/proc/%d/ns/user", (int) state->pid);
      user_fd = open (path, O_RDONLY | O_CLOEXEC);
      if (user_fd < 0)
        return ar_make_error (err, errno, "cannot open `%s`", path);
    }

  if (config->linux_config.seccomp && ar_seccomp_compile (config->linux_config.seccomp, &seccomp, err) < 0)
    return -1;
  if (state->cgroup && ar_cgroup_from_json (state->cgroup, &cgroup, err) < 0)
    goto out;

  if (config->process->terminal)
    {
      if (o->console_socket)
        {
          console_fd = ar_console_socket_connect (o->console_socket, err);
          if (console_fd < 0)
            goto out;
        }
      else
        {
          int pair[2];
          if (socketpair (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair) < 0)
            {
              ar_make_error (err, errno, "cannot create the console socket pair");
              goto out;
            }
          proxy_fd = pair[0];
          console_fd = pair[1];
        }
    }

  {
    struct ar_spawn_request request = {
      .config = config,
      .id = o->id,
      .bundle = state->bundle,
      .rootfs = state->rootfs,
      .exec_fifo_fd = -1,
      .console_fd = console_fd,
      .preserve_fds = o->preserve_fds,
      .no_new_keyring = true,
      .cgroup = cgroup,
      .seccomp = seccomp,
      .exec_mode = true,
      .user_namespace_fd = user_fd,
    };

    if (ar_spawn_container (&request, &pid, err) < 0)
      goto out;
  }
  ar_failpoint ("exec.joined");

  if (console_fd >= 0)
    {
      close (console_fd);
      console_fd = -1;
    }
  if (o->pid_file)
    {
      cleanup_free char *text = ar_xasprintf ("%d", (int) pid);
      if (ar_write_file_atomic (o->pid_file, text, strlen (text), 0644, err) < 0)
        {
          kill (pid, SIGKILL);
          wait_child (pid, exit_code);
          goto out;
        }
    }

  if (o->detach)
    {
      *exit_code = 0;
      ret = 0;
      goto out;
    }

  if (proxy_fd >= 0)
    {
      int master = -1;
      cleanup_error ar_error_t proxy_err = NULL;

      if (ar_console_proxy_receive_master (proxy_fd, &master, &proxy_err) == 0)
        {
          ar_console_proxy_run (master, &proxy_err);
          close (master);
        }
      if (proxy_err)
        {
          cleanup_free char *msg = ar_error_format (proxy_err);
          ar_warn ("%s", msg);
        }
    }

  ret = wait_child (pid, exit_code);
  if (ret < 0)
    ret = ar_make_error (err, -ret, "cannot wait for the exec process");

out:
  ar_cgroup_free (cgroup);
  ar_seccomp_program_free (seccomp);
  return ret;
}
