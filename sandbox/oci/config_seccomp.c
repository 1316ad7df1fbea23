/* linux.seccomp of config.json.  The names stay strings for the seccomp
 * compiler, but each one is checked here against the runtime spec's list,
 * so that a typo fails with its JSON path before anything starts. */
#define _GNU_SOURCE
#include "config_internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

enum
{
  ACTION_TAKES_ERRNO = 1,
};

/* The actions that the spec lists (as of libseccomp 2.6).  ERRNO and TRACE
 * carry an errno value (errnoRet) and the others reject one. */
static const struct ar_name_value seccomp_actions[] = {
  { "SCMP_ACT_KILL", 0 },
  { "SCMP_ACT_KILL_PROCESS", 0 },
  { "SCMP_ACT_KILL_THREAD", 0 },
  { "SCMP_ACT_TRAP", 0 },
  { "SCMP_ACT_ERRNO", ACTION_TAKES_ERRNO },
  { "SCMP_ACT_TRACE", ACTION_TAKES_ERRNO },
  { "SCMP_ACT_ALLOW", 0 },
  { "SCMP_ACT_LOG", 0 },
  { "SCMP_ACT_NOTIFY", 0 },
};

static const struct ar_name_value seccomp_architectures[] = {
  { "SCMP_ARCH_X86", 0 },      { "SCMP_ARCH_X86_64", 0 },      { "SCMP_ARCH_X32", 0 },
  { "SCMP_ARCH_ARM", 0 },      { "SCMP_ARCH_AARCH64", 0 },     { "SCMP_ARCH_MIPS", 0 },
  { "SCMP_ARCH_MIPS64", 0 },   { "SCMP_ARCH_MIPS64N32", 0 },   { "SCMP_ARCH_MIPSEL", 0 },
  { "SCMP_ARCH_MIPSEL64", 0 }, { "SCMP_ARCH_MIPSEL64N32", 0 }, { "SCMP_ARCH_PPC", 0 },
  { "SCMP_ARCH_PPC64", 0 },    { "SCMP_ARCH_PPC64LE", 0 },     { "SCMP_ARCH_S390", 0 },
  { "SCMP_ARCH_S390X", 0 },    { "SCMP_ARCH_PARISC", 0 },      { "SCMP_ARCH_PARISC64", 0 },
  { "SCMP_ARCH_RISCV64", 0 },  { "SCMP_ARCH_LOONGARCH64", 0 }, { "SCMP_ARCH_M68K", 0 },
  { "SCMP_ARCH_SH", 0 },       { "SCMP_ARCH_SHEB", 0 },
};

static const struct ar_name_value seccomp_flags[] = {
  { "SECCOMP_FILTER_FLAG_TSYNC", 0 },
  { "SECCOMP_FILTER_FLAG_LOG", 0 },
  { "SECCOMP_FILTER_FLAG_SPEC_ALLOW", 0 },
  { "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV", 0 },
};

static const struct ar_name_value seccomp_operators[] = {
  { "SCMP_CMP_NE", 0 }, { "SCMP_CMP_LT", 0 }, { "SCMP_CMP_LE", 0 },        { "SCMP_CMP_EQ", 0 },
  { "SCMP_CMP_GE", 0 }, { "SCMP_CMP_GT", 0 }, { "SCMP_CMP_MASKED_EQ", 0 },
};

/* seccomp(2) filters see the six syscall arguments. */
#define SECCOMP_MAX_ARG_INDEX 5

void
ar_config_seccomp_free (struct ar_seccomp *seccomp)
{
  if (seccomp == NULL)
    return;

  free (seccomp->default_action);
  ar_strv_free (seccomp->architectures);
  ar_strv_free (seccomp->flags);
  free (seccomp->listener_path);
  free (seccomp->listener_metadata);
  for (size_t i = 0; i < seccomp->n_syscalls; i++)
    {
      struct ar_seccomp_rule *rule = &seccomp->syscalls[i];

      ar_strv_free (rule->names);
      free (rule->action);
      for (size_t j = 0; j < rule->n_args; j++)
        free (rule->args[j].op);
      free (rule->args);
    }
  free (seccomp->syscalls);
  free (seccomp);
}

