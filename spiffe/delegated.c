/* SPIRE's Delegated Identity API: the runtime, as a delegate that the
 * agent's configuration authorizes, fetches the SVIDs of the workload that
 * selectors describe (a container that has not started yet).  The agent
 * serves it on its admin socket, not on the Workload API socket. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "oci/util.h"
#include "spiffe/grpc.h"
#include "spiffe/id.h"
#include "spiffe/internal.h"
#include "spiffe/proto/delegatedidentity.pb-c.h"
#include "spiffe/workload.h"

#define SERVICE "/spire.api.agent.delegatedidentity.v1.DelegatedIdentity/"

typedef Spire__Api__Types__Selector Selector;
typedef Spire__Api__Types__SPIFFEID SpiffeId;
typedef Spire__Api__Agent__Delegatedidentity__V1__SubscribeToX509SVIDsRequest X509SvidsRequest;
typedef Spire__Api__Agent__Delegatedidentity__V1__SubscribeToX509SVIDsResponse X509SvidsResponse;
typedef Spire__Api__Agent__Delegatedidentity__V1__X509SVIDWithKey X509SvidWithKey;
typedef Spire__Api__Agent__Delegatedidentity__V1__SubscribeToX509BundlesRequest X509BundlesRequest;
typedef Spire__Api__Agent__Delegatedidentity__V1__SubscribeToX509BundlesResponse X509BundlesResponse;
typedef Spire__Api__Agent__Delegatedidentity__V1__FetchJWTSVIDsRequest JwtSvidsRequest;
typedef Spire__Api__Agent__Delegatedidentity__V1__FetchJWTSVIDsResponse JwtSvidsResponse;

/* The selectors of source as messages: "TYPE:VALUE" splits at the first
 * ':'.  Fills selectors (n of them) and the array of pointers to them. */
static int
make_selectors (const struct ar_spiffe_source *source, Selector *selectors, Selector **pointers, char **copies,
                ar_error_t *err)
{
  size_t n = ar_strv_len (source->selectors);

  if (n == 0)
    return ar_make_error (err, 0, "the Delegated Identity API needs at least one selector");
  for (size_t i = 0; i < n; i++)
    {
      char *colon;

      copies[i] = ar_xstrdup (source->selectors[i]);
      colon = strchr (copies[i], ':');
      if (colon == NULL || colon == copies[i] || colon[1] == '\0')
        return ar_make_error (err, 0, "selector `%s` is not of the form TYPE:VALUE, e.g. `unix:uid:1000`",
                              source->selectors[i]);
      *colon = '\0';
      spire__api__types__selector__init (&selectors[i]);
      selectors[i].type = copies[i];
      selectors[i].value = colon + 1;
      pointers[i] = &selectors[i];
    }
  return 0;
}

static char *
id_to_string (const SpiffeId *id)
{
  if (id == NULL)
    return ar_xstrdup ("(none)");
  return ar_xasprintf ("spiffe://%s%s", id->trust_domain, id->path);
}

/* Makes a request, calls method and returns the response bytes. */
static int
call_method (const struct ar_spiffe_source *source, const char *socket_path, const char *method, int streaming,
             const ProtobufCMessage *request, uint8_t **data, size_t *len, ar_error_t *err)
{
  struct ar_grpc_call call = {
    .socket_path = socket_path,
    .method = method,
    .timeout_ms = source->timeout_ms > 0 ? source->timeout_ms : AR_SPIFFE_FETCH_TIMEOUT_MS,
    .streaming = streaming,
  };
  cleanup_free uint8_t *packed = ar_xmalloc0 (protobuf_c_message_get_packed_size (request) + 1);
  size_t packed_len = protobuf_c_message_pack (request, packed);

  return ar_grpc_call (&call, packed, packed_len, data, len, err);
}

static int
fetch_bundle (const struct ar_spiffe_source *source, const char *socket_path, const char *trust_domain,
              struct ar_spiffe_svid *svid, ar_error_t *err)
{
  X509BundlesRequest request = SPIRE__API__AGENT__DELEGATEDIDENTITY__V1__SUBSCRIBE_TO_X509_BUNDLES_REQUEST__INIT;
  cleanup_free uint8_t *data = NULL;
  X509BundlesResponse *response;
  size_t len;
  int ret = -ENOENT;

  ret = call_method (source, socket_path, SERVICE "SubscribeToX509Bundles", 1, &request.base, &data, &len, err);
  if (ret < 0)
    return ret;
  ret = -ENOENT;
  response = spire__api__agent__delegatedidentity__v1__subscribe_to_x509_bundles_response__unpack (NULL, len, data);
  if (response == NULL)
    return ar_make_error (err, 0, "the SubscribeToX509Bundles response is not valid");
  for (size_t i = 0; i < response->n_ca_certificates && ret == -ENOENT; i++)
    if (strcmp (response->ca_certificates[i]->key, trust_domain) == 0)
      ret = ar_spiffe_certs_to_pem (response->ca_certificates[i]->value.data, response->ca_certificates[i]->value.len,
                                    &svid->bundle_pem, err);
  if (ret == -ENOENT)
    ar_make_error (err, ENOENT, "the agent has no X.509 bundle for trust domain `%s`", trust_domain);
  spire__api__agent__delegatedidentity__v1__subscribe_to_x509_bundles_response__free_unpacked (response, NULL);
  return ret;
}

static int
fetch_x509 (const struct ar_spiffe_source *source, const char *socket_path, Selector **selectors, size_t n,
            struct ar_spiffe_svid *svid, ar_error_t *err)
{
  X509SvidsRequest request = SPIRE__API__AGENT__DELEGATEDIDENTITY__V1__SUBSCRIBE_TO_X509_SVIDS_REQUEST__INIT;
  cleanup_free uint8_t *data = NULL;
  cleanup_free uint8_t *chain = NULL;
  cleanup_free char *ids = ar_xstrdup ("");
  X509SvidsResponse *response;
  X509SvidWithKey *match = NULL;
  size_t len, chain_len = 0;
  int ret;

