#define _GNU_SOURCE
#include <stdio.h>

#include "cli.h"
#include "container.h"

int ar_cli_parse_create_options (const char *verb, int argc, char **argv, struct ar_create_options *o,
                                 bool *detach, bool *help, ar_error_t *err);

static const char run_usage[] =
  "Usage: agentrun [global options] run [options] ID\n"
  "\n"
  "Creates and starts container ID, waits for its process to exit, deletes\n"
  "the container and exits with the process's exit code.\n"
  "\n"
  "Options:\n"
  "  -b, --bundle DIR         bundle folder holding config.json (default: .)\n"
  "  -d, --detach             return once the container is running\n"
  "      --pid-file FILE      write the container process's pid to FILE\n"
  "      --console-socket S   send the pty master of a terminal to the UNIX socket S\n"
  "      --no-pivot           use MS_MOVE and chroot instead of pivot_root\n"
  "      --no-new-keyring     keep the caller's session keyring\n"
  "      --preserve-fds N     pass N more fds, from fd 3 on, to the container\n"
  "      --policy FILE        apply the sandbox policy FILE (YAML or JSON) as a ceiling\n"
  "  -h, --help               show this help\n";

int
ar_cli_run (struct ar_global_options *global, int argc, char **argv, ar_error_t *err)
{
  struct ar_create_options o = { .root = global->root,
                                 .systemd_cgroup = global->systemd_cgroup,
                                 .no_cgroups = global->no_cgroups,
                                 .argv = global->argv };
  bool help = false, detach = false;
  int exit_code = 0;

  if (ar_cli_parse_create_options ("run", argc, argv, &o, &detach, &help, err) < 0)
    return -1;
  if (help)
    {
      fputs (run_usage, stdout);
      return 0;
    }
  if (ar_container_run (&o, detach, &exit_code, err) < 0)
    return -1;
  return exit_code;
}
