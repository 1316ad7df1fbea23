/* JWT-SVIDs: ES256 signing (RFC 7518, section 3.4: the signature is r||s,
 * 32 bytes each), the JWK set of the JWT bundle, and verification. */
#define _GNU_SOURCE
#include <errno.h>
#include <jansson.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/x509.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "oci/util.h"
#include "spiffe/ca.h"
#include "spiffe/id.h"
#include "spiffe/internal.h"

#define P256_COORD_LEN 32

int
ar_spiffe_ssl_error (ar_error_t *err, const char *fmt, ...)
{
  cleanup_free char *message = NULL;
  char reason[256] = "unknown OpenSSL error";
  unsigned long code = ERR_get_error ();
  va_list ap;

  if (code != 0)
    ERR_error_string_n (code, reason, sizeof reason);
  ERR_clear_error ();
  va_start (ap, fmt);
  if (vasprintf (&message, fmt, ap) < 0)
    message = NULL;
  va_end (ap);
  return ar_make_error (err, EIO, "%s: %s", message ? message : "OpenSSL failed", reason);
}

char *
ar_spiffe_base64url_encode (const unsigned char *data, size_t len)
{
  char *out = ar_xmalloc0 (4 * ((len + 2) / 3) + 1);
  int n = EVP_EncodeBlock ((unsigned char *) out, data, (int) len);

  while (n > 0 && out[n - 1] == '=')
    out[--n] = '\0';
  for (char *p = out; *p; p++)
    if (*p == '+')
      *p = '-';
    else if (*p == '/')
      *p = '_';
  return out;
}

int
ar_spiffe_base64url_decode (const char *text, size_t text_len, unsigned char **out, size_t *out_len,
                            ar_error_t *err)
{
  size_t padded_len = (text_len + 3) / 4 * 4;
  size_t pad = padded_len - text_len;
  cleanup_free char *standard = ar_xmalloc0 (padded_len + 1);
  cleanup_free unsigned char *decoded = NULL;
  int n;

  if (pad == 3)
    return ar_make_error (err, 0, "invalid base64url text of length %zu", text_len);
  for (size_t i = 0; i < text_len; i++)
    {
      char c = text[i];
      if (c == '+' || c == '/' || c == '=')
        return ar_make_error (err, 0, "invalid base64url character `%c`", c);
      if (c == '-')
        c = '+';
      else if (c == '_')
        c = '/';
      standard[i] = c;
    }
  memset (standard + text_len, '=', pad);

  decoded = ar_xmalloc0 (padded_len / 4 * 3 + 1);
  n = EVP_DecodeBlock (decoded, (const unsigned char *) standard, (int) padded_len);
  if (n < 0 || (size_t) n < pad)
    return ar_make_error (err, 0, "invalid base64url text");
  *out_len = (size_t) n - pad;
  *out = ar_steal_ptr (decoded);
  return 0;
}

bool
ar_spiffe_pubkey_set_p256 (X509_PUBKEY *pub, EVP_PKEY *key)
{
  char group[32];
  unsigned char point[P256_COORD_LEN * 2 + 1];
  unsigned char *copy;
  size_t point_len = 0;

  if (!EVP_PKEY_is_a (key, "EC")
      || !EVP_PKEY_get_utf8_string_param (key, OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof group, NULL)
      || OBJ_txt2nid (group) != NID_X9_62_prime256v1
      || !EVP_PKEY_get_octet_string_param (key, OSSL_PKEY_PARAM_PUB_KEY, point, sizeof point, &point_len)
      || point_len != sizeof point || point[0] != POINT_CONVERSION_UNCOMPRESSED)
    {
      ERR_clear_error ();
      return false;
    }

  copy = OPENSSL_memdup (point, point_len);
  if (copy == NULL)
    return false;
  if (!X509_PUBKEY_set0_param (pub, OBJ_nid2obj (NID_X9_62_id_ecPublicKey), V_ASN1_OBJECT,
                               OBJ_nid2obj (NID_X9_62_prime256v1), copy, (int) point_len))
    {
      OPENSSL_free (copy);
      ERR_clear_error ();
      return false;
    }
  return true;
}

