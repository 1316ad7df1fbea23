/* The policy parser and validator: every kind of mistake is reported at
 * its line and column with the field and a fix, and the examples, the
 * documentation and the schema agree with the format. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "oci/util.h"
#include "policy/fields.h"
#include "policy/model.h"
#include "policy/policy.h"
#include "unit.h"

static struct ar_policy_report *
check_text (const char *origin, const char *text, struct ar_policy **policy_out)
{
  struct ar_policy_report *report = NULL;
  cleanup_error ar_error_t err = NULL;

  CHECK (ar_policy_check_text (text, strlen (text), origin, policy_out, &report, &err) == 0);
  return report;
}

/* Finds the first finding of a severity about a field. */
static const struct ar_policy_diagnostic *
find_finding (const struct ar_policy_report *report, enum ar_policy_severity severity, const char *field)
{
  for (size_t i = 0; i < report->n_items; i++)
    if (report->items[i].severity == severity && strcmp (report->items[i].field, field) == 0)
      return &report->items[i];
  return NULL;
}

static void
print_report (const struct ar_policy_report *report)
{
  cleanup_free char *text = ar_policy_report_format (report);
  fprintf (stderr, "report was:\n%s", text);
}

/* One mistake and where it must be reported. */
struct mistake
{
  const char *name;
  const char *text;
  unsigned int line;
  unsigned int column;
  const char *field;
  const char *message; /* a part of the message */
};

#define HEADER "name: t\nversion: 1\n"

