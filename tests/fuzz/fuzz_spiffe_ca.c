/* Fuzzes the loading of a CA folder (ar_spiffe_ca_load_pem): the PEM
 * certificate and the two PEM private keys.  The input contains the three
 * files' contents separated by NUL bytes: ca.pem, ca_key.pem, then
 * jwt_key.pem.  A CA that loads also mints an SVID, which reads the
 * certificate's names and keys again. */
#include <openssl/err.h>

#include "fuzz.h"
#include "oci/util.h"
#include "spiffe/ca.h"

int
LLVMFuzzerInitialize (int *argc, char ***argv)
{
  fuzz_init_log ();
  return 0;
}

/* Cuts the next NUL-separated part off *data; the last part runs to the
 * end of the input. */
static void
next_part (const uint8_t **data, size_t *size, const char **part, size_t *part_len)
{
  const uint8_t *end = memchr (*data, '\0', *size);
  size_t len = end != NULL ? (size_t) (end - *data) : *size;

  *part = (const char *) *data;
  *part_len = len;
  *data += end != NULL ? len + 1 : len;
  *size -= end != NULL ? len + 1 : len;
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  const char *cert, *key, *jwt_key;
  size_t cert_len, key_len, jwt_key_len;
  struct ar_spiffe_ca *ca = NULL;
  struct ar_spiffe_svid *svid = NULL;
  char *audiences[] = { "fuzz", NULL };
  char *id;
  ar_error_t err = NULL;

  next_part (&data, &size, &cert, &cert_len);
  next_part (&data, &size, &key, &key_len);
  next_part (&data, &size, &jwt_key, &jwt_key_len);

  if (ar_spiffe_ca_load_pem ("fuzz", cert, cert_len, key, key_len, jwt_key, jwt_key_len, &ca, &err) < 0)
    {
      fuzz_consume_error (&err);
      ERR_clear_error ();
      return 0;
    }

  id = ar_xasprintf ("spiffe://%s/fuzz", ar_spiffe_ca_trust_domain (ca));
  if (ar_spiffe_ca_mint (ca, id, 60, audiences, &svid, &err) < 0)
    fuzz_consume_error (&err);
  free (id);
  ar_spiffe_svid_free (svid);
  ar_spiffe_ca_free (ca);
  ERR_clear_error ();
  return 0;
}
