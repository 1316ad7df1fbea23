/* A local SPIFFE certificate authority for standalone use and tests, on
 * OpenSSL 3 libcrypto.
 *
 * A CA folder contains:
 *   ca.pem           the self-signed ECDSA P-256 CA certificate (cA true,
 *                    keyCertSign and cRLSign, URI SAN spiffe://TRUST_DOMAIN);
 *                    it is also the X.509 trust bundle
 *   ca_key.pem       its private key (PKCS#8, mode 0600)
 *   jwt_key.pem      a separate P-256 key that signs JWT-SVIDs (mode 0600)
 *   jwt_bundle.json  the JWT trust bundle: a JWK set with the public half of
 *                    jwt_key.pem, "use": "jwt-svid" and its key id ("kid")
 * The JWT key is separate so that a verifier of JWT-SVIDs needs only the
 * JWK set, as with SPIRE's bundles. */
#ifndef AGENTRUN_SPIFFE_CA_H
#define AGENTRUN_SPIFFE_CA_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "oci/error.h"

#define AR_SPIFFE_CA_CERT "ca.pem"
#define AR_SPIFFE_CA_KEY "ca_key.pem"
#define AR_SPIFFE_JWT_KEY "jwt_key.pem"
#define AR_SPIFFE_JWT_BUNDLE "jwt_bundle.json"

/* The SVID lifetime when the caller gives none, in seconds. */
#define AR_SPIFFE_DEFAULT_TTL 3600
/* The CA certificate lifetime when the caller gives none: one year. */
#define AR_SPIFFE_DEFAULT_CA_TTL (365 * 24 * 3600)

struct ar_spiffe_ca;

/* Creates a new CA for trust_domain in dir, which is created with mode
 * 0700 if missing.  Fails with EEXIST, and changes nothing, when dir
 * already contains a CA file. */
int ar_spiffe_ca_init (const char *dir, const char *trust_domain, uint64_t ttl_seconds, ar_error_t *err);

/* Loads the CA of dir and checks that it is usable now: the files exist,
 * the keys match, the certificate is a CA with a SPIFFE trust domain, and
 * it has not expired. */
int ar_spiffe_ca_load (const char *dir, struct ar_spiffe_ca **out, ar_error_t *err);

/* Same checks, for the three files' contents held in memory; dir only
 * names them in messages. */
int ar_spiffe_ca_load_pem (const char *dir, const char *cert_pem, size_t cert_len, const char *key_pem, size_t key_len,
                           const char *jwt_key_pem, size_t jwt_key_len, struct ar_spiffe_ca **out, ar_error_t *err);

void ar_spiffe_ca_free (struct ar_spiffe_ca *ca);
void ar_spiffe_ca_free_ptr (struct ar_spiffe_ca **ca);
#define cleanup_spiffe_ca __attribute__ ((cleanup (ar_spiffe_ca_free_ptr)))

const char *ar_spiffe_ca_trust_domain (const struct ar_spiffe_ca *ca);

/* One set of SVIDs in the PEM and compact forms that spiffe-helper
 * writes.  jwt_svid is NULL when no audience was requested. */
struct ar_spiffe_svid
{
  char *spiffe_id;
  char *cert_pem;   /* the X509-SVID leaf certificate */
  char *key_pem;    /* its private key, PKCS#8 */
  char *bundle_pem; /* the CA certificate */
  char *jwt_svid;   /* the JWT-SVID, header.payload.signature */
  int64_t not_before;    /* start of the X509-SVID's validity, seconds since the epoch; 0 when unknown */
  int64_t not_after;     /* expiry of the X509-SVID, seconds since the epoch */
  int64_t jwt_not_after; /* expiry of the JWT-SVID (its exp claim), 0 without one */
};

void ar_spiffe_svid_free (struct ar_spiffe_svid *svid);
void ar_spiffe_svid_free_ptr (struct ar_spiffe_svid **svid);
#define cleanup_spiffe_svid __attribute__ ((cleanup (ar_spiffe_svid_free_ptr)))

/* Mints an X509-SVID for spiffe_id with a fresh P-256 key, valid for
 * ttl_seconds (0 means AR_SPIFFE_DEFAULT_TTL) and never past the CA's own
 * expiry, and, when audiences is a non-empty NULL-terminated list, a
 * JWT-SVID for those audiences with the same expiry.  spiffe_id must be
 * valid and in the CA's trust domain. */
int ar_spiffe_ca_mint (const struct ar_spiffe_ca *ca, const char *spiffe_id, uint64_t ttl_seconds,
                       char *const *audiences, struct ar_spiffe_svid **out, ar_error_t *err);

/* Writes the SVID files in spiffe-helper's layout into the folder dirfd:
 * svid.pem and svid_bundle.pem (mode 0644), svid_key.pem and, when there
 * is a JWT-SVID, jwt_svid.token (mode 0400), all owned by uid:gid.  Each
 * file is written under a temporary name and renamed over the old one, so
 * a reader sees the old file or the new one, never a partial file. */
int ar_spiffe_svid_write (int dirfd, const struct ar_spiffe_svid *svid, uid_t uid, gid_t gid, ar_error_t *err);

/* Verifies a JWT-SVID against a JWT bundle (a JWK set in JSON): the
 * header must name ES256 and a kid of the bundle, the signature must
 * verify, exp must be in the future, and aud must contain audience.  On
 * success *subject_out (optional) receives the sub claim, a SPIFFE ID. */
int ar_spiffe_jwt_verify (const char *token, const char *jwt_bundle_json, const char *audience, char **subject_out,
                          ar_error_t *err);

#endif
