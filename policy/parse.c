/* Policy files decoded into struct ar_policy by walking the field tables
 * of fields.c: unknown fields, wrong types and out-of-range values become
 * diagnostics at the line and column of the value. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "diagnostics.h"
#include "document.h"
#include "fields.h"
#include "model.h"
#include "oci/log.h"
#include "oci/util.h"
#include "validate.h"
#include "values.h"

/* Policies are short; a bigger file is a mistake, not a policy. */
#define MAX_POLICY_SIZE (1024 * 1024)

struct decoder
{
  struct ar_policy_report *report;
};

static void decode_object (struct decoder *d, const struct ar_policy_object *object, const struct ar_policy_node *node,
                           void *base, const char *path);

static void *
field_at (void *base, size_t offset)
{
  return (char *) base + offset;
}

static struct ar_policy_pos
node_pos (const struct ar_policy_node *node)
{
  return (struct ar_policy_pos){ node->line, node->column };
}

static void report_at (struct decoder *d, const struct ar_policy_node *node, const char *path, const char *fmt, ...)
    ar_printf_like (4, 5);

static void
report_at (struct decoder *d, const struct ar_policy_node *node, const char *path, const char *fmt, ...)
{
  cleanup_free char *message = NULL;
  va_list ap;

  va_start (ap, fmt);
  if (vasprintf (&message, fmt, ap) < 0)
    abort ();
  va_end (ap);
  ar_policy_report_add (d->report, AR_POLICY_ERROR, node->line, node->column, path, "%s", message);
}

/* Describes what a field expects, for type errors. */
static char *
expected_text (const struct ar_policy_field *field)
{
  switch (field->kind)
    {
    case AR_FIELD_STRING:
      return ar_xstrdup ("a string");
    case AR_FIELD_PATH:
      return ar_xstrdup ("an absolute path");
    case AR_FIELD_FLAG:
      return ar_xstrdup ("true or false");
    case AR_FIELD_INTEGER:
      return ar_xasprintf ("an integer from %llu to %llu", (unsigned long long) field->min,
                           (unsigned long long) field->max);
    case AR_FIELD_SIZE:
      return ar_xstrdup ("a size such as 512Mi");
    case AR_FIELD_CPU:
      return ar_xstrdup ("a number of CPUs such as 1.5");
    case AR_FIELD_DURATION:
      return ar_xstrdup ("a duration such as 30m");
    case AR_FIELD_MODE:
      return ar_xstrdup ("an octal mode such as \"1777\"");
    case AR_FIELD_CHOICE:
      {
        char *out = NULL;
        size_t len = 0;
        FILE *f = open_memstream (&out, &len);

        if (f == NULL)
          abort ();
        fputs ("one of ", f);
        for (size_t i = 0; field->choices[i] != NULL; i++)
          fprintf (f, "%s%s", i == 0 ? "" : ", ", field->choices[i]);
        fclose (f);
        return out;
      }
    case AR_FIELD_LIST:
      return ar_xstrdup ("a list of strings");
    case AR_FIELD_PATH_LIST:
      return ar_xstrdup ("a list of absolute paths");
    case AR_FIELD_PORTS:
      return ar_xstrdup ("a list of ports such as [443, \"8000-8100\"]");
    case AR_FIELD_USER:
      return ar_xstrdup ("a uid such as 1000, or \"uid:gid\" such as \"1000:1000\"");
    case AR_FIELD_SECTION:
      return ar_xstrdup ("a mapping of fields");
    case AR_FIELD_ITEMS:
      return ar_xstrdup ("a list of mappings");
    }
  return ar_xstrdup ("a valid value");
}

static void
type_error (struct decoder *d, const struct ar_policy_field *field, const struct ar_policy_node *node,
            const char *path)
{
  cleanup_free char *expected = expected_text (field);
  const char *hint = "";

  /* YAML 1.1 read yes/no/on/off as booleans; YAML 1.2 and this parser
   * read them as strings. */
  if (field->kind == AR_FIELD_FLAG && node->kind == AR_POLICY_NODE_SCALAR && !node->quoted
      && (strcasecmp (node->text, "yes") == 0 || strcasecmp (node->text, "no") == 0
          || strcasecmp (node->text, "on") == 0 || strcasecmp (node->text, "off") == 0))
    hint = " (YAML 1.2 reads yes, no, on and off as strings); write true or false";
  else if (node->kind == AR_POLICY_NODE_SCALAR && node->quoted && field->kind != AR_FIELD_STRING
           && field->kind != AR_FIELD_PATH && field->kind != AR_FIELD_CHOICE)
    {
      struct ar_policy_node plain = { .kind = AR_POLICY_NODE_SCALAR, .text = node->text };

      if (ar_policy_scalar_type (&plain) != AR_POLICY_SCALAR_STRING)
        hint = "; remove the quotes";
    }

  ar_policy_report_add (d->report, AR_POLICY_ERROR, node->line, node->column, path, "expected %s, got %s%s",
                        expected, ar_policy_node_kind_name (node), hint);
}

