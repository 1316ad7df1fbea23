/* Seccomp profiles as per-syscall conditions.  A call's "allowed" list is a
 * disjunction of conjunctions of argument comparisons, which is what OCI
 * profiles express (one rule per conjunction), and what intersection and
 * negation need.
 *
 * Two limits of libseccomp 2.5.4 shape this file.  A rule takes at most one
 * comparison per argument: seccomp_rule_add fails with EINVAL otherwise.
 * And when a call has an unconditional rule, its conditional rules with
 * other actions never match, because the unconditional action wins.  So no
 * call is emitted with both kinds, and comparisons that cannot be combined
 * are resolved toward denial. */
#define _GNU_SOURCE
#include "seccomp_rules.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "oci/util.h"
#include "validate.h"

/* config.json documents read by the config model carry integers above
 * INT64_MAX as strings with this prefix (see oci/config_json.c), and
 * ar_config_parse reads them back from the same form. */
#define BIG_UINT64_PREFIX "\001u64:"

static const char *const op_names[] = {
  [AR_SECCOMP_NE] = "SCMP_CMP_NE", [AR_SECCOMP_LT] = "SCMP_CMP_LT", [AR_SECCOMP_LE] = "SCMP_CMP_LE",
  [AR_SECCOMP_EQ] = "SCMP_CMP_EQ", [AR_SECCOMP_GE] = "SCMP_CMP_GE", [AR_SECCOMP_GT] = "SCMP_CMP_GT",
  [AR_SECCOMP_MASKED_EQ] = "SCMP_CMP_MASKED_EQ",
};

static void
conjunction_clear (struct ar_seccomp_conjunction *conjunction)
{
  free (conjunction->conditions);
  conjunction->conditions = NULL;
  conjunction->n = 0;
}

static struct ar_seccomp_conjunction
conjunction_copy (const struct ar_seccomp_conjunction *conjunction)
{
  struct ar_seccomp_conjunction copy = { ar_xmalloc0 ((conjunction->n + 1) * sizeof (struct ar_seccomp_condition)),
                                         conjunction->n };

  if (conjunction->n > 0)
    memcpy (copy.conditions, conjunction->conditions, conjunction->n * sizeof (struct ar_seccomp_condition));
  return copy;
}

/* A list of conjunctions: the call is allowed when any of them holds. */
struct dnf
{
  struct ar_seccomp_conjunction *items;
  size_t n;
};

static void
dnf_clear (struct dnf *dnf)
{
  for (size_t i = 0; i < dnf->n; i++)
    conjunction_clear (&dnf->items[i]);
  free (dnf->items);
  dnf->items = NULL;
  dnf->n = 0;
}

static bool
dnf_is_always (const struct dnf *dnf)
{
  return dnf->n == 1 && dnf->items[0].n == 0;
}

static bool
condition_equal (const struct ar_seccomp_condition *a, const struct ar_seccomp_condition *b)
{
  return a->index == b->index && a->op == b->op && a->value == b->value
         && (a->op != AR_SECCOMP_MASKED_EQ || a->value_two == b->value_two);
}

static bool
conjunction_equal (const struct ar_seccomp_conjunction *a, const struct ar_seccomp_conjunction *b)
{
  if (a->n != b->n)
    return false;
  for (size_t i = 0; i < a->n; i++)
    {
      bool found = false;

      for (size_t j = 0; j < b->n && !found; j++)
        found = condition_equal (&a->conditions[i], &b->conditions[j]);
      if (!found)
        return false;
    }
  return true;
}

/* Adds a conjunction (taking it over), keeping the list minimal: an empty
 * conjunction absorbs every other one, and duplicates are dropped. */
static void
dnf_add (struct dnf *dnf, struct ar_seccomp_conjunction conjunction)
{
  if (dnf_is_always (dnf))
    {
      conjunction_clear (&conjunction);
      return;
    }
  if (conjunction.n == 0)
    dnf_clear (dnf);
  for (size_t i = 0; i < dnf->n; i++)
    if (conjunction_equal (&dnf->items[i], &conjunction))
      {
        conjunction_clear (&conjunction);
        return;
      }
  dnf->items = realloc (dnf->items, (dnf->n + 1) * sizeof (*dnf->items));
  if (dnf->items == NULL)
    abort ();
  dnf->items[dnf->n++] = conjunction;
}

static struct dnf
dnf_always (void)
{
  struct dnf dnf = { NULL, 0 };

  dnf_add (&dnf, (struct ar_seccomp_conjunction){ NULL, 0 });
  return dnf;
}

