/* Helpers shared by the config_*.c files that parse config.json: typed
 * access to jansson values, with errors that name the origin file and the
 * JSON path.  Not part of the public config API. */
#ifndef AGENTRUN_CONFIG_INTERNAL_H
#define AGENTRUN_CONFIG_INTERNAL_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "config.h"
#include "error.h"

/* The location of a JSON value: the document's origin (a file name, may be
 * NULL) and the path inside it ("process.rlimits[1]", "" for the root). */
struct ar_json_at
{
  const char *origin;
  const char *path;
};

/* Parses a document whose top level must be an object.  Integers above
 * INT64_MAX (uint64 fields such as rlimits or seccomp values) are kept, see
 * ar_json_uint64_value.  Syntax errors carry jansson's line and column. */
int ar_json_load (const char *text, size_t len, const char *origin, json_t **out, ar_error_t *err);

/* Builds the path of a member ("process" + "cwd" -> "process.cwd") or of an
 * array element ("mounts" + 2 -> "mounts[2]").  Keys that are not plain
 * identifiers are quoted: annotations["io.x"]. */
char *ar_json_path_member (const char *parent, const char *key);
char *ar_json_path_index (const char *parent, size_t index);

/* Stores "origin: path.key: message" in *err and returns -EINVAL.  key may
 * be NULL when the error concerns at->path itself. */
int ar_json_error (ar_error_t *err, const struct ar_json_at *at, const char *key, const char *fmt, ...)
    ar_printf_like (4, 5);

/* Describes the JSON type of a value for messages: "a string", "an array". */
const char *ar_json_kind (json_t *value);

/* Member getters.  Each returns 1 when the member is present and valid (and
 * sets *out), 0 when it is absent or null (the spec's Go bindings read null
 * as absent), and a negative errno with an error naming the path otherwise.
 * With required, an absent member is an error. */
int ar_json_member (const struct ar_json_at *at, json_t *obj, const char *key, json_type type, bool required,
                    json_t **out, ar_error_t *err);
int ar_json_string (const struct ar_json_at *at, json_t *obj, const char *key, bool required, char **out,
                    ar_error_t *err);
int ar_json_bool (const struct ar_json_at *at, json_t *obj, const char *key, bool required, bool *out, ar_error_t *err);
int ar_json_int64 (const struct ar_json_at *at, json_t *obj, const char *key, bool required, int64_t min, int64_t max,
                   int64_t *out, ar_error_t *err);
int ar_json_uint64 (const struct ar_json_at *at, json_t *obj, const char *key, bool required, uint64_t *out,
                    ar_error_t *err);
int ar_json_uint32 (const struct ar_json_at *at, json_t *obj, const char *key, bool required, uint32_t *out,
                    ar_error_t *err);

/* An array of strings as a NULL-terminated vector (empty arrays give an
 * empty vector, not NULL). */
int ar_json_strv (const struct ar_json_at *at, json_t *obj, const char *key, bool required, char ***out,
                  ar_error_t *err);

/* Value checks, with at->path naming the value itself.  They return 0 on
 * success. */
int ar_json_string_value (const struct ar_json_at *at, json_t *value, const char **out, ar_error_t *err);
int ar_json_int64_value (const struct ar_json_at *at, json_t *value, int64_t min, int64_t max, int64_t *out,
                         ar_error_t *err);
int ar_json_uint64_value (const struct ar_json_at *at, json_t *value, uint64_t *out, ar_error_t *err);

/* A name of the spec ("RLIMIT_NOFILE") and the constant it stands for. */
struct ar_name_value
{
  const char *name;
  int value;
};

#define AR_N_ELEMENTS(a) (sizeof (a) / sizeof ((a)[0]))

/* Maps a name through a table.  An unknown name is an error at at->path.key
 * that lists the accepted names: "unknown WHAT `NAME`; use one of ...". */
int ar_json_lookup_name (const struct ar_json_at *at, const char *key, const struct ar_name_value *table, size_t n,
                         const char *what, const char *name, int *out, ar_error_t *err);

/* Checks that a path is absolute, with an error naming at->path.key. */
int ar_json_check_absolute (const struct ar_json_at *at, const char *key, const char *path, ar_error_t *err);

/* Parsers of the parts of config.json, each filling a zeroed struct that
 * the matching free function releases even when parsing stopped halfway. */
int ar_config_process_parse (const struct ar_json_at *at, json_t *obj, struct ar_process **out, ar_error_t *err);
int ar_config_mounts_parse (const struct ar_json_at *at, json_t *array, struct ar_config *config, ar_error_t *err);
void ar_config_mount_clear (struct ar_mount *mount);
int ar_config_linux_parse (const struct ar_json_at *at, json_t *obj, struct ar_linux *linux_config, ar_error_t *err);
void ar_config_linux_clear (struct ar_linux *linux_config);
int ar_config_seccomp_parse (const struct ar_json_at *at, json_t *obj, struct ar_seccomp **out, ar_error_t *err);
void ar_config_seccomp_free (struct ar_seccomp *seccomp);

/* Parses an array of LinuxIDMapping objects (containerID, hostID, size). */
int ar_config_idmaps_parse (const struct ar_json_at *at, json_t *obj, const char *key, struct ar_idmap **out,
                            size_t *n_out, ar_error_t *err);

#endif
