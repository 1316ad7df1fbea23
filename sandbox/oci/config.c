/* Placeholder until the real implementation lands. */
#define _GNU_SOURCE
#include <errno.h>
#include <stddef.h>
#include "config.h"

int ar_config_parse (const char *json_text, size_t len, const char *origin, struct ar_config **out, ar_error_t *err)
{
  return ar_make_error (err, ENOSYS, "ar_config_parse is not implemented yet");
}

int ar_config_load_bundle (const char *bundle, struct ar_config **out, ar_error_t *err)
{
  return ar_make_error (err, ENOSYS, "ar_config_load_bundle is not implemented yet");
}

void ar_config_free (struct ar_config *config)
{
}

void ar_config_release (struct ar_config **config)
{
}

int ar_process_parse_file (const char *path, struct ar_process **out, ar_error_t *err)
{
  return ar_make_error (err, ENOSYS, "ar_process_parse_file is not implemented yet");
}

void ar_process_free (struct ar_process *process)
{
}

int ar_mount_parse_options (struct ar_mount *mount, const char *json_path, ar_error_t *err)
{
  return ar_make_error (err, ENOSYS, "ar_mount_parse_options is not implemented yet");
}

int ar_namespace_type_from_name (const char *name)
{
  return -1;
}

const char *ar_namespace_type_name (enum ar_namespace_type type)
{
  return NULL;
}

const char *ar_hook_kind_name (enum ar_hook_kind kind)
{
  return NULL;
}

char *ar_config_default_spec (bool rootless)
{
  return NULL;
}
