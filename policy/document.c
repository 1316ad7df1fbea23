/* Policy files (YAML or JSON) read into a tree that keeps positions. */
#define _GNU_SOURCE
#include "document.h"

#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "diagnostics.h"
#include "oci/util.h"

/* Deeper documents are rejected: the format nests four levels, and the
 * tree is freed and walked recursively. */
#define MAX_DEPTH 64

#define YAML_STR_TAG "tag:yaml.org,2002:str"

void
ar_policy_node_free (struct ar_policy_node *node)
{
  if (node == NULL)
    return;
  for (size_t i = 0; i < node->n_children; i++)
    ar_policy_node_free (node->children[i]);
  free (node->children);
  free (node->text);
  free (node);
}

static void
node_release (struct ar_policy_node **node)
{
  ar_policy_node_free (*node);
}

static void
node_append (struct ar_policy_node *parent, struct ar_policy_node *child)
{
  parent->children = realloc (parent->children, (parent->n_children + 1) * sizeof (*parent->children));
  if (parent->children == NULL)
    abort ();
  parent->children[parent->n_children++] = child;
}

static struct ar_policy_node *
node_new (enum ar_policy_node_kind kind, yaml_mark_t mark)
{
  struct ar_policy_node *node = ar_xmalloc0 (sizeof (*node));

  node->kind = kind;
  node->line = (unsigned int) mark.line + 1;
  node->column = (unsigned int) mark.column + 1;
  return node;
}

static bool
text_in (const char *text, const char *const *words)
{
  for (size_t i = 0; words[i] != NULL; i++)
    if (strcmp (text, words[i]) == 0)
      return true;
  return false;
}

static bool
is_integer_text (const char *text)
{
  const char *p = text;

  if (*p == '+' || *p == '-')
    p++;
  if (ar_str_has_prefix (p, "0x") || ar_str_has_prefix (p, "0o"))
    {
      p += 2;
      return *p != '\0' && strspn (p, "0123456789abcdefABCDEF") == strlen (p);
    }
  return *p != '\0' && strspn (p, "0123456789") == strlen (p);
}

static bool
is_float_text (const char *text)
{
  static const char *const special[] = { ".inf", "-.inf", "+.inf", ".Inf", "-.Inf", "+.Inf", ".INF", "-.INF",
                                         "+.INF", ".nan", ".NaN", ".NAN", NULL };
  char *end = NULL;

  if (text_in (text, special))
    return true;
  if (*text == '\0' || strspn (text, "+-0123456789.eE") != strlen (text))
    return false;
  strtod (text, &end);
  return end != NULL && *end == '\0';
}

enum ar_policy_scalar_type
ar_policy_scalar_type (const struct ar_policy_node *node)
{
  static const char *const nulls[] = { "", "~", "null", "Null", "NULL", NULL };
  static const char *const bools[] = { "true", "True", "TRUE", "false", "False", "FALSE", NULL };

  if (node->quoted)
    return AR_POLICY_SCALAR_STRING;
  if (text_in (node->text, nulls))
    return AR_POLICY_SCALAR_NULL;
  if (text_in (node->text, bools))
    return AR_POLICY_SCALAR_BOOL;
  if (is_integer_text (node->text))
    return AR_POLICY_SCALAR_INTEGER;
  if (is_float_text (node->text))
    return AR_POLICY_SCALAR_FLOAT;
  return AR_POLICY_SCALAR_STRING;
}

const char *
ar_policy_node_kind_name (const struct ar_policy_node *node)
{
  switch (node->kind)
    {
    case AR_POLICY_NODE_MAPPING:
      return "a mapping";
    case AR_POLICY_NODE_SEQUENCE:
      return "a list";
    case AR_POLICY_NODE_SCALAR:
      break;
    }
  switch (ar_policy_scalar_type (node))
    {
    case AR_POLICY_SCALAR_NULL:
      return "null";
    case AR_POLICY_SCALAR_BOOL:
      return "a boolean";
    case AR_POLICY_SCALAR_INTEGER:
      return "an integer";
    case AR_POLICY_SCALAR_FLOAT:
      return "a number with a fraction";
    case AR_POLICY_SCALAR_STRING:
      break;
    }
  return "a string";
}

