/* Applying linux.resources: each group of settings goes to the hierarchy
 * that carries its controller on this host, a v1 hierarchy first and else
 * the cgroup2 one, so the hybrid layout needs no special case beyond
 * choosing.  A setting that no hierarchy can take is an error naming its
 * JSON path. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cgroup_internal.h"
#include "oci/log.h"
#include "oci/util.h"

/* The directory that holds one controller's files for this cgroup. */
struct target
{
  const char *dir;
  bool v2;
  struct ar_cgroup_hierarchy *hierarchy;
};

static int
locate (const struct ar_cgroup *cgroup, const char *v1_name, const char *v2_name, const char *field,
        struct target *t, ar_error_t *err)
{
  struct ar_cgroup_hierarchy *unified = ar_cgroup_unified (cgroup);

  if (cgroup->layout != AR_CGROUP_LAYOUT_V2 && v1_name != NULL)
    {
      struct ar_cgroup_hierarchy *h = ar_cgroup_v1_hierarchy (cgroup, v1_name);

      if (h != NULL)
        {
          *t = (struct target) { .dir = h->dir, .v2 = false, .hierarchy = h };
          return 0;
        }
    }

  if (unified != NULL && v2_name != NULL && ar_cgroup_v2_has_controller (unified->dir, v2_name))
    {
      *t = (struct target) { .dir = unified->dir, .v2 = true, .hierarchy = unified };
      return 0;
    }

  if (cgroup->layout == AR_CGROUP_LAYOUT_V2 && v2_name == NULL)
    return ar_make_error (err, 0, "%s: cgroup v2 has no %s controller, so this host cannot apply it; drop the field",
                          field, v1_name);
  if (cgroup->layout == AR_CGROUP_LAYOUT_HYBRID && unified != NULL && v2_name != NULL
      && ar_cgroup_v2_has_controller (unified->mountpoint, v2_name))
    return ar_make_error (err, 0,
                          "%s: on this host the %s controller is only on cgroup2, and the cgroups above `%s` do not "
                          "enable it; add +%s to the cgroup.subtree_control of each cgroup from `%s` down, or drop "
                          "the field",
                          field, v2_name, unified->dir, v2_name, unified->mountpoint);
  if (cgroup->layout == AR_CGROUP_LAYOUT_V2)
    return ar_make_error (err, 0,
                          "%s: the %s controller is not available in `%s`: it is missing from its cgroup.controllers; "
                          "enable it in the cgroup.subtree_control of the parent cgroups",
                          field, v2_name, unified != NULL ? unified->dir : "/sys/fs/cgroup");
  return ar_make_error (err, 0, "%s: the %s controller is not mounted on this host%s; drop the field", field,
                        v1_name, unified != NULL && v2_name != NULL ? " (neither on cgroup v1 nor on cgroup2)" : "");
}

/* The controllers that hybrid hosts must enable on the cgroup2 side: those
 * a resource group needs and no v1 hierarchy carries. */
static void
add_wanted (const char **wanted, size_t *n, size_t cap, const struct ar_cgroup *cgroup, const char *v1_name,
            const char *v2_name)
{
  if (v2_name == NULL || (v1_name != NULL && ar_cgroup_v1_hierarchy (cgroup, v1_name) != NULL))
    return;
  for (size_t i = 0; i < *n; i++)
    if (strcmp (wanted[i], v2_name) == 0)
      return;
  if (*n < cap)
    wanted[(*n)++] = v2_name;
}

static bool
cpu_needs_cpu_controller (const struct ar_cpu_resources *cpu)
{
  return cpu->shares.set || cpu->quota.set || cpu->period.set || cpu->burst.set || cpu->realtime_runtime.set
         || cpu->realtime_period.set || cpu->idle.set;
}

static bool
cpu_needs_cpuset (const struct ar_cpu_resources *cpu)
{
  return cpu->cpus != NULL || cpu->mems != NULL;
}

#define MAX_WANTED 16

