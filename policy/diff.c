/* `agentrun policy diff`: what changing a policy grants the agent and what
 * it takes away, so that a reviewer of a change reads its effect rather
 * than its text. */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model.h"
#include "oci/util.h"
#include "values.h"

struct changes
{
  FILE *grants;
  FILE *takes;
  FILE *other;
  char *grants_text;
  char *takes_text;
  char *other_text;
  size_t grants_len;
  size_t takes_len;
  size_t other_len;
};

static bool
list_has (const struct ar_policy_list *list, const char *value)
{
  for (size_t i = 0; i < list->n; i++)
    if (strcmp (list->values[i], value) == 0)
      return true;
  return false;
}

/* Phrases an added or removed list entry: "<before> ENTRY<after>". */
struct phrase
{
  FILE *to;
  const char *before;
  const char *after;
};

static void
print_phrase (const struct phrase *phrase, const char *entry)
{
  fprintf (phrase->to, "  %s%s%s%s\n", phrase->before, phrase->before[0] != '\0' ? " " : "", entry, phrase->after);
}

/* Reports the entries that new_list adds and those it removes. */
static void
diff_list (const struct ar_policy_list *old_list, const struct ar_policy_list *new_list, struct phrase added,
           struct phrase removed)
{
  for (size_t i = 0; i < new_list->n; i++)
    if (!list_has (old_list, new_list->values[i]))
      print_phrase (&added, new_list->values[i]);
  for (size_t i = 0; i < old_list->n; i++)
    if (!list_has (new_list, old_list->values[i]))
      print_phrase (&removed, old_list->values[i]);
}

static void
diff_flag (struct changes *c, bool old_value, bool new_value, bool true_grants, const char *text_true,
           const char *text_false)
{
  if (old_value == new_value)
    return;
  fprintf ((new_value == true_grants) ? c->grants : c->takes, "  %s\n", new_value ? text_true : text_false);
}

/* A limit: unset means unlimited, so removing one grants and adding one
 * takes away. */
static void
diff_limit (struct changes *c, const struct ar_policy_number *old_limit, const struct ar_policy_number *new_limit,
            const char *what, char *(*format) (uint64_t))
{
  cleanup_free char *old_text = old_limit->set ? format (old_limit->value) : NULL;
  cleanup_free char *new_text = new_limit->set ? format (new_limit->value) : NULL;

  if (old_limit->set == new_limit->set && (!old_limit->set || old_limit->value == new_limit->value))
    return;
  if (!new_limit->set)
    fprintf (c->grants, "  no %s limit (was %s)\n", what, old_text);
  else if (!old_limit->set)
    fprintf (c->takes, "  %s limited to %s (was unlimited)\n", what, new_text);
  else
    fprintf (new_limit->value > old_limit->value ? c->grants : c->takes, "  %s limit %s -> %s\n", what, old_text,
             new_text);
}

static char *
format_count (uint64_t value)
{
  return ar_xasprintf ("%llu", (unsigned long long) value);
}

static char *
tmpfs_text (const struct ar_policy_tmpfs *tmpfs)
{
  cleanup_free char *size = ar_policy_format_size (tmpfs->size.value);

  return ar_xasprintf ("%s (tmpfs, %s%s)", tmpfs->path.value, size, tmpfs->exec.value ? ", exec" : "");
}

static const struct ar_policy_tmpfs *
find_tmpfs (const struct ar_policy *policy, const char *path)
{
  const struct ar_policy_tmpfs *tmpfs = policy->filesystem.tmpfs.items;

  for (size_t i = 0; i < policy->filesystem.tmpfs.n; i++)
    if (strcmp (tmpfs[i].path.value, path) == 0)
      return &tmpfs[i];
  return NULL;
}

