/* cgroup v2: enabling controllers down the tree, the settings of each
 * controller in the container's one directory, and cgroup.freeze. */
#define _GNU_SOURCE
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cgroup_internal.h"
#include "oci/log.h"
#include "oci/util.h"

/* cgroup.freeze waits this long (in 1 ms steps) for cgroup.events to
 * report the new state. */
#define FREEZE_TIMEOUT_MS 10000

static int
set_field (const char *dir, const char *file, const char *value, const char *path, const char *field,
           ar_error_t *err)
{
  int ret = ar_cgroup_write (dir, file, value, err);

  if (ret < 0)
    return ar_error_wrap (err, "%s.%s", path, field);
  return 0;
}

static int
require_file (const char *dir, const char *file, const char *path, const char *field, const char *why,
              ar_error_t *err)
{
  if (ar_cgroup_file_exists (dir, file))
    return 0;
  return ar_make_error (err, 0, "%s.%s: this host cannot apply it: `%s/%s` is missing (%s)", path, field, dir,
                        file, why);
}

/* Whether the space-separated list (cgroup.controllers,
 * cgroup.subtree_control) contains name. */
static bool
word_list_contains (const char *list, const char *name)
{
  size_t len = strlen (name);

  for (const char *p = list; *p != '\0';)
    {
      size_t word = strcspn (p, " \n");

      if (word == len && strncmp (p, name, len) == 0)
        return true;
      p += word;
      p += strspn (p, " \n");
    }
  return false;
}

bool
ar_cgroup_v2_has_controller (const char *dir, const char *controller)
{
  cleanup_free char *list = NULL;
  ar_error_t ignored = NULL;

  if (ar_cgroup_read (dir, "cgroup.controllers", &list, &ignored) < 0)
    {
      ar_error_release (&ignored);
      return false;
    }
  return word_list_contains (list, controller);
}

/* Enables the controllers in one ancestor's cgroup.subtree_control. */
static int
enable_in (const char *dir, const char *const *wanted, ar_error_t *err)
{
  cleanup_free char *available = NULL;
  cleanup_free char *enabled = NULL;
  cleanup_free char **all = NULL;
  const char *const *names = wanted;
  int ret;

  ret = ar_cgroup_read (dir, "cgroup.controllers", &available, err);
  if (ret < 0)
    return ret;
  ret = ar_cgroup_read (dir, "cgroup.subtree_control", &enabled, err);
  if (ret < 0)
    return ret;

  if (names == NULL)
    {
      size_t n = 0;
      char *saveptr = NULL;

      all = ar_xmalloc0 ((strlen (available) / 2 + 2) * sizeof (char *));
      for (char *w = strtok_r (available, " \n", &saveptr); w != NULL; w = strtok_r (NULL, " \n", &saveptr))
        all[n++] = w;
      names = (const char *const *) all;
    }

  for (size_t i = 0; names[i] != NULL; i++)
    {
      cleanup_free char *value = NULL;
      ar_error_t local = NULL;

      if (word_list_contains (enabled, names[i]))
        continue;
      if (wanted != NULL && !word_list_contains (available, names[i]))
        {
          /* apply reports the missing controller with the field that
           * needs it. */
          ar_debug ("cgroup: `%s` has no %s controller to enable", dir, names[i]);
          continue;
        }

      value = ar_xasprintf ("+%s", names[i]);
      ret = ar_cgroup_write (dir, "cgroup.subtree_control", value, &local);
      if (ret < 0 && wanted == NULL)
        {
          cleanup_free char *msg = ar_error_format (local);
          ar_debug ("cgroup: not enabling %s: %s", names[i], msg);
          ar_error_release (&local);
          continue;
        }
      if (ret < 0)
        {
          ar_cgroup_move_error (err, &local);
          if (ret == -EBUSY)
            return ar_error_wrap (err,
                                  "cannot enable the %s controller below `%s`: it contains processes, and cgroup v2 "
                                  "only delegates controllers from cgroups without them; use an absolute "
                                  "linux.cgroupsPath",
                                  names[i], dir);
          return ar_error_wrap (err, "cannot enable the %s controller below `%s`", names[i], dir);
        }
    }
  return 0;
}

