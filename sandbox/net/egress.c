/* Egress enforcement with an nftables table in the container's network
 * namespace: parsing the policy annotation, writing the ruleset as nft
 * text, and loading it with libnftables in the namespace. */
#define _GNU_SOURCE
#include "net/egress.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>
#include <jansson.h>
#include <linux/capability.h>
#include <nftables/libnftables.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "net/dns.h"
#include "oci/log.h"
#include "oci/util.h"

#define FIELD "annotations[\"" AR_EGRESS_ANNOTATION "\"]"

/* Ranges that only an allow rule inside them opens: a rule for a wider
 * range, such as 0.0.0.0/0 or mode open, leaves them closed. */
struct protected_range
{
  int family;
  const char *text;
};

static int parse_cidr (const char *text, int *family, unsigned char addr[16], unsigned int *prefix);

static const struct protected_range protected_ranges[] = {
  { AF_INET, "169.254.0.0/16" },      /* link-local, with the cloud metadata address 169.254.169.254 */
  { AF_INET6, "fe80::/10" },          /* link-local */
  { AF_INET6, "fd00:ec2::254/128" },  /* the cloud metadata address over IPv6 */
};

const char *
ar_egress_blocked_reason (const struct ar_egress_policy *policy, int family, const unsigned char addr[16])
{
  for (size_t i = 0; i < sizeof (protected_ranges) / sizeof (protected_ranges[0]); i++)
    {
      unsigned char range[16];
      unsigned int prefix;
      int range_family;
      bool inside = true;

      if (parse_cidr (protected_ranges[i].text, &range_family, range, &prefix) < 0 || range_family != family)
        continue;
      for (unsigned int bit = 0; bit < prefix && inside; bit++)
        inside = !((addr[bit / 8] ^ range[bit / 8]) & (0x80 >> (bit % 8)));
      if (inside)
        return "(link-local or cloud metadata address)";
    }
  for (size_t i = 0; i < policy->n_host_addresses; i++)
    if (policy->host_addresses[i].family == family
        && memcmp (policy->host_addresses[i].addr, addr, family == AF_INET ? 4 : 16) == 0)
      return "(the host's own address)";
  return "(default)";
}

static void
rule_clear (struct ar_egress_rule *rule)
{
  free (rule->domain);
  free (rule->ports);
  free (rule->origin);
}

void
ar_egress_policy_free (struct ar_egress_policy *policy)
{
  if (policy == NULL)
    return;
  for (size_t i = 0; i < policy->n_egress; i++)
    rule_clear (&policy->egress[i]);
  for (size_t i = 0; i < policy->n_ingress; i++)
    rule_clear (&policy->ingress[i]);
  free (policy->egress);
  free (policy->ingress);
  free (policy->host_addresses);
  free (policy->closed);
  free (policy);
}

static void
policy_freep (struct ar_egress_policy **policy)
{
  ar_egress_policy_free (*policy);
}

#define cleanup_egress_policy __attribute__ ((cleanup (policy_freep)))

/* Parses "ADDRESS/PREFIX" or a bare address.  Host bits must be zero. */
static int
parse_cidr (const char *text, int *family, unsigned char addr[16], unsigned int *prefix)
{
  cleanup_free char *copy = ar_xstrdup (text);
  char *slash = strchr (copy, '/');
  unsigned int max_prefix;
  long value = -1;

  if (slash)
    *slash++ = '\0';
  memset (addr, 0, 16);
  if (inet_pton (AF_INET, copy, addr) == 1)
    {
      *family = AF_INET;
      max_prefix = 32;
    }
  else if (inet_pton (AF_INET6, copy, addr) == 1)
    {
      *family = AF_INET6;
      max_prefix = 128;
    }
  else
    return -EINVAL;

  if (slash && (ar_parse_long (slash, &value) < 0 || value < 0 || value > (long) max_prefix))
    return -EINVAL;
  *prefix = slash ? (unsigned int) value : max_prefix;

  for (unsigned int bit = *prefix; bit < max_prefix; bit++)
    if (addr[bit / 8] & (0x80 >> (bit % 8)))
      return -EINVAL;
  return 0;
}

