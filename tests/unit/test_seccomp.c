/* Compiles linux.seccomp profiles and loads them in forked children, so
 * the test process itself never runs under a filter. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <linux/seccomp.h>
#include <poll.h>
#include <seccomp.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <sys/capability.h>
#include <sys/ioctl.h>
#include <sys/personality.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "oci/log.h"
#include "oci/util.h"
#include "seccomp_filter.h"
#include "unit.h"

/* ---- profiles from JSON text, as the config parser would build them ---- */

static char **
strv_from_json (json_t *array)
{
  size_t n = json_array_size (array);
  char **out = ar_xmalloc0 ((n + 1) * sizeof (char *));

  for (size_t i = 0; i < n; i++)
    out[i] = ar_xstrdup (json_string_value (json_array_get (array, i)));
  return out;
}

static char *
dup_member (json_t *obj, const char *key)
{
  return ar_xstrdup (json_string_value (json_object_get (obj, key)));
}

static void
free_profile (struct ar_seccomp *s)
{
  if (s == NULL)
    return;
  free (s->default_action);
  ar_strv_free (s->architectures);
  ar_strv_free (s->flags);
  free (s->listener_path);
  free (s->listener_metadata);
  for (size_t i = 0; i < s->n_syscalls; i++)
    {
      struct ar_seccomp_rule *r = &s->syscalls[i];

      ar_strv_free (r->names);
      free (r->action);
      for (size_t j = 0; j < r->n_args; j++)
        free (r->args[j].op);
      free (r->args);
    }
  free (s->syscalls);
  free (s);
}

static void
release_profile (struct ar_seccomp **s)
{
  free_profile (*s);
}

#define cleanup_profile __attribute__ ((cleanup (release_profile)))

/* Builds the struct from a linux.seccomp object; aborts on invalid test
 * JSON, which is a bug in the test. */
static struct ar_seccomp *
profile_from_json (const char *text)
{
  json_error_t json_err;
  json_t *root = json_loads (text, 0, &json_err);
  json_t *syscalls, *value;
  struct ar_seccomp *s;

  if (root == NULL)
    {
      fprintf (stderr, "invalid test JSON: %s: %s\n", json_err.text, text);
      abort ();
    }

  s = ar_xmalloc0 (sizeof (*s));
  s->default_action = dup_member (root, "defaultAction");
  value = json_object_get (root, "defaultErrnoRet");
  s->has_default_errno_ret = value != NULL;
  s->default_errno_ret = (unsigned int) json_integer_value (value);
  if ((value = json_object_get (root, "architectures")) != NULL)
    s->architectures = strv_from_json (value);
  if ((value = json_object_get (root, "flags")) != NULL)
    s->flags = strv_from_json (value);
  s->listener_path = dup_member (root, "listenerPath");
  s->listener_metadata = dup_member (root, "listenerMetadata");

  syscalls = json_object_get (root, "syscalls");
  s->n_syscalls = json_array_size (syscalls);
  s->syscalls = ar_xmalloc0 (s->n_syscalls * sizeof (struct ar_seccomp_rule));
  for (size_t i = 0; i < s->n_syscalls; i++)
    {
      json_t *entry = json_array_get (syscalls, i);
      json_t *args = json_object_get (entry, "args");
      struct ar_seccomp_rule *r = &s->syscalls[i];

      r->names = strv_from_json (json_object_get (entry, "names"));
      r->action = dup_member (entry, "action");
      value = json_object_get (entry, "errnoRet");
      r->has_errno_ret = value != NULL;
      r->errno_ret = (unsigned int) json_integer_value (value);
      r->n_args = json_array_size (args);
      r->args = ar_xmalloc0 (r->n_args * sizeof (struct ar_seccomp_arg));
      for (size_t j = 0; j < r->n_args; j++)
        {
          json_t *arg = json_array_get (args, j);

          r->args[j].index = (unsigned int) json_integer_value (json_object_get (arg, "index"));
          r->args[j].value = (uint64_t) json_integer_value (json_object_get (arg, "value"));
          r->args[j].value_two = (uint64_t) json_integer_value (json_object_get (arg, "valueTwo"));
          r->args[j].op = dup_member (arg, "op");
        }
    }

  json_decref (root);
  return s;
}

static struct ar_seccomp_program *
compile_json (const char *text)
{
  cleanup_profile struct ar_seccomp *profile = profile_from_json (text);
  cleanup_error ar_error_t err = NULL;
  struct ar_seccomp_program *program = NULL;

  if (ar_seccomp_compile (profile, &program, &err) < 0)
    {
      cleanup_free char *msg = ar_error_format (err);
      fprintf (stderr, "compile failed: %s\n", msg);
    }
  return program;
}

/* ---- forked children ---- */

/* A child function returns its exit code and writes what failed to
 * report_fd. */
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
  char buf[4096];
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

/* Checks that the child exited with 0, printing its report otherwise. */
#define CHECK_CHILD_OK(status, report)                                                 \
  do                                                                                   \
    {                                                                                  \
      if (!(WIFEXITED (status) && WEXITSTATUS (status) == 0))                          \
        fprintf (stderr, "child status %#x, report: %s\n", (unsigned) (status), report); \
      CHECK (WIFEXITED (status) && WEXITSTATUS (status) == 0);                         \
    }                                                                                  \
  while (0)

static int
load_or_report (const struct ar_seccomp_program *program, int *listener_fd, int report_fd)
{
  cleanup_error ar_error_t err = NULL;

  if (ar_seccomp_load (program, listener_fd, &err) < 0)
    {
      cleanup_free char *msg = ar_error_format (err);
      dprintf (report_fd, "load failed: %s\n", msg);
      return -1;
    }
  return 0;
}