static bool
condition_holds_for (const struct ar_seccomp_condition *condition, uint64_t value)
{
  switch (condition->op)
    {
    case AR_SECCOMP_NE:
      return value != condition->value;
    case AR_SECCOMP_LT:
      return value < condition->value;
    case AR_SECCOMP_LE:
      return value <= condition->value;
    case AR_SECCOMP_EQ:
      return value == condition->value;
    case AR_SECCOMP_GE:
      return value >= condition->value;
    case AR_SECCOMP_GT:
      return value > condition->value;
    case AR_SECCOMP_MASKED_EQ:
      return (value & condition->value) == condition->value_two;
    }
  return false;
}

/* Combines two conditions on the same argument into one.  Returns false
 * when no value satisfies both, or when one comparison cannot express
 * both.  The caller then drops the conjunction, which only denies more. */
static bool
combine_same_argument (const struct ar_seccomp_condition *a, const struct ar_seccomp_condition *b,
                       struct ar_seccomp_condition *out)
{
  if (condition_equal (a, b))
    {
      *out = *a;
      return true;
    }
  if (a->op == AR_SECCOMP_EQ && condition_holds_for (b, a->value))
    {
      *out = *a;
      return true;
    }
  if (b->op == AR_SECCOMP_EQ && condition_holds_for (a, b->value))
    {
      *out = *b;
      return true;
    }
  /* TODO: ranges (LT with GT) and pairs of NE could be split into several
   * rules instead of being denied. */
  return false;
}

static bool
conjunction_and (const struct ar_seccomp_conjunction *a, const struct ar_seccomp_conjunction *b,
                 struct ar_seccomp_conjunction *out)
{
  struct ar_seccomp_conjunction merged = conjunction_copy (a);

  merged.conditions = realloc (merged.conditions, (a->n + b->n + 1) * sizeof (struct ar_seccomp_condition));
  if (merged.conditions == NULL)
    abort ();
  for (size_t i = 0; i < b->n; i++)
    {
      size_t j;

      for (j = 0; j < merged.n; j++)
        if (merged.conditions[j].index == b->conditions[i].index)
          break;
      if (j == merged.n)
        {
          merged.conditions[merged.n++] = b->conditions[i];
          continue;
        }
      if (!combine_same_argument (&merged.conditions[j], &b->conditions[i], &merged.conditions[j]))
        {
          conjunction_clear (&merged);
          return false;
        }
    }
  *out = merged;
  return true;
}

static struct dnf
dnf_and (const struct dnf *a, const struct dnf *b)
{
  struct dnf out = { NULL, 0 };

  for (size_t i = 0; i < a->n; i++)
    for (size_t j = 0; j < b->n; j++)
      {
        struct ar_seccomp_conjunction merged;

        if (conjunction_and (&a->items[i], &b->items[j], &merged))
          dnf_add (&out, merged);
      }
  return out;
}

static bool
condition_negate (const struct ar_seccomp_condition *condition, struct ar_seccomp_condition *out)
{
  static const enum ar_seccomp_op negated[] = {
    [AR_SECCOMP_NE] = AR_SECCOMP_EQ, [AR_SECCOMP_LT] = AR_SECCOMP_GE, [AR_SECCOMP_LE] = AR_SECCOMP_GT,
    [AR_SECCOMP_EQ] = AR_SECCOMP_NE, [AR_SECCOMP_GE] = AR_SECCOMP_LT, [AR_SECCOMP_GT] = AR_SECCOMP_LE,
  };

  if (condition->op == AR_SECCOMP_MASKED_EQ)
    return false;
  *out = *condition;
  out->op = negated[condition->op];
  return true;
}

/* The negation of a disjunction of conjunctions, as a disjunction.  A
 * masked comparison has no negation in OCI profiles; *exact turns false
 * when one was left out, so the result holds for fewer calls than the
 * true negation. */
static struct dnf
dnf_negate (const struct dnf *dnf, bool *exact)
{
  struct dnf result = dnf_always ();

  *exact = true;
  for (size_t i = 0; i < dnf->n; i++)
    {
      struct dnf negated = { NULL, 0 };
      struct dnf next;

      for (size_t j = 0; j < dnf->items[i].n; j++)
        {
          struct ar_seccomp_condition condition;

          if (!condition_negate (&dnf->items[i].conditions[j], &condition))
            {
              *exact = false;
              continue;
            }
          dnf_add (&negated, (struct ar_seccomp_conjunction){ ar_xmalloc0 (sizeof (condition)), 1 });
          negated.items[negated.n - 1].conditions[0] = condition;
        }
      next = dnf_and (&result, &negated);
      dnf_clear (&result);
      dnf_clear (&negated);
      result = next;
    }
  return result;
}

static struct dnf
syscall_dnf (const struct ar_seccomp_syscall *syscall)
{
  struct dnf dnf = { NULL, 0 };

  for (size_t i = 0; i < syscall->n_allowed; i++)
    dnf_add (&dnf, conjunction_copy (&syscall->allowed[i]));
  return dnf;
}

