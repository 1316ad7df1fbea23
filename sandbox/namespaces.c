#define _GNU_SOURCE
#include "namespaces.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/nsfs.h>
#include <net/if.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "oci/log.h"
#include "oci/util.h"

#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME 0x00000080
#endif

static const char *const proc_names[AR_NS_COUNT] = {
  [AR_NS_PID] = "pid",   [AR_NS_NETWORK] = "net",   [AR_NS_MOUNT] = "mnt",
  [AR_NS_IPC] = "ipc",   [AR_NS_UTS] = "uts",       [AR_NS_USER] = "user",
  [AR_NS_CGROUP] = "cgroup", [AR_NS_TIME] = "time",
};

int
ar_namespace_clone_flag (enum ar_namespace_type type)
{
  switch (type)
    {
    case AR_NS_PID:
      return CLONE_NEWPID;
    case AR_NS_NETWORK:
      return CLONE_NEWNET;
    case AR_NS_MOUNT:
      return CLONE_NEWNS;
    case AR_NS_IPC:
      return CLONE_NEWIPC;
    case AR_NS_UTS:
      return CLONE_NEWUTS;
    case AR_NS_USER:
      return CLONE_NEWUSER;
    case AR_NS_CGROUP:
      return CLONE_NEWCGROUP;
    case AR_NS_TIME:
      return CLONE_NEWTIME;
    case AR_NS_COUNT:
      break;
    }
  return 0;
}

uint64_t
ar_namespaces_clone_flags (const struct ar_linux *linux_config)
{
  uint64_t flags = 0;

  for (int i = 0; i < AR_NS_COUNT; i++)
    if (linux_config->namespaces[i].present && linux_config->namespaces[i].path == NULL)
      flags |= (uint64_t) ar_namespace_clone_flag ((enum ar_namespace_type) i);
  return flags;
}

int
ar_namespaces_loopback_up (ar_error_t *err)
{
  struct ifreq ifr = { .ifr_name = "lo" };
  cleanup_close int fd = socket (AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);

  if (fd < 0)
    return ar_make_error (err, errno, "cannot open a socket to bring up the loopback interface `lo`");
  if (ioctl (fd, SIOCGIFFLAGS, &ifr) < 0)
    return ar_make_error (err, errno, "cannot read the flags of the loopback interface `lo`");
  if (ifr.ifr_flags & IFF_UP)
    return 0;
  ifr.ifr_flags |= IFF_UP;
  if (ioctl (fd, SIOCSIFFLAGS, &ifr) < 0)
    return ar_make_error (err, errno, "cannot bring up the loopback interface `lo` of the new network namespace");
  ar_debug ("brought up the loopback interface `lo`");
  return 0;
}

const char *
ar_namespaces_describe_flags (uint64_t flags)
{
  static char buf[128];
  size_t len = 0;

  buf[0] = '\0';
  for (int i = 0; i < AR_NS_COUNT; i++)
    if (flags & (uint64_t) ar_namespace_clone_flag ((enum ar_namespace_type) i))
      len += (size_t) snprintf (buf + len, sizeof (buf) - len, "%s%s", len ? ", " : "",
                                ar_namespace_type_name ((enum ar_namespace_type) i));
  if (len == 0)
    snprintf (buf, sizeof (buf), "none");
  return buf;
}

static bool
namespace_kind_supported (enum ar_namespace_type type)
{
  cleanup_free char *path = ar_xasprintf ("/proc/self/ns/%s", proc_names[type]);
  return access (path, F_OK) == 0;
}

/* Opens path and checks that it is a namespace of the expected type. */
static int
open_namespace (enum ar_namespace_type type, const char *path, ar_error_t *err)
{
  cleanup_close int fd = open (path, O_RDONLY | O_CLOEXEC);
  int nstype;

  if (fd < 0)
    return ar_make_error (err, errno, "linux.namespaces: cannot open the %s namespace `%s`",
                          ar_namespace_type_name (type), path);
  nstype = ioctl (fd, NS_GET_NSTYPE);
  if (nstype < 0)
    return ar_make_error (err, 0, "linux.namespaces: `%s` is not a namespace file; give a path "
                                       "such as /proc/PID/ns/%s or a bind mount of one",
                          path, proc_names[type]);
  if (nstype != ar_namespace_clone_flag (type))
    return ar_make_error (err, 0, "linux.namespaces: `%s` is not a %s namespace", path,
                          ar_namespace_type_name (type));
  return ar_steal_fd (fd);
}

/* True when the config gives the container its own namespace of this
 * type: a new one, or one joined by path that is not the runtime's. */
static bool
has_own_namespace (const struct ar_linux *lc, enum ar_namespace_type type)
{
  const struct ar_namespace *ns = &lc->namespaces[type];
  cleanup_free char *ours = NULL;
  struct stat a, b;

  if (!ns->present)
    return false;
  if (ns->path == NULL)
    return true;
  ours = ar_xasprintf ("/proc/self/ns/%s", proc_names[type]);
  if (stat (ns->path, &a) < 0 || stat (ours, &b) < 0)
    return true;
  return a.st_ino != b.st_ino || a.st_dev != b.st_dev;
}

