/* `agentrun policy schema`: the JSON Schema of the policy format, built
 * from the same field tables as the parser, for editors and CI linters. */
#define _GNU_SOURCE
#include <stdlib.h>
#include <string.h>

#include "fields.h"
#include "model.h"

/* The name's pattern, as check_name in validate.c enforces it. */
#define NAME_PATTERN "^[a-z0-9][a-z0-9._-]{0,62}$"
#define SIZE_PATTERN "^[0-9]+(\\.[0-9]{1,3})?(K|M|G|T|Ki|Mi|Gi|Ti)?$"
#define CPU_PATTERN "^([0-9]+(\\.[0-9]{1,3})?|[0-9]+m)$"
#define DURATION_PATTERN "^([0-9]+d)?([0-9]+h)?([0-9]+m)?([0-9]+s)?$"

static json_t *object_schema (const struct ar_policy_object *object);

static json_t *
choices_json (const char *const *choices)
{
  json_t *array = json_array ();

  for (size_t i = 0; choices[i] != NULL; i++)
    json_array_append_new (array, json_string (choices[i]));
  return array;
}

static json_t *
field_schema (const struct ar_policy_field *field)
{
  json_t *schema = NULL;

  switch (field->kind)
    {
    case AR_FIELD_STRING:
      schema = strcmp (field->key, "name") == 0 ? json_pack ("{s:s, s:s}", "type", "string", "pattern", NAME_PATTERN)
                                                : json_pack ("{s:s}", "type", "string");
      break;
    case AR_FIELD_PATH:
      schema = json_pack ("{s:s, s:s}", "type", "string", "pattern", "^/");
      break;
    case AR_FIELD_FLAG:
      schema = json_pack ("{s:s}", "type", "boolean");
      break;
    case AR_FIELD_INTEGER:
      schema = json_pack ("{s:s, s:I, s:I}", "type", "integer", "minimum", (json_int_t) field->min, "maximum",
                          (json_int_t) field->max);
      break;
    case AR_FIELD_SIZE:
      schema = json_pack ("{s:[{s:s, s:I, s:I}, {s:s, s:s}]}", "oneOf", "type", "integer", "minimum",
                          (json_int_t) field->min, "maximum", (json_int_t) field->max, "type", "string", "pattern",
                          SIZE_PATTERN);
      break;
    case AR_FIELD_CPU:
      schema = json_pack ("{s:[{s:s, s:i}, {s:s, s:s}]}", "oneOf", "type", "number", "exclusiveMinimum", 0, "type",
                          "string", "pattern", CPU_PATTERN);
      break;
    case AR_FIELD_DURATION:
      schema = json_pack ("{s:[{s:s, s:I, s:I}, {s:s, s:s}]}", "oneOf", "type", "integer", "minimum",
                          (json_int_t) field->min, "maximum", (json_int_t) field->max, "type", "string", "pattern",
                          DURATION_PATTERN);
      break;
    case AR_FIELD_MODE:
      schema = json_pack ("{s:[{s:s, s:s}, {s:s, s:i}]}", "oneOf", "type", "string", "pattern", "^[0-7]{3,4}$",
                          "type", "integer", "minimum", 0);
      break;
    case AR_FIELD_CHOICE:
      schema = json_pack ("{s:o}", "enum", choices_json (field->choices));
      break;
    case AR_FIELD_LIST:
      schema = json_pack ("{s:s, s:{s:s}}", "type", "array", "items", "type", "string");
      break;
    case AR_FIELD_PATH_LIST:
      schema = json_pack ("{s:s, s:{s:s, s:s}}", "type", "array", "items", "type", "string", "pattern", "^/");
      break;
    case AR_FIELD_PORTS:
      schema = json_pack ("{s:s, s:{s:[{s:s, s:i, s:i}, {s:s, s:s}]}}", "type", "array", "items", "oneOf", "type",
                          "integer", "minimum", 1, "maximum", 65535, "type", "string", "pattern",
                          "^[0-9]{1,5}(-[0-9]{1,5})?$");
      break;
    case AR_FIELD_USER:
      schema = json_pack ("{s:[{s:s, s:i}, {s:s, s:s}]}", "oneOf", "type", "integer", "minimum", 0, "type", "string",
                          "pattern", "^[0-9]+(:[0-9]+)?$");
      break;
    case AR_FIELD_SECTION:
      schema = object_schema (field->object);
      break;
    case AR_FIELD_ITEMS:
      schema = json_pack ("{s:s, s:o}", "type", "array", "items", object_schema (field->object));
      break;
    }
  if (schema == NULL)
    abort ();
  json_object_set_new (schema, "description", json_string (field->summary));
  return schema;
}

static json_t *
object_schema (const struct ar_policy_object *object)
{
  json_t *properties = json_object ();
  json_t *required = json_array ();
  json_t *schema;

  for (const struct ar_policy_field *field = object->fields; field->key != NULL; field++)
    {
      json_object_set_new (properties, field->key, field_schema (field));
      if (field->required)
        json_array_append_new (required, json_string (field->key));
    }
  schema = json_pack ("{s:s, s:b, s:o}", "type", "object", "additionalProperties", 0, "properties", properties);
  if (json_array_size (required) > 0)
    json_object_set_new (schema, "required", required);
  else
    json_decref (required);
  return schema;
}

json_t *
ar_policy_schema (void)
{
  json_t *schema = object_schema (&ar_policy_top_object);
  json_t *top = json_pack ("{s:s, s:s, s:s}", "$schema", "https://json-schema.org/draft/2020-12/schema", "title",
                           "agentrun sandbox policy",
                           "description", "A policy that agentrun applies to config.json as a ceiling; see "
                           "docs/policy.md.");

  json_object_update (top, schema);
  json_decref (schema);
  return top;
}