static void
syscall_set_dnf (struct ar_seccomp_syscall *syscall, struct dnf dnf)
{
  for (size_t i = 0; i < syscall->n_allowed; i++)
    conjunction_clear (&syscall->allowed[i]);
  free (syscall->allowed);
  syscall->allowed = dnf.items;
  syscall->n_allowed = dnf.n;
}

static void
syscall_set_action (struct ar_seccomp_syscall *syscall, const char *action, bool has_errno, unsigned int errno_ret)
{
  free (syscall->action);
  syscall->action = ar_xstrdup (action);
  syscall->has_errno = action != NULL && has_errno;
  syscall->errno_ret = errno_ret;
}

static bool
action_allows (const char *action)
{
  return strcmp (action, "SCMP_ACT_ALLOW") == 0 || strcmp (action, "SCMP_ACT_LOG") == 0;
}

struct ar_seccomp_set *
ar_seccomp_set_new (const char *default_action, bool has_errno, unsigned int errno_ret)
{
  struct ar_seccomp_set *set = ar_xmalloc0 (sizeof (*set));

  set->default_action = ar_xstrdup (default_action);
  set->has_default_errno = has_errno;
  set->default_errno = errno_ret;
  set->default_allows = action_allows (default_action);
  return set;
}

void
ar_seccomp_set_free (struct ar_seccomp_set *set)
{
  if (set == NULL)
    return;
  for (size_t i = 0; i < set->n_syscalls; i++)
    {
      syscall_set_dnf (&set->syscalls[i], (struct dnf){ NULL, 0 });
      free (set->syscalls[i].name);
      free (set->syscalls[i].action);
    }
  free (set->syscalls);
  free (set->default_action);
  ar_strv_free (set->architectures);
  ar_strv_free (set->flags);
  free (set->listener_path);
  free (set->listener_metadata);
  free (set);
}

struct ar_seccomp_syscall *
ar_seccomp_set_lookup (struct ar_seccomp_set *set, const char *name, bool create)
{
  struct ar_seccomp_syscall *syscall;

  for (size_t i = 0; i < set->n_syscalls; i++)
    if (strcmp (set->syscalls[i].name, name) == 0)
      return &set->syscalls[i];
  if (!create)
    return NULL;

  set->syscalls = realloc (set->syscalls, (set->n_syscalls + 1) * sizeof (*set->syscalls));
  if (set->syscalls == NULL)
    abort ();
  syscall = &set->syscalls[set->n_syscalls++];
  memset (syscall, 0, sizeof (*syscall));
  syscall->name = ar_xstrdup (name);
  if (set->default_allows)
    syscall_set_dnf (syscall, dnf_always ());
  return syscall;
}

/* The calls a set allows when it has no entry for them. */
static struct dnf
set_dnf (struct ar_seccomp_set *set, const char *name)
{
  struct ar_seccomp_syscall *syscall = ar_seccomp_set_lookup (set, name, false);

  if (syscall != NULL)
    return syscall_dnf (syscall);
  return set->default_allows ? dnf_always () : (struct dnf){ NULL, 0 };
}

bool
ar_seccomp_allows_always (struct ar_seccomp_set *set, const char *name)
{
  struct dnf dnf = set_dnf (set, name);
  bool always = dnf_is_always (&dnf);

  dnf_clear (&dnf);
  return always;
}

void
ar_seccomp_allow_always (struct ar_seccomp_set *set, const char *name)
{
  struct ar_seccomp_syscall *syscall = ar_seccomp_set_lookup (set, name, true);

  syscall_set_dnf (syscall, dnf_always ());
  syscall_set_action (syscall, NULL, false, 0);
}

void
ar_seccomp_allow_when (struct ar_seccomp_set *set, const char *name, const struct ar_seccomp_condition *conditions,
                       size_t n)
{
  struct ar_seccomp_syscall *syscall = ar_seccomp_set_lookup (set, name, true);
  struct ar_seccomp_conjunction conjunction = { (struct ar_seccomp_condition *) conditions, n };
  struct dnf dnf = syscall_dnf (syscall);

  dnf_add (&dnf, conjunction_copy (&conjunction));
  syscall_set_dnf (syscall, dnf);
  syscall_set_action (syscall, NULL, false, 0);
}

void
ar_seccomp_deny (struct ar_seccomp_set *set, const char *name, const char *action, bool has_errno,
                 unsigned int errno_ret)
{
  struct ar_seccomp_syscall *syscall = ar_seccomp_set_lookup (set, name, true);

  syscall_set_dnf (syscall, (struct dnf){ NULL, 0 });
  syscall_set_action (syscall, action, has_errno, errno_ret);
}

static uint64_t
json_u64 (json_t *value)
{
  if (json_is_integer (value))
    return (uint64_t) json_integer_value (value);
  if (json_is_string (value) && ar_str_has_prefix (json_string_value (value), BIG_UINT64_PREFIX))
    return strtoull (json_string_value (value) + strlen (BIG_UINT64_PREFIX), NULL, 10);
  return 0;
}

