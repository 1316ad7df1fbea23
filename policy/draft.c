/* Drafts: a policy as a JSON document in the file format, and its printing
 * as YAML that the parser reads back to the same policy. */
#define _GNU_SOURCE
#include "draft.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "document.h"
#include "fields.h"
#include "oci/util.h"
#include "values.h"

static const void *
member_at (const void *base, size_t offset)
{
  return (const char *) base + offset;
}

static json_t *
ports_json (const struct ar_policy_ports *ports)
{
  json_t *array = json_array ();

  for (size_t i = 0; i < ports->n; i++)
    {
      const struct ar_policy_port_range *range = &ports->ranges[i];

      if (range->first == range->last)
        json_array_append_new (array, json_integer (range->first));
      else
        json_array_append_new (array, json_sprintf ("%u-%u", range->first, range->last));
    }
  return array;
}

static json_t *object_json (const struct ar_policy_object *object, const void *base);

/* The value of one field as the file wrote it, or NULL when the file does
 * not set it. */
static json_t *
field_json (const struct ar_policy_field *field, const void *base)
{
  const void *at = member_at (base, field->offset);

  switch (field->kind)
    {
    case AR_FIELD_STRING:
    case AR_FIELD_PATH:
      {
        const struct ar_policy_string *s = at;
        return s->value != NULL && s->pos.line != 0 ? json_string (s->value) : NULL;
      }
    case AR_FIELD_FLAG:
      {
        const struct ar_policy_flag *flag = at;
        return flag->set ? json_boolean (flag->value) : NULL;
      }
    case AR_FIELD_INTEGER:
    case AR_FIELD_SIZE:
    case AR_FIELD_CPU:
    case AR_FIELD_DURATION:
    case AR_FIELD_MODE:
      {
        const struct ar_policy_number *number = at;
        char *text = NULL;

        if (!number->set)
          return NULL;
        if (field->kind == AR_FIELD_INTEGER || (field->kind == AR_FIELD_CPU && number->value % 1000 == 0))
          return json_integer ((json_int_t) (field->kind == AR_FIELD_CPU ? number->value / 1000 : number->value));
        if (field->kind == AR_FIELD_SIZE)
          text = ar_policy_format_size (number->value);
        else if (field->kind == AR_FIELD_CPU)
          text = ar_policy_format_cpu (number->value);
        else if (field->kind == AR_FIELD_DURATION)
          text = ar_policy_format_duration (number->value);
        else
          text = ar_xasprintf ("%04llo", (unsigned long long) number->value);
        {
          json_t *value = json_string (text);
          free (text);
          return value;
        }
      }
    case AR_FIELD_CHOICE:
      {
        const struct ar_policy_choice *choice = at;
        return choice->set ? json_string (field->choices[choice->value]) : NULL;
      }
    case AR_FIELD_LIST:
    case AR_FIELD_PATH_LIST:
      {
        const struct ar_policy_list *list = at;
        json_t *array;

        if (!list->set)
          return NULL;
        array = json_array ();
        for (size_t i = 0; i < list->n; i++)
          json_array_append_new (array, json_string (list->values[i]));
        return array;
      }
    case AR_FIELD_PORTS:
      {
        const struct ar_policy_ports *ports = at;
        return ports->set ? ports_json (ports) : NULL;
      }
    case AR_FIELD_USER:
      {
        const struct ar_policy_user *user = at;

        if (!user->set)
          return NULL;
        if (user->has_gid)
          return json_sprintf ("%u:%u", user->uid, user->gid);
        return json_integer (user->uid);
      }
    case AR_FIELD_SECTION:
      {
        const bool *present = member_at (at, field->object->present_offset);
        return *present ? object_json (field->object, at) : NULL;
      }
    case AR_FIELD_ITEMS:
      {
        const struct ar_policy_items *items = at;
        json_t *array;

        if (!items->set)
          return NULL;
        array = json_array ();
        for (size_t i = 0; i < items->n; i++)
          json_array_append_new (array, object_json (field->object, (const char *) items->items
                                                                         + i * field->object->size));
        return array;
      }
    }
  return NULL;
}

static json_t *
object_json (const struct ar_policy_object *object, const void *base)
{
  json_t *out = json_object ();

  for (const struct ar_policy_field *field = object->fields; field->key != NULL; field++)
    {
      json_t *value = field_json (field, base);

      if (value != NULL)
        json_object_set_new (out, field->key, value);
    }
  return out;
}

json_t *
ar_policy_draft_from_policy (const struct ar_policy *policy)
{
  json_t *draft = object_json (&ar_policy_top_object, policy);
  json_t *syscalls = json_object_get (draft, "syscalls");

  /* A profile file is named relative to the policy's folder, which the
   * draft may not share: name it by its resolved path. */
  if (policy->syscalls.base_kind == AR_POLICY_SECCOMP_FILE && policy->syscalls.base_file != NULL
      && json_is_object (syscalls))
    {
      char *absolute = realpath (policy->syscalls.base_file, NULL);

      json_object_set_new (syscalls, "base",
                           json_string (absolute != NULL ? absolute : policy->syscalls.base_file));
      free (absolute);
    }
  return draft;
}

/* Prints a string as a plain scalar when it reads back as the same string,
 * else in double quotes (a JSON string is a valid YAML double-quoted
 * scalar). */