#if defined(__x86_64__)
/* Makes a 32-bit x86 syscall, which the kernel filters with the x86
 * section of the program (AUDIT_ARCH_I386). */
static long
syscall_int80 (long nr, long a, long b)
{
  long ret;

  __asm__ volatile ("int $0x80" : "=a"(ret) : "a"(nr), "b"(a), "c"(b) : "memory", "r8", "r9", "r10", "r11");
  return ret;
}

#define X86_NR_GETPID 20
#define X86_NR_MKDIR 39
#define X86_NR_GETCWD 183

static int
child_int80_getpid (const void *arg, int report_fd)
{
  return syscall_int80 (X86_NR_GETPID, 0, 0) == getpid () ? 0 : 1;
}

/* Whether this kernel runs 32-bit syscalls (IA32 emulation); without it,
 * int $0x80 kills the caller. */
static bool
ia32_syscalls_work (void)
{
  cleanup_free char *report = NULL;
  int status = run_child (child_int80_getpid, NULL, &report);

  return WIFEXITED (status) && WEXITSTATUS (status) == 0;
}
#endif

/* ---- compiling ---- */

static void
test_compile_every_action (void)
{
  /* An action with its errno; a negative errno leaves errnoRet out. */
  static const struct
  {
    const char *action;
    int errno_ret;
  } cases[] = {
    { "SCMP_ACT_KILL", -1 },  { "SCMP_ACT_KILL_PROCESS", -1 }, { "SCMP_ACT_KILL_THREAD", -1 },
    { "SCMP_ACT_TRAP", -1 },  { "SCMP_ACT_ERRNO", -1 },        { "SCMP_ACT_ERRNO", 38 },
    { "SCMP_ACT_TRACE", -1 }, { "SCMP_ACT_TRACE", 1234 },      { "SCMP_ACT_LOG", -1 },
    { "SCMP_ACT_NOTIFY", -1 },
  };

  for (size_t i = 0; i < sizeof (cases) / sizeof (cases[0]); i++)
    {
      bool notify = strcmp (cases[i].action, "SCMP_ACT_NOTIFY") == 0;
      cleanup_free char *errno_member = cases[i].errno_ret < 0 ? ar_xstrdup ("")
                                                               : ar_xasprintf (", \"errnoRet\": %d", cases[i].errno_ret);
      cleanup_free char *default_errno_member = cases[i].errno_ret < 0
                                                    ? ar_xstrdup ("")
                                                    : ar_xasprintf (", \"defaultErrnoRet\": %d", cases[i].errno_ret);
      cleanup_free char *as_rule = ar_xasprintf (
          "{\"defaultAction\": \"SCMP_ACT_ALLOW\", \"listenerPath\": \"/tmp/ar-secattrs-none.sock\","
          " \"syscalls\": [{\"names\": [\"getcwd\", \"mkdir\"], \"action\": \"%s\"%s}]}",
          cases[i].action, errno_member);
      cleanup_free char *as_default = ar_xasprintf (
          "{\"defaultAction\": \"%s\"%s, \"listenerPath\": \"/tmp/ar-secattrs-none.sock\","
          " \"syscalls\": [{\"names\": [\"exit_group\"], \"action\": \"SCMP_ACT_ALLOW\"}]}",
          cases[i].action, default_errno_member);
      cleanup_seccomp_program struct ar_seccomp_program *rule_program = compile_json (as_rule);
      cleanup_seccomp_program struct ar_seccomp_program *default_program = compile_json (as_default);

      CHECK (rule_program != NULL);
      CHECK (default_program != NULL);
      if (rule_program == NULL || default_program == NULL)
        continue;
      CHECK (rule_program->n_filter > 0);
      CHECK (rule_program->needs_listener == notify);
      CHECK (default_program->needs_listener == notify);
    }
}

#if defined(__x86_64__)
static int
child_int80_under_filter (const void *arg, int report_fd)
{
  if (load_or_report (arg, NULL, report_fd) < 0)
    return 1;
  syscall_int80 (X86_NR_GETPID, 0, 0);
  dprintf (report_fd, "a 32-bit syscall returned under a filter without SCMP_ARCH_X86\n");
  return 2;
}
#endif

static void
test_compile_architectures (void)
{
#if defined(__x86_64__)
  cleanup_seccomp_program struct ar_seccomp_program *native = compile_json (
      "{\"defaultAction\": \"SCMP_ACT_ERRNO\", \"syscalls\": ["
      " {\"names\": [\"read\", \"write\", \"socket\"], \"action\": \"SCMP_ACT_ALLOW\"}]}");
  cleanup_seccomp_program struct ar_seccomp_program *three = compile_json (
      "{\"defaultAction\": \"SCMP_ACT_ERRNO\","
      " \"architectures\": [\"SCMP_ARCH_X86_64\", \"SCMP_ARCH_X86\", \"SCMP_ARCH_X32\"],"
      " \"syscalls\": [{\"names\": [\"read\", \"write\", \"socket\"], \"action\": \"SCMP_ACT_ALLOW\"}]}");

  CHECK (native != NULL);
  CHECK (three != NULL);
  /* Each added architecture gets its own section in the program. */
  if (native != NULL && three != NULL)
    CHECK (three->n_filter > native->n_filter);

  /* A syscall of an architecture the filter lacks kills the caller. */
  if (native != NULL && ia32_syscalls_work ())
    {
      cleanup_free char *report = NULL;
      int status = run_child (child_int80_under_filter, native, &report);

      if (!WIFSIGNALED (status))
        fprintf (stderr, "child status %#x, report: %s\n", (unsigned) status, report);
      CHECK (WIFSIGNALED (status) && WTERMSIG (status) == SIGSYS);
    }
#endif
}

