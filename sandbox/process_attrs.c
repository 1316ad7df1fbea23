/* The per-process settings of config.json that the container process
 * applies to itself before exec: rlimits, capabilities, user and groups,
 * umask, I/O priority, scheduler, personality and oom_score_adj. */
#define _GNU_SOURCE
#include "process_attrs.h"

#include <errno.h>
#include <grp.h>
#include <inttypes.h>
#include <linux/ioprio.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/capability.h>
#include <sys/personality.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "oci/log.h"
#include "oci/util.h"

#ifndef PR_CAP_AMBIENT
#define PR_CAP_AMBIENT 47
#endif

/* Capability sets are uint64_t masks, so numbers above 63 cannot occur. */
#define MAX_CAPABILITY 63

#define CAP_BIT(cap) (UINT64_C (1) << (cap))

/* The argument of sched_setattr(2), as the kernel defines it
 * (SCHED_ATTR_SIZE_VER1).  linux/sched/types.h cannot be included beside
 * glibc's <sched.h>, which both define struct sched_param. */
struct kernel_sched_attr
{
  uint32_t size;
  uint32_t sched_policy;
  uint64_t sched_flags;
  int32_t sched_nice;
  uint32_t sched_priority;
  uint64_t sched_runtime;
  uint64_t sched_deadline;
  uint64_t sched_period;
  uint32_t sched_util_min;
  uint32_t sched_util_max;
};

int
ar_capability_from_name (const char *name)
{
  cap_value_t cap;

  /* cap_from_name also accepts plain numbers such as "12"; config.json
   * names capabilities, so the CAP_ prefix is required. */
  if (name == NULL || strncasecmp (name, "CAP_", 4) != 0 || name[4] == '\0')
    return -1;
  if (cap_from_name (name, &cap) < 0)
    return -1;
  return cap;
}

int
ar_capability_last (void)
{
  static int cached = -1;
  cleanup_free char *text = NULL;
  long value;

  if (cached >= 0)
    return cached;

  if (ar_read_file ("/proc/sys/kernel/cap_last_cap", &text, NULL, NULL) == 0)
    {
      text[strcspn (text, "\n")] = '\0';
      if (ar_parse_long (text, &value) == 0 && value >= 0)
        cached = (int) value;
    }

  /* Without /proc (the container's may not be mounted yet), libcap probes
   * the kernel with PR_CAPBSET_READ. */
  if (cached < 0)
    cached = cap_max_bits () - 1;

  if (cached > MAX_CAPABILITY)
    cached = MAX_CAPABILITY;
  return cached;
}

/* Returns "CAP_SYS_ADMIN" for 21; the caller frees the result. */
static char *
capability_name (int cap)
{
  char *libcap_name = cap_to_name (cap);
  char *name = ar_xstrdup (libcap_name ? libcap_name : "unknown");

  cap_free (libcap_name);
  for (char *p = name; *p; p++)
    *p = (char) (*p >= 'a' && *p <= 'z' ? *p - 'a' + 'A' : *p);
  return name;
}

static bool
in_bounding_set (int cap)
{
  return prctl (PR_CAPBSET_READ, cap, 0, 0, 0) == 1;
}

static bool
in_effective_set (int cap)
{
  cap_flag_value_t value = CAP_CLEAR;
  cap_t caps = cap_get_proc ();

  if (caps == NULL)
    return false;
  cap_get_flag (caps, cap, CAP_EFFECTIVE, &value);
  cap_free (caps);
  return value == CAP_SET;
}

/* Returns whether /proc/self/uid_map shows the initial user namespace,
 * which maps the whole 32-bit range onto itself. */
static bool
in_initial_user_namespace (void)
{
  cleanup_free char *map = NULL;
  unsigned long inside, outside, count;

  if (ar_read_file ("/proc/self/uid_map", &map, NULL, NULL) < 0)
    return true;
  return sscanf (map, "%lu %lu %lu", &inside, &outside, &count) == 3 && inside == 0 && outside == 0
         && count == 4294967295UL;
}

