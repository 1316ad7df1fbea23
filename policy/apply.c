/* Applying a policy to config.json: conflicts fail (enforce) or become
 * audit events, and the values config.json leaves out are filled from the
 * policy.  The edits happen on a copy that replaces the document only when
 * everything succeeded. */
#define _GNU_SOURCE
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "apply_internal.h"
#include "oci/audit.h"
#include "oci/log.h"
#include "oci/util.h"
#include "seccomp_rules.h"
#include "values.h"

const char *const ar_policy_builtin_masked_paths[] = {
  "/proc/acpi",        "/proc/asound",      "/proc/interrupts", "/proc/kcore",   "/proc/keys",
  "/proc/latency_stats", "/proc/sched_debug", "/proc/scsi",       "/proc/timer_list", "/proc/timer_stats",
  "/sys/devices/virtual/powercap", "/sys/firmware", NULL,
};

const char *const ar_policy_builtin_readonly_paths[] = {
  "/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger", NULL,
};

const char *const ar_policy_annotation_keys[] = {
  AR_POLICY_ANNOTATION_NAME,       AR_POLICY_ANNOTATION_MODE,  AR_POLICY_ANNOTATION_NETWORK,
  AR_POLICY_ANNOTATION_IDENTITY,   AR_POLICY_ANNOTATION_WALL_CLOCK, AR_POLICY_ANNOTATION_AUDIT,
  AR_POLICY_ANNOTATION_FILESYSTEM, NULL,
};

uint64_t
ar_policy_swap_ceiling (const struct ar_policy *policy)
{
  const struct ar_policy_resources *resources = &policy->resources;
  uint64_t swap = resources->swap.set ? resources->swap.value : 0;

  if (resources->memory.value > UINT64_MAX - swap)
    return UINT64_MAX;
  return resources->memory.value + swap;
}

int
ar_policy_tmpfs_option_size (const char *value, uint64_t *out)
{
  static const char suffixes[] = "kmgtpe";
  char *end = NULL;
  unsigned long long number;
  const char *suffix;

  if (!isdigit ((unsigned char) value[0]))
    return -1;
  errno = 0;
  number = strtoull (value, &end, 10);
  if (errno != 0)
    return -1;
  if (*end == '\0')
    {
      *out = number;
      return 0;
    }
  suffix = strchr (suffixes, tolower ((unsigned char) *end));
  if (suffix == NULL || end[1] != '\0')
    return -1;
  for (const char *p = suffixes; p <= suffix; p++)
    {
      if (number > UINT64_MAX / 1024)
        return -1;
      number *= 1024;
    }
  *out = number;
  return 0;
}

bool
ar_policy_mount_writable (json_t *mount)
{
  json_t *option;
  size_t i;

  json_array_foreach (json_object_get (mount, "options"), i, option)
    if (json_is_string (option)
        && (strcmp (json_string_value (option), "ro") == 0 || strcmp (json_string_value (option), "rro") == 0))
      return false;
  return true;
}

static json_t *
ports_json (const struct ar_policy_ports *ports)
{
  json_t *array = json_array ();

  for (size_t i = 0; ports->set && i < ports->n; i++)
    json_array_append_new (array, json_pack ("{s:i, s:i}", "first", ports->ranges[i].first, "last",
                                             ports->ranges[i].last));
  return array;
}

static char *
rule_text (const struct ar_policy *policy, struct ar_policy_pos pos)
{
  return ar_policy_rule_location (policy, pos);
}

/* The network section for the network part: what it must enforce. */
static json_t *
network_json (const struct ar_policy *policy)
{
  const struct ar_policy_network *network = &policy->network;
  const struct ar_policy_egress *egress = network->egress.items;
  const struct ar_policy_ingress *ingress = network->ingress.items;
  json_t *egress_rules = json_array ();
  json_t *ingress_rules = json_array ();

  for (size_t i = 0; i < network->egress.n; i++)
    {
      cleanup_free char *rule = rule_text (policy, egress[i].pos);
      json_t *entry = json_pack ("{s:o, s:s, s:s}", "ports", ports_json (&egress[i].ports), "protocol",
                                 ar_policy_protocol_names[egress[i].protocol.value], "rule", rule);

      if (egress[i].cidr.value != NULL)
        json_object_set_new (entry, "cidr", json_string (egress[i].cidr.value));
      if (egress[i].domain.value != NULL)
        json_object_set_new (entry, "domain", json_string (egress[i].domain.value));
      json_array_append_new (egress_rules, entry);
    }
  for (size_t i = 0; i < network->ingress.n; i++)
    {
      cleanup_free char *rule = rule_text (policy, ingress[i].pos);

      json_array_append_new (ingress_rules, json_pack ("{s:o, s:s, s:s}", "ports", ports_json (&ingress[i].ports),
                                                       "protocol",
                                                       ar_policy_protocol_names[ingress[i].protocol.value], "rule",
                                                       rule));
    }

  return json_pack ("{s:s, s:b, s:o, s:o}", "mode", ar_policy_network_mode_names[network->mode.value], "enforce",
                    policy->mode.value == AR_POLICY_MODE_ENFORCE, "egress", egress_rules, "ingress", ingress_rules);
}

