/* Parsing of linux.resources.  Each error names the JSON path of the value
 * it rejects.  Host-specific checks (a controller that is missing, a kernel
 * that lacks a file) happen later, when the cgroup code applies the result. */
#define _GNU_SOURCE
#include "resources.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "util.h"

static const char *
json_type_name (const json_t *value)
{
  switch (json_typeof (value))
    {
    case JSON_OBJECT:
      return "an object";
    case JSON_ARRAY:
      return "an array";
    case JSON_STRING:
      return "a string";
    case JSON_INTEGER:
      return "an integer";
    case JSON_REAL:
      return "a number with a fraction";
    case JSON_TRUE:
    case JSON_FALSE:
      return "a boolean";
    case JSON_NULL:
    default:
      return "null";
    }
}

static int
type_error (const char *path, const char *expected, const json_t *value, ar_error_t *err)
{
  return ar_make_error (err, 0, "%s: expected %s, got %s", path, expected, json_type_name (value));
}

/* Logs keys that this parser does not know, so that a typo or a field of
 * a newer spec shows up in debug output instead of vanishing silently. */
static void
debug_unknown_keys (json_t *obj, const char *path, const char *const *known)
{
  const char *key;
  json_t *value;

  if (!ar_log_debug_enabled ())
    return;

  json_object_foreach (obj, key, value)
    {
      bool found = false;

      for (size_t i = 0; known[i] != NULL && !found; i++)
        found = strcmp (known[i], key) == 0;
      if (!found)
        ar_debug ("%s.%s: unknown field, ignored", path, key);
    }
}

/* Reads an optional integer member and sets *found when it is present. */
static int
get_integer (json_t *obj, const char *key, const char *path, json_int_t *out, bool *found, ar_error_t *err)
{
  json_t *value = json_object_get (obj, key);

  *found = false;
  if (value == NULL)
    return 0;
  if (!json_is_integer (value))
    {
      cleanup_free char *field = ar_xasprintf ("%s.%s", path, key);
      return type_error (field, "an integer", value, err);
    }
  *out = json_integer_value (value);
  *found = true;
  return 0;
}

/* An int64 byte count or time: -1 means unlimited, other negative values
 * are invalid. */
static int
get_i64_limit (json_t *obj, const char *key, const char *path, struct ar_opt_i64 *out, ar_error_t *err)
{
  json_int_t v;
  bool found;
  int ret;

  ret = get_integer (obj, key, path, &v, &found, err);
  if (ret < 0 || !found)
    return ret;
  if (v < -1)
    return ar_make_error (err, 0, "%s.%s: invalid value %lld; use a positive number, or -1 for unlimited",
                          path, key, (long long) v);
  out->set = true;
  out->value = v;
  return 0;
}

static int
get_u64_max (json_t *obj, const char *key, const char *path, uint64_t max, struct ar_opt_u64 *out,
             ar_error_t *err)
{
  json_int_t v;
  bool found;
  int ret;

  ret = get_integer (obj, key, path, &v, &found, err);
  if (ret < 0 || !found)
    return ret;
  if (v < 0 || (uint64_t) v > max)
    return ar_make_error (err, 0, "%s.%s: invalid value %lld; expected 0 to %" PRIu64, path, key,
                          (long long) v, max);
  out->set = true;
  out->value = (uint64_t) v;
  return 0;
}

static int
get_u64 (json_t *obj, const char *key, const char *path, struct ar_opt_u64 *out, ar_error_t *err)
{
  return get_u64_max (obj, key, path, INT64_MAX, out, err);
}

static int
get_required_i64 (json_t *obj, const char *key, const char *path, int64_t *out, ar_error_t *err)
{
  json_int_t v;
  bool found;
  int ret;

  ret = get_integer (obj, key, path, &v, &found, err);
  if (ret < 0)
    return ret;
  if (!found)
    return ar_make_error (err, 0, "%s.%s: missing required field", path, key);
  *out = v;
  return 0;
}

static int
get_bool (json_t *obj, const char *key, const char *path, bool *has, bool *out, ar_error_t *err)
{
  json_t *value = json_object_get (obj, key);

  if (value == NULL)
    return 0;
  if (!json_is_boolean (value))
    {
      cleanup_free char *field = ar_xasprintf ("%s.%s", path, key);
      return type_error (field, "a boolean", value, err);
    }
  *has = true;
  *out = json_is_true (value);
  return 0;
}