/* ---- rlimits ---- */

static rlim_t
to_rlim (uint64_t value)
{
  return value == UINT64_MAX ? RLIM_INFINITY : (rlim_t) value;
}

/* Formats an rlimit value, "unlimited" for RLIM_INFINITY. */
static const char *
format_rlim (rlim_t value, char *buf, size_t size)
{
  if (value == RLIM_INFINITY)
    return "unlimited";
  snprintf (buf, size, "%llu", (unsigned long long) value);
  return buf;
}

/* Explains why setrlimit failed with EPERM: raising a hard limit needs
 * CAP_SYS_RESOURCE in the initial user namespace, and RLIMIT_NOFILE can
 * never exceed fs.nr_open. */
static int
rlimit_permission_error (const struct ar_rlimit *rl, size_t index, const struct rlimit *requested,
                         ar_error_t *err)
{
  char soft_buf[32], hard_buf[32], current_buf[32];
  const char *soft = format_rlim (requested->rlim_cur, soft_buf, sizeof (soft_buf));
  const char *hard = format_rlim (requested->rlim_max, hard_buf, sizeof (hard_buf));
  const char *fix = "lower the limit in config.json (with podman: --ulimit, or default_ulimits in "
                    "containers.conf) or raise the host's hard limit";
  struct rlimit current;
  const char *current_hard;
  cleanup_free char *nr_open = NULL;
  long nr_open_value;

  if (getrlimit (rl->resource, &current) < 0)
    return ar_make_error (err, EPERM, "cannot set process.rlimits[%zu] (%s) to soft %s, hard %s", index,
                          rl->type, soft, hard);
  current_hard = format_rlim (current.rlim_max, current_buf, sizeof (current_buf));

  if (rl->resource == RLIMIT_NOFILE && ar_read_file ("/proc/sys/fs/nr_open", &nr_open, NULL, NULL) == 0)
    {
      nr_open[strcspn (nr_open, "\n")] = '\0';
      if (ar_parse_long (nr_open, &nr_open_value) == 0 && requested->rlim_max != RLIM_INFINITY
          && requested->rlim_max > (rlim_t) nr_open_value)
        return ar_make_error (err, EPERM,
                              "cannot set process.rlimits[%zu] (%s) to soft %s, hard %s: RLIMIT_NOFILE "
                              "cannot exceed fs.nr_open (%ld) even with CAP_SYS_RESOURCE; %s",
                              index, rl->type, soft, hard, nr_open_value, fix);
    }

  if (current.rlim_max != RLIM_INFINITY
      && (requested->rlim_max == RLIM_INFINITY || requested->rlim_max > current.rlim_max))
    {
      const char *reason;

      if (!in_initial_user_namespace ())
        reason = "needs CAP_SYS_RESOURCE in the initial user namespace, and this process runs in a user "
              "namespace";
      else if (!in_bounding_set (CAP_SYS_RESOURCE))
        reason = "needs CAP_SYS_RESOURCE, which is not in this process's bounding set, so no process "
              "started from here can raise it";
      else if (!in_effective_set (CAP_SYS_RESOURCE))
        reason = "needs CAP_SYS_RESOURCE, which this process does not have in its effective set";
      else
        reason = "needs CAP_SYS_RESOURCE";

      return ar_make_error (err, EPERM,
                            "cannot set process.rlimits[%zu] (%s) to soft %s, hard %s: raising the hard "
                            "limit above the current %s %s; %s",
                            index, rl->type, soft, hard, current_hard, reason, fix);
    }

  return ar_make_error (err, EPERM, "cannot set process.rlimits[%zu] (%s) to soft %s, hard %s (current hard %s)",
                        index, rl->type, soft, hard, current_hard);
}