/* Returns the text of a scalar that reads as one of the accepted scalar
 * types, or NULL after a type error. */
static const char *
scalar_text (struct decoder *d, const struct ar_policy_field *field, const struct ar_policy_node *node,
             const char *path, bool allow_string, bool allow_integer, bool allow_float)
{
  enum ar_policy_scalar_type type;

  if (node->kind != AR_POLICY_NODE_SCALAR)
    {
      type_error (d, field, node, path);
      return NULL;
    }
  type = ar_policy_scalar_type (node);
  if ((type == AR_POLICY_SCALAR_STRING && allow_string) || (type == AR_POLICY_SCALAR_INTEGER && allow_integer)
      || (type == AR_POLICY_SCALAR_FLOAT && allow_float))
    return node->text;
  type_error (d, field, node, path);
  return NULL;
}

static void
range_error (struct decoder *d, const struct ar_policy_field *field, const struct ar_policy_node *node,
             const char *path)
{
  cleanup_free char *min = NULL;
  cleanup_free char *max = NULL;

  switch (field->kind)
    {
    case AR_FIELD_SIZE:
      min = ar_policy_format_size (field->min);
      max = ar_policy_format_size (field->max);
      break;
    case AR_FIELD_CPU:
      min = ar_policy_format_cpu (field->min);
      max = ar_policy_format_cpu (field->max);
      break;
    case AR_FIELD_DURATION:
      min = ar_policy_format_duration (field->min);
      max = ar_policy_format_duration (field->max);
      break;
    default:
      min = ar_xasprintf ("%llu", (unsigned long long) field->min);
      max = ar_xasprintf ("%llu", (unsigned long long) field->max);
      break;
    }
  if (field->min == field->max)
    ar_policy_report_add (d->report, AR_POLICY_ERROR, node->line, node->column, path,
                          "`%s` is not supported; use %s", node->text, min);
  else
    ar_policy_report_add (d->report, AR_POLICY_ERROR, node->line, node->column, path,
                          "`%s` is out of range; use a value from %s to %s", node->text, min, max);
}

static void
decode_number (struct decoder *d, const struct ar_policy_field *field, const struct ar_policy_node *node,
               const char *path, struct ar_policy_number *number)
{
  const char *problem = "invalid value";
  const char *text;
  uint64_t value = 0;
  int ret = -1;

  switch (field->kind)
    {
    case AR_FIELD_INTEGER:
      text = scalar_text (d, field, node, path, false, true, false);
      if (text == NULL)
        return;
      if (text[0] == '-')
        {
          range_error (d, field, node, path);
          return;
        }
      problem = "expected a decimal integer";
      if (strspn (text, "0123456789") == strlen (text))
        {
          errno = 0;
          value = strtoull (text, NULL, 10);
          ret = errno == 0 ? 0 : -1;
          if (ret < 0)
            {
              range_error (d, field, node, path);
              return;
            }
        }
      break;
    case AR_FIELD_SIZE:
      text = scalar_text (d, field, node, path, true, true, false);
      if (text == NULL)
        return;
      ret = ar_policy_parse_size (text, &value, &problem);
      break;
    case AR_FIELD_CPU:
      text = scalar_text (d, field, node, path, true, true, true);
      if (text == NULL)
        return;
      ret = ar_policy_parse_cpu (text, &value, &problem);
      break;
    case AR_FIELD_DURATION:
      text = scalar_text (d, field, node, path, true, true, false);
      if (text == NULL)
        return;
      ret = ar_policy_parse_duration (text, &value, &problem);
      break;
    case AR_FIELD_MODE:
      text = scalar_text (d, field, node, path, true, true, false);
      if (text == NULL)
        return;
      ret = ar_policy_parse_mode (text, &value, &problem);
      break;
    default:
      abort ();
    }

  if (ret < 0)
    {
      report_at (d, node, path, "invalid value `%s`: %s", node->text, problem);
      return;
    }
  if (value < field->min || value > field->max)
    {
      range_error (d, field, node, path);
      return;
    }
  number->set = true;
  number->value = value;
  number->pos = node_pos (node);
}

