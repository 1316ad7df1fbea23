#define _GNU_SOURCE
#include "validate.h"

#include <ctype.h>
#include <errno.h>
#include <libgen.h>
#include <linux/capability.h>
#include <netinet/in.h>
#include <seccomp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/capability.h>
#include <sys/socket.h>

#include "diagnostics.h"
#include "oci/config.h"
#include "oci/util.h"
#include "values.h"

/* The highest system call number probed for "did you mean" lists.  The
 * native numbers of every architecture in libseccomp 2.5 stay below it. */
#define MAX_SYSCALL_NUMBER 1024

struct check
{
  struct ar_policy *policy;
  struct ar_policy_report *report;
};

static void error_at (struct check *c, struct ar_policy_pos pos, const char *field, const char *fmt, ...)
    ar_printf_like (4, 5);
static void warn_at (struct check *c, struct ar_policy_pos pos, const char *field, const char *fmt, ...)
    ar_printf_like (4, 5);

static void
add_at (struct check *c, enum ar_policy_severity severity, struct ar_policy_pos pos, const char *field,
        const char *fmt, va_list ap)
{
  cleanup_free char *message = NULL;

  if (vasprintf (&message, fmt, ap) < 0)
    abort ();
  ar_policy_report_add (c->report, severity, pos.line, pos.column, field, "%s", message);
}

static void
error_at (struct check *c, struct ar_policy_pos pos, const char *field, const char *fmt, ...)
{
  va_list ap;

  va_start (ap, fmt);
  add_at (c, AR_POLICY_ERROR, pos, field, fmt, ap);
  va_end (ap);
}

static void
warn_at (struct check *c, struct ar_policy_pos pos, const char *field, const char *fmt, ...)
{
  va_list ap;

  va_start (ap, fmt);
  add_at (c, AR_POLICY_WARNING, pos, field, fmt, ap);
  va_end (ap);
}

static char *
item_field (const char *list, size_t index)
{
  return ar_xasprintf ("%s[%zu]", list, index);
}

char **
ar_policy_capability_names (void)
{
  char **names = ar_xmalloc0 ((CAP_LAST_CAP + 2) * sizeof (char *));
  size_t n = 0;

  for (cap_value_t value = 0; value <= CAP_LAST_CAP; value++)
    {
      char *name = cap_to_name (value);

      if (name == NULL)
        continue;
      if (ar_str_has_prefix (name, "cap_"))
        {
          names[n] = ar_xstrdup (name);
          for (char *p = names[n]; *p; p++)
            *p = (char) toupper ((unsigned char) *p);
          n++;
        }
      cap_free (name);
    }
  return names;
}

char **
ar_policy_syscall_names (void)
{
  char **names = ar_xmalloc0 ((MAX_SYSCALL_NUMBER + 1) * sizeof (char *));
  size_t n = 0;

  for (int number = 0; number < MAX_SYSCALL_NUMBER; number++)
    {
      char *name = seccomp_syscall_resolve_num_arch (SCMP_ARCH_NATIVE, number);

      if (name != NULL)
        names[n++] = name;
    }
  return names;
}

const char *
ar_policy_capability_risk (const char *name)
{
  static const struct
  {
    const char *name;
    const char *risk;
  } risky[] = {
    { "CAP_SYS_ADMIN", "it is close to full root: mounts, namespaces and many kernel interfaces" },
    { "CAP_SYS_MODULE", "it loads kernel modules, which run with no restriction at all" },
    { "CAP_SYS_RAWIO", "it gives raw access to I/O ports and devices" },
    { "CAP_SYS_PTRACE", "it lets the agent trace and read the memory of other processes" },
    { "CAP_SYS_BOOT", "it reboots the host" },
    { "CAP_SYS_TIME", "it sets the host's clock" },
    { "CAP_NET_ADMIN", "it reconfigures interfaces, routes and firewall rules, which can undo network rules" },
    { "CAP_DAC_READ_SEARCH", "it reads any file and opens files by handle, outside the container's root" },
    { "CAP_BPF", "it loads eBPF programs into the kernel" },
    { "CAP_PERFMON", "it reads kernel and process performance data" },
    { "CAP_SYSLOG", "it reads the kernel log and kernel addresses" },
    { "CAP_MAC_ADMIN", "it changes the mandatory access control policy" },
    { "CAP_MAC_OVERRIDE", "it bypasses mandatory access control" },
  };

  for (size_t i = 0; i < sizeof (risky) / sizeof (risky[0]); i++)
    if (strcmp (risky[i].name, name) == 0)
      return risky[i].risk;
  return NULL;
}

