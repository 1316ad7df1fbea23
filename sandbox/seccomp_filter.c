/* linux.seccomp compiled to classic BPF with libseccomp in the runtime
 * process, then loaded with a bare seccomp(2) call in the container
 * process, so the container process needs neither libseccomp's state nor
 * any allocation to install its filter. */
#define _GNU_SOURCE
#include "seccomp_filter.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <linux/seccomp.h>
#include <seccomp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <unistd.h>

#include "oci/log.h"
#include "oci/util.h"

/* Flags that linux/seccomp.h of older kernels lacks; the values are the
 * kernel's ABI. */
#ifndef SECCOMP_FILTER_FLAG_LOG
#define SECCOMP_FILTER_FLAG_LOG (1UL << 1)
#endif
#ifndef SECCOMP_FILTER_FLAG_SPEC_ALLOW
#define SECCOMP_FILTER_FLAG_SPEC_ALLOW (1UL << 2)
#endif
#ifndef SECCOMP_FILTER_FLAG_NEW_LISTENER
#define SECCOMP_FILTER_FLAG_NEW_LISTENER (1UL << 3)
#endif
#ifndef SECCOMP_FILTER_FLAG_TSYNC_ESRCH
#define SECCOMP_FILTER_FLAG_TSYNC_ESRCH (1UL << 4)
#endif
#ifndef SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV
#define SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV (1UL << 5)
#endif

/* The kernel caps the errno of SECCOMP_RET_ERRNO at MAX_ERRNO. */
#define MAX_SECCOMP_ERRNO 4095
/* SECCOMP_RET_DATA is 16 bits wide; SCMP_ACT_TRACE passes it to the tracer. */
#define MAX_SECCOMP_TRACE_DATA 0xffff
/* A rule with n conditions on one argument index becomes n rules; this
 * bounds the product over all indices of one entry. */
#define MAX_RULES_PER_ENTRY 1024
#define N_SYSCALL_ARGS 6

struct action_name
{
  const char *name;
  uint32_t action; /* for ERRNO and TRACE, the action with data 0 */
  bool takes_data; /* errnoRet applies */
};

static const struct action_name actions[] = {
  { "SCMP_ACT_KILL", SCMP_ACT_KILL, false },
  { "SCMP_ACT_KILL_PROCESS", SCMP_ACT_KILL_PROCESS, false },
  { "SCMP_ACT_KILL_THREAD", SCMP_ACT_KILL_THREAD, false },
  { "SCMP_ACT_TRAP", SCMP_ACT_TRAP, false },
  { "SCMP_ACT_ERRNO", SCMP_ACT_ERRNO (0), true },
  { "SCMP_ACT_TRACE", SCMP_ACT_TRACE (0), true },
  { "SCMP_ACT_ALLOW", SCMP_ACT_ALLOW, false },
  { "SCMP_ACT_LOG", SCMP_ACT_LOG, false },
  { "SCMP_ACT_NOTIFY", SCMP_ACT_NOTIFY, false },
};

struct op_name
{
  const char *name;
  enum scmp_compare op;
};

static const struct op_name ops[] = {
  { "SCMP_CMP_NE", SCMP_CMP_NE }, { "SCMP_CMP_LT", SCMP_CMP_LT },
  { "SCMP_CMP_LE", SCMP_CMP_LE }, { "SCMP_CMP_EQ", SCMP_CMP_EQ },
  { "SCMP_CMP_GE", SCMP_CMP_GE }, { "SCMP_CMP_GT", SCMP_CMP_GT },
  { "SCMP_CMP_MASKED_EQ", SCMP_CMP_MASKED_EQ },
};

struct flag_name
{
  const char *name;
  unsigned int flag;
};

static const struct flag_name filter_flags[] = {
  { "SECCOMP_FILTER_FLAG_TSYNC", SECCOMP_FILTER_FLAG_TSYNC },
  { "SECCOMP_FILTER_FLAG_LOG", SECCOMP_FILTER_FLAG_LOG },
  { "SECCOMP_FILTER_FLAG_SPEC_ALLOW", SECCOMP_FILTER_FLAG_SPEC_ALLOW },
  { "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV", SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV },
};

/* One libseccomp context per architecture, merged into the first (the
 * native one) after all rules are in.  A single multi-architecture context
 * adds each rule to every architecture at once, and rolls the rule back on
 * all of them when one fails.  That happens with podman's default profile:
 * on 32-bit x86, libseccomp rewrites socket rules into socketcall rules
 * without their argument conditions, so two different rules become one and
 * the second fails with EEXIST.  Separate contexts keep such a rule on the
 * architectures where it fits. */
#define MAX_ARCHES 32

struct arch_filters
{
  scmp_filter_ctx ctx[MAX_ARCHES];
  char *name[MAX_ARCHES]; /* for messages: the name and its JSON path */
  uint32_t arch[MAX_ARCHES];
  size_t n;
};