static int
get_string (json_t *obj, const char *key, const char *path, char **out, ar_error_t *err)
{
  json_t *value = json_object_get (obj, key);

  if (value == NULL)
    return 0;
  if (!json_is_string (value))
    {
      cleanup_free char *field = ar_xasprintf ("%s.%s", path, key);
      return type_error (field, "a string", value, err);
    }
  *out = ar_xstrdup (json_string_value (value));
  return 0;
}

/* Returns the member key of obj when it is an object, NULL when absent. */
static int
get_object (json_t *obj, const char *key, const char *path, json_t **out, ar_error_t *err)
{
  json_t *value = json_object_get (obj, key);

  *out = NULL;
  if (value == NULL || json_is_null (value))
    return 0;
  if (!json_is_object (value))
    {
      cleanup_free char *field = ar_xasprintf ("%s.%s", path, key);
      return type_error (field, "an object", value, err);
    }
  *out = value;
  return 0;
}

static int
get_array (json_t *obj, const char *key, const char *path, json_t **out, ar_error_t *err)
{
  json_t *value = json_object_get (obj, key);

  *out = NULL;
  if (value == NULL || json_is_null (value))
    return 0;
  if (!json_is_array (value))
    {
      cleanup_free char *field = ar_xasprintf ("%s.%s", path, key);
      return type_error (field, "an array", value, err);
    }
  *out = value;
  return 0;
}

static int
parse_memory (json_t *obj, const char *path, struct ar_memory_resources *mem, ar_error_t *err)
{
  static const char *const known[] = { "limit", "reservation", "swap", "kernel", "kernelTCP", "swappiness",
                                       "disableOOMKiller", "useHierarchy", "checkBeforeUpdate", NULL };
  json_int_t swappiness;
  bool found;
  int ret;

  debug_unknown_keys (obj, path, known);

  if ((ret = get_i64_limit (obj, "limit", path, &mem->limit, err)) < 0
      || (ret = get_i64_limit (obj, "reservation", path, &mem->reservation, err)) < 0
      || (ret = get_i64_limit (obj, "swap", path, &mem->swap, err)) < 0
      || (ret = get_i64_limit (obj, "kernel", path, &mem->kernel, err)) < 0
      || (ret = get_i64_limit (obj, "kernelTCP", path, &mem->kernel_tcp, err)) < 0)
    return ret;

  /* Docker once wrote -1 for "not set"; runc accepts it that way too. */
  ret = get_integer (obj, "swappiness", path, &swappiness, &found, err);
  if (ret < 0)
    return ret;
  if (found && swappiness == -1)
    ar_debug ("%s.swappiness: -1 means unset, leaving the kernel default", path);
  else if (found && (swappiness < 0 || swappiness > 100))
    return ar_make_error (err, 0, "%s.swappiness: invalid value %lld; expected 0 to 100", path,
                          (long long) swappiness);
  else if (found)
    {
      mem->swappiness.set = true;
      mem->swappiness.value = (uint64_t) swappiness;
    }

  if ((ret = get_bool (obj, "disableOOMKiller", path, &mem->has_disable_oom_killer, &mem->disable_oom_killer,
                       err)) < 0
      || (ret = get_bool (obj, "useHierarchy", path, &mem->has_use_hierarchy, &mem->use_hierarchy, err)) < 0
      || (ret = get_bool (obj, "checkBeforeUpdate", path, &mem->has_check_before_update,
                          &mem->check_before_update, err)) < 0)
    return ret;

  if (mem->swap.set && mem->limit.set && mem->swap.value > 0 && mem->limit.value > 0
      && mem->swap.value < mem->limit.value)
    return ar_make_error (err, 0,
                          "%s.swap: the memory+swap limit %" PRId64 " is below %s.limit %" PRId64
                          "; swap counts memory plus swap, so it must be at least the memory limit",
                          path, mem->swap.value, path, mem->limit.value);
  return 0;
}

