/* Applies process attributes in forked children and reads them back from
 * the kernel; the test process itself never changes its privileges. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <inttypes.h>
#include <linux/ioprio.h>
#include <sched.h>
#include <stdint.h>
#include <sys/capability.h>
#include <sys/personality.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

#include "oci/util.h"
#include "process_attrs.h"
#include "unit.h"

#define CAP_BIT(cap) (UINT64_C (1) << (cap))
#define TEST_UID 1000
#define TEST_GID 1000
#define EXIT_SKIP 77

/* ---- forked children ---- */

/* A child function returns its exit code and writes what failed, or the
 * error message under test, to report_fd. */
typedef int (*child_fn) (const void *arg, int report_fd);

#define CHILD_CHECK(cond)                                                                     \
  do                                                                                          \
    {                                                                                         \
      if (!(cond))                                                                            \
        {                                                                                     \
          dprintf (report_fd, "%s:%d: child check failed: %s (errno %d)\n", __FILE__, __LINE__, \
                   #cond, errno);                                                             \
          return 1;                                                                           \
        }                                                                                     \
    }                                                                                         \
  while (0)

/* Runs fn in a forked child and returns its wait status; *report gets
 * what the child wrote, which the caller frees. */
static int
run_child (child_fn fn, const void *arg, char **report)
{
  char buf[8192];
  size_t len = 0;
  int fds[2], status = 0;
  pid_t pid;

  if (pipe2 (fds, O_CLOEXEC) < 0)
    abort ();
  fflush (NULL);
  pid = fork ();
  if (pid < 0)
    abort ();
  if (pid == 0)
    {
      close (fds[0]);
      _exit (fn (arg, fds[1]));
    }

  close (fds[1]);
  for (;;)
    {
      ssize_t n = read (fds[0], buf + len, sizeof (buf) - 1 - len);
      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0)
        break;
      len += (size_t) n;
    }
  buf[len] = '\0';
  close (fds[0]);
  while (waitpid (pid, &status, 0) < 0 && errno == EINTR)
    ;
  *report = ar_xstrdup (buf);
  return status;
}

#define CHECK_CHILD_OK(status, report)                                                 \
  do                                                                                   \
    {                                                                                  \
      if (!(WIFEXITED (status) && WEXITSTATUS (status) == 0))                          \
        fprintf (stderr, "child status %#x, report: %s\n", (unsigned) (status), report); \
      CHECK (WIFEXITED (status) && WEXITSTATUS (status) == 0);                         \
    }                                                                                  \
  while (0)

/* Writes the formatted error to report_fd and frees it. */
static void
report_error (int report_fd, ar_error_t err)
{
  cleanup_free char *msg = ar_error_format (err);

  dprintf (report_fd, "%s\n", msg ? msg : "(no error)");
  ar_error_free (err);
}

/* Reads a hexadecimal field such as CapEff from /proc/self/status. */
static uint64_t
status_mask (const char *field)
{
  cleanup_free char *text = NULL;
  cleanup_free char *key = ar_xasprintf ("\n%s:", field);
  const char *line;

  if (ar_read_file ("/proc/self/status", &text, NULL, NULL) < 0)
    return UINT64_MAX;
  line = strstr (text, key);
  if (line == NULL)
    return UINT64_MAX;
  return strtoull (line + strlen (key), NULL, 16);
}

/* Removes a capability from the effective set, so the child behaves as on
 * a host whose bounding set lacks it. */
static int
drop_effective (cap_value_t cap)
{
  cap_t caps = cap_get_proc ();
  int ret;

  if (caps == NULL)
    return -1;
  ret = cap_set_flag (caps, CAP_EFFECTIVE, 1, &cap, CAP_CLEAR);
  if (ret == 0)
    ret = cap_set_proc (caps);
  cap_free (caps);
  return ret;
}

/* ---- capability names ---- */