const char *
ar_policy_syscall_risk (const char *name)
{
  static const struct
  {
    const char *name;
    const char *risk;
  } risky[] = {
    { "ptrace", "it inspects and controls other processes" },
    { "process_vm_readv", "it reads the memory of other processes" },
    { "process_vm_writev", "it writes the memory of other processes" },
    { "mount", "it changes the container's view of filesystems" },
    { "umount2", "it removes mounts that hide or protect paths" },
    { "pivot_root", "it changes the root filesystem" },
    { "unshare", "it creates namespaces, a common start of kernel exploits" },
    { "setns", "it joins other namespaces" },
    { "bpf", "it loads eBPF programs into the kernel" },
    { "perf_event_open", "it reads kernel and process performance data" },
    { "keyctl", "it reaches the kernel keyring, shared with the host" },
    { "add_key", "it reaches the kernel keyring, shared with the host" },
    { "request_key", "it reaches the kernel keyring, shared with the host" },
    { "userfaultfd", "it stalls kernel code at chosen points, a common exploit aid" },
    { "kexec_load", "it replaces the running kernel" },
    { "kexec_file_load", "it replaces the running kernel" },
    { "init_module", "it loads kernel modules" },
    { "finit_module", "it loads kernel modules" },
    { "delete_module", "it unloads kernel modules" },
    { "open_by_handle_at", "it opens host files by handle, outside the container's root" },
    { "reboot", "it reboots the host" },
    { "swapon", "it changes the host's swap" },
    { "swapoff", "it changes the host's swap" },
    { "iopl", "it gives raw access to I/O ports" },
    { "ioperm", "it gives raw access to I/O ports" },
    { "io_uring_setup", "io_uring bypasses seccomp for the operations it runs" },
  };

  for (size_t i = 0; i < sizeof (risky) / sizeof (risky[0]); i++)
    if (strcmp (risky[i].name, name) == 0)
      return risky[i].risk;
  return NULL;
}

static void
check_name (struct check *c)
{
  const char *name = c->policy->name.value;
  size_t len;

  if (name == NULL)
    return;
  len = strlen (name);
  if (len == 0 || len > 63 || !(islower ((unsigned char) name[0]) || isdigit ((unsigned char) name[0]))
      || strspn (name, "abcdefghijklmnopqrstuvwxyz0123456789._-") != len)
    error_at (c, c->policy->name.pos, "name",
              "invalid name `%s`: use 1 to 63 lowercase letters, digits, '.', '_' or '-', starting with a letter "
              "or digit",
              name);
}

/* Reports entries that a list repeats. */
static void
check_duplicates (struct check *c, const struct ar_policy_list *list, const char *field)
{
  for (size_t i = 0; i < list->n; i++)
    for (size_t j = 0; j < i; j++)
      if (strcmp (list->values[i], list->values[j]) == 0)
        {
          cleanup_free char *item = item_field (field, i);

          warn_at (c, list->positions[i], item, "`%s` is listed twice (also at line %u); remove one",
                   list->values[i], list->positions[j].line);
          break;
        }
}

/* Reports a path of `a` that is, or lies within, a path of `b`. */
static void
check_nested (struct check *c, const struct ar_policy_list *a, const char *a_field, const struct ar_policy_list *b,
              const char *b_field, const char *why)
{
  for (size_t i = 0; i < a->n; i++)
    for (size_t j = 0; j < b->n; j++)
      if (ar_policy_path_within (a->values[i], b->values[j]))
        {
          cleanup_free char *item = item_field (a_field, i);

          error_at (c, a->positions[i], item, "`%s` is within `%s` of %s (line %u): %s", a->values[i],
                    b->values[j], b_field, b->positions[j].line, why);
        }
}

static bool
is_kernel_filesystem_path (const char *path)
{
  return ar_policy_path_within (path, "/proc") || ar_policy_path_within (path, "/sys");
}

