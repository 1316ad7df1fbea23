/* The seccomp profiles of policies, loaded into the kernel with libseccomp
 * in a child process: allowed calls work, denied ones fail with EPERM (or
 * kill, or only log), and the argument conditions on clone, socket and
 * personality hold. */
#define _GNU_SOURCE
#include <errno.h>
#include <linux/netlink.h>
#include <sched.h>
#include <seccomp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/personality.h>
#include <sys/ptrace.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "oci/config.h"
#include "oci/util.h"
#include "policy/policy.h"
#include "unit.h"

#ifndef AF_VSOCK
#define AF_VSOCK 40
#endif

/* The exit code of a child whose filter failed to load. */
#define LOAD_FAILED 200

static const struct
{
  const char *name;
  enum scmp_compare op;
} operators[] = {
  { "SCMP_CMP_NE", SCMP_CMP_NE }, { "SCMP_CMP_LT", SCMP_CMP_LT }, { "SCMP_CMP_LE", SCMP_CMP_LE },
  { "SCMP_CMP_EQ", SCMP_CMP_EQ }, { "SCMP_CMP_GE", SCMP_CMP_GE }, { "SCMP_CMP_GT", SCMP_CMP_GT },
  { "SCMP_CMP_MASKED_EQ", SCMP_CMP_MASKED_EQ },
};

static uint32_t
action_of (json_t *object, const char *action_key, const char *errno_key)
{
  const char *action = json_string_value (json_object_get (object, action_key));
  json_t *errno_value = json_object_get (object, errno_key);

  if (strcmp (action, "SCMP_ACT_ALLOW") == 0)
    return SCMP_ACT_ALLOW;
  if (strcmp (action, "SCMP_ACT_LOG") == 0)
    return SCMP_ACT_LOG;
  if (strcmp (action, "SCMP_ACT_KILL_PROCESS") == 0)
    return SCMP_ACT_KILL_PROCESS;
  if (strcmp (action, "SCMP_ACT_ERRNO") == 0)
    return SCMP_ACT_ERRNO (json_is_integer (errno_value) ? (uint16_t) json_integer_value (errno_value) : EPERM);
  return SCMP_ACT_KILL;
}

/* Loads an OCI profile for the native architecture, the way a runtime
 * does for its rules: names libseccomp does not know here are skipped. */
static int
load_profile (json_t *profile)
{
  scmp_filter_ctx ctx = seccomp_init (action_of (profile, "defaultAction", "defaultErrnoRet"));
  json_t *rule;
  size_t i;
  int ret;

  if (ctx == NULL)
    return -ENOMEM;
  json_array_foreach (json_object_get (profile, "syscalls"), i, rule)
    {
      uint32_t action = action_of (rule, "action", "errnoRet");
      struct scmp_arg_cmp args[6];
      size_t n_args = 0;
      json_t *arg, *name;
      size_t j;

      json_array_foreach (json_object_get (rule, "args"), j, arg)
        {
          const char *op = json_string_value (json_object_get (arg, "op"));

          args[n_args].arg = (unsigned int) json_integer_value (json_object_get (arg, "index"));
          args[n_args].datum_a = (scmp_datum_t) json_integer_value (json_object_get (arg, "value"));
          args[n_args].datum_b = (scmp_datum_t) json_integer_value (json_object_get (arg, "valueTwo"));
          for (size_t k = 0; k < sizeof (operators) / sizeof (operators[0]); k++)
            if (strcmp (operators[k].name, op) == 0)
              args[n_args].op = operators[k].op;
          n_args++;
        }
      json_array_foreach (json_object_get (rule, "names"), j, name)
        {
          int nr = seccomp_syscall_resolve_name (json_string_value (name));

          if (nr < 0)
            continue;
          ret = seccomp_rule_add_array (ctx, action, nr, (unsigned int) n_args, args);
          if (ret < 0)
            {
              fprintf (stderr, "seccomp_rule_add %s: %s\n", json_string_value (name), strerror (-ret));
              seccomp_release (ctx);
              return ret;
            }
        }
    }
  ret = seccomp_load (ctx);
  seccomp_release (ctx);
  return ret;
}

/* Runs probe in a child under the profile.  Returns the errno the probe
 * saw (0 on success), or minus the signal that killed the child. */
