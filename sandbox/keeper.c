/* The keeper process: its start handshake, its epoll loop and its end. */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/syscall.h>
#include <sys/timerfd.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "container.h"
#include "keeper.h"
#include "keeper_modules.h"
#include "oci/audit.h"
#include "oci/log.h"
#include "oci/util.h"
#include "policy/policy.h"
#include "state.h"

#define KEEPER_STOP_WAIT_MS 2000
#define KEEPER_MAX_WATCHES 64

struct keeper_watch
{
  int fd;
  ar_keeper_handler handler;
  void *data;
};

struct ar_keeper
{
  const struct ar_keeper_context *context;
  int epoll_fd;
  struct keeper_watch watches[KEEPER_MAX_WATCHES];
  const char *audit_destination; /* annotation agentrun.policy.audit, or NULL */
  const char *policy_name;
  bool audit_mode;
  bool done;
};

static int
pidfd_open_compat (pid_t pid)
{
  return (int) syscall (SYS_pidfd_open, pid, 0);
}

const struct ar_keeper_context *
ar_keeper_context (const struct ar_keeper *keeper)
{
  return keeper->context;
}

bool
ar_keeper_audit_mode (const struct ar_keeper *keeper)
{
  return keeper->audit_mode;
}

int
ar_keeper_watch (struct ar_keeper *keeper, int fd, uint32_t events, ar_keeper_handler handler, void *data,
                 ar_error_t *err)
{
  struct epoll_event ev = { .events = events };
  struct keeper_watch *slot = NULL;

  for (size_t i = 0; i < KEEPER_MAX_WATCHES; i++)
    if (keeper->watches[i].handler == NULL)
      {
        slot = &keeper->watches[i];
        break;
      }
  if (slot == NULL)
    return ar_make_error (err, ENOSPC, "the keeper watches %d descriptors already", KEEPER_MAX_WATCHES);

  ev.data.ptr = slot;
  if (epoll_ctl (keeper->epoll_fd, EPOLL_CTL_ADD, fd, &ev) < 0)
    return ar_make_error (err, errno, "cannot watch descriptor %d", fd);
  slot->fd = fd;
  slot->handler = handler;
  slot->data = data;
  return 0;
}

void
ar_keeper_unwatch (struct ar_keeper *keeper, int fd)
{
  for (size_t i = 0; i < KEEPER_MAX_WATCHES; i++)
    if (keeper->watches[i].handler != NULL && keeper->watches[i].fd == fd)
      {
        epoll_ctl (keeper->epoll_fd, EPOLL_CTL_DEL, fd, NULL);
        memset (&keeper->watches[i], 0, sizeof (keeper->watches[i]));
        keeper->watches[i].fd = -1;
      }
}

int
ar_keeper_timer_arm (int timer_fd, uint64_t first_ms, uint64_t interval_ms, ar_error_t *err)
{
  struct itimerspec spec = {
    .it_value = { .tv_sec = (time_t) (first_ms / 1000), .tv_nsec = (long) (first_ms % 1000) * 1000000 },
    .it_interval = { .tv_sec = (time_t) (interval_ms / 1000), .tv_nsec = (long) (interval_ms % 1000) * 1000000 },
  };

  /* A zero it_value disarms the timer: fire at once instead. */
  if (first_ms == 0)
    spec.it_value.tv_nsec = 1;
  if (timerfd_settime (timer_fd, 0, &spec, NULL) < 0)
    return ar_make_error (err, errno, "cannot arm a timer");
  return 0;
}

int
ar_keeper_timer (struct ar_keeper *keeper, uint64_t first_ms, uint64_t interval_ms, ar_keeper_handler handler,
                 void *data, ar_error_t *err)
{
  cleanup_close int fd = timerfd_create (CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);

  if (fd < 0)
    return ar_make_error (err, errno, "cannot create a timer");
  if (ar_keeper_timer_arm (fd, first_ms, interval_ms, err) < 0)
    return -1;
  if (ar_keeper_watch (keeper, fd, EPOLLIN, handler, data, err) < 0)
    return -1;
  return ar_steal_fd (fd);
}

