/* A SPIFFE identity for the container: minted by the runtime before the
 * container process starts, from the policy's annotations, and written by
 * the container process into a tmpfs inside the rootfs. */
#ifndef AGENTRUN_IDENTITY_H
#define AGENTRUN_IDENTITY_H

#include <sys/types.h>

#include "oci/config.h"
#include "oci/error.h"

struct ar_spiffe_svid;

/* The annotation that names the local CA folder (made by `agentrun ca
 * init`) that signs the container's SVIDs. */
#define AR_IDENTITY_ANNOTATION_CA "agentrun.identity.ca"
/* The annotation that names a SPIRE agent's socket (unix:///PATH or
 * /PATH) to fetch the container's SVIDs from instead of a local CA. */
#define AR_IDENTITY_ANNOTATION_WORKLOAD_API "agentrun.identity.workload-api"
/* "true" fetches them with SPIRE's Delegated Identity API for the selector
 * unix:uid:UID of process.user, and a comma-separated list of TYPE:VALUE
 * selectors sends those selectors.  "false" or no annotation uses the
 * Workload API. */
#define AR_IDENTITY_ANNOTATION_DELEGATED "agentrun.identity.delegated"
/* The annotation that the policy compiler writes with the identity
 * settings, as JSON. */
#define AR_IDENTITY_ANNOTATION_POLICY "agentrun.policy.identity"
/* The environment variable that contains the SVID folder's path. */
#define AR_IDENTITY_ENV "AGENTRUN_SVID_DIR"

struct ar_identity;

/* Reads the identity annotations of config and, when there is an identity
 * policy, mints the container's SVIDs with the local CA or fetches them
 * from a SPIRE agent, and adds AR_IDENTITY_ENV to process.env.  The agent
 * is the one of AR_IDENTITY_ANNOTATION_WORKLOAD_API or, without a CA
 * folder, of SPIFFE_ENDPOINT_SOCKET in the runtime's environment.  *out is
 * NULL without an identity policy or without process, and also when
 * nothing names a CA folder or an agent, which logs a warning.  Fails, so
 * that the container does not start, when the policy or the ID is invalid,
 * or the CA is missing, expired or of another trust domain.  It also fails
 * when the agent cannot be reached, returns an error, or issues an SVID for
 * another ID. */
int ar_identity_prepare (struct ar_config *config, const char *container_id, struct ar_identity **out,
                         ar_error_t *err);

/* Mounts a tmpfs at the identity's folder inside rootfs and writes the
 * SVID files there, owned by uid:gid.  Runs in the container process,
 * in its mount namespace, before pivot_root. */
int ar_identity_install (const struct ar_identity *identity, const char *rootfs, uid_t uid, gid_t gid,
                         ar_error_t *err);

/* Mints or fetches a new set of SVIDs from the identity's source, for the
 * same SPIFFE ID and audiences as ar_identity_prepare did: the local CA,
 * which is loaded again, or the SPIRE agent.  For renewing the SVIDs while
 * the container runs; *out is the caller's. */
int ar_identity_fetch (const struct ar_identity *identity, struct ar_spiffe_svid **out, ar_error_t *err);

/* The SVID folder's absolute path inside the container. */
const char *ar_identity_svid_dir (const struct ar_identity *identity);

/* The SVIDs that ar_identity_prepare minted or fetched. */
const struct ar_spiffe_svid *ar_identity_svid (const struct ar_identity *identity);

void ar_identity_free (struct ar_identity *identity);

#endif