static void
arch_filters_release (struct arch_filters *filters)
{
  for (size_t i = 0; i < filters->n; i++)
    {
      if (filters->ctx[i] != NULL)
        seccomp_release (filters->ctx[i]);
      free (filters->name[i]);
    }
  filters->n = 0;
}

#define cleanup_arch_filters __attribute__ ((cleanup (arch_filters_release)))

void
ar_seccomp_program_free (struct ar_seccomp_program *program)
{
  if (program == NULL)
    return;
  free (program->filter);
  free (program);
}

void
ar_seccomp_program_release (struct ar_seccomp_program **program)
{
  ar_seccomp_program_free (*program);
  *program = NULL;
}

/* Parses an action name and its errnoRet into a libseccomp action.  The
 * paths name the two fields in messages. */
static int
parse_action (const char *name, bool has_errno_ret, unsigned int errno_ret, const char *action_path,
              const char *errno_path, uint32_t *out, ar_error_t *err)
{
  const struct action_name *found = NULL;
  unsigned int data;

  if (name == NULL)
    return ar_make_error (err, EINVAL, "missing %s", action_path);

  for (size_t i = 0; i < sizeof (actions) / sizeof (actions[0]); i++)
    if (strcmp (actions[i].name, name) == 0)
      found = &actions[i];
  if (found == NULL)
    return ar_make_error (err, EINVAL,
                          "unknown seccomp action `%s` at %s; expected one of SCMP_ACT_KILL, "
                          "SCMP_ACT_KILL_PROCESS, SCMP_ACT_KILL_THREAD, SCMP_ACT_TRAP, SCMP_ACT_ERRNO, "
                          "SCMP_ACT_TRACE, SCMP_ACT_ALLOW, SCMP_ACT_LOG or SCMP_ACT_NOTIFY",
                          name, action_path);

  if (!found->takes_data)
    {
      /* The runtime spec requires an error when errnoRet comes with an
       * action that returns no errno. */
      if (has_errno_ret)
        return ar_make_error (err, EINVAL,
                              "%s is set but %s is `%s`; errnoRet applies only to SCMP_ACT_ERRNO and "
                              "SCMP_ACT_TRACE, so remove it",
                              errno_path, action_path, name);
      *out = found->action;
      return 0;
    }

  data = has_errno_ret ? errno_ret : EPERM;
  if (found->action == SCMP_ACT_ERRNO (0) && data > MAX_SECCOMP_ERRNO)
    return ar_make_error (err, EINVAL, "%s is %u, but an errno for SCMP_ACT_ERRNO must be at most %d",
                          errno_path, data, MAX_SECCOMP_ERRNO);
  if (data > MAX_SECCOMP_TRACE_DATA)
    return ar_make_error (err, EINVAL, "%s is %u, but the value for SCMP_ACT_TRACE must be at most %d",
                          errno_path, data, MAX_SECCOMP_TRACE_DATA);

  *out = found->action | data;
  return 0;
}

static int
new_arch_context (struct arch_filters *filters, uint32_t default_action, uint32_t arch, const char *name,
                  ar_error_t *err)
{
  scmp_filter_ctx ctx;
  int ret;

  if (filters->n == MAX_ARCHES)
    return ar_make_error (err, E2BIG, "linux.seccomp.architectures lists more than %d architectures",
                          MAX_ARCHES);

  ctx = seccomp_init (default_action);
  if (ctx == NULL)
    return ar_make_error (err, EINVAL,
                          "libseccomp rejected linux.seccomp.defaultAction; the running kernel may not "
                          "support it");
  filters->ctx[filters->n] = ctx;
  filters->name[filters->n] = ar_xstrdup (name);
  filters->arch[filters->n] = arch;
  filters->n++;

  if (arch != SCMP_ARCH_NATIVE)
    {
      ret = seccomp_arch_remove (ctx, SCMP_ARCH_NATIVE);
      if (ret == 0)
        ret = seccomp_arch_add (ctx, arch);
      if (ret < 0)
        return ar_make_error (err, -ret, "cannot add seccomp architecture %s", name);
    }

  /* NOTE: libseccomp's binary tree layout (SCMP_FLTATR_CTL_OPTIMIZE 2)
   * doubled the export time of podman's profile (9 to 19 ms), while kernels
   * since 5.11 skip the filter for syscalls it allows unconditionally, so
   * the default linear layout is kept. */
  return 0;
}

/* Creates the native context and one for each other listed architecture,
 * given as libseccomp's constant name such as SCMP_ARCH_X86_64.  libseccomp
 * resolves the lower-case suffix ("x86_64"), so every architecture that the
 * installed libseccomp supports is accepted. */