  request.n_selectors = n;
  request.selectors = selectors;
  ret = call_method (source, socket_path, SERVICE "SubscribeToX509SVIDs", 1, &request.base, &data, &len, err);
  if (ret < 0)
    return ret;
  response = spire__api__agent__delegatedidentity__v1__subscribe_to_x509_svids_response__unpack (NULL, len, data);
  if (response == NULL)
    return ar_make_error (err, 0, "the SubscribeToX509SVIDs response is not valid");

  for (size_t i = 0; i < response->n_x509_svids && match == NULL; i++)
    {
      X509SvidWithKey *item = response->x509_svids[i];
      cleanup_free char *id = id_to_string (item->x509_svid != NULL ? item->x509_svid->id : NULL);
      char *next;

      if (item->x509_svid != NULL && strcmp (id, source->spiffe_id) == 0)
        match = item;
      next = ar_xasprintf ("%s%s`%s`", ids, i > 0 ? ", " : "", id);
      free (ids);
      ids = next;
    }
  if (match == NULL)
    ret = ar_make_error (err, 0, "the agent issued no X509-SVID for `%s` to these selectors; it issued %s",
                         source->spiffe_id, response->n_x509_svids > 0 ? ids : "none");
  else
    {
      /* The chain arrives as one certificate per entry. */
      for (size_t i = 0; i < match->x509_svid->n_cert_chain; i++)
        chain_len += match->x509_svid->cert_chain[i].len;
      chain = ar_xmalloc0 (chain_len + 1);
      chain_len = 0;
      for (size_t i = 0; i < match->x509_svid->n_cert_chain; i++)
        {
          memcpy (chain + chain_len, match->x509_svid->cert_chain[i].data, match->x509_svid->cert_chain[i].len);
          chain_len += match->x509_svid->cert_chain[i].len;
        }
      /* The bundle comes from SubscribeToX509Bundles; give it a
       * placeholder until then, which ar_spiffe_svid_from_der needs. */
      ret = ar_spiffe_svid_from_der (chain, chain_len, match->x509_svid_key.data, match->x509_svid_key.len, chain,
                                     chain_len, source->spiffe_id, svid, err);
      free (svid->bundle_pem);
      svid->bundle_pem = NULL;
    }
  spire__api__agent__delegatedidentity__v1__subscribe_to_x509_svids_response__free_unpacked (response, NULL);
  return ret;
}

static int
fetch_jwt (const struct ar_spiffe_source *source, const char *socket_path, Selector **selectors, size_t n,
           struct ar_spiffe_svid *svid, ar_error_t *err)
{
  JwtSvidsRequest request = SPIRE__API__AGENT__DELEGATEDIDENTITY__V1__FETCH_JWTSVIDS_REQUEST__INIT;
  cleanup_free uint8_t *data = NULL;
  JwtSvidsResponse *response;
  const char *token = NULL;
  size_t len;
  int ret;

  request.n_audience = ar_strv_len (source->audiences);
  request.audience = (char **) source->audiences;
  request.n_selectors = n;
  request.selectors = selectors;
  ret = call_method (source, socket_path, SERVICE "FetchJWTSVIDs", 0, &request.base, &data, &len, err);
  if (ret < 0)
    return ret;
  response = spire__api__agent__delegatedidentity__v1__fetch_jwtsvids_response__unpack (NULL, len, data);
  if (response == NULL)
    return ar_make_error (err, 0, "the FetchJWTSVIDs response is not valid");
  for (size_t i = 0; i < response->n_svids && token == NULL; i++)
    {
      cleanup_free char *id = id_to_string (response->svids[i]->id);

      if (strcmp (id, source->spiffe_id) == 0)
        token = response->svids[i]->token;
    }
  if (token == NULL)
    ret = ar_make_error (err, 0, "the agent issued no JWT-SVID for `%s` to these selectors", source->spiffe_id);
  else
    ret = ar_spiffe_jwt_claims_check (token, source->spiffe_id, &svid->jwt_not_after, err);
  if (ret == 0)
    svid->jwt_svid = ar_xstrdup (token);
  spire__api__agent__delegatedidentity__v1__fetch_jwtsvids_response__free_unpacked (response, NULL);
  return ret;
}

int
ar_spiffe_delegated_fetch (const struct ar_spiffe_source *source, const char *socket_path,
                           struct ar_spiffe_svid *svid, ar_error_t *err)
{
  size_t n = ar_strv_len (source->selectors);
  cleanup_free Selector *selectors = ar_xmalloc0 (sizeof (Selector) * (n + 1));
  cleanup_free Selector **pointers = ar_xmalloc0 (sizeof (Selector *) * (n + 1));
  cleanup_strv char **copies = ar_xmalloc0 (sizeof (char *) * (n + 1));
  cleanup_free char *trust_domain = NULL;
  int ret;

  ret = ar_spiffe_id_check (source->spiffe_id, &trust_domain, err);
  if (ret == 0)
    ret = make_selectors (source, selectors, pointers, copies, err);
  if (ret == 0)
    ret = fetch_x509 (source, socket_path, pointers, n, svid, err);
  if (ret == 0)
    ret = fetch_bundle (source, socket_path, trust_domain, svid, err);
  if (ret == 0 && source->audiences != NULL && source->audiences[0] != NULL)
    ret = fetch_jwt (source, socket_path, pointers, n, svid, err);
  return ret;
}
