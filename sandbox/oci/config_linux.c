/* The linux object of config.json: namespaces, id mappings, devices,
 * cgroups, sysctls, seccomp, propagation and paths. */
#define _GNU_SOURCE
#include "config_internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>

#include "util.h"

static const struct ar_name_value propagation_names[] = {
  { "shared", MS_SHARED },
  { "slave", MS_SLAVE },
  { "private", MS_PRIVATE },
  { "unbindable", MS_UNBINDABLE },
  { "rshared", MS_SHARED | MS_REC },
  { "rslave", MS_SLAVE | MS_REC },
  { "rprivate", MS_PRIVATE | MS_REC },
  { "runbindable", MS_UNBINDABLE | MS_REC },
};

static const struct ar_name_value personality_domains[] = {
  { "LINUX", 0 },
  { "LINUX32", 1 },
};

/* time_namespaces(7): offsets must keep nanoseconds below one second. */
#define NSEC_PER_SEC 1000000000

static int
parse_idmap (const struct ar_json_at *at, json_t *obj, struct ar_idmap *map, ar_error_t *err)
{
  int ret;

  if (!json_is_object (obj))
    return ar_json_error (err, at, NULL, "expected an object, got %s", ar_json_kind (obj));

  ret = ar_json_uint32 (at, obj, "containerID", true, &map->container_id, err);
  if (ret < 0)
    return ret;
  ret = ar_json_uint32 (at, obj, "hostID", true, &map->host_id, err);
  if (ret < 0)
    return ret;
  ret = ar_json_uint32 (at, obj, "size", true, &map->size, err);
  if (ret < 0)
    return ret;

  if (map->size == 0)
    return ar_json_error (err, at, "size", "must be at least 1");
  if ((uint64_t) map->container_id + map->size > UINT32_MAX || (uint64_t) map->host_id + map->size > UINT32_MAX)
    return ar_json_error (err, at, "size", "the range passes the largest id %u", (unsigned int) UINT32_MAX - 1);
  return 0;
}

int
ar_config_idmaps_parse (const struct ar_json_at *at, json_t *obj, const char *key, struct ar_idmap **out, size_t *n_out,
                        ar_error_t *err)
{
  cleanup_free char *path = ar_json_path_member (at->path, key);
  cleanup_free struct ar_idmap *maps = NULL;
  json_t *array = NULL;
  json_t *item;
  size_t i;
  int ret;

  ret = ar_json_member (at, obj, key, JSON_ARRAY, false, &array, err);
  if (ret <= 0)
    return ret;

  /* An empty array is kept as an empty allocation: present, zero entries. */
  maps = ar_xmalloc0 (json_array_size (array) * sizeof (struct ar_idmap));
  json_array_foreach (array, i, item)
    {
      cleanup_free char *item_path = ar_json_path_index (path, i);
      struct ar_json_at item_at = { at->origin, item_path };

      ret = parse_idmap (&item_at, item, &maps[i], err);
      if (ret < 0)
        return ret;
    }

  free (*out);
  *out = ar_steal_ptr (maps);
  *n_out = json_array_size (array);
  return 1;
}

