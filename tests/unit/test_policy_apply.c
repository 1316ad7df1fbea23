/* Applying a policy to config.json.  Every kind of request beyond the
 * policy is a conflict that names the config field and the policy rule.
 * Enforce mode rejects it and leaves the document alone, audit mode
 * reports it and blocks nothing, and absent values are filled in. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "oci/config.h"
#include "oci/util.h"
#include "policy/policy.h"
#include "unit.h"

static struct ar_policy *
load_policy (const char *text)
{
  struct ar_policy *policy = NULL;
  cleanup_error ar_error_t err = NULL;

  if (ar_policy_load_text (text, strlen (text), "p.yaml", &policy, &err) < 0)
    {
      cleanup_free char *message = ar_error_format (err);
      fprintf (stderr, "cannot load the test policy: %s\n", message);
      unit_failures++;
    }
  return policy;
}

static json_t *
load_json (const char *text)
{
  json_error_t error;
  json_t *value = json_loads (text, 0, &error);

  if (value == NULL)
    {
      fprintf (stderr, "invalid test JSON at line %d: %s\n", error.line, error.text);
      unit_failures++;
    }
  return value;
}

/* A config.json that the policies below accept as it is. */
#define QUIET_CONFIG                                                                                          \
  "{\"ociVersion\": \"1.2.0\", \"root\": {\"path\": \"rootfs\", \"readonly\": true},"                          \
  " \"process\": {\"args\": [\"sh\"], \"cwd\": \"/\", \"user\": {\"uid\": 1000, \"gid\": 1000},"               \
  " \"noNewPrivileges\": true, \"capabilities\": {\"bounding\": [\"CAP_NET_BIND_SERVICE\"]}},"                \
  " \"mounts\": [{\"destination\": \"/proc\", \"type\": \"proc\", \"source\": \"proc\"},"                     \
  " {\"destination\": \"/dev\", \"type\": \"tmpfs\", \"source\": \"tmpfs\"},"                                 \
  " {\"destination\": \"/workspace\", \"type\": \"bind\", \"source\": \"/srv/w\", \"options\": [\"rbind\"]}," \
  " {\"destination\": \"/etc/hosts\", \"type\": \"bind\", \"source\": \"/h\", \"options\": [\"bind\", \"ro\"]}],"   \
  " \"linux\": {\"namespaces\": [{\"type\": \"pid\"}, {\"type\": \"network\"}, {\"type\": \"mount\"}],"        \
  " \"resources\": {\"memory\": {\"limit\": 268435456}}}}"

#define POLICY_HEADER "name: t\nversion: 1\n"

/* A policy that sets a rule for each conflict of the table below. */
static const char ceiling_policy[] = POLICY_HEADER "filesystem:\n"                       /* 3 */
                                                   "  readwrite_paths: [/workspace]\n"   /* 4 */
                                                   "  denied_paths: [/secrets]\n"        /* 5 */
                                                   "  tmpfs:\n"                          /* 6 */
                                                   "    - path: /tmp\n"                  /* 7 */
                                                   "      size: 64Mi\n"                  /* 8 */
                                                   "process:\n"                          /* 9 */
                                                   "  user: \"1000:1000\"\n"             /* 10 */
                                                   "  capabilities: [CAP_NET_BIND_SERVICE]\n" /* 11 */
                                                   "resources:\n"                        /* 12 */
                                                   "  memory: 512Mi\n"                   /* 13 */
                                                   "  cpu: 1\n"                          /* 14 */
                                                   "  pids: 100\n"                       /* 15 */
                                                   "  io_weight: 100\n"                  /* 16 */
                                                   "  open_files: 1024\n"                /* 17 */
                                                   "network:\n"                          /* 18 */
                                                   "  mode: none\n";                     /* 19 */

/* One request beyond ceiling_policy, as a JSON merge into QUIET_CONFIG. */
struct excess
{
  const char *name;
  const char *config; /* the whole config.json */
  const char *config_field;
  const char *policy_rule;
  const char *policy_field;
};

#define PROCESS_WITH(extra)                                                                                        \
  "{\"ociVersion\": \"1.2.0\", \"root\": {\"path\": \"rootfs\"}, \"process\": {\"args\": [\"sh\"], \"cwd\": \"/\"," \
  " \"user\": {\"uid\": 1000, \"gid\": 1000}, " extra "}, \"linux\": {\"namespaces\": [{\"type\": \"pid\"},"         \
  " {\"type\": \"network\"}]}}"
#define MOUNT_WITH(mount)                                                                                       \
  "{\"ociVersion\": \"1.2.0\", \"root\": {\"path\": \"rootfs\"}, \"mounts\": [" mount "], \"linux\":"           \
  " {\"namespaces\": [{\"type\": \"pid\"}, {\"type\": \"network\"}]}}"
