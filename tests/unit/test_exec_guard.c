/* Tests of the guarded exec: each case forks a child that calls
 * ar_exec_guarded and checks what the command printed and its exit
 * status.  The /proc/self/exe cases trace the child with ptrace to look at
 * every program it executes, as a second process in the container could. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <linux/securebits.h>
#include <sched.h>
#include <sys/auxv.h>
#include <signal.h>
#include <stddef.h>
#include <stdbool.h>
#include <sys/capability.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "exec_guard.h"
#include "oci/error.h"
#include "oci/util.h"
#include "unit.h"

extern char **environ;

/* The exit status of a child whose ar_exec_guarded call returned. */
#define EXIT_GUARD_RETURNED 200

/* The environment of every command that resolves to /proc/self/exe.  When
 * it reaches this test binary (in the control case, or if the guard is
 * broken), main finds the variable and exits with EXIT_REACHED_TEST_BINARY
 * instead of running the tests again. */
#define ATTACK_MARKER "AR_GUARD_TEST_ATTACK"
static char *const attack_envp[] = { ATTACK_MARKER "=1", NULL };
#define EXIT_REACHED_TEST_BINARY 99

#ifdef __SANITIZE_ADDRESS__
/* Under make check-asan: this binary is also the probe that the tests
 * execute as a traced process, or with mixed uids or file capabilities,
 * which makes it non-dumpable.  LeakSanitizer stops the process with
 * ptrace to scan it at exit, which fails in both cases and turns the
 * probe's exit status into 1.  Such a process only prints and exits, so
 * the check is skipped there.  LeakSanitizer calls this function (weak in
 * its runtime) at exit. */
int __lsan_is_turned_off (void);

int
__lsan_is_turned_off (void)
{
  cleanup_error ar_error_t err = NULL;
  char *status = NULL;
  size_t len = 0;
  bool traced;

  if (prctl (PR_GET_DUMPABLE) != 1)
    return 1;
  if (ar_read_file ("/proc/self/status", &status, &len, &err) < 0)
    return 1;
  traced = strstr (status, "\nTracerPid:\t0\n") == NULL;
  free (status);
  return traced;
}
#endif

/* An unprivileged user and group that own no files here. */
#define TEST_UID 54321
#define TEST_GID 54321

struct child_result
{
  int status;
  char *output; /* stdout and stderr together, NUL-terminated */
  size_t output_length;
};

static void
child_result_release (struct child_result *r)
{
  free (r->output);
  r->output = NULL;
}

#define cleanup_child_result __attribute__ ((cleanup (child_result_release)))

static int
exit_status (const struct child_result *r)
{
  return WIFEXITED (r->status) ? WEXITSTATUS (r->status) : -1;
}

/* Prints the error of a failed guarded exec and ends the child. */
static __attribute__ ((noreturn)) void
exit_with_error (ar_error_t err)
{
  cleanup_free char *msg = ar_error_format (err);

  dprintf (STDERR_FILENO, "guard returned: %s\n", msg ? msg : "(no message)");
  _exit (EXIT_GUARD_RETURNED);
}

static char *
read_all_fd (int fd, size_t *length)
{
  char *buf = NULL;
  size_t len = 0, cap = 0;

  for (;;)
    {
      ssize_t n;

      if (cap - len < 4096)
        {
          cap = cap * 2 + 4096;
          buf = realloc (buf, cap);
          if (buf == NULL)
            abort ();
        }
      n = read (fd, buf + len, cap - len - 1);
      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0)
        break;
      len += (size_t) n;
    }
  buf[len] = '\0';
  if (length != NULL)
    *length = len;
  return buf;
}

/* Runs body (arg) in a forked child whose stdout and stderr go to a pipe,
 * and stores the child's output and wait status in *r. */
static void
run_child (void (*body) (void *), void *arg, struct child_result *r)
{
  int pipe_fds[2];
  pid_t pid;

  if (pipe2 (pipe_fds, O_CLOEXEC) < 0)
    abort ();
  fflush (NULL);
  pid = fork ();
  if (pid < 0)
    abort ();
  if (pid == 0)
    {
      dup2 (pipe_fds[1], STDOUT_FILENO);
      dup2 (pipe_fds[1], STDERR_FILENO);
      body (arg);
      _exit (EXIT_GUARD_RETURNED);
    }
  close (pipe_fds[1]);
  r->output = read_all_fd (pipe_fds[0], &r->output_length);
  close (pipe_fds[0]);
  while (waitpid (pid, &r->status, 0) < 0 && errno == EINTR)
    ;
}

struct exec_request
{
  const char *path;
  char *const *argv;
  char *const *envp;
  bool direct; /* execve instead of ar_exec_guarded */
};

static void
exec_body (void *arg)
{
  struct exec_request *req = arg;
  ar_error_t err = NULL;

  if (req->direct)
    {
      execve (req->path, req->argv, req->envp);
      dprintf (STDERR_FILENO, "execve failed: %s\n", strerror (errno));
      _exit (EXIT_GUARD_RETURNED);
    }
  ar_exec_guarded (req->path, req->argv, req->envp, &err);
  exit_with_error (err);
}

static void
run_guarded (const char *path, char *const argv[], struct child_result *r)
{
  struct exec_request req = { .path = path, .argv = argv, .envp = environ };

  run_child (exec_body, &req, r);
}

