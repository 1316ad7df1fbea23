/* `agentrun policy check|explain|compile|diff|schema|learn`: the tools a security
 * team uses to write, review and try a sandbox policy. */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "oci/config_internal.h"
#include "oci/util.h"
#include "policy/policy.h"

static const char policy_usage[]
    = "Usage: agentrun policy COMMAND [options] FILE...\n"
      "\n"
      "Writes, reviews and tries sandbox policies (see docs/policy.md).\n"
      "\n"
      "Commands:\n"
      "  check FILE...            report errors and warnings as FILE:LINE:COLUMN\n"
      "      --json               print the findings as a JSON array\n"
      "      --fail-on-warning    exit with 1 when there are warnings, too\n"
      "  explain FILE             say in plain words what the agent can and cannot do\n"
      "  compile FILE             print the changes the policy makes to config.json\n"
      "      -b, --bundle DIR     apply it to DIR/config.json, listing every conflict\n"
      "  diff OLD NEW             print what changing OLD into NEW grants and takes away\n"
      "  schema                   print the JSON Schema of the policy format\n"
      "  learn EVENTS             draft a policy that allows what the audit events show\n"
      "      --base POLICY        start from POLICY (default: a locked-down base)\n"
      "      --name NAME          name the draft NAME\n"
      "      --collapse-domains   write *.parent for two or more names under one parent\n";

static void
print_report (const struct ar_policy_report *report, FILE *out)
{
  cleanup_free char *text = ar_policy_report_format (report);

  fputs (text, out);
}

static json_t *
report_json (const struct ar_policy_report *report)
{
  json_t *array = json_array ();

  for (size_t i = 0; i < report->n_items; i++)
    {
      const struct ar_policy_diagnostic *d = &report->items[i];

      json_array_append_new (array, json_pack ("{s:s, s:s, s:i, s:i, s:s, s:s}", "file", report->origin, "severity",
                                               d->severity == AR_POLICY_ERROR ? "error" : "warning", "line",
                                               (int) d->line, "column", (int) d->column, "field", d->field,
                                               "message", d->message));
    }
  return array;
}

static int
policy_check (int argc, char **argv, ar_error_t *err)
{
  static const struct option long_options[] = {
    { "json", no_argument, NULL, 'j' },
    { "fail-on-warning", no_argument, NULL, 'w' },
    { "help", no_argument, NULL, 'h' },
    { NULL, 0, NULL, 0 },
  };
  json_auto_t *all = json_array ();
  bool as_json = false, fail_on_warning = false;
  size_t n_errors = 0, n_warnings = 0;
  int c;

  optind = 0;
  opterr = 0;
  while ((c = getopt_long (argc, argv, "h", long_options, NULL)) != -1)
    switch (c)
      {
      case 'j':
        as_json = true;
        break;
      case 'w':
        fail_on_warning = true;
        break;
      case 'h':
        fputs (policy_usage, stdout);
        return 0;
      default:
        return ar_cli_usage_error (err, "policy check", "unknown option `%s`", argv[optind - 1]);
      }
  if (optind == argc)
    return ar_cli_usage_error (err, "policy check", "missing the policy FILE");

  for (int i = optind; i < argc; i++)
    {
      struct ar_policy_report *report = NULL;
      int ret = ar_policy_check (argv[i], NULL, &report, err);

      if (ret < 0)
        return ret;
      n_errors += report->n_errors;
      n_warnings += report->n_warnings;
      if (as_json)
        json_array_extend (all, report_json (report));
      else
        {
          print_report (report, stdout);
          if (report->n_items == 0)
            printf ("%s: ok\n", argv[i]);
        }
      ar_policy_report_free (report);
    }

  if (as_json)
    {
      int ret = ar_cli_print_json (all, err);
      if (ret < 0)
        return ret;
    }
  fflush (stdout);
  return n_errors > 0 || (fail_on_warning && n_warnings > 0) ? 1 : 0;
}

/* Loads one policy for a verb, printing its warnings to stderr. */
static int
load_checked (const char *path, struct ar_policy **out, ar_error_t *err)
{
  struct ar_policy_report *report = NULL;
  struct ar_policy *policy = NULL;
  int ret;

  ret = ar_policy_check (path, &policy, &report, err);
  if (ret < 0)
    return ret;
  if (policy == NULL)
    {
      print_report (report, stderr);
      ret = ar_make_error (err, EINVAL, "the policy `%s` has %zu errors; fix them first", path, report->n_errors);
      ar_policy_report_free (report);
      return ret;
    }
  ar_policy_report_free (report);
  *out = policy;
  return 0;
}