static int
parse_namespaces (const struct ar_json_at *at, json_t *obj, struct ar_linux *linux_config, ar_error_t *err)
{
  cleanup_free char *path = ar_json_path_member (at->path, "namespaces");
  size_t seen[AR_NS_COUNT] = { 0 };
  json_t *array = NULL;
  json_t *item;
  size_t i;
  int ret;

  ret = ar_json_member (at, obj, "namespaces", JSON_ARRAY, false, &array, err);
  if (ret <= 0)
    return ret;

  json_array_foreach (array, i, item)
    {
      cleanup_free char *item_path = ar_json_path_index (path, i);
      cleanup_free char *type_name = NULL;
      cleanup_free char *ns_path = NULL;
      struct ar_json_at item_at = { at->origin, item_path };
      int type;

      if (!json_is_object (item))
        return ar_json_error (err, &item_at, NULL, "expected an object, got %s", ar_json_kind (item));

      ret = ar_json_string (&item_at, item, "type", true, &type_name, err);
      if (ret < 0)
        return ret;
      type = ar_namespace_type_from_name (type_name);
      if (type < 0)
        return ar_json_error (err, &item_at, "type",
                              "unknown namespace type `%s`; use one of pid, network, mount, ipc, uts, user, "
                              "cgroup, time",
                              type_name);
      if (seen[type] != 0)
        {
          cleanup_free char *first = ar_json_path_index (path, seen[type] - 1);
          return ar_json_error (err, &item_at, "type", "duplicate namespace `%s`, already listed at %s", type_name,
                                first);
        }
      seen[type] = i + 1;

      ret = ar_json_string (&item_at, item, "path", false, &ns_path, err);
      if (ret < 0)
        return ret;
      if (ret > 0)
        {
          ret = ar_json_check_absolute (&item_at, "path", ns_path, err);
          if (ret < 0)
            return ret;
        }

      linux_config->namespaces[type].present = true;
      linux_config->namespaces[type].path = ar_steal_ptr (ns_path);
    }
  return 0;
}

static int
parse_time_offsets (const struct ar_json_at *at, json_t *obj, struct ar_linux *linux_config, ar_error_t *err)
{
  cleanup_free char *path = ar_json_path_member (at->path, "timeOffsets");
  struct ar_json_at offsets_at = { at->origin, path };
  json_t *offsets = NULL;
  const char *clock;
  json_t *value;
  int ret;

  ret = ar_json_member (at, obj, "timeOffsets", JSON_OBJECT, false, &offsets, err);
  if (ret <= 0)
    return ret;

  json_object_foreach (offsets, clock, value)
    {
      cleanup_free char *clock_path = ar_json_path_member (path, clock);
      struct ar_json_at clock_at = { at->origin, clock_path };
      struct ar_time_offset *offset;
      int64_t secs = 0, nanosecs = 0;

      if (strcmp (clock, "monotonic") == 0)
        offset = &linux_config->time_monotonic;
      else if (strcmp (clock, "boottime") == 0)
        offset = &linux_config->time_boottime;
      else
        return ar_json_error (err, &offsets_at, clock,
                              "unknown clock; a time namespace offsets only monotonic and boottime");

      if (json_is_null (value))
        continue;
      if (!json_is_object (value))
        return ar_json_error (err, &clock_at, NULL, "expected an object, got %s", ar_json_kind (value));

      ret = ar_json_int64 (&clock_at, value, "secs", false, INT64_MIN, INT64_MAX, &secs, err);
      if (ret < 0)
        return ret;
      ret = ar_json_int64 (&clock_at, value, "nanosecs", false, 0, NSEC_PER_SEC - 1, &nanosecs, err);
      if (ret < 0)
        return ret;

      offset->present = true;
      offset->secs = secs;
      offset->nanosecs = (uint32_t) nanosecs;
    }
  return 0;
}

