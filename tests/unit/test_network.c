/* agentrun's container network: the subnet setting, addresses, host
 * interface names, address leases in a temporary state root, and the
 * gateway closed in the egress ruleset. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "net/egress.h"
#include "net/network.h"
#include "net/network_internal.h"
#include "oci/config.h"
#include "oci/util.h"
#include "state.h"
#include "unit.h"

/* Returns the error message for text, which must fail to parse. */
static char *
subnet_error (const char *text)
{
  struct ar_network_subnets subnets;
  cleanup_error ar_error_t err = NULL;

  if (ar_network_subnets_parse (text, &subnets, &err) == 0)
    {
      fprintf (stderr, "`%s` parsed, expected an error\n", text);
      unit_failures++;
      return ar_xstrdup ("");
    }
  return ar_error_format (err);
}

static void
test_subnets_defaults (void)
{
  struct ar_network_subnets subnets;
  cleanup_error ar_error_t err = NULL;
  char text[INET6_ADDRSTRLEN];

  CHECK (ar_network_subnets_parse (NULL, &subnets, &err) == 0);
  CHECK (!subnets.none && subnets.has_v4 && subnets.has_v6);
  CHECK (subnets.v4.prefix == 16 && subnets.v6.prefix == 64);
  ar_subnet_address (&subnets.v4, 1, text, sizeof (text));
  CHECK_STR_EQ (text, "10.231.0.1");
  ar_subnet_address (&subnets.v6, 2, text, sizeof (text));
  CHECK_STR_EQ (text, "fd5c:3a1e:7b29:1::2");
  CHECK (ar_subnet_capacity (&subnets.v4) == 65533);
  CHECK (ar_subnet_capacity (&subnets.v6) == (1u << 24));

  CHECK (ar_network_subnets_parse ("", &subnets, &err) == 0);
  CHECK (subnets.has_v4 && subnets.has_v6);
  CHECK (ar_network_subnets_parse ("none", &subnets, &err) == 0);
  CHECK (subnets.none);
}

static void
test_subnets_custom (void)
{
  struct ar_network_subnets subnets;
  cleanup_error ar_error_t err = NULL;
  char text[INET6_ADDRSTRLEN];

  CHECK (ar_network_subnets_parse ("192.168.77.0/29", &subnets, &err) == 0);
  CHECK (subnets.has_v4 && !subnets.has_v6);
  CHECK (ar_subnet_capacity (&subnets.v4) == 5);
  ar_subnet_address (&subnets.v4, 6, text, sizeof (text));
  CHECK_STR_EQ (text, "192.168.77.6");

  CHECK (ar_network_subnets_parse (" fd00:1:2:3::/120 , 172.20.0.0/30", &subnets, &err) == 0);
  CHECK (subnets.has_v4 && subnets.has_v6);
  CHECK (ar_subnet_capacity (&subnets.v4) == 1);
  CHECK (ar_subnet_capacity (&subnets.v6) == 254);
  ar_subnet_address (&subnets.v6, 255, text, sizeof (text));
  CHECK_STR_EQ (text, "fd00:1:2:3::ff");

  /* An offset fills the last 32 bits of a prefix that ends inside them. */
  CHECK (ar_network_subnets_parse ("10.1.2.0/23", &subnets, &err) == 0);
  ar_subnet_address (&subnets.v4, 300, text, sizeof (text));
  CHECK_STR_EQ (text, "10.1.3.44");
}

static void
test_subnets_errors (void)
{
  static const struct
  {
    const char *text;
    const char *message;
  } cases[] = {
    { "10.231.0.0", "has no prefix length" },
    { "10.231.0.1/16", "has host bits set" },
    { "10.0.0.0/31", "between 1 and 30" },
    { "fd00::/127", "between 1 and 126" },
    { "10.0.0.0/x", "between 1 and 30" },
    { "example.com/16", "is not an IPv4 or IPv6 address" },
    { "10.0.0.0/8,10.1.0.0/16", "two IPv4 ranges" },
    { "fd00::/64,fd01::/64", "two IPv6 ranges" },
    { "127.0.0.0/8", "loopback" },
    { "169.254.0.0/16", "link-local" },
    { "224.0.0.0/4", "multicast" },
    { "fe80::/64", "link-local" },
    { "::/96", "loopback" },
    { ",", "lists no range" },
  };

  for (size_t i = 0; i < sizeof (cases) / sizeof (cases[0]); i++)
    {
      cleanup_free char *message = subnet_error (cases[i].text);

      CHECK_CONTAINS (message, "AGENTRUN_NETWORK_SUBNET");
      CHECK_CONTAINS (message, cases[i].message);
    }
}