static int
parse_cpu (json_t *obj, const char *path, struct ar_cpu_resources *cpu, ar_error_t *err)
{
  static const char *const known[] = { "shares", "quota", "burst", "period", "realtimeRuntime", "realtimePeriod",
                                       "cpus", "mems", "idle", NULL };
  json_int_t idle;
  bool found;
  int ret;

  debug_unknown_keys (obj, path, known);

  if ((ret = get_u64 (obj, "shares", path, &cpu->shares, err)) < 0
      || (ret = get_i64_limit (obj, "quota", path, &cpu->quota, err)) < 0
      || (ret = get_u64 (obj, "burst", path, &cpu->burst, err)) < 0
      || (ret = get_u64 (obj, "period", path, &cpu->period, err)) < 0
      || (ret = get_i64_limit (obj, "realtimeRuntime", path, &cpu->realtime_runtime, err)) < 0
      || (ret = get_u64 (obj, "realtimePeriod", path, &cpu->realtime_period, err)) < 0
      || (ret = get_string (obj, "cpus", path, &cpu->cpus, err)) < 0
      || (ret = get_string (obj, "mems", path, &cpu->mems, err)) < 0)
    return ret;

  /* cpu.shares takes 2 to 262144; 0 means "not set" in runc's model. */
  if (cpu->shares.set && cpu->shares.value != 0 && (cpu->shares.value < 2 || cpu->shares.value > 262144))
    return ar_make_error (err, 0, "%s.shares: invalid value %" PRIu64 "; expected 2 to 262144", path,
                          cpu->shares.value);

  ret = get_integer (obj, "idle", path, &idle, &found, err);
  if (ret < 0)
    return ret;
  if (found && idle != 0 && idle != 1)
    return ar_make_error (err, 0, "%s.idle: invalid value %lld; expected 0 or 1", path, (long long) idle);
  if (found)
    {
      cpu->idle.set = true;
      cpu->idle.value = idle;
    }

  if (cpu->burst.set && cpu->quota.set && cpu->quota.value > 0 && cpu->burst.value > (uint64_t) cpu->quota.value)
    return ar_make_error (err, 0, "%s.burst: %" PRIu64 " is larger than %s.quota %" PRId64
                          "; the burst must not exceed the quota", path, cpu->burst.value, path, cpu->quota.value);
  return 0;
}

static int
parse_pids (json_t *obj, const char *path, struct ar_pids_resources *pids, ar_error_t *err)
{
  static const char *const known[] = { "limit", NULL };
  int64_t limit;
  int ret;

  debug_unknown_keys (obj, path, known);

  ret = get_required_i64 (obj, "limit", path, &limit, err);
  if (ret < 0)
    return ret;
  pids->limit.set = true;
  pids->limit.value = limit;
  return 0;
}

/* "<digits><K|M|G|T|P>B" or "<digits>B", as the hugetlb.<size>.* files
 * name the page sizes. */
static bool
valid_page_size (const char *s)
{
  size_t digits = 0;

  while (isdigit ((unsigned char) s[digits]))
    digits++;
  if (digits == 0 || s[0] == '0')
    return false;
  s += digits;
  if (*s != '\0' && strchr ("KMGTP", *s) != NULL)
    s++;
  return strcmp (s, "B") == 0;
}

static int
parse_hugepage_limits (json_t *array, const char *path, struct ar_resources *r, ar_error_t *err)
{
  size_t i;
  json_t *item;

  r->hugepage_limits = ar_xmalloc0 (json_array_size (array) * sizeof (*r->hugepage_limits));
  json_array_foreach (array, i, item)
    {
      cleanup_free char *item_path = ar_xasprintf ("%s[%zu]", path, i);
      struct ar_hugepage_limit *h = &r->hugepage_limits[i];
      struct ar_opt_u64 limit = { 0 };
      int ret;

      if (!json_is_object (item))
        return type_error (item_path, "an object", item, err);

      r->n_hugepage_limits = i + 1;
      ret = get_string (item, "pageSize", item_path, &h->page_size, err);
      if (ret < 0)
        return ret;
      if (h->page_size == NULL)
        return ar_make_error (err, 0, "%s.pageSize: missing required field", item_path);
      if (!valid_page_size (h->page_size))
        return ar_make_error (err, 0, "%s.pageSize: invalid page size `%s`; expected a size such as 2MB or 1GB",
                              item_path, h->page_size);

      ret = get_u64 (item, "limit", item_path, &limit, err);
      if (ret < 0)
        return ret;
      if (!limit.set)
        return ar_make_error (err, 0, "%s.limit: missing required field", item_path);
      h->limit = limit.value;
    }
  return 0;
}

