/* Cgroups behind one interface, with a backend for each layout: cgroup v1,
 * the hybrid layout (controllers on v1, a cgroup2 mount beside them), and
 * pure cgroup v2. */
#ifndef AGENTRUN_CGROUP_H
#define AGENTRUN_CGROUP_H

#include <jansson.h>
#include <stdbool.h>
#include <sys/types.h>

#include "oci/error.h"
#include "oci/resources.h"

enum ar_cgroup_layout
{
  AR_CGROUP_LAYOUT_V1,
  AR_CGROUP_LAYOUT_HYBRID,
  AR_CGROUP_LAYOUT_V2,
};

struct ar_cgroup;

/* Reads /proc/self/mountinfo (or statfs of /sys/fs/cgroup) once. */
int ar_cgroup_detect_layout (enum ar_cgroup_layout *out, ar_error_t *err);

/* Creates the container's cgroup (in every hierarchy of the layout) and
 * applies resources (NULL: none).  cgroups_path NULL or empty means the
 * default path for id.  A systemd "slice:prefix:name" path, or
 * use_systemd, gets a clear error where systemd is not running.  On
 * failure everything it created is removed again. */
int ar_cgroup_create (const char *id, const char *cgroups_path, bool use_systemd,
                      const struct ar_resources *resources, struct ar_cgroup **out, ar_error_t *err);

/* Moves pid into the cgroup in every hierarchy. */
int ar_cgroup_enter (struct ar_cgroup *cgroup, pid_t pid, ar_error_t *err);

/* A directory fd of the unified (v2) cgroup for clone3(CLONE_INTO_CGROUP),
 * or -1 when the layout cannot start a process straight into the cgroup. */
int ar_cgroup_clone_into_fd (struct ar_cgroup *cgroup);

int ar_cgroup_update (struct ar_cgroup *cgroup, const struct ar_resources *resources, ar_error_t *err);

/* Sends signal to every process in the cgroup (cgroup.kill on v2 for
 * SIGKILL). */
int ar_cgroup_kill_all (struct ar_cgroup *cgroup, int signal, ar_error_t *err);

/* Lists the pids in the cgroup; the caller frees *pids. */
int ar_cgroup_list_pids (struct ar_cgroup *cgroup, pid_t **pids, size_t *n_pids, ar_error_t *err);

int ar_cgroup_set_frozen (struct ar_cgroup *cgroup, bool frozen, ar_error_t *err);
int ar_cgroup_is_frozen (struct ar_cgroup *cgroup, bool *frozen, ar_error_t *err);

/* Fills *out with a stats object shaped like `runc events --stats`. */
int ar_cgroup_stats (struct ar_cgroup *cgroup, json_t **out, ar_error_t *err);

/* Mounts the container's view of the cgroup hierarchies on the directory
 * target_dirfd (inside the new rootfs, already resolved safely), as a
 * "cgroup" mount of config.json asks.  Runs in the container's mount
 * namespace, before pivot_root.  flags are the mount's MS_* flags (MS_RDONLY,
 * MS_NOSUID, ...). */
int ar_cgroup_mount (struct ar_cgroup *cgroup, int target_dirfd, bool in_cgroup_namespace,
                     unsigned long flags, ar_error_t *err);

/* Removes every cgroup directory that ar_cgroup_create made, deepest
 * first; processes still inside are killed first. */
int ar_cgroup_destroy (struct ar_cgroup *cgroup, ar_error_t *err);

/* The cgroup as stored in the container's state file, and back. */
json_t *ar_cgroup_to_json (const struct ar_cgroup *cgroup);
int ar_cgroup_from_json (json_t *json, struct ar_cgroup **out, ar_error_t *err);

void ar_cgroup_free (struct ar_cgroup *cgroup);

#endif
