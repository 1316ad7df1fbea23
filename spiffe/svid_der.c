/* SVIDs as a SPIRE agent hands them out (DER certificates, PKCS#8 DER
 * keys, compact JWTs) turned into the PEM files of spiffe-helper's layout,
 * with the checks that the identity is the one asked for. */
#define _GNU_SOURCE
#include <errno.h>
#include <jansson.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "oci/util.h"
#include "spiffe/ca.h"
#include "spiffe/internal.h"

static int
bio_to_string (BIO *bio, char **out, ar_error_t *err)
{
  char *data;
  long len = BIO_get_mem_data (bio, &data);
  char *text;

  if (len < 0)
    return ar_spiffe_ssl_error (err, "cannot read a memory buffer");
  text = ar_xmalloc0 ((size_t) len + 1);
  memcpy (text, data, (size_t) len);
  *out = text;
  return 0;
}

/* Appends the PEM of each DER certificate in der to bio; *leaf_out
 * (optional) receives the first certificate. */
static int
append_certs (BIO *bio, const uint8_t *der, size_t len, const char *what, X509 **leaf_out, ar_error_t *err)
{
  const unsigned char *p = der;
  const unsigned char *end;
  int count = 0;

  /* An empty bytes field comes from protobuf-c as NULL: no arithmetic on
   * it before this check. */
  if (len == 0 || der == NULL)
    return ar_make_error (err, 0, "the %s is empty", what);
  end = der + len;
  while (p < end)
    {
      X509 *cert = d2i_X509 (NULL, &p, end - p);

      if (cert == NULL)
        return ar_spiffe_ssl_error (err, "certificate %d of the %s is not valid DER", count + 1, what);
      if (!PEM_write_bio_X509 (bio, cert))
        {
          X509_free (cert);
          return ar_spiffe_ssl_error (err, "cannot write certificate %d of the %s as PEM", count + 1, what);
        }
      if (count == 0 && leaf_out != NULL)
        *leaf_out = cert;
      else
        X509_free (cert);
      count++;
    }
  return 0;
}

int
ar_spiffe_certs_to_pem (const uint8_t *der, size_t len, char **out, ar_error_t *err)
{
  BIO *bio = BIO_new (BIO_s_mem ());
  int ret;

  if (bio == NULL)
    return ar_spiffe_ssl_error (err, "cannot allocate a memory buffer");
  ret = append_certs (bio, der, len, "bundle", NULL, err);
  if (ret == 0)
    ret = bio_to_string (bio, out, err);
  BIO_free (bio);
  return ret;
}

/* Checks that cert has exactly one URI SAN and that it is spiffe_id. */
static int
check_uri_san (X509 *cert, const char *spiffe_id, ar_error_t *err)
{
  GENERAL_NAMES *names = X509_get_ext_d2i (cert, NID_subject_alt_name, NULL, NULL);
  cleanup_free char *found = NULL;
  int n_uris = 0;

  for (int i = 0; names != NULL && i < sk_GENERAL_NAME_num (names); i++)
    {
      const GENERAL_NAME *name = sk_GENERAL_NAME_value (names, i);

      if (name->type != GEN_URI)
        continue;
      n_uris++;
      free (found);
      found = ar_xasprintf ("%.*s", ASN1_STRING_length (name->d.uniformResourceIdentifier),
                            (const char *) ASN1_STRING_get0_data (name->d.uniformResourceIdentifier));
    }
  GENERAL_NAMES_free (names);
  if (n_uris != 1)
    return ar_make_error (err, 0, "the X509-SVID has %d URI SANs instead of one", n_uris);
  if (strcmp (found, spiffe_id) != 0)
    return ar_make_error (err, 0, "the X509-SVID is for `%s`, not `%s`", found, spiffe_id);
  return 0;
}

static int64_t
asn1_time_to_epoch (const ASN1_TIME *t)
{
  struct tm tm;

  if (!ASN1_TIME_to_tm (t, &tm))
    return 0;
  return (int64_t) timegm (&tm);
}