static void
seccomp_release (struct ar_seccomp **seccomp)
{
  ar_config_seccomp_free (*seccomp);
}

/* Checks every string of a list member against a table of names. */
static int
check_names (const struct ar_json_at *at, const char *key, char **names, const struct ar_name_value *table, size_t n,
             const char *what, ar_error_t *err)
{
  cleanup_free char *path = ar_json_path_member (at->path, key);

  for (size_t i = 0; names != NULL && names[i] != NULL; i++)
    {
      cleanup_free char *item_path = ar_json_path_index (path, i);
      struct ar_json_at item_at = { at->origin, item_path };
      int value;
      int ret;

      ret = ar_json_lookup_name (&item_at, NULL, table, n, what, names[i], &value, err);
      if (ret < 0)
        return ret;
    }
  return 0;
}

/* Reads an action and its optional errno value (errno_key). */
static int
parse_action (const struct ar_json_at *at, json_t *obj, const char *action_key, const char *errno_key, char **action,
              bool *has_errno, unsigned int *errno_value, ar_error_t *err)
{
  uint32_t value = 0;
  int takes_errno = 0;
  int ret;

  ret = ar_json_string (at, obj, action_key, true, action, err);
  if (ret < 0)
    return ret;
  ret = ar_json_lookup_name (at, action_key, seccomp_actions, AR_N_ELEMENTS (seccomp_actions), "seccomp action",
                             *action, &takes_errno, err);
  if (ret < 0)
    return ret;

  ret = ar_json_uint32 (at, obj, errno_key, false, &value, err);
  if (ret < 0)
    return ret;
  if (ret > 0)
    {
      if (takes_errno != ACTION_TAKES_ERRNO)
        return ar_json_error (err, at, errno_key,
                              "%s takes no errno value; remove it or use SCMP_ACT_ERRNO or SCMP_ACT_TRACE", *action);
      *has_errno = true;
      *errno_value = value;
    }
  return 0;
}

static int
parse_arg (const struct ar_json_at *at, json_t *obj, struct ar_seccomp_arg *arg, ar_error_t *err)
{
  int64_t index = 0;
  int unused;
  int ret;

  if (!json_is_object (obj))
    return ar_json_error (err, at, NULL, "expected an object, got %s", ar_json_kind (obj));

  ret = ar_json_int64 (at, obj, "index", true, 0, SECCOMP_MAX_ARG_INDEX, &index, err);
  if (ret < 0)
    return ret;
  arg->index = (unsigned int) index;

  ret = ar_json_uint64 (at, obj, "value", true, &arg->value, err);
  if (ret < 0)
    return ret;
  ret = ar_json_uint64 (at, obj, "valueTwo", false, &arg->value_two, err);
  if (ret < 0)
    return ret;

  ret = ar_json_string (at, obj, "op", true, &arg->op, err);
  if (ret < 0)
    return ret;
  return ar_json_lookup_name (at, "op", seccomp_operators, AR_N_ELEMENTS (seccomp_operators), "seccomp operator",
                              arg->op, &unused, err);
}

