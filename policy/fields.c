/* The tables that define the policy format.  docs/policy.md describes the
 * same fields for people; a unit test checks that it names every key. */
#define _GNU_SOURCE
#include "fields.h"

#include <stddef.h>
#include <stdint.h>

#include "model.h"

#define KiB (UINT64_C (1) << 10)
#define MiB (UINT64_C (1) << 20)
#define PiB (UINT64_C (1) << 50)
#define DAY_SECONDS (UINT64_C (24) * 60 * 60)

const char *const ar_policy_mode_names[] = { "enforce", "audit", NULL };
const char *const ar_policy_network_mode_names[] = { "none", "allowlist", "open", "host", NULL };
const char *const ar_policy_protocol_names[] = { "tcp", "udp", "any", NULL };
const char *const ar_policy_action_names[] = { "errno", "kill", "log", NULL };

#define SECTION_OBJECT(struct_type, object_name, field_table)                                                   \
  {                                                                                                             \
    .name = object_name, .fields = field_table, .size = sizeof (struct struct_type),                            \
    .pos_offset = offsetof (struct struct_type, pos), .present_offset = offsetof (struct struct_type, present), \
  }
#define ITEM_OBJECT(struct_type, object_name, field_table)                                                          \
  {                                                                                                                 \
    .name = object_name, .fields = field_table, .size = sizeof (struct struct_type),                                \
    .pos_offset = offsetof (struct struct_type, pos), .present_offset = SIZE_MAX,                                   \
  }

static const struct ar_policy_field tmpfs_fields[] = {
  { "path", AR_FIELD_PATH, offsetof (struct ar_policy_tmpfs, path), true, .summary = "where the tmpfs is mounted" },
  { "size", AR_FIELD_SIZE, offsetof (struct ar_policy_tmpfs, size), true, .min = 4 * KiB, .max = PiB,
    .summary = "the tmpfs size limit, such as 64Mi" },
  { "mode", AR_FIELD_MODE, offsetof (struct ar_policy_tmpfs, mode), .max = 07777,
    .summary = "the octal mode of its root folder (default 1777)" },
  { "exec", AR_FIELD_FLAG, offsetof (struct ar_policy_tmpfs, exec),
    .summary = "whether programs may run from it (default false: noexec)" },
  { NULL },
};
static const struct ar_policy_object tmpfs_object = ITEM_OBJECT (ar_policy_tmpfs, "tmpfs entry", tmpfs_fields);

static const struct ar_policy_field filesystem_fields[] = {
  { "readonly_rootfs", AR_FIELD_FLAG, offsetof (struct ar_policy_filesystem, readonly_rootfs),
    .summary = "whether the root filesystem is read-only (default true)" },
  { "readonly_paths", AR_FIELD_PATH_LIST, offsetof (struct ar_policy_filesystem, readonly_paths),
    .summary = "paths the agent may read but not write" },
  { "readwrite_paths", AR_FIELD_PATH_LIST, offsetof (struct ar_policy_filesystem, readwrite_paths),
    .summary = "the only paths where config.json may mount something writable" },
  { "denied_paths", AR_FIELD_PATH_LIST, offsetof (struct ar_policy_filesystem, denied_paths),
    .summary = "paths hidden from the agent (masked)" },
  { "tmpfs", AR_FIELD_ITEMS, offsetof (struct ar_policy_filesystem, tmpfs), .object = &tmpfs_object,
    .summary = "writable in-memory filesystems, each with a size limit" },
  { NULL },
};
static const struct ar_policy_object filesystem_object
    = SECTION_OBJECT (ar_policy_filesystem, "filesystem", filesystem_fields);

static const struct ar_policy_field process_fields[] = {
  { "user", AR_FIELD_USER, offsetof (struct ar_policy_process, user),
    .summary = "the uid, or \"uid:gid\", the agent runs as" },
  { "no_new_privileges", AR_FIELD_FLAG, offsetof (struct ar_policy_process, no_new_privileges),
    .summary = "whether setuid programs and file capabilities are ignored (default true)" },
  { "capabilities", AR_FIELD_LIST, offsetof (struct ar_policy_process, capabilities),
    .summary = "capabilities to keep, such as CAP_NET_BIND_SERVICE; all others are dropped" },
  { "host_pid", AR_FIELD_FLAG, offsetof (struct ar_policy_process, host_pid),
    .summary = "whether the agent may share the host's PID namespace (default false)" },
  { NULL },
};
static const struct ar_policy_object process_object = SECTION_OBJECT (ar_policy_process, "process", process_fields);