static int
arch_filters_init (struct arch_filters *filters, const struct ar_seccomp *seccomp, uint32_t default_action,
                   ar_error_t *err)
{
  static const char prefix[] = "SCMP_ARCH_";
  int ret;

  ret = new_arch_context (filters, default_action, SCMP_ARCH_NATIVE, "the native architecture", err);
  if (ret < 0)
    return ret;
  filters->arch[0] = seccomp_arch_native ();

  for (size_t i = 0; seccomp->architectures != NULL && seccomp->architectures[i] != NULL; i++)
    {
      const char *name = seccomp->architectures[i];
      cleanup_free char *token = NULL;
      cleanup_free char *label = NULL;
      uint32_t arch = 0;
      bool present = false;

      if (ar_str_has_prefix (name, prefix) && name[sizeof (prefix) - 1] != '\0')
        {
          token = ar_xstrdup (name + sizeof (prefix) - 1);
          for (char *p = token; *p; p++)
            *p = (char) tolower ((unsigned char) *p);
          arch = seccomp_arch_resolve_name (token);
        }
      if (arch == 0)
        return ar_make_error (err, EINVAL,
                              "unknown seccomp architecture `%s` at linux.seccomp.architectures[%zu]; "
                              "expected a libseccomp name such as SCMP_ARCH_X86_64, SCMP_ARCH_X86 or "
                              "SCMP_ARCH_AARCH64",
                              name, i);

      for (size_t j = 0; j < filters->n; j++)
        present |= filters->arch[j] == arch;
      if (present)
        continue; /* the native architecture, or listed twice */

      label = ar_xasprintf ("`%s` (linux.seccomp.architectures[%zu])", name, i);
      ret = new_arch_context (filters, default_action, arch, label, err);
      if (ret < 0)
        return ret;
    }
  return 0;
}

/* Merges every context into the native one, which libseccomp then exports
 * as one program that checks the architecture first. */
static int
arch_filters_merge (struct arch_filters *filters, ar_error_t *err)
{
  for (size_t i = 1; i < filters->n; i++)
    {
      int ret = seccomp_merge (filters->ctx[0], filters->ctx[i]);

      if (ret == -EDOM)
        return ar_make_error (err, EINVAL,
                              "seccomp architecture %s has a different byte order than the native one, "
                              "and one filter cannot hold both; remove it",
                              filters->name[i]);
      if (ret < 0)
        return ar_make_error (err, -ret, "cannot merge the filter of seccomp architecture %s",
                              filters->name[i]);
      filters->ctx[i] = NULL; /* seccomp_merge released it */
    }
  return 0;
}

/* Returns whether the running kernel accepts a filter flag.  With a NULL
 * program, a supported flag fails with EFAULT and an unknown one with
 * EINVAL, because the kernel checks flags first.  An outer filter that
 * blocks seccomp(2) hides the result, so any other error counts as
 * supported and the load reports the real error. */
static bool
kernel_has_filter_flag (unsigned int flag)
{
  unsigned int probe = flag;

  /* The kernel accepts WAIT_KILLABLE_RECV only together with NEW_LISTENER. */
  if (flag == SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV)
    probe |= SECCOMP_FILTER_FLAG_NEW_LISTENER;

  return syscall (SYS_seccomp, SECCOMP_SET_MODE_FILTER, probe, NULL) == 0 || errno != EINVAL;
}

static int
parse_flags (const struct ar_seccomp *seccomp, bool needs_listener, unsigned int *out, ar_error_t *err)
{
  unsigned int flags = 0;

  for (size_t i = 0; seccomp->flags != NULL && seccomp->flags[i] != NULL; i++)
    {
      const char *name = seccomp->flags[i];
      const struct flag_name *found = NULL;

      for (size_t j = 0; j < sizeof (filter_flags) / sizeof (filter_flags[0]); j++)
        if (strcmp (filter_flags[j].name, name) == 0)
          found = &filter_flags[j];
      if (found == NULL)
        return ar_make_error (err, EINVAL,
                              "unknown seccomp flag `%s` at linux.seccomp.flags[%zu]; expected "
                              "SECCOMP_FILTER_FLAG_TSYNC, SECCOMP_FILTER_FLAG_LOG, "
                              "SECCOMP_FILTER_FLAG_SPEC_ALLOW or SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV",
                              name, i);

      if (found->flag == SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV && !needs_listener)
        {
          ar_debug ("seccomp: ignoring %s (linux.seccomp.flags[%zu]): no rule uses SCMP_ACT_NOTIFY", name, i);
          continue;
        }

      /* Each flag only tunes logging, speculation mitigation, thread sync
       * or signal handling while a notification waits, so a kernel that
       * lacks one runs the container without it rather than not at all. */
      if (!kernel_has_filter_flag (found->flag))
        {
          ar_warn ("seccomp: the running kernel does not support %s (linux.seccomp.flags[%zu]); "
                   "loading the filter without it",
                   name, i);
          continue;
        }
      flags |= found->flag;
    }

  *out = flags;
  return 0;
}

