/* process.terminal against real ptys: a forked child plays the container
 * process and calls ar_console_socket_connect and
 * ar_console_setup on the host's /dev/ptmx, in a session of its own. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "console.h"
#include "oci/error.h"
#include "oci/util.h"
#include "unit.h"

/* How long a test waits for output or for a child before it gives up. */
#define TIMEOUT_MS 5000

/* A directory name long enough that DIR/NAME.sock passes the 108 bytes of
 * sun_path, while NAME.sock alone fits through /proc/self/fd/N/. */
#define LONG_DIR_NAME                                                           \
  "ar-console-a-directory-name-long-enough-to-push-the-socket-path-past-sun-path"

struct socket_dir
{
  char top[64];      /* mkdtemp result under /tmp */
  char *long_dir;    /* top/LONG_DIR_NAME */
  char *socket_path; /* long_dir/console.sock, longer than sun_path */
};

static long
elapsed_ms (const struct timespec *start)
{
  struct timespec now;

  clock_gettime (CLOCK_MONOTONIC, &now);
  return (now.tv_sec - start->tv_sec) * 1000 + (now.tv_nsec - start->tv_nsec) / 1000000;
}

static bool
make_socket_dir (struct socket_dir *dir)
{
  memset (dir, 0, sizeof (*dir));
  strcpy (dir->top, "/tmp/ar-console-XXXXXX");
  if (mkdtemp (dir->top) == NULL)
    return false;
  dir->long_dir = ar_xasprintf ("%s/%s", dir->top, LONG_DIR_NAME);
  dir->socket_path = ar_xasprintf ("%s/console.sock", dir->long_dir);
  return mkdir (dir->long_dir, 0700) == 0;
}

static void
remove_socket_dir (struct socket_dir *dir)
{
  unlink (dir->socket_path);
  rmdir (dir->long_dir);
  rmdir (dir->top);
  free (dir->long_dir);
  free (dir->socket_path);
}

/* Listens on dir->socket_path, binding through the directory's O_PATH fd as
 * conmon does, because the path does not fit in sun_path. */
static int
listen_long_path (const struct socket_dir *dir)
{
  struct sockaddr_un addr = { .sun_family = AF_UNIX };
  cleanup_close int dir_fd = -1;
  int fd;

  dir_fd = open (dir->long_dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (dir_fd < 0)
    return -1;
  snprintf (addr.sun_path, sizeof (addr.sun_path), "/proc/self/fd/%d/console.sock", dir_fd);

  fd = socket (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0)
    return -1;
  if (bind (fd, (struct sockaddr *) &addr, sizeof (addr)) < 0 || listen (fd, 1) < 0)
    {
      close (fd);
      return -1;
    }
  return fd;
}

static int
accept_with_timeout (int listen_fd)
{
  struct pollfd pfd = { .fd = listen_fd, .events = POLLIN };

  if (poll (&pfd, 1, TIMEOUT_MS) != 1)
    return -1;
  return accept4 (listen_fd, NULL, NULL, SOCK_CLOEXEC);
}

/* Receives the master the way conmon's recvfd (src/cmsg.c) does: a 4096-byte
 * payload buffer, room for exactly one fd, and a cmsg that must be
 * SOL_SOCKET / SCM_RIGHTS with cmsg_len == CMSG_LEN (sizeof (int)). */
static int
receive_like_conmon (int conn_fd, char *name, size_t name_size)
{
  union
  {
    char buf[CMSG_SPACE (sizeof (int))];
    struct cmsghdr align;
  } control;
  char payload[4096];
  struct iovec iov = { .iov_base = payload, .iov_len = sizeof (payload) };
  struct msghdr msg = {
    .msg_iov = &iov,
    .msg_iovlen = 1,
    .msg_control = control.buf,
    .msg_controllen = sizeof (control.buf),
  };
  struct pollfd pfd = { .fd = conn_fd, .events = POLLIN };
  struct cmsghdr *cmsg;
  ssize_t n;
  int fd;

  if (poll (&pfd, 1, TIMEOUT_MS) != 1)
    return -1;
  n = recvmsg (conn_fd, &msg, MSG_CMSG_CLOEXEC);
  if (n <= 0)
    return -1;

  cmsg = CMSG_FIRSTHDR (&msg);
  if (cmsg == NULL || cmsg->cmsg_level != SOL_SOCKET || cmsg->cmsg_type != SCM_RIGHTS
      || cmsg->cmsg_len != CMSG_LEN (sizeof (int)))
    return -1;
  memcpy (&fd, CMSG_DATA (cmsg), sizeof (int));

  /* The payload must be one NUL-terminated name. */
  if (payload[n - 1] != '\0' || strlen (payload) + 1 != (size_t) n)
    {
      close (fd);
      return -1;
    }
  if ((size_t) n > name_size)
    {
      close (fd);
      return -1;
    }
  memcpy (name, payload, (size_t) n);
  return fd;
}

/* Appends what fd produces to buf until needle appears in buf, fd reaches
 * EOF or EIO, or TIMEOUT_MS pass.  Returns whether needle was found. */
static bool
read_until (int fd, char *buf, size_t size, size_t *len, const char *needle)
{
  struct timespec start;

  clock_gettime (CLOCK_MONOTONIC, &start);
  for (;;)
    {
      struct pollfd pfd = { .fd = fd, .events = POLLIN };
      long left;
      ssize_t n;

      buf[*len] = '\0';
      if (strstr (buf, needle) != NULL)
        return true;
      left = TIMEOUT_MS - elapsed_ms (&start);
      if (left <= 0 || *len + 1 >= size)
        return false;
      if (poll (&pfd, 1, (int) left) <= 0)
        continue;
      n = read (fd, buf + *len, size - 1 - *len);
      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0)
        {
          buf[*len] = '\0';
          return strstr (buf, needle) != NULL;
        }
      *len += (size_t) n;
    }
}

