#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/capability.h>
#include <unistd.h>

#include "cgroup.h"
#include "cli.h"
#include "process_attrs.h"

static const char features_usage[] = "Usage: agentrun features\n"
                                     "\n"
                                     "Prints the OCI runtime features JSON: what this build of agentrun\n"
                                     "implements on this host.\n";

static json_t *
string_array (const char *const *items)
{
  json_t *array = json_array ();

  for (size_t i = 0; items[i] != NULL; i++)
    json_array_append_new (array, json_string (items[i]));
  return array;
}

static json_t *
capabilities_array (void)
{
  json_t *array = json_array ();
  int last = ar_capability_last ();

  for (int cap = 0; cap <= last; cap++)
    {
      char *name = cap_to_name ((cap_value_t) cap);
      if (name == NULL)
        continue;
      /* libcap returns lower case names such as "cap_chown". */
      for (char *p = name; *p; p++)
        if (*p >= 'a' && *p <= 'z')
          *p = (char) (*p - 'a' + 'A');
      json_array_append_new (array, json_string (name));
      cap_free (name);
    }
  return array;
}

/* The cgroup versions of this host's layout (v1 and v2 both on a hybrid
 * host, whose cgroup2 hierarchy agentrun also joins) and the rdma
 * controller where a hierarchy offers it.  There is no systemd cgroup
 * driver.  A host without cgroups reports every one false. */
static json_t *
cgroup_features (void)
{
  enum ar_cgroup_layout layout = AR_CGROUP_LAYOUT_V1;
  ar_error_t ignored = NULL;
  bool have_layout, rdma = false;

  have_layout = ar_cgroup_detect_layout (&layout, &ignored) == 0;
  ar_error_release (&ignored);
  if (have_layout && ar_cgroup_host_has_controller ("rdma", &rdma, &ignored) < 0)
    ar_error_release (&ignored);

  return json_pack ("{s:b, s:b, s:b, s:b, s:b}", "v1", have_layout && layout != AR_CGROUP_LAYOUT_V2, "v2",
                    have_layout && layout != AR_CGROUP_LAYOUT_V1, "systemd", 0, "systemdUser", 0, "rdma", rdma);
}

static json_t *
build_features (void)
{
  static const char *const hooks[] = { "prestart",  "createRuntime", "createContainer", "startContainer",
                                       "poststart", "poststop",      NULL };
  static const char *const mount_options[] = {
    "async",      "atime",       "bind",        "defaults",   "dev",         "diratime",     "dirsync",
    "exec",       "mand",        "noatime",     "nodev",      "nodiratime",  "noexec",       "nomand",
    "norelatime", "nostrictatime", "nosuid",    "nosymfollow", "private",    "ratime",       "rbind",
    "rdev",       "rdiratime",   "relatime",    "remount",    "rexec",       "rnoatime",     "rnodev",
    "rnodiratime", "rnoexec",    "rnorelatime", "rnostrictatime", "rnosuid", "rnosymfollow", "ro",
    "rprivate",   "rrelatime",   "rro",         "rrw",        "rshared",     "rslave",       "rstrictatime",
    "rsuid",      "rsymfollow",  "runbindable", "rw",         "shared",      "slave",        "strictatime",
    "suid",       "symfollow",   "sync",        "tmpcopyup",  "unbindable",  NULL,
  };
  static const char *const namespaces[] = { "cgroup", "ipc", "mount", "network", "pid", "time", "user", "uts",
                                            NULL };
  static const char *const seccomp_actions[] = { "SCMP_ACT_ALLOW", "SCMP_ACT_ERRNO",        "SCMP_ACT_KILL",
                                                 "SCMP_ACT_KILL_PROCESS", "SCMP_ACT_KILL_THREAD", "SCMP_ACT_LOG",
                                                 "SCMP_ACT_NOTIFY", "SCMP_ACT_TRACE",       "SCMP_ACT_TRAP",
                                                 NULL };
  static const char *const seccomp_operators[] = { "SCMP_CMP_EQ", "SCMP_CMP_GE", "SCMP_CMP_GT",
                                                   "SCMP_CMP_LE", "SCMP_CMP_LT", "SCMP_CMP_MASKED_EQ",
                                                   "SCMP_CMP_NE", NULL };
  static const char *const seccomp_archs[] = {
    "SCMP_ARCH_AARCH64", "SCMP_ARCH_ARM",     "SCMP_ARCH_MIPS",    "SCMP_ARCH_MIPS64",  "SCMP_ARCH_MIPS64N32",
    "SCMP_ARCH_MIPSEL",  "SCMP_ARCH_MIPSEL64", "SCMP_ARCH_MIPSEL64N32", "SCMP_ARCH_PPC", "SCMP_ARCH_PPC64",
    "SCMP_ARCH_PPC64LE", "SCMP_ARCH_RISCV64", "SCMP_ARCH_S390",    "SCMP_ARCH_S390X",   "SCMP_ARCH_X32",
    "SCMP_ARCH_X86",     "SCMP_ARCH_X86_64",  NULL,
  };
  static const char *const seccomp_flags[] = { "SECCOMP_FILTER_FLAG_LOG", "SECCOMP_FILTER_FLAG_SPEC_ALLOW",
                                               "SECCOMP_FILTER_FLAG_TSYNC",
                                               "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV", NULL };
  json_t *linux_obj, *seccomp, *features;
  seccomp = json_pack ("{s:b, s:o, s:o, s:o, s:o, s:o}", "enabled", 1, "actions", string_array (seccomp_actions),
                       "operators", string_array (seccomp_operators), "archs", string_array (seccomp_archs),
                       "knownFlags", string_array (seccomp_flags), "supportedFlags",
                       string_array (seccomp_flags));
  linux_obj = json_pack ("{s:o, s:o, s:o, s:o, s:{s:b}, s:{s:b}, s:{s:b}, s:{s:{s:b}}}", "namespaces",
                         string_array (namespaces), "capabilities", capabilities_array (), "cgroup", cgroup_features (),
                         "seccomp", seccomp, "apparmor", "enabled", 0, "selinux", "enabled", 0, "intelRdt",
                         "enabled", 0, "mountExtensions", "idmap", "enabled", 0);
  features = json_pack ("{s:s, s:s, s:o, s:o, s:o, s:{s:s, s:s, s:s}}", "ociVersionMin", "1.0.0",
                        "ociVersionMax", "1.2.0", "hooks", string_array (hooks), "mountOptions",
                        string_array (mount_options), "linux", linux_obj, "annotations",
                        "org.opencontainers.runtime-spec.features.name", "agentrun",
                        "org.opencontainers.runtime-spec.features.version", AGENTRUN_VERSION,
                        "org.opencontainers.runtime-spec.features.commit", AGENTRUN_COMMIT);
  return features;
}

int
ar_cli_features (struct ar_global_options *global, int argc, char **argv, ar_error_t *err)
{
  json_t *features;
  int ret;

  if (argc > 1 && (strcmp (argv[1], "--help") == 0 || strcmp (argv[1], "-h") == 0))
    {
      fputs (features_usage, stdout);
      return 0;
    }
  if (argc > 1)
    return ar_cli_usage_error (err, "features", "unexpected argument `%s`", argv[1]);

  features = build_features ();
  ret = ar_cli_print_json (features, err);
  json_decref (features);
  return ret;
}
