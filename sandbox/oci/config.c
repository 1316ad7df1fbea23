/* config.json parsed into struct ar_config: the top level, root, hooks and
 * annotations here; process, mounts, linux and seccomp in config_*.c. */
#define _GNU_SOURCE
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config_internal.h"
#include "util.h"

static const char *const namespace_names[AR_NS_COUNT] = {
  [AR_NS_PID] = "pid", [AR_NS_NETWORK] = "network", [AR_NS_MOUNT] = "mount",   [AR_NS_IPC] = "ipc",
  [AR_NS_UTS] = "uts", [AR_NS_USER] = "user",       [AR_NS_CGROUP] = "cgroup", [AR_NS_TIME] = "time",
};

static const char *const hook_kind_names[AR_HOOK_KIND_COUNT] = {
  [AR_HOOK_PRESTART] = "prestart",
  [AR_HOOK_CREATE_RUNTIME] = "createRuntime",
  [AR_HOOK_CREATE_CONTAINER] = "createContainer",
  [AR_HOOK_START_CONTAINER] = "startContainer",
  [AR_HOOK_POSTSTART] = "poststart",
  [AR_HOOK_POSTSTOP] = "poststop",
};

/* sethostname(2) and setdomainname(2) take at most 64 bytes. */
#define UTS_NAME_MAX 64

int
ar_namespace_type_from_name (const char *name)
{
  for (int i = 0; i < AR_NS_COUNT; i++)
    if (strcmp (namespace_names[i], name) == 0)
      return i;
  return -1;
}

const char *
ar_namespace_type_name (enum ar_namespace_type type)
{
  if ((int) type < 0 || type >= AR_NS_COUNT)
    return NULL;
  return namespace_names[type];
}

int
ar_hook_kind_from_name (const char *name)
{
  for (int i = 0; i < AR_HOOK_KIND_COUNT; i++)
    if (strcmp (hook_kind_names[i], name) == 0)
      return i;
  return -1;
}

const char *
ar_hook_kind_name (enum ar_hook_kind kind)
{
  if ((int) kind < 0 || kind >= AR_HOOK_KIND_COUNT)
    return NULL;
  return hook_kind_names[kind];
}

void
ar_config_free (struct ar_config *config)
{
  if (config == NULL)
    return;

  free (config->oci_version);
  ar_process_free (config->process);
  free (config->root.path);
  free (config->hostname);
  free (config->domainname);
  for (size_t i = 0; i < config->n_mounts; i++)
    ar_config_mount_clear (&config->mounts[i]);
  free (config->mounts);
  for (int kind = 0; kind < AR_HOOK_KIND_COUNT; kind++)
    {
      struct ar_hook_list *list = &config->hooks[kind];

      for (size_t i = 0; i < list->n_hooks; i++)
        {
          free (list->hooks[i].path);
          ar_strv_free (list->hooks[i].args);
          ar_strv_free (list->hooks[i].env);
        }
      free (list->hooks);
    }
  for (size_t i = 0; i < config->n_annotations; i++)
    {
      free (config->annotations[i].key);
      free (config->annotations[i].value);
    }
  free (config->annotations);
  ar_config_linux_clear (&config->linux_config);
  free (config->raw_json);
  free (config);
}

const char *
ar_config_annotation (const struct ar_config *config, const char *key)
{
  for (size_t i = 0; i < config->n_annotations; i++)
    if (strcmp (config->annotations[i].key, key) == 0)
      return config->annotations[i].value;
  return NULL;
}

void
ar_config_release (struct ar_config **config)
{
  if (config == NULL)
    return;
  ar_config_free (*config);
  *config = NULL;
}

static int
parse_root (const struct ar_json_at *at, json_t *obj, struct ar_root *root, ar_error_t *err)
{
  cleanup_free char *path = ar_json_path_member (at->path, "root");
  struct ar_json_at root_at = { at->origin, path };
  json_t *root_obj = NULL;
  int ret;

  ret = ar_json_member (at, obj, "root", JSON_OBJECT, true, &root_obj, err);
  if (ret < 0)
    return ret;

  ret = ar_json_string (&root_at, root_obj, "path", true, &root->path, err);
  if (ret < 0)
    return ret;
  if (root->path[0] == '\0')
    return ar_json_error (err, &root_at, "path", "is empty; give the root filesystem folder, usually `rootfs`");

  ret = ar_json_bool (&root_at, root_obj, "readonly", false, &root->readonly, err);
  return ret < 0 ? ret : 0;
}