/* The builder's state: the open collections, innermost last. */
struct builder
{
  struct ar_policy_report *report;
  struct ar_policy_node *stack[MAX_DEPTH];
  size_t depth;
  struct ar_policy_node *root;
  size_t n_documents;
  bool failed;
};

static void builder_error (struct builder *b, yaml_mark_t mark, const char *fmt, ...) ar_printf_like (3, 4);

static void
builder_error (struct builder *b, yaml_mark_t mark, const char *fmt, ...)
{
  char *message = NULL;
  va_list ap;

  va_start (ap, fmt);
  if (vasprintf (&message, fmt, ap) < 0)
    abort ();
  va_end (ap);
  ar_policy_report_add (b->report, AR_POLICY_ERROR, (unsigned int) mark.line + 1, (unsigned int) mark.column + 1, "",
                        "%s", message);
  free (message);
  b->failed = true;
}

/* Checks that a new mapping key is a scalar that the mapping lacks. */
static bool
check_key (struct builder *b, struct ar_policy_node *mapping, struct ar_policy_node *key)
{
  if (key->kind != AR_POLICY_NODE_SCALAR)
    {
      ar_policy_report_add (b->report, AR_POLICY_ERROR, key->line, key->column, "",
                            "a mapping key must be a plain name, not %s", ar_policy_node_kind_name (key));
      return false;
    }
  for (size_t i = 0; i + 1 < mapping->n_children; i += 2)
    if (strcmp (mapping->children[i]->text, key->text) == 0)
      {
        ar_policy_report_add (b->report, AR_POLICY_ERROR, key->line, key->column, "",
                              "duplicate key `%s`, first set at line %u; keep one of them", key->text,
                              mapping->children[i]->line);
        return false;
      }
  return true;
}

/* Attaches a finished node to the open collection, or makes it the root. */
static void
builder_add (struct builder *b, struct ar_policy_node *node)
{
  struct ar_policy_node *parent;

  if (b->depth == 0)
    {
      if (b->root == NULL)
        b->root = node;
      else
        ar_policy_node_free (node);
      return;
    }

  parent = b->stack[b->depth - 1];
  /* An even number of children means that this node is a key. */
  if (parent->kind == AR_POLICY_NODE_MAPPING && parent->n_children % 2 == 0 && !check_key (b, parent, node))
    {
      b->failed = true;
      /* Keep the pairs aligned: the value that follows is dropped too. */
      node_append (parent, node);
      return;
    }
  node_append (parent, node);
}

static void
builder_scalar (struct builder *b, const yaml_event_t *event)
{
  const char *tag = (const char *) event->data.scalar.tag;
  struct ar_policy_node *node;

  if (tag != NULL && strcmp (tag, YAML_STR_TAG) != 0 && strcmp (tag, "!") != 0)
    {
      builder_error (b, event->start_mark, "unsupported YAML tag `%s`; remove it (only !!str is allowed)", tag);
      return;
    }

  node = node_new (AR_POLICY_NODE_SCALAR, event->start_mark);
  node->text = strndup ((const char *) event->data.scalar.value, event->data.scalar.length);
  if (node->text == NULL)
    abort ();
  node->quoted = event->data.scalar.style != YAML_PLAIN_SCALAR_STYLE || tag != NULL;
  builder_add (b, node);
}

static void
builder_open (struct builder *b, const yaml_event_t *event, enum ar_policy_node_kind kind)
{
  if (b->depth == MAX_DEPTH)
    {
      builder_error (b, event->start_mark, "the document nests deeper than %d levels; flatten it", MAX_DEPTH);
      return;
    }
  b->stack[b->depth++] = node_new (kind, event->start_mark);
}

static void
builder_close (struct builder *b)
{
  if (b->depth > 0)
    {
      struct ar_policy_node *node = b->stack[--b->depth];
      builder_add (b, node);
    }
}

