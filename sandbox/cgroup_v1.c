/* cgroup v1: the settings of each controller in its own hierarchy, and the
 * v1 freezer.  Each setter takes the container's directory in the
 * hierarchy that carries its controller and the JSON path of the resource
 * group, for error messages. */
#define _GNU_SOURCE
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cgroup_internal.h"
#include "oci/log.h"
#include "oci/util.h"

/* Linux's internal ENOTSUPP, which some cgroup v1 files return to user
 * space unchanged (memory.kmem.limit_in_bytes since Linux 5.16). */
#define KERNEL_ENOTSUPP 524

/* The freezer waits this long (in 1 ms steps) for FREEZING to settle. */
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

static void
format_i64 (char *buf, size_t size, int64_t value)
{
  snprintf (buf, size, "%" PRId64, value);
}

static void
format_u64 (char *buf, size_t size, uint64_t value)
{
  snprintf (buf, size, "%" PRIu64, value);
}

/* Copies cpuset.cpus and cpuset.mems from the parent when dir has none. */
int
ar_cgroup_v1_init_cpuset (const char *mountpoint, const char *dir, ar_error_t *err)
{
  static const char *const files[] = { "cpuset.cpus", "cpuset.mems", NULL };
  cleanup_free char *parent = ar_xstrdup (dir);
  char *slash = strrchr (parent, '/');

  if (strcmp (dir, mountpoint) == 0 || slash == NULL)
    return 0;
  *slash = '\0';

  for (size_t i = 0; files[i] != NULL; i++)
    {
      cleanup_free char *current = NULL;
      cleanup_free char *inherited = NULL;
      int ret;

      ret = ar_cgroup_read (dir, files[i], &current, err);
      if (ret < 0)
        return ret;
      if (current[strspn (current, " \n")] != '\0')
        continue;

      ret = ar_cgroup_read (parent, files[i], &inherited, err);
      if (ret < 0)
        return ret;
      inherited[strcspn (inherited, "\n")] = '\0';
      if (*inherited == '\0')
        continue;
      ret = ar_cgroup_write (dir, files[i], inherited, err);
      if (ret < 0)
        return ret;
    }
  return 0;
}

/* memory.limit_in_bytes must stay at or below memory.memsw.limit_in_bytes
 * at every step, so which of the two goes first depends on whether the
 * limits grow or shrink. */
static int
set_limit_and_swap (const char *dir, const struct ar_memory_resources *mem, const char *path, ar_error_t *err)
{
  bool set_limit = mem->limit.set && mem->limit.value != 0;
  bool set_swap = mem->swap.set && mem->swap.value != 0;
  bool swap_first = false;
  char limit[32], swap[32];
  int ret;

  format_i64 (limit, sizeof (limit), mem->limit.value);
  format_i64 (swap, sizeof (swap), mem->swap.value);

  if (set_swap && !ar_cgroup_file_exists (dir, "memory.memsw.limit_in_bytes"))
    {
      if (mem->swap.value == -1)
        {
          ar_debug ("%s.swap: -1 (unlimited) needs no file, and swap accounting is off", path);
          set_swap = false;
        }
      else
        return ar_make_error (err, 0,
                              "%s.swap: this host cannot limit swap: swap accounting is off (`%s/memory.memsw."
                              "limit_in_bytes` is missing); boot with swapaccount=1 or drop the field",
                              path, dir);
    }

  if (set_limit && set_swap)
    {
      uint64_t current;

      ret = ar_cgroup_read_u64 (dir, "memory.limit_in_bytes", &current, err);
      if (ret < 0)
        return ar_error_wrap (err, "%s.limit", path);
      swap_first = mem->swap.value == -1 || current < (uint64_t) mem->swap.value;
    }

  if (set_swap && swap_first)
    {
      ret = set_field (dir, "memory.memsw.limit_in_bytes", swap, path, "swap", err);
      if (ret < 0)
        return ret;
    }
  if (set_limit)
    {
      ret = set_field (dir, "memory.limit_in_bytes", limit, path, "limit", err);
      if (ret < 0)
        return ret;
    }
  if (set_swap && !swap_first)
    {
      ret = set_field (dir, "memory.memsw.limit_in_bytes", swap, path, "swap", err);
      if (ret < 0)
        return ret;
    }
  return 0;
}