static bool
is_ipc_sysctl (const char *key)
{
  static const char *const ipc_keys[] = { "kernel.msgmax", "kernel.msgmnb", "kernel.msgmni", "kernel.sem",
                                          "kernel.shmall", "kernel.shmmax", "kernel.shmmni",
                                          "kernel.shm_rmid_forced", NULL };

  for (size_t i = 0; ipc_keys[i] != NULL; i++)
    if (strcmp (key, ipc_keys[i]) == 0)
      return true;
  return ar_str_has_prefix (key, "fs.mqueue.");
}

/* Accepts only sysctls that belong to a namespace the container owns, so
 * that no setting reaches the host. */
static int
validate_sysctls (const struct ar_linux *lc, ar_error_t *err)
{
  for (size_t i = 0; i < lc->n_sysctl; i++)
    {
      const char *key = lc->sysctl[i].key;
      enum ar_namespace_type needed;

      if (ar_str_has_prefix (key, "net."))
        needed = AR_NS_NETWORK;
      else if (is_ipc_sysctl (key))
        needed = AR_NS_IPC;
      else if (strcmp (key, "kernel.hostname") == 0 || strcmp (key, "kernel.domainname") == 0)
        needed = AR_NS_UTS;
      else
        return ar_make_error (err, 0, "linux.sysctl[\"%s\"]: this sysctl is not namespaced, so setting it "
                                      "would change the host; remove it",
                              key);

      if (!has_own_namespace (lc, needed))
        return ar_make_error (err, 0, "linux.sysctl[\"%s\"]: needs the container's own %s namespace, but it "
                                      "shares the host's; add {\"type\": \"%s\"} to linux.namespaces",
                              key, ar_namespace_type_name (needed), ar_namespace_type_name (needed));
    }
  return 0;
}

int
ar_namespaces_validate (const struct ar_config *config, ar_error_t *err)
{
  const struct ar_linux *lc = &config->linux_config;

  if (validate_sysctls (lc, err) < 0)
    return -1;
  if (((config->hostname && *config->hostname) || (config->domainname && *config->domainname))
      && !has_own_namespace (lc, AR_NS_UTS))
    return ar_make_error (err, 0, "hostname and domainname need the container's own uts namespace: add "
                                  "{\"type\": \"uts\"} to linux.namespaces");

  for (int i = 0; i < AR_NS_COUNT; i++)
    {
      if (!lc->namespaces[i].present)
        continue;
      if (!namespace_kind_supported ((enum ar_namespace_type) i))
        return ar_make_error (err, 0, "linux.namespaces: the kernel has no %s namespaces; remove "
                                            "{\"type\": \"%s\"}",
                              ar_namespace_type_name ((enum ar_namespace_type) i),
                              ar_namespace_type_name ((enum ar_namespace_type) i));
      if (lc->namespaces[i].path != NULL)
        {
          int fd = open_namespace ((enum ar_namespace_type) i, lc->namespaces[i].path, err);
          if (fd < 0)
            return fd;
          close (fd);
        }
    }

  if (lc->namespaces[AR_NS_USER].present && lc->namespaces[AR_NS_USER].path == NULL)
    {
      if (lc->n_uid_mappings == 0 || lc->n_gid_mappings == 0)
        return ar_make_error (err, 0, "linux.uidMappings and linux.gidMappings are required with "
                                           "a new user namespace");
    }
  else if (lc->n_uid_mappings > 0 || lc->n_gid_mappings > 0)
    return ar_make_error (err, 0, "linux.uidMappings: id mappings need a new user namespace; add "
                                       "{\"type\": \"user\"} to linux.namespaces");

  if ((lc->time_monotonic.present || lc->time_boottime.present)
      && !(lc->namespaces[AR_NS_TIME].present && lc->namespaces[AR_NS_TIME].path == NULL))
    return ar_make_error (err, 0, "linux.timeOffsets need a new time namespace; add "
                                       "{\"type\": \"time\"} to linux.namespaces");
  return 0;
}

static int
save_namespace (struct ar_namespace_switch *sw, enum ar_namespace_type type, ar_error_t *err)
{
  cleanup_free char *path = ar_xasprintf ("/proc/self/ns/%s", proc_names[type]);

  sw->saved[type] = open (path, O_RDONLY | O_CLOEXEC);
  if (sw->saved[type] < 0)
    return ar_make_error (err, errno, "cannot open `%s`", path);
  return 0;
}

static int
write_time_offsets (const struct ar_linux *lc, ar_error_t *err)
{
  char buf[128];
  size_t len = 0;

  /* The clock ids are CLOCK_MONOTONIC (1) and CLOCK_BOOTTIME (7). */
  if (lc->time_monotonic.present)
    len += (size_t) snprintf (buf + len, sizeof (buf) - len, "1 %lld %u\n",
                              (long long) lc->time_monotonic.secs, lc->time_monotonic.nanosecs);
  if (lc->time_boottime.present)
    len += (size_t) snprintf (buf + len, sizeof (buf) - len, "7 %lld %u\n",
                              (long long) lc->time_boottime.secs, lc->time_boottime.nanosecs);
  if (len == 0)
    return 0;
  if (ar_write_file ("/proc/self/timens_offsets", buf, len, err) < 0)
    return ar_error_wrap (err, "linux.timeOffsets: cannot set the offsets");
  return 0;
}