static void
test_capability_names (void)
{
  cleanup_free char *text = NULL;

  CHECK (ar_capability_from_name ("CAP_CHOWN") == CAP_CHOWN);
  CHECK (ar_capability_from_name ("CAP_SYS_ADMIN") == CAP_SYS_ADMIN);
  CHECK (ar_capability_from_name ("CAP_NET_BIND_SERVICE") == CAP_NET_BIND_SERVICE);
  CHECK (ar_capability_from_name ("cap_kill") == CAP_KILL);
  CHECK (ar_capability_from_name ("CAP_NO_SUCH_THING") == -1);
  CHECK (ar_capability_from_name ("12") == -1);
  CHECK (ar_capability_from_name ("CAP_") == -1);
  CHECK (ar_capability_from_name ("") == -1);
  CHECK (ar_capability_from_name (NULL) == -1);

  CHECK (ar_read_file ("/proc/sys/kernel/cap_last_cap", &text, NULL, NULL) == 0);
  if (text != NULL)
    CHECK (ar_capability_last () == atoi (text));
}

/* ---- rlimits ---- */

static int
child_rlimits (const void *arg, int report_fd)
{
  const struct ar_process *process = arg;
  ar_error_t err = NULL;
  struct rlimit limit;

  if (ar_apply_rlimits (process, &err) < 0)
    {
      report_error (report_fd, err);
      return 1;
    }

  CHILD_CHECK (getrlimit (RLIMIT_NOFILE, &limit) == 0);
  CHILD_CHECK (limit.rlim_cur == 512 && limit.rlim_max == 1024);
  CHILD_CHECK (getrlimit (RLIMIT_CORE, &limit) == 0);
  CHILD_CHECK (limit.rlim_cur == 0 && limit.rlim_max == 0);
  CHILD_CHECK (getrlimit (RLIMIT_MSGQUEUE, &limit) == 0);
  CHILD_CHECK (limit.rlim_cur == 4096 && limit.rlim_max == 8192);
  return 0;
}

static void
test_rlimits_applied (void)
{
  struct ar_rlimit rlimits[] = {
    { .resource = RLIMIT_NOFILE, .type = (char *) "RLIMIT_NOFILE", .soft = 512, .hard = 1024 },
    { .resource = RLIMIT_CORE, .type = (char *) "RLIMIT_CORE", .soft = 0, .hard = 0 },
    { .resource = RLIMIT_MSGQUEUE, .type = (char *) "RLIMIT_MSGQUEUE", .soft = 4096, .hard = 8192 },
  };
  struct ar_process process = { .rlimits = rlimits, .n_rlimits = 3 };
  cleanup_free char *report = NULL;
  int status = run_child (child_rlimits, &process, &report);

  CHECK_CHILD_OK (status, report);
}

static void
test_rlimit_soft_above_hard (void)
{
  struct ar_rlimit rlimits[] = {
    { .resource = RLIMIT_NOFILE, .type = (char *) "RLIMIT_NOFILE", .soft = 2048, .hard = 1024 },
  };
  struct ar_process process = { .rlimits = rlimits, .n_rlimits = 1 };
  cleanup_error ar_error_t err = NULL;
  cleanup_free char *msg = NULL;

  /* Rejected before setrlimit, so the test process is unchanged. */
  CHECK (ar_apply_rlimits (&process, &err) == -EINVAL);
  msg = ar_error_format (err);
  CHECK_CONTAINS (msg, "process.rlimits[0] (RLIMIT_NOFILE)");
  CHECK_CONTAINS (msg, "soft limit 2048 is above the hard limit 1024");
}

static int
child_nofile_too_high (const void *arg, int report_fd)
{
  const struct ar_process *process = arg;
  ar_error_t err = NULL;
  int ret;

  CHILD_CHECK (drop_effective (CAP_SYS_RESOURCE) == 0);
  ret = ar_apply_rlimits (process, &err);
  CHILD_CHECK (ret == -EPERM);
  report_error (report_fd, err);
  return 0;
}