static void
decode_choice (struct decoder *d, const struct ar_policy_field *field, const struct ar_policy_node *node,
               const char *path, struct ar_policy_choice *choice)
{
  const char *text = scalar_text (d, field, node, path, true, false, false);
  const char *closest;
  cleanup_free char *expected = NULL;

  if (text == NULL)
    return;
  for (int i = 0; field->choices[i] != NULL; i++)
    if (strcmp (field->choices[i], text) == 0)
      {
        choice->set = true;
        choice->value = i;
        choice->pos = node_pos (node);
        return;
      }

  expected = expected_text (field);
  closest = ar_policy_closest (text, field->choices);
  if (closest != NULL)
    report_at (d, node, path, "unknown value `%s`; did you mean `%s`?", text, closest);
  else
    report_at (d, node, path, "unknown value `%s`; use %s", text, expected);
}

static char *
decode_path_text (struct decoder *d, const struct ar_policy_node *node, const char *path, const char *text)
{
  const char *problem = NULL;
  char *normalized = ar_policy_normalize_path (text, &problem);

  if (normalized == NULL)
    report_at (d, node, path, "invalid path `%s`: %s", text, problem);
  return normalized;
}

static void
decode_string (struct decoder *d, const struct ar_policy_field *field, const struct ar_policy_node *node,
               const char *path, struct ar_policy_string *string)
{
  const char *text = scalar_text (d, field, node, path, true, false, false);
  char *value;

  if (text == NULL)
    return;
  if (field->kind == AR_FIELD_PATH)
    value = decode_path_text (d, node, path, text);
  else
    value = ar_xstrdup (text);
  if (value == NULL)
    return;
  free (string->value);
  string->value = value;
  string->pos = node_pos (node);
}

static void
decode_flag (struct decoder *d, const struct ar_policy_field *field, const struct ar_policy_node *node,
             const char *path, struct ar_policy_flag *flag)
{
  if (node->kind != AR_POLICY_NODE_SCALAR || ar_policy_scalar_type (node) != AR_POLICY_SCALAR_BOOL)
    {
      type_error (d, field, node, path);
      return;
    }
  flag->set = true;
  flag->value = strcasecmp (node->text, "true") == 0;
  flag->pos = node_pos (node);
}

static void
decode_list (struct decoder *d, const struct ar_policy_field *field, const struct ar_policy_node *node,
             const char *path, struct ar_policy_list *list)
{
  if (node->kind != AR_POLICY_NODE_SEQUENCE)
    {
      type_error (d, field, node, path);
      return;
    }

  list->set = true;
  list->pos = node_pos (node);
  list->values = ar_xmalloc0 ((node->n_children + 1) * sizeof (char *));
  list->positions = ar_xmalloc0 ((node->n_children + 1) * sizeof (struct ar_policy_pos));
  for (size_t i = 0; i < node->n_children; i++)
    {
      const struct ar_policy_node *item = node->children[i];
      cleanup_free char *item_path = ar_xasprintf ("%s[%zu]", path, i);
      enum ar_policy_scalar_type type;
      char *value;

      if (item->kind != AR_POLICY_NODE_SCALAR || (type = ar_policy_scalar_type (item)) != AR_POLICY_SCALAR_STRING)
        {
          ar_policy_report_add (d->report, AR_POLICY_ERROR, item->line, item->column, item_path,
                                "expected a string, got %s", ar_policy_node_kind_name (item));
          continue;
        }
      if (field->kind == AR_FIELD_PATH_LIST)
        value = decode_path_text (d, item, item_path, item->text);
      else
        value = ar_xstrdup (item->text);
      if (value == NULL)
        continue;
      list->values[list->n] = value;
      list->positions[list->n] = node_pos (item);
      list->n++;
    }
}