static void
test_host_interface_name (void)
{
  char a[16], b[16], c[16];

  ar_network_host_interface ("/run/agentrun", "agent-1", a);
  ar_network_host_interface ("/run/agentrun", "agent-2", b);
  ar_network_host_interface ("/run/other", "agent-1", c);
  CHECK (strlen (a) == 14 && strncmp (a, "ar", 2) == 0);
  CHECK (strspn (a + 2, "0123456789abcdef") == 12);
  CHECK (strcmp (a, b) != 0);
  CHECK (strcmp (a, c) != 0);
  ar_network_host_interface ("/run/agentrun", "agent-1", b);
  CHECK_STR_EQ (b, a);
}

static void
test_leases (void)
{
  char root[] = "/tmp/ar-unit-network.XXXXXX";
  cleanup_error ar_error_t err = NULL;
  cleanup_free char *path = NULL;
  uint32_t a = 0, b = 0, c = 0, d = 0;

  CHECK (mkdtemp (root) != NULL);
  path = ar_xasprintf ("%s/alpha", root);
  CHECK (mkdir (path, 0700) == 0);
  free (path);
  path = ar_xasprintf ("%s/beta", root);
  CHECK (mkdir (path, 0700) == 0);

  CHECK (ar_network_lease_take (root, "alpha", 3, &a, &err) == 0);
  CHECK (ar_network_lease_take (root, "beta", 3, &b, &err) == 0);
  CHECK (a == 2 && b == 3);

  /* gamma has no state folder, so its lease is stale once taken. */
  CHECK (ar_network_lease_take (root, "gamma", 3, &c, &err) == 0);
  CHECK (c == 4);
  CHECK (ar_network_lease_take (root, "delta", 3, &d, &err) == 0);
  CHECK (d == 4);

  /* A release for another id leaves the lease. */
  CHECK (ar_network_lease_release (root, "alpha", b, &err) == 0);
  free (path);
  path = ar_xasprintf ("%s/delta", root);
  CHECK (mkdir (path, 0700) == 0);
  CHECK (ar_network_lease_take (root, "epsilon", 3, &c, &err) < 0);
  CHECK (err && ar_error_errno (err) == ENOSPC);
  ar_error_release (&err);

  CHECK (ar_network_lease_release (root, "beta", b, &err) == 0);
  CHECK (ar_network_lease_release (root, "beta", b, &err) == 0);
  CHECK (ar_network_lease_take (root, "epsilon", 3, &c, &err) == 0);
  CHECK (c == 3);

  free (path);
  path = ar_xasprintf ("rm -rf '%s'", root);
  CHECK (system (path) == 0);
}

static void
test_gateway_closed_in_ruleset (void)
{
  struct ar_egress_policy *policy = NULL;
  cleanup_error ar_error_t err = NULL;
  cleanup_free char *ruleset = NULL;
  const char *closed, *allowed;

  CHECK (ar_egress_policy_parse ("{\"mode\": \"allowlist\", \"egress\": [{\"cidr\": \"10.231.0.1/32\"}]}", &policy,
                                 &err)
         == 0);
  if (policy == NULL)
    return;
  CHECK (ar_egress_close_address (policy, "10.231.0.1", &err) == 0);
  CHECK (ar_egress_close_address (policy, "fd5c:3a1e:7b29:1::1", &err) == 0);
  CHECK (ar_egress_close_address (policy, "gateway", &err) < 0);
  ruleset = ar_egress_ruleset (policy, false);
  /* The deny comes first, so the rule that lists the gateway never
   * matches. */
  closed = strstr (ruleset, "ip daddr 10.231.0.1 jump deny");
  allowed = strstr (ruleset, "ip daddr 10.231.0.1/32 meta l4proto tcp accept");
  CHECK (closed != NULL && allowed != NULL && closed < allowed);
  CHECK_CONTAINS (ruleset, "ip6 daddr fd5c:3a1e:7b29:1::1 jump deny");
  ar_egress_policy_free (policy);
}

/* Prints err when ret failed, and returns whether it succeeded. */
static bool
succeeded (int ret, ar_error_t *err)
{
  if (ret == 0)
    return true;
  if (*err)
    {
      cleanup_free char *message = ar_error_format (*err);
      fprintf (stderr, "error: %s\n", message);
      ar_error_release (err);
    }
  return false;
}

/* Runs the shell command made from fmt and returns whether it exited 0. */
static bool shell (const char *fmt, ...) ar_printf_like (1, 2);

static bool
shell (const char *fmt, ...)
{
  cleanup_free char *command = NULL;
  va_list ap;
  int n;

  va_start (ap, fmt);
  n = vasprintf (&command, fmt, ap);
  va_end (ap);
  return n >= 0 && system (command) == 0;
}

