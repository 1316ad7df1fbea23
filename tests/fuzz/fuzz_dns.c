/* Fuzzes the DNS responder's message handling (sandbox/net/dns_message.c)
 * on arbitrary bytes: a query's checks, the error replies, an upstream
 * answer's records with CNAME chains, and TTL capping. */
#include "fuzz.h"
#include "net/dns_message.h"

int
LLVMFuzzerInitialize (int *argc, char ***argv)
{
  fuzz_init_log ();
  return 0;
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  return ar_dns_fuzz_one (data, size);
}