static const struct ar_policy_field syscalls_fields[] = {
  { "base", AR_FIELD_STRING, offsetof (struct ar_policy_syscalls, base),
    .summary = "the base profile: default, strict, or the path of an OCI seccomp JSON file" },
  { "allow", AR_FIELD_LIST, offsetof (struct ar_policy_syscalls, allow),
    .summary = "system calls to allow on top of the base profile" },
  { "deny", AR_FIELD_LIST, offsetof (struct ar_policy_syscalls, deny),
    .summary = "system calls to deny even when the base profile allows them" },
  { "action", AR_FIELD_CHOICE, offsetof (struct ar_policy_syscalls, action), .choices = ar_policy_action_names,
    .summary = "what a denied system call does: errno (fails with EPERM, default), kill or log" },
  { NULL },
};
static const struct ar_policy_object syscalls_object
    = SECTION_OBJECT (ar_policy_syscalls, "syscalls", syscalls_fields);

static const struct ar_policy_field resources_fields[] = {
  { "memory", AR_FIELD_SIZE, offsetof (struct ar_policy_resources, memory), .min = 4 * MiB, .max = PiB,
    .summary = "the memory limit, such as 512Mi" },
  { "swap", AR_FIELD_SIZE, offsetof (struct ar_policy_resources, swap), .max = PiB,
    .summary = "swap allowed on top of memory (needs memory)" },
  { "cpu", AR_FIELD_CPU, offsetof (struct ar_policy_resources, cpu), .min = 1, .max = 1024 * 1000,
    .summary = "CPU time as a number of CPUs, such as 1.5 or 500m" },
  { "pids", AR_FIELD_INTEGER, offsetof (struct ar_policy_resources, pids), .min = 1, .max = 4194304,
    .summary = "the maximum number of processes and threads" },
  { "io_weight", AR_FIELD_INTEGER, offsetof (struct ar_policy_resources, io_weight), .min = 10, .max = 1000,
    .summary = "the block I/O weight, 10 to 1000" },
  { "open_files", AR_FIELD_INTEGER, offsetof (struct ar_policy_resources, open_files), .min = 1,
    .max = 1048576, .summary = "the open file limit (RLIMIT_NOFILE)" },
  { "wall_clock", AR_FIELD_DURATION, offsetof (struct ar_policy_resources, wall_clock), .min = 1,
    .max = 366 * DAY_SECONDS, .summary = "how long the container may run, such as 30m" },
  { NULL },
};
static const struct ar_policy_object resources_object
    = SECTION_OBJECT (ar_policy_resources, "resources", resources_fields);

static const struct ar_policy_field egress_fields[] = {
  { "cidr", AR_FIELD_STRING, offsetof (struct ar_policy_egress, cidr),
    .summary = "destination addresses, such as 10.0.0.0/8 or 2001:db8::/32" },
  { "domain", AR_FIELD_STRING, offsetof (struct ar_policy_egress, domain),
    .summary = "a destination host name, or *.suffix for every name under suffix" },
  { "ports", AR_FIELD_PORTS, offsetof (struct ar_policy_egress, ports),
    .summary = "destination ports and ranges such as 8000-8100 (default: every port)" },
  { "protocol", AR_FIELD_CHOICE, offsetof (struct ar_policy_egress, protocol), .choices = ar_policy_protocol_names,
    .summary = "tcp (default), udp or any" },
  { NULL },
};
static const struct ar_policy_object egress_object = ITEM_OBJECT (ar_policy_egress, "egress rule", egress_fields);

static const struct ar_policy_field ingress_fields[] = {
  { "ports", AR_FIELD_PORTS, offsetof (struct ar_policy_ingress, ports), true,
    .summary = "container ports that accept connections" },
  { "protocol", AR_FIELD_CHOICE, offsetof (struct ar_policy_ingress, protocol),
    .choices = ar_policy_protocol_names, .summary = "tcp (default), udp or any" },
  { NULL },
};
static const struct ar_policy_object ingress_object
    = ITEM_OBJECT (ar_policy_ingress, "ingress rule", ingress_fields);

