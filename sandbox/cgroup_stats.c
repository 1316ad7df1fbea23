/* Resource usage of a container's cgroup in the shape of the "data" object
 * of `runc events --stats`: the same key names, nanoseconds for CPU time,
 * bytes for memory.  Keys that runc leaves out when zero are left out
 * here too; a controller this host lacks leaves its object out. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cgroup_internal.h"
#include "oci/log.h"
#include "oci/util.h"

/* Reads a number; false when the file is missing or unreadable, since a
 * kernel without a statistic must not make the whole call fail. */
static bool
read_u64 (const char *dir, const char *file, uint64_t *out)
{
  ar_error_t ignored = NULL;

  if (dir == NULL || ar_cgroup_read_u64 (dir, file, out, &ignored) < 0)
    {
      ar_error_release (&ignored);
      return false;
    }
  return true;
}

static bool
read_keyed (const char *dir, const char *file, const char *key, uint64_t *out)
{
  ar_error_t ignored = NULL;

  if (dir == NULL || ar_cgroup_read_keyed (dir, file, key, out, &ignored) < 0)
    {
      ar_error_release (&ignored);
      return false;
    }
  return true;
}

/* jansson stores signed 64-bit integers, so "unlimited" (UINT64_MAX in
 * runc's output) comes out as INT64_MAX. */
static void
set_u64 (json_t *obj, const char *key, uint64_t value)
{
  json_object_set_new (obj, key, json_integer ((json_int_t) (value > INT64_MAX ? INT64_MAX : value)));
}

/* runc's omitempty: zero values are left out. */
static void
set_u64_nonzero (json_t *obj, const char *key, uint64_t value)
{
  if (value != 0)
    set_u64 (obj, key, value);
}

/* Parses a flat-keyed file ("key value" lines) into an object. */
static json_t *
read_flat_keyed (const char *dir, const char *file)
{
  cleanup_free char *text = NULL;
  ar_error_t ignored = NULL;
  json_t *obj;

  if (dir == NULL || ar_cgroup_read (dir, file, &text, &ignored) < 0)
    {
      ar_error_release (&ignored);
      return NULL;
    }
  obj = json_object ();
  for (char *line = text; *line != '\0';)
    {
      char *next = strchrnul (line, '\n');
      char *space, *end;
      unsigned long long value;

      if (*next == '\n')
        *next++ = '\0';
      space = strchr (line, ' ');
      if (space != NULL)
        {
          *space = '\0';
          errno = 0;
          value = strtoull (space + 1, &end, 10);
          if (errno == 0 && end != space + 1 && *end == '\0')
            set_u64 (obj, line, value);
        }
      line = next;
    }
  return obj;
}

/* A space-separated list of numbers, such as cpuacct.usage_percpu. */
static json_t *
read_number_list (const char *dir, const char *file)
{
  cleanup_free char *text = NULL;
  ar_error_t ignored = NULL;
  json_t *array;
  char *p, *end;

  if (dir == NULL || ar_cgroup_read (dir, file, &text, &ignored) < 0)
    {
      ar_error_release (&ignored);
      return NULL;
    }
  array = json_array ();
  for (p = text;; p = end)
    {
      unsigned long long value;

      errno = 0;
      value = strtoull (p, &end, 10);
      if (end == p || errno != 0)
        break;
      json_array_append_new (array, json_integer ((json_int_t) value));
    }
  return array;
}

static json_t *
cpu_stats_v1 (const char *cpuacct, const char *cpu)
{
  json_t *usage = json_object (), *throttling = json_object ();
  json_t *list;
  uint64_t value;
  long ticks = sysconf (_SC_CLK_TCK);

  if (read_u64 (cpuacct, "cpuacct.usage", &value))
    set_u64_nonzero (usage, "total", value);
  if ((list = read_number_list (cpuacct, "cpuacct.usage_percpu")) != NULL)
    json_object_set_new (usage, "percpu", list);
  if ((list = read_number_list (cpuacct, "cpuacct.usage_percpu_sys")) != NULL)
    json_object_set_new (usage, "percpu_kernel", list);
  if ((list = read_number_list (cpuacct, "cpuacct.usage_percpu_user")) != NULL)
    json_object_set_new (usage, "percpu_user", list);

  /* cpuacct.stat counts USER_HZ ticks. */
  if (ticks <= 0)
    ticks = 100;
  set_u64 (usage, "kernel", read_keyed (cpuacct, "cpuacct.stat", "system", &value) ? value * (1000000000 / ticks) : 0);
  set_u64 (usage, "user", read_keyed (cpuacct, "cpuacct.stat", "user", &value) ? value * (1000000000 / ticks) : 0);

  if (read_keyed (cpu, "cpu.stat", "nr_periods", &value))
    set_u64_nonzero (throttling, "periods", value);
  if (read_keyed (cpu, "cpu.stat", "nr_throttled", &value))
    set_u64_nonzero (throttling, "throttledPeriods", value);
  if (read_keyed (cpu, "cpu.stat", "throttled_time", &value))
    set_u64_nonzero (throttling, "throttledTime", value);

  return json_pack ("{s:o, s:o}", "usage", usage, "throttling", throttling);
}

