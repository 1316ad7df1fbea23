/* The ceiling check: every value that config.json states and that goes
 * beyond the policy becomes one conflict event.  Absent values are not
 * conflicts; apply.c fills them from the policy. */
#define _GNU_SOURCE
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "apply_internal.h"
#include "oci/util.h"
#include "values.h"

struct collector
{
  const struct ar_policy *policy;
  const char *config_origin;
  json_t *events;
};

/* Adds one conflict: the config field and what it requests, the policy
 * rule and what it allows, a sentence for people and the fix. */
static void
add_conflict (struct collector *c, const char *config_field, const char *requested, struct ar_policy_rule rule,
              const char *allowed, const char *message, const char *fix)
{
  cleanup_free char *location = NULL;

  if (rule.pos.line == 0)
    location = ar_xasprintf ("%s (default)", c->policy->origin);
  else
    location = ar_xasprintf ("%s:%u:%u", c->policy->origin, rule.pos.line, rule.pos.column);

  json_array_append_new (c->events,
                         json_pack ("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "type",
                                    "policy-conflict", "policy", c->policy->name.value, "policy_rule", location,
                                    "policy_field", rule.field, "allowed", allowed, "config", c->config_origin,
                                    "config_field", config_field, "requested", requested, "message", message,
                                    "fix", fix, "mode", ar_policy_mode_names[c->policy->mode.value]));
}

static const char *
type_text (json_type type)
{
  if (type == JSON_OBJECT)
    return "an object";
  if (type == JSON_ARRAY)
    return "an array";
  return "a string";
}

static int
type_error (struct collector *c, const char *path, const char *expected, ar_error_t *err)
{
  return ar_make_error (err, EINVAL, "%s: %s: expected %s", c->config_origin, path, expected);
}

/* Fetches an optional member of a given type; returns 0 when absent or
 * null, 1 when present. */
static int
member (struct collector *c, json_t *object, const char *parent, const char *key, json_type type, json_t **out,
        ar_error_t *err)
{
  json_t *value = json_object_get (object, key);

  *out = NULL;
  if (value == NULL || json_is_null (value))
    return 0;
  if (json_typeof (value) != type)
    {
      cleanup_free char *path = ar_policy_json_path (parent, key);
      return type_error (c, path, type_text (type), err);
    }
  *out = value;
  return 1;
}

static bool
json_number (json_t *value, int64_t *out)
{
  if (json_is_integer (value))
    {
      *out = json_integer_value (value);
      return true;
    }
  /* An integer above INT64_MAX, as the config model keeps it. */
  if (json_is_string (value) && ar_str_has_prefix (json_string_value (value), "\001u64:"))
    {
      *out = INT64_MAX;
      return true;
    }
  return false;
}

/* The decimal text of an integer member, including one above INT64_MAX. */
static char *
number_text (json_t *value)
{
  if (json_is_string (value))
    return ar_xstrdup (json_string_value (value) + strlen ("\001u64:"));
  return ar_xasprintf ("%" JSON_INTEGER_FORMAT, json_integer_value (value));
}

static char *
format_u64 (uint64_t value)
{
  return ar_xasprintf ("%" PRIu64, value);
}

static void
check_user (struct collector *c, json_t *process)
{
  const struct ar_policy_user *user = &c->policy->process.user;
  struct ar_policy_rule rule = { "process.user", user->pos };
  json_t *user_object = json_object_get (process, "user");
  int64_t value;

  if (!user->set || !json_is_object (user_object))
    return;

  if (json_number (json_object_get (user_object, "uid"), &value) && value != (int64_t) user->uid)
    {
      cleanup_free char *requested = ar_xasprintf ("%" PRId64, value);
      cleanup_free char *allowed = ar_xasprintf ("%u", user->uid);
      cleanup_free char *message = ar_xasprintf ("runs the process as uid %s; the policy requires uid %s",
                                                 requested, allowed);

      add_conflict (c, "process.user.uid", requested, rule, allowed, message,
                    "set process.user.uid to the policy's uid");
    }
  if (user->has_gid && json_number (json_object_get (user_object, "gid"), &value) && value != (int64_t) user->gid)
    {
      cleanup_free char *requested = ar_xasprintf ("%" PRId64, value);
      cleanup_free char *allowed = ar_xasprintf ("%u", user->gid);
      cleanup_free char *message = ar_xasprintf ("runs the process as gid %s; the policy requires gid %s",
                                                 requested, allowed);

      add_conflict (c, "process.user.gid", requested, rule, allowed, message,
                    "set process.user.gid to the policy's gid");
    }
}