#define LINUX_WITH(extra)                                                                                       \
  "{\"ociVersion\": \"1.2.0\", \"root\": {\"path\": \"rootfs\"}, \"linux\": {" extra "}}"
#define NAMESPACES "\"namespaces\": [{\"type\": \"pid\"}, {\"type\": \"network\"}]"

static const struct excess excesses[] = {
  { "capability not kept", PROCESS_WITH ("\"capabilities\": {\"bounding\": [\"CAP_NET_BIND_SERVICE\", \"CAP_SYS_ADMIN\"]}"),
    "process.capabilities.bounding[1]", "p.yaml:11:17", "process.capabilities" },
  { "ambient capability not kept", PROCESS_WITH ("\"capabilities\": {\"ambient\": [\"CAP_KILL\"]}"),
    "process.capabilities.ambient[0]", "p.yaml:11:17", "process.capabilities" },
  { "other uid", "{\"ociVersion\": \"1.2.0\", \"root\": {\"path\": \"r\"}, \"process\": {\"args\": [\"sh\"], \"cwd\":"
                 " \"/\", \"user\": {\"uid\": 0, \"gid\": 1000}}, \"linux\": {" NAMESPACES "}}",
    "process.user.uid", "p.yaml:10:9", "process.user" },
  { "other gid", "{\"ociVersion\": \"1.2.0\", \"root\": {\"path\": \"r\"}, \"process\": {\"args\": [\"sh\"], \"cwd\":"
                 " \"/\", \"user\": {\"uid\": 1000, \"gid\": 0}}, \"linux\": {" NAMESPACES "}}",
    "process.user.gid", "p.yaml:10:9", "process.user" },
  { "no new privileges off", PROCESS_WITH ("\"noNewPrivileges\": false"), "process.noNewPrivileges",
    "p.yaml (default)", "process.no_new_privileges" },
  { "open files above", PROCESS_WITH ("\"rlimits\": [{\"type\": \"RLIMIT_NOFILE\", \"soft\": 1024, \"hard\": 4096}]"),
    "process.rlimits[0].hard", "p.yaml:17:15", "resources.open_files" },
  { "writable root", "{\"ociVersion\": \"1.2.0\", \"root\": {\"path\": \"r\", \"readonly\": false}, \"linux\": {"
                     NAMESPACES "}}",
    "root.readonly", "p.yaml (default)", "filesystem.readonly_rootfs" },
  { "mount over denied path", MOUNT_WITH ("{\"destination\": \"/secrets/k\", \"type\": \"bind\", \"source\": \"/k\","
                                          " \"options\": [\"bind\", \"ro\"]}"),
    "mounts[0].destination", "p.yaml:5:18", "filesystem.denied_paths" },
  { "writable mount outside", MOUNT_WITH ("{\"destination\": \"/data\", \"type\": \"bind\", \"source\": \"/d\","
                                          " \"options\": [\"rbind\", \"rw\"]}"),
    "mounts[0].destination", "p.yaml:4:20", "filesystem.readwrite_paths" },
  { "writable sysfs", MOUNT_WITH ("{\"destination\": \"/sys\", \"type\": \"sysfs\", \"source\": \"sysfs\"}"),
    "mounts[0].destination", "p.yaml:4:20", "filesystem.readwrite_paths" },
  { "bind mount at tmpfs path", MOUNT_WITH ("{\"destination\": \"/tmp\", \"type\": \"bind\", \"source\": \"/t\","
                                            " \"options\": [\"rbind\"]}"),
    "mounts[0].type", "p.yaml:7:7", "filesystem.tmpfs" },
  { "bigger tmpfs", MOUNT_WITH ("{\"destination\": \"/tmp\", \"type\": \"tmpfs\", \"source\": \"tmpfs\","
                                " \"options\": [\"size=128m\"]}"),
    "mounts[0].options", "p.yaml:7:7", "filesystem.tmpfs" },
  { "tmpfs sized in percent", MOUNT_WITH ("{\"destination\": \"/tmp\", \"type\": \"tmpfs\", \"source\": \"tmpfs\","
                                          " \"options\": [\"size=50%\"]}"),
    "mounts[0].options", "p.yaml:7:7", "filesystem.tmpfs" },
  { "host network", LINUX_WITH ("\"namespaces\": [{\"type\": \"pid\"}]"), "linux.namespaces", "p.yaml:19:9",
    "network.mode" },
  { "joined network namespace", LINUX_WITH ("\"namespaces\": [{\"type\": \"pid\"}, {\"type\": \"network\","
                                            " \"path\": \"/run/netns/cni-1\"}]"),
    "linux.namespaces[1].path", "p.yaml:19:9", "network.mode" },
  { "host pid", LINUX_WITH ("\"namespaces\": [{\"type\": \"network\"}]"), "linux.namespaces", "p.yaml (default)",
    "process.host_pid" },
  { "more memory", LINUX_WITH (NAMESPACES ", \"resources\": {\"memory\": {\"limit\": 1073741824}}"),
    "linux.resources.memory.limit", "p.yaml:13:11", "resources.memory" },
  { "unlimited memory", LINUX_WITH (NAMESPACES ", \"resources\": {\"memory\": {\"limit\": -1}}"),
    "linux.resources.memory.limit", "p.yaml:13:11", "resources.memory" },
  { "swap as podman sets it", LINUX_WITH (NAMESPACES ", \"resources\": {\"memory\": {\"limit\": 536870912,"
                                          " \"swap\": 1073741824}}"),
    "linux.resources.memory.swap", "p.yaml:13:11", "resources.memory" },
  { "more cpu", LINUX_WITH (NAMESPACES ", \"resources\": {\"cpu\": {\"quota\": 200000, \"period\": 100000}}"),
    "linux.resources.cpu.quota", "p.yaml:14:8", "resources.cpu" },
  { "unlimited cpu", LINUX_WITH (NAMESPACES ", \"resources\": {\"cpu\": {\"quota\": -1}}"),
    "linux.resources.cpu.quota", "p.yaml:14:8", "resources.cpu" },
  { "more pids", LINUX_WITH (NAMESPACES ", \"resources\": {\"pids\": {\"limit\": 4096}}"),
    "linux.resources.pids.limit", "p.yaml:15:9", "resources.pids" },
  { "unlimited pids", LINUX_WITH (NAMESPACES ", \"resources\": {\"pids\": {\"limit\": 0}}"),
    "linux.resources.pids.limit", "p.yaml:15:9", "resources.pids" },
  { "more io weight", LINUX_WITH (NAMESPACES ", \"resources\": {\"blockIO\": {\"weight\": 500}}"),
    "linux.resources.blockIO.weight", "p.yaml:16:14", "resources.io_weight" },
  { "spoofed network annotation", "{\"ociVersion\": \"1.2.0\", \"root\": {\"path\": \"r\"}, \"annotations\":"
                                  " {\"agentrun.policy.network\": \"{\\\"mode\\\": \\\"open\\\"}\"},"
                                  " \"linux\": {" NAMESPACES "}}",
    "annotations[\"agentrun.policy.network\"]", "p.yaml:1:7", "name" },
};

