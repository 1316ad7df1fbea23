/* Fuzzes the config.json parser (ar_config_parse), which reads the bundle
 * that the caller of create or run supplies, and then the network policy
 * annotation that the parsed config may carry. */
#include "fuzz.h"
#include "net/egress.h"
#include "oci/config.h"

int
LLVMFuzzerInitialize (int *argc, char ***argv)
{
  fuzz_init_log ();
  return 0;
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  struct ar_config *config = NULL;
  struct ar_egress_policy *egress = NULL;
  ar_error_t err = NULL;

  if (ar_config_parse ((const char *) data, size, "fuzz/config.json", &config, &err) < 0)
    {
      fuzz_consume_error (&err);
      return 0;
    }

  if (ar_egress_policy_from_config (config, &egress, &err) < 0)
    fuzz_consume_error (&err);
  ar_egress_policy_free (egress);
  ar_config_free (config);
  return 0;
}