static int
parse_uts_name (const struct ar_json_at *at, json_t *obj, const char *key, char **out, ar_error_t *err)
{
  int ret;

  ret = ar_json_string (at, obj, key, false, out, err);
  if (ret <= 0)
    return ret;
  if (strlen (*out) > UTS_NAME_MAX)
    return ar_json_error (err, at, key, "`%s` is longer than %d bytes", *out, UTS_NAME_MAX);
  return 0;
}

static int
parse_hook (const struct ar_json_at *at, json_t *obj, struct ar_hook *hook, ar_error_t *err)
{
  int64_t timeout = 0;
  int ret;

  if (!json_is_object (obj))
    return ar_json_error (err, at, NULL, "expected an object, got %s", ar_json_kind (obj));

  ret = ar_json_string (at, obj, "path", true, &hook->path, err);
  if (ret < 0)
    return ret;
  ret = ar_json_check_absolute (at, "path", hook->path, err);
  if (ret < 0)
    return ret;

  ret = ar_json_strv (at, obj, "args", false, &hook->args, err);
  if (ret < 0)
    return ret;
  ret = ar_json_strv (at, obj, "env", false, &hook->env, err);
  if (ret < 0)
    return ret;

  ret = ar_json_int64 (at, obj, "timeout", false, INT_MIN, INT_MAX, &timeout, err);
  if (ret < 0)
    return ret;
  if (ret > 0)
    {
      if (timeout <= 0)
        return ar_json_error (err, at, "timeout", "%lld seconds is not greater than zero; remove it to wait forever",
                              (long long) timeout);
      hook->has_timeout = true;
      hook->timeout = (int) timeout;
    }
  return 0;
}

static int
parse_hooks (const struct ar_json_at *at, json_t *obj, struct ar_config *config, ar_error_t *err)
{
  cleanup_free char *path = ar_json_path_member (at->path, "hooks");
  struct ar_json_at hooks_at = { at->origin, path };
  json_t *hooks = NULL;
  int ret;

  ret = ar_json_member (at, obj, "hooks", JSON_OBJECT, false, &hooks, err);
  if (ret <= 0)
    return ret;

  for (int kind = 0; kind < AR_HOOK_KIND_COUNT; kind++)
    {
      cleanup_free char *kind_path = ar_json_path_member (path, hook_kind_names[kind]);
      struct ar_hook_list *list = &config->hooks[kind];
      json_t *array = NULL;
      json_t *item;
      size_t i;

      ret = ar_json_member (&hooks_at, hooks, hook_kind_names[kind], JSON_ARRAY, false, &array, err);
      if (ret < 0)
        return ret;
      if (ret == 0)
        continue;

      list->hooks = ar_xmalloc0 (json_array_size (array) * sizeof (struct ar_hook));
      json_array_foreach (array, i, item)
        {
          cleanup_free char *item_path = ar_json_path_index (kind_path, i);
          struct ar_json_at item_at = { at->origin, item_path };

          list->n_hooks = i + 1;
          ret = parse_hook (&item_at, item, &list->hooks[i], err);
          if (ret < 0)
            return ret;
        }
    }
  return 0;
}

static int
parse_annotations (const struct ar_json_at *at, json_t *obj, struct ar_config *config, ar_error_t *err)
{
  cleanup_free char *path = ar_json_path_member (at->path, "annotations");
  json_t *annotations = NULL;
  const char *key;
  json_t *value;
  size_t i = 0;
  int ret;

  ret = ar_json_member (at, obj, "annotations", JSON_OBJECT, false, &annotations, err);
  if (ret <= 0)
    return ret;

  config->annotations = ar_xmalloc0 (json_object_size (annotations) * sizeof (struct ar_keyvalue));
  json_object_foreach (annotations, key, value)
    {
      cleanup_free char *item_path = ar_json_path_member (path, key);
      struct ar_json_at item_at = { at->origin, item_path };
      const char *s = NULL;

      ret = ar_json_string_value (&item_at, value, &s, err);
      if (ret < 0)
        return ret;

      config->annotations[i].key = ar_xstrdup (key);
      config->annotations[i].value = ar_xstrdup (s);
      config->n_annotations = ++i;
    }
  return 0;
}