void
ar_keeper_event (struct ar_keeper *keeper, json_t *event)
{
  json_object_set_new (event, "container", json_string (keeper->context->id));
  if (keeper->policy_name)
    json_object_set_new (event, "policy", json_string (keeper->policy_name));
  json_object_set_new (event, "mode", json_string (keeper->audit_mode ? "audit" : "enforce"));
  ar_audit_write (keeper->audit_destination, event);
  json_decref (event);
}

int
ar_keeper_kill_container (struct ar_keeper *keeper, ar_error_t *err)
{
  return ar_container_kill (keeper->context->root, keeper->context->id, SIGKILL, true, err);
}

/* Closes every descriptor but those in keep, so that the keeper keeps no
 * terminal, pipe or FIFO of the call that started it open. */
static void
close_other_fds (const int *keep, size_t n_keep)
{
  DIR *dir = opendir ("/proc/self/fd");
  struct dirent *entry;

  if (dir == NULL)
    return;
  while ((entry = readdir (dir)) != NULL)
    {
      int fd = atoi (entry->d_name);
      bool kept = fd < 3 || fd == dirfd (dir);

      if (entry->d_name[0] == '.')
        continue;
      for (size_t i = 0; i < n_keep && !kept; i++)
        kept = keep[i] == fd;
      if (!kept)
        close (fd);
    }
  closedir (dir);
}

static int
on_container_exit (struct ar_keeper *keeper, int fd, uint32_t events, void *data, ar_error_t *err)
{
  ar_debug ("keeper of %s: the container process has exited", keeper->context->id);
  keeper->done = true;
  return 0;
}

static int
on_signal (struct ar_keeper *keeper, int fd, uint32_t events, void *data, ar_error_t *err)
{
  struct signalfd_siginfo info;

  if (read (fd, &info, sizeof (info)) == (ssize_t) sizeof (info))
    ar_debug ("keeper of %s: stopping on signal %u", keeper->context->id, info.ssi_signo);
  keeper->done = true;
  return 0;
}

/* Reports to create over ready_fd: one byte 0 when every module started,
 * else the error's text. */
static void
report_ready (int ready_fd, ar_error_t err)
{
  if (err == NULL)
    ar_write_all (ready_fd, "", 1);
  else
    {
      cleanup_free char *msg = ar_error_format (err);
      ar_write_all (ready_fd, msg, strlen (msg));
    }
  close (ready_fd);
}

static int
keeper_loop (struct ar_keeper *keeper)
{
  while (!keeper->done)
    {
      struct epoll_event events[16];
      int n = epoll_wait (keeper->epoll_fd, events, 16, -1);

      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        return -errno;
      for (int i = 0; i < n && !keeper->done; i++)
        {
          struct keeper_watch *watch = events[i].data.ptr;
          cleanup_error ar_error_t err = NULL;

          if (watch->handler == NULL)
            continue;
          if (watch->handler (keeper, watch->fd, events[i].events, watch->data, &err) < 0)
            {
              cleanup_free char *msg = ar_error_format (err);
              ar_log (AR_LOG_ERROR, "keeper of %s: %s", keeper->context->id, msg);
              return -1;
            }
        }
    }
  return 0;
}

