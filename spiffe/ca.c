/* The local CA: creating and loading a CA folder, and minting X509-SVIDs
 * that meet the SPIFFE X509-SVID standard, plus JWT-SVIDs. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/decoder.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "oci/util.h"
#include "spiffe/ca.h"
#include "spiffe/id.h"
#include "spiffe/internal.h"

struct ar_spiffe_ca
{
  char *dir;
  char *trust_domain;
  X509 *cert;
  EVP_PKEY *key;
  EVP_PKEY *jwt_key;
  char *jwt_kid;
  char *cert_pem;
  int64_t not_after;
};

void
ar_spiffe_ca_free (struct ar_spiffe_ca *ca)
{
  if (ca == NULL)
    return;
  free (ca->dir);
  free (ca->trust_domain);
  X509_free (ca->cert);
  EVP_PKEY_free (ca->key);
  EVP_PKEY_free (ca->jwt_key);
  free (ca->jwt_kid);
  free (ca->cert_pem);
  free (ca);
}

void
ar_spiffe_ca_free_ptr (struct ar_spiffe_ca **ca)
{
  ar_spiffe_ca_free (*ca);
  *ca = NULL;
}

const char *
ar_spiffe_ca_trust_domain (const struct ar_spiffe_ca *ca)
{
  return ca->trust_domain;
}

void
ar_spiffe_svid_free (struct ar_spiffe_svid *svid)
{
  if (svid == NULL)
    return;
  free (svid->spiffe_id);
  free (svid->cert_pem);
  if (svid->key_pem != NULL)
    OPENSSL_cleanse (svid->key_pem, strlen (svid->key_pem));
  free (svid->key_pem);
  free (svid->bundle_pem);
  free (svid->jwt_svid);
  free (svid);
}

void
ar_spiffe_svid_free_ptr (struct ar_spiffe_svid **svid)
{
  ar_spiffe_svid_free (*svid);
  *svid = NULL;
}

/* Copies the contents of a memory BIO into a NUL-terminated string. */
static char *
bio_to_string (BIO *bio)
{
  char *data = NULL;
  long len = BIO_get_mem_data (bio, &data);
  char *out = ar_xmalloc0 ((size_t) len + 1);

  memcpy (out, data, (size_t) len);
  return out;
}

static int
cert_to_pem (X509 *cert, char **out, ar_error_t *err)
{
  BIO *bio = BIO_new (BIO_s_mem ());

  if (bio == NULL || !PEM_write_bio_X509 (bio, cert))
    {
      BIO_free (bio);
      return ar_spiffe_ssl_error (err, "cannot encode a certificate as PEM");
    }
  *out = bio_to_string (bio);
  BIO_free (bio);
  return 0;
}

/* PKCS#8 PEM, unencrypted: the files are protected by their mode. */
static int
key_to_pem (EVP_PKEY *key, char **out, ar_error_t *err)
{
  BIO *bio = BIO_new (BIO_s_secmem ());

  if (bio == NULL || !PEM_write_bio_PrivateKey (bio, key, NULL, NULL, 0, NULL, NULL))
    {
      BIO_free (bio);
      return ar_spiffe_ssl_error (err, "cannot encode a private key as PEM");
    }
  *out = bio_to_string (bio);
  BIO_free (bio);
  return 0;
}

static int
generate_p256 (EVP_PKEY **out, ar_error_t *err)
{
  EVP_PKEY *key = EVP_EC_gen ("P-256");

  if (key == NULL)
    return ar_spiffe_ssl_error (err, "cannot generate a P-256 key");
  *out = key;
  return 0;
}

static int
add_extension (X509 *cert, X509 *issuer, int nid, const char *value, ar_error_t *err)
{
  X509V3_CTX ctx;
  X509_EXTENSION *ext;
  int ok;

  X509V3_set_ctx (&ctx, issuer, cert, NULL, NULL, 0);
  ext = X509V3_EXT_conf_nid (NULL, &ctx, nid, value);
  ok = ext != NULL && X509_add_ext (cert, ext, -1);
  X509_EXTENSION_free (ext);
  if (!ok)
    return ar_spiffe_ssl_error (err, "cannot add extension %s = `%s`", OBJ_nid2sn (nid), value);
  return 0;
}

/* Starts a certificate: version 3, a random 127-bit serial number, the
 * validity period and the subject's public key. */
