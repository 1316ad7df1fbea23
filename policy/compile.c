/* `agentrun policy compile`: the changes a policy makes to config.json, as
 * a JSON Patch (RFC 6902), beside the conflicts it finds. */
#define _GNU_SOURCE
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "apply_internal.h"
#include "oci/util.h"

static bool
is_identifier (const char *key)
{
  if (*key == '\0' || isdigit ((unsigned char) *key))
    return false;
  for (const char *p = key; *p; p++)
    if (!isalnum ((unsigned char) *p) && *p != '_')
      return false;
  return true;
}

char *
ar_policy_json_path (const char *parent, const char *key)
{
  cleanup_free char *quoted = NULL;
  json_t *string;

  if (is_identifier (key))
    return parent[0] != '\0' ? ar_xasprintf ("%s.%s", parent, key) : ar_xstrdup (key);
  string = json_string (key);
  quoted = json_dumps (string, JSON_ENCODE_ANY);
  json_decref (string);
  return ar_xasprintf ("%s[%s]", parent, quoted != NULL ? quoted : "\"?\"");
}

char *
ar_policy_json_index (const char *parent, size_t index)
{
  return ar_xasprintf ("%s[%zu]", parent, index);
}

/* Appends one reference token to a JSON Pointer (RFC 6901): "~" becomes
 * "~0" and "/" becomes "~1". */
static char *
pointer_append (const char *pointer, const char *token)
{
  char *out = ar_xmalloc0 (strlen (pointer) + 2 * strlen (token) + 2);
  size_t o = strlen (pointer);

  memcpy (out, pointer, o);
  out[o++] = '/';
  for (const char *p = token; *p; p++)
    {
      if (*p == '~' || *p == '/')
        {
          out[o++] = '~';
          out[o++] = *p == '~' ? '0' : '1';
        }
      else
        out[o++] = *p;
    }
  out[o] = '\0';
  return out;
}

static void
add_operation (json_t *patch, const char *op, const char *pointer, json_t *value)
{
  json_t *operation = json_pack ("{s:s, s:s}", "op", op, "path", pointer);

  if (value != NULL)
    json_object_set (operation, "value", value);
  json_array_append_new (patch, operation);
}

/* Whether before's elements start after's: then the change is appends. */
static bool
is_prefix (json_t *before, json_t *after)
{
  if (json_array_size (before) > json_array_size (after))
    return false;
  for (size_t i = 0; i < json_array_size (before); i++)
    if (!json_equal (json_array_get (before, i), json_array_get (after, i)))
      return false;
  return true;
}

static void
diff_into (json_t *patch, const char *pointer, json_t *before, json_t *after)
{
  if (json_equal (before, after))
    return;

  if (json_is_object (before) && json_is_object (after))
    {
      const char *key;
      json_t *value;

      json_object_foreach (before, key, value)
        if (json_object_get (after, key) == NULL)
          {
            cleanup_free char *child = pointer_append (pointer, key);
            add_operation (patch, "remove", child, NULL);
          }
      json_object_foreach (after, key, value)
        {
          cleanup_free char *child = pointer_append (pointer, key);
          json_t *old = json_object_get (before, key);

          if (old == NULL)
            add_operation (patch, "add", child, value);
          else
            diff_into (patch, child, old, value);
        }
      return;
    }

  if (json_is_array (before) && json_is_array (after) && is_prefix (before, after))
    {
      cleanup_free char *end = pointer_append (pointer, "-");

      for (size_t i = json_array_size (before); i < json_array_size (after); i++)
        add_operation (patch, "add", end, json_array_get (after, i));
      return;
    }
  add_operation (patch, "replace", pointer, after);
}

json_t *
ar_policy_json_diff (json_t *before, json_t *after)
{
  json_t *patch = json_array ();

  diff_into (patch, "", before, after);
  return patch;
}

static void
ignore_event (json_t *event, void *user_data)
{
}

int
ar_policy_compile (const struct ar_policy *policy, json_t *config, const char *config_origin, json_t **out,
                   ar_error_t *err)
{
  json_auto_t *before = NULL;
  json_auto_t *after = NULL;
  json_t *conflicts = NULL;
  json_t *patch;
  int ret;

  /* Without a bundle, a document with an empty process and root shows
   * every value the policy fills in. */
  before = config != NULL ? json_deep_copy (config) : json_pack ("{s:{}, s:{}}", "process", "root");
  if (before == NULL)
    return ar_make_error (err, ENOMEM, "cannot copy the config");

  ret = ar_policy_conflicts (policy, before, config_origin, &conflicts, err);
  if (ret < 0)
    return ret;

  if (policy->mode.value == AR_POLICY_MODE_ENFORCE && json_array_size (conflicts) > 0)
    patch = json_array ();
  else
    {
      after = json_deep_copy (before);
      ret = ar_policy_apply_with_events (policy, after, config_origin, ignore_event, NULL, err);
      if (ret < 0)
        {
          json_decref (conflicts);
          return ret;
        }
      patch = ar_policy_json_diff (before, after);
    }

  *out = json_pack ("{s:s, s:s, s:s, s:s?, s:o, s:o}", "policy", policy->name.value, "file", policy->origin,
                    "mode", ar_policy_mode_names[policy->mode.value], "config", config != NULL ? config_origin : NULL,
                    "conflicts", conflicts, "patch", patch);
  return 0;
}
