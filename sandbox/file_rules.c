/* The filesystem rules of a policy, as the annotation
 * agentrun.policy.filesystem records them, and the decision whether
 * enforce mode would let a write to a path through. */
#define _GNU_SOURCE
#include <errno.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "file_events.h"
#include "oci/util.h"
#include "policy/policy.h"

#define FIELD "annotations[\"" AR_POLICY_ANNOTATION_FILESYSTEM "\"]"

struct file_place
{
  char *path;
  char *rule;
  char *field; /* "filesystem.denied_paths[0]" */
};

struct file_places
{
  struct file_place *items;
  size_t n;
};

struct ar_file_rules
{
  bool readonly_rootfs;
  char *rootfs_rule;
  struct file_places writable; /* readwrite_paths, then tmpfs */
  struct file_places readonly;
  struct file_places denied;
};

static void
places_free (struct file_places *places)
{
  for (size_t i = 0; i < places->n; i++)
    {
      free (places->items[i].path);
      free (places->items[i].rule);
      free (places->items[i].field);
    }
  free (places->items);
}

void
ar_file_rules_free (struct ar_file_rules *rules)
{
  if (rules == NULL)
    return;
  free (rules->rootfs_rule);
  places_free (&rules->writable);
  places_free (&rules->readonly);
  places_free (&rules->denied);
  free (rules);
}

/* Appends the entries of root[key], a list of {"path", "rule"}. */
static int
add_places (json_t *root, const char *key, struct file_places *places, ar_error_t *err)
{
  json_t *list = json_object_get (root, key);
  json_t *item;
  size_t i;

  if (list == NULL)
    return 0;
  if (!json_is_array (list))
    return ar_make_error (err, EINVAL, FIELD ".%s: not a list; apply the policy again to rewrite it", key);
  places->items = realloc (places->items, (places->n + json_array_size (list) + 1) * sizeof (*places->items));
  if (places->items == NULL)
    abort ();
  json_array_foreach (list, i, item)
    {
      const char *path = json_string_value (json_object_get (item, "path"));
      const char *rule = json_string_value (json_object_get (item, "rule"));

      if (path == NULL || path[0] != '/')
        return ar_make_error (err, EINVAL, FIELD ".%s[%zu].path: not an absolute path; apply the policy again",
                              key, i);
      places->items[places->n++] = (struct file_place) {
        .path = ar_xstrdup (path),
        .rule = ar_xstrdup (rule != NULL ? rule : "(default)"),
        .field = ar_xasprintf ("filesystem.%s[%zu]", key, i),
      };
    }
  return 0;
}

int
ar_file_rules_parse (const char *text, struct ar_file_rules **out, ar_error_t *err)
{
  json_error_t json_err;
  json_auto_t *root = json_loads (text, 0, &json_err);
  struct ar_file_rules *rules;
  const char *rootfs_rule;

  if (!json_is_object (root))
    return ar_make_error (err, EINVAL, FIELD ": not a JSON object (%s); apply the policy again to rewrite it",
                          root == NULL ? json_err.text : "another type");
  rules = ar_xmalloc0 (sizeof (*rules));
  rules->readonly_rootfs = json_is_true (json_object_get (root, "readonly_rootfs"));
  rootfs_rule = json_string_value (json_object_get (root, "rule"));
  rules->rootfs_rule = ar_xstrdup (rootfs_rule != NULL ? rootfs_rule : "(readonly_rootfs)");
  if (add_places (root, "readwrite_paths", &rules->writable, err) < 0
      || add_places (root, "tmpfs", &rules->writable, err) < 0
      || add_places (root, "readonly_paths", &rules->readonly, err) < 0
      || add_places (root, "denied_paths", &rules->denied, err) < 0)
    {
      ar_file_rules_free (rules);
      return -EINVAL;
    }
  *out = rules;
  return 0;
}

/* Whether path is place or lies below it. */
static bool
path_within (const char *path, const char *place)
{
  size_t len = strlen (place);

  if (strcmp (place, "/") == 0)
    return true;
  return strncmp (path, place, len) == 0 && (path[len] == '\0' || path[len] == '/');
}

/* The longest place that holds path, or NULL. */
static const struct file_place *
closest (const struct file_places *places, const char *path)
{
  const struct file_place *best = NULL;

  for (size_t i = 0; i < places->n; i++)
    if (path_within (path, places->items[i].path)
        && (best == NULL || strlen (places->items[i].path) > strlen (best->path)))
      best = &places->items[i];
  return best;
}

const char *
ar_file_rules_check (const struct ar_file_rules *rules, const char *path, const char **field)
{
  const struct file_place *denied = closest (&rules->denied, path);
  const struct file_place *writable, *readonly;

  /* A denied path is hidden even within a writable place. */
  if (denied != NULL)
    {
      *field = denied->field;
      return denied->rule;
    }

  /* Otherwise the most precise place decides: a read-only folder within
   * a writable one stays read-only, and the other way round. */
  writable = closest (&rules->writable, path);
  readonly = closest (&rules->readonly, path);
  if (readonly != NULL && (writable == NULL || strlen (readonly->path) >= strlen (writable->path)))
    {
      *field = readonly->field;
      return readonly->rule;
    }
  if (writable != NULL || !rules->readonly_rootfs)
    return NULL;
  *field = "filesystem.readonly_rootfs";
  return rules->rootfs_rule;
}

static bool
any_below (const struct file_places *places, const char *mount_point)
{
  for (size_t i = 0; i < places->n; i++)
    if (path_within (places->items[i].path, mount_point))
      return true;
  return false;
}

bool
ar_file_rules_watch_mount (const struct ar_file_rules *rules, const char *mount_point)
{
  const char *field;

  return ar_file_rules_check (rules, mount_point, &field) != NULL || any_below (&rules->denied, mount_point)
         || any_below (&rules->readonly, mount_point);
}
