/* The DNS responder's message handling (net/dns_message.c) on messages
 * built with libldns, its upstream setting and its resolv.conf. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <ldns/ldns.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <unistd.h>

#include "net/dns.h"
#include "net/dns_message.h"
#include "oci/util.h"
#include "unit.h"

/* The wire form of a query for name and type; *len receives its size. */
static uint8_t *
make_query (const char *name, ldns_rr_type type, uint16_t id, size_t *len)
{
  ldns_pkt *pkt = NULL;
  uint8_t *wire = NULL;

  if (ldns_pkt_query_new_frm_str (&pkt, name, type, LDNS_RR_CLASS_IN, LDNS_RD) != LDNS_STATUS_OK)
    abort ();
  ldns_pkt_set_id (pkt, id);
  if (ldns_pkt2wire (&wire, pkt, len) != LDNS_STATUS_OK)
    abort ();
  ldns_pkt_free (pkt);
  return wire;
}

/* The wire form of an answer to name/type with the records given in
 * presentation form, NULL-terminated. */
static uint8_t *
make_answer (const char *name, ldns_rr_type type, uint16_t id, int rcode, const char *const *records, size_t *len)
{
  ldns_pkt *pkt = NULL;
  uint8_t *wire = NULL;

  if (ldns_pkt_query_new_frm_str (&pkt, name, type, LDNS_RR_CLASS_IN, LDNS_RD) != LDNS_STATUS_OK)
    abort ();
  ldns_pkt_set_id (pkt, id);
  ldns_pkt_set_qr (pkt, true);
  ldns_pkt_set_rcode (pkt, (uint8_t) rcode);
  for (size_t i = 0; records && records[i]; i++)
    {
      ldns_rr *rr = NULL;
      if (ldns_rr_new_frm_str (&rr, records[i], 0, NULL, NULL) != LDNS_STATUS_OK)
        abort ();
      ldns_pkt_push_rr (pkt, LDNS_SECTION_ANSWER, rr);
    }
  if (ldns_pkt2wire (&wire, pkt, len) != LDNS_STATUS_OK)
    abort ();
  ldns_pkt_free (pkt);
  return wire;
}

static void
test_name_matches (void)
{
  CHECK (ar_dns_name_matches ("api.example.com", "api.example.com"));
  CHECK (ar_dns_name_matches ("API.Example.com.", "api.example.com"));
  CHECK (!ar_dns_name_matches ("api.example.com", "x.api.example.com"));
  CHECK (!ar_dns_name_matches ("api.example.com", "example.com"));
  CHECK (ar_dns_name_matches ("*.example.org", "a.example.org"));
  CHECK (ar_dns_name_matches ("*.example.org", "a.b.example.org"));
  CHECK (!ar_dns_name_matches ("*.example.org", "example.org"));
  CHECK (!ar_dns_name_matches ("*.example.org", "badexample.org"));
  CHECK (!ar_dns_name_matches ("*.example.org", "example.org.evil.test"));
  /* One label "a.example" under org is not under example.org. */
  CHECK (!ar_dns_name_matches ("*.example.org", "a\\.example.org"));
  CHECK (ar_dns_name_matches ("*.example.org", "a\\\\.example.org"));
  CHECK (!ar_dns_name_matches ("", "a"));
}

