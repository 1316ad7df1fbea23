/* Egress rules by name: the keeper's DNS responder.  When the network
 * policy has `domain` rules, the container's /etc/resolv.conf names
 * AR_DNS_LISTEN_ADDRESS, where the keeper answers on UDP and TCP port 53
 * inside the container's network namespace.  It forwards the names the
 * policy allows to the upstream resolver, puts the addresses of the answer
 * into the nftables sets of the matching rules (see ar_dns_set_name)
 * before the container sees the answer, and refuses every other name.
 * docs/policy.md describes it for users. */
#ifndef AGENTRUN_NET_DNS_H
#define AGENTRUN_NET_DNS_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>

#include "net/egress.h"
#include "oci/config.h"
#include "oci/error.h"

/* The upstream resolver, as ADDRESS, ADDRESS:PORT or [IPV6]:PORT; without
 * it, the first nameserver of the runtime's /etc/resolv.conf. */
#define AR_DNS_ANNOTATION_UPSTREAM "agentrun.network.dns-upstream"

/* The responder's address in the container's network namespace. */
#define AR_DNS_LISTEN_ADDRESS "127.0.0.53"

/* How long an answered address stays in a rule's set: the record's TTL,
 * but at least the floor and at most the ceiling; answers reach the
 * container with TTLs above the ceiling lowered to it. */
#define AR_DNS_TTL_FLOOR 30
#define AR_DNS_TTL_CEILING 3600

/* The file in the container's state folder that becomes its
 * /etc/resolv.conf. */
#define AR_DNS_RESOLV_CONF "resolv.conf"

/* True when the policy has domain rules that a responder must serve. */
bool ar_dns_wanted (const struct ar_egress_policy *egress);

/* Writes STATE_DIR/resolv.conf, which names only the responder, and adds
 * a read-only bind mount of it at /etc/resolv.conf after every mount of
 * config, so that it covers one that the engine (podman) mounts there. */
int ar_dns_add_resolv_conf (struct ar_config *config, const char *state_dir, ar_error_t *err);

/* Parses an upstream given as ADDRESS, ADDRESS:PORT or [IPV6]:PORT (port
 * 53 by default). */
int ar_dns_parse_upstream (const char *text, struct sockaddr_storage *out, socklen_t *out_len, ar_error_t *err);

/* Reads the first `nameserver` line of the resolv.conf at path. */
int ar_dns_upstream_from_resolv_conf (const char *path, struct sockaddr_storage *out, socklen_t *out_len,
                                      ar_error_t *err);

/* The name of the set of egress rule index for family, "d4_N" or "d6_N";
 * egress.c declares the sets, the responder fills them. */
void ar_dns_set_name (int family, size_t index, char *buf, size_t size);

#endif
