/* Helpers shared by the files of spiffe/; not part of its interface. */
#ifndef AGENTRUN_SPIFFE_INTERNAL_H
#define AGENTRUN_SPIFFE_INTERNAL_H

#include <openssl/evp.h>
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

/* The JWK set, as JSON text, that holds the public half of a P-256 key
 * for JWT-SVIDs under key id kid. */
int ar_spiffe_jwt_bundle (EVP_PKEY *key, const char *kid, char **out, ar_error_t *err);

/* Signs a JWT-SVID with ES256: sub, aud (an array), exp and iat. */
int ar_spiffe_jwt_sign (EVP_PKEY *key, const char *kid, const char *subject, char *const *audiences, int64_t issued_at,
                        int64_t expires_at, char **out, ar_error_t *err);

#endif