/* Kernel memory limits are deprecated.  Newer kernels reject writes to
 * memory.kmem.limit_in_bytes with ENOTSUPP or accept and ignore them
 * (Linux 6.18 logs "Writing any value to this file has no effect"), and
 * cgroup v2 never had them.  The spec marks both fields NOT RECOMMENDED,
 * so a kernel that does not apply them only gets a debug line. */
static int
set_optional_kernel_limit (const char *dir, const char *file, const struct ar_opt_i64 *value, const char *path,
                           const char *field, ar_error_t *err)
{
  char buf[32];
  ar_error_t local = NULL;
  int ret;

  if (!value->set || value->value == 0)
    return 0;
  if (!ar_cgroup_file_exists (dir, file))
    {
      ar_debug ("%s.%s: ignored, this kernel has no `%s`", path, field, file);
      return 0;
    }

  format_i64 (buf, sizeof (buf), value->value);
  ret = ar_cgroup_write (dir, file, buf, &local);
  if (ret == -EOPNOTSUPP || ret == -KERNEL_ENOTSUPP)
    {
      ar_debug ("%s.%s: ignored, this kernel no longer supports `%s`", path, field, file);
      ar_error_release (&local);
      return 0;
    }
  if (ret < 0)
    {
      ar_cgroup_move_error (err, &local);
      return ar_error_wrap (err, "%s.%s", path, field);
    }

  /* The kernel rounds a limit down to whole pages. */
  if (value->value > 0)
    {
      uint64_t page = (uint64_t) sysconf (_SC_PAGESIZE);
      uint64_t expected = (uint64_t) value->value - (uint64_t) value->value % page;
      uint64_t actual = 0;

      if (ar_cgroup_read_u64 (dir, file, &actual, &local) < 0)
        ar_error_release (&local);
      else if (actual != expected)
        ar_debug ("%s.%s: ignored, this kernel accepts `%s` but does not apply it", path, field, file);
    }
  return 0;
}

int
ar_cgroup_v1_set_memory (const char *dir, const struct ar_memory_resources *mem, const char *path, bool update,
                         ar_error_t *err)
{
  char buf[32];
  int ret;

  /* On v1 the kernel itself rejects a limit below the current usage, which
   * is what checkBeforeUpdate requests. */
  (void) update;

  ret = set_limit_and_swap (dir, mem, path, err);
  if (ret < 0)
    return ret;

  if (mem->reservation.set && mem->reservation.value != 0)
    {
      format_i64 (buf, sizeof (buf), mem->reservation.value);
      ret = set_field (dir, "memory.soft_limit_in_bytes", buf, path, "reservation", err);
      if (ret < 0)
        return ret;
    }

  ret = set_optional_kernel_limit (dir, "memory.kmem.limit_in_bytes", &mem->kernel, path, "kernel", err);
  if (ret < 0)
    return ret;
  ret = set_optional_kernel_limit (dir, "memory.kmem.tcp.limit_in_bytes", &mem->kernel_tcp, path, "kernelTCP", err);
  if (ret < 0)
    return ret;

  if (mem->swappiness.set)
    {
      format_u64 (buf, sizeof (buf), mem->swappiness.value);
      ret = set_field (dir, "memory.swappiness", buf, path, "swappiness", err);
      if (ret < 0)
        return ret;
    }

  if (mem->has_disable_oom_killer)
    {
      ret = set_field (dir, "memory.oom_control", mem->disable_oom_killer ? "1" : "0", path, "disableOOMKiller", err);
      if (ret < 0)
        return ret;
    }

  if (mem->has_use_hierarchy)
    {
      ret = set_field (dir, "memory.use_hierarchy", mem->use_hierarchy ? "1" : "0", path, "useHierarchy", err);
      if (ret < 0)
        return ret;
    }
  return 0;
}