static int
policy_explain (int argc, char **argv, ar_error_t *err)
{
  cleanup_policy struct ar_policy *policy = NULL;
  struct ar_policy_report *report = NULL;
  cleanup_free char *text = NULL;
  int ret;

  if (argc != 2)
    return ar_cli_usage_error (err, "policy explain", "expected one policy FILE");
  ret = ar_policy_check (argv[1], &policy, &report, err);
  if (ret < 0)
    return ret;
  if (policy == NULL)
    {
      print_report (report, stderr);
      ret = ar_make_error (err, EINVAL, "the policy `%s` has %zu errors; fix them first", argv[1], report->n_errors);
      ar_policy_report_free (report);
      return ret;
    }

  text = ar_policy_explain (policy);
  fputs (text, stdout);
  if (report->n_warnings > 0)
    {
      printf ("\nWarnings\n");
      for (size_t i = 0; i < report->n_items; i++)
        printf ("  - line %u: %s: %s\n", report->items[i].line, report->items[i].field, report->items[i].message);
    }
  ar_policy_report_free (report);
  return 0;
}

static int
policy_compile (int argc, char **argv, ar_error_t *err)
{
  static const struct option long_options[] = {
    { "bundle", required_argument, NULL, 'b' },
    { "help", no_argument, NULL, 'h' },
    { NULL, 0, NULL, 0 },
  };
  cleanup_policy struct ar_policy *policy = NULL;
  cleanup_free char *config_path = NULL;
  json_auto_t *config = NULL;
  json_auto_t *output = NULL;
  const char *bundle = NULL;
  json_t *conflicts;
  int c, ret;

  optind = 0;
  opterr = 0;
  while ((c = getopt_long (argc, argv, "b:h", long_options, NULL)) != -1)
    switch (c)
      {
      case 'b':
        bundle = optarg;
        break;
      case 'h':
        fputs (policy_usage, stdout);
        return 0;
      default:
        return ar_cli_usage_error (err, "policy compile", "unknown option `%s`", argv[optind - 1]);
      }
  if (argc - optind != 1)
    return ar_cli_usage_error (err, "policy compile", "expected one policy FILE");

  ret = load_checked (argv[optind], &policy, err);
  if (ret < 0)
    return ret;

  if (bundle != NULL)
    {
      cleanup_free char *text = NULL;
      size_t len = 0;

      config_path = ar_xasprintf ("%s/config.json", bundle);
      ret = ar_read_file (config_path, &text, &len, err);
      if (ret < 0)
        return ret;
      /* The config model's loader keeps integers above INT64_MAX, which
       * rlimits and seccomp values may hold. */
      ret = ar_json_load (text, len, config_path, &config, err);
      if (ret < 0)
        return ret;
    }

  ret = ar_policy_compile (policy, config, config_path, &output, err);
  if (ret < 0)
    return ret;
  ret = ar_cli_print_json (output, err);
  if (ret < 0)
    return ret;

  conflicts = json_object_get (output, "conflicts");
  if (ar_policy_is_audit (policy) || json_array_size (conflicts) == 0)
    return 0;
  for (size_t i = 0; i < json_array_size (conflicts); i++)
    {
      json_t *event = json_array_get (conflicts, i);

      fprintf (stderr, "%s: %s: %s; policy rule %s (%s)\n", json_string_value (json_object_get (event, "config")),
               json_string_value (json_object_get (event, "config_field")),
               json_string_value (json_object_get (event, "message")),
               json_string_value (json_object_get (event, "policy_rule")),
               json_string_value (json_object_get (event, "policy_field")));
    }
  return ar_make_error (err, 0, "`%s` asks for more than the policy `%s` allows (%zu conflicts); create would "
                        "fail",
                        config_path, ar_policy_name (policy), json_array_size (conflicts));
}