static void
test_rlimit_nofile_too_high (void)
{
  struct ar_rlimit rlimits[1] = {
    { .resource = RLIMIT_NOFILE, .type = (char *) "RLIMIT_NOFILE" },
  };
  struct ar_process process = { .rlimits = rlimits, .n_rlimits = 1 };
  cleanup_free char *report = NULL;
  cleanup_free char *requested = NULL;
  cleanup_free char *current = NULL;
  struct rlimit limit;
  int status;

  CHECK (getrlimit (RLIMIT_NOFILE, &limit) == 0);
  /* podman's default for root containers, or one above the current hard
   * limit where that is already higher. */
  rlimits[0].soft = rlimits[0].hard = limit.rlim_max < 1048576 ? 1048576 : limit.rlim_max + 1;
  requested = ar_xasprintf ("soft %" PRIu64 ", hard %" PRIu64, rlimits[0].soft, rlimits[0].hard);
  current = ar_xasprintf ("above the current %llu", (unsigned long long) limit.rlim_max);

  status = run_child (child_nofile_too_high, &process, &report);
  CHECK_CHILD_OK (status, report);
  if (getenv ("AR_TEST_VERBOSE") != NULL)
    printf ("# %s", report);
  CHECK_CONTAINS (report, "process.rlimits[0] (RLIMIT_NOFILE)");
  CHECK_CONTAINS (report, requested);
  if (limit.rlim_max < 1048576)
    {
      CHECK_CONTAINS (report, current);
      CHECK_CONTAINS (report, "CAP_SYS_RESOURCE");
    }
  if (prctl (PR_CAPBSET_READ, CAP_SYS_RESOURCE, 0, 0, 0) == 0)
    CHECK_CONTAINS (report, "not in this process's bounding set");
}

/* ---- bounding set ---- */

static int
child_bounding (const void *arg, int report_fd)
{
  const struct ar_capabilities *caps = arg;
  uint64_t before = status_mask ("CapBnd");
  ar_error_t err = NULL;

  if (ar_apply_bounding_set (caps, &err) < 0)
    {
      report_error (report_fd, err);
      return 1;
    }
  CHILD_CHECK (status_mask ("CapBnd") == (caps != NULL ? caps->bounding & before : 0));
  return 0;
}

static void
test_bounding_set (void)
{
  struct ar_capabilities caps = {
    .bounding = CAP_BIT (CAP_CHOWN) | CAP_BIT (CAP_KILL) | CAP_BIT (CAP_NET_BIND_SERVICE)
                /* absent where the bounding set lacks it: requesting it adds nothing */
                | CAP_BIT (CAP_SYS_RESOURCE),
  };
  cleanup_free char *report = NULL;
  cleanup_free char *report_none = NULL;
  int status;

  status = run_child (child_bounding, &caps, &report);
  CHECK_CHILD_OK (status, report);

  /* No capabilities object: everything goes. */
  status = run_child (child_bounding, NULL, &report_none);
  CHECK_CHILD_OK (status, report_none);
}

/* ---- user and capabilities ---- */

/* Runs `cat /proc/self/status` and returns its CapEff, which shows what
 * survives execve. */
static uint64_t
exec_cap_eff (void)
{
  char line[256];
  uint64_t eff = UINT64_MAX;
  FILE *f = popen ("exec cat /proc/self/status", "r");

  if (f == NULL)
    return UINT64_MAX;
  while (fgets (line, sizeof (line), f) != NULL)
    if (strncmp (line, "CapEff:", 7) == 0)
      eff = strtoull (line + 7, NULL, 16);
  pclose (f);
  return eff;
}

static int
child_user_with_ambient (const void *arg, int report_fd)
{
  const struct ar_process *process = arg;
  const uint64_t bind = CAP_BIT (CAP_NET_BIND_SERVICE);
  ar_error_t err = NULL;
  gid_t groups[8];
  uid_t ruid, euid, suid;
  int n;

  if (ar_apply_bounding_set (process->capabilities, &err) < 0
      || ar_apply_user_and_capabilities (process, &err) < 0)
    {
      report_error (report_fd, err);
      return 1;
    }

  CHILD_CHECK (getresuid (&ruid, &euid, &suid) == 0);
  CHILD_CHECK (ruid == TEST_UID && euid == TEST_UID && suid == TEST_UID);
  CHILD_CHECK (getgid () == TEST_GID && getegid () == TEST_GID);
  n = getgroups (8, groups);
  CHILD_CHECK (n == 2 && groups[0] == 1000 && groups[1] == 2000);

  CHILD_CHECK (status_mask ("CapEff") == bind);
  CHILD_CHECK (status_mask ("CapPrm") == bind);
  CHILD_CHECK (status_mask ("CapInh") == bind);
  CHILD_CHECK (status_mask ("CapAmb") == bind);
  CHILD_CHECK (status_mask ("CapBnd") == bind);
  CHILD_CHECK (prctl (PR_GET_KEEPCAPS, 0, 0, 0, 0) == 0);
  CHILD_CHECK ((umask (0) & 0777) == 027);

  /* The ambient set is what lets a non-root program keep the capability
   * across execve. */
  CHILD_CHECK (exec_cap_eff () == bind);
  return 0;
}

