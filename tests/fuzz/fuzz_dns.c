/* libFuzzer target for the DNS responder's message handling
 * (sandbox/net/dns_message.c): queries, error replies, upstream answers
 * with CNAME chains, and TTL capping on arbitrary bytes.
 *
 *   clang -g -O1 -fsanitize=fuzzer,address,undefined -Isandbox -I. \
 *     tests/fuzz/fuzz_dns.c sandbox/net/dns_message.c sandbox/oci/error.c \
 *     sandbox/oci/util.c sandbox/oci/log.c $(pkg-config --cflags --libs ldns jansson) -o fuzz_dns
 *   ./fuzz_dns -max_len=4096 */
#include <stddef.h>
#include <stdint.h>

#include "net/dns_message.h"

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  return ar_dns_fuzz_one (data, size);
}