/* Builds a profile shaped like podman's default for a container without
 * extra capabilities: ERRNO(ENOSYS) by default, a block of ERRNO(EPERM),
 * about 350 allowed names (every syscall that libseccomp resolves for this
 * architecture, less a few), conditional rules on personality, clone and
 * socket, and names newer than libseccomp 2.5.4. */
static struct ar_seccomp *
podman_shaped_profile (void)
{
  static const char *const denied[] = { "mkdir", "kexec_load", "open_by_handle_at", "bpf", "umount2", NULL };
  static const char *const not_allowed[] = { "getcwd", "personality", "clone", "socket", NULL };
  static const char *const future[] = { "ar_secattrs_future_syscall", "mseal", "listmount", "statmount", NULL };
  static const uint64_t personalities[] = { 0x0, 0x8, 0x20000, 0x20008, 0xffffffff };
  struct ar_seccomp *s = ar_xmalloc0 (sizeof (*s));
  char **allowed = ar_xmalloc0 (1024 * sizeof (char *));
  size_t n_allowed = 0, n = 0;

  s->default_action = ar_xstrdup ("SCMP_ACT_ERRNO");
  s->has_default_errno_ret = true;
  s->default_errno_ret = ENOSYS;
#if defined(__x86_64__)
  s->architectures = ar_xmalloc0 (4 * sizeof (char *));
  s->architectures[0] = ar_xstrdup ("SCMP_ARCH_X86_64");
  s->architectures[1] = ar_xstrdup ("SCMP_ARCH_X86");
  s->architectures[2] = ar_xstrdup ("SCMP_ARCH_X32");
#endif

  for (int nr = 0; nr < 1000 && n_allowed < 1000; nr++)
    {
      char *name = seccomp_syscall_resolve_num_arch (SCMP_ARCH_NATIVE, nr);
      bool skip = false;

      if (name == NULL)
        continue;
      for (size_t i = 0; denied[i] != NULL; i++)
        skip |= strcmp (name, denied[i]) == 0;
      for (size_t i = 0; not_allowed[i] != NULL; i++)
        skip |= strcmp (name, not_allowed[i]) == 0;
      if (skip)
        free (name);
      else
        allowed[n_allowed++] = name;
    }
  for (size_t i = 0; future[i] != NULL; i++)
    allowed[n_allowed++] = ar_xstrdup (future[i]);

  s->n_syscalls = 2 + 5 + 1 + 3;
  s->syscalls = ar_xmalloc0 (s->n_syscalls * sizeof (struct ar_seccomp_rule));

  s->syscalls[n].names = ar_strv_dup ((char *const *) denied);
  s->syscalls[n].action = ar_xstrdup ("SCMP_ACT_ERRNO");
  s->syscalls[n].has_errno_ret = true;
  s->syscalls[n++].errno_ret = EPERM;

  s->syscalls[n].names = allowed;
  s->syscalls[n++].action = ar_xstrdup ("SCMP_ACT_ALLOW");

  for (size_t i = 0; i < 5; i++, n++)
    {
      s->syscalls[n].names = ar_strv_dup ((char *const[]) { (char *) "personality", NULL });
      s->syscalls[n].action = ar_xstrdup ("SCMP_ACT_ALLOW");
      s->syscalls[n].n_args = 1;
      s->syscalls[n].args = ar_xmalloc0 (sizeof (struct ar_seccomp_arg));
      s->syscalls[n].args[0] = (struct ar_seccomp_arg) { .index = 0, .value = personalities[i],
                                                         .op = ar_xstrdup ("SCMP_CMP_EQ") };
    }

  /* clone without any namespace flag. */
  s->syscalls[n].names = ar_strv_dup ((char *const[]) { (char *) "clone", NULL });
  s->syscalls[n].action = ar_xstrdup ("SCMP_ACT_ALLOW");
  s->syscalls[n].n_args = 1;
  s->syscalls[n].args = ar_xmalloc0 (sizeof (struct ar_seccomp_arg));
  s->syscalls[n++].args[0] = (struct ar_seccomp_arg) { .index = 0, .value = 0x7e020000, .value_two = 0,
                                                       .op = ar_xstrdup ("SCMP_CMP_MASKED_EQ") };

  /* socket: NETLINK_AUDIT gets EINVAL, everything else is allowed. */
  s->syscalls[n].names = ar_strv_dup ((char *const[]) { (char *) "socket", NULL });
  s->syscalls[n].action = ar_xstrdup ("SCMP_ACT_ERRNO");
  s->syscalls[n].has_errno_ret = true;
  s->syscalls[n].errno_ret = EINVAL;
  s->syscalls[n].n_args = 2;
  s->syscalls[n].args = ar_xmalloc0 (2 * sizeof (struct ar_seccomp_arg));
  s->syscalls[n].args[0] = (struct ar_seccomp_arg) { .index = 0, .value = AF_NETLINK, .op = ar_xstrdup ("SCMP_CMP_EQ") };
  s->syscalls[n++].args[1] = (struct ar_seccomp_arg) { .index = 2, .value = 9, .op = ar_xstrdup ("SCMP_CMP_EQ") };
  for (size_t i = 0; i < 2; i++, n++)
    {
      s->syscalls[n].names = ar_strv_dup ((char *const[]) { (char *) "socket", NULL });
      s->syscalls[n].action = ar_xstrdup ("SCMP_ACT_ALLOW");
      s->syscalls[n].n_args = 1;
      s->syscalls[n].args = ar_xmalloc0 (sizeof (struct ar_seccomp_arg));
      s->syscalls[n].args[0] = (struct ar_seccomp_arg) { .index = i == 0 ? 2 : 0, .value = i == 0 ? 9 : AF_NETLINK,
                                                         .op = ar_xstrdup ("SCMP_CMP_NE") };
    }
  return s;
}