static int
new_certificate (EVP_PKEY *subject_key, int64_t not_before, int64_t not_after, X509 **out, ar_error_t *err)
{
  X509 *cert = X509_new ();
  BIGNUM *serial = BN_new ();
  int ok;

  ok = cert != NULL && serial != NULL && X509_set_version (cert, X509_VERSION_3)
       && BN_rand (serial, 127, BN_RAND_TOP_ANY, BN_RAND_BOTTOM_ANY)
       && BN_to_ASN1_INTEGER (serial, X509_get_serialNumber (cert)) != NULL
       && X509_time_adj_ex (X509_getm_notBefore (cert), 0, 0, &(time_t){ (time_t) not_before }) != NULL
       && X509_time_adj_ex (X509_getm_notAfter (cert), 0, 0, &(time_t){ (time_t) not_after }) != NULL
       && (ar_spiffe_pubkey_set_p256 (X509_get_X509_PUBKEY (cert), subject_key)
           || X509_set_pubkey (cert, subject_key));
  BN_free (serial);
  if (!ok)
    {
      X509_free (cert);
      return ar_spiffe_ssl_error (err, "cannot make a certificate");
    }
  *out = cert;
  return 0;
}

static int
set_name (X509_NAME *name, const char *organization, const char *common_name, ar_error_t *err)
{
  if (!X509_NAME_add_entry_by_txt (name, "O", MBSTRING_UTF8, (const unsigned char *) organization, -1, -1, 0)
      || (common_name != NULL
          && !X509_NAME_add_entry_by_txt (name, "CN", MBSTRING_UTF8, (const unsigned char *) common_name, -1, -1, 0)))
    return ar_spiffe_ssl_error (err, "cannot set a certificate name");
  return 0;
}

/* Writes a new file in dirfd; fails with EEXIST if it exists. */
static int
write_new_file (int dirfd, const char *dir, const char *name, const char *data, mode_t mode, ar_error_t *err)
{
  cleanup_close int fd = openat (dirfd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);

  if (fd < 0)
    return ar_make_error (err, errno, "cannot create `%s/%s`", dir, name);
  if (fchmod (fd, mode) < 0 || ar_write_all (fd, data, strlen (data)) < 0 || fsync (fd) < 0)
    return ar_make_error (err, errno, "cannot write `%s/%s`", dir, name);
  return 0;
}

/* Makes the self-signed CA certificate. */
static int
make_ca_certificate (EVP_PKEY *key, const char *trust_domain, uint64_t ttl_seconds, X509 **out, ar_error_t *err)
{
  cleanup_free char *uri = ar_xasprintf ("URI:spiffe://%s", trust_domain);
  int64_t now = (int64_t) time (NULL);
  X509 *cert = NULL;
  int ret;

  ret = new_certificate (key, now, now + (int64_t) ttl_seconds, &cert, err);
  if (ret < 0)
    return ret;
  ret = set_name (X509_get_subject_name (cert), "agentrun", "agentrun SPIFFE CA", err);
  if (ret == 0 && !X509_set_issuer_name (cert, X509_get_subject_name (cert)))
    ret = ar_spiffe_ssl_error (err, "cannot set the CA's issuer name");
  if (ret == 0)
    ret = add_extension (cert, cert, NID_basic_constraints, "critical,CA:TRUE", err);
  if (ret == 0)
    ret = add_extension (cert, cert, NID_key_usage, "critical,keyCertSign,cRLSign", err);
  if (ret == 0)
    ret = add_extension (cert, cert, NID_subject_key_identifier, "hash", err);
  if (ret == 0)
    ret = add_extension (cert, cert, NID_subject_alt_name, uri, err);
  if (ret == 0 && X509_sign (cert, key, EVP_sha256 ()) <= 0)
    ret = ar_spiffe_ssl_error (err, "cannot sign the CA certificate");
  if (ret < 0)
    {
      X509_free (cert);
      return ret;
    }
  *out = cert;
  return 0;
}

