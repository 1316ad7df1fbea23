/* pause, resume, ps, update and events: the verbs that act through the
 * container's cgroup. */
#define _GNU_SOURCE
#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli.h"
#include "container.h"
#include "oci/util.h"

static int
single_id (const char *verb, const char *usage, int argc, char **argv, const char **id, bool *help,
           ar_error_t *err)
{
  if (argc == 2 && (strcmp (argv[1], "--help") == 0 || strcmp (argv[1], "-h") == 0))
    {
      fputs (usage, stdout);
      *help = true;
      return 0;
    }
  if (argc != 2 || argv[1][0] == '-')
    return ar_cli_usage_error (err, verb, "expected exactly one container ID");
  *id = argv[1];
  return 0;
}

int
ar_cli_pause (struct ar_global_options *global, int argc, char **argv, ar_error_t *err)
{
  static const char usage[] = "Usage: agentrun [global options] pause ID\n\nFreezes every process of container ID.\n";
  const char *id = NULL;
  bool help = false;

  if (single_id ("pause", usage, argc, argv, &id, &help, err) < 0)
    return -1;
  return help ? 0 : ar_container_pause (global->root, id, err);
}

int
ar_cli_resume (struct ar_global_options *global, int argc, char **argv, ar_error_t *err)
{
  static const char usage[] = "Usage: agentrun [global options] resume ID\n\nThaws paused container ID.\n";
  const char *id = NULL;
  bool help = false;

  if (single_id ("resume", usage, argc, argv, &id, &help, err) < 0)
    return -1;
  return help ? 0 : ar_container_resume (global->root, id, err);
}

static bool
pid_listed (const pid_t *pids, size_t n, long pid)
{
  for (size_t i = 0; i < n; i++)
    if (pids[i] == pid)
      return true;
  return false;
}

/* Runs ps(1) with the given options and prints its header and the lines
 * of the container's pids. */
static int
print_ps_table (const pid_t *pids, size_t n, char **ps_args, ar_error_t *err)
{
  char **argv = ar_xmalloc0 ((ar_strv_len (ps_args) + 2) * sizeof (char *));
  char *line = NULL;
  size_t cap = 0;
  int pid_column = -1, line_no = 0;
  FILE *out;
  int fds[2];
  pid_t child;

  argv[0] = (char *) "ps";
  if (ps_args[0] == NULL)
    argv[1] = (char *) "-ef";
  else
    for (size_t i = 0; ps_args[i]; i++)
      argv[i + 1] = ps_args[i];

  if (pipe (fds) < 0)
    {
      free (argv);
      return ar_make_error (err, errno, "cannot create a pipe for ps");
    }
  child = fork ();
  if (child == 0)
    {
      dup2 (fds[1], STDOUT_FILENO);
      close (fds[0]);
      close (fds[1]);
      execvp ("ps", argv);
      _exit (127);
    }
  free (argv);
  close (fds[1]);
  if (child < 0)
    {
      close (fds[0]);
      return ar_make_error (err, errno, "cannot run ps");
    }

  out = fdopen (fds[0], "r");
  while (out && getline (&line, &cap, out) > 0)
    {
      char *copy = ar_xstrdup (line), *save = NULL, *tok;
      int column = 0;
      long value = -1;

      for (tok = strtok_r (copy, " \t\n", &save); tok; tok = strtok_r (NULL, " \t\n", &save), column++)
        {
          if (line_no == 0 && strcmp (tok, "PID") == 0)
            pid_column = column;
          if (line_no > 0 && column == pid_column)
            value = strtol (tok, NULL, 10);
        }
      free (copy);
      if (line_no == 0 || pid_listed (pids, n, value))
        fputs (line, stdout);
      line_no++;
    }
  free (line);
  if (out)
    fclose (out);
  waitpid (child, NULL, 0);
  if (pid_column < 0)
    return ar_make_error (err, 0, "ps: its output has no PID column; pass options that print one");
  return 0;
}