static const struct mistake mistakes[] = {
  { "unknown field", HEADER "filesystem:\n  readonly_path: [/etc]\n", 4, 3, "filesystem.readonly_path",
    "did you mean `readonly_paths`?" },
  { "unknown section", HEADER "netwrok:\n  mode: none\n", 3, 1, "netwrok", "did you mean `network`?" },
  { "unknown field without a close name", HEADER "process:\n  shell: /bin/sh\n", 4, 3, "process.shell",
    "the fields are user, no_new_privileges, capabilities, host_pid" },
  { "wrong type: string for boolean", HEADER "process:\n  no_new_privileges: \"true\"\n", 4, 22,
    "process.no_new_privileges", "expected true or false, got a string; remove the quotes" },
  { "wrong type: yes for boolean", HEADER "filesystem:\n  readonly_rootfs: yes\n", 4, 20,
    "filesystem.readonly_rootfs", "YAML 1.2 reads yes, no, on and off as strings" },
  { "wrong type: scalar for list", HEADER "process:\n  capabilities: CAP_KILL\n", 4, 17, "process.capabilities",
    "expected a list of strings, got a string" },
  { "wrong type: list for section", HEADER "network: [none]\n", 3, 10, "network", "expected a mapping of fields" },
  { "wrong type: number in string list", HEADER "syscalls:\n  allow: [read, 5]\n", 4, 17, "syscalls.allow[1]",
    "expected a string, got an integer" },
  { "bad cidr: host bits", HEADER "network:\n  mode: allowlist\n  egress:\n    - cidr: 10.1.2.3/8\n", 6, 13,
    "network.egress[0].cidr", "write 10.0.0.0/8" },
  { "bad cidr: prefix", HEADER "network:\n  mode: allowlist\n  egress:\n    - cidr: 10.0.0.0/33\n", 6, 13,
    "network.egress[0].cidr", "invalid prefix length `/33`; use 0 to 32" },
  { "bad cidr: not an address", HEADER "network:\n  mode: allowlist\n  egress:\n    - cidr: example.com/24\n", 6,
    13, "network.egress[0].cidr", "is not an IPv4 or IPv6 address" },
  { "bad cidr: ipv6 host bits", HEADER "network:\n  mode: allowlist\n  egress:\n    - cidr: \"2001:db8::1/32\"\n", 6,
    13, "network.egress[0].cidr", "write 2001:db8::/32" },
  { "bad domain: url", HEADER "network:\n  mode: allowlist\n  egress:\n    - domain: https://pypi.org\n", 6, 15,
    "network.egress[0].domain", "is not a host name; write the name alone" },
  { "bad domain: wildcard inside",
    HEADER "network:\n  mode: allowlist\n  egress:\n    - domain: api.*.example.com\n", 6, 15,
    "network.egress[0].domain", "a wildcard may only be the whole first label" },
  { "bad domain: label", HEADER "network:\n  mode: allowlist\n  egress:\n    - domain: bad_name.example.com\n", 6, 15,
    "network.egress[0].domain", "each dot-separated label needs 1 to 63 letters" },
  { "bad domain: ip address", HEADER "network:\n  mode: allowlist\n  egress:\n    - domain: 10.0.0.1\n", 6, 15,
    "network.egress[0].domain", "is an IP address, not a host name; write it as cidr: 10.0.0.1/32" },
  { "bad port: too large",
    HEADER "network:\n  mode: allowlist\n  egress:\n    - domain: a.example\n      ports: [443, 70000]\n", 7, 20,
    "network.egress[0].ports[1]", "expected a port from 1 to 65535" },
  { "bad port: reversed range", HEADER "network:\n  mode: allowlist\n  ingress:\n    - ports: [\"90-80\"]\n", 6, 15,
    "network.ingress[0].ports[0]", "the range ends before it starts" },
  { "bad port: zero", HEADER "network:\n  mode: allowlist\n  ingress:\n    - ports: [0]\n", 6, 15,
    "network.ingress[0].ports[0]", "expected a port from 1 to 65535" },
  { "unknown capability", HEADER "process:\n  capabilities: [CAP_NET_BIND_SERVICE, CAP_SYS_ADMN]\n", 4, 40,
    "process.capabilities[1]", "unknown capability `CAP_SYS_ADMN`; did you mean `CAP_SYS_ADMIN`?" },
  { "capability without prefix", HEADER "process:\n  capabilities:\n    - NET_RAW\n", 5, 7, "process.capabilities[0]",
    "write it with its prefix: CAP_NET_RAW" },
  { "unknown syscall", HEADER "syscalls:\n  deny: [ptrase]\n", 4, 10, "syscalls.deny[0]",
    "unknown system call `ptrase`; did you mean `ptrace`?" },
  { "syscall in allow and deny", HEADER "syscalls:\n  allow: [ptrace]\n  deny: [ptrace]\n", 5, 10, "syscalls.deny[0]",
    "is also in allow (line 4)" },
  { "unknown base profile", HEADER "syscalls:\n  base: defualt\n", 4, 9, "syscalls.base", "did you mean `default`?" },
  { "missing profile file", HEADER "syscalls:\n  base: ./no-such-profile.json\n", 4, 9, "syscalls.base",
    "give the path of an OCI seccomp JSON file" },
  { "missing required field", "name: t\n", 1, 1, "version", "required field `version` is missing" },
  { "missing tmpfs size", HEADER "filesystem:\n  tmpfs:\n    - path: /tmp\n", 5, 7, "filesystem.tmpfs[0].size",
    "required field `size` is missing from the tmpfs entry" },
  { "unsupported version", "name: t\nversion: 2\n", 2, 10, "version", "`2` is not supported; use 1" },
  { "bad name", "name: Coding Agent\nversion: 1\n", 1, 7, "name", "invalid name `Coding Agent`" },
  { "bad mode", HEADER "mode: enforced\n", 3, 7, "mode", "unknown value `enforced`; did you mean `enforce`?" },
  { "bad size", HEADER "resources:\n  memory: 512MB\n", 4, 11, "resources.memory",
    "expected bytes or a number with a unit K, M, G, T, Ki, Mi, Gi or Ti" },
  { "size below minimum", HEADER "resources:\n  memory: 1Mi\n", 4, 11, "resources.memory",
    "`1Mi` is out of range; use a value from 4Mi to 1Pi" },
  { "bad duration", HEADER "resources:\n  wall_clock: 30m1h\n", 4, 15, "resources.wall_clock",
    "amounts with units d, h, m, s in that order" },
  { "bad cpu", HEADER "resources:\n  cpu: 1.2345\n", 4, 8, "resources.cpu", "at most three decimals" },
  { "integer out of range", HEADER "resources:\n  pids: 0\n", 4, 9, "resources.pids",
    "`0` is out of range; use a value from 1 to 4194304" },
  { "swap without memory", HEADER "resources:\n  swap: 1Gi\n", 4, 9, "resources.swap", "set resources.memory too" },
  { "relative path", HEADER "filesystem:\n  readwrite_paths: [workspace]\n", 4, 21, "filesystem.readwrite_paths[0]",
    "expected an absolute path starting with /" },
  { "dot-dot path", HEADER "filesystem:\n  denied_paths: [/a/../etc]\n", 4, 18, "filesystem.denied_paths[0]",
    "may not contain . or .. components" },
  { "writable and read-only path", HEADER "filesystem:\n  readonly_paths: [/data]\n  readwrite_paths: [/data]\n", 5,
    21, "filesystem.readwrite_paths[0]", "is also in readonly_paths (line 4)" },
  { "writable path under denied path", HEADER "filesystem:\n  readwrite_paths: [/home/a]\n  denied_paths: [/home]\n",
    4, 21, "filesystem.readwrite_paths[0]", "a hidden path cannot be written" },
  { "egress rules with mode none", HEADER "network:\n  egress:\n    - domain: a.example\n", 5, 5, "network.egress",
    "mode none allows no connection at all" },
  { "egress with cidr and domain",
    HEADER "network:\n  mode: allowlist\n  egress:\n    - domain: a.example\n      cidr: 10.0.0.0/8\n", 6, 7,
    "network.egress[0]", "needs exactly one of cidr or domain" },
  { "egress item not a mapping", HEADER "network:\n  mode: allowlist\n  egress:\n    - a.example\n", 6, 7,
    "network.egress[0]", "expected a mapping (a egress rule), got a string" },
  { "bad trust domain", HEADER "identity:\n  trust_domain: Example.org\n", 4, 17, "identity.trust_domain",
    "use lowercase letters" },
  { "bad id template", HEADER "identity:\n  trust_domain: example.org\n  id_template: spiffe://other.org/a\n", 5, 16,
    "identity.id_template", "the ID must be in the trust domain" },
  { "unknown placeholder", HEADER "identity:\n  trust_domain: example.org\n  id_template: spiffe://{trust_domain}/{pod}\n", 5,
    16, "identity.id_template", "unknown placeholder at `{pod}`" },
  { "bad annotation key: prefix", HEADER "identity:\n  trust_domain: example.org\n  id_template: "
    "\"spiffe://{trust_domain}/{annotation:Example.com/team}\"\n", 5, 16, "identity.id_template",
    "invalid annotation key `Example.com/team` in {annotation:Example.com/team}: the prefix before `/` must be a "
    "lowercase DNS name" },
  { "bad annotation key: name", HEADER "identity:\n  trust_domain: example.org\n  id_template: "
    "\"spiffe://{trust_domain}/{annotation:-team}\"\n", 5, 16, "identity.id_template",
    "must start and end with a letter or digit" },
  { "bad annotation key: empty", HEADER "identity:\n  trust_domain: example.org\n  id_template: "
    "\"spiffe://{trust_domain}/{annotation:}\"\n", 5, 16, "identity.id_template", "1 to 63 characters" },
  { "annotation placeholder unclosed", HEADER "identity:\n  trust_domain: example.org\n  id_template: "
    "\"spiffe://{trust_domain}/{annotation:team\"\n", 5, 16, "identity.id_template", "has no closing `}`" },
  { "bad audit destination", HEADER "audit:\n  events: syslog\n", 4, 11, "audit.events",
    "use log, stderr, or an absolute file path" },
  { "duplicate key", HEADER "process:\n  user: 1000\n  user: 1001\n", 5, 3, "", "duplicate key `user`, first set at line 4" },
  { "invalid yaml", HEADER "process:\n  user: [1000\n", 5, 1, "", "invalid YAML" },
  { "yaml alias", HEADER "a: &x 1\nb: *x\n", 4, 4, "", "aliases (`*x`) are not supported" },
  { "top level list", "- name: t\n", 1, 1, "", "expected a mapping of fields at the top level, got a list" },
};