static void
check_filesystem (struct check *c)
{
  struct ar_policy_filesystem *fs = &c->policy->filesystem;
  struct ar_policy_tmpfs *tmpfs = fs->tmpfs.items;

  check_duplicates (c, &fs->readonly_paths, "filesystem.readonly_paths");
  check_duplicates (c, &fs->readwrite_paths, "filesystem.readwrite_paths");
  check_duplicates (c, &fs->denied_paths, "filesystem.denied_paths");

  for (size_t i = 0; i < fs->readwrite_paths.n; i++)
    {
      const char *path = fs->readwrite_paths.values[i];
      cleanup_free char *item = item_field ("filesystem.readwrite_paths", i);

      if (strcmp (path, "/") == 0)
        error_at (c, fs->readwrite_paths.positions[i], item,
                  "`/` makes every path writable; set readonly_rootfs: false to say that, or list the folders the "
                  "agent writes");
      else if (is_kernel_filesystem_path (path))
        warn_at (c, fs->readwrite_paths.positions[i], item,
                 "`%s` makes part of /proc or /sys writable, which reaches kernel settings shared with the host; "
                 "remove it unless the agent must tune the kernel",
                 path);
    }
  if (fs->readonly_rootfs.set && !fs->readonly_rootfs.value && fs->readwrite_paths.n > 0)
    warn_at (c, fs->readwrite_paths.pos, "filesystem.readwrite_paths",
             "has no effect while readonly_rootfs is false, because every path outside readonly_paths is writable; "
             "set readonly_rootfs: true to make these the only writable paths");

  for (size_t i = 0; i < fs->denied_paths.n; i++)
    if (strcmp (fs->denied_paths.values[i], "/") == 0)
      {
        cleanup_free char *item = item_field ("filesystem.denied_paths", i);
        error_at (c, fs->denied_paths.positions[i], item, "`/` would hide the whole root filesystem; list the "
                  "paths to hide");
      }

  /* A path the agent may write cannot also be read-only or hidden. */
  for (size_t i = 0; i < fs->readwrite_paths.n; i++)
    for (size_t j = 0; j < fs->readonly_paths.n; j++)
      if (strcmp (fs->readwrite_paths.values[i], fs->readonly_paths.values[j]) == 0)
        {
          cleanup_free char *item = item_field ("filesystem.readwrite_paths", i);
          error_at (c, fs->readwrite_paths.positions[i], item,
                    "`%s` is also in readonly_paths (line %u); keep it in one list", fs->readwrite_paths.values[i],
                    fs->readonly_paths.positions[j].line);
        }
  check_nested (c, &fs->readwrite_paths, "filesystem.readwrite_paths", &fs->denied_paths,
                "filesystem.denied_paths", "a hidden path cannot be written; remove one of them");
  check_nested (c, &fs->readonly_paths, "filesystem.readonly_paths", &fs->denied_paths, "filesystem.denied_paths",
                "the path is hidden anyway; remove it from readonly_paths");

  for (size_t i = 0; i < fs->tmpfs.n; i++)
    {
      cleanup_free char *item = ar_xasprintf ("filesystem.tmpfs[%zu].path", i);
      const char *path = tmpfs[i].path.value;

      if (path == NULL)
        continue;
      if (strcmp (path, "/") == 0 || is_kernel_filesystem_path (path))
        error_at (c, tmpfs[i].path.pos, item, "a tmpfs cannot replace `%s`; mount it at a folder such as /tmp",
                  path);
      for (size_t j = 0; j < i; j++)
        if (tmpfs[j].path.value != NULL && strcmp (tmpfs[j].path.value, path) == 0)
          error_at (c, tmpfs[i].path.pos, item, "`%s` already has a tmpfs (line %u); keep one", path,
                    tmpfs[j].pos.line);
      for (size_t j = 0; j < fs->denied_paths.n; j++)
        if (ar_policy_path_within (path, fs->denied_paths.values[j]))
          error_at (c, tmpfs[i].path.pos, item, "`%s` is within the denied path `%s` (line %u); remove one of them",
                    path, fs->denied_paths.values[j], fs->denied_paths.positions[j].line);
      for (size_t j = 0; j < fs->readonly_paths.n; j++)
        if (strcmp (path, fs->readonly_paths.values[j]) == 0)
          error_at (c, tmpfs[i].path.pos, item,
                    "`%s` is also in readonly_paths (line %u), but a tmpfs is writable; remove one of them", path,
                    fs->readonly_paths.positions[j].line);
    }
}

