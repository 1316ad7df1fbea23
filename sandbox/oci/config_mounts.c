/* The mounts of config.json, with their options sorted into what mount(2)
 * and mount_setattr(2) take. */
#define _GNU_SOURCE
#include "config_internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>

#include "util.h"

enum mount_option_kind
{
  OPTION_IGNORE,      /* accepted, nothing to do ("defaults") */
  OPTION_FLAG_SET,    /* mount(2) flag on */
  OPTION_FLAG_CLEAR,  /* mount(2) flag off */
  OPTION_PROPAGATION, /* MS_SHARED, MS_SLAVE, ... possibly with MS_REC */
  OPTION_BIND,
  OPTION_RBIND,
  OPTION_ATTR_SET,   /* MOUNT_ATTR_* on, recursively */
  OPTION_ATTR_CLEAR, /* MOUNT_ATTR_* off, recursively */
  OPTION_ATTR_ATIME, /* one of the MOUNT_ATTR__ATIME modes, recursively */
  OPTION_IDMAP,
  OPTION_RIDMAP,
  OPTION_TMPCOPYUP,
};

struct mount_option
{
  const char *name;
  enum mount_option_kind kind;
  unsigned long value;
};

/* The filesystem-independent options of mount(8) and the extra ones of the
 * runtime spec.  Any other option is filesystem-specific and goes to the
 * data argument of mount(2). */
static const struct mount_option mount_options[] = {
  { "defaults", OPTION_IGNORE, 0 },
  { "ro", OPTION_FLAG_SET, MS_RDONLY },
  { "rw", OPTION_FLAG_CLEAR, MS_RDONLY },
  { "nosuid", OPTION_FLAG_SET, MS_NOSUID },
  { "suid", OPTION_FLAG_CLEAR, MS_NOSUID },
  { "nodev", OPTION_FLAG_SET, MS_NODEV },
  { "dev", OPTION_FLAG_CLEAR, MS_NODEV },
  { "noexec", OPTION_FLAG_SET, MS_NOEXEC },
  { "exec", OPTION_FLAG_CLEAR, MS_NOEXEC },
  { "sync", OPTION_FLAG_SET, MS_SYNCHRONOUS },
  { "async", OPTION_FLAG_CLEAR, MS_SYNCHRONOUS },
  { "dirsync", OPTION_FLAG_SET, MS_DIRSYNC },
  { "remount", OPTION_FLAG_SET, MS_REMOUNT },
  { "mand", OPTION_FLAG_SET, MS_MANDLOCK },
  { "nomand", OPTION_FLAG_CLEAR, MS_MANDLOCK },
  { "atime", OPTION_FLAG_CLEAR, MS_NOATIME },
  { "noatime", OPTION_FLAG_SET, MS_NOATIME },
  { "diratime", OPTION_FLAG_CLEAR, MS_NODIRATIME },
  { "nodiratime", OPTION_FLAG_SET, MS_NODIRATIME },
  { "relatime", OPTION_FLAG_SET, MS_RELATIME },
  { "norelatime", OPTION_FLAG_CLEAR, MS_RELATIME },
  { "strictatime", OPTION_FLAG_SET, MS_STRICTATIME },
  { "nostrictatime", OPTION_FLAG_CLEAR, MS_STRICTATIME },
  { "nosymfollow", OPTION_FLAG_SET, MS_NOSYMFOLLOW },
  { "symfollow", OPTION_FLAG_CLEAR, MS_NOSYMFOLLOW },
  { "iversion", OPTION_FLAG_SET, MS_I_VERSION },
  { "noiversion", OPTION_FLAG_CLEAR, MS_I_VERSION },
  { "lazytime", OPTION_FLAG_SET, MS_LAZYTIME },
  { "nolazytime", OPTION_FLAG_CLEAR, MS_LAZYTIME },
  { "silent", OPTION_FLAG_SET, MS_SILENT },
  { "loud", OPTION_FLAG_CLEAR, MS_SILENT },

  { "bind", OPTION_BIND, MS_BIND },
  { "rbind", OPTION_RBIND, MS_BIND | MS_REC },

  { "private", OPTION_PROPAGATION, MS_PRIVATE },
  { "rprivate", OPTION_PROPAGATION, MS_PRIVATE | MS_REC },
  { "shared", OPTION_PROPAGATION, MS_SHARED },
  { "rshared", OPTION_PROPAGATION, MS_SHARED | MS_REC },
  { "slave", OPTION_PROPAGATION, MS_SLAVE },
  { "rslave", OPTION_PROPAGATION, MS_SLAVE | MS_REC },
  { "unbindable", OPTION_PROPAGATION, MS_UNBINDABLE },
  { "runbindable", OPTION_PROPAGATION, MS_UNBINDABLE | MS_REC },

  { "rro", OPTION_ATTR_SET, MOUNT_ATTR_RDONLY },
  { "rrw", OPTION_ATTR_CLEAR, MOUNT_ATTR_RDONLY },
  { "rnosuid", OPTION_ATTR_SET, MOUNT_ATTR_NOSUID },
  { "rsuid", OPTION_ATTR_CLEAR, MOUNT_ATTR_NOSUID },
  { "rnodev", OPTION_ATTR_SET, MOUNT_ATTR_NODEV },
  { "rdev", OPTION_ATTR_CLEAR, MOUNT_ATTR_NODEV },
  { "rnoexec", OPTION_ATTR_SET, MOUNT_ATTR_NOEXEC },
  { "rexec", OPTION_ATTR_CLEAR, MOUNT_ATTR_NOEXEC },
  { "rnodiratime", OPTION_ATTR_SET, MOUNT_ATTR_NODIRATIME },
  { "rdiratime", OPTION_ATTR_CLEAR, MOUNT_ATTR_NODIRATIME },
  { "rnosymfollow", OPTION_ATTR_SET, MOUNT_ATTR_NOSYMFOLLOW },
  { "rsymfollow", OPTION_ATTR_CLEAR, MOUNT_ATTR_NOSYMFOLLOW },
  /* mount_setattr(2) sets the atime mode as a whole (relatime, noatime or
   * strictatime).  So ratime and rnostrictatime select relatime, the
   * kernel default, and rnorelatime selects strictatime. */
  { "rnoatime", OPTION_ATTR_ATIME, MOUNT_ATTR_NOATIME },
  { "ratime", OPTION_ATTR_ATIME, MOUNT_ATTR_RELATIME },
  { "rrelatime", OPTION_ATTR_ATIME, MOUNT_ATTR_RELATIME },
  { "rnorelatime", OPTION_ATTR_ATIME, MOUNT_ATTR_STRICTATIME },
  { "rstrictatime", OPTION_ATTR_ATIME, MOUNT_ATTR_STRICTATIME },
  { "rnostrictatime", OPTION_ATTR_ATIME, MOUNT_ATTR_RELATIME },

  { "idmap", OPTION_IDMAP, 0 },
  { "ridmap", OPTION_RIDMAP, 0 },
  { "tmpcopyup", OPTION_TMPCOPYUP, 0 },
};