char *
ar_policy_spiffe_id (const struct ar_policy *policy)
{
  const char *template = policy->identity.id_template.value;
  char *out = NULL;
  size_t len = 0;
  FILE *f = open_memstream (&out, &len);

  if (f == NULL)
    abort ();
  for (const char *p = template; *p != '\0';)
    {
      if (ar_str_has_prefix (p, "{trust_domain}"))
        {
          fputs (policy->identity.trust_domain.value, f);
          p += strlen ("{trust_domain}");
        }
      else if (ar_str_has_prefix (p, "{policy}"))
        {
          fputs (policy->name.value, f);
          p += strlen ("{policy}");
        }
      else
        fputc (*p++, f);
    }
  fclose (f);
  return out;
}

static json_t *
identity_json (const struct ar_policy *policy)
{
  cleanup_free char *id = ar_policy_spiffe_id (policy);
  const struct ar_policy_identity *identity = &policy->identity;
  json_t *audiences = json_array ();

  for (size_t i = 0; i < identity->jwt_audiences.n; i++)
    json_array_append_new (audiences, json_string (identity->jwt_audiences.values[i]));
  return json_pack ("{s:s, s:s, s:s, s:o, s:I}", "trust_domain", identity->trust_domain.value, "id_template", id,
                    "svid_dir", identity->svid_dir.value, "jwt_audiences", audiences,
                    "lifetime_seconds", (json_int_t) identity->lifetime.value);
}

static json_t *
paths_json (const struct ar_policy *policy, const struct ar_policy_list *list)
{
  json_t *array = json_array ();

  for (size_t i = 0; i < list->n; i++)
    {
      cleanup_free char *rule = rule_text (policy, list->positions[i]);

      json_array_append_new (array, json_pack ("{s:s, s:s}", "path", list->values[i], "rule", rule));
    }
  return array;
}

/* The filesystem section for the keeper, which reports in audit mode the
 * writes that enforce mode would stop. */
static json_t *
filesystem_json (const struct ar_policy *policy)
{
  const struct ar_policy_filesystem *fs = &policy->filesystem;
  const struct ar_policy_tmpfs *tmpfs = fs->tmpfs.items;
  cleanup_free char *rootfs_rule
      = fs->readonly_rootfs.set ? rule_text (policy, fs->readonly_rootfs.pos) : ar_xstrdup ("(readonly_rootfs)");
  json_t *tmpfs_paths = json_array ();

  for (size_t i = 0; i < fs->tmpfs.n; i++)
    {
      cleanup_free char *rule = rule_text (policy, tmpfs[i].pos);

      json_array_append_new (tmpfs_paths, json_pack ("{s:s, s:s}", "path", tmpfs[i].path.value, "rule", rule));
    }
  return json_pack ("{s:b, s:s, s:o, s:o, s:o, s:o}", "readonly_rootfs", fs->readonly_rootfs.value, "rule",
                    rootfs_rule, "readwrite_paths", paths_json (policy, &fs->readwrite_paths), "tmpfs",
                    tmpfs_paths, "readonly_paths", paths_json (policy, &fs->readonly_paths), "denied_paths",
                    paths_json (policy, &fs->denied_paths));
}

static char *
dump_compact (json_t *value)
{
  char *text = json_dumps (value, JSON_COMPACT | JSON_PRESERVE_ORDER);

  json_decref (value);
  if (text == NULL)
    abort ();
  return text;
}

