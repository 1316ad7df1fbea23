/* Placeholder until the real implementation lands. */
#define _GNU_SOURCE
#include <errno.h>
#include <stddef.h>
#include "resources.h"

int ar_resources_parse (json_t *obj, const char *json_path, struct ar_resources **out, ar_error_t *err)
{
  return ar_make_error (err, ENOSYS, "ar_resources_parse is not implemented yet");
}

void ar_resources_free (struct ar_resources *resources)
{
}