/* A temporary folder that the unprivileged test user can enter. */
static char *
make_temp_dir (void)
{
  char *dir = ar_xstrdup ("/tmp/ar-guard-XXXXXX");

  if (mkdtemp (dir) == NULL || chmod (dir, 0755) < 0)
    abort ();
  return dir;
}

static char *
write_temp_file (const char *dir, const char *name, const char *content, mode_t mode)
{
  char *path = ar_xasprintf ("%s/%s", dir, name);
  int fd = open (path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);

  if (fd < 0 || ar_write_all (fd, content, strlen (content)) < 0 || fchmod (fd, mode) < 0)
    abort ();
  close (fd);
  return path;
}

static void
remove_temp_dir (char *dir, const char *const names[])
{
  for (size_t i = 0; names[i] != NULL; i++)
    {
      cleanup_free char *path = ar_xasprintf ("%s/%s", dir, names[i]);
      unlink (path);
    }
  rmdir (dir);
  free (dir);
}

static void
test_guarded_echo_prints (void)
{
  char *const argv[] = { "echo", "hello", "from", "the", "guard", NULL };
  cleanup_child_result struct child_result r = { 0 };

  run_guarded ("/bin/echo", argv, &r);
  CHECK (exit_status (&r) == 0);
  CHECK_STR_EQ (r.output, "hello from the guard\n");
}

static void
test_guarded_keeps_argv0_and_envp (void)
{
  char *const argv[] = { "custom-name", "/proc/self/cmdline", NULL };
  char *const env_argv[] = { "env", NULL };
  char *const envp[] = { "ALPHA=1", "BETA=two words", NULL };
  cleanup_child_result struct child_result cmdline = { 0 };
  cleanup_child_result struct child_result env = { 0 };
  struct exec_request req = { .path = "/bin/cat", .argv = argv, .envp = envp };
  static const char expected_cmdline[] = "custom-name\0/proc/self/cmdline";

  run_child (exec_body, &req, &cmdline);
  CHECK (exit_status (&cmdline) == 0);
  CHECK (memcmp (cmdline.output, expected_cmdline, sizeof (expected_cmdline)) == 0);

  req.path = "/usr/bin/env";
  req.argv = env_argv;
  run_child (exec_body, &req, &env);
  CHECK (exit_status (&env) == 0);
  CHECK_STR_EQ (env.output, "ALPHA=1\nBETA=two words\n");
}

static void
test_guarded_exit_status_passes (void)
{
  char *const argv[] = { "sh", "-c", "exit 42", NULL };
  cleanup_child_result struct child_result r = { 0 };

  run_guarded ("/bin/sh", argv, &r);
  CHECK (exit_status (&r) == 42);
  CHECK_STR_EQ (r.output, "");
}

static void
test_guarded_memfd_not_inherited (void)
{
  char *const argv[] = { "ls", "-l", "/proc/self/fd/", NULL };
  cleanup_child_result struct child_result r = { 0 };

  run_guarded ("/bin/ls", argv, &r);
  CHECK (exit_status (&r) == 0);
  CHECK (strstr (r.output, "memfd") == NULL);
}

static void
test_missing_command_exits_127 (void)
{
  char *const argv[] = { "missing", NULL };
  cleanup_child_result struct child_result r = { 0 };

  run_guarded ("/nonexistent/ar-guard-missing", argv, &r);
  CHECK (exit_status (&r) == 127);
  CHECK_CONTAINS (r.output, "executable file not found");
  CHECK_CONTAINS (r.output, "`/nonexistent/ar-guard-missing`");
}

static void
test_non_executable_exits_126 (void)
{
  char *dir = make_temp_dir ();
  cleanup_free char *path = write_temp_file (dir, "data", "not a program\n", 0644);
  char *const argv[] = { "data", NULL };
  char *const dir_argv[] = { "dir", NULL };
  cleanup_child_result struct child_result file = { 0 };
  cleanup_child_result struct child_result folder = { 0 };
  static const char *const names[] = { "data", NULL };

  run_guarded (path, argv, &file);
  CHECK (exit_status (&file) == 126);
  CHECK_CONTAINS (file.output, "permission denied");

  run_guarded (dir, dir_argv, &folder);
  CHECK (exit_status (&folder) == 126);
  CHECK_CONTAINS (folder.output, "permission denied");

  remove_temp_dir (dir, names);
}

/* What a tracer saw while a child executed one or more programs. */
struct trace_result
{
  int status;
  int exec_count;
  char exe[4][256];      /* readlink of /proc/PID/exe at each exec */
  char cmdline[4][256];  /* first two arguments, NUL replaced by space */
  int path_fds[4];       /* O_PATH descriptors of each exe, as the attack keeps */
  bool sealed[4];        /* the exe carries every seal of the trampoline */
  bool write_changed[4]; /* opening the exe for writing wrote something */
  char *output;
};

static void
trace_result_release (struct trace_result *t)
{
  for (int i = 0; i < 4; i++)
    if (t->path_fds[i] >= 0)
      close (t->path_fds[i]);
  free (t->output);
}

#define cleanup_trace_result __attribute__ ((cleanup (trace_result_release)))

