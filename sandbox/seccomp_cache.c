#define _GNU_SOURCE
#include "seccomp_cache.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <jansson.h>
#include <seccomp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "oci/log.h"
#include "oci/util.h"

#define CACHE_MAGIC "agentrun-seccomp-1\n"

/* The header that precedes the key text and the filter in a cache file. */
struct cache_header
{
  uint32_t key_len;
  uint32_t flags;
  uint32_t needs_listener;
  uint32_t n_filter;
};

/* The cache key: everything the compiled program depends on.  The whole
 * key is stored in the file and compared on load, so a hash collision in
 * the file name can never return the wrong program. */
static char *
build_key (const struct ar_config *config)
{
  const struct scmp_version *version = seccomp_version ();
  json_t *doc = json_loads (config->raw_json, 0, NULL);
  json_t *seccomp = json_object_get (json_object_get (doc, "linux"), "seccomp");
  cleanup_free char *canonical = seccomp ? json_dumps (seccomp, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
  struct utsname uts;
  char *key = NULL;

  json_decref (doc);
  if (canonical == NULL || uname (&uts) < 0)
    return NULL;
  /* In audit mode the runtime turns SCMP_ACT_LOG into SCMP_ACT_NOTIFY for
   * the container process only, so the same JSON compiles two ways. */
  key = ar_xasprintf ("agentrun %s; libseccomp %u.%u.%u; %s %s %s%s\n%s", AGENTRUN_VERSION, version->major,
                      version->minor, version->micro, uts.sysname, uts.release, uts.machine,
                      config->linux_config.seccomp && config->linux_config.seccomp->runtime_listener ? "; log as notify" : "",
                      canonical);
  return key;
}

/* FNV-1a, 64 bits: only spreads keys over file names. */
static uint64_t
hash_key (const char *key)
{
  uint64_t h = UINT64_C (14695981039346656037);

  for (const unsigned char *p = (const unsigned char *) key; *p; p++)
    {
      h ^= *p;
      h *= UINT64_C (1099511628211);
    }
  return h;
}

static int
load_program (const char *path, const char *key, struct ar_seccomp_program **out)
{
  cleanup_free char *data = NULL;
  struct ar_seccomp_program *program;
  struct cache_header header;
  size_t len, magic_len = strlen (CACHE_MAGIC), key_len = strlen (key);
  const char *p;

  if (ar_read_file (path, &data, &len, NULL) < 0)
    return -1;
  if (len < magic_len + sizeof (header) || memcmp (data, CACHE_MAGIC, magic_len) != 0)
    return -1;
  memcpy (&header, data + magic_len, sizeof (header));
  p = data + magic_len + sizeof (header);
  if (header.key_len != key_len || header.n_filter == 0 || header.n_filter > 0xffff
      || len != magic_len + sizeof (header) + key_len + header.n_filter * sizeof (struct sock_filter)
      || memcmp (p, key, key_len) != 0)
    return -1;
  p += key_len;

  program = ar_xmalloc0 (sizeof (*program));
  program->n_filter = (unsigned short) header.n_filter;
  program->flags = header.flags;
  program->needs_listener = header.needs_listener != 0;
  program->filter = ar_xmalloc0 (header.n_filter * sizeof (struct sock_filter));
  memcpy (program->filter, p, header.n_filter * sizeof (struct sock_filter));
  *out = program;
  return 0;
}

static int
store_program (const char *dir, const char *path, const char *key, const struct ar_seccomp_program *program)
{
  struct cache_header header = {
    .key_len = (uint32_t) strlen (key),
    .flags = program->flags,
    .needs_listener = program->needs_listener,
    .n_filter = program->n_filter,
  };
  size_t magic_len = strlen (CACHE_MAGIC);
  size_t filter_len = program->n_filter * sizeof (struct sock_filter);
  size_t len = magic_len + sizeof (header) + header.key_len + filter_len;
  cleanup_free char *data = ar_xmalloc0 (len);
  cleanup_error ar_error_t err = NULL;
  char *p = data;

  if (mkdir (dir, 0700) < 0 && errno != EEXIST)
    return -1;
  memcpy (p, CACHE_MAGIC, magic_len);
  p += magic_len;
  memcpy (p, &header, sizeof (header));
  p += sizeof (header);
  memcpy (p, key, header.key_len);
  p += header.key_len;
  memcpy (p, program->filter, filter_len);
  return ar_write_file_atomic (path, data, len, 0600, &err);
}

int
ar_seccomp_compile_cached (const struct ar_config *config, const char *cache_dir, struct ar_seccomp_program **out,
                           ar_error_t *err)
{
  cleanup_free char *key = NULL;
  cleanup_free char *path = NULL;
  struct ar_seccomp_program *program = NULL;

  if (cache_dir != NULL)
    key = build_key (config);
  if (key != NULL)
    {
      path = ar_xasprintf ("%s/%016" PRIx64 ".bpf", cache_dir, hash_key (key));
      if (load_program (path, key, out) == 0)
        {
          ar_debug ("seccomp: loaded the compiled filter from %s", path);
          return 0;
        }
    }

  if (ar_seccomp_compile (config->linux_config.seccomp, &program, err) < 0)
    return -1;

  if (key != NULL)
    {
      if (store_program (cache_dir, path, key, program) < 0)
        ar_debug ("seccomp: cannot store the compiled filter in %s", path);
      else
        ar_debug ("seccomp: stored the compiled filter in %s", path);
    }
  *out = program;
  return 0;
}