char *
ar_policy_annotation_value (const struct ar_policy *policy, const char *key)
{
  if (strcmp (key, AR_POLICY_ANNOTATION_NAME) == 0)
    return ar_xstrdup (policy->name.value);
  if (strcmp (key, AR_POLICY_ANNOTATION_MODE) == 0)
    return ar_xstrdup (ar_policy_mode_names[policy->mode.value]);
  if (strcmp (key, AR_POLICY_ANNOTATION_NETWORK) == 0)
    return dump_compact (network_json (policy));
  if (strcmp (key, AR_POLICY_ANNOTATION_IDENTITY) == 0)
    return policy->identity.present ? dump_compact (identity_json (policy)) : NULL;
  if (strcmp (key, AR_POLICY_ANNOTATION_WALL_CLOCK) == 0)
    return policy->resources.wall_clock.set
               ? ar_xasprintf ("%llu", (unsigned long long) policy->resources.wall_clock.value)
               : NULL;
  if (strcmp (key, AR_POLICY_ANNOTATION_AUDIT) == 0)
    return ar_xstrdup (policy->audit.events.value);
  if (strcmp (key, AR_POLICY_ANNOTATION_FILESYSTEM) == 0)
    return dump_compact (filesystem_json (policy));
  return NULL;
}

/* Returns object[key], creating it as an empty object or array. */
static json_t *
ensure (json_t *object, const char *key, json_type type)
{
  json_t *value = json_object_get (object, key);

  if (value != NULL && json_typeof (value) == type)
    return value;
  value = type == JSON_ARRAY ? json_array () : json_object ();
  json_object_set_new (object, key, value);
  return value;
}

static bool
array_has_string (json_t *array, const char *value)
{
  json_t *item;
  size_t i;

  json_array_foreach (array, i, item)
    if (json_is_string (item) && strcmp (json_string_value (item), value) == 0)
      return true;
  return false;
}

static void
append_unique (json_t *array, const char *value)
{
  if (!array_has_string (array, value))
    json_array_append_new (array, json_string (value));
}

static json_t *
kept_capabilities (const struct ar_policy *policy)
{
  json_t *array = json_array ();

  /* In capability number order, as libcap lists them. */
  for (int number = 0; number < 64; number++)
    if (policy->process.capability_mask & (UINT64_C (1) << number))
      for (size_t i = 0; i < policy->process.capabilities.n; i++)
        if (ar_policy_capability_number (policy->process.capabilities.values[i]) == number)
          {
            json_array_append_new (array, json_string (policy->process.capabilities.values[i]));
            break;
          }
  return array;
}

static void
fill_capabilities (const struct ar_policy *policy, json_t *process)
{
  static const char *const sets[] = { "bounding", "effective", "inheritable", "permitted", "ambient", NULL };
  json_t *capabilities = json_object_get (process, "capabilities");
  json_int_t uid = json_integer_value (json_object_get (json_object_get (process, "user"), "uid"));

  if (capabilities == NULL || json_is_null (capabilities))
    {
      /* A process that is not root loses its permitted set at exec unless
       * the capabilities are also inheritable and ambient. */
      capabilities = json_pack ("{s:o, s:o, s:o}", "bounding", kept_capabilities (policy), "effective",
                                kept_capabilities (policy), "permitted", kept_capabilities (policy));
      if (uid != 0)
        {
          json_object_set_new (capabilities, "inheritable", kept_capabilities (policy));
          json_object_set_new (capabilities, "ambient", kept_capabilities (policy));
        }
      json_object_set_new (process, "capabilities", capabilities);
      return;
    }

  for (size_t s = 0; sets[s] != NULL; s++)
    {
      json_t *list = json_object_get (capabilities, sets[s]);

      for (size_t i = json_array_size (list); i-- > 0;)
        if (!ar_policy_capability_kept (policy, json_string_value (json_array_get (list, i))))
          json_array_remove (list, i);
    }
}

static void
fill_rlimits (const struct ar_policy *policy, json_t *process)
{
  const struct ar_policy_number *open_files = &policy->resources.open_files;
  json_t *rlimits;
  json_t *item;
  size_t i;

  if (!open_files->set)
    return;
  rlimits = ensure (process, "rlimits", JSON_ARRAY);
  json_array_foreach (rlimits, i, item)
    if (strcmp (json_string_value (json_object_get (item, "type")) ?: "", "RLIMIT_NOFILE") == 0)
      return;
  json_array_append_new (rlimits, json_pack ("{s:s, s:I, s:I}", "type", "RLIMIT_NOFILE", "hard",
                                             (json_int_t) open_files->value, "soft", (json_int_t) open_files->value));
}