static void
test_user_switch_with_ambient (void)
{
  const uint64_t bind = CAP_BIT (CAP_NET_BIND_SERVICE);
  struct ar_capabilities caps = {
    .bounding = bind, .effective = bind, .inheritable = bind, .permitted = bind, .ambient = bind,
  };
  gid_t gids[] = { 1000, 2000 };
  struct ar_process process = {
    .user = { .uid = TEST_UID, .gid = TEST_GID, .has_umask = true, .umask = 027,
              .additional_gids = gids, .n_additional_gids = 2 },
    .capabilities = &caps,
  };
  cleanup_free char *report = NULL;
  int status = run_child (child_user_with_ambient, &process, &report);

  CHECK_CHILD_OK (status, report);
}

static int
child_user_without_capabilities (const void *arg, int report_fd)
{
  const struct ar_process *process = arg;
  ar_error_t err = NULL;
  gid_t groups[8];

  if (ar_apply_user_and_capabilities (process, &err) < 0)
    {
      report_error (report_fd, err);
      return 1;
    }
  CHILD_CHECK (getuid () == TEST_UID && geteuid () == TEST_UID);
  CHILD_CHECK (getgroups (8, groups) == 0);
  CHILD_CHECK (status_mask ("CapEff") == 0);
  CHILD_CHECK (status_mask ("CapPrm") == 0);
  CHILD_CHECK (status_mask ("CapInh") == 0);
  CHILD_CHECK (status_mask ("CapAmb") == 0);
  return 0;
}

static void
test_user_without_capabilities (void)
{
  struct ar_process process = { .user = { .uid = TEST_UID, .gid = TEST_GID }, .capabilities = NULL };
  cleanup_free char *report = NULL;
  int status = run_child (child_user_without_capabilities, &process, &report);

  CHECK_CHILD_OK (status, report);
}

static int
child_root_subset (const void *arg, int report_fd)
{
  const struct ar_process *process = arg;
  ar_error_t err = NULL;

  if (ar_apply_user_and_capabilities (process, &err) < 0)
    {
      report_error (report_fd, err);
      return 1;
    }
  CHILD_CHECK (getuid () == 0);
  CHILD_CHECK (status_mask ("CapEff") == CAP_BIT (CAP_CHOWN));
  CHILD_CHECK (status_mask ("CapPrm") == (CAP_BIT (CAP_CHOWN) | CAP_BIT (CAP_KILL)));
  CHILD_CHECK (status_mask ("CapAmb") == 0);
  return 0;
}

static void
test_root_capability_subset (void)
{
  struct ar_capabilities caps = {
    .effective = CAP_BIT (CAP_CHOWN),
    .permitted = CAP_BIT (CAP_CHOWN) | CAP_BIT (CAP_KILL),
  };
  struct ar_process process = { .user = { .uid = 0, .gid = 0 }, .capabilities = &caps };
  cleanup_free char *report = NULL;
  int status = run_child (child_root_subset, &process, &report);

  CHECK_CHILD_OK (status, report);
}

/* Applies process and writes the error (or nothing) to report_fd; stderr
 * goes to report_fd too, to capture warnings. */
