/* AR_IDENTITY_ENV in the environment of the container's processes.  This
 * part links no library of spiffe/, so that `exec` stays in agentrun (see
 * binary.h). */
#define _GNU_SOURCE
#include <errno.h>
#include <jansson.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "identity.h"
#include "oci/util.h"

static bool
env_has (const struct ar_process *process, const char *prefix)
{
  for (size_t i = 0; process->env != NULL && process->env[i] != NULL; i++)
    if (ar_str_has_prefix (process->env[i], prefix))
      return true;
  return false;
}

static int
env_append (struct ar_process *process, char *entry)
{
  size_t n = ar_strv_len (process->env);
  char **env = realloc (process->env, sizeof (char *) * (n + 2));

  if (env == NULL)
    {
      free (entry);
      return -ENOMEM;
    }
  env[n] = entry;
  env[n + 1] = NULL;
  process->env = env;
  return 0;
}

int
ar_identity_add_env (struct ar_process *process, const char *svid_dir)
{
  size_t len = strlen (svid_dir);
  const char *slash = len > 0 && svid_dir[len - 1] == '/' ? "" : "/";

  if (!env_has (process, AR_IDENTITY_ENV "=")
      && env_append (process, ar_xasprintf ("%s=%s", AR_IDENTITY_ENV, svid_dir)) < 0)
    return -ENOMEM;
  if (!env_has (process, AR_IDENTITY_ENDPOINT_ENV "=")
      && env_append (process, ar_xasprintf ("%s=unix://%s%s" AR_IDENTITY_SOCKET_DIR "/" AR_IDENTITY_SOCKET_NAME,
                                            AR_IDENTITY_ENDPOINT_ENV, svid_dir, slash))
             < 0)
    return -ENOMEM;
  return 0;
}

int
ar_identity_exec_env (struct ar_process *process, const struct ar_config *config, ar_error_t *err)
{
  const char *policy_text = ar_config_annotation (config, AR_IDENTITY_ANNOTATION_POLICY);
  const char *svid_dir;
  json_error_t json_err;
  json_t *policy;
  int ret = 0;

  if (policy_text == NULL)
    return 0;
  if (env_has (process, AR_IDENTITY_ENV "=") && env_has (process, AR_IDENTITY_ENDPOINT_ENV "="))
    return 0;

  policy = json_loads (policy_text, 0, &json_err);
  svid_dir = json_string_value (json_object_get (policy, "svid_dir"));
  if (svid_dir == NULL)
    {
      json_decref (policy);
      return ar_make_error (err, 0, "annotation %s: expected an svid_dir", AR_IDENTITY_ANNOTATION_POLICY);
    }
  if (ar_identity_add_env (process, svid_dir) < 0)
    ret = ar_make_error (err, ENOMEM, "cannot add %s to the process's environment", AR_IDENTITY_ENV);
  json_decref (policy);
  return ret;
}

