/* Seccomp user notifications for audit mode. */
#define _GNU_SOURCE
#include <errno.h>
#include <linux/seccomp.h>
#include <seccomp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>

#include "oci/util.h"
#include "seccomp_notify.h"

#define ACTION_LOG "SCMP_ACT_LOG"
#define ACTION_NOTIFY "SCMP_ACT_NOTIFY"

static bool
replace_log (char **action)
{
  if (*action == NULL || strcmp (*action, ACTION_LOG) != 0)
    return false;
  free (*action);
  *action = ar_xstrdup (ACTION_NOTIFY);
  return true;
}

bool
ar_seccomp_log_to_notify (struct ar_seccomp *seccomp)
{
  bool changed = false;

  if (seccomp->listener_path != NULL)
    return false;
  changed |= replace_log (&seccomp->default_action);
  for (size_t i = 0; i < seccomp->n_syscalls; i++)
    changed |= replace_log (&seccomp->syscalls[i].action);
  if (changed)
    seccomp->runtime_listener = true;
  return changed;
}

int
ar_seccomp_notice_answer (int listener_fd, struct ar_seccomp_notice *notice, ar_error_t *err)
{
  struct seccomp_notif request;
  struct seccomp_notif_resp response;

  /* The kernel rejects a receive buffer that is not zeroed. */
  memset (&request, 0, sizeof (request));
  if (ioctl (listener_fd, SECCOMP_IOCTL_NOTIF_RECV, &request) < 0)
    {
      /* ENOENT: the caller was killed or its call interrupted before the
       * notification was read. */
      if (errno == EAGAIN || errno == EINTR || errno == ENOENT)
        return -EAGAIN;
      return ar_make_error (err, errno, "cannot receive a seccomp notification");
    }

  memset (&response, 0, sizeof (response));
  response.id = request.id;
  response.flags = SECCOMP_USER_NOTIF_FLAG_CONTINUE;
  /* ENOENT: the call ended (the process was killed) in between. */
  if (ioctl (listener_fd, SECCOMP_IOCTL_NOTIF_SEND, &response) < 0 && errno != ENOENT)
    return ar_make_error (err, errno, "cannot let the system call %d of process %u continue", request.data.nr,
                          request.pid);

  notice->pid = (pid_t) request.pid;
  notice->syscall_nr = request.data.nr;
  notice->arch = request.data.arch;
  return 0;
}

static const char *
arch_name (uint32_t arch)
{
  static const struct
  {
    uint32_t token;
    const char *name;
  } names[] = {
    { SCMP_ARCH_X86_64, "x86_64" },   { SCMP_ARCH_X86, "x86" },         { SCMP_ARCH_X32, "x32" },
    { SCMP_ARCH_AARCH64, "aarch64" }, { SCMP_ARCH_ARM, "arm" },         { SCMP_ARCH_PPC64LE, "ppc64le" },
    { SCMP_ARCH_S390X, "s390x" },     { SCMP_ARCH_RISCV64, "riscv64" },
  };

  for (size_t i = 0; i < sizeof (names) / sizeof (names[0]); i++)
    if (names[i].token == arch)
      return names[i].name;
  return NULL;
}

json_t *
ar_seccomp_notice_event (const struct ar_seccomp_notice *notice)
{
  cleanup_free char *name = seccomp_syscall_resolve_num_arch (notice->arch, notice->syscall_nr);
  const char *arch = arch_name (notice->arch);
  json_t *event = json_pack ("{s:s, s:s, s:s, s:i}", "type", "syscall", "outcome", "allowed", "rule", "(syscalls)",
                             "pid", (int) notice->pid);

  if (event == NULL)
    return NULL;
  if (name != NULL)
    json_object_set_new (event, "syscall", json_string (name));
  else
    json_object_set_new (event, "syscall", json_sprintf ("%d", notice->syscall_nr));
  if (arch != NULL)
    json_object_set_new (event, "arch", json_string (arch));
  else
    json_object_set_new (event, "arch", json_sprintf ("0x%x", notice->arch));
  return event;
}