static bool
is_created (const struct ar_cgroup_hierarchy *h, const char *dir)
{
  for (size_t i = 0; h->created[i] != NULL; i++)
    if (strcmp (h->created[i], dir) == 0)
      return true;
  return false;
}

int
ar_cgroup_v2_enable_controllers (const struct ar_cgroup_hierarchy *h, const char *const *wanted, bool only_created,
                                 ar_error_t *err)
{
  cleanup_free char *dir = ar_xstrdup (h->mountpoint);
  cleanup_free char *rest = ar_xstrdup (h->path);
  char *saveptr = NULL;
  char *component, *next;

  /* Every ancestor of the leaf, from the mount point down; the leaf keeps
   * its own subtree_control empty so that processes may live in it. */
  component = strtok_r (rest, "/", &saveptr);
  while (component != NULL)
    {
      char *child;
      int ret;

      next = strtok_r (NULL, "/", &saveptr);
      if (!only_created || is_created (h, dir))
        {
          ret = enable_in (dir, wanted, err);
          if (ret < 0)
            return ret;
        }
      if (next == NULL)
        break;
      child = ar_xasprintf ("%s/%s", dir, component);
      free (dir);
      dir = child;
      component = next;
    }
  return 0;
}

/* memory.swap.max counts swap alone, where the spec's swap counts memory
 * plus swap: converted as runc does. */
static int
swap_value (const struct ar_memory_resources *mem, const char *path, char *buf, size_t size, bool *set,
            ar_error_t *err)
{
  bool swap_given = mem->swap.set && mem->swap.value != 0;
  bool limit_given = mem->limit.set && mem->limit.value != 0;

  *set = false;

  /* An unlimited memory limit with no swap setting means unlimited swap
   * too, as it does on v1. */
  if (!swap_given)
    {
      if (limit_given && mem->limit.value == -1)
        {
          snprintf (buf, size, "max");
          *set = true;
        }
      return 0;
    }

  *set = true;
  if (mem->swap.value == -1)
    {
      snprintf (buf, size, "max");
      return 0;
    }
  if (!limit_given || mem->limit.value == -1)
    return ar_make_error (err, 0,
                          "%s.swap: cgroup v2 limits swap apart from memory, so a memory+swap limit needs a "
                          "positive %s.limit in the same request",
                          path, path);
  if (mem->swap.value < mem->limit.value)
    return ar_make_error (err, 0, "%s.swap: the memory+swap limit %" PRId64 " is below %s.limit %" PRId64, path,
                          mem->swap.value, path, mem->limit.value);
  snprintf (buf, size, "%" PRId64, mem->swap.value - mem->limit.value);
  return 0;
}

