/* SPIFFE ID validation, by the rules of the SPIFFE ID standard, and ID
 * templates. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "oci/util.h"
#include "spiffe/id.h"

static const char trust_domain_chars[] = "abcdefghijklmnopqrstuvwxyz0123456789.-_";
static const char segment_chars[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-_";

int
ar_spiffe_trust_domain_check (const char *trust_domain, ar_error_t *err)
{
  size_t len = strlen (trust_domain);
  size_t valid = strspn (trust_domain, trust_domain_chars);

  if (len == 0)
    return ar_make_error (err, 0, "the trust domain is empty; write a name such as example.org");
  if (len > AR_SPIFFE_TRUST_DOMAIN_MAX)
    return ar_make_error (err, 0, "the trust domain `%.40s...` is %zu bytes long; the maximum is %d",
                          trust_domain, len, AR_SPIFFE_TRUST_DOMAIN_MAX);
  if (valid < len)
    {
      char c = trust_domain[valid];
      const char *hint = c == ':'   ? " (a trust domain has no port)"
                         : c == '@' ? " (a trust domain has no user info)"
                         : c >= 'A' && c <= 'Z' ? " (write it in lowercase)"
                                                : "";
      return ar_make_error (err, 0,
                            "invalid character `%c` at offset %zu of trust domain `%s`%s; use lowercase letters, "
                            "digits, '.', '-' and '_'",
                            c, valid, trust_domain, hint);
    }
  return 0;
}

/* Checks the path part of an ID: empty, or "/" followed by segments. */
static int
check_path (const char *id, const char *path, ar_error_t *err)
{
  const char *segment = path;

  while (*segment == '/')
    {
      const char *start = segment + 1;
      size_t len = strspn (start, segment_chars);
      char next = start[len];

      if (next != '/' && next != '\0')
        {
          const char *hint = next == '?'   ? " (a SPIFFE ID has no query)"
                             : next == '#' ? " (a SPIFFE ID has no fragment)"
                             : next == '%' ? " (a SPIFFE ID has no percent-encoding)"
                                           : "";
          return ar_make_error (err, 0,
                                "invalid character `%c` at offset %zu of SPIFFE ID `%s`%s; a path segment contains "
                                "only letters, digits, '.', '-' and '_'",
                                next, (size_t) (start + len - id), id, hint);
        }
      if (len == 0)
        return ar_make_error (err, 0,
                              "SPIFFE ID `%s` has an empty path segment at offset %zu; remove the repeated or "
                              "trailing '/'",
                              id, (size_t) (start - id));
      if ((len == 1 && start[0] == '.') || (len == 2 && start[0] == '.' && start[1] == '.'))
        return ar_make_error (err, 0, "SPIFFE ID `%s` has a `%.*s` path segment, which the standard forbids",
                              id, (int) len, start);
      segment = start + len;
    }
  return 0;
}

int
ar_spiffe_id_check (const char *id, char **trust_domain_out, ar_error_t *err)
{
  static const char scheme[] = "spiffe://";
  cleanup_free char *trust_domain = NULL;
  size_t len = strlen (id);
  const char *authority, *path;
  int ret;

  if (len == 0)
    return ar_make_error (err, 0, "the SPIFFE ID is empty; write spiffe://TRUST_DOMAIN/PATH");
  if (len > AR_SPIFFE_ID_MAX)
    return ar_make_error (err, 0, "the SPIFFE ID `%.40s...` is %zu bytes long; the maximum is %d", id, len,
                          AR_SPIFFE_ID_MAX);
  if (strncmp (id, scheme, strlen (scheme)) != 0)
    return ar_make_error (err, 0,
                          "SPIFFE ID `%s` does not start with `spiffe://` (the scheme is lowercase); write "
                          "spiffe://TRUST_DOMAIN/PATH",
                          id);

  authority = id + strlen (scheme);
  path = authority + strcspn (authority, "/?#");
  trust_domain = strndup (authority, (size_t) (path - authority));
  if (trust_domain == NULL)
    return ar_make_error (err, ENOMEM, "cannot copy the trust domain of `%s`", id);
  if (*trust_domain == '\0')
    return ar_make_error (err, 0, "SPIFFE ID `%s` has no trust domain; write spiffe://TRUST_DOMAIN/PATH", id);
  ret = ar_spiffe_trust_domain_check (trust_domain, err);
  if (ret < 0)
    return ar_error_wrap (err, "invalid SPIFFE ID `%s`", id);

  if (*path == '?' || *path == '#')
    return ar_make_error (err, 0, "SPIFFE ID `%s` has a %s; remove everything from `%c`", id,
                          *path == '?' ? "query" : "fragment", *path);
  ret = check_path (id, path, err);
  if (ret < 0)
    return ret;

  if (trust_domain_out != NULL)
    *trust_domain_out = ar_steal_ptr (trust_domain);
  return 0;
}