int
ar_namespaces_enter_for_clone (const struct ar_linux *lc, struct ar_namespace_switch *sw, ar_error_t *err)
{
  /* Mount last: after it, relative paths would resolve in the container's
   * view.  User namespaces are never joined here. */
  static const enum ar_namespace_type order[] = { AR_NS_CGROUP, AR_NS_IPC, AR_NS_UTS, AR_NS_NETWORK,
                                                  AR_NS_PID,    AR_NS_TIME, AR_NS_MOUNT };

  for (size_t k = 0; k < sizeof (order) / sizeof (order[0]); k++)
    {
      enum ar_namespace_type type = order[k];
      const struct ar_namespace *ns = &lc->namespaces[type];
      cleanup_close int fd = -1;

      if (!ns->present)
        continue;

      if (ns->path == NULL)
        {
          if (type != AR_NS_TIME)
            continue;
          /* A new time namespace is made here, because its offsets can only
           * be written before any process is inside it. */
          if (save_namespace (sw, type, err) < 0)
            return -1;
          if (unshare (CLONE_NEWTIME) < 0)
            return ar_make_error (err, errno, "cannot create the time namespace");
          if (write_time_offsets (lc, err) < 0)
            return -1;
          continue;
        }

      fd = open_namespace (type, ns->path, err);
      if (fd < 0)
        return -1;
      if (type == AR_NS_MOUNT)
        {
          sw->cwd_fd = open (".", O_PATH | O_DIRECTORY | O_CLOEXEC);
          if (sw->cwd_fd < 0)
            return ar_make_error (err, errno, "cannot open the current directory");
        }
      if (save_namespace (sw, type, err) < 0)
        return -1;
      if (setns (fd, ar_namespace_clone_flag (type)) < 0)
        return ar_make_error (err, errno, "linux.namespaces: cannot join the %s namespace `%s`",
                              ar_namespace_type_name (type), ns->path);
      ar_debug ("joined %s namespace %s", ar_namespace_type_name (type), ns->path);
    }
  return 0;
}

int
ar_namespaces_restore (struct ar_namespace_switch *sw, ar_error_t *err)
{
  int ret = 0;

  /* Mount first, the reverse of entering, so /proc paths are the host's. */
  static const enum ar_namespace_type order[] = { AR_NS_MOUNT, AR_NS_TIME, AR_NS_PID, AR_NS_NETWORK,
                                                  AR_NS_UTS,   AR_NS_IPC,  AR_NS_CGROUP };

  for (size_t k = 0; k < sizeof (order) / sizeof (order[0]); k++)
    {
      enum ar_namespace_type type = order[k];

      if (sw->saved[type] < 0)
        continue;
      if (setns (sw->saved[type], ar_namespace_clone_flag (type)) < 0 && ret == 0)
        ret = ar_make_error (err, errno, "cannot return to the runtime's %s namespace",
                             ar_namespace_type_name (type));
      close (sw->saved[type]);
      sw->saved[type] = -1;
    }
  if (sw->cwd_fd >= 0)
    {
      if (fchdir (sw->cwd_fd) < 0 && ret == 0)
        ret = ar_make_error (err, errno, "cannot return to the runtime's working directory");
      close (sw->cwd_fd);
      sw->cwd_fd = -1;
    }
  return ret;
}

void
ar_namespaces_release (struct ar_namespace_switch *sw)
{
  for (int i = 0; i < AR_NS_COUNT; i++)
    if (sw->saved[i] >= 0)
      close (sw->saved[i]);
  if (sw->cwd_fd >= 0)
    close (sw->cwd_fd);
}

static int
write_map (pid_t pid, const char *file, const struct ar_idmap *maps, size_t n, const char *field,
           ar_error_t *err)
{
  cleanup_free char *path = ar_xasprintf ("/proc/%d/%s", (int) pid, file);
  cleanup_free char *text = NULL;
  size_t len = 0;
  FILE *f = open_memstream (&text, &len);

  if (f == NULL)
    return ar_make_error (err, errno, "cannot allocate the %s", field);
  for (size_t i = 0; i < n; i++)
    fprintf (f, "%u %u %u\n", maps[i].container_id, maps[i].host_id, maps[i].size);
  fclose (f);

  if (ar_write_file (path, text, len, err) < 0)
    return ar_error_wrap (err, "%s: cannot write the mapping (ranges may overlap or exceed the "
                               "340 lines the kernel allows)",
                          field);
  return 0;
}

int
ar_namespaces_write_id_maps (pid_t pid, const struct ar_linux *lc, ar_error_t *err)
{
  if (write_map (pid, "uid_map", lc->uid_mappings, lc->n_uid_mappings, "linux.uidMappings", err) < 0)
    return -1;
  return write_map (pid, "gid_map", lc->gid_mappings, lc->n_gid_mappings, "linux.gidMappings", err);
}
