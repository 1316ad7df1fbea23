/* The process object of config.json, also read alone from the file that
 * `exec --process` names. */
#define _GNU_SOURCE
#include "config_internal.h"

#include <errno.h>
#include <limits.h>
#include <linux/ioprio.h>
#include <linux/sched.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/capability.h>
#include <sys/resource.h>

#include "log.h"
#include "util.h"

/* Every Linux rlimit, in the kernel's numbering order. */
static const struct ar_name_value rlimit_names[] = {
  { "RLIMIT_CPU", RLIMIT_CPU },           { "RLIMIT_FSIZE", RLIMIT_FSIZE },
  { "RLIMIT_DATA", RLIMIT_DATA },         { "RLIMIT_STACK", RLIMIT_STACK },
  { "RLIMIT_CORE", RLIMIT_CORE },         { "RLIMIT_RSS", RLIMIT_RSS },
  { "RLIMIT_NPROC", RLIMIT_NPROC },       { "RLIMIT_NOFILE", RLIMIT_NOFILE },
  { "RLIMIT_MEMLOCK", RLIMIT_MEMLOCK },   { "RLIMIT_AS", RLIMIT_AS },
  { "RLIMIT_LOCKS", RLIMIT_LOCKS },       { "RLIMIT_SIGPENDING", RLIMIT_SIGPENDING },
  { "RLIMIT_MSGQUEUE", RLIMIT_MSGQUEUE }, { "RLIMIT_NICE", RLIMIT_NICE },
  { "RLIMIT_RTPRIO", RLIMIT_RTPRIO },     { "RLIMIT_RTTIME", RLIMIT_RTTIME },
};

static const struct ar_name_value ioprio_class_names[] = {
  { "IOPRIO_CLASS_RT", IOPRIO_CLASS_RT },
  { "IOPRIO_CLASS_BE", IOPRIO_CLASS_BE },
  { "IOPRIO_CLASS_IDLE", IOPRIO_CLASS_IDLE },
};

static const struct ar_name_value sched_policy_names[] = {
  { "SCHED_OTHER", SCHED_OTHER },       { "SCHED_FIFO", SCHED_FIFO }, { "SCHED_RR", SCHED_RR },
  { "SCHED_BATCH", SCHED_BATCH },       { "SCHED_ISO", SCHED_ISO },   { "SCHED_IDLE", SCHED_IDLE },
  { "SCHED_DEADLINE", SCHED_DEADLINE },
};

static const struct ar_name_value sched_flag_names[] = {
  { "SCHED_FLAG_RESET_ON_FORK", SCHED_FLAG_RESET_ON_FORK },
  { "SCHED_FLAG_RECLAIM", SCHED_FLAG_RECLAIM },
  { "SCHED_FLAG_DL_OVERRUN", SCHED_FLAG_DL_OVERRUN },
  { "SCHED_FLAG_KEEP_POLICY", SCHED_FLAG_KEEP_POLICY },
  { "SCHED_FLAG_KEEP_PARAMS", SCHED_FLAG_KEEP_PARAMS },
  { "SCHED_FLAG_UTIL_CLAMP_MIN", SCHED_FLAG_UTIL_CLAMP_MIN },
  { "SCHED_FLAG_UTIL_CLAMP_MAX", SCHED_FLAG_UTIL_CLAMP_MAX },
};

void
ar_process_free (struct ar_process *process)
{
  if (process == NULL)
    return;

  free (process->user.additional_gids);
  free (process->user.username);
  ar_strv_free (process->args);
  ar_strv_free (process->env);
  free (process->cwd);
  free (process->capabilities);
  for (size_t i = 0; i < process->n_rlimits; i++)
    free (process->rlimits[i].type);
  free (process->rlimits);
  free (process->apparmor_profile);
  free (process->selinux_label);
  free (process->io_priority);
  free (process->scheduler);
  free (process->exec_cpu_affinity_initial);
  free (process->exec_cpu_affinity_final);
  free (process);
}