struct podman_shaped_arg
{
  const struct ar_seccomp_program *program;
  bool ia32; /* also check 32-bit x86 syscalls */
};

static int
child_podman_shaped (const void *arg, int report_fd)
{
  const struct podman_shaped_arg *shaped = arg;
  const struct ar_seccomp_program *program = shaped->program;
  char buf[256];
  long ret;
  int fd;

  if (load_or_report (program, NULL, report_fd) < 0)
    return 1;

  errno = 0;
  ret = syscall (SYS_mkdir, "/tmp/ar-secattrs-never-created", 0700);
  CHILD_CHECK (ret == -1 && errno == EPERM);

  /* getcwd is in no rule, so the default ERRNO(ENOSYS) applies. */
  errno = 0;
  ret = syscall (SYS_getcwd, buf, sizeof (buf));
  CHILD_CHECK (ret == -1 && errno == ENOSYS);

  ret = syscall (SYS_personality, 0xffffffffUL);
  CHILD_CHECK (ret >= 0);
  errno = 0;
  ret = syscall (SYS_personality, 0x1234UL);
  CHILD_CHECK (ret == -1 && errno == ENOSYS);

  /* clone with CLONE_NEWNS is outside the masked rule; should the filter
   * let it through, the new child leaves at once. */
  errno = 0;
  ret = syscall (SYS_clone, (unsigned long) (CLONE_NEWNS | SIGCHLD), 0, 0, 0, 0);
  if (ret == 0)
    _exit (0);
  CHILD_CHECK (ret == -1 && errno == ENOSYS);

  errno = 0;
  fd = socket (AF_NETLINK, SOCK_RAW, 9);
  CHILD_CHECK (fd == -1 && errno == EINVAL);
  fd = socket (AF_UNIX, SOCK_STREAM, 0);
  CHILD_CHECK (fd >= 0);
  close (fd);

  CHILD_CHECK (syscall (SYS_getpid) == getpid ());

#if defined(__x86_64__)
  /* The profile lists SCMP_ARCH_X86, so its x86 section applies the same
   * rules to 32-bit syscalls. */
  if (shaped->ia32)
    {
      CHILD_CHECK (syscall_int80 (X86_NR_MKDIR, 0, 0700) == -EPERM);
      CHILD_CHECK (syscall_int80 (X86_NR_GETCWD, 0, 0) == -ENOSYS);
      CHILD_CHECK (syscall_int80 (X86_NR_GETPID, 0, 0) == getpid ());
    }
#endif
  return 0;
}

static void
test_podman_shaped_profile (void)
{
  cleanup_error ar_error_t err = NULL;
  cleanup_profile struct ar_seccomp *profile = podman_shaped_profile ();
  cleanup_seccomp_program struct ar_seccomp_program *program = NULL;
  cleanup_free char *report = NULL;
  struct podman_shaped_arg shaped;
  struct timespec start, end;
  int status;

  CHECK (profile->syscalls[1].names[300] != NULL);

  clock_gettime (CLOCK_MONOTONIC, &start);
  CHECK (ar_seccomp_compile (profile, &program, &err) == 0);
  clock_gettime (CLOCK_MONOTONIC, &end);
  if (program == NULL)
    {
      cleanup_free char *msg = ar_error_format (err);
      fprintf (stderr, "compile failed: %s\n", msg);
      return;
    }
  CHECK (program->n_filter > 100);
  CHECK (!program->needs_listener);
  if (getenv ("AR_TEST_VERBOSE") != NULL)
    printf ("# podman-shaped profile: %u BPF instructions in %.2f ms\n", program->n_filter,
            (double) (end.tv_sec - start.tv_sec) * 1e3 + (double) (end.tv_nsec - start.tv_nsec) / 1e6);

  shaped = (struct podman_shaped_arg) { .program = program };
#if defined(__x86_64__)
  shaped.ia32 = ia32_syscalls_work ();
#endif
  status = run_child (child_podman_shaped, &shaped, &report);
  CHECK_CHILD_OK (status, report);
}

static void
test_unknown_syscall_skipped (void)
{
  char log_path[] = "/tmp/ar-secattrs-log-XXXXXX";
  cleanup_error ar_error_t err = NULL;
  cleanup_free char *log_text = NULL;
  cleanup_seccomp_program struct ar_seccomp_program *program = NULL;
  int fd = mkstemp (log_path);

  CHECK (fd >= 0);
  if (fd < 0)
    return;
  close (fd);
  CHECK (ar_log_init (log_path, AR_LOG_FORMAT_TEXT, true, &err) == 0);

  program = compile_json ("{\"defaultAction\": \"SCMP_ACT_ALLOW\", \"syscalls\": ["
                          " {\"names\": [\"mkdir\", \"ar_secattrs_no_such_syscall\"], \"action\": \"SCMP_ACT_ERRNO\"}]}");
  ar_log_reset ();
  CHECK (program != NULL);

  CHECK (ar_read_file (log_path, &log_text, NULL, &err) == 0);
  CHECK_CONTAINS (log_text, "ar_secattrs_no_such_syscall");
  CHECK_CONTAINS (log_text, "linux.seccomp.syscalls[0].names[1]");
  unlink (log_path);
}

static int
child_mkdir_denied (const void *arg, int report_fd)
{
  long ret;

  if (load_or_report (arg, NULL, report_fd) < 0)
    return 1;
  errno = 0;
  ret = syscall (SYS_mkdir, "/tmp/ar-secattrs-never-created", 0700);
  CHILD_CHECK (ret == -1 && errno == EPERM);
  return 0;
}