static void
test_apply_each_excess_conflicts (void)
{
  struct ar_policy *policy = load_policy (ceiling_policy);

  for (size_t i = 0; policy != NULL && i < sizeof (excesses) / sizeof (excesses[0]); i++)
    {
      const struct excess *e = &excesses[i];
      json_auto_t *config = load_json (e->config);
      json_auto_t *conflicts = NULL;
      cleanup_error ar_error_t err = NULL;
      json_t *first;

      if (config == NULL)
        continue;
      if (ar_policy_conflicts (policy, config, "config.json", &conflicts, &err) < 0)
        {
          cleanup_free char *message = ar_error_format (err);
          fprintf (stderr, "%s: %s\n", e->name, message);
          unit_failures++;
          continue;
        }
      if (json_array_size (conflicts) != 1)
        {
          cleanup_free char *text = json_dumps (conflicts, JSON_INDENT (1));
          fprintf (stderr, "%s: expected one conflict, got %s\n", e->name, text);
          unit_failures++;
          continue;
        }
      first = json_array_get (conflicts, 0);
      if (strcmp (json_string_value (json_object_get (first, "config_field")), e->config_field) != 0
          || strcmp (json_string_value (json_object_get (first, "policy_rule")), e->policy_rule) != 0
          || strcmp (json_string_value (json_object_get (first, "policy_field")), e->policy_field) != 0)
        {
          cleanup_free char *text = json_dumps (first, JSON_INDENT (1));
          fprintf (stderr, "%s: expected %s against %s (%s), got %s\n", e->name, e->config_field, e->policy_rule,
                   e->policy_field, text);
          unit_failures++;
        }
      CHECK (json_string_value (json_object_get (first, "message")) != NULL);
      CHECK (json_string_value (json_object_get (first, "fix")) != NULL);
    }
  ar_policy_free (policy);
}

static void
test_apply_narrower_config_accepted (void)
{
  static const char policy_text[] = POLICY_HEADER "filesystem:\n"
                                                  "  readwrite_paths: [/workspace]\n"
                                                  "process:\n"
                                                  "  capabilities: [CAP_NET_BIND_SERVICE, CAP_KILL]\n"
                                                  "resources:\n"
                                                  "  memory: 512Mi\n";
  struct ar_policy *policy = load_policy (policy_text);
  json_auto_t *config = load_json (QUIET_CONFIG);
  json_auto_t *conflicts = NULL;
  cleanup_error ar_error_t err = NULL;

  if (policy == NULL || config == NULL)
    return;
  CHECK (ar_policy_conflicts (policy, config, "config.json", &conflicts, &err) == 0);
  CHECK (json_array_size (conflicts) == 0);
  ar_policy_free (policy);
}