static int
parse_device (const struct ar_json_at *at, json_t *obj, struct ar_device *device, ar_error_t *err)
{
  cleanup_free char *type = NULL;
  uint32_t value = 0;
  int ret;

  if (!json_is_object (obj))
    return ar_json_error (err, at, NULL, "expected an object, got %s", ar_json_kind (obj));

  ret = ar_json_string (at, obj, "type", true, &type, err);
  if (ret < 0)
    return ret;
  if (strlen (type) != 1 || strchr ("cbup", type[0]) == NULL)
    return ar_json_error (err, at, "type", "unknown device type `%s`; use c, b, u or p", type);
  device->type = type[0];

  ret = ar_json_string (at, obj, "path", true, &device->path, err);
  if (ret < 0)
    return ret;
  ret = ar_json_check_absolute (at, "path", device->path, err);
  if (ret < 0)
    return ret;

  /* A FIFO (p) has no device numbers, but c, b and u need both. */
  ret = ar_json_int64 (at, obj, "major", device->type != 'p', 0, UINT32_MAX, &device->major, err);
  if (ret < 0)
    return ret;
  ret = ar_json_int64 (at, obj, "minor", device->type != 'p', 0, UINT32_MAX, &device->minor, err);
  if (ret < 0)
    return ret;

  /* mknod takes the file type from `type`, so fileMode needs only the
   * permission bits.  podman and runc also put the file type in it, as
   * stat(2) reports it (8630 is S_IFCHR | 0666): that part must agree
   * with `type`. */
  ret = ar_json_uint32 (at, obj, "fileMode", false, &value, err);
  if (ret < 0)
    return ret;
  if (ret > 0)
    {
      uint32_t file_type = value & ~(uint32_t) 07777;
      uint32_t expected = device->type == 'b' ? S_IFBLK : device->type == 'p' ? S_IFIFO : S_IFCHR;

      if (file_type != 0 && file_type != expected)
        return ar_json_error (err, at, "fileMode",
                              "%u has bits beyond 07777 (decimal 4095) that are not the file type of a `%c` "
                              "device (%u); give permission bits only",
                              value, device->type, expected);
      device->has_file_mode = true;
      device->file_mode = (mode_t) (value & 07777);
    }

  ret = ar_json_uint32 (at, obj, "uid", false, &value, err);
  if (ret < 0)
    return ret;
  if (ret > 0)
    {
      device->has_uid = true;
      device->uid = (uid_t) value;
    }

  ret = ar_json_uint32 (at, obj, "gid", false, &value, err);
  if (ret < 0)
    return ret;
  if (ret > 0)
    {
      device->has_gid = true;
      device->gid = (gid_t) value;
    }
  return 0;
}

static int
parse_devices (const struct ar_json_at *at, json_t *obj, struct ar_linux *linux_config, ar_error_t *err)
{
  cleanup_free char *path = ar_json_path_member (at->path, "devices");
  json_t *array = NULL;
  json_t *item;
  size_t i;
  int ret;

  ret = ar_json_member (at, obj, "devices", JSON_ARRAY, false, &array, err);
  if (ret <= 0)
    return ret;

  linux_config->devices = ar_xmalloc0 (json_array_size (array) * sizeof (struct ar_device));
  json_array_foreach (array, i, item)
    {
      cleanup_free char *item_path = ar_json_path_index (path, i);
      struct ar_json_at item_at = { at->origin, item_path };

      linux_config->n_devices = i + 1;
      ret = parse_device (&item_at, item, &linux_config->devices[i], err);
      if (ret < 0)
        return ret;
    }
  return 0;
}

static int
parse_resources (const struct ar_json_at *at, json_t *obj, struct ar_linux *linux_config, ar_error_t *err)
{
  cleanup_free char *path = ar_json_path_member (at->path, "resources");
  json_t *resources = NULL;
  int ret;

  ret = ar_json_member (at, obj, "resources", JSON_OBJECT, false, &resources, err);
  if (ret <= 0)
    return ret;

  /* ar_resources_parse names the JSON path, so only the origin file is
   * added in front.  NOTE: in a document with integers above INT64_MAX,
   * such integers in resources arrive as marked strings (see
   * config_json.c), which the resources parser rejects as strings. */
  ret = ar_resources_parse (resources, path, &linux_config->resources, err);
  if (ret < 0)
    return at->origin ? ar_error_wrap (err, "%s", at->origin) : ret;
  return 0;
}