static int
parse_arg (const struct ar_seccomp_arg *arg, const char *path, struct scmp_arg_cmp *out, ar_error_t *err)
{
  const struct op_name *found = NULL;

  if (arg->index >= N_SYSCALL_ARGS)
    return ar_make_error (err, EINVAL, "%s.index is %u, but a syscall has arguments 0 to %d only", path,
                          arg->index, N_SYSCALL_ARGS - 1);

  for (size_t i = 0; arg->op != NULL && i < sizeof (ops) / sizeof (ops[0]); i++)
    if (strcmp (ops[i].name, arg->op) == 0)
      found = &ops[i];
  if (found == NULL)
    return ar_make_error (err, EINVAL,
                          "unknown seccomp operator `%s` at %s.op; expected one of SCMP_CMP_NE, "
                          "SCMP_CMP_LT, SCMP_CMP_LE, SCMP_CMP_EQ, SCMP_CMP_GE, SCMP_CMP_GT or "
                          "SCMP_CMP_MASKED_EQ",
                          arg->op ? arg->op : "(null)", path);

  /* For SCMP_CMP_MASKED_EQ, value is the mask and valueTwo the datum that
   * the masked argument must equal, which is libseccomp's datum_a, datum_b. */
  *out = (struct scmp_arg_cmp) {
    .arg = arg->index,
    .op = found->op,
    .datum_a = arg->value,
    .datum_b = arg->value_two,
  };
  return 0;
}

/* Conditions of one syscalls[] entry, grouped by argument index.
 * libseccomp rejects two conditions on the same index within one rule, so
 * the entry becomes one rule per combination that picks one condition per
 * index: conditions on one index are alternatives, conditions on different
 * indices must all hold. */
struct arg_groups
{
  struct scmp_arg_cmp *by_index[N_SYSCALL_ARGS];
  size_t count[N_SYSCALL_ARGS];
  size_t n_rules;
};

static void
arg_groups_free (struct arg_groups *groups)
{
  for (size_t i = 0; i < N_SYSCALL_ARGS; i++)
    free (groups->by_index[i]);
}

static int
arg_groups_build (const struct ar_seccomp_rule *rule, const char *path, struct arg_groups *groups,
                  ar_error_t *err)
{
  memset (groups, 0, sizeof (*groups));
  groups->n_rules = 1;

  for (size_t i = 0; i < rule->n_args; i++)
    {
      cleanup_free char *arg_path = ar_xasprintf ("%s.args[%zu]", path, i);
      struct scmp_arg_cmp cmp;
      struct scmp_arg_cmp *grown;
      int ret;

      ret = parse_arg (&rule->args[i], arg_path, &cmp, err);
      if (ret < 0)
        {
          arg_groups_free (groups);
          return ret;
        }

      grown = realloc (groups->by_index[cmp.arg], (groups->count[cmp.arg] + 1) * sizeof (cmp));
      if (grown == NULL)
        abort ();
      grown[groups->count[cmp.arg]++] = cmp;
      groups->by_index[cmp.arg] = grown;
    }

  for (size_t i = 0; i < N_SYSCALL_ARGS; i++)
    if (groups->count[i] > 0)
      {
        groups->n_rules *= groups->count[i];
        if (groups->n_rules > MAX_RULES_PER_ENTRY)
          {
            arg_groups_free (groups);
            return ar_make_error (err, E2BIG,
                                  "%s.args needs more than %d rules (one per combination of the "
                                  "conditions on each argument index); split the entry",
                                  path, MAX_RULES_PER_ENTRY);
          }
      }
  return 0;
}

/* Fills cmps with combination number `which` (a mixed-radix number over the
 * indices that have conditions) and returns the number of conditions. */
static unsigned int
arg_groups_combination (const struct arg_groups *groups, size_t which, struct scmp_arg_cmp *cmps)
{
  unsigned int n = 0;

  for (size_t i = 0; i < N_SYSCALL_ARGS; i++)
    {
      if (groups->count[i] == 0)
        continue;
      cmps[n++] = groups->by_index[i][which % groups->count[i]];
      which /= groups->count[i];
    }
  return n;
}

/* One libseccomp rule: a syscall of one syscalls[] entry with one
 * combination of its argument conditions. */
struct planned_rule
{
  const char *name;
  int nr; /* on the native architecture, as seccomp_rule_add takes it */
  uint32_t action;
  unsigned int n_cmps;
  struct scmp_arg_cmp cmps[N_SYSCALL_ARGS];
  size_t entry;      /* linux.seccomp.syscalls[entry] */
  size_t name_index; /* .names[name_index] */
  size_t order;      /* position in the profile */
  int arch_nr;       /* the number on the architecture being filled */
};

