/* The parts of agentrun-full that agentrun lacks: every keeper module,
 * those that need libcrypto, libnftables, libnl or libnghttp2 included.
 * See sandbox/binary.h. */
#include "binary.h"
#include "keeper_modules.h"

const bool ar_full_binary = true;

const struct ar_keeper_module *const ar_keeper_modules[] = {
  &ar_keeper_wall_clock,
  &ar_keeper_dns,
  &ar_keeper_egress_events,
  &ar_keeper_syscall_events,
  &ar_keeper_identity_rotation,
  &ar_keeper_file_events,
  &ar_keeper_workload_socket,
};

const size_t ar_keeper_n_modules = sizeof (ar_keeper_modules) / sizeof (ar_keeper_modules[0]);

_Static_assert (sizeof (ar_keeper_modules) / sizeof (ar_keeper_modules[0]) <= AR_KEEPER_MAX_MODULES,
                "raise AR_KEEPER_MAX_MODULES");