static int
parse_major_minor (json_t *item, const char *path, int64_t *major, int64_t *minor, ar_error_t *err)
{
  int ret;

  if ((ret = get_required_i64 (item, "major", path, major, err)) < 0
      || (ret = get_required_i64 (item, "minor", path, minor, err)) < 0)
    return ret;
  if (*major < 0 || *minor < 0)
    return ar_make_error (err, 0, "%s: invalid device number %" PRId64 ":%" PRId64, path, *major, *minor);
  return 0;
}

static int
parse_throttle_list (json_t *obj, const char *key, const char *path, struct ar_blkio_throttle_list *list,
                     ar_error_t *err)
{
  json_t *array, *item;
  size_t i;
  int ret;

  ret = get_array (obj, key, path, &array, err);
  if (ret < 0 || array == NULL)
    return ret;

  list->devices = ar_xmalloc0 (json_array_size (array) * sizeof (*list->devices));
  json_array_foreach (array, i, item)
    {
      cleanup_free char *item_path = ar_xasprintf ("%s.%s[%zu]", path, key, i);
      struct ar_blkio_throttle_device *d = &list->devices[i];
      struct ar_opt_u64 rate = { 0 };

      if (!json_is_object (item))
        return type_error (item_path, "an object", item, err);
      list->n_devices = i + 1;
      ret = parse_major_minor (item, item_path, &d->major, &d->minor, err);
      if (ret < 0)
        return ret;
      ret = get_u64 (item, "rate", item_path, &rate, err);
      if (ret < 0)
        return ret;
      if (!rate.set)
        return ar_make_error (err, 0, "%s.rate: missing required field", item_path);
      d->rate = rate.value;
    }
  return 0;
}

static int
parse_block_io (json_t *obj, const char *path, struct ar_blkio_resources *blkio, ar_error_t *err)
{
  static const char *const known[] = { "weight", "leafWeight", "weightDevice", "throttleReadBpsDevice",
                                       "throttleWriteBpsDevice", "throttleReadIOPSDevice",
                                       "throttleWriteIOPSDevice", NULL };
  static const char *const throttle_keys[AR_BLKIO_THROTTLE_COUNT] = {
    [AR_BLKIO_READ_BPS] = "throttleReadBpsDevice",
    [AR_BLKIO_WRITE_BPS] = "throttleWriteBpsDevice",
    [AR_BLKIO_READ_IOPS] = "throttleReadIOPSDevice",
    [AR_BLKIO_WRITE_IOPS] = "throttleWriteIOPSDevice",
  };
  json_t *array, *item;
  size_t i;
  int ret;

  debug_unknown_keys (obj, path, known);

  if ((ret = get_u64_max (obj, "weight", path, UINT16_MAX, &blkio->weight, err)) < 0
      || (ret = get_u64_max (obj, "leafWeight", path, UINT16_MAX, &blkio->leaf_weight, err)) < 0)
    return ret;

  ret = get_array (obj, "weightDevice", path, &array, err);
  if (ret < 0)
    return ret;
  if (array != NULL)
    {
      blkio->weight_devices = ar_xmalloc0 (json_array_size (array) * sizeof (*blkio->weight_devices));
      json_array_foreach (array, i, item)
        {
          cleanup_free char *item_path = ar_xasprintf ("%s.weightDevice[%zu]", path, i);
          struct ar_blkio_weight_device *d = &blkio->weight_devices[i];

          if (!json_is_object (item))
            return type_error (item_path, "an object", item, err);
          blkio->n_weight_devices = i + 1;
          if ((ret = parse_major_minor (item, item_path, &d->major, &d->minor, err)) < 0
              || (ret = get_u64_max (item, "weight", item_path, UINT16_MAX, &d->weight, err)) < 0
              || (ret = get_u64_max (item, "leafWeight", item_path, UINT16_MAX, &d->leaf_weight, err)) < 0)
            return ret;
          if (!d->weight.set && !d->leaf_weight.set)
            return ar_make_error (err, 0, "%s: set weight, leafWeight or both", item_path);
        }
    }

  for (int k = 0; k < AR_BLKIO_THROTTLE_COUNT; k++)
    {
      ret = parse_throttle_list (obj, throttle_keys[k], path, &blkio->throttle[k], err);
      if (ret < 0)
        return ret;
    }
  return 0;
}