static void
test_apply_enforce_refuses_naming_both (void)
{
  struct ar_policy *policy = load_policy (ceiling_policy);
  json_auto_t *config = load_json (excesses[0].config);
  json_auto_t *before = json_deep_copy (config);
  cleanup_error ar_error_t err = NULL;
  cleanup_free char *message = NULL;

  if (policy == NULL || config == NULL)
    return;
  CHECK (ar_policy_apply (policy, config, "bundle/config.json", &err) < 0);
  message = ar_error_format (err);
  CHECK_CONTAINS (message, "bundle/config.json: process.capabilities.bounding[1]: grants CAP_SYS_ADMIN");
  CHECK_CONTAINS (message, "policy rule p.yaml:11:17 (process.capabilities)");
  CHECK_CONTAINS (message, "add it to process.capabilities in the policy");
  /* The document is left as it was. */
  CHECK (json_equal (config, before));
  ar_policy_free (policy);
}

static void
test_apply_enforce_counts_more_conflicts (void)
{
  struct ar_policy *policy = load_policy (ceiling_policy);
  json_auto_t *config = load_json ("{\"ociVersion\": \"1.2.0\", \"root\": {\"path\": \"r\", \"readonly\": false},"
                                   " \"linux\": {\"namespaces\": []}}");
  cleanup_error ar_error_t err = NULL;
  cleanup_free char *message = NULL;

  if (policy == NULL || config == NULL)
    return;
  CHECK (ar_policy_apply (policy, config, "config.json", &err) < 0);
  message = ar_error_format (err);
  CHECK_CONTAINS (message, "config.json: root.readonly: makes the root filesystem writable");
  CHECK_CONTAINS (message, "(and 2 more conflicts; `agentrun policy compile p.yaml --bundle DIR` lists them)");
  ar_policy_free (policy);
}

static void
test_apply_fills_absent_values (void)
{
  struct ar_policy *policy = load_policy (ceiling_policy);
  json_auto_t *config = load_json ("{\"ociVersion\": \"1.2.0\", \"root\": {\"path\": \"rootfs\"},"
                                   " \"process\": {\"args\": [\"sh\"], \"cwd\": \"/\"}}");
  cleanup_error ar_error_t err = NULL;
  json_t *process, *linux_object, *mounts, *tmpfs, *annotations;
  json_auto_t *network = NULL;
  json_auto_t *filesystem = NULL;

  if (policy == NULL || config == NULL)
    return;
  CHECK (ar_policy_apply (policy, config, "config.json", &err) == 0);

  process = json_object_get (config, "process");
  CHECK (json_integer_value (json_object_get (json_object_get (process, "user"), "uid")) == 1000);
  CHECK (json_integer_value (json_object_get (json_object_get (process, "user"), "gid")) == 1000);
  CHECK (json_is_true (json_object_get (process, "noNewPrivileges")));
  CHECK_STR_EQ (json_string_value (json_array_get (
                    json_object_get (json_object_get (process, "capabilities"), "bounding"), 0)),
                "CAP_NET_BIND_SERVICE");
  /* uid 1000 keeps its capability across exec only through ambient. */
  CHECK (json_array_size (json_object_get (json_object_get (process, "capabilities"), "ambient")) == 1);
  CHECK (json_integer_value (json_object_get (json_array_get (json_object_get (process, "rlimits"), 0), "hard"))
         == 1024);
  CHECK (json_is_true (json_object_get (json_object_get (config, "root"), "readonly")));

  mounts = json_object_get (config, "mounts");
  tmpfs = json_array_get (mounts, 0);
  CHECK_STR_EQ (json_string_value (json_object_get (tmpfs, "destination")), "/tmp");
  CHECK_STR_EQ (json_string_value (json_array_get (json_object_get (tmpfs, "options"), 2)), "noexec");
  CHECK_STR_EQ (json_string_value (json_array_get (json_object_get (tmpfs, "options"), 4)), "size=67108864");

  linux_object = json_object_get (config, "linux");
  CHECK_STR_EQ (json_string_value (json_object_get (json_array_get (json_object_get (linux_object, "namespaces"), 0),
                                                    "type")),
                "network");
  CHECK (json_integer_value (json_object_get (json_object_get (json_object_get (linux_object, "resources"), "memory"),
                                              "limit"))
         == 536870912);
  CHECK (json_integer_value (json_object_get (json_object_get (json_object_get (linux_object, "resources"), "memory"),
                                              "swap"))
         == 536870912);
  CHECK (json_integer_value (json_object_get (json_object_get (json_object_get (linux_object, "resources"), "cpu"),
                                              "quota"))
         == 100000);
  {
    json_t *masked = json_object_get (linux_object, "maskedPaths");
    bool secrets = false, kcore = false;
    json_t *item;
    size_t i;

    json_array_foreach (masked, i, item)
      {
        secrets = secrets || strcmp (json_string_value (item), "/secrets") == 0;
        kcore = kcore || strcmp (json_string_value (item), "/proc/kcore") == 0;
      }
    CHECK (secrets);
    CHECK (kcore);
  }
  CHECK_STR_EQ (json_string_value (json_object_get (json_object_get (linux_object, "seccomp"), "defaultAction")),
                "SCMP_ACT_ERRNO");

  annotations = json_object_get (config, "annotations");
  CHECK_STR_EQ (json_string_value (json_object_get (annotations, "agentrun.policy.name")), "t");
  CHECK_STR_EQ (json_string_value (json_object_get (annotations, "agentrun.policy.mode")), "enforce");
  network = load_json (json_string_value (json_object_get (annotations, "agentrun.policy.network")));
  CHECK_STR_EQ (json_string_value (json_object_get (network, "mode")), "none");
  CHECK (json_is_true (json_object_get (network, "enforce")));
  CHECK (json_object_get (annotations, "agentrun.policy.identity") == NULL);
  filesystem = load_json (json_string_value (json_object_get (annotations, "agentrun.policy.filesystem")));
  CHECK (json_is_true (json_object_get (filesystem, "readonly_rootfs")));
  CHECK_STR_EQ (json_string_value (json_object_get (filesystem, "rule")), "(readonly_rootfs)");
  CHECK_STR_EQ (json_string_value (json_object_get (json_array_get (json_object_get (filesystem, "readwrite_paths"), 0),
                                                    "path")),
                "/workspace");
  CHECK_STR_EQ (json_string_value (json_object_get (json_array_get (json_object_get (filesystem, "denied_paths"), 0),
                                                    "rule")),
                "p.yaml:5");
  CHECK_STR_EQ (json_string_value (json_object_get (json_array_get (json_object_get (filesystem, "tmpfs"), 0),
                                                    "path")),
                "/tmp");
  CHECK (json_array_size (json_object_get (filesystem, "readonly_paths")) == 0);
  ar_policy_free (policy);
}