/* The whole setup and teardown, in a process that has moved to a network
 * namespace of its own (the "host") against a child in a further one (the
 * "container"), so the machine's own namespace sees nothing. */
static int
setup_and_teardown_in_netns (void)
{
  char root[] = "/tmp/ar-unit-network.XXXXXX";
  struct ar_config *config = ar_xmalloc0 (sizeof (*config));
  struct ar_egress_policy *policy = NULL;
  struct ar_state state = { .id = (char *) "unit-net" };
  cleanup_error ar_error_t err = NULL;
  cleanup_free char *dir = NULL;
  cleanup_free char *netns = NULL;
  const char *interface = NULL;
  int ready[2], status;
  char byte = 0;
  pid_t holder;

  if (unshare (CLONE_NEWNET) < 0 || pipe (ready) < 0 || mkdtemp (root) == NULL)
    return 1;
  holder = fork ();
  if (holder == 0)
    {
      close (ready[0]);
      if (unshare (CLONE_NEWNET) < 0 || write (ready[1], "x", 1) != 1)
        _exit (1);
      pause ();
      _exit (0);
    }
  close (ready[1]);
  CHECK (read (ready[0], &byte, 1) == 1);
  close (ready[0]);
  netns = ar_xasprintf ("/proc/%d/ns/net", (int) holder);
  dir = ar_xasprintf ("%s/unit-net", root);
  CHECK (mkdir (dir, 0700) == 0);
  config->linux_config.namespaces[AR_NS_NETWORK].present = true;
  CHECK (ar_egress_policy_parse ("{\"mode\": \"open\"}", &policy, &err) == 0);
  unsetenv (AR_NETWORK_SUBNET_ENV);

  CHECK (succeeded (ar_network_setup (root, &state, policy, config, holder, &err), &err));
  interface = json_string_value (json_object_get (state.network, "interface"));
  CHECK (interface != NULL && if_nametoindex (interface) != 0);
  CHECK (policy && policy->n_closed == 2);
  CHECK (shell ("grep -q '\"interface\": *\"%s\"' %s/unit-net/state.json", interface, root));
  CHECK (shell ("test \"$(cat %s/.network/leases/2)\" = unit-net", root));
  CHECK (shell ("nft list set inet agentrun-host interfaces | grep -q '\"%s\"'", interface));
  CHECK (shell ("nft list set inet agentrun-host addresses4 | grep -q '10.231.0.2 '"));
  CHECK (shell ("test \"$(cat /proc/sys/net/ipv4/ip_forward)\" = 1"));
  CHECK (shell ("nsenter --net=%s ip -o addr show eth0 | grep -q 'inet 10.231.0.2/16'", netns));
  CHECK (shell ("nsenter --net=%s ip -6 route | grep -q 'default via fd5c:3a1e:7b29:1::1 dev eth0'", netns));

  CHECK (succeeded (ar_network_teardown (root, &state, &err), &err));
  CHECK (interface == NULL || if_nametoindex (interface) == 0);
  CHECK (shell ("test ! -e %s/.network/leases/2", root));
  CHECK (shell ("test -z \"$(nft -j list set inet agentrun-host interfaces | jq -r '.nftables[].set.elem[]? "
                "// empty')\"%s%s",
                "", ""));
  /* Everything is gone already: a second teardown succeeds. */
  CHECK (succeeded (ar_network_teardown (root, &state, &err), &err));

  kill (holder, SIGKILL);
  waitpid (holder, &status, 0);
  CHECK (shell ("rm -rf '%s'", root));
  json_decref (state.network);
  ar_egress_policy_free (policy);
  free (config);
  return unit_failures;
}

static void
test_setup_and_teardown (void)
{
  int status;
  pid_t pid;

  if (getuid () != 0 || system ("command -v nft ip nsenter jq >/dev/null") != 0)
    {
      printf ("# setup_and_teardown: skipped, it needs root, nft, ip, nsenter and jq\n");
      return;
    }
  fflush (stdout);
  pid = fork ();
  if (pid == 0)
    _exit (setup_and_teardown_in_netns () ? 1 : 0);
  CHECK (pid > 0 && waitpid (pid, &status, 0) == pid);
  CHECK (WIFEXITED (status) && WEXITSTATUS (status) == 0);
}

int
main (void)
{
  static const struct unit_test tests[] = {
    { "network_subnets_defaults", test_subnets_defaults },
    { "network_subnets_custom", test_subnets_custom },
    { "network_subnets_errors", test_subnets_errors },
    { "network_host_interface_name", test_host_interface_name },
    { "network_leases", test_leases },
    { "network_gateway_closed_in_ruleset", test_gateway_closed_in_ruleset },
    { "network_setup_and_teardown", test_setup_and_teardown },
    { NULL, NULL },
  };

  return unit_run (tests);
}
