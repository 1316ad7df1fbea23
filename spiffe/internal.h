/* Helpers shared by the files of spiffe/; not part of its interface. */
#ifndef AGENTRUN_SPIFFE_INTERNAL_H
#define AGENTRUN_SPIFFE_INTERNAL_H

#include <openssl/evp.h>
#include <openssl/x509.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "oci/error.h"

/* Makes an error from the message and the oldest queued OpenSSL error,
 * and clears OpenSSL's error queue. */
int ar_spiffe_ssl_error (ar_error_t *err, const char *fmt, ...) ar_printf_like (2, 3);

/* base64url without padding (RFC 7515, section 2). */
char *ar_spiffe_base64url_encode (const unsigned char *data, size_t len);
int ar_spiffe_base64url_decode (const char *text, size_t text_len, unsigned char **out, size_t *out_len,
                                ar_error_t *err);

/* The key id of a public key: the base64url SHA-256 of its DER
 * SubjectPublicKeyInfo, cut to 32 characters. */
int ar_spiffe_key_id (EVP_PKEY *key, char **out, ar_error_t *err);

/* Sets pub, the SubjectPublicKeyInfo of a certificate or of a key id, to
 * the public half of key, when key is a P-256 key with an uncompressed
 * point (as every key of the local CA is); returns false and leaves pub
 * alone otherwise, for i2d_PUBKEY or X509_set_pubkey to handle.  Gives the
 * same bytes as those, without OpenSSL 3's encoder look-up. */
bool ar_spiffe_pubkey_set_p256 (X509_PUBKEY *pub, EVP_PKEY *key);

/* The JWK set, as JSON text, that holds the public half of a P-256 key
 * for JWT-SVIDs under key id kid. */
int ar_spiffe_jwt_bundle (EVP_PKEY *key, const char *kid, char **out, ar_error_t *err);

/* Signs a JWT-SVID with ES256: sub, aud (an array), exp and iat. */
int ar_spiffe_jwt_sign (EVP_PKEY *key, const char *kid, const char *subject, char *const *audiences, int64_t issued_at,
                        int64_t expires_at, char **out, ar_error_t *err);

/* Converts an X509-SVID from the DER of a SPIRE agent into svid: chain
 * (the leaf, then intermediates) into cert_pem, the PKCS#8 key into
 * key_pem, the bundle's certificates into bundle_pem, and the leaf's
 * expiry into not_after.  Checks that the leaf's only URI SAN is
 * spiffe_id and that the key matches the leaf. */
struct ar_spiffe_svid;
int ar_spiffe_svid_from_der (const uint8_t *chain, size_t chain_len, const uint8_t *key, size_t key_len,
                             const uint8_t *bundle, size_t bundle_len, const char *spiffe_id,
                             struct ar_spiffe_svid *svid, ar_error_t *err);

/* Converts DER certificates, one after another, to PEM. */
int ar_spiffe_certs_to_pem (const uint8_t *der, size_t len, char **out, ar_error_t *err);

/* Checks that the JWT-SVID token's sub claim is spiffe_id and returns its
 * exp claim in *expires_at.  Does not verify the signature: the token
 * comes from the agent over its local socket. */
int ar_spiffe_jwt_claims_check (const char *token, const char *spiffe_id, int64_t *expires_at, ar_error_t *err);

/* The two halves of ar_spiffe_fetch (spiffe/workload.h): they fill svid
 * from the agent at socket_path, with source's timeout already set. */
struct ar_spiffe_source;
int ar_spiffe_delegated_fetch (const struct ar_spiffe_source *source, const char *socket_path,
                               struct ar_spiffe_svid *svid, ar_error_t *err);

#endif