static void
check_capabilities (struct check *c)
{
  struct ar_policy_process *process = &c->policy->process;
  struct ar_policy_list *caps = &process->capabilities;

  for (size_t i = 0; i < caps->n; i++)
    {
      cleanup_free char *item = item_field ("process.capabilities", i);
      int number = ar_policy_capability_number (caps->values[i]);

      if (number < 0)
        {
          cleanup_strv char **names = ar_policy_capability_names ();
          cleanup_free char *prefixed = ar_xasprintf ("CAP_%s", caps->values[i]);
          const char *closest = ar_policy_closest (caps->values[i], (const char *const *) names);

          if (ar_policy_capability_number (prefixed) >= 0)
            error_at (c, caps->positions[i], item, "unknown capability `%s`; write it with its prefix: CAP_%s",
                      caps->values[i], caps->values[i]);
          else if (closest != NULL)
            error_at (c, caps->positions[i], item, "unknown capability `%s`; did you mean `%s`?", caps->values[i],
                      closest);
          else
            error_at (c, caps->positions[i], item,
                      "unknown capability `%s`; use a name from capabilities(7) such as CAP_NET_BIND_SERVICE",
                      caps->values[i]);
          continue;
        }

      for (char *p = caps->values[i]; *p; p++)
        *p = (char) toupper ((unsigned char) *p);
      process->capability_mask |= UINT64_C (1) << number;

      if (ar_policy_capability_risk (caps->values[i]) != NULL)
        warn_at (c, caps->positions[i], item, "keeping %s is risky: %s; drop it unless the agent cannot work "
                 "without it",
                 caps->values[i], ar_policy_capability_risk (caps->values[i]));
    }
  check_duplicates (c, caps, "process.capabilities");
}

static void
check_process (struct check *c)
{
  struct ar_policy_process *process = &c->policy->process;

  check_capabilities (c);
  if (process->user.set && process->user.uid == 0)
    warn_at (c, process->user.pos, "process.user",
             "the agent runs as root (uid 0) inside the container; use a non-zero uid such as 1000");
  if (process->no_new_privileges.set && !process->no_new_privileges.value)
    warn_at (c, process->no_new_privileges.pos, "process.no_new_privileges",
             "false lets setuid programs and file capabilities raise privileges; set it to true");
  if (process->host_pid.value)
    warn_at (c, process->host_pid.pos, "process.host_pid",
             "sharing the host's PID namespace lets the agent see and signal host processes; set it to false");
}

/* Checks that a file contains an OCI linux.seccomp object, by parsing it
 * as part of a minimal config.json with the config model's parser. */
static void
load_seccomp_file (struct check *c)
{
  struct ar_policy_syscalls *syscalls = &c->policy->syscalls;
  cleanup_free char *text = NULL;
  cleanup_free char *config_text = NULL;
  cleanup_error ar_error_t err = NULL;
  struct ar_config *config = NULL;
  json_error_t json_error;
  json_t *profile;
  json_t *wrapper;

  if (syscalls->base.value[0] == '/')
    syscalls->base_file = ar_xstrdup (syscalls->base.value);
  else
    {
      cleanup_free char *origin = ar_xstrdup (c->policy->origin);

      syscalls->base_file = ar_xasprintf ("%s/%s", dirname (origin), syscalls->base.value);
    }

  if (ar_read_file (syscalls->base_file, &text, NULL, &err) < 0)
    {
      cleanup_free char *message = ar_error_format (err);
      error_at (c, syscalls->base.pos, "syscalls.base", "%s; give the path of an OCI seccomp JSON file, relative "
                "to the policy's folder or absolute",
                message);
      return;
    }

  profile = json_loads (text, 0, &json_error);
  if (profile == NULL || !json_is_object (profile))
    {
      if (profile == NULL)
        error_at (c, syscalls->base.pos, "syscalls.base", "`%s` is not valid JSON: line %d, column %d: %s",
                  syscalls->base_file, json_error.line, json_error.column, json_error.text);
      else
        error_at (c, syscalls->base.pos, "syscalls.base", "`%s` must hold a JSON object (linux.seccomp of an OCI "
                  "config)",
                  syscalls->base_file);
      json_decref (profile);
      return;
    }

  wrapper = json_pack ("{s:s, s:{s:s}, s:{s:O}}", "ociVersion", "1.2.0", "root", "path", "rootfs", "linux",
                       "seccomp", profile);
  config_text = json_dumps (wrapper, 0);
  json_decref (wrapper);
  if (ar_config_parse (config_text, strlen (config_text), syscalls->base_file, &config, &err) < 0)
    {
      cleanup_free char *message = ar_error_format (err);
      error_at (c, syscalls->base.pos, "syscalls.base", "invalid seccomp profile: %s", message);
      json_decref (profile);
      return;
    }
  ar_config_free (config);
  syscalls->base_profile = profile;
}