static char *
kept_capabilities_text (const struct ar_policy *policy)
{
  char *out = NULL;
  size_t len = 0;
  FILE *f;

  if (policy->process.capabilities.n == 0)
    return ar_xstrdup ("none");
  f = open_memstream (&out, &len);
  if (f == NULL)
    abort ();
  for (size_t i = 0; i < policy->process.capabilities.n; i++)
    fprintf (f, "%s%s", i == 0 ? "" : ", ", policy->process.capabilities.values[i]);
  fclose (f);
  return out;
}

bool
ar_policy_capability_kept (const struct ar_policy *policy, const char *name)
{
  int number = ar_policy_capability_number (name);

  return number >= 0 && number < 64 && (policy->process.capability_mask & (UINT64_C (1) << number)) != 0;
}

static int
check_capabilities (struct collector *c, json_t *process, ar_error_t *err)
{
  static const char *const sets[] = { "bounding", "effective", "inheritable", "permitted", "ambient", NULL };
  struct ar_policy_rule rule = { "process.capabilities", c->policy->process.capabilities.pos };
  cleanup_free char *kept = kept_capabilities_text (c->policy);
  json_t *capabilities = NULL;
  int ret;

  ret = member (c, process, "process", "capabilities", JSON_OBJECT, &capabilities, err);
  if (ret <= 0)
    return ret;

  for (size_t s = 0; sets[s] != NULL; s++)
    {
      cleanup_free char *set_path = ar_policy_json_path ("process.capabilities", sets[s]);
      json_t *list = NULL;
      json_t *item;
      size_t i;

      ret = member (c, capabilities, "process.capabilities", sets[s], JSON_ARRAY, &list, err);
      if (ret < 0)
        return ret;
      json_array_foreach (list, i, item)
        {
          const char *name = json_string_value (item);
          cleanup_free char *path = ar_policy_json_index (set_path, i);
          cleanup_free char *message = NULL;

          if (name == NULL)
            return type_error (c, path, "a capability name", err);
          if (ar_policy_capability_kept (c->policy, name))
            continue;
          message = ar_xasprintf ("grants %s, which the policy does not keep (it keeps %s)", name, kept);
          add_conflict (c, path, name, rule, kept, message,
                        "remove the capability from config.json (podman: --cap-drop), or add it to "
                        "process.capabilities in the policy");
        }
    }
  return 0;
}