int
ar_cgroup_v2_set_memory (const char *dir, const struct ar_memory_resources *mem, const char *path, bool update,
                         ar_error_t *err)
{
  char swap[32];
  bool set_swap;
  int ret;

  if (mem->swappiness.set)
    return ar_make_error (err, 0, "%s.swappiness: cgroup v2 has no per-cgroup swappiness; drop the field", path);
  if (mem->has_disable_oom_killer && mem->disable_oom_killer)
    return ar_make_error (err, 0,
                          "%s.disableOOMKiller: cgroup v2 cannot disable the OOM killer; drop the field or set it "
                          "to false",
                          path);
  if (mem->has_use_hierarchy && !mem->use_hierarchy)
    return ar_make_error (err, 0,
                          "%s.useHierarchy: cgroup v2 accounting is always hierarchical; drop the field or set it "
                          "to true",
                          path);
  if (mem->kernel.set && mem->kernel.value != 0)
    ar_debug ("%s.kernel: ignored, cgroup v2 has no kernel memory limit", path);
  if (mem->kernel_tcp.set && mem->kernel_tcp.value != 0)
    ar_debug ("%s.kernelTCP: ignored, cgroup v2 has no kernel TCP memory limit", path);

  ret = swap_value (mem, path, swap, sizeof (swap), &set_swap, err);
  if (ret < 0)
    return ret;
  if (set_swap && !ar_cgroup_file_exists (dir, "memory.swap.max"))
    {
      if (strcmp (swap, "max") != 0)
        return ar_make_error (err, 0,
                              "%s.swap: this host cannot limit swap: swap accounting is off (`%s/memory.swap.max` is "
                              "missing); boot with swapaccount=1 or drop the field",
                              path, dir);
      set_swap = false;
    }

  if (mem->limit.set && mem->limit.value != 0)
    {
      if (update && mem->has_check_before_update && mem->check_before_update && mem->limit.value > 0)
        {
          uint64_t usage;

          ret = ar_cgroup_read_u64 (dir, "memory.current", &usage, err);
          if (ret < 0)
            return ar_error_wrap (err, "%s.checkBeforeUpdate", path);
          if (usage > (uint64_t) mem->limit.value)
            return ar_make_error (err, EBUSY,
                                  "%s.limit: the new limit %" PRId64 " is below the current usage %" PRIu64
                                  " and checkBeforeUpdate is set; free memory first or choose a higher limit",
                                  path, mem->limit.value, usage);
        }
      char limit[32];

      if (mem->limit.value == -1)
        strcpy (limit, "max");
      else
        snprintf (limit, sizeof (limit), "%" PRId64, mem->limit.value);
      ret = set_field (dir, "memory.max", limit, path, "limit", err);
      if (ret < 0)
        return ret;
    }

  if (set_swap)
    {
      ret = set_field (dir, "memory.swap.max", swap, path, "swap", err);
      if (ret < 0)
        return ret;
    }

  if (mem->reservation.set && mem->reservation.value != 0)
    {
      char low[32];

      if (mem->reservation.value == -1)
        strcpy (low, "max");
      else
        snprintf (low, sizeof (low), "%" PRId64, mem->reservation.value);
      ret = set_field (dir, "memory.low", low, path, "reservation", err);
      if (ret < 0)
        return ret;
    }
  return 0;
}

/* The quota part of the current cpu.max ("max" or a number). */
static int
current_quota (const char *dir, char *buf, size_t size, ar_error_t *err)
{
  cleanup_free char *text = NULL;
  int ret;

  ret = ar_cgroup_read (dir, "cpu.max", &text, err);
  if (ret < 0)
    return ret;
  text[strcspn (text, " \n")] = '\0';
  snprintf (buf, size, "%s", text);
  return 0;
}

