/* The container's SPIFFE identity from the local CA or a SPIRE agent: the
 * runtime side of spiffe/, which handles the annotations, the rootfs and
 * the mounts. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "identity.h"
#include "oci/log.h"
#include "oci/util.h"
#include "rootfs.h"
#include "spiffe/ca.h"
#include "spiffe/id.h"
#include "spiffe/workload.h"

struct ar_identity
{
  char *svid_dir; /* absolute, inside the container */
  struct ar_spiffe_svid *svid;

  /* The source of the SVIDs, kept for ar_identity_fetch: the local CA of
   * ca_dir, or else the SPIRE agent that source describes. */
  char *spiffe_id;
  char *trust_domain;
  char **audiences;
  char *ca_dir;
  uint64_t lifetime;
  char *endpoint;
  char **selectors;
  struct ar_spiffe_source source;
};

void
ar_identity_free (struct ar_identity *identity)
{
  if (identity == NULL)
    return;
  free (identity->svid_dir);
  ar_spiffe_svid_free (identity->svid);
  free (identity->spiffe_id);
  free (identity->trust_domain);
  ar_strv_free (identity->audiences);
  free (identity->ca_dir);
  free (identity->endpoint);
  ar_strv_free (identity->selectors);
  free (identity);
}

const char *
ar_identity_svid_dir (const struct ar_identity *identity)
{
  return identity->svid_dir;
}

const char *
ar_identity_spiffe_id (const struct ar_identity *identity)
{
  return identity->spiffe_id;
}

const struct ar_spiffe_svid *
ar_identity_svid (const struct ar_identity *identity)
{
  return identity->svid;
}

int
ar_identity_fetch (const struct ar_identity *identity, struct ar_spiffe_svid **out, ar_error_t *err)
{
  cleanup_spiffe_ca struct ar_spiffe_ca *ca = NULL;
  int ret;

  /* The agent chooses the lifetime; lifetime_seconds applies to the CA. */
  if (identity->ca_dir == NULL)
    return ar_spiffe_fetch (&identity->source, out, err);

  ret = ar_spiffe_ca_load (identity->ca_dir, &ca, err);
  if (ret < 0)
    return ret;
  if (strcmp (ar_spiffe_ca_trust_domain (ca), identity->trust_domain) != 0)
    return ar_make_error (err, 0, "the CA `%s` is for trust domain `%s`, but the policy's trust domain is `%s`",
                          identity->ca_dir, ar_spiffe_ca_trust_domain (ca), identity->trust_domain);
  return ar_spiffe_ca_mint (ca, identity->spiffe_id, identity->lifetime, identity->audiences, out, err);
}

static bool
strv_contains (char *const *list, const char *value)
{
  for (size_t i = 0; list != NULL && list[i] != NULL; i++)
    if (strcmp (list[i], value) == 0)
      return true;
  return false;
}

int
ar_identity_jwt_bundle (const struct ar_identity *identity, char **json, ar_error_t *err)
{
  cleanup_free char *path = NULL;

  if (identity->ca_dir == NULL)
    return ar_make_error (err, ENOENT, "no JWT bundle: the SVIDs come from a SPIRE agent");
  path = ar_xasprintf ("%s/" AR_SPIFFE_JWT_BUNDLE, identity->ca_dir);
  return ar_read_file (path, json, NULL, err);
}

int
ar_identity_jwt_svid (const struct ar_identity *identity, const struct ar_spiffe_svid *current,
                      char *const *audiences, char **token, ar_error_t *err)
{
  cleanup_spiffe_ca struct ar_spiffe_ca *ca = NULL;
  cleanup_spiffe_svid struct ar_spiffe_svid *minted = NULL;
  int ret;

  if (identity->ca_dir == NULL)
    {
      /* A SPIRE agent issued the JWT-SVID for the policy's audiences. */
      for (size_t i = 0; audiences[i] != NULL; i++)
        if (!strv_contains (identity->audiences, audiences[i]))
          return ar_make_error (err, ENOENT,
                                "the container has no JWT-SVID for audience `%s`; add it to the identity "
                                "policy's jwt_audiences",
                                audiences[i]);
      if (current == NULL || current->jwt_svid == NULL)
        return ar_make_error (err, ENOENT, "the container has no JWT-SVID");
      *token = ar_xstrdup (current->jwt_svid);
      return 0;
    }

  ret = ar_spiffe_ca_load (identity->ca_dir, &ca, err);
  if (ret < 0)
    return ret;
  ret = ar_spiffe_ca_mint (ca, identity->spiffe_id, identity->lifetime, audiences, &minted, err);
  if (ret < 0)
    return ret;
  *token = minted->jwt_svid;
  minted->jwt_svid = NULL;
  return 0;
}