/* Encodes the DER SubjectPublicKeyInfo of key.  A P-256 key skips the
 * encoder framework, because i2d_PUBKEY's encoder look-up cost 3.5 million
 * instructions on first use (callgrind, OpenSSL 3.0 of Debian 12).  The
 * bytes are the same. */
static int
public_key_der (EVP_PKEY *key, unsigned char **out)
{
  X509_PUBKEY *pub = X509_PUBKEY_new ();
  int len;

  if (pub != NULL && ar_spiffe_pubkey_set_p256 (pub, key))
    {
      len = i2d_X509_PUBKEY (pub, out);
      X509_PUBKEY_free (pub);
      return len;
    }
  X509_PUBKEY_free (pub);
  return i2d_PUBKEY (key, out);
}

int
ar_spiffe_key_id (EVP_PKEY *key, char **out, ar_error_t *err)
{
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int digest_len = 0;
  unsigned char *der = NULL;
  char *kid;
  int der_len = public_key_der (key, &der);

  if (der_len <= 0)
    return ar_spiffe_ssl_error (err, "cannot encode a public key");
  if (!EVP_Digest (der, (size_t) der_len, digest, &digest_len, EVP_sha256 (), NULL))
    {
      OPENSSL_free (der);
      return ar_spiffe_ssl_error (err, "cannot hash a public key");
    }
  OPENSSL_free (der);
  kid = ar_spiffe_base64url_encode (digest, digest_len);
  kid[32] = '\0';
  *out = kid;
  return 0;
}

/* Reads one coordinate of an EC public key as 32 big-endian bytes. */
static int
get_coordinate (EVP_PKEY *key, const char *param, unsigned char out[P256_COORD_LEN], ar_error_t *err)
{
  BIGNUM *bn = NULL;
  int ok;

  if (!EVP_PKEY_get_bn_param (key, param, &bn))
    return ar_spiffe_ssl_error (err, "cannot read the %s coordinate of the JWT key", param);
  ok = BN_bn2binpad (bn, out, P256_COORD_LEN) == P256_COORD_LEN;
  BN_free (bn);
  if (!ok)
    return ar_make_error (err, 0, "the JWT key is not a P-256 key");
  return 0;
}

int
ar_spiffe_jwt_bundle (EVP_PKEY *key, const char *kid, char **out, ar_error_t *err)
{
  unsigned char x[P256_COORD_LEN], y[P256_COORD_LEN];
  cleanup_free char *x_text = NULL;
  cleanup_free char *y_text = NULL;
  json_t *bundle;
  char *text;
  int ret;

  ret = get_coordinate (key, OSSL_PKEY_PARAM_EC_PUB_X, x, err);
  if (ret < 0)
    return ret;
  ret = get_coordinate (key, OSSL_PKEY_PARAM_EC_PUB_Y, y, err);
  if (ret < 0)
    return ret;
  x_text = ar_spiffe_base64url_encode (x, sizeof x);
  y_text = ar_spiffe_base64url_encode (y, sizeof y);

  bundle = json_pack ("{s:[{s:s, s:s, s:s, s:s, s:s, s:s}]}", "keys", "use", "jwt-svid", "kty", "EC", "crv",
                      "P-256", "x", x_text, "y", y_text, "kid", kid);
  if (bundle == NULL)
    return ar_make_error (err, ENOMEM, "cannot build the JWT bundle");
  text = json_dumps (bundle, JSON_INDENT (2) | JSON_PRESERVE_ORDER);
  json_decref (bundle);
  if (text == NULL)
    return ar_make_error (err, ENOMEM, "cannot format the JWT bundle");
  *out = text;
  return 0;
}

/* base64url of the compact JSON text of value; takes value's reference. */
static char *
encode_json (json_t *value)
{
  cleanup_free char *text = json_dumps (value, JSON_COMPACT | JSON_PRESERVE_ORDER);
  json_decref (value);
  return text ? ar_spiffe_base64url_encode ((const unsigned char *) text, strlen (text)) : NULL;
}

