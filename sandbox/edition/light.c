/* The parts of agentrun that stand in for what only agentrun-full links
 * (see sandbox/binary.h): the keeper modules without network or identity
 * work, and stand-ins for the network and identity entry points.  create
 * switches to agentrun-full before it would need them, so the stand-ins
 * only return "nothing to do" for configs without those annotations, and
 * report an internal error otherwise. */
#define _GNU_SOURCE
#include <stdlib.h>

#include "binary.h"
#include "cli/cli.h"
#include "identity.h"
#include "keeper_modules.h"
#include "net/dns.h"
#include "net/egress.h"
#include "net/network.h"
#include "state.h"
#include "oci/log.h"

const bool ar_full_binary = false;

const struct ar_keeper_module *const ar_keeper_modules[] = {
  &ar_keeper_wall_clock,
  &ar_keeper_syscall_events,
  &ar_keeper_file_events,
};

const size_t ar_keeper_n_modules = sizeof (ar_keeper_modules) / sizeof (ar_keeper_modules[0]);

/* Ends the program: a caller reached a part of agentrun-full, which
 * create's switch should have prevented. */
static void __attribute__ ((noreturn))
unreachable (const char *function)
{
  ar_log (AR_LOG_ERROR, "internal error: %s needs agentrun-full", function);
  exit (EXIT_FAILURE);
}

int
ar_cli_ca (struct ar_global_options *global, int argc, char **argv, ar_error_t *err)
{
  return ar_exec_full_binary (global->argv, err);
}

int
ar_egress_policy_from_config (const struct ar_config *config, struct ar_egress_policy **out, ar_error_t *err)
{
  if (ar_config_needs_full_binary (config))
    unreachable (__func__);
  *out = NULL;
  return 0;
}

void
ar_egress_policy_free (struct ar_egress_policy *policy)
{
  if (policy != NULL)
    unreachable (__func__);
}

int
ar_egress_check_config (const struct ar_egress_policy *policy, const struct ar_config *config, ar_error_t *err)
{
  unreachable (__func__);
}

int
ar_egress_apply_pid (struct ar_egress_policy *policy, pid_t pid, bool replace, ar_error_t *err)
{
  unreachable (__func__);
}

bool
ar_dns_wanted (const struct ar_egress_policy *policy)
{
  if (policy != NULL)
    unreachable (__func__);
  return false;
}

int
ar_dns_add_resolv_conf (struct ar_config *config, const char *state_dir, ar_error_t *err)
{
  unreachable (__func__);
}

int
ar_network_setup (const char *root, struct ar_state *state, struct ar_egress_policy *policy,
                  const struct ar_config *config, pid_t pid, ar_error_t *err)
{
  if (policy != NULL)
    unreachable (__func__);
  return 0;
}

int
ar_network_teardown (const char *root, const struct ar_state *state, ar_error_t *err)
{
  if (state->network != NULL)
    unreachable (__func__);
  return 0;
}

int
ar_identity_prepare (struct ar_config *config, const char *container_id, struct ar_identity **out,
                     ar_error_t *err)
{
  if (ar_config_needs_full_binary (config))
    unreachable (__func__);
  *out = NULL;
  return 0;
}

void
ar_identity_free (struct ar_identity *identity)
{
  if (identity != NULL)
    unreachable (__func__);
}

int
ar_identity_install (const struct ar_identity *identity, const char *rootfs, uid_t uid, gid_t gid, int *dir_fd_out,
                     ar_error_t *err)
{
  unreachable (__func__);
}