static void
test_flags (void)
{
  cleanup_seccomp_program struct ar_seccomp_program *program = compile_json (
      "{\"defaultAction\": \"SCMP_ACT_ALLOW\","
      " \"flags\": [\"SECCOMP_FILTER_FLAG_TSYNC\", \"SECCOMP_FILTER_FLAG_LOG\","
      "  \"SECCOMP_FILTER_FLAG_SPEC_ALLOW\", \"SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV\"],"
      " \"syscalls\": [{\"names\": [\"mkdir\"], \"action\": \"SCMP_ACT_ERRNO\"}]}");
  cleanup_free char *report = NULL;
  int status;

  CHECK (program != NULL);
  if (program == NULL)
    return;
  /* Kernels since 4.17 support the first three.  WAIT_KILLABLE_RECV needs
   * a listener, so without SCMP_ACT_NOTIFY it is dropped. */
  CHECK (program->flags & SECCOMP_FILTER_FLAG_TSYNC);
  CHECK (program->flags & SECCOMP_FILTER_FLAG_LOG);
  CHECK (program->flags & SECCOMP_FILTER_FLAG_SPEC_ALLOW);
  CHECK ((program->flags & SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV) == 0);

  status = run_child (child_mkdir_denied, program, &report);
  CHECK_CHILD_OK (status, report);
}

/* ---- loading: errno, kill, trap ---- */

static int
child_errno_rules (const void *arg, int report_fd)
{
  char buf[256];
  long ret;

  if (load_or_report (arg, NULL, report_fd) < 0)
    return 1;

  errno = 0;
  ret = syscall (SYS_mkdir, "/tmp/ar-secattrs-never-created", 0700);
  CHILD_CHECK (ret == -1 && errno == EPERM);
  errno = 0;
  ret = syscall (SYS_getcwd, buf, sizeof (buf));
  CHILD_CHECK (ret == -1 && errno == 38);
  CHILD_CHECK (syscall (SYS_getpid) == getpid ());
  return 0;
}

static void
test_load_errno (void)
{
  cleanup_seccomp_program struct ar_seccomp_program *program = compile_json (
      "{\"defaultAction\": \"SCMP_ACT_ALLOW\", \"flags\": [\"SECCOMP_FILTER_FLAG_TSYNC\"], \"syscalls\": ["
      " {\"names\": [\"mkdir\"], \"action\": \"SCMP_ACT_ERRNO\"},"
      " {\"names\": [\"getcwd\"], \"action\": \"SCMP_ACT_ERRNO\", \"errnoRet\": 38}]}");
  cleanup_free char *report = NULL;
  int status;

  CHECK (program != NULL);
  if (program == NULL)
    return;
  status = run_child (child_errno_rules, program, &report);
  CHECK_CHILD_OK (status, report);
}

static int
child_call_getcwd (const void *arg, int report_fd)
{
  char buf[256];

  if (load_or_report (arg, NULL, report_fd) < 0)
    return 1;
  syscall (SYS_getcwd, buf, sizeof (buf));
  dprintf (report_fd, "getcwd returned under a killing filter\n");
  return 2;
}

static void
test_load_kill_and_trap (void)
{
  static const char *const killing[] = { "SCMP_ACT_KILL", "SCMP_ACT_KILL_PROCESS", "SCMP_ACT_KILL_THREAD",
                                         "SCMP_ACT_TRAP" };

  for (size_t i = 0; i < sizeof (killing) / sizeof (killing[0]); i++)
    {
      cleanup_free char *json = ar_xasprintf ("{\"defaultAction\": \"SCMP_ACT_ALLOW\", \"syscalls\": ["
                                              " {\"names\": [\"getcwd\"], \"action\": \"%s\"}]}",
                                              killing[i]);
      cleanup_seccomp_program struct ar_seccomp_program *program = compile_json (json);
      cleanup_free char *report = NULL;
      int status;

      CHECK (program != NULL);
      if (program == NULL)
        continue;
      status = run_child (child_call_getcwd, program, &report);
      if (!WIFSIGNALED (status))
        fprintf (stderr, "%s: child status %#x, report: %s\n", killing[i], (unsigned) status, report);
      /* The kernel kills with SIGSYS, and SIGSYS kills a process that
       * does not handle it after SCMP_ACT_TRAP. */
      CHECK (WIFSIGNALED (status) && WTERMSIG (status) == SIGSYS);
    }
}

/* ---- argument conditions ---- */

struct op_case
{
  const char *op;
  uint64_t value, value_two;
  uint64_t matching, not_matching;
};

static int
child_op_case (const void *arg, int report_fd)
{
  const struct op_case *c = ((const void *const *) arg)[1];
  long ret;

  if (load_or_report (((const void *const *) arg)[0], NULL, report_fd) < 0)
    return 1;

  errno = 0;
  ret = syscall (SYS_getsid, c->matching);
  CHILD_CHECK (ret == -1 && errno == 200);
  errno = 0;
  ret = syscall (SYS_getsid, c->not_matching);
  CHILD_CHECK (errno != 200);
  return 0;
}