int
ar_spiffe_ca_init (const char *dir, const char *trust_domain, uint64_t ttl_seconds, ar_error_t *err)
{
  static const char *const names[] = { AR_SPIFFE_CA_CERT, AR_SPIFFE_CA_KEY, AR_SPIFFE_JWT_KEY, AR_SPIFFE_JWT_BUNDLE };
  cleanup_free char *cert_pem = NULL;
  cleanup_free char *key_pem = NULL;
  cleanup_free char *jwt_key_pem = NULL;
  cleanup_free char *jwt_kid = NULL;
  cleanup_free char *jwt_bundle = NULL;
  cleanup_close int dirfd = -1;
  EVP_PKEY *key = NULL, *jwt_key = NULL;
  X509 *cert = NULL;
  const char *contents[4];
  size_t written = 0;
  int ret;

  ret = ar_spiffe_trust_domain_check (trust_domain, err);
  if (ret < 0)
    return ret;
  if (ttl_seconds == 0)
    ttl_seconds = AR_SPIFFE_DEFAULT_CA_TTL;

  ret = generate_p256 (&key, err);
  if (ret == 0)
    ret = generate_p256 (&jwt_key, err);
  if (ret == 0)
    ret = make_ca_certificate (key, trust_domain, ttl_seconds, &cert, err);
  if (ret == 0)
    ret = cert_to_pem (cert, &cert_pem, err);
  if (ret == 0)
    ret = key_to_pem (key, &key_pem, err);
  if (ret == 0)
    ret = key_to_pem (jwt_key, &jwt_key_pem, err);
  if (ret == 0)
    ret = ar_spiffe_key_id (jwt_key, &jwt_kid, err);
  if (ret == 0)
    ret = ar_spiffe_jwt_bundle (jwt_key, jwt_kid, &jwt_bundle, err);
  X509_free (cert);
  EVP_PKEY_free (key);
  EVP_PKEY_free (jwt_key);
  if (ret < 0)
    return ar_error_wrap (err, "cannot create a CA for trust domain `%s`", trust_domain);

  if (mkdir (dir, 0700) < 0 && errno != EEXIST)
    return ar_make_error (err, errno, "cannot create CA folder `%s`", dir);
  dirfd = open (dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (dirfd < 0)
    return ar_make_error (err, errno, "cannot open CA folder `%s`", dir);

  contents[0] = cert_pem;
  contents[1] = key_pem;
  contents[2] = jwt_key_pem;
  contents[3] = jwt_bundle;
  for (size_t i = 0; i < 4; i++)
    if (faccessat (dirfd, names[i], F_OK, AT_SYMLINK_NOFOLLOW) == 0)
      return ar_make_error (err, EEXIST, "`%s/%s` exists; choose an empty folder for a new CA", dir, names[i]);
  for (; written < 4; written++)
    {
      bool secret = written == 1 || written == 2;
      ret = write_new_file (dirfd, dir, names[written], contents[written], secret ? 0600 : 0644, err);
      if (ret < 0)
        break;
    }
  OPENSSL_cleanse (key_pem, strlen (key_pem));
  OPENSSL_cleanse (jwt_key_pem, strlen (jwt_key_pem));
  if (ret < 0)
    {
      /* Remove the files of this call, so that a retry starts clean. */
      for (size_t i = 0; i < written; i++)
        unlinkat (dirfd, names[i], 0);
      return ret;
    }
  return 0;
}

static int
read_ca_file (int dirfd, const char *dir, const char *name, char **data, size_t *len, ar_error_t *err)
{
  int ret = ar_read_file_at (dirfd, name, data, len, err);

  if (ret < 0)
    return ar_error_wrap (err, "cannot read the CA file `%s/%s`; create a CA with `agentrun ca init`", dir, name);
  return 0;
}

/* Copies PEM text into a BIO in OpenSSL's secure heap, since it may hold
 * a private key. */
static int
pem_bio (const char *pem, size_t len, const char *dir, const char *name, BIO **out, ar_error_t *err)
{
  BIO *bio;

  if (len > INT_MAX)
    return ar_make_error (err, EFBIG, "`%s/%s` is too large for a PEM file", dir, name);
  bio = BIO_new (BIO_s_secmem ());
  if (bio == NULL || BIO_write (bio, pem, (int) len) != (int) len)
    {
      BIO_free (bio);
      return ar_spiffe_ssl_error (err, "cannot buffer `%s/%s`", dir, name);
    }
  *out = bio;
  return 0;
}

/* A decoder context shared by the CA's two private keys, narrowed to PEM
 * EC keys.  Setting up a context scans the decoders of every provider,
 * which cost more than the decoding itself (callgrind, OpenSSL 3.0 of
 * Debian 12: 3.5 million instructions per PEM_read_bio_PrivateKey). */
struct key_decoder
{
  OSSL_DECODER_CTX *ctx; /* NULL when OpenSSL could not set one up */
  EVP_PKEY *key;         /* the output of ctx's last decoding */
};

static void
key_decoder_init (struct key_decoder *decoder)
{
  decoder->key = NULL;
  decoder->ctx = OSSL_DECODER_CTX_new_for_pkey (&decoder->key, "PEM", NULL, "EC", EVP_PKEY_KEYPAIR, NULL, NULL);
  if (decoder->ctx == NULL)
    ERR_clear_error ();
}

static void
key_decoder_free (struct key_decoder *decoder)
{
  OSSL_DECODER_CTX_free (decoder->ctx);
  EVP_PKEY_free (decoder->key);
}

/* Decodes a PEM private key: through the shared decoder first, then, for
 * anything it does not take, PEM_read_bio_PrivateKey as before, so that
 * the same files load and fail with the same messages. */
static EVP_PKEY *
decode_key (struct key_decoder *decoder, const char *data, size_t len)
{
  const unsigned char *cursor = (const unsigned char *) data;
  size_t left = len;
  EVP_PKEY *key = NULL;
  BIO *bio;

  if (decoder->ctx != NULL)
    {
      EVP_PKEY_free (decoder->key);
      decoder->key = NULL;
      if (OSSL_DECODER_from_data (decoder->ctx, &cursor, &left) && decoder->key != NULL)
        {
          key = decoder->key;
          decoder->key = NULL;
          return key;
        }
      ERR_clear_error ();
    }

  if (pem_bio (data, len, "", "", &bio, NULL) < 0)
    return NULL;
  key = PEM_read_bio_PrivateKey (bio, NULL, NULL, NULL);
  BIO_free (bio);
  return key;
}

static int
parse_key (struct key_decoder *decoder, const char *pem, size_t len, const char *dir, const char *name,
           EVP_PKEY **out, ar_error_t *err)
{
  EVP_PKEY *key;

  if (len > INT_MAX)
    return ar_make_error (err, EFBIG, "`%s/%s` is too large for a PEM private key", dir, name);
  key = decode_key (decoder, pem, len);
  if (key == NULL)
    return ar_spiffe_ssl_error (err, "`%s/%s` is not a PEM private key", dir, name);
  if (!EVP_PKEY_is_a (key, "EC"))
    {
      EVP_PKEY_free (key);
      return ar_make_error (err, 0, "`%s/%s` is not an EC key", dir, name);
    }
  *out = key;
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

/* Finds the trust domain in the CA certificate's URI SAN, which must be a
 * SPIFFE ID with no path. */
static int
read_trust_domain (X509 *cert, const char *dir, char **out, ar_error_t *err)
{
  GENERAL_NAMES *names = X509_get_ext_d2i (cert, NID_subject_alt_name, NULL, NULL);
  const char *uri = NULL;
  cleanup_free char *trust_domain = NULL;
  cleanup_free char *uri_copy = NULL;
  int ret;

  for (int i = 0; names != NULL && i < sk_GENERAL_NAME_num (names); i++)
    {
      GENERAL_NAME *name = sk_GENERAL_NAME_value (names, i);
      if (name->type == GEN_URI)
        uri = (const char *) ASN1_STRING_get0_data (name->d.uniformResourceIdentifier);
    }
  if (uri != NULL)
    uri_copy = ar_xstrdup (uri);
  GENERAL_NAMES_free (names);
  if (uri_copy == NULL)
    return ar_make_error (err, 0, "the CA certificate `%s/%s` has no URI SAN with its trust domain", dir,
                          AR_SPIFFE_CA_CERT);

  ret = ar_spiffe_id_check (uri_copy, &trust_domain, err);
  if (ret < 0)
    return ar_error_wrap (err, "the URI SAN of the CA certificate `%s/%s`", dir, AR_SPIFFE_CA_CERT);
  if (strlen (uri_copy) != strlen ("spiffe://") + strlen (trust_domain))
    return ar_make_error (err, 0, "the URI SAN `%s` of the CA certificate `%s/%s` has a path; a CA names only its trust domain",
                          uri_copy, dir, AR_SPIFFE_CA_CERT);
  *out = ar_steal_ptr (trust_domain);
  return 0;
}

/* Checks that the CA certificate can sign SVIDs today. */
static int
check_ca_certificate (struct ar_spiffe_ca *ca, ar_error_t *err)
{
  int64_t not_before = asn1_time_to_epoch (X509_get0_notBefore (ca->cert));
  int64_t now = (int64_t) time (NULL);

  if (X509_check_ca (ca->cert) < 1 || (X509_get_key_usage (ca->cert) & KU_KEY_CERT_SIGN) == 0)
    return ar_make_error (err, 0, "`%s/%s` is not a CA certificate (it needs cA true and keyCertSign)", ca->dir,
                          AR_SPIFFE_CA_CERT);
  if (X509_check_private_key (ca->cert, ca->key) != 1)
    {
      ERR_clear_error ();
      return ar_make_error (err, 0, "the key `%s/%s` does not match the certificate `%s/%s`", ca->dir,
                            AR_SPIFFE_CA_KEY, ca->dir, AR_SPIFFE_CA_CERT);
    }
  ca->not_after = asn1_time_to_epoch (X509_get0_notAfter (ca->cert));
  if (ca->not_after <= now)
    return ar_make_error (err, EKEYEXPIRED,
                          "the CA certificate `%s/%s` expired %lld seconds ago; create a new CA with `agentrun ca init`",
                          ca->dir, AR_SPIFFE_CA_CERT, (long long) (now - ca->not_after));
  if (not_before > now)
    return ar_make_error (err, 0, "the CA certificate `%s/%s` is not valid for another %lld seconds; check the clock",
                          ca->dir, AR_SPIFFE_CA_CERT, (long long) (not_before - now));
  return 0;
}

int
ar_spiffe_ca_load_pem (const char *dir, const char *cert_pem, size_t cert_len, const char *key_pem, size_t key_len,
                       const char *jwt_key_pem, size_t jwt_key_len, struct ar_spiffe_ca **out, ar_error_t *err)
{
  cleanup_spiffe_ca struct ar_spiffe_ca *ca = ar_xmalloc0 (sizeof *ca);
  struct key_decoder decoder;
  BIO *bio = NULL;
  int ret;

  ca->dir = ar_xstrdup (dir);
  ret = pem_bio (cert_pem, cert_len, dir, AR_SPIFFE_CA_CERT, &bio, err);
  if (ret < 0)
    return ret;
  ca->cert = PEM_read_bio_X509 (bio, NULL, NULL, NULL);
  BIO_free (bio);
  if (ca->cert == NULL)
    return ar_spiffe_ssl_error (err, "`%s/%s` is not a PEM certificate", dir, AR_SPIFFE_CA_CERT);
  key_decoder_init (&decoder);
  ret = parse_key (&decoder, key_pem, key_len, dir, AR_SPIFFE_CA_KEY, &ca->key, err);
  if (ret == 0)
    ret = parse_key (&decoder, jwt_key_pem, jwt_key_len, dir, AR_SPIFFE_JWT_KEY, &ca->jwt_key, err);
  key_decoder_free (&decoder);
  if (ret < 0)
    return ret;

  ret = check_ca_certificate (ca, err);
  if (ret < 0)
    return ret;
  ret = read_trust_domain (ca->cert, dir, &ca->trust_domain, err);
  if (ret < 0)
    return ret;
  ret = ar_spiffe_key_id (ca->jwt_key, &ca->jwt_kid, err);
  if (ret < 0)
    return ret;
  ret = cert_to_pem (ca->cert, &ca->cert_pem, err);
  if (ret < 0)
    return ret;

  *out = ar_steal_ptr (ca);
  return 0;
}

/* Frees a buffer that may hold a private key, after clearing it. */
static void
free_secret (char **data, size_t len)
{
  if (*data != NULL)
    OPENSSL_cleanse (*data, len);
  free (*data);
  *data = NULL;
}

int
ar_spiffe_ca_load (const char *dir, struct ar_spiffe_ca **out, ar_error_t *err)
{
  cleanup_close int dirfd = open (dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
  cleanup_free char *cert_pem = NULL;
  char *key_pem = NULL, *jwt_key_pem = NULL;
  size_t cert_len = 0, key_len = 0, jwt_key_len = 0;
  int ret;

  if (dirfd < 0)
    return ar_make_error (err, errno, "cannot open CA folder `%s`; create one with `agentrun ca init`", dir);

  ret = read_ca_file (dirfd, dir, AR_SPIFFE_CA_CERT, &cert_pem, &cert_len, err);
  if (ret == 0)
    ret = read_ca_file (dirfd, dir, AR_SPIFFE_CA_KEY, &key_pem, &key_len, err);
  if (ret == 0)
    ret = read_ca_file (dirfd, dir, AR_SPIFFE_JWT_KEY, &jwt_key_pem, &jwt_key_len, err);
  if (ret == 0)
    ret = ar_spiffe_ca_load_pem (dir, cert_pem, cert_len, key_pem, key_len, jwt_key_pem, jwt_key_len, out, err);

  free_secret (&key_pem, key_len);
  free_secret (&jwt_key_pem, jwt_key_len);
  return ret;
}

/* Makes and signs the X509-SVID leaf certificate. */
static int
make_svid_certificate (const struct ar_spiffe_ca *ca, EVP_PKEY *key, const char *spiffe_id, int64_t not_before,
                       int64_t not_after, X509 **out, ar_error_t *err)
{
  cleanup_free char *uri = ar_xasprintf ("URI:%s", spiffe_id);
  X509 *cert = NULL;
  int ret;

  ret = new_certificate (key, not_before, not_after, &cert, err);
  if (ret < 0)
    return ret;
  ret = set_name (X509_get_subject_name (cert), "agentrun", NULL, err);
  if (ret == 0 && !X509_set_issuer_name (cert, X509_get_subject_name (ca->cert)))
    ret = ar_spiffe_ssl_error (err, "cannot set the SVID's issuer name");
  if (ret == 0)
    ret = add_extension (cert, ca->cert, NID_basic_constraints, "critical,CA:FALSE", err);
  if (ret == 0)
    ret = add_extension (cert, ca->cert, NID_key_usage, "critical,digitalSignature", err);
  if (ret == 0)
    ret = add_extension (cert, ca->cert, NID_ext_key_usage, "serverAuth,clientAuth", err);
  if (ret == 0)
    ret = add_extension (cert, ca->cert, NID_subject_key_identifier, "hash", err);
  if (ret == 0)
    ret = add_extension (cert, ca->cert, NID_authority_key_identifier, "keyid:always", err);
  if (ret == 0)
    ret = add_extension (cert, ca->cert, NID_subject_alt_name, uri, err);
  if (ret == 0 && X509_sign (cert, ca->key, EVP_sha256 ()) <= 0)
    ret = ar_spiffe_ssl_error (err, "cannot sign the X509-SVID");
  if (ret < 0)
    {
      X509_free (cert);
      return ret;
    }
  *out = cert;
  return 0;
}

int
ar_spiffe_ca_mint (const struct ar_spiffe_ca *ca, const char *spiffe_id, uint64_t ttl_seconds,
                   char *const *audiences, struct ar_spiffe_svid **out, ar_error_t *err)
{
  cleanup_spiffe_svid struct ar_spiffe_svid *svid = ar_xmalloc0 (sizeof *svid);
  cleanup_free char *trust_domain = NULL;
  int64_t now = (int64_t) time (NULL);
  int64_t not_after;
  EVP_PKEY *key = NULL;
  X509 *cert = NULL;
  int ret;

  ret = ar_spiffe_id_check (spiffe_id, &trust_domain, err);
  if (ret < 0)
    return ret;
  if (strcmp (trust_domain, ca->trust_domain) != 0)
    return ar_make_error (err, 0, "SPIFFE ID `%s` is not in the CA's trust domain `%s`", spiffe_id,
                          ca->trust_domain);
  if (ca->not_after <= now)
    return ar_make_error (err, EKEYEXPIRED, "the CA certificate `%s/%s` has expired; create a new CA", ca->dir,
                          AR_SPIFFE_CA_CERT);
  if (ttl_seconds == 0)
    ttl_seconds = AR_SPIFFE_DEFAULT_TTL;
  /* An SVID never outlives the CA that signed it. */
  not_after = ttl_seconds > (uint64_t) (ca->not_after - now) ? ca->not_after : now + (int64_t) ttl_seconds;

  svid->spiffe_id = ar_xstrdup (spiffe_id);
  svid->not_before = now;
  svid->not_after = not_after;
  svid->bundle_pem = ar_xstrdup (ca->cert_pem);
  ret = generate_p256 (&key, err);
  if (ret == 0)
    ret = make_svid_certificate (ca, key, spiffe_id, now, not_after, &cert, err);
  if (ret == 0)
    ret = cert_to_pem (cert, &svid->cert_pem, err);
  if (ret == 0)
    ret = key_to_pem (key, &svid->key_pem, err);
  X509_free (cert);
  EVP_PKEY_free (key);
  if (ret == 0 && audiences != NULL && audiences[0] != NULL)
    ret = ar_spiffe_jwt_sign (ca->jwt_key, ca->jwt_kid, spiffe_id, audiences, now, not_after, &svid->jwt_svid, err);
  if (svid->jwt_svid != NULL)
    svid->jwt_not_after = not_after;
  if (ret < 0)
    return ar_error_wrap (err, "cannot mint SVIDs for `%s`", spiffe_id);

  *out = ar_steal_ptr (svid);
  return 0;
}
