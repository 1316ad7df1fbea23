/* The network policy annotation and the nft ruleset made from it, and the
 * ruleset loaded into a real network namespace that the test creates. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <arpa/inet.h>
#include <sys/socket.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <sys/stat.h>
#include <unistd.h>

#include "net/egress.h"
#include "oci/util.h"
#include "unit.h"

static struct ar_egress_policy *
parse_ok (const char *text)
{
  struct ar_egress_policy *policy = NULL;
  cleanup_error ar_error_t err = NULL;

  if (ar_egress_policy_parse (text, &policy, &err) < 0)
    {
      cleanup_free char *message = ar_error_format (err);
      fprintf (stderr, "cannot parse `%s`: %s\n", text, message);
      unit_failures++;
    }
  return policy;
}

/* Returns the error message for text, which must fail to parse. */
static char *
parse_error (const char *text)
{
  struct ar_egress_policy *policy = NULL;
  cleanup_error ar_error_t err = NULL;

  if (ar_egress_policy_parse (text, &policy, &err) == 0)
    {
      fprintf (stderr, "`%s` parsed, expected an error\n", text);
      unit_failures++;
      ar_egress_policy_free (policy);
      return ar_xstrdup ("");
    }
  return ar_error_format (err);
}

/* Returns the offset of needle in text, or SIZE_MAX when it is missing. */
static size_t
position (const char *text, const char *needle)
{
  const char *at = strstr (text, needle);
  return at ? (size_t) (at - text) : (size_t) -1;
}

static void
test_parse_allowlist (void)
{
  struct ar_egress_policy *p = parse_ok (
      "{\"mode\": \"allowlist\", \"enforce\": true, \"egress\": ["
      "{\"cidr\": \"10.20.0.0/16\", \"ports\": [{\"first\": 5432, \"last\": 5432}], \"protocol\": \"tcp\", "
      "\"rule\": \"p.yaml:7\"},"
      "{\"cidr\": \"2001:db8::1\", \"ports\": [], \"protocol\": \"any\"},"
      "{\"domain\": \"*.example.org\", \"ports\": [{\"first\": 443, \"last\": 443}]}],"
      "\"ingress\": [{\"ports\": [{\"first\": 9000, \"last\": 9010}], \"protocol\": \"udp\"}]}");

  if (p == NULL)
    return;
  CHECK (p->mode == AR_EGRESS_MODE_ALLOWLIST);
  CHECK (p->enforce);
  CHECK (p->n_egress == 3);
  CHECK (p->egress[0].family == AF_INET);
  CHECK (p->egress[0].prefix == 16);
  CHECK (p->egress[0].n_ports == 1 && p->egress[0].ports[0].first == 5432);
  CHECK_STR_EQ (p->egress[0].origin, "p.yaml:7");
  CHECK (p->egress[1].family == AF_INET6);
  CHECK (p->egress[1].prefix == 128);
  CHECK (p->egress[1].protocol == AR_EGRESS_ANY);
  CHECK_STR_EQ (p->egress[2].domain, "*.example.org");
  CHECK (p->egress[2].protocol == AR_EGRESS_TCP);
  CHECK (p->n_ingress == 1);
  CHECK (p->ingress[0].protocol == AR_EGRESS_UDP);
  CHECK (p->ingress[0].ports[0].last == 9010);
  ar_egress_policy_free (p);
}