static int
check_rlimits (struct collector *c, json_t *process, ar_error_t *err)
{
  const struct ar_policy_number *open_files = &c->policy->resources.open_files;
  struct ar_policy_rule rule = { "resources.open_files", open_files->pos };
  json_t *rlimits = NULL;
  json_t *item;
  size_t i;
  int ret;

  ret = member (c, process, "process", "rlimits", JSON_ARRAY, &rlimits, err);
  if (ret <= 0 || !open_files->set)
    return ret;

  json_array_foreach (rlimits, i, item)
    {
      static const char *const keys[] = { "hard", "soft", NULL };
      cleanup_free char *item_path = ar_policy_json_index ("process.rlimits", i);

      if (!json_is_object (item) || json_string_value (json_object_get (item, "type")) == NULL
          || strcmp (json_string_value (json_object_get (item, "type")), "RLIMIT_NOFILE") != 0)
        continue;
      for (size_t k = 0; keys[k] != NULL; k++)
        {
          int64_t value;

          if (json_number (json_object_get (item, keys[k]), &value) && (uint64_t) value > open_files->value)
            {
              cleanup_free char *path = ar_policy_json_path (item_path, keys[k]);
              cleanup_free char *requested = number_text (json_object_get (item, keys[k]));
              cleanup_free char *allowed = format_u64 (open_files->value);
              cleanup_free char *message = ar_xasprintf (
                  "sets the open file limit to %s, above the policy's %s", requested, allowed);

              add_conflict (c, path, requested, rule, allowed, message,
                            "lower RLIMIT_NOFILE in config.json (podman: --ulimit nofile=N:N), or raise "
                            "resources.open_files");
              break;
            }
        }
    }
  return 0;
}

static int
check_process (struct collector *c, json_t *config, ar_error_t *err)
{
  const struct ar_policy_flag *no_new_privileges = &c->policy->process.no_new_privileges;
  json_t *process = NULL;
  json_t *value;
  int ret;

  ret = member (c, config, "", "process", JSON_OBJECT, &process, err);
  if (ret <= 0)
    return ret;

  check_user (c, process);

  value = json_object_get (process, "noNewPrivileges");
  if (no_new_privileges->value && json_is_false (value))
    add_conflict (c, "process.noNewPrivileges", "false",
                  (struct ar_policy_rule){ "process.no_new_privileges", no_new_privileges->pos }, "true",
                  "lets setuid programs and file capabilities raise privileges; the policy requires "
                  "noNewPrivileges",
                  "set process.noNewPrivileges to true (podman: --security-opt no-new-privileges)");

  ret = check_capabilities (c, process, err);
  if (ret < 0)
    return ret;
  return check_rlimits (c, process, err);
}

static void
check_root (struct collector *c, json_t *config)
{
  const struct ar_policy_flag *readonly_rootfs = &c->policy->filesystem.readonly_rootfs;
  json_t *root = json_object_get (config, "root");

  if (readonly_rootfs->value && json_is_object (root) && json_is_false (json_object_get (root, "readonly")))
    add_conflict (c, "root.readonly", "false",
                  (struct ar_policy_rule){ "filesystem.readonly_rootfs", readonly_rootfs->pos }, "true",
                  "makes the root filesystem writable; the policy makes it read-only",
                  "set root.readonly to true (podman: --read-only), or set filesystem.readonly_rootfs: false");
}

/* The index of the list entry that path lies within, or -1. */
static ssize_t
find_within (const struct ar_policy_list *list, const char *path)
{
  for (size_t i = 0; i < list->n; i++)
    if (ar_policy_path_within (path, list->values[i]))
      return (ssize_t) i;
  return -1;
}

static const struct ar_policy_tmpfs *
find_tmpfs (const struct ar_policy *policy, const char *path, bool within)
{
  const struct ar_policy_tmpfs *tmpfs = policy->filesystem.tmpfs.items;

  for (size_t i = 0; i < policy->filesystem.tmpfs.n; i++)
    if (within ? ar_policy_path_within (path, tmpfs[i].path.value) : strcmp (path, tmpfs[i].path.value) == 0)
      return &tmpfs[i];
  return NULL;
}

static bool
is_kernel_filesystem_type (const char *type)
{
  return type != NULL && (strcmp (type, "sysfs") == 0 || strcmp (type, "cgroup") == 0 || strcmp (type, "cgroup2") == 0);
}

static const char *
mount_option (json_t *mount, const char *prefix)
{
  json_t *option;
  size_t i;

  json_array_foreach (json_object_get (mount, "options"), i, option)
    if (json_is_string (option) && ar_str_has_prefix (json_string_value (option), prefix))
      return json_string_value (option) + strlen (prefix);
  return NULL;
}