int
ar_apply_rlimits (const struct ar_process *process, ar_error_t *err)
{
  for (size_t i = 0; i < process->n_rlimits; i++)
    {
      const struct ar_rlimit *rl = &process->rlimits[i];
      struct rlimit limit = { .rlim_cur = to_rlim (rl->soft), .rlim_max = to_rlim (rl->hard) };
      char soft_buf[32], hard_buf[32];

      if (rl->soft > rl->hard)
        return ar_make_error (err, EINVAL,
                              "process.rlimits[%zu] (%s): the soft limit %s is above the hard limit %s", i,
                              rl->type, format_rlim (limit.rlim_cur, soft_buf, sizeof (soft_buf)),
                              format_rlim (limit.rlim_max, hard_buf, sizeof (hard_buf)));

      if (setrlimit (rl->resource, &limit) == 0)
        continue;
      if (errno == EPERM)
        return rlimit_permission_error (rl, i, &limit, err);
      return ar_make_error (err, errno, "cannot set process.rlimits[%zu] (%s) to soft %s, hard %s", i, rl->type,
                            format_rlim (limit.rlim_cur, soft_buf, sizeof (soft_buf)),
                            format_rlim (limit.rlim_max, hard_buf, sizeof (hard_buf)));
    }
  return 0;
}

/* ---- capabilities ---- */

int
ar_apply_bounding_set (const struct ar_capabilities *caps, ar_error_t *err)
{
  uint64_t keep = caps != NULL ? caps->bounding : 0;
  int last = ar_capability_last ();

  for (int cap = 0; cap <= last; cap++)
    {
      int present;

      if (keep & CAP_BIT (cap))
        {
          if (!in_bounding_set (cap))
            {
              cleanup_free char *name = capability_name (cap);
              ar_debug ("process.capabilities.bounding lists %s, which the bounding set of this process "
                        "already lacks",
                        name);
            }
          continue;
        }

      present = prctl (PR_CAPBSET_READ, cap, 0, 0, 0);
      if (present <= 0)
        continue;

      if (prctl (PR_CAPBSET_DROP, cap, 0, 0, 0) < 0)
        {
          cleanup_free char *name = capability_name (cap);
          return ar_make_error (err, errno,
                                "cannot drop %s from the bounding set (process.capabilities.bounding): "
                                "dropping needs CAP_SETPCAP",
                                name);
        }
    }
  return 0;
}

/* Returns the lowest capability set in mask, or -1. */
static int
first_capability (uint64_t mask)
{
  return mask == 0 ? -1 : __builtin_ctzll (mask);
}

/* Finds why capset rejected the sets, once it has failed. */
static int
capset_error (const struct ar_capabilities *caps, int saved_errno, ar_error_t *err)
{
  cleanup_free char *name = NULL;
  uint64_t current_permitted = 0, current_inheritable = 0, bounding = 0;
  int last = ar_capability_last ();
  cap_t current = cap_get_proc ();
  int cap;

  for (cap = 0; current != NULL && cap <= last; cap++)
    {
      cap_flag_value_t value;

      if (cap_get_flag (current, cap, CAP_PERMITTED, &value) == 0 && value == CAP_SET)
        current_permitted |= CAP_BIT (cap);
      if (cap_get_flag (current, cap, CAP_INHERITABLE, &value) == 0 && value == CAP_SET)
        current_inheritable |= CAP_BIT (cap);
      if (in_bounding_set (cap))
        bounding |= CAP_BIT (cap);
    }
  cap_free (current);

  cap = first_capability (caps->permitted & ~current_permitted);
  if (cap >= 0)
    {
      name = capability_name (cap);
      return ar_make_error (err, saved_errno,
                            "cannot set process.capabilities.permitted: this process does not have %s, "
                            "and no process can gain a capability it lacks; remove it from the "
                            "configuration or run the container with it",
                            name);
    }

  cap = first_capability (caps->inheritable & ~(bounding | current_inheritable));
  if (cap >= 0)
    {
      name = capability_name (cap);
      return ar_make_error (err, saved_errno,
                            "cannot set process.capabilities.inheritable: %s is not in the bounding set; "
                            "add it to process.capabilities.bounding or remove it from inheritable",
                            name);
    }

  return ar_make_error (err, saved_errno,
                        "cannot set the capabilities of process.capabilities (effective %#" PRIx64
                        ", permitted %#" PRIx64 ", inheritable %#" PRIx64 ")",
                        caps->effective, caps->permitted, caps->inheritable);
}