static void
diff_filesystem (struct changes *c, const struct ar_policy *a, const struct ar_policy *b)
{
  const struct ar_policy_tmpfs *a_tmpfs = a->filesystem.tmpfs.items;
  const struct ar_policy_tmpfs *b_tmpfs = b->filesystem.tmpfs.items;

  diff_flag (c, a->filesystem.readonly_rootfs.value, b->filesystem.readonly_rootfs.value, false,
             "the root filesystem becomes read-only", "the root filesystem becomes writable");
  diff_list (&a->filesystem.readwrite_paths, &b->filesystem.readwrite_paths,
             (struct phrase){ c->grants, "may write to", "" }, (struct phrase){ c->takes, "may no longer write to", "" });
  diff_list (&a->filesystem.readonly_paths, &b->filesystem.readonly_paths,
             (struct phrase){ c->takes, "", " becomes read-only" },
             (struct phrase){ c->grants, "", " is no longer forced read-only" });
  diff_list (&a->filesystem.denied_paths, &b->filesystem.denied_paths, (struct phrase){ c->takes, "", " becomes hidden" },
             (struct phrase){ c->grants, "", " becomes visible" });

  for (size_t i = 0; i < b->filesystem.tmpfs.n; i++)
    {
      const struct ar_policy_tmpfs *old_tmpfs = find_tmpfs (a, b_tmpfs[i].path.value);
      cleanup_free char *text = tmpfs_text (&b_tmpfs[i]);

      if (old_tmpfs == NULL)
        fprintf (c->grants, "  may write to %s\n", text);
      else if (old_tmpfs->size.value != b_tmpfs[i].size.value || old_tmpfs->exec.value != b_tmpfs[i].exec.value
               || old_tmpfs->mode.value != b_tmpfs[i].mode.value)
        {
          cleanup_free char *old_text = tmpfs_text (old_tmpfs);
          bool grows = b_tmpfs[i].size.value > old_tmpfs->size.value
                       || (b_tmpfs[i].exec.value && !old_tmpfs->exec.value);

          fprintf (grows ? c->grants : c->takes, "  %s -> %s\n", old_text, text);
        }
    }
  for (size_t i = 0; i < a->filesystem.tmpfs.n; i++)
    if (find_tmpfs (b, a_tmpfs[i].path.value) == NULL)
      {
        cleanup_free char *text = tmpfs_text (&a_tmpfs[i]);
        fprintf (c->takes, "  may no longer write to %s\n", text);
      }
}

static void
diff_process (struct changes *c, const struct ar_policy *a, const struct ar_policy *b)
{
  const struct ar_policy_user *old_user = &a->process.user;
  const struct ar_policy_user *new_user = &b->process.user;

  if (old_user->set != new_user->set || old_user->uid != new_user->uid || old_user->gid != new_user->gid)
    {
      cleanup_free char *old_text = old_user->set ? ar_xasprintf ("uid %u", old_user->uid)
                                                  : ar_xstrdup ("the user of config.json");
      cleanup_free char *new_text = new_user->set ? ar_xasprintf ("uid %u", new_user->uid)
                                                  : ar_xstrdup ("the user of config.json");
      FILE *to = (new_user->set && new_user->uid == 0 && (!old_user->set || old_user->uid != 0)) || !new_user->set
                     ? c->grants
                     : c->other;

      fprintf (to, "  runs as %s (was %s)\n", new_text, old_text);
    }
  diff_flag (c, a->process.no_new_privileges.value, b->process.no_new_privileges.value, false,
             "setuid programs no longer raise privileges (no_new_privileges)",
             "setuid programs and file capabilities can raise privileges again");
  diff_list (&a->process.capabilities, &b->process.capabilities, (struct phrase){ c->grants, "keeps the capability", "" },
             (struct phrase){ c->takes, "drops the capability", "" });
  diff_flag (c, a->process.host_pid.value, b->process.host_pid.value, true, "shares the host's PID namespace",
             "gets its own PID namespace");
}

static void
diff_syscalls (struct changes *c, const struct ar_policy *a, const struct ar_policy *b)
{
  const struct ar_policy_syscalls *old_syscalls = &a->syscalls;
  const struct ar_policy_syscalls *new_syscalls = &b->syscalls;

  if (strcmp (old_syscalls->base.value, new_syscalls->base.value) != 0)
    {
      FILE *to = c->other;

      if (old_syscalls->base_kind == AR_POLICY_SECCOMP_STRICT && new_syscalls->base_kind == AR_POLICY_SECCOMP_DEFAULT)
        to = c->grants;
      else if (old_syscalls->base_kind == AR_POLICY_SECCOMP_DEFAULT
               && new_syscalls->base_kind == AR_POLICY_SECCOMP_STRICT)
        to = c->takes;
      fprintf (to, "  system call profile %s -> %s\n", old_syscalls->base.value, new_syscalls->base.value);
    }
  diff_list (&old_syscalls->allow, &new_syscalls->allow, (struct phrase){ c->grants, "allows the system call", "" },
             (struct phrase){ c->takes, "no longer allows the system call", " explicitly" });
  diff_list (&old_syscalls->deny, &new_syscalls->deny, (struct phrase){ c->takes, "denies the system call", "" },
             (struct phrase){ c->grants, "no longer denies the system call", " explicitly" });
  if (old_syscalls->action.value != new_syscalls->action.value)
    {
      FILE *to = c->other;

      if (new_syscalls->action.value == AR_POLICY_ACTION_LOG)
        to = c->grants;
      else if (old_syscalls->action.value == AR_POLICY_ACTION_LOG)
        to = c->takes;
      fprintf (to, "  denied system calls: %s -> %s\n", ar_policy_action_names[old_syscalls->action.value],
               ar_policy_action_names[new_syscalls->action.value]);
    }
}