/* A child's cpu.rt_runtime_us cannot exceed its parent's, and a new
 * cgroup starts at 0, so the parents this cgroup created get the same
 * runtime first, from the top down. */
static int
set_rt_runtime (struct ar_cgroup_hierarchy *h, const char *value, const char *path, ar_error_t *err)
{
  ar_error_t local = NULL;
  int ret;

  ret = ar_cgroup_write (h->dir, "cpu.rt_runtime_us", value, &local);
  if (ret != -EINVAL && ret != -EBUSY)
    {
      if (ret < 0)
        {
          ar_cgroup_move_error (err, &local);
          return ar_error_wrap (err, "%s.realtimeRuntime", path);
        }
      return 0;
    }
  ar_error_release (&local);

  for (size_t i = 0; h->created[i] != NULL; i++)
    {
      if (strcmp (h->created[i], h->dir) == 0)
        break;
      ret = set_field (h->created[i], "cpu.rt_runtime_us", value, path, "realtimeRuntime", err);
      if (ret < 0)
        return ret;
    }
  return set_field (h->dir, "cpu.rt_runtime_us", value, path, "realtimeRuntime", err);
}

static int
set_quota_and_period (const char *dir, const struct ar_cpu_resources *cpu, const char *path, ar_error_t *err)
{
  bool set_period = cpu->period.set && cpu->period.value != 0;
  bool set_quota = cpu->quota.set && cpu->quota.value != 0;
  char period[32], quota[32];
  ar_error_t local = NULL;
  int ret;

  format_u64 (period, sizeof (period), cpu->period.value);
  format_i64 (quota, sizeof (quota), cpu->quota.value);

  if (set_period)
    {
      ret = ar_cgroup_write (dir, "cpu.cfs_period_us", period, &local);
      if (ret == -EINVAL && set_quota)
        {
          /* The kernel checks the period against the current quota: set
           * the new quota first, then the period. */
          ar_error_release (&local);
          ret = set_field (dir, "cpu.cfs_quota_us", quota, path, "quota", err);
          if (ret < 0)
            return ret;
          return set_field (dir, "cpu.cfs_period_us", period, path, "period", err);
        }
      if (ret < 0)
        {
          ar_cgroup_move_error (err, &local);
          return ar_error_wrap (err, "%s.period", path);
        }
    }
  if (set_quota)
    return set_field (dir, "cpu.cfs_quota_us", quota, path, "quota", err);
  return 0;
}

int
ar_cgroup_v1_set_cpu (struct ar_cgroup_hierarchy *h, const struct ar_cpu_resources *cpu, const char *path,
                      ar_error_t *err)
{
  const char *dir = h->dir;
  char buf[32];
  int ret;

  if (cpu->shares.set && cpu->shares.value != 0)
    {
      format_u64 (buf, sizeof (buf), cpu->shares.value);
      ret = set_field (dir, "cpu.shares", buf, path, "shares", err);
      if (ret < 0)
        return ret;
    }

  ret = set_quota_and_period (dir, cpu, path, err);
  if (ret < 0)
    return ret;

  if (cpu->burst.set)
    {
      ret = require_file (dir, "cpu.cfs_burst_us", path, "burst", "CFS burst needs Linux 5.14 or later", err);
      if (ret < 0)
        return ret;
      format_u64 (buf, sizeof (buf), cpu->burst.value);
      ret = set_field (dir, "cpu.cfs_burst_us", buf, path, "burst", err);
      if (ret < 0)
        return ret;
    }

  if (cpu->realtime_period.set && cpu->realtime_period.value != 0)
    {
      ret = require_file (dir, "cpu.rt_period_us", path, "realtimePeriod",
                          "the kernel lacks realtime group scheduling, CONFIG_RT_GROUP_SCHED", err);
      if (ret < 0)
        return ret;
      format_u64 (buf, sizeof (buf), cpu->realtime_period.value);
      ret = set_field (dir, "cpu.rt_period_us", buf, path, "realtimePeriod", err);
      if (ret < 0)
        return ret;
    }
  if (cpu->realtime_runtime.set && cpu->realtime_runtime.value != 0)
    {
      ret = require_file (dir, "cpu.rt_runtime_us", path, "realtimeRuntime",
                          "the kernel lacks realtime group scheduling, CONFIG_RT_GROUP_SCHED", err);
      if (ret < 0)
        return ret;
      format_i64 (buf, sizeof (buf), cpu->realtime_runtime.value);
      ret = set_rt_runtime (h, buf, path, err);
      if (ret < 0)
        return ret;
    }

  if (cpu->idle.set)
    {
      ret = require_file (dir, "cpu.idle", path, "idle", "cpu.idle needs Linux 5.15 or later", err);
      if (ret < 0)
        return ret;
      format_i64 (buf, sizeof (buf), cpu->idle.value);
      ret = set_field (dir, "cpu.idle", buf, path, "idle", err);
      if (ret < 0)
        return ret;
    }
  return 0;
}