static const struct mount_option *
find_mount_option (const char *name)
{
  for (size_t i = 0; i < sizeof (mount_options) / sizeof (mount_options[0]); i++)
    if (strcmp (mount_options[i].name, name) == 0)
      return &mount_options[i];
  return NULL;
}

static void
apply_mount_option (struct ar_mount *mount, const struct mount_option *option)
{
  switch (option->kind)
    {
    case OPTION_IGNORE:
      break;
    case OPTION_FLAG_SET:
      mount->flags |= option->value;
      mount->clear_flags &= ~option->value;
      break;
    case OPTION_FLAG_CLEAR:
      mount->clear_flags |= option->value;
      mount->flags &= ~option->value;
      break;
    case OPTION_PROPAGATION:
      /* mount(2) takes one propagation type per call: the last one wins. */
      mount->propagation = option->value;
      break;
    case OPTION_RBIND:
      mount->recursive_bind = true;
      /* Fall through.  */
    case OPTION_BIND:
      mount->bind = true;
      mount->flags |= option->value;
      break;
    case OPTION_ATTR_SET:
      mount->attr_set |= option->value;
      mount->attr_clear &= ~(uint64_t) option->value;
      mount->has_recursive_attrs = true;
      break;
    case OPTION_ATTR_CLEAR:
      mount->attr_clear |= option->value;
      mount->attr_set &= ~(uint64_t) option->value;
      mount->has_recursive_attrs = true;
      break;
    case OPTION_ATTR_ATIME:
      mount->attr_clear |= MOUNT_ATTR__ATIME;
      mount->attr_set = (mount->attr_set & ~(uint64_t) MOUNT_ATTR__ATIME) | option->value;
      mount->has_recursive_attrs = true;
      break;
    case OPTION_RIDMAP:
      mount->recursive_idmap = true;
      /* Fall through.  */
    case OPTION_IDMAP:
      mount->idmap = true;
      break;
    case OPTION_TMPCOPYUP:
      mount->tmpcopyup = true;
      break;
    }
}

static void
reset_parsed_options (struct ar_mount *mount)
{
  mount->flags = 0;
  mount->clear_flags = 0;
  mount->propagation = 0;
  mount->bind = false;
  mount->recursive_bind = false;
  mount->attr_set = 0;
  mount->attr_clear = 0;
  mount->has_recursive_attrs = false;
  free (mount->data);
  mount->data = NULL;
  mount->idmap = false;
  mount->recursive_idmap = false;
  mount->tmpcopyup = false;
}