/* Sets effective, permitted and inheritable in one capset(2). */
static int
set_capability_sets (const struct ar_capabilities *caps, ar_error_t *err)
{
  int last = ar_capability_last ();
  cap_t sets = cap_init ();
  int ret = 0;

  if (sets == NULL)
    return ar_make_error (err, errno, "cannot allocate a capability set");

  for (int cap = 0; cap <= last && ret == 0; cap++)
    {
      cap_value_t value = cap;

      if (caps->effective & CAP_BIT (cap))
        ret = cap_set_flag (sets, CAP_EFFECTIVE, 1, &value, CAP_SET);
      if (ret == 0 && (caps->permitted & CAP_BIT (cap)))
        ret = cap_set_flag (sets, CAP_PERMITTED, 1, &value, CAP_SET);
      if (ret == 0 && (caps->inheritable & CAP_BIT (cap)))
        ret = cap_set_flag (sets, CAP_INHERITABLE, 1, &value, CAP_SET);
    }
  if (ret < 0)
    {
      cap_free (sets);
      return ar_make_error (err, errno, "cannot build the capability sets of process.capabilities");
    }

  ret = cap_set_proc (sets);
  cap_free (sets);
  if (ret < 0)
    return capset_error (caps, errno, err);
  return 0;
}

/* Clears the ambient set, then raises each capability of
 * process.capabilities.ambient. */
static int
set_ambient (const struct ar_capabilities *caps, ar_error_t *err)
{
  uint64_t ambient = caps->ambient;
  uint64_t unusable = ambient & ~(caps->permitted & caps->inheritable);
  int last = ar_capability_last ();

  if (cap_reset_ambient () < 0)
    {
      /* Kernels before 4.3 have no ambient set, which matters only when
       * the configuration requests ambient capabilities. */
      if (ambient == 0)
        return 0;
      return ar_make_error (err, errno,
                            "cannot set process.capabilities.ambient: the kernel has no ambient capabilities "
                            "(Linux 4.3 added them)");
    }

  /* The kernel keeps an ambient capability only while it is permitted and
   * inheritable.  A configuration may list ambient capabilities without the
   * matching inheritable ones.  Skipping them only takes privilege away, so
   * they get a warning rather than failing the container. */
  for (int cap = first_capability (unusable); cap >= 0; cap = first_capability (unusable))
    {
      cleanup_free char *name = capability_name (cap);

      ar_warn ("process.capabilities.ambient: not raising %s, because an ambient capability must also be "
               "in permitted and inheritable",
               name);
      unusable &= ~CAP_BIT (cap);
      ambient &= ~CAP_BIT (cap);
    }

  for (int cap = 0; cap <= last; cap++)
    {
      if (!(ambient & CAP_BIT (cap)))
        continue;
      if (cap_set_ambient (cap, CAP_SET) < 0)
        {
          cleanup_free char *name = capability_name (cap);
          return ar_make_error (err, errno, "cannot raise %s in the ambient set (process.capabilities.ambient)",
                                name);
        }
    }
  return 0;
}

/* Returns whether /proc/self/setgroups reads "deny": then setgroups(2)
 * fails with EPERM in this user namespace, whatever the capabilities. */
static bool
setgroups_denied (void)
{
  cleanup_free char *text = NULL;

  if (ar_read_file ("/proc/self/setgroups", &text, NULL, NULL) < 0)
    return false;
  return strncmp (text, "deny", 4) == 0;
}