static void
test_arg_operators (void)
{
  /* getsid has no side effects: an unknown pid returns ESRCH, never the
   * filter's errno 200. */
  static const struct op_case cases[] = {
    { "SCMP_CMP_NE", 5000, 0, 5001, 5000 },
    { "SCMP_CMP_LT", 5000, 0, 4999, 5000 },
    { "SCMP_CMP_LE", 5000, 0, 5000, 5001 },
    { "SCMP_CMP_EQ", 5000, 0, 5000, 4999 },
    { "SCMP_CMP_GE", 5000, 0, 5000, 4999 },
    { "SCMP_CMP_GT", 5000, 0, 5001, 5000 },
    { "SCMP_CMP_MASKED_EQ", 0xff00, 0x1200, 0x12ab, 0x13ab },
    /* Above 32 bits: libseccomp compares both halves. */
    { "SCMP_CMP_EQ", 0x100000005ULL, 0, 0x100000005ULL, 0x5 },
  };

  for (size_t i = 0; i < sizeof (cases) / sizeof (cases[0]); i++)
    {
      cleanup_free char *json = ar_xasprintf (
          "{\"defaultAction\": \"SCMP_ACT_ALLOW\", \"syscalls\": [{\"names\": [\"getsid\"],"
          " \"action\": \"SCMP_ACT_ERRNO\", \"errnoRet\": 200,"
          " \"args\": [{\"index\": 0, \"value\": %llu, \"valueTwo\": %llu, \"op\": \"%s\"}]}]}",
          (unsigned long long) cases[i].value, (unsigned long long) cases[i].value_two, cases[i].op);
      cleanup_seccomp_program struct ar_seccomp_program *program = compile_json (json);
      cleanup_free char *report = NULL;
      const void *arg[2];
      int status;

      CHECK (program != NULL);
      if (program == NULL)
        continue;
      arg[0] = program;
      arg[1] = &cases[i];
      status = run_child (child_op_case, arg, &report);
      if (!(WIFEXITED (status) && WEXITSTATUS (status) == 0))
        fprintf (stderr, "case %s %#llx: ", cases[i].op, (unsigned long long) cases[i].value);
      CHECK_CHILD_OK (status, report);
    }
}

static int
child_same_index (const void *arg, int report_fd)
{
  long ret;

  if (load_or_report (arg, NULL, report_fd) < 0)
    return 1;

  /* which is 5 or 7 (two conditions on index 0) and who is 9. */
  errno = 0;
  ret = syscall (SYS_getpriority, 5, 9);
  CHILD_CHECK (ret == -1 && errno == 201);
  errno = 0;
  ret = syscall (SYS_getpriority, 7, 9);
  CHILD_CHECK (ret == -1 && errno == 201);
  errno = 0;
  syscall (SYS_getpriority, 5, 8);
  CHILD_CHECK (errno != 201);
  errno = 0;
  syscall (SYS_getpriority, 6, 9);
  CHILD_CHECK (errno != 201);
  return 0;
}

static void
test_args_same_index (void)
{
  cleanup_seccomp_program struct ar_seccomp_program *program = compile_json (
      "{\"defaultAction\": \"SCMP_ACT_ALLOW\", \"syscalls\": [{\"names\": [\"getpriority\"],"
      " \"action\": \"SCMP_ACT_ERRNO\", \"errnoRet\": 201, \"args\": ["
      "  {\"index\": 0, \"value\": 5, \"op\": \"SCMP_CMP_EQ\"},"
      "  {\"index\": 1, \"value\": 9, \"op\": \"SCMP_CMP_EQ\"},"
      "  {\"index\": 0, \"value\": 7, \"op\": \"SCMP_CMP_EQ\"}]}]}");
  cleanup_free char *report = NULL;
  int status;

  CHECK (program != NULL);
  if (program == NULL)
    return;
  status = run_child (child_same_index, program, &report);
  CHECK_CHILD_OK (status, report);
}

/* ---- SCMP_ACT_NOTIFY and the listener socket ---- */

struct notify_arg
{
  const struct ar_seccomp_program *program;
  const char *socket_path;
};

static int
child_notify (const void *arg, int report_fd)
{
  const struct notify_arg *n = arg;
  cleanup_error ar_error_t err = NULL;
  int listener_fd = -1;
  long ret;

  if (load_or_report (n->program, &listener_fd, report_fd) < 0)
    return 1;
  CHILD_CHECK (listener_fd >= 0);

  if (ar_seccomp_send_listener (n->socket_path, "agent-metadata", getpid (),
                                "{\"ociVersion\": \"1.2.0\", \"id\": \"ar-secattrs-notify\","
                                " \"status\": \"creating\", \"pid\": 1, \"bundle\": \"/b\"}",
                                listener_fd, &err)
      < 0)
    {
      cleanup_free char *msg = ar_error_format (err);
      dprintf (report_fd, "send failed: %s\n", msg);
      return 1;
    }
  close (listener_fd);

  /* The agent in the parent replies 4242. */
  ret = syscall (SYS_getsid, 0);
  CHILD_CHECK (ret == 4242);
  return 0;
}

/* Receives the listener fd and the JSON payload from one connection. */
static int
receive_listener (int server, int *fd_out, char *payload, size_t size)
{
  struct pollfd pfd = { .fd = server, .events = POLLIN };
  union
  {
    char buf[CMSG_SPACE (sizeof (int))];
    struct cmsghdr align;
  } control;
  struct iovec iov = { .iov_base = payload, .iov_len = size - 1 };
  struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = control.buf,
                        .msg_controllen = sizeof (control.buf) };
  struct cmsghdr *cmsg;
  size_t len;
  ssize_t n;
  int conn;

  if (poll (&pfd, 1, 5000) != 1)
    return -1;
  conn = accept4 (server, NULL, NULL, SOCK_CLOEXEC);
  if (conn < 0)
    return -1;

  n = recvmsg (conn, &msg, MSG_CMSG_CLOEXEC);
  if (n <= 0)
    {
      close (conn);
      return -1;
    }
  cmsg = CMSG_FIRSTHDR (&msg);
  if (cmsg == NULL || cmsg->cmsg_type != SCM_RIGHTS)
    {
      close (conn);
      return -1;
    }
  memcpy (fd_out, CMSG_DATA (cmsg), sizeof (int));

  len = (size_t) n;
  while (len < size - 1 && (n = read (conn, payload + len, size - 1 - len)) > 0)
    len += (size_t) n;
  payload[len] = '\0';
  close (conn);
  return 0;
}