static void
check_tmpfs_mount (struct collector *c, json_t *mount, const char *path, const char *destination,
                   const struct ar_policy_tmpfs *tmpfs)
{
  const char *type = json_string_value (json_object_get (mount, "type"));
  const char *size = mount_option (mount, "size=");
  struct ar_policy_rule rule = { "filesystem.tmpfs", tmpfs->pos };
  cleanup_free char *allowed = ar_policy_format_size (tmpfs->size.value);
  uint64_t bytes = 0;

  if (type == NULL || strcmp (type, "tmpfs") != 0)
    {
      cleanup_free char *field = ar_policy_json_path (path, "type");
      cleanup_free char *message = ar_xasprintf ("mounts %s at %s, where the policy puts a tmpfs of %s",
                                                 type != NULL ? type : "a bind mount", destination, allowed);

      add_conflict (c, field, type != NULL ? type : "bind", rule, "tmpfs", message,
                    "remove the mount from config.json, or remove the tmpfs entry from the policy");
      return;
    }
  if (size == NULL)
    return;
  if (ar_policy_tmpfs_option_size (size, &bytes) < 0 || bytes > tmpfs->size.value)
    {
      cleanup_free char *field = ar_policy_json_path (path, "options");
      cleanup_free char *message = ar_xasprintf ("sizes the tmpfs at %s as %s, above the policy's %s",
                                                 destination, size, allowed);

      add_conflict (c, field, size, rule, allowed, message, "lower the size= option, or raise the tmpfs size in the policy");
    }
}

static void
check_mount (struct collector *c, json_t *mount, size_t index)
{
  const struct ar_policy_filesystem *fs = &c->policy->filesystem;
  const char *type = json_string_value (json_object_get (mount, "type"));
  const char *raw_destination = json_string_value (json_object_get (mount, "destination"));
  cleanup_free char *path = ar_policy_json_index ("mounts", index);
  cleanup_free char *destination_field = ar_policy_json_path (path, "destination");
  cleanup_free char *destination = NULL;
  const struct ar_policy_tmpfs *tmpfs;
  const char *problem = NULL;
  ssize_t at;

  if (raw_destination == NULL || (destination = ar_policy_normalize_path (raw_destination, &problem)) == NULL)
    return;

  at = find_within (&fs->denied_paths, destination);
  if (at >= 0)
    {
      cleanup_free char *message = ar_xasprintf ("mounts something at %s, which the policy hides (%s)",
                                                 destination, fs->denied_paths.values[at]);

      add_conflict (c, destination_field, destination,
                    (struct ar_policy_rule){ "filesystem.denied_paths", fs->denied_paths.positions[at] },
                    fs->denied_paths.values[at], message,
                    "remove the mount from config.json, or remove the path from filesystem.denied_paths");
      return;
    }

  tmpfs = find_tmpfs (c->policy, destination, false);
  if (tmpfs != NULL)
    {
      check_tmpfs_mount (c, mount, path, destination, tmpfs);
      return;
    }

  if (!ar_policy_mount_writable (mount))
    return;
  /* proc, devpts and mqueue are per-namespace, and /dev contains device
   * nodes that the device cgroup controls.  The sensitive files of /proc
   * are masked or read-only through linux.maskedPaths and
   * linux.readonlyPaths. */
  if (type != NULL && (strcmp (type, "proc") == 0 || strcmp (type, "devpts") == 0 || strcmp (type, "mqueue") == 0))
    return;
  if (ar_policy_path_within (destination, "/dev"))
    return;

  if (is_kernel_filesystem_type (type) || ar_policy_path_within (destination, "/sys"))
    {
      if (find_within (&fs->readwrite_paths, destination) < 0)
        {
          cleanup_free char *message
              = ar_xasprintf ("mounts %s writable at %s; the policy allows no writes to /sys", type != NULL ? type : "a filesystem",
                              destination);

          add_conflict (c, destination_field, destination,
                        (struct ar_policy_rule){ "filesystem.readwrite_paths", fs->readwrite_paths.pos }, "read-only",
                        message, "add the ro option to the mount in config.json");
        }
      return;
    }

  if (fs->readonly_rootfs.value)
    {
      if (find_within (&fs->readwrite_paths, destination) >= 0 || find_tmpfs (c->policy, destination, true) != NULL)
        return;
      {
        cleanup_free char *message = ar_xasprintf (
            "mounts %s writable, outside the policy's writable paths", destination);

        add_conflict (c, destination_field, destination,
                      (struct ar_policy_rule){ "filesystem.readwrite_paths", fs->readwrite_paths.pos },
                      "the paths in filesystem.readwrite_paths", message,
                      "add the ro option to the mount (podman: -v SRC:DST:ro), or add the path to "
                      "filesystem.readwrite_paths");
      }
      return;
    }

  at = find_within (&fs->readonly_paths, destination);
  if (at >= 0)
    {
      cleanup_free char *message = ar_xasprintf ("mounts %s writable, within the read-only path %s",
                                                 destination, fs->readonly_paths.values[at]);

      add_conflict (c, destination_field, destination,
                    (struct ar_policy_rule){ "filesystem.readonly_paths", fs->readonly_paths.positions[at] },
                    "read-only", message,
                    "add the ro option to the mount, or remove the path from filesystem.readonly_paths");
    }
}