struct rule_plan
{
  struct planned_rule *rules;
  size_t n, cap;
  size_t n_skipped; /* names unknown to libseccomp */
};

static void
rule_plan_release (struct rule_plan *plan)
{
  free (plan->rules);
  plan->rules = NULL;
}

#define cleanup_rule_plan __attribute__ ((cleanup (rule_plan_release)))

static struct planned_rule *
rule_plan_push (struct rule_plan *plan)
{
  if (plan->n == plan->cap)
    {
      struct planned_rule *grown;

      plan->cap = plan->cap ? plan->cap * 2 : 512;
      grown = realloc (plan->rules, plan->cap * sizeof (*grown));
      if (grown == NULL)
        abort ();
      plan->rules = grown;
    }
  memset (&plan->rules[plan->n], 0, sizeof (plan->rules[0]));
  plan->rules[plan->n].order = plan->n;
  return &plan->rules[plan->n++];
}

/* Validates one syscalls[] entry and appends its rules to the plan. */
static int
plan_entry (struct rule_plan *plan, const struct ar_seccomp_rule *rule, size_t index, uint32_t default_action,
            ar_error_t *err)
{
  cleanup_free char *path = ar_xasprintf ("linux.seccomp.syscalls[%zu]", index);
  cleanup_free char *action_path = ar_xasprintf ("%s.action", path);
  cleanup_free char *errno_path = ar_xasprintf ("%s.errnoRet", path);
  struct arg_groups groups;
  uint32_t action;
  int ret;

  ret = parse_action (rule->action, rule->has_errno_ret, rule->errno_ret, action_path, errno_path, &action,
                      err);
  if (ret < 0)
    return ret;

  if (rule->names == NULL || rule->names[0] == NULL)
    return ar_make_error (err, EINVAL, "%s.names is empty; it must list at least one syscall", path);

  ret = arg_groups_build (rule, path, &groups, err);
  if (ret < 0)
    return ret;

  /* libseccomp rejects a rule whose action is the default one with EACCES;
   * such a rule changes nothing, so it is left out. */
  if (action == default_action)
    {
      ar_debug ("seccomp: %s has the default action, no rule needed", path);
      arg_groups_free (&groups);
      return 0;
    }

  for (size_t i = 0; rule->names[i] != NULL; i++)
    {
      const char *name = rule->names[i];
      int nr = seccomp_syscall_resolve_name (name);

      /* Profiles such as podman's list syscalls newer than the installed
       * libseccomp; the kernel may lack them too, so they are skipped. */
      if (nr == __NR_SCMP_ERROR)
        {
          ar_debug ("seccomp: skipping syscall `%s` (%s.names[%zu]): unknown to libseccomp %u.%u.%u", name,
                    path, i, seccomp_version ()->major, seccomp_version ()->minor, seccomp_version ()->micro);
          plan->n_skipped++;
          continue;
        }

      for (size_t which = 0; which < groups.n_rules; which++)
        {
          struct planned_rule *planned = rule_plan_push (plan);

          planned->name = name;
          planned->nr = nr;
          planned->action = action;
          planned->n_cmps = arg_groups_combination (&groups, which, planned->cmps);
          planned->entry = index;
          planned->name_index = i;
        }
    }

  arg_groups_free (&groups);
  return 0;
}

/* Orders by syscall number on the architecture being filled, highest first,
 * and keeps the profile order among rules of one syscall, which decides
 * between rules that override each other. */
static int
compare_planned_rules (const void *a, const void *b)
{
  const struct planned_rule *x = a, *y = b;

  if (x->arch_nr != y->arch_nr)
    return x->arch_nr > y->arch_nr ? -1 : 1;
  return x->order < y->order ? -1 : x->order > y->order;
}

/* Adds every planned rule to the context of each architecture.
 *
 * libseccomp 2.5.4 keeps the syscalls of a filter in a sorted list, so
 * rules in profile order cost quadratic time on an architecture whose
 * numbering differs from the native one: podman's default profile took
 * about 25 ms on x86 alone.  Adding them sorted by that architecture's
 * numbers takes about 1 ms.  (Both measured with libseccomp 2.5.4 on an
 * x86_64 Debian 12 guest.) */