static void
test_apply_result_parses (void)
{
  /* The policy keeps what `agentrun spec` grants, so the default config
   * has no conflict; the result must still be a valid config.json. */
  static const char policy_text[] = POLICY_HEADER "process:\n"
                                                  "  capabilities: [CAP_AUDIT_WRITE, CAP_KILL, CAP_NET_BIND_SERVICE]\n"
                                                  "filesystem:\n"
                                                  "  tmpfs:\n"
                                                  "    - path: /tmp\n"
                                                  "      size: 16Mi\n"
                                                  "resources:\n"
                                                  "  memory: 256Mi\n"
                                                  "  pids: 64\n"
                                                  "network:\n"
                                                  "  mode: allowlist\n"
                                                  "  egress:\n"
                                                  "    - domain: example.com\n"
                                                  "identity:\n"
                                                  "  trust_domain: example.org\n";
  struct ar_policy *policy = load_policy (policy_text);
  cleanup_free char *spec = ar_config_default_spec (false);
  json_auto_t *config = load_json (spec);
  cleanup_error ar_error_t err = NULL;
  cleanup_free char *text = NULL;
  cleanup_config struct ar_config *parsed = NULL;

  if (policy == NULL || config == NULL)
    return;
  if (ar_policy_apply (policy, config, "config.json", &err) < 0)
    {
      cleanup_free char *message = ar_error_format (err);
      fprintf (stderr, "apply failed: %s\n", message);
      unit_failures++;
      ar_policy_free (policy);
      return;
    }
  text = json_dumps (config, 0);
  if (ar_config_parse (text, strlen (text), "applied", &parsed, &err) < 0 && ar_error_errno (err) == ENOSYS)
    {
      /* NOTE: a tree without the cgroup part has no linux.resources
       * parser (ENOSYS); the rest of the document is still checked. */
      json_object_del (json_object_get (config, "linux"), "resources");
      free (text);
      text = json_dumps (config, 0);
      ar_error_release (&err);
      ar_config_parse (text, strlen (text), "applied", &parsed, &err);
    }
  if (parsed == NULL)
    {
      cleanup_free char *message = ar_error_format (err);
      fprintf (stderr, "the applied config does not parse: %s\n", message);
      unit_failures++;
    }
  CHECK (parsed != NULL && parsed->linux_config.seccomp != NULL);
  CHECK (parsed != NULL && parsed->root.readonly);
  CHECK (parsed != NULL && parsed->process->no_new_privileges);
  ar_policy_free (policy);
}