/* Waits for pid, killing it after TIMEOUT_MS.  Returns the wait status, or
 * -1 when the child had to be killed. */
static int
wait_child (pid_t pid)
{
  struct timespec start;
  int status;

  clock_gettime (CLOCK_MONOTONIC, &start);
  while (elapsed_ms (&start) < TIMEOUT_MS)
    {
      pid_t ret = waitpid (pid, &status, WNOHANG);
      if (ret == pid)
        return status;
      if (ret < 0 && errno != EINTR)
        return -1;
      usleep (10000);
    }
  kill (pid, SIGKILL);
  waitpid (pid, &status, 0);
  return -1;
}

static bool
exited_zero (int status)
{
  return status != -1 && WIFEXITED (status) && WEXITSTATUS (status) == 0;
}

/* Closes every fd above stderr except keep, so that a forked child keeps
 * no open pipe end or pty of the test that would hide an end of file. */
static void
close_other_fds (int keep)
{
  if (keep > 3)
    close_range (3, (unsigned int) keep - 1, 0);
  close_range ((unsigned int) (keep >= 3 ? keep + 1 : 3), ~0U, 0);
}

/* The container stand-in after ar_console_setup: reports its terminal, then
 * replies to lines on stdin ("size" prints the window size, "exit" exits, any
 * other line is echoed back as "got: LINE") until end of file. */
static void __attribute__ ((noreturn))
serve_terminal (void)
{
  struct winsize size = { 0 };
  char line[256];
  char *tty = ttyname (STDIN_FILENO);
  int ctty = open ("/dev/tty", O_RDWR | O_CLOEXEC);

  printf ("tty=%s isatty=%d,%d,%d ctty=%d leader=%d ready\n", tty ? tty : "none", isatty (0), isatty (1),
          isatty (2), ctty >= 0, getsid (0) == getpid ());
  fflush (stdout);

  while (fgets (line, sizeof (line), stdin) != NULL)
    {
      line[strcspn (line, "\n")] = '\0';
      if (strcmp (line, "exit") == 0)
        _exit (0);
      if (strcmp (line, "size") == 0)
        {
          ioctl (STDIN_FILENO, TIOCGWINSZ, &size);
          printf ("size=%ux%u\n", size.ws_row, size.ws_col);
        }
      else
        printf ("got: %s\n", line);
      fflush (stdout);
    }
  printf ("eof\n");
  fflush (stdout);
  _exit (0);
}

/* Forks the container stand-in: it connects to socket_path (or uses
 * socket_fd when socket_path is NULL), sets up the terminal and serves it.
 * Exit status 10 and 11 mean the connect or the setup failed. */