int
ar_cli_ps (struct ar_global_options *global, int argc, char **argv, ar_error_t *err)
{
  static const char usage[] = "Usage: agentrun [global options] ps [--format table|json] ID [PS OPTIONS]\n"
                              "\n"
                              "Lists the processes of container ID (ps -ef by default).\n";
  static const struct option long_options[] = {
    { "format", required_argument, NULL, 'f' },
    { "help", no_argument, NULL, 'h' },
    { NULL, 0, NULL, 0 },
  };
  const char *format = "table";
  cleanup_free pid_t *pids = NULL;
  size_t n = 0;
  int c;

  optind = 0;
  opterr = 0;
  while ((c = getopt_long (argc, argv, "+f:h", long_options, NULL)) != -1)
    {
      if (c == 'f')
        format = optarg;
      else if (c == 'h')
        {
          fputs (usage, stdout);
          return 0;
        }
      else
        return ar_cli_usage_error (err, "ps", "unknown option `%s`", argv[optind - 1]);
    }
  if (optind >= argc)
    return ar_cli_usage_error (err, "ps", "expected a container ID");
  if (strcmp (format, "table") != 0 && strcmp (format, "json") != 0)
    return ar_cli_usage_error (err, "ps", "invalid --format `%s`: use table or json", format);

  if (ar_container_pids (global->root, argv[optind], &pids, &n, err) < 0)
    return -1;

  if (strcmp (format, "json") == 0)
    {
      json_t *array = json_array ();
      int ret;

      for (size_t i = 0; i < n; i++)
        json_array_append_new (array, json_integer (pids[i]));
      ret = ar_cli_print_json (array, err);
      json_decref (array);
      return ret;
    }
  return print_ps_table (pids, n, argv + optind + 1, err);
}

/* Parses "512", "64k", "100M", "2g" into bytes. */
static int
parse_bytes (const char *text, int64_t *out)
{
  char *end;
  double value;
  int64_t scale = 1;

  errno = 0;
  value = strtod (text, &end);
  if (errno != 0 || end == text || value < -1)
    return -EINVAL;
  switch (tolower ((unsigned char) *end))
    {
    case '\0':
      break;
    case 'k':
      scale = INT64_C (1) << 10;
      break;
    case 'm':
      scale = INT64_C (1) << 20;
      break;
    case 'g':
      scale = INT64_C (1) << 30;
      break;
    case 't':
      scale = INT64_C (1) << 40;
      break;
    default:
      return -EINVAL;
    }
  if (*end != '\0' && end[1] != '\0' && !(tolower ((unsigned char) end[1]) == 'b' && end[2] == '\0'))
    return -EINVAL;
  *out = (int64_t) (value * (double) scale);
  return 0;
}

int
ar_cli_update (struct ar_global_options *global, int argc, char **argv, ar_error_t *err)
{
  static const char usage[] =
    "Usage: agentrun [global options] update [options] ID\n"
    "\n"
    "Changes the cgroup resources of running container ID.\n"
    "\n"
    "Options:\n"
    "  -r, --resources FILE        a linux.resources JSON object (- for stdin)\n"
    "      --memory BYTES          memory limit (suffixes k, m, g)\n"
    "      --memory-reservation B  memory soft limit\n"
    "      --memory-swap BYTES     memory plus swap limit (-1: unlimited)\n"
    "      --cpu-shares N          relative CPU weight\n"
    "      --cpu-quota US          CPU time per period in microseconds (-1: unlimited)\n"
    "      --cpu-period US         CPU period in microseconds\n"
    "      --cpu-rt-runtime US     real-time CPU time per period\n"
    "      --cpu-rt-period US      real-time period\n"
    "      --cpuset-cpus LIST      CPUs allowed, e.g. 0-2,4\n"
    "      --cpuset-mems LIST      memory nodes allowed\n"
    "      --pids-limit N          maximum number of tasks (-1: unlimited)\n"
    "      --blkio-weight N        block I/O weight, 10 to 1000\n";
  static const struct option long_options[] = {
    { "resources", required_argument, NULL, 'r' },
    { "memory", required_argument, NULL, 'm' },
    { "memory-reservation", required_argument, NULL, 'R' },
    { "memory-swap", required_argument, NULL, 's' },
    { "kernel-memory", required_argument, NULL, 'K' },
    { "kernel-memory-tcp", required_argument, NULL, 'T' },
    { "cpu-shares", required_argument, NULL, 'S' },
    { "cpu-quota", required_argument, NULL, 'q' },
    { "cpu-period", required_argument, NULL, 'p' },
    { "cpu-rt-runtime", required_argument, NULL, 'u' },
    { "cpu-rt-period", required_argument, NULL, 'P' },
    { "cpuset-cpus", required_argument, NULL, 'c' },
    { "cpuset-mems", required_argument, NULL, 'M' },
    { "pids-limit", required_argument, NULL, 'L' },
    { "blkio-weight", required_argument, NULL, 'b' },
    { "help", no_argument, NULL, 'h' },
    { NULL, 0, NULL, 0 },
  };
  json_t *resources = json_object ();
  const char *resources_path = NULL;
  int c, ret = -1;

  optind = 0;
  opterr = 0;
  while ((c = getopt_long (argc, argv, "+r:h", long_options, NULL)) != -1)
    {
      const char *section = NULL, *key = NULL;
      bool bytes = false, text = false;
      json_t *value;

      switch (c)
        {
        case 'r':
          resources_path = optarg;
          continue;
        case 'h':
          fputs (usage, stdout);
          ret = 0;
          goto out;
        case 'm': section = "memory"; key = "limit"; bytes = true; break;
        case 'R': section = "memory"; key = "reservation"; bytes = true; break;
        case 's': section = "memory"; key = "swap"; bytes = true; break;
        case 'K': section = "memory"; key = "kernel"; bytes = true; break;
        case 'T': section = "memory"; key = "kernelTCP"; bytes = true; break;
        case 'S': section = "cpu"; key = "shares"; break;
        case 'q': section = "cpu"; key = "quota"; break;
        case 'p': section = "cpu"; key = "period"; break;
        case 'u': section = "cpu"; key = "realtimeRuntime"; break;
        case 'P': section = "cpu"; key = "realtimePeriod"; break;
        case 'c': section = "cpu"; key = "cpus"; text = true; break;
        case 'M': section = "cpu"; key = "mems"; text = true; break;
        case 'L': section = "pids"; key = "limit"; break;
        case 'b': section = "blockIO"; key = "weight"; break;
        default:
          ar_cli_usage_error (err, "update", "unknown option `%s`", argv[optind - 1]);
          goto out;
        }

      if (text)
        value = json_string (optarg);
      else
        {
          int64_t number;
          long parsed;

          if (bytes ? parse_bytes (optarg, &number) < 0 : ar_parse_long (optarg, &parsed) < 0)
            {
              ar_cli_usage_error (err, "update", "invalid value `%s` for --%s", optarg, argv[optind - 1] + 2);
              goto out;
            }
          if (!bytes)
            number = parsed;
          value = json_integer (number);
        }
      if (json_object_get (resources, section) == NULL)
        json_object_set_new (resources, section, json_object ());
      json_object_set_new (json_object_get (resources, section), key, value);
    }
  if (optind != argc - 1)
    {
      ar_cli_usage_error (err, "update", "expected exactly one container ID");
      goto out;
    }

  if (resources_path)
    {
      json_error_t jerr;
      json_t *loaded = strcmp (resources_path, "-") == 0 ? json_loadf (stdin, 0, &jerr)
                                                         : json_load_file (resources_path, 0, &jerr);
      if (loaded == NULL || !json_is_object (loaded))
        {
          ar_make_error (err, 0, "update: --resources `%s`: invalid JSON at line %d column %d: %s",
                         resources_path, jerr.line, jerr.column, loaded ? "expected an object" : jerr.text);
          json_decref (loaded);
          goto out;
        }
      json_object_update_recursive (loaded, resources);
      json_decref (resources);
      resources = loaded;
    }

  ret = ar_container_update (global->root, argv[optind], resources, err);

out:
  json_decref (resources);
  return ret;
}

