/* The container lifecycle of the OCI runtime spec: create, start, run,
 * kill, delete, state and list, over the state kept under --root. */
#ifndef AGENTRUN_CONTAINER_H
#define AGENTRUN_CONTAINER_H

#include <jansson.h>
#include <stdbool.h>
#include <sys/types.h>

#include "oci/error.h"

struct ar_create_options
{
  const char *root;
  const char *id;
  const char *bundle;         /* NULL: the current directory */
  const char *pid_file;       /* may be NULL */
  const char *console_socket; /* may be NULL */
  const char *policy_path;    /* --policy FILE, may be NULL */
  char **argv;                /* the command line, to re-execute from a sealed copy */
  bool no_pivot;
  bool no_new_keyring;
  bool systemd_cgroup;
  bool no_cgroups; /* run without a cgroup of its own (podman --cgroups=disabled) */
  int preserve_fds;
};

int ar_container_create (const struct ar_create_options *options, ar_error_t *err);

int ar_container_start (const char *root, const char *id, ar_error_t *err);

/* create + start, then waits for the container process unless detach,
 * forwarding signals to it, and deletes the container after it exits.
 * *exit_code receives the process's exit status (128 + signal when
 * killed). */
int ar_container_run (const struct ar_create_options *options, bool detach, int *exit_code,
                      ar_error_t *err);

int ar_container_kill (const char *root, const char *id, int signal, bool all, ar_error_t *err);

int ar_container_delete (const char *root, const char *id, bool force, ar_error_t *err);

/* The OCI state object of one container. */
int ar_container_state (const char *root, const char *id, json_t **out, ar_error_t *err);

/* An array with one object per container (id, pid, status, bundle,
 * created, owner). */
int ar_container_list (const char *root, json_t **out, ar_error_t *err);

/* Parses "SIGTERM", "TERM", "15" and the like; -1 when invalid. */
int ar_signal_parse (const char *text);

#endif

/* Cgroup verbs on a running container: pause and resume freeze and thaw
 * every process; ps lists their pids; update applies new resources
 * (a linux.resources JSON object); stats returns `events --stats` data. */
int ar_container_pause (const char *root, const char *id, ar_error_t *err);
int ar_container_resume (const char *root, const char *id, ar_error_t *err);
int ar_container_pids (const char *root, const char *id, pid_t **pids, size_t *n_pids, ar_error_t *err);
int ar_container_update (const char *root, const char *id, json_t *resources, ar_error_t *err);
int ar_container_stats (const char *root, const char *id, json_t **out, ar_error_t *err);