/* Returns whether the range of rule lies inside the range family/addr/prefix. */
static bool
rule_inside (const struct ar_egress_rule *rule, int family, const unsigned char addr[16], unsigned int prefix)
{
  if (family != rule->family || rule->prefix < prefix)
    return false;
  for (unsigned int bit = 0; bit < prefix; bit++)
    if ((addr[bit / 8] ^ rule->addr[bit / 8]) & (0x80 >> (bit % 8)))
      return false;
  return true;
}

static bool
rule_is_protected (const struct ar_egress_policy *policy, const struct ar_egress_rule *rule)
{
  for (size_t i = 0; i < sizeof (protected_ranges) / sizeof (protected_ranges[0]); i++)
    {
      unsigned char addr[16];
      unsigned int prefix;
      int family;

      if (parse_cidr (protected_ranges[i].text, &family, addr, &prefix) == 0
          && rule_inside (rule, family, addr, prefix))
        return true;
    }
  for (size_t i = 0; i < policy->n_host_addresses; i++)
    {
      const struct ar_egress_address *host = &policy->host_addresses[i];

      if (rule_inside (rule, host->family, host->addr, host->family == AF_INET ? 32 : 128))
        return true;
    }
  return false;
}

static int
parse_ports (json_t *ports, struct ar_egress_rule *rule, const char *where, ar_error_t *err)
{
  size_t i;
  json_t *item;

  if (ports == NULL)
    return 0;
  if (!json_is_array (ports))
    return ar_make_error (err, EINVAL, "%s.ports: expected a list of {\"first\": N, \"last\": M} objects", where);
  rule->ports = ar_xmalloc0 (sizeof (rule->ports[0]) * (json_array_size (ports) + 1));
  json_array_foreach (ports, i, item)
    {
      json_t *first = json_object_get (item, "first");
      json_t *last = json_object_get (item, "last");

      if (!json_is_integer (first) || !json_is_integer (last) || json_integer_value (first) < 1
          || json_integer_value (last) > 65535 || json_integer_value (first) > json_integer_value (last))
        return ar_make_error (err, EINVAL, "%s.ports[%zu]: expected {\"first\": N, \"last\": M} with 1 <= N <= M <= 65535",
                              where, i);
      rule->ports[i].first = (uint16_t) json_integer_value (first);
      rule->ports[i].last = (uint16_t) json_integer_value (last);
      rule->n_ports++;
    }
  return 0;
}

static int
parse_protocol (json_t *protocol, struct ar_egress_rule *rule, const char *where, ar_error_t *err)
{
  const char *name = protocol ? json_string_value (protocol) : "tcp";

  if (name && strcmp (name, "tcp") == 0)
    rule->protocol = AR_EGRESS_TCP;
  else if (name && strcmp (name, "udp") == 0)
    rule->protocol = AR_EGRESS_UDP;
  else if (name && strcmp (name, "any") == 0)
    rule->protocol = AR_EGRESS_ANY;
  else
    return ar_make_error (err, EINVAL, "%s.protocol: expected `tcp`, `udp` or `any`", where);
  return 0;
}

static int
parse_rule (json_t *obj, bool egress, struct ar_egress_rule *rule, const char *where, ar_error_t *err)
{
  json_t *cidr, *domain, *origin;

  if (!json_is_object (obj))
    return ar_make_error (err, EINVAL, "%s: expected an object", where);
  if (parse_protocol (json_object_get (obj, "protocol"), rule, where, err) < 0)
    return -1;
  if (parse_ports (json_object_get (obj, "ports"), rule, where, err) < 0)
    return -1;
  origin = json_object_get (obj, "rule");
  if (json_is_string (origin))
    rule->origin = ar_xstrdup (json_string_value (origin));
  if (!egress)
    {
      if (rule->n_ports == 0)
        return ar_make_error (err, EINVAL, "%s.ports: expected at least one port, since an ingress rule opens "
                              "only the ports it lists",
                              where);
      return 0;
    }

  cidr = json_object_get (obj, "cidr");
  domain = json_object_get (obj, "domain");
  if (json_is_string (cidr) && domain == NULL)
    {
      if (parse_cidr (json_string_value (cidr), &rule->family, rule->addr, &rule->prefix) < 0)
        return ar_make_error (err, EINVAL, "%s.cidr: `%s` is not an address range such as 10.0.0.0/8; run "
                              "`agentrun policy check` on the policy",
                              where, json_string_value (cidr));
      return 0;
    }
  if (json_is_string (domain) && cidr == NULL)
    {
      rule->domain = ar_xstrdup (json_string_value (domain));
      return 0;
    }
  return ar_make_error (err, EINVAL, "%s: expected exactly one of `cidr` and `domain`, as strings", where);
}