static int
enable_hybrid_controllers (struct ar_cgroup *cgroup, const struct ar_resources *r, ar_error_t *err)
{
  struct ar_cgroup_hierarchy *unified = ar_cgroup_unified (cgroup);
  const char *wanted[MAX_WANTED + 1] = { NULL };
  char key_controllers[MAX_WANTED][32];
  size_t n = 0;

  if (unified == NULL || r == NULL)
    return 0;

  if (r->memory != NULL)
    add_wanted (wanted, &n, MAX_WANTED, cgroup, "memory", "memory");
  if (r->cpu != NULL && cpu_needs_cpu_controller (r->cpu))
    add_wanted (wanted, &n, MAX_WANTED, cgroup, "cpu", "cpu");
  if (r->cpu != NULL && cpu_needs_cpuset (r->cpu))
    add_wanted (wanted, &n, MAX_WANTED, cgroup, "cpuset", "cpuset");
  if (r->pids != NULL)
    add_wanted (wanted, &n, MAX_WANTED, cgroup, "pids", "pids");
  if (r->block_io != NULL)
    add_wanted (wanted, &n, MAX_WANTED, cgroup, "blkio", "io");
  if (r->n_hugepage_limits > 0)
    add_wanted (wanted, &n, MAX_WANTED, cgroup, "hugetlb", "hugetlb");
  if (r->n_rdma > 0)
    add_wanted (wanted, &n, MAX_WANTED, cgroup, "rdma", "rdma");

  /* A unified key names its controller before the first dot. */
  for (size_t i = 0; i < r->n_unified && i < MAX_WANTED; i++)
    {
      const char *key = r->unified[i].key;
      size_t len = strcspn (key, ".");

      if (key[len] != '.' || len >= sizeof (key_controllers[i]) || strncmp (key, "cgroup.", 7) == 0)
        continue;
      memcpy (key_controllers[i], key, len);
      key_controllers[i][len] = '\0';
      if (ar_cgroup_v1_hierarchy (cgroup, key_controllers[i]) == NULL)
        add_wanted (wanted, &n, MAX_WANTED, cgroup, NULL, key_controllers[i]);
    }

  if (n == 0)
    return 0;

  /* Enabling a controller in cgroups that others made, up to the root of
   * the host's cgroup2 mount, would change the host: on hybrid hosts that
   * is left to the administrator, and locate () reports what is missing. */
  return ar_cgroup_v2_enable_controllers (unified, wanted, true, err);
}

static int
apply_unified (struct ar_cgroup *cgroup, const struct ar_resources *r, ar_error_t *err)
{
  struct ar_cgroup_hierarchy *unified = ar_cgroup_unified (cgroup);

  if (cgroup->layout == AR_CGROUP_LAYOUT_V1 || unified == NULL)
    return ar_make_error (err, 0,
                          "%s.unified: needs cgroup v2, but this host uses cgroup v1 only; use the cgroup v1 fields "
                          "of %s instead",
                          r->json_path, r->json_path);

  if (cgroup->layout == AR_CGROUP_LAYOUT_HYBRID)
    for (size_t i = 0; i < r->n_unified; i++)
      {
        const char *key = r->unified[i].key;
        const char *dot = strchr (key, '.');
        cleanup_free char *controller = dot != NULL ? strndup (key, (size_t) (dot - key)) : NULL;

        if (controller != NULL && ar_cgroup_v1_hierarchy (cgroup, controller) != NULL)
          return ar_make_error (err, 0,
                                "%s.unified[\"%s\"]: the %s controller is on cgroup v1 on this host, not on "
                                "cgroup2; use the matching %s field instead",
                                r->json_path, key, controller, r->json_path);
      }
  return ar_cgroup_v2_set_unified (unified->dir, r, err);
}

static int
apply_cpu (struct ar_cgroup *cgroup, const struct ar_resources *r, ar_error_t *err)
{
  cleanup_free char *path = ar_xasprintf ("%s.cpu", r->json_path);
  struct target t;
  int ret;

  if (cpu_needs_cpuset (r->cpu))
    {
      cleanup_free char *field = ar_xasprintf ("%s.%s", path, r->cpu->cpus != NULL ? "cpus" : "mems");

      ret = locate (cgroup, "cpuset", "cpuset", field, &t, err);
      if (ret < 0)
        return ret;
      ret = t.v2 ? ar_cgroup_v2_set_cpuset (t.dir, r->cpu, path, err)
                 : ar_cgroup_v1_set_cpuset (t.dir, r->cpu, path, err);
      if (ret < 0)
        return ret;
    }

  if (cpu_needs_cpu_controller (r->cpu))
    {
      ret = locate (cgroup, "cpu", "cpu", path, &t, err);
      if (ret < 0)
        return ret;
      ret = t.v2 ? ar_cgroup_v2_set_cpu (t.dir, r->cpu, path, err)
                 : ar_cgroup_v1_set_cpu (t.hierarchy, r->cpu, path, err);
      if (ret < 0)
        return ret;
    }
  return 0;
}

static int
apply_network (struct ar_cgroup *cgroup, const struct ar_resources *r, ar_error_t *err)
{
  const struct ar_network_resources *net = r->network;
  struct target t;
  int ret;

  if (net->class_id.set)
    {
      cleanup_free char *field = ar_xasprintf ("%s.network.classID", r->json_path);

      ret = locate (cgroup, "net_cls", NULL, field, &t, err);
      if (ret < 0)
        return ret;
      ret = ar_cgroup_v1_set_net_cls (t.dir, net, field, err);
      if (ret < 0)
        return ret;
    }
  if (net->n_priorities > 0)
    {
      cleanup_free char *field = ar_xasprintf ("%s.network.priorities", r->json_path);

      ret = locate (cgroup, "net_prio", NULL, field, &t, err);
      if (ret < 0)
        return ret;
      ret = ar_cgroup_v1_set_net_prio (t.dir, net, field, err);
      if (ret < 0)
        return ret;
    }
  return 0;
}