static void
decode_ports (struct decoder *d, const struct ar_policy_field *field, const struct ar_policy_node *node,
              const char *path, struct ar_policy_ports *ports)
{
  if (node->kind != AR_POLICY_NODE_SEQUENCE)
    {
      type_error (d, field, node, path);
      return;
    }

  ports->set = true;
  ports->pos = node_pos (node);
  ports->ranges = ar_xmalloc0 ((node->n_children + 1) * sizeof (struct ar_policy_port_range));
  for (size_t i = 0; i < node->n_children; i++)
    {
      const struct ar_policy_node *item = node->children[i];
      cleanup_free char *item_path = ar_xasprintf ("%s[%zu]", path, i);
      enum ar_policy_scalar_type type = AR_POLICY_SCALAR_NULL;
      const char *problem = NULL;

      if (item->kind == AR_POLICY_NODE_SCALAR)
        type = ar_policy_scalar_type (item);
      if (type != AR_POLICY_SCALAR_INTEGER && type != AR_POLICY_SCALAR_STRING)
        {
          ar_policy_report_add (d->report, AR_POLICY_ERROR, item->line, item->column, item_path,
                                "expected a port or a range such as \"8000-8100\", got %s",
                                ar_policy_node_kind_name (item));
          continue;
        }
      if (ar_policy_parse_port_range (item->text, &ports->ranges[ports->n], &problem) < 0)
        {
          report_at (d, item, item_path, "invalid port `%s`: %s", item->text, problem);
          continue;
        }
      ports->n++;
    }
}

static void
decode_user (struct decoder *d, const struct ar_policy_field *field, const struct ar_policy_node *node,
             const char *path, struct ar_policy_user *user)
{
  const char *text = scalar_text (d, field, node, path, true, true, false);
  const char *colon;
  long uid = -1, gid = -1;
  cleanup_free char *uid_text = NULL;

  if (text == NULL)
    return;
  colon = strchr (text, ':');
  uid_text = colon != NULL ? strndup (text, (size_t) (colon - text)) : ar_xstrdup (text);
  if (uid_text == NULL)
    abort ();

  /* (uid_t) -1 means "unchanged" to setresuid, so it is not a valid id. */
  if (strspn (uid_text, "0123456789") != strlen (uid_text) || ar_parse_long (uid_text, &uid) < 0 || uid < 0
      || uid >= (long) UINT32_MAX
      || (colon != NULL
          && (strspn (colon + 1, "0123456789") != strlen (colon + 1) || ar_parse_long (colon + 1, &gid) < 0
              || gid < 0 || gid >= (long) UINT32_MAX)))
    {
      report_at (d, node, path,
                 "invalid user `%s`: expected a numeric uid such as 1000, or \"uid:gid\" such as \"1000:1000\" "
                 "(names would need the container's /etc/passwd)",
                 text);
      return;
    }

  user->set = true;
  user->uid = (uint32_t) uid;
  user->has_gid = colon != NULL;
  user->gid = colon != NULL ? (uint32_t) gid : 0;
  user->pos = node_pos (node);
}

static void
decode_items (struct decoder *d, const struct ar_policy_field *field, const struct ar_policy_node *node,
              const char *path, struct ar_policy_items *items)
{
  const struct ar_policy_object *object = field->object;

  if (node->kind != AR_POLICY_NODE_SEQUENCE)
    {
      type_error (d, field, node, path);
      return;
    }

  items->set = true;
  items->pos = node_pos (node);
  items->items = ar_xmalloc0 ((node->n_children + 1) * object->size);
  for (size_t i = 0; i < node->n_children; i++)
    {
      const struct ar_policy_node *item = node->children[i];
      cleanup_free char *item_path = ar_xasprintf ("%s[%zu]", path, i);
      void *element = (char *) items->items + items->n * object->size;

      if (item->kind != AR_POLICY_NODE_MAPPING)
        {
          ar_policy_report_add (d->report, AR_POLICY_ERROR, item->line, item->column, item_path,
                                "expected a mapping (a %s), got %s", object->name, ar_policy_node_kind_name (item));
          continue;
        }
      *(struct ar_policy_pos *) field_at (element, object->pos_offset) = node_pos (item);
      items->n++;
      decode_object (d, object, item, element, item_path);
    }
}

