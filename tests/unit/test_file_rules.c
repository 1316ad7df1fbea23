/* The filesystem rules of the annotation agentrun.policy.filesystem: which
 * writes enforce mode would stop, and which mounts the keeper watches. */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "file_events.h"
#include "oci/util.h"
#include "unit.h"

static const char rules_text[]
    = "{\"readonly_rootfs\": true, \"rule\": \"p.yaml:4\","
      " \"readwrite_paths\": [{\"path\": \"/workspace\", \"rule\": \"p.yaml:5\"},"
      "                       {\"path\": \"/etc/app\", \"rule\": \"p.yaml:5\"}],"
      " \"tmpfs\": [{\"path\": \"/tmp\", \"rule\": \"p.yaml:8\"}],"
      " \"readonly_paths\": [{\"path\": \"/workspace/vendor\", \"rule\": \"p.yaml:6\"}],"
      " \"denied_paths\": [{\"path\": \"/workspace/.git/credentials\", \"rule\": \"p.yaml:7\"}]}";

static struct ar_file_rules *
parse_ok (const char *text)
{
  struct ar_file_rules *rules = NULL;
  cleanup_error ar_error_t err = NULL;

  if (ar_file_rules_parse (text, &rules, &err) < 0)
    {
      cleanup_free char *message = ar_error_format (err);
      fprintf (stderr, "cannot parse `%s`: %s\n", text, message);
      unit_failures++;
    }
  return rules;
}

/* The rule that would stop a write to path, or "" when none would. */
static const char *
rule_for (const struct ar_file_rules *rules, const char *path, const char **field)
{
  const char *rule = ar_file_rules_check (rules, path, field);

  return rule != NULL ? rule : "";
}

static void
test_check_writes (void)
{
  struct ar_file_rules *rules = parse_ok (rules_text);
  const char *field = NULL;

  if (rules == NULL)
    return;
  CHECK_STR_EQ (rule_for (rules, "/workspace/main.c", &field), "");
  CHECK_STR_EQ (rule_for (rules, "/workspace", &field), "");
  CHECK_STR_EQ (rule_for (rules, "/tmp/x", &field), "");
  CHECK_STR_EQ (rule_for (rules, "/etc/app/config", &field), "");

  CHECK_STR_EQ (rule_for (rules, "/etc/passwd", &field), "p.yaml:4");
  CHECK_STR_EQ (field, "filesystem.readonly_rootfs");
  /* A prefix of a writable path's name is not within it. */
  CHECK_STR_EQ (rule_for (rules, "/workspaces/x", &field), "p.yaml:4");
  CHECK_STR_EQ (rule_for (rules, "/etc/application", &field), "p.yaml:4");

  CHECK_STR_EQ (rule_for (rules, "/workspace/.git/credentials", &field), "p.yaml:7");
  CHECK_STR_EQ (field, "filesystem.denied_paths[0]");
  CHECK_STR_EQ (rule_for (rules, "/workspace/vendor/lib.c", &field), "p.yaml:6");
  CHECK_STR_EQ (field, "filesystem.readonly_paths[0]");
  ar_file_rules_free (rules);
}

static void
test_check_writable_root (void)
{
  struct ar_file_rules *rules
      = parse_ok ("{\"readonly_rootfs\": false, \"readwrite_paths\": [], \"tmpfs\": [], \"readonly_paths\": [],"
                  " \"denied_paths\": [{\"path\": \"/srv/secrets\", \"rule\": \"p.yaml:9\"}]}");
  const char *field = NULL;

  if (rules == NULL)
    return;
  CHECK_STR_EQ (rule_for (rules, "/etc/passwd", &field), "");
  CHECK_STR_EQ (rule_for (rules, "/srv/secrets/key", &field), "p.yaml:9");
  CHECK (ar_file_rules_watch_mount (rules, "/"));
  CHECK (ar_file_rules_watch_mount (rules, "/srv"));
  CHECK (!ar_file_rules_watch_mount (rules, "/data"));
  ar_file_rules_free (rules);
}

static void
test_watch_mounts (void)
{
  struct ar_file_rules *rules = parse_ok (rules_text);

  if (rules == NULL)
    return;
  CHECK (ar_file_rules_watch_mount (rules, "/"));
  CHECK (ar_file_rules_watch_mount (rules, "/etc/hosts"));
  /* /workspace contains a denied and a read-only path. */
  CHECK (ar_file_rules_watch_mount (rules, "/workspace"));
  CHECK (!ar_file_rules_watch_mount (rules, "/tmp"));
  CHECK (!ar_file_rules_watch_mount (rules, "/etc/app"));
  ar_file_rules_free (rules);
}

static void
test_parse_errors (void)
{
  static const char *const bad[] = {
    "not json",
    "[]",
    "{\"readwrite_paths\": \"/workspace\"}",
    "{\"denied_paths\": [{\"path\": \"relative\"}]}",
    NULL,
  };

  for (size_t i = 0; bad[i] != NULL; i++)
    {
      struct ar_file_rules *rules = NULL;
      cleanup_error ar_error_t err = NULL;

      CHECK (ar_file_rules_parse (bad[i], &rules, &err) < 0);
      CHECK (rules == NULL);
      if (err != NULL)
        {
          cleanup_free char *message = ar_error_format (err);
          CHECK_CONTAINS (message, "agentrun.policy.filesystem");
        }
    }
}

int
main (void)
{
  static const struct unit_test tests[] = {
    { "file_rules_check_writes", test_check_writes },
    { "file_rules_check_writable_root", test_check_writable_root },
    { "file_rules_watch_mounts", test_watch_mounts },
    { "file_rules_parse_errors", test_parse_errors },
    { NULL, NULL },
  };

  return unit_run (tests);
}