static const struct ar_policy_field network_fields[] = {
  { "mode", AR_FIELD_CHOICE, offsetof (struct ar_policy_network, mode), .choices = ar_policy_network_mode_names,
    .summary = "none (default), allowlist, open, or host (the host's network, risky)" },
  { "egress", AR_FIELD_ITEMS, offsetof (struct ar_policy_network, egress), .object = &egress_object,
    .summary = "outgoing connections allowed in allowlist mode" },
  { "ingress", AR_FIELD_ITEMS, offsetof (struct ar_policy_network, ingress), .object = &ingress_object,
    .summary = "incoming connections allowed" },
  { NULL },
};
static const struct ar_policy_object network_object = SECTION_OBJECT (ar_policy_network, "network", network_fields);

static const struct ar_policy_field identity_fields[] = {
  { "trust_domain", AR_FIELD_STRING, offsetof (struct ar_policy_identity, trust_domain), true,
    .summary = "the SPIFFE trust domain, such as example.org" },
  { "id_template", AR_FIELD_STRING, offsetof (struct ar_policy_identity, id_template),
    .summary = "the SPIFFE ID, with {trust_domain}, {policy}, {container_id} and {annotation:KEY} filled in" },
  { "svid_dir", AR_FIELD_PATH, offsetof (struct ar_policy_identity, svid_dir),
    .summary = "the folder in the container that receives the SVID files (default /run/spiffe)" },
  { "jwt_audiences", AR_FIELD_LIST, offsetof (struct ar_policy_identity, jwt_audiences),
    .summary = "audiences of the JWT-SVIDs the agent receives" },
  { "lifetime", AR_FIELD_DURATION, offsetof (struct ar_policy_identity, lifetime), .min = 60,
    .max = 30 * DAY_SECONDS, .summary = "how long each SVID is valid (default 1h)" },
  { NULL },
};
static const struct ar_policy_object identity_object
    = SECTION_OBJECT (ar_policy_identity, "identity", identity_fields);

static const struct ar_policy_field audit_fields[] = {
  { "events", AR_FIELD_STRING, offsetof (struct ar_policy_audit, events),
    .summary = "where audit events go: log (the runtime's log, default), stderr, or an absolute file path" },
  { NULL },
};
static const struct ar_policy_object audit_object = SECTION_OBJECT (ar_policy_audit, "audit", audit_fields);

static const struct ar_policy_field top_fields[] = {
  { "name", AR_FIELD_STRING, offsetof (struct ar_policy, name), true,
    .summary = "the policy's name: lowercase letters, digits, '.', '_' and '-'" },
  { "version", AR_FIELD_INTEGER, offsetof (struct ar_policy, version), true, .min = AR_POLICY_FORMAT_VERSION,
    .max = AR_POLICY_FORMAT_VERSION, .summary = "the policy format version, 1" },
  { "description", AR_FIELD_STRING, offsetof (struct ar_policy, description),
    .summary = "what the policy is for, shown by `policy explain`" },
  { "mode", AR_FIELD_CHOICE, offsetof (struct ar_policy, mode), .choices = ar_policy_mode_names,
    .summary = "enforce (default) blocks what the policy denies; audit only reports it" },
  { "filesystem", AR_FIELD_SECTION, offsetof (struct ar_policy, filesystem), .object = &filesystem_object,
    .summary = "what the agent may read and write" },
  { "process", AR_FIELD_SECTION, offsetof (struct ar_policy, process), .object = &process_object,
    .summary = "the user and privileges of the agent's processes" },
  { "syscalls", AR_FIELD_SECTION, offsetof (struct ar_policy, syscalls), .object = &syscalls_object,
    .summary = "the seccomp filter" },
  { "resources", AR_FIELD_SECTION, offsetof (struct ar_policy, resources), .object = &resources_object,
    .summary = "limits on memory, CPU, processes, I/O, open files and run time" },
  { "network", AR_FIELD_SECTION, offsetof (struct ar_policy, network), .object = &network_object,
    .summary = "what the agent may connect to and accept connections from" },
  { "identity", AR_FIELD_SECTION, offsetof (struct ar_policy, identity), .object = &identity_object,
    .summary = "the SPIFFE identity the agent receives" },
  { "audit", AR_FIELD_SECTION, offsetof (struct ar_policy, audit), .object = &audit_object,
    .summary = "where audit events go" },
  { NULL },
};

const struct ar_policy_object ar_policy_top_object = {
  .name = "policy",
  .fields = top_fields,
  .size = sizeof (struct ar_policy),
  .pos_offset = SIZE_MAX,
  .present_offset = SIZE_MAX,
};
