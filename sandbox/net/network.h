/* agentrun's own network for a container with a new network namespace and
 * a network policy in mode allowlist or open: a veth pair made with
 * libnl-route-3, its container end named eth0 with addresses from a
 * configured subnet and default routes through the host end, which holds
 * the gateway address.  On the host, the nftables table inet agentrun-host
 * forwards and masquerades the container's traffic.  The egress table
 * inside the container's namespace (net/egress.h) still decides where the
 * container may connect.
 *
 * What create made is recorded in the container's state.json (key
 * "network") before anything is made, so delete, a failed create and
 * `delete --force` after a crash remove the veth, the host table's
 * elements and the address lease. */
#ifndef AGENTRUN_NET_NETWORK_H
#define AGENTRUN_NET_NETWORK_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "net/egress.h"
#include "oci/config.h"
#include "oci/error.h"
#include "state.h"

/* The environment variable that sets the subnets: `none`, or one IPv4 and
 * at most one IPv6 range separated by a comma.  A range that is left out
 * leaves the container without that address family. */
#define AR_NETWORK_SUBNET_ENV "AGENTRUN_NETWORK_SUBNET"
#define AR_NETWORK_DEFAULT_SUBNET4 "10.231.0.0/16"
#define AR_NETWORK_DEFAULT_SUBNET6 "fd5c:3a1e:7b29:1::/64"

#define AR_NETWORK_HOST_TABLE "agentrun-host"
#define AR_NETWORK_CONTAINER_INTERFACE "eth0"

struct ar_subnet
{
  int family; /* AF_INET or AF_INET6 */
  unsigned char addr[16];
  unsigned int prefix;
};

struct ar_network_subnets
{
  bool none; /* the setting is `none`: agentrun makes no network */
  bool has_v4, has_v6;
  struct ar_subnet v4, v6;
};

/* Parses the value of AGENTRUN_NETWORK_SUBNET; NULL or an empty string
 * gives the defaults.  Errors name the variable and the range. */
int ar_network_subnets_parse (const char *text, struct ar_network_subnets *out, ar_error_t *err);

/* The number of container addresses a subnet holds: every address but
 * the network address, the gateway (network + 1) and, for IPv4, the
 * broadcast address. */
uint32_t ar_subnet_capacity (const struct ar_subnet *subnet);

/* Writes the address network + offset of subnet as text. */
void ar_subnet_address (const struct ar_subnet *subnet, uint32_t offset, char *text, size_t size);

/* The host end's name: "ar" and 12 hex digits of a hash of the root and
 * the id, so that ids in different roots get different names. */
void ar_network_host_interface (const char *root, const char *id, char name[16]);

/* Returns whether create gives the container agentrun's network: a new
 * network namespace (no path) and a policy in mode allowlist or open. */
bool ar_network_wanted (const struct ar_egress_policy *policy, const struct ar_config *config);

/* Makes the network of the container process pid, whose namespace must
 * not be the runtime's, when ar_network_wanted returns true and the
 * setting is not `none`.  Sets state->network and writes state.json before making
 * anything; on failure it removes what it made, and state->network stays
 * for ar_network_teardown.  It closes the gateway addresses in policy, so
 * it must run before ar_egress_apply_pid. */
int ar_network_setup (const char *root, struct ar_state *state, struct ar_egress_policy *policy,
                      const struct ar_config *config, pid_t pid, ar_error_t *err);

/* Removes what state->network records: the host end of the veth (and so
 * the pair), the container's elements in the host table and the address
 * lease.  Parts already gone count as removed.  Does nothing without a
 * record.  Must run in the network namespace where create ran. */
int ar_network_teardown (const char *root, const struct ar_state *state, ar_error_t *err);

#endif