static void
test_apply_twice_same_result (void)
{
  struct ar_policy *policy = load_policy (ceiling_policy);
  json_auto_t *config = load_json (QUIET_CONFIG);
  json_auto_t *once = NULL;
  cleanup_error ar_error_t err = NULL;

  if (policy == NULL || config == NULL)
    return;
  CHECK (ar_policy_apply (policy, config, "config.json", &err) == 0);
  once = json_deep_copy (config);
  CHECK (ar_policy_apply (policy, config, "config.json", &err) == 0);
  CHECK (json_equal (config, once));
  ar_policy_free (policy);
}

static void
collect_event (json_t *event, void *user_data)
{
  json_array_append (user_data, event);
}

static void
test_apply_audit_reports_and_blocks_nothing (void)
{
  static const char policy_text[] = POLICY_HEADER "mode: audit\n"
                                                  "process:\n"
                                                  "  capabilities: []\n"
                                                  "resources:\n"
                                                  "  memory: 64Mi\n";
  struct ar_policy *policy = load_policy (policy_text);
  json_auto_t *config = load_json (excesses[0].config);
  json_auto_t *events = json_array ();
  cleanup_error ar_error_t err = NULL;
  json_t *event, *seccomp, *annotations;

  if (policy == NULL || config == NULL)
    return;
  CHECK (ar_policy_apply_with_events (policy, config, "config.json", collect_event, events, &err) == 0);
  CHECK (json_array_size (events) == 2);

  event = json_array_get (events, 1);
  CHECK_STR_EQ (json_string_value (json_object_get (event, "type")), "policy-conflict");
  CHECK_STR_EQ (json_string_value (json_object_get (event, "mode")), "audit");
  CHECK_STR_EQ (json_string_value (json_object_get (event, "outcome")), "allowed");
  CHECK_STR_EQ (json_string_value (json_object_get (event, "config_field")), "process.capabilities.bounding[1]");
  CHECK_STR_EQ (json_string_value (json_object_get (event, "requested")), "CAP_SYS_ADMIN");
  CHECK_STR_EQ (json_string_value (json_object_get (event, "policy_rule")), "p.yaml:5:17");
  CHECK (json_string_value (json_object_get (event, "time")) != NULL);

  /* config.json keeps its capabilities, and nothing absent is filled. */
  CHECK (json_array_size (json_object_get (json_object_get (json_object_get (config, "process"), "capabilities"),
                                           "bounding"))
         == 2);
  CHECK (json_object_get (json_object_get (config, "process"), "noNewPrivileges") == NULL);
  CHECK (json_object_get (json_object_get (config, "root"), "readonly") == NULL);
  CHECK (json_object_get (json_object_get (config, "linux"), "resources") == NULL);

  /* The filter logs what the policy would deny. */
  seccomp = json_object_get (json_object_get (config, "linux"), "seccomp");
  CHECK_STR_EQ (json_string_value (json_object_get (seccomp, "defaultAction")), "SCMP_ACT_LOG");
  annotations = json_object_get (config, "annotations");
  CHECK_STR_EQ (json_string_value (json_object_get (annotations, "agentrun.policy.mode")), "audit");
  ar_policy_free (policy);
}

static void
test_apply_audit_events_to_file (void)
{
  char folder[] = "/tmp/ar-policy-audit-XXXXXX";
  cleanup_free char *events_path = NULL;
  cleanup_free char *policy_text = NULL;
  cleanup_free char *events_text = NULL;
  struct ar_policy *policy = NULL;
  json_auto_t *config = load_json (excesses[0].config);
  cleanup_error ar_error_t err = NULL;
  size_t n_lines = 0;

  CHECK (mkdtemp (folder) != NULL);
  events_path = ar_xasprintf ("%s/events.jsonl", folder);
  policy_text = ar_xasprintf (POLICY_HEADER "mode: audit\nprocess:\n  capabilities: []\naudit:\n  events: %s\n",
                              events_path);
  policy = load_policy (policy_text);
  if (policy == NULL || config == NULL)
    return;

  CHECK (ar_policy_apply (policy, config, "config.json", &err) == 0);
  CHECK (ar_read_file (events_path, &events_text, NULL, &err) == 0);
  for (char *line = events_text; line != NULL && *line != '\0'; n_lines++)
    {
      char *end = strchr (line, '\n');
      json_auto_t *event = NULL;

      CHECK (end != NULL);
      if (end == NULL)
        break;
      *end = '\0';
      event = load_json (line);
      CHECK_STR_EQ (json_string_value (json_object_get (event, "outcome")), "allowed");
      line = end + 1;
    }
  CHECK (n_lines == 2);

  unlink (events_path);
  rmdir (folder);
  ar_policy_free (policy);
}

/* Whether a profile lets a call through with no condition. */
static bool
profile_allows_always (json_t *profile, const char *name)
{
  json_t *rule;
  size_t i;

  json_array_foreach (json_object_get (profile, "syscalls"), i, rule)
    {
      json_t *item;
      size_t j;

      if (strcmp (json_string_value (json_object_get (rule, "action")), "SCMP_ACT_ALLOW") != 0
          || json_array_size (json_object_get (rule, "args")) > 0)
        continue;
      json_array_foreach (json_object_get (rule, "names"), j, item)
        if (strcmp (json_string_value (item), name) == 0)
          return true;
    }
  return false;
}