static pid_t
fork_container (const char *socket_path, int socket_fd, unsigned int height, unsigned int width)
{
  pid_t pid;

  fflush (NULL);
  pid = fork ();
  if (pid != 0)
    return pid;

  {
    ar_error_t err = NULL;
    int fd = socket_fd;

    close_other_fds (socket_fd);

    if (socket_path != NULL)
      {
        fd = ar_console_socket_connect (socket_path, &err);
        if (fd < 0)
          {
            fprintf (stderr, "connect: %s\n", ar_error_format (err));
            _exit (10);
          }
      }
    if (ar_console_setup (fd, height, width, &err) < 0)
      {
        fprintf (stderr, "setup: %s\n", ar_error_format (err));
        _exit (11);
      }
    close (fd);
    serve_terminal ();
  }
}

static void
test_setup_over_long_socket_path (void)
{
  struct socket_dir dir;
  cleanup_close int listen_fd = -1;
  cleanup_close int conn_fd = -1;
  cleanup_close int master_fd = -1;
  struct winsize new_size = { .ws_row = 40, .ws_col = 120 };
  char name[256] = "";
  char expected[300];
  char out[8192];
  size_t len = 0;
  pid_t pid;

  CHECK (make_socket_dir (&dir));
  CHECK (strlen (dir.socket_path) >= sizeof (((struct sockaddr_un *) NULL)->sun_path));
  listen_fd = listen_long_path (&dir);
  CHECK (listen_fd >= 0);
  if (listen_fd < 0)
    {
      remove_socket_dir (&dir);
      return;
    }

  pid = fork_container (dir.socket_path, -1, 30, 100);
  CHECK (pid > 0);

  conn_fd = accept_with_timeout (listen_fd);
  CHECK (conn_fd >= 0);
  if (conn_fd >= 0)
    master_fd = receive_like_conmon (conn_fd, name, sizeof (name));
  CHECK (master_fd >= 0);
  CHECK (ar_str_has_prefix (name, "/dev/pts/"));

  if (master_fd >= 0)
    {
      CHECK (read_until (master_fd, out, sizeof (out), &len, "ready"));
      snprintf (expected, sizeof (expected), "tty=%s ", name);
      CHECK_CONTAINS (out, expected);
      CHECK_CONTAINS (out, "isatty=1,1,1");
      CHECK_CONTAINS (out, "ctty=1");
      CHECK_CONTAINS (out, "leader=1");

      CHECK (write (master_fd, "size\n", 5) == 5);
      CHECK (read_until (master_fd, out, sizeof (out), &len, "size=30x100"));

      /* A resize on the master, as conmon does for `podman attach`. */
      CHECK (ioctl (master_fd, TIOCSWINSZ, &new_size) == 0);
      CHECK (write (master_fd, "size\n", 5) == 5);
      CHECK (read_until (master_fd, out, sizeof (out), &len, "size=40x120"));

      CHECK (write (master_fd, "echo hi\n", 8) == 8);
      CHECK (read_until (master_fd, out, sizeof (out), &len, "got: echo hi"));
      CHECK (write (master_fd, "exit\n", 5) == 5);
    }

  CHECK (exited_zero (wait_child (pid)));
  remove_socket_dir (&dir);
}

static void
test_setup_zero_size_left_alone (void)
{
  cleanup_close int master_fd = -1;
  int pair[2];
  char out[4096];
  size_t len = 0;
  pid_t pid;
  cleanup_error ar_error_t err = NULL;

  CHECK (socketpair (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair) == 0);
  pid = fork_container (NULL, pair[1], 0, 0);
  close (pair[1]);

  CHECK (ar_console_proxy_receive_master (pair[0], &master_fd, &err) == 0);
  close (pair[0]);
  if (master_fd >= 0)
    {
      CHECK (read_until (master_fd, out, sizeof (out), &len, "ready"));
      CHECK (write (master_fd, "size\nexit\n", 10) == 10);
      CHECK (read_until (master_fd, out, sizeof (out), &len, "size=0x0"));
    }
  CHECK (exited_zero (wait_child (pid)));
}

static void
test_setup_size_out_of_range (void)
{
  cleanup_error ar_error_t err = NULL;
  cleanup_free char *msg = NULL;

  /* The check comes before any pty is opened, so no fd is needed. */
  CHECK (ar_console_setup (-1, 70000, 80, &err) == -ERANGE);
  msg = ar_error_format (err);
  CHECK_CONTAINS (msg, "process.consoleSize 70000x80");
}

static void
test_connect_missing_socket (void)
{
  cleanup_error ar_error_t err = NULL;
  cleanup_free char *msg = NULL;
  const char *path = "/tmp/ar-console-no-such-dir/console.sock";

  CHECK (ar_console_socket_connect (path, &err) == -ENOENT);
  msg = ar_error_format (err);
  CHECK_CONTAINS (msg, path);
  CHECK_CONTAINS (msg, "No such file or directory");
}

