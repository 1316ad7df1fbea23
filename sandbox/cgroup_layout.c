/* Detection of the host's cgroup layout from the cgroup mounts in
 * /proc/self/mountinfo. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include "cgroup_internal.h"
#include "oci/util.h"

const char *
ar_cgroup_layout_name (enum ar_cgroup_layout layout)
{
  switch (layout)
    {
    case AR_CGROUP_LAYOUT_V1:
      return "v1";
    case AR_CGROUP_LAYOUT_HYBRID:
      return "hybrid";
    case AR_CGROUP_LAYOUT_V2:
      return "v2";
    }
  return "unknown";
}

int
ar_cgroup_layout_from_name (const char *name, enum ar_cgroup_layout *out)
{
  for (int l = AR_CGROUP_LAYOUT_V1; l <= AR_CGROUP_LAYOUT_V2; l++)
    if (strcmp (name, ar_cgroup_layout_name (l)) == 0)
      {
        *out = l;
        return 0;
      }
  return -EINVAL;
}

/* Decodes the \ooo escapes that mountinfo uses for spaces and such. */
static char *
unescape_mountinfo (const char *s)
{
  char *out = ar_xmalloc0 (strlen (s) + 1);
  char *o = out;

  while (*s != '\0')
    {
      if (s[0] == '\\' && s[1] >= '0' && s[1] <= '3' && s[2] >= '0' && s[2] <= '7' && s[3] >= '0' && s[3] <= '7')
        {
          *o++ = (char) (((s[1] - '0') << 6) | ((s[2] - '0') << 3) | (s[3] - '0'));
          s += 4;
        }
      else
        *o++ = *s++;
    }
  return out;
}

/* Keeps the controller names of a v1 super-block option list, dropping
 * the other options that cgroup v1 mounts show there. */
static char *
controllers_from_options (const char *options)
{
  static const char *const not_controllers[] = { "rw", "ro", "sync", "dirsync", "mand", "lazytime", "noprefix",
                                                 "clone_children", "cpuset_v2_mode", "xattr", "favordynmods",
                                                 "none", "all", NULL };
  cleanup_free char *copy = ar_xstrdup (options);
  char *out = ar_xmalloc0 (strlen (options) + 1);
  char *saveptr = NULL;

  for (char *opt = strtok_r (copy, ",", &saveptr); opt != NULL; opt = strtok_r (NULL, ",", &saveptr))
    {
      bool skip = ar_str_has_prefix (opt, "release_agent=");

      for (size_t i = 0; not_controllers[i] != NULL && !skip; i++)
        skip = strcmp (opt, not_controllers[i]) == 0;
      if (skip)
        continue;
      if (*out != '\0')
        strcat (out, ",");
      strcat (out, opt);
    }
  return out;
}

static void
add_mount (struct ar_cgroup_mounts *mounts, bool unified, char *controllers, char *mountpoint, char *root)
{
  bool preferred = ar_str_has_prefix (mountpoint, "/sys/fs/cgroup");
  struct ar_cgroup_mount_entry *e;

  for (size_t i = 0; i < mounts->n_entries; i++)
    {
      e = &mounts->entries[i];
      if (e->unified != unified || (!unified && !ar_cgroup_lists_equal (e->controllers, controllers)))
        continue;

      /* The same hierarchy again: keep the mount under /sys/fs/cgroup. */
      if (preferred && !ar_str_has_prefix (e->mountpoint, "/sys/fs/cgroup"))
        {
          free (e->controllers);
          free (e->mountpoint);
          free (e->root);
          e->controllers = controllers;
          e->mountpoint = mountpoint;
          e->root = root;
          return;
        }
      free (controllers);
      free (mountpoint);
      free (root);
      return;
    }

  mounts->entries = realloc (mounts->entries, (mounts->n_entries + 1) * sizeof (*mounts->entries));
  if (mounts->entries == NULL)
    abort ();
  e = &mounts->entries[mounts->n_entries++];
  e->unified = unified;
  e->controllers = controllers;
  e->mountpoint = mountpoint;
  e->root = root;
}

/* Whether mountpoint still shows the mount with device major:minor, and
 * not a later mount on top of it or above it. */
static bool
mount_visible (const char *mountpoint, const char *major_minor)
{
  unsigned int major, minor;
  struct stat st;

  if (sscanf (major_minor, "%u:%u", &major, &minor) != 2 || stat (mountpoint, &st) < 0)
    return false;
  return st.st_dev == makedev (major, minor);
}

