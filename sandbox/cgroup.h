/* Cgroups behind one interface, with a backend for each layout: cgroup v1,
 * the hybrid layout (controllers on v1, a cgroup2 mount beside them), and
 * pure cgroup v2.
 *
 * On v1 and hybrid hosts the container gets a directory in every mounted v1
 * hierarchy (named ones such as name=systemd included) and, on hybrid, in
 * the cgroup2 hierarchy too, and its processes join all of them, as runc
 * does.  On v2 it gets one directory, with the controllers enabled in the
 * cgroup.subtree_control of each ancestor. */
#ifndef AGENTRUN_CGROUP_H
#define AGENTRUN_CGROUP_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
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

/* Reads /proc/self/mountinfo and stores the layout of this host in *out. */
int ar_cgroup_detect_layout (enum ar_cgroup_layout *out, ar_error_t *err);

/* Stores in *out whether a mounted hierarchy of this host offers
 * controller: a v1 hierarchy that carries it, or the cgroup.controllers of
 * a cgroup2 mount's root. */
int ar_cgroup_host_has_controller (const char *controller, bool *out, ar_error_t *err);

/* "v1", "hybrid" or "v2". */
const char *ar_cgroup_layout_name (enum ar_cgroup_layout layout);

/* Creates the container's cgroup (in every hierarchy of the layout) and
 * applies resources (NULL: none).
 *
 * cgroups_path is linux.cgroupsPath: "/a/b" is taken below the root of each
 * hierarchy, "a/b" below this process's own cgroup in each hierarchy, and
 * NULL or "" means "/agentrun/ID".  A systemd "slice:prefix:name" path, or
 * use_systemd, is an error: there is no systemd cgroup driver yet.
 *
 * Missing parents are created too, and the cgroup remembers exactly which
 * directories it made, so ar_cgroup_destroy removes those and nothing else.
 * On failure everything created here is removed again. */
int ar_cgroup_create (const char *id, const char *cgroups_path, bool use_systemd,
                      const struct ar_resources *resources, struct ar_cgroup **out, ar_error_t *err);

enum ar_cgroup_layout ar_cgroup_get_layout (const struct ar_cgroup *cgroup);

/* The container's cgroup path ("/agentrun/ID"), in the cgroup2 hierarchy
 * where there is one, else in the first v1 hierarchy. */
const char *ar_cgroup_get_path (const struct ar_cgroup *cgroup);

/* Moves pid into the cgroup in every hierarchy. */
int ar_cgroup_enter (struct ar_cgroup *cgroup, pid_t pid, ar_error_t *err);

/* Opens the container's cgroup2 directory (O_PATH | O_DIRECTORY |
 * O_CLOEXEC) for clone3 (CLONE_INTO_CGROUP) into *fd_out, which the caller
 * closes.  On v1 and hybrid layouts it stores -1 and returns 0: a process
 * must join the v1 hierarchies with ar_cgroup_enter instead. */
int ar_cgroup_clone_into_fd (struct ar_cgroup *cgroup, int *fd_out, ar_error_t *err);

/* Applies resources to the existing cgroup, as `update` does.  Only the
 * fields present change. */
int ar_cgroup_update (struct ar_cgroup *cgroup, const struct ar_resources *resources, ar_error_t *err);

/* Sends signal to every process in the cgroup and in the cgroups below it:
 * with SIGKILL on v2 through cgroup.kill, otherwise freezing the cgroup
 * while it signals so no process escapes by forking.  A cgroup frozen
 * before stays frozen, except after SIGKILL, which needs a thaw to take
 * effect on v1. */
int ar_cgroup_kill_all (struct ar_cgroup *cgroup, int signal, ar_error_t *err);

/* Lists the pids in the cgroup and in the cgroups below it; the caller
 * frees *pids. */
int ar_cgroup_list_pids (struct ar_cgroup *cgroup, pid_t **pids, size_t *n_pids, ar_error_t *err);

/* Freezes or thaws the cgroup (freezer.state on v1 and hybrid,
 * cgroup.freeze on v2) and waits until the kernel reports the new state.
 * ar_cgroup_is_frozen stores whether the container is paused: freezer.state
 * is FROZEN on v1, or cgroup.freeze is 1 on v2. */
int ar_cgroup_set_frozen (struct ar_cgroup *cgroup, bool frozen, ar_error_t *err);
int ar_cgroup_is_frozen (struct ar_cgroup *cgroup, bool *frozen, ar_error_t *err);

/* Fills *out with the "data" object of a `runc events --stats` event: cpu
 * (usage, throttling), memory (usage, swap, kernel, kernelTCP, raw
 * memory.stat), pids (current, limit). */
int ar_cgroup_stats (struct ar_cgroup *cgroup, json_t **out, ar_error_t *err);

/* Mounts the container's view of the cgroup hierarchies on the directory
 * target_dirfd (inside the new rootfs, already resolved safely), for a
 * mount of type "cgroup" in config.json.  Runs in the container's mount
 * namespace, before pivot_root.
 *
 * v1 and hybrid: a tmpfs with one directory per hierarchy (and one for
 * the cgroup2 hierarchy named "unified" on hybrid hosts), each a bind
 * mount of the container's own cgroup directory, or with
 * in_cgroup_namespace a new mount of that hierarchy.  v2: a cgroup2 mount
 * with in_cgroup_namespace, else a bind mount of the container's cgroup
 * directory.  A new mount in a cgroup namespace shows the namespace's root
 * cgroup, so the calling process must already be in the container's
 * cgroup and its cgroup namespace.
 *
 * flags are MS_* flags (MS_RDONLY, MS_NOSUID, MS_NODEV, MS_NOEXEC and the
 * atime flags); every mount made here gets them. */
int ar_cgroup_mount (struct ar_cgroup *cgroup, int target_dirfd, bool in_cgroup_namespace,
                     unsigned long flags, ar_error_t *err);

/* Kills the processes still inside, then removes every cgroup directory
 * that ar_cgroup_create made, deepest first, with any cgroups that the
 * container made below its own.  Parents that other cgroups now use stay.
 * A second call does nothing. */
int ar_cgroup_destroy (struct ar_cgroup *cgroup, ar_error_t *err);

/* The cgroup as stored in the container's state file (layout, each
 * hierarchy's mount point, path and created directories), and back. */
json_t *ar_cgroup_to_json (const struct ar_cgroup *cgroup);
int ar_cgroup_from_json (json_t *json, struct ar_cgroup **out, ar_error_t *err);

void ar_cgroup_free (struct ar_cgroup *cgroup);

/* The cgroup v2 values of cgroup v1 settings, as runc and crun convert
 * them: cpu.shares (2 to 262144) to cpu.weight (1 to 10000), and
 * blkio.weight (10 to 1000) to io.weight (1 to 10000).  0 stays 0. */
uint64_t ar_cgroup_shares_to_weight (uint64_t shares);
uint64_t ar_cgroup_blkio_to_io_weight (uint64_t weight);

#endif