static int
parse_rules (json_t *list, bool egress, struct ar_egress_rule **out, size_t *n_out, ar_error_t *err)
{
  const char *name = egress ? "egress" : "ingress";
  size_t i;
  json_t *item;

  if (list == NULL)
    return 0;
  if (!json_is_array (list))
    return ar_make_error (err, EINVAL, FIELD ".%s: expected a list", name);
  *out = ar_xmalloc0 (sizeof (**out) * (json_array_size (list) + 1));
  json_array_foreach (list, i, item)
    {
      cleanup_free char *where = ar_xasprintf (FIELD ".%s[%zu]", name, i);

      (*n_out)++;
      if (parse_rule (item, egress, &(*out)[i], where, err) < 0)
        return -1;
    }
  return 0;
}

int
ar_egress_policy_parse (const char *json_text, struct ar_egress_policy **out, ar_error_t *err)
{
  cleanup_egress_policy struct ar_egress_policy *policy = ar_xmalloc0 (sizeof (*policy));
  json_error_t json_err;
  json_t *root = json_loads (json_text, 0, &json_err);
  json_t *mode, *enforce;
  const char *mode_name;
  int ret = -1;

  if (root == NULL)
    return ar_make_error (err, EINVAL, FIELD ": invalid JSON at column %d: %s", json_err.column, json_err.text);
  if (!json_is_object (root))
    {
      ar_make_error (err, EINVAL, FIELD ": expected a JSON object");
      goto out;
    }

  mode = json_object_get (root, "mode");
  mode_name = json_string_value (mode);
  if (mode_name && strcmp (mode_name, "none") == 0)
    policy->mode = AR_EGRESS_MODE_NONE;
  else if (mode_name && strcmp (mode_name, "allowlist") == 0)
    policy->mode = AR_EGRESS_MODE_ALLOWLIST;
  else if (mode_name && strcmp (mode_name, "open") == 0)
    policy->mode = AR_EGRESS_MODE_OPEN;
  else if (mode_name && strcmp (mode_name, "host") == 0)
    policy->mode = AR_EGRESS_MODE_HOST;
  else
    {
      ar_make_error (err, EINVAL, FIELD ".mode: expected `none`, `allowlist`, `open` or `host`");
      goto out;
    }

  enforce = json_object_get (root, "enforce");
  if (enforce != NULL && !json_is_boolean (enforce))
    {
      ar_make_error (err, EINVAL, FIELD ".enforce: expected true or false");
      goto out;
    }
  policy->enforce = enforce == NULL || json_is_true (enforce);

  if (parse_rules (json_object_get (root, "egress"), true, &policy->egress, &policy->n_egress, err) < 0
      || parse_rules (json_object_get (root, "ingress"), false, &policy->ingress, &policy->n_ingress, err) < 0)
    goto out;

  *out = ar_steal_ptr (policy);
  ret = 0;

out:
  json_decref (root);
  return ret;
}

int
ar_egress_policy_from_config (const struct ar_config *config, struct ar_egress_policy **out, ar_error_t *err)
{
  *out = NULL;
  for (size_t i = 0; i < config->n_annotations; i++)
    if (strcmp (config->annotations[i].key, AR_EGRESS_ANNOTATION) == 0)
      return ar_egress_policy_parse (config->annotations[i].value, out, err);
  return 0;
}

/* Appends the match of the protocol and ports, such as
 * ` tcp dport { 80, 8000-8080 }`, to buf. */
static void
append_l4 (FILE *buf, const struct ar_egress_rule *rule, const char *direction)
{
  static const char *const names[] = { "tcp", "udp", "{ tcp, udp }" };

  if (rule->n_ports == 0)
    {
      if (rule->protocol != AR_EGRESS_ANY)
        fprintf (buf, " meta l4proto %s", names[rule->protocol]);
      return;
    }
  if (rule->protocol == AR_EGRESS_ANY)
    fprintf (buf, " meta l4proto %s th %s {", names[rule->protocol], direction);
  else
    fprintf (buf, " %s %s {", names[rule->protocol], direction);
  for (size_t i = 0; i < rule->n_ports; i++)
    {
      fprintf (buf, "%s %u", i ? "," : "", rule->ports[i].first);
      if (rule->ports[i].last != rule->ports[i].first)
        fprintf (buf, "-%u", rule->ports[i].last);
    }
  fputs (" }", buf);
}