static void
test_policy_mistakes_located (void)
{
  for (size_t i = 0; i < sizeof (mistakes) / sizeof (mistakes[0]); i++)
    {
      const struct mistake *m = &mistakes[i];
      struct ar_policy *policy = NULL;
      struct ar_policy_report *report = check_text ("t.yaml", m->text, &policy);
      const struct ar_policy_diagnostic *d = find_finding (report, AR_POLICY_ERROR, m->field);

      if (d == NULL)
        {
          fprintf (stderr, "%s: no error about `%s`\n", m->name, m->field);
          print_report (report);
          unit_failures++;
        }
      else if (d->line != m->line || d->column != m->column || strstr (d->message, m->message) == NULL)
        {
          fprintf (stderr, "%s: expected %u:%u `%s`, got %u:%u `%s`\n", m->name, m->line, m->column, m->message,
                   d->line, d->column, d->message);
          unit_failures++;
        }
      CHECK (policy == NULL);
      ar_policy_free (policy);
      ar_policy_report_free (report);
    }
}

static void
test_policy_json_positions (void)
{
  static const char text[] = "{\n"
                             "  \"name\": \"t\",\n"
                             "  \"version\": 1,\n"
                             "  \"process\": {\"capabilities\": [\"CAP_KILL\", \"CAP_NOPE\"]},\n"
                             "  \"network\": {\"mode\": \"allowlist\",\n"
                             "\t\"egress\": [{\"cidr\": \"10.0.0.1/8\", \"ports\": [443]}]}\n"
                             "}\n";
  struct ar_policy_report *report = check_text ("t.json", text, NULL);
  const struct ar_policy_diagnostic *d;

  d = find_finding (report, AR_POLICY_ERROR, "process.capabilities[1]");
  CHECK (d != NULL && d->line == 4 && d->column == 44);
  d = find_finding (report, AR_POLICY_ERROR, "network.egress[0].cidr");
  CHECK (d != NULL && d->line == 6 && d->column == 22);
  CHECK (report->n_errors == 2);
  ar_policy_report_free (report);
}