static json_t *
u64_json (uint64_t value)
{
  if (value > (uint64_t) INT64_MAX)
    return json_sprintf ("%s%llu", BIG_UINT64_PREFIX, (unsigned long long) value);
  return json_integer ((json_int_t) value);
}

static bool
parse_conjunction (json_t *args, struct ar_seccomp_conjunction *out)
{
  struct ar_seccomp_conjunction conjunction = { ar_xmalloc0 ((json_array_size (args) + 1)
                                                             * sizeof (struct ar_seccomp_condition)),
                                                0 };
  json_t *arg;
  size_t i;

  json_array_foreach (args, i, arg)
    {
      struct ar_seccomp_condition *condition = &conjunction.conditions[conjunction.n];
      const char *op = json_string_value (json_object_get (arg, "op"));
      bool known = false;

      for (size_t k = 0; k < sizeof (op_names) / sizeof (op_names[0]) && op != NULL; k++)
        if (strcmp (op_names[k], op) == 0)
          {
            condition->op = (enum ar_seccomp_op) k;
            known = true;
          }
      if (!known)
        {
          conjunction_clear (&conjunction);
          return false;
        }
      condition->index = (unsigned int) json_integer_value (json_object_get (arg, "index"));
      condition->value = json_u64 (json_object_get (arg, "value"));
      condition->value_two = json_u64 (json_object_get (arg, "valueTwo"));
      conjunction.n++;
    }
  *out = conjunction;
  return true;
}

static char **
json_strv (json_t *array)
{
  char **strv;
  json_t *item;
  size_t i, n = 0;

  if (!json_is_array (array))
    return NULL;
  strv = ar_xmalloc0 ((json_array_size (array) + 1) * sizeof (char *));
  json_array_foreach (array, i, item)
    if (json_is_string (item))
      strv[n++] = ar_xstrdup (json_string_value (item));
  return strv;
}

/* The rules of one profile that concern one call, gathered before the
 * call's allowed list is computed. */
struct gathered
{
  struct dnf allowed;
  struct dnf restricted;
  json_t *action_rule;   /* an unconditional rule with another action */
  json_t *restrict_rule; /* the first conditional rule with another action */
};

struct ar_seccomp_set *
ar_seccomp_set_from_json (json_t *profile)
{
  json_t *default_errno = json_object_get (profile, "defaultErrnoRet");
  const char *default_action = json_string_value (json_object_get (profile, "defaultAction"));
  struct ar_seccomp_set *set;
  json_t *rules = json_object_get (profile, "syscalls");
  json_t *rule;
  size_t i;

  set = ar_seccomp_set_new (default_action != NULL ? default_action : "SCMP_ACT_ERRNO",
                            json_is_integer (default_errno) || default_action == NULL,
                            json_is_integer (default_errno) ? (unsigned int) json_integer_value (default_errno)
                                                            : EPERM);
  set->architectures = json_strv (json_object_get (profile, "architectures"));
  set->flags = json_strv (json_object_get (profile, "flags"));
  set->listener_path = ar_xstrdup (json_string_value (json_object_get (profile, "listenerPath")));
  set->listener_metadata = ar_xstrdup (json_string_value (json_object_get (profile, "listenerMetadata")));

  /* First create every entry in the profile's order, then gather the
   * rules of each call. */
  json_array_foreach (rules, i, rule)
    {
      json_t *name;
      size_t j;

      json_array_foreach (json_object_get (rule, "names"), j, name)
        if (json_is_string (name))
          ar_seccomp_set_lookup (set, json_string_value (name), true);
    }

  for (size_t s = 0; s < set->n_syscalls; s++)
    {
      struct ar_seccomp_syscall *syscall = &set->syscalls[s];
      struct gathered g = { { NULL, 0 }, { NULL, 0 }, NULL, NULL };
      struct dnf allowed;

      json_array_foreach (rules, i, rule)
        {
          const char *action = json_string_value (json_object_get (rule, "action"));
          json_t *args = json_object_get (rule, "args");
          struct ar_seccomp_conjunction conjunction = { NULL, 0 };
          json_t *name;
          size_t j;
          bool names_it = false;

          json_array_foreach (json_object_get (rule, "names"), j, name)
            names_it = names_it || (json_is_string (name) && strcmp (json_string_value (name), syscall->name) == 0);
          if (!names_it || action == NULL)
            continue;

          if (json_array_size (args) == 0)
            {
              if (action_allows (action))
                dnf_add (&g.allowed, (struct ar_seccomp_conjunction){ NULL, 0 });
              else
                g.action_rule = rule;
              continue;
            }
          if (!parse_conjunction (args, &conjunction))
            {
              /* An unknown comparison: assume the rule matches every call,
               * the safe reading for a restriction, and allow nothing by
               * it. */
              if (!action_allows (action))
                g.action_rule = rule;
              continue;
            }
          if (!action_allows (action) && g.restrict_rule == NULL)
            g.restrict_rule = rule;
          dnf_add (action_allows (action) ? &g.allowed : &g.restricted, conjunction);
        }

      if (g.action_rule != NULL)
        {
          json_t *errno_ret = json_object_get (g.action_rule, "errnoRet");

          dnf_clear (&g.allowed);
          dnf_clear (&g.restricted);
          syscall_set_dnf (syscall, (struct dnf){ NULL, 0 });
          syscall_set_action (syscall, json_string_value (json_object_get (g.action_rule, "action")),
                              json_is_integer (errno_ret), (unsigned int) json_integer_value (errno_ret));
          continue;
        }

      if (set->default_allows)
        {
          dnf_clear (&g.allowed);
          g.allowed = dnf_always ();
        }
      if (g.restricted.n > 0)
        {
          json_t *errno_ret = json_object_get (g.restrict_rule, "errnoRet");
          bool exact;

          /* Calls outside the allowed list get the restriction's action. */
          syscall_set_action (syscall, json_string_value (json_object_get (g.restrict_rule, "action")),
                              json_is_integer (errno_ret), (unsigned int) json_integer_value (errno_ret));
          struct dnf unrestricted = dnf_negate (&g.restricted, &exact);

          allowed = dnf_and (&g.allowed, &unrestricted);
          dnf_clear (&unrestricted);
          dnf_clear (&g.allowed);
        }
      else
        allowed = g.allowed;
      dnf_clear (&g.restricted);
      syscall_set_dnf (syscall, allowed);
    }
  return set;
}