/* Appends the policy's FILE:LINE as the rule's comment.  The text comes
 * from config.json, so only plain characters pass into the nft script, and
 * nft keeps at most 128 bytes. */
static void
append_comment (FILE *buf, const char *origin)
{
  size_t i;

  fputs (" comment \"", buf);
  for (i = 0; origin[i] && i < 120; i++)
    {
      char c = origin[i];
      bool plain = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || strchr ("._:/-+@", c);

      fputc (plain ? c : '_', buf);
    }
  fputs ("\"", buf);
}

/* The two rules of domain rule index, one per address family, matching
 * the sets that the keeper's DNS responder fills with the addresses it
 * resolves for the rule's names. */
static void
append_domain_rule (FILE *buf, const struct ar_egress_rule *rule, size_t index)
{
  for (int family = AF_INET; family; family = family == AF_INET ? AF_INET6 : 0)
    {
      char set[32];

      ar_dns_set_name (family, index, set, sizeof (set));
      fprintf (buf, "    %s daddr @%s", family == AF_INET ? "ip" : "ip6", set);
      append_l4 (buf, rule, "dport");
      fputs (" accept", buf);
      if (rule->origin)
        append_comment (buf, rule->origin);
      fputs ("\n", buf);
    }
}

static void
append_egress_rule (FILE *buf, const struct ar_egress_rule *rule)
{
  char text[INET6_ADDRSTRLEN];

  inet_ntop (rule->family, rule->addr, text, sizeof (text));
  fprintf (buf, "    %s daddr %s/%u", rule->family == AF_INET ? "ip" : "ip6", text, rule->prefix);
  append_l4 (buf, rule, "dport");
  fputs (" accept", buf);
  if (rule->origin)
    append_comment (buf, rule->origin);
  fputs ("\n", buf);
}

/* The part of both base chains before the policy's own rules: loopback,
 * replies, and the ICMPv6 messages without which IPv6 neighbours are never
 * found. */
static void
append_chain_head (FILE *buf, const char *hook, const char *interface)
{
  fprintf (buf,
           "  chain %s {\n"
           "    type filter hook %s priority filter; policy drop;\n"
           "    %s \"lo\" accept\n"
           "    ct state established,related accept\n"
           "    icmpv6 type { nd-router-solicit, nd-router-advert, nd-neighbor-solicit, nd-neighbor-advert }"
           " accept\n",
           hook, hook, interface);
}