static void
test_query_parse (void)
{
  cleanup_error ar_error_t err = NULL;
  struct ar_dns_question question;
  size_t len = 0, answer_len = 0;
  cleanup_free uint8_t *query = make_query ("Api.Example.COM.", LDNS_RR_TYPE_AAAA, 4242, &len);
  cleanup_free uint8_t *answer = make_answer ("api.example.com.", LDNS_RR_TYPE_A, 1, 0, NULL, &answer_len);
  static const uint8_t garbage[] = { 0x12, 0x34, 0x01, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x40 };
  uint8_t two[512];

  CHECK (ar_dns_query_parse (query, len, &question, &err) == 0);
  CHECK_STR_EQ (question.name, "api.example.com");
  CHECK (question.qtype == AR_DNS_TYPE_AAAA);
  CHECK (question.qclass == 1);
  CHECK (question.id == 4242);

  CHECK (ar_dns_query_parse (answer, answer_len, &question, &err) < 0);
  CHECK (err != NULL);
  ar_error_release (&err);
  CHECK (ar_dns_query_parse (garbage, sizeof (garbage), &question, &err) < 0);
  ar_error_release (&err);
  CHECK (ar_dns_query_parse (query, 5, &question, &err) < 0);
  ar_error_release (&err);

  /* Two questions: QDCOUNT 2 with the question repeated. */
  memcpy (two, query, len);
  memcpy (two + len, query + 12, len - 12);
  two[5] = 2;
  CHECK (ar_dns_query_parse (two, len + len - 12, &question, &err) < 0);
}

static void
test_reply_error (void)
{
  cleanup_error ar_error_t err = NULL;
  size_t len = 0, reply_len = 0;
  cleanup_free uint8_t *query = make_query ("evil.test.", LDNS_RR_TYPE_A, 777, &len);
  cleanup_free uint8_t *reply = NULL;
  ldns_pkt *pkt = NULL;

  CHECK (ar_dns_reply_error (query, len, AR_DNS_RCODE_REFUSED, &reply, &reply_len, &err) == 0);
  CHECK (reply != NULL && ldns_wire2pkt (&pkt, reply, reply_len) == LDNS_STATUS_OK);
  if (pkt == NULL)
    return;
  CHECK (ldns_pkt_id (pkt) == 777);
  CHECK (ldns_pkt_qr (pkt));
  CHECK (ldns_pkt_rd (pkt));
  CHECK (ldns_pkt_get_rcode (pkt) == LDNS_RCODE_REFUSED);
  CHECK (ldns_pkt_qdcount (pkt) == 1 && ldns_pkt_ancount (pkt) == 0);
  CHECK (ldns_rr_get_type (ldns_rr_list_rr (ldns_pkt_question (pkt), 0)) == LDNS_RR_TYPE_A);
  ldns_pkt_free (pkt);
}

static void
test_answer_cname_chain (void)
{
  static const char *const records[] = {
    "alias.example.com. 300 IN CNAME edge.cdn.test.",
    "edge.cdn.test. 120 IN CNAME Node.CDN.test.",
    "node.cdn.test. 60 IN A 192.0.2.7",
    "node.cdn.test. 90 IN A 192.0.2.8",
    "other.test. 60 IN A 198.51.100.1",
    "node.cdn.test. 60 IN AAAA 2001:db8::7",
  };
  const char *list[sizeof (records) / sizeof (records[0]) + 1] = { NULL };
  cleanup_error ar_error_t err = NULL;
  struct ar_dns_question question;
  struct ar_dns_answer answer;
  size_t len = 0, query_len = 0;
  cleanup_free uint8_t *wire = NULL;
  cleanup_free uint8_t *query = make_query ("alias.example.com.", LDNS_RR_TYPE_A, 9, &query_len);
  char text[INET6_ADDRSTRLEN];

  memcpy (list, records, sizeof (records));
  wire = make_answer ("alias.example.com.", LDNS_RR_TYPE_A, 9, 0, list, &len);
  CHECK (ar_dns_query_parse (query, query_len, &question, &err) == 0);
  CHECK (ar_dns_answer_parse (wire, len, &question, &answer, &err) == 0);
  CHECK (answer.id == 9 && answer.rcode == 0 && !answer.truncated);
  CHECK (answer.n_addresses == 3);
  if (answer.n_addresses == 3)
    {
      inet_ntop (AF_INET, answer.addresses[0].addr, text, sizeof (text));
      CHECK_STR_EQ (text, "192.0.2.7");
      CHECK (answer.addresses[0].ttl == 60 && answer.addresses[1].ttl == 90);
      inet_ntop (AF_INET6, answer.addresses[2].addr, text, sizeof (text));
      CHECK_STR_EQ (text, "2001:db8::7");
      CHECK (answer.addresses[2].family == AF_INET6);
    }

  /* An answer for another name is no answer to this question. */
  {
    cleanup_free uint8_t *other = make_answer ("other.test.", LDNS_RR_TYPE_A, 9, 0, list, &len);
    CHECK (ar_dns_answer_parse (other, len, &question, &answer, &err) < 0);
    CHECK_CONTAINS (err ? err->message : NULL, "another question");
    ar_error_release (&err);
  }

  /* NXDOMAIN: no addresses. */
  {
    cleanup_free uint8_t *nx = make_answer ("alias.example.com.", LDNS_RR_TYPE_A, 9, LDNS_RCODE_NXDOMAIN, NULL, &len);
    CHECK (ar_dns_answer_parse (nx, len, &question, &answer, &err) == 0);
    CHECK (answer.rcode == AR_DNS_RCODE_NXDOMAIN && answer.n_addresses == 0);
  }
}