static int
child_apply_user_report (const void *arg, int report_fd)
{
  const struct ar_process *process = arg;
  ar_error_t err = NULL;

  dup2 (report_fd, STDERR_FILENO);
  if (ar_apply_user_and_capabilities (process, &err) < 0)
    {
      report_error (report_fd, err);
      return 3;
    }
  dprintf (report_fd, "CapAmb %" PRIx64 "\n", status_mask ("CapAmb"));
  return 0;
}

static void
test_capability_set_errors (void)
{
  struct ar_capabilities effective_only = { .effective = CAP_BIT (CAP_CHOWN) };
  struct ar_capabilities ambient_only = {
    .effective = CAP_BIT (CAP_NET_BIND_SERVICE), .permitted = CAP_BIT (CAP_NET_BIND_SERVICE),
    .ambient = CAP_BIT (CAP_NET_BIND_SERVICE),
  };
  struct ar_process process = { .user = { .uid = 0, .gid = 0 } };
  cleanup_free char *report = NULL;
  cleanup_free char *report_ambient = NULL;
  int status;

  /* Effective must be a subset of permitted. */
  process.capabilities = &effective_only;
  status = run_child (child_apply_user_report, &process, &report);
  CHECK (WIFEXITED (status) && WEXITSTATUS (status) == 3);
  CHECK_CONTAINS (report, "process.capabilities.effective lists CAP_CHOWN");

  /* Ambient without inheritable is skipped with a warning. */
  process.user = (struct ar_user) { .uid = TEST_UID, .gid = TEST_GID };
  process.capabilities = &ambient_only;
  status = run_child (child_apply_user_report, &process, &report_ambient);
  CHECK_CHILD_OK (status, report_ambient);
  CHECK_CONTAINS (report_ambient, "not raising CAP_NET_BIND_SERVICE");
  CHECK_CONTAINS (report_ambient, "CapAmb 0");
}

static int
child_setgroups_denied (const void *arg, int report_fd)
{
  if (unshare (CLONE_NEWUSER) < 0)
    return EXIT_SKIP;

  CHILD_CHECK (ar_write_file ("/proc/self/setgroups", "deny", 4, NULL) == 0);
  CHILD_CHECK (ar_write_file ("/proc/self/uid_map", "0 0 1", 5, NULL) == 0);
  CHILD_CHECK (ar_write_file ("/proc/self/gid_map", "0 0 1", 5, NULL) == 0);
  return child_apply_user_report (arg, report_fd);
}

static void
test_setgroups_denied (void)
{
  gid_t gids[] = { 0 };
  struct ar_process process = {
    .user = { .uid = 0, .gid = 0, .additional_gids = gids, .n_additional_gids = 1 },
  };
  cleanup_free char *report = NULL;
  int status = run_child (child_setgroups_denied, &process, &report);

  if (WIFEXITED (status) && WEXITSTATUS (status) == EXIT_SKIP)
    {
      printf ("# skipped: cannot create a user namespace here\n");
      return;
    }
  CHECK_CHILD_OK (status, report);
  CHECK_CONTAINS (report, "ignoring process.user.additionalGids");
  CHECK_CONTAINS (report, "setgroups(2) is denied");
}

static int
child_unmapped_uid (const void *arg, int report_fd)
{
  if (unshare (CLONE_NEWUSER) < 0)
    return EXIT_SKIP;
  CHILD_CHECK (ar_write_file ("/proc/self/setgroups", "deny", 4, NULL) == 0);
  CHILD_CHECK (ar_write_file ("/proc/self/uid_map", "0 0 1", 5, NULL) == 0);
  CHILD_CHECK (ar_write_file ("/proc/self/gid_map", "0 0 1", 5, NULL) == 0);
  return child_apply_user_report (arg, report_fd);
}

static void
test_unmapped_uid (void)
{
  struct ar_process process = { .user = { .uid = TEST_UID, .gid = 0 } };
  cleanup_free char *report = NULL;
  int status = run_child (child_unmapped_uid, &process, &report);

  if (WIFEXITED (status) && WEXITSTATUS (status) == EXIT_SKIP)
    {
      printf ("# skipped: cannot create a user namespace here\n");
      return;
    }
  CHECK (WIFEXITED (status) && WEXITSTATUS (status) == 3);
  CHECK_CONTAINS (report, "process.user.uid 1000");
  CHECK_CONTAINS (report, "linux.uidMappings");
}

