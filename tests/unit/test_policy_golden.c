/* Golden tests: `policy compile` and `policy explain` of every example
 * policy in examples/policies/, compile against a podman-made
 * config.json, and `policy learn` from tests/policy/learn-events.jsonl,
 * compared with the files in tests/policy/.  Run with AR_UPDATE_GOLDEN=1 to rewrite the
 * files after an intended change, then review the diff.
 *
 * The seccomp profile inside compile output is reduced to its default
 * action and rule count: its names depend on the libseccomp version and
 * the architecture, and test_policy_seccomp checks its behaviour. */
#define _GNU_SOURCE
#include <errno.h>
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "oci/util.h"
#include "policy/policy.h"
#include "unit.h"

/* The examples that the diff test names; every other test takes every
 * file of examples/policies/, so that a new example needs golden files. */
static const char *const known_examples[] = {
  "default-agent",
  "coding-agent",
  "mcp-server",
  "locked-down",
};

static int
compare_names (const void *a, const void *b)
{
  return strcmp (*(char *const *) a, *(char *const *) b);
}

/* The names of the YAML files in examples/policies without the suffix, sorted; a
 * NULL-terminated list. */
static char **
list_examples (void)
{
  DIR *dir = opendir ("examples/policies");
  char **names = ar_xmalloc0 (sizeof (char *));
  size_t n = 0;
  struct dirent *entry;

  if (dir == NULL)
    {
      fprintf (stderr, "cannot open examples/policies (run the tests from the repository root)\n");
      unit_failures++;
      return names;
    }
  while ((entry = readdir (dir)) != NULL)
    {
      size_t len = strlen (entry->d_name);

      if (entry->d_name[0] == '.')
        continue;
      if (len <= 5 || strcmp (entry->d_name + len - 5, ".yaml") != 0)
        {
          fprintf (stderr, "examples/policies/%s: name examples NAME.yaml\n", entry->d_name);
          unit_failures++;
          continue;
        }
      names = realloc (names, sizeof (char *) * (n + 2));
      if (names == NULL)
        abort ();
      names[n++] = strndup (entry->d_name, len - 5);
      names[n] = NULL;
    }
  closedir (dir);
  qsort (names, n, sizeof (char *), compare_names);
  return names;
}

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
test_golden_examples_listed (void)
{
  cleanup_strv char **examples = list_examples ();

  /* The four examples that the documentation and the diff test name. */
  CHECK (ar_strv_len (examples) >= sizeof (known_examples) / sizeof (known_examples[0]));
  for (size_t i = 0; i < sizeof (known_examples) / sizeof (known_examples[0]); i++)
    {
      bool found = false;

      for (size_t k = 0; examples[k] != NULL; k++)
        found |= strcmp (examples[k], known_examples[i]) == 0;
      if (!found)
        {
          fprintf (stderr, "examples/policies/%s.yaml is missing\n", known_examples[i]);
          unit_failures++;
        }
    }
}