static void
test_answer_cname_loop (void)
{
  static const char *const records[] = {
    "a.test. 300 IN CNAME b.test.",
    "b.test. 300 IN CNAME a.test.",
    "b.test. 300 IN A 192.0.2.1",
    NULL,
  };
  cleanup_error ar_error_t err = NULL;
  struct ar_dns_question question = { .qtype = AR_DNS_TYPE_A, .qclass = 1, .name = "a.test" };
  struct ar_dns_answer answer;
  size_t len = 0;
  cleanup_free uint8_t *wire = make_answer ("a.test.", LDNS_RR_TYPE_A, 1, 0, records, &len);

  CHECK (ar_dns_answer_parse (wire, len, &question, &answer, &err) == 0);
  CHECK (answer.n_addresses == 1);
}

static void
test_cap_ttls (void)
{
  static const char *const long_ttl[] = { "a.test. 86400 IN A 192.0.2.1", NULL };
  static const char *const short_ttl[] = { "a.test. 60 IN A 192.0.2.1", NULL };
  cleanup_error ar_error_t err = NULL;
  struct ar_dns_question question = { .qtype = AR_DNS_TYPE_A, .qclass = 1, .name = "a.test" };
  struct ar_dns_answer answer;
  size_t len = 0, out_len = 0;
  cleanup_free uint8_t *wire = make_answer ("a.test.", LDNS_RR_TYPE_A, 1, 0, long_ttl, &len);
  cleanup_free uint8_t *short_wire = NULL;
  cleanup_free uint8_t *out = NULL;
  uint8_t *none = NULL;

  CHECK (ar_dns_cap_ttls (wire, len, 3600, &out, &out_len, &err) == 0);
  CHECK (out != NULL);
  CHECK (out && ar_dns_answer_parse (out, out_len, &question, &answer, &err) == 0 && answer.n_addresses == 1
         && answer.addresses[0].ttl == 3600);

  short_wire = make_answer ("a.test.", LDNS_RR_TYPE_A, 1, 0, short_ttl, &len);
  CHECK (ar_dns_cap_ttls (short_wire, len, 3600, &none, &out_len, &err) == 0);
  CHECK (none == NULL);
}

/* (ldns/util.h defines dprintf as a debugging macro.) */
static void
write_text (const char *path, const char *text)
{
  FILE *f = fopen (path, "we");

  if (f == NULL)
    abort ();
  fputs (text, f);
  fclose (f);
}