char *
ar_egress_ruleset (const struct ar_egress_policy *policy, bool replace)
{
  char *text = NULL;
  size_t len = 0;
  FILE *buf;

  if (policy->mode == AR_EGRESS_MODE_HOST)
    return NULL;

  buf = open_memstream (&text, &len);
  if (buf == NULL)
    abort ();

  /* Adding and then deleting the table before defining it replaces one
   * left in a joined namespace, in the same transaction.  It makes nft
   * read the namespace's ruleset first, which a new namespace can skip.
   * NOTE: containers that share one namespace (a Kubernetes pod) share the
   * table too, so the last one created sets the policy for all of them,
   * and the table stays after delete until the namespace goes away. */
  if (replace)
    fputs ("add table inet " AR_EGRESS_TABLE "\ndelete table inet " AR_EGRESS_TABLE "\n", buf);
  fputs ("table inet " AR_EGRESS_TABLE " {\n", buf);

  /* Every blocked attempt passes here: logged (at most 10 a second) and
   * counted, then dropped, or let through in audit mode. */
  fprintf (buf,
           "  chain deny {\n"
           "    limit rate 10/second burst 20 packets log prefix \"%s\" group %d\n"
           "    counter %s\n"
           "  }\n",
           policy->enforce ? "agentrun-deny " : "agentrun-audit ", AR_EGRESS_LOG_GROUP,
           policy->enforce ? "drop" : "accept");

  if (policy->mode == AR_EGRESS_MODE_ALLOWLIST)
    for (size_t i = 0; i < policy->n_egress; i++)
      if (policy->egress[i].domain != NULL)
        {
          char set4[32], set6[32];

          ar_dns_set_name (AF_INET, i, set4, sizeof (set4));
          ar_dns_set_name (AF_INET6, i, set6, sizeof (set6));
          fprintf (buf,
                   "  set %s {\n    type ipv4_addr\n    flags timeout\n  }\n"
                   "  set %s {\n    type ipv6_addr\n    flags timeout\n  }\n",
                   set4, set6);
        }

  append_chain_head (buf, "output", "oif");
  for (size_t i = 0; i < policy->n_closed; i++)
    {
      char text[INET6_ADDRSTRLEN];

      inet_ntop (policy->closed[i].family, policy->closed[i].addr, text, sizeof (text));
      fprintf (buf, "    %s daddr %s jump deny\n", policy->closed[i].family == AF_INET ? "ip" : "ip6", text);
    }
  if (policy->mode == AR_EGRESS_MODE_ALLOWLIST)
    for (size_t i = 0; i < policy->n_egress; i++)
      if (policy->egress[i].domain == NULL && rule_is_protected (policy, &policy->egress[i]))
        append_egress_rule (buf, &policy->egress[i]);
  for (size_t i = 0; i < sizeof (protected_ranges) / sizeof (protected_ranges[0]); i++)
    fprintf (buf, "    %s daddr %s jump deny\n", protected_ranges[i].family == AF_INET ? "ip" : "ip6",
             protected_ranges[i].text);
  for (size_t i = 0; i < policy->n_host_addresses; i++)
    {
      char text[INET6_ADDRSTRLEN];

      inet_ntop (policy->host_addresses[i].family, policy->host_addresses[i].addr, text, sizeof (text));
      fprintf (buf, "    %s daddr %s jump deny\n", policy->host_addresses[i].family == AF_INET ? "ip" : "ip6", text);
    }
  if (policy->mode == AR_EGRESS_MODE_ALLOWLIST)
    for (size_t i = 0; i < policy->n_egress; i++)
      {
        if (policy->egress[i].domain != NULL)
          append_domain_rule (buf, &policy->egress[i], i);
        else if (!rule_is_protected (policy, &policy->egress[i]))
          append_egress_rule (buf, &policy->egress[i]);
      }
  if (policy->mode == AR_EGRESS_MODE_OPEN)
    fputs ("    accept\n", buf);
  fputs ("    jump deny\n  }\n", buf);

  append_chain_head (buf, "input", "iif");
  for (size_t i = 0; i < policy->n_ingress; i++)
    {
      fputs ("   ", buf);
      append_l4 (buf, &policy->ingress[i], "dport");
      fputs (" accept\n", buf);
    }
  fputs ("    jump deny\n  }\n}\n", buf);

  fclose (buf);
  return text;
}

int
ar_egress_check_config (const struct ar_egress_policy *policy, const struct ar_config *config, ar_error_t *err)
{
  const struct ar_namespace *net = &config->linux_config.namespaces[AR_NS_NETWORK];
  const struct ar_capabilities *caps = config->process ? config->process->capabilities : NULL;
  uint64_t granted = 0;

  if (policy->mode == AR_EGRESS_MODE_HOST)
    return 0;
  if (!net->present)
    return ar_make_error (err, EINVAL, FIELD ".mode: a network policy needs a network namespace; add "
                          "{\"type\": \"network\"} to linux.namespaces or set the policy's network.mode to host");

  if (caps)
    granted = caps->bounding | caps->effective | caps->permitted | caps->ambient | caps->inheritable;
  if (policy->enforce && (granted & (UINT64_C (1) << CAP_NET_ADMIN)))
    return ar_make_error (err, EPERM, "process.capabilities: CAP_NET_ADMIN would let the agent remove its network "
                          "policy; drop it from every capability set (podman: --cap-drop NET_ADMIN)");
  /* Packet sockets send frames below the IP layer, where the table's
   * hooks never see them. */
  if (policy->enforce && (granted & (UINT64_C (1) << CAP_NET_RAW)))
    return ar_make_error (err, EPERM, "process.capabilities: CAP_NET_RAW would let the agent bypass its network "
                          "policy with packet sockets; drop it from every capability set (podman: --cap-drop NET_RAW)");
  return 0;
}

/* Loads the ruleset into the network namespace the calling thread is in.
 * On failure it copies nft's error text into message. */