/* Tries to overwrite the first bytes of the file behind path, and returns
 * true if a write went through. */
static bool
try_overwrite (const char *path)
{
  static const char payload[] = "\x7f" "ELF-overwritten";
  ssize_t n;
  int fd;

  fd = open (path, O_WRONLY | O_CLOEXEC);
  if (fd < 0)
    return false;
  n = pwrite (fd, payload, sizeof (payload), 0);
  close (fd);
  return n > 0;
}

static void
record_exec (pid_t pid, struct trace_result *t, bool attack)
{
  int i = t->exec_count++;
  cleanup_free char *exe_path = ar_xasprintf ("/proc/%d/exe", pid);
  cleanup_free char *cmdline_path = ar_xasprintf ("/proc/%d/cmdline", pid);
  cleanup_free char *self_path = realpath ("/proc/self/exe", NULL);
  char buf[256] = "";
  ssize_t n;
  int fd;

  if (i >= 4)
    return;

  n = readlink (exe_path, t->exe[i], sizeof (t->exe[i]) - 1);
  t->exe[i][n > 0 ? n : 0] = '\0';

  fd = open (cmdline_path, O_RDONLY | O_CLOEXEC);
  n = fd >= 0 ? read (fd, buf, sizeof (buf) - 1) : 0;
  if (fd >= 0)
    close (fd);
  for (ssize_t j = 0; j < n; j++)
    t->cmdline[i][j] = buf[j] == '\0' ? ' ' : buf[j];

  /* Never write to the test binary itself, which a broken guard would
   * expose here. */
  if (!attack || strcmp (t->exe[i], self_path) == 0)
    return;

  fd = open (exe_path, O_RDONLY | O_CLOEXEC);
  t->sealed[i] = fd >= 0
                 && fcntl (fd, F_GET_SEALS) == (F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE);
  if (fd >= 0)
    close (fd);

  t->write_changed[i] = try_overwrite (exe_path);
  t->path_fds[i] = open (exe_path, O_PATH | O_CLOEXEC);
}

/* Runs body (arg) in a traced child and records every execve it makes.
 * With attack set, the tracer also tries, at each exec, what a second
 * process in the container could do: open the new /proc/PID/exe for
 * writing now, and keep an O_PATH descriptor of it for later. */
static void
trace_child (void (*body) (void *), void *arg, bool attack, struct trace_result *t)
{
  int pipe_fds[2];
  int status;
  pid_t pid;

  memset (t, 0, sizeof (*t));
  for (int i = 0; i < 4; i++)
    t->path_fds[i] = -1;

  if (pipe2 (pipe_fds, O_CLOEXEC) < 0)
    abort ();
  fflush (NULL);
  pid = fork ();
  if (pid < 0)
    abort ();
  if (pid == 0)
    {
      dup2 (pipe_fds[1], STDOUT_FILENO);
      dup2 (pipe_fds[1], STDERR_FILENO);
      if (ptrace (PTRACE_TRACEME, 0, NULL, NULL) < 0)
        _exit (EXIT_GUARD_RETURNED);
      raise (SIGSTOP);
      body (arg);
      _exit (EXIT_GUARD_RETURNED);
    }
  close (pipe_fds[1]);

  if (waitpid (pid, &status, 0) != pid || !WIFSTOPPED (status))
    abort ();
  ptrace (PTRACE_SETOPTIONS, pid, NULL, (void *) (long) (PTRACE_O_TRACEEXEC | PTRACE_O_EXITKILL));
  ptrace (PTRACE_CONT, pid, NULL, NULL);

  for (;;)
    {
      int signal_to_deliver = 0;

      if (waitpid (pid, &status, 0) < 0)
        {
          if (errno == EINTR)
            continue;
          abort ();
        }
      if (WIFEXITED (status) || WIFSIGNALED (status))
        break;
      if (status >> 8 == (SIGTRAP | (PTRACE_EVENT_EXEC << 8)))
        record_exec (pid, t, attack);
      else if (WSTOPSIG (status) != SIGTRAP)
        signal_to_deliver = WSTOPSIG (status);
      ptrace (PTRACE_CONT, pid, NULL, (void *) (long) signal_to_deliver);
    }

  t->status = status;
  t->output = read_all_fd (pipe_fds[0], NULL);
  close (pipe_fds[0]);
}

/* Reads the whole file behind path; the caller frees the result. */
static char *
read_whole (const char *path, size_t *len)
{
  ar_error_t err = NULL;
  char *data = NULL;

  if (ar_read_file (path, &data, len, &err) < 0)
    {
      ar_error_free (err);
      abort ();
    }
  return data;
}

/* Checks the traces of a guarded exec whose command resolves to
 * /proc/self/exe: both execs ran the sealed trampoline memfd, nothing
 * could be written through it, and the test binary is unchanged. */