static void
test_upstream (void)
{
  cleanup_error ar_error_t err = NULL;
  struct sockaddr_storage addr;
  socklen_t len = 0;
  char path[] = "/tmp/ar-dns-resolv-XXXXXX";
  int fd;

  CHECK (ar_dns_parse_upstream ("10.0.0.2", &addr, &len, &err) == 0);
  CHECK (addr.ss_family == AF_INET && ntohs (((struct sockaddr_in *) &addr)->sin_port) == 53);
  CHECK (ar_dns_parse_upstream ("10.0.0.2:5353", &addr, &len, &err) == 0);
  CHECK (ntohs (((struct sockaddr_in *) &addr)->sin_port) == 5353);
  CHECK (ar_dns_parse_upstream ("[fd00::2]:54", &addr, &len, &err) == 0);
  CHECK (addr.ss_family == AF_INET6 && ntohs (((struct sockaddr_in6 *) &addr)->sin6_port) == 54);
  CHECK (ar_dns_parse_upstream ("fd00::2", &addr, &len, &err) == 0);
  CHECK (addr.ss_family == AF_INET6 && len == sizeof (struct sockaddr_in6));
  CHECK (ar_dns_parse_upstream ("dns.example", &addr, &len, &err) < 0);
  CHECK_CONTAINS (err ? err->message : NULL, "ADDRESS:PORT");
  ar_error_release (&err);
  CHECK (ar_dns_parse_upstream ("10.0.0.2:0", &addr, &len, &err) < 0);
  ar_error_release (&err);
  CHECK (ar_dns_parse_upstream ("[fd00::2", &addr, &len, &err) < 0);
  ar_error_release (&err);

  fd = mkstemp (path);
  CHECK (fd >= 0);
  if (fd < 0)
    return;
  close (fd);
  write_text (path, "# comment\nsearch example.com\nnameserver fe80::1%eth0\nnameserver 10.0.0.9\n");
  CHECK (ar_dns_upstream_from_resolv_conf (path, &addr, &len, &err) == 0);
  CHECK (addr.ss_family == AF_INET6);
  write_text (path, "options edns0\n");
  CHECK (ar_dns_upstream_from_resolv_conf (path, &addr, &len, &err) < 0);
  CHECK_CONTAINS (err ? err->message : NULL, AR_DNS_ANNOTATION_UPSTREAM);
  unlink (path);
}

static void
test_fuzz_entry (void)
{
  static const char *const records[] = { "a.test. 86400 IN CNAME b.test.", "b.test. 5 IN A 192.0.2.1", NULL };
  size_t len = 0;
  cleanup_free uint8_t *query = make_query ("a.test.", LDNS_RR_TYPE_A, 1, &len);
  cleanup_free uint8_t *answer = NULL;
  uint8_t noise[600];
  unsigned seed = 7;

  CHECK (ar_dns_fuzz_one (query, len) == 0);
  answer = make_answer ("a.test.", LDNS_RR_TYPE_A, 1, 0, records, &len);
  CHECK (ar_dns_fuzz_one (answer, len) == 0);
  /* Every prefix of a valid answer, and noise. */
  for (size_t cut = 0; cut < len; cut++)
    ar_dns_fuzz_one (answer, cut);
  for (int round = 0; round < 200; round++)
    {
      for (size_t i = 0; i < sizeof (noise); i++)
        noise[i] = (uint8_t) rand_r (&seed);
      ar_dns_fuzz_one (noise, (size_t) (rand_r (&seed) % sizeof (noise)));
    }
}

int
main (void)
{
  static const struct unit_test tests[] = {
    { "dns_name_matches", test_name_matches },
    { "dns_query_parse", test_query_parse },
    { "dns_reply_error", test_reply_error },
    { "dns_answer_cname_chain", test_answer_cname_chain },
    { "dns_answer_cname_loop", test_answer_cname_loop },
    { "dns_cap_ttls", test_cap_ttls },
    { "dns_upstream", test_upstream },
    { "dns_fuzz_entry", test_fuzz_entry },
    { NULL, NULL },
  };

  return unit_run (tests);
}