/* Each kind of mistake in a JSON policy, at its line and column. */
static void
test_policy_json_mistakes_located (void)
{
  static const struct mistake json_mistakes[] = {
    { "unknown field", "{\"name\": \"t\", \"version\": 1,\n \"filesystem\": {\"readonly_path\": [\"/etc\"]}}\n", 2, 17,
      "filesystem.readonly_path", "did you mean `readonly_paths`?" },
    { "wrong type", "{\"name\": \"t\", \"version\": 1,\n \"process\": {\"no_new_privileges\": \"true\"}}\n", 2, 35,
      "process.no_new_privileges", "expected true or false, got a string" },
    { "bad cidr", "{\"name\": \"t\", \"version\": 1, \"network\": {\"mode\": \"allowlist\",\n  \"egress\": [{\"cidr\": "
      "\"10.0.0.0/33\"}]}}\n", 2, 23, "network.egress[0].cidr", "" },
    { "bad domain", "{\"name\": \"t\", \"version\": 1, \"network\": {\"mode\": \"allowlist\",\n  \"egress\": "
      "[{\"domain\": \"pypi.org:443\"}]}}\n", 2, 25, "network.egress[0].domain", "not a host name" },
    { "unknown capability", "{\"name\": \"t\", \"version\": 1,\n\n \"process\": {\"capabilities\": [\"CAP_SYS_ADMN\"]}}\n", 3,
      31, "process.capabilities[0]", "CAP_SYS_ADMIN" },
    { "unknown syscall", "{\"name\": \"t\", \"version\": 1,\n \"syscalls\": {\"allow\": [\"read\", \"opne\"]}}\n", 2, 33,
      "syscalls.allow[1]", "" },
  };

  for (size_t i = 0; i < sizeof (json_mistakes) / sizeof (json_mistakes[0]); i++)
    {
      const struct mistake *m = &json_mistakes[i];
      struct ar_policy_report *report = check_text ("t.json", m->text, NULL);
      const struct ar_policy_diagnostic *d = find_finding (report, AR_POLICY_ERROR, m->field);

      if (d == NULL || d->line != m->line || d->column != m->column || strstr (d->message, m->message) == NULL)
        {
          fprintf (stderr, "%s: expected %u:%u `%s` about %s\n", m->name, m->line, m->column, m->message, m->field);
          print_report (report);
          unit_failures++;
        }
      ar_policy_report_free (report);
    }
}