static json_t *
conjunction_json (const struct ar_seccomp_conjunction *conjunction)
{
  json_t *args = json_array ();

  for (size_t i = 0; i < conjunction->n; i++)
    {
      const struct ar_seccomp_condition *condition = &conjunction->conditions[i];

      json_array_append_new (args, json_pack ("{s:i, s:o, s:o, s:s}", "index", (int) condition->index, "value",
                                              u64_json (condition->value), "valueTwo",
                                              u64_json (condition->value_two), "op", op_names[condition->op]));
    }
  return args;
}

static json_t *
action_rule (const char *action, bool has_errno, unsigned int errno_ret)
{
  json_t *rule = json_pack ("{s:[], s:s}", "names", "action", action);

  if (has_errno)
    json_object_set_new (rule, "errnoRet", json_integer (errno_ret));
  return rule;
}

/* Appends name to the rule of rules that has this action, or to a new
 * rule at the end. */
static void
add_to_action_rule (json_t *rules, const char *name, const char *action, bool has_errno, unsigned int errno_ret)
{
  json_t *rule;
  size_t i;

  json_array_foreach (rules, i, rule)
    {
      json_t *rule_errno = json_object_get (rule, "errnoRet");

      if (json_object_get (rule, "args") != NULL || strcmp (json_string_value (json_object_get (rule, "action")), action) != 0
          || (rule_errno != NULL) != has_errno || (has_errno && (unsigned int) json_integer_value (rule_errno) != errno_ret))
        continue;
      json_array_append_new (json_object_get (rule, "names"), json_string (name));
      return;
    }
  rule = action_rule (action, has_errno, errno_ret);
  json_array_append_new (json_object_get (rule, "names"), json_string (name));
  json_array_append_new (rules, rule);
}

static json_t *
strv_json (char **strv)
{
  json_t *array = json_array ();

  for (size_t i = 0; strv != NULL && strv[i] != NULL; i++)
    json_array_append_new (array, json_string (strv[i]));
  return array;
}

/* The denial of a call in a profile whose default allows: its own action,
 * else EPERM. */
static void
emit_denial (const struct ar_seccomp_set *set, json_t *rules, const struct ar_seccomp_syscall *syscall, json_t *args)
{
  const char *action = syscall->action != NULL ? syscall->action : "SCMP_ACT_ERRNO";
  bool has_errno = syscall->action != NULL ? syscall->has_errno : true;
  unsigned int errno_ret = syscall->action != NULL ? syscall->errno_ret : EPERM;
  json_t *rule;

  if (strcmp (action, set->default_action) == 0)
    {
      json_decref (args);
      return;
    }
  if (args == NULL)
    {
      add_to_action_rule (rules, syscall->name, action, has_errno, errno_ret);
      return;
    }
  rule = action_rule (action, has_errno, errno_ret);
  json_array_append_new (json_object_get (rule, "names"), json_string (syscall->name));
  json_object_set_new (rule, "args", args);
  json_array_append_new (rules, rule);
}

/* libseccomp rejects a rule whose action is the default action (EACCES),
 * and such a rule would change nothing. */
