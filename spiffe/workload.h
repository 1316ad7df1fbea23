/* SVIDs from a SPIRE agent: the SPIFFE Workload API, which issues the
 * caller's own identities, and SPIRE's Delegated Identity API, with which
 * an authorized delegate such as the runtime fetches the identities of a
 * workload that selectors describe.  Both speak gRPC on a UNIX socket
 * (spiffe/grpc.h); the messages are those of spiffe/proto/.
 *
 * ar_spiffe_fetch keeps no state between calls, so a rotation loop can
 * call it again whenever the SVIDs near their expiry. */
#ifndef AGENTRUN_SPIFFE_WORKLOAD_H
#define AGENTRUN_SPIFFE_WORKLOAD_H

#include <stdbool.h>

#include "oci/error.h"
#include "spiffe/ca.h"

/* The environment variable that names the Workload API socket. */
#define AR_SPIFFE_ENDPOINT_ENV "SPIFFE_ENDPOINT_SOCKET"
/* The time a fetch may take when the caller gives none, connect
 * included, for each gRPC call. */
#define AR_SPIFFE_FETCH_TIMEOUT_MS 5000

struct ar_spiffe_source
{
  /* unix:///PATH, unix:/PATH or /PATH, as in SPIFFE_ENDPOINT_SOCKET. */
  const char *endpoint;
  /* Use the Delegated Identity API for the workload of selectors instead
   * of the Workload API for the caller. */
  bool delegated;
  /* "TYPE:VALUE" selectors, NULL-terminated, e.g. "unix:uid:1000"; the
   * type ends at the first ':'.  Delegated only. */
  char *const *selectors;
  /* The SPIFFE ID the SVIDs must have: an agent that issues the caller
   * several identities is asked for this one, and an SVID for any other
   * is an error. */
  const char *spiffe_id;
  /* Audiences of a JWT-SVID, NULL-terminated; NULL or empty for none. */
  char *const *audiences;
  int timeout_ms; /* 0 for AR_SPIFFE_FETCH_TIMEOUT_MS */
};

/* Fetches the X509-SVID of source->spiffe_id with its key and its trust
 * domain's bundle, converted to PEM, and a JWT-SVID when audiences are
 * given.  Checks that the certificate's URI SAN and the JWT's sub claim
 * are source->spiffe_id and that the key matches the certificate.
 * *out->not_after is the X509-SVID's expiry, *out->jwt_not_after the
 * JWT-SVID's.  Errors name the socket and the cause. */
int ar_spiffe_fetch (const struct ar_spiffe_source *source, struct ar_spiffe_svid **out, ar_error_t *err);

/* The Workload API's X509 bundles: the PEM certificates of the bundle of
 * trust_domain (a name such as "example.org"). */
int ar_spiffe_workload_fetch_bundle (const struct ar_spiffe_source *source, const char *trust_domain,
                                     char **bundle_pem, ar_error_t *err);

#endif