static void
fill_process (const struct ar_policy *policy, json_t *config)
{
  const struct ar_policy_process *rules = &policy->process;
  json_t *process = json_object_get (config, "process");
  json_t *user;

  /* Without a process there is nothing to run yet (create allows that).
   * NOTE: `exec --process FILE` brings a process object that never passes
   * through here; the runtime has to hold it to the same rules. */
  if (!json_is_object (process))
    return;

  user = json_object_get (process, "user");
  if (rules->user.set && !json_is_object (user))
    json_object_set_new (process, "user",
                         json_pack ("{s:I, s:I}", "uid", (json_int_t) rules->user.uid, "gid",
                                    (json_int_t) (rules->user.has_gid ? rules->user.gid : rules->user.uid)));

  if (rules->no_new_privileges.value && json_object_get (process, "noNewPrivileges") == NULL)
    json_object_set_new (process, "noNewPrivileges", json_true ());

  fill_capabilities (policy, process);
  fill_rlimits (policy, process);
}

static json_t *
tmpfs_mount (const struct ar_policy_tmpfs *tmpfs)
{
  cleanup_free char *mode = ar_xasprintf ("mode=%04llo", (unsigned long long) tmpfs->mode.value);
  cleanup_free char *size = ar_xasprintf ("size=%llu", (unsigned long long) tmpfs->size.value);

  return json_pack ("{s:s, s:s, s:s, s:[s, s, s, s, s]}", "destination", tmpfs->path.value, "type", "tmpfs",
                    "source", "tmpfs", "options", "nosuid", "nodev", tmpfs->exec.value ? "exec" : "noexec", mode,
                    size);
}

static void
fill_mounts (const struct ar_policy *policy, json_t *config)
{
  const struct ar_policy_tmpfs *tmpfs = policy->filesystem.tmpfs.items;
  json_t *mounts;

  if (policy->filesystem.tmpfs.n == 0)
    return;
  mounts = ensure (config, "mounts", JSON_ARRAY);
  for (size_t t = 0; t < policy->filesystem.tmpfs.n; t++)
    {
      json_t *existing = NULL;
      json_t *mount;
      size_t i;

      json_array_foreach (mounts, i, mount)
        {
          const char *problem = NULL;
          cleanup_free char *destination
              = ar_policy_normalize_path (json_string_value (json_object_get (mount, "destination")) ?: "", &problem);

          if (destination != NULL && strcmp (destination, tmpfs[t].path.value) == 0)
            existing = mount;
        }

      if (existing == NULL)
        {
          json_array_append_new (mounts, tmpfs_mount (&tmpfs[t]));
          continue;
        }
      /* The conflict check accepted it: a tmpfs within the size.  Give it
       * the size when it has none. */
      {
        json_t *options = ensure (existing, "options", JSON_ARRAY);
        json_t *option;
        bool sized = false;

        json_array_foreach (options, i, option)
          sized = sized || (json_is_string (option) && ar_str_has_prefix (json_string_value (option), "size="));
        if (!sized)
          json_array_append_new (options, json_sprintf ("size=%llu", (unsigned long long) tmpfs[t].size.value));
      }
    }
}

/* Whether the policy opens a path that would otherwise be hidden or
 * read-only. */
static bool
opened_by_policy (const struct ar_policy *policy, const char *path)
{
  for (size_t i = 0; i < policy->filesystem.readwrite_paths.n; i++)
    if (ar_policy_path_within (path, policy->filesystem.readwrite_paths.values[i]))
      return true;
  return false;
}