static bool
same_as_default (const struct ar_seccomp_set *set, const struct ar_seccomp_syscall *syscall)
{
  return strcmp (syscall->action, set->default_action) == 0 && syscall->has_errno == set->has_default_errno
         && (!syscall->has_errno || syscall->errno_ret == set->default_errno);
}

json_t *
ar_seccomp_set_to_json (const struct ar_seccomp_set *set)
{
  json_t *profile = json_pack ("{s:s}", "defaultAction", set->default_action);
  json_t *always = json_array ();
  json_t *rules = json_array ();
  json_t *action_rules = json_array ();

  if (set->has_default_errno)
    json_object_set_new (profile, "defaultErrnoRet", json_integer (set->default_errno));
  if (set->architectures != NULL)
    json_object_set_new (profile, "architectures", strv_json (set->architectures));
  if (set->flags != NULL && set->flags[0] != NULL)
    json_object_set_new (profile, "flags", strv_json (set->flags));
  if (set->listener_path != NULL)
    json_object_set_new (profile, "listenerPath", json_string (set->listener_path));
  if (set->listener_metadata != NULL)
    json_object_set_new (profile, "listenerMetadata", json_string (set->listener_metadata));

  for (size_t i = 0; i < set->n_syscalls; i++)
    {
      const struct ar_seccomp_syscall *syscall = &set->syscalls[i];
      struct dnf dnf = syscall_dnf (syscall);

      if (set->default_allows)
        {
          /* Deny where the allowed list does not hold; a negation that
           * had to leave out a masked comparison denies the call
           * outright instead. */
          bool exact = true;
          struct dnf denied = dnf_negate (&dnf, &exact);

          if (!dnf_is_always (&dnf))
            {
              if (!exact || dnf_is_always (&denied))
                emit_denial (set, action_rules, syscall, NULL);
              else
                for (size_t k = 0; k < denied.n; k++)
                  emit_denial (set, rules, syscall, conjunction_json (&denied.items[k]));
            }
          dnf_clear (&denied);
        }
      else if (dnf_is_always (&dnf))
        json_array_append_new (always, json_string (syscall->name));
      else if (dnf.n > 0)
        for (size_t k = 0; k < dnf.n; k++)
          json_array_append_new (rules, json_pack ("{s:[s], s:s, s:o}", "names", syscall->name, "action",
                                                   "SCMP_ACT_ALLOW", "args", conjunction_json (&dnf.items[k])));
      else if (syscall->action != NULL && !same_as_default (set, syscall))
        add_to_action_rule (action_rules, syscall->name, syscall->action, syscall->has_errno, syscall->errno_ret);
      dnf_clear (&dnf);
    }

  if (json_array_size (always) > 0)
    json_array_insert_new (rules, 0, json_pack ("{s:o, s:s}", "names", always, "action", "SCMP_ACT_ALLOW"));
  else
    json_decref (always);
  json_array_extend (rules, action_rules);
  json_decref (action_rules);
  json_object_set_new (profile, "syscalls", rules);
  return profile;
}

static char **
strv_intersect (char **a, char **b)
{
  char **out;
  size_t n = 0;

  if (a == NULL)
    return ar_strv_dup (b);
  if (b == NULL)
    return ar_strv_dup (a);
  out = ar_xmalloc0 ((ar_strv_len (a) + 1) * sizeof (char *));
  for (size_t i = 0; a[i] != NULL; i++)
    for (size_t j = 0; b[j] != NULL; j++)
      if (strcmp (a[i], b[j]) == 0)
        {
          out[n++] = ar_xstrdup (a[i]);
          break;
        }
  if (n == 0)
    {
      /* No architecture in common: keep the native one alone. */
      free (out);
      return NULL;
    }
  return out;
}

/* Flags of both profiles, without SECCOMP_FILTER_FLAG_SPEC_ALLOW, which
 * turns off the kernel's speculative execution mitigation. */
static char **
flags_union (char **a, char **b)
{
  char **out = ar_xmalloc0 ((ar_strv_len (a) + ar_strv_len (b) + 1) * sizeof (char *));
  size_t n = 0;
  char **lists[] = { a, b };

  for (size_t l = 0; l < 2; l++)
    for (size_t i = 0; lists[l] != NULL && lists[l][i] != NULL; i++)
      {
        bool seen = strcmp (lists[l][i], "SECCOMP_FILTER_FLAG_SPEC_ALLOW") == 0;

        for (size_t j = 0; j < n && !seen; j++)
          seen = strcmp (out[j], lists[l][i]) == 0;
        if (!seen)
          out[n++] = ar_xstrdup (lists[l][i]);
      }
  return out;
}

