/* Placeholder until the real implementation lands. */
#define _GNU_SOURCE
#include <errno.h>
#include <stddef.h>
#include "cgroup.h"

int ar_cgroup_detect_layout (enum ar_cgroup_layout *out, ar_error_t *err)
{
  return ar_make_error (err, ENOSYS, "ar_cgroup_detect_layout is not implemented yet");
}

int ar_cgroup_create (const char *id, const char *cgroups_path, bool use_systemd, const struct ar_resources *resources, struct ar_cgroup **out, ar_error_t *err)
{
  return ar_make_error (err, ENOSYS, "ar_cgroup_create is not implemented yet");
}

int ar_cgroup_enter (struct ar_cgroup *cgroup, pid_t pid, ar_error_t *err)
{
  return ar_make_error (err, ENOSYS, "ar_cgroup_enter is not implemented yet");
}

int ar_cgroup_clone_into_fd (struct ar_cgroup *cgroup)
{
  return -1;
}

int ar_cgroup_update (struct ar_cgroup *cgroup, const struct ar_resources *resources, ar_error_t *err)
{
  return ar_make_error (err, ENOSYS, "ar_cgroup_update is not implemented yet");
}

int ar_cgroup_kill_all (struct ar_cgroup *cgroup, int signal, ar_error_t *err)
{
  return ar_make_error (err, ENOSYS, "ar_cgroup_kill_all is not implemented yet");
}

int ar_cgroup_list_pids (struct ar_cgroup *cgroup, pid_t **pids, size_t *n_pids, ar_error_t *err)
{
  return ar_make_error (err, ENOSYS, "ar_cgroup_list_pids is not implemented yet");
}

int ar_cgroup_set_frozen (struct ar_cgroup *cgroup, bool frozen, ar_error_t *err)
{
  return ar_make_error (err, ENOSYS, "ar_cgroup_set_frozen is not implemented yet");
}

int ar_cgroup_is_frozen (struct ar_cgroup *cgroup, bool *frozen, ar_error_t *err)
{
  return ar_make_error (err, ENOSYS, "ar_cgroup_is_frozen is not implemented yet");
}

int ar_cgroup_stats (struct ar_cgroup *cgroup, json_t **out, ar_error_t *err)
{
  return ar_make_error (err, ENOSYS, "ar_cgroup_stats is not implemented yet");
}

int ar_cgroup_mount (struct ar_cgroup *cgroup, int target_dirfd, bool in_cgroup_namespace, unsigned long flags, ar_error_t *err)
{
  return ar_make_error (err, ENOSYS, "ar_cgroup_mount is not implemented yet");
}

int ar_cgroup_destroy (struct ar_cgroup *cgroup, ar_error_t *err)
{
  return ar_make_error (err, ENOSYS, "ar_cgroup_destroy is not implemented yet");
}

json_t *ar_cgroup_to_json (const struct ar_cgroup *cgroup)
{
  return NULL;
}

int ar_cgroup_from_json (json_t *json, struct ar_cgroup **out, ar_error_t *err)
{
  return ar_make_error (err, ENOSYS, "ar_cgroup_from_json is not implemented yet");
}

void ar_cgroup_free (struct ar_cgroup *cgroup)
{
}
