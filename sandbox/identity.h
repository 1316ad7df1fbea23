/* A SPIFFE identity for the container: minted by the runtime before the
 * container process starts, from the policy's annotations, written by
 * the container process into a tmpfs inside the rootfs, and renewed by
 * the keeper (identity_rotation.c) while the container runs. */
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
/* The keeper serves the SPIFFE Workload API for the container's identity
 * on a UNIX socket at SVID_DIR/agent/agent.sock (sandbox/workload_socket.c),
 * and SPIFFE_ENDPOINT_SOCKET names it as unix://SVID_DIR/agent/agent.sock. */
#define AR_IDENTITY_SOCKET_DIR "agent"
#define AR_IDENTITY_SOCKET_NAME "agent.sock"
#define AR_IDENTITY_ENDPOINT_ENV "SPIFFE_ENDPOINT_SOCKET"

struct ar_identity;
struct ar_spiffe_svid;

/* Reads the identity annotations of config and, when there is an identity
 * policy, mints the container's SVIDs with the local CA or fetches them
 * from a SPIRE agent, and adds AR_IDENTITY_ENV to process.env.  The agent
 * is the one of AR_IDENTITY_ANNOTATION_WORKLOAD_API or, without a CA
 * folder, of SPIFFE_ENDPOINT_SOCKET in the runtime's environment.  *out is
 * NULL without an identity policy or without process.  Fails, so that the
 * container does not start, when nothing names a CA folder or an agent,
 * when the policy or the ID is invalid, or when the CA is missing, expired
 * or of another trust domain.  It also fails
 * when the agent cannot be reached, returns an error, or issues an SVID for
 * another ID. */
int ar_identity_prepare (struct ar_config *config, const char *container_id, struct ar_identity **out,
                         ar_error_t *err);

/* Mounts a tmpfs at the identity's folder inside rootfs and writes the
 * SVID files there, owned by uid:gid.  Runs in the container process,
 * in its mount namespace, before pivot_root.  *dir_fd_out receives a
 * descriptor of the tmpfs's root folder, for the keeper's renewals. */
int ar_identity_install (const struct ar_identity *identity, const char *rootfs, uid_t uid, gid_t gid, int *dir_fd_out,
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

const char *ar_identity_spiffe_id (const struct ar_identity *identity);

/* Appends AR_IDENTITY_ENV=svid_dir and AR_IDENTITY_ENDPOINT_ENV, the
 * Workload API socket in svid_dir, to process->env, each unless
 * process->env sets it already; -ENOMEM on failure. */
int ar_identity_add_env (struct ar_process *process, const char *svid_dir);

/* Adds AR_IDENTITY_ENV and AR_IDENTITY_ENDPOINT_ENV to the environment of
 * a process that `exec` starts in a container of config, when the
 * container has an identity policy, each unless process sets it itself. */
int ar_identity_exec_env (struct ar_process *process, const struct ar_config *config, ar_error_t *err);

/* Returns in *token a JWT-SVID of the identity whose aud claim contains
 * every one of audiences: one minted now when the SVIDs come from the
 * local CA, otherwise current->jwt_svid when the policy's jwt_audiences
 * contain them all.  Fails with ENOENT when there is no such JWT-SVID. */
int ar_identity_jwt_svid (const struct ar_identity *identity, const struct ar_spiffe_svid *current,
                          char *const *audiences, char **token, ar_error_t *err);

/* Reads the JWT bundle (a JWK set in JSON) of the local CA into *json.
 * Fails with ENOENT when the SVIDs come from a SPIRE agent, because the
 * runtime fetches no JWT bundle from it. */
int ar_identity_jwt_bundle (const struct ar_identity *identity, char **json, ar_error_t *err);

void ar_identity_free (struct ar_identity *identity);

#endif
