/* The policy format as data: for each object, its fields, their kinds and
 * where the parser stores them.  The parser, the JSON schema and the
 * documentation test all read these tables, so they cannot disagree. */
#ifndef AGENTRUN_POLICY_FIELDS_H
#define AGENTRUN_POLICY_FIELDS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum ar_policy_field_kind
{
  AR_FIELD_STRING,    /* struct ar_policy_string */
  AR_FIELD_PATH,      /* struct ar_policy_string holding a normalised absolute path */
  AR_FIELD_FLAG,      /* struct ar_policy_flag */
  AR_FIELD_INTEGER,   /* struct ar_policy_number, between min and max */
  AR_FIELD_SIZE,      /* struct ar_policy_number in bytes: 512Mi, 2G or an integer */
  AR_FIELD_CPU,       /* struct ar_policy_number in millicpus: 1.5, 500m */
  AR_FIELD_DURATION,  /* struct ar_policy_number in seconds: 90s, 1h30m or an integer */
  AR_FIELD_MODE,      /* struct ar_policy_number: an octal file mode such as "1777" */
  AR_FIELD_CHOICE,    /* struct ar_policy_choice */
  AR_FIELD_LIST,      /* struct ar_policy_list of strings */
  AR_FIELD_PATH_LIST, /* struct ar_policy_list of normalised absolute paths */
  AR_FIELD_PORTS,     /* struct ar_policy_ports */
  AR_FIELD_USER,      /* struct ar_policy_user: 1000 or "1000:1000" */
  AR_FIELD_SECTION,   /* a nested object stored in place */
  AR_FIELD_ITEMS,     /* struct ar_policy_items: a list of objects */
};

struct ar_policy_field;

/* An object of the format: a section or the element type of a list. */
struct ar_policy_object
{
  const char *name;                     /* "tmpfs entry", for messages and the schema */
  const struct ar_policy_field *fields; /* ends with a NULL key */
  size_t size;                          /* size of the element struct (lists) */
  size_t pos_offset;                    /* offset of its struct ar_policy_pos */
  size_t present_offset;                /* offset of its `bool present`, or SIZE_MAX */
};

struct ar_policy_field
{
  const char *key;
  enum ar_policy_field_kind kind;
  size_t offset;                         /* of the value within the object's struct */
  bool required;
  const char *const *choices;            /* AR_FIELD_CHOICE: NULL-terminated */
  const struct ar_policy_object *object; /* AR_FIELD_SECTION and AR_FIELD_ITEMS */
  uint64_t min;                          /* AR_FIELD_INTEGER, AR_FIELD_SIZE, ... */
  uint64_t max;
  const char *summary;                   /* one line, for the schema */
};

/* The top level of a policy file. */
extern const struct ar_policy_object ar_policy_top_object;

#endif