static int
run_probe (json_t *profile, int (*probe) (void))
{
  int status = 0;
  pid_t pid;

  fflush (stderr);
  pid = fork ();
  if (pid < 0)
    return -1000;
  if (pid == 0)
    {
      if (load_profile (profile) < 0)
        _exit (LOAD_FAILED);
      _exit (probe ());
    }
  if (waitpid (pid, &status, 0) < 0)
    return -1000;
  if (WIFSIGNALED (status))
    return -WTERMSIG (status);
  return WEXITSTATUS (status);
}

static int
result_of (long ret)
{
  return ret < 0 ? errno : 0;
}

static int
probe_getpid (void)
{
  return result_of (syscall (SYS_getpid));
}

static int
probe_mount (void)
{
  /* Without a filter this fails with ENOENT, so EPERM is the filter's. */
  return result_of (mount ("none", "/nonexistent-ar-policy-test", "tmpfs", 0, NULL));
}

static int
probe_unshare_user (void)
{
  return result_of (unshare (CLONE_NEWUSER));
}

static int
probe_clone3 (void)
{
  return result_of (syscall (SYS_clone3, NULL, 0));
}

static int
probe_clone_namespace (void)
{
  long pid = syscall (SYS_clone, CLONE_NEWNET | SIGCHLD, 0, 0, 0, 0);

  if (pid == 0)
    _exit (0);
  if (pid > 0)
    waitpid ((pid_t) pid, NULL, 0);
  return result_of (pid);
}

static int
probe_fork (void)
{
  pid_t pid = fork ();

  if (pid == 0)
    _exit (0);
  if (pid > 0)
    waitpid (pid, NULL, 0);
  return result_of (pid);
}

static int
probe_socket_inet (void)
{
  int fd = socket (AF_INET, SOCK_STREAM, 0);

  if (fd >= 0)
    close (fd);
  return result_of (fd);
}

static int
probe_socket_vsock (void)
{
  return result_of (socket (AF_VSOCK, SOCK_STREAM, 0));
}

static int
probe_socket_netlink_route (void)
{
  int fd = socket (AF_NETLINK, SOCK_RAW, NETLINK_ROUTE);

  if (fd >= 0)
    close (fd);
  return result_of (fd);
}

static int
probe_socket_netlink_audit (void)
{
  int fd = socket (AF_NETLINK, SOCK_RAW, NETLINK_AUDIT);

  if (fd >= 0)
    close (fd);
  return result_of (fd);
}

static int
probe_personality_query (void)
{
  return result_of (personality (0xffffffff));
}

static int
probe_personality_no_aslr (void)
{
  return result_of (personality (ADDR_NO_RANDOMIZE));
}

static int
probe_ptrace (void)
{
  /* pid 0 does not exist: without a filter this fails with ESRCH. */
  return result_of (ptrace (PTRACE_PEEKDATA, 0, NULL, NULL));
}

static int
probe_keyctl (void)
{
  /* KEYCTL_GET_KEYRING_ID of the session keyring. */
  return result_of (syscall (SYS_keyctl, 0, -3, 0));
}

static int
probe_bpf (void)
{
  return result_of (syscall (SYS_bpf, -1, NULL, 0));
}

static int
probe_io_uring (void)
{
  return result_of (syscall (SYS_io_uring_setup, 1, NULL));
}

static int
probe_mkdir (void)
{
  /* The folder exists: without a filter this fails with EEXIST. */
  return result_of (mkdir ("/", 0700));
}

static struct ar_policy *
load_policy (const char *text)
{
  struct ar_policy *policy = NULL;
  cleanup_error ar_error_t err = NULL;

  if (ar_policy_load_text (text, strlen (text), "p.yaml", &policy, &err) < 0)
    {
      cleanup_free char *message = ar_error_format (err);
      fprintf (stderr, "cannot load the test policy: %s\n", message);
      unit_failures++;
    }
  return policy;
}

static json_t *
profile_of (const char *policy_text)
{
  struct ar_policy *policy = load_policy (policy_text);
  json_t *profile;

  if (policy == NULL)
    return NULL;
  profile = ar_policy_seccomp_profile (policy);
  ar_policy_free (policy);
  return profile;
}