int
ar_cgroup_v1_set_cpuset (const char *dir, const struct ar_cpu_resources *cpu, const char *path, ar_error_t *err)
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
ar_cgroup_v1_set_pids (const char *dir, const struct ar_pids_resources *pids, const char *path, ar_error_t *err)
{
  char buf[32];

  if (!pids->limit.set || pids->limit.value == 0)
    return 0;
  if (pids->limit.value < 0)
    strcpy (buf, "max");
  else
    format_i64 (buf, sizeof (buf), pids->limit.value);
  return set_field (dir, "pids.max", buf, path, "limit", err);
}

static int
write_device_value (const char *dir, const char *file, const char *field_path, int64_t major, int64_t minor,
                    uint64_t value, ar_error_t *err)
{
  char buf[96];
  int ret;

  snprintf (buf, sizeof (buf), "%" PRId64 ":%" PRId64 " %" PRIu64, major, minor, value);
  ret = ar_cgroup_write (dir, file, buf, err);
  if (ret < 0)
    return ar_error_wrap (err, "%s", field_path);
  return 0;
}

int
ar_cgroup_v1_set_blkio (const char *dir, const struct ar_blkio_resources *blkio, const char *path, ar_error_t *err)
{
  static const char *const throttle_files[AR_BLKIO_THROTTLE_COUNT] = {
    [AR_BLKIO_READ_BPS] = "blkio.throttle.read_bps_device",
    [AR_BLKIO_WRITE_BPS] = "blkio.throttle.write_bps_device",
    [AR_BLKIO_READ_IOPS] = "blkio.throttle.read_iops_device",
    [AR_BLKIO_WRITE_IOPS] = "blkio.throttle.write_iops_device",
  };
  static const char *const throttle_fields[AR_BLKIO_THROTTLE_COUNT] = {
    [AR_BLKIO_READ_BPS] = "throttleReadBpsDevice",
    [AR_BLKIO_WRITE_BPS] = "throttleWriteBpsDevice",
    [AR_BLKIO_READ_IOPS] = "throttleReadIOPSDevice",
    [AR_BLKIO_WRITE_IOPS] = "throttleWriteIOPSDevice",
  };
  /* CFQ had blkio.weight; with BFQ (Linux 5.0 and later) it is
   * blkio.bfq.weight, and with neither scheduler there is none. */
  const char *weight_file = ar_cgroup_file_exists (dir, "blkio.weight") ? "blkio.weight" : "blkio.bfq.weight";
  const char *weight_device_file
      = ar_cgroup_file_exists (dir, "blkio.weight_device") ? "blkio.weight_device" : "blkio.bfq.weight_device";
  char buf[32];
  int ret;

  if (blkio->weight.set && blkio->weight.value != 0)
    {
      ret = require_file (dir, weight_file, path, "weight",
                          "no block I/O scheduler with weights (CFQ or BFQ) is active", err);
      if (ret < 0)
        return ret;
      format_u64 (buf, sizeof (buf), blkio->weight.value);
      ret = set_field (dir, weight_file, buf, path, "weight", err);
      if (ret < 0)
        return ret;
    }

  if (blkio->leaf_weight.set && blkio->leaf_weight.value != 0)
    {
      ret = require_file (dir, "blkio.leaf_weight", path, "leafWeight", "leaf weights need the CFQ scheduler", err);
      if (ret < 0)
        return ret;
      format_u64 (buf, sizeof (buf), blkio->leaf_weight.value);
      ret = set_field (dir, "blkio.leaf_weight", buf, path, "leafWeight", err);
      if (ret < 0)
        return ret;
    }

  for (size_t i = 0; i < blkio->n_weight_devices; i++)
    {
      const struct ar_blkio_weight_device *d = &blkio->weight_devices[i];
      cleanup_free char *item = ar_xasprintf ("%s.weightDevice[%zu]", path, i);

      if (d->weight.set)
        {
          ret = require_file (dir, weight_device_file, item, "weight",
                              "no block I/O scheduler with weights (CFQ or BFQ) is active", err);
          if (ret < 0)
            return ret;
          ret = write_device_value (dir, weight_device_file, item, d->major, d->minor, d->weight.value, err);
          if (ret < 0)
            return ret;
        }
      if (d->leaf_weight.set)
        {
          ret = require_file (dir, "blkio.leaf_weight_device", item, "leafWeight",
                              "leaf weights need the CFQ scheduler", err);
          if (ret < 0)
            return ret;
          ret = write_device_value (dir, "blkio.leaf_weight_device", item, d->major, d->minor, d->leaf_weight.value,
                                    err);
          if (ret < 0)
            return ret;
        }
    }

  for (int k = 0; k < AR_BLKIO_THROTTLE_COUNT; k++)
    for (size_t i = 0; i < blkio->throttle[k].n_devices; i++)
      {
        const struct ar_blkio_throttle_device *d = &blkio->throttle[k].devices[i];
        cleanup_free char *item = ar_xasprintf ("%s.%s[%zu]", path, throttle_fields[k], i);

        ret = write_device_value (dir, throttle_files[k], item, d->major, d->minor, d->rate, err);
        if (ret < 0)
          return ret;
      }
  return 0;
}