static json_t *
rules_for (json_t *profile, const char *name)
{
  json_t *found = json_array ();
  json_t *rule;
  size_t i;

  json_array_foreach (json_object_get (profile, "syscalls"), i, rule)
    {
      json_t *item;
      size_t j;

      json_array_foreach (json_object_get (rule, "names"), j, item)
        if (strcmp (json_string_value (item), name) == 0)
          json_array_append (found, rule);
    }
  return found;
}

static void
test_apply_seccomp_intersects_config (void)
{
  struct ar_policy *policy = load_policy (POLICY_HEADER "syscalls:\n  allow: [ptrace]\n");
  /* config.json's own allow-list: no mkdir, socket for AF_INET only, and
   * clone3 with ENOSYS. */
  json_auto_t *config = load_json (
      "{\"ociVersion\": \"1.2.0\", \"root\": {\"path\": \"r\"}, \"linux\": {" NAMESPACES ", \"seccomp\": {"
      "\"defaultAction\": \"SCMP_ACT_ERRNO\", \"architectures\": [\"SCMP_ARCH_X86_64\", \"SCMP_ARCH_AARCH64\"],"
      " \"syscalls\": ["
      "{\"names\": [\"read\", \"write\", \"ptrace\", \"mount\", \"clone\", \"exit_group\"], \"action\": \"SCMP_ACT_ALLOW\"},"
      "{\"names\": [\"socket\"], \"action\": \"SCMP_ACT_ALLOW\", \"args\": [{\"index\": 0, \"value\": 2, \"op\": "
      "\"SCMP_CMP_EQ\"}]},"
      "{\"names\": [\"clone3\"], \"action\": \"SCMP_ACT_ERRNO\", \"errnoRet\": 38}]}}}");
  cleanup_error ar_error_t err = NULL;
  json_t *profile;
  json_auto_t *socket_rules = NULL;
  json_auto_t *clone_rules = NULL;
  json_auto_t *clone3_rules = NULL;

  if (policy == NULL || config == NULL)
    return;
  CHECK (ar_policy_apply (policy, config, "config.json", &err) == 0);
  profile = json_object_get (json_object_get (config, "linux"), "seccomp");

  CHECK (profile_allows_always (profile, "read"));
  CHECK (profile_allows_always (profile, "ptrace"));
  /* mount: config.json allows it, the policy does not. */
  CHECK (!profile_allows_always (profile, "mount"));
  /* mkdir: the policy allows it, config.json does not. */
  CHECK (!profile_allows_always (profile, "mkdir"));
  {
    json_auto_t *mkdir_rules = rules_for (profile, "mkdir");
    CHECK (json_array_size (mkdir_rules) == 0);
  }

  /* socket: "!= AF_VSOCK" and "== AF_INET" combine into "== AF_INET". */
  socket_rules = rules_for (profile, "socket");
  CHECK (json_array_size (socket_rules) == 1);
  CHECK (json_integer_value (json_object_get (
             json_array_get (json_object_get (json_array_get (socket_rules, 0), "args"), 0), "value"))
         == 2);
  CHECK_STR_EQ (json_string_value (json_object_get (
                    json_array_get (json_object_get (json_array_get (socket_rules, 0), "args"), 0), "op")),
                "SCMP_CMP_EQ");

  /* clone keeps the policy's namespace condition. */
  clone_rules = rules_for (profile, "clone");
  CHECK (json_array_size (clone_rules) == 1);
  CHECK (json_array_size (json_object_get (json_array_get (clone_rules, 0), "args")) == 1);
  clone3_rules = rules_for (profile, "clone3");
  CHECK (json_integer_value (json_object_get (json_array_get (clone3_rules, 0), "errnoRet")) == 38);

  /* Only the architectures both profiles list. */
  CHECK (json_array_size (json_object_get (profile, "architectures")) == 1);
  ar_policy_free (policy);
}