static void
print_string (FILE *f, const char *text)
{
  struct ar_policy_node plain = { .kind = AR_POLICY_NODE_SCALAR, .text = (char *) text };
  size_t len = strlen (text);
  bool safe = len > 0 && strspn (text, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_./-") == len
              && text[0] != '-' && text[0] != '.' && ar_policy_scalar_type (&plain) == AR_POLICY_SCALAR_STRING;

  if (safe)
    fputs (text, f);
  else
    {
      json_t *value = json_string (text);
      char *quoted = json_dumps (value, JSON_ENCODE_ANY);

      fputs (quoted != NULL ? quoted : "\"\"", f);
      free (quoted);
      json_decref (value);
    }
}

static void
print_scalar (FILE *f, json_t *value)
{
  if (json_is_string (value))
    print_string (f, json_string_value (value));
  else if (json_is_integer (value))
    fprintf (f, "%" JSON_INTEGER_FORMAT, json_integer_value (value));
  else if (json_is_true (value))
    fputs ("true", f);
  else if (json_is_false (value))
    fputs ("false", f);
  else
    fputs ("null", f);
}

static void
print_note (FILE *f, const char *note)
{
  if (note != NULL)
    fprintf (f, "  # %s", note);
  fputc ('\n', f);
}

/* The note for a list entry: "FIELD\tVALUE". */
static const char *
entry_note (json_t *notes, const char *path, json_t *value)
{
  cleanup_free char *key = NULL;

  if (!json_is_string (value))
    return NULL;
  key = ar_xasprintf ("%s\t%s", path, json_string_value (value));
  return json_string_value (json_object_get (notes, key));
}

static void print_object (FILE *f, const struct ar_policy_object *object, json_t *value, int indent,
                          const char *parent, json_t *notes, bool first_inline);

/* Prints "KEY:" at indent, or where the line is with inline_key (after a
 * list item's "- "). */
static void
print_key (FILE *f, int indent, const char *key, bool inline_key)
{
  fprintf (f, "%*s%s:", inline_key ? 0 : indent, "", key);
}

/* Prints one member at indent; with inline_key its key follows a "- "
 * already printed, and note replaces the member's own note. */
static void
print_field (FILE *f, const struct ar_policy_field *field, json_t *value, int indent, const char *path,
             json_t *notes, bool inline_key, const char *item_note)
{
  const char *note = inline_key ? item_note : json_string_value (json_object_get (notes, path));
  size_t i;
  json_t *item;

  switch (field->kind)
    {
    case AR_FIELD_SECTION:
      if (json_object_size (value) == 0)
        {
          print_key (f, indent, field->key, inline_key);
          fputs (" {}", f);
          print_note (f, note);
          return;
        }
      print_key (f, indent, field->key, inline_key);
      print_note (f, note);
      print_object (f, field->object, value, indent + 2, path, notes, false);
      return;

    case AR_FIELD_ITEMS:
      if (json_array_size (value) == 0)
        {
          print_key (f, indent, field->key, inline_key);
          fputs (" []", f);
          print_note (f, note);
          return;
        }
      print_key (f, indent, field->key, inline_key);
      print_note (f, note);
      json_array_foreach (value, i, item)
        {
          fprintf (f, "%*s- ", indent + 2, "");
          print_object (f, field->object, item, indent + 4, path, notes, true);
        }
      return;

    case AR_FIELD_LIST:
    case AR_FIELD_PATH_LIST:
      if (json_array_size (value) == 0)
        {
          print_key (f, indent, field->key, inline_key);
          fputs (" []", f);
          print_note (f, note);
          return;
        }
      print_key (f, indent, field->key, inline_key);
      print_note (f, note);
      json_array_foreach (value, i, item)
        {
          fprintf (f, "%*s- ", indent + 2, "");
          print_scalar (f, item);
          print_note (f, entry_note (notes, path, item));
        }
      return;

    case AR_FIELD_PORTS:
      print_key (f, indent, field->key, inline_key);
      fputs (" [", f);
      json_array_foreach (value, i, item)
        {
          fputs (i > 0 ? ", " : "", f);
          print_scalar (f, item);
        }
      fputc (']', f);
      print_note (f, note);
      return;

    default:
      print_key (f, indent, field->key, inline_key);
      fputc (' ', f);
      print_scalar (f, value);
      print_note (f, note);
      return;
    }
}

/* Prints the members of value that are fields of object, in the format's order.
 * With first_inline, the first member follows a "- " already printed, and
 * the item's own note goes on that line. */
static void
print_object (FILE *f, const struct ar_policy_object *object, json_t *value, int indent, const char *parent,
              json_t *notes, bool first_inline)
{
  bool first = true;

  for (const struct ar_policy_field *field = object->fields; field->key != NULL; field++)
    {
      json_t *member = json_object_get (value, field->key);
      cleanup_free char *path = NULL;

      if (member == NULL || json_is_null (member))
        continue;
      path = parent[0] != '\0' ? ar_xasprintf ("%s.%s", parent, field->key) : ar_xstrdup (field->key);
      if (parent[0] == '\0' && !first && (field->kind == AR_FIELD_SECTION))
        fputc ('\n', f);
      print_field (f, field, member, indent, path, notes, first && first_inline,
                   json_string_value (json_object_get (value, AR_DRAFT_NOTE_KEY)));
      first = false;
    }
  if (first && first_inline)
    fputs ("{}\n", f);
}

char *
ar_policy_draft_format (json_t *draft, json_t *header, json_t *notes)
{
  char *out = NULL;
  size_t len = 0;
  FILE *f = open_memstream (&out, &len);
  size_t i;
  json_t *line;

  if (f == NULL)
    abort ();
  json_array_foreach (header, i, line)
    {
      const char *text = json_string_value (line);

      if (text != NULL && text[0] != '\0')
        fprintf (f, "# %s\n", text);
      else
        fputs ("#\n", f);
    }
  if (json_array_size (header) > 0)
    fputc ('\n', f);
  print_object (f, &ar_policy_top_object, draft, 0, "", notes, false);
  fclose (f);
  return out;
}