static const char *
find_annotation (const struct ar_config *config, const char *key)
{
  for (size_t i = 0; i < config->n_annotations; i++)
    if (strcmp (config->annotations[i].key, key) == 0)
      return config->annotations[i].value;
  return NULL;
}

struct template_values
{
  const struct ar_config *config;
  const char *container_id;
  const char *trust_domain;
};

/* Resolves the placeholders that the policy compiler leaves to the
 * runtime: {container_id}, {trust_domain} and {annotation:KEY}. */
static const char *
lookup_placeholder (const char *name, void *user_data)
{
  const struct template_values *values = user_data;

  if (strcmp (name, "container_id") == 0)
    return values->container_id;
  if (strcmp (name, "trust_domain") == 0)
    return values->trust_domain;
  if (ar_str_has_prefix (name, "annotation:"))
    return find_annotation (values->config, name + strlen ("annotation:"));
  return NULL;
}

/* Checks that config has every annotation that the template's
 * {annotation:KEY} placeholders name, so that a missing one fails with
 * its key and the way to set it. */
static int
check_template_annotations (const struct ar_config *config, const char *id_template, ar_error_t *err)
{
  static const char prefix[] = "{annotation:";

  for (const char *p = strstr (id_template, prefix); p != NULL; p = strstr (p + 1, prefix))
    {
      const char *key = p + strlen (prefix);
      size_t key_len = strcspn (key, "{}");
      cleanup_free char *name = NULL;

      if (key[key_len] != '}')
        continue;
      name = ar_xmalloc0 (key_len + 1);
      memcpy (name, key, key_len);
      if (find_annotation (config, name) == NULL)
        return ar_make_error (err, ENOENT,
                              "the SPIFFE ID template `%s` needs the annotation `%s`, which config.json does not "
                              "have; add annotations[\"%s\"] (Kubernetes sets pod annotations through the CRI "
                              "runtime; podman: --annotation %s=VALUE), or remove {annotation:%s} from the policy's "
                              "identity.id_template",
                              id_template, name, name, name, name);
    }
  return 0;
}

static char *
absolute_path (const char *path)
{
  cleanup_free char *cwd = getcwd (NULL, 0);

  return cwd != NULL ? ar_xasprintf ("%s/%s", cwd, path) : ar_xstrdup (path);
}

/* Splits the selectors of AR_IDENTITY_ANNOTATION_DELEGATED at commas. */
static int
parse_selectors (const char *value, char ***out, ar_error_t *err)
{
  cleanup_free char *copy = ar_xstrdup (value);
  cleanup_strv char **selectors = ar_xmalloc0 (sizeof (char *) * (strlen (value) / 2 + 2));
  char *saveptr = NULL, *item;
  size_t n = 0;

  if (value[0] == '\0' || value[0] == ',' || value[strlen (value) - 1] == ',' || strstr (value, ",,") != NULL)
    return ar_make_error (err, 0, "annotation %s: `%s` has an empty selector; give `true` or selectors "
                          "TYPE:VALUE separated by commas", AR_IDENTITY_ANNOTATION_DELEGATED, value);
  for (item = strtok_r (copy, ",", &saveptr); item != NULL; item = strtok_r (NULL, ",", &saveptr))
    {
      const char *colon = strchr (item, ':');

      if (colon == NULL || colon == item || colon[1] == '\0')
        return ar_make_error (err, 0, "annotation %s: selector `%s` is not of the form TYPE:VALUE, e.g. "
                              "`unix:uid:1000`", AR_IDENTITY_ANNOTATION_DELEGATED, item);
      selectors[n++] = ar_xstrdup (item);
    }
  *out = ar_steal_ptr (selectors);
  return 0;
}

