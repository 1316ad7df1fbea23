#define _GNU_SOURCE
#include "console.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <termios.h>
#include <unistd.h>

#include "oci/log.h"
#include "oci/util.h"

/* Size of the payload buffer on the receiving side.  conmon reads the pty
 * name into a 4096-byte buffer (TAG_BUFFER in its src/cmsg.h). */
#define CONSOLE_NAME_MAX 4096

/* Bytes moved per read() in the proxy, in each direction. */
#define PROXY_BUFFER_SIZE 8192

/* ---------------------------------------------------------------------- */
/* Connecting to --console-socket                                          */

static int
connect_unix (int fd, const char *socket_path)
{
  struct sockaddr_un addr = { .sun_family = AF_UNIX };
  int ret;

  /* The callers check the length, so this copy always fits with its NUL. */
  memcpy (addr.sun_path, socket_path, strlen (socket_path) + 1);

  do
    ret = connect (fd, (struct sockaddr *) &addr, sizeof (addr));
  while (ret < 0 && errno == EINTR);
  return ret;
}

/* Connects fd to a path that does not fit in sun_path by naming the socket
 * relative to an O_PATH fd of its directory: the kernel resolves the
 * /proc/self/fd/N magic link like the directory itself. */
static int
connect_long_path (int fd, const char *path, ar_error_t *err)
{
  cleanup_free char *dir = NULL;
  cleanup_free char *proc_path = NULL;
  cleanup_close int dir_fd = -1;
  const char *slash = strrchr (path, '/');
  const char *base;

  if (slash == NULL)
    {
      dir = ar_xstrdup (".");
      base = path;
    }
  else
    {
      dir = slash == path ? ar_xstrdup ("/") : strndup (path, (size_t) (slash - path));
      if (dir == NULL)
        abort ();
      base = slash + 1;
    }

  if (*base == '\0')
    return ar_make_error (err, EINVAL, "invalid console socket `%s`: the path ends with `/`, "
                                       "so it names a directory, not a socket", path);

  dir_fd = open (dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (dir_fd < 0)
    return ar_make_error (err, errno, "cannot open `%s`, the directory of console socket `%s`", dir, path);

  proc_path = ar_xasprintf ("/proc/self/fd/%d/%s", dir_fd, base);
  if (strlen (proc_path) >= sizeof (((struct sockaddr_un *) NULL)->sun_path))
    return ar_make_error (err, ENAMETOOLONG,
                          "cannot connect to console socket `%s`: its file name `%s` has %zu bytes, "
                          "more than a UNIX socket address can hold even relative to its directory; "
                          "use a shorter file name",
                          path, base, strlen (base));

  if (connect_unix (fd, proc_path) < 0)
    return ar_make_error (err, errno, "cannot connect to console socket `%s` (through `%s`)", path, proc_path);
  return 0;
}

int
ar_console_socket_connect (const char *path, ar_error_t *err)
{
  cleanup_close int fd = -1;
  int ret;

  if (path == NULL || *path == '\0')
    return ar_make_error (err, EINVAL, "invalid console socket: the path is empty");

  fd = socket (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0)
    return ar_make_error (err, errno, "cannot create a socket for console socket `%s`", path);

  if (strlen (path) < sizeof (((struct sockaddr_un *) NULL)->sun_path))
    {
      if (connect_unix (fd, path) < 0)
        return ar_make_error (err, errno, "cannot connect to console socket `%s`", path);
    }
  else
    {
      ret = connect_long_path (fd, path, err);
      if (ret < 0)
        return ret;
    }

  ar_debug ("connected to console socket `%s` as fd %d", path, fd);
  return ar_steal_fd (fd);
}

/* ---------------------------------------------------------------------- */
/* The container side: a new pty, its master sent to the caller            */

/* Opens the slave of master_fd.  TIOCGPTPEER (Linux 4.13) opens it from the
 * master itself, so no path lookup in the container's /dev/pts can swap it.
 * Older kernels fall back to the name from ptsname_r. */
static int
open_slave (int master_fd, const char *name, ar_error_t *err)
{
  int fd;

  fd = ioctl (master_fd, TIOCGPTPEER, O_RDWR | O_NOCTTY | O_CLOEXEC);
  if (fd >= 0)
    return fd;
  if (errno != EINVAL && errno != ENOTTY)
    return ar_make_error (err, errno, "cannot open the pseudo-terminal slave `%s`", name);

  fd = open (name, O_RDWR | O_NOCTTY | O_CLOEXEC);
  if (fd < 0)
    return ar_make_error (err, errno, "cannot open the pseudo-terminal slave `%s`", name);
  return fd;
}

/* Sends master_fd over socket_fd as one SCM_RIGHTS message.  The payload is
 * the NUL-terminated slave name, which conmon logs.  A stream socket needs
 * at least one data byte to carry ancillary data anyway. */
static int
send_master (int socket_fd, int master_fd, const char *name, ar_error_t *err)
{
  union
  {
    char buf[CMSG_SPACE (sizeof (int))];
    struct cmsghdr align;
  } control;
  size_t len = strlen (name) + 1;
  struct iovec iov = { .iov_base = (void *) name, .iov_len = len };
  struct msghdr msg = {
    .msg_iov = &iov,
    .msg_iovlen = 1,
    .msg_control = control.buf,
    .msg_controllen = sizeof (control.buf),
  };
  struct cmsghdr *cmsg;
  ssize_t sent;

  memset (&control, 0, sizeof (control));
  cmsg = CMSG_FIRSTHDR (&msg);
  cmsg->cmsg_level = SOL_SOCKET;
  cmsg->cmsg_type = SCM_RIGHTS;
  cmsg->cmsg_len = CMSG_LEN (sizeof (int));
  memcpy (CMSG_DATA (cmsg), &master_fd, sizeof (int));

  do
    sent = sendmsg (socket_fd, &msg, MSG_NOSIGNAL);
  while (sent < 0 && errno == EINTR);
  if (sent < 0)
    return ar_make_error (err, errno, "cannot send the terminal `%s` over the console socket", name);

  /* The fd travelled with the first byte; a short send leaves only payload. */
  while ((size_t) sent < len)
    {
      ssize_t n = send (socket_fd, name + sent, len - (size_t) sent, MSG_NOSIGNAL);
      if (n < 0)
        {
          if (errno == EINTR)
            continue;
          return ar_make_error (err, errno, "cannot send the terminal `%s` over the console socket", name);
        }
      sent += n;
    }
  return 0;
}

/* Makes slave_fd the controlling terminal, in a new session unless the
 * process already is a session leader, for which setsid() fails with EPERM. */
static int
take_controlling_terminal (int slave_fd, const char *name, ar_error_t *err)
{
  if (getsid (0) != getpid () && setsid () < 0)
    return ar_make_error (err, errno, "cannot start a new session for the terminal `%s`", name);

  if (ioctl (slave_fd, TIOCSCTTY, 0) < 0)
    return ar_make_error (err, errno, "cannot make `%s` the controlling terminal", name);
  return 0;
}

/* Makes fds 0, 1 and 2 copies of slave_fd that survive execve. */
static int
dup_to_stdio (int slave_fd, const char *name, ar_error_t *err)
{
  for (int target = 0; target <= 2; target++)
    {
      /* dup2 onto itself keeps FD_CLOEXEC, so clear it by hand. */
      if (slave_fd == target)
        {
          if (fcntl (target, F_SETFD, 0) < 0)
            return ar_make_error (err, errno, "cannot clear close-on-exec on fd %d (`%s`)", target, name);
          continue;
        }
      if (dup2 (slave_fd, target) < 0)
        return ar_make_error (err, errno, "cannot duplicate the terminal `%s` to fd %d", name, target);
    }
  return 0;
}

int
ar_console_setup (int socket_fd, unsigned int height, unsigned int width, ar_error_t *err)
{
  cleanup_close int master_fd = -1;
  cleanup_close int slave_fd = -1;
  char name[PATH_MAX];
  int ret;

  if (height > USHRT_MAX || width > USHRT_MAX)
    return ar_make_error (err, ERANGE,
                          "invalid process.consoleSize %ux%u: a terminal has at most %u rows and columns; "
                          "lower consoleSize.height and consoleSize.width",
                          height, width, (unsigned int) USHRT_MAX);

  master_fd = posix_openpt (O_RDWR | O_NOCTTY | O_CLOEXEC);
  if (master_fd < 0)
    return ar_make_error (err, errno, "cannot open a pseudo-terminal through `/dev/ptmx`; "
                                      "is devpts mounted on /dev/pts?");
  if (grantpt (master_fd) < 0)
    return ar_make_error (err, errno, "grantpt failed on the new pseudo-terminal master");
  if (unlockpt (master_fd) < 0)
    return ar_make_error (err, errno, "unlockpt failed on the new pseudo-terminal master");
  ret = ptsname_r (master_fd, name, sizeof (name));
  if (ret != 0)
    return ar_make_error (err, ret, "cannot get the name of the new pseudo-terminal");

  slave_fd = open_slave (master_fd, name, err);
  if (slave_fd < 0)
    return slave_fd;

  if (height > 0 && width > 0)
    {
      struct winsize size = { .ws_row = (unsigned short) height, .ws_col = (unsigned short) width };

      if (ioctl (slave_fd, TIOCSWINSZ, &size) < 0)
        return ar_make_error (err, errno, "cannot set the window size of `%s` to %ux%u", name, height, width);
    }

  ret = send_master (socket_fd, master_fd, name, err);
  if (ret < 0)
    return ret;

  /* Only the receiver has the master open from here on, so that its EOF
   * follows the container's last slave fd and not this process. */
  close (ar_steal_fd (master_fd));

  ret = take_controlling_terminal (slave_fd, name, err);
  if (ret < 0)
    return ret;

  ret = dup_to_stdio (slave_fd, name, err);
  if (ret < 0)
    return ret;

  if (slave_fd <= 2)
    ar_steal_fd (slave_fd);
  return 0;
}

/* ---------------------------------------------------------------------- */
/* The runtime side of `run` in the foreground                             */

static void
close_fds (const int *fds, size_t n)
{
  for (size_t i = 0; i < n; i++)
    close (fds[i]);
}

int
ar_console_proxy_receive_master (int socket_fd, int *master_fd, ar_error_t *err)
{
  /* Room for more fds than the one expected, so that a message with several
   * is reported as such and each received fd closed again. */
  enum { MAX_FDS = 8 };
  union
  {
    char buf[CMSG_SPACE (MAX_FDS * sizeof (int))];
    struct cmsghdr align;
  } control;
  char name[CONSOLE_NAME_MAX];
  struct iovec iov = { .iov_base = name, .iov_len = sizeof (name) - 1 };
  struct msghdr msg = {
    .msg_iov = &iov,
    .msg_iovlen = 1,
    .msg_control = control.buf,
    .msg_controllen = sizeof (control.buf),
  };
  int fds[MAX_FDS];
  size_t n_fds = 0;
  ssize_t n;
  int pty_number;

  memset (&control, 0, sizeof (control));
  do
    n = recvmsg (socket_fd, &msg, MSG_CMSG_CLOEXEC);
  while (n < 0 && errno == EINTR);
  if (n < 0)
    return ar_make_error (err, errno, "cannot receive the terminal from the container process");
  name[n] = '\0';

  for (struct cmsghdr *cmsg = CMSG_FIRSTHDR (&msg); cmsg != NULL; cmsg = CMSG_NXTHDR (&msg, cmsg))
    {
      size_t count;

      if (cmsg->cmsg_level != SOL_SOCKET || cmsg->cmsg_type != SCM_RIGHTS)
        continue;
      count = (cmsg->cmsg_len - CMSG_LEN (0)) / sizeof (int);
      for (size_t i = 0; i < count && n_fds < MAX_FDS; i++)
        memcpy (&fds[n_fds++], CMSG_DATA (cmsg) + i * sizeof (int), sizeof (int));
    }

  if (msg.msg_flags & MSG_CTRUNC)
    {
      close_fds (fds, n_fds);
      return ar_make_error (err, EPROTO, "the container process sent more than %d fds over the console socket; "
                                        "expected one pseudo-terminal master",
                            (int) MAX_FDS);
    }
  if (n_fds == 0)
    {
      if (n == 0)
        return ar_make_error (err, 0, "the container process closed the console socket without sending "
                                      "its terminal: it failed or exited while setting up process.terminal");
      return ar_make_error (err, EPROTO,
                            "the console socket message carried no fd; expected one pseudo-terminal master");
    }
  if (n_fds > 1)
    {
      close_fds (fds, n_fds);
      return ar_make_error (err, EPROTO,
                            "the console socket message carried %zu fds; expected one pseudo-terminal master", n_fds);
    }

  /* TIOCGPTN succeeds only on a pty master. */
  if (ioctl (fds[0], TIOCGPTN, &pty_number) < 0)
    {
      int saved_errno = errno;
      close (fds[0]);
      return ar_make_error (err, saved_errno,
                            "the fd received over the console socket is not a pseudo-terminal master");
    }

  ar_debug ("received the master of `%s` (pty %d) as fd %d", name, pty_number, fds[0]);
  *master_fd = fds[0];
  return 0;
}

/* The settings of the caller's process that ar_console_proxy_run changes
 * and restores on every return path. */
struct proxy_saved_state
{
  bool termios_saved;
  struct termios stdin_termios;
  bool mask_saved;
  sigset_t signal_mask;
  bool sigpipe_saved;
  struct sigaction sigpipe_action;
  int master_flags; /* -1: not changed */
};

/* Input from stdin waiting to be written to the master, which is
 * non-blocking so that a child that does not read cannot stall the output
 * direction. */
struct proxy_input
{
  char data[PROXY_BUFFER_SIZE];
  size_t start;
  size_t end;
  char last_byte; /* last byte written to the master, '\n' before any */
  bool stdin_open;
  bool eof_queued;
};

static int
enter_raw_mode (struct proxy_saved_state *saved, ar_error_t *err)
{
  struct termios raw;

  if (!isatty (STDIN_FILENO))
    return 0;

  if (tcgetattr (STDIN_FILENO, &saved->stdin_termios) < 0)
    return ar_make_error (err, errno, "cannot read the terminal settings of stdin");

  raw = saved->stdin_termios;
  cfmakeraw (&raw);
  if (tcsetattr (STDIN_FILENO, TCSANOW, &raw) < 0)
    return ar_make_error (err, errno, "cannot put the terminal on stdin in raw mode");

  saved->termios_saved = true;
  return 0;
}

static void
restore_state (struct proxy_saved_state *saved, int master_fd)
{
  if (saved->termios_saved)
    {
      while (tcsetattr (STDIN_FILENO, TCSANOW, &saved->stdin_termios) < 0 && errno == EINTR)
        ;
      saved->termios_saved = false;
    }
  if (saved->master_flags >= 0)
    {
      fcntl (master_fd, F_SETFL, saved->master_flags);
      saved->master_flags = -1;
    }
  if (saved->sigpipe_saved)
    {
      sigaction (SIGPIPE, &saved->sigpipe_action, NULL);
      saved->sigpipe_saved = false;
    }
  if (saved->mask_saved)
    {
      sigprocmask (SIG_SETMASK, &saved->signal_mask, NULL);
      saved->mask_saved = false;
    }
}

/* Copies the window size of the caller's terminal (stdin, else stdout) to
 * the master.  A failure only costs a wrong size, so it is logged. */
static void
copy_window_size (int master_fd)
{
  struct winsize size;

  if (ioctl (STDIN_FILENO, TIOCGWINSZ, &size) < 0 && ioctl (STDOUT_FILENO, TIOCGWINSZ, &size) < 0)
    return;
  if (ioctl (master_fd, TIOCSWINSZ, &size) < 0)
    ar_warn ("cannot copy the window size %ux%u to the container's terminal: %s", size.ws_row, size.ws_col,
             strerror (errno));
}

/* Writes all of buf to a blocking or non-blocking fd, waiting for POLLOUT
 * when it is full. */
static int
write_all_waiting (int fd, const char *buf, size_t len)
{
  while (len > 0)
    {
      ssize_t n = write (fd, buf, len);
      if (n < 0)
        {
          struct pollfd pfd = { .fd = fd, .events = POLLOUT };

          if (errno == EINTR)
            continue;
          if (errno != EAGAIN)
            return -1;
          if (poll (&pfd, 1, -1) < 0 && errno != EINTR)
            return -1;
          continue;
        }
      buf += n;
      len -= (size_t) n;
    }
  return 0;
}

/* Queues the VEOF character once stdin (not a terminal) has reached end of
 * file and everything read before has reached the master.  A canonical-mode
 * reader needs two when the last line has no newline: the first ends the
 * line, the second reads as end of file. */
static void
queue_end_of_file (int master_fd, struct proxy_input *in)
{
  struct termios settings;
  cc_t eof_char;

  in->eof_queued = true;
  if (tcgetattr (master_fd, &settings) < 0 || !(settings.c_lflag & ICANON))
    {
      /* TODO: a raw-mode reader in the container gets no end of file from a
       * piped stdin; a pty has no half-close that could tell it. */
      return;
    }

  eof_char = settings.c_cc[VEOF];
  in->start = 0;
  in->end = 0;
  if (in->last_byte != '\n')
    in->data[in->end++] = (char) eof_char;
  in->data[in->end++] = (char) eof_char;
}

static int
read_stdin (struct proxy_input *in, ar_error_t *err)
{
  ssize_t n = read (STDIN_FILENO, in->data, sizeof (in->data));

  if (n > 0)
    {
      in->start = 0;
      in->end = (size_t) n;
      return 0;
    }
  if (n < 0 && (errno == EINTR || errno == EAGAIN))
    return 0;
  if (n < 0 && errno != EIO)
    return ar_make_error (err, errno, "cannot read stdin for the container's terminal");

  /* End of file, or EIO from a terminal that hung up. */
  in->stdin_open = false;
  return 0;
}

/* Returns 1 when the master reported the container side closed. */
static int
write_master (int master_fd, struct proxy_input *in, ar_error_t *err)
{
  ssize_t n = write (master_fd, in->data + in->start, in->end - in->start);

  if (n < 0)
    {
      if (errno == EINTR || errno == EAGAIN)
        return 0;
      if (errno == EIO)
        return 1;
      return ar_make_error (err, errno, "cannot write to the container's terminal");
    }
  in->start += (size_t) n;
  in->last_byte = in->data[in->start - 1];
  return 0;
}

/* Returns 1 when the master reported the container side closed. */
static int
copy_master_output (int master_fd, ar_error_t *err)
{
  char buf[PROXY_BUFFER_SIZE];
  ssize_t n = read (master_fd, buf, sizeof (buf));

  if (n == 0 || (n < 0 && errno == EIO))
    return 1;
  if (n < 0)
    {
      if (errno == EINTR || errno == EAGAIN)
        return 0;
      return ar_make_error (err, errno, "cannot read from the container's terminal");
    }
  if (write_all_waiting (STDOUT_FILENO, buf, (size_t) n) < 0)
    return ar_make_error (err, errno, "cannot write the container's terminal output to stdout");
  return 0;
}

static void
drain_resize_signals (int winch_fd, int master_fd)
{
  struct signalfd_siginfo info;
  bool resized = false;

  while (read (winch_fd, &info, sizeof (info)) == (ssize_t) sizeof (info))
    resized = true;
  if (resized)
    copy_window_size (master_fd);
}

static int
proxy_loop (int master_fd, int winch_fd, ar_error_t *err)
{
  struct proxy_input in = { .last_byte = '\n', .stdin_open = true };
  bool stdin_is_tty = isatty (STDIN_FILENO);
  int ret;

  for (;;)
    {
      bool input_pending = in.start < in.end;
      struct pollfd fds[3] = {
        { .fd = master_fd, .events = POLLIN | (input_pending ? POLLOUT : 0) },
        { .fd = in.stdin_open && !input_pending ? STDIN_FILENO : -1, .events = POLLIN },
        { .fd = winch_fd, .events = POLLIN },
      };

      if (poll (fds, 3, -1) < 0)
        {
          if (errno == EINTR)
            continue;
          return ar_make_error (err, errno, "poll on the container's terminal failed");
        }

      if (fds[0].revents & POLLNVAL)
        return ar_make_error (err, EBADF, "the container's terminal (fd %d) is not open", master_fd);

      /* A closed fd 0 reads as end of file. */
      if (fds[1].revents & POLLNVAL)
        in.stdin_open = false;

      /* Resize first, so input typed after a resize meets the new size. */
      if (fds[2].revents & POLLIN)
        drain_resize_signals (winch_fd, master_fd);

      if (fds[0].revents & (POLLIN | POLLHUP | POLLERR))
        {
          ret = copy_master_output (master_fd, err);
          if (ret != 0)
            return ret < 0 ? ret : 0;
        }

      if (input_pending && (fds[0].revents & POLLOUT))
        {
          ret = write_master (master_fd, &in, err);
          if (ret != 0)
            return ret < 0 ? ret : 0;
        }

      if (fds[1].revents & (POLLIN | POLLHUP | POLLERR))
        {
          ret = read_stdin (&in, err);
          if (ret < 0)
            return ret;
        }

      if (!in.stdin_open && !stdin_is_tty && !in.eof_queued && in.start == in.end)
        queue_end_of_file (master_fd, &in);
    }
}

int
ar_console_proxy_run (int master_fd, ar_error_t *err)
{
  struct proxy_saved_state saved = { .master_flags = -1 };
  struct sigaction ignore = { .sa_handler = SIG_IGN };
  cleanup_close int winch_fd = -1;
  sigset_t winch;
  int flags;
  int ret;

  /* Block SIGWINCH before the first size copy, so no change falls between
   * that copy and the signalfd. */
  sigemptyset (&winch);
  sigaddset (&winch, SIGWINCH);
  if (sigprocmask (SIG_BLOCK, &winch, &saved.signal_mask) < 0)
    return ar_make_error (err, errno, "cannot block SIGWINCH");
  saved.mask_saved = true;

  winch_fd = signalfd (-1, &winch, SFD_NONBLOCK | SFD_CLOEXEC);
  if (winch_fd < 0)
    {
      ret = ar_make_error (err, errno, "cannot create a signalfd for SIGWINCH");
      goto out;
    }

  /* A closed stdout must show up as EPIPE, not kill the runtime with the
   * caller's terminal still in raw mode. */
  if (sigaction (SIGPIPE, &ignore, &saved.sigpipe_action) < 0)
    {
      ret = ar_make_error (err, errno, "cannot ignore SIGPIPE");
      goto out;
    }
  saved.sigpipe_saved = true;

  flags = fcntl (master_fd, F_GETFL);
  if (flags < 0 || fcntl (master_fd, F_SETFL, flags | O_NONBLOCK) < 0)
    {
      ret = ar_make_error (err, errno, "cannot make the container's terminal (fd %d) non-blocking", master_fd);
      goto out;
    }
  saved.master_flags = flags;

  ret = enter_raw_mode (&saved, err);
  if (ret < 0)
    goto out;

  copy_window_size (master_fd);
  ret = proxy_loop (master_fd, winch_fd, err);

out:
  restore_state (&saved, master_fd);
  return ret;
}
