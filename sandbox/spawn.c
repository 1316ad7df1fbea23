#define _GNU_SOURCE
#include "spawn.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/sched.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "console.h"
#include "exec_guard.h"
#include "hooks.h"
#include "seccomp_notify.h"
#include "namespaces.h"
#include "oci/log.h"
#include "oci/util.h"
#include "process_attrs.h"
#include "rootfs.h"

/* Messages on the sync socket (SOCK_SEQPACKET, so one message per read). */
enum sync_type
{
  SYNC_GO = 1,        /* runtime -> container: ids mapped, cgroup joined unless deferred */
  SYNC_HOOKS_REQUEST, /* container -> runtime: run prestart and createRuntime */
  SYNC_HOOKS_DONE,    /* runtime -> container */
  SYNC_READY,         /* container -> runtime: waiting for start */
  SYNC_ERROR,         /* either way: text is the message */
  SYNC_SECCOMP_FD,    /* container -> runtime: the seccomp listener fd rides along */
  SYNC_PID,           /* container -> runtime: errno_value is the pid of the real container
                         process, forked into a new pid namespace of a joined user namespace */
  SYNC_IDENTITY_DIR,  /* container -> runtime: the fd of the SVID tmpfs's root rides along */
  SYNC_CGROUP_JOINED, /* runtime -> container: the deferred cgroup move is done */
};

struct sync_message
{
  int type;
  int errno_value;
  char text[3072];
};

#define DEFAULT_PATH "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

static int
sync_send (int fd, int type, int errno_value, const char *text, bool from_container)
{
  struct sync_message msg = { .type = type, .errno_value = errno_value };

  if (text)
    snprintf (msg.text, sizeof (msg.text), "%s", text);
  /* The container process uses write(2), because it may already run under
   * its seccomp filter, and profiles allow write far more often than
   * sendto.  The runtime uses send(2) with MSG_NOSIGNAL, so that a
   * container process that died cannot kill it with SIGPIPE. */
  if ((from_container ? write (fd, &msg, sizeof (msg)) : send (fd, &msg, sizeof (msg), MSG_NOSIGNAL)) < 0)
    return -errno;
  return 0;
}

/* Sends a message with one fd attached (SCM_RIGHTS). */
static int
sync_send_fd (int fd, int type, int attached_fd)
{
  struct sync_message msg = { .type = type };
  struct iovec iov = { .iov_base = &msg, .iov_len = sizeof (msg) };
  union
  {
    char buf[CMSG_SPACE (sizeof (int))];
    struct cmsghdr align;
  } control;
  struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = control.buf,
                       .msg_controllen = sizeof (control.buf) };
  struct cmsghdr *cmsg;

  memset (&control, 0, sizeof (control));
  cmsg = CMSG_FIRSTHDR (&mh);
  cmsg->cmsg_level = SOL_SOCKET;
  cmsg->cmsg_type = SCM_RIGHTS;
  cmsg->cmsg_len = CMSG_LEN (sizeof (int));
  memcpy (CMSG_DATA (cmsg), &attached_fd, sizeof (int));
  if (sendmsg (fd, &mh, MSG_NOSIGNAL) < 0)
    return -errno;
  return 0;
}

/* Receives a message; an attached fd, if any, goes to *attached_fd. */
static int
sync_receive_with_fd (int fd, struct sync_message *msg, int *attached_fd)
{
  struct iovec iov = { .iov_base = msg, .iov_len = sizeof (*msg) };
  union
  {
    char buf[CMSG_SPACE (sizeof (int))];
    struct cmsghdr align;
  } control;
  struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = control.buf,
                       .msg_controllen = sizeof (control.buf) };
  ssize_t n;

  *attached_fd = -1;
  do
    n = recvmsg (fd, &mh, MSG_CMSG_CLOEXEC);
  while (n < 0 && errno == EINTR);
  if (n < 0)
    return -errno;
  if (n == 0)
    return -EPIPE;
  if ((size_t) n < offsetof (struct sync_message, text))
    return -EPROTO;
  msg->text[sizeof (msg->text) - 1] = '\0';
  for (struct cmsghdr *c = CMSG_FIRSTHDR (&mh); c != NULL; c = CMSG_NXTHDR (&mh, c))
    if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS)
      memcpy (attached_fd, CMSG_DATA (c), sizeof (int));
  return 0;
}

static int
sync_receive (int fd, struct sync_message *msg)
{
  ssize_t n;

  do
    n = read (fd, msg, sizeof (*msg));
  while (n < 0 && errno == EINTR);
  if (n < 0)
    return -errno;
  if (n == 0)
    return -EPIPE;
  if ((size_t) n < offsetof (struct sync_message, text))
    return -EPROTO;
  msg->text[sizeof (msg->text) - 1] = '\0';
  return 0;
}

/* Container side ------------------------------------------------------- */

struct child_context
{
  const struct ar_spawn_request *request;
  int sync_fd;
  int proc_fd;  /* the runtime's /proc, kept across pivot_root */
  int guard_fd; /* the sealed exec-guard memfd, made before seccomp */
  bool new_user_namespace;
  int join_user_fd;          /* user namespace given by path, or -1 */
  uint64_t deferred_flags;   /* namespaces to create after joining it */
  bool new_mount_namespace;
  bool new_cgroup_namespace;
  bool cloned_into_cgroup;
  /* The runtime moves the process into its cgroup while the process sets
   * up its rootfs, and sends SYNC_CGROUP_JOINED when done. */
  bool cgroup_deferred;
};