int
ar_spiffe_jwt_sign (EVP_PKEY *key, const char *kid, const char *subject, char *const *audiences, int64_t issued_at,
                    int64_t expires_at, char **out, ar_error_t *err)
{
  cleanup_free char *header = NULL;
  cleanup_free char *payload = NULL;
  cleanup_free char *signing_input = NULL;
  cleanup_free unsigned char *der = NULL;
  unsigned char raw[2 * P256_COORD_LEN];
  const unsigned char *der_cursor;
  cleanup_free char *signature = NULL;
  ECDSA_SIG *sig = NULL;
  EVP_MD_CTX *md = NULL;
  json_t *aud = json_array ();
  size_t der_len = 0;
  int ok;

  for (size_t i = 0; audiences[i] != NULL; i++)
    json_array_append_new (aud, json_string (audiences[i]));
  header = encode_json (json_pack ("{s:s, s:s, s:s}", "alg", "ES256", "kid", kid, "typ", "JWT"));
  payload = encode_json (json_pack ("{s:s, s:o, s:I, s:I}", "sub", subject, "aud", aud, "exp",
                                    (json_int_t) expires_at, "iat", (json_int_t) issued_at));
  if (header == NULL || payload == NULL)
    return ar_make_error (err, ENOMEM, "cannot encode the JWT-SVID for `%s`", subject);
  signing_input = ar_xasprintf ("%s.%s", header, payload);

  /* OpenSSL makes a DER ECDSA-Sig-Value; JWS wants r and s as fixed-size
   * big-endian integers. */
  md = EVP_MD_CTX_new ();
  ok = md != NULL && EVP_DigestSignInit (md, NULL, EVP_sha256 (), NULL, key) == 1
       && EVP_DigestSign (md, NULL, &der_len, (const unsigned char *) signing_input, strlen (signing_input)) == 1;
  if (ok)
    {
      der = ar_xmalloc0 (der_len);
      ok = EVP_DigestSign (md, der, &der_len, (const unsigned char *) signing_input, strlen (signing_input)) == 1;
    }
  EVP_MD_CTX_free (md);
  if (!ok)
    return ar_spiffe_ssl_error (err, "cannot sign the JWT-SVID for `%s`", subject);

  der_cursor = der;
  sig = d2i_ECDSA_SIG (NULL, &der_cursor, (long) der_len);
  ok = sig != NULL && BN_bn2binpad (ECDSA_SIG_get0_r (sig), raw, P256_COORD_LEN) == P256_COORD_LEN
       && BN_bn2binpad (ECDSA_SIG_get0_s (sig), raw + P256_COORD_LEN, P256_COORD_LEN) == P256_COORD_LEN;
  ECDSA_SIG_free (sig);
  if (!ok)
    return ar_spiffe_ssl_error (err, "cannot convert the signature of the JWT-SVID for `%s`", subject);

  signature = ar_spiffe_base64url_encode (raw, sizeof raw);
  *out = ar_xasprintf ("%s.%s", signing_input, signature);
  return 0;
}

/* Decodes one base64url part of a token as a JSON object. */
static int
decode_json_part (const char *part, size_t len, const char *what, json_t **out, ar_error_t *err)
{
  cleanup_free unsigned char *text = NULL;
  size_t text_len = 0;
  json_error_t json_err;
  json_t *value;
  int ret;

  ret = ar_spiffe_base64url_decode (part, len, &text, &text_len, err);
  if (ret < 0)
    return ar_error_wrap (err, "invalid JWT %s", what);
  value = json_loadb ((const char *) text, text_len, 0, &json_err);
  if (value == NULL || !json_is_object (value))
    {
      json_decref (value);
      return ar_make_error (err, 0, "the JWT %s is not a JSON object", what);
    }
  *out = value;
  return 0;
}

