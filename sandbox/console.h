/* process.terminal: a pseudo-terminal for the container process, its
 * master side handed to the caller through --console-socket with
 * SCM_RIGHTS, as conmon and containerd expect. */
#ifndef AGENTRUN_CONSOLE_H
#define AGENTRUN_CONSOLE_H

#include "oci/error.h"

/* Connects to the UNIX socket at path, also when path is longer than
 * sun_path allows.  Returns the connected fd or a negative errno. */
int ar_console_socket_connect (const char *path, ar_error_t *err);

/* In the container process (after pivot_root, /dev/pts mounted): opens a
 * new pty pair, sends the master over socket_fd, sets the window size
 * (0 x 0: leave it), makes the slave the controlling terminal and stdin,
 * stdout and stderr. */
int ar_console_setup (int socket_fd, unsigned int height, unsigned int width, ar_error_t *err);

/* For `run` in the foreground: a socketpair whose one end the container
 * uses as its console socket.  ar_console_proxy receives the master and
 * copies between it and the caller's stdin and stdout until the master
 * closes; it puts the caller's terminal in raw mode while it runs. */
int ar_console_proxy_receive_master (int socket_fd, int *master_fd, ar_error_t *err);
int ar_console_proxy_run (int master_fd, ar_error_t *err);

#endif
