#define _GNU_SOURCE
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "container.h"

static const char list_usage[] = "Usage: agentrun [global options] list [--format table|json] [--quiet]\n"
                                 "\n"
                                 "Lists the containers under the state root.\n"
                                 "\n"
                                 "Options:\n"
                                 "  -f, --format F   table (default) or json\n"
                                 "  -q, --quiet      print the ids only\n";

int
ar_cli_list (struct ar_global_options *global, int argc, char **argv, ar_error_t *err)
{
  static const struct option long_options[] = {
    { "format", required_argument, NULL, 'f' },
    { "quiet", no_argument, NULL, 'q' },
    { "help", no_argument, NULL, 'h' },
    { NULL, 0, NULL, 0 },
  };
  const char *format = "table";
  bool quiet = false;
  json_t *list = NULL;
  size_t i;
  json_t *item;
  int c, ret = 0;

  optind = 0;
  opterr = 0;
  while ((c = getopt_long (argc, argv, "f:qh", long_options, NULL)) != -1)
    {
      switch (c)
        {
        case 'f':
          format = optarg;
          break;
        case 'q':
          quiet = true;
          break;
        case 'h':
          fputs (list_usage, stdout);
          return 0;
        default:
          return ar_cli_usage_error (err, "list", "unknown option `%s`", argv[optind - 1]);
        }
    }
  if (optind != argc)
    return ar_cli_usage_error (err, "list", "unexpected argument `%s`", argv[optind]);
  if (strcmp (format, "table") != 0 && strcmp (format, "json") != 0)
    return ar_cli_usage_error (err, "list", "invalid --format `%s`: use table or json", format);

  if (ar_container_list (global->root, &list, err) < 0)
    return -1;

  if (quiet)
    json_array_foreach (list, i, item) printf ("%s\n", json_string_value (json_object_get (item, "id")));
  else if (strcmp (format, "json") == 0)
    ret = ar_cli_print_json (list, err);
  else
    {
      printf ("%-24s %-8s %-10s %-40s %-32s %s\n", "ID", "PID", "STATUS", "BUNDLE", "CREATED", "OWNER");
      json_array_foreach (list, i, item)
        printf ("%-24s %-8lld %-10s %-40s %-32s %s\n", json_string_value (json_object_get (item, "id")),
                (long long) json_integer_value (json_object_get (item, "pid")),
                json_string_value (json_object_get (item, "status")),
                json_string_value (json_object_get (item, "bundle")),
                json_string_value (json_object_get (item, "created")),
                json_string_value (json_object_get (item, "owner")));
    }
  json_decref (list);
  return ret;
}