/* Describes the SPIRE agent at endpoint as the identity's source. */
static int
set_agent_source (const struct ar_config *config, const char *endpoint, struct ar_identity *identity,
                  ar_error_t *err)
{
  const char *delegated = find_annotation (config, AR_IDENTITY_ANNOTATION_DELEGATED);
  int ret;

  identity->endpoint = ar_xstrdup (endpoint);
  identity->source.endpoint = identity->endpoint;
  identity->source.spiffe_id = identity->spiffe_id;
  identity->source.audiences = identity->audiences;
  if (delegated == NULL || strcmp (delegated, "false") == 0)
    return 0;

  identity->source.delegated = true;
  if (strcmp (delegated, "true") == 0)
    {
      /* TODO: with a user namespace, the agent attests the host uid that
       * process.user.uid maps to, so this selector does not match. */
      identity->selectors = ar_xmalloc0 (sizeof (char *) * 2);
      identity->selectors[0] = ar_xasprintf ("unix:uid:%u", (unsigned) config->process->user.uid);
    }
  else
    {
      ret = parse_selectors (delegated, &identity->selectors, err);
      if (ret < 0)
        return ret;
    }
  identity->source.selectors = identity->selectors;
  return 0;
}

int
ar_identity_prepare (struct ar_config *config, const char *container_id, struct ar_identity **out,
                     ar_error_t *err)
{
  const char *policy_text = find_annotation (config, AR_IDENTITY_ANNOTATION_POLICY);
  const char *ca_dir = find_annotation (config, AR_IDENTITY_ANNOTATION_CA);
  const char *endpoint = find_annotation (config, AR_IDENTITY_ANNOTATION_WORKLOAD_API);
  struct ar_identity *identity;
  struct template_values values = { .config = config, .container_id = container_id };
  const char *id_template, *svid_dir;
  json_int_t lifetime = 0;
  json_t *policy, *audience_list, *item;
  json_error_t json_err;
  size_t i;
  int ret;

  *out = NULL;
  if (policy_text == NULL)
    return 0;
  if (ca_dir != NULL && endpoint != NULL)
    return ar_make_error (err, 0, "annotations %s and %s both name a source of SVIDs; keep one",
                          AR_IDENTITY_ANNOTATION_CA, AR_IDENTITY_ANNOTATION_WORKLOAD_API);
  if (ca_dir == NULL && endpoint == NULL)
    endpoint = getenv (AR_SPIFFE_ENDPOINT_ENV);
  if (ca_dir == NULL && endpoint == NULL)
    return ar_make_error (err, 0,
                          "annotation %s requests a SPIFFE identity, but nothing names a source of SVIDs; set %s to "
                          "a CA folder made by `agentrun ca init`, or %s (or %s in the runtime's environment) to a "
                          "SPIRE agent's socket",
                          AR_IDENTITY_ANNOTATION_POLICY, AR_IDENTITY_ANNOTATION_CA,
                          AR_IDENTITY_ANNOTATION_WORKLOAD_API, AR_SPIFFE_ENDPOINT_ENV);
  if (config->process == NULL)
    return 0;
  if (!config->linux_config.namespaces[AR_NS_MOUNT].present)
    return ar_make_error (err, 0, "annotation %s: a SPIFFE identity needs a mount namespace for its tmpfs; add "
                          "linux.namespaces of type mount", AR_IDENTITY_ANNOTATION_POLICY);

  policy = json_loads (policy_text, 0, &json_err);
  if (policy == NULL)
    return ar_make_error (err, 0, "annotation %s: invalid JSON: %s", AR_IDENTITY_ANNOTATION_POLICY, json_err.text);
  values.trust_domain = json_string_value (json_object_get (policy, "trust_domain"));
  id_template = json_string_value (json_object_get (policy, "id_template"));
  svid_dir = json_string_value (json_object_get (policy, "svid_dir"));
  audience_list = json_object_get (policy, "jwt_audiences");
  if (json_is_integer (json_object_get (policy, "lifetime_seconds")))
    lifetime = json_integer_value (json_object_get (policy, "lifetime_seconds"));
  if (values.trust_domain == NULL || id_template == NULL || svid_dir == NULL || svid_dir[0] != '/'
      || lifetime < 0)
    {
      json_decref (policy);
      return ar_make_error (err, 0,
                            "annotation %s: expected trust_domain, id_template and an absolute svid_dir; compile the "
                            "policy again with `agentrun policy compile`",
                            AR_IDENTITY_ANNOTATION_POLICY);
    }

  identity = ar_xmalloc0 (sizeof *identity);
  identity->svid_dir = ar_xstrdup (svid_dir);
  identity->trust_domain = ar_xstrdup (values.trust_domain);
  identity->lifetime = (uint64_t) lifetime;
  identity->audiences = ar_xmalloc0 (sizeof (char *) * (json_array_size (audience_list) + 1));
  json_array_foreach (audience_list, i, item)
    identity->audiences[i] = ar_xstrdup (json_string_value (item));

  ret = check_template_annotations (config, id_template, err);
  if (ret == 0)
    ret = ar_spiffe_id_from_template (id_template, lookup_placeholder, &values, &identity->spiffe_id, err);
  json_decref (policy);
  if (ret == 0 && ca_dir != NULL)
    identity->ca_dir = ca_dir[0] == '/' ? ar_xstrdup (ca_dir) : absolute_path (ca_dir);
  else if (ret == 0)
    ret = set_agent_source (config, endpoint, identity, err);
  if (ret == 0)
    ret = ar_identity_fetch (identity, &identity->svid, err);
  if (ret == 0 && ar_identity_add_env (config->process, identity->svid_dir) < 0)
    ret = ar_make_error (err, ENOMEM, "cannot add %s to process.env", AR_IDENTITY_ENV);
  if (ret < 0)
    {
      ar_identity_free (identity);
      return ar_error_wrap (err, "cannot give the container its SPIFFE identity");
    }

  ar_debug ("container %s gets SPIFFE ID %s in %s", container_id, identity->spiffe_id, identity->svid_dir);
  *out = identity;
  return 0;
}

