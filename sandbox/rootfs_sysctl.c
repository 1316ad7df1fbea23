/* linux.sysctl: each key names a file under /proc/sys, with dots for
 * slashes ("net.ipv4.ip_forward" is /proc/sys/net/ipv4/ip_forward). */
#define _GNU_SOURCE
#include "rootfs.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "oci/log.h"
#include "oci/util.h"

/* A key is dot-separated names: no empty name (so no "..", no leading or
 * trailing dot) and no slash, which would let a key leave /proc/sys or
 * name something other than what it reads as. */
static int
check_key (const char *key, ar_error_t *err)
{
  if (key == NULL || key[0] == '\0')
    return ar_make_error (err, EINVAL, "linux.sysctl has an empty key");
  if (strchr (key, '/') != NULL)
    return ar_make_error (err, EINVAL, "linux.sysctl key `%s` is invalid: it contains `/`; write keys with dots, "
                          "such as `net.ipv4.ip_forward`", key);
  if (key[0] == '.' || key[strlen (key) - 1] == '.' || strstr (key, "..") != NULL)
    return ar_make_error (err, EINVAL, "linux.sysctl key `%s` is invalid: it has an empty name between dots", key);
  return 0;
}

static int
write_sysctl (int proc_sys_fd, const struct ar_keyvalue *entry, ar_error_t *err)
{
  cleanup_free char *path = ar_xstrdup (entry->key);
  cleanup_close int fd = -1;
  struct open_how how = {
    .flags = O_WRONLY | O_CLOEXEC,
    .resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS | RESOLVE_NO_XDEV,
  };
  const char *value = entry->value != NULL ? entry->value : "";

  for (char *p = path; *p != '\0'; p++)
    if (*p == '.')
      *p = '/';

  fd = (int) syscall (SYS_openat2, proc_sys_fd, path, &how, sizeof (how));
  if (fd < 0 && errno == ENOENT)
    return ar_make_error (err, errno,
                          "cannot set linux.sysctl key `%s`: /proc/sys/%s does not exist (an unknown key, or "
                          "one that this kernel lacks)",
                          entry->key, path);
  if (fd < 0)
    return ar_make_error (err, errno, "cannot set linux.sysctl key `%s`: cannot open /proc/sys/%s", entry->key,
                          path);

  if (ar_write_all (fd, value, strlen (value)) < 0)
    return ar_make_error (err, errno, "cannot set linux.sysctl key `%s` to `%s`", entry->key, value);
  ar_debug ("set sysctl %s = %s", entry->key, value);
  return 0;
}

int
ar_apply_sysctl (const struct ar_config *config, ar_error_t *err)
{
  const struct ar_linux *linux_config = &config->linux_config;
  cleanup_close int proc_sys_fd = -1;
  int ret;

  if (linux_config->n_sysctl == 0)
    return 0;

  for (size_t i = 0; i < linux_config->n_sysctl; i++)
    {
      ret = check_key (linux_config->sysctl[i].key, err);
      if (ret < 0)
        return ret;
    }

  proc_sys_fd = open ("/proc/sys", O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (proc_sys_fd < 0)
    return ar_make_error (err, errno, "cannot open /proc/sys to apply linux.sysctl; is /proc mounted?");

  for (size_t i = 0; i < linux_config->n_sysctl; i++)
    {
      ret = write_sysctl (proc_sys_fd, &linux_config->sysctl[i], err);
      if (ret < 0)
        return ret;
    }
  return 0;
}