static void
test_notify_listener (void)
{
  char dir[] = "/tmp/ar-secattrs-notify-XXXXXX";
  cleanup_free char *socket_path = NULL;
  cleanup_free char *report = NULL;
  cleanup_seccomp_program struct ar_seccomp_program *program = NULL;
  struct sockaddr_un addr = { .sun_family = AF_UNIX };
  struct notify_arg arg;
  char payload[4096];
  json_t *doc = NULL;
  int server = -1, listener = -1, status = 0;
  int fds[2];
  pid_t pid;

  CHECK (mkdtemp (dir) != NULL);
  socket_path = ar_xasprintf ("%s/agent.sock", dir);
  {
    cleanup_free char *json = ar_xasprintf (
        "{\"defaultAction\": \"SCMP_ACT_ALLOW\", \"listenerPath\": \"%s\","
        " \"listenerMetadata\": \"agent-metadata\","
        " \"flags\": [\"SECCOMP_FILTER_FLAG_TSYNC\", \"SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV\"],"
        " \"syscalls\": [{\"names\": [\"getsid\"], \"action\": \"SCMP_ACT_NOTIFY\"}]}",
        socket_path);
    program = compile_json (json);
  }
  CHECK (program != NULL);
  if (program == NULL)
    goto out;
  CHECK (program->needs_listener);
  CHECK (program->flags & SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV);

  server = socket (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  strcpy (addr.sun_path, socket_path);
  CHECK (bind (server, (struct sockaddr *) &addr, sizeof (addr)) == 0);
  CHECK (listen (server, 1) == 0);

  /* run_child would wait for the child before the agent replies, so fork
   * here. */
  arg = (struct notify_arg) { .program = program, .socket_path = socket_path };
  CHECK (pipe2 (fds, O_CLOEXEC) == 0);
  fflush (NULL);
  pid = fork ();
  if (pid == 0)
    {
      close (fds[0]);
      _exit (child_notify (&arg, fds[1]));
    }
  close (fds[1]);

  CHECK (receive_listener (server, &listener, payload, sizeof (payload)) == 0);
  if (listener >= 0)
    {
      struct pollfd pfd = { .fd = listener, .events = POLLIN };
      struct seccomp_notif req;
      struct seccomp_notif_resp resp;

      doc = json_loads (payload, 0, NULL);
      CHECK (doc != NULL);
      CHECK_STR_EQ (json_string_value (json_object_get (doc, "ociVersion")), "1.2.0");
      CHECK_STR_EQ (json_string_value (json_array_get (json_object_get (doc, "fds"), 0)), "seccompFd");
      CHECK (json_integer_value (json_object_get (doc, "pid")) == pid);
      CHECK_STR_EQ (json_string_value (json_object_get (doc, "metadata")), "agent-metadata");
      CHECK_STR_EQ (json_string_value (json_object_get (json_object_get (doc, "state"), "id")),
                    "ar-secattrs-notify");

      CHECK (poll (&pfd, 1, 5000) == 1);
      memset (&req, 0, sizeof (req));
      CHECK (ioctl (listener, SECCOMP_IOCTL_NOTIF_RECV, &req) == 0);
      CHECK (req.data.nr == SYS_getsid);
      CHECK ((pid_t) req.pid == pid);
      resp = (struct seccomp_notif_resp) { .id = req.id, .val = 4242, .error = 0, .flags = 0 };
      CHECK (ioctl (listener, SECCOMP_IOCTL_NOTIF_SEND, &resp) == 0);
      close (listener);
    }
  else
    kill (pid, SIGKILL);

  {
    char buf[4096];
    ssize_t n = read (fds[0], buf, sizeof (buf) - 1);

    buf[n > 0 ? n : 0] = '\0';
    while (waitpid (pid, &status, 0) < 0 && errno == EINTR)
      ;
    CHECK_CHILD_OK (status, buf);
  }
  close (fds[0]);

out:
  json_decref (doc);
  if (server >= 0)
    close (server);
  if (socket_path != NULL)
    unlink (socket_path);
  rmdir (dir);
}

/* ---- load without privileges ---- */

static int
child_load_unprivileged (const void *arg, int report_fd)
{
  cleanup_error ar_error_t err = NULL;
  cleanup_free char *msg = NULL;
  cap_value_t sys_admin = CAP_SYS_ADMIN;
  cap_t caps = cap_get_proc ();

  CHILD_CHECK (caps != NULL);
  CHILD_CHECK (cap_set_flag (caps, CAP_EFFECTIVE, 1, &sys_admin, CAP_CLEAR) == 0);
  CHILD_CHECK (cap_set_proc (caps) == 0);
  cap_free (caps);

  CHILD_CHECK (ar_seccomp_load (arg, NULL, &err) == -EACCES);
  msg = ar_error_format (err);
  CHILD_CHECK (strstr (msg, "process.noNewPrivileges") != NULL);
  CHILD_CHECK (strstr (msg, "CAP_SYS_ADMIN") != NULL);
  return 0;
}

static void
test_load_needs_nnp (void)
{
  cleanup_seccomp_program struct ar_seccomp_program *program = compile_json (
      "{\"defaultAction\": \"SCMP_ACT_ALLOW\", \"syscalls\": [{\"names\": [\"mkdir\"], \"action\": \"SCMP_ACT_ERRNO\"}]}");
  cleanup_free char *report = NULL;
  int status;

  CHECK (program != NULL);
  if (program == NULL)
    return;
  status = run_child (child_load_unprivileged, program, &report);
  CHECK_CHILD_OK (status, report);
}

/* ---- errors name the field ---- */

static void
test_compile_errors (void)
{
  static const struct
  {
    const char *json;
    const char *expected[2];
  } cases[] = {
    { "{\"defaultAction\": \"SCMP_ACT_NOPE\"}", { "linux.seccomp.defaultAction", "SCMP_ACT_NOPE" } },
    { "{\"defaultAction\": \"SCMP_ACT_ALLOW\", \"syscalls\": ["
      " {\"names\": [\"getcwd\"], \"action\": \"SCMP_ACT_ERRNO\"},"
      " {\"names\": [\"mkdir\"], \"action\": \"SCMP_ACT_BOGUS\"}]}",
      { "linux.seccomp.syscalls[1].action", "SCMP_ACT_BOGUS" } },
    { "{\"defaultAction\": \"SCMP_ACT_ALLOW\", \"architectures\": [\"SCMP_ARCH_X86_64\", \"SCMP_ARCH_VAX\"]}",
      { "linux.seccomp.architectures[1]", "SCMP_ARCH_VAX" } },
    { "{\"defaultAction\": \"SCMP_ACT_ALLOW\", \"architectures\": [\"x86_64\"]}",
      { "linux.seccomp.architectures[0]", "`x86_64`" } },
    { "{\"defaultAction\": \"SCMP_ACT_ALLOW\", \"flags\": [\"SECCOMP_FILTER_FLAG_BOGUS\"]}",
      { "linux.seccomp.flags[0]", "SECCOMP_FILTER_FLAG_BOGUS" } },
    { "{\"defaultAction\": \"SCMP_ACT_ALLOW\", \"syscalls\": [{\"names\": [\"getsid\"], \"action\": \"SCMP_ACT_ERRNO\","
      " \"args\": [{\"index\": 0, \"value\": 1, \"op\": \"SCMP_CMP_EQ\"}, {\"index\": 1, \"value\": 1, \"op\": \"SCMP_CMP_SIMILAR\"}]}]}",
      { "linux.seccomp.syscalls[0].args[1].op", "SCMP_CMP_SIMILAR" } },
    { "{\"defaultAction\": \"SCMP_ACT_ALLOW\", \"syscalls\": [{\"names\": [\"getsid\"], \"action\": \"SCMP_ACT_ERRNO\","
      " \"args\": [{\"index\": 6, \"value\": 1, \"op\": \"SCMP_CMP_EQ\"}]}]}",
      { "linux.seccomp.syscalls[0].args[0].index", "6" } },
    { "{\"defaultAction\": \"SCMP_ACT_ERRNO\", \"syscalls\": [{\"names\": [\"getsid\"], \"action\": \"SCMP_ACT_ALLOW\", \"errnoRet\": 1}]}",
      { "linux.seccomp.syscalls[0].errnoRet", "SCMP_ACT_ALLOW" } },
    { "{\"defaultAction\": \"SCMP_ACT_ALLOW\", \"defaultErrnoRet\": 1}", { "linux.seccomp.defaultErrnoRet", "" } },
    { "{\"defaultAction\": \"SCMP_ACT_ALLOW\", \"syscalls\": [{\"names\": [\"getsid\"], \"action\": \"SCMP_ACT_ERRNO\", \"errnoRet\": 5000}]}",
      { "linux.seccomp.syscalls[0].errnoRet", "4095" } },
    { "{\"defaultAction\": \"SCMP_ACT_ALLOW\", \"syscalls\": [{\"names\": [], \"action\": \"SCMP_ACT_ERRNO\"}]}",
      { "linux.seccomp.syscalls[0].names", "empty" } },
    { "{\"defaultAction\": \"SCMP_ACT_ALLOW\", \"syscalls\": [{\"names\": [\"getsid\"], \"action\": \"SCMP_ACT_NOTIFY\"}]}",
      { "linux.seccomp.listenerPath", "SCMP_ACT_NOTIFY" } },
#if defined(__x86_64__) || defined(__aarch64__)
    /* Little-endian host, big-endian architecture. */
    { "{\"defaultAction\": \"SCMP_ACT_ALLOW\", \"architectures\": [\"SCMP_ARCH_S390X\"]}",
      { "linux.seccomp.architectures[0]", "byte order" } },
#endif
  };

  for (size_t i = 0; i < sizeof (cases) / sizeof (cases[0]); i++)
    {
      cleanup_profile struct ar_seccomp *profile = profile_from_json (cases[i].json);
      cleanup_error ar_error_t err = NULL;
      cleanup_free char *msg = NULL;
      struct ar_seccomp_program *program = NULL;

      CHECK (ar_seccomp_compile (profile, &program, &err) < 0);
      CHECK (program == NULL);
      msg = ar_error_format (err);
      for (size_t j = 0; j < 2; j++)
        CHECK_CONTAINS (msg, cases[i].expected[j]);
      ar_seccomp_program_free (program);
    }
}

int
main (void)
{
  static const struct unit_test tests[] = {
    { "seccomp compile every action", test_compile_every_action },
    { "seccomp compile architectures", test_compile_architectures },
    { "seccomp podman-shaped profile", test_podman_shaped_profile },
    { "seccomp unknown syscall skipped", test_unknown_syscall_skipped },
    { "seccomp flags", test_flags },
    { "seccomp load errno rules", test_load_errno },
    { "seccomp load kill and trap", test_load_kill_and_trap },
    { "seccomp argument operators", test_arg_operators },
    { "seccomp args on one index", test_args_same_index },
    { "seccomp notify listener", test_notify_listener },
    { "seccomp load needs no_new_privs", test_load_needs_nnp },
    { "seccomp compile errors", test_compile_errors },
    { NULL, NULL },
  };
  return unit_run (tests);
}
