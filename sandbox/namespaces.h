/* Linux namespaces of the container: which to create with clone, which to
 * join by path, id mappings and time offsets. */
#ifndef AGENTRUN_NAMESPACES_H
#define AGENTRUN_NAMESPACES_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "oci/config.h"
#include "oci/error.h"

/* The runtime's own namespaces, saved while it is inside the ones the
 * container joins, so that it returns to them after clone. */
struct ar_namespace_switch
{
  int saved[AR_NS_COUNT];
  int cwd_fd;
};

#define AR_NAMESPACE_SWITCH_INIT { .saved = { -1, -1, -1, -1, -1, -1, -1, -1 }, .cwd_fd = -1 }

/* CLONE_NEW* flags of the namespaces to create (present, without path).
 * CLONE_NEWTIME is included but is set up by ar_namespaces_enter_for_clone. */
uint64_t ar_namespaces_clone_flags (const struct ar_linux *linux_config);

/* Checks the namespace list against the rest of the config: id mappings
 * with a new user namespace, paths that exist and are namespaces of the
 * named type. */
int ar_namespaces_validate (const struct ar_config *config, ar_error_t *err);

/* Enters every namespace given by path (all but user) and creates a new
 * time namespace with its offsets, so that a clone made next starts in
 * them.  The runtime itself keeps running in its own namespaces for every
 * kind but mount, net, ipc, uts and cgroup, which ar_namespaces_restore
 * undoes right after the clone. */
int ar_namespaces_enter_for_clone (const struct ar_linux *linux_config, struct ar_namespace_switch *sw,
                                   ar_error_t *err);
int ar_namespaces_restore (struct ar_namespace_switch *sw, ar_error_t *err);
void ar_namespaces_release (struct ar_namespace_switch *sw);
#define cleanup_namespaces __attribute__ ((cleanup (ar_namespaces_release)))

/* Writes /proc/PID/uid_map and gid_map. */
int ar_namespaces_write_id_maps (pid_t pid, const struct ar_linux *linux_config, ar_error_t *err);

/* Brings up the loopback interface of the caller's network namespace, as
 * runc and crun do in a new one: podman's --network none and CNI's bridge
 * networks expect 127.0.0.1 to work in the container. */
int ar_namespaces_loopback_up (ar_error_t *err);

/* "pid, mount, ..." for messages; a static buffer. */
const char *ar_namespaces_describe_flags (uint64_t flags);

/* Maps AR_NS_* to CLONE_NEW*. */
int ar_namespace_clone_flag (enum ar_namespace_type type);

#endif