int
ar_cgroup_parse_mountinfo (const char *text, bool check_visible, struct ar_cgroup_mounts *out, ar_error_t *err)
{
  cleanup_free char *copy = ar_xstrdup (text);
  struct ar_cgroup_mounts mounts = { 0 };
  char *line_save = NULL;

  for (char *line = strtok_r (copy, "\n", &line_save); line != NULL; line = strtok_r (NULL, "\n", &line_save))
    {
      char *fields[64];
      size_t n = 0, sep = 0;
      char *field_save = NULL;
      const char *fstype;

      for (char *f = strtok_r (line, " ", &field_save); f != NULL && n < 64; f = strtok_r (NULL, " ", &field_save))
        fields[n++] = f;

      /* id parent major:minor root mountpoint options [optional...] - fstype source super-options */
      for (size_t i = 6; i < n; i++)
        if (strcmp (fields[i], "-") == 0)
          {
            sep = i;
            break;
          }
      if (sep == 0 || sep + 3 >= n)
        continue;

      fstype = fields[sep + 1];
      if (strcmp (fstype, "cgroup2") != 0 && strcmp (fstype, "cgroup") != 0)
        continue;
      if (check_visible)
        {
          cleanup_free char *mountpoint = unescape_mountinfo (fields[4]);

          if (!mount_visible (mountpoint, fields[2]))
            continue;
        }

      if (strcmp (fstype, "cgroup2") == 0)
        add_mount (&mounts, true, NULL, unescape_mountinfo (fields[4]), unescape_mountinfo (fields[3]));
      else if (strcmp (fstype, "cgroup") == 0)
        {
          char *controllers = controllers_from_options (fields[sep + 3]);

          if (*controllers == '\0')
            {
              free (controllers);
              continue;
            }
          add_mount (&mounts, false, controllers, unescape_mountinfo (fields[4]), unescape_mountinfo (fields[3]));
        }
    }

  if (mounts.n_entries == 0)
    return ar_make_error (err, ENOENT, "no cgroup filesystem is mounted; mount cgroup2 on /sys/fs/cgroup");
  *out = mounts;
  return 0;
}

void
ar_cgroup_mounts_clear (struct ar_cgroup_mounts *mounts)
{
  for (size_t i = 0; i < mounts->n_entries; i++)
    {
      free (mounts->entries[i].controllers);
      free (mounts->entries[i].mountpoint);
      free (mounts->entries[i].root);
    }
  free (mounts->entries);
  mounts->entries = NULL;
  mounts->n_entries = 0;
}

static bool
has_real_controller (const char *controllers)
{
  for (const char *p = controllers; *p != '\0';)
    {
      const char *end = strchrnul (p, ',');

      if (!ar_str_has_prefix (p, "name="))
        return true;
      p = *end == ',' ? end + 1 : end;
    }
  return false;
}

int
ar_cgroup_layout_of_mounts (const struct ar_cgroup_mounts *mounts, enum ar_cgroup_layout *out, ar_error_t *err)
{
  bool v1 = false, v2 = false;

  for (size_t i = 0; i < mounts->n_entries; i++)
    {
      if (mounts->entries[i].unified)
        v2 = true;
      else if (has_real_controller (mounts->entries[i].controllers))
        v1 = true;
    }

  if (v1)
    *out = v2 ? AR_CGROUP_LAYOUT_HYBRID : AR_CGROUP_LAYOUT_V1;
  else if (v2)
    *out = AR_CGROUP_LAYOUT_V2;
  else
    return ar_make_error (err, ENOENT, "no cgroup controller is mounted, only named cgroup v1 hierarchies");
  return 0;
}

int
ar_cgroup_read_mounts (struct ar_cgroup_mounts *mounts, enum ar_cgroup_layout *layout, ar_error_t *err)
{
  cleanup_free char *text = NULL;
  int ret;

  ret = ar_read_file ("/proc/self/mountinfo", &text, NULL, err);
  if (ret < 0)
    return ret;
  ret = ar_cgroup_parse_mountinfo (text, true, mounts, err);
  if (ret < 0)
    return ret;
  ret = ar_cgroup_layout_of_mounts (mounts, layout, err);
  if (ret < 0)
    ar_cgroup_mounts_clear (mounts);
  return ret;
}

int
ar_cgroup_detect_layout (enum ar_cgroup_layout *out, ar_error_t *err)
{
  struct ar_cgroup_mounts mounts = { 0 };
  int ret;

  ret = ar_cgroup_read_mounts (&mounts, out, err);
  if (ret < 0)
    return ret;
  ar_cgroup_mounts_clear (&mounts);
  return 0;
}

int
ar_cgroup_host_has_controller (const char *controller, bool *out, ar_error_t *err)
{
  struct ar_cgroup_mounts mounts = { 0 };
  enum ar_cgroup_layout layout;
  bool found = false;
  int ret;

  ret = ar_cgroup_read_mounts (&mounts, &layout, err);
  if (ret < 0)
    return ret;
  for (size_t i = 0; i < mounts.n_entries && !found; i++)
    {
      const struct ar_cgroup_mount_entry *m = &mounts.entries[i];

      if (m->unified)
        found = ar_cgroup_v2_has_controller (m->mountpoint, controller);
      else
        found = ar_cgroup_list_contains (m->controllers, controller);
    }
  ar_cgroup_mounts_clear (&mounts);
  *out = found;
  return 0;
}
