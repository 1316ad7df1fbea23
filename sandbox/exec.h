/* `exec`: runs another process inside a running container, in all of its
 * namespaces and its cgroup, with its seccomp filter. */
#ifndef AGENTRUN_EXEC_H
#define AGENTRUN_EXEC_H

#include <stdbool.h>
#include <sys/types.h>

#include "oci/error.h"

struct ar_exec_options
{
  const char *root;
  const char *id;
  const char *process_path;   /* --process FILE; NULL: build from the flags */
  bool detach;
  const char *pid_file;
  const char *console_socket;
  int preserve_fds;

  /* Used without --process, on top of the container's own process. */
  char **args;
  bool tty;
  const char *cwd;
  char **env;                 /* NAME=VALUE entries added or replaced */
  const char *user;           /* "UID[:GID]" */
  gid_t *additional_gids;
  size_t n_additional_gids;
  char **caps;                /* capability names added to every set */
  bool no_new_privileges;
};

/* Runs the process; unless detach, waits for it and stores its exit code
 * (128 + signal when killed) in *exit_code. */
int ar_container_exec (const struct ar_exec_options *options, int *exit_code, ar_error_t *err);

#endif