static json_t *
cpu_stats_v2 (const char *dir)
{
  json_t *usage = json_object (), *throttling = json_object ();
  uint64_t value;

  /* cpu.stat counts microseconds; runc reports nanoseconds. */
  if (read_keyed (dir, "cpu.stat", "usage_usec", &value))
    set_u64_nonzero (usage, "total", value * 1000);
  set_u64 (usage, "kernel", read_keyed (dir, "cpu.stat", "system_usec", &value) ? value * 1000 : 0);
  set_u64 (usage, "user", read_keyed (dir, "cpu.stat", "user_usec", &value) ? value * 1000 : 0);

  if (read_keyed (dir, "cpu.stat", "nr_periods", &value))
    set_u64_nonzero (throttling, "periods", value);
  if (read_keyed (dir, "cpu.stat", "nr_throttled", &value))
    set_u64_nonzero (throttling, "throttledPeriods", value);
  if (read_keyed (dir, "cpu.stat", "throttled_usec", &value))
    set_u64_nonzero (throttling, "throttledTime", value * 1000);

  return json_pack ("{s:o, s:o}", "usage", usage, "throttling", throttling);
}

/* One runc MemoryEntry from the v1 files PREFIX.usage_in_bytes, ...; NULL
 * when the kernel has no such files. */
static json_t *
memory_entry_v1 (const char *dir, const char *prefix)
{
  cleanup_free char *usage_file = ar_xasprintf ("%s.usage_in_bytes", prefix);
  cleanup_free char *max_file = ar_xasprintf ("%s.max_usage_in_bytes", prefix);
  cleanup_free char *limit_file = ar_xasprintf ("%s.limit_in_bytes", prefix);
  cleanup_free char *failcnt_file = ar_xasprintf ("%s.failcnt", prefix);
  json_t *entry;
  uint64_t value;

  if (!read_u64 (dir, usage_file, &value))
    return NULL;
  entry = json_object ();
  set_u64_nonzero (entry, "usage", value);
  if (read_u64 (dir, max_file, &value))
    set_u64_nonzero (entry, "max", value);
  set_u64 (entry, "limit", read_u64 (dir, limit_file, &value) ? value : 0);
  set_u64 (entry, "failcnt", read_u64 (dir, failcnt_file, &value) ? value : 0);
  return entry;
}

static json_t *
memory_stats_v1 (const char *dir)
{
  json_t *memory = json_object ();
  json_t *entry, *raw;
  uint64_t cache;

  if ((entry = memory_entry_v1 (dir, "memory")) != NULL)
    json_object_set_new (memory, "usage", entry);
  if ((entry = memory_entry_v1 (dir, "memory.memsw")) != NULL)
    json_object_set_new (memory, "swap", entry);
  if ((entry = memory_entry_v1 (dir, "memory.kmem")) != NULL)
    json_object_set_new (memory, "kernel", entry);
  if ((entry = memory_entry_v1 (dir, "memory.kmem.tcp")) != NULL)
    json_object_set_new (memory, "kernelTCP", entry);

  raw = read_flat_keyed (dir, "memory.stat");
  if (raw != NULL)
    {
      if (read_keyed (dir, "memory.stat", "cache", &cache))
        set_u64_nonzero (memory, "cache", cache);
      json_object_set_new (memory, "raw", raw);
    }
  return memory;
}

static uint64_t
saturating_add (uint64_t a, uint64_t b)
{
  return a > UINT64_MAX - b ? UINT64_MAX : a + b;
}