static int
parse_sysctl (const struct ar_json_at *at, json_t *obj, struct ar_linux *linux_config, ar_error_t *err)
{
  cleanup_free char *path = ar_json_path_member (at->path, "sysctl");
  struct ar_json_at sysctl_at = { at->origin, path };
  json_t *sysctl = NULL;
  const char *key;
  json_t *value;
  size_t i = 0;
  int ret;

  ret = ar_json_member (at, obj, "sysctl", JSON_OBJECT, false, &sysctl, err);
  if (ret <= 0)
    return ret;

  linux_config->sysctl = ar_xmalloc0 (json_object_size (sysctl) * sizeof (struct ar_keyvalue));
  json_object_foreach (sysctl, key, value)
    {
      cleanup_free char *item_path = ar_json_path_member (path, key);
      struct ar_json_at item_at = { at->origin, item_path };
      const char *s = NULL;

      if (key[0] == '\0')
        return ar_json_error (err, &sysctl_at, NULL, "empty sysctl name");
      ret = ar_json_string_value (&item_at, value, &s, err);
      if (ret < 0)
        return ret;

      linux_config->sysctl[i].key = ar_xstrdup (key);
      linux_config->sysctl[i].value = ar_xstrdup (s);
      linux_config->n_sysctl = ++i;
    }
  return 0;
}

static int
parse_seccomp (const struct ar_json_at *at, json_t *obj, struct ar_linux *linux_config, ar_error_t *err)
{
  cleanup_free char *path = ar_json_path_member (at->path, "seccomp");
  struct ar_json_at seccomp_at = { at->origin, path };
  json_t *seccomp = NULL;
  int ret;

  ret = ar_json_member (at, obj, "seccomp", JSON_OBJECT, false, &seccomp, err);
  if (ret <= 0)
    return ret;
  return ar_config_seccomp_parse (&seccomp_at, seccomp, &linux_config->seccomp, err);
}

static int
parse_rootfs_propagation (const struct ar_json_at *at, json_t *obj, struct ar_linux *linux_config, ar_error_t *err)
{
  int flags = 0;
  int ret;

  ret = ar_json_string (at, obj, "rootfsPropagation", false, &linux_config->rootfs_propagation, err);
  if (ret <= 0)
    return ret;

  ret = ar_json_lookup_name (at, "rootfsPropagation", propagation_names, AR_N_ELEMENTS (propagation_names),
                             "propagation", linux_config->rootfs_propagation, &flags, err);
  if (ret < 0)
    return ret;
  linux_config->rootfs_propagation_flags = (unsigned long) flags;
  return 0;
}

static int
parse_path_list (const struct ar_json_at *at, json_t *obj, const char *key, char ***out, ar_error_t *err)
{
  cleanup_free char *path = ar_json_path_member (at->path, key);
  int ret;

  ret = ar_json_strv (at, obj, key, false, out, err);
  if (ret <= 0)
    return ret;

  for (size_t i = 0; (*out)[i] != NULL; i++)
    {
      cleanup_free char *item_path = ar_json_path_index (path, i);
      struct ar_json_at item_at = { at->origin, item_path };

      ret = ar_json_check_absolute (&item_at, NULL, (*out)[i], err);
      if (ret < 0)
        return ret;
    }
  return 0;
}

static int
parse_personality (const struct ar_json_at *at, json_t *obj, struct ar_linux *linux_config, ar_error_t *err)
{
  cleanup_free char *path = ar_json_path_member (at->path, "personality");
  struct ar_json_at personality_at = { at->origin, path };
  struct ar_personality *personality;
  json_t *personality_obj = NULL;
  int unused;
  int ret;

  ret = ar_json_member (at, obj, "personality", JSON_OBJECT, false, &personality_obj, err);
  if (ret <= 0)
    return ret;

  personality = linux_config->personality = ar_xmalloc0 (sizeof (*personality));
  ret = ar_json_string (&personality_at, personality_obj, "domain", true, &personality->domain, err);
  if (ret < 0)
    return ret;
  ret = ar_json_lookup_name (&personality_at, "domain", personality_domains, AR_N_ELEMENTS (personality_domains),
                             "personality domain", personality->domain, &unused, err);
  if (ret < 0)
    return ret;

  ret = ar_json_strv (&personality_at, personality_obj, "flags", false, &personality->flags, err);
  if (ret < 0)
    return ret;
  /* The spec defines no personality flags yet. */
  if (personality->flags != NULL && personality->flags[0] != NULL)
    return ar_json_error (err, &personality_at, "flags", "unsupported flag `%s`; the spec defines none, remove it",
                          personality->flags[0]);
  return 0;
}