int
ar_identity_install (const struct ar_identity *identity, const char *rootfs, uid_t uid, gid_t gid, int *dir_fd_out,
                     ar_error_t *err)
{
  cleanup_close int root_fd = open (rootfs, O_PATH | O_DIRECTORY | O_CLOEXEC);
  cleanup_close int target_fd = -1;
  cleanup_close int dir_fd = -1;
  cleanup_free char *target = NULL;
  int ret;

  if (root_fd < 0)
    return ar_make_error (err, errno, "cannot open the rootfs `%s`", rootfs);
  ret = ar_path_open_in_root (root_fd, identity->svid_dir, AR_PATH_CREATE_DIR, &target_fd, err);
  if (ret < 0)
    return ar_error_wrap (err, "cannot create the SVID folder `%s` in the rootfs", identity->svid_dir);

  /* The files live only in this tmpfs, in the container's mount
   * namespace: never on the host's disk, and gone with the container. */
  target = ar_xasprintf ("/proc/self/fd/%d", target_fd);
  if (mount ("tmpfs", target, "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, "mode=0755,size=1m") < 0)
    return ar_make_error (err, errno, "cannot mount a tmpfs at the SVID folder `%s`", identity->svid_dir);

  ret = ar_path_open_in_root (root_fd, identity->svid_dir, AR_PATH_NO_CREATE, &dir_fd, err);
  if (ret < 0)
    return ar_error_wrap (err, "cannot open the SVID folder `%s`", identity->svid_dir);
  ret = ar_spiffe_svid_write (dir_fd, identity->svid, uid, gid, err);
  if (ret < 0)
    return ar_error_wrap (err, "in the container's `%s`", identity->svid_dir);

  *dir_fd_out = ar_steal_fd (dir_fd);
  return 0;
}