static void
fill_paths (const struct ar_policy *policy, json_t *linux_object)
{
  const struct ar_policy_filesystem *fs = &policy->filesystem;
  json_t *masked = ensure (linux_object, "maskedPaths", JSON_ARRAY);
  json_t *readonly = ensure (linux_object, "readonlyPaths", JSON_ARRAY);

  for (size_t i = 0; ar_policy_builtin_masked_paths[i] != NULL; i++)
    if (!opened_by_policy (policy, ar_policy_builtin_masked_paths[i]))
      append_unique (masked, ar_policy_builtin_masked_paths[i]);
  for (size_t i = 0; i < fs->denied_paths.n; i++)
    append_unique (masked, fs->denied_paths.values[i]);

  for (size_t i = 0; ar_policy_builtin_readonly_paths[i] != NULL; i++)
    if (!opened_by_policy (policy, ar_policy_builtin_readonly_paths[i]))
      append_unique (readonly, ar_policy_builtin_readonly_paths[i]);
  for (size_t i = 0; i < fs->readonly_paths.n; i++)
    append_unique (readonly, fs->readonly_paths.values[i]);
}

static void
fill_namespaces (const struct ar_policy *policy, json_t *linux_object)
{
  json_t *namespaces = json_object_get (linux_object, "namespaces");

  /* Listed namespaces are the conflict check's: an absent list is filled
   * with what the policy needs. */
  if (json_is_array (namespaces))
    return;
  namespaces = json_array ();
  if (policy->network.mode.value != AR_POLICY_NETWORK_HOST)
    json_array_append_new (namespaces, json_pack ("{s:s}", "type", "network"));
  if (!policy->process.host_pid.value)
    json_array_append_new (namespaces, json_pack ("{s:s}", "type", "pid"));
  json_object_set_new (linux_object, "namespaces", namespaces);
}

/* Sets object[key] to value when config.json gave no limit (absent or
 * 0). */
static void
fill_limit (json_t *object, const char *key, uint64_t value)
{
  json_t *current = json_object_get (object, key);

  if (current != NULL && !(json_is_integer (current) && json_integer_value (current) == 0))
    return;
  json_object_set_new (object, key, json_integer ((json_int_t) value));
}

static void
fill_resources (const struct ar_policy *policy, json_t *linux_object)
{
  const struct ar_policy_resources *limits = &policy->resources;
  json_t *resources;

  if (!limits->memory.set && !limits->cpu.set && !limits->pids.set && !limits->io_weight.set)
    return;
  resources = ensure (linux_object, "resources", JSON_OBJECT);

  if (limits->memory.set)
    {
      json_t *memory = ensure (resources, "memory", JSON_OBJECT);

      fill_limit (memory, "limit", limits->memory.value);
      fill_limit (memory, "swap", ar_policy_swap_ceiling (policy));
    }
  if (limits->cpu.set)
    {
      json_t *cpu = ensure (resources, "cpu", JSON_OBJECT);
      json_t *period = json_object_get (cpu, "period");
      uint64_t period_value = json_is_integer (period) && json_integer_value (period) > 0
                                  ? (uint64_t) json_integer_value (period)
                                  : AR_POLICY_CPU_PERIOD;

      if (period == NULL)
        json_object_set_new (cpu, "period", json_integer (AR_POLICY_CPU_PERIOD));
      fill_limit (cpu, "quota", limits->cpu.value * period_value / 1000);
    }
  if (limits->pids.set)
    fill_limit (ensure (resources, "pids", JSON_OBJECT), "limit", limits->pids.value);
  if (limits->io_weight.set)
    fill_limit (ensure (resources, "blockIO", JSON_OBJECT), "weight", limits->io_weight.value);
}

/* The policy's profile, narrowed by config.json's own when it has one; in
 * audit mode, a profile that logs instead of denying. */
static void
set_seccomp (const struct ar_policy *policy, json_t *linux_object)
{
  struct ar_seccomp_set *policy_set = ar_seccomp_policy_set (policy);
  json_t *config_profile = json_object_get (linux_object, "seccomp");
  json_t *profile;

  if (!json_is_object (config_profile))
    config_profile = NULL;

  if (policy->mode.value == AR_POLICY_MODE_AUDIT)
    profile = ar_seccomp_audit_profile (policy_set, config_profile);
  else if (config_profile != NULL)
    {
      struct ar_seccomp_set *config_set = ar_seccomp_set_from_json (config_profile);
      struct ar_seccomp_set *both = ar_seccomp_intersect (policy_set, config_set);

      profile = ar_seccomp_set_to_json (both);
      ar_seccomp_set_free (both);
      ar_seccomp_set_free (config_set);
    }
  else
    profile = ar_seccomp_set_to_json (policy_set);

  json_object_set_new (linux_object, "seccomp", profile);
  ar_seccomp_set_free (policy_set);
}

