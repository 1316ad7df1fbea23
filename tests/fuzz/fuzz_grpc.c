/* Fuzzes what a SPIRE agent sends back: the gRPC length-prefixed frames
 * (ar_grpc_frame_decode), the Workload API's protobuf responses, and the
 * DER certificates, PKCS#8 keys and JWT claims inside them, converted as
 * spiffe/workload.c does.  The first byte picks the response type. */
#include <string.h>

#include "fuzz.h"
#include "spiffe/ca.h"
#include "spiffe/grpc.h"
#include "spiffe/internal.h"
#include "spiffe/proto/workload.pb-c.h"

/* The largest message the client accepts, as spiffe/grpc.c does. */
#define MAX_MESSAGE (4u << 20)

int
LLVMFuzzerInitialize (int *argc, char ***argv)
{
  fuzz_init_log ();
  return 0;
}

static void
x509_response (const uint8_t *msg, size_t len)
{
  X509SVIDResponse *response = x509_svidresponse__unpack (NULL, len, msg);

  if (response == NULL)
    return;
  for (size_t i = 0; i < response->n_svids; i++)
    {
      X509SVID *entry = response->svids[i];
      struct ar_spiffe_svid svid;
      ar_error_t err = NULL;

      memset (&svid, 0, sizeof (svid));
      if (ar_spiffe_svid_from_der (entry->x509_svid.data, entry->x509_svid.len, entry->x509_svid_key.data,
                                   entry->x509_svid_key.len, entry->bundle.data, entry->bundle.len,
                                   entry->spiffe_id, &svid, &err)
          < 0)
        fuzz_consume_error (&err);
      free (svid.cert_pem);
      free (svid.key_pem);
      free (svid.bundle_pem);
    }
  x509_svidresponse__free_unpacked (response, NULL);
}

static void
jwt_response (const uint8_t *msg, size_t len)
{
  JWTSVIDResponse *response = jwtsvidresponse__unpack (NULL, len, msg);

  if (response == NULL)
    return;
  for (size_t i = 0; i < response->n_svids; i++)
    {
      int64_t expires_at = 0;
      ar_error_t err = NULL;

      if (ar_spiffe_jwt_claims_check (response->svids[i]->svid, response->svids[i]->spiffe_id, &expires_at, &err)
          < 0)
        fuzz_consume_error (&err);
    }
  jwtsvidresponse__free_unpacked (response, NULL);
}

static void
bundles_response (const uint8_t *msg, size_t len)
{
  X509BundlesResponse *response = x509_bundles_response__unpack (NULL, len, msg);

  if (response == NULL)
    return;
  for (size_t i = 0; i < response->n_bundles; i++)
    {
      char *pem = NULL;
      ar_error_t err = NULL;

      if (ar_spiffe_certs_to_pem (response->bundles[i]->value.data, response->bundles[i]->value.len, &pem, &err)
          < 0)
        fuzz_consume_error (&err);
      free (pem);
    }
  x509_bundles_response__free_unpacked (response, NULL);
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  uint8_t kind;

  if (size < 1)
    return 0;
  kind = data[0] % 3;
  data++;
  size--;

  /* Every complete frame in the input, as a stream carries them. */
  while (size > 0)
    {
      const uint8_t *msg = NULL;
      size_t msg_len = 0, consumed = 0;
      ar_error_t err = NULL;
      int ret = ar_grpc_frame_decode (data, size, MAX_MESSAGE, &msg, &msg_len, &consumed, &err);

      if (ret < 0)
        fuzz_consume_error (&err);
      if (ret <= 0 || consumed == 0 || consumed > size)
        break;
      if (kind == 0)
        x509_response (msg, msg_len);
      else if (kind == 1)
        jwt_response (msg, msg_len);
      else
        bundles_response (msg, msg_len);
      data += consumed;
      size -= consumed;
    }
  return 0;
}