static void
intersect_syscall (struct ar_seccomp_set *result, struct ar_seccomp_set *policy, struct ar_seccomp_set *config,
                   const char *name)
{
  struct ar_seccomp_syscall *policy_syscall = ar_seccomp_set_lookup (policy, name, false);
  struct ar_seccomp_syscall *config_syscall = ar_seccomp_set_lookup (config, name, false);
  struct ar_seccomp_syscall *syscall;
  struct dnf a = set_dnf (policy, name);
  struct dnf b = set_dnf (config, name);
  struct dnf both = dnf_and (&a, &b);

  dnf_clear (&a);
  dnf_clear (&b);
  if (ar_seccomp_set_lookup (result, name, false) != NULL)
    {
      dnf_clear (&both);
      return;
    }
  syscall = ar_seccomp_set_lookup (result, name, true);
  syscall_set_dnf (syscall, both);
  if (syscall->n_allowed == 0)
    {
      /* The policy's own action for the call wins, then config.json's. */
      const struct ar_seccomp_syscall *source = NULL;

      if (policy_syscall != NULL && policy_syscall->action != NULL)
        source = policy_syscall;
      else if (config_syscall != NULL && config_syscall->action != NULL)
        source = config_syscall;
      if (source != NULL)
        syscall_set_action (syscall, source->action, source->has_errno, source->errno_ret);
    }
}

struct ar_seccomp_set *
ar_seccomp_intersect (struct ar_seccomp_set *policy, struct ar_seccomp_set *config)
{
  const struct ar_seccomp_set *defaults = !policy->default_allows ? policy : config;
  struct ar_seccomp_set *result
      = ar_seccomp_set_new (defaults->default_action, defaults->has_default_errno, defaults->default_errno);

  result->default_allows = defaults->default_allows;
  result->architectures = strv_intersect (policy->architectures, config->architectures);
  result->flags = flags_union (policy->flags, config->flags);
  result->listener_path = ar_xstrdup (config->listener_path != NULL ? config->listener_path : policy->listener_path);
  result->listener_metadata
      = ar_xstrdup (config->listener_path != NULL ? config->listener_metadata : policy->listener_metadata);

  for (size_t i = 0; i < policy->n_syscalls; i++)
    intersect_syscall (result, policy, config, policy->syscalls[i].name);
  for (size_t i = 0; i < config->n_syscalls; i++)
    intersect_syscall (result, policy, config, config->syscalls[i].name);
  return result;
}

const char *
ar_seccomp_denial_action (enum ar_policy_syscall_action action, bool *has_errno, unsigned int *errno_ret)
{
  *has_errno = false;
  *errno_ret = 0;
  switch (action)
    {
    case AR_POLICY_ACTION_KILL:
      return "SCMP_ACT_KILL_PROCESS";
    case AR_POLICY_ACTION_LOG:
      return "SCMP_ACT_LOG";
    case AR_POLICY_ACTION_ERRNO:
      break;
    }
  *has_errno = true;
  *errno_ret = EPERM;
  return "SCMP_ACT_ERRNO";
}

struct ar_seccomp_set *
ar_seccomp_policy_set (const struct ar_policy *policy)
{
  const struct ar_policy_syscalls *syscalls = &policy->syscalls;
  struct ar_seccomp_set *set;
  bool has_errno;
  unsigned int errno_ret;
  const char *action = ar_seccomp_denial_action ((enum ar_policy_syscall_action) syscalls->action.value, &has_errno,
                                                 &errno_ret);

  if (syscalls->base_kind == AR_POLICY_SECCOMP_FILE && syscalls->base_profile != NULL)
    {
      set = ar_seccomp_set_from_json (syscalls->base_profile);
      /* An explicit action replaces the file's default denial. */
      if (syscalls->action.set && !set->default_allows)
        {
          free (set->default_action);
          set->default_action = ar_xstrdup (action);
          set->has_default_errno = has_errno;
          set->default_errno = errno_ret;
          set->default_allows = false;
        }
    }
  else
    {
      set = ar_seccomp_base_profile (syscalls->base_kind, policy->process.capability_mask);
      free (set->default_action);
      set->default_action = ar_xstrdup (action);
      set->has_default_errno = has_errno;
      set->default_errno = errno_ret;
      /* With `action: log` denied calls run too, but the profile keeps its
       * allow-list form, so that only the calls it would deny are
       * logged. */
      set->default_allows = false;
    }

  for (size_t i = 0; i < syscalls->allow.n; i++)
    ar_seccomp_allow_always (set, syscalls->allow.values[i]);
  for (size_t i = 0; i < syscalls->deny.n; i++)
    ar_seccomp_deny (set, syscalls->deny.values[i], action, has_errno, errno_ret);
  return set;
}

json_t *
ar_policy_seccomp_profile (const struct ar_policy *policy)
{
  struct ar_seccomp_set *set = ar_seccomp_policy_set (policy);
  json_t *profile = ar_seccomp_set_to_json (set);

  ar_seccomp_set_free (set);
  return profile;
}