/* Checks the rules that join two parts of the document. */
static int
check_cross_fields (const struct ar_json_at *at, const struct ar_config *config, ar_error_t *err)
{
  const struct ar_linux *linux_config = &config->linux_config;

  /* runtime-spec: an idmapped mount without its own mappings takes the
   * container's user namespace mapping, and is an error without one. */
  for (size_t i = 0; i < config->n_mounts; i++)
    {
      const struct ar_mount *mount = &config->mounts[i];

      if (mount->idmap && mount->uid_mappings == NULL && !linux_config->namespaces[AR_NS_USER].present)
        {
          cleanup_free char *path = ar_json_path_index ("mounts", i);
          struct ar_json_at mount_at = { at->origin, path };

          return ar_json_error (err, &mount_at, "options",
                                "idmap needs uidMappings and gidMappings on the mount, or a user namespace in "
                                "linux.namespaces");
        }
    }
  return 0;
}

int
ar_config_parse (const char *json_text, size_t len, const char *origin, struct ar_config **out, ar_error_t *err)
{
  cleanup_config struct ar_config *config = NULL;
  json_auto_t *root = NULL;
  struct ar_json_at at = { origin, "" };
  json_t *value = NULL;
  int ret;

  ret = ar_json_load (json_text, len, origin, &root, err);
  if (ret < 0)
    return ret;

  config = ar_xmalloc0 (sizeof (*config));

  ret = ar_json_string (&at, root, "ociVersion", true, &config->oci_version, err);
  if (ret < 0)
    return ret;

  ret = ar_json_member (&at, root, "process", JSON_OBJECT, false, &value, err);
  if (ret < 0)
    return ret;
  if (ret > 0)
    {
      struct ar_json_at process_at = { origin, "process" };

      ret = ar_config_process_parse (&process_at, value, &config->process, err);
      if (ret < 0)
        return ret;
    }

  ret = parse_root (&at, root, &config->root, err);
  if (ret < 0)
    return ret;
  ret = parse_uts_name (&at, root, "hostname", &config->hostname, err);
  if (ret < 0)
    return ret;
  ret = parse_uts_name (&at, root, "domainname", &config->domainname, err);
  if (ret < 0)
    return ret;

  ret = ar_json_member (&at, root, "mounts", JSON_ARRAY, false, &value, err);
  if (ret < 0)
    return ret;
  if (ret > 0)
    {
      struct ar_json_at mounts_at = { origin, "mounts" };

      ret = ar_config_mounts_parse (&mounts_at, value, config, err);
      if (ret < 0)
        return ret;
    }

  ret = parse_hooks (&at, root, config, err);
  if (ret < 0)
    return ret;
  ret = parse_annotations (&at, root, config, err);
  if (ret < 0)
    return ret;

  ret = ar_json_member (&at, root, "linux", JSON_OBJECT, false, &value, err);
  if (ret < 0)
    return ret;
  if (ret > 0)
    {
      struct ar_json_at linux_at = { origin, "linux" };

      ret = ar_config_linux_parse (&linux_at, value, &config->linux_config, err);
      if (ret < 0)
        return ret;
    }

  ret = check_cross_fields (&at, config, err);
  if (ret < 0)
    return ret;

  config->raw_json = ar_xmalloc0 (len + 1);
  memcpy (config->raw_json, json_text, len);

  *out = ar_steal_ptr (config);
  return 0;
}

int
ar_config_load_bundle (const char *bundle, struct ar_config **out, ar_error_t *err)
{
  cleanup_free char *path = NULL;
  cleanup_free char *text = NULL;
  cleanup_close int dirfd = -1;
  struct stat st;
  size_t len_bundle;
  size_t len = 0;
  int ret;

  dirfd = open (bundle, O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (dirfd < 0)
    {
      if (errno == ENOENT)
        return ar_make_error (err, errno, "bundle `%s` not found; pass the bundle folder with --bundle", bundle);
      if (errno == ENOTDIR)
        return ar_make_error (err, errno, "bundle `%s` is not a folder; pass the folder that holds config.json",
                              bundle);
      return ar_make_error (err, errno, "cannot open bundle `%s`", bundle);
    }

  if (fstatat (dirfd, "config.json", &st, 0) < 0 && errno == ENOENT)
    return ar_make_error (err, ENOENT, "bundle `%s`: config.json not found; create one with `agentrun spec`", bundle);

  ret = ar_read_file_at (dirfd, "config.json", &text, &len, err);
  if (ret < 0)
    return ar_error_wrap (err, "bundle `%s`", bundle);

  len_bundle = strlen (bundle);
  path = ar_xasprintf ("%s%sconfig.json", bundle, len_bundle > 0 && bundle[len_bundle - 1] == '/' ? "" : "/");
  return ar_config_parse (text, len, path, out, err);
}