static int
parse_device_rule (json_t *item, const char *path, struct ar_device_rule *rule, ar_error_t *err)
{
  static const char *const known[] = { "allow", "type", "major", "minor", "access", NULL };
  cleanup_free char *type = NULL;
  cleanup_free char *access = NULL;
  bool has_allow = false;
  json_int_t number;
  bool found;
  int ret;

  debug_unknown_keys (item, path, known);

  ret = get_bool (item, "allow", path, &has_allow, &rule->allow, err);
  if (ret < 0)
    return ret;
  if (!has_allow)
    return ar_make_error (err, 0, "%s.allow: missing required field", path);

  ret = get_string (item, "type", path, &type, err);
  if (ret < 0)
    return ret;
  if (type == NULL)
    rule->type = 'a';
  else if (strcmp (type, "a") == 0 || strcmp (type, "b") == 0 || strcmp (type, "c") == 0)
    rule->type = type[0];
  else
    return ar_make_error (err, 0, "%s.type: invalid device type `%s`; expected a, b or c", path, type);

  rule->major = -1;
  rule->minor = -1;
  ret = get_integer (item, "major", path, &number, &found, err);
  if (ret < 0)
    return ret;
  if (found && number < -1)
    return ar_make_error (err, 0, "%s.major: invalid value %lld", path, (long long) number);
  if (found)
    rule->major = number;
  ret = get_integer (item, "minor", path, &number, &found, err);
  if (ret < 0)
    return ret;
  if (found && number < -1)
    return ar_make_error (err, 0, "%s.minor: invalid value %lld", path, (long long) number);
  if (found)
    rule->minor = number;

  /* The spec gives no default access; runc and crun treat a missing one as
   * all three permissions. */
  ret = get_string (item, "access", path, &access, err);
  if (ret < 0)
    return ret;
  if (access == NULL)
    strcpy (rule->access, "rwm");
  else
    {
      size_t n = 0;

      for (const char *c = access; *c != '\0'; c++)
        {
          if (strchr ("rwm", *c) == NULL || memchr (rule->access, *c, n) != NULL)
            return ar_make_error (err, 0, "%s.access: invalid access `%s`; expected a combination of r, w and m",
                                  path, access);
          rule->access[n++] = *c;
        }
      if (n == 0)
        return ar_make_error (err, 0, "%s.access: empty; expected a combination of r, w and m", path);
      rule->access[n] = '\0';
    }
  return 0;
}

static int
parse_devices (json_t *array, const char *path, struct ar_resources *r, ar_error_t *err)
{
  json_t *item;
  size_t i;

  r->has_devices = true;
  r->devices = ar_xmalloc0 (json_array_size (array) * sizeof (*r->devices));
  json_array_foreach (array, i, item)
    {
      cleanup_free char *item_path = ar_xasprintf ("%s[%zu]", path, i);
      int ret;

      if (!json_is_object (item))
        return type_error (item_path, "an object", item, err);
      ret = parse_device_rule (item, item_path, &r->devices[i], err);
      if (ret < 0)
        return ret;
      r->n_devices = i + 1;
    }
  return 0;
}

static int
parse_network (json_t *obj, const char *path, struct ar_network_resources *net, ar_error_t *err)
{
  static const char *const known[] = { "classID", "priorities", NULL };
  json_t *array, *item;
  size_t i;
  int ret;

  debug_unknown_keys (obj, path, known);

  ret = get_u64_max (obj, "classID", path, UINT32_MAX, &net->class_id, err);
  if (ret < 0)
    return ret;

  ret = get_array (obj, "priorities", path, &array, err);
  if (ret < 0 || array == NULL)
    return ret;
  net->priorities = ar_xmalloc0 (json_array_size (array) * sizeof (*net->priorities));
  json_array_foreach (array, i, item)
    {
      cleanup_free char *item_path = ar_xasprintf ("%s.priorities[%zu]", path, i);
      struct ar_net_priority *p = &net->priorities[i];
      struct ar_opt_u64 priority = { 0 };

      if (!json_is_object (item))
        return type_error (item_path, "an object", item, err);
      net->n_priorities = i + 1;
      ret = get_string (item, "name", item_path, &p->name, err);
      if (ret < 0)
        return ret;
      if (p->name == NULL || p->name[0] == '\0' || strpbrk (p->name, " \n") != NULL)
        return ar_make_error (err, 0, "%s.name: missing or invalid interface name", item_path);
      ret = get_u64_max (item, "priority", item_path, UINT32_MAX, &priority, err);
      if (ret < 0)
        return ret;
      if (!priority.set)
        return ar_make_error (err, 0, "%s.priority: missing required field", item_path);
      p->priority = (uint32_t) priority.value;
    }
  return 0;
}