/* ---- I/O priority, scheduler, personality, OOM score ---- */

static int
child_io_priority (const void *arg, int report_fd)
{
  struct ar_io_priority be = { .ioprio_class = IOPRIO_CLASS_BE, .priority = 5 };
  struct ar_io_priority idle = { .ioprio_class = IOPRIO_CLASS_IDLE, .priority = 3 };
  ar_error_t err = NULL;

  if (ar_apply_io_priority (&be, &err) < 0)
    {
      report_error (report_fd, err);
      return 1;
    }
  CHILD_CHECK (syscall (SYS_ioprio_get, IOPRIO_WHO_PROCESS, 0) == IOPRIO_PRIO_VALUE (IOPRIO_CLASS_BE, 5));

  if (ar_apply_io_priority (&idle, &err) < 0)
    {
      report_error (report_fd, err);
      return 1;
    }
  CHILD_CHECK (IOPRIO_PRIO_CLASS (syscall (SYS_ioprio_get, IOPRIO_WHO_PROCESS, 0)) == IOPRIO_CLASS_IDLE);
  return 0;
}

static void
test_io_priority (void)
{
  struct ar_io_priority bad_level = { .ioprio_class = IOPRIO_CLASS_BE, .priority = 9 };
  struct ar_io_priority bad_class = { .ioprio_class = 7, .priority = 0 };
  cleanup_error ar_error_t err = NULL;
  cleanup_error ar_error_t err_class = NULL;
  cleanup_free char *msg = NULL;
  cleanup_free char *msg_class = NULL;
  cleanup_free char *report = NULL;
  int status;

  status = run_child (child_io_priority, NULL, &report);
  CHECK_CHILD_OK (status, report);

  /* Both are rejected before ioprio_set. */
  CHECK (ar_apply_io_priority (&bad_level, &err) == -EINVAL);
  msg = ar_error_format (err);
  CHECK_CONTAINS (msg, "process.ioPriority.priority is 9");
  CHECK (ar_apply_io_priority (&bad_class, &err_class) == -EINVAL);
  msg_class = ar_error_format (err_class);
  CHECK_CONTAINS (msg_class, "process.ioPriority.class 7");
}

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

static int
child_scheduler (const void *arg, int report_fd)
{
  struct ar_scheduler batch = { .policy = SCHED_BATCH, .nice = 5 };
  struct ar_scheduler fifo_zero = { .policy = SCHED_FIFO, .priority = 0 };
  struct kernel_sched_attr attr;
  ar_error_t err = NULL;
  cleanup_free char *msg = NULL;

  if (ar_apply_scheduler (&batch, &err) < 0)
    {
      report_error (report_fd, err);
      return 1;
    }
  memset (&attr, 0, sizeof (attr));
  CHILD_CHECK (syscall (SYS_sched_getattr, 0, &attr, sizeof (attr), 0) == 0);
  CHILD_CHECK (attr.sched_policy == SCHED_BATCH);
  CHILD_CHECK (attr.sched_nice == 5);

  /* SCHED_FIFO needs priority 1 to 99. */
  CHILD_CHECK (ar_apply_scheduler (&fifo_zero, &err) == -EINVAL);
  msg = ar_error_format (err);
  ar_error_free (err);
  CHILD_CHECK (strstr (msg, "invalid process.scheduler (policy SCHED_FIFO") != NULL);
  return 0;
}

static void
test_scheduler (void)
{
  cleanup_free char *report = NULL;
  int status = run_child (child_scheduler, NULL, &report);

  CHECK_CHILD_OK (status, report);
}

