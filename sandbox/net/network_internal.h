/* The parts of agentrun's container network that network.c puts together:
 * address leases (addresses.c), the veth pair (veth.c) and the host side
 * (host.c). */
#ifndef AGENTRUN_NET_NETWORK_INTERNAL_H
#define AGENTRUN_NET_NETWORK_INTERNAL_H

#include <arpa/inet.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "net/network.h"
#include "oci/error.h"

/* What create makes for one container, as state.json records it. */
struct ar_network_record
{
  char interface[16]; /* the host end */
  uint32_t lease;     /* the offset of the container's addresses in the subnets */
  bool has_v4, has_v6;
  char address4[INET_ADDRSTRLEN], gateway4[INET_ADDRSTRLEN];
  unsigned int prefix4;
  char address6[INET6_ADDRSTRLEN], gateway6[INET6_ADDRSTRLEN];
  unsigned int prefix6;
};

/* Takes the lowest free offset from 2 to capacity + 1 for id, under the
 * lock file ROOT/.network/lock, as the file ROOT/.network/leases/OFFSET
 * that contains the id.  A lease whose container has no state folder any
 * more is stale and taken over. */
int ar_network_lease_take (const char *root, const char *id, uint32_t capacity, uint32_t *out, ar_error_t *err);

/* Removes the lease at offset when it belongs to id; a missing lease is
 * no error. */
int ar_network_lease_release (const char *root, const char *id, uint32_t offset, ar_error_t *err);

/* Creates the veth pair with the peer named eth0 in the network namespace
 * open at netns_fd, and configures both ends and their routes. */
int ar_veth_create (const struct ar_network_record *record, int netns_fd, ar_error_t *err);

/* Deletes the host end, and with it the pair; a missing one is no error. */
int ar_veth_delete (const char *interface, ar_error_t *err);

/* Creates the host table when it is missing and adds the container's host
 * end and addresses to its sets. */
int ar_host_table_add (const struct ar_network_record *record, ar_error_t *err);

/* Removes the container's elements from the host table; elements or a
 * table already gone are no error. */
int ar_host_table_remove (const struct ar_network_record *record, ar_error_t *err);

/* Turns on IPv4 and IPv6 forwarding in the runtime's network namespace,
 * where they are off. */
int ar_host_forwarding_enable (bool v4, bool v6, ar_error_t *err);

#endif