static bool
is_enosys_rule (json_t *rule)
{
  json_t *errno_ret = json_object_get (rule, "errnoRet");

  return strcmp (json_string_value (json_object_get (rule, "action")), "SCMP_ACT_ERRNO") == 0
         && json_is_integer (errno_ret) && json_integer_value (errno_ret) == ENOSYS;
}

/* The policy's own profile with every denial logged instead.  ENOSYS
 * rules stay: they only steer glibc to an older call that the filter can
 * check. */
static json_t *
audit_policy_profile (struct ar_seccomp_set *policy)
{
  json_t *profile = ar_seccomp_set_to_json (policy);
  json_t *rules;
  json_t *rule;
  size_t i;

  json_object_set_new (profile, "defaultAction", json_string ("SCMP_ACT_LOG"));
  json_object_del (profile, "defaultErrnoRet");
  /* Denying rules would now repeat the default, which libseccomp rejects:
   * their calls fall to the default instead. */
  rules = json_object_get (profile, "syscalls");
  for (i = json_array_size (rules); i-- > 0;)
    {
      rule = json_array_get (rules, i);
      if (strcmp (json_string_value (json_object_get (rule, "action")), "SCMP_ACT_ALLOW") != 0 && !is_enosys_rule (rule))
        json_array_remove (rules, i);
    }
  return profile;
}

static bool
rule_names (json_t *rule, const char *name)
{
  json_t *item;
  size_t i;

  json_array_foreach (json_object_get (rule, "names"), i, item)
    if (json_is_string (item) && strcmp (json_string_value (item), name) == 0)
      return true;
  return false;
}

json_t *
ar_seccomp_audit_profile (struct ar_seccomp_set *policy, json_t *config_profile)
{
  json_t *profile;
  json_t *rules;
  json_t *logged = json_array ();
  bool default_logs;
  size_t n_rules;

  if (config_profile == NULL)
    {
      json_decref (logged);
      return audit_policy_profile (policy);
    }

  /* config.json's profile stays in force; the calls it allows and the
   * policy would deny are logged.  With a LOG default, moving them out of
   * the allow rules logs them, and a LOG rule would repeat the default. */
  profile = json_deep_copy (config_profile);
  default_logs = strcmp (json_string_value (json_object_get (profile, "defaultAction")) ?: "", "SCMP_ACT_LOG") == 0;
  rules = json_object_get (profile, "syscalls");
  if (rules == NULL)
    {
      rules = json_array ();
      json_object_set_new (profile, "syscalls", rules);
    }
  n_rules = json_array_size (rules);
  for (size_t i = 0; i < n_rules; i++)
    {
      json_t *rule = json_array_get (rules, i);
      json_t *names = json_object_get (rule, "names");
      json_t *kept = json_array ();
      json_t *log_names = json_array ();
      json_t *name;
      size_t j;

      if (strcmp (json_string_value (json_object_get (rule, "action")), "SCMP_ACT_ALLOW") != 0)
        {
          json_decref (kept);
          json_decref (log_names);
          continue;
        }
      json_array_foreach (names, j, name)
        json_array_append (ar_seccomp_allows_always (policy, json_string_value (name)) ? kept : log_names, name);
      if (json_array_size (log_names) > 0 && default_logs)
        {
          json_object_set_new (rule, "names", kept);
          json_decref (log_names);
        }
      else if (json_array_size (log_names) > 0)
        {
          json_t *copy = json_deep_copy (rule);

          json_object_set_new (copy, "names", log_names);
          json_object_set_new (copy, "action", json_string ("SCMP_ACT_LOG"));
          json_array_append_new (rules, copy);
          json_object_set_new (rule, "names", kept);
        }
      else
        {
          json_decref (kept);
          json_decref (log_names);
        }
    }

  /* Remove rules left without names. */
  for (size_t i = json_array_size (rules); i-- > 0;)
    if (json_array_size (json_object_get (json_array_get (rules, i), "names")) == 0)
      json_array_remove (rules, i);

  if (strcmp (json_string_value (json_object_get (profile, "defaultAction")), "SCMP_ACT_ALLOW") == 0)
    {
      cleanup_strv char **known = ar_policy_syscall_names ();

      for (size_t k = 0; known[k] != NULL; k++)
        {
          bool named = false;
          json_t *rule;
          size_t i;

          if (ar_seccomp_allows_always (policy, known[k]))
            continue;
          json_array_foreach (rules, i, rule)
            named = named || rule_names (rule, known[k]);
          if (!named)
            json_array_append_new (logged, json_string (known[k]));
        }
    }
  if (json_array_size (logged) > 0)
    json_array_append_new (rules, json_pack ("{s:o, s:s}", "names", logged, "action", "SCMP_ACT_LOG"));
  else
    json_decref (logged);
  return profile;
}