static void
decode_field (struct decoder *d, const struct ar_policy_field *field, const struct ar_policy_node *node, void *base,
              const char *path)
{
  void *value = field_at (base, field->offset);

  switch (field->kind)
    {
    case AR_FIELD_STRING:
    case AR_FIELD_PATH:
      decode_string (d, field, node, path, value);
      break;
    case AR_FIELD_FLAG:
      decode_flag (d, field, node, path, value);
      break;
    case AR_FIELD_INTEGER:
    case AR_FIELD_SIZE:
    case AR_FIELD_CPU:
    case AR_FIELD_DURATION:
    case AR_FIELD_MODE:
      decode_number (d, field, node, path, value);
      break;
    case AR_FIELD_CHOICE:
      decode_choice (d, field, node, path, value);
      break;
    case AR_FIELD_LIST:
    case AR_FIELD_PATH_LIST:
      decode_list (d, field, node, path, value);
      break;
    case AR_FIELD_PORTS:
      decode_ports (d, field, node, path, value);
      break;
    case AR_FIELD_USER:
      decode_user (d, field, node, path, value);
      break;
    case AR_FIELD_SECTION:
      if (node->kind != AR_POLICY_NODE_MAPPING)
        {
          type_error (d, field, node, path);
          break;
        }
      *(bool *) field_at (value, field->object->present_offset) = true;
      *(struct ar_policy_pos *) field_at (value, field->object->pos_offset) = node_pos (node);
      decode_object (d, field->object, node, value, path);
      break;
    case AR_FIELD_ITEMS:
      decode_items (d, field, node, path, value);
      break;
    }
}

static void
unknown_field (struct decoder *d, const struct ar_policy_object *object, const struct ar_policy_node *key,
               const char *path)
{
  const char *names[64];
  size_t n = 0;
  const char *closest;
  char *list = NULL;
  size_t len = 0;
  FILE *f;

  for (const struct ar_policy_field *field = object->fields; field->key != NULL && n + 1 < 64; field++)
    names[n++] = field->key;
  names[n] = NULL;

  closest = ar_policy_closest (key->text, names);
  if (closest != NULL)
    {
      ar_policy_report_add (d->report, AR_POLICY_ERROR, key->line, key->column, path,
                            "unknown field `%s`; did you mean `%s`?", key->text, closest);
      return;
    }

  f = open_memstream (&list, &len);
  if (f == NULL)
    abort ();
  for (size_t i = 0; i < n; i++)
    fprintf (f, "%s%s", i == 0 ? "" : ", ", names[i]);
  fclose (f);
  ar_policy_report_add (d->report, AR_POLICY_ERROR, key->line, key->column, path,
                        "unknown field `%s` in %s; the fields are %s", key->text, object->name, list);
  free (list);
}

static char *
member_path (const char *path, const char *key)
{
  return path[0] != '\0' ? ar_xasprintf ("%s.%s", path, key) : ar_xstrdup (key);
}

static void
decode_object (struct decoder *d, const struct ar_policy_object *object, const struct ar_policy_node *node,
               void *base, const char *path)
{
  for (size_t i = 0; i + 1 < node->n_children; i += 2)
    {
      const struct ar_policy_node *key = node->children[i];
      const struct ar_policy_node *value = node->children[i + 1];
      const struct ar_policy_field *field = object->fields;
      cleanup_free char *field_path = member_path (path, key->text);

      while (field->key != NULL && strcmp (field->key, key->text) != 0)
        field++;
      if (field->key == NULL)
        {
          unknown_field (d, object, key, field_path);
          continue;
        }
      /* null reads as absent, as an empty `key:` line in YAML. */
      if (value->kind == AR_POLICY_NODE_SCALAR && ar_policy_scalar_type (value) == AR_POLICY_SCALAR_NULL)
        continue;
      decode_field (d, field, value, base, field_path);
    }

  for (const struct ar_policy_field *field = object->fields; field->key != NULL; field++)
    {
      bool found = false;

      if (!field->required)
        continue;
      for (size_t i = 0; i + 1 < node->n_children && !found; i += 2)
        {
          const struct ar_policy_node *value = node->children[i + 1];

          found = strcmp (node->children[i]->text, field->key) == 0
                  && !(value->kind == AR_POLICY_NODE_SCALAR
                       && ar_policy_scalar_type (value) == AR_POLICY_SCALAR_NULL);
        }
      if (!found)
        {
          cleanup_free char *field_path = member_path (path, field->key);
          cleanup_free char *expected = expected_text (field);

          ar_policy_report_add (d->report, AR_POLICY_ERROR, node->line, node->column, field_path,
                                "required field `%s` is missing from the %s; add it (%s)", field->key, object->name,
                                expected);
        }
    }
}