static void
test_parse_errors_name_field (void)
{
  static const struct
  {
    const char *json;
    const char *message;
  } cases[] = {
    { "[]", "expected a JSON object" },
    { "{", "invalid JSON" },
    { "{\"mode\": \"closed\"}", ".mode: expected" },
    { "{\"mode\": \"open\", \"enforce\": 1}", ".enforce: expected true or false" },
    { "{\"mode\": \"allowlist\", \"egress\": [{\"cidr\": \"10.0.0.1/8\"}]}", ".egress[0].cidr: `10.0.0.1/8`" },
    { "{\"mode\": \"allowlist\", \"egress\": [{\"cidr\": \"10.0.0.0/33\"}]}", ".egress[0].cidr" },
    { "{\"mode\": \"allowlist\", \"egress\": [{\"cidr\": \"10.0.0.0/8 accept\"}]}", ".egress[0].cidr" },
    { "{\"mode\": \"allowlist\", \"egress\": [{\"cidr\": \"10.0.0.0/8\", \"domain\": \"a.b\"}]}",
      ".egress[0]: expected exactly one of" },
    { "{\"mode\": \"allowlist\", \"egress\": [{}]}", ".egress[0]: expected exactly one of" },
    { "{\"mode\": \"allowlist\", \"egress\": [{\"cidr\": \"::/0\", \"protocol\": \"icmp\"}]}",
      ".egress[0].protocol" },
    { "{\"mode\": \"allowlist\", \"egress\": [{\"cidr\": \"::/0\", \"ports\": [{\"first\": 0, \"last\": 1}]}]}",
      ".egress[0].ports[0]" },
    { "{\"mode\": \"allowlist\", \"ingress\": [{\"ports\": [{\"first\": 9, \"last\": 8}]}]}",
      ".ingress[0].ports[0]" },
    { "{\"mode\": \"allowlist\", \"ingress\": {}}", ".ingress: expected a list" },
    { "{\"mode\": \"allowlist\", \"ingress\": [{\"ports\": []}]}", ".ingress[0].ports: expected at least one port" },
  };

  for (size_t i = 0; i < sizeof (cases) / sizeof (cases[0]); i++)
    {
      cleanup_free char *message = parse_error (cases[i].json);
      CHECK_CONTAINS (message, "annotations[\"agentrun.policy.network\"]");
      CHECK_CONTAINS (message, cases[i].message);
    }
}

static void
test_ruleset_allowlist_order (void)
{
  struct ar_egress_policy *p = parse_ok (
      "{\"mode\": \"allowlist\", \"egress\": ["
      "{\"cidr\": \"0.0.0.0/0\", \"ports\": [{\"first\": 443, \"last\": 443}, {\"first\": 8000, \"last\": 8080}]},"
      "{\"cidr\": \"169.254.169.254\", \"ports\": [{\"first\": 80, \"last\": 80}], \"protocol\": \"tcp\"},"
      "{\"cidr\": \"fd00::/8\", \"protocol\": \"any\", \"ports\": [{\"first\": 53, \"last\": 53}]},"
      "{\"cidr\": \"10.0.0.0/8\", \"protocol\": \"udp\", \"rule\": \"a \\\" b;\\nflush ruleset\"}]}");
  cleanup_free char *text = NULL;

  if (p == NULL)
    return;
  text = ar_egress_ruleset (p, false);
  CHECK_CONTAINS (text, "table inet agentrun {");
  CHECK_CONTAINS (text, "type filter hook output priority filter; policy drop;");
  CHECK_CONTAINS (text, "type filter hook input priority filter; policy drop;");
  CHECK_CONTAINS (text, "oif \"lo\" accept");
  CHECK_CONTAINS (text, "ct state established,related accept");
  CHECK_CONTAINS (text, "ip daddr 0.0.0.0/0 tcp dport { 443, 8000-8080 } accept");
  CHECK_CONTAINS (text, "ip daddr 169.254.169.254/32 tcp dport { 80 } accept");
  CHECK_CONTAINS (text, "ip6 daddr fd00::/8 meta l4proto { tcp, udp } th dport { 53 } accept");
  CHECK_CONTAINS (text, "ip daddr 10.0.0.0/8 meta l4proto udp accept comment \"a___b__flush_ruleset\"");
  CHECK_CONTAINS (text, "log prefix \"agentrun-deny \" group 7420");
  CHECK_CONTAINS (text, "counter drop");

  /* The metadata rule, listed explicitly, comes before the link-local
   * denial, and the wide rule after it. */
  CHECK (position (text, "169.254.169.254/32") < position (text, "ip daddr 169.254.0.0/16 jump deny"));
  CHECK (position (text, "ip daddr 169.254.0.0/16 jump deny") < position (text, "0.0.0.0/0"));
  CHECK (position (text, "ip6 daddr fd00:ec2::254/128 jump deny") < position (text, "fd00::/8"));
  ar_egress_policy_free (p);
}