static void
test_policy_json_syntax_error (void)
{
  struct ar_policy_report *report = check_text ("t.json", "{\"name\": \"t\",\n \"version\": 1,\n}\n", NULL);
  const struct ar_policy_diagnostic *d = find_finding (report, AR_POLICY_ERROR, "");

  CHECK (d != NULL && d->line == 3 && d->column == 1);
  CHECK (d != NULL && strstr (d->message, "invalid JSON") != NULL);
  ar_policy_report_free (report);
}

static void
test_policy_json_quoted_number (void)
{
  /* A JSON string stays a string: "256" is not a pids count. */
  struct ar_policy_report *report
      = check_text ("t.json", "{\"name\": \"t\", \"version\": 1, \"resources\": {\"pids\": \"256\"}}", NULL);
  const struct ar_policy_diagnostic *d = find_finding (report, AR_POLICY_ERROR, "resources.pids");

  CHECK (d != NULL && strstr (d->message, "got a string; remove the quotes") != NULL);
  ar_policy_report_free (report);
}

static void
test_policy_warnings_risky_grants (void)
{
  static const char text[] = HEADER "mode: enforce\n"
                                    "filesystem:\n"
                                    "  readwrite_paths: [/workspace, /proc/sys]\n"
                                    "process:\n"
                                    "  capabilities: [CAP_SYS_ADMIN]\n"
                                    "  host_pid: true\n"
                                    "  no_new_privileges: false\n"
                                    "syscalls:\n"
                                    "  allow: [ptrace]\n"
                                    "network:\n"
                                    "  mode: host\n";
  struct ar_policy *policy = NULL;
  struct ar_policy_report *report = check_text ("t.yaml", text, &policy);
  const struct ar_policy_diagnostic *d;

  CHECK (report->n_errors == 0);
  CHECK (policy != NULL);
  d = find_finding (report, AR_POLICY_WARNING, "process.capabilities[0]");
  CHECK (d != NULL && d->line == 7 && strstr (d->message, "keeping CAP_SYS_ADMIN is risky") != NULL);
  d = find_finding (report, AR_POLICY_WARNING, "filesystem.readwrite_paths[1]");
  CHECK (d != NULL && d->line == 5 && strstr (d->message, "makes part of /proc or /sys writable") != NULL);
  d = find_finding (report, AR_POLICY_WARNING, "network.mode");
  CHECK (d != NULL && d->line == 13 && strstr (d->message, "shares the host's network namespace") != NULL);
  d = find_finding (report, AR_POLICY_WARNING, "process.host_pid");
  CHECK (d != NULL && d->line == 8 && strstr (d->message, "host's PID namespace") != NULL);
  d = find_finding (report, AR_POLICY_WARNING, "process.no_new_privileges");
  CHECK (d != NULL && d->line == 9);
  d = find_finding (report, AR_POLICY_WARNING, "syscalls.allow[0]");
  CHECK (d != NULL && strstr (d->message, "allowing ptrace is risky") != NULL);
  ar_policy_free (policy);
  ar_policy_report_free (report);
}

static void
test_policy_warnings_network_rules (void)
{
  static const char text[] = HEADER "network:\n"
                                    "  mode: allowlist\n"
                                    "  egress:\n"
                                    "    - cidr: 0.0.0.0/0\n"
                                    "    - cidr: 169.254.0.0/16\n"
                                    "    - domain: \"*.com\"\n";
  struct ar_policy_report *report = check_text ("t.yaml", text, NULL);
  const struct ar_policy_diagnostic *d;

  CHECK (report->n_errors == 0);
  d = find_finding (report, AR_POLICY_WARNING, "network.egress[0].cidr");
  CHECK (d != NULL && strstr (d->message, "allows every IPv4 address") != NULL);
  d = find_finding (report, AR_POLICY_WARNING, "network.egress[1].cidr");
  CHECK (d != NULL && strstr (d->message, "cloud metadata address") != NULL);
  d = find_finding (report, AR_POLICY_WARNING, "network.egress[2].domain");
  CHECK (d != NULL && strstr (d->message, "top-level domain") != NULL);
  ar_policy_report_free (report);
}

/* Annotation placeholders with valid Kubernetes keys pass, and explain
 * says what they stand for. */