static int
add_planned_rules (struct arch_filters *filters, struct rule_plan *plan, ar_error_t *err)
{
  for (size_t k = 0; k < filters->n; k++)
    {
      for (size_t i = 0; i < plan->n; i++)
        {
          struct planned_rule *r = &plan->rules[i];

          r->arch_nr = k == 0 ? r->nr : seccomp_syscall_resolve_name_arch (filters->arch[k], r->name);
        }
      if (plan->n > 1)
        qsort (plan->rules, plan->n, sizeof (plan->rules[0]), compare_planned_rules);

      for (size_t i = 0; i < plan->n; i++)
        {
          const struct planned_rule *r = &plan->rules[i];
          int ret = seccomp_rule_add_array (filters->ctx[k], r->action, r->nr, r->n_cmps, r->cmps);

          if (ret == -EEXIST && k == 0)
            return ar_make_error (err, EINVAL,
                                  "linux.seccomp.syscalls[%zu].names[%zu] repeats the syscall `%s` with the "
                                  "same argument conditions as an earlier entry but another action; remove "
                                  "one of them",
                                  r->entry, r->name_index, r->name);
          if (ret == -EEXIST)
            {
              /* Only libseccomp's rewriting of the rule for this
               * architecture made it collide, for instance socket into
               * socketcall on x86. */
              ar_debug ("seccomp: linux.seccomp.syscalls[%zu].names[%zu] (`%s`) adds nothing on %s after "
                        "libseccomp rewrote it",
                        r->entry, r->name_index, r->name, filters->name[k]);
              continue;
            }
          if (ret < 0)
            return ar_make_error (err, -ret,
                                  "cannot add the seccomp rule for `%s` (linux.seccomp.syscalls[%zu].names[%zu]) "
                                  "on %s",
                                  r->name, r->entry, r->name_index, filters->name[k]);
        }
    }
  return 0;
}

static bool
uses_notify (const struct ar_seccomp *seccomp)
{
  if (seccomp->default_action != NULL && strcmp (seccomp->default_action, "SCMP_ACT_NOTIFY") == 0)
    return true;
  for (size_t i = 0; i < seccomp->n_syscalls; i++)
    if (seccomp->syscalls[i].action != NULL && strcmp (seccomp->syscalls[i].action, "SCMP_ACT_NOTIFY") == 0)
      return true;
  return false;
}

/* Writes the BPF program of ctx to a memfd (a pipe where memfd_create is
 * missing) and reads it back: libseccomp 2.5 exports to a file descriptor
 * only. */
static int
export_bpf (scmp_filter_ctx ctx, struct sock_filter **filter_out, size_t *n_out, ar_error_t *err)
{
  cleanup_close int read_fd = -1;
  cleanup_close int write_fd = -1;
  cleanup_free char *buf = NULL;
  size_t len = 0, cap = 0;
  int ret;

  read_fd = memfd_create ("agentrun-seccomp-bpf", MFD_CLOEXEC);
  if (read_fd >= 0)
    {
      write_fd = dup (read_fd);
      if (write_fd < 0)
        return ar_make_error (err, errno, "cannot duplicate the seccomp memfd");
    }
  else
    {
      int fds[2];

      /* O_NONBLOCK turns a program larger than the pipe buffer into an
       * export error instead of a deadlock. */
      if (pipe2 (fds, O_CLOEXEC | O_NONBLOCK) < 0)
        return ar_make_error (err, errno, "cannot create a pipe for the seccomp program");
      read_fd = fds[0];
      write_fd = fds[1];
      (void) fcntl (write_fd, F_SETPIPE_SZ, 1 << 20);
    }

  ret = seccomp_export_bpf (ctx, write_fd);
  if (ret < 0)
    return ar_make_error (err, -ret, "cannot export the seccomp program");
  close (ar_steal_fd (write_fd));

  if (lseek (read_fd, 0, SEEK_SET) < 0 && errno != ESPIPE)
    return ar_make_error (err, errno, "cannot rewind the seccomp memfd");

  for (;;)
    {
      ssize_t n;

      if (cap - len < 4096)
        {
          char *bigger;

          cap = cap ? cap * 2 : 16384;
          bigger = realloc (buf, cap);
          if (bigger == NULL)
            return ar_make_error (err, ENOMEM, "cannot read the seccomp program");
          buf = bigger;
        }
      n = read (read_fd, buf + len, cap - len);
      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        return ar_make_error (err, errno, "cannot read the seccomp program");
      if (n == 0)
        break;
      len += (size_t) n;
    }

  if (len == 0 || len % sizeof (struct sock_filter) != 0)
    return ar_make_error (err, EINVAL, "libseccomp exported %zu bytes, not a whole number of BPF instructions",
                          len);

  *n_out = len / sizeof (struct sock_filter);
  *filter_out = (struct sock_filter *) ar_steal_ptr (buf);
  return 0;
}

/* NOTE: compiling a profile of podman's default shape (about 370 names,
 * x86_64 with x86 and x32) took 12 to 18 ms on the 2-core Debian 12 test
 * VM (AR_TEST_VERBOSE=1 tests/unit/test_seccomp), most of it in
 * libseccomp's BPF export; the native architecture alone took about 4 ms.
 * A cache of compiled programs would key on a hash of everything that
 * changes the output.  That is the fields of linux.seccomp in order
 * (defaultAction, defaultErrnoRet, architectures, flags, and each
 * syscalls[] entry with names, action, errnoRet and args), the libseccomp
 * version, the native architecture, and the kernel release.  The kernel
 * counts because the flags and the actions that libseccomp accepts are
 * probed on it.  The cached value would be the BPF instructions, flags and
 * needs_listener. */