static void
test_ruleset_modes (void)
{
  struct ar_egress_policy *none = parse_ok ("{\"mode\": \"none\"}");
  struct ar_egress_policy *open = parse_ok ("{\"mode\": \"open\", \"enforce\": false, \"ingress\": "
                                            "[{\"ports\": [{\"first\": 8080, \"last\": 8080}]}]}");
  struct ar_egress_policy *host = parse_ok ("{\"mode\": \"host\"}");
  struct ar_egress_policy *domain = parse_ok ("{\"mode\": \"allowlist\", \"egress\": [{\"domain\": \"pypi.org\"}]}");
  cleanup_free char *none_text = none ? ar_egress_ruleset (none, false) : NULL;
  cleanup_free char *open_text = open ? ar_egress_ruleset (open, true) : NULL;
  cleanup_free char *domain_text = domain ? ar_egress_ruleset (domain, false) : NULL;

  CHECK (none_text && strstr (none_text, "\n    accept\n") == NULL);
  CHECK_CONTAINS (none_text, "policy drop;");
  CHECK (none_text && strstr (none_text, "daddr 0") == NULL);

  CHECK_CONTAINS (open_text, "jump deny\n    accept\n    jump deny\n  }");
  CHECK_CONTAINS (open_text, "agentrun-audit ");
  CHECK_CONTAINS (open_text, "counter accept");
  CHECK_CONTAINS (open_text, "tcp dport { 8080 } accept");
  CHECK_CONTAINS (open_text, "add table inet agentrun\ndelete table inet agentrun\ntable inet agentrun {");
  CHECK (none_text && strstr (none_text, "delete table") == NULL);

  CHECK (host && ar_egress_ruleset (host, true) == NULL);

  /* A domain rule opens the sets that the DNS responder fills, and names
   * no host itself. */
  CHECK (domain_text && strstr (domain_text, "pypi") == NULL);
  CHECK_CONTAINS (domain_text, "  set d4_0 {\n    type ipv4_addr\n    flags timeout\n  }\n");
  CHECK_CONTAINS (domain_text, "  set d6_0 {\n    type ipv6_addr\n    flags timeout\n  }\n");
  CHECK_CONTAINS (domain_text, "    ip daddr @d4_0 meta l4proto tcp accept\n");
  CHECK_CONTAINS (domain_text, "    ip6 daddr @d6_0 meta l4proto tcp accept\n");

  ar_egress_policy_free (none);
  ar_egress_policy_free (open);
  ar_egress_policy_free (host);
  ar_egress_policy_free (domain);
}

static void
test_ruleset_host_addresses (void)
{
  struct ar_egress_policy *p = parse_ok ("{\"mode\": \"allowlist\", \"egress\": ["
                                         "{\"cidr\": \"192.0.2.0/24\"}, {\"cidr\": \"192.0.2.7\"},"
                                         " {\"cidr\": \"2001:db8::/64\"}]}");
  cleanup_free char *text = NULL;

  if (p == NULL)
    return;
  p->host_addresses = ar_xmalloc0 (2 * sizeof (p->host_addresses[0]));
  p->host_addresses[0].family = AF_INET;
  inet_pton (AF_INET, "192.0.2.7", p->host_addresses[0].addr);
  p->host_addresses[1].family = AF_INET6;
  inet_pton (AF_INET6, "2001:db8::7", p->host_addresses[1].addr);
  p->n_host_addresses = 2;
  text = ar_egress_ruleset (p, false);
  CHECK_CONTAINS (text, "ip daddr 192.0.2.7/32 meta l4proto tcp accept");
  CHECK_CONTAINS (text, "ip daddr 192.0.2.0/24 meta l4proto tcp accept");
  CHECK_CONTAINS (text, "ip6 daddr 2001:db8::/64 meta l4proto tcp accept");

  /* The rule for exactly the host's address opens it, the wider ranges
   * come after its denial. */
  CHECK (position (text, "ip daddr 192.0.2.7/32 meta l4proto tcp accept") < position (text, "ip daddr 192.0.2.7 jump deny"));
  CHECK (position (text, "ip daddr 192.0.2.7 jump deny") < position (text, "ip daddr 192.0.2.0/24 meta l4proto tcp accept"));
  CHECK (position (text, "ip6 daddr 2001:db8::7 jump deny") < position (text, "ip6 daddr 2001:db8::/64 meta l4proto tcp accept"));
  ar_egress_policy_free (p);
}

