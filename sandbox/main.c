/* agentrun: the command line entry point.  It parses the global options,
 * dispatches to one verb and prints the verb's error once. */
#define _GNU_SOURCE
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "binary.h"
#include "cli/cli.h"
#include "oci/log.h"

static const struct ar_verb verbs[] = {
  { "create", ar_cli_create, "create a container from a bundle" },
  { "start", ar_cli_start, "start the process of a created container" },
  { "exec", ar_cli_exec, "run a new process inside a running container" },
  { "run", ar_cli_run, "create and start a container, and wait for it" },
  { "state", ar_cli_state, "print the state of a container" },
  { "kill", ar_cli_kill, "send a signal to a container" },
  { "delete", ar_cli_delete, "delete a container" },
  { "list", ar_cli_list, "list containers" },
  { "pause", ar_cli_pause, "freeze every process of a container" },
  { "resume", ar_cli_resume, "thaw a paused container" },
  { "ps", ar_cli_ps, "list the processes of a container" },
  { "update", ar_cli_update, "change the cgroup resources of a container" },
  { "events", ar_cli_events, "print resource usage of a container" },
  { "spec", ar_cli_spec, "write a default config.json" },
  { "features", ar_cli_features, "print the features this runtime implements" },
  { "policy", ar_cli_policy, "check, explain, compile and compare sandbox policies" },
  { "ca", ar_cli_ca, "create a local SPIFFE CA and mint SVIDs from it" },
  { NULL, NULL, NULL },
};

static void
print_usage (FILE *out)
{
  fputs ("Usage: agentrun [global options] COMMAND [options] [ID]\n"
         "\n"
         "agentrun is an OCI runtime for AI agents and MCP servers.\n"
         "\n"
         "Commands:\n",
         out);
  for (const struct ar_verb *v = verbs; v->name; v++)
    fprintf (out, "  %-10s %s\n", v->name, v->summary);
  fputs ("\n"
         "Global options:\n"
         "      --root DIR             state folder (default: /run/agentrun)\n"
         "      --log FILE             write log messages to FILE\n"
         "      --log-format FORMAT    text (default) or json\n"
         "      --debug                log debug messages\n"
         "      --systemd-cgroup       manage cgroups through systemd (needs systemd)\n"
         "      --cgroup-manager M     cgroupfs (default), systemd, or disabled (no cgroup)\n"
         "  -v, --version              print the version\n"
         "  -h, --help                 show this help\n"
         "\n"
         "Run `agentrun COMMAND --help` for the options of a command.\n",
         out);
}

static void
print_version (void)
{
  printf ("agentrun version %s\ncommit: %s\nspec: 1.2.0\n", AGENTRUN_VERSION, AGENTRUN_COMMIT);
}

enum
{
  OPT_ROOT = 256,
  OPT_LOG,
  OPT_LOG_FORMAT,
  OPT_LOG_LEVEL,
  OPT_DEBUG,
  OPT_SYSTEMD_CGROUP,
  OPT_ROOTLESS,
  OPT_CRIU,
  OPT_CGROUP_MANAGER,
};

int
main (int argc, char **argv)
{
  static const struct option long_options[] = {
    { "root", required_argument, NULL, OPT_ROOT },
    { "log", required_argument, NULL, OPT_LOG },
    { "log-format", required_argument, NULL, OPT_LOG_FORMAT },
    { "log-level", required_argument, NULL, OPT_LOG_LEVEL },
    { "debug", no_argument, NULL, OPT_DEBUG },
    { "systemd-cgroup", no_argument, NULL, OPT_SYSTEMD_CGROUP },
    { "rootless", required_argument, NULL, OPT_ROOTLESS },
    { "criu", required_argument, NULL, OPT_CRIU },
    { "cgroup-manager", required_argument, NULL, OPT_CGROUP_MANAGER },
    { "version", no_argument, NULL, 'v' },
    { "help", no_argument, NULL, 'h' },
    { NULL, 0, NULL, 0 },
  };
  struct ar_global_options global = { .root = "/run/agentrun", .log_format = AR_LOG_FORMAT_TEXT };
  ar_error_t err = NULL;
  const struct ar_verb *verb = NULL;

  global.argv = argv;
  ar_binary_set_argv (argv);
  int c, ret;

  opterr = 0;
  while ((c = getopt_long (argc, argv, "+vh", long_options, NULL)) != -1)
    {
      switch (c)
        {
        case OPT_ROOT:
          global.root = optarg;
          break;
        case OPT_LOG:
          global.log_path = optarg;
          break;
        case OPT_LOG_FORMAT:
          if (strcmp (optarg, "json") == 0)
            global.log_format = AR_LOG_FORMAT_JSON;
          else if (strcmp (optarg, "text") == 0)
            global.log_format = AR_LOG_FORMAT_TEXT;
          else
            {
              fprintf (stderr, "agentrun: invalid --log-format `%s`: use text or json\n", optarg);
              return EXIT_FAILURE;
            }
          break;
        case OPT_LOG_LEVEL:
          global.debug = strcmp (optarg, "debug") == 0 || strcmp (optarg, "trace") == 0;
          break;
        case OPT_DEBUG:
          global.debug = true;
          break;
        case OPT_SYSTEMD_CGROUP:
          global.systemd_cgroup = true;
          break;
        case OPT_CGROUP_MANAGER:
          if (strcmp (optarg, "systemd") == 0)
            global.systemd_cgroup = true;
          else if (strcmp (optarg, "disabled") == 0)
            global.no_cgroups = true;
          else if (strcmp (optarg, "cgroupfs") != 0)
            {
              fprintf (stderr, "agentrun: invalid --cgroup-manager `%s`: use cgroupfs, systemd or disabled\n",
                       optarg);
              return EXIT_FAILURE;
            }
          break;
        case OPT_ROOTLESS:
        case OPT_CRIU:
          break;
        case 'v':
          print_version ();
          return EXIT_SUCCESS;
        case 'h':
          print_usage (stdout);
          return EXIT_SUCCESS;
        default:
          fprintf (stderr, "agentrun: unknown global option `%s`; see `agentrun --help`\n", argv[optind - 1]);
          return EXIT_FAILURE;
        }
    }

  if (ar_log_init (global.log_path, global.log_format, global.debug, &err) < 0)
    {
      ar_log_error (err);
      ar_error_free (err);
      return EXIT_FAILURE;
    }

  if (optind >= argc)
    {
      print_usage (stderr);
      return EXIT_FAILURE;
    }

  for (const struct ar_verb *v = verbs; v->name; v++)
    if (strcmp (v->name, argv[optind]) == 0)
      verb = v;
  if (verb == NULL)
    {
      ar_log (AR_LOG_ERROR, "unknown command `%s`; see `agentrun --help`", argv[optind]);
      return EXIT_FAILURE;
    }

  ret = verb->fn (&global, argc - optind, argv + optind, &err);
  if (ret < 0)
    {
      ar_log_error (err);
      ar_error_free (err);
      ret = EXIT_FAILURE;
    }
  ar_log_reset ();
  return ret;
}