static void
diff_resources (struct changes *c, const struct ar_policy *a, const struct ar_policy *b)
{
  diff_limit (c, &a->resources.memory, &b->resources.memory, "memory", ar_policy_format_size);
  {
    /* Swap only counts with a memory limit, and is 0 unless set. */
    struct ar_policy_number old_swap = { a->resources.memory.set, a->resources.swap.value, a->resources.swap.pos };
    struct ar_policy_number new_swap = { b->resources.memory.set, b->resources.swap.value, b->resources.swap.pos };

    diff_limit (c, &old_swap, &new_swap, "swap", ar_policy_format_size);
  }
  diff_limit (c, &a->resources.cpu, &b->resources.cpu, "CPU", ar_policy_format_cpu);
  diff_limit (c, &a->resources.pids, &b->resources.pids, "process", format_count);
  diff_limit (c, &a->resources.io_weight, &b->resources.io_weight, "I/O weight", format_count);
  diff_limit (c, &a->resources.open_files, &b->resources.open_files, "open file", format_count);
  diff_limit (c, &a->resources.wall_clock, &b->resources.wall_clock, "run time", ar_policy_format_duration);
}

static char *
egress_text (const struct ar_policy_egress *rule)
{
  cleanup_free char *ports = ar_policy_format_ports (&rule->ports);

  return ar_xasprintf ("%s %s/%s", rule->domain.value != NULL ? rule->domain.value : rule->cidr.value,
                       ar_policy_protocol_names[rule->protocol.value], ports);
}

static char *
ingress_text (const struct ar_policy_ingress *rule)
{
  cleanup_free char *ports = ar_policy_format_ports (&rule->ports);

  return ar_xasprintf ("%s/%s", ar_policy_protocol_names[rule->protocol.value], ports);
}

/* Compares two lists of network rules by their text. */
static void
diff_rules (struct changes *c, char **old_texts, size_t n_old, char **new_texts, size_t n_new, const char *added,
            const char *removed)
{
  for (size_t i = 0; i < n_new; i++)
    {
      bool found = false;

      for (size_t j = 0; j < n_old && !found; j++)
        found = strcmp (new_texts[i], old_texts[j]) == 0;
      if (!found)
        fprintf (c->grants, "  %s %s\n", added, new_texts[i]);
    }
  for (size_t i = 0; i < n_old; i++)
    {
      bool found = false;

      for (size_t j = 0; j < n_new && !found; j++)
        found = strcmp (old_texts[i], new_texts[j]) == 0;
      if (!found)
        fprintf (c->takes, "  %s %s\n", removed, old_texts[i]);
    }
}

static void
diff_network (struct changes *c, const struct ar_policy *a, const struct ar_policy *b)
{
  const struct ar_policy_network *old_network = &a->network;
  const struct ar_policy_network *new_network = &b->network;
  char **old_texts = ar_xmalloc0 ((old_network->egress.n + old_network->ingress.n + 1) * sizeof (char *));
  char **new_texts = ar_xmalloc0 ((new_network->egress.n + new_network->ingress.n + 1) * sizeof (char *));

  /* The modes are declared from the most closed to the most open. */
  if (old_network->mode.value != new_network->mode.value)
    fprintf (new_network->mode.value > old_network->mode.value ? c->grants : c->takes, "  network mode %s -> %s\n",
             ar_policy_network_mode_names[old_network->mode.value],
             ar_policy_network_mode_names[new_network->mode.value]);

  for (size_t i = 0; i < old_network->egress.n; i++)
    old_texts[i] = egress_text (&((const struct ar_policy_egress *) old_network->egress.items)[i]);
  for (size_t i = 0; i < new_network->egress.n; i++)
    new_texts[i] = egress_text (&((const struct ar_policy_egress *) new_network->egress.items)[i]);
  diff_rules (c, old_texts, old_network->egress.n, new_texts, new_network->egress.n, "may connect to",
              "may no longer connect to");
  ar_strv_free (old_texts);
  ar_strv_free (new_texts);

  old_texts = ar_xmalloc0 ((old_network->ingress.n + 1) * sizeof (char *));
  new_texts = ar_xmalloc0 ((new_network->ingress.n + 1) * sizeof (char *));
  for (size_t i = 0; i < old_network->ingress.n; i++)
    old_texts[i] = ingress_text (&((const struct ar_policy_ingress *) old_network->ingress.items)[i]);
  for (size_t i = 0; i < new_network->ingress.n; i++)
    new_texts[i] = ingress_text (&((const struct ar_policy_ingress *) new_network->ingress.items)[i]);
  diff_rules (c, old_texts, old_network->ingress.n, new_texts, new_network->ingress.n, "accepts connections on",
              "no longer accepts connections on");
  ar_strv_free (old_texts);
  ar_strv_free (new_texts);
}

