/* The OCI runtime configuration (config.json, runtime-spec 1.2, Linux),
 * parsed into typed structs.  Every parse error names the JSON path of the
 * offending value, for example `process.rlimits[2].type`. */
#ifndef AGENTRUN_CONFIG_H
#define AGENTRUN_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "error.h"
#include "resources.h"

/* A key and value pair, for annotations and sysctls. */
struct ar_keyvalue
{
  char *key;
  char *value;
};

struct ar_idmap
{
  uint32_t container_id;
  uint32_t host_id;
  uint32_t size;
};

struct ar_rlimit
{
  int resource; /* RLIMIT_* */
  char *type;   /* "RLIMIT_NOFILE", as written */
  uint64_t soft;
  uint64_t hard;
};

struct ar_user
{
  uid_t uid;
  gid_t gid;
  bool has_umask;
  mode_t umask;
  gid_t *additional_gids;
  size_t n_additional_gids;
  char *username; /* Windows only; kept for round trips */
};

/* Capability sets as bit masks indexed by capability number.  Names that
 * libcap knows but the running kernel lacks are dropped with a debug line;
 * unknown names are a parse error. */
struct ar_capabilities
{
  uint64_t bounding;
  uint64_t effective;
  uint64_t inheritable;
  uint64_t permitted;
  uint64_t ambient;
};

struct ar_io_priority
{
  int ioprio_class; /* IOPRIO_CLASS_RT, _BE or _IDLE */
  int priority;
};

struct ar_scheduler
{
  int policy; /* SCHED_* */
  int nice;
  int priority;
  uint64_t flags; /* SCHED_FLAG_* */
  uint64_t runtime;
  uint64_t deadline;
  uint64_t period;
};

struct ar_process
{
  bool terminal;
  bool has_console_size; /* consoleSize given with terminal true */
  unsigned int console_height;
  unsigned int console_width;
  struct ar_user user;
  char **args; /* NULL-terminated, at least one entry */
  char **env;  /* NULL-terminated, may be empty */
  char *cwd;   /* absolute */
  struct ar_capabilities *capabilities; /* NULL: no capabilities field */
  struct ar_rlimit *rlimits;
  size_t n_rlimits;
  bool no_new_privileges;
  char *apparmor_profile;
  char *selinux_label;
  bool has_oom_score_adj;
  int oom_score_adj;
  struct ar_io_priority *io_priority;
  struct ar_scheduler *scheduler;
  char *exec_cpu_affinity_initial; /* CPU lists such as "0-3,7"; NULL when unset or empty */
  char *exec_cpu_affinity_final;
};

struct ar_root
{
  char *path; /* as written: absolute, or relative to the bundle */
  bool readonly;
};

/* Mount options parsed into what mount(2) and mount_setattr(2) take. */
struct ar_mount
{
  char *destination;
  char *type;   /* may be NULL: bind mounts often omit it */
  char *source; /* may be NULL */
  char **options; /* as written, NULL-terminated */
  size_t n_options;

  unsigned long flags;             /* MS_* that mount(2) sets */
  unsigned long clear_flags;       /* MS_* that "rw", "suid", ... request off */
  unsigned long propagation;       /* MS_SHARED, MS_SLAVE, ... with MS_REC */
  bool bind;                       /* "bind" or "rbind" */
  bool recursive_bind;             /* "rbind" */
  uint64_t attr_set;               /* MOUNT_ATTR_* from "r*" options, recursive */
  uint64_t attr_clear;             /* includes MOUNT_ATTR__ATIME when an atime mode is set */
  bool has_recursive_attrs;        /* some "r*" option: mount_setattr (AT_RECURSIVE) is due */
  char *data;                      /* the remaining options, comma-joined; NULL if none */
  bool idmap;                      /* "idmap", "ridmap", or mappings given */
  bool recursive_idmap;
  bool tmpcopyup;
  struct ar_idmap *uid_mappings;   /* idmapped mounts */
  size_t n_uid_mappings;
  struct ar_idmap *gid_mappings;
  size_t n_gid_mappings;
};

struct ar_hook
{
  char *path;
  char **args;
  char **env;
  bool has_timeout;
  int timeout; /* seconds, > 0 */
};

struct ar_hook_list
{
  struct ar_hook *hooks;
  size_t n_hooks;
};

enum ar_hook_kind
{
  AR_HOOK_PRESTART,
  AR_HOOK_CREATE_RUNTIME,
  AR_HOOK_CREATE_CONTAINER,
  AR_HOOK_START_CONTAINER,
  AR_HOOK_POSTSTART,
  AR_HOOK_POSTSTOP,
  AR_HOOK_KIND_COUNT,
};

enum ar_namespace_type
{
  AR_NS_PID,
  AR_NS_NETWORK,
  AR_NS_MOUNT,
  AR_NS_IPC,
  AR_NS_UTS,
  AR_NS_USER,
  AR_NS_CGROUP,
  AR_NS_TIME,
  AR_NS_COUNT,
};