static void
check_syscall_list (struct check *c, struct ar_policy_list *list, const char *field, bool warn_risky)
{
  for (size_t i = 0; i < list->n; i++)
    {
      cleanup_free char *item = item_field (field, i);

      if (!ar_policy_syscall_known (list->values[i]))
        {
          cleanup_strv char **names = ar_policy_syscall_names ();
          const char *closest = ar_policy_closest (list->values[i], (const char *const *) names);

          if (closest != NULL)
            error_at (c, list->positions[i], item, "unknown system call `%s`; did you mean `%s`?", list->values[i],
                      closest);
          else
            error_at (c, list->positions[i], item,
                      "unknown system call `%s`: libseccomp does not know it; check the name in syscalls(2)",
                      list->values[i]);
          continue;
        }
      if (warn_risky && ar_policy_syscall_risk (list->values[i]) != NULL)
        warn_at (c, list->positions[i], item, "allowing %s is risky: %s; remove it unless the agent needs it",
                 list->values[i], ar_policy_syscall_risk (list->values[i]));
    }
  check_duplicates (c, list, field);
}

static void
check_syscalls (struct check *c)
{
  struct ar_policy_syscalls *syscalls = &c->policy->syscalls;
  const char *base = syscalls->base.value;

  if (strcmp (base, "default") == 0)
    syscalls->base_kind = AR_POLICY_SECCOMP_DEFAULT;
  else if (strcmp (base, "strict") == 0)
    syscalls->base_kind = AR_POLICY_SECCOMP_STRICT;
  else if (strchr (base, '/') != NULL || (strlen (base) > 5 && strcmp (base + strlen (base) - 5, ".json") == 0))
    {
      syscalls->base_kind = AR_POLICY_SECCOMP_FILE;
      load_seccomp_file (c);
    }
  else
    {
      static const char *const bases[] = { "default", "strict", NULL };
      const char *closest = ar_policy_closest (base, bases);

      error_at (c, syscalls->base.pos, "syscalls.base",
                "unknown base profile `%s`%s%s%s; use default, strict, or a path to an OCI seccomp JSON file such "
                "as ./profile.json",
                base, closest ? " (did you mean `" : "", closest ? closest : "", closest ? "`?)" : "");
    }

  check_syscall_list (c, &syscalls->allow, "syscalls.allow", true);
  check_syscall_list (c, &syscalls->deny, "syscalls.deny", false);
  for (size_t i = 0; i < syscalls->deny.n; i++)
    for (size_t j = 0; j < syscalls->allow.n; j++)
      if (strcmp (syscalls->deny.values[i], syscalls->allow.values[j]) == 0)
        {
          cleanup_free char *item = item_field ("syscalls.deny", i);
          error_at (c, syscalls->deny.positions[i], item, "`%s` is also in allow (line %u); keep it in one list",
                    syscalls->deny.values[i], syscalls->allow.positions[j].line);
        }

  if (syscalls->action.set && syscalls->action.value == AR_POLICY_ACTION_LOG
      && c->policy->mode.value == AR_POLICY_MODE_ENFORCE)
    warn_at (c, syscalls->action.pos, "syscalls.action",
             "log lets denied system calls run and only logs them; use errno or kill to block them");
}