static void
test_connect_missing_long_socket (void)
{
  struct socket_dir dir;
  cleanup_error ar_error_t err = NULL;
  cleanup_free char *msg = NULL;
  cleanup_free char *missing_dir_path = NULL;

  CHECK (make_socket_dir (&dir));

  /* The directory exists, the socket does not. */
  CHECK (ar_console_socket_connect (dir.socket_path, &err) == -ENOENT);
  msg = ar_error_format (err);
  CHECK_CONTAINS (msg, dir.socket_path);
  ar_error_release (&err);
  free (ar_steal_ptr (msg));

  /* The directory does not exist either. */
  missing_dir_path = ar_xasprintf ("%s/missing/console.sock", dir.long_dir);
  CHECK (ar_console_socket_connect (missing_dir_path, &err) == -ENOENT);
  msg = ar_error_format (err);
  CHECK_CONTAINS (msg, missing_dir_path);

  remove_socket_dir (&dir);
}

static void
test_connect_basename_too_long (void)
{
  cleanup_error ar_error_t err = NULL;
  cleanup_free char *msg = NULL;
  char path[256];

  snprintf (path, sizeof (path), "/tmp/%0120d.sock", 0);
  CHECK (ar_console_socket_connect (path, &err) == -ENAMETOOLONG);
  msg = ar_error_format (err);
  CHECK_CONTAINS (msg, path);
  CHECK_CONTAINS (msg, "shorter file name");
}

