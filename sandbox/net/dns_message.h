/* DNS messages for the keeper's DNS responder (sandbox/net/dns.c): the
 * question of a query, the names a policy allows, error replies, and the
 * addresses of an upstream answer.  Parsing and building go through
 * libldns; nothing here touches a socket, so the unit tests and the fuzz
 * target call these functions on plain bytes. */
#ifndef AGENTRUN_NET_DNS_MESSAGE_H
#define AGENTRUN_NET_DNS_MESSAGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "oci/error.h"

/* The maximum size of a name in presentation form with escapes ("\\DDD"
 * per byte), with the terminating NUL. */
#define AR_DNS_NAME_MAX 1024

/* The maximum number of addresses taken from one answer, and the maximum
 * length of a CNAME chain that is followed. */
#define AR_DNS_MAX_ADDRESSES 64
#define AR_DNS_MAX_CHAIN 16

#define AR_DNS_RCODE_SERVFAIL 2
#define AR_DNS_RCODE_NXDOMAIN 3
#define AR_DNS_RCODE_REFUSED 5

#define AR_DNS_TYPE_A 1
#define AR_DNS_TYPE_CNAME 5
#define AR_DNS_TYPE_AAAA 28

/* The one question of a query. */
struct ar_dns_question
{
  uint16_t id;
  uint16_t qtype;
  uint16_t qclass;
  /* Lower case, without the final dot ("" for the root); bytes that are
   * not plain name characters are escaped as "\\DDD". */
  char name[AR_DNS_NAME_MAX];
};

struct ar_dns_address
{
  int family; /* AF_INET or AF_INET6 */
  unsigned char addr[16];
  uint32_t ttl;
};

/* The parts of an upstream answer that the responder uses. */
struct ar_dns_answer
{
  uint16_t id;
  int rcode;
  bool truncated;
  struct ar_dns_address addresses[AR_DNS_MAX_ADDRESSES];
  size_t n_addresses;
};

/* Parses a query: a message with QR clear, opcode QUERY and exactly one
 * question.  -EINVAL with err for anything else. */
int ar_dns_query_parse (const uint8_t *wire, size_t len, struct ar_dns_question *question, ar_error_t *err);

/* True when name (in the form of ar_dns_question.name) matches pattern: the same
 * name, or for "*.SUFFIX" any name below SUFFIX (not SUFFIX itself).
 * Case and a final dot in pattern do not matter. */
bool ar_dns_name_matches (const char *pattern, const char *name);

/* Builds the reply to query with rcode (REFUSED, SERVFAIL, ...) and no
 * records, keeping the query's id, question and RD bit; *out is
 * malloc'ed. */
int ar_dns_reply_error (const uint8_t *query, size_t len, int rcode, uint8_t **out, size_t *out_len,
                        ar_error_t *err);

/* Parses an upstream reply to question: checks that it is a response
 * with the same question, then collects the A and AAAA records of the
 * question's name and of the names its CNAME chain leads to. */
int ar_dns_answer_parse (const uint8_t *wire, size_t len, const struct ar_dns_question *question,
                         struct ar_dns_answer *answer, ar_error_t *err);

/* Lowers every TTL above ceiling to ceiling, so that the container caches
 * no address longer than the firewall keeps it.  *out is NULL when no TTL
 * changed, else a malloc'ed new message. */
int ar_dns_cap_ttls (const uint8_t *wire, size_t len, uint32_t ceiling, uint8_t **out, size_t *out_len,
                     ar_error_t *err);

/* The name of a query type, such as "AAAA", or "TYPE65" for one without a
 * name; static storage for the known ones, else buf. */
const char *ar_dns_type_name (uint16_t qtype, char *buf, size_t size);

/* A libFuzzer entry point: runs every parser and builder above on data.
 * Always returns 0. */
int ar_dns_fuzz_one (const uint8_t *data, size_t size);

#endif
