/* Fuzzes the policy parser and validator on YAML text (a policy file,
 * or the agentrun.policy.inline annotation), then the commands that read a
 * valid policy. */
#include "policy_target.h"

int
LLVMFuzzerInitialize (int *argc, char ***argv)
{
  fuzz_init_log ();
  return 0;
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  return fuzz_policy_one (data, size, "fuzz/policy.yaml");
}