static void
set_annotations (const struct ar_policy *policy, json_t *config)
{
  json_t *annotations = ensure (config, "annotations", JSON_OBJECT);

  for (size_t i = 0; ar_policy_annotation_keys[i] != NULL; i++)
    {
      char *value = ar_policy_annotation_value (policy, ar_policy_annotation_keys[i]);

      if (value != NULL)
        json_object_set_new (annotations, ar_policy_annotation_keys[i], json_string (value));
      else
        json_object_del (annotations, ar_policy_annotation_keys[i]);
      free (value);
    }
}

/* Edits a document that has no conflict with the policy (or, in audit
 * mode, any document): see ar_policy_apply. */
static void
edit_config (const struct ar_policy *policy, json_t *config)
{
  json_t *linux_object;

  if (policy->mode.value == AR_POLICY_MODE_ENFORCE)
    {
      json_t *root = json_object_get (config, "root");

      fill_process (policy, config);
      if (policy->filesystem.readonly_rootfs.value && json_is_object (root)
          && json_object_get (root, "readonly") == NULL)
        json_object_set_new (root, "readonly", json_true ());
      fill_mounts (policy, config);
    }

  linux_object = ensure (config, "linux", JSON_OBJECT);
  if (policy->mode.value == AR_POLICY_MODE_ENFORCE)
    {
      fill_paths (policy, linux_object);
      fill_namespaces (policy, linux_object);
      fill_resources (policy, linux_object);
    }
  set_seccomp (policy, linux_object);
  set_annotations (policy, config);
}

int
ar_policy_conflicts (const struct ar_policy *policy, json_t *config, const char *config_origin, json_t **out,
                     ar_error_t *err)
{
  json_t *events = json_array ();
  int ret;

  ret = ar_policy_collect_conflicts (policy, config, config_origin, events, err);
  if (ret < 0)
    {
      json_decref (events);
      return ret;
    }
  *out = events;
  return 0;
}

static int
conflict_error (const struct ar_policy *policy, json_t *events, ar_error_t *err)
{
  json_t *first = json_array_get (events, 0);
  size_t n = json_array_size (events);
  cleanup_free char *more = NULL;

  if (n > 1)
    more = ar_xasprintf (" (and %zu more conflicts; `agentrun policy compile %s --bundle DIR` lists them)", n - 1,
                         policy->origin);
  return ar_make_error (err, 0, "%s: %s: %s; policy rule %s (%s): %s%s",
                        json_string_value (json_object_get (first, "config")),
                        json_string_value (json_object_get (first, "config_field")),
                        json_string_value (json_object_get (first, "message")),
                        json_string_value (json_object_get (first, "policy_rule")),
                        json_string_value (json_object_get (first, "policy_field")),
                        json_string_value (json_object_get (first, "fix")), more != NULL ? more : "");
}

int
ar_policy_apply_with_events (const struct ar_policy *policy, json_t *config, const char *config_origin,
                             ar_policy_event_fn on_event, void *user_data, ar_error_t *err)
{
  json_auto_t *events = NULL;
  json_auto_t *work = NULL;
  json_t *event;
  size_t i;
  int ret;

  ret = ar_policy_conflicts (policy, config, config_origin, &events, err);
  if (ret < 0)
    return ret;

  if (policy->mode.value == AR_POLICY_MODE_ENFORCE && json_array_size (events) > 0)
    return conflict_error (policy, events, err);

  json_array_foreach (events, i, event)
    {
      /* Audit mode: config.json keeps what it asked for. */
      json_object_set_new (event, "outcome", json_string ("allowed"));
      ar_audit_set_time (event);
      if (on_event != NULL)
        on_event (event, user_data);
    }

  work = json_deep_copy (config);
  if (work == NULL)
    return ar_make_error (err, ENOMEM, "cannot copy the config to apply the policy");
  edit_config (policy, work);
  json_object_clear (config);
  json_object_update (config, work);
  return 0;
}

/* Writes each event to the policy's audit destination. */
static void
write_event (json_t *event, void *user_data)
{
  const struct ar_policy *policy = user_data;

  ar_audit_write (policy->audit.events.value, event);
}

int
ar_policy_apply (const struct ar_policy *policy, json_t *config, const char *config_origin, ar_error_t *err)
{
  return ar_policy_apply_with_events (policy, config, config_origin, write_event, (void *) policy, err);
}
