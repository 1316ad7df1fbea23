/* Fuzzes JWT-SVID verification (ar_spiffe_jwt_verify): the token and the
 * JWT bundle, a JWK set in JSON.  The input contains the token, a NUL byte,
 * then the bundle. */
#include <openssl/err.h>

#include "fuzz.h"
#include "spiffe/ca.h"
#include "spiffe/id.h"

int
LLVMFuzzerInitialize (int *argc, char ***argv)
{
  fuzz_init_log ();
  return 0;
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  char *text = fuzz_strndup (data, size);
  size_t token_len = strlen (text);
  const char *bundle = token_len < size ? text + token_len + 1 : "";
  char *subject = NULL;
  char *trust_domain = NULL;
  ar_error_t err = NULL;

  if (ar_spiffe_jwt_verify (text, bundle, "fuzz", &subject, &err) < 0)
    fuzz_consume_error (&err);
  else if (ar_spiffe_id_check (subject, &trust_domain, &err) < 0)
    fuzz_consume_error (&err);
  free (trust_domain);
  free (subject);
  free (text);
  ERR_clear_error ();
  return 0;
}
