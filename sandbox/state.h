/* The container state kept under the runtime's root directory: one folder
 * per container id holding state.json, the exec FIFO and a lock. */
#ifndef AGENTRUN_STATE_H
#define AGENTRUN_STATE_H

#include <jansson.h>
#include <stdbool.h>
#include <sys/types.h>

#include "oci/error.h"

enum ar_status
{
  AR_STATUS_CREATING,
  AR_STATUS_CREATED,
  AR_STATUS_RUNNING,
  AR_STATUS_PAUSED,
  AR_STATUS_STOPPED,
};

/* The record of one container in its state.json. */
struct ar_state
{
  char *id;
  pid_t pid;                    /* the container process; 0 before clone */
  unsigned long long pid_start; /* its start time in clock ticks, against pid reuse */
  bool creating;                /* create has not finished */
  bool has_process;             /* config.json has a process to start */
  bool has_poststart_hooks;     /* so start and delete parse config.json */
  bool has_poststop_hooks;      /* only when they have hooks to run */
  char *bundle;
  char *rootfs;
  char *created;                /* RFC 3339 */
  uid_t owner;
  json_t *annotations;          /* object, may be NULL */
  json_t *cgroup;               /* ar_cgroup_to_json, may be NULL */
  json_t *network;              /* what net/network.c made, may be NULL */
  char *config_path;            /* the copy of config.json in the state folder */
  pid_t keeper_pid;             /* the container's keeper; 0 without one */
  unsigned long long keeper_start; /* its start time, against pid reuse */
};

#define AR_STATE_FILE "state.json"
#define AR_EXEC_FIFO "exec.fifo"
#define AR_CONFIG_COPY "config.json"

/* Valid ids: letters, digits, '_', '-', '.', '+', not starting with '.',
 * at most 1024 bytes, so that an id is always one safe path component. */
int ar_state_validate_id (const char *id, ar_error_t *err);

/* Creates the root folder (mode 0700) when missing. */
int ar_state_root_prepare (const char *root, ar_error_t *err);

/* Creates ROOT/ID; fails with EEXIST and a clear message when the id is
 * taken, which makes duplicate creates race-free. */
int ar_state_dir_create (const char *root, const char *id, ar_error_t *err);

/* Takes an exclusive flock on ROOT/ID and returns its fd; ENOENT with
 * "container `id` does not exist" when it is missing. */
int ar_state_lock (const char *root, const char *id, ar_error_t *err);

int ar_state_write (const char *root, const struct ar_state *state, ar_error_t *err);
int ar_state_read (const char *root, const char *id, struct ar_state **out, ar_error_t *err);

/* Removes ROOT/ID and everything in it. */
int ar_state_dir_remove (const char *root, const char *id, ar_error_t *err);

/* Lists the ids under root, sorted; the caller frees with ar_strv_free. */
int ar_state_list_ids (const char *root, char ***ids, ar_error_t *err);

/* Returns true while the recorded process is alive (and not a zombie). */
bool ar_state_process_alive (const struct ar_state *state);

/* Reads the start time of pid from /proc/PID/stat; 0 when it is gone. */
unsigned long long ar_process_start_time (pid_t pid);

/* The status per the runtime spec, from the process and the exec FIFO;
 * paused needs the cgroup and is left to the caller. */
enum ar_status ar_state_status (const char *root, const struct ar_state *state);
const char *ar_status_name (enum ar_status status);

/* The OCI state object (ociVersion, id, status, pid, bundle, annotations). */
json_t *ar_state_to_oci_json (const struct ar_state *state, enum ar_status status);

void ar_state_free (struct ar_state *state);
void ar_state_release (struct ar_state **state);
#define cleanup_state __attribute__ ((cleanup (ar_state_release)))

#endif
