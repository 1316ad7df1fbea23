#define _GNU_SOURCE
#include "policy_config.h"

#include <errno.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "oci/config_internal.h"
#include "oci/log.h"
#include "oci/util.h"
#include "policy/policy.h"

static int
apply_one (struct ar_policy *policy, json_t *doc, const char *origin, ar_error_t *err)
{
  ar_debug ("applying policy `%s` from %s (%s mode)", ar_policy_name (policy), ar_policy_origin (policy),
            ar_policy_is_audit (policy) ? "audit" : "enforce");
  return ar_policy_apply (policy, doc, origin, err);
}

/* Resolves the agentrun.policy annotation to a file in the policy folder;
 * names that could leave the folder are rejected. */
static int
named_policy_path (const char *name, char **out, ar_error_t *err)
{
  const char *dir = getenv ("AGENTRUN_POLICY_DIR");

  if (*name == '\0' || name[0] == '/' || strstr (name, "..") != NULL)
    return ar_make_error (err, 0, "annotations[\"%s\"]: invalid policy name `%s`; give the name of a file in the "
                                  "policy folder, without `/` at the start or `..`",
                          AR_POLICY_ANNOTATION, name);
  *out = ar_xasprintf ("%s/%s", dir && *dir ? dir : AR_DEFAULT_POLICY_DIR, name);
  return 0;
}

int
ar_config_load_with_policies (const char *bundle, const char *policy_path, struct ar_config **out,
                              ar_error_t *err)
{
  cleanup_free char *path = ar_xasprintf ("%s/config.json", bundle);
  cleanup_free char *text = NULL;
  cleanup_free char *applied = NULL;
  json_t *doc = NULL, *annotations;
  const char *named, *inline_text;
  size_t len;
  int ret = -1;

  /* The common case, no policy at all, skips the JSON round trip. */
  if (policy_path == NULL)
    {
      if (ar_read_file (path, &text, &len, NULL) < 0 || strstr (text, AR_POLICY_ANNOTATION) == NULL)
        return ar_config_load_bundle (bundle, out, err);
    }
  else if (ar_read_file (path, &text, &len, err) < 0)
    return ar_error_wrap (err, "bundle `%s`", bundle);

  if (ar_json_load (text, len, path, &doc, err) < 0)
    return -1;

  if (policy_path)
    {
      cleanup_policy struct ar_policy *policy = NULL;
      if (ar_policy_load (policy_path, &policy, err) < 0 || apply_one (policy, doc, path, err) < 0)
        goto out;
    }

  annotations = json_object_get (doc, "annotations");
  named = json_string_value (json_object_get (annotations, AR_POLICY_ANNOTATION));
  inline_text = json_string_value (json_object_get (annotations, AR_POLICY_INLINE_ANNOTATION));
  if (named)
    {
      cleanup_policy struct ar_policy *policy = NULL;
      cleanup_free char *named_path = NULL;
      if (named_policy_path (named, &named_path, err) < 0 || ar_policy_load (named_path, &policy, err) < 0
          || apply_one (policy, doc, path, err) < 0)
        goto out;
    }
  if (inline_text)
    {
      cleanup_policy struct ar_policy *policy = NULL;
      cleanup_free char *origin = ar_xasprintf ("%s: annotations[\"%s\"]", path, AR_POLICY_INLINE_ANNOTATION);
      if (ar_policy_load_text (inline_text, strlen (inline_text), origin, &policy, err) < 0
          || apply_one (policy, doc, path, err) < 0)
        goto out;
    }

  applied = json_dumps (doc, JSON_COMPACT);
  if (applied == NULL)
    {
      ar_make_error (err, ENOMEM, "cannot serialise `%s` after applying the policy", path);
      goto out;
    }
  ret = ar_config_parse (applied, strlen (applied), path, out, err);

out:
  json_decref (doc);
  return ret;
}