static int
check_mounts (struct collector *c, json_t *config, ar_error_t *err)
{
  json_t *mounts = NULL;
  json_t *mount;
  size_t i;
  int ret;

  ret = member (c, config, "", "mounts", JSON_ARRAY, &mounts, err);
  if (ret <= 0)
    return ret;
  json_array_foreach (mounts, i, mount)
    {
      if (!json_is_object (mount))
        {
          cleanup_free char *path = ar_policy_json_index ("mounts", i);
          return type_error (c, path, "an object", err);
        }
      check_mount (c, mount, i);
    }
  return 0;
}

static int
check_namespaces (struct collector *c, json_t *linux_object, ar_error_t *err)
{
  const struct ar_policy_network *network = &c->policy->network;
  const struct ar_policy_flag *host_pid = &c->policy->process.host_pid;
  const char *mode = ar_policy_network_mode_names[network->mode.value];
  json_t *namespaces = NULL;
  json_t *network_entry = NULL;
  json_t *pid_entry = NULL;
  size_t network_index = 0;
  json_t *item;
  size_t i;
  int ret;

  ret = member (c, linux_object, "linux", "namespaces", JSON_ARRAY, &namespaces, err);
  if (ret <= 0)
    return ret;
  json_array_foreach (namespaces, i, item)
    {
      const char *type = json_string_value (json_object_get (item, "type"));

      if (type != NULL && strcmp (type, "network") == 0)
        network_entry = item, network_index = i;
      else if (type != NULL && strcmp (type, "pid") == 0)
        pid_entry = item;
    }

  if (network_entry == NULL && network->mode.value != AR_POLICY_NETWORK_HOST)
    {
      cleanup_free char *message = ar_xasprintf ("shares the host's network namespace; the policy's "
                                                 "network mode is %s",
                                                 mode);

      add_conflict (c, "linux.namespaces", "host network", (struct ar_policy_rule){ "network.mode", network->mode.pos },
                    mode, message, "add {\"type\": \"network\"} to linux.namespaces (podman: not --network host)");
    }
  else if (network_entry != NULL && network->mode.value == AR_POLICY_NETWORK_NONE
           && json_string_value (json_object_get (network_entry, "path")) != NULL)
    {
      cleanup_free char *item_path = ar_policy_json_index ("linux.namespaces", network_index);
      cleanup_free char *field = ar_policy_json_path (item_path, "path");
      const char *joined = json_string_value (json_object_get (network_entry, "path"));
      cleanup_free char *message = ar_xasprintf (
          "joins the network namespace %s, which may have interfaces; the policy allows no network",
          joined);

      add_conflict (c, field, joined, (struct ar_policy_rule){ "network.mode", network->mode.pos }, "none", message,
                    "remove the path so that the container gets an empty namespace (podman: --network none)");
    }

  if (pid_entry == NULL && !host_pid->value)
    add_conflict (c, "linux.namespaces", "host pid", (struct ar_policy_rule){ "process.host_pid", host_pid->pos },
                  "own pid namespace",
                  "shares the host's PID namespace; the policy gives the agent its own",
                  "add {\"type\": \"pid\"} to linux.namespaces (podman: not --pid host)");
  return 0;
}