/* Feeds one event to the builder; returns false at the end of the stream. */
static bool
builder_event (struct builder *b, const yaml_event_t *event)
{
  switch (event->type)
    {
    case YAML_STREAM_END_EVENT:
      return false;
    case YAML_DOCUMENT_START_EVENT:
      if (++b->n_documents > 1)
        builder_error (b, event->start_mark, "a policy file holds one document; remove the second `---`");
      break;
    case YAML_ALIAS_EVENT:
      builder_error (b, event->start_mark, "YAML aliases (`*%s`) are not supported; write the value out",
                     (const char *) event->data.alias.anchor);
      break;
    case YAML_SCALAR_EVENT:
      builder_scalar (b, event);
      break;
    case YAML_SEQUENCE_START_EVENT:
      builder_open (b, event, AR_POLICY_NODE_SEQUENCE);
      break;
    case YAML_MAPPING_START_EVENT:
      builder_open (b, event, AR_POLICY_NODE_MAPPING);
      break;
    case YAML_SEQUENCE_END_EVENT:
    case YAML_MAPPING_END_EVENT:
      builder_close (b);
      break;
    default:
      break;
    }
  return true;
}

static void
parse_yaml (const char *text, size_t len, struct ar_policy_report *report, struct ar_policy_node **out)
{
  struct builder b = { .report = report };
  yaml_parser_t parser;
  bool more = true;

  if (!yaml_parser_initialize (&parser))
    abort ();
  yaml_parser_set_input_string (&parser, (const unsigned char *) text, len);

  while (more && !b.failed)
    {
      yaml_event_t event;

      if (!yaml_parser_parse (&parser, &event))
        {
          const char *problem = parser.problem != NULL ? parser.problem : "invalid syntax";

          ar_policy_report_add (report, AR_POLICY_ERROR, (unsigned int) parser.problem_mark.line + 1,
                                (unsigned int) parser.problem_mark.column + 1, "", "invalid YAML: %s%s%s", problem,
                                parser.context != NULL ? " " : "", parser.context != NULL ? parser.context : "");
          b.failed = true;
          break;
        }
      more = builder_event (&b, &event);
      yaml_event_delete (&event);
    }
  yaml_parser_delete (&parser);

  /* On failure, close what is open so that every node is freed. */
  while (b.depth > 0)
    ar_policy_node_free (b.stack[--b.depth]);

  if (b.failed)
    {
      ar_policy_node_free (b.root);
      return;
    }
  if (b.root == NULL || (b.root->kind == AR_POLICY_NODE_SCALAR && ar_policy_scalar_type (b.root) == AR_POLICY_SCALAR_NULL))
    {
      ar_policy_report_add (report, AR_POLICY_ERROR, 0, 0, "", "the policy is empty; start from an example in "
                            "examples/policies/");
      ar_policy_node_free (b.root);
      return;
    }
  *out = b.root;
}

void
ar_policy_document_parse (const char *text, size_t len, bool json, struct ar_policy_report *report,
                          struct ar_policy_node **out)
{
  __attribute__ ((cleanup (node_release))) struct ar_policy_node *root = NULL;

  *out = NULL;
  if (memchr (text, '\0', len) != NULL)
    {
      ar_policy_report_add (report, AR_POLICY_ERROR, 0, 0, "", "the file contains a NUL byte; a policy is text");
      return;
    }

  if (json)
    {
      json_error_t error;
      json_t *checked = json_loadb (text, len, 0, &error);

      if (checked == NULL)
        {
          ar_policy_report_add (report, AR_POLICY_ERROR, error.line > 0 ? (unsigned int) error.line : 0,
                                error.column > 0 ? (unsigned int) error.column : 0, "", "invalid JSON: %s",
                                error.text);
          return;
        }
      json_decref (checked);
    }

  parse_yaml (text, len, report, &root);
  if (root == NULL)
    return;
  *out = ar_steal_ptr (root);
}