struct ar_namespace
{
  bool present; /* listed in linux.namespaces; absent ones are inherited */
  char *path;   /* join this namespace; NULL: create a new one */
};

struct ar_device
{
  char type; /* 'c', 'b', 'u' or 'p' */
  char *path;
  int64_t major;
  int64_t minor;
  bool has_file_mode;
  mode_t file_mode;
  bool has_uid;
  uid_t uid;
  bool has_gid;
  gid_t gid;
};

/* One seccomp argument comparison. */
struct ar_seccomp_arg
{
  unsigned int index;
  uint64_t value;
  uint64_t value_two;
  char *op; /* "SCMP_CMP_EQ", ... */
};

struct ar_seccomp_rule
{
  char **names;
  char *action; /* "SCMP_ACT_ERRNO", ... */
  bool has_errno_ret;
  unsigned int errno_ret;
  struct ar_seccomp_arg *args;
  size_t n_args;
};

struct ar_seccomp
{
  char *default_action;
  bool has_default_errno_ret;
  unsigned int default_errno_ret;
  char **architectures;
  char **flags;
  char *listener_path;
  char *listener_metadata;
  struct ar_seccomp_rule *syscalls;
  size_t n_syscalls;
};

struct ar_time_offset
{
  bool present;
  int64_t secs;
  uint32_t nanosecs;
};

struct ar_personality
{
  char *domain; /* "LINUX" or "LINUX32" */
  char **flags;
};

struct ar_linux
{
  struct ar_namespace namespaces[AR_NS_COUNT];
  struct ar_idmap *uid_mappings;
  size_t n_uid_mappings;
  struct ar_idmap *gid_mappings;
  size_t n_gid_mappings;
  struct ar_time_offset time_monotonic;
  struct ar_time_offset time_boottime;
  struct ar_device *devices;
  size_t n_devices;
  char *cgroups_path;
  struct ar_resources *resources; /* NULL: no resources field */
  struct ar_keyvalue *sysctl;
  size_t n_sysctl;
  struct ar_seccomp *seccomp; /* NULL: no filter */
  char *rootfs_propagation;
  unsigned long rootfs_propagation_flags; /* MS_* for rootfs_propagation, 0 if unset */
  char **masked_paths;
  char **readonly_paths;
  char *mount_label;
  struct ar_personality *personality;
  bool has_intel_rdt;
  bool has_net_devices;
  bool has_memory_policy;
};

struct ar_config
{
  char *oci_version;
  struct ar_process *process; /* NULL is allowed for create, never for start */
  struct ar_root root;
  char *hostname;
  char *domainname;
  struct ar_mount *mounts;
  size_t n_mounts;
  struct ar_hook_list hooks[AR_HOOK_KIND_COUNT];
  struct ar_keyvalue *annotations;
  size_t n_annotations;
  struct ar_linux linux_config;

  /* The document as read, for the state file and for policy edits. */
  char *raw_json;
};

/* Parses a config.json document held in memory.  `origin` names it in
 * error messages (usually the file path). */
int ar_config_parse (const char *json_text, size_t len, const char *origin, struct ar_config **out,
                     ar_error_t *err);

/* Reads and parses BUNDLE/config.json; errors name "BUNDLE/config.json". */
int ar_config_load_bundle (const char *bundle, struct ar_config **out, ar_error_t *err);

void ar_config_free (struct ar_config *config);

/* The value of annotation key, or NULL when config has none. */
const char *ar_config_annotation (const struct ar_config *config, const char *key);

void ar_config_release (struct ar_config **config);
#define cleanup_config __attribute__ ((cleanup (ar_config_release)))

/* Parses the process object alone, as `exec --process FILE` passes it. */
int ar_process_parse_file (const char *path, struct ar_process **out, ar_error_t *err);
void ar_process_free (struct ar_process *process);

/* Sorts mount->options into flags, clear_flags, propagation, the bind,
 * idmap and tmpcopyup fields, attr_set/attr_clear and data, replacing what
 * an earlier call stored.  json_path prefixes error messages, for example
 * "config.json: mounts[2]". */
int ar_mount_parse_options (struct ar_mount *mount, const char *json_path, ar_error_t *err);

/* Maps "pid", "network", ... to AR_NS_*; -1 when unknown. */
int ar_namespace_type_from_name (const char *name);
const char *ar_namespace_type_name (enum ar_namespace_type type);

/* Maps "prestart", "createRuntime", ... to AR_HOOK_*; -1 when unknown. */
int ar_hook_kind_from_name (const char *name);
/* Returns the spec's name of a hook kind, NULL when out of range. */
const char *ar_hook_kind_name (enum ar_hook_kind kind);

/* Builds the default config.json that `agentrun spec` writes (rootless
 * when requested): JSON text indented by two spaces and ending with a
 * newline, which the caller frees. */
char *ar_config_default_spec (bool rootless);

#endif
