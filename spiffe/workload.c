/* The SPIFFE Workload API client, and ar_spiffe_fetch, which picks the
 * Workload API or the Delegated Identity API (delegated.c). */
#define _GNU_SOURCE
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "oci/util.h"
#include "spiffe/grpc.h"
#include "spiffe/id.h"
#include "spiffe/internal.h"
#include "spiffe/proto/workload.pb-c.h"
#include "spiffe/workload.h"

/* Every Workload API request carries this header, so that an agent can
 * tell a workload's call from a browser's that was led to the socket. */
static const char *const workload_metadata[] = { "workload.spiffe.io", "true", NULL };

static void
workload_call (const struct ar_spiffe_source *source, const char *socket_path, const char *method, int streaming,
               struct ar_grpc_call *call)
{
  call->socket_path = socket_path;
  call->method = method;
  call->metadata = workload_metadata;
  call->timeout_ms = source->timeout_ms > 0 ? source->timeout_ms : AR_SPIFFE_FETCH_TIMEOUT_MS;
  call->streaming = streaming;
}

/* Lists the SPIFFE IDs of a response for an error message. */
static char *
list_ids (X509SVIDResponse *response)
{
  char *list = ar_xstrdup ("");

  for (size_t i = 0; i < response->n_svids; i++)
    {
      char *next = ar_xasprintf ("%s%s`%s`", list, i > 0 ? ", " : "", response->svids[i]->spiffe_id);
      free (list);
      list = next;
    }
  return list;
}

static int
fetch_x509 (const struct ar_spiffe_source *source, const char *socket_path, struct ar_spiffe_svid *svid,
            ar_error_t *err)
{
  X509SVIDRequest request = X509_SVIDREQUEST__INIT;
  struct ar_grpc_call call;
  cleanup_free uint8_t *packed = NULL;
  cleanup_free uint8_t *data = NULL;
  cleanup_free char *ids = NULL;
  X509SVIDResponse *response;
  X509SVID *match = NULL;
  size_t len;
  int ret;

  workload_call (source, socket_path, "/SpiffeWorkloadAPI/FetchX509SVID", 1, &call);
  packed = ar_xmalloc0 (x509_svidrequest__get_packed_size (&request) + 1);
  len = x509_svidrequest__pack (&request, packed);
  ret = ar_grpc_call (&call, packed, len, &data, &len, err);
  if (ret < 0)
    return ret;
  response = x509_svidresponse__unpack (NULL, len, data);
  if (response == NULL)
    return ar_make_error (err, 0, "the FetchX509SVID response is not a valid X509SVIDResponse");

  /* An agent issues a workload one SVID per registration entry that
   * matches it: take the one for the ID asked for. */
  for (size_t i = 0; i < response->n_svids && match == NULL; i++)
    if (strcmp (response->svids[i]->spiffe_id, source->spiffe_id) == 0)
      match = response->svids[i];
  if (match == NULL)
    {
      ids = list_ids (response);
      ret = ar_make_error (err, 0, "the agent issued no X509-SVID for `%s`; it issued %s", source->spiffe_id,
                           response->n_svids > 0 ? ids : "none");
    }
  else
    ret = ar_spiffe_svid_from_der (match->x509_svid.data, match->x509_svid.len, match->x509_svid_key.data,
                                   match->x509_svid_key.len, match->bundle.data, match->bundle.len,
                                   source->spiffe_id, svid, err);
  x509_svidresponse__free_unpacked (response, NULL);
  return ret;
}

static int
fetch_jwt (const struct ar_spiffe_source *source, const char *socket_path, struct ar_spiffe_svid *svid,
           ar_error_t *err)
{
  JWTSVIDRequest request = JWTSVIDREQUEST__INIT;
  struct ar_grpc_call call;
  cleanup_free uint8_t *packed = NULL;
  cleanup_free uint8_t *data = NULL;
  JWTSVIDResponse *response;
  JWTSVID *match = NULL;
  size_t len;
  int ret;

  request.n_audience = ar_strv_len (source->audiences);
  request.audience = (char **) source->audiences;
  request.spiffe_id = (char *) source->spiffe_id;
  workload_call (source, socket_path, "/SpiffeWorkloadAPI/FetchJWTSVID", 0, &call);
  packed = ar_xmalloc0 (jwtsvidrequest__get_packed_size (&request) + 1);
  len = jwtsvidrequest__pack (&request, packed);
  ret = ar_grpc_call (&call, packed, len, &data, &len, err);
  if (ret < 0)
    return ret;
  response = jwtsvidresponse__unpack (NULL, len, data);
  if (response == NULL)
    return ar_make_error (err, 0, "the FetchJWTSVID response is not a valid JWTSVIDResponse");
  for (size_t i = 0; i < response->n_svids && match == NULL; i++)
    if (strcmp (response->svids[i]->spiffe_id, source->spiffe_id) == 0)
      match = response->svids[i];
  if (match == NULL)
    ret = ar_make_error (err, 0, "the agent issued no JWT-SVID for `%s`", source->spiffe_id);
  else
    ret = ar_spiffe_jwt_claims_check (match->svid, source->spiffe_id, &svid->jwt_not_after, err);
  if (ret == 0)
    svid->jwt_svid = ar_xstrdup (match->svid);
  jwtsvidresponse__free_unpacked (response, NULL);
  return ret;
}