/* Frees what decoding allocated for the fields of one object. */
static void
free_object (const struct ar_policy_object *object, void *base)
{
  for (const struct ar_policy_field *field = object->fields; field->key != NULL; field++)
    {
      void *value = field_at (base, field->offset);

      switch (field->kind)
        {
        case AR_FIELD_STRING:
        case AR_FIELD_PATH:
          free (((struct ar_policy_string *) value)->value);
          break;
        case AR_FIELD_LIST:
        case AR_FIELD_PATH_LIST:
          {
            struct ar_policy_list *list = value;

            for (size_t i = 0; i < list->n; i++)
              free (list->values[i]);
            free (list->values);
            free (list->positions);
            break;
          }
        case AR_FIELD_PORTS:
          free (((struct ar_policy_ports *) value)->ranges);
          break;
        case AR_FIELD_SECTION:
          free_object (field->object, value);
          break;
        case AR_FIELD_ITEMS:
          {
            struct ar_policy_items *items = value;

            for (size_t i = 0; i < items->n; i++)
              free_object (field->object, (char *) items->items + i * field->object->size);
            free (items->items);
            break;
          }
        default:
          break;
        }
    }
}

void
ar_policy_free (struct ar_policy *policy)
{
  if (policy == NULL)
    return;
  free_object (&ar_policy_top_object, policy);
  free (policy->syscalls.base_file);
  json_decref (policy->syscalls.base_profile);
  free (policy->origin);
  free (policy);
}

void
ar_policy_release (struct ar_policy **policy)
{
  ar_policy_free (*policy);
  *policy = NULL;
}

const char *
ar_policy_name (const struct ar_policy *policy)
{
  return policy->name.value;
}

const char *
ar_policy_origin (const struct ar_policy *policy)
{
  return policy->origin;
}

bool
ar_policy_is_audit (const struct ar_policy *policy)
{
  return policy->mode.value == AR_POLICY_MODE_AUDIT;
}

char *
ar_policy_rule_location (const struct ar_policy *policy, struct ar_policy_pos pos)
{
  if (pos.line == 0)
    return ar_xstrdup (policy->origin);
  return ar_xasprintf ("%s:%u", policy->origin, pos.line);
}

static void
default_flag (struct ar_policy_flag *flag, bool value)
{
  if (!flag->set)
    flag->value = value;
}

static void
default_string (struct ar_policy_string *string, const char *value)
{
  if (string->value == NULL)
    string->value = ar_xstrdup (value);
}

/* Fills in the documented defaults; their positions stay line 0. */
static void
apply_defaults (struct ar_policy *policy)
{
  struct ar_policy_tmpfs *tmpfs = policy->filesystem.tmpfs.items;
  struct ar_policy_egress *egress = policy->network.egress.items;
  struct ar_policy_ingress *ingress = policy->network.ingress.items;

  default_flag (&policy->filesystem.readonly_rootfs, true);
  default_flag (&policy->process.no_new_privileges, true);
  default_flag (&policy->process.host_pid, false);
  for (size_t i = 0; i < policy->filesystem.tmpfs.n; i++)
    {
      if (!tmpfs[i].mode.set)
        tmpfs[i].mode.value = AR_POLICY_DEFAULT_TMPFS_MODE;
      default_flag (&tmpfs[i].exec, false);
    }
  default_string (&policy->syscalls.base, "default");
  for (size_t i = 0; i < policy->network.egress.n; i++)
    if (!egress[i].protocol.set)
      egress[i].protocol.value = AR_POLICY_PROTOCOL_TCP;
  for (size_t i = 0; i < policy->network.ingress.n; i++)
    if (!ingress[i].protocol.set)
      ingress[i].protocol.value = AR_POLICY_PROTOCOL_TCP;
  if (policy->identity.present)
    {
      default_string (&policy->identity.id_template, AR_POLICY_DEFAULT_ID_TEMPLATE);
      default_string (&policy->identity.svid_dir, AR_POLICY_DEFAULT_SVID_DIR);
      if (!policy->identity.lifetime.set)
        policy->identity.lifetime.value = AR_POLICY_DEFAULT_LIFETIME;
    }
  default_string (&policy->audit.events, AR_POLICY_DEFAULT_AUDIT_EVENTS);
  /* The choices' defaults are their first names, index 0: enforce, none,
   * errno. */
}