static void
check_attack_contained (struct trace_result *t, const char *self_path, const char *before,
                        size_t before_len)
{
  cleanup_free char *after = NULL;
  size_t after_len = 0;

  CHECK (WIFEXITED (t->status));
  CHECK (WEXITSTATUS (t->status) == 126);
  CHECK_CONTAINS (t->output, "not by agentrun, so it exits without running anything");

  /* The first exec is the trampoline, the second the command resolving
   * to /proc/self/exe, which must be the trampoline again and not this
   * test binary.  The trampoline then exits, so there is no third. */
  CHECK (t->exec_count == 2);
  for (int i = 0; i < 2; i++)
    {
      CHECK_CONTAINS (t->exe[i], "/memfd:agentrun-exec-guard");
      CHECK (strcmp (t->exe[i], self_path) != 0);
      CHECK (t->sealed[i]);
      CHECK (!t->write_changed[i]);
      CHECK (t->path_fds[i] >= 0);
    }

  /* The attack of CVE-2019-5736: reopen the kept O_PATH descriptor for
   * writing after the process has exited. */
  for (int i = 0; i < 2; i++)
    {
      cleanup_free char *fd_path = ar_xasprintf ("/proc/self/fd/%d", t->path_fds[i]);
      CHECK (!try_overwrite (fd_path));
    }

  after = read_whole ("/proc/self/exe", &after_len);
  CHECK (after_len == before_len);
  CHECK (memcmp (before, after, before_len) == 0);
}

static void
test_proc_self_exe_script_contained (void)
{
  char *dir = make_temp_dir ();
  cleanup_free char *script = write_temp_file (dir, "escape.sh", "#!/proc/self/exe\n", 0755);
  char *const argv[] = { "escape.sh", NULL };
  struct exec_request req = { .path = script, .argv = argv, .envp = attack_envp };
  cleanup_trace_result struct trace_result t = { 0 };
  cleanup_free char *self_path = realpath ("/proc/self/exe", NULL);
  cleanup_free char *before = NULL;
  size_t before_len = 0;
  static const char *const names[] = { "escape.sh", NULL };

  before = read_whole ("/proc/self/exe", &before_len);
  trace_child (exec_body, &req, true, &t);
  check_attack_contained (&t, self_path, before, before_len);

  /* The kernel ran the interpreter of the script: argv is the shebang's
   * path, then the script. */
  CHECK (strncmp (t.cmdline[1], "/proc/self/exe ", 15) == 0);
  CHECK_CONTAINS (t.cmdline[1], "escape.sh");

  remove_temp_dir (dir, names);
}

static void
test_proc_self_exe_symlink_contained (void)
{
  char *dir = make_temp_dir ();
  cleanup_free char *link_path = ar_xasprintf ("%s/escape", dir);
  char *const argv[] = { "escape", NULL };
  struct exec_request req = { .path = link_path, .argv = argv, .envp = attack_envp };
  cleanup_trace_result struct trace_result t = { 0 };
  cleanup_free char *self_path = realpath ("/proc/self/exe", NULL);
  cleanup_free char *before = NULL;
  size_t before_len = 0;
  static const char *const names[] = { "escape", NULL };

  if (symlink ("/proc/self/exe", link_path) < 0)
    abort ();
  before = read_whole ("/proc/self/exe", &before_len);
  trace_child (exec_body, &req, true, &t);
  check_attack_contained (&t, self_path, before, before_len);

  remove_temp_dir (dir, names);
}

/* The control case: the same script executed directly from a fork runs
 * this test binary (which then exits with EXIT_REACHED_TEST_BINARY), so
 * the tracer above would see the vulnerability if the guard did not stop
 * it. */
static void
test_direct_exec_reaches_binary (void)
{
  char *dir = make_temp_dir ();
  cleanup_free char *script = write_temp_file (dir, "escape.sh", "#!/proc/self/exe\n", 0755);
  char *const argv[] = { "escape.sh", NULL };
  struct exec_request req = { .path = script, .argv = argv, .envp = attack_envp, .direct = true };
  cleanup_trace_result struct trace_result t = { 0 };
  cleanup_free char *self_path = realpath ("/proc/self/exe", NULL);
  static const char *const names[] = { "escape.sh", NULL };

  trace_child (exec_body, &req, false, &t);
  CHECK (t.exec_count == 1);
  CHECK_STR_EQ (t.exe[0], self_path);
  CHECK (WIFEXITED (t.status) && WEXITSTATUS (t.status) == EXIT_REACHED_TEST_BINARY);

  remove_temp_dir (dir, names);
}

#if defined(__x86_64__)
#define TEST_AUDIT_ARCH AUDIT_ARCH_X86_64
#elif defined(__aarch64__)
#define TEST_AUDIT_ARCH AUDIT_ARCH_AARCH64
#endif

/* Loads a seccomp filter that makes syscall_nr fail with error.  It is a
 * raw BPF program because the project's sandbox/seccomp.h hides
 * libseccomp's <seccomp.h> from files built with -Isandbox. */