int
ar_spiffe_workload_fetch_bundle (const struct ar_spiffe_source *source, const char *trust_domain,
                                 char **bundle_pem, ar_error_t *err)
{
  X509BundlesRequest request = X509_BUNDLES_REQUEST__INIT;
  struct ar_grpc_call call;
  cleanup_free char *socket_path = NULL;
  cleanup_free char *key = ar_xasprintf ("spiffe://%s", trust_domain);
  cleanup_free uint8_t *packed = NULL;
  cleanup_free uint8_t *data = NULL;
  X509BundlesResponse *response;
  size_t len;
  int ret;

  ret = ar_grpc_unix_path (source->endpoint, &socket_path, err);
  if (ret < 0)
    return ret;
  workload_call (source, socket_path, "/SpiffeWorkloadAPI/FetchX509Bundles", 1, &call);
  packed = ar_xmalloc0 (x509_bundles_request__get_packed_size (&request) + 1);
  len = x509_bundles_request__pack (&request, packed);
  ret = ar_grpc_call (&call, packed, len, &data, &len, err);
  if (ret < 0)
    return ar_error_wrap (err, "cannot fetch the X.509 bundles from the SPIRE agent at `%s`", source->endpoint);
  ret = -ENOENT;
  response = x509_bundles_response__unpack (NULL, len, data);
  if (response == NULL)
    return ar_make_error (err, 0, "the FetchX509Bundles response from `%s` is not a valid X509BundlesResponse",
                          source->endpoint);
  /* The map is keyed by the trust domain's SPIFFE ID. */
  for (size_t i = 0; i < response->n_bundles && ret == -ENOENT; i++)
    if (strcmp (response->bundles[i]->key, key) == 0 || strcmp (response->bundles[i]->key, trust_domain) == 0)
      ret = ar_spiffe_certs_to_pem (response->bundles[i]->value.data, response->bundles[i]->value.len, bundle_pem,
                                    err);
  if (ret == -ENOENT)
    ar_make_error (err, ENOENT, "the SPIRE agent at `%s` has no X.509 bundle for trust domain `%s`",
                   source->endpoint, trust_domain);
  x509_bundles_response__free_unpacked (response, NULL);
  return ret;
}

int
ar_spiffe_fetch (const struct ar_spiffe_source *source, struct ar_spiffe_svid **out, ar_error_t *err)
{
  cleanup_spiffe_svid struct ar_spiffe_svid *svid = ar_xmalloc0 (sizeof *svid);
  cleanup_free char *socket_path = NULL;
  int ret;

  ret = ar_spiffe_id_check (source->spiffe_id, NULL, err);
  if (ret == 0)
    ret = ar_grpc_unix_path (source->endpoint, &socket_path, err);
  if (ret < 0)
    return ret;

  svid->spiffe_id = ar_xstrdup (source->spiffe_id);
  if (source->delegated)
    ret = ar_spiffe_delegated_fetch (source, socket_path, svid, err);
  else
    {
      ret = fetch_x509 (source, socket_path, svid, err);
      if (ret == 0 && source->audiences != NULL && source->audiences[0] != NULL)
        ret = fetch_jwt (source, socket_path, svid, err);
    }
  if (ret < 0)
    return ar_error_wrap (err, "cannot fetch the SVIDs of `%s` from the SPIRE agent at `%s` (%s API)",
                          source->spiffe_id, source->endpoint, source->delegated ? "Delegated Identity" : "Workload");

  *out = ar_steal_ptr (svid);
  return 0;
}
