/* The verbs that take an id and few or no flags: start, state, kill,
 * delete. */
#define _GNU_SOURCE
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "container.h"

static const char start_usage[] = "Usage: agentrun [global options] start ID\n"
                                  "\n"
                                  "Starts the process of created container ID.\n";

static const char state_usage[] = "Usage: agentrun [global options] state ID\n"
                                  "\n"
                                  "Prints the OCI state of container ID as JSON.\n";

static const char kill_usage[] = "Usage: agentrun [global options] kill [--all] ID [SIGNAL]\n"
                                 "\n"
                                 "Sends SIGNAL (a name such as TERM or SIGKILL, or a number;\n"
                                 "default SIGTERM) to the process of container ID.\n"
                                 "\n"
                                 "Options:\n"
                                 "  -a, --all    signal every process in the container's cgroup\n";

static const char delete_usage[] = "Usage: agentrun [global options] delete [--force] ID\n"
                                   "\n"
                                   "Deletes container ID and everything the runtime made for it.\n"
                                   "\n"
                                   "Options:\n"
                                   "  -f, --force  kill the container first when it is running\n";

/* Parses -h, one optional boolean flag, then the positional arguments. */
static int
parse_simple (const char *verb, const char *usage, int argc, char **argv, const char *long_flag, char short_flag,
              bool *flag, int min_args, int max_args, int *first_arg, bool *help, ar_error_t *err)
{
  struct option long_options[] = {
    { "help", no_argument, NULL, 'h' },
    { long_flag ? long_flag : "help", no_argument, NULL, short_flag ? short_flag : 'h' },
    { NULL, 0, NULL, 0 },
  };
  char short_options[8] = "h";
  int c;

  if (short_flag)
    short_options[1] = short_flag;
  optind = 0;
  opterr = 0;
  while ((c = getopt_long (argc, argv, short_options, long_options, NULL)) != -1)
    {
      if (c == 'h')
        {
          fputs (usage, stdout);
          *help = true;
          return 0;
        }
      if (short_flag && c == short_flag)
        {
          *flag = true;
          continue;
        }
      return ar_cli_usage_error (err, verb, "unknown option `%s`", argv[optind - 1]);
    }

  if (argc - optind < min_args || argc - optind > max_args)
    return ar_cli_usage_error (err, verb, "expected %s", min_args == max_args ? "exactly one container ID"
                                                                              : "a container ID and a signal");
  *first_arg = optind;
  return 0;
}

int
ar_cli_start (struct ar_global_options *global, int argc, char **argv, ar_error_t *err)
{
  bool help = false;
  int arg;

  if (parse_simple ("start", start_usage, argc, argv, NULL, 0, NULL, 1, 1, &arg, &help, err) < 0)
    return -1;
  if (help)
    return 0;
  return ar_container_start (global->root, argv[arg], err);
}

int
ar_cli_state (struct ar_global_options *global, int argc, char **argv, ar_error_t *err)
{
  bool help = false;
  json_t *state = NULL;
  int arg, ret;

  if (parse_simple ("state", state_usage, argc, argv, NULL, 0, NULL, 1, 1, &arg, &help, err) < 0)
    return -1;
  if (help)
    return 0;
  if (ar_container_state (global->root, argv[arg], &state, err) < 0)
    return -1;
  ret = ar_cli_print_json (state, err);
  json_decref (state);
  return ret;
}

int
ar_cli_kill (struct ar_global_options *global, int argc, char **argv, ar_error_t *err)
{
  bool help = false, all = false;
  int arg, signal = 15;

  if (parse_simple ("kill", kill_usage, argc, argv, "all", 'a', &all, 1, 2, &arg, &help, err) < 0)
    return -1;
  if (help)
    return 0;
  if (arg + 1 < argc)
    {
      signal = ar_signal_parse (argv[arg + 1]);
      if (signal < 0)
        return ar_cli_usage_error (err, "kill", "invalid signal `%s`: use a name such as TERM or KILL, "
                                                "or a number",
                                   argv[arg + 1]);
    }
  return ar_container_kill (global->root, argv[arg], signal, all, err);
}

int
ar_cli_delete (struct ar_global_options *global, int argc, char **argv, ar_error_t *err)
{
  bool help = false, force = false;
  int arg;

  if (parse_simple ("delete", delete_usage, argc, argv, "force", 'f', &force, 1, 1, &arg, &help, err) < 0)
    return -1;
  if (help)
    return 0;
  return ar_container_delete (global->root, argv[arg], force, err);
}