int
ar_cli_events (struct ar_global_options *global, int argc, char **argv, ar_error_t *err)
{
  static const char usage[] = "Usage: agentrun [global options] events [--stats] [--interval SECONDS] ID\n"
                              "\n"
                              "Prints resource usage of container ID as JSON: once with --stats,\n"
                              "otherwise every interval (default 5 s) until the container stops.\n";
  static const struct option long_options[] = {
    { "stats", no_argument, NULL, 's' },
    { "interval", required_argument, NULL, 'i' },
    { "help", no_argument, NULL, 'h' },
    { NULL, 0, NULL, 0 },
  };
  bool once = false;
  int interval = 5;
  int c;

  optind = 0;
  opterr = 0;
  while ((c = getopt_long (argc, argv, "+h", long_options, NULL)) != -1)
    {
      if (c == 's')
        once = true;
      else if (c == 'i')
        {
          char *end;
          double seconds = strtod (optarg, &end);
          if (end == optarg || seconds <= 0 || (*end != '\0' && strcmp (end, "s") != 0))
            return ar_cli_usage_error (err, "events", "invalid --interval `%s`: expected seconds, e.g. 5s",
                                       optarg);
          interval = seconds < 1 ? 1 : (int) seconds;
        }
      else if (c == 'h')
        {
          fputs (usage, stdout);
          return 0;
        }
      else
        return ar_cli_usage_error (err, "events", "unknown option `%s`", argv[optind - 1]);
    }
  if (optind != argc - 1)
    return ar_cli_usage_error (err, "events", "expected exactly one container ID");

  for (;;)
    {
      json_t *data = NULL, *event;
      cleanup_free char *text = NULL;

      if (ar_container_stats (global->root, argv[optind], &data, err) < 0)
        return once ? -1 : 0;
      event = json_pack ("{s:s, s:s, s:o}", "type", "stats", "id", argv[optind], "data", data);
      text = json_dumps (event, JSON_COMPACT);
      json_decref (event);
      printf ("%s\n", text ? text : "{}");
      fflush (stdout);
      if (once)
        return 0;
      sleep ((unsigned int) interval);
    }
}
