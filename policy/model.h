/* The parsed policy: every value with the line and column where the file
 * sets it, so that validation errors and ceiling conflicts can point at
 * the rule.  Shared by the files of policy/ and by their tests. */
#ifndef AGENTRUN_POLICY_MODEL_H
#define AGENTRUN_POLICY_MODEL_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "policy.h"

/* The policy format version that this parser reads. */
#define AR_POLICY_FORMAT_VERSION 1

/* A place in the policy file, 1-based; line 0 when the value is a default. */
struct ar_policy_pos
{
  unsigned int line;
  unsigned int column;
};

struct ar_policy_string
{
  char *value; /* NULL when unset */
  struct ar_policy_pos pos;
};

struct ar_policy_flag
{
  bool set;
  bool value;
  struct ar_policy_pos pos;
};

/* Sizes in bytes, CPU in millicpus, durations in seconds. */
struct ar_policy_number
{
  bool set;
  uint64_t value;
  struct ar_policy_pos pos;
};

/* One value of a fixed set of names, stored as its index in that set. */
struct ar_policy_choice
{
  bool set;
  int value;
  struct ar_policy_pos pos;
};

struct ar_policy_list
{
  bool set;
  char **values; /* NULL-terminated once set */
  struct ar_policy_pos *positions;
  size_t n;
  struct ar_policy_pos pos;
};

struct ar_policy_port_range
{
  uint16_t first;
  uint16_t last;
};

/* A list of ports and ranges; set with n 0 means every port. */
struct ar_policy_ports
{
  bool set;
  struct ar_policy_port_range *ranges;
  size_t n;
  struct ar_policy_pos pos;
};

struct ar_policy_user
{
  bool set;
  uint32_t uid;
  bool has_gid;
  uint32_t gid;
  struct ar_policy_pos pos;
};

/* A list of objects (tmpfs entries, network rules). */
struct ar_policy_items
{
  bool set;
  void *items;
  size_t n;
  struct ar_policy_pos pos;
};

enum ar_policy_mode
{
  AR_POLICY_MODE_ENFORCE,
  AR_POLICY_MODE_AUDIT,
};

enum ar_policy_network_mode
{
  AR_POLICY_NETWORK_NONE,
  AR_POLICY_NETWORK_ALLOWLIST,
  AR_POLICY_NETWORK_OPEN,
  AR_POLICY_NETWORK_HOST,
};

enum ar_policy_protocol
{
  AR_POLICY_PROTOCOL_TCP,
  AR_POLICY_PROTOCOL_UDP,
  AR_POLICY_PROTOCOL_ANY,
};

enum ar_policy_syscall_action
{
  AR_POLICY_ACTION_ERRNO,
  AR_POLICY_ACTION_KILL,
  AR_POLICY_ACTION_LOG,
};

enum ar_policy_seccomp_base
{
  AR_POLICY_SECCOMP_DEFAULT,
  AR_POLICY_SECCOMP_STRICT,
  AR_POLICY_SECCOMP_FILE,
};

struct ar_policy_tmpfs
{
  struct ar_policy_string path;
  struct ar_policy_number size;
  struct ar_policy_number mode;
  struct ar_policy_flag exec;
  struct ar_policy_pos pos;
};

struct ar_policy_egress
{
  struct ar_policy_string cidr;
  struct ar_policy_string domain;
  struct ar_policy_ports ports;
  struct ar_policy_choice protocol;
  struct ar_policy_pos pos;
};

struct ar_policy_ingress
{
  struct ar_policy_ports ports;
  struct ar_policy_choice protocol;
  struct ar_policy_pos pos;
};

struct ar_policy_filesystem
{
  bool present;
  struct ar_policy_pos pos;
  struct ar_policy_flag readonly_rootfs;
  struct ar_policy_list readonly_paths;
  struct ar_policy_list readwrite_paths;
  struct ar_policy_list denied_paths;
  struct ar_policy_items tmpfs; /* struct ar_policy_tmpfs */
};

struct ar_policy_process
{
  bool present;
  struct ar_policy_pos pos;
  struct ar_policy_user user;
  struct ar_policy_flag no_new_privileges;
  struct ar_policy_list capabilities; /* canonical "CAP_X" names */
  struct ar_policy_flag host_pid;
  uint64_t capability_mask; /* bit n: capability n is kept */
};

struct ar_policy_syscalls
{
  bool present;
  struct ar_policy_pos pos;
  struct ar_policy_string base; /* "default", "strict" or a file path */
  struct ar_policy_list allow;
  struct ar_policy_list deny;
  struct ar_policy_choice action;
  enum ar_policy_seccomp_base base_kind;
  char *base_file;          /* the profile's path, resolved against the policy's folder */
  json_t *base_profile;     /* the file's linux.seccomp object */
};

struct ar_policy_resources
{
  bool present;
  struct ar_policy_pos pos;
  struct ar_policy_number memory;
  struct ar_policy_number swap;
  struct ar_policy_number cpu;
  struct ar_policy_number pids;
  struct ar_policy_number io_weight;
  struct ar_policy_number open_files;
  struct ar_policy_number wall_clock;
};

struct ar_policy_network
{
  bool present;
  struct ar_policy_pos pos;
  struct ar_policy_choice mode;
  struct ar_policy_items egress;  /* struct ar_policy_egress */
  struct ar_policy_items ingress; /* struct ar_policy_ingress */
};

struct ar_policy_identity
{
  bool present;
  struct ar_policy_pos pos;
  struct ar_policy_string trust_domain;
  struct ar_policy_string id_template;
  struct ar_policy_string svid_dir;
  struct ar_policy_list jwt_audiences;
  struct ar_policy_number lifetime;
};

struct ar_policy_audit
{
  bool present;
  struct ar_policy_pos pos;
  struct ar_policy_string events; /* "log", "stderr" or an absolute file path */
};

struct ar_policy
{
  char *origin;
  struct ar_policy_string name;
  struct ar_policy_number version;
  struct ar_policy_string description;
  struct ar_policy_choice mode;
  struct ar_policy_filesystem filesystem;
  struct ar_policy_process process;
  struct ar_policy_syscalls syscalls;
  struct ar_policy_resources resources;
  struct ar_policy_network network;
  struct ar_policy_identity identity;
  struct ar_policy_audit audit;
};

/* The names of the choices, indexed by their enum values. */
extern const char *const ar_policy_mode_names[];
extern const char *const ar_policy_network_mode_names[];
extern const char *const ar_policy_protocol_names[];
extern const char *const ar_policy_action_names[];

/* Defaults that the parser fills in and the docs state. */
#define AR_POLICY_DEFAULT_SVID_DIR "/run/spiffe"
#define AR_POLICY_DEFAULT_ID_TEMPLATE "spiffe://{trust_domain}/agentrun/{policy}/{container_id}"
#define AR_POLICY_DEFAULT_LIFETIME (60 * 60)
#define AR_POLICY_DEFAULT_TMPFS_MODE 01777
#define AR_POLICY_DEFAULT_AUDIT_EVENTS "log"

/* Formats "FILE:LINE" (or "FILE" for defaults) for messages; the caller
 * frees it. */
char *ar_policy_rule_location (const struct ar_policy *policy, struct ar_policy_pos pos);

#endif