/* Appends len bytes to the growing ID, keeping it under the maximum. */
static int
append (char *buf, size_t *used, const char *text, size_t len, const char *template, ar_error_t *err)
{
  if (*used + len > AR_SPIFFE_ID_MAX)
    return ar_make_error (err, 0, "the SPIFFE ID made from template `%s` is longer than %d bytes", template,
                          AR_SPIFFE_ID_MAX);
  memcpy (buf + *used, text, len);
  *used += len;
  buf[*used] = '\0';
  return 0;
}

int
ar_spiffe_id_from_template (const char *template, ar_spiffe_lookup_fn lookup, void *user_data, char **out,
                            ar_error_t *err)
{
  cleanup_free char *buf = ar_xmalloc0 (AR_SPIFFE_ID_MAX + 1);
  size_t used = 0;
  const char *p = template;
  int ret;

  while (*p != '\0')
    {
      cleanup_free char *name = NULL;
      const char *close, *value;
      size_t literal = strcspn (p, "{}");
      size_t value_len;

      ret = append (buf, &used, p, literal, template, err);
      if (ret < 0)
        return ret;
      p += literal;
      if (*p == '\0')
        break;
      if (*p == '}')
        return ar_make_error (err, 0, "template `%s` has a `}` without `{` at offset %zu", template,
                              (size_t) (p - template));

      close = p + 1 + strcspn (p + 1, "{}");
      if (*close != '}')
        return ar_make_error (err, 0, "template `%s` has an unclosed `{` at offset %zu; write {NAME}", template,
                              (size_t) (p - template));
      name = strndup (p + 1, (size_t) (close - p - 1));
      if (name == NULL)
        return ar_make_error (err, ENOMEM, "cannot copy a placeholder of template `%s`", template);

      value = lookup (name, user_data);
      if (value == NULL)
        return ar_make_error (err, ENOENT, "template `%s`: placeholder {%s} has no value", template, name);
      value_len = strlen (value);
      if (value_len == 0)
        return ar_make_error (err, 0, "template `%s`: placeholder {%s} has an empty value", template, name);
      if (strspn (value, segment_chars) != value_len)
        return ar_make_error (err, 0,
                              "template `%s`: the value `%s` of placeholder {%s} contains `%c`; a value may contain "
                              "only letters, digits, '.', '-' and '_'",
                              template, value, name, value[strspn (value, segment_chars)]);
      if (strcmp (value, ".") == 0 || strcmp (value, "..") == 0)
        return ar_make_error (err, 0, "template `%s`: placeholder {%s} may not be `%s`", template, name, value);

      ret = append (buf, &used, value, value_len, template, err);
      if (ret < 0)
        return ret;
      p = close + 1;
    }

  ret = ar_spiffe_id_check (buf, NULL, err);
  if (ret < 0)
    return ar_error_wrap (err, "the SPIFFE ID made from template `%s`", template);
  *out = ar_steal_ptr (buf);
  return 0;
}