/* Writes the PKCS#8 DER key as PEM and checks that it matches leaf. */
static int
key_to_pem (const uint8_t *der, size_t len, X509 *leaf, char **out, ar_error_t *err)
{
  const unsigned char *p = der;
  PKCS8_PRIV_KEY_INFO *info = d2i_PKCS8_PRIV_KEY_INFO (NULL, &p, (long) len);
  EVP_PKEY *key = NULL;
  BIO *bio = NULL;
  int ret = 0;

  if (info == NULL || p != der + len)
    ret = ar_spiffe_ssl_error (err, "the X509-SVID key is not one PKCS#8 DER structure");
  if (ret == 0 && (key = EVP_PKCS82PKEY (info)) == NULL)
    ret = ar_spiffe_ssl_error (err, "the X509-SVID key cannot be decoded");
  if (ret == 0 && X509_check_private_key (leaf, key) != 1)
    ret = ar_spiffe_ssl_error (err, "the X509-SVID key does not match the certificate");
  if (ret == 0 && (bio = BIO_new (BIO_s_mem ())) == NULL)
    ret = ar_spiffe_ssl_error (err, "cannot allocate a memory buffer");
  if (ret == 0 && !PEM_write_bio_PKCS8_PRIV_KEY_INFO (bio, info))
    ret = ar_spiffe_ssl_error (err, "cannot write the X509-SVID key as PEM");
  if (ret == 0)
    ret = bio_to_string (bio, out, err);
  BIO_free_all (bio);
  EVP_PKEY_free (key);
  PKCS8_PRIV_KEY_INFO_free (info);
  return ret;
}

int
ar_spiffe_svid_from_der (const uint8_t *chain, size_t chain_len, const uint8_t *key, size_t key_len,
                         const uint8_t *bundle, size_t bundle_len, const char *spiffe_id,
                         struct ar_spiffe_svid *svid, ar_error_t *err)
{
  BIO *bio = BIO_new (BIO_s_mem ());
  X509 *leaf = NULL;
  int ret;

  if (bio == NULL)
    return ar_spiffe_ssl_error (err, "cannot allocate a memory buffer");
  ret = append_certs (bio, chain, chain_len, "X509-SVID", &leaf, err);
  if (ret == 0)
    ret = check_uri_san (leaf, spiffe_id, err);
  if (ret == 0)
    ret = bio_to_string (bio, &svid->cert_pem, err);
  if (ret == 0)
    ret = key_to_pem (key, key_len, leaf, &svid->key_pem, err);
  if (ret == 0)
    ret = ar_spiffe_certs_to_pem (bundle, bundle_len, &svid->bundle_pem, err);
  if (ret == 0)
    svid->not_after = asn1_time_to_epoch (X509_get0_notAfter (leaf));
  X509_free (leaf);
  BIO_free (bio);
  return ret;
}

int
ar_spiffe_jwt_claims_check (const char *token, const char *spiffe_id, int64_t *expires_at, ar_error_t *err)
{
  const char *payload = strchr (token, '.');
  const char *payload_end = payload != NULL ? strchr (payload + 1, '.') : NULL;
  cleanup_free unsigned char *text = NULL;
  size_t text_len;
  json_error_t json_err;
  json_t *claims, *exp;
  const char *sub;
  int ret = 0;

  if (payload_end == NULL)
    return ar_make_error (err, 0, "the JWT-SVID is not in compact form (header.payload.signature)");
  ret = ar_spiffe_base64url_decode (payload + 1, (size_t) (payload_end - payload - 1), &text, &text_len, err);
  if (ret < 0)
    return ar_error_wrap (err, "invalid JWT-SVID payload");
  claims = json_loadb ((const char *) text, text_len, 0, &json_err);
  if (claims == NULL)
    return ar_make_error (err, 0, "the JWT-SVID payload is not JSON: %s", json_err.text);
  sub = json_string_value (json_object_get (claims, "sub"));
  exp = json_object_get (claims, "exp");
  if (sub == NULL || strcmp (sub, spiffe_id) != 0)
    ret = ar_make_error (err, 0, "the JWT-SVID is for `%s`, not `%s`", sub != NULL ? sub : "(no sub claim)",
                         spiffe_id);
  else if (!json_is_number (exp))
    ret = ar_make_error (err, 0, "the JWT-SVID has no exp claim");
  else
    *expires_at = (int64_t) json_number_value (exp);
  json_decref (claims);
  return ret;
}