/* Builds the P-256 public key of a JWK. */
static int
key_from_jwk (json_t *jwk, EVP_PKEY **out, ar_error_t *err)
{
  const char *x_text = json_string_value (json_object_get (jwk, "x"));
  const char *y_text = json_string_value (json_object_get (jwk, "y"));
  cleanup_free unsigned char *x = NULL;
  cleanup_free unsigned char *y = NULL;
  unsigned char point[1 + 2 * P256_COORD_LEN];
  size_t x_len = 0, y_len = 0;
  OSSL_PARAM_BLD *builder = NULL;
  OSSL_PARAM *params = NULL;
  EVP_PKEY_CTX *ctx = NULL;
  EVP_PKEY *key = NULL;
  int ok;

  if (x_text == NULL || y_text == NULL
      || ar_spiffe_base64url_decode (x_text, strlen (x_text), &x, &x_len, err) < 0
      || ar_spiffe_base64url_decode (y_text, strlen (y_text), &y, &y_len, err) < 0 || x_len != P256_COORD_LEN
      || y_len != P256_COORD_LEN)
    return ar_make_error (err, 0, "the JWK has no valid P-256 x and y coordinates");
  point[0] = POINT_CONVERSION_UNCOMPRESSED;
  memcpy (point + 1, x, P256_COORD_LEN);
  memcpy (point + 1 + P256_COORD_LEN, y, P256_COORD_LEN);

  builder = OSSL_PARAM_BLD_new ();
  ok = builder != NULL && OSSL_PARAM_BLD_push_utf8_string (builder, OSSL_PKEY_PARAM_GROUP_NAME, "P-256", 0)
       && OSSL_PARAM_BLD_push_octet_string (builder, OSSL_PKEY_PARAM_PUB_KEY, point, sizeof point)
       && (params = OSSL_PARAM_BLD_to_param (builder)) != NULL
       && (ctx = EVP_PKEY_CTX_new_from_name (NULL, "EC", NULL)) != NULL && EVP_PKEY_fromdata_init (ctx) == 1
       && EVP_PKEY_fromdata (ctx, &key, EVP_PKEY_PUBLIC_KEY, params) == 1;
  EVP_PKEY_CTX_free (ctx);
  OSSL_PARAM_free (params);
  OSSL_PARAM_BLD_free (builder);
  if (!ok)
    return ar_spiffe_ssl_error (err, "the JWK is not a valid P-256 public key");
  *out = key;
  return 0;
}

static json_t *
find_jwk (json_t *bundle, const char *kid)
{
  json_t *keys = json_object_get (bundle, "keys");
  json_t *jwk;
  size_t i;

  json_array_foreach (keys, i, jwk)
    {
      const char *use = json_string_value (json_object_get (jwk, "use"));
      const char *jwk_kid = json_string_value (json_object_get (jwk, "kid"));
      const char *kty = json_string_value (json_object_get (jwk, "kty"));
      const char *crv = json_string_value (json_object_get (jwk, "crv"));

      if (jwk_kid != NULL && strcmp (jwk_kid, kid) == 0 && (use == NULL || strcmp (use, "jwt-svid") == 0)
          && kty != NULL && strcmp (kty, "EC") == 0 && crv != NULL && strcmp (crv, "P-256") == 0)
        return jwk;
    }
  return NULL;
}

/* Checks the ES256 signature (raw r||s) over the signing input. */
static int
verify_signature (EVP_PKEY *key, const char *signing_input, size_t input_len, const char *signature_text,
                  ar_error_t *err)
{
  cleanup_free unsigned char *raw = NULL;
  unsigned char *der = NULL;
  size_t raw_len = 0;
  ECDSA_SIG *sig = NULL;
  BIGNUM *r = NULL, *s = NULL;
  EVP_MD_CTX *md = NULL;
  int der_len, ret, verified;

  ret = ar_spiffe_base64url_decode (signature_text, strlen (signature_text), &raw, &raw_len, err);
  if (ret < 0)
    return ar_error_wrap (err, "invalid JWT signature");
  if (raw_len != 2 * P256_COORD_LEN)
    return ar_make_error (err, 0, "the JWT signature is %zu bytes long; ES256 signatures are 64", raw_len);

  sig = ECDSA_SIG_new ();
  r = BN_bin2bn (raw, P256_COORD_LEN, NULL);
  s = BN_bin2bn (raw + P256_COORD_LEN, P256_COORD_LEN, NULL);
  if (sig == NULL || r == NULL || s == NULL || !ECDSA_SIG_set0 (sig, r, s))
    {
      BN_free (r);
      BN_free (s);
      ECDSA_SIG_free (sig);
      return ar_spiffe_ssl_error (err, "cannot decode the JWT signature");
    }
  der_len = i2d_ECDSA_SIG (sig, &der);
  ECDSA_SIG_free (sig);
  if (der_len <= 0)
    return ar_spiffe_ssl_error (err, "cannot encode the JWT signature");

  md = EVP_MD_CTX_new ();
  verified = md != NULL && EVP_DigestVerifyInit (md, NULL, EVP_sha256 (), NULL, key) == 1
             && EVP_DigestVerify (md, der, (size_t) der_len, (const unsigned char *) signing_input, input_len) == 1;
  EVP_MD_CTX_free (md);
  OPENSSL_free (der);
  ERR_clear_error ();
  if (!verified)
    return ar_make_error (err, 0, "the JWT signature does not verify against the bundle");
  return 0;
}

