/* linux.resources of the OCI config (and of `update --resources FILE`),
 * parsed into typed structs that the cgroup backends apply. */
#ifndef AGENTRUN_RESOURCES_H
#define AGENTRUN_RESOURCES_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
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

/* Byte values: -1 means unlimited.  As in runc, 0 leaves the current value
 * unchanged, so a new cgroup keeps the kernel default. */
struct ar_memory_resources
{
  struct ar_opt_i64 limit;
  struct ar_opt_i64 reservation;
  struct ar_opt_i64 swap; /* memory plus swap, as cgroup v1 memsw counts it */
  struct ar_opt_i64 kernel;
  struct ar_opt_i64 kernel_tcp;
  struct ar_opt_u64 swappiness; /* 0 to 100; a -1 in the JSON leaves it unset */
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
  struct ar_opt_i64 quota; /* microseconds; -1 means no quota */
  struct ar_opt_u64 burst;
  struct ar_opt_u64 period;
  struct ar_opt_i64 realtime_runtime;
  struct ar_opt_u64 realtime_period;
  char *cpus;
  char *mems;
  struct ar_opt_i64 idle;
};

/* limit > 0 sets a maximum, limit < 0 means unlimited, and 0 leaves the
 * current value unchanged as runc does. */
struct ar_pids_resources
{
  struct ar_opt_i64 limit;
};

struct ar_hugepage_limit
{
  char *page_size; /* "2MB", as in the hugetlb.2MB.* file names */
  uint64_t limit;  /* bytes */
};

struct ar_blkio_weight_device
{
  int64_t major;
  int64_t minor;
  struct ar_opt_u64 weight;
  struct ar_opt_u64 leaf_weight;
};

struct ar_blkio_throttle_device
{
  int64_t major;
  int64_t minor;
  uint64_t rate;
};

struct ar_blkio_throttle_list
{
  struct ar_blkio_throttle_device *devices;
  size_t n_devices;
};

enum ar_blkio_throttle_kind
{
  AR_BLKIO_READ_BPS,
  AR_BLKIO_WRITE_BPS,
  AR_BLKIO_READ_IOPS,
  AR_BLKIO_WRITE_IOPS,
  AR_BLKIO_THROTTLE_COUNT,
};

struct ar_blkio_resources
{
  struct ar_opt_u64 weight;      /* 10 to 1000 */
  struct ar_opt_u64 leaf_weight; /* 10 to 1000 */
  struct ar_blkio_weight_device *weight_devices;
  size_t n_weight_devices;
  struct ar_blkio_throttle_list throttle[AR_BLKIO_THROTTLE_COUNT];
};

/* One entry of the device allow list, applied in order. */
struct ar_device_rule
{
  bool allow;
  char type;       /* 'a', 'b' or 'c' */
  int64_t major;   /* -1: any */
  int64_t minor;   /* -1: any */
  char access[4];  /* a subset of "rwm" */
};

struct ar_net_priority
{
  char *name;
  uint32_t priority;
};

struct ar_network_resources
{
  struct ar_opt_u64 class_id;
  struct ar_net_priority *priorities;
  size_t n_priorities;
};

struct ar_rdma_limit
{
  char *device;
  struct ar_opt_u64 hca_handles;
  struct ar_opt_u64 hca_objects;
};

/* One key of linux.resources.unified: a file name in the cgroup v2
 * directory and the text to write there. */
struct ar_unified_entry
{
  char *key;
  char *value;
};

/* The whole linux.resources object; a NULL pointer or a zero count means
 * the field was absent. */
struct ar_resources
{
  char *json_path; /* "linux.resources" or what the caller passed */
  struct ar_memory_resources *memory;
  struct ar_cpu_resources *cpu;
  struct ar_pids_resources *pids;
  struct ar_blkio_resources *block_io;
  struct ar_hugepage_limit *hugepage_limits;
  size_t n_hugepage_limits;
  bool has_devices;
  struct ar_device_rule *devices;
  size_t n_devices;
  struct ar_network_resources *network;
  struct ar_rdma_limit *rdma;
  size_t n_rdma;
  struct ar_unified_entry *unified;
  size_t n_unified;
  json_t *raw; /* the resources object as given (a new reference) */
};

/* Parses a resources object; json_path ("linux.resources") prefixes the
 * errors here and the errors that applying the result reports later. */
int ar_resources_parse (json_t *obj, const char *json_path, struct ar_resources **out, ar_error_t *err);

void ar_resources_free (struct ar_resources *resources);
void ar_resources_release (struct ar_resources **resources);
#define cleanup_resources __attribute__ ((cleanup (ar_resources_release)))

#endif
