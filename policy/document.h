/* A policy file as a tree of mappings, sequences and scalars, each with
 * the line and column where it starts.  YAML is read with libyaml; JSON is
 * first checked with jansson (so JSON files follow the JSON grammar) and
 * then read with libyaml too, because JSON is YAML flow syntax and only
 * libyaml reports where each value sits. */
#ifndef AGENTRUN_POLICY_DOCUMENT_H
#define AGENTRUN_POLICY_DOCUMENT_H

#include <stdbool.h>
#include <stddef.h>

#include "policy.h"

enum ar_policy_node_kind
{
  AR_POLICY_NODE_SCALAR,
  AR_POLICY_NODE_MAPPING,
  AR_POLICY_NODE_SEQUENCE,
};

/* The type of a scalar.  Quoted scalars are always strings, and plain ones
 * resolve as in the YAML 1.2 core schema. */
enum ar_policy_scalar_type
{
  AR_POLICY_SCALAR_NULL,
  AR_POLICY_SCALAR_BOOL,
  AR_POLICY_SCALAR_INTEGER,
  AR_POLICY_SCALAR_FLOAT,
  AR_POLICY_SCALAR_STRING,
};

struct ar_policy_node
{
  enum ar_policy_node_kind kind;
  unsigned int line;   /* 1-based */
  unsigned int column; /* 1-based, in characters */
  char *text;          /* scalars only */
  bool quoted;         /* a quoted YAML scalar or a JSON string */
  /* Sequence items; for mappings key, value, key, value, ... with scalar
   * keys, each key once. */
  struct ar_policy_node **children;
  size_t n_children;
};

/* Parses text into a tree.  Syntax errors, duplicate keys, aliases and
 * unsupported tags go to report; *out is NULL when there was any. */
void ar_policy_document_parse (const char *text, size_t len, bool json, struct ar_policy_report *report,
                               struct ar_policy_node **out);

void ar_policy_node_free (struct ar_policy_node *node);

enum ar_policy_scalar_type ar_policy_scalar_type (const struct ar_policy_node *node);

/* Describes a node for type errors: "a string", "a mapping", "null". */
const char *ar_policy_node_kind_name (const struct ar_policy_node *node);

#endif