static void
test_apply_seccomp_default_allow_config (void)
{
  struct ar_policy *policy = load_policy (POLICY_HEADER "syscalls:\n  allow: [ptrace]\n");
  /* A deny-list profile: everything but ptrace and personality(0x10). */
  json_auto_t *config = load_json (
      "{\"ociVersion\": \"1.2.0\", \"root\": {\"path\": \"r\"}, \"linux\": {" NAMESPACES ", \"seccomp\": {"
      "\"defaultAction\": \"SCMP_ACT_ALLOW\", \"syscalls\": ["
      "{\"names\": [\"ptrace\"], \"action\": \"SCMP_ACT_ERRNO\", \"errnoRet\": 1},"
      "{\"names\": [\"getpid\"], \"action\": \"SCMP_ACT_ERRNO\", \"args\": [{\"index\": 0, \"value\": 16, \"op\": "
      "\"SCMP_CMP_EQ\"}]}]}}}");
  cleanup_error ar_error_t err = NULL;
  json_auto_t *getpid_rules = NULL;
  json_t *profile;

  if (policy == NULL || config == NULL)
    return;
  CHECK (ar_policy_apply (policy, config, "config.json", &err) == 0);
  profile = json_object_get (json_object_get (config, "linux"), "seccomp");
  CHECK_STR_EQ (json_string_value (json_object_get (profile, "defaultAction")), "SCMP_ACT_ERRNO");
  CHECK (!profile_allows_always (profile, "ptrace"));
  CHECK (profile_allows_always (profile, "read"));
  /* The restriction becomes the allow rule "arg0 != 16". */
  getpid_rules = rules_for (profile, "getpid");
  CHECK (json_array_size (getpid_rules) == 1);
  CHECK_STR_EQ (json_string_value (json_object_get (
                    json_array_get (json_object_get (json_array_get (getpid_rules, 0), "args"), 0), "op")),
                "SCMP_CMP_NE");
  ar_policy_free (policy);
}

static void
test_apply_rejects_wrong_types (void)
{
  struct ar_policy *policy = load_policy (POLICY_HEADER);
  json_auto_t *config = load_json ("{\"ociVersion\": \"1.2.0\", \"mounts\": {\"destination\": \"/x\"}}");
  cleanup_error ar_error_t err = NULL;
  cleanup_free char *message = NULL;

  if (policy == NULL || config == NULL)
    return;
  CHECK (ar_policy_apply (policy, config, "b/config.json", &err) < 0);
  message = ar_error_format (err);
  CHECK_CONTAINS (message, "b/config.json: mounts: expected an array");
  ar_policy_free (policy);
}

static void
test_compile_without_bundle (void)
{
  struct ar_policy *policy = load_policy (ceiling_policy);
  json_auto_t *output = NULL;
  cleanup_error ar_error_t err = NULL;
  json_t *patch;
  json_t *operation;
  size_t i;
  bool readonly = false, masked = false;

  if (policy == NULL)
    return;
  CHECK (ar_policy_compile (policy, NULL, NULL, &output, &err) == 0);
  CHECK (json_is_null (json_object_get (output, "config")));
  CHECK (json_array_size (json_object_get (output, "conflicts")) == 0);
  patch = json_object_get (output, "patch");
  json_array_foreach (patch, i, operation)
    {
      const char *path = json_string_value (json_object_get (operation, "path"));

      CHECK_STR_EQ (json_string_value (json_object_get (operation, "op")), "add");
      readonly = readonly || strcmp (path, "/root/readonly") == 0;
      masked = masked || strcmp (path, "/linux") == 0;
    }
  CHECK (readonly);
  CHECK (masked);
  ar_policy_free (policy);
}

static void
test_compile_enforce_conflicts_empty_patch (void)
{
  struct ar_policy *policy = load_policy (ceiling_policy);
  json_auto_t *config = load_json (excesses[0].config);
  json_auto_t *output = NULL;
  cleanup_error ar_error_t err = NULL;

  if (policy == NULL || config == NULL)
    return;
  CHECK (ar_policy_compile (policy, config, "b/config.json", &output, &err) == 0);
  CHECK (json_array_size (json_object_get (output, "conflicts")) == 1);
  CHECK (json_array_size (json_object_get (output, "patch")) == 0);
  CHECK_STR_EQ (json_string_value (json_object_get (output, "config")), "b/config.json");
  ar_policy_free (policy);
}

int
main (void)
{
  static const struct unit_test tests[] = {
    { "apply each excess conflicts", test_apply_each_excess_conflicts },
    { "apply narrower config accepted", test_apply_narrower_config_accepted },
    { "apply enforce refuses naming both", test_apply_enforce_refuses_naming_both },
    { "apply enforce counts more conflicts", test_apply_enforce_counts_more_conflicts },
    { "apply fills absent values", test_apply_fills_absent_values },
    { "apply result parses", test_apply_result_parses },
    { "apply twice same result", test_apply_twice_same_result },
    { "apply audit reports, blocks nothing", test_apply_audit_reports_and_blocks_nothing },
    { "apply audit events to file", test_apply_audit_events_to_file },
    { "apply seccomp intersects config", test_apply_seccomp_intersects_config },
    { "apply seccomp default-allow config", test_apply_seccomp_default_allow_config },
    { "apply rejects wrong types", test_apply_rejects_wrong_types },
    { "compile without bundle", test_compile_without_bundle },
    { "compile enforce conflicts empty patch", test_compile_enforce_conflicts_empty_patch },
    { NULL, NULL },
  };
  return unit_run (tests);
}
