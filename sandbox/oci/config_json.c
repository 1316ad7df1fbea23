/* Typed access to the jansson values of config.json, with errors that name
 * the origin file and the JSON path of the offending value. */
#define _GNU_SOURCE
#include "config_internal.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

/* jansson 2.14 stores integers as long long and rejects larger literals,
 * but the spec types rlimits, seccomp values and scheduler times as uint64.
 * Before a second parse, such literals become strings that start with this
 * prefix, which valid JSON text cannot contain unescaped. */
#define BIG_UINT64_PREFIX "\001u64:"
#define BIG_UINT64_PREFIX_JSON "\\u0001u64:"

/* Only a marker followed by digits counts, so a string that a document
 * spells with a \u0001 escape stays a (strange) string. */
static bool
is_big_uint64 (json_t *value)
{
  const char *digits;

  if (!json_is_string (value) || !ar_str_has_prefix (json_string_value (value), BIG_UINT64_PREFIX))
    return false;
  digits = json_string_value (value) + strlen (BIG_UINT64_PREFIX);
  return digits[0] != '\0' && strspn (digits, "0123456789") == strlen (digits);
}

/* Returns whether text[0..len) are all decimal digits.  The text is the
 * caller's buffer of len bytes, which need not end in a NUL, so strspn
 * cannot be used on it. */
static bool
all_digits (const char *text, size_t len)
{
  for (size_t i = 0; i < len; i++)
    if (text[i] < '0' || text[i] > '9')
      return false;
  return true;
}

/* Returns a copy of text where every integer literal between INT64_MAX and
 * UINT64_MAX is written as a BIG_UINT64_PREFIX string.  Lines keep their
 * numbering, so later syntax errors still point at the right line, but a
 * column after a rewritten literal on the same line is off. */
static char *
mark_big_integers (const char *text, size_t len, size_t *out_len)
{
  char *out = ar_xmalloc0 (len * 2 + 16);
  size_t o = 0;
  bool in_string = false;

  for (size_t i = 0; i < len;)
    {
      char c = text[i];
      size_t end;

      if (in_string)
        {
          out[o++] = c;
          if (c == '\\' && i + 1 < len)
            out[o++] = text[++i];
          else if (c == '"')
            in_string = false;
          i++;
          continue;
        }
      if (c == '"')
        in_string = true;
      if (c != '-' && (c < '0' || c > '9'))
        {
          out[o++] = c;
          i++;
          continue;
        }

      /* A number token: copy it, or mark it when it is a plain integer
       * too large for int64 but valid as uint64. */
      end = i;
      while (end < len && strchr ("0123456789+-.eE", text[end]) != NULL && text[end] != '\0')
        end++;

      if (c >= '1' && c <= '9' && end - i >= 19 && all_digits (text + i, end - i))
        {
          char digits[32];
          unsigned long long value = 0;

          if (end - i < sizeof (digits))
            {
              char *tail;

              memcpy (digits, text + i, end - i);
              digits[end - i] = '\0';
              errno = 0;
              value = strtoull (digits, &tail, 10);
              if (errno == 0 && *tail == '\0' && value > (unsigned long long) INT64_MAX)
                {
                  o += (size_t) sprintf (out + o, "\"%s%s\"", BIG_UINT64_PREFIX_JSON, digits);
                  i = end;
                  continue;
                }
            }
        }
      memcpy (out + o, text + i, end - i);
      o += end - i;
      i = end;
    }

  *out_len = o;
  return out;
}

static const char *
origin_prefix_sep (const char *origin)
{
  return origin != NULL ? ": " : "";
}

int
ar_json_load (const char *text, size_t len, const char *origin, json_t **out, ar_error_t *err)
{
  json_error_t error;
  json_t *root;

  root = json_loadb (text, len, 0, &error);
  if (root == NULL && json_error_code (&error) == json_error_numeric_overflow)
    {
      size_t marked_len = 0;
      cleanup_free char *marked = mark_big_integers (text, len, &marked_len);

      root = json_loadb (marked, marked_len, 0, &error);
    }
  if (root == NULL)
    return ar_make_error (err, 0, "%s%sinvalid JSON at line %d, column %d: %s", origin ? origin : "",
                          origin_prefix_sep (origin), error.line, error.column, error.text);

  if (!json_is_object (root))
    {
      int ret = ar_make_error (err, 0, "%s%sexpected a JSON object at the top level, got %s", origin ? origin : "",
                               origin_prefix_sep (origin), ar_json_kind (root));
      json_decref (root);
      return ret;
    }

  *out = root;
  return 0;
}

static bool
is_identifier (const char *key)
{
  if (*key == '\0' || (*key >= '0' && *key <= '9'))
    return false;
  for (const char *p = key; *p; p++)
    if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') || *p == '_'))
      return false;
  return true;
}