static int
set_groups (const struct ar_user *user, ar_error_t *err)
{
  if (setgroups (user->n_additional_gids, user->additional_gids) == 0)
    return 0;

  if (errno == EPERM && setgroups_denied ())
    {
      if (user->n_additional_gids > 0)
        ar_warn ("ignoring process.user.additionalGids: setgroups(2) is denied in this user namespace "
                 "(/proc/self/setgroups is `deny`), so the process keeps the supplementary groups it "
                 "inherited");
      else
        ar_debug ("not clearing the supplementary groups: setgroups(2) is denied in this user namespace");
      return 0;
    }

  if (errno == EINVAL)
    return ar_make_error (err, errno,
                          "cannot set process.user.additionalGids: a group is not mapped in the user "
                          "namespace; add it to linux.gidMappings");
  if (errno == EPERM)
    return ar_make_error (err, errno, "cannot set process.user.additionalGids: setgroups(2) needs CAP_SETGID");
  return ar_make_error (err, errno, "cannot set process.user.additionalGids");
}

/* setgid(2) and setuid(2) rather than their setres* forms: with
 * CAP_SETGID and CAP_SETUID they set the real, effective and saved ids
 * alike, and seccomp profiles written for runc allow only these. */
static int
switch_ids (const struct ar_user *user, ar_error_t *err)
{
  if (setgid (user->gid) < 0)
    {
      if (errno == EINVAL)
        return ar_make_error (err, errno,
                              "cannot switch to process.user.gid %u: it is not mapped in the user namespace; "
                              "add it to linux.gidMappings",
                              (unsigned) user->gid);
      return ar_make_error (err, errno, "cannot switch to process.user.gid %u%s", (unsigned) user->gid,
                            errno == EPERM ? ": setgid(2) needs CAP_SETGID" : "");
    }

  if (setuid (user->uid) < 0)
    {
      if (errno == EINVAL)
        return ar_make_error (err, errno,
                              "cannot switch to process.user.uid %u: it is not mapped in the user namespace; "
                              "add it to linux.uidMappings",
                              (unsigned) user->uid);
      return ar_make_error (err, errno, "cannot switch to process.user.uid %u%s", (unsigned) user->uid,
                            errno == EPERM ? ": setuid(2) needs CAP_SETUID" : "");
    }
  return 0;
}

int
ar_apply_user_and_capabilities (const struct ar_process *process, ar_error_t *err)
{
  static const struct ar_capabilities no_capabilities;
  const struct ar_capabilities *caps = process->capabilities ? process->capabilities : &no_capabilities;
  int cap;
  int ret;

  cap = first_capability (caps->effective & ~caps->permitted);
  if (cap >= 0)
    {
      cleanup_free char *name = capability_name (cap);
      return ar_make_error (err, EINVAL,
                            "process.capabilities.effective lists %s, which is not in "
                            "process.capabilities.permitted; add it there",
                            name);
    }

  /* Keeps the permitted set across the switch away from uid 0; the kernel
   * clears the effective set then, and capset below sets it again. */
  if (prctl (PR_SET_KEEPCAPS, 1, 0, 0, 0) < 0)
    return ar_make_error (err, errno, "cannot set PR_SET_KEEPCAPS");

  ret = set_groups (&process->user, err);
  if (ret < 0)
    return ret;

  ret = switch_ids (&process->user, err);
  if (ret < 0)
    return ret;

  ret = set_capability_sets (caps, err);
  if (ret < 0)
    return ret;

  /* After the uid switch: a switch to a non-zero uid clears the ambient set. */
  ret = set_ambient (caps, err);
  if (ret < 0)
    return ret;

  if (prctl (PR_SET_KEEPCAPS, 0, 0, 0, 0) < 0)
    return ar_make_error (err, errno, "cannot clear PR_SET_KEEPCAPS");

  if (process->user.has_umask)
    umask (process->user.umask);
  return 0;
}

/* ---- I/O priority, scheduler, personality, OOM score ---- */