static json_t *
memory_stats_v2 (const char *dir)
{
  json_t *memory = json_object ();
  json_t *usage = json_object ();
  json_t *raw;
  uint64_t current = 0, limit = 0, value;

  read_u64 (dir, "memory.current", &current);
  read_u64 (dir, "memory.max", &limit);
  set_u64_nonzero (usage, "usage", current);
  if (read_u64 (dir, "memory.peak", &value))
    set_u64_nonzero (usage, "max", value);
  set_u64 (usage, "limit", limit);
  set_u64 (usage, "failcnt", read_keyed (dir, "memory.events", "max", &value) ? value : 0);
  json_object_set_new (memory, "usage", usage);

  /* Like v1's memsw, runc reports memory plus swap here. */
  if (read_u64 (dir, "memory.swap.current", &value))
    {
      json_t *swap = json_object ();
      uint64_t swap_limit = 0;

      set_u64_nonzero (swap, "usage", saturating_add (value, current));
      read_u64 (dir, "memory.swap.max", &swap_limit);
      set_u64 (swap, "limit", saturating_add (swap_limit, limit));
      set_u64 (swap, "failcnt", read_keyed (dir, "memory.swap.events", "max", &value) ? value : 0);
      json_object_set_new (memory, "swap", swap);
    }

  raw = read_flat_keyed (dir, "memory.stat");
  if (raw != NULL)
    {
      if (read_keyed (dir, "memory.stat", "file", &value))
        set_u64_nonzero (memory, "cache", value);
      json_object_set_new (memory, "raw", raw);
    }
  return memory;
}

static json_t *
pids_stats (const char *dir)
{
  json_t *pids = json_object ();
  uint64_t value;

  if (read_u64 (dir, "pids.current", &value))
    set_u64_nonzero (pids, "current", value);

  /* "max" (no limit) reads as UINT64_MAX; runc reports it as 0, omitted. */
  if (read_u64 (dir, "pids.max", &value) && value != UINT64_MAX)
    set_u64_nonzero (pids, "limit", value);
  return pids;
}

/* The directory that carries controller: a v1 hierarchy on v1 and hybrid
 * hosts, else the cgroup2 one when the controller is enabled there. */
static const char *
stats_dir (const struct ar_cgroup *cgroup, const char *v1_name, const char *v2_name, bool *v2)
{
  const struct ar_cgroup_hierarchy *unified = ar_cgroup_unified (cgroup);
  const char *dir = cgroup->layout != AR_CGROUP_LAYOUT_V2 ? ar_cgroup_v1_dir (cgroup, v1_name) : NULL;

  *v2 = false;
  if (dir != NULL)
    return dir;
  if (unified != NULL && ar_cgroup_v2_has_controller (unified->dir, v2_name))
    {
      *v2 = true;
      return unified->dir;
    }
  return NULL;
}

/* TODO: blkio, hugetlb and cpuset statistics, which `runc events --stats`
 * also reports. */
int
ar_cgroup_stats (struct ar_cgroup *cgroup, json_t **out, ar_error_t *err)
{
  const struct ar_cgroup_hierarchy *unified = ar_cgroup_unified (cgroup);
  json_t *data = json_object ();
  const char *dir;
  bool v2;

  /* cpu.stat with usage_usec exists in every cgroup2 directory, even with
   * the cpu controller off. */
  if (cgroup->layout == AR_CGROUP_LAYOUT_V2 && unified != NULL)
    json_object_set_new (data, "cpu", cpu_stats_v2 (unified->dir));
  else if (ar_cgroup_v1_dir (cgroup, "cpuacct") != NULL)
    json_object_set_new (data, "cpu",
                         cpu_stats_v1 (ar_cgroup_v1_dir (cgroup, "cpuacct"), ar_cgroup_v1_dir (cgroup, "cpu")));

  dir = stats_dir (cgroup, "memory", "memory", &v2);
  if (dir != NULL)
    json_object_set_new (data, "memory", v2 ? memory_stats_v2 (dir) : memory_stats_v1 (dir));

  dir = stats_dir (cgroup, "pids", "pids", &v2);
  if (dir != NULL)
    json_object_set_new (data, "pids", pids_stats (dir));

  if (json_object_size (data) == 0)
    {
      json_decref (data);
      return ar_make_error (err, ENOENT, "no cgroup statistics are available for `%s`", ar_cgroup_get_path (cgroup));
    }
  *out = data;
  return 0;
}
