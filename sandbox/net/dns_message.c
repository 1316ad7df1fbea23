/* DNS messages with libldns: the question of a query, name patterns,
 * error replies, and the addresses of an upstream answer. */
#define _GNU_SOURCE
#include "net/dns_message.h"

#include <errno.h>
#include <ldns/ldns.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "oci/util.h"

static void
pkt_freep (ldns_pkt **pkt)
{
  if (*pkt)
    ldns_pkt_free (*pkt);
}

#define cleanup_pkt __attribute__ ((cleanup (pkt_freep)))

/* Writes the name rdf in lower case without its final dot to out. */
static int
name_to_text (const ldns_rdf *rdf, char out[AR_DNS_NAME_MAX])
{
  cleanup_free char *text = NULL;
  size_t len;

  if (rdf == NULL || ldns_rdf_get_type (rdf) != LDNS_RDF_TYPE_DNAME)
    return -EINVAL;
  text = ldns_rdf2str (rdf);
  if (text == NULL)
    return -ENOMEM;
  len = strlen (text);
  if (len > 0 && text[len - 1] == '.')
    text[--len] = '\0';
  if (len >= AR_DNS_NAME_MAX)
    return -EINVAL;
  for (size_t i = 0; i <= len; i++)
    out[i] = (text[i] >= 'A' && text[i] <= 'Z') ? (char) (text[i] - 'A' + 'a') : text[i];
  return 0;
}

/* Reads the one question of pkt into question, whatever its QR bit. */
static int
read_question (const ldns_pkt *pkt, struct ar_dns_question *question)
{
  const ldns_rr *rr;

  if (ldns_pkt_qdcount (pkt) != 1 || ldns_rr_list_rr_count (ldns_pkt_question (pkt)) != 1)
    return -EINVAL;
  rr = ldns_rr_list_rr (ldns_pkt_question (pkt), 0);
  memset (question, 0, sizeof (*question));
  question->id = ldns_pkt_id (pkt);
  question->qtype = (uint16_t) ldns_rr_get_type (rr);
  question->qclass = (uint16_t) ldns_rr_get_class (rr);
  return name_to_text (ldns_rr_owner (rr), question->name);
}

/* The count of additional records in the header of wire (which holds at
 * least 12 bytes).  libldns 1.8.3 leaks the first of two TSIG records in
 * that section, so messages that could hold two stay away from it. */
static unsigned
additional_count (const uint8_t *wire)
{
  return (unsigned) wire[10] << 8 | wire[11];
}

int
ar_dns_query_parse (const uint8_t *wire, size_t len, struct ar_dns_question *question, ar_error_t *err)
{
  cleanup_pkt ldns_pkt *pkt = NULL;
  struct ar_dns_question parsed;
  ldns_status status;

  /* A stub resolver's query holds one question, no answer or authority
   * records, and at most one additional record (EDNS). */
  if (len < 12 || wire[6] != 0 || wire[7] != 0 || wire[8] != 0 || wire[9] != 0 || additional_count (wire) > 1)
    return ar_make_error (err, EINVAL, "the DNS message is no plain query (%zu bytes)", len);
  status = ldns_wire2pkt (&pkt, wire, len);
  if (status != LDNS_STATUS_OK)
    return ar_make_error (err, EINVAL, "malformed DNS query: %s", ldns_get_errorstr_by_id (status));
  if (ldns_pkt_qr (pkt))
    return ar_make_error (err, EINVAL, "the DNS message is a response, not a query");
  if (ldns_pkt_get_opcode (pkt) != LDNS_PACKET_QUERY)
    return ar_make_error (err, EINVAL, "the DNS message has opcode %d, not QUERY", (int) ldns_pkt_get_opcode (pkt));
  if (read_question (pkt, &parsed) < 0)
    return ar_make_error (err, EINVAL, "the DNS query does not hold exactly one valid question");
  *question = parsed;
  return 0;
}

bool
ar_dns_name_matches (const char *pattern, const char *name)
{
  size_t plen = strlen (pattern);
  size_t nlen = strlen (name);
  bool wildcard = plen > 2 && pattern[0] == '*' && pattern[1] == '.';

  if (plen > 0 && pattern[plen - 1] == '.')
    plen--;
  if (!wildcard)
    return plen == nlen && strncasecmp (pattern, name, plen) == 0;
  /* "*.example.org": the name ends with ".example.org", has at least one
   * label before it, and that dot is no escaped "\." inside a label. */
  {
    const char *suffix = pattern + 2;
    size_t slen = plen - 2;
    size_t dot, backslashes = 0;

    if (nlen < slen + 2 || strncasecmp (name + nlen - slen, suffix, slen) != 0 || name[nlen - slen - 1] != '.')
      return false;
    dot = nlen - slen - 1;
    while (dot > backslashes && name[dot - 1 - backslashes] == '\\')
      backslashes++;
    return backslashes % 2 == 0;
  }
}