static void
test_policy_annotation_placeholders (void)
{
  static const char text[] = HEADER "identity:\n"
                                    "  trust_domain: example.org\n"
                                    "  id_template: \"spiffe://{trust_domain}/ns/{annotation:io.kubernetes.pod.namespace}"
                                    "/team/{annotation:example.com/team_name}/{container_id}\"\n";
  struct ar_policy *policy = NULL;
  struct ar_policy_report *report = check_text ("t.yaml", text, &policy);
  cleanup_free char *explained = NULL;

  if (report->n_items > 0)
    print_report (report);
  CHECK (report->n_items == 0);
  if (policy != NULL)
    {
      explained = ar_policy_explain (policy);
      CHECK_CONTAINS (explained, "SPIFFE ID spiffe://example.org/ns/{annotation:io.kubernetes.pod.namespace}/team/"
                                 "{annotation:example.com/team_name}/{container_id}, where");
      CHECK_CONTAINS (explained, "{annotation:KEY} the value of its annotation KEY");
    }
  ar_policy_free (policy);
  ar_policy_report_free (report);
}

static void
test_policy_defaults_and_normalising (void)
{
  static const char text[] = HEADER "filesystem:\n"
                                    "  readwrite_paths: [//workspace/]\n"
                                    "  tmpfs:\n"
                                    "    - path: /tmp\n"
                                    "      size: 1.5Gi\n"
                                    "process:\n"
                                    "  capabilities: [cap_net_bind_service]\n"
                                    "resources:\n"
                                    "  cpu: 500m\n"
                                    "  wall_clock: 1h30m\n"
                                    "network:\n"
                                    "  mode: allowlist\n"
                                    "  egress:\n"
                                    "    - domain: API.Example.COM.\n"
                                    "      ports: [443, \"8000-8100\"]\n"
                                    "identity:\n"
                                    "  trust_domain: example.org\n";
  struct ar_policy *policy = NULL;
  struct ar_policy_report *report = check_text ("t.yaml", text, &policy);
  const struct ar_policy_tmpfs *tmpfs;
  const struct ar_policy_egress *egress;

  CHECK (report->n_errors == 0);
  if (policy == NULL)
    {
      print_report (report);
      ar_policy_report_free (report);
      return;
    }
  CHECK (policy->mode.value == AR_POLICY_MODE_ENFORCE);
  CHECK (policy->filesystem.readonly_rootfs.value);
  CHECK_STR_EQ (policy->filesystem.readwrite_paths.values[0], "/workspace");
  tmpfs = policy->filesystem.tmpfs.items;
  CHECK (tmpfs[0].size.value == (UINT64_C (3) << 29));
  CHECK (tmpfs[0].mode.value == 01777);
  CHECK (!tmpfs[0].exec.value);
  CHECK (policy->process.no_new_privileges.value);
  CHECK_STR_EQ (policy->process.capabilities.values[0], "CAP_NET_BIND_SERVICE");
  CHECK (policy->resources.cpu.value == 500);
  CHECK (policy->resources.wall_clock.value == 5400);
  egress = policy->network.egress.items;
  CHECK_STR_EQ (egress[0].domain.value, "api.example.com");
  CHECK (egress[0].protocol.value == AR_POLICY_PROTOCOL_TCP);
  CHECK (egress[0].ports.n == 2 && egress[0].ports.ranges[1].first == 8000 && egress[0].ports.ranges[1].last == 8100);
  CHECK_STR_EQ (policy->syscalls.base.value, "default");
  CHECK (policy->syscalls.action.value == AR_POLICY_ACTION_ERRNO);
  CHECK_STR_EQ (policy->identity.svid_dir.value, "/run/spiffe");
  CHECK (policy->identity.lifetime.value == 3600);
  CHECK_STR_EQ (policy->audit.events.value, "log");
  ar_policy_free (policy);
  ar_policy_report_free (report);
}

static void
test_policy_load_error_names_first (void)
{
  cleanup_error ar_error_t err = NULL;
  cleanup_free char *message = NULL;
  struct ar_policy *policy = NULL;
  static const char text[] = HEADER "process:\n  capabilities: [CAP_NOPE]\nresources:\n  pids: -1\n";

  CHECK (ar_policy_load_text (text, strlen (text), "p.yaml", &policy, &err) < 0);
  CHECK (policy == NULL);
  message = ar_error_format (err);
  CHECK_CONTAINS (message, "p.yaml:4:18: error: process.capabilities[0]: unknown capability `CAP_NOPE`");
  CHECK_CONTAINS (message, "(and 1 more errors; run `agentrun policy check p.yaml`)");
}