static int
load_ruleset (const char *ruleset, char *message, size_t size)
{
  struct nft_ctx *nft = nft_ctx_new (NFT_CTX_DEFAULT);
  const char *text;
  int ret = 0;

  if (nft == NULL)
    {
      snprintf (message, size, "cannot create an nftables context");
      return -1;
    }
  nft_ctx_buffer_output (nft);
  nft_ctx_buffer_error (nft);
  if (nft_run_cmd_from_buffer (nft, ruleset) != 0)
    {
      text = nft_ctx_get_error_buffer (nft);
      snprintf (message, size, "%s", text && *text ? text : "nft rejected the ruleset without a message");
      ret = -1;
    }
  nft_ctx_free (nft);
  return ret;
}

/* Joins the namespace and loads the ruleset, in the forked child.  On
 * failure it writes nft's error text to error_fd. */
static int __attribute__ ((noreturn))
apply_child (const char *ruleset, int netns_fd, int error_fd)
{
  char message[4096];

  if (setns (netns_fd, CLONE_NEWNET) < 0)
    {
      dprintf (error_fd, "cannot join the network namespace: %s", strerror (errno));
      _exit (1);
    }
  if (load_ruleset (ruleset, message, sizeof message) < 0)
    {
      dprintf (error_fd, "%s", message);
      _exit (1);
    }
  _exit (0);
}

/* Loads the ruleset from a child process that joins the namespace.
 * Returns 1 and sets message to the child's error text on failure. */
static int
apply_forked (const char *ruleset, int netns_fd, char *message, size_t size, ar_error_t *err)
{
  size_t used = 0;
  ssize_t n;
  int pipe_fds[2];
  int status;
  pid_t pid;

  if (pipe2 (pipe_fds, O_CLOEXEC) < 0)
    return ar_make_error (err, errno, "cannot create a pipe");

  pid = fork ();
  if (pid < 0)
    {
      int saved = errno;
      close (pipe_fds[0]);
      close (pipe_fds[1]);
      return ar_make_error (err, saved, "cannot fork to install the network policy");
    }
  if (pid == 0)
    {
      close (pipe_fds[0]);
      apply_child (ruleset, netns_fd, pipe_fds[1]);
    }

  close (pipe_fds[1]);
  while (used < size - 1
         && ((n = read (pipe_fds[0], message + used, size - 1 - used)) > 0 || (n < 0 && errno == EINTR)))
    if (n > 0)
      used += (size_t) n;
  message[used] = '\0';
  close (pipe_fds[0]);

  while (waitpid (pid, &status, 0) < 0)
    if (errno != EINTR)
      return ar_make_error (err, errno, "cannot wait for the process installing the network policy");
  if (!WIFEXITED (status) || WEXITSTATUS (status) != 0)
    {
      if (used == 0)
        snprintf (message, size, "the nft process exited without a message");
      return 1;
    }
  return 0;
}

/* Loads the ruleset while the calling thread is in the namespace, then
 * moves the thread back, which saves the fork and the wait of
 * apply_forked.  Returns 2 and changes nothing when the thread cannot
 * rejoin its own namespace (no CAP_SYS_ADMIN over that namespace's user
 * namespace), so the first setns checks that before the thread leaves.
 * Returns 1 and sets message when nft rejected the ruleset. */