static int
parse_rdma (json_t *obj, const char *path, struct ar_resources *r, ar_error_t *err)
{
  const char *device;
  json_t *item;

  r->rdma = ar_xmalloc0 (json_object_size (obj) * sizeof (*r->rdma));
  json_object_foreach (obj, device, item)
    {
      cleanup_free char *item_path = ar_xasprintf ("%s.%s", path, device);
      struct ar_rdma_limit *l = &r->rdma[r->n_rdma];
      int ret;

      if (!json_is_object (item))
        return type_error (item_path, "an object", item, err);
      if (device[0] == '\0' || strpbrk (device, " \n=") != NULL)
        return ar_make_error (err, 0, "%s: invalid RDMA device name", item_path);
      l->device = ar_xstrdup (device);
      r->n_rdma++;
      if ((ret = get_u64_max (item, "hcaHandles", item_path, UINT32_MAX, &l->hca_handles, err)) < 0
          || (ret = get_u64_max (item, "hcaObjects", item_path, UINT32_MAX, &l->hca_objects, err)) < 0)
        return ret;
      if (!l->hca_handles.set && !l->hca_objects.set)
        return ar_make_error (err, 0, "%s: set hcaHandles, hcaObjects or both", item_path);
    }
  return 0;
}

static int
parse_unified (json_t *obj, const char *path, struct ar_resources *r, ar_error_t *err)
{
  const char *key;
  json_t *value;

  r->unified = ar_xmalloc0 (json_object_size (obj) * sizeof (*r->unified));
  json_object_foreach (obj, key, value)
    {
      struct ar_unified_entry *e = &r->unified[r->n_unified];

      /* Each key names a file in the container's own cgroup directory, so
       * it must stay a single path component. */
      if (key[0] == '\0' || key[0] == '.' || strchr (key, '/') != NULL)
        return ar_make_error (err, 0, "%s[\"%s\"]: invalid key; expected a cgroup file name such as memory.high",
                              path, key);
      if (!json_is_string (value))
        {
          cleanup_free char *field = ar_xasprintf ("%s[\"%s\"]", path, key);
          return type_error (field, "a string", value, err);
        }
      e->key = ar_xstrdup (key);
      e->value = ar_xstrdup (json_string_value (value));
      r->n_unified++;
    }
  return 0;
}