#define EXPECT_PROBE(profile, probe, expected)                                                                  \
  do                                                                                                            \
    {                                                                                                           \
      int _got = run_probe (profile, probe);                                                                    \
      if (_got != (expected))                                                                                   \
        {                                                                                                       \
          fprintf (stderr, "%s:%d: %s: expected %d (%s), got %d (%s)\n", __FILE__, __LINE__, #probe, (expected), \
                   (expected) > 0 ? strerror (expected) : "signal or success", _got,                           \
                   _got > 0 ? strerror (_got) : "signal or success");                                          \
          unit_failures++;                                                                                      \
        }                                                                                                       \
    }                                                                                                           \
  while (0)

static void
test_seccomp_default_profile_behaviour (void)
{
  json_auto_t *profile = profile_of ("name: t\nversion: 1\n");

  if (profile == NULL)
    return;
  EXPECT_PROBE (profile, probe_getpid, 0);
  EXPECT_PROBE (profile, probe_fork, 0);
  EXPECT_PROBE (profile, probe_socket_inet, 0);
  EXPECT_PROBE (profile, probe_personality_query, 0);
  EXPECT_PROBE (profile, probe_mkdir, EEXIST);
  EXPECT_PROBE (profile, probe_ptrace, ESRCH);
  EXPECT_PROBE (profile, probe_mount, EPERM);
  EXPECT_PROBE (profile, probe_unshare_user, EPERM);
  EXPECT_PROBE (profile, probe_clone_namespace, EPERM);
  EXPECT_PROBE (profile, probe_clone3, ENOSYS);
  EXPECT_PROBE (profile, probe_socket_vsock, EPERM);
  EXPECT_PROBE (profile, probe_personality_no_aslr, EPERM);
  EXPECT_PROBE (profile, probe_keyctl, EPERM);
  EXPECT_PROBE (profile, probe_bpf, EPERM);
  EXPECT_PROBE (profile, probe_io_uring, EPERM);
}

static void
test_seccomp_strict_profile_behaviour (void)
{
  json_auto_t *profile = profile_of ("name: t\nversion: 1\nsyscalls:\n  base: strict\n");

  if (profile == NULL)
    return;
  CHECK (json_array_size (json_object_get (profile, "architectures")) == 1);
  EXPECT_PROBE (profile, probe_getpid, 0);
  EXPECT_PROBE (profile, probe_fork, 0);
  EXPECT_PROBE (profile, probe_socket_inet, 0);
  EXPECT_PROBE (profile, probe_socket_netlink_route, 0);
  EXPECT_PROBE (profile, probe_socket_netlink_audit, EPERM);
  EXPECT_PROBE (profile, probe_socket_vsock, EPERM);
  EXPECT_PROBE (profile, probe_ptrace, EPERM);
  EXPECT_PROBE (profile, probe_mount, EPERM);
  EXPECT_PROBE (profile, probe_keyctl, EPERM);
  EXPECT_PROBE (profile, probe_clone3, ENOSYS);
}

static void
test_seccomp_capability_adds_calls (void)
{
  json_auto_t *profile = profile_of ("name: t\nversion: 1\nprocess:\n  capabilities: [CAP_SYS_ADMIN]\n");

  if (profile == NULL)
    return;
  /* mount passes the filter and fails in the kernel instead. */
  EXPECT_PROBE (profile, probe_mount, ENOENT);
  EXPECT_PROBE (profile, probe_clone3, EINVAL);
}

static void
test_seccomp_allow_and_deny_lists (void)
{
  json_auto_t *profile = profile_of ("name: t\nversion: 1\nsyscalls:\n  base: strict\n  allow: [ptrace]\n"
                                     "  deny: [getpid]\n");

  if (profile == NULL)
    return;
  EXPECT_PROBE (profile, probe_ptrace, ESRCH);
  EXPECT_PROBE (profile, probe_getpid, EPERM);
}

