/* Golden tests: `policy compile` and `policy explain` of each example
 * policy, and compile against a podman-made config.json, compared with
 * the files in tests/policy/.  Run with AR_UPDATE_GOLDEN=1 to rewrite the
 * files after an intended change, then review the diff.
 *
 * The seccomp profile inside compile output is reduced to its default
 * action and rule count: its names depend on the libseccomp version and
 * the architecture, and test_policy_seccomp checks its behaviour. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "oci/util.h"
#include "policy/policy.h"
#include "unit.h"

static const char *const examples[] = {
  "default-agent",
  "coding-agent",
  "mcp-server",
  "locked-down",
};

/* Replaces every "seccomp" object in value by a summary. */
static void
summarise_seccomp (json_t *value)
{
  if (json_is_object (value))
    {
      const char *key;
      json_t *child;
      void *tmp;

      json_object_foreach_safe (value, tmp, key, child)
        {
          if (strcmp (key, "seccomp") == 0 && json_is_object (child))
            {
              json_t *summary = json_pack ("{s:O, s:I}", "defaultAction", json_object_get (child, "defaultAction"),
                                           "rules", (json_int_t) json_array_size (json_object_get (child, "syscalls")));
              json_object_set_new (value, key, summary);
            }
          else
            summarise_seccomp (child);
        }
    }
  else if (json_is_array (value))
    {
      json_t *child;
      size_t i;

      json_array_foreach (value, i, child)
        summarise_seccomp (child);
    }
}

/* Compares text with a golden file, or rewrites the file when
 * AR_UPDATE_GOLDEN is set. */
static void
compare_golden (const char *golden_path, const char *text)
{
  cleanup_free char *expected = NULL;
  cleanup_error ar_error_t err = NULL;

  if (getenv ("AR_UPDATE_GOLDEN") != NULL)
    {
      FILE *f = fopen (golden_path, "w");

      CHECK (f != NULL);
      if (f != NULL)
        {
          fputs (text, f);
          fclose (f);
        }
      return;
    }

  if (ar_read_file (golden_path, &expected, NULL, &err) < 0)
    {
      fprintf (stderr, "cannot read %s (run from the repository root; AR_UPDATE_GOLDEN=1 creates it)\n",
               golden_path);
      unit_failures++;
      return;
    }
  if (strcmp (expected, text) != 0)
    {
      size_t line = 1;
      size_t i = 0;

      while (expected[i] != '\0' && expected[i] == text[i])
        line += expected[i++] == '\n';
      fprintf (stderr, "%s differs from the output at line %zu; the output is:\n%s\n", golden_path, line, text);
      unit_failures++;
    }
}

static struct ar_policy *
load_example (const char *name)
{
  cleanup_free char *path = ar_xasprintf ("examples/policies/%s.yaml", name);
  struct ar_policy *policy = NULL;
  cleanup_error ar_error_t err = NULL;

  if (ar_policy_load (path, &policy, &err) < 0)
    {
      cleanup_free char *message = ar_error_format (err);
      fprintf (stderr, "%s (run the tests from the repository root)\n", message);
      unit_failures++;
    }
  return policy;
}

static char *
compile_text (struct ar_policy *policy, json_t *config, const char *origin)
{
  json_auto_t *output = NULL;
  cleanup_error ar_error_t err = NULL;
  cleanup_free char *text = NULL;

  if (ar_policy_compile (policy, config, origin, &output, &err) < 0)
    {
      cleanup_free char *message = ar_error_format (err);
      fprintf (stderr, "compile failed: %s\n", message);
      unit_failures++;
      return ar_xstrdup ("");
    }
  summarise_seccomp (output);
  text = json_dumps (output, JSON_INDENT (2) | JSON_PRESERVE_ORDER);
  return ar_xasprintf ("%s\n", text != NULL ? text : "");
}

static void
test_golden_compile_examples (void)
{
  for (size_t i = 0; i < sizeof (examples) / sizeof (examples[0]); i++)
    {
      cleanup_policy struct ar_policy *policy = load_example (examples[i]);
      cleanup_free char *golden = ar_xasprintf ("tests/policy/%s.compile.golden", examples[i]);
      cleanup_free char *text = NULL;

      if (policy == NULL)
        continue;
      text = compile_text (policy, NULL, NULL);
      compare_golden (golden, text);
    }
}

static void
test_golden_explain_examples (void)
{
  for (size_t i = 0; i < sizeof (examples) / sizeof (examples[0]); i++)
    {
      cleanup_policy struct ar_policy *policy = load_example (examples[i]);
      cleanup_free char *golden = ar_xasprintf ("tests/policy/%s.explain.golden", examples[i]);
      cleanup_free char *text = NULL;

      if (policy == NULL)
        continue;
      text = ar_policy_explain (policy);
      compare_golden (golden, text);
    }
}

static void
test_golden_compile_podman_config (void)
{
  cleanup_policy struct ar_policy *policy = load_example ("coding-agent");
  json_auto_t *config = NULL;
  json_error_t error;
  cleanup_free char *text = NULL;

  if (policy == NULL)
    return;
  config = json_load_file ("tests/policy/podman-config.json", 0, &error);
  if (config == NULL)
    {
      fprintf (stderr, "cannot read tests/policy/podman-config.json: %s\n", error.text);
      unit_failures++;
      return;
    }
  text = compile_text (policy, config, "tests/policy/podman-config.json");
  compare_golden ("tests/policy/coding-agent.podman.golden", text);
}

static void
test_golden_diff_examples (void)
{
  cleanup_policy struct ar_policy *default_agent = load_example ("default-agent");
  cleanup_policy struct ar_policy *coding_agent = load_example ("coding-agent");
  cleanup_policy struct ar_policy *locked_down = load_example ("locked-down");
  cleanup_free char *widen = NULL;
  cleanup_free char *narrow = NULL;
  cleanup_free char *same = NULL;

  if (default_agent == NULL || coding_agent == NULL || locked_down == NULL)
    return;
  widen = ar_policy_diff (default_agent, coding_agent);
  compare_golden ("tests/policy/default-to-coding.diff.golden", widen);
  narrow = ar_policy_diff (default_agent, locked_down);
  compare_golden ("tests/policy/default-to-locked.diff.golden", narrow);
  same = ar_policy_diff (coding_agent, coding_agent);
  CHECK_STR_EQ (same, "");
}

int
main (void)
{
  static const struct unit_test tests[] = {
    { "golden compile examples", test_golden_compile_examples },
    { "golden explain examples", test_golden_explain_examples },
    { "golden compile podman config", test_golden_compile_podman_config },
    { "golden diff examples", test_golden_diff_examples },
    { NULL, NULL },
  };
  return unit_run (tests);
}