static void
test_policy_load_missing_file (void)
{
  cleanup_error ar_error_t err = NULL;
  cleanup_free char *message = NULL;
  struct ar_policy *policy = NULL;

  CHECK (ar_policy_load ("/nonexistent/agentrun-policy.yaml", &policy, &err) == -ENOENT);
  message = ar_error_format (err);
  CHECK_CONTAINS (message, "cannot read the policy `/nonexistent/agentrun-policy.yaml`");
}

static void
write_text (const char *path, const char *text)
{
  FILE *f = fopen (path, "w");

  CHECK (f != NULL);
  if (f == NULL)
    return;
  fputs (text, f);
  fclose (f);
}

static void
test_policy_seccomp_file_base (void)
{
  char folder[] = "/tmp/ar-policy-test-XXXXXX";
  cleanup_free char *profile_path = NULL;
  cleanup_free char *bad_profile_path = NULL;
  cleanup_free char *policy_path = NULL;
  cleanup_free char *bad_policy_path = NULL;
  struct ar_policy *policy = NULL;
  struct ar_policy_report *report = NULL;
  const struct ar_policy_diagnostic *d;
  cleanup_error ar_error_t err = NULL;

  CHECK (mkdtemp (folder) != NULL);
  profile_path = ar_xasprintf ("%s/profile.json", folder);
  bad_profile_path = ar_xasprintf ("%s/bad.json", folder);
  policy_path = ar_xasprintf ("%s/p.yaml", folder);
  bad_policy_path = ar_xasprintf ("%s/bad.yaml", folder);
  write_text (profile_path, "{\"defaultAction\": \"SCMP_ACT_ERRNO\", \"syscalls\": [{\"names\": [\"read\"], "
                            "\"action\": \"SCMP_ACT_ALLOW\"}]}");
  write_text (bad_profile_path, "{\"defaultAction\": \"SCMP_ACT_NOPE\"}");
  write_text (policy_path, "name: t\nversion: 1\nsyscalls:\n  base: ./profile.json\n");
  write_text (bad_policy_path, "name: t\nversion: 1\nsyscalls:\n  base: ./bad.json\n");

  /* A relative profile path is read from the policy's folder. */
  CHECK (ar_policy_check (policy_path, &policy, &report, &err) == 0);
  CHECK (report->n_errors == 0);
  CHECK (policy != NULL && policy->syscalls.base_kind == AR_POLICY_SECCOMP_FILE);
  CHECK (policy != NULL && policy->syscalls.base_profile != NULL);
  ar_policy_free (policy);
  ar_policy_report_free (report);

  CHECK (ar_policy_check (bad_policy_path, &policy, &report, &err) == 0);
  CHECK (policy == NULL);
  d = find_finding (report, AR_POLICY_ERROR, "syscalls.base");
  CHECK (d != NULL && d->line == 4 && d->column == 9);
  CHECK (d != NULL && strstr (d->message, "unknown seccomp action `SCMP_ACT_NOPE`") != NULL);
  ar_policy_report_free (report);

  unlink (profile_path);
  unlink (bad_profile_path);
  unlink (policy_path);
  unlink (bad_policy_path);
  rmdir (folder);
}

static void
test_policy_examples_pass_check (void)
{
  static const char *const examples[] = {
    "examples/policies/default-agent.yaml",
    "examples/policies/coding-agent.yaml",
    "examples/policies/mcp-server.yaml",
    "examples/policies/locked-down.yaml",
    "examples/policies/demo-agent.yaml",
  };

  for (size_t i = 0; i < sizeof (examples) / sizeof (examples[0]); i++)
    {
      struct ar_policy *policy = NULL;
      struct ar_policy_report *report = NULL;
      cleanup_error ar_error_t err = NULL;

      if (ar_policy_check (examples[i], &policy, &report, &err) < 0)
        {
          cleanup_free char *message = ar_error_format (err);
          fprintf (stderr, "%s: %s (run the tests from the repository root)\n", examples[i], message);
          unit_failures++;
          continue;
        }
      if (report->n_items > 0)
        {
          fprintf (stderr, "%s is expected to pass `policy check` without findings\n", examples[i]);
          print_report (report);
          unit_failures++;
        }
      CHECK (policy != NULL);
      ar_policy_free (policy);
      ar_policy_report_free (report);
    }
}