int
ar_apply_io_priority (const struct ar_io_priority *prio, ar_error_t *err)
{
  int priority = prio->priority;

  switch (prio->ioprio_class)
    {
    case IOPRIO_CLASS_RT:
    case IOPRIO_CLASS_BE:
      if (priority < 0 || priority >= IOPRIO_NR_LEVELS)
        return ar_make_error (err, EINVAL, "process.ioPriority.priority is %d, but it must be 0 to %d", priority,
                              IOPRIO_NR_LEVELS - 1);
      break;
    case IOPRIO_CLASS_IDLE:
      priority = 0; /* the idle class has no levels */
      break;
    default:
      return ar_make_error (err, EINVAL,
                            "invalid process.ioPriority.class %d; expected IOPRIO_CLASS_RT, IOPRIO_CLASS_BE "
                            "or IOPRIO_CLASS_IDLE",
                            prio->ioprio_class);
    }

  if (syscall (SYS_ioprio_set, IOPRIO_WHO_PROCESS, 0, IOPRIO_PRIO_VALUE (prio->ioprio_class, priority)) < 0)
    {
      if (errno == EPERM && prio->ioprio_class == IOPRIO_CLASS_RT)
        return ar_make_error (err, errno,
                              "cannot set process.ioPriority: IOPRIO_CLASS_RT needs CAP_SYS_NICE or "
                              "CAP_SYS_ADMIN");
      return ar_make_error (err, errno, "cannot set process.ioPriority (class %d, priority %d)",
                            prio->ioprio_class, priority);
    }
  return 0;
}

static const char *
policy_name (int policy)
{
  switch (policy)
    {
    case SCHED_OTHER:
      return "SCHED_OTHER";
    case SCHED_FIFO:
      return "SCHED_FIFO";
    case SCHED_RR:
      return "SCHED_RR";
    case SCHED_BATCH:
      return "SCHED_BATCH";
    case SCHED_IDLE:
      return "SCHED_IDLE";
#ifdef SCHED_DEADLINE
    case SCHED_DEADLINE:
      return "SCHED_DEADLINE";
#endif
    default:
      return "unknown policy";
    }
}

int
ar_apply_scheduler (const struct ar_scheduler *sched, ar_error_t *err)
{
  struct kernel_sched_attr attr = {
    .size = sizeof (attr),
    .sched_policy = (uint32_t) sched->policy,
    .sched_flags = sched->flags,
    .sched_nice = sched->nice,
    .sched_priority = (uint32_t) sched->priority,
    .sched_runtime = sched->runtime,
    .sched_deadline = sched->deadline,
    .sched_period = sched->period,
  };
  bool realtime = sched->policy == SCHED_FIFO || sched->policy == SCHED_RR;

  /* glibc 2.36 has no sched_setattr wrapper. */
  if (syscall (SYS_sched_setattr, 0, &attr, 0) == 0)
    return 0;

  switch (errno)
    {
    case EINVAL:
      return ar_make_error (err, errno,
                            "invalid process.scheduler (policy %s, nice %d, priority %d, flags %#" PRIx64
                            ", runtime %" PRIu64 ", deadline %" PRIu64 ", period %" PRIu64
                            "): SCHED_FIFO and SCHED_RR take priority 1 to 99 and the other policies 0, "
                            "nice is -20 to 19, and SCHED_DEADLINE needs runtime <= deadline <= period",
                            policy_name (sched->policy), sched->nice, sched->priority, sched->flags,
                            sched->runtime, sched->deadline, sched->period);
    case EPERM:
      if (realtime)
        return ar_make_error (err, errno,
                              "cannot set process.scheduler to %s priority %d: it needs CAP_SYS_NICE or a "
                              "high enough RLIMIT_RTPRIO, and with cgroup v1 real-time group scheduling the "
                              "cgroup needs cpu.rt_runtime_us",
                              policy_name (sched->policy), sched->priority);
      return ar_make_error (err, errno,
                            "cannot set process.scheduler to %s (nice %d): lowering nice or leaving "
                            "SCHED_IDLE needs CAP_SYS_NICE or a high enough RLIMIT_NICE",
                            policy_name (sched->policy), sched->nice);
    case EBUSY:
      return ar_make_error (err, errno,
                            "cannot set process.scheduler to SCHED_DEADLINE: admission control rejected "
                            "runtime %" PRIu64 " and period %" PRIu64 "; there is not enough CPU bandwidth left",
                            sched->runtime, sched->period);
    default:
      return ar_make_error (err, errno, "cannot set process.scheduler to %s", policy_name (sched->policy));
    }
}

