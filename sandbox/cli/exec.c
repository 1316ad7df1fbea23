#define _GNU_SOURCE
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "exec.h"
#include "exec_guard.h"
#include "oci/util.h"

static const char exec_usage[] =
  "Usage: agentrun [global options] exec [options] ID [COMMAND [ARG...]]\n"
  "\n"
  "Runs a new process inside running container ID.\n"
  "\n"
  "Options:\n"
  "  -p, --process FILE       the process as OCI process JSON (instead of COMMAND)\n"
  "  -d, --detach             return once the process has started\n"
  "      --pid-file FILE      write the new process's pid to FILE\n"
  "      --console-socket S   send the pty master of a terminal to the UNIX socket S\n"
  "      --preserve-fds N     pass N more fds, from fd 3 on, to the process\n"
  "  -t, --tty                allocate a terminal\n"
  "      --cwd DIR            working directory inside the container\n"
  "  -e, --env NAME=VALUE     set an environment variable (repeatable)\n"
  "  -u, --user UID[:GID]     run as this user\n"
  "  -g, --additional-gids G  add a supplementary group (repeatable)\n"
  "  -c, --cap CAP            add a capability (repeatable)\n"
  "      --no-new-privs       set no_new_privileges\n"
  "  -h, --help               show this help\n";

enum
{
  OPT_PID_FILE = 256,
  OPT_CONSOLE_SOCKET,
  OPT_PRESERVE_FDS,
  OPT_CWD,
  OPT_NO_NEW_PRIVS,
  OPT_IGNORED_ARG,
  OPT_IGNORED_FLAG,
};

static void
strv_append (char ***strv, const char *value)
{
  size_t n = ar_strv_len (*strv);

  *strv = realloc (*strv, (n + 2) * sizeof (char *));
  if (*strv == NULL)
    abort ();
  (*strv)[n] = (char *) value;
  (*strv)[n + 1] = NULL;
}

int
ar_cli_exec (struct ar_global_options *global, int argc, char **argv, ar_error_t *err)
{
  static const struct option long_options[] = {
    { "process", required_argument, NULL, 'p' },
    { "detach", no_argument, NULL, 'd' },
    { "pid-file", required_argument, NULL, OPT_PID_FILE },
    { "console-socket", required_argument, NULL, OPT_CONSOLE_SOCKET },
    { "preserve-fds", required_argument, NULL, OPT_PRESERVE_FDS },
    { "tty", no_argument, NULL, 't' },
    { "cwd", required_argument, NULL, OPT_CWD },
    { "env", required_argument, NULL, 'e' },
    { "user", required_argument, NULL, 'u' },
    { "additional-gids", required_argument, NULL, 'g' },
    { "cap", required_argument, NULL, 'c' },
    { "no-new-privs", no_argument, NULL, OPT_NO_NEW_PRIVS },
    /* runc flags accepted for compatibility; they have no effect here. */
    { "cgroup", required_argument, NULL, OPT_IGNORED_ARG },
    { "ignore-paused", no_argument, NULL, OPT_IGNORED_FLAG },
    { "help", no_argument, NULL, 'h' },
    { NULL, 0, NULL, 0 },
  };
  struct ar_exec_options o = { .root = global->root };
  char **env = NULL, **caps = NULL;
  gid_t *gids = NULL;
  size_t n_gids = 0;
  int c, ret = -1, exit_code = 0;

  optind = 0;
  opterr = 0;
  while ((c = getopt_long (argc, argv, "+p:dte:u:g:c:h", long_options, NULL)) != -1)
    {
      switch (c)
        {
        case 'p':
          o.process_path = optarg;
          break;
        case 'd':
          o.detach = true;
          break;
        case OPT_PID_FILE:
          o.pid_file = optarg;
          break;
        case OPT_CONSOLE_SOCKET:
          o.console_socket = optarg;
          break;
        case OPT_PRESERVE_FDS:
          if (ar_cli_parse_count ("exec", "--preserve-fds", optarg, &o.preserve_fds, err) < 0)
            goto out;
          break;
        case 't':
          o.tty = true;
          break;
        case OPT_CWD:
          o.cwd = optarg;
          break;
        case 'e':
          strv_append (&env, optarg);
          break;
        case 'u':
          o.user = optarg;
          break;
        case 'g':
          {
            long gid;
            if (ar_parse_long (optarg, &gid) < 0 || gid < 0)
              {
                ar_cli_usage_error (err, "exec", "invalid --additional-gids `%s`: expected a number", optarg);
                goto out;
              }
            gids = realloc (gids, (n_gids + 1) * sizeof (gid_t));
            if (gids == NULL)
              abort ();
            gids[n_gids++] = (gid_t) gid;
          }
          break;
        case 'c':
          strv_append (&caps, optarg);
          break;
        case OPT_NO_NEW_PRIVS:
          o.no_new_privileges = true;
          break;
        case OPT_IGNORED_ARG:
        case OPT_IGNORED_FLAG:
          break;
        case 'h':
          fputs (exec_usage, stdout);
          ret = 0;
          goto out;
        default:
          ar_cli_usage_error (err, "exec", "unknown option `%s`", argv[optind - 1]);
          goto out;
        }
    }

  if (optind >= argc)
    {
      ar_cli_usage_error (err, "exec", "expected a container ID");
      goto out;
    }
  o.id = argv[optind];
  o.args = argv + optind + 1;
  o.env = env;
  o.caps = caps;
  o.additional_gids = gids;
  o.n_additional_gids = n_gids;

  /* The exec child is visible to the container's processes before it
   * reaches the exec guard: it must come from a sealed copy. */
  if (ar_reexec_from_sealed_copy (global->argv, err) < 0)
    goto out;

  ret = ar_container_exec (&o, &exit_code, err);
  if (ret == 0)
    ret = exit_code;

out:
  free (env);
  free (caps);
  free (gids);
  return ret;
}
