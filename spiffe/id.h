/* SPIFFE IDs: validation by the rules of the SPIFFE ID standard, and IDs
 * built from a template whose placeholders the caller resolves.  This
 * part knows nothing about containers: the runtime passes a lookup
 * function that maps placeholder names to values. */
#ifndef AGENTRUN_SPIFFE_ID_H
#define AGENTRUN_SPIFFE_ID_H

#include <stddef.h>

#include "oci/error.h"

/* The maximum length of a SPIFFE ID in bytes, set by the standard. */
#define AR_SPIFFE_ID_MAX 2048

/* The maximum length of a trust domain in bytes (that of a DNS name). */
#define AR_SPIFFE_TRUST_DOMAIN_MAX 255

/* Checks a trust domain name: lowercase letters, digits, '.', '-' and
 * '_', 1 to 255 bytes.  The error names the first invalid character. */
int ar_spiffe_trust_domain_check (const char *trust_domain, ar_error_t *err);

/* Checks a SPIFFE ID: scheme "spiffe" in lowercase, a valid trust domain
 * without port or userinfo, an optional path of segments made of letters,
 * digits, '.', '-' and '_' (no empty, "." or ".." segment, no trailing
 * '/'), no query or fragment, at most AR_SPIFFE_ID_MAX bytes.  On success
 * *trust_domain_out (optional) receives a copy of the trust domain. */
int ar_spiffe_id_check (const char *id, char **trust_domain_out, ar_error_t *err);

/* Returns the value of placeholder NAME (the text between the braces),
 * or NULL when it has none.  The template code copies the value. */
typedef const char *(*ar_spiffe_lookup_fn) (const char *name, void *user_data);

/* Fills an ID template and checks the result with ar_spiffe_id_check.
 *
 * Template syntax: literal text with placeholders in braces, `{NAME}`.
 * NAME is any text without braces, so the caller may define names such
 * as `trust_domain`, `policy`, `container_id` or `annotation:KEY`.  There
 * is no escape for braces because a SPIFFE ID may not contain them.  A
 * value must be non-empty and made of the characters allowed in a path
 * segment, so a value can never add a segment, a '/' or a "." or ".."
 * segment of its own; an unknown placeholder or an invalid value is an
 * error that names the placeholder.  *out receives the ID. */
int ar_spiffe_id_from_template (const char *template, ar_spiffe_lookup_fn lookup, void *user_data, char **out,
                                ar_error_t *err);

#endif
