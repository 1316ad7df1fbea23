#define _GNU_SOURCE
#include <getopt.h>
#include <stdio.h>

#include "cli.h"
#include "container.h"

static const char create_usage[] =
  "Usage: agentrun [global options] create [options] ID\n"
  "\n"
  "Creates container ID from an OCI bundle and leaves its process waiting\n"
  "for `agentrun start ID`.\n"
  "\n"
  "Options:\n"
  "  -b, --bundle DIR         bundle folder holding config.json (default: .)\n"
  "      --pid-file FILE      write the container process's pid to FILE\n"
  "      --console-socket S   send the pty master of a terminal to the UNIX socket S\n"
  "      --no-pivot           use MS_MOVE and chroot instead of pivot_root\n"
  "      --no-new-keyring     keep the caller's session keyring\n"
  "      --preserve-fds N     pass N more fds, from fd 3 on, to the container\n"
  "      --policy FILE        apply the sandbox policy FILE (YAML or JSON) as a ceiling\n"
  "  -h, --help               show this help\n";

enum
{
  OPT_PID_FILE = 256,
  OPT_CONSOLE_SOCKET,
  OPT_NO_PIVOT,
  OPT_NO_NEW_KEYRING,
  OPT_PRESERVE_FDS,
  OPT_DETACH,
  OPT_POLICY,
};

/* Parses the flags create and run share; run adds --detach. */
int ar_cli_parse_create_options (const char *verb, int argc, char **argv, struct ar_create_options *o,
                                 bool *detach, bool *help, ar_error_t *err);

int
ar_cli_parse_create_options (const char *verb, int argc, char **argv, struct ar_create_options *o,
                             bool *detach, bool *help, ar_error_t *err)
{
  static const struct option long_options[] = {
    { "bundle", required_argument, NULL, 'b' },
    { "pid-file", required_argument, NULL, OPT_PID_FILE },
    { "console-socket", required_argument, NULL, OPT_CONSOLE_SOCKET },
    { "no-pivot", no_argument, NULL, OPT_NO_PIVOT },
    { "no-new-keyring", no_argument, NULL, OPT_NO_NEW_KEYRING },
    { "preserve-fds", required_argument, NULL, OPT_PRESERVE_FDS },
    { "detach", no_argument, NULL, 'd' },
    { "policy", required_argument, NULL, OPT_POLICY },
    { "help", no_argument, NULL, 'h' },
    { NULL, 0, NULL, 0 },
  };
  int c;

  optind = 0;
  opterr = 0;
  while ((c = getopt_long (argc, argv, "+b:dh", long_options, NULL)) != -1)
    {
      switch (c)
        {
        case 'b':
          o->bundle = optarg;
          break;
        case OPT_PID_FILE:
          o->pid_file = optarg;
          break;
        case OPT_CONSOLE_SOCKET:
          o->console_socket = optarg;
          break;
        case OPT_POLICY:
          o->policy_path = optarg;
          break;
        case OPT_NO_PIVOT:
          o->no_pivot = true;
          break;
        case OPT_NO_NEW_KEYRING:
          o->no_new_keyring = true;
          break;
        case OPT_PRESERVE_FDS:
          if (ar_cli_parse_count (verb, "--preserve-fds", optarg, &o->preserve_fds, err) < 0)
            return -1;
          break;
        case 'd':
          if (detach == NULL)
            return ar_cli_usage_error (err, verb, "unknown option `--detach`");
          *detach = true;
          break;
        case 'h':
          *help = true;
          return 0;
        default:
          return ar_cli_usage_error (err, verb, "unknown option `%s`", argv[optind - 1]);
        }
    }

  if (optind != argc - 1)
    return ar_cli_usage_error (err, verb, "expected exactly one container ID");
  o->id = argv[optind];
  return 0;
}

int
ar_cli_create (struct ar_global_options *global, int argc, char **argv, ar_error_t *err)
{
  struct ar_create_options o = { .root = global->root,
                                 .systemd_cgroup = global->systemd_cgroup,
                                 .no_cgroups = global->no_cgroups,
                                 .argv = global->argv };
  bool help = false;

  if (ar_cli_parse_create_options ("create", argc, argv, &o, NULL, &help, err) < 0)
    return -1;
  if (help)
    {
      fputs (create_usage, stdout);
      return 0;
    }
  return ar_container_create (&o, err);
}