static int
apply_in_thread (const char *ruleset, int netns_fd, char *message, size_t size, ar_error_t *err)
{
  cleanup_close int own_fd = open ("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
  int ret;

  if (own_fd < 0 || setns (own_fd, CLONE_NEWNET) < 0)
    return 2;
  if (setns (netns_fd, CLONE_NEWNET) < 0)
    {
      snprintf (message, size, "cannot join the network namespace: %s", strerror (errno));
      return 1;
    }
  ret = load_ruleset (ruleset, message, size) < 0 ? 1 : 0;
  if (setns (own_fd, CLONE_NEWNET) < 0)
    return ar_make_error (err, errno, "cannot return to the runtime's network namespace after installing the "
                          "network policy");
  return ret;
}

int
ar_egress_apply_netns (const struct ar_egress_policy *policy, int netns_fd, bool replace, ar_error_t *err)
{
  cleanup_free char *ruleset = ar_egress_ruleset (policy, replace);
  char message[4096] = "";
  size_t used;
  int ret;

  if (ruleset == NULL)
    return 0;
  ret = apply_in_thread (ruleset, netns_fd, message, sizeof message, err);
  if (ret == 2)
    ret = apply_forked (ruleset, netns_fd, message, sizeof message, err);
  if (ret <= 0)
    return ret;

  used = strlen (message);
  while (used > 0 && (message[used - 1] == '\n' || message[used - 1] == ' '))
    message[--used] = '\0';
  return ar_make_error (err, EIO, "cannot install the nftables table inet %s in the container's network "
                        "namespace (does the kernel have nf_tables?): %s",
                        AR_EGRESS_TABLE, message);
}

int
ar_egress_close_address (struct ar_egress_policy *policy, const char *text, ar_error_t *err)
{
  struct ar_egress_address address = { 0 };

  if (inet_pton (AF_INET, text, address.addr) == 1)
    address.family = AF_INET;
  else if (inet_pton (AF_INET6, text, address.addr) == 1)
    address.family = AF_INET6;
  else
    return ar_make_error (err, EINVAL, "`%s` is not an IPv4 or IPv6 address", text);
  policy->closed = realloc (policy->closed, sizeof (policy->closed[0]) * (policy->n_closed + 1));
  if (policy->closed == NULL)
    abort ();
  policy->closed[policy->n_closed++] = address;
  return 0;
}

/* Returns whether the first n entries of list contain address. */
static bool
address_listed (const struct ar_egress_address *list, size_t n, const struct ar_egress_address *address)
{
  for (size_t i = 0; i < n; i++)
    if (list[i].family == address->family && memcmp (list[i].addr, address->addr, 16) == 0)
      return true;
  return false;
}

int
ar_egress_collect_host_addresses (struct ar_egress_policy *policy, ar_error_t *err)
{
  struct ifaddrs *list, *ifa;
  size_t n = 0;

  if (getifaddrs (&list) < 0)
    return ar_make_error (err, errno, "cannot list the host's network addresses");
  for (ifa = list; ifa; ifa = ifa->ifa_next)
    n++;
  free (policy->host_addresses);
  policy->host_addresses = ar_xmalloc0 (sizeof (policy->host_addresses[0]) * (n + 1));
  policy->n_host_addresses = 0;

  for (ifa = list; ifa; ifa = ifa->ifa_next)
    {
      struct ar_egress_address *out = &policy->host_addresses[policy->n_host_addresses];

      if (ifa->ifa_addr == NULL || (ifa->ifa_flags & IFF_LOOPBACK))
        continue;
      if (ifa->ifa_addr->sa_family == AF_INET)
        {
          out->family = AF_INET;
          memcpy (out->addr, &((struct sockaddr_in *) ifa->ifa_addr)->sin_addr, 4);
        }
      else if (ifa->ifa_addr->sa_family == AF_INET6)
        {
          const struct in6_addr *a6 = &((struct sockaddr_in6 *) ifa->ifa_addr)->sin6_addr;

          /* Link-local addresses are closed as a range already. */
          if (IN6_IS_ADDR_LINKLOCAL (a6))
            continue;
          out->family = AF_INET6;
          memcpy (out->addr, a6, 16);
        }
      else
        continue;
      /* Every host end of agentrun's veth pairs has the same gateway. */
      if (address_listed (policy->host_addresses, policy->n_host_addresses, out))
        {
          memset (out, 0, sizeof (*out));
          continue;
        }
      policy->n_host_addresses++;
    }
  freeifaddrs (list);
  return 0;
}

int
ar_egress_apply_pid (struct ar_egress_policy *policy, pid_t pid, bool replace, ar_error_t *err)
{
  cleanup_free char *path = ar_xasprintf ("/proc/%d/ns/net", (int) pid);
  cleanup_close int fd = open (path, O_RDONLY | O_CLOEXEC);
  struct stat theirs, ours;

  if (policy->mode == AR_EGRESS_MODE_HOST)
    return 0;
  if (fd < 0)
    return ar_make_error (err, errno, "cannot open the network namespace `%s`", path);
  if (fstat (fd, &theirs) < 0 || stat ("/proc/self/ns/net", &ours) < 0)
    return ar_make_error (err, errno, "cannot read the network namespace `%s`", path);
  if (theirs.st_dev == ours.st_dev && theirs.st_ino == ours.st_ino)
    return ar_make_error (err, EINVAL, FIELD ": the container shares the runtime's network namespace, where "
                          "agentrun never installs rules; give it a network namespace of its own");
  if (ar_egress_collect_host_addresses (policy, err) < 0)
    return -1;
  return ar_egress_apply_netns (policy, fd, replace, err);
}