int
ar_cgroup_v2_set_cpu (const char *dir, const struct ar_cpu_resources *cpu, const char *path, ar_error_t *err)
{
  bool set_quota = cpu->quota.set && cpu->quota.value != 0;
  bool set_period = cpu->period.set && cpu->period.value != 0;
  char buf[64];
  int ret;

  if ((cpu->realtime_runtime.set && cpu->realtime_runtime.value != 0)
      || (cpu->realtime_period.set && cpu->realtime_period.value != 0))
    return ar_make_error (err, 0, "%s.%s: cgroup v2 has no realtime group scheduling; drop the field", path,
                          cpu->realtime_runtime.set && cpu->realtime_runtime.value != 0 ? "realtimeRuntime"
                                                                                       : "realtimePeriod");

  if (cpu->shares.set && cpu->shares.value != 0)
    {
      snprintf (buf, sizeof (buf), "%" PRIu64, ar_cgroup_shares_to_weight (cpu->shares.value));
      ret = set_field (dir, "cpu.weight", buf, path, "shares", err);
      if (ret < 0)
        return ret;
    }

  if (set_quota || set_period)
    {
      char quota[32];

      /* cpu.max contains "QUOTA PERIOD", so a period alone keeps the quota. */
      if (!set_quota)
        {
          ret = current_quota (dir, quota, sizeof (quota), err);
          if (ret < 0)
            return ar_error_wrap (err, "%s.period", path);
        }
      else if (cpu->quota.value < 0)
        strcpy (quota, "max");
      else
        snprintf (quota, sizeof (quota), "%" PRId64, cpu->quota.value);

      if (set_period)
        snprintf (buf, sizeof (buf), "%s %" PRIu64, quota, cpu->period.value);
      else
        snprintf (buf, sizeof (buf), "%s", quota);
      ret = set_field (dir, "cpu.max", buf, path, set_quota ? "quota" : "period", err);
      if (ret < 0)
        return ret;
    }

  if (cpu->burst.set)
    {
      ret = require_file (dir, "cpu.max.burst", path, "burst", "CFS burst needs Linux 5.14 or later", err);
      if (ret < 0)
        return ret;
      snprintf (buf, sizeof (buf), "%" PRIu64, cpu->burst.value);
      ret = set_field (dir, "cpu.max.burst", buf, path, "burst", err);
      if (ret < 0)
        return ret;
    }

  if (cpu->idle.set)
    {
      ret = require_file (dir, "cpu.idle", path, "idle", "cpu.idle needs Linux 5.15 or later", err);
      if (ret < 0)
        return ret;
      snprintf (buf, sizeof (buf), "%" PRId64, cpu->idle.value);
      ret = set_field (dir, "cpu.idle", buf, path, "idle", err);
      if (ret < 0)
        return ret;
    }
  return 0;
}

int
ar_cgroup_v2_set_cpuset (const char *dir, const struct ar_cpu_resources *cpu, const char *path, ar_error_t *err)
{
  int ret;

  if (cpu->cpus != NULL && *cpu->cpus != '\0')
    {
      ret = set_field (dir, "cpuset.cpus", cpu->cpus, path, "cpus", err);
      if (ret < 0)
        return ret;
    }
  if (cpu->mems != NULL && *cpu->mems != '\0')
    {
      ret = set_field (dir, "cpuset.mems", cpu->mems, path, "mems", err);
      if (ret < 0)
        return ret;
    }
  return 0;
}

int
ar_cgroup_v2_set_pids (const char *dir, const struct ar_pids_resources *pids, const char *path, ar_error_t *err)
{
  char buf[32];

  if (!pids->limit.set || pids->limit.value == 0)
    return 0;
  if (pids->limit.value < 0)
    strcpy (buf, "max");
  else
    snprintf (buf, sizeof (buf), "%" PRId64, pids->limit.value);
  return set_field (dir, "pids.max", buf, path, "limit", err);
}

/* With BFQ, io.bfq.weight takes the v1 range (1 to 1000) unchanged;
 * otherwise io.weight takes the converted value. */
static void
format_io_weight (const char *dir, const char *device, uint64_t weight, const char **file, char *buf, size_t size)
{
  bool bfq = ar_cgroup_file_exists (dir, "io.bfq.weight");
  uint64_t value = bfq ? weight : ar_cgroup_blkio_to_io_weight (weight);

  *file = bfq ? "io.bfq.weight" : "io.weight";
  snprintf (buf, size, "%s %" PRIu64, device, value);
}