static void
test_seccomp_kill_action (void)
{
  json_auto_t *profile = profile_of ("name: t\nversion: 1\nsyscalls:\n  deny: [mkdir]\n  action: kill\n");

  if (profile == NULL)
    return;
  EXPECT_PROBE (profile, probe_mkdir, -SIGSYS);
  EXPECT_PROBE (profile, probe_keyctl, -SIGSYS);
  EXPECT_PROBE (profile, probe_getpid, 0);
  /* clone3 keeps ENOSYS, or every new thread would kill the process. */
  EXPECT_PROBE (profile, probe_clone3, ENOSYS);
}

static void
test_seccomp_audit_logs_instead (void)
{
  json_auto_t *profile = profile_of ("name: t\nversion: 1\nmode: audit\nsyscalls:\n  deny: [mkdir]\n");

  if (profile == NULL)
    return;
  /* ar_policy_seccomp_profile is the enforce form; audit mode changes it
   * when applied. */
  EXPECT_PROBE (profile, probe_mkdir, EPERM);
  {
    struct ar_policy *policy = load_policy ("name: t\nversion: 1\nmode: audit\nsyscalls:\n  deny: [mkdir]\n");
    json_auto_t *config = json_pack ("{s:s, s:{s:s}}", "ociVersion", "1.2.0", "root", "path", "r");
    cleanup_error ar_error_t err = NULL;
    json_t *applied;

    if (policy == NULL)
      return;
    CHECK (ar_policy_apply_with_events (policy, config, "config.json", NULL, NULL, &err) == 0);
    applied = json_object_get (json_object_get (config, "linux"), "seccomp");
    EXPECT_PROBE (applied, probe_mkdir, EEXIST);
    EXPECT_PROBE (applied, probe_mount, ENOENT);
    EXPECT_PROBE (applied, probe_clone3, ENOSYS);
    ar_policy_free (policy);
  }
}

static void
test_seccomp_log_action_runs_denied (void)
{
  json_auto_t *profile = profile_of ("name: t\nversion: 1\nsyscalls:\n  action: log\n");

  if (profile == NULL)
    return;
  CHECK_STR_EQ (json_string_value (json_object_get (profile, "defaultAction")), "SCMP_ACT_LOG");
  EXPECT_PROBE (profile, probe_mount, ENOENT);
  EXPECT_PROBE (profile, probe_getpid, 0);
}

static void
test_seccomp_profiles_parse_as_config (void)
{
  static const char *const policies[] = {
    "name: t\nversion: 1\n",
    "name: t\nversion: 1\nsyscalls:\n  base: strict\n",
    "name: t\nversion: 1\nprocess:\n  capabilities: [CAP_SYS_ADMIN, CAP_SYS_PTRACE]\n",
    "name: t\nversion: 1\nsyscalls:\n  action: kill\n  deny: [ptrace]\n",
  };

  for (size_t i = 0; i < sizeof (policies) / sizeof (policies[0]); i++)
    {
      json_t *profile = profile_of (policies[i]);
      json_auto_t *config = NULL;
      cleanup_free char *text = NULL;
      cleanup_config struct ar_config *parsed = NULL;
      cleanup_error ar_error_t err = NULL;

      if (profile == NULL)
        continue;
      config = json_pack ("{s:s, s:{s:s}, s:{s:o}}", "ociVersion", "1.2.0", "root", "path", "rootfs", "linux",
                          "seccomp", profile);
      text = json_dumps (config, 0);
      if (ar_config_parse (text, strlen (text), "profile", &parsed, &err) < 0)
        {
          cleanup_free char *message = ar_error_format (err);
          fprintf (stderr, "policy %zu: the profile does not parse: %s\n", i, message);
          unit_failures++;
        }
    }
}

int
main (void)
{
  static const struct unit_test tests[] = {
    { "seccomp default profile behaviour", test_seccomp_default_profile_behaviour },
    { "seccomp strict profile behaviour", test_seccomp_strict_profile_behaviour },
    { "seccomp capability adds calls", test_seccomp_capability_adds_calls },
    { "seccomp allow and deny lists", test_seccomp_allow_and_deny_lists },
    { "seccomp kill action", test_seccomp_kill_action },
    { "seccomp audit logs instead", test_seccomp_audit_logs_instead },
    { "seccomp log action runs denied", test_seccomp_log_action_runs_denied },
    { "seccomp profiles parse as config", test_seccomp_profiles_parse_as_config },
    { NULL, NULL },
  };
  return unit_run (tests);
}