static int
policy_diff (int argc, char **argv, ar_error_t *err)
{
  cleanup_policy struct ar_policy *old_policy = NULL;
  cleanup_policy struct ar_policy *new_policy = NULL;
  cleanup_free char *text = NULL;
  int ret;

  if (argc != 3)
    return ar_cli_usage_error (err, "policy diff", "expected two policy files, OLD and NEW");
  ret = load_checked (argv[1], &old_policy, err);
  if (ret < 0)
    return ret;
  ret = load_checked (argv[2], &new_policy, err);
  if (ret < 0)
    return ret;

  text = ar_policy_diff (old_policy, new_policy);
  if (text[0] == '\0')
    printf ("No change to what the agent may do.\n");
  else
    fputs (text, stdout);
  return 0;
}

static int
policy_schema (int argc, char **argv, ar_error_t *err)
{
  json_auto_t *schema = NULL;

  if (argc != 1)
    return ar_cli_usage_error (err, "policy schema", "unexpected argument `%s`", argv[1]);
  schema = ar_policy_schema ();
  return ar_cli_print_json (schema, err);
}

static int
policy_learn (int argc, char **argv, ar_error_t *err)
{
  static const struct option long_options[] = {
    { "base", required_argument, NULL, 'b' },
    { "name", required_argument, NULL, 'n' },
    { "collapse-domains", no_argument, NULL, 'c' },
    { "help", no_argument, NULL, 'h' },
    { NULL, 0, NULL, 0 },
  };
  struct ar_policy_learn_options options = { 0 };
  cleanup_policy struct ar_policy *base = NULL;
  struct ar_policy_report *report = NULL;
  cleanup_free char *events = NULL;
  cleanup_free char *draft = NULL;
  const char *base_path = NULL;
  size_t len = 0;
  int c, ret;

  optind = 0;
  opterr = 0;
  while ((c = getopt_long (argc, argv, "h", long_options, NULL)) != -1)
    switch (c)
      {
      case 'b':
        base_path = optarg;
        break;
      case 'n':
        options.name = optarg;
        break;
      case 'c':
        options.collapse_domains = true;
        break;
      case 'h':
        fputs (policy_usage, stdout);
        return 0;
      default:
        return ar_cli_usage_error (err, "policy learn", "unknown option `%s`", argv[optind - 1]);
      }
  if (argc - optind != 1)
    return ar_cli_usage_error (err, "policy learn", "expected one EVENTS file (`-` reads standard input)");

  if (base_path != NULL)
    {
      ret = load_checked (base_path, &base, err);
      if (ret < 0)
        return ret;
    }
  options.events_origin = strcmp (argv[optind], "-") == 0 ? "stdin" : argv[optind];
  ret = ar_read_file (strcmp (argv[optind], "-") == 0 ? "/dev/stdin" : argv[optind], &events, &len, err);
  if (ret < 0)
    return ar_error_wrap (err, "cannot read the events `%s`", argv[optind]);

  ret = ar_policy_learn (base, events, len, &options, &draft, err);
  if (ret < 0)
    return ret;

  /* The draft must pass `policy check`: print its findings, and fail on an
   * error so that a broken draft is never taken for a good one. */
  ret = ar_policy_check_text (draft, strlen (draft), "draft.yaml", NULL, &report, err);
  if (ret < 0)
    return ret;
  fputs (draft, stdout);
  fflush (stdout);
  print_report (report, stderr);
  if (report->n_errors > 0)
    {
      ret = ar_make_error (err, EINVAL, "the draft has %zu errors; report this as a bug of `policy learn`",
                           report->n_errors);
      ar_policy_report_free (report);
      return ret;
    }
  ar_policy_report_free (report);
  return 0;
}

int
ar_cli_policy (struct ar_global_options *global, int argc, char **argv, ar_error_t *err)
{
  static const struct
  {
    const char *name;
    int (*fn) (int argc, char **argv, ar_error_t *err);
  } commands[] = {
    { "check", policy_check },     { "explain", policy_explain }, { "compile", policy_compile },
    { "diff", policy_diff },       { "schema", policy_schema },   { "learn", policy_learn },
  };

  if (argc < 2 || strcmp (argv[1], "--help") == 0 || strcmp (argv[1], "-h") == 0)
    {
      fputs (policy_usage, argc < 2 ? stderr : stdout);
      return argc < 2 ? 1 : 0;
    }
  for (size_t i = 0; i < sizeof (commands) / sizeof (commands[0]); i++)
    if (strcmp (commands[i].name, argv[1]) == 0)
      return commands[i].fn (argc - 1, argv + 1, err);
  return ar_cli_usage_error (err, "policy", "unknown command `%s`", argv[1]);
}
