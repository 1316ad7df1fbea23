/* process.terminal: a pseudo-terminal for the container process, its
 * master side handed to the caller through --console-socket with
 * SCM_RIGHTS, as conmon and containerd expect. */
#ifndef AGENTRUN_CONSOLE_H
#define AGENTRUN_CONSOLE_H

#include "oci/error.h"

/* Connects a SOCK_STREAM AF_UNIX socket (close-on-exec) to path, also when
 * path is longer than sun_path allows: then it connects through
 * /proc/self/fd/N/BASENAME with N an O_PATH fd of the parent directory, so
 * /proc must be mounted.  Returns the connected fd or a negative errno;
 * -ENAMETOOLONG when even the basename does not fit. */
int ar_console_socket_connect (const char *path, ar_error_t *err);

/* Sets up process.terminal in the container process.  It runs after
 * pivot_root, with a devpts instance on /dev/pts and /dev/ptmx reachable.
 *
 * It opens a new pty pair through /dev/ptmx and sets its window size to
 * height x width.  When either is 0 the size stays at the kernel's 0 x 0,
 * and a value above 65535 fails with -ERANGE.  It sends the master over
 * socket_fd in one SCM_RIGHTS message whose payload is the slave's
 * NUL-terminated name ("/dev/pts/0"), then closes its copy of the master.
 * Last, it calls setsid() unless the process already is a session leader,
 * and makes the slave the controlling terminal and fds 0, 1 and 2.
 * socket_fd stays open, so the caller closes it.
 *
 * The slave belongs to the user that runs this function (root in the
 * container, as a rule).  The caller must fchown (STDIN_FILENO, uid, gid) to
 * process.user after this call and before it drops privileges, so that the
 * container user owns its terminal. */
int ar_console_setup (int socket_fd, unsigned int height, unsigned int width, ar_error_t *err);

/* For `run` in the foreground with process.terminal and no
 * --console-socket: the caller makes an AF_UNIX SOCK_STREAM socketpair and
 * the container process passes one end to ar_console_setup.  The caller
 * must close its copy of that end first, so that a container process that
 * dies before sending makes this call fail instead of block.  Receives the
 * master sent by ar_console_setup (or any sender using the same message
 * layout) into *master_fd (close-on-exec). */
int ar_console_proxy_receive_master (int socket_fd, int *master_fd, ar_error_t *err);

/* Copies the caller's stdin to master_fd and master_fd to the caller's
 * stdout until the container side of the terminal closes, which the master
 * reports as EOF or EIO.  Returns 0 then.
 *
 * While it runs, stdin is in raw mode when it is a terminal, SIGPIPE is
 * ignored, and SIGWINCH is blocked and read from a signalfd.  The caller's
 * window size is copied to the master at the start and on each SIGWINCH.
 * All three are restored on return.  When stdin is not a terminal and
 * reaches end of file, the master receives the terminal's VEOF character
 * (^D), so that a canonical-mode reader in the container sees end of file. */
int ar_console_proxy_run (int master_fd, ar_error_t *err);

#endif