static void
process_release (struct ar_process **process)
{
  ar_process_free (*process);
}

static int
parse_console_size (const struct ar_json_at *at, json_t *obj, struct ar_process *process, ar_error_t *err)
{
  cleanup_free char *path = ar_json_path_member (at->path, "consoleSize");
  struct ar_json_at size_at = { at->origin, path };
  json_t *size = NULL;
  int64_t height = 0, width = 0;
  int ret;

  ret = ar_json_member (at, obj, "consoleSize", JSON_OBJECT, false, &size, err);
  if (ret <= 0)
    return ret;

  /* struct winsize stores rows and columns as unsigned short. */
  ret = ar_json_int64 (&size_at, size, "height", true, 0, USHRT_MAX, &height, err);
  if (ret < 0)
    return ret;
  ret = ar_json_int64 (&size_at, size, "width", true, 0, USHRT_MAX, &width, err);
  if (ret < 0)
    return ret;

  /* The spec has runtimes ignore consoleSize without a terminal. */
  process->has_console_size = process->terminal;
  process->console_height = (unsigned int) height;
  process->console_width = (unsigned int) width;
  return 0;
}

static int
parse_user (const struct ar_json_at *at, json_t *obj, struct ar_user *user, ar_error_t *err)
{
  cleanup_free char *path = ar_json_path_member (at->path, "user");
  struct ar_json_at user_at = { at->origin, path };
  json_t *user_obj = NULL;
  json_t *gids = NULL;
  int64_t value = 0;
  int ret;

  ret = ar_json_member (at, obj, "user", JSON_OBJECT, false, &user_obj, err);
  if (ret <= 0)
    return ret;

  /* (uid_t) -1 means "unchanged" to setresuid, so it is not a valid id. */
  ret = ar_json_int64 (&user_at, user_obj, "uid", true, 0, UINT32_MAX - 1, &value, err);
  if (ret < 0)
    return ret;
  user->uid = (uid_t) value;

  ret = ar_json_int64 (&user_at, user_obj, "gid", true, 0, UINT32_MAX - 1, &value, err);
  if (ret < 0)
    return ret;
  user->gid = (gid_t) value;

  ret = ar_json_int64 (&user_at, user_obj, "umask", false, 0, 0777, &value, err);
  if (ret < 0)
    return ret;
  if (ret > 0)
    {
      user->has_umask = true;
      user->umask = (mode_t) value;
    }

  ret = ar_json_member (&user_at, user_obj, "additionalGids", JSON_ARRAY, false, &gids, err);
  if (ret < 0)
    return ret;
  if (ret > 0)
    {
      cleanup_free char *gids_path = ar_json_path_member (path, "additionalGids");
      json_t *item;
      size_t i;

      user->additional_gids = ar_xmalloc0 (json_array_size (gids) * sizeof (gid_t));
      json_array_foreach (gids, i, item)
        {
          cleanup_free char *item_path = ar_json_path_index (gids_path, i);
          struct ar_json_at item_at = { at->origin, item_path };

          ret = ar_json_int64_value (&item_at, item, 0, UINT32_MAX - 1, &value, err);
          if (ret < 0)
            return ret;
          user->additional_gids[i] = (gid_t) value;
          user->n_additional_gids = i + 1;
        }
    }

  ret = ar_json_string (&user_at, user_obj, "username", false, &user->username, err);
  return ret < 0 ? ret : 0;
}