int
ar_dns_reply_error (const uint8_t *query, size_t len, int rcode, uint8_t **out, size_t *out_len, ar_error_t *err)
{
  cleanup_pkt ldns_pkt *pkt = NULL;
  cleanup_pkt ldns_pkt *reply = NULL;
  ldns_status status = ldns_wire2pkt (&pkt, query, len);
  uint8_t *wire = NULL;
  size_t size = 0;

  if (status != LDNS_STATUS_OK)
    return ar_make_error (err, EINVAL, "malformed DNS query: %s", ldns_get_errorstr_by_id (status));
  if (ldns_rr_list_rr_count (ldns_pkt_question (pkt)) != 1)
    return ar_make_error (err, EINVAL, "the DNS query does not hold exactly one question");

  reply = ldns_pkt_new ();
  if (reply == NULL)
    return ar_make_error (err, ENOMEM, "cannot build a DNS reply");
  ldns_pkt_set_id (reply, ldns_pkt_id (pkt));
  ldns_pkt_set_qr (reply, true);
  ldns_pkt_set_opcode (reply, ldns_pkt_get_opcode (pkt));
  ldns_pkt_set_rd (reply, ldns_pkt_rd (pkt));
  ldns_pkt_set_ra (reply, true);
  ldns_pkt_set_rcode (reply, (uint8_t) rcode);
  if (!ldns_pkt_push_rr (reply, LDNS_SECTION_QUESTION, ldns_rr_clone (ldns_rr_list_rr (ldns_pkt_question (pkt), 0))))
    return ar_make_error (err, ENOMEM, "cannot build a DNS reply");

  status = ldns_pkt2wire (&wire, reply, &size);
  if (status != LDNS_STATUS_OK)
    return ar_make_error (err, EINVAL, "cannot build a DNS reply: %s", ldns_get_errorstr_by_id (status));
  *out = wire;
  *out_len = size;
  return 0;
}

/* Follows the CNAME records of the answer section from name; fills chain
 * with name and every target, and returns how many. */
static size_t
follow_chain (const ldns_rr_list *answers, const char *name, char (*chain)[AR_DNS_NAME_MAX])
{
  size_t n = 1;

  snprintf (chain[0], AR_DNS_NAME_MAX, "%s", name);
  while (n <= AR_DNS_MAX_CHAIN)
    {
      bool found = false;

      for (size_t i = 0; i < ldns_rr_list_rr_count (answers) && !found; i++)
        {
          const ldns_rr *rr = ldns_rr_list_rr (answers, i);
          char owner[AR_DNS_NAME_MAX];

          if (ldns_rr_get_type (rr) != LDNS_RR_TYPE_CNAME || ldns_rr_get_class (rr) != LDNS_RR_CLASS_IN
              || name_to_text (ldns_rr_owner (rr), owner) < 0 || strcmp (owner, chain[n - 1]) != 0)
            continue;
          if (name_to_text (ldns_rr_rdf (rr, 0), chain[n]) < 0)
            return n;
          found = true;
        }
      if (!found)
        break;
      /* A loop ends the chain. */
      for (size_t i = 0; i < n && found; i++)
        if (strcmp (chain[i], chain[n]) == 0)
          found = false;
      if (!found)
        break;
      n++;
    }
  return n;
}

static void
collect_addresses (const ldns_rr_list *answers, char (*chain)[AR_DNS_NAME_MAX], size_t n_chain,
                   struct ar_dns_answer *answer)
{
  for (size_t i = 0; i < ldns_rr_list_rr_count (answers) && answer->n_addresses < AR_DNS_MAX_ADDRESSES; i++)
    {
      const ldns_rr *rr = ldns_rr_list_rr (answers, i);
      ldns_rr_type type = ldns_rr_get_type (rr);
      const ldns_rdf *data = ldns_rr_rdf (rr, 0);
      struct ar_dns_address *address = &answer->addresses[answer->n_addresses];
      char owner[AR_DNS_NAME_MAX];
      bool in_chain = false;

      if ((type != LDNS_RR_TYPE_A && type != LDNS_RR_TYPE_AAAA) || ldns_rr_get_class (rr) != LDNS_RR_CLASS_IN
          || data == NULL || name_to_text (ldns_rr_owner (rr), owner) < 0)
        continue;
      for (size_t c = 0; c < n_chain && !in_chain; c++)
        in_chain = strcmp (owner, chain[c]) == 0;
      if (!in_chain)
        continue;

      if (type == LDNS_RR_TYPE_A && ldns_rdf_size (data) == 4)
        address->family = AF_INET;
      else if (type == LDNS_RR_TYPE_AAAA && ldns_rdf_size (data) == 16)
        address->family = AF_INET6;
      else
        continue;
      memset (address->addr, 0, sizeof (address->addr));
      memcpy (address->addr, ldns_rdf_data (data), ldns_rdf_size (data));
      address->ttl = ldns_rr_ttl (rr);
      answer->n_addresses++;
    }
}

int
ar_dns_answer_parse (const uint8_t *wire, size_t len, const struct ar_dns_question *question,
                     struct ar_dns_answer *answer, ar_error_t *err)
{
  cleanup_pkt ldns_pkt *pkt = NULL;
  cleanup_free char (*chain)[AR_DNS_NAME_MAX] = NULL;
  struct ar_dns_question echoed;
  ldns_status status = ldns_wire2pkt (&pkt, wire, len);
  size_t n_chain;