char *
ar_json_path_member (const char *parent, const char *key)
{
  json_auto_t *quoted = NULL;
  cleanup_free char *text = NULL;

  if (is_identifier (key))
    return *parent ? ar_xasprintf ("%s.%s", parent, key) : ar_xstrdup (key);

  quoted = json_string (key);
  text = quoted ? json_dumps (quoted, JSON_ENCODE_ANY) : NULL;
  return ar_xasprintf ("%s[%s]", parent, text ? text : "\"?\"");
}

char *
ar_json_path_index (const char *parent, size_t index)
{
  return ar_xasprintf ("%s[%zu]", parent, index);
}

int
ar_json_error (ar_error_t *err, const struct ar_json_at *at, const char *key, const char *fmt, ...)
{
  cleanup_free char *message = NULL;
  cleanup_free char *path = NULL;
  va_list ap;

  va_start (ap, fmt);
  if (vasprintf (&message, fmt, ap) < 0)
    message = NULL;
  va_end (ap);

  path = key != NULL ? ar_json_path_member (at->path, key) : ar_xstrdup (at->path);
  return ar_make_error (err, 0, "%s%s%s%s%s", at->origin ? at->origin : "", origin_prefix_sep (at->origin), path,
                        *path ? ": " : "", message ? message : "invalid value");
}

const char *
ar_json_kind (json_t *value)
{
  switch (json_typeof (value))
    {
    case JSON_OBJECT:
      return "an object";
    case JSON_ARRAY:
      return "an array";
    case JSON_STRING:
      return is_big_uint64 (value) ? "an integer" : "a string";
    case JSON_INTEGER:
      return "an integer";
    case JSON_REAL:
      return "a number with a fraction or exponent";
    case JSON_TRUE:
    case JSON_FALSE:
      return "a boolean";
    case JSON_NULL:
      return "null";
    }
  return "an unknown JSON value";
}

static const char *
type_name (json_type type)
{
  switch (type)
    {
    case JSON_OBJECT:
      return "an object";
    case JSON_ARRAY:
      return "an array";
    case JSON_STRING:
      return "a string";
    case JSON_INTEGER:
      return "an integer";
    case JSON_REAL:
      return "a number";
    case JSON_TRUE:
    case JSON_FALSE:
      return "a boolean";
    case JSON_NULL:
      return "null";
    }
  return "a JSON value";
}

/* Looks up a member; returns 1 with *out set, 0 when absent or null. */
static int
lookup (const struct ar_json_at *at, json_t *obj, const char *key, bool required, json_t **out, ar_error_t *err)
{
  json_t *value = json_object_get (obj, key);

  if (value == NULL || json_is_null (value))
    {
      if (required)
        return ar_json_error (err, at, key, "required field is missing");
      return 0;
    }
  *out = value;
  return 1;
}

int
ar_json_member (const struct ar_json_at *at, json_t *obj, const char *key, json_type type, bool required, json_t **out,
                ar_error_t *err)
{
  json_t *value = NULL;
  int ret;

  ret = lookup (at, obj, key, required, &value, err);
  if (ret <= 0)
    return ret;

  if (json_typeof (value) != type || (type == JSON_STRING && is_big_uint64 (value)))
    return ar_json_error (err, at, key, "expected %s, got %s", type_name (type), ar_json_kind (value));

  *out = value;
  return 1;
}

int
ar_json_string_value (const struct ar_json_at *at, json_t *value, const char **out, ar_error_t *err)
{
  if (!json_is_string (value) || is_big_uint64 (value))
    return ar_json_error (err, at, NULL, "expected a string, got %s", ar_json_kind (value));
  *out = json_string_value (value);
  return 0;
}

int
ar_json_string (const struct ar_json_at *at, json_t *obj, const char *key, bool required, char **out, ar_error_t *err)
{
  json_t *value = NULL;
  int ret;

  ret = ar_json_member (at, obj, key, JSON_STRING, required, &value, err);
  if (ret <= 0)
    return ret;

  free (*out);
  *out = ar_xstrdup (json_string_value (value));
  return 1;
}

int
ar_json_bool (const struct ar_json_at *at, json_t *obj, const char *key, bool required, bool *out, ar_error_t *err)
{
  json_t *value = NULL;
  int ret;

  ret = lookup (at, obj, key, required, &value, err);
  if (ret <= 0)
    return ret;

  if (!json_is_boolean (value))
    return ar_json_error (err, at, key, "expected a boolean, got %s", ar_json_kind (value));
  *out = json_is_true (value);
  return 1;
}

int
ar_json_int64_value (const struct ar_json_at *at, json_t *value, int64_t min, int64_t max, int64_t *out,
                     ar_error_t *err)
{
  int64_t v;

  if (is_big_uint64 (value))
    return ar_json_error (err, at, NULL, "%s is out of range, expected %" PRId64 " to %" PRId64,
                          json_string_value (value) + strlen (BIG_UINT64_PREFIX), min, max);
  if (!json_is_integer (value))
    return ar_json_error (err, at, NULL, "expected an integer, got %s", ar_json_kind (value));

  v = (int64_t) json_integer_value (value);
  if (v < min || v > max)
    return ar_json_error (err, at, NULL, "%" PRId64 " is out of range, expected %" PRId64 " to %" PRId64, v, min, max);
  *out = v;
  return 0;
}