static int
parse_all (json_t *obj, struct ar_resources *r, ar_error_t *err)
{
  static const char *const known[] = { "memory", "cpu", "pids", "blockIO", "hugepageLimits", "devices", "network",
                                       "rdma", "unified", NULL };
  const char *path = r->json_path;
  json_t *member;
  int ret;

  debug_unknown_keys (obj, path, known);

  ret = get_object (obj, "memory", path, &member, err);
  if (ret < 0)
    return ret;
  if (member != NULL)
    {
      cleanup_free char *sub = ar_xasprintf ("%s.memory", path);
      r->memory = ar_xmalloc0 (sizeof (*r->memory));
      ret = parse_memory (member, sub, r->memory, err);
      if (ret < 0)
        return ret;
    }

  ret = get_object (obj, "cpu", path, &member, err);
  if (ret < 0)
    return ret;
  if (member != NULL)
    {
      cleanup_free char *sub = ar_xasprintf ("%s.cpu", path);
      r->cpu = ar_xmalloc0 (sizeof (*r->cpu));
      ret = parse_cpu (member, sub, r->cpu, err);
      if (ret < 0)
        return ret;
    }

  ret = get_object (obj, "pids", path, &member, err);
  if (ret < 0)
    return ret;
  if (member != NULL)
    {
      cleanup_free char *sub = ar_xasprintf ("%s.pids", path);
      r->pids = ar_xmalloc0 (sizeof (*r->pids));
      ret = parse_pids (member, sub, r->pids, err);
      if (ret < 0)
        return ret;
    }

  ret = get_object (obj, "blockIO", path, &member, err);
  if (ret < 0)
    return ret;
  if (member != NULL)
    {
      cleanup_free char *sub = ar_xasprintf ("%s.blockIO", path);
      r->block_io = ar_xmalloc0 (sizeof (*r->block_io));
      ret = parse_block_io (member, sub, r->block_io, err);
      if (ret < 0)
        return ret;
    }

  ret = get_array (obj, "hugepageLimits", path, &member, err);
  if (ret < 0)
    return ret;
  if (member != NULL)
    {
      cleanup_free char *sub = ar_xasprintf ("%s.hugepageLimits", path);
      ret = parse_hugepage_limits (member, sub, r, err);
      if (ret < 0)
        return ret;
    }

  ret = get_array (obj, "devices", path, &member, err);
  if (ret < 0)
    return ret;
  if (member != NULL)
    {
      cleanup_free char *sub = ar_xasprintf ("%s.devices", path);
      ret = parse_devices (member, sub, r, err);
      if (ret < 0)
        return ret;
    }

  ret = get_object (obj, "network", path, &member, err);
  if (ret < 0)
    return ret;
  if (member != NULL)
    {
      cleanup_free char *sub = ar_xasprintf ("%s.network", path);
      r->network = ar_xmalloc0 (sizeof (*r->network));
      ret = parse_network (member, sub, r->network, err);
      if (ret < 0)
        return ret;
    }

  ret = get_object (obj, "rdma", path, &member, err);
  if (ret < 0)
    return ret;
  if (member != NULL)
    {
      cleanup_free char *sub = ar_xasprintf ("%s.rdma", path);
      ret = parse_rdma (member, sub, r, err);
      if (ret < 0)
        return ret;
    }

  ret = get_object (obj, "unified", path, &member, err);
  if (ret < 0)
    return ret;
  if (member != NULL)
    {
      cleanup_free char *sub = ar_xasprintf ("%s.unified", path);
      ret = parse_unified (member, sub, r, err);
      if (ret < 0)
        return ret;
    }
  return 0;
}

int
ar_resources_parse (json_t *obj, const char *json_path, struct ar_resources **out, ar_error_t *err)
{
  struct ar_resources *r;
  int ret;

  if (json_path == NULL)
    json_path = "linux.resources";
  if (obj == NULL || !json_is_object (obj))
    return type_error (json_path, "an object", obj != NULL ? obj : json_null (), err);

  r = ar_xmalloc0 (sizeof (*r));
  r->json_path = ar_xstrdup (json_path);
  r->raw = json_incref (obj);

  ret = parse_all (obj, r, err);
  if (ret < 0)
    {
      ar_resources_free (r);
      return ret;
    }
  *out = r;
  return 0;
}

void
ar_resources_free (struct ar_resources *r)
{
  if (r == NULL)
    return;

  free (r->memory);
  if (r->cpu != NULL)
    {
      free (r->cpu->cpus);
      free (r->cpu->mems);
      free (r->cpu);
    }
  free (r->pids);
  if (r->block_io != NULL)
    {
      free (r->block_io->weight_devices);
      for (int k = 0; k < AR_BLKIO_THROTTLE_COUNT; k++)
        free (r->block_io->throttle[k].devices);
      free (r->block_io);
    }
  for (size_t i = 0; i < r->n_hugepage_limits; i++)
    free (r->hugepage_limits[i].page_size);
  free (r->hugepage_limits);
  free (r->devices);
  if (r->network != NULL)
    {
      for (size_t i = 0; i < r->network->n_priorities; i++)
        free (r->network->priorities[i].name);
      free (r->network->priorities);
      free (r->network);
    }
  for (size_t i = 0; i < r->n_rdma; i++)
    free (r->rdma[i].device);
  free (r->rdma);
  for (size_t i = 0; i < r->n_unified; i++)
    {
      free (r->unified[i].key);
      free (r->unified[i].value);
    }
  free (r->unified);
  json_decref (r->raw);
  free (r->json_path);
  free (r);
}

void
ar_resources_release (struct ar_resources **resources)
{
  ar_resources_free (*resources);
  *resources = NULL;
}