static int
parse_args_env_cwd (const struct ar_json_at *at, json_t *obj, struct ar_process *process, ar_error_t *err)
{
  int ret;

  ret = ar_json_strv (at, obj, "args", true, &process->args, err);
  if (ret < 0)
    return ret;
  if (process->args[0] == NULL)
    return ar_json_error (err, at, "args", "must contain at least the program to run");
  if (process->args[0][0] == '\0')
    return ar_json_error (err, at, "args", "the program name (first entry) is empty");

  ret = ar_json_strv (at, obj, "env", false, &process->env, err);
  if (ret < 0)
    return ret;
  if (ret == 0)
    process->env = ar_xmalloc0 (sizeof (char *));
  for (size_t i = 0; process->env[i] != NULL; i++)
    {
      const char *eq = strchr (process->env[i], '=');

      if (eq == NULL || eq == process->env[i])
        {
          cleanup_free char *env_path = ar_json_path_member (at->path, "env");
          cleanup_free char *item_path = ar_json_path_index (env_path, i);
          struct ar_json_at item_at = { at->origin, item_path };

          return ar_json_error (err, &item_at, NULL, "`%s` is not of the form NAME=VALUE", process->env[i]);
        }
    }

  ret = ar_json_string (at, obj, "cwd", true, &process->cwd, err);
  if (ret < 0)
    return ret;
  return ar_json_check_absolute (at, "cwd", process->cwd, err);
}

/* The highest capability number of the running kernel. */
static int
kernel_last_cap (void)
{
  cleanup_error ar_error_t read_err = NULL;
  cleanup_free char *text = NULL;
  long value;

  if (ar_read_file ("/proc/sys/kernel/cap_last_cap", &text, NULL, &read_err) == 0)
    {
      text[strcspn (text, "\n")] = '\0';
      if (ar_parse_long (text, &value) == 0 && value >= 0 && value < 64)
        return (int) value;
    }

  /* Without /proc, libcap probes the bounding set with prctl. */
  return (int) cap_max_bits () - 1;
}