static bool
audience_matches (json_t *aud, const char *audience)
{
  json_t *item;
  size_t i;

  if (json_is_string (aud))
    return strcmp (json_string_value (aud), audience) == 0;
  json_array_foreach (aud, i, item)
    if (json_is_string (item) && strcmp (json_string_value (item), audience) == 0)
      return true;
  return false;
}

int
ar_spiffe_jwt_verify (const char *token, const char *jwt_bundle_json, const char *audience, char **subject_out,
                      ar_error_t *err)
{
  const char *first_dot = strchr (token, '.');
  const char *second_dot = first_dot ? strchr (first_dot + 1, '.') : NULL;
  json_t *header = NULL, *payload = NULL, *bundle = NULL;
  EVP_PKEY *key = NULL;
  const char *alg, *kid, *subject;
  json_t *exp, *jwk;
  json_error_t json_err;
  int ret;

  if (first_dot == NULL || second_dot == NULL || strchr (second_dot + 1, '.') != NULL)
    return ar_make_error (err, 0, "a JWT has three parts separated by '.'");

  ret = decode_json_part (token, (size_t) (first_dot - token), "header", &header, err);
  if (ret < 0)
    goto out;
  alg = json_string_value (json_object_get (header, "alg"));
  kid = json_string_value (json_object_get (header, "kid"));
  if (alg == NULL || strcmp (alg, "ES256") != 0)
    {
      ret = ar_make_error (err, 0, "the JWT algorithm is `%s`; expected ES256", alg ? alg : "(none)");
      goto out;
    }
  if (kid == NULL)
    {
      ret = ar_make_error (err, 0, "the JWT header has no kid");
      goto out;
    }

  bundle = json_loads (jwt_bundle_json, 0, &json_err);
  jwk = bundle ? find_jwk (bundle, kid) : NULL;
  if (jwk == NULL)
    {
      ret = ar_make_error (err, ENOENT, "the JWT bundle has no P-256 key with kid `%s`", kid);
      goto out;
    }
  ret = key_from_jwk (jwk, &key, err);
  if (ret < 0)
    goto out;
  ret = verify_signature (key, token, (size_t) (second_dot - token), second_dot + 1, err);
  if (ret < 0)
    goto out;

  ret = decode_json_part (first_dot + 1, (size_t) (second_dot - first_dot - 1), "payload", &payload, err);
  if (ret < 0)
    goto out;
  exp = json_object_get (payload, "exp");
  if (!json_is_integer (exp))
    {
      ret = ar_make_error (err, 0, "the JWT has no exp claim");
      goto out;
    }
  if (json_integer_value (exp) <= (json_int_t) time (NULL))
    {
      ret = ar_make_error (err, 0, "the JWT expired at %lld", (long long) json_integer_value (exp));
      goto out;
    }
  if (!audience_matches (json_object_get (payload, "aud"), audience))
    {
      ret = ar_make_error (err, 0, "the JWT audience does not contain `%s`", audience);
      goto out;
    }
  subject = json_string_value (json_object_get (payload, "sub"));
  if (subject == NULL)
    {
      ret = ar_make_error (err, 0, "the JWT has no sub claim");
      goto out;
    }
  ret = ar_spiffe_id_check (subject, NULL, err);
  if (ret < 0)
    {
      ar_error_wrap (err, "the sub claim of the JWT");
      goto out;
    }
  if (subject_out != NULL)
    *subject_out = ar_xstrdup (subject);

out:
  EVP_PKEY_free (key);
  json_decref (bundle);
  json_decref (payload);
  json_decref (header);
  return ret;
}