static bool
looks_like_json (const char *origin, const char *text, size_t len)
{
  size_t origin_len = origin != NULL ? strlen (origin) : 0;

  if (origin_len >= 5 && strcmp (origin + origin_len - 5, ".json") == 0)
    return true;
  if ((origin_len >= 5 && strcmp (origin + origin_len - 5, ".yaml") == 0)
      || (origin_len >= 4 && strcmp (origin + origin_len - 4, ".yml") == 0))
    return false;
  for (size_t i = 0; i < len; i++)
    if (text[i] != ' ' && text[i] != '\t' && text[i] != '\r' && text[i] != '\n')
      return text[i] == '{';
  return false;
}

int
ar_policy_check_text (const char *text, size_t len, const char *origin, struct ar_policy **policy_out,
                      struct ar_policy_report **report_out, ar_error_t *err)
{
  struct ar_policy_report *report = ar_policy_report_new (origin);
  __attribute__ ((cleanup (ar_policy_release))) struct ar_policy *policy = ar_xmalloc0 (sizeof (*policy));
  struct ar_policy_node *root = NULL;
  struct decoder d = { report };

  policy->origin = ar_xstrdup (report->origin);
  if (len > MAX_POLICY_SIZE)
    ar_policy_report_add (report, AR_POLICY_ERROR, 0, 0, "", "the file has %zu bytes, more than the %d a policy may "
                          "have; split what it describes into several policies", len, MAX_POLICY_SIZE);
  else
    ar_policy_document_parse (text, len, looks_like_json (origin, text, len), report, &root);

  if (root != NULL && root->kind != AR_POLICY_NODE_MAPPING)
    ar_policy_report_add (report, AR_POLICY_ERROR, root->line, root->column, "",
                          "expected a mapping of fields at the top level, got %s", ar_policy_node_kind_name (root));
  else if (root != NULL)
    {
      decode_object (&d, &ar_policy_top_object, root, policy, "");
      apply_defaults (policy);
      ar_policy_validate (policy, report);
    }
  ar_policy_node_free (root);

  ar_policy_report_sort (report);
  if (policy_out != NULL)
    *policy_out = report->n_errors == 0 ? ar_steal_ptr (policy) : NULL;
  *report_out = report;
  return 0;
}

int
ar_policy_check (const char *path, struct ar_policy **policy_out, struct ar_policy_report **report_out,
                 ar_error_t *err)
{
  cleanup_free char *text = NULL;
  size_t len = 0;
  int ret;

  ret = ar_read_file (path, &text, &len, err);
  if (ret < 0)
    return ar_error_wrap (err, "cannot read the policy `%s`", path);
  return ar_policy_check_text (text, len, path, policy_out, report_out, err);
}

/* Turns a report into the result of a load: the policy, or one error. */
static int
finish_load (struct ar_policy_report *report, struct ar_policy *policy, struct ar_policy **out, ar_error_t *err)
{
  const struct ar_policy_diagnostic *first = NULL;
  cleanup_free char *message = NULL;
  int ret = 0;

  for (size_t i = 0; i < report->n_items; i++)
    {
      cleanup_free char *line = ar_policy_diagnostic_format (report->origin, &report->items[i]);

      if (report->items[i].severity == AR_POLICY_WARNING)
        ar_debug ("%s", line);
      else if (first == NULL)
        first = &report->items[i];
    }

  if (first != NULL)
    {
      message = ar_policy_diagnostic_format (report->origin, first);
      if (report->n_errors > 1)
        ret = ar_make_error (err, EINVAL, "%s (and %zu more errors; run `agentrun policy check %s`)", message,
                             report->n_errors - 1, report->origin);
      else
        ret = ar_make_error (err, EINVAL, "%s", message);
    }
  else
    *out = policy;
  ar_policy_report_free (report);
  return ret;
}

int
ar_policy_load_text (const char *text, size_t len, const char *origin, struct ar_policy **out, ar_error_t *err)
{
  struct ar_policy_report *report = NULL;
  struct ar_policy *policy = NULL;
  int ret;

  ret = ar_policy_check_text (text, len, origin, &policy, &report, err);
  if (ret < 0)
    return ret;
  return finish_load (report, policy, out, err);
}

int
ar_policy_load (const char *path, struct ar_policy **out, ar_error_t *err)
{
  struct ar_policy_report *report = NULL;
  struct ar_policy *policy = NULL;
  int ret;

  ret = ar_policy_check (path, &policy, &report, err);
  if (ret < 0)
    return ret;
  return finish_load (report, policy, out, err);
}
