/* The cgroup in the container's state file: the layout and, for each
 * hierarchy, its mount point, the container's path and the directories
 * that create made, so a later `delete` removes exactly those. */
#define _GNU_SOURCE
#include <errno.h>
#include <string.h>

#include "cgroup_internal.h"
#include "oci/util.h"

json_t *
ar_cgroup_to_json (const struct ar_cgroup *cgroup)
{
  json_t *hierarchies = json_array ();

  for (size_t i = 0; i < cgroup->n_hierarchies; i++)
    {
      const struct ar_cgroup_hierarchy *h = &cgroup->hierarchies[i];
      json_t *created = json_array ();
      json_t *obj;

      for (size_t j = 0; h->created[j] != NULL; j++)
        json_array_append_new (created, json_string (h->created[j]));
      obj = json_pack ("{s:b, s:s, s:s, s:o}", "unified", h->unified, "mountpoint", h->mountpoint, "path", h->path,
                       "created", created);
      if (!h->unified)
        json_object_set_new (obj, "controllers", json_string (h->controllers));
      json_array_append_new (hierarchies, obj);
    }
  return json_pack ("{s:s, s:o}", "layout", ar_cgroup_layout_name (cgroup->layout), "hierarchies", hierarchies);
}

/* Checks that dir lies at or below prefix, with no `..` on the way, so a
 * damaged state file cannot make destroy remove other directories. */
static bool
is_below (const char *dir, const char *prefix, bool allow_equal)
{
  size_t len = strlen (prefix);

  if (strncmp (dir, prefix, len) != 0)
    return false;
  if (dir[len] == '\0')
    return allow_equal;
  if (dir[len] != '/' || strstr (dir + len, "/..") != NULL || strstr (dir + len, "//") != NULL)
    return false;
  return true;
}

static int
hierarchy_from_json (json_t *obj, size_t index, struct ar_cgroup *cgroup, ar_error_t *err)
{
  struct ar_cgroup_hierarchy *h = ar_cgroup_add_hierarchy (cgroup);
  const char *mountpoint = NULL, *path = NULL, *controllers = NULL;
  json_t *created = NULL, *item;
  int unified = 0;
  size_t j;

  if (json_unpack (obj, "{s:b, s:s, s:s, s:o, s?s}", "unified", &unified, "mountpoint", &mountpoint, "path", &path,
                   "created", &created, "controllers", &controllers)
          < 0
      || !json_is_array (created) || mountpoint[0] != '/' || path[0] != '/' || (!unified && controllers == NULL))
    return ar_make_error (err, 0, "cgroup state: hierarchies[%zu] is malformed", index);

  h->unified = unified;
  h->controllers = ar_xstrdup (controllers);
  h->mountpoint = ar_xstrdup (mountpoint);
  h->path = ar_xstrdup (path);
  h->dir = ar_xasprintf ("%s%s", mountpoint, strcmp (path, "/") == 0 ? "" : path);
  if (!is_below (h->dir, h->mountpoint, true))
    return ar_make_error (err, 0, "cgroup state: hierarchies[%zu].path `%s` leaves `%s`", index, path,
                          mountpoint);

  json_array_foreach (created, j, item)
    {
      const char *dir = json_string_value (item);

      if (dir == NULL || !is_below (dir, h->mountpoint, false) || !is_below (h->dir, dir, true))
        return ar_make_error (err, 0,
                              "cgroup state: hierarchies[%zu].created[%zu] is not a directory between `%s` and `%s`",
                              index, j, h->mountpoint, h->dir);
      ar_cgroup_append_created (h, dir);
    }
  return 0;
}

int
ar_cgroup_from_json (json_t *json, struct ar_cgroup **out, ar_error_t *err)
{
  cleanup_cgroup struct ar_cgroup *cgroup = NULL;
  const char *layout = NULL;
  json_t *hierarchies = NULL, *item;
  size_t i;
  int ret;

  if (json_unpack (json, "{s:s, s:o}", "layout", &layout, "hierarchies", &hierarchies) < 0
      || !json_is_array (hierarchies))
    return ar_make_error (err, 0, "cgroup state: expected an object with `layout` and `hierarchies`");

  cgroup = ar_xmalloc0 (sizeof (*cgroup));
  if (ar_cgroup_layout_from_name (layout, &cgroup->layout) < 0)
    return ar_make_error (err, 0, "cgroup state: unknown layout `%s`", layout);

  json_array_foreach (hierarchies, i, item)
    {
      ret = hierarchy_from_json (item, i, cgroup, err);
      if (ret < 0)
        return ret;
    }
  if (cgroup->n_hierarchies == 0)
    return ar_make_error (err, 0, "cgroup state: no hierarchies");

  *out = ar_steal_ptr (cgroup);
  return 0;
}
