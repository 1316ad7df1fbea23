/* Egress enforcement: the nftables table `inet agentrun` that the runtime
 * installs in the container's network namespace before the container
 * process runs, built from the annotation agentrun.policy.network that the
 * policy compiler writes.  The container process lacks CAP_NET_ADMIN, so it
 * cannot change or remove the table.
 * A new namespace gets agentrun's own network (net/network.h).  Domain
 * rules become nftables sets that the keeper's DNS responder fills
 * (net/dns.h). */
#ifndef AGENTRUN_NET_EGRESS_H
#define AGENTRUN_NET_EGRESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "oci/config.h"
#include "oci/error.h"

#define AR_EGRESS_ANNOTATION "agentrun.policy.network"
#define AR_EGRESS_TABLE "agentrun"

/* The NFLOG group of blocked attempts in the container's network namespace,
 * with the prefix "agentrun-deny " ("agentrun-audit " in audit mode, where
 * the attempt passes).  The number is arbitrary and unique to agentrun.
 * The keeper reads it and writes connection events (egress_events.c). */
#define AR_EGRESS_LOG_GROUP 7420

enum ar_egress_mode
{
  AR_EGRESS_MODE_NONE,
  AR_EGRESS_MODE_ALLOWLIST,
  AR_EGRESS_MODE_OPEN,
  AR_EGRESS_MODE_HOST,
};

enum ar_egress_protocol
{
  AR_EGRESS_TCP,
  AR_EGRESS_UDP,
  AR_EGRESS_ANY,
};

struct ar_egress_port_range
{
  uint16_t first;
  uint16_t last;
};

struct ar_egress_rule
{
  int family;             /* AF_INET or AF_INET6; 0 for a domain rule */
  unsigned char addr[16]; /* the network address, host bits zero */
  unsigned int prefix;
  char *domain; /* a domain rule (net/dns.h); NULL for a cidr rule */
  enum ar_egress_protocol protocol;
  struct ar_egress_port_range *ports; /* none: every port */
  size_t n_ports;
  char *origin; /* the policy's FILE:LINE, or NULL */
};

/* One address of the host, closed to the container unless a rule lists
 * exactly that address. */
struct ar_egress_address
{
  int family;
  unsigned char addr[16];
};

struct ar_egress_policy
{
  enum ar_egress_mode mode;
  bool enforce; /* false in audit mode: blocked attempts pass and are logged */
  struct ar_egress_rule *egress;
  size_t n_egress;
  struct ar_egress_rule *ingress; /* ports and protocol only */
  size_t n_ingress;
  struct ar_egress_address *host_addresses; /* filled by ar_egress_collect_host_addresses */
  size_t n_host_addresses;
  struct ar_egress_address *closed; /* closed even to a rule that lists them: the gateways */
  size_t n_closed;
};

/* Parses the JSON of the annotation.  Errors name the field, as in
 * `annotations["agentrun.policy.network"].egress[2].cidr`. */
int ar_egress_policy_parse (const char *json_text, struct ar_egress_policy **out, ar_error_t *err);

void ar_egress_policy_free (struct ar_egress_policy *policy);

/* Finds the annotation in the config and parses it.  *out is NULL when the
 * config has none. */
int ar_egress_policy_from_config (const struct ar_config *config, struct ar_egress_policy **out, ar_error_t *err);

/* Closes the address text (IPv4 or IPv6) to the container whatever the
 * rules list: the gateway of agentrun's network routes the container's
 * traffic but is no destination. */
int ar_egress_close_address (struct ar_egress_policy *policy, const char *text, ar_error_t *err);

/* Builds the nft script that creates the table in one transaction, or with
 * replace, replaces one that exists.  NULL in mode host, where agentrun
 * installs nothing. */
char *ar_egress_ruleset (const struct ar_egress_policy *policy, bool replace);

/* Rejects configs that would let the container undo or bypass the table:
 * no network namespace of its own, or CAP_NET_ADMIN or CAP_NET_RAW in its
 * capabilities (in audit mode, both pass). */
int ar_egress_check_config (const struct ar_egress_policy *policy, const struct ar_config *config, ar_error_t *err);

/* Lists the addresses of the runtime's network namespace, except loopback
 * and IPv6 link-local ones, into policy->host_addresses. */
int ar_egress_collect_host_addresses (struct ar_egress_policy *policy, ar_error_t *err);

/* Names what closes the destination family/addr when no rule opens it:
 * "(link-local or cloud metadata address)", "(the host's own address)",
 * or "(default)" for the default deny.  For the rule field of events. */
const char *ar_egress_blocked_reason (const struct ar_egress_policy *policy, int family, const unsigned char addr[16]);

/* Installs the table in the network namespace open at netns_fd.  The
 * calling thread joins the namespace for the transaction and comes back,
 * or, where it could not come back (no CAP_SYS_ADMIN over its own
 * namespace), a short-lived child process joins it.  replace is for a
 * namespace joined by path, which may have the table already. */
int ar_egress_apply_netns (const struct ar_egress_policy *policy, int netns_fd, bool replace, ar_error_t *err);

/* Same, in the network namespace of process pid, with the runtime's own
 * addresses closed.  Fails when that is the runtime's own namespace. */
int ar_egress_apply_pid (struct ar_egress_policy *policy, pid_t pid, bool replace, ar_error_t *err);

#endif