/* The keeper's life after the double fork; never returns. */
static void __attribute__ ((noreturn))
keeper_main (const struct ar_keeper_context *context, int ready_fd, int pidfd)
{
  struct ar_keeper keeper = { .context = context, .epoll_fd = -1 };
  void *module_data[AR_KEEPER_MAX_MODULES] = { NULL };
  bool started[AR_KEEPER_MAX_MODULES] = { false };
  cleanup_error ar_error_t err = NULL;
  cleanup_close int signal_fd = -1;
  const char *mode;
  sigset_t mask;
  int devnull;
  int ret = 0;

  prctl (PR_SET_NAME, "agentrun-keep", 0, 0, 0);
  devnull = open ("/dev/null", O_RDWR | O_CLOEXEC);
  if (devnull >= 0)
    {
      dup2 (devnull, STDIN_FILENO);
      dup2 (devnull, STDOUT_FILENO);
      dup2 (devnull, STDERR_FILENO);
      close (devnull);
    }
  {
    int keep[] = { ready_fd, pidfd, ar_log_fd (), context->seccomp_listener, context->identity_dir_fd };
    close_other_fds (keep, sizeof (keep) / sizeof (keep[0]));
  }

  keeper.audit_destination = ar_config_annotation (context->config, AR_POLICY_ANNOTATION_AUDIT);
  keeper.policy_name = ar_config_annotation (context->config, AR_POLICY_ANNOTATION_NAME);
  mode = ar_config_annotation (context->config, AR_POLICY_ANNOTATION_MODE);
  keeper.audit_mode = mode != NULL && strcmp (mode, "audit") == 0;
  for (size_t i = 0; i < KEEPER_MAX_WATCHES; i++)
    keeper.watches[i].fd = -1;

  sigemptyset (&mask);
  sigaddset (&mask, SIGTERM);
  sigaddset (&mask, SIGINT);
  sigaddset (&mask, SIGHUP);
  sigprocmask (SIG_BLOCK, &mask, NULL);
  signal (SIGPIPE, SIG_IGN);
  keeper.epoll_fd = epoll_create1 (EPOLL_CLOEXEC);
  signal_fd = signalfd (-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
  if (keeper.epoll_fd < 0 || signal_fd < 0)
    ar_make_error (&err, errno, "cannot set up the keeper's event loop");
  else if (ar_keeper_watch (&keeper, pidfd, EPOLLIN, on_container_exit, NULL, &err) == 0)
    ar_keeper_watch (&keeper, signal_fd, EPOLLIN, on_signal, NULL, &err);

  for (size_t i = 0; err == NULL && i < ar_keeper_n_modules; i++)
    {
      const struct ar_keeper_module *module = ar_keeper_modules[i];

      if (!module->wanted (context))
        continue;
      if (module->start (&keeper, &module_data[i], &err) < 0)
        {
          ar_error_wrap (&err, "%s", module->name);
          break;
        }
      started[i] = true;
      ar_debug ("keeper of %s: started %s", context->id, module->name);
    }

  if (err != NULL)
    ret = -1;
  report_ready (ready_fd, err);
  if (ret == 0)
    ret = keeper_loop (&keeper);

  for (size_t i = ar_keeper_n_modules; i-- > 0;)
    if (started[i])
      ar_keeper_modules[i]->stop (&keeper, module_data[i]);
  _exit (ret < 0 ? 1 : 0);
}

static bool
any_module_wanted (const struct ar_keeper_context *context)
{
  for (size_t i = 0; i < ar_keeper_n_modules; i++)
    if (ar_keeper_modules[i]->wanted (context))
      return true;
  return false;
}

/* Reads the keeper's report: 0 when it is ready, else its error. */
static int
wait_ready (int ready_fd, const char *id, ar_error_t *err)
{
  char buf[4096];
  size_t len = 0;

  for (;;)
    {
      ssize_t n = read (ready_fd, buf + len, sizeof (buf) - 1 - len);
      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        return ar_make_error (err, errno, "cannot read the keeper's report for `%s`", id);
      if (n == 0)
        break;
      len += (size_t) n;
      if (len == sizeof (buf) - 1)
        break;
    }
  if (len == 1 && buf[0] == '\0')
    return 0;
  if (len == 0)
    return ar_make_error (err, EIO, "the keeper of `%s` exited before it was ready", id);
  buf[len] = '\0';
  return ar_make_error (err, EIO, "the keeper of `%s` cannot start: %s", id, buf);
}

int
ar_keeper_spawn (const struct ar_keeper_context *context, pid_t *pid, unsigned long long *start_time,
                 ar_error_t *err)
{
  cleanup_close int pidfd = -1;
  cleanup_close int ready_read = -1;
  cleanup_close int pid_read = -1;
  int ready[2], pid_pipe[2];
  pid_t child, keeper_pid = 0;
  int status;

  if (!any_module_wanted (context))
    {
      *pid = 0;
      *start_time = 0;
      return 0;
    }

  pidfd = pidfd_open_compat (context->pid);
  if (pidfd < 0)
    return ar_make_error (err, errno, "cannot open a pidfd for the process %d of `%s`", (int) context->pid,
                          context->id);
  if (pipe2 (ready, O_CLOEXEC) < 0)
    return ar_make_error (err, errno, "cannot create the keeper's pipe");
  ready_read = ready[0];
  if (pipe2 (pid_pipe, O_CLOEXEC) < 0)
    {
      close (ready[1]);
      return ar_make_error (err, errno, "cannot create the keeper's pipe");
    }
  pid_read = pid_pipe[0];

  /* Two forks, so that the keeper is nobody's child in this call and the
   * caller (conmon, containerd's shim) never waits for it. */
  child = fork ();
  if (child < 0)
    {
      close (ready[1]);
      close (pid_pipe[1]);
      return ar_make_error (err, errno, "cannot fork the keeper of `%s`", context->id);
    }
  if (child == 0)
    {
      pid_t grandchild;

      close (ready[0]);
      close (pid_pipe[0]);
      setsid ();
      grandchild = fork ();
      if (grandchild < 0)
        _exit (1);
      if (grandchild == 0)
        {
          close (pid_pipe[1]);
          keeper_main (context, ready[1], pidfd);
        }
      ar_write_all (pid_pipe[1], &grandchild, sizeof (grandchild));
      _exit (0);
    }
  close (ready[1]);
  close (pid_pipe[1]);
  while (waitpid (child, &status, 0) < 0 && errno == EINTR)
    ;
  if (read (pid_read, &keeper_pid, sizeof (keeper_pid)) != (ssize_t) sizeof (keeper_pid) || keeper_pid <= 0)
    return ar_make_error (err, EIO, "cannot fork the keeper of `%s`", context->id);

  if (wait_ready (ready_read, context->id, err) < 0)
    {
      cleanup_error ar_error_t stop_err = NULL;
      ar_keeper_stop (keeper_pid, 0, &stop_err);
      return -1;
    }
  *pid = keeper_pid;
  *start_time = ar_process_start_time (keeper_pid);
  ar_debug ("started the keeper of %s with pid %d", context->id, (int) keeper_pid);
  return 0;
}

int
ar_keeper_stop (pid_t pid, unsigned long long start_time, ar_error_t *err)
{
  cleanup_close int pidfd = -1;
  struct pollfd fds;

  if (pid <= 0)
    return 0;
  pidfd = pidfd_open_compat (pid);
  if (pidfd < 0)
    return errno == ESRCH ? 0 : ar_make_error (err, errno, "cannot open a pidfd for the keeper %d", (int) pid);
  /* A pid taken by another process since is not ours to signal. */
  if (start_time != 0 && ar_process_start_time (pid) != start_time)
    return 0;

  if (syscall (SYS_pidfd_send_signal, pidfd, SIGTERM, NULL, 0) < 0)
    return errno == ESRCH ? 0 : ar_make_error (err, errno, "cannot stop the keeper %d", (int) pid);
  fds = (struct pollfd) { .fd = pidfd, .events = POLLIN };
  if (poll (&fds, 1, KEEPER_STOP_WAIT_MS) == 1)
    return 0;
  ar_warn ("the keeper %d did not stop within %d ms of SIGTERM; killing it", (int) pid, KEEPER_STOP_WAIT_MS);
  if (syscall (SYS_pidfd_send_signal, pidfd, SIGKILL, NULL, 0) < 0 && errno != ESRCH)
    return ar_make_error (err, errno, "cannot kill the keeper %d", (int) pid);
  return 0;
}
