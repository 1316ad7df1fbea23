/* Types and helpers shared by the cgroup files: cgroup.c (path rules,
 * create, enter, destroy), cgroup_layout.c, cgroup_files.c, cgroup_state.c,
 * cgroup_apply.c (which controller goes where), cgroup_v1.c, cgroup_v2.c,
 * cgroup_v2_devices.c, cgroup_control.c, cgroup_stats.c and
 * cgroup_mount.c.  Not for callers outside them, except the unit tests. */
#ifndef AGENTRUN_CGROUP_INTERNAL_H
#define AGENTRUN_CGROUP_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cgroup.h"

/* One cgroup filesystem mount from /proc/self/mountinfo. */
struct ar_cgroup_mount_entry
{
  bool unified;      /* cgroup2 */
  char *controllers; /* v1: "cpu,cpuacct" or "name=systemd"; NULL for cgroup2 */
  char *mountpoint;
  char *root;        /* the cgroup shown at mountpoint, "/" for a whole hierarchy */
};

struct ar_cgroup_mounts
{
  struct ar_cgroup_mount_entry *entries;
  size_t n_entries;
};

/* Collects the cgroup and cgroup2 mounts of a mountinfo text, one per
 * hierarchy: a hierarchy mounted twice keeps the mount under /sys/fs/cgroup,
 * or else the first one.  With check_visible, mounts that a later mount
 * hides (a tmpfs over /sys/fs/cgroup/unified) are left out, which takes a
 * stat(2) of each mount point. */
int ar_cgroup_parse_mountinfo (const char *text, bool check_visible, struct ar_cgroup_mounts *out,
                               ar_error_t *err);
void ar_cgroup_mounts_clear (struct ar_cgroup_mounts *mounts);

/* Reads /proc/self/mountinfo into *mounts (visible mounts only) and the
 * layout they make. */
int ar_cgroup_read_mounts (struct ar_cgroup_mounts *mounts, enum ar_cgroup_layout *layout, ar_error_t *err);

int ar_cgroup_layout_from_name (const char *name, enum ar_cgroup_layout *out);

/* v1 when a v1 hierarchy with a real controller is mounted (hybrid when a
 * cgroup2 mount sits beside it), v2 when only cgroup2 is.  Named v1
 * hierarchies alone (name=systemd on a v2 host) do not make a host v1. */
int ar_cgroup_layout_of_mounts (const struct ar_cgroup_mounts *mounts, enum ar_cgroup_layout *out,
                                ar_error_t *err);

/* The container's directory in one hierarchy. */
struct ar_cgroup_hierarchy
{
  bool unified;
  char *controllers; /* as in ar_cgroup_mount_entry */
  char *mountpoint;
  char *path;        /* cgroup path below mountpoint, "/agentrun/ID" */
  char *dir;         /* mountpoint + path */
  char **created;    /* directories this cgroup made, shallowest first (NULL-terminated) */
};

struct ar_cgroup
{
  enum ar_cgroup_layout layout;
  struct ar_cgroup_hierarchy *hierarchies;
  size_t n_hierarchies;
};

void ar_cgroup_release (struct ar_cgroup **cgroup);
#define cleanup_cgroup __attribute__ ((cleanup (ar_cgroup_release)))

/* Appends an empty hierarchy to the cgroup. */
struct ar_cgroup_hierarchy *ar_cgroup_add_hierarchy (struct ar_cgroup *cgroup);

/* Records dir as made by this cgroup, for destroy. */
void ar_cgroup_append_created (struct ar_cgroup_hierarchy *h, const char *dir);

/* Whether the comma-separated list contains name. */
bool ar_cgroup_list_contains (const char *list, const char *name);

/* Whether two comma-separated lists hold the same names in any order. */
bool ar_cgroup_lists_equal (const char *a, const char *b);

/* The directory of the v1 hierarchy that carries controller, or NULL. */
const char *ar_cgroup_v1_dir (const struct ar_cgroup *cgroup, const char *controller);
struct ar_cgroup_hierarchy *ar_cgroup_v1_hierarchy (const struct ar_cgroup *cgroup, const char *controller);

/* The cgroup2 hierarchy (v2 and hybrid layouts), or NULL. */
struct ar_cgroup_hierarchy *ar_cgroup_unified (const struct ar_cgroup *cgroup);

/* Small cgroup file helpers; errors name the full file path. */
bool ar_cgroup_file_exists (const char *dir, const char *file);
int ar_cgroup_read (const char *dir, const char *file, char **out, ar_error_t *err);
int ar_cgroup_write (const char *dir, const char *file, const char *value, ar_error_t *err);

/* Reads a number, "max" reading as UINT64_MAX. */
int ar_cgroup_read_u64 (const char *dir, const char *file, uint64_t *out, ar_error_t *err);

/* Finds "key value" in a flat-keyed file such as memory.stat or
 * cgroup.events; -ENOENT without an error when the key is absent. */
