/* Placeholder until the real implementation lands. */
#define _GNU_SOURCE
#include <errno.h>
#include <stddef.h>
#include "console.h"

int ar_console_socket_connect (const char *path, ar_error_t *err)
{
  return ar_make_error (err, ENOSYS, "ar_console_socket_connect is not implemented yet");
}

int ar_console_setup (int socket_fd, unsigned int height, unsigned int width, ar_error_t *err)
{
  return ar_make_error (err, ENOSYS, "ar_console_setup is not implemented yet");
}

int ar_console_proxy_receive_master (int socket_fd, int *master_fd, ar_error_t *err)
{
  return ar_make_error (err, ENOSYS, "ar_console_proxy_receive_master is not implemented yet");
}

int ar_console_proxy_run (int master_fd, ar_error_t *err)
{
  return ar_make_error (err, ENOSYS, "ar_console_proxy_run is not implemented yet");
}