/* Checks one limit of linux.resources.  A value of 0 or less means
 * "unlimited" for pids and cpu quota, and -1 for memory and swap. */
static void
check_limit (struct collector *c, json_t *object, const char *parent, const char *key, uint64_t ceiling,
             bool zero_is_unlimited, struct ar_policy_rule rule, const char *what, const char *fix, bool bytes)
{
  cleanup_free char *field = ar_policy_json_path (parent, key);
  cleanup_free char *allowed = bytes ? ar_policy_format_size (ceiling) : format_u64 (ceiling);
  cleanup_free char *requested = NULL;
  cleanup_free char *message = NULL;
  int64_t value;

  if (!json_number (json_object_get (object, key), &value))
    return;
  if (value == 0 && !zero_is_unlimited)
    return;
  if (value > 0 && (uint64_t) value <= ceiling)
    return;

  if (value <= 0)
    requested = ar_xstrdup ("unlimited");
  else if (json_is_string (json_object_get (object, key)))
    requested = number_text (json_object_get (object, key));
  else
    requested = bytes ? ar_policy_format_size ((uint64_t) value) : ar_xasprintf ("%" PRId64, value);
  message = ar_xasprintf ("sets %s to %s, above the policy's %s", what, requested, allowed);
  add_conflict (c, field, requested, rule, allowed, message, fix);
}

static int
check_resources (struct collector *c, json_t *linux_object, ar_error_t *err)
{
  const struct ar_policy_resources *limits = &c->policy->resources;
  json_t *resources = NULL;
  json_t *part = NULL;
  int ret;

  ret = member (c, linux_object, "linux", "resources", JSON_OBJECT, &resources, err);
  if (ret <= 0)
    return ret;

  ret = member (c, resources, "linux.resources", "memory", JSON_OBJECT, &part, err);
  if (ret < 0)
    return ret;
  if (part != NULL && limits->memory.set)
    {
      check_limit (c, part, "linux.resources.memory", "limit", limits->memory.value, false,
                   (struct ar_policy_rule){ "resources.memory", limits->memory.pos }, "the memory limit",
                   "lower the limit (podman: --memory), or raise resources.memory", true);
      check_limit (c, part, "linux.resources.memory", "swap", ar_policy_swap_ceiling (c->policy), false,
                   (struct ar_policy_rule){ limits->swap.set ? "resources.swap" : "resources.memory",
                                            limits->swap.set ? limits->swap.pos : limits->memory.pos },
                   "the memory and swap limit",
                   "lower it (podman: --memory-swap), or raise resources.swap", true);
    }

  ret = member (c, resources, "linux.resources", "cpu", JSON_OBJECT, &part, err);
  if (ret < 0)
    return ret;
  if (part != NULL && limits->cpu.set)
    {
      int64_t quota = 0, period = AR_POLICY_CPU_PERIOD;

      json_number (json_object_get (part, "period"), &period);
      if (period <= 0)
        period = AR_POLICY_CPU_PERIOD;
      if (json_number (json_object_get (part, "quota"), &quota) && quota != 0
          && (quota < 0 || (uint64_t) quota * 1000 > limits->cpu.value * (uint64_t) period))
        {
          cleanup_free char *requested = quota < 0 ? ar_xstrdup ("unlimited")
                                                   : ar_policy_format_cpu ((uint64_t) quota * 1000 / (uint64_t) period);
          cleanup_free char *allowed = ar_policy_format_cpu (limits->cpu.value);
          cleanup_free char *message = ar_xasprintf ("allows %s CPUs, above the policy's %s", requested,
                                                     allowed);

          add_conflict (c, "linux.resources.cpu.quota", requested,
                        (struct ar_policy_rule){ "resources.cpu", limits->cpu.pos }, allowed, message,
                        "lower the quota (podman: --cpus), or raise resources.cpu");
        }
    }

  ret = member (c, resources, "linux.resources", "pids", JSON_OBJECT, &part, err);
  if (ret < 0)
    return ret;
  if (part != NULL && limits->pids.set)
    check_limit (c, part, "linux.resources.pids", "limit", limits->pids.value, true,
                 (struct ar_policy_rule){ "resources.pids", limits->pids.pos }, "the process limit",
                 "lower it (podman: --pids-limit), or raise resources.pids", false);

  ret = member (c, resources, "linux.resources", "blockIO", JSON_OBJECT, &part, err);
  if (ret < 0)
    return ret;
  if (part != NULL && limits->io_weight.set)
    check_limit (c, part, "linux.resources.blockIO", "weight", limits->io_weight.value, false,
                 (struct ar_policy_rule){ "resources.io_weight", limits->io_weight.pos }, "the I/O weight",
                 "lower it (podman: --blkio-weight), or raise resources.io_weight", false);
  return 0;
}

