/* Switching from agentrun to agentrun-full; see binary.h. */
#define _GNU_SOURCE
#include <errno.h>
#include <limits.h>
#include <string.h>
#include <unistd.h>

#include "binary.h"
#include "identity.h"
#include "net/egress.h"
#include "oci/log.h"
#include "oci/util.h"
#include "policy/policy.h"

#ifndef AGENTRUN_LIBEXECDIR
#define AGENTRUN_LIBEXECDIR "/usr/local/libexec/agentrun"
#endif

/* Set once by main, before anything else runs. */
static char **program_argv;

void
ar_binary_set_argv (char **argv)
{
  program_argv = argv;
}

char **
ar_binary_argv (void)
{
  return program_argv;
}

bool
ar_config_needs_full_binary (const struct ar_config *config)
{
  static const char *const keys[] = {
    AR_EGRESS_ANNOTATION,
    AR_IDENTITY_ANNOTATION_POLICY,
    AR_IDENTITY_ANNOTATION_CA,
    AR_IDENTITY_ANNOTATION_WORKLOAD_API,
  };

  for (size_t i = 0; i < sizeof (keys) / sizeof (keys[0]); i++)
    if (ar_config_annotation (config, keys[i]) != NULL)
      return true;
  return false;
}

/* Finds agentrun-full beside the running program, or in the libexec
 * folder that the build names. */
static char *
find_full_binary (void)
{
  char self[PATH_MAX];
  ssize_t len = readlink ("/proc/self/exe", self, sizeof (self) - 1);
  char *slash;

  if (len > 0)
    {
      self[len] = '\0';
      slash = strrchr (self, '/');
      if (slash != NULL)
        {
          char *beside = ar_xasprintf ("%.*s/%s", (int) (slash - self), self, AR_FULL_BINARY_NAME);
          if (access (beside, X_OK) == 0)
            return beside;
          free (beside);
        }
    }
  return ar_xasprintf ("%s/%s", AGENTRUN_LIBEXECDIR, AR_FULL_BINARY_NAME);
}

int
ar_exec_full_binary (char *const *argv, ar_error_t *err)
{
  cleanup_free char *path = NULL;

  if (ar_full_binary)
    return ar_make_error (err, EINVAL, "internal error: agentrun-full was asked to execute itself");
  path = find_full_binary ();
  ar_debug ("executing %s: this command needs its network or identity parts", path);
  execv (path, argv);
  return ar_make_error (err, errno,
                        "cannot execute `%s`, which handles network policies, identities and `ca`; install it "
                        "with `make install`, or keep it beside agentrun",
                        path);
}
