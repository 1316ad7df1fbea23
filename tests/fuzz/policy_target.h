/* The body of the policy targets, shared by fuzz_policy_yaml.c and
 * fuzz_policy_json.c, which differ in the file name they pass: the parser
 * picks YAML or JSON by the name's extension. */
#ifndef AGENTRUN_FUZZ_POLICY_TARGET_H
#define AGENTRUN_FUZZ_POLICY_TARGET_H

#include <jansson.h>

#include "fuzz.h"
#include "policy/policy.h"

/* A config.json with the fields that policies edit, for ar_policy_compile. */
static const char fuzz_policy_config[] =
  "{\"ociVersion\": \"1.2.0\","
  " \"process\": {\"user\": {\"uid\": 0, \"gid\": 0}, \"args\": [\"/bin/sh\"], \"cwd\": \"/\","
  "  \"env\": [\"PATH=/bin\"], \"noNewPrivileges\": false,"
  "  \"capabilities\": {\"bounding\": [\"CAP_CHOWN\", \"CAP_NET_RAW\", \"CAP_SYS_ADMIN\"],"
  "   \"effective\": [\"CAP_CHOWN\", \"CAP_NET_RAW\"], \"permitted\": [\"CAP_CHOWN\", \"CAP_NET_RAW\"]},"
  "  \"rlimits\": [{\"type\": \"RLIMIT_NOFILE\", \"hard\": 1024, \"soft\": 1024}]},"
  " \"root\": {\"path\": \"rootfs\", \"readonly\": false},"
  " \"mounts\": [{\"destination\": \"/proc\", \"type\": \"proc\", \"source\": \"proc\"},"
  "  {\"destination\": \"/data\", \"type\": \"bind\", \"source\": \"/tmp\", \"options\": [\"rbind\", \"rw\"]}],"
  " \"annotations\": {\"io.example\": \"1\"},"
  " \"linux\": {\"namespaces\": [{\"type\": \"pid\"}, {\"type\": \"mount\"}],"
  "  \"resources\": {\"memory\": {\"limit\": 1073741824}, \"pids\": {\"limit\": 100}}}}";

static void
fuzz_policy_compile (const struct ar_policy *policy)
{
  json_error_t json_err;
  json_t *config = json_loads (fuzz_policy_config, 0, &json_err);
  json_t *result = NULL;
  ar_error_t err = NULL;

  if (config == NULL)
    abort ();
  if (ar_policy_compile (policy, config, "fuzz/config.json", &result, &err) < 0)
    fuzz_consume_error (&err);
  json_decref (result);
  result = NULL;
  if (ar_policy_compile (policy, NULL, "fuzz/config.json", &result, &err) < 0)
    fuzz_consume_error (&err);
  json_decref (result);
  json_decref (config);
}

/* Parses the input as a policy file named origin, formats the report, and
 * runs what the CLI runs on a valid policy: explain, diff, the seccomp
 * profile and compile. */
static inline int
fuzz_policy_one (const uint8_t *data, size_t size, const char *origin)
{
  struct ar_policy *policy = NULL;
  struct ar_policy_report *report = NULL;
  ar_error_t err = NULL;

  if (ar_policy_check_text ((const char *) data, size, origin, &policy, &report, &err) < 0)
    {
      fuzz_consume_error (&err);
      return 0;
    }
  free (ar_policy_report_format (report));
  ar_policy_report_free (report);
  if (policy == NULL)
    return 0;

  free (ar_policy_explain (policy));
  free (ar_policy_diff (policy, policy));
  json_decref (ar_policy_seccomp_profile (policy));
  fuzz_policy_compile (policy);
  ar_policy_free (policy);
  return 0;
}

#endif