/* Records that an object the runtime does not apply yet is present, so
 * that the caller can reject the config instead of ignoring it. */
static int
parse_presence (const struct ar_json_at *at, json_t *obj, const char *key, bool *present, ar_error_t *err)
{
  json_t *value = NULL;
  int ret;

  ret = ar_json_member (at, obj, key, JSON_OBJECT, false, &value, err);
  if (ret < 0)
    return ret;
  *present = ret > 0;
  return 0;
}

void
ar_config_linux_clear (struct ar_linux *linux_config)
{
  for (int i = 0; i < AR_NS_COUNT; i++)
    free (linux_config->namespaces[i].path);
  free (linux_config->uid_mappings);
  free (linux_config->gid_mappings);
  for (size_t i = 0; i < linux_config->n_devices; i++)
    free (linux_config->devices[i].path);
  free (linux_config->devices);
  free (linux_config->cgroups_path);
  ar_resources_free (linux_config->resources);
  for (size_t i = 0; i < linux_config->n_sysctl; i++)
    {
      free (linux_config->sysctl[i].key);
      free (linux_config->sysctl[i].value);
    }
  free (linux_config->sysctl);
  ar_config_seccomp_free (linux_config->seccomp);
  free (linux_config->rootfs_propagation);
  ar_strv_free (linux_config->masked_paths);
  ar_strv_free (linux_config->readonly_paths);
  free (linux_config->mount_label);
  if (linux_config->personality != NULL)
    {
      free (linux_config->personality->domain);
      ar_strv_free (linux_config->personality->flags);
      free (linux_config->personality);
    }
  memset (linux_config, 0, sizeof (*linux_config));
}

int
ar_config_linux_parse (const struct ar_json_at *at, json_t *obj, struct ar_linux *linux_config, ar_error_t *err)
{
  int ret;

  ret = parse_namespaces (at, obj, linux_config, err);
  if (ret < 0)
    return ret;
  ret = ar_config_idmaps_parse (at, obj, "uidMappings", &linux_config->uid_mappings, &linux_config->n_uid_mappings,
                                err);
  if (ret < 0)
    return ret;
  ret = ar_config_idmaps_parse (at, obj, "gidMappings", &linux_config->gid_mappings, &linux_config->n_gid_mappings,
                                err);
  if (ret < 0)
    return ret;
  ret = parse_time_offsets (at, obj, linux_config, err);
  if (ret < 0)
    return ret;
  ret = parse_devices (at, obj, linux_config, err);
  if (ret < 0)
    return ret;
  ret = ar_json_string (at, obj, "cgroupsPath", false, &linux_config->cgroups_path, err);
  if (ret < 0)
    return ret;
  ret = parse_resources (at, obj, linux_config, err);
  if (ret < 0)
    return ret;
  ret = parse_sysctl (at, obj, linux_config, err);
  if (ret < 0)
    return ret;
  ret = parse_seccomp (at, obj, linux_config, err);
  if (ret < 0)
    return ret;
  ret = parse_rootfs_propagation (at, obj, linux_config, err);
  if (ret < 0)
    return ret;
  ret = parse_path_list (at, obj, "maskedPaths", &linux_config->masked_paths, err);
  if (ret < 0)
    return ret;
  ret = parse_path_list (at, obj, "readonlyPaths", &linux_config->readonly_paths, err);
  if (ret < 0)
    return ret;
  ret = ar_json_string (at, obj, "mountLabel", false, &linux_config->mount_label, err);
  if (ret < 0)
    return ret;
  ret = parse_personality (at, obj, linux_config, err);
  if (ret < 0)
    return ret;

  ret = parse_presence (at, obj, "intelRdt", &linux_config->has_intel_rdt, err);
  if (ret < 0)
    return ret;
  ret = parse_presence (at, obj, "netDevices", &linux_config->has_net_devices, err);
  if (ret < 0)
    return ret;
  return parse_presence (at, obj, "memoryPolicy", &linux_config->has_memory_policy, err);
}