int
ar_cgroup_v2_set_io (const char *dir, const struct ar_blkio_resources *blkio, const char *path, ar_error_t *err)
{
  static const char *const throttle_keys[AR_BLKIO_THROTTLE_COUNT] = {
    [AR_BLKIO_READ_BPS] = "rbps",
    [AR_BLKIO_WRITE_BPS] = "wbps",
    [AR_BLKIO_READ_IOPS] = "riops",
    [AR_BLKIO_WRITE_IOPS] = "wiops",
  };
  static const char *const throttle_fields[AR_BLKIO_THROTTLE_COUNT] = {
    [AR_BLKIO_READ_BPS] = "throttleReadBpsDevice",
    [AR_BLKIO_WRITE_BPS] = "throttleWriteBpsDevice",
    [AR_BLKIO_READ_IOPS] = "throttleReadIOPSDevice",
    [AR_BLKIO_WRITE_IOPS] = "throttleWriteIOPSDevice",
  };
  const char *file;
  char buf[96];
  int ret;

  if (blkio->leaf_weight.set && blkio->leaf_weight.value != 0)
    return ar_make_error (err, 0, "%s.leafWeight: cgroup v2 has no leaf weights; drop the field", path);

  if (blkio->weight.set && blkio->weight.value != 0)
    {
      format_io_weight (dir, "default", blkio->weight.value, &file, buf, sizeof (buf));
      ret = require_file (dir, file, path, "weight", "the io controller has no weights for this block scheduler",
                          err);
      if (ret < 0)
        return ret;
      ret = set_field (dir, file, buf, path, "weight", err);
      if (ret < 0)
        return ret;
    }

  for (size_t i = 0; i < blkio->n_weight_devices; i++)
    {
      const struct ar_blkio_weight_device *d = &blkio->weight_devices[i];
      cleanup_free char *item = ar_xasprintf ("%s.weightDevice[%zu]", path, i);
      char device[48];

      if (d->leaf_weight.set)
        return ar_make_error (err, 0, "%s.leafWeight: cgroup v2 has no leaf weights; drop the field", item);
      snprintf (device, sizeof (device), "%" PRId64 ":%" PRId64, d->major, d->minor);
      format_io_weight (dir, device, d->weight.value, &file, buf, sizeof (buf));
      ret = require_file (dir, file, item, "weight", "the io controller has no weights for this block scheduler", err);
      if (ret < 0)
        return ret;
      ret = set_field (dir, file, buf, item, "weight", err);
      if (ret < 0)
        return ret;
    }

  for (int k = 0; k < AR_BLKIO_THROTTLE_COUNT; k++)
    for (size_t i = 0; i < blkio->throttle[k].n_devices; i++)
      {
        const struct ar_blkio_throttle_device *d = &blkio->throttle[k].devices[i];
        cleanup_free char *item = ar_xasprintf ("%s.%s[%zu]", path, throttle_fields[k], i);

        snprintf (buf, sizeof (buf), "%" PRId64 ":%" PRId64 " %s=%" PRIu64, d->major, d->minor, throttle_keys[k],
                  d->rate);
        ret = ar_cgroup_write (dir, "io.max", buf, err);
        if (ret < 0)
          return ar_error_wrap (err, "%s", item);
      }
  return 0;
}

int
ar_cgroup_v2_set_hugetlb (const char *dir, const struct ar_resources *r, ar_error_t *err)
{
  for (size_t i = 0; i < r->n_hugepage_limits; i++)
    {
      const struct ar_hugepage_limit *h = &r->hugepage_limits[i];
      cleanup_free char *item = ar_xasprintf ("%s.hugepageLimits[%zu]", r->json_path, i);
      cleanup_free char *file = ar_xasprintf ("hugetlb.%s.max", h->page_size);
      cleanup_free char *rsvd = ar_xasprintf ("hugetlb.%s.rsvd.max", h->page_size);
      char buf[32];
      int ret;

      if (!ar_cgroup_file_exists (dir, file))
        return ar_make_error (err, 0, "%s.pageSize: this kernel has no %s huge pages (`%s/%s` is missing)", item,
                              h->page_size, dir, file);
      snprintf (buf, sizeof (buf), "%" PRIu64, h->limit);
      ret = set_field (dir, file, buf, item, "limit", err);
      if (ret < 0)
        return ret;

      /* Reservation limits (Linux 5.7) also stop a process at mmap time,
       * instead of with SIGBUS at page fault. */
      if (ar_cgroup_file_exists (dir, rsvd))
        {
          ret = set_field (dir, rsvd, buf, item, "limit", err);
          if (ret < 0)
            return ret;
        }
    }
  return 0;
}

