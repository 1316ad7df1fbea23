/* The command line: global options and one function per verb.  Each verb
 * parses its flags, calls the runtime library and prints the result;
 * errors come back to main, which prints them once. */
#ifndef AGENTRUN_CLI_H
#define AGENTRUN_CLI_H

#include <jansson.h>
#include <stdbool.h>

#include "oci/error.h"
#include "oci/log.h"

struct ar_global_options
{
  const char *root;
  const char *log_path;
  enum ar_log_format log_format;
  bool debug;
  bool systemd_cgroup;
  bool no_cgroups; /* --cgroup-manager disabled */
  char **argv;     /* the whole command line, to re-execute it */
};

/* A verb returns its exit code (0 on success), or a negative errno with
 * *err set, which main prints and turns into exit code 1. */
typedef int (*ar_verb_fn) (struct ar_global_options *global, int argc, char **argv, ar_error_t *err);

struct ar_verb
{
  const char *name;
  ar_verb_fn fn;
  const char *summary;
};

int ar_cli_create (struct ar_global_options *global, int argc, char **argv, ar_error_t *err);
int ar_cli_start (struct ar_global_options *global, int argc, char **argv, ar_error_t *err);
int ar_cli_run (struct ar_global_options *global, int argc, char **argv, ar_error_t *err);
int ar_cli_state (struct ar_global_options *global, int argc, char **argv, ar_error_t *err);
int ar_cli_kill (struct ar_global_options *global, int argc, char **argv, ar_error_t *err);
int ar_cli_delete (struct ar_global_options *global, int argc, char **argv, ar_error_t *err);
int ar_cli_list (struct ar_global_options *global, int argc, char **argv, ar_error_t *err);
int ar_cli_spec (struct ar_global_options *global, int argc, char **argv, ar_error_t *err);
int ar_cli_features (struct ar_global_options *global, int argc, char **argv, ar_error_t *err);
int ar_cli_exec (struct ar_global_options *global, int argc, char **argv, ar_error_t *err);
int ar_cli_pause (struct ar_global_options *global, int argc, char **argv, ar_error_t *err);
int ar_cli_resume (struct ar_global_options *global, int argc, char **argv, ar_error_t *err);
int ar_cli_ps (struct ar_global_options *global, int argc, char **argv, ar_error_t *err);
int ar_cli_update (struct ar_global_options *global, int argc, char **argv, ar_error_t *err);
int ar_cli_events (struct ar_global_options *global, int argc, char **argv, ar_error_t *err);
int ar_cli_policy (struct ar_global_options *global, int argc, char **argv, ar_error_t *err);
int ar_cli_ca (struct ar_global_options *global, int argc, char **argv, ar_error_t *err);

/* Shared by the verbs: a usage error naming the verb and pointing at
 * --help. */
int ar_cli_usage_error (ar_error_t *err, const char *verb, const char *fmt, ...) ar_printf_like (3, 4);

/* Parses a non-negative integer flag value. */
int ar_cli_parse_count (const char *verb, const char *flag, const char *value, int *out, ar_error_t *err);

/* Prints JSON to stdout, indented, with a newline. */
int ar_cli_print_json (json_t *value, ar_error_t *err);

#endif
