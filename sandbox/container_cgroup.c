/* The container verbs that act through the cgroup: pause, resume, ps,
 * update and stats. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cgroup.h"
#include "container.h"
#include "oci/resources.h"
#include "oci/util.h"
#include "state.h"

/* Loads the cgroup of a live container; EINVAL when it is stopped or has
 * no cgroup. */
static int
open_container_cgroup (const char *root, const char *id, const char *verb, struct ar_cgroup **out,
                       enum ar_status *status_out, ar_error_t *err)
{
  cleanup_state struct ar_state *state = NULL;
  json_t *state_json = NULL;
  const char *status;
  int ret = 0;

  if (ar_state_validate_id (id, err) < 0)
    return -1;
  if (ar_container_state (root, id, &state_json, err) < 0)
    return -1;
  status = json_string_value (json_object_get (state_json, "status"));
  if (status == NULL || (strcmp (status, "running") != 0 && strcmp (status, "paused") != 0
                         && strcmp (status, "created") != 0))
    ret = ar_make_error (err, 0, "cannot %s container `%s`: it is %s", verb, id, status ? status : "unknown");
  if (status_out)
    *status_out = status && strcmp (status, "paused") == 0 ? AR_STATUS_PAUSED : AR_STATUS_RUNNING;
  json_decref (state_json);
  if (ret < 0)
    return ret;

  if (ar_state_read (root, id, &state, err) < 0)
    return -1;
  if (state->cgroup == NULL)
    return ar_make_error (err, 0, "cannot %s container `%s`: it has no cgroup", verb, id);
  return ar_cgroup_from_json (state->cgroup, out, err);
}

static int
set_frozen (const char *root, const char *id, bool frozen, ar_error_t *err)
{
  struct ar_cgroup *cgroup = NULL;
  enum ar_status status;
  int ret;

  if (open_container_cgroup (root, id, frozen ? "pause" : "resume", &cgroup, &status, err) < 0)
    return -1;
  if (!frozen && status != AR_STATUS_PAUSED)
    {
      ar_cgroup_free (cgroup);
      return ar_make_error (err, 0, "cannot resume container `%s`: it is not paused", id);
    }
  ret = ar_cgroup_set_frozen (cgroup, frozen, err);
  ar_cgroup_free (cgroup);
  return ret;
}

int
ar_container_pause (const char *root, const char *id, ar_error_t *err)
{
  return set_frozen (root, id, true, err);
}

int
ar_container_resume (const char *root, const char *id, ar_error_t *err)
{
  return set_frozen (root, id, false, err);
}

int
ar_container_pids (const char *root, const char *id, pid_t **pids, size_t *n_pids, ar_error_t *err)
{
  struct ar_cgroup *cgroup = NULL;
  int ret;

  if (open_container_cgroup (root, id, "list the processes of", &cgroup, NULL, err) < 0)
    return -1;
  ret = ar_cgroup_list_pids (cgroup, pids, n_pids, err);
  ar_cgroup_free (cgroup);
  return ret;
}

int
ar_container_update (const char *root, const char *id, json_t *resources_json, ar_error_t *err)
{
  struct ar_cgroup *cgroup = NULL;
  struct ar_resources *resources = NULL;
  int ret;

  if (ar_resources_parse (resources_json, "resources", &resources, err) < 0)
    return -1;
  if (open_container_cgroup (root, id, "update", &cgroup, NULL, err) < 0)
    {
      ar_resources_free (resources);
      return -1;
    }
  ret = ar_cgroup_update (cgroup, resources, err);
  ar_cgroup_free (cgroup);
  ar_resources_free (resources);
  return ret;
}

int
ar_container_stats (const char *root, const char *id, json_t **out, ar_error_t *err)
{
  struct ar_cgroup *cgroup = NULL;
  int ret;

  if (open_container_cgroup (root, id, "read the stats of", &cgroup, NULL, err) < 0)
    return -1;
  ret = ar_cgroup_stats (cgroup, out, err);
  ar_cgroup_free (cgroup);
  return ret;
}