static int
parse_rule (const struct ar_json_at *at, json_t *obj, struct ar_seccomp_rule *rule, ar_error_t *err)
{
  cleanup_free char *args_path = ar_json_path_member (at->path, "args");
  json_t *args = NULL;
  json_t *item;
  size_t i;
  int ret;

  if (!json_is_object (obj))
    return ar_json_error (err, at, NULL, "expected an object, got %s", ar_json_kind (obj));

  ret = ar_json_strv (at, obj, "names", true, &rule->names, err);
  if (ret < 0)
    return ret;
  if (rule->names[0] == NULL)
    return ar_json_error (err, at, "names", "must contain at least one syscall name");
  for (i = 0; rule->names[i] != NULL; i++)
    if (rule->names[i][0] == '\0')
      {
        cleanup_free char *names_path = ar_json_path_member (at->path, "names");
        cleanup_free char *item_path = ar_json_path_index (names_path, i);
        struct ar_json_at item_at = { at->origin, item_path };

        return ar_json_error (err, &item_at, NULL, "empty syscall name");
      }

  ret = parse_action (at, obj, "action", "errnoRet", &rule->action, &rule->has_errno_ret, &rule->errno_ret, err);
  if (ret < 0)
    return ret;

  ret = ar_json_member (at, obj, "args", JSON_ARRAY, false, &args, err);
  if (ret <= 0)
    return ret;
  rule->args = ar_xmalloc0 (json_array_size (args) * sizeof (struct ar_seccomp_arg));
  json_array_foreach (args, i, item)
    {
      cleanup_free char *item_path = ar_json_path_index (args_path, i);
      struct ar_json_at item_at = { at->origin, item_path };

      rule->n_args = i + 1;
      ret = parse_arg (&item_at, item, &rule->args[i], err);
      if (ret < 0)
        return ret;
    }
  return 0;
}

int
ar_config_seccomp_parse (const struct ar_json_at *at, json_t *obj, struct ar_seccomp **out, ar_error_t *err)
{
  __attribute__ ((cleanup (seccomp_release))) struct ar_seccomp *seccomp = ar_xmalloc0 (sizeof (*seccomp));
  cleanup_free char *syscalls_path = ar_json_path_member (at->path, "syscalls");
  json_t *syscalls = NULL;
  json_t *item;
  size_t i;
  int ret;

  ret = parse_action (at, obj, "defaultAction", "defaultErrnoRet", &seccomp->default_action,
                      &seccomp->has_default_errno_ret, &seccomp->default_errno_ret, err);
  if (ret < 0)
    return ret;

  ret = ar_json_strv (at, obj, "architectures", false, &seccomp->architectures, err);
  if (ret < 0)
    return ret;
  ret = check_names (at, "architectures", seccomp->architectures, seccomp_architectures,
                     AR_N_ELEMENTS (seccomp_architectures), "seccomp architecture", err);
  if (ret < 0)
    return ret;

  ret = ar_json_strv (at, obj, "flags", false, &seccomp->flags, err);
  if (ret < 0)
    return ret;
  ret = check_names (at, "flags", seccomp->flags, seccomp_flags, AR_N_ELEMENTS (seccomp_flags), "seccomp flag", err);
  if (ret < 0)
    return ret;

  ret = ar_json_string (at, obj, "listenerPath", false, &seccomp->listener_path, err);
  if (ret < 0)
    return ret;
  ret = ar_json_string (at, obj, "listenerMetadata", false, &seccomp->listener_metadata, err);
  if (ret < 0)
    return ret;
  if (seccomp->listener_metadata != NULL && seccomp->listener_path == NULL)
    return ar_json_error (err, at, "listenerMetadata", "is set without listenerPath; set both or neither");

  ret = ar_json_member (at, obj, "syscalls", JSON_ARRAY, false, &syscalls, err);
  if (ret < 0)
    return ret;
  if (ret > 0)
    {
      seccomp->syscalls = ar_xmalloc0 (json_array_size (syscalls) * sizeof (struct ar_seccomp_rule));
      json_array_foreach (syscalls, i, item)
        {
          cleanup_free char *item_path = ar_json_path_index (syscalls_path, i);
          struct ar_json_at item_at = { at->origin, item_path };

          seccomp->n_syscalls = i + 1;
          ret = parse_rule (&item_at, item, &seccomp->syscalls[i], err);
          if (ret < 0)
            return ret;
        }
    }

  *out = ar_steal_ptr (seccomp);
  return 0;
}