int
ar_json_uint64_value (const struct ar_json_at *at, json_t *value, uint64_t *out, ar_error_t *err)
{
  if (is_big_uint64 (value))
    {
      *out = strtoull (json_string_value (value) + strlen (BIG_UINT64_PREFIX), NULL, 10);
      return 0;
    }
  if (!json_is_integer (value))
    return ar_json_error (err, at, NULL, "expected an integer, got %s", ar_json_kind (value));
  if (json_integer_value (value) < 0)
    return ar_json_error (err, at, NULL, "expected a non-negative integer, got %" JSON_INTEGER_FORMAT,
                          json_integer_value (value));
  *out = (uint64_t) json_integer_value (value);
  return 0;
}

int
ar_json_int64 (const struct ar_json_at *at, json_t *obj, const char *key, bool required, int64_t min, int64_t max,
               int64_t *out, ar_error_t *err)
{
  cleanup_free char *path = NULL;
  struct ar_json_at child;
  json_t *value = NULL;
  int ret;

  ret = lookup (at, obj, key, required, &value, err);
  if (ret <= 0)
    return ret;

  path = ar_json_path_member (at->path, key);
  child = (struct ar_json_at){ at->origin, path };
  ret = ar_json_int64_value (&child, value, min, max, out, err);
  return ret < 0 ? ret : 1;
}

int
ar_json_uint64 (const struct ar_json_at *at, json_t *obj, const char *key, bool required, uint64_t *out,
                ar_error_t *err)
{
  cleanup_free char *path = NULL;
  struct ar_json_at child;
  json_t *value = NULL;
  int ret;

  ret = lookup (at, obj, key, required, &value, err);
  if (ret <= 0)
    return ret;

  path = ar_json_path_member (at->path, key);
  child = (struct ar_json_at){ at->origin, path };
  ret = ar_json_uint64_value (&child, value, out, err);
  return ret < 0 ? ret : 1;
}

int
ar_json_uint32 (const struct ar_json_at *at, json_t *obj, const char *key, bool required, uint32_t *out,
                ar_error_t *err)
{
  int64_t value = 0;
  int ret;

  ret = ar_json_int64 (at, obj, key, required, 0, UINT32_MAX, &value, err);
  if (ret <= 0)
    return ret;
  *out = (uint32_t) value;
  return 1;
}

int
ar_json_strv (const struct ar_json_at *at, json_t *obj, const char *key, bool required, char ***out, ar_error_t *err)
{
  cleanup_free char *path = NULL;
  cleanup_strv char **strv = NULL;
  json_t *array = NULL;
  json_t *item;
  size_t i;
  int ret;

  ret = ar_json_member (at, obj, key, JSON_ARRAY, required, &array, err);
  if (ret <= 0)
    return ret;

  path = ar_json_path_member (at->path, key);
  strv = ar_xmalloc0 ((json_array_size (array) + 1) * sizeof (char *));
  json_array_foreach (array, i, item)
    {
      cleanup_free char *item_path = ar_json_path_index (path, i);
      struct ar_json_at item_at = { at->origin, item_path };
      const char *s = NULL;

      ret = ar_json_string_value (&item_at, item, &s, err);
      if (ret < 0)
        return ret;
      strv[i] = ar_xstrdup (s);
    }

  ar_strv_free (*out);
  *out = ar_steal_ptr (strv);
  return 1;
}

int
ar_json_check_absolute (const struct ar_json_at *at, const char *key, const char *path, ar_error_t *err)
{
  if (path[0] != '/')
    return ar_json_error (err, at, key, "`%s` is not an absolute path, write it with a leading /", path);
  return 0;
}

/* Formats "A, B, C" for the "use one of" part of error messages. */
static char *
join_names (const struct ar_name_value *table, size_t n)
{
  char *out = NULL;
  size_t len = 0;
  FILE *f = open_memstream (&out, &len);

  if (f == NULL)
    abort ();
  for (size_t i = 0; i < n; i++)
    fprintf (f, "%s%s", i ? ", " : "", table[i].name);
  fclose (f);
  return out;
}

int
ar_json_lookup_name (const struct ar_json_at *at, const char *key, const struct ar_name_value *table, size_t n,
                     const char *what, const char *name, int *out, ar_error_t *err)
{
  cleanup_free char *names = NULL;

  for (size_t i = 0; i < n; i++)
    if (strcmp (table[i].name, name) == 0)
      {
        *out = table[i].value;
        return 0;
      }

  names = join_names (table, n);
  return ar_json_error (err, at, key, "unknown %s `%s`; use one of %s", what, name, names);
}