static void
check_resources (struct check *c)
{
  struct ar_policy_resources *resources = &c->policy->resources;
  struct ar_policy_tmpfs *tmpfs = c->policy->filesystem.tmpfs.items;
  uint64_t tmpfs_total = 0;

  if (resources->swap.set && !resources->memory.set)
    error_at (c, resources->swap.pos, "resources.swap",
              "swap is counted on top of the memory limit; set resources.memory too");

  /* Files in a tmpfs are charged to the container's memory cgroup. */
  for (size_t i = 0; i < c->policy->filesystem.tmpfs.n; i++)
    if (tmpfs[i].size.set && tmpfs_total <= UINT64_MAX - tmpfs[i].size.value)
      tmpfs_total += tmpfs[i].size.value;
  if (resources->memory.set && tmpfs_total > resources->memory.value)
    {
      cleanup_free char *total = ar_policy_format_size (tmpfs_total);
      cleanup_free char *memory = ar_policy_format_size (resources->memory.value);

      warn_at (c, resources->memory.pos, "resources.memory",
               "the tmpfs sizes add up to %s, more than the memory limit %s, and tmpfs files count as memory; "
               "shrink the tmpfs entries or raise the limit",
               total, memory);
    }
}

/* The link-local address where most clouds serve instance credentials. */
static bool
covers_metadata_address (const struct ar_policy_cidr *cidr)
{
  static const unsigned char ipv4[4] = { 169, 254, 169, 254 };
  /* fd00:ec2::254, the IPv6 form on AWS. */
  static const unsigned char ipv6[16] = { 0xfd, 0x00, 0x0e, 0xc2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x02, 0x54 };

  return ar_policy_cidr_contains (cidr, AF_INET, ipv4) || ar_policy_cidr_contains (cidr, AF_INET6, ipv6);
}

static void
check_egress_rule (struct check *c, struct ar_policy_egress *rule, size_t index)
{
  cleanup_free char *field = ar_xasprintf ("network.egress[%zu]", index);

  if ((rule->cidr.value == NULL) == (rule->domain.value == NULL))
    {
      error_at (c, rule->pos, field, "an egress rule needs exactly one of cidr or domain; split it into two rules "
                "if it names both");
      return;
    }

  if (rule->cidr.value != NULL)
    {
      cleanup_free char *cidr_field = ar_xasprintf ("%s.cidr", field);
      cleanup_free char *problem = NULL;
      struct ar_policy_cidr cidr;

      if (ar_policy_parse_cidr (rule->cidr.value, &cidr, &problem) < 0)
        {
          error_at (c, rule->cidr.pos, cidr_field, "invalid address range: %s", problem);
          return;
        }
      free (rule->cidr.value);
      rule->cidr.value = ar_policy_format_cidr (&cidr);
      if (cidr.prefix == 0)
        warn_at (c, rule->cidr.pos, cidr_field, "%s allows every %s address; use mode: open if that is meant",
                 rule->cidr.value, cidr.family == AF_INET ? "IPv4" : "IPv6");
      else if (covers_metadata_address (&cidr))
        warn_at (c, rule->cidr.pos, cidr_field,
                 "%s includes the cloud metadata address, which hands out instance credentials on most clouds; "
                 "narrow the range",
                 rule->cidr.value);
    }
  else
    {
      cleanup_free char *domain_field = ar_xasprintf ("%s.domain", field);
      cleanup_free char *problem = NULL;
      cleanup_free char *warning = NULL;
      char *normalized = NULL;

      if (ar_policy_parse_domain (rule->domain.value, &normalized, &problem, &warning) < 0)
        {
          error_at (c, rule->domain.pos, domain_field, "invalid domain: %s", problem);
          return;
        }
      free (rule->domain.value);
      rule->domain.value = normalized;
      if (warning != NULL)
        warn_at (c, rule->domain.pos, domain_field, "%s", warning);
    }
}