/* Loads the ruleset into a network namespace that a child process makes
 * with unshare, and lists it there with nft. */
static void
test_apply_in_new_namespace (void)
{
  struct ar_egress_policy *p = parse_ok ("{\"mode\": \"allowlist\", \"egress\": ["
                                         "{\"cidr\": \"10.0.0.0/8\", \"ports\": [{\"first\": 443, \"last\": 443}],"
                                         " \"rule\": \"p.yaml:3\"}]}");
  cleanup_error ar_error_t err = NULL;
  cleanup_close int netns = -1;
  int ready[2], status;
  char byte = 0;
  pid_t holder;

  if (p == NULL)
    return;
  if (getuid () != 0 || pipe (ready) < 0)
    {
      printf ("# apply: skipped, it needs root\n");
      ar_egress_policy_free (p);
      return;
    }

  holder = fork ();
  if (holder == 0)
    {
      close (ready[0]);
      if (unshare (CLONE_NEWNET) < 0)
        _exit (1);
      if (write (ready[1], "x", 1) != 1)
        _exit (1);
      pause ();
      _exit (0);
    }
  close (ready[1]);
  CHECK (read (ready[0], &byte, 1) == 1);
  close (ready[0]);

  if (byte == 'x')
    {
      cleanup_free char *path = ar_xasprintf ("/proc/%d/ns/net", (int) holder);
      cleanup_free char *command
          = ar_xasprintf ("nsenter --net=%s nft list table inet agentrun > /tmp/ar-net-unit-%d.out 2>&1", path,
                          (int) getpid ());
      cleanup_free char *out_path = ar_xasprintf ("/tmp/ar-net-unit-%d.out", (int) getpid ());
      cleanup_free char *listing = NULL;
      size_t len;

      struct stat before, after;

      CHECK (stat ("/proc/thread-self/ns/net", &before) == 0);
      CHECK (ar_egress_apply_pid (p, holder, false, &err) == 0);
      /* Twice: the second replaces the first in one transaction. */
      CHECK (ar_egress_apply_pid (p, holder, true, &err) == 0);
      /* The runtime's thread is back in its own namespace. */
      CHECK (stat ("/proc/thread-self/ns/net", &after) == 0);
      CHECK (before.st_ino == after.st_ino);
      CHECK (before.st_dev == after.st_dev);
      CHECK (system (command) == 0);
      if (ar_read_file (out_path, &listing, &len, &err) == 0)
        {
          CHECK_CONTAINS (listing, "ip daddr 10.0.0.0/8 tcp dport 443 accept comment \"p.yaml:3\"");
          CHECK_CONTAINS (listing, "chain deny");
        }
      unlink (out_path);
    }

  kill (holder, SIGKILL);
  waitpid (holder, &status, 0);

  /* The runtime's own namespace is never a target. */
  CHECK (ar_egress_apply_pid (p, getpid (), true, &err) < 0);
  CHECK (err && ar_error_errno (err) == EINVAL);
  ar_egress_policy_free (p);
}

int
main (void)
{
  static const struct unit_test tests[] = {
    { "egress_parse_allowlist", test_parse_allowlist },
    { "egress_parse_errors_name_field", test_parse_errors_name_field },
    { "egress_ruleset_allowlist_order", test_ruleset_allowlist_order },
    { "egress_ruleset_modes", test_ruleset_modes },
    { "egress_ruleset_host_addresses", test_ruleset_host_addresses },
    { "egress_apply_in_new_namespace", test_apply_in_new_namespace },
    { NULL, NULL },
  };

  return unit_run (tests);
}
