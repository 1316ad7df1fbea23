/* The container's SPIFFE identity from the local CA: the runtime side of
 * spiffe/, which handles the annotations, the rootfs and the mounts. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
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

struct ar_identity
{
  char *svid_dir;     /* absolute, inside the container */
  char *spiffe_id;
  char *trust_domain;
  char *ca_dir;       /* absolute path of the local CA folder */
  uint64_t lifetime;  /* seconds; 0 means the CA's default */
  char **audiences;   /* of the JWT-SVID; empty without one */
  struct ar_spiffe_svid *svid; /* the first set, written at create */
};

void
ar_identity_free (struct ar_identity *identity)
{
  if (identity == NULL)
    return;
  free (identity->svid_dir);
  free (identity->spiffe_id);
  free (identity->trust_domain);
  free (identity->ca_dir);
  ar_strv_free (identity->audiences);
  ar_spiffe_svid_free (identity->svid);
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
ar_identity_first_svid (const struct ar_identity *identity)
{
  return identity->svid;
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

static int
add_env (struct ar_process *process, const char *svid_dir)
{
  size_t n = ar_strv_len (process->env);
  char **env = realloc (process->env, sizeof (char *) * (n + 2));

  if (env == NULL)
    return -ENOMEM;
  env[n] = ar_xasprintf ("%s=%s", AR_IDENTITY_ENV, svid_dir);
  env[n + 1] = NULL;
  process->env = env;
  return 0;
}

static char *
absolute_path (const char *path)
{
  cleanup_free char *cwd = getcwd (NULL, 0);

  return cwd != NULL ? ar_xasprintf ("%s/%s", cwd, path) : ar_xstrdup (path);
}

/* Picks the source of the container's SVIDs from its annotations: today
 * the local CA folder, which *ca_dir receives.  A new source adds its
 * annotation here and its fetch to ar_identity_renew. */
static int
choose_source (const struct ar_config *config, const char **ca_dir, ar_error_t *err)
{
  *ca_dir = find_annotation (config, AR_IDENTITY_ANNOTATION_CA);
  if (*ca_dir != NULL)
    return 0;

  if (find_annotation (config, AR_IDENTITY_ANNOTATION_WORKLOAD_API) != NULL)
    /* TODO: fetch the SVIDs from the SPIFFE Workload API that the
     * annotation agentrun.identity.workload-api names. */
    return ar_make_error (err, ENOTSUP,
                          "annotation %s: this agentrun cannot fetch SVIDs from a SPIFFE Workload API yet; set "
                          "the annotation %s to a local CA folder instead",
                          AR_IDENTITY_ANNOTATION_WORKLOAD_API, AR_IDENTITY_ANNOTATION_CA);

  return ar_make_error (err, EINVAL,
                        "annotation %s requests a SPIFFE identity, but no annotation names a source of SVIDs; set "
                        "%s to a CA folder made by `agentrun ca init`, or %s to a SPIFFE Workload API socket",
                        AR_IDENTITY_ANNOTATION_POLICY, AR_IDENTITY_ANNOTATION_CA, AR_IDENTITY_ANNOTATION_WORKLOAD_API);
}

int
ar_identity_renew (const struct ar_identity *identity, struct ar_spiffe_svid **out, ar_error_t *err)
{
  cleanup_spiffe_ca struct ar_spiffe_ca *ca = NULL;

  /* The CA is loaded again on every renewal, so that a replaced CA
   * takes effect and an expired one is reported. */
  if (ar_spiffe_ca_load (identity->ca_dir, &ca, err) < 0)
    return -1;
  if (strcmp (ar_spiffe_ca_trust_domain (ca), identity->trust_domain) != 0)
    return ar_make_error (err, 0, "the CA `%s` is for trust domain `%s`, but the policy's trust domain is `%s`",
                          identity->ca_dir, ar_spiffe_ca_trust_domain (ca), identity->trust_domain);
  return ar_spiffe_ca_mint (ca, identity->spiffe_id, identity->lifetime, identity->audiences, out, err);
}

int
ar_identity_prepare (struct ar_config *config, const char *container_id, struct ar_identity **out,
                     ar_error_t *err)
{
  const char *policy_text = find_annotation (config, AR_IDENTITY_ANNOTATION_POLICY);
  const char *ca_dir = NULL;
  cleanup_free char *spiffe_id = NULL;
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
  if (choose_source (config, &ca_dir, err) < 0)
    return -1;
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
  /* Symbolic links in the path stay unresolved, so that a CA folder
   * replaced by swapping a link signs the next renewal. */
  identity->ca_dir = ca_dir[0] == '/' ? ar_xstrdup (ca_dir) : absolute_path (ca_dir);
  identity->audiences = ar_xmalloc0 (sizeof (char *) * (json_array_size (audience_list) + 1));
  json_array_foreach (audience_list, i, item)
    identity->audiences[i] = ar_xstrdup (json_string_value (item) ? json_string_value (item) : "");

  ret = ar_spiffe_id_from_template (id_template, lookup_placeholder, &values, &spiffe_id, err);
  json_decref (policy);
  if (ret == 0)
    {
      identity->spiffe_id = ar_steal_ptr (spiffe_id);
      ret = ar_identity_renew (identity, &identity->svid, err);
    }
  if (ret == 0 && add_env (config->process, identity->svid_dir) < 0)
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
ar_identity_exec_env (struct ar_process *process, const struct ar_config *config, ar_error_t *err)
{
  const char *policy_text = find_annotation (config, AR_IDENTITY_ANNOTATION_POLICY);
  const char *svid_dir;
  json_error_t json_err;
  json_t *policy;
  int ret = 0;

  if (policy_text == NULL)
    return 0;
  for (size_t i = 0; process->env != NULL && process->env[i] != NULL; i++)
    if (ar_str_has_prefix (process->env[i], AR_IDENTITY_ENV "="))
      return 0;

  policy = json_loads (policy_text, 0, &json_err);
  svid_dir = json_string_value (json_object_get (policy, "svid_dir"));
  if (svid_dir == NULL)
    {
      json_decref (policy);
      return ar_make_error (err, 0, "annotation %s: expected an svid_dir", AR_IDENTITY_ANNOTATION_POLICY);
    }
  if (add_env (process, svid_dir) < 0)
    ret = ar_make_error (err, ENOMEM, "cannot add %s to the process's environment", AR_IDENTITY_ENV);
  json_decref (policy);
  return ret;
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