static bool
strings_differ (const char *a, const char *b)
{
  return (a == NULL) != (b == NULL) || (a != NULL && strcmp (a, b) != 0);
}

static void
diff_identity (struct changes *c, const struct ar_policy *a, const struct ar_policy *b)
{
  const struct ar_policy_identity *old_identity = &a->identity;
  const struct ar_policy_identity *new_identity = &b->identity;

  if (!old_identity->present && !new_identity->present)
    return;
  if (!old_identity->present || !new_identity->present)
    {
      fprintf (new_identity->present ? c->grants : c->takes, "  %s a SPIFFE identity\n",
               new_identity->present ? "receives" : "no longer receives");
      return;
    }
  if (strings_differ (old_identity->trust_domain.value, new_identity->trust_domain.value)
      || strings_differ (old_identity->id_template.value, new_identity->id_template.value))
    fprintf (c->other, "  SPIFFE ID spiffe://%s... -> %s in %s\n", old_identity->trust_domain.value,
             new_identity->id_template.value, new_identity->trust_domain.value);
  if (strings_differ (old_identity->svid_dir.value, new_identity->svid_dir.value))
    fprintf (c->other, "  SVID folder %s -> %s\n", old_identity->svid_dir.value, new_identity->svid_dir.value);
  diff_list (&old_identity->jwt_audiences, &new_identity->jwt_audiences,
             (struct phrase){ c->grants, "may get JWT-SVIDs for", "" },
             (struct phrase){ c->takes, "may no longer get JWT-SVIDs for", "" });
  if (old_identity->lifetime.value != new_identity->lifetime.value)
    {
      cleanup_free char *old_text = ar_policy_format_duration (old_identity->lifetime.value);
      cleanup_free char *new_text = ar_policy_format_duration (new_identity->lifetime.value);

      fprintf (new_identity->lifetime.value > old_identity->lifetime.value ? c->grants : c->takes,
               "  SVID lifetime %s -> %s\n", old_text, new_text);
    }
}

char *
ar_policy_diff (const struct ar_policy *a, const struct ar_policy *b)
{
  struct changes c = { 0 };
  char *out = NULL;
  size_t len = 0;
  FILE *f;

  c.grants = open_memstream (&c.grants_text, &c.grants_len);
  c.takes = open_memstream (&c.takes_text, &c.takes_len);
  c.other = open_memstream (&c.other_text, &c.other_len);
  f = open_memstream (&out, &len);
  if (c.grants == NULL || c.takes == NULL || c.other == NULL || f == NULL)
    abort ();

  if (a->mode.value != b->mode.value)
    fprintf (b->mode.value == AR_POLICY_MODE_AUDIT ? c.grants : c.takes, "  mode %s -> %s%s\n",
             ar_policy_mode_names[a->mode.value], ar_policy_mode_names[b->mode.value],
             b->mode.value == AR_POLICY_MODE_AUDIT ? " (nothing is enforced)" : "");
  diff_filesystem (&c, a, b);
  diff_process (&c, a, b);
  diff_syscalls (&c, a, b);
  diff_resources (&c, a, b);
  diff_network (&c, a, b);
  diff_identity (&c, a, b);
  if (strings_differ (a->name.value, b->name.value))
    fprintf (c.other, "  name %s -> %s\n", a->name.value, b->name.value);
  if (strings_differ (a->audit.events.value, b->audit.events.value))
    fprintf (c.other, "  audit events %s -> %s\n", a->audit.events.value, b->audit.events.value);

  fclose (c.grants);
  fclose (c.takes);
  fclose (c.other);
  if (c.grants_len > 0)
    fprintf (f, "Grants:\n%s", c.grants_text);
  if (c.takes_len > 0)
    fprintf (f, "%sTakes away:\n%s", c.grants_len > 0 ? "\n" : "", c.takes_text);
  if (c.other_len > 0)
    fprintf (f, "%sOther changes:\n%s", c.grants_len + c.takes_len > 0 ? "\n" : "", c.other_text);
  fclose (f);
  free (c.grants_text);
  free (c.takes_text);
  free (c.other_text);
  return out;
}