static void __attribute__ ((noreturn))
child_fail (struct child_context *ctx, ar_error_t *err)
{
  cleanup_free char *msg = ar_error_format (*err);

  if (sync_send (ctx->sync_fd, SYNC_ERROR, ar_error_errno (*err), msg, true) < 0)
    dprintf (STDERR_FILENO, "agentrun: %s\n", msg ? msg : "container setup failed");
  _exit (EXIT_FAILURE);
}

static const char *
env_lookup (char *const *env, const char *name)
{
  size_t len = strlen (name);

  for (size_t i = 0; env != NULL && env[i] != NULL; i++)
    if (strncmp (env[i], name, len) == 0 && env[i][len] == '=')
      return env[i] + len + 1;
  return NULL;
}

/* Finds args[0] in the container as execve would with a PATH search, and
 * checks that it can run, so that create fails with the message podman
 * maps to exit codes 127 and 126. */
static int
resolve_executable (const struct ar_process *process, char **out, ar_error_t *err)
{
  const char *name = process->args[0];
  const char *path_env;
  cleanup_free char *copy = NULL;
  int saved_errno = ENOENT;
  char *save = NULL;

  if (strchr (name, '/') != NULL)
    {
      struct stat st;

      /* podman maps "permission denied" to exit status 126 and "no such
       * file or directory" to 127, whatever the case. */
      if (stat (name, &st) < 0)
        {
          if (errno == EACCES)
            return ar_make_error (err, EACCES, "exec: \"%s\": cannot reach the executable", name);
          return ar_make_error (err, errno, "exec: \"%s\": executable file not found", name);
        }
      if (S_ISDIR (st.st_mode) || access (name, X_OK) < 0)
        return ar_make_error (err, EACCES, "exec: \"%s\": permission denied", name);
      *out = ar_xstrdup (name);
      return 0;
    }

  path_env = env_lookup (process->env, "PATH");
  copy = ar_xstrdup (path_env ? path_env : DEFAULT_PATH);
  for (char *dir = strtok_r (copy, ":", &save); dir != NULL; dir = strtok_r (NULL, ":", &save))
    {
      cleanup_free char *candidate = ar_xasprintf ("%s/%s", *dir ? dir : ".", name);
      struct stat st;

      if (stat (candidate, &st) < 0 || S_ISDIR (st.st_mode))
        continue;
      if (access (candidate, X_OK) < 0)
        {
          saved_errno = EACCES;
          continue;
        }
      *out = ar_steal_ptr (candidate);
      return 0;
    }

  if (saved_errno == EACCES)
    return ar_make_error (err, EACCES, "exec: \"%s\": permission denied", name);
  return ar_make_error (err, ENOENT, "exec: \"%s\": executable file not found in $PATH", name);
}

/* Builds the environment of the container process: process.env, plus HOME
 * from the container's /etc/passwd when the config sets none. */
static char **
build_environment (const struct ar_process *process)
{
  size_t n = ar_strv_len (process->env);
  char **env = ar_xmalloc0 ((n + 2) * sizeof (char *));
  FILE *passwd;
  char *line = NULL;
  size_t cap = 0;
  const char *home = NULL;

  for (size_t i = 0; i < n; i++)
    env[i] = ar_xstrdup (process->env[i]);
  if (env_lookup (process->env, "HOME") != NULL)
    return env;

  passwd = fopen ("/etc/passwd", "re");
  while (passwd != NULL && getline (&line, &cap, passwd) > 0)
    {
      char *fields[7] = { 0 };
      char *save = NULL, *p = line;
      int k = 0;

      line[strcspn (line, "\n")] = '\0';
      for (char *tok = strsep (&p, ":"); tok != NULL && k < 7; tok = strsep (&p, ":"))
        fields[k++] = tok;
      (void) save;
      if (k >= 6 && fields[2] && (uid_t) strtoul (fields[2], NULL, 10) == process->user.uid)
        {
          env[n] = ar_xasprintf ("HOME=%s", fields[5]);
          home = env[n];
          break;
        }
    }
  free (line);
  if (passwd)
    fclose (passwd);
  if (home == NULL)
    env[n] = ar_xstrdup ("HOME=/");
  return env;
}

static int
wait_for_message (struct child_context *ctx, int expected, ar_error_t *err)
{
  struct sync_message msg;
  int ret = sync_receive (ctx->sync_fd, &msg);

  if (ret < 0)
    return ar_make_error (err, -ret, "lost the runtime while waiting on the sync socket");
  if (msg.type == SYNC_ERROR)
    return ar_make_error (err, msg.errno_value, "%s", msg.text);
  if (msg.type != expected)
    return ar_make_error (err, EPROTO, "unexpected sync message %d (expected %d)", msg.type, expected);
  return 0;
}

static int
join_session_keyring (const char *id, ar_error_t *err)
{
  cleanup_free char *name = ar_xasprintf ("_ses.%s", id);

  /* KEYCTL_JOIN_SESSION_KEYRING = 1.  Kernels without keys, or user
   * namespaces where the keyring quota is exhausted, just keep the
   * inherited keyring, as other runtimes do. */
  if (syscall (SYS_keyctl, 1, name, 0, 0, 0) < 0 && errno != ENOSYS && errno != EDQUOT
      && errno != EACCES && errno != EPERM)
    return ar_make_error (err, errno, "cannot create the session keyring `%s`; pass --no-new-keyring",
                          name);
  return 0;
}

