#define _GNU_SOURCE
#include "hooks.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "oci/log.h"
#include "oci/util.h"

static int
pidfd_open_compat (pid_t pid)
{
  return (int) syscall (SYS_pidfd_open, pid, 0);
}

/* Waits for pid up to timeout seconds (0: no limit); kills it on timeout. */
static int
wait_hook (pid_t pid, int timeout, int *status, bool *timed_out)
{
  cleanup_close int pidfd = pidfd_open_compat (pid);

  *timed_out = false;
  if (pidfd >= 0 && timeout > 0)
    {
      struct pollfd pfd = { .fd = pidfd, .events = POLLIN };
      int ret;

      do
        ret = poll (&pfd, 1, timeout * 1000);
      while (ret < 0 && errno == EINTR);
      if (ret == 0)
        {
          *timed_out = true;
          kill (pid, SIGKILL);
        }
    }

  while (waitpid (pid, status, 0) < 0)
    if (errno != EINTR)
      return -errno;
  return 0;
}

static int
run_one_hook (const struct ar_hook *hook, const char *label, const char *state_json, ar_error_t *err)
{
  int stdin_pipe[2];
  pid_t pid;
  int status = 0;
  bool timed_out;
  char *const default_argv[] = { hook->path, NULL };
  char *const empty_env[] = { NULL };
  int ret;

  if (pipe2 (stdin_pipe, O_CLOEXEC) < 0)
    return ar_make_error (err, errno, "%s: cannot create a pipe", label);

  pid = fork ();
  if (pid < 0)
    {
      close (stdin_pipe[0]);
      close (stdin_pipe[1]);
      return ar_make_error (err, errno, "%s: cannot fork", label);
    }

  if (pid == 0)
    {
      /* The hook gets the state on stdin and the runtime's stdout and
       * stderr, with nothing else inherited. */
      if (dup2 (stdin_pipe[0], STDIN_FILENO) < 0)
        _exit (127);
      setsid ();
      execve (hook->path, hook->args && hook->args[0] ? hook->args : default_argv,
              hook->env ? hook->env : empty_env);
      dprintf (STDERR_FILENO, "agentrun: %s: cannot execute `%s`: %s\n", label, hook->path,
               strerror (errno));
      _exit (127);
    }

  close (stdin_pipe[0]);

  /* A hook that does not read stdin must not make the runtime fail. */
  {
    struct sigaction ign = { .sa_handler = SIG_IGN }, old;
    sigaction (SIGPIPE, &ign, &old);
    if (ar_write_all (stdin_pipe[1], state_json, strlen (state_json)) < 0 && errno != EPIPE)
      ar_debug ("%s: cannot write the state to the hook: %s", label, strerror (errno));
    sigaction (SIGPIPE, &old, NULL);
  }
  close (stdin_pipe[1]);

  ret = wait_hook (pid, hook->has_timeout ? hook->timeout : 0, &status, &timed_out);
  if (ret < 0)
    return ar_make_error (err, -ret, "%s: cannot wait for `%s`", label, hook->path);
  if (timed_out)
    return ar_make_error (err, ETIMEDOUT, "%s: `%s` timed out after %d s and was killed", label,
                          hook->path, hook->timeout);
  if (WIFSIGNALED (status))
    return ar_make_error (err, 0, "%s: `%s` was killed by signal %d", label, hook->path,
                          WTERMSIG (status));
  if (WEXITSTATUS (status) != 0)
    return ar_make_error (err, 0, "%s: `%s` exited with status %d", label, hook->path,
                          WEXITSTATUS (status));
  return 0;
}

int
ar_hooks_run (const struct ar_config *config, enum ar_hook_kind kind, const char *state_json,
              ar_error_t *err)
{
  const struct ar_hook_list *list = &config->hooks[kind];
  /* The runtime spec has a failed poststart or poststop hook logged as a
   * warning while the remaining hooks and the lifecycle go on. */
  bool warn_only = kind == AR_HOOK_POSTSTART || kind == AR_HOOK_POSTSTOP;

  for (size_t i = 0; i < list->n_hooks; i++)
    {
      cleanup_free char *label = ar_xasprintf ("hooks.%s[%zu]", ar_hook_kind_name (kind), i);
      cleanup_error ar_error_t hook_err = NULL;

      ar_debug ("running %s: %s", label, list->hooks[i].path);
      if (run_one_hook (&list->hooks[i], label, state_json, &hook_err) == 0)
        continue;
      if (!warn_only)
        {
          *err = ar_steal_ptr (hook_err);
          return -1;
        }
      {
        cleanup_free char *msg = ar_error_format (hook_err);
        ar_warn ("%s", msg);
      }
    }
  return 0;
}