int ar_cgroup_read_keyed (const char *dir, const char *file, const char *key, uint64_t *out, ar_error_t *err);

/* Reads cgroup.procs of dir and of every cgroup below it. */
int ar_cgroup_collect_pids (const char *dir, pid_t **pids, size_t *n_pids, ar_error_t *err);

/* Moves the error in *src to *dst (freeing it when dst is NULL); an error
 * already in *dst becomes the innermost cause. */
void ar_cgroup_move_error (ar_error_t *dst, ar_error_t *src);

/* Sleeps ms milliseconds, resuming after a signal interrupts the sleep. */
void ar_cgroup_sleep_ms (unsigned int ms);

/* Applies resources to every hierarchy, each controller where this host
 * has it.  Called by create and by update. */
int ar_cgroup_apply (struct ar_cgroup *cgroup, const struct ar_resources *resources, bool update,
                     ar_error_t *err);

/* cgroup v1 (cgroup_v1.c).  Each setter takes the directory of the
 * hierarchy that carries its controller. */
int ar_cgroup_v1_init_cpuset (const char *mountpoint, const char *dir, ar_error_t *err);
int ar_cgroup_v1_set_memory (const char *dir, const struct ar_memory_resources *mem, const char *path,
                             bool update, ar_error_t *err);
int ar_cgroup_v1_set_cpu (struct ar_cgroup_hierarchy *h, const struct ar_cpu_resources *cpu, const char *path,
                          ar_error_t *err);
int ar_cgroup_v1_set_cpuset (const char *dir, const struct ar_cpu_resources *cpu, const char *path,
                             ar_error_t *err);
int ar_cgroup_v1_set_pids (const char *dir, const struct ar_pids_resources *pids, const char *path,
                           ar_error_t *err);
int ar_cgroup_v1_set_blkio (const char *dir, const struct ar_blkio_resources *blkio, const char *path,
                            ar_error_t *err);
int ar_cgroup_v1_set_hugetlb (const char *dir, const struct ar_resources *r, ar_error_t *err);
int ar_cgroup_v1_set_devices (const char *dir, const struct ar_resources *r, ar_error_t *err);
int ar_cgroup_v1_set_net_cls (const char *dir, const struct ar_network_resources *net, const char *path,
                              ar_error_t *err);
int ar_cgroup_v1_set_net_prio (const char *dir, const struct ar_network_resources *net, const char *path,
                               ar_error_t *err);
int ar_cgroup_v1_set_rdma (const char *dir, const struct ar_resources *r, ar_error_t *err);
int ar_cgroup_v1_set_frozen (const char *dir, bool frozen, ar_error_t *err);
int ar_cgroup_v1_is_frozen (const char *dir, bool *frozen, ar_error_t *err);

/* cgroup v2 (cgroup_v2.c). */

/* Enables controllers in cgroup.subtree_control of every ancestor of the
 * leaf, from the mount root down, or with only_created of those that this
 * cgroup made.  wanted NULL means every available controller, and then
 * failures are only logged.  A named controller that cannot be enabled is
 * an error, but one that the parent does not offer is left for the caller
 * to report. */
int ar_cgroup_v2_enable_controllers (const struct ar_cgroup_hierarchy *h, const char *const *wanted,
                                     bool only_created, ar_error_t *err);
bool ar_cgroup_v2_has_controller (const char *dir, const char *controller);
int ar_cgroup_v2_set_memory (const char *dir, const struct ar_memory_resources *mem, const char *path,
                             bool update, ar_error_t *err);
int ar_cgroup_v2_set_cpu (const char *dir, const struct ar_cpu_resources *cpu, const char *path,
                          ar_error_t *err);
int ar_cgroup_v2_set_cpuset (const char *dir, const struct ar_cpu_resources *cpu, const char *path,
                             ar_error_t *err);
int ar_cgroup_v2_set_pids (const char *dir, const struct ar_pids_resources *pids, const char *path,
                           ar_error_t *err);
int ar_cgroup_v2_set_io (const char *dir, const struct ar_blkio_resources *blkio, const char *path,
                         ar_error_t *err);
int ar_cgroup_v2_set_hugetlb (const char *dir, const struct ar_resources *r, ar_error_t *err);
int ar_cgroup_v2_set_rdma (const char *dir, const struct ar_resources *r, ar_error_t *err);
int ar_cgroup_v2_set_unified (const char *dir, const struct ar_resources *r, ar_error_t *err);
int ar_cgroup_v2_set_frozen (const char *dir, bool frozen, ar_error_t *err);
int ar_cgroup_v2_is_frozen (const char *dir, bool *frozen, ar_error_t *err);

/* cgroup v2 device filter (cgroup_v2_devices.c): an eBPF program of type
 * BPF_PROG_TYPE_CGROUP_DEVICE built from the rules and attached to dir,
 * replacing the one attached before. */
int ar_cgroup_v2_set_devices (const char *dir, const struct ar_resources *r, ar_error_t *err);

#endif
