/* Fuzzes the parser of the agentrun.policy.network annotation
 * (ar_egress_policy_parse), and the nft script built from what it
 * accepts. */
#include "fuzz.h"
#include "net/egress.h"

int
LLVMFuzzerInitialize (int *argc, char ***argv)
{
  fuzz_init_log ();
  return 0;
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  char *text = fuzz_strndup (data, size);
  struct ar_egress_policy *policy = NULL;
  ar_error_t err = NULL;

  if (ar_egress_policy_parse (text, &policy, &err) < 0)
    fuzz_consume_error (&err);
  else
    {
      free (ar_egress_ruleset (policy, false));
      free (ar_egress_ruleset (policy, true));
      ar_egress_policy_free (policy);
    }
  free (text);
  return 0;
}