/* Calls fn with the dotted path of every field of the format. */
static void
walk_fields (const struct ar_policy_object *object, const char *parent, void (*fn) (const char *path,
                                                                                       const char *key, void *data),
             void *data)
{
  for (const struct ar_policy_field *field = object->fields; field->key != NULL; field++)
    {
      cleanup_free char *path = parent[0] != '\0' ? ar_xasprintf ("%s.%s", parent, field->key)
                                                  : ar_xstrdup (field->key);

      fn (path, field->key, data);
      if (field->kind == AR_FIELD_SECTION || field->kind == AR_FIELD_ITEMS)
        walk_fields (field->object, path, fn, data);
    }
}

/* Each field needs a row in a table of docs/policy.md, each section a
 * heading. */
static void
check_documented (const char *path, const char *key, void *data)
{
  cleanup_free char *row = ar_xasprintf ("| `%s` |", key);
  cleanup_free char *heading = ar_xasprintf ("\n## %s\n", key);

  if (strstr ((const char *) data, row) == NULL && strstr ((const char *) data, heading) == NULL)
    {
      fprintf (stderr, "docs/policy.md has no table row for `%s`\n", path);
      unit_failures++;
    }
}

static void
test_policy_docs_cover_fields (void)
{
  cleanup_free char *docs = NULL;
  cleanup_error ar_error_t err = NULL;

  if (ar_read_file ("docs/policy.md", &docs, NULL, &err) < 0)
    {
      fprintf (stderr, "cannot read docs/policy.md; run the tests from the repository root\n");
      unit_failures++;
      return;
    }
  walk_fields (&ar_policy_top_object, "", check_documented, docs);
}

static void
check_in_schema (const char *path, const char *key, void *data)
{
  json_t *node = data;
  cleanup_free char *copy = ar_xstrdup (path);
  char *save = NULL;

  for (char *part = strtok_r (copy, ".", &save); part != NULL; part = strtok_r (NULL, ".", &save))
    {
      json_t *properties;

      if (json_is_object (json_object_get (node, "items")))
        node = json_object_get (node, "items");
      properties = json_object_get (node, "properties");
      node = json_object_get (properties, part);
      if (node == NULL)
        {
          fprintf (stderr, "the schema has no property for `%s`\n", path);
          unit_failures++;
          return;
        }
    }
  if (json_object_get (node, "description") == NULL)
    {
      fprintf (stderr, "the schema has no description for `%s`\n", path);
      unit_failures++;
    }
}

static void
test_policy_schema_covers_fields (void)
{
  json_auto_t *schema = ar_policy_schema ();

  CHECK_STR_EQ (json_string_value (json_object_get (schema, "$schema")),
                "https://json-schema.org/draft/2020-12/schema");
  CHECK (json_is_false (json_object_get (schema, "additionalProperties")));
  CHECK (json_array_size (json_object_get (schema, "required")) == 2);
  walk_fields (&ar_policy_top_object, "", check_in_schema, schema);
}

int
main (void)
{
  static const struct unit_test tests[] = {
    { "policy mistakes located", test_policy_mistakes_located },
    { "policy json positions", test_policy_json_positions },
    { "policy json mistakes located", test_policy_json_mistakes_located },
    { "policy json syntax error", test_policy_json_syntax_error },
    { "policy json quoted number", test_policy_json_quoted_number },
    { "policy warnings risky grants", test_policy_warnings_risky_grants },
    { "policy warnings network rules", test_policy_warnings_network_rules },
    { "policy annotation placeholders", test_policy_annotation_placeholders },
    { "policy defaults and normalising", test_policy_defaults_and_normalising },
    { "policy load error names first", test_policy_load_error_names_first },
    { "policy load missing file", test_policy_load_missing_file },
    { "policy seccomp file base", test_policy_seccomp_file_base },
    { "policy examples pass check", test_policy_examples_pass_check },
    { "policy docs cover fields", test_policy_docs_cover_fields },
    { "policy schema covers fields", test_policy_schema_covers_fields },
    { NULL, NULL },
  };
  return unit_run (tests);
}