/* Annotations that config.json sets under the names the policy writes
 * would let a caller grant itself network or identity settings. */
static int
check_annotations (struct collector *c, json_t *config, ar_error_t *err)
{
  json_t *annotations = NULL;
  int ret;

  ret = member (c, config, "", "annotations", JSON_OBJECT, &annotations, err);
  if (ret <= 0)
    return ret;

  for (size_t i = 0; ar_policy_annotation_keys[i] != NULL; i++)
    {
      const char *key = ar_policy_annotation_keys[i];
      const char *value = json_string_value (json_object_get (annotations, key));
      cleanup_free char *expected = NULL;
      cleanup_free char *field = NULL;
      cleanup_free char *message = NULL;

      if (value == NULL)
        continue;
      expected = ar_policy_annotation_value (c->policy, key);
      if (expected != NULL && strcmp (expected, value) == 0)
        continue;
      field = ar_policy_json_path ("annotations", key);
      message = ar_xasprintf ("sets the annotation %s, which only the policy may set", key);
      add_conflict (c, field, value, (struct ar_policy_rule){ "name", c->policy->name.pos },
                    expected != NULL ? expected : "unset", message, "remove the annotation from config.json");
    }
  return 0;
}

int
ar_policy_collect_conflicts (const struct ar_policy *policy, json_t *config, const char *config_origin,
                             json_t *events, ar_error_t *err)
{
  struct collector c = { policy, config_origin != NULL ? config_origin : "config.json", events };
  json_t *linux_object = NULL;
  int ret;

  if (!json_is_object (config))
    return ar_make_error (err, EINVAL, "%s: expected a JSON object at the top level", c.config_origin);

  ret = check_process (&c, config, err);
  if (ret < 0)
    return ret;
  check_root (&c, config);
  ret = check_mounts (&c, config, err);
  if (ret < 0)
    return ret;

  ret = member (&c, config, "", "linux", JSON_OBJECT, &linux_object, err);
  if (ret < 0)
    return ret;
  if (linux_object != NULL)
    {
      ret = check_namespaces (&c, linux_object, err);
      if (ret < 0)
        return ret;
      ret = check_resources (&c, linux_object, err);
      if (ret < 0)
        return ret;
    }
  return check_annotations (&c, config, err);
}
