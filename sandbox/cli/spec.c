#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "oci/config.h"
#include "oci/util.h"

static const char spec_usage[] = "Usage: agentrun spec [--bundle DIR] [--rootless]\n"
                                 "\n"
                                 "Writes a default config.json into the bundle folder (default: .).\n"
                                 "\n"
                                 "Options:\n"
                                 "  -b, --bundle DIR   folder to write config.json into\n"
                                 "      --rootless     a config for a user namespace owned by the caller\n";

int
ar_cli_spec (struct ar_global_options *global, int argc, char **argv, ar_error_t *err)
{
  static const struct option long_options[] = {
    { "bundle", required_argument, NULL, 'b' },
    { "rootless", no_argument, NULL, 'r' },
    { "help", no_argument, NULL, 'h' },
    { NULL, 0, NULL, 0 },
  };
  const char *bundle = ".";
  bool rootless = false;
  cleanup_free char *path = NULL;
  cleanup_free char *text = NULL;
  cleanup_close int fd = -1;
  int c;

  optind = 0;
  opterr = 0;
  while ((c = getopt_long (argc, argv, "b:h", long_options, NULL)) != -1)
    {
      switch (c)
        {
        case 'b':
          bundle = optarg;
          break;
        case 'r':
          rootless = true;
          break;
        case 'h':
          fputs (spec_usage, stdout);
          return 0;
        default:
          return ar_cli_usage_error (err, "spec", "unknown option `%s`", argv[optind - 1]);
        }
    }
  if (optind != argc)
    return ar_cli_usage_error (err, "spec", "unexpected argument `%s`", argv[optind]);

  path = ar_xasprintf ("%s/config.json", bundle);
  text = ar_config_default_spec (rootless);
  if (text == NULL)
    return ar_make_error (err, ENOMEM, "cannot build the default config");

  fd = open (path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (fd < 0)
    {
      if (errno == EEXIST)
        return ar_make_error (err, 0, "`%s` already exists; remove it first", path);
      return ar_make_error (err, errno, "cannot create `%s`", path);
    }
  if (ar_write_all (fd, text, strlen (text)) < 0 || ar_write_all (fd, "\n", 1) < 0)
    return ar_make_error (err, errno, "cannot write `%s`", path);
  return 0;
}