static void
check_network (struct check *c)
{
  struct ar_policy_network *network = &c->policy->network;
  struct ar_policy_egress *egress = network->egress.items;
  struct ar_policy_ingress *ingress = network->ingress.items;
  int mode = network->mode.value;

  for (size_t i = 0; i < network->egress.n; i++)
    check_egress_rule (c, &egress[i], i);
  for (size_t i = 0; i < network->ingress.n; i++)
    if (ingress[i].ports.set && ingress[i].ports.n == 0)
      {
        cleanup_free char *field = ar_xasprintf ("network.ingress[%zu].ports", i);
        error_at (c, ingress[i].ports.pos, field, "list at least one port");
      }

  if (mode == AR_POLICY_NETWORK_NONE && (network->egress.n > 0 || network->ingress.n > 0))
    error_at (c, network->egress.n > 0 ? network->egress.pos : network->ingress.pos,
              network->egress.n > 0 ? "network.egress" : "network.ingress",
              "mode none allows no connection at all, so these rules cannot apply; set network.mode: allowlist");
  if (mode == AR_POLICY_NETWORK_ALLOWLIST && network->egress.n == 0)
    warn_at (c, network->mode.pos, "network.mode",
             "allowlist without egress rules allows no outgoing connection; add egress rules, or use mode: none "
             "if the agent needs no network");
  if (mode == AR_POLICY_NETWORK_OPEN && network->egress.n > 0)
    warn_at (c, network->egress.pos, "network.egress",
             "mode open allows every destination, so these rules have no effect; set mode: allowlist to apply "
             "them");
  if (mode == AR_POLICY_NETWORK_HOST)
    warn_at (c, network->mode.pos, "network.mode",
             "host shares the host's network namespace: the agent reaches every host service, including those "
             "on localhost, and no rule applies; use allowlist");
}

static bool
valid_trust_domain (const char *name)
{
  size_t len = strlen (name);

  return len > 0 && len <= 255 && strspn (name, "abcdefghijklmnopqrstuvwxyz0123456789.-_") == len;
}

/* Checks a SPIFFE ID template: spiffe://AUTHORITY/PATH where the
 * placeholders may stand for any valid characters. */
static void
check_id_template (struct check *c, const struct ar_policy_identity *identity)
{
  static const char *const placeholders[] = { "{trust_domain}", "{policy}", "{container_id}", NULL };
  const char *template = identity->id_template.value;
  const char *trust_domain = identity->trust_domain.value;
  const char *rest;
  const char *path;
  size_t authority_len;

  if (!ar_str_has_prefix (template, "spiffe://"))
    {
      error_at (c, identity->id_template.pos, "identity.id_template",
                "a SPIFFE ID starts with spiffe://; write spiffe://{trust_domain}/PATH");
      return;
    }
  rest = template + strlen ("spiffe://");
  path = strchr (rest, '/');
  authority_len = path != NULL ? (size_t) (path - rest) : strlen (rest);
  if (!(authority_len == strlen ("{trust_domain}") && strncmp (rest, "{trust_domain}", authority_len) == 0)
      && !(trust_domain != NULL && authority_len == strlen (trust_domain)
           && strncmp (rest, trust_domain, authority_len) == 0))
    {
      error_at (c, identity->id_template.pos, "identity.id_template",
                "the ID must be in the trust domain; write spiffe://{trust_domain}/PATH");
      return;
    }
  if (path == NULL || path[1] == '\0')
    {
      error_at (c, identity->id_template.pos, "identity.id_template",
                "a workload ID needs a path after the trust domain, such as /agent/{container_id}");
      return;
    }

  for (const char *p = path; *p != '\0';)
    {
      bool matched = false;

      if (*p == '{')
        {
          for (size_t i = 0; placeholders[i] != NULL && !matched; i++)
            if (ar_str_has_prefix (p, placeholders[i]))
              {
                p += strlen (placeholders[i]);
                matched = true;
              }
          if (!matched && ar_str_has_prefix (p, "{annotation:"))
            {
              const char *key = p + strlen ("{annotation:");
              size_t key_len = strcspn (key, "{}");
              cleanup_free char *name = strndup (key, key_len);
              const char *problem = NULL;

              if (name == NULL)
                abort ();
              if (key[key_len] != '}')
                {
                  error_at (c, identity->id_template.pos, "identity.id_template",
                            "the placeholder `%.40s` has no closing `}`; write {annotation:KEY}", p);
                  return;
                }
              if (ar_policy_check_annotation_key (name, &problem) < 0)
                {
                  error_at (c, identity->id_template.pos, "identity.id_template",
                            "invalid annotation key `%s` in {annotation:%s}: %s", name, name, problem);
                  return;
                }
              p = key + key_len + 1;
              continue;
            }
          if (!matched)
            {
              error_at (c, identity->id_template.pos, "identity.id_template",
                        "unknown placeholder at `%.20s`; use {trust_domain}, {policy}, {container_id} or "
                        "{annotation:KEY}",
                        p);
              return;
            }
          continue;
        }
      if (*p == '/' && (p[1] == '/' || p[1] == '\0'))
        {
          error_at (c, identity->id_template.pos, "identity.id_template",
                    "the path has an empty segment; remove the repeated or trailing /");
          return;
        }
      if (*p == '/' && p[1] == '.' && (p[2] == '/' || p[2] == '\0' || (p[2] == '.' && (p[3] == '/' || p[3] == '\0'))))
        {
          error_at (c, identity->id_template.pos, "identity.id_template",
                    "the path may not contain . or .. segments");
          return;
        }
      if (*p != '/' && !isalnum ((unsigned char) *p) && strchr ("-._", *p) == NULL)
        {
          error_at (c, identity->id_template.pos, "identity.id_template",
                    "`%c` may not appear in a SPIFFE ID path; use letters, digits, '-', '.' and '_'", *p);
          return;
        }
      p++;
    }
}