int
ar_cgroup_v2_set_rdma (const char *dir, const struct ar_resources *r, ar_error_t *err)
{
  /* rdma.max has the same format on v1 and v2. */
  return ar_cgroup_v1_set_rdma (dir, r, err);
}

int
ar_cgroup_v2_set_unified (const char *dir, const struct ar_resources *r, ar_error_t *err)
{
  for (size_t i = 0; i < r->n_unified; i++)
    {
      const struct ar_unified_entry *e = &r->unified[i];
      size_t len = strcspn (e->key, ".");
      cleanup_free char *controller = strndup (e->key, len);
      ar_error_t local = NULL;
      int ret;

      ret = ar_cgroup_write (dir, e->key, e->value, &local);
      if (ret == -ENOENT && e->key[len] == '.' && strcmp (controller, "cgroup") != 0
          && !ar_cgroup_v2_has_controller (dir, controller))
        {
          ar_error_release (&local);
          return ar_make_error (err, 0,
                                "%s.unified[\"%s\"]: the %s controller is not available in `%s`; enable it in the "
                                "parent cgroups or drop the key",
                                r->json_path, e->key, controller, dir);
        }
      if (ret < 0)
        {
          ar_cgroup_move_error (err, &local);
          return ar_error_wrap (err, "%s.unified[\"%s\"]", r->json_path, e->key);
        }
    }
  return 0;
}

/* The state the kernel reached, from cgroup.events. */
static int
events_frozen (const char *dir, bool *frozen, ar_error_t *err)
{
  uint64_t value = 0;
  int ret;

  ret = ar_cgroup_read_keyed (dir, "cgroup.events", "frozen", &value, err);
  if (ret == -ENOENT)
    return ar_make_error (err, ENOTSUP, "`%s/cgroup.events` has no `frozen` key; cgroup.freeze needs Linux 5.2", dir);
  if (ret < 0)
    return ret;
  *frozen = value == 1;
  return 0;
}

/* The requested state, from cgroup.freeze.  cgroup.events may show a
 * frozen cgroup as thawed for a moment while a process in it handles a
 * fatal signal, which the v2 freezer lets through. */
int
ar_cgroup_v2_is_frozen (const char *dir, bool *frozen, ar_error_t *err)
{
  uint64_t value = 0;
  int ret;

  ret = ar_cgroup_read_u64 (dir, "cgroup.freeze", &value, err);
  if (ret < 0)
    return ret;
  *frozen = value == 1;
  return 0;
}

int
ar_cgroup_v2_set_frozen (const char *dir, bool frozen, ar_error_t *err)
{
  bool state = !frozen;
  int ret;

  ret = ar_cgroup_write (dir, "cgroup.freeze", frozen ? "1" : "0", err);
  if (ret < 0)
    return ret;

  for (int waited = 0; waited < FREEZE_TIMEOUT_MS; waited++)
    {
      ret = events_frozen (dir, &state, err);
      if (ret < 0)
        return ret;
      if (state == frozen)
        return 0;
      ar_cgroup_sleep_ms (1);
    }

  if (frozen)
    {
      ar_error_t ignored = NULL;

      if (ar_cgroup_write (dir, "cgroup.freeze", "0", &ignored) < 0)
        ar_error_release (&ignored);
    }
  return ar_make_error (err, ETIMEDOUT, "timed out after %d ms waiting for `%s` to %s", FREEZE_TIMEOUT_MS, dir,
                        frozen ? "freeze" : "thaw");
}