static bool
is_capability_spelling (const char *name)
{
  if (!ar_str_has_prefix (name, "CAP_"))
    return false;
  for (const char *p = name; *p; p++)
    if (!((*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') || *p == '_'))
      return false;
  return true;
}

static int
parse_capability_set (const struct ar_json_at *at, json_t *caps, const char *key, int last_cap, uint64_t *mask,
                      ar_error_t *err)
{
  cleanup_free char *path = ar_json_path_member (at->path, key);
  json_t *array = NULL;
  json_t *item;
  size_t i;
  int ret;

  ret = ar_json_member (at, caps, key, JSON_ARRAY, false, &array, err);
  if (ret <= 0)
    return ret;

  json_array_foreach (array, i, item)
    {
      cleanup_free char *item_path = ar_json_path_index (path, i);
      struct ar_json_at item_at = { at->origin, item_path };
      const char *name = NULL;
      cap_value_t cap;

      ret = ar_json_string_value (&item_at, item, &name, err);
      if (ret < 0)
        return ret;

      /* libcap also accepts numbers and lower case, but the spec uses only
       * the capabilities(7) spelling. */
      if (!is_capability_spelling (name) || cap_from_name (name, &cap) != 0)
        return ar_json_error (err, &item_at, NULL,
                              "unknown capability `%s`; use a name from capabilities(7) such as CAP_CHOWN", name);

      if (cap > last_cap || cap >= 64)
        {
          ar_debug ("%s: %s: capability `%s` is beyond the running kernel's last capability %d, skipping it",
                    at->origin ? at->origin : "", item_path, name, last_cap);
          continue;
        }
      *mask |= UINT64_C (1) << cap;
    }
  return 0;
}

static int
parse_capabilities (const struct ar_json_at *at, json_t *obj, struct ar_process *process, ar_error_t *err)
{
  cleanup_free char *path = ar_json_path_member (at->path, "capabilities");
  struct ar_json_at caps_at = { at->origin, path };
  struct ar_capabilities *caps;
  json_t *caps_obj = NULL;
  int last_cap;
  int ret;

  ret = ar_json_member (at, obj, "capabilities", JSON_OBJECT, false, &caps_obj, err);
  if (ret <= 0)
    return ret;

  last_cap = kernel_last_cap ();
  caps = process->capabilities = ar_xmalloc0 (sizeof (*caps));

  ret = parse_capability_set (&caps_at, caps_obj, "bounding", last_cap, &caps->bounding, err);
  if (ret < 0)
    return ret;
  ret = parse_capability_set (&caps_at, caps_obj, "effective", last_cap, &caps->effective, err);
  if (ret < 0)
    return ret;
  ret = parse_capability_set (&caps_at, caps_obj, "inheritable", last_cap, &caps->inheritable, err);
  if (ret < 0)
    return ret;
  ret = parse_capability_set (&caps_at, caps_obj, "permitted", last_cap, &caps->permitted, err);
  if (ret < 0)
    return ret;
  return parse_capability_set (&caps_at, caps_obj, "ambient", last_cap, &caps->ambient, err);
}

static int
parse_rlimits (const struct ar_json_at *at, json_t *obj, struct ar_process *process, ar_error_t *err)
{
  cleanup_free char *path = ar_json_path_member (at->path, "rlimits");
  size_t seen[RLIMIT_NLIMITS];
  json_t *array = NULL;
  json_t *item;
  size_t i;
  int ret;

  ret = ar_json_member (at, obj, "rlimits", JSON_ARRAY, false, &array, err);
  if (ret <= 0)
    return ret;

  /* seen[r] is 1 + the index of the entry that set resource r. */
  memset (seen, 0, sizeof (seen));
  process->rlimits = ar_xmalloc0 (json_array_size (array) * sizeof (struct ar_rlimit));
  json_array_foreach (array, i, item)
    {
      cleanup_free char *item_path = ar_json_path_index (path, i);
      struct ar_json_at item_at = { at->origin, item_path };
      struct ar_rlimit *rlimit = &process->rlimits[i];

      process->n_rlimits = i + 1;
      if (!json_is_object (item))
        return ar_json_error (err, &item_at, NULL, "expected an object, got %s", ar_json_kind (item));

      ret = ar_json_string (&item_at, item, "type", true, &rlimit->type, err);
      if (ret < 0)
        return ret;
      ret = ar_json_lookup_name (&item_at, "type", rlimit_names, AR_N_ELEMENTS (rlimit_names), "rlimit", rlimit->type,
                                 &rlimit->resource, err);
      if (ret < 0)
        return ret;
      if (seen[rlimit->resource] != 0)
        {
          cleanup_free char *first = ar_json_path_index (path, seen[rlimit->resource] - 1);
          return ar_json_error (err, &item_at, "type", "duplicate rlimit `%s`, already set by %s", rlimit->type, first);
        }
      seen[rlimit->resource] = i + 1;

      ret = ar_json_uint64 (&item_at, item, "soft", true, &rlimit->soft, err);
      if (ret < 0)
        return ret;
      ret = ar_json_uint64 (&item_at, item, "hard", true, &rlimit->hard, err);
      if (ret < 0)
        return ret;
      if (rlimit->soft > rlimit->hard)
        return ar_json_error (err, &item_at, "soft", "%llu is above the hard limit %llu, lower soft or raise hard",
                              (unsigned long long) rlimit->soft, (unsigned long long) rlimit->hard);
    }
  return 0;
}

static int
parse_io_priority (const struct ar_json_at *at, json_t *obj, struct ar_process *process, ar_error_t *err)
{
  cleanup_free char *path = ar_json_path_member (at->path, "ioPriority");
  cleanup_free char *class_name = NULL;
  struct ar_json_at prio_at = { at->origin, path };
  json_t *prio_obj = NULL;
  int64_t priority = 0;
  int ret;

  ret = ar_json_member (at, obj, "ioPriority", JSON_OBJECT, false, &prio_obj, err);
  if (ret <= 0)
    return ret;

  process->io_priority = ar_xmalloc0 (sizeof (struct ar_io_priority));
  ret = ar_json_string (&prio_at, prio_obj, "class", true, &class_name, err);
  if (ret < 0)
    return ret;
  ret = ar_json_lookup_name (&prio_at, "class", ioprio_class_names, AR_N_ELEMENTS (ioprio_class_names),
                             "I/O priority class", class_name, &process->io_priority->ioprio_class, err);
  if (ret < 0)
    return ret;

  /* The spec's JSON schema requires only the class, so priority defaults
   * to 0, the highest level. */
  ret = ar_json_int64 (&prio_at, prio_obj, "priority", false, 0, IOPRIO_NR_LEVELS - 1, &priority, err);
  if (ret < 0)
    return ret;
  process->io_priority->priority = (int) priority;
  return 0;
}

static int
parse_scheduler (const struct ar_json_at *at, json_t *obj, struct ar_process *process, ar_error_t *err)
{
  cleanup_free char *path = ar_json_path_member (at->path, "scheduler");
  cleanup_free char *policy = NULL;
  cleanup_strv char **flags = NULL;
  struct ar_json_at sched_at = { at->origin, path };
  struct ar_scheduler *sched;
  json_t *sched_obj = NULL;
  int64_t value = 0;
  int ret;

  ret = ar_json_member (at, obj, "scheduler", JSON_OBJECT, false, &sched_obj, err);
  if (ret <= 0)
    return ret;

  sched = process->scheduler = ar_xmalloc0 (sizeof (*sched));
  ret = ar_json_string (&sched_at, sched_obj, "policy", true, &policy, err);
  if (ret < 0)
    return ret;
  ret = ar_json_lookup_name (&sched_at, "policy", sched_policy_names, AR_N_ELEMENTS (sched_policy_names),
                             "scheduling policy", policy, &sched->policy, err);
  if (ret < 0)
    return ret;

  /* Nice values outside [-20, 19] and static priorities outside [0, 99]
   * are never valid on Linux (sched(7)). */
  ret = ar_json_int64 (&sched_at, sched_obj, "nice", false, -20, 19, &value, err);
  if (ret < 0)
    return ret;
  sched->nice = ret > 0 ? (int) value : 0;
  ret = ar_json_int64 (&sched_at, sched_obj, "priority", false, 0, 99, &value, err);
  if (ret < 0)
    return ret;
  sched->priority = ret > 0 ? (int) value : 0;

  ret = ar_json_strv (&sched_at, sched_obj, "flags", false, &flags, err);
  if (ret < 0)
    return ret;
  for (size_t i = 0; flags != NULL && flags[i] != NULL; i++)
    {
      cleanup_free char *flags_path = ar_json_path_member (path, "flags");
      cleanup_free char *item_path = ar_json_path_index (flags_path, i);
      struct ar_json_at item_at = { at->origin, item_path };
      int flag = 0;

      ret = ar_json_lookup_name (&item_at, NULL, sched_flag_names, AR_N_ELEMENTS (sched_flag_names), "scheduler flag",
                                 flags[i], &flag, err);
      if (ret < 0)
        return ret;
      sched->flags |= (uint64_t) flag;
    }

  ret = ar_json_uint64 (&sched_at, sched_obj, "runtime", false, &sched->runtime, err);
  if (ret < 0)
    return ret;
  ret = ar_json_uint64 (&sched_at, sched_obj, "deadline", false, &sched->deadline, err);
  if (ret < 0)
    return ret;
  ret = ar_json_uint64 (&sched_at, sched_obj, "period", false, &sched->period, err);
  return ret < 0 ? ret : 0;
}

/* Checks a CPU list such as "0-3,7": numbers and ascending ranges joined
 * by commas. */
static bool
is_cpu_list (const char *list)
{
  const char *p = list;

  for (;;)
    {
      unsigned long first, last;
      char *end;

      if (*p < '0' || *p > '9')
        return false;
      first = strtoul (p, &end, 10);
      last = first;
      p = end;
      if (*p == '-')
        {
          p++;
          if (*p < '0' || *p > '9')
            return false;
          last = strtoul (p, &end, 10);
          p = end;
        }
      if (first > last)
        return false;
      if (*p == '\0')
        return true;
      if (*p != ',')
        return false;
      p++;
    }
}

static int
parse_cpu_list (const struct ar_json_at *at, json_t *obj, const char *key, char **out, ar_error_t *err)
{
  cleanup_free char *list = NULL;
  int ret;

  ret = ar_json_string (at, obj, key, false, &list, err);
  if (ret <= 0)
    return ret;

  /* An empty list means "leave the affinity alone", as if unset. */
  if (list[0] == '\0')
    return 0;
  if (!is_cpu_list (list))
    return ar_json_error (err, at, key, "invalid CPU list `%s`; write numbers and ranges such as 0-3,7", list);
  *out = ar_steal_ptr (list);
  return 0;
}

static int
parse_exec_cpu_affinity (const struct ar_json_at *at, json_t *obj, struct ar_process *process, ar_error_t *err)
{
  cleanup_free char *path = ar_json_path_member (at->path, "execCPUAffinity");
  struct ar_json_at affinity_at = { at->origin, path };
  json_t *affinity = NULL;
  int ret;

  ret = ar_json_member (at, obj, "execCPUAffinity", JSON_OBJECT, false, &affinity, err);
  if (ret <= 0)
    return ret;

  ret = parse_cpu_list (&affinity_at, affinity, "initial", &process->exec_cpu_affinity_initial, err);
  if (ret < 0)
    return ret;
  return parse_cpu_list (&affinity_at, affinity, "final", &process->exec_cpu_affinity_final, err);
}

int
ar_config_process_parse (const struct ar_json_at *at, json_t *obj, struct ar_process **out, ar_error_t *err)
{
  __attribute__ ((cleanup (process_release))) struct ar_process *process = ar_xmalloc0 (sizeof (*process));
  int64_t value = 0;
  int ret;

  ret = ar_json_bool (at, obj, "terminal", false, &process->terminal, err);
  if (ret < 0)
    return ret;
  ret = parse_console_size (at, obj, process, err);
  if (ret < 0)
    return ret;
  ret = parse_user (at, obj, &process->user, err);
  if (ret < 0)
    return ret;
  ret = parse_args_env_cwd (at, obj, process, err);
  if (ret < 0)
    return ret;
  ret = parse_capabilities (at, obj, process, err);
  if (ret < 0)
    return ret;
  ret = parse_rlimits (at, obj, process, err);
  if (ret < 0)
    return ret;

  ret = ar_json_bool (at, obj, "noNewPrivileges", false, &process->no_new_privileges, err);
  if (ret < 0)
    return ret;
  ret = ar_json_string (at, obj, "apparmorProfile", false, &process->apparmor_profile, err);
  if (ret < 0)
    return ret;
  ret = ar_json_string (at, obj, "selinuxLabel", false, &process->selinux_label, err);
  if (ret < 0)
    return ret;

  ret = ar_json_int64 (at, obj, "oomScoreAdj", false, -1000, 1000, &value, err);
  if (ret < 0)
    return ret;
  if (ret > 0)
    {
      process->has_oom_score_adj = true;
      process->oom_score_adj = (int) value;
    }

  ret = parse_io_priority (at, obj, process, err);
  if (ret < 0)
    return ret;
  ret = parse_scheduler (at, obj, process, err);
  if (ret < 0)
    return ret;
  ret = parse_exec_cpu_affinity (at, obj, process, err);
  if (ret < 0)
    return ret;

  *out = ar_steal_ptr (process);
  return 0;
}

int
ar_process_parse_file (const char *path, struct ar_process **out, ar_error_t *err)
{
  cleanup_free char *text = NULL;
  json_auto_t *root = NULL;
  struct ar_json_at at = { path, "" };
  size_t len = 0;
  int ret;

  ret = ar_read_file (path, &text, &len, err);
  if (ret < 0)
    return ar_error_wrap (err, "cannot read the process file");

  ret = ar_json_load (text, len, path, &root, err);
  if (ret < 0)
    return ret;

  return ar_config_process_parse (&at, root, out, err);
}