int
ar_seccomp_compile (const struct ar_seccomp *seccomp, struct ar_seccomp_program **out, ar_error_t *err)
{
  cleanup_arch_filters struct arch_filters filters = { .n = 0 };
  cleanup_rule_plan struct rule_plan plan = { .n = 0 };
  cleanup_free struct sock_filter *filter = NULL;
  struct ar_seccomp_program *program;
  uint32_t default_action;
  bool needs_listener;
  unsigned int flags = 0;
  size_t n_filter = 0;
  int ret;

  ret = parse_action (seccomp->default_action, seccomp->has_default_errno_ret, seccomp->default_errno_ret,
                      "linux.seccomp.defaultAction", "linux.seccomp.defaultErrnoRet", &default_action, err);
  if (ret < 0)
    return ret;

  needs_listener = uses_notify (seccomp);
  if (needs_listener && seccomp->listener_path == NULL && !seccomp->runtime_listener)
    return ar_make_error (err, EINVAL,
                          "linux.seccomp uses SCMP_ACT_NOTIFY but linux.seccomp.listenerPath is not set; "
                          "set it to the UNIX socket of the seccomp agent");
  if (seccomp->listener_metadata != NULL && seccomp->listener_path == NULL)
    return ar_make_error (err, EINVAL,
                          "linux.seccomp.listenerMetadata is set without linux.seccomp.listenerPath");

  ret = parse_flags (seccomp, needs_listener, &flags, err);
  if (ret < 0)
    return ret;

  ret = arch_filters_init (&filters, seccomp, default_action, err);
  if (ret < 0)
    return ret;

  for (size_t i = 0; i < seccomp->n_syscalls; i++)
    {
      ret = plan_entry (&plan, &seccomp->syscalls[i], i, default_action, err);
      if (ret < 0)
        return ret;
    }

  ret = add_planned_rules (&filters, &plan, err);
  if (ret < 0)
    return ret;

  ret = arch_filters_merge (&filters, err);
  if (ret < 0)
    return ret;

  ret = export_bpf (filters.ctx[0], &filter, &n_filter, err);
  if (ret < 0)
    return ret;
  if (n_filter > BPF_MAXINSNS)
    return ar_make_error (err, E2BIG,
                          "the seccomp filter has %zu BPF instructions, more than the kernel's limit of "
                          "%d; merge or remove entries of linux.seccomp.syscalls",
                          n_filter, BPF_MAXINSNS);

  ar_debug ("seccomp: compiled %zu syscalls entries into %zu BPF instructions, %zu unknown syscall names "
            "skipped",
            seccomp->n_syscalls, n_filter, plan.n_skipped);

  program = ar_xmalloc0 (sizeof (*program));
  program->filter = ar_steal_ptr (filter);
  program->n_filter = (unsigned short) n_filter;
  program->flags = flags;
  program->needs_listener = needs_listener;
  *out = program;
  return 0;
}

int
ar_seccomp_load (const struct ar_seccomp_program *program, int *listener_fd, ar_error_t *err)
{
  struct sock_fprog prog = {
    .len = program->n_filter,
    .filter = program->filter,
  };
  unsigned int flags = program->flags;
  long ret;

  if (program->needs_listener)
    {
      flags |= SECCOMP_FILTER_FLAG_NEW_LISTENER;
      /* With both, the kernel wants failures to sync threads reported as
       * ESRCH, because the return value is the listener fd. */
      if (flags & SECCOMP_FILTER_FLAG_TSYNC)
        flags |= SECCOMP_FILTER_FLAG_TSYNC_ESRCH;
    }

  ret = syscall (SYS_seccomp, SECCOMP_SET_MODE_FILTER, flags, &prog);
  if (ret < 0 && errno == ENOSYS && flags == 0)
    {
      /* Kernels before 3.17 have prctl only, which takes no flags. */
      ret = prctl (PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog, 0, 0);
    }

  if (ret < 0)
    {
      switch (errno)
        {
        case EACCES:
          return ar_make_error (err, errno,
                                "cannot load the seccomp filter: the process needs no_new_privs "
                                "(process.noNewPrivileges) or CAP_SYS_ADMIN");
        case ENOSYS:
          return ar_make_error (err, errno,
                                "cannot load the seccomp filter: seccomp(2) is not available, and "
                                "prctl(PR_SET_SECCOMP) cannot apply linux.seccomp.flags");
        case ESRCH:
          return ar_make_error (err, errno,
                                "cannot load the seccomp filter with SECCOMP_FILTER_FLAG_TSYNC: another "
                                "thread has a different filter");
        default:
          return ar_make_error (err, errno, "cannot load the seccomp filter (flags %#x)", flags);
        }
    }

  /* With TSYNC and no listener, a positive value is the id of a thread
   * that could not be synchronised. */
  if (ret > 0 && !program->needs_listener)
    return ar_make_error (err, ESRCH,
                          "cannot load the seccomp filter with SECCOMP_FILTER_FLAG_TSYNC: thread %ld has a "
                          "different filter",
                          ret);

  if (listener_fd != NULL)
    *listener_fd = program->needs_listener ? (int) ret : -1;
  return 0;
}