static void
test_golden_compile_examples (void)
{
  cleanup_strv char **examples = list_examples ();

  for (size_t i = 0; examples[i] != NULL; i++)
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
  cleanup_strv char **examples = list_examples ();

  for (size_t i = 0; examples[i] != NULL; i++)
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

static char *
learn_text (const struct ar_policy *base, const char *events_path, const char *name, bool collapse)
{
  struct ar_policy_learn_options options = { .name = name, .events_origin = events_path,
                                              .collapse_domains = collapse };
  cleanup_error ar_error_t err = NULL;
  cleanup_free char *events = NULL;
  size_t len = 0;
  char *draft = NULL;

  if (ar_read_file (events_path, &events, &len, &err) < 0 || ar_policy_learn (base, events, len, &options, &draft, &err) < 0)
    {
      cleanup_free char *message = ar_error_format (err);
      fprintf (stderr, "learn failed: %s\n", message);
      unit_failures++;
      return ar_xstrdup ("");
    }
  return draft;
}

/* The draft passes `policy check` without errors. */
static void
check_draft (const char *what, const char *draft)
{
  struct ar_policy_report *report = NULL;
  cleanup_error ar_error_t err = NULL;

  CHECK (ar_policy_check_text (draft, strlen (draft), "draft.yaml", NULL, &report, &err) == 0);
  if (report != NULL && report->n_errors > 0)
    {
      cleanup_free char *text = ar_policy_report_format (report);
      fprintf (stderr, "the draft learned %s does not pass `policy check`:\n%s\n%s", what, text, draft);
      unit_failures++;
    }
  ar_policy_report_free (report);
}

static void
test_golden_learn (void)
{
  cleanup_policy struct ar_policy *coding_agent = load_example ("coding-agent");
  cleanup_free char *locked = learn_text (NULL, "tests/policy/learn-events.jsonl", "learned-agent", false);
  cleanup_free char *widened = NULL;

  compare_golden ("tests/policy/learn-locked.golden", locked);
  check_draft ("on the locked-down base", locked);
  if (coding_agent == NULL)
    return;
  widened = learn_text (coding_agent, "tests/policy/learn-events.jsonl", NULL, true);
  compare_golden ("tests/policy/learn-coding.golden", widened);
  check_draft ("on coding-agent.yaml", widened);
}

/* Without events, the draft of each example explains the same and has the
 * same seccomp profile as the example: the draft keeps every value the
 * file sets.  (The compile output differs in the rules' line numbers.) */
static void
test_learn_keeps_base (void)
{
  cleanup_strv char **examples = list_examples ();

  for (size_t i = 0; examples[i] != NULL; i++)
    {
      cleanup_policy struct ar_policy *policy = load_example (examples[i]);
      cleanup_policy struct ar_policy *again = NULL;
      struct ar_policy_learn_options options = { .events_origin = "empty" };
      cleanup_error ar_error_t err = NULL;
      cleanup_free char *draft = NULL;
      cleanup_free char *before = NULL;
      cleanup_free char *after = NULL;
      cleanup_free char *origin = ar_xasprintf ("examples/policies/%s.yaml", examples[i]);

      if (policy == NULL)
        continue;
      CHECK (ar_policy_learn (policy, "", 0, &options, &draft, &err) == 0);
      if (draft == NULL)
        continue;
      if (ar_policy_load_text (draft, strlen (draft), origin, &again, &err) < 0)
        {
          cleanup_free char *message = ar_error_format (err);
          fprintf (stderr, "%s: the draft does not load: %s\n%s", examples[i], message, draft);
          unit_failures++;
          continue;
        }
      before = ar_policy_explain (policy);
      after = ar_policy_explain (again);
      if (strcmp (before, after) != 0)
        {
          fprintf (stderr, "%s: the draft explains differently:\n%s\nversus\n%s", examples[i], after, before);
          unit_failures++;
        }
      {
        json_auto_t *profile_before = ar_policy_seccomp_profile (policy);
        json_auto_t *profile_after = ar_policy_seccomp_profile (again);

        CHECK (json_equal (profile_before, profile_after));
      }
    }
}

static void
test_learn_rejects_bad_lines (void)
{
  static const struct
  {
    const char *events;
    const char *message;
  } cases[] = {
    { "{\"type\": \"syscall\", \"syscall\": \"read\"}\nnot json\n", "ev.jsonl:2: " },
    { "\n[1, 2]\n", "ev.jsonl:2: not a JSON object" },
    { "{\"syscall\": \"read\"}\n", "ev.jsonl:1: the event has no \"type\"" },
  };

  for (size_t i = 0; i < sizeof (cases) / sizeof (cases[0]); i++)
    {
      struct ar_policy_learn_options options = { .events_origin = "ev.jsonl" };
      cleanup_error ar_error_t err = NULL;
      cleanup_free char *draft = NULL;
      cleanup_free char *message = NULL;

      CHECK (ar_policy_learn (NULL, cases[i].events, strlen (cases[i].events), &options, &draft, &err) < 0);
      CHECK (draft == NULL);
      message = err != NULL ? ar_error_format (err) : NULL;
      CHECK_CONTAINS (message, cases[i].message);
    }
}

/* Names stay as they are without collapse_domains, and a connection that
 * a dns answer explains becomes that name's port. */
static void
test_learn_network_rules (void)
{
  static const char events[]
      = "{\"type\": \"dns\", \"name\": \"a.example.com\", \"qtype\": \"A\", \"answer\": [\"192.0.2.1\"]}\n"
        "{\"type\": \"dns\", \"name\": \"b.example.com\", \"qtype\": \"A\", \"answer\": \"nxdomain\"}\n"
        "{\"type\": \"connection\", \"protocol\": \"tcp\", \"family\": \"ipv4\", \"destination\": \"192.0.2.1\", "
        "\"port\": 8443}\n"
        "{\"type\": \"connection\", \"protocol\": \"udp\", \"family\": \"ipv6\", \"destination\": \"2001:db8::9\", "
        "\"port\": 123}\n";
  struct ar_policy_learn_options options = { .events_origin = "ev.jsonl" };
  cleanup_error ar_error_t err = NULL;
  cleanup_free char *plain = NULL;
  cleanup_free char *collapsed = NULL;

  CHECK (ar_policy_learn (NULL, events, strlen (events), &options, &plain, &err) == 0);
  CHECK_CONTAINS (plain, "    - domain: a.example.com  # ev.jsonl:1\n      ports: [8443]\n");
  CHECK_CONTAINS (plain, "    - domain: b.example.com");
  CHECK_CONTAINS (plain, "    - cidr: \"2001:db8::9/128\"  # ev.jsonl:4\n      ports: [123]\n      protocol: udp\n");
  CHECK (plain == NULL || strstr (plain, "192.0.2.1") == NULL);
  CHECK (plain == NULL || strstr (plain, "*.example.com") == NULL);
  check_draft ("from network events", plain != NULL ? plain : "");

  options.collapse_domains = true;
  CHECK (ar_policy_learn (NULL, events, strlen (events), &options, &collapsed, &err) == 0);
  CHECK_CONTAINS (collapsed, "    - domain: \"*.example.com\"  # a.example.com, b.example.com, ev.jsonl:1 and 1 more "
                             "event\n      ports: [8443]\n");
  check_draft ("with collapsed names", collapsed != NULL ? collapsed : "");
}

/* A name that a rule of the base covers, by name or by *.suffix, adds no
 * rule. */
static void
test_learn_skips_covered_names (void)
{
  static const char base_text[] = "name: base\nversion: 1\nnetwork:\n  mode: allowlist\n  egress:\n"
                                  "    - domain: \"*.example.com\"\n      ports: [443]\n";
  static const char events[]
      = "{\"type\": \"dns\", \"name\": \"a.example.com\", \"qtype\": \"A\", \"answer\": [\"192.0.2.1\"]}\n"
        "{\"type\": \"connection\", \"protocol\": \"tcp\", \"family\": \"ipv4\", \"destination\": \"192.0.2.1\", "
        "\"port\": 443}\n"
        "{\"type\": \"dns\", \"name\": \"example.com\", \"qtype\": \"A\", \"answer\": [\"192.0.2.2\"]}\n"
        "{\"type\": \"connection\", \"protocol\": \"tcp\", \"family\": \"ipv4\", \"destination\": \"192.0.2.2\", "
        "\"port\": 443}\n";
  struct ar_policy_learn_options options = { .events_origin = "ev.jsonl" };
  cleanup_policy struct ar_policy *base = NULL;
  cleanup_error ar_error_t err = NULL;
  cleanup_free char *draft = NULL;

  CHECK (ar_policy_load_text (base_text, strlen (base_text), "base.yaml", &base, &err) == 0);
  if (base == NULL)
    return;
  CHECK (ar_policy_learn (base, events, strlen (events), &options, &draft, &err) == 0);
  CHECK (draft == NULL || strstr (draft, "a.example.com") == NULL);
  CHECK_CONTAINS (draft, "    - domain: example.com  # ev.jsonl:3\n      ports: [443]\n");
}

int
main (void)
{
  static const struct unit_test tests[] = {
    { "golden examples listed", test_golden_examples_listed },
    { "golden compile examples", test_golden_compile_examples },
    { "golden explain examples", test_golden_explain_examples },
    { "golden compile podman config", test_golden_compile_podman_config },
    { "golden diff examples", test_golden_diff_examples },
    { "golden learn", test_golden_learn },
    { "learn keeps base", test_learn_keeps_base },
    { "learn rejects bad lines", test_learn_rejects_bad_lines },
    { "learn network rules", test_learn_network_rules },
    { "learn skips covered names", test_learn_skips_covered_names },
    { NULL, NULL },
  };
  return unit_run (tests);
}