struct persona_flag
{
  const char *name;
  unsigned long value;
};

/* The flags of personality(2).  The runtime spec defines no flag names yet,
 * so these use the kernel's constant names. */
static const struct persona_flag persona_flags[] = {
  { "ADDR_COMPAT_LAYOUT", ADDR_COMPAT_LAYOUT },
  { "ADDR_LIMIT_32BIT", ADDR_LIMIT_32BIT },
  { "ADDR_LIMIT_3GB", ADDR_LIMIT_3GB },
  { "ADDR_NO_RANDOMIZE", ADDR_NO_RANDOMIZE },
  { "FDPIC_FUNCPTRS", FDPIC_FUNCPTRS },
  { "MMAP_PAGE_ZERO", MMAP_PAGE_ZERO },
  { "READ_IMPLIES_EXEC", READ_IMPLIES_EXEC },
  { "SHORT_INODE", SHORT_INODE },
  { "STICKY_TIMEOUTS", STICKY_TIMEOUTS },
  { "UNAME26", UNAME26 },
  { "WHOLE_SECONDS", WHOLE_SECONDS },
};

int
ar_apply_personality (const struct ar_personality *config, ar_error_t *err)
{
  unsigned long persona;

  if (config->domain != NULL && strcmp (config->domain, "LINUX") == 0)
    persona = PER_LINUX;
  else if (config->domain != NULL && strcmp (config->domain, "LINUX32") == 0)
    persona = PER_LINUX32;
  else
    return ar_make_error (err, EINVAL, "invalid linux.personality.domain `%s`; expected LINUX or LINUX32",
                          config->domain ? config->domain : "(null)");

  for (size_t i = 0; config->flags != NULL && config->flags[i] != NULL; i++)
    {
      const struct persona_flag *found = NULL;

      for (size_t j = 0; j < sizeof (persona_flags) / sizeof (persona_flags[0]); j++)
        if (strcmp (persona_flags[j].name, config->flags[i]) == 0)
          found = &persona_flags[j];
      if (found == NULL)
        return ar_make_error (err, EINVAL,
                              "unknown personality flag `%s` at linux.personality.flags[%zu]; expected a "
                              "flag of personality(2) such as ADDR_NO_RANDOMIZE",
                              config->flags[i], i);
      persona |= found->value;
    }

  if (personality (persona) < 0)
    return ar_make_error (err, errno, "cannot set linux.personality (persona %#lx)", persona);
  return 0;
}

int
ar_apply_oom_score_adj (int value, ar_error_t *err)
{
  cleanup_free char *current_text = NULL;
  char text[16];
  long current = 0;
  bool have_current;
  int ret;

  if (value < -1000 || value > 1000)
    return ar_make_error (err, EINVAL, "process.oomScoreAdj is %d, but it must be -1000 to 1000", value);

  have_current = ar_read_file ("/proc/self/oom_score_adj", &current_text, NULL, NULL) == 0;
  if (have_current)
    {
      current_text[strcspn (current_text, "\n")] = '\0';
      have_current = ar_parse_long (current_text, &current) == 0;
    }

  snprintf (text, sizeof (text), "%d", value);
  ret = ar_write_file ("/proc/self/oom_score_adj", text, strlen (text), err);
  if (ret < 0)
    {
      if (ret == -EACCES && have_current && value < current)
        return ar_error_wrap (err,
                              "cannot lower process.oomScoreAdj to %d (now %ld): going below the value "
                              "that a privileged process set, usually the inherited one, needs "
                              "CAP_SYS_RESOURCE",
                              value, current);
      return ar_error_wrap (err, "cannot set process.oomScoreAdj to %d", value);
    }
  return 0;
}