/* Sets hostname and domainname in the container's uts namespace, new or
 * joined; ar_namespaces_validate made sure it has one of its own. */
static int
set_hostname (const struct ar_config *config, ar_error_t *err)
{
  if (config->hostname && *config->hostname
      && sethostname (config->hostname, strlen (config->hostname)) < 0)
    return ar_make_error (err, errno, "hostname: cannot set `%s`", config->hostname);
  if (config->domainname && *config->domainname
      && setdomainname (config->domainname, strlen (config->domainname)) < 0)
    return ar_make_error (err, errno, "domainname: cannot set `%s`", config->domainname);
  return 0;
}

/* Reads the open fds through proc_fd, the runtime's /proc, because the
 * container may have no /proc of its own. */
static int
mark_fds_cloexec (int proc_fd, unsigned int first)
{
  int fd_dir = openat (proc_fd >= 0 ? proc_fd : AT_FDCWD, proc_fd >= 0 ? "self/fd" : "/proc/self/fd",
                       O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  DIR *dir = fd_dir >= 0 ? fdopendir (fd_dir) : NULL;
  struct dirent *de;

  if (dir == NULL)
    {
      if (fd_dir >= 0)
        close (fd_dir);
      return -1;
    }
  while ((de = readdir (dir)) != NULL)
    {
      long fd;

      if (ar_parse_long (de->d_name, &fd) < 0 || fd < (long) first || fd == dirfd (dir))
        continue;
      fcntl ((int) fd, F_SETFD, fcntl ((int) fd, F_GETFD) | FD_CLOEXEC);
    }
  closedir (dir);
  return 0;
}

/* Marks every fd from 3 on close-on-exec, except the preserved ones. */
static int
prepare_fds (int proc_fd, int preserve_fds, ar_error_t *err)
{
  unsigned int first = 3 + (unsigned int) (preserve_fds > 0 ? preserve_fds : 0);

  /* A seccomp profile older than close_range(2) denies it: walk the open
   * fds instead. */
  if (syscall (SYS_close_range, first, ~0U, CLOSE_RANGE_CLOEXEC) < 0 && mark_fds_cloexec (proc_fd, first) < 0)
    return ar_make_error (err, errno, "cannot mark inherited fds close-on-exec");
  for (int fd = 3; fd < (int) first; fd++)
    {
      int flags = fcntl (fd, F_GETFD);
      if (flags >= 0)
        fcntl (fd, F_SETFD, flags & ~FD_CLOEXEC);
    }
  return 0;
}

/* Blocks until `start` opens the exec FIFO, runs the startContainer hooks
 * and only then writes the byte that `start` waits for, so a failing
 * startContainer hook ends this process without the byte and start fails.
 * The close-on-exec write end then stays open until the exec: end of file
 * tells `start` that the command runs, and only then does it run the
 * poststart hooks. */
static int
wait_for_start (struct child_context *ctx, ar_error_t *err)
{
  const struct ar_spawn_request *req = ctx->request;
  cleanup_free char *path = ar_xasprintf ("self/fd/%d", req->exec_fifo_fd);
  int fd;

  do
    fd = openat (ctx->proc_fd, path, O_WRONLY | O_CLOEXEC);
  while (fd < 0 && errno == EINTR);
  if (fd < 0)
    return ar_make_error (err, errno, "cannot open the exec fifo");
  if (req->config->process == NULL)
    _exit (EXIT_FAILURE);

  if (req->config->hooks[AR_HOOK_START_CONTAINER].n_hooks > 0)
    {
      cleanup_free char *state = ar_xasprintf ("{\"ociVersion\":\"1.2.0\",\"id\":\"%s\",\"status\":\"running\","
                                               "\"pid\":%d,\"bundle\":\"%s\"}",
                                               req->id, (int) getpid (), req->bundle);
      if (ar_hooks_run (req->config, AR_HOOK_START_CONTAINER, state, err) < 0)
        return -1;
    }

  if (ar_write_all (fd, "0", 1) < 0)
    return ar_make_error (err, errno, "cannot write the exec fifo");
  return 0;
}

/* Checks that process.cwd is inside the container's root: a cwd such as
 * /proc/self/fd/N could name a directory the runtime still holds open,
 * outside the root (CVE-2024-21626), and getcwd(3) then fails with ENOENT
 * or returns "(unreachable)...".  It runs as root before the seccomp
 * filter, which may deny getcwd; the process changes to cwd again after
 * its user switch, so that the user's permissions apply. */
static int
check_cwd_inside_root (const char *cwd, ar_error_t *err)
{
  char buf[4096];

  if (chdir (cwd) < 0)
    return ar_make_error (err, errno, "process.cwd: cannot change directory to `%s`", cwd);
  if (getcwd (buf, sizeof (buf)) == NULL)
    {
      if (errno == ENOENT)
        return ar_make_error (err, EPERM, "process.cwd `%s` is outside the container's root", cwd);
      return 0;
    }
  if (buf[0] != '/')
    return ar_make_error (err, EPERM, "process.cwd `%s` is outside the container's root", cwd);
  return 0;
}

/* Loads the seccomp filter; a listener fd goes to the runtime, which
 * passes it to linux.seccomp.listenerPath. */
static int
load_seccomp (struct child_context *ctx, ar_error_t *err)
{
  int listener_fd = -1;
  int ret;

  if (ar_seccomp_load (ctx->request->seccomp, &listener_fd, err) < 0)
    return -1;
  if (listener_fd < 0)
    return 0;
  ret = sync_send_fd (ctx->sync_fd, SYNC_SECCOMP_FD, listener_fd);
  close (listener_fd);
  if (ret < 0)
    return ar_make_error (err, -ret, "cannot pass the seccomp listener fd to the runtime");
  return 0;
}

/* Applies the process settings shared by create and exec, from rlimits to
 * the resolved executable. */
static int
process_setup (struct child_context *ctx, char **exec_path, char ***exec_env, ar_error_t *err)
{
  const struct ar_spawn_request *req = ctx->request;
  const struct ar_config *config = req->config;
  const struct ar_process *process = config->process;

  if (ar_exec_guard_prepare (&ctx->guard_fd, err) < 0)
    return -1;

  if (ar_apply_rlimits (process, err) < 0)
    return -1;
  if (process->has_oom_score_adj && ar_apply_oom_score_adj (process->oom_score_adj, err) < 0)
    return -1;
  if (config->linux_config.personality && ar_apply_personality (config->linux_config.personality, err) < 0)
    return -1;
  if (process->io_priority && ar_apply_io_priority (process->io_priority, err) < 0)
    return -1;
  if (process->scheduler && ar_apply_scheduler (process->scheduler, err) < 0)
    return -1;

  if (process->cwd && check_cwd_inside_root (process->cwd, err) < 0)
    return -1;

  /* Without no_new_privileges the filter must be loaded while the process
   * still has CAP_SYS_ADMIN, before the user switch drops it.  A filter
   * with a listener is loaded before the runtime returns, because the
   * runtime hands the listener fd on. */
  if (req->seccomp && !process->no_new_privileges && load_seccomp (ctx, err) < 0)
    return -1;

  if (ar_apply_bounding_set (process->capabilities, err) < 0)
    return -1;
  if (ar_apply_user_and_capabilities (process, err) < 0)
    return -1;

  if (process->cwd && chdir (process->cwd) < 0)
    return ar_make_error (err, errno, "process.cwd: cannot change directory to `%s`", process->cwd);

  if (process->no_new_privileges && prctl (PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
    return ar_make_error (err, errno, "process.noNewPrivileges: cannot set no_new_privs");

  if (req->seccomp && process->no_new_privileges && req->seccomp->needs_listener && load_seccomp (ctx, err) < 0)
    return -1;

  *exec_env = build_environment (process);
  if (resolve_executable (process, exec_path, err) < 0)
    return -1;

  return prepare_fds (ctx->proc_fd, req->preserve_fds, err);
}

/* Makes a new pty the process's terminal and sends its master over the
 * console socket. */
static int
setup_terminal (int console_fd, const struct ar_process *process, ar_error_t *err)
{
  if (ar_console_setup (console_fd, process->console_height, process->console_width, err) < 0)
    return -1;
  close (console_fd);

  /* The terminal belongs to the container's user, as a login would leave
   * it. */
  if (fchown (STDIN_FILENO, process->user.uid, process->user.gid) < 0)
    return ar_make_error (err, errno, "cannot give the terminal to uid %u", (unsigned) process->user.uid);
  return 0;
}

static int
exec_setup (struct child_context *ctx, char **exec_path, char ***exec_env, ar_error_t *err)
{
  const struct ar_spawn_request *req = ctx->request;
  const struct ar_process *process = req->config->process;

  if (req->user_namespace_fd >= 0)
    {
      if (setns (req->user_namespace_fd, CLONE_NEWUSER) < 0)
        return ar_make_error (err, errno, "cannot join the container's user namespace");
      close (req->user_namespace_fd);
      if (setresgid (0, 0, 0) < 0 || setresuid (0, 0, 0) < 0)
        return ar_make_error (err, errno, "cannot become root of the container's user namespace");
    }

  if (process->terminal && req->console_fd >= 0 && setup_terminal (req->console_fd, process, err) < 0)
    return -1;

  return process_setup (ctx, exec_path, exec_env, err);
}

/* A container in the runtime's own mount namespace cannot get mounts of
 * its own without changing the host's, so it only gets its rootfs as
 * root directory: config mounts, devices and masked or read-only paths
 * need a mount namespace and are left out, with a warning. */
static int
enter_rootfs_without_mounts (struct child_context *ctx, ar_error_t *err)
{
  const struct ar_config *config = ctx->request->config;

  if (config->n_mounts > 0 || config->linux_config.n_devices > 0
      || ar_strv_len (config->linux_config.masked_paths) > 0 || ar_strv_len (config->linux_config.readonly_paths) > 0)
    ar_warn ("container `%s` shares the runtime's mount namespace, so its mounts, devices, maskedPaths and "
             "readonlyPaths are not applied; add {\"type\": \"mount\"} to linux.namespaces to get them",
             ctx->request->id);

  if (strcmp (ctx->request->rootfs, "/") == 0)
    return 0;
  if (chroot (ctx->request->rootfs) < 0)
    return ar_make_error (err, errno, "cannot change the root directory to `%s`", ctx->request->rootfs);
  if (chdir ("/") < 0)
    return ar_make_error (err, errno, "cannot change directory to the new root");
  return 0;
}

/* Joins the user namespace given by path and only then creates the new
 * namespaces, so that they belong to it.  A new pid namespace applies to
 * children only, so the process forks: the child goes on as the
 * container process and this one reports its pid and exits. */
static int
join_user_namespace (struct child_context *ctx, ar_error_t *err)
{
  uint64_t flags = ctx->deferred_flags;
  pid_t child;

  if (setns (ctx->join_user_fd, CLONE_NEWUSER) < 0)
    return ar_make_error (err, errno, "linux.namespaces: cannot join the user namespace `%s`",
                          ctx->request->config->linux_config.namespaces[AR_NS_USER].path);
  close (ctx->join_user_fd);
  ctx->join_user_fd = -1;

  if (setresgid (0, 0, 0) < 0 || setresuid (0, 0, 0) < 0)
    return ar_make_error (err, errno, "cannot become root of the joined user namespace: uid and gid 0 "
                                      "must be mapped in it");

  if (unshare ((int) (flags & ~(uint64_t) CLONE_NEWPID)) < 0)
    return ar_make_error (err, errno, "cannot create the namespaces %s in the joined user namespace",
                          ar_namespaces_describe_flags (flags & ~(uint64_t) CLONE_NEWPID));
  if (!(flags & CLONE_NEWPID))
    return 0;

  if (unshare (CLONE_NEWPID) < 0)
    return ar_make_error (err, errno, "cannot create the pid namespace in the joined user namespace");
  child = fork ();
  if (child < 0)
    return ar_make_error (err, errno, "cannot fork into the new pid namespace");
  if (child > 0)
    {
      sync_send (ctx->sync_fd, SYNC_PID, (int) child, NULL, true);
      _exit (EXIT_SUCCESS);
    }
  return 0;
}

static int
child_setup (struct child_context *ctx, char **exec_path, char ***exec_env, ar_error_t *err)
{
  const struct ar_spawn_request *req = ctx->request;
  const struct ar_config *config = req->config;
  const struct ar_process *process = config->process;
  struct ar_rootfs_context rootfs = {
    .config = config,
    .rootfs = req->rootfs,
    .cgroup = req->cgroup,
    .in_user_namespace = ctx->new_user_namespace || config->linux_config.namespaces[AR_NS_USER].present,
    .in_cgroup_namespace = config->linux_config.namespaces[AR_NS_CGROUP].present,
    .no_pivot = req->no_pivot,
  };

  if (wait_for_message (ctx, SYNC_GO, err) < 0)
    return -1;

  if (req->exec_mode)
    return exec_setup (ctx, exec_path, exec_env, err);

  if (ctx->join_user_fd >= 0 && join_user_namespace (ctx, err) < 0)
    return -1;

  if (ctx->new_user_namespace)
    {
      /* Become root of the new namespace, when 0 is mapped, so that the
       * set-up below runs with its full capabilities. */
      if (setresgid (0, 0, 0) < 0 && errno != EINVAL)
        return ar_make_error (err, errno, "cannot become gid 0 in the user namespace");
      if (setresuid (0, 0, 0) < 0 && errno != EINVAL)
        return ar_make_error (err, errno, "cannot become uid 0 in the user namespace");
    }

  if (ctx->new_cgroup_namespace && !ctx->cloned_into_cgroup && unshare (CLONE_NEWCGROUP) < 0)
    return ar_make_error (err, errno, "cannot create the cgroup namespace");

  if (set_hostname (config, err) < 0)
    return -1;

  if (config->linux_config.namespaces[AR_NS_NETWORK].present
      && config->linux_config.namespaces[AR_NS_NETWORK].path == NULL && ar_namespaces_loopback_up (err) < 0)
    return -1;

  if (!req->no_new_keyring && join_session_keyring (req->id, err) < 0)
    return -1;

  ctx->proc_fd = open ("/proc", O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (ctx->proc_fd < 0)
    return ar_make_error (err, errno, "cannot open /proc");

  /* A mount namespace joined by path gets the rootfs set up inside it too,
   * as runc and crun do: the container's root is its rootfs either way. */
  if (config->linux_config.namespaces[AR_NS_MOUNT].present && ar_rootfs_prepare (&rootfs, err) < 0)
    return -1;

  /* Nothing below may run outside the container's cgroup: the hooks may
   * look for the process there, and the command must start in it. */
  if (ctx->cgroup_deferred)
    {
      if (wait_for_message (ctx, SYNC_CGROUP_JOINED, err) < 0)
        return -1;
    }

  /* ar_identity_prepare made sure that a container with an identity has a
   * mount namespace and a process. */
  if (req->identity != NULL)
    {
      cleanup_close int svid_dir_fd = -1;
      int ret;

      if (ar_identity_install (req->identity, req->rootfs, process->user.uid, process->user.gid, &svid_dir_fd,
                               err) < 0)
        return -1;
      ret = sync_send_fd (ctx->sync_fd, SYNC_IDENTITY_DIR, svid_dir_fd);
      if (ret < 0)
        return ar_make_error (err, -ret, "cannot pass the SVID folder's fd to the runtime");
    }

  if (config->hooks[AR_HOOK_PRESTART].n_hooks > 0 || config->hooks[AR_HOOK_CREATE_RUNTIME].n_hooks > 0)
    {
      if (sync_send (ctx->sync_fd, SYNC_HOOKS_REQUEST, 0, NULL, true) < 0)
        return ar_make_error (err, errno, "cannot reach the runtime on the sync socket");
      if (wait_for_message (ctx, SYNC_HOOKS_DONE, err) < 0)
        return -1;
    }

  if (config->hooks[AR_HOOK_CREATE_CONTAINER].n_hooks > 0)
    {
      cleanup_free char *state = ar_xasprintf ("{\"ociVersion\":\"1.2.0\",\"id\":\"%s\",\"status\":\"creating\","
                                               "\"pid\":%d,\"bundle\":\"%s\"}",
                                               req->id, (int) getpid (), req->bundle);
      if (ar_hooks_run (config, AR_HOOK_CREATE_CONTAINER, state, err) < 0)
        return -1;
    }

  if (config->linux_config.namespaces[AR_NS_MOUNT].present && ar_rootfs_enter (&rootfs, err) < 0)
    return -1;
  if (!config->linux_config.namespaces[AR_NS_MOUNT].present && enter_rootfs_without_mounts (ctx, err) < 0)
    return -1;

  /* Without a process the container only waits, until delete kills it:
   * start refuses to run it. */
  if (process == NULL)
    return prepare_fds (ctx->proc_fd, req->preserve_fds, err);

  if (process->terminal && req->console_fd >= 0 && setup_terminal (req->console_fd, process, err) < 0)
    return -1;

  return process_setup (ctx, exec_path, exec_env, err);
}

static int __attribute__ ((noreturn))
child_main (struct child_context *ctx)
{
  const struct ar_spawn_request *req = ctx->request;
  cleanup_error ar_error_t err = NULL;
  cleanup_free char *exec_path = NULL;
  char **exec_env = NULL;

  if (child_setup (ctx, &exec_path, &exec_env, &err) < 0)
    child_fail (ctx, &err);

  /* The runtime may exit as soon as it reads SYNC_READY (create, exec
   * --detach), and a parent-death signal still set then would kill this
   * process, so it is cleared first.  If the runtime died before, the
   * send fails. */
  prctl (PR_SET_PDEATHSIG, 0, 0, 0, 0);
  if (sync_send (ctx->sync_fd, SYNC_READY, 0, NULL, true) < 0)
    _exit (EXIT_FAILURE);
  /* exec keeps the close-on-exec sync socket open until the exec, so its
   * runtime returns only once the command runs. */
  if (!req->exec_mode)
    close (ctx->sync_fd);

  /* From here on the runtime has returned: errors go to the container's
   * stderr, which conmon or the caller collects. */

  if (req->exec_mode)
    {
      if (req->seccomp && req->config->process->no_new_privileges && !req->seccomp->needs_listener
          && ar_seccomp_load (req->seccomp, NULL, &err) < 0)
        goto fail;
      ar_exec_guarded_fd (ctx->guard_fd, exec_path, req->config->process->args, exec_env, &err);
      goto fail;
    }

  if (wait_for_start (ctx, &err) < 0)
    goto fail;

  close (ctx->proc_fd);

  if (req->seccomp && req->config->process->no_new_privileges && !req->seccomp->needs_listener
      && ar_seccomp_load (req->seccomp, NULL, &err) < 0)
    goto fail;

  ar_exec_guarded_fd (ctx->guard_fd, exec_path, req->config->process->args, exec_env, &err);

fail:
  {
    cleanup_free char *msg = ar_error_format (err);
    int errno_value = ar_error_errno (err);

    dprintf (STDERR_FILENO, "agentrun: %s\n", msg ? msg : "cannot start the container process");

    /* The shell's exit codes for a missing and a non-executable command. */
    if (errno_value == ENOENT)
      _exit (127);
    if (errno_value == EACCES)
      _exit (126);
    _exit (EXIT_FAILURE);
  }
}

/* Runtime side ----------------------------------------------------------- */

static pid_t
clone3_compat (uint64_t flags, int cgroup_fd)
{
  struct clone_args args = {
    .flags = flags,
    .exit_signal = SIGCHLD,
  };

  if (cgroup_fd >= 0)
    {
      args.flags |= CLONE_INTO_CGROUP;
      args.cgroup = (uint64_t) cgroup_fd;
    }
  return (pid_t) syscall (SYS_clone3, &args, sizeof (args));
}

/* Waits until sync_fd has a message.  Meanwhile, the system calls that
 * stop at the container's audit-mode filter (listener_fd, or -1) are let
 * through and passed to on_seccomp_notice, because no other process handles
 * them before the keeper starts. */
static int
wait_answering_notices (const struct ar_spawn_request *req, int sync_fd, int listener_fd, ar_error_t *err)
{
  while (listener_fd >= 0)
    {
      struct pollfd fds[2] = { { .fd = sync_fd, .events = POLLIN }, { .fd = listener_fd, .events = POLLIN } };
      struct ar_seccomp_notice notice;

      if (poll (fds, 2, -1) < 0)
        {
          if (errno == EINTR)
            continue;
          return ar_make_error (err, errno, "cannot wait for the container process");
        }
      if (fds[1].revents & POLLIN)
        {
          int ret = ar_seccomp_notice_answer (listener_fd, &notice, err);
          if (ret < 0 && ret != -EAGAIN)
            return -1;
          if (ret == 0 && req->on_seccomp_notice)
            req->on_seccomp_notice (req->hooks_data, &notice);
        }
      if (fds[0].revents)
        return 0;
    }
  return 0;
}

static int
receive_until_ready (const struct ar_spawn_request *req, int sync_fd, pid_t *pid_inout, pid_t *intermediate,
                     ar_error_t *err)
{
  cleanup_close int audit_listener = -1;
  pid_t pid = *pid_inout;

  for (;;)
    {
      struct sync_message msg;
      cleanup_close int attached_fd = -1;
      int ret;

      if (wait_answering_notices (req, sync_fd, audit_listener, err) < 0)
        return -1;
      ret = sync_receive_with_fd (sync_fd, &msg, &attached_fd);

      if (ret < 0)
        return ar_make_error (err, -ret == EPIPE ? ECHILD : -ret,
                              "the container process exited during set-up");

      switch (msg.type)
        {
        case SYNC_SECCOMP_FD:
          if (attached_fd < 0)
            return ar_make_error (err, EPROTO, "the container process sent no seccomp listener fd");
          if (req->send_seccomp_listener == NULL)
            return ar_make_error (err, ENOTSUP, "linux.seccomp: a listener is not supported here");
          if (req->send_seccomp_listener (req->hooks_data, pid, attached_fd, err) < 0)
            return -1;
          if (req->on_seccomp_notice)
            audit_listener = ar_steal_fd (attached_fd);
          break;

        case SYNC_IDENTITY_DIR:
          if (attached_fd < 0)
            return ar_make_error (err, EPROTO, "the container process sent no SVID folder fd");
          if (req->keep_identity_dir == NULL)
            return ar_make_error (err, EPROTO, "unexpected SVID folder fd from the container process");
          if (req->keep_identity_dir (req->hooks_data, ar_steal_fd (attached_fd), err) < 0)
            return -1;
          break;

        case SYNC_READY:
          *pid_inout = pid;
          return 0;

        case SYNC_PID:
          *intermediate = pid;
          pid = (pid_t) msg.errno_value;
          *pid_inout = pid;
          if (req->on_cloned && req->on_cloned (req->hooks_data, pid, err) < 0)
            return -1;
          break;

        case SYNC_ERROR:
          return ar_make_error (err, msg.errno_value, "%s", msg.text);

        case SYNC_HOOKS_REQUEST:
          if (req->run_runtime_hooks && req->run_runtime_hooks (req->hooks_data, pid, err) < 0)
            {
              cleanup_free char *text = ar_error_format (*err);
              sync_send (sync_fd, SYNC_ERROR, ar_error_errno (*err), text, false);
              return -1;
            }
          if (sync_send (sync_fd, SYNC_HOOKS_DONE, 0, NULL, false) < 0)
            return ar_make_error (err, errno, "cannot reach the container process");
          break;

        default:
          return ar_make_error (err, EPROTO, "unexpected sync message %d from the container process",
                                msg.type);
        }
    }
}

/* Reads the messages that the container process sent before it died and
 * replaces *err with the text of a SYNC_ERROR among them. */
static void
child_error_pending (int sync_fd, ar_error_t *err)
{
  for (;;)
    {
      struct pollfd pfd = { .fd = sync_fd, .events = POLLIN };
      struct sync_message msg;
      cleanup_close int attached_fd = -1;

      if (poll (&pfd, 1, 0) != 1 || !(pfd.revents & POLLIN))
        return;
      if (sync_receive_with_fd (sync_fd, &msg, &attached_fd) < 0)
        return;
      if (msg.type == SYNC_ERROR)
        {
          ar_error_release (err);
          ar_make_error (err, msg.errno_value, "%s", msg.text);
          return;
        }
    }
}

static void
kill_and_reap (pid_t pid)
{
  int status;

  kill (pid, SIGKILL);
  while (waitpid (pid, &status, 0) < 0 && errno == EINTR)
    ;
}

int
ar_spawn_container (const struct ar_spawn_request *req, pid_t *pid_out, ar_error_t *err)
{
  const struct ar_linux *linux_config = &req->config->linux_config;
  cleanup_namespaces struct ar_namespace_switch ns = AR_NAMESPACE_SWITCH_INIT;
  struct child_context ctx = { .request = req, .proc_fd = -1, .guard_fd = -1 };
  int sync_fds[2];
  cleanup_close int cgroup_fd = -1;
  cleanup_close int join_user_fd = -1;
  uint64_t flags;
  pid_t pid, intermediate = 0;

  flags = ar_namespaces_clone_flags (linux_config);
  ctx.join_user_fd = -1;
  if (!req->exec_mode && linux_config->namespaces[AR_NS_USER].present
      && linux_config->namespaces[AR_NS_USER].path != NULL)
    {
      join_user_fd = open (linux_config->namespaces[AR_NS_USER].path, O_RDONLY | O_CLOEXEC);
      if (join_user_fd < 0)
        return ar_make_error (err, errno, "linux.namespaces: cannot open the user namespace `%s`",
                              linux_config->namespaces[AR_NS_USER].path);
      ctx.join_user_fd = join_user_fd;
      ctx.deferred_flags = flags & ~(uint64_t) CLONE_NEWTIME;
      flags &= (uint64_t) CLONE_NEWTIME;
    }

  ctx.new_user_namespace = (flags & CLONE_NEWUSER) != 0;
  ctx.new_mount_namespace = (flags & CLONE_NEWNS) != 0;
  ctx.new_cgroup_namespace = (flags & CLONE_NEWCGROUP) != 0;

  if (req->cgroup && ar_cgroup_clone_into_fd (req->cgroup, &cgroup_fd, err) < 0)
    return -1;

  /* The kernel checks CLONE_INTO_CGROUP against the caller's cgroup
   * namespace.  The runtime joins a cgroup namespace given by path (the
   * container's, for exec) before the clone, and under nsdelegate the
   * move fails with ENOENT when the runtime's own cgroup is outside that
   * namespace.  The runtime moves the process in after the clone instead. */
  if (cgroup_fd >= 0 && linux_config->namespaces[AR_NS_CGROUP].present
      && linux_config->namespaces[AR_NS_CGROUP].path != NULL)
    {
      close (cgroup_fd);
      cgroup_fd = -1;
    }
  ctx.cloned_into_cgroup = cgroup_fd >= 0;
  if (!ctx.cloned_into_cgroup)
    flags &= ~(uint64_t) CLONE_NEWCGROUP;
  /* Not for exec, nor for a joined user namespace, where the process
   * forks the container process right after SYNC_GO, nor for a new cgroup
   * namespace, which the rootfs's cgroup mounts must see already. */
  ctx.cgroup_deferred = req->cgroup != NULL && !ctx.cloned_into_cgroup && !req->exec_mode && ctx.join_user_fd < 0
                        && !ctx.new_cgroup_namespace;

  if (socketpair (AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sync_fds) < 0)
    return ar_make_error (err, errno, "cannot create the sync socket");

  /* Namespaces given by path are entered by the runtime just around the
   * clone, so the container process starts inside them, and new pid and
   * time namespaces apply to it from the start. */
  if (ar_namespaces_enter_for_clone (linux_config, &ns, err) < 0)
    goto fail_sockets;

  pid = clone3_compat (flags & ~(uint64_t) CLONE_NEWTIME, cgroup_fd);
  if (pid < 0 && errno == ENOSYS)
    {
      /* Kernels before 5.3, valgrind, and seccomp profiles return ENOSYS
       * for clone3.  clone(2) cannot start the process in its cgroup, so
       * the runtime moves it there and the process creates its cgroup
       * namespace after that. */
      ctx.cloned_into_cgroup = false;
      pid = (pid_t) syscall (SYS_clone, (unsigned long) (flags & ~(uint64_t) (CLONE_NEWTIME | CLONE_NEWCGROUP)) | SIGCHLD,
                             NULL, NULL, NULL, NULL);
    }

  if (pid == 0)
    {
      close (sync_fds[0]);
      ctx.sync_fd = sync_fds[1];
      prctl (PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
      /* Until the exec, /proc/PID/exe of this process is the agentrun
       * binary: keep other processes of the container from opening it. */
      prctl (PR_SET_DUMPABLE, 0, 0, 0, 0);
      child_main (&ctx);
    }

  if (pid < 0)
    {
      int saved = errno;
      ar_namespaces_restore (&ns, NULL);
      ar_make_error (err, saved, "cannot create the container process with namespaces %s",
                     ar_namespaces_describe_flags (flags));
      goto fail_sockets;
    }

  close (sync_fds[1]);
  if (ar_namespaces_restore (&ns, err) < 0)
    goto fail_child;

  if (req->on_cloned && req->on_cloned (req->hooks_data, pid, err) < 0)
    goto fail_child;

  if (ctx.new_user_namespace && ar_namespaces_write_id_maps (pid, linux_config, err) < 0)
    goto fail_child;

  if (req->cgroup && !ctx.cloned_into_cgroup && !ctx.cgroup_deferred && ar_cgroup_enter (req->cgroup, pid, err) < 0)
    goto fail_child;

  if (sync_send (sync_fds[0], SYNC_GO, 0, NULL, false) < 0)
    {
      ar_make_error (err, errno, "the container process exited before set-up");
      goto fail_child;
    }

  /* On cgroup v1 the first write to a cgroup.procs file waits for an RCU
   * grace period (5 to 15 ms): the container process prepares its rootfs
   * meanwhile. */
  if (ctx.cgroup_deferred)
    {
      int ret = ar_cgroup_enter (req->cgroup, pid, err);

      if (ret == 0 && sync_send (sync_fds[0], SYNC_CGROUP_JOINED, 0, NULL, false) < 0)
        ret = ar_make_error (err, errno, "the container process exited during set-up");
      if (ret < 0)
        {
          /* The container process may have failed first, and its own
           * message then gives the cause, so it replaces this error. */
          kill (pid, SIGKILL);
          child_error_pending (sync_fds[0], err);
          goto fail_child;
        }
    }

  if (receive_until_ready (req, sync_fds[0], &pid, &intermediate, err) < 0)
    goto fail_child;

  /* For exec, end of file on the sync socket means the process has
   * executed its command (or died), as `exec --detach` callers expect. */
  if (req->exec_mode)
    {
      char byte;
      ssize_t n;

      do
        n = read (sync_fds[0], &byte, 1);
      while (n > 0 || (n < 0 && errno == EINTR));
    }

  close (sync_fds[0]);
  if (intermediate > 0)
    kill_and_reap (intermediate);
  *pid_out = pid;
  return 0;

fail_child:
  close (sync_fds[0]);
  if (intermediate > 0)
    {
      kill (pid, SIGKILL);
      kill_and_reap (intermediate);
    }
  else
    kill_and_reap (pid);
  return -1;

fail_sockets:
  close (sync_fds[0]);
  close (sync_fds[1]);
  return -1;
}