static int
parse_options (const struct ar_json_at *at, struct ar_mount *mount, ar_error_t *err)
{
  cleanup_free char *options_path = ar_json_path_member (at->path, "options");
  cleanup_free char *data = NULL;
  size_t data_len = 0;
  FILE *data_stream;

  reset_parsed_options (mount);

  data_stream = open_memstream (&data, &data_len);
  if (data_stream == NULL)
    abort ();
  for (size_t i = 0; i < mount->n_options; i++)
    {
      const char *name = mount->options[i];
      const struct mount_option *option;

      if (name[0] == '\0')
        {
          cleanup_free char *item_path = ar_json_path_index (options_path, i);
          struct ar_json_at item_at = { at->origin, item_path };

          fclose (data_stream);
          return ar_json_error (err, &item_at, NULL, "empty mount option, remove it");
        }

      option = find_mount_option (name);
      if (option != NULL)
        apply_mount_option (mount, option);
      else
        fprintf (data_stream, "%s%s", data_len > 0 ? "," : "", name);
      fflush (data_stream);
    }
  fclose (data_stream);

  if (data_len > 0)
    mount->data = ar_steal_ptr (data);

  /* Mappings imply idmap, because ignoring them would be silent.  The spec
   * requests the option mainly so that older runtimes fail. */
  if ((mount->uid_mappings != NULL || mount->gid_mappings != NULL) && !mount->idmap)
    mount->idmap = true;
  return 0;
}

int
ar_mount_parse_options (struct ar_mount *mount, const char *json_path, ar_error_t *err)
{
  struct ar_json_at at = { NULL, json_path ? json_path : "" };

  return parse_options (&at, mount, err);
}

void
ar_config_mount_clear (struct ar_mount *mount)
{
  free (mount->destination);
  free (mount->type);
  free (mount->source);
  for (size_t i = 0; i < mount->n_options; i++)
    free (mount->options[i]);
  free (mount->options);
  free (mount->data);
  free (mount->uid_mappings);
  free (mount->gid_mappings);
  memset (mount, 0, sizeof (*mount));
}

static int
parse_mount (const struct ar_json_at *at, json_t *obj, struct ar_mount *mount, ar_error_t *err)
{
  cleanup_strv char **options = NULL;
  int ret;

  if (!json_is_object (obj))
    return ar_json_error (err, at, NULL, "expected an object, got %s", ar_json_kind (obj));

  ret = ar_json_string (at, obj, "destination", true, &mount->destination, err);
  if (ret < 0)
    return ret;
  /* NOTE: runtime-spec 1.2 still accepts a relative destination on Linux
   * (deprecated, read relative to "/"), but agentrun requires an absolute
   * one. */
  ret = ar_json_check_absolute (at, "destination", mount->destination, err);
  if (ret < 0)
    return ret;

  ret = ar_json_string (at, obj, "type", false, &mount->type, err);
  if (ret < 0)
    return ret;
  ret = ar_json_string (at, obj, "source", false, &mount->source, err);
  if (ret < 0)
    return ret;

  ret = ar_json_strv (at, obj, "options", false, &options, err);
  if (ret < 0)
    return ret;
  if (options != NULL)
    {
      mount->n_options = ar_strv_len (options);
      mount->options = ar_steal_ptr (options);
    }

  ret = ar_config_idmaps_parse (at, obj, "uidMappings", &mount->uid_mappings, &mount->n_uid_mappings, err);
  if (ret < 0)
    return ret;
  ret = ar_config_idmaps_parse (at, obj, "gidMappings", &mount->gid_mappings, &mount->n_gid_mappings, err);
  if (ret < 0)
    return ret;
  if ((mount->uid_mappings != NULL) != (mount->gid_mappings != NULL))
    return ar_json_error (err, at, mount->uid_mappings ? "gidMappings" : "uidMappings",
                          "required field is missing: an idmapped mount needs both uidMappings and gidMappings");

  return parse_options (at, mount, err);
}

int
ar_config_mounts_parse (const struct ar_json_at *at, json_t *array, struct ar_config *config, ar_error_t *err)
{
  json_t *item;
  size_t i;
  int ret;

  config->mounts = ar_xmalloc0 (json_array_size (array) * sizeof (struct ar_mount));
  json_array_foreach (array, i, item)
    {
      cleanup_free char *item_path = ar_json_path_index (at->path, i);
      struct ar_json_at item_at = { at->origin, item_path };

      config->n_mounts = i + 1;
      ret = parse_mount (&item_at, item, &config->mounts[i], err);
      if (ret < 0)
        return ret;
    }
  return 0;
}
