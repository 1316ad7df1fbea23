/* linux.resources of the OCI config (and of `update --resources FILE`),
 * parsed into typed structs that the cgroup backends apply. */
#ifndef AGENTRUN_RESOURCES_H
#define AGENTRUN_RESOURCES_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "error.h"

/* An optional integer: the spec distinguishes "absent" from 0. */
struct ar_opt_i64
{
  bool set;
  int64_t value;
};

struct ar_opt_u64
{
  bool set;
  uint64_t value;
};

struct ar_memory_resources
{
  struct ar_opt_i64 limit;
  struct ar_opt_i64 reservation;
  struct ar_opt_i64 swap;
  struct ar_opt_i64 kernel;
  struct ar_opt_i64 kernel_tcp;
  struct ar_opt_u64 swappiness;
  bool has_disable_oom_killer;
  bool disable_oom_killer;
  bool has_use_hierarchy;
  bool use_hierarchy;
  bool has_check_before_update;
  bool check_before_update;
};

struct ar_cpu_resources
{
  struct ar_opt_u64 shares;
  struct ar_opt_i64 quota;
  struct ar_opt_u64 burst;
  struct ar_opt_u64 period;
  struct ar_opt_i64 realtime_runtime;
  struct ar_opt_u64 realtime_period;
  char *cpus;
  char *mems;
  struct ar_opt_i64 idle;
};

struct ar_pids_resources
{
  struct ar_opt_i64 limit;
};

/* The whole linux.resources object.  Fields that later cgroup work parses
 * in full stay available as JSON in `raw`. */
struct ar_resources
{
  struct ar_memory_resources *memory;
  struct ar_cpu_resources *cpu;
  struct ar_pids_resources *pids;
  json_t *raw; /* the resources object as given (a new reference) */
};

/* Parses a resources object; json_path ("linux.resources") prefixes errors. */
int ar_resources_parse (json_t *obj, const char *json_path, struct ar_resources **out, ar_error_t *err);

void ar_resources_free (struct ar_resources *resources);

#endif