/* Builds the container process state document of the runtime spec. */
static int
build_process_state (const char *listener_metadata, pid_t pid, const char *state_json, char **out,
                     ar_error_t *err)
{
  json_t *state, *oci_version, *doc;
  json_error_t json_err;
  char *text;

  state = json_loads (state_json, 0, &json_err);
  if (state == NULL || !json_is_object (state))
    {
      json_decref (state);
      return ar_make_error (err, EINVAL, "invalid container state JSON for the seccomp agent: %s",
                            state == NULL ? json_err.text : "not an object");
    }

  oci_version = json_object_get (state, "ociVersion");
  if (!json_is_string (oci_version))
    {
      json_decref (state);
      return ar_make_error (err, EINVAL, "the container state for the seccomp agent has no ociVersion");
    }

  doc = json_pack ("{s:O, s:[s], s:I, s:o}", "ociVersion", oci_version, "fds", "seccompFd", "pid",
                   (json_int_t) pid, "state", state);
  if (doc == NULL)
    return ar_make_error (err, ENOMEM, "cannot build the container process state");
  if (listener_metadata != NULL && json_object_set_new (doc, "metadata", json_string (listener_metadata)) < 0)
    {
      json_decref (doc);
      return ar_make_error (err, EINVAL, "linux.seccomp.listenerMetadata is not valid UTF-8");
    }

  text = json_dumps (doc, JSON_COMPACT);
  json_decref (doc);
  if (text == NULL)
    return ar_make_error (err, ENOMEM, "cannot serialise the container process state");
  *out = text;
  return 0;
}

int
ar_seccomp_send_listener (const char *listener_path, const char *listener_metadata, pid_t pid,
                          const char *state_json, int listener_fd, ar_error_t *err)
{
  cleanup_free char *payload = NULL;
  cleanup_close int sock = -1;
  struct sockaddr_un addr = { .sun_family = AF_UNIX };
  union
  {
    char buf[CMSG_SPACE (sizeof (int))];
    struct cmsghdr align;
  } control;
  struct iovec iov;
  struct msghdr msg = { 0 };
  struct cmsghdr *cmsg;
  size_t len;
  ssize_t sent;
  int ret;

  if (strlen (listener_path) >= sizeof (addr.sun_path))
    return ar_make_error (err, ENAMETOOLONG,
                          "linux.seccomp.listenerPath `%s` is longer than the %zu bytes a UNIX socket "
                          "address holds; use a shorter path",
                          listener_path, sizeof (addr.sun_path) - 1);
  strcpy (addr.sun_path, listener_path);

  ret = build_process_state (listener_metadata, pid, state_json, &payload, err);
  if (ret < 0)
    return ret;
  len = strlen (payload);

  sock = socket (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (sock < 0)
    return ar_make_error (err, errno, "cannot create a socket for the seccomp agent");
  if (connect (sock, (struct sockaddr *) &addr, sizeof (addr)) < 0)
    return ar_make_error (err, errno, "cannot connect to the seccomp agent at `%s` (linux.seccomp.listenerPath)",
                          listener_path);

  /* The fd travels with the first message only, as the runtime spec
   * requires, and the rest of a long payload follows in plain writes. */
  iov = (struct iovec) { .iov_base = payload, .iov_len = len };
  memset (&control, 0, sizeof (control));
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = control.buf;
  msg.msg_controllen = sizeof (control.buf);
  cmsg = CMSG_FIRSTHDR (&msg);
  cmsg->cmsg_level = SOL_SOCKET;
  cmsg->cmsg_type = SCM_RIGHTS;
  cmsg->cmsg_len = CMSG_LEN (sizeof (int));
  memcpy (CMSG_DATA (cmsg), &listener_fd, sizeof (int));

  do
    sent = sendmsg (sock, &msg, MSG_NOSIGNAL);
  while (sent < 0 && errno == EINTR);
  if (sent < 0)
    return ar_make_error (err, errno, "cannot send the seccomp listener fd to `%s`", listener_path);

  while ((size_t) sent < len)
    {
      ssize_t n = send (sock, payload + sent, len - (size_t) sent, MSG_NOSIGNAL);

      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        return ar_make_error (err, errno, "cannot send the container process state to `%s`", listener_path);
      sent += n;
    }

  /* One state per connection: closing the socket ends the message. */
  return 0;
}