static void
test_connect_invalid_paths (void)
{
  struct socket_dir dir;
  cleanup_error ar_error_t err = NULL;
  cleanup_free char *msg = NULL;
  cleanup_free char *dir_path = NULL;
  cleanup_free char *file_path = NULL;
  int fd;

  CHECK (ar_console_socket_connect ("", &err) == -EINVAL);
  ar_error_release (&err);

  CHECK (make_socket_dir (&dir));

  /* A long path that ends in `/` names no socket. */
  dir_path = ar_xasprintf ("%s/%s/", dir.long_dir, LONG_DIR_NAME);
  CHECK (ar_console_socket_connect (dir_path, &err) == -EINVAL);
  msg = ar_error_format (err);
  CHECK_CONTAINS (msg, dir_path);
  ar_error_release (&err);
  free (ar_steal_ptr (msg));

  /* A regular file is no listening socket. */
  file_path = ar_xasprintf ("%s/plain-file", dir.top);
  fd = open (file_path, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
  CHECK (fd >= 0);
  if (fd >= 0)
    close (fd);
  CHECK (ar_console_socket_connect (file_path, &err) == -ECONNREFUSED);
  msg = ar_error_format (err);
  CHECK_CONTAINS (msg, file_path);

  unlink (file_path);
  remove_socket_dir (&dir);
}

/* Sends n fds in one SCM_RIGHTS message with a short payload. */
static bool
send_fds (int socket_fd, const int *fds, size_t n)
{
  union
  {
    char buf[CMSG_SPACE (2 * sizeof (int))];
    struct cmsghdr align;
  } control;
  char payload[] = "fds";
  struct iovec iov = { .iov_base = payload, .iov_len = sizeof (payload) };
  struct msghdr msg = {
    .msg_iov = &iov,
    .msg_iovlen = 1,
    .msg_control = control.buf,
    .msg_controllen = CMSG_SPACE (n * sizeof (int)),
  };
  struct cmsghdr *cmsg;

  if (n > 2)
    return false;
  memset (&control, 0, sizeof (control));
  cmsg = CMSG_FIRSTHDR (&msg);
  cmsg->cmsg_level = SOL_SOCKET;
  cmsg->cmsg_type = SCM_RIGHTS;
  cmsg->cmsg_len = CMSG_LEN (n * sizeof (int));
  memcpy (CMSG_DATA (cmsg), fds, n * sizeof (int));
  return sendmsg (socket_fd, &msg, 0) == (ssize_t) sizeof (payload);
}

static void
test_receive_master_errors (void)
{
  cleanup_error ar_error_t err = NULL;
  cleanup_free char *msg = NULL;
  int master_fd = -1;
  int pair[2];
  int pipe_fds[2];

  /* The peer closes without sending. */
  CHECK (socketpair (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair) == 0);
  close (pair[1]);
  CHECK (ar_console_proxy_receive_master (pair[0], &master_fd, &err) < 0);
  msg = ar_error_format (err);
  CHECK_CONTAINS (msg, "without sending its terminal");
  CHECK (master_fd == -1);
  close (pair[0]);
  ar_error_release (&err);
  free (ar_steal_ptr (msg));

  /* Data without an fd. */
  CHECK (socketpair (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair) == 0);
  CHECK (write (pair[1], "/dev/pts/0", 11) == 11);
  CHECK (ar_console_proxy_receive_master (pair[0], &master_fd, &err) == -EPROTO);
  CHECK (master_fd == -1);
  close (pair[0]);
  close (pair[1]);
  ar_error_release (&err);

  /* An fd that is no pty master. */
  CHECK (socketpair (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair) == 0);
  CHECK (pipe2 (pipe_fds, O_CLOEXEC) == 0);
  CHECK (send_fds (pair[1], pipe_fds, 1));
  CHECK (ar_console_proxy_receive_master (pair[0], &master_fd, &err) == -ENOTTY);
  msg = ar_error_format (err);
  CHECK_CONTAINS (msg, "not a pseudo-terminal master");
  CHECK (master_fd == -1);
  close (pair[0]);
  close (pair[1]);
  ar_error_release (&err);
  free (ar_steal_ptr (msg));

  /* Two fds where one is expected. */
  CHECK (socketpair (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair) == 0);
  CHECK (send_fds (pair[1], pipe_fds, 2));
  CHECK (ar_console_proxy_receive_master (pair[0], &master_fd, &err) == -EPROTO);
  msg = ar_error_format (err);
  CHECK_CONTAINS (msg, "carried 2 fds");
  CHECK (master_fd == -1);
  close (pair[0]);
  close (pair[1]);

  close (pipe_fds[0]);
  close (pipe_fds[1]);
}

/* Starts the container stand-in on a socketpair and receives its master
 * with ar_console_proxy_receive_master. */
static int
start_container_on_pair (unsigned int height, unsigned int width, pid_t *pid)
{
  cleanup_error ar_error_t err = NULL;
  int master_fd = -1;
  int pair[2];

  if (socketpair (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair) < 0)
    return -1;
  *pid = fork_container (NULL, pair[1], height, width);
  close (pair[1]);
  if (ar_console_proxy_receive_master (pair[0], &master_fd, &err) < 0)
    {
      cleanup_free char *msg = ar_error_format (err);
      fprintf (stderr, "receive: %s\n", msg);
    }
  close (pair[0]);
  return master_fd;
}

/* Forks a process with stdin_fd and stdout_fd as its stdin and stdout that
 * runs ar_console_proxy_run on master_fd.  With ctty, it first starts a
 * session with stdin_fd as controlling terminal, so that SIGWINCH reaches
 * it.  It exits 0 when the proxy returned 0. */
static pid_t
fork_proxy (int master_fd, int stdin_fd, int stdout_fd, bool ctty)
{
  pid_t pid;

  fflush (NULL);
  pid = fork ();
  if (pid != 0)
    return pid;

  {
    ar_error_t err = NULL;

    if (ctty && (setsid () < 0 || ioctl (stdin_fd, TIOCSCTTY, 0) < 0))
      _exit (20);
    if (dup2 (stdin_fd, STDIN_FILENO) < 0 || dup2 (stdout_fd, STDOUT_FILENO) < 0)
      _exit (21);
    close_other_fds (master_fd);
    if (ar_console_proxy_run (master_fd, &err) < 0)
      {
        fprintf (stderr, "proxy: %s\n", ar_error_format (err));
        _exit (22);
      }
    _exit (0);
  }
}

static void
test_proxy_with_pipes (void)
{
  cleanup_close int master_fd = -1;
  int to_proxy[2], from_proxy[2];
  pid_t container, proxy;
  const char input[] = "echo hi\nno newline";
  char out[8192];
  size_t len = 0;

  master_fd = start_container_on_pair (24, 80, &container);
  CHECK (master_fd >= 0);
  CHECK (pipe2 (to_proxy, O_CLOEXEC) == 0);
  CHECK (pipe2 (from_proxy, O_CLOEXEC) == 0);

  proxy = fork_proxy (master_fd, to_proxy[0], from_proxy[1], false);
  close (to_proxy[0]);
  close (from_proxy[1]);
  close (ar_steal_fd (master_fd));

  /* Input without a final newline, then end of file: the proxy's two VEOF
   * characters end the last line and then the reader's input. */
  CHECK (write (to_proxy[1], input, strlen (input)) == (ssize_t) strlen (input));
  close (to_proxy[1]);

  CHECK (read_until (from_proxy[0], out, sizeof (out), &len, "eof"));
  CHECK_CONTAINS (out, "ready");
  CHECK_CONTAINS (out, "got: echo hi");
  CHECK_CONTAINS (out, "got: no newline");
  close (from_proxy[0]);

  CHECK (exited_zero (wait_child (container)));
  CHECK (exited_zero (wait_child (proxy)));
}

/* Sends "size" until the container reports expected, because a resize
 * reaches it through a signal and the proxy. */
static bool
wait_for_size (int fd, char *out, size_t size, size_t *len, const char *expected)
{
  for (int i = 0; i < 20; i++)
    {
      if (write (fd, "size\r", 5) != 5)
        return false;
      if (read_until (fd, out, size, len, expected))
        return true;
    }
  return false;
}

static void
test_proxy_with_terminal (void)
{
  cleanup_close int master_fd = -1;
  cleanup_close int outer_master = -1;
  cleanup_close int outer_slave = -1;
  struct winsize outer_size = { .ws_row = 25, .ws_col = 90 };
  struct winsize resized = { .ws_row = 50, .ws_col = 132 };
  struct termios settings;
  char outer_name[64];
  char out[16384];
  size_t len = 0;
  pid_t container, proxy;

  /* The caller's terminal: a pty of the test's own, in cooked mode. */
  outer_master = posix_openpt (O_RDWR | O_NOCTTY | O_CLOEXEC);
  CHECK (outer_master >= 0);
  CHECK (grantpt (outer_master) == 0 && unlockpt (outer_master) == 0);
  CHECK (ptsname_r (outer_master, outer_name, sizeof (outer_name)) == 0);
  outer_slave = open (outer_name, O_RDWR | O_NOCTTY | O_CLOEXEC);
  CHECK (outer_slave >= 0);
  CHECK (ioctl (outer_master, TIOCSWINSZ, &outer_size) == 0);
  CHECK (tcgetattr (outer_slave, &settings) == 0);
  CHECK ((settings.c_lflag & (ICANON | ECHO)) == (ICANON | ECHO));

  /* The container requests 10x10, then the proxy copies the caller's 25x90. */
  master_fd = start_container_on_pair (10, 10, &container);
  CHECK (master_fd >= 0);
  proxy = fork_proxy (master_fd, outer_slave, outer_slave, true);
  close (ar_steal_fd (master_fd));

  CHECK (read_until (outer_master, out, sizeof (out), &len, "ready"));
  CHECK (tcgetattr (outer_slave, &settings) == 0);
  CHECK ((settings.c_lflag & ICANON) == 0);
  CHECK ((settings.c_lflag & ECHO) == 0);

  CHECK (wait_for_size (outer_master, out, sizeof (out), &len, "size=25x90"));

  /* Resizing the caller's terminal sends SIGWINCH to the proxy. */
  CHECK (ioctl (outer_master, TIOCSWINSZ, &resized) == 0);
  CHECK (wait_for_size (outer_master, out, sizeof (out), &len, "size=50x132"));

  CHECK (write (outer_master, "exit\r", 5) == 5);
  CHECK (exited_zero (wait_child (container)));
  CHECK (exited_zero (wait_child (proxy)));

  /* The proxy restored cooked mode on its way out. */
  CHECK (tcgetattr (outer_slave, &settings) == 0);
  CHECK ((settings.c_lflag & (ICANON | ECHO)) == (ICANON | ECHO));
}

int
main (void)
{
  static const struct unit_test tests[] = {
    { "setup over long socket path", test_setup_over_long_socket_path },
    { "setup zero size left alone", test_setup_zero_size_left_alone },
    { "setup size out of range", test_setup_size_out_of_range },
    { "connect missing socket", test_connect_missing_socket },
    { "connect missing long socket", test_connect_missing_long_socket },
    { "connect basename too long", test_connect_basename_too_long },
    { "connect invalid paths", test_connect_invalid_paths },
    { "receive master errors", test_receive_master_errors },
    { "proxy with pipes", test_proxy_with_pipes },
    { "proxy with terminal", test_proxy_with_terminal },
    { NULL, NULL },
  };
  return unit_run (tests);
}
