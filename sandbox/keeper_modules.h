/* The keeper's modules, in start order (they stop in reverse).  A new
 * module adds its declaration here and one line to the table of
 * sandbox/edition/full.c, and also of sandbox/edition/light.c when it
 * needs none of the libraries that only agentrun-full links. */
#ifndef AGENTRUN_KEEPER_MODULES_H
#define AGENTRUN_KEEPER_MODULES_H

#include <stddef.h>

#include "keeper.h"

extern const struct ar_keeper_module ar_keeper_wall_clock;
extern const struct ar_keeper_module ar_keeper_dns;
extern const struct ar_keeper_module ar_keeper_egress_events;
extern const struct ar_keeper_module ar_keeper_syscall_events;
extern const struct ar_keeper_module ar_keeper_identity_rotation;
extern const struct ar_keeper_module ar_keeper_file_events;
extern const struct ar_keeper_module ar_keeper_workload_socket;

/* The SVID rotation module calls the listener after each renewal with the
 * new SVIDs, which stay the module's; NULL removes it.  One at a time:
 * the Workload API socket's. */
struct ar_spiffe_svid;
typedef void (*ar_svid_listener) (const struct ar_spiffe_svid *svid, void *data);
void ar_identity_rotation_listen (ar_svid_listener listener, void *data);

extern const struct ar_keeper_module *const ar_keeper_modules[];
extern const size_t ar_keeper_n_modules;

/* The maximum number of modules in the table. */
#define AR_KEEPER_MAX_MODULES 16

#endif