static void
check_identity (struct check *c)
{
  struct ar_policy_identity *identity = &c->policy->identity;

  if (!identity->present)
    return;
  if (identity->trust_domain.value != NULL && !valid_trust_domain (identity->trust_domain.value))
    error_at (c, identity->trust_domain.pos, "identity.trust_domain",
              "invalid trust domain `%s`: use lowercase letters, digits, '.', '-' and '_', such as example.org",
              identity->trust_domain.value);
  if (identity->id_template.value != NULL)
    check_id_template (c, identity);
  if (identity->svid_dir.value != NULL && is_kernel_filesystem_path (identity->svid_dir.value))
    error_at (c, identity->svid_dir.pos, "identity.svid_dir",
              "the SVID files cannot go under /proc or /sys; use a folder such as /run/spiffe");

  for (size_t i = 0; i < identity->jwt_audiences.n; i++)
    if (identity->jwt_audiences.values[i][0] == '\0')
      {
        cleanup_free char *item = item_field ("identity.jwt_audiences", i);
        error_at (c, identity->jwt_audiences.positions[i], item, "an audience cannot be empty; remove it");
      }
  check_duplicates (c, &identity->jwt_audiences, "identity.jwt_audiences");

  if (identity->lifetime.value > 24 * 60 * 60)
    warn_at (c, identity->lifetime.pos, "identity.lifetime",
             "SVIDs valid for more than a day stay useful to whoever copies them; use 1h and let them rotate");
}

static void
check_audit (struct check *c)
{
  struct ar_policy_audit *audit = &c->policy->audit;
  const char *events = audit->events.value;

  if (strcmp (events, "log") == 0 || strcmp (events, "stderr") == 0)
    return;
  if (events[0] != '/')
    {
      error_at (c, audit->events.pos, "audit.events",
                "unknown destination `%s`; use log, stderr, or an absolute file path", events);
      return;
    }
  {
    const char *problem = NULL;
    char *normalized = ar_policy_normalize_path (events, &problem);

    if (normalized == NULL)
      {
        error_at (c, audit->events.pos, "audit.events", "invalid path `%s`: %s", events, problem);
        return;
      }
    free (audit->events.value);
    audit->events.value = normalized;
  }
}

void
ar_policy_validate (struct ar_policy *policy, struct ar_policy_report *report)
{
  struct check c = { policy, report };

  check_name (&c);
  check_filesystem (&c);
  check_process (&c);
  check_syscalls (&c);
  check_resources (&c);
  check_network (&c);
  check_identity (&c);
  check_audit (&c);

  if (policy->mode.value == AR_POLICY_MODE_AUDIT)
    warn_at (&c, policy->mode.pos, "mode",
             "audit blocks nothing that config.json allows and only reports conflicts; switch to enforce once the "
             "policy fits the agent");
}
