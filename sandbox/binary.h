/* agentrun is built as two programs from one library.  `agentrun` links
 * only what every container needs (libseccomp, libcap, jansson, libyaml),
 * so that a plain container pays for nothing else at start-up.
 * `agentrun-full` also links the libraries of network policies and
 * identities (libcrypto, libnftables, libnl, libnetfilter_log, nghttp2,
 * protobuf-c), whose relocations alone cost about 4 MB of resident memory
 * per call.  `agentrun` executes `agentrun-full` with the same arguments
 * when a command needs those parts: `ca`, and `create` or `run` of a
 * config whose annotations ask for a network policy or an identity.
 * sandbox/edition/light.c and full.c hold what differs. */
#ifndef AGENTRUN_BINARY_H
#define AGENTRUN_BINARY_H

#include <stdbool.h>

#include "oci/config.h"
#include "oci/error.h"

/* The name of the full program, looked up beside the running program and
 * then in AGENTRUN_LIBEXECDIR. */
#define AR_FULL_BINARY_NAME "agentrun-full"

/* True in agentrun-full. */
extern const bool ar_full_binary;

/* Returns whether config needs a part that only agentrun-full has. */
bool ar_config_needs_full_binary (const struct ar_config *config);

/* Replaces the running program with agentrun-full and the same
 * arguments; returns only on failure.  In agentrun-full, fails. */
int ar_exec_full_binary (char *const *argv, ar_error_t *err);

/* Records the program's arguments, for a switch to agentrun-full from a
 * step that has no command line at hand (delete).  main calls it once. */
void ar_binary_set_argv (char **argv);
char **ar_binary_argv (void);

#endif