static int
child_personality (const void *arg, int report_fd)
{
  char *flags[] = { (char *) "ADDR_NO_RANDOMIZE", NULL };
  struct ar_personality linux32 = { .domain = (char *) "LINUX32", .flags = flags };
  ar_error_t err = NULL;
  struct utsname uts;

  if (ar_apply_personality (&linux32, &err) < 0)
    {
      report_error (report_fd, err);
      return 1;
    }
  CHILD_CHECK (personality (0xffffffff) == (PER_LINUX32 | ADDR_NO_RANDOMIZE));
#if defined(__x86_64__)
  CHILD_CHECK (uname (&uts) == 0);
  CHILD_CHECK (strcmp (uts.machine, "i686") == 0);
#else
  (void) uts;
#endif
  return 0;
}

static void
test_personality (void)
{
  char *bad_flags[] = { (char *) "ADDR_NO_RANDOMIZE", (char *) "NO_SUCH_FLAG", NULL };
  struct ar_personality bad_domain = { .domain = (char *) "LINUX64" };
  struct ar_personality bad_flag = { .domain = (char *) "LINUX", .flags = bad_flags };
  cleanup_error ar_error_t err = NULL;
  cleanup_error ar_error_t err_flag = NULL;
  cleanup_free char *msg = NULL;
  cleanup_free char *msg_flag = NULL;
  cleanup_free char *report = NULL;
  int status;

  status = run_child (child_personality, NULL, &report);
  CHECK_CHILD_OK (status, report);

  /* Both are rejected before personality(2). */
  CHECK (ar_apply_personality (&bad_domain, &err) == -EINVAL);
  msg = ar_error_format (err);
  CHECK_CONTAINS (msg, "linux.personality.domain `LINUX64`");
  CHECK (ar_apply_personality (&bad_flag, &err_flag) == -EINVAL);
  msg_flag = ar_error_format (err_flag);
  CHECK_CONTAINS (msg_flag, "linux.personality.flags[1]");
  CHECK_CONTAINS (msg_flag, "NO_SUCH_FLAG");
}

static int
child_oom_score_adj (const void *arg, int report_fd)
{
  cleanup_free char *text = NULL;
  ar_error_t err = NULL;
  int ret;

  if (ar_apply_oom_score_adj (500, &err) < 0)
    {
      report_error (report_fd, err);
      return 1;
    }
  CHILD_CHECK (ar_read_file ("/proc/self/oom_score_adj", &text, NULL, NULL) == 0);
  CHILD_CHECK (atoi (text) == 500);

  /* Lowering it again needs CAP_SYS_RESOURCE. */
  CHILD_CHECK (drop_effective (CAP_SYS_RESOURCE) == 0);
  ret = ar_apply_oom_score_adj (-500, &err);
  CHILD_CHECK (ret == -EACCES);
  report_error (report_fd, err);
  return 0;
}

static void
test_oom_score_adj (void)
{
  cleanup_error ar_error_t err = NULL;
  cleanup_free char *msg = NULL;
  cleanup_free char *report = NULL;
  int status;

  status = run_child (child_oom_score_adj, NULL, &report);
  CHECK_CHILD_OK (status, report);
  CHECK_CONTAINS (report, "cannot lower process.oomScoreAdj to -500 (now 500)");
  CHECK_CONTAINS (report, "CAP_SYS_RESOURCE");

  CHECK (ar_apply_oom_score_adj (1001, &err) == -EINVAL);
  msg = ar_error_format (err);
  CHECK_CONTAINS (msg, "process.oomScoreAdj is 1001");
}

int
main (void)
{
  static const struct unit_test tests[] = {
    { "capability names", test_capability_names },
    { "rlimits applied", test_rlimits_applied },
    { "rlimit soft above hard", test_rlimit_soft_above_hard },
    { "rlimit nofile too high", test_rlimit_nofile_too_high },
    { "bounding set", test_bounding_set },
    { "user switch with ambient", test_user_switch_with_ambient },
    { "user without capabilities", test_user_without_capabilities },
    { "root capability subset", test_root_capability_subset },
    { "capability set errors", test_capability_set_errors },
    { "setgroups denied in userns", test_setgroups_denied },
    { "unmapped uid in userns", test_unmapped_uid },
    { "io priority", test_io_priority },
    { "scheduler", test_scheduler },
    { "personality", test_personality },
    { "oom score adj", test_oom_score_adj },
    { NULL, NULL },
  };
  return unit_run (tests);
}