  if (status != LDNS_STATUS_OK)
    return ar_make_error (err, EINVAL, "malformed DNS answer: %s", ldns_get_errorstr_by_id (status));
  if (!ldns_pkt_qr (pkt))
    return ar_make_error (err, EINVAL, "the DNS message is a query, not an answer");
  if (read_question (pkt, &echoed) < 0 || echoed.qtype != question->qtype || echoed.qclass != question->qclass
      || strcmp (echoed.name, question->name) != 0)
    return ar_make_error (err, EINVAL, "the DNS answer is for another question than `%s`", question->name);

  memset (answer, 0, sizeof (*answer));
  answer->id = ldns_pkt_id (pkt);
  answer->rcode = ldns_pkt_get_rcode (pkt);
  answer->truncated = ldns_pkt_tc (pkt);
  if (answer->rcode != LDNS_RCODE_NOERROR)
    return 0;

  chain = ar_xmalloc0 ((AR_DNS_MAX_CHAIN + 1) * sizeof (*chain));
  n_chain = follow_chain (ldns_pkt_answer (pkt), question->name, chain);
  collect_addresses (ldns_pkt_answer (pkt), chain, n_chain, answer);
  return 0;
}

static bool
cap_list (ldns_rr_list *list, uint32_t ceiling)
{
  bool changed = false;

  for (size_t i = 0; i < ldns_rr_list_rr_count (list); i++)
    {
      ldns_rr *rr = ldns_rr_list_rr (list, i);

      if (ldns_rr_ttl (rr) > ceiling)
        {
          ldns_rr_set_ttl (rr, ceiling);
          changed = true;
        }
    }
  return changed;
}

int
ar_dns_cap_ttls (const uint8_t *wire, size_t len, uint32_t ceiling, uint8_t **out, size_t *out_len, ar_error_t *err)
{
  cleanup_pkt ldns_pkt *pkt = NULL;
  ldns_status status = ldns_wire2pkt (&pkt, wire, len);
  uint8_t *new_wire = NULL;
  size_t size = 0;
  bool changed;

  if (status != LDNS_STATUS_OK)
    return ar_make_error (err, EINVAL, "malformed DNS answer: %s", ldns_get_errorstr_by_id (status));
  changed = cap_list (ldns_pkt_answer (pkt), ceiling);
  changed = cap_list (ldns_pkt_authority (pkt), ceiling) || changed;
  changed = cap_list (ldns_pkt_additional (pkt), ceiling) || changed;
  if (!changed)
    {
      *out = NULL;
      *out_len = 0;
      return 0;
    }
  status = ldns_pkt2wire (&new_wire, pkt, &size);
  if (status != LDNS_STATUS_OK)
    return ar_make_error (err, EINVAL, "cannot rebuild the DNS answer: %s", ldns_get_errorstr_by_id (status));
  *out = new_wire;
  *out_len = size;
  return 0;
}

const char *
ar_dns_type_name (uint16_t qtype, char *buf, size_t size)
{
  const ldns_rr_descriptor *descriptor = ldns_rr_descript (qtype);

  if (descriptor != NULL && descriptor->_name != NULL && qtype != 0)
    return descriptor->_name;
  snprintf (buf, size, "TYPE%u", (unsigned) qtype);
  return buf;
}

int
ar_dns_fuzz_one (const uint8_t *data, size_t size)
{
  static const char *const patterns[] = { "api.example.com", "*.example.org", "*.", "" };
  cleanup_error ar_error_t err = NULL;
  cleanup_pkt ldns_pkt *pkt = NULL;
  struct ar_dns_question question;
  struct ar_dns_answer answer;
  uint8_t *out = NULL;
  size_t out_len = 0;
  char buf[16];

  if (ar_dns_query_parse (data, size, &question, &err) == 0)
    {
      for (size_t i = 0; i < sizeof (patterns) / sizeof (patterns[0]); i++)
        ar_dns_name_matches (patterns[i], question.name);
      ar_dns_type_name (question.qtype, buf, sizeof (buf));
      if (ar_dns_reply_error (data, size, AR_DNS_RCODE_REFUSED, &out, &out_len, &err) == 0)
        free (out);
    }
  ar_error_release (&err);

  /* The same bytes as an answer to the question they hold.  Answers come
   * from the upstream, so they may hold several additional records; the
   * fuzzer skips those with two or more, where libldns itself can leak. */
  if (size < 12 || additional_count (data) > 1)
    return 0;
  if (ldns_wire2pkt (&pkt, data, size) == LDNS_STATUS_OK && read_question (pkt, &question) == 0)
    {
      ar_dns_answer_parse (data, size, &question, &answer, &err);
      ar_error_release (&err);
    }
  out = NULL;
  if (ar_dns_cap_ttls (data, size, 30, &out, &out_len, &err) == 0)
    free (out);
  ar_error_release (&err);
  return 0;
}
