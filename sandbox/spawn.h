/* Spawning the container process: clone with its namespaces, the sync
 * protocol between the runtime and the container process, and every step
 * the container process performs on itself until it waits for `start`. */
#ifndef AGENTRUN_SPAWN_H
#define AGENTRUN_SPAWN_H

#include <stdbool.h>
#include <sys/types.h>

#include "cgroup.h"
#include "oci/config.h"
#include "oci/error.h"
#include "identity.h"
#include "seccomp_filter.h"

struct ar_seccomp_notice;

struct ar_spawn_request
{
  const struct ar_config *config;
  const char *id;
  const char *bundle;  /* absolute */
  const char *rootfs;  /* absolute */
  int exec_fifo_fd;    /* O_PATH fd of the exec FIFO */
  int console_fd;      /* connected console socket, or -1 */
  int preserve_fds;    /* fds 3 .. 3+N-1 reach the container */
  bool no_pivot;
  bool no_new_keyring;
  struct ar_cgroup *cgroup;                      /* may be NULL */
  const struct ar_seccomp_program *seccomp;      /* may be NULL */
  const struct ar_identity *identity;            /* SVIDs to install, or NULL */

  /* Called in the runtime when the container process has its mounts ready,
   * to run the prestart and createRuntime hooks; pid is the container's. */
  int (*run_runtime_hooks) (void *data, pid_t pid, ar_error_t *err);
  void *hooks_data;

  /* Called right after clone, before the container process goes on, so
   * that the caller can record the pid for cleanup after a crash. */
  int (*on_cloned) (void *data, pid_t pid, ar_error_t *err);

  /* Called with the seccomp listener fd when linux.seccomp requests one,
   * to pass it to linux.seccomp.listenerPath. */
  int (*send_seccomp_listener) (void *data, pid_t pid, int listener_fd, ar_error_t *err);

  /* Set when the runtime answers the listener's notifications itself (audit
   * mode): until the container process is ready, each system call that
   * stops at the filter is let through and passed here. */
  void (*on_seccomp_notice) (void *data, const struct ar_seccomp_notice *notice);
  /* Called with a descriptor of the root of the SVID tmpfs that the
   * container process mounted, when there is an identity; takes
   * ownership of dir_fd. */
  int (*keep_identity_dir) (void *data, int dir_fd, ar_error_t *err);

  /* `exec` into a running container: config->linux_config lists the
   * container's namespaces by path, the rootfs, hooks and exec FIFO are
   * skipped, and the process runs as soon as it is set up. */
  bool exec_mode;
  int user_namespace_fd; /* exec: the container's user namespace, or -1 */
};

/* Clones the container process and drives it until it waits on the exec
 * FIFO.  On success *pid is the container process (a child of the caller).
 * On failure the process is killed and reaped. */
int ar_spawn_container (const struct ar_spawn_request *request, pid_t *pid, ar_error_t *err);

#endif
