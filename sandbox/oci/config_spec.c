/* The config.json that `agentrun spec` writes: a shell in a busybox-like
 * rootfs with few capabilities, the usual kernel filesystems, and the
 * sensitive parts of /proc and /sys masked or read-only. */
#define _GNU_SOURCE
#include "config.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util.h"

static json_t *
string_array (const char *const *strings)
{
  json_t *array = json_array ();

  for (size_t i = 0; strings[i] != NULL; i++)
    json_array_append_new (array, json_string (strings[i]));
  return array;
}

static json_t *
default_process (void)
{
  static const char *const caps[] = { "CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE", NULL };
  static const char *const env[] = { "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
                                     "TERM=xterm", NULL };

  /* No inheritable or ambient capabilities, so an exec'd program gains
   * nothing beyond these three. */
  return json_pack ("{s:b, s:{s:i, s:i}, s:[s], s:o, s:s, s:{s:o, s:o, s:o}, s:[{s:s, s:i, s:i}], s:b}",
                    "terminal", 1,
                    "user", "uid", 0, "gid", 0,
                    "args", "sh",
                    "env", string_array (env),
                    "cwd", "/",
                    "capabilities", "bounding", string_array (caps), "effective", string_array (caps), "permitted",
                    string_array (caps),
                    "rlimits", "type", "RLIMIT_NOFILE", "hard", 1024, "soft", 1024,
                    "noNewPrivileges", 1);
}

static json_t *
mount_entry (const char *destination, const char *type, const char *source, const char *const *options)
{
  return json_pack ("{s:s, s:s, s:s, s:o}", "destination", destination, "type", type, "source", source, "options",
                    string_array (options));
}

static json_t *
default_mounts (bool rootless)
{
  static const char *const proc_opts[] = { "nosuid", "noexec", "nodev", NULL };
  static const char *const dev_opts[] = { "nosuid", "strictatime", "mode=755", "size=65536k", NULL };
  /* gid 5 is the tty group, which a rootless user namespace does not map. */
  static const char *const devpts_opts[] = { "nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620",
                                             "gid=5", NULL };
  static const char *const devpts_rootless_opts[] = { "nosuid", "noexec", "newinstance", "ptmxmode=0666",
                                                      "mode=0620", NULL };
  static const char *const shm_opts[] = { "nosuid", "noexec", "nodev", "mode=1777", "size=65536k", NULL };
  static const char *const mqueue_opts[] = { "nosuid", "noexec", "nodev", NULL };
  static const char *const sysfs_opts[] = { "nosuid", "noexec", "nodev", "ro", NULL };
  static const char *const sys_bind_opts[] = { "rbind", "nosuid", "noexec", "nodev", "ro", NULL };
  static const char *const cgroup_opts[] = { "nosuid", "noexec", "nodev", "relatime", "ro", NULL };
  json_t *mounts = json_array ();

  json_array_append_new (mounts, mount_entry ("/proc", "proc", "proc", proc_opts));
  json_array_append_new (mounts, mount_entry ("/dev", "tmpfs", "tmpfs", dev_opts));
  json_array_append_new (mounts,
                         mount_entry ("/dev/pts", "devpts", "devpts", rootless ? devpts_rootless_opts : devpts_opts));
  json_array_append_new (mounts, mount_entry ("/dev/shm", "tmpfs", "shm", shm_opts));
  json_array_append_new (mounts, mount_entry ("/dev/mqueue", "mqueue", "mqueue", mqueue_opts));

  if (rootless)
    {
      /* Without its own network namespace a rootless container may not
       * mount sysfs, so it gets the host's /sys read-only, cgroups
       * included. */
      json_array_append_new (mounts, mount_entry ("/sys", "none", "/sys", sys_bind_opts));
    }
  else
    {
      json_array_append_new (mounts, mount_entry ("/sys", "sysfs", "sysfs", sysfs_opts));
      json_array_append_new (mounts, mount_entry ("/sys/fs/cgroup", "cgroup", "cgroup", cgroup_opts));
    }
  return mounts;
}

static json_t *
default_linux (bool rootless)
{
  static const char *const masked[] = { "/proc/acpi",          "/proc/asound",     "/proc/interrupts",
                                        "/proc/kcore",         "/proc/keys",       "/proc/latency_stats",
                                        "/proc/sched_debug",   "/proc/scsi",       "/proc/timer_list",
                                        "/proc/timer_stats",   "/sys/firmware",    "/sys/devices/virtual/powercap",
                                        NULL };
  static const char *const readonly[] = { "/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger",
                                          NULL };
  static const char *const namespaces[] = { "pid", "network", "ipc", "uts", "mount", "cgroup", NULL };
  json_t *linux_obj = json_object ();
  json_t *ns = json_array ();

  for (size_t i = 0; namespaces[i] != NULL; i++)
    {
      if (rootless && strcmp (namespaces[i], "network") == 0)
        continue;
      json_array_append_new (ns, json_pack ("{s:s}", "type", namespaces[i]));
    }

  if (rootless)
    {
      /* The user namespace maps root in the container to the calling user,
       * the only id an unprivileged user may map without helpers. */
      json_array_append_new (ns, json_pack ("{s:s}", "type", "user"));
      json_object_set_new (linux_obj, "uidMappings",
                           json_pack ("[{s:i, s:I, s:i}]", "containerID", 0, "hostID", (json_int_t) getuid (),
                                      "size", 1));
      json_object_set_new (linux_obj, "gidMappings",
                           json_pack ("[{s:i, s:I, s:i}]", "containerID", 0, "hostID", (json_int_t) getgid (),
                                      "size", 1));
    }
  else
    {
      /* Deny every device in the cgroup.  The runtime spec's default
       * devices (null, zero, full, random, urandom, tty, console, ptmx)
       * are the runtime's to provide and allow regardless. */
      json_object_set_new (linux_obj, "resources",
                           json_pack ("{s:[{s:b, s:s}]}", "devices", "allow", 0, "access", "rwm"));
    }

  json_object_set_new (linux_obj, "namespaces", ns);
  json_object_set_new (linux_obj, "maskedPaths", string_array (masked));
  json_object_set_new (linux_obj, "readonlyPaths", string_array (readonly));
  return linux_obj;
}

char *
ar_config_default_spec (bool rootless)
{
  json_auto_t *spec = NULL;
  cleanup_free char *text = NULL;

  spec = json_pack ("{s:s, s:o, s:{s:s, s:b}, s:s, s:o, s:o}",
                    "ociVersion", "1.2.0",
                    "process", default_process (),
                    "root", "path", "rootfs", "readonly", 1,
                    "hostname", "agentrun",
                    "mounts", default_mounts (rootless),
                    "linux", default_linux (rootless));
  if (spec == NULL)
    abort ();

  text = json_dumps (spec, JSON_INDENT (2));
  if (text == NULL)
    abort ();
  return ar_xasprintf ("%s\n", text);
}