static void
deny_syscall (int syscall_nr, int error)
{
  struct sock_filter filter[] = {
    BPF_STMT (BPF_LD | BPF_W | BPF_ABS, offsetof (struct seccomp_data, arch)),
    BPF_JUMP (BPF_JMP | BPF_JEQ | BPF_K, TEST_AUDIT_ARCH, 1, 0),
    BPF_STMT (BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
    BPF_STMT (BPF_LD | BPF_W | BPF_ABS, offsetof (struct seccomp_data, nr)),
    BPF_JUMP (BPF_JMP | BPF_JEQ | BPF_K, (unsigned int) syscall_nr, 0, 1),
    BPF_STMT (BPF_RET | BPF_K, SECCOMP_RET_ERRNO | ((unsigned int) error & SECCOMP_RET_DATA)),
    BPF_STMT (BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
  };
  struct sock_fprog program = { .len = sizeof (filter) / sizeof (filter[0]), .filter = filter };

  if (prctl (PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0
      || prctl (PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &program, 0, 0) < 0)
    _exit (EXIT_GUARD_RETURNED + 1);
}

static void
echo_without_execveat_body (void *arg)
{
  char *const argv[] = { "echo", "fallback", NULL };
  ar_error_t err = NULL;

  deny_syscall (SYS_execveat, *(int *) arg);
  ar_exec_guarded ("/bin/echo", argv, environ, &err);
  exit_with_error (err);
}

static void
test_execveat_denied_falls_back (void)
{
  static const int errors[] = { EPERM, ENOSYS };

  for (size_t i = 0; i < sizeof (errors) / sizeof (errors[0]); i++)
    {
      cleanup_child_result struct child_result r = { 0 };
      int error = errors[i];

      run_child (echo_without_execveat_body, &error, &r);
      CHECK (exit_status (&r) == 0);
      CHECK_STR_EQ (r.output, "fallback\n");
    }
}

static void
execve_fails_body (void *arg)
{
  char *const argv[] = { "echo", "unreachable", NULL };
  ar_error_t err = NULL;

  /* The guard executes the trampoline with execveat, so only the
   * trampoline's own execve of the command fails. */
  deny_syscall (SYS_execve, *(int *) arg);
  ar_exec_guarded ("/bin/echo", argv, environ, &err);
  exit_with_error (err);
}

static void
test_exec_errors_are_described (void)
{
  static const struct
  {
    int error;
    const char *message;
  } cases[] = {
    { EPERM, "agentrun: cannot execute `/bin/echo`: operation not permitted\n" },
    { ENOEXEC, "agentrun: cannot execute `/bin/echo`: exec format error\n" },
    { EIO, "agentrun: cannot execute `/bin/echo`: errno 5\n" },
    { 4095, "agentrun: cannot execute `/bin/echo`: errno 4095\n" },
  };

  for (size_t i = 0; i < sizeof (cases) / sizeof (cases[0]); i++)
    {
      cleanup_child_result struct child_result r = { 0 };
      int error = cases[i].error;

      run_child (execve_fails_body, &error, &r);
      CHECK (exit_status (&r) == 126);
      CHECK_STR_EQ (r.output, cases[i].message);
    }
}

static void
no_execveat_no_proc_body (void *arg)
{
  char *const argv[] = { "echo", "unreachable", NULL };
  ar_error_t err = NULL;

  /* A private mount namespace of this child only, so the host's /proc
   * stays mounted. */
  if (unshare (CLONE_NEWNS) < 0 || mount (NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0
      || umount2 ("/proc", MNT_DETACH) < 0)
    _exit (EXIT_GUARD_RETURNED + 1);
  deny_syscall (SYS_execveat, EPERM);
  ar_exec_guarded ("/bin/echo", argv, environ, &err);
  exit_with_error (err);
}

static void
test_no_execveat_no_proc_fails (void)
{
  cleanup_child_result struct child_result r = { 0 };

  run_child (no_execveat_no_proc_body, NULL, &r);
  CHECK (exit_status (&r) == EXIT_GUARD_RETURNED);
  CHECK_CONTAINS (r.output, "guard returned: cannot execute the exec trampoline through `/proc/self/fd/");
  CHECK_CONTAINS (r.output, "mount /proc in the container or allow execveat");
  CHECK (strstr (r.output, "unreachable") == NULL);
}

static void
memfd_denied_body (void *arg)
{
  bool prepare_first = *(bool *) arg;
  char *const argv[] = { "echo", "prepared", NULL };
  ar_error_t err = NULL;
  int guard_fd = -1;

  if (prepare_first && ar_exec_guard_prepare (&guard_fd, &err) < 0)
    exit_with_error (err);
  deny_syscall (SYS_memfd_create, EPERM);
  ar_exec_guarded_fd (guard_fd, "/bin/echo", argv, environ, &err);
  exit_with_error (err);
}

static void
test_memfd_denied_needs_prepare (void)
{
  cleanup_child_result struct child_result unprepared = { 0 };
  cleanup_child_result struct child_result prepared = { 0 };
  bool prepare_first = false;

  run_child (memfd_denied_body, &prepare_first, &unprepared);
  CHECK (exit_status (&unprepared) == EXIT_GUARD_RETURNED);
  CHECK_CONTAINS (unprepared.output, "cannot execute `/bin/echo`: cannot create an executable memfd");
  CHECK_CONTAINS (unprepared.output, "Operation not permitted");

  prepare_first = true;
  run_child (memfd_denied_body, &prepare_first, &prepared);
  CHECK (exit_status (&prepared) == 0);
  CHECK_STR_EQ (prepared.output, "prepared\n");
}

static void
prepared_then_setuid_body (void *arg)
{
  char *const argv[] = { "id", "-u", NULL };
  ar_error_t err = NULL;
  int guard_fd = -1;

  if (ar_exec_guard_prepare (&guard_fd, &err) < 0)
    exit_with_error (err);
  if (setgroups (0, NULL) < 0 || setresgid (TEST_GID, TEST_GID, TEST_GID) < 0
      || setresuid (TEST_UID, TEST_UID, TEST_UID) < 0)
    _exit (EXIT_GUARD_RETURNED + 1);
  ar_exec_guarded_fd (guard_fd, "/usr/bin/id", argv, environ, &err);
  exit_with_error (err);
}

/* The container process may prepare the memfd as root and execute it after
 * switching to the container's user, who must still be able to execute it. */
static void
test_prepared_memfd_after_setuid (void)
{
  cleanup_child_result struct child_result r = { 0 };

  run_child (prepared_then_setuid_body, NULL, &r);
  CHECK (exit_status (&r) == 0);
  CHECK_STR_EQ (r.output, "54321\n");
}

/* Sets vm.memfd_noexec in a new PID namespace, whose value only that
 * namespace and its children see, then runs a guarded echo there. */
static void
memfd_noexec_body (void *arg)
{
  const char *scope = arg;
  char *const argv[] = { "echo", "memfd echo ran", NULL };
  ar_error_t err = NULL;
  int status;
  pid_t pid;
  int fd;

  if (unshare (CLONE_NEWPID) < 0)
    _exit (EXIT_GUARD_RETURNED + 1);
  pid = fork ();
  if (pid < 0)
    _exit (EXIT_GUARD_RETURNED + 1);
  if (pid > 0)
    {
      if (waitpid (pid, &status, 0) != pid || !WIFEXITED (status))
        _exit (EXIT_GUARD_RETURNED + 1);
      _exit (WEXITSTATUS (status));
    }

  fd = open ("/proc/sys/vm/memfd_noexec", O_WRONLY | O_CLOEXEC);
  if (fd < 0 || write (fd, scope, strlen (scope)) < 0)
    _exit (EXIT_GUARD_RETURNED + 1);
  close (fd);
  ar_exec_guarded ("/bin/echo", argv, environ, &err);
  exit_with_error (err);
}

static void
test_memfd_noexec_sysctl (void)
{
  cleanup_child_result struct child_result noexec_default = { 0 };
  cleanup_child_result struct child_result enforced = { 0 };

  /* 1 makes memfds non-executable unless created with MFD_EXEC. */
  run_child (memfd_noexec_body, "1", &noexec_default);
  CHECK (exit_status (&noexec_default) == 0);
  CHECK_STR_EQ (noexec_default.output, "memfd echo ran\n");

  /* 2 rejects MFD_EXEC: the guard fails instead of executing directly. */
  run_child (memfd_noexec_body, "2", &enforced);
  CHECK (exit_status (&enforced) == EXIT_GUARD_RETURNED);
  CHECK_CONTAINS (enforced.output, "vm.memfd_noexec sysctl must be below 2");
  CHECK (strstr (enforced.output, "memfd echo ran") == NULL);
}

/* Capabilities: each setup function changes the credentials of the child
 * before it executes a probe, directly or through the guard. */

static int
drop_to_test_user (const char *caps_text)
{
  cap_t caps;
  int ret;

  if (prctl (PR_SET_KEEPCAPS, 1, 0, 0, 0) < 0 || setgroups (0, NULL) < 0
      || setresgid (TEST_GID, TEST_GID, TEST_GID) < 0 || setresuid (TEST_UID, TEST_UID, TEST_UID) < 0)
    return -1;
  caps = cap_from_text (caps_text);
  if (caps == NULL)
    return -1;
  ret = cap_set_proc (caps);
  cap_free (caps);
  return ret;
}

static int
raise_ambient (const cap_value_t *values, size_t count)
{
  for (size_t i = 0; i < count; i++)
    if (prctl (PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, values[i], 0, 0) < 0)
      return -1;
  return 0;
}

static int
setup_root_unchanged (void)
{
  return 0;
}

static int
setup_root_narrowed (void)
{
  static const cap_value_t ambient[] = { CAP_CHOWN };
  cap_t caps;
  int ret;

  if (prctl (PR_CAPBSET_DROP, CAP_SYS_ADMIN, 0, 0, 0) < 0
      || prctl (PR_CAPBSET_DROP, CAP_NET_RAW, 0, 0, 0) < 0)
    return -1;
  caps = cap_from_text ("cap_chown,cap_kill,cap_setuid=eip cap_dac_override,cap_fowner=ep");
  ret = caps == NULL ? -1 : cap_set_proc (caps);
  cap_free (caps);
  if (ret < 0)
    return -1;
  return raise_ambient (ambient, 1);
}

static int
setup_user_with_ambient (void)
{
  static const cap_value_t ambient[] = { CAP_NET_BIND_SERVICE, CAP_KILL };

  if (drop_to_test_user ("cap_net_bind_service,cap_kill=eip cap_sys_time=p") < 0)
    return -1;
  return raise_ambient (ambient, 2);
}

static int
setup_user_without_ambient (void)
{
  return drop_to_test_user ("cap_net_bind_service,cap_kill=eip cap_sys_time=ep");
}

static int
setup_user_ambient_no_new_privs (void)
{
  if (setup_user_with_ambient () < 0)
    return -1;
  return prctl (PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
}

static int
setup_root_noroot_securebits (void)
{
  static const cap_value_t ambient[] = { CAP_NET_ADMIN };
  cap_t caps;
  int ret;

  if (prctl (PR_SET_SECUREBITS, SECBIT_NOROOT | SECBIT_NOROOT_LOCKED, 0, 0, 0) < 0)
    return -1;
  caps = cap_from_text ("cap_setpcap,cap_net_admin=eip cap_sys_ptrace=ep");
  ret = caps == NULL ? -1 : cap_set_proc (caps);
  cap_free (caps);
  if (ret < 0)
    return -1;
  return raise_ambient (ambient, 1);
}

static int
setup_mixed_uids (void)
{
  /* Real and saved uid root, effective uid unprivileged. */
  return setresuid (0, TEST_UID, 0);
}

static int
setup_mixed_uids_no_new_privs (void)
{
  if (setup_mixed_uids () < 0)
    return -1;
  return prctl (PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
}

/* The argument that makes this test binary print its credentials: it is
 * the probe of the capability tests, run directly and guarded. */
#define PRINT_CREDENTIALS "--print-credentials"

/* Prints AT_SECURE (1 when the dynamic loader and libc run the program in
 * secure mode) and this process's /proc/self/status. */
static int
print_credentials (void)
{
  cleanup_free char *status = NULL;

  printf ("AT_SECURE:\t%lu\n", getauxval (AT_SECURE));
  status = read_whole ("/proc/self/status", NULL);
  fputs (status, stdout);
  return 0;
}

struct caps_request
{
  int (*setup) (void);
  const char *probe; /* a copy of this test binary */
  bool direct;
};

static void
caps_body (void *arg)
{
  struct caps_request *req = arg;
  char *const argv[] = { "probe", PRINT_CREDENTIALS, NULL };
  ar_error_t err = NULL;

  if (req->setup () < 0)
    {
      dprintf (STDERR_FILENO, "setup failed: %s\n", strerror (errno));
      _exit (EXIT_GUARD_RETURNED + 1);
    }
  if (req->direct)
    {
      execve (req->probe, argv, environ);
      _exit (EXIT_GUARD_RETURNED);
    }
  ar_exec_guarded (req->probe, argv, environ, &err);
  exit_with_error (err);
}

/* Keeps the lines of the probe's output that describe credentials. */
static char *
credential_lines (const char *status)
{
  static const char *const prefixes[] = { "AT_SECURE:", "Uid:",   "Gid:",   "Groups:", "NoNewPrivs:",
                                          "CapInh:",    "CapPrm:", "CapEff:", "CapBnd:", "CapAmb:",
                                          NULL };
  char *out = ar_xmalloc0 (strlen (status) + 1);
  char *end = out;

  for (const char *line = status; line != NULL && *line != '\0';)
    {
      const char *next = strchr (line, '\n');
      size_t len = next ? (size_t) (next - line + 1) : strlen (line);

      for (size_t i = 0; prefixes[i] != NULL; i++)
        if (ar_str_has_prefix (line, prefixes[i]))
          {
            memcpy (end, line, len);
            end += len;
          }
      line = next ? next + 1 : NULL;
    }
  *end = '\0';
  return out;
}

/* Copies this test binary into a new temporary folder as the probe, with
 * the file capabilities in file_caps_text unless it is NULL, runs it after
 * setup directly and guarded, checks that both print the same credentials
 * and returns them. */
static char *
compare_credentials (int (*setup) (void), const char *file_caps_text)
{
  char *dir = make_temp_dir ();
  cleanup_free char *probe = ar_xasprintf ("%s/probe", dir);
  struct caps_request req = { .setup = setup, .probe = probe };
  cleanup_child_result struct child_result direct = { 0 };
  cleanup_child_result struct child_result guarded = { 0 };
  cleanup_free char *direct_lines = NULL;
  cleanup_free char *content = NULL;
  static const char *const names[] = { "probe", NULL };
  char *guarded_lines;
  size_t len = 0;
  int fd;

  content = read_whole ("/proc/self/exe", &len);
  fd = open (probe, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0755);
  if (fd < 0 || ar_write_all (fd, content, len) < 0)
    abort ();
  close (fd);
  if (file_caps_text != NULL)
    {
      cap_t file_caps = cap_from_text (file_caps_text);

      CHECK (file_caps != NULL);
      CHECK (cap_set_file (probe, file_caps) == 0);
      cap_free (file_caps);
    }

  req.direct = true;
  run_child (caps_body, &req, &direct);
  req.direct = false;
  run_child (caps_body, &req, &guarded);

  CHECK (exit_status (&direct) == 0);
  CHECK (exit_status (&guarded) == 0);
  direct_lines = credential_lines (direct.output);
  guarded_lines = credential_lines (guarded.output);
  CHECK_CONTAINS (direct_lines, "AT_SECURE:");
  CHECK_CONTAINS (direct_lines, "CapAmb:");
  CHECK_STR_EQ (guarded_lines, direct_lines);

  remove_temp_dir (dir, names);
  return guarded_lines;
}

static void
test_caps_root_unchanged (void)
{
  cleanup_free char *lines = compare_credentials (setup_root_unchanged, NULL);

  CHECK_CONTAINS (lines, "AT_SECURE:\t0");
}

static void
test_caps_root_narrowed (void)
{
  cleanup_free char *lines = compare_credentials (setup_root_narrowed, NULL);

  /* CAP_CHOWN is bit 0: ambient survives. */
  CHECK_CONTAINS (lines, "CapAmb:\t0000000000000001");
}

static void
test_caps_user_with_ambient (void)
{
  cleanup_free char *lines = compare_credentials (setup_user_with_ambient, NULL);

  /* CAP_KILL is bit 5 and CAP_NET_BIND_SERVICE bit 10. */
  CHECK_CONTAINS (lines, "Uid:\t54321\t54321\t54321\t54321");
  CHECK_CONTAINS (lines, "CapPrm:\t0000000000000420");
  CHECK_CONTAINS (lines, "CapEff:\t0000000000000420");
  CHECK_CONTAINS (lines, "CapAmb:\t0000000000000420");
  CHECK_CONTAINS (lines, "AT_SECURE:\t0");
}

static void
test_caps_user_without_ambient (void)
{
  cleanup_free char *lines = compare_credentials (setup_user_without_ambient, NULL);

  CHECK_CONTAINS (lines, "CapPrm:\t0000000000000000");
  CHECK_CONTAINS (lines, "CapInh:\t0000000000000420");
}

static void
test_caps_ambient_no_new_privs (void)
{
  cleanup_free char *lines = compare_credentials (setup_user_ambient_no_new_privs, NULL);

  CHECK_CONTAINS (lines, "NoNewPrivs:\t1");
  CHECK_CONTAINS (lines, "CapAmb:\t0000000000000420");
}

static void
test_caps_noroot_securebits (void)
{
  cleanup_free char *lines = compare_credentials (setup_root_noroot_securebits, NULL);

  /* CAP_NET_ADMIN is bit 12. */
  CHECK_CONTAINS (lines, "CapAmb:\t0000000000001000");
}

static void
test_caps_mixed_uids (void)
{
  cleanup_free char *lines = compare_credentials (setup_mixed_uids, NULL);

  CHECK_CONTAINS (lines, "Uid:\t0\t54321\t54321\t54321");
  CHECK_CONTAINS (lines, "AT_SECURE:\t1");
}

static void
test_caps_mixed_uids_no_new_privs (void)
{
  cleanup_free char *lines = compare_credentials (setup_mixed_uids_no_new_privs, NULL);

  CHECK_CONTAINS (lines, "NoNewPrivs:\t1");
  CHECK_CONTAINS (lines, "AT_SECURE:\t1");
}

/* A probe with file capabilities (cap_net_raw permitted, cap_kill
 * inheritable, both effective) run by the test user, whose inheritable set
 * has cap_kill. */
static void
test_caps_file_capabilities (void)
{
  cleanup_free char *lines = compare_credentials (setup_user_without_ambient,
                                                  "cap_net_raw=ep cap_kill=ei");

  /* CAP_NET_RAW is bit 13 and CAP_KILL bit 5. */
  CHECK_CONTAINS (lines, "CapPrm:\t0000000000002020");
  CHECK_CONTAINS (lines, "CapEff:\t0000000000002020");
  CHECK_CONTAINS (lines, "AT_SECURE:\t1");
}

int
main (int argc, char **argv)
{
  static const struct unit_test tests[] = {
    { "guarded echo prints", test_guarded_echo_prints },
    { "guarded keeps argv0 and envp", test_guarded_keeps_argv0_and_envp },
    { "guarded exit status passes", test_guarded_exit_status_passes },
    { "guarded memfd not inherited", test_guarded_memfd_not_inherited },
    { "missing command exits 127", test_missing_command_exits_127 },
    { "non-executable exits 126", test_non_executable_exits_126 },
    { "direct exec reaches binary", test_direct_exec_reaches_binary },
    { "proc self exe script contained", test_proc_self_exe_script_contained },
    { "proc self exe symlink contained", test_proc_self_exe_symlink_contained },
    { "execveat denied falls back", test_execveat_denied_falls_back },
    { "no execveat no proc fails", test_no_execveat_no_proc_fails },
    { "exec errors are described", test_exec_errors_are_described },
    { "memfd denied needs prepare", test_memfd_denied_needs_prepare },
    { "memfd noexec sysctl", test_memfd_noexec_sysctl },
    { "prepared memfd after setuid", test_prepared_memfd_after_setuid },
    { "caps root unchanged", test_caps_root_unchanged },
    { "caps root narrowed", test_caps_root_narrowed },
    { "caps user with ambient", test_caps_user_with_ambient },
    { "caps user without ambient", test_caps_user_without_ambient },
    { "caps ambient no new privs", test_caps_ambient_no_new_privs },
    { "caps noroot securebits", test_caps_noroot_securebits },
    { "caps mixed uids", test_caps_mixed_uids },
    { "caps mixed uids no new privs", test_caps_mixed_uids_no_new_privs },
    { "caps file capabilities", test_caps_file_capabilities },
    { NULL, NULL },
  };

  if (getenv (ATTACK_MARKER) != NULL)
    return EXIT_REACHED_TEST_BINARY;
  if (argc == 2 && strcmp (argv[1], PRINT_CREDENTIALS) == 0)
    return print_credentials ();

  return unit_run (tests);
}