int
ar_cgroup_v1_set_hugetlb (const char *dir, const struct ar_resources *r, ar_error_t *err)
{
  for (size_t i = 0; i < r->n_hugepage_limits; i++)
    {
      const struct ar_hugepage_limit *h = &r->hugepage_limits[i];
      cleanup_free char *item = ar_xasprintf ("%s.hugepageLimits[%zu]", r->json_path, i);
      cleanup_free char *file = ar_xasprintf ("hugetlb.%s.limit_in_bytes", h->page_size);
      cleanup_free char *rsvd = ar_xasprintf ("hugetlb.%s.rsvd.limit_in_bytes", h->page_size);
      char buf[32];
      int ret;

      if (!ar_cgroup_file_exists (dir, file))
        return ar_make_error (err, 0, "%s.pageSize: this kernel has no %s huge pages (`%s/%s` is missing)", item,
                              h->page_size, dir, file);
      format_u64 (buf, sizeof (buf), h->limit);
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

static void
format_device_number (char *buf, size_t size, int64_t number)
{
  if (number < 0)
    snprintf (buf, size, "*");
  else
    snprintf (buf, size, "%" PRId64, number);
}

/* TODO: an update rewrites the whole list, and the kernel rejects a new
 * default rule ("a *:* rwm") once the container has made cgroups below
 * its own; runc writes only the difference to the current devices.list. */
int
ar_cgroup_v1_set_devices (const char *dir, const struct ar_resources *r, ar_error_t *err)
{
  for (size_t i = 0; i < r->n_devices; i++)
    {
      const struct ar_device_rule *rule = &r->devices[i];
      char major[24], minor[24], value[80];
      int ret;

      format_device_number (major, sizeof (major), rule->major);
      format_device_number (minor, sizeof (minor), rule->minor);
      snprintf (value, sizeof (value), "%c %s:%s %s", rule->type, major, minor, rule->access);
      ret = ar_cgroup_write (dir, rule->allow ? "devices.allow" : "devices.deny", value, err);
      if (ret < 0)
        return ar_error_wrap (err, "%s.devices[%zu]", r->json_path, i);
    }
  return 0;
}

int
ar_cgroup_v1_set_net_cls (const char *dir, const struct ar_network_resources *net, const char *path, ar_error_t *err)
{
  char buf[32];
  int ret;

  format_u64 (buf, sizeof (buf), net->class_id.value);
  ret = ar_cgroup_write (dir, "net_cls.classid", buf, err);
  if (ret < 0)
    return ar_error_wrap (err, "%s", path);
  return 0;
}

int
ar_cgroup_v1_set_net_prio (const char *dir, const struct ar_network_resources *net, const char *path,
                           ar_error_t *err)
{
  for (size_t i = 0; i < net->n_priorities; i++)
    {
      cleanup_free char *value = ar_xasprintf ("%s %" PRIu32, net->priorities[i].name, net->priorities[i].priority);
      int ret = ar_cgroup_write (dir, "net_prio.ifpriomap", value, err);

      if (ret < 0)
        return ar_error_wrap (err, "%s[%zu]", path, i);
    }
  return 0;
}

/* rdma.max takes "DEVICE hca_handle=N hca_object=M" on v1 and v2 alike;
 * cgroup_v2.c uses this too. */
int
ar_cgroup_v1_set_rdma (const char *dir, const struct ar_resources *r, ar_error_t *err)
{
  for (size_t i = 0; i < r->n_rdma; i++)
    {
      const struct ar_rdma_limit *l = &r->rdma[i];
      cleanup_free char *value = ar_xasprintf ("%s", l->device);
      int ret;

      if (l->hca_handles.set)
        {
          char *longer = ar_xasprintf ("%s hca_handle=%" PRIu64, value, l->hca_handles.value);
          free (value);
          value = longer;
        }
      if (l->hca_objects.set)
        {
          char *longer = ar_xasprintf ("%s hca_object=%" PRIu64, value, l->hca_objects.value);
          free (value);
          value = longer;
        }
      ret = ar_cgroup_write (dir, "rdma.max", value, err);
      if (ret < 0)
        return ar_error_wrap (err, "%s.rdma.%s", r->json_path, l->device);
    }
  return 0;
}

static int
read_freezer_state (const char *dir, char *state, size_t size, ar_error_t *err)
{
  cleanup_free char *text = NULL;
  int ret;

  ret = ar_cgroup_read (dir, "freezer.state", &text, err);
  if (ret < 0)
    return ret;
  text[strcspn (text, "\n")] = '\0';
  snprintf (state, size, "%s", text);
  return 0;
}

int
ar_cgroup_v1_set_frozen (const char *dir, bool frozen, ar_error_t *err)
{
  const char *target = frozen ? "FROZEN" : "THAWED";
  char state[32] = "";
  int ret;

  for (int waited = 0; waited < FREEZE_TIMEOUT_MS; waited++)
    {
      /* A cgroup can stay in FREEZING while a task is in an uninterruptible
       * sleep; writing FROZEN again retries the tasks left. */
      if (waited % 50 == 0)
        {
          ret = ar_cgroup_write (dir, "freezer.state", target, err);
          if (ret < 0)
            return ret;
        }
      ret = read_freezer_state (dir, state, sizeof (state), err);
      if (ret < 0)
        return ret;
      if (strcmp (state, target) == 0)
        return 0;
      ar_cgroup_sleep_ms (1);
    }

  if (frozen)
    {
      ar_error_t ignored = NULL;

      if (ar_cgroup_write (dir, "freezer.state", "THAWED", &ignored) < 0)
        ar_error_release (&ignored);
    }
  return ar_make_error (err, ETIMEDOUT, "timed out after %d ms waiting for `%s/freezer.state` to become %s (it is %s)",
                        FREEZE_TIMEOUT_MS, dir, target, state);
}

int
ar_cgroup_v1_is_frozen (const char *dir, bool *frozen, ar_error_t *err)
{
  char state[32];
  int ret;

  ret = read_freezer_state (dir, state, sizeof (state), err);
  if (ret < 0)
    return ret;
  *frozen = strcmp (state, "FROZEN") == 0;
  return 0;
}