static int
apply_devices (struct ar_cgroup *cgroup, const struct ar_resources *r, ar_error_t *err)
{
  struct ar_cgroup_hierarchy *unified = ar_cgroup_unified (cgroup);
  const char *dir = cgroup->layout != AR_CGROUP_LAYOUT_V2 ? ar_cgroup_v1_dir (cgroup, "devices") : NULL;

  if (dir != NULL)
    return ar_cgroup_v1_set_devices (dir, r, err);

  /* cgroup2 filters devices with an eBPF program, on hybrid hosts too. */
  if (unified != NULL)
    return ar_cgroup_v2_set_devices (unified->dir, r, err);
  return ar_make_error (err, 0, "%s.devices: the devices controller is not mounted on this host; drop the field",
                        r->json_path);
}

static int
apply_all (struct ar_cgroup *cgroup, const struct ar_resources *r, bool update, ar_error_t *err)
{
  struct target t;
  int ret;

  if (r->cpu != NULL)
    {
      ret = apply_cpu (cgroup, r, err);
      if (ret < 0)
        return ret;
    }

  if (r->memory != NULL)
    {
      cleanup_free char *path = ar_xasprintf ("%s.memory", r->json_path);

      ret = locate (cgroup, "memory", "memory", path, &t, err);
      if (ret < 0)
        return ret;
      ret = t.v2 ? ar_cgroup_v2_set_memory (t.dir, r->memory, path, update, err)
                 : ar_cgroup_v1_set_memory (t.dir, r->memory, path, update, err);
      if (ret < 0)
        return ret;
    }

  if (r->pids != NULL)
    {
      cleanup_free char *path = ar_xasprintf ("%s.pids", r->json_path);

      ret = locate (cgroup, "pids", "pids", path, &t, err);
      if (ret < 0)
        return ret;
      ret = t.v2 ? ar_cgroup_v2_set_pids (t.dir, r->pids, path, err)
                 : ar_cgroup_v1_set_pids (t.dir, r->pids, path, err);
      if (ret < 0)
        return ret;
    }

  if (r->block_io != NULL)
    {
      cleanup_free char *path = ar_xasprintf ("%s.blockIO", r->json_path);

      ret = locate (cgroup, "blkio", "io", path, &t, err);
      if (ret < 0)
        return ret;
      ret = t.v2 ? ar_cgroup_v2_set_io (t.dir, r->block_io, path, err)
                 : ar_cgroup_v1_set_blkio (t.dir, r->block_io, path, err);
      if (ret < 0)
        return ret;
    }

  if (r->n_hugepage_limits > 0)
    {
      cleanup_free char *path = ar_xasprintf ("%s.hugepageLimits", r->json_path);

      ret = locate (cgroup, "hugetlb", "hugetlb", path, &t, err);
      if (ret < 0)
        return ret;
      ret = t.v2 ? ar_cgroup_v2_set_hugetlb (t.dir, r, err) : ar_cgroup_v1_set_hugetlb (t.dir, r, err);
      if (ret < 0)
        return ret;
    }

  if (r->has_devices)
    {
      ret = apply_devices (cgroup, r, err);
      if (ret < 0)
        return ret;
    }

  if (r->network != NULL)
    {
      ret = apply_network (cgroup, r, err);
      if (ret < 0)
        return ret;
    }

  if (r->n_rdma > 0)
    {
      cleanup_free char *path = ar_xasprintf ("%s.rdma", r->json_path);

      ret = locate (cgroup, "rdma", "rdma", path, &t, err);
      if (ret < 0)
        return ret;
      ret = t.v2 ? ar_cgroup_v2_set_rdma (t.dir, r, err) : ar_cgroup_v1_set_rdma (t.dir, r, err);
      if (ret < 0)
        return ret;
    }

  /* Last, so these raw values win over the structured fields as the spec
   * intends. */
  if (r->n_unified > 0)
    {
      ret = apply_unified (cgroup, r, err);
      if (ret < 0)
        return ret;
    }
  return 0;
}

int
ar_cgroup_apply (struct ar_cgroup *cgroup, const struct ar_resources *r, bool update, ar_error_t *err)
{
  struct ar_cgroup_hierarchy *unified = ar_cgroup_unified (cgroup);
  int ret;

  /* Pure v2 enables every available controller, as runc and crun do, so
   * that stats and later updates find them.  Hybrid hosts enable on the
   * cgroup2 side only what a setting needs. */
  if (cgroup->layout == AR_CGROUP_LAYOUT_V2 && unified != NULL)
    ret = ar_cgroup_v2_enable_controllers (unified, NULL, false, err);
  else
    ret = enable_hybrid_controllers (cgroup, r, err);
  if (ret < 0)
    return ret;

  if (r == NULL)
    return 0;
  return apply_all (cgroup, r, update, err);
}

uint64_t
ar_cgroup_shares_to_weight (uint64_t shares)
{
  if (shares == 0)
    return 0;
  if (shares < 2)
    shares = 2;
  if (shares > 262144)
    shares = 262144;
  return 1 + ((shares - 2) * 9999) / 262142;
}

uint64_t
ar_cgroup_blkio_to_io_weight (uint64_t weight)
{
  if (weight == 0)
    return 0;
  if (weight < 10)
    weight = 10;
  if (weight > 1000)
    weight = 1000;
  return 1 + ((weight - 10) * 9999) / 990;
}
