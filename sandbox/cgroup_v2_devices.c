/* The device allow list on cgroup2, which has no devices controller: an
 * eBPF program of type BPF_PROG_TYPE_CGROUP_DEVICE, attached to the
 * container's cgroup, decides each open and mknod of a device node.
 *
 * The program follows cgroup v1 semantics for the rules in their order.
 * A rule for every device ("a *:* rwm") sets the default and drops the
 * rules before it; any other rule is an exception.  The program checks
 * the exceptions from the last to the first, and the first that matches
 * decides.  An allow rule matches when it grants every access requested,
 * a deny rule when it covers any of them.  Without a match the default
 * applies, which is "allow" as in a new v1 cgroup. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/bpf.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "cgroup_internal.h"
#include "oci/log.h"
#include "oci/util.h"

/* Registers of the program. */
enum
{
  R0 = 0, /* return value: 1 allows, 0 denies */
  R1 = 1, /* the struct bpf_cgroup_dev_ctx */
  R2 = 2, /* device type, BPF_DEVCG_DEV_* */
  R3 = 3, /* requested access, BPF_DEVCG_ACC_* */
  R4 = 4, /* major */
  R5 = 5, /* minor */
  R6 = 6, /* scratch */
};

/* Programs of more than 4096 instructions need CAP_BPF on newer kernels;
 * each rule takes at most 9. */
#define MAX_RULES 400

struct program
{
  struct bpf_insn *insns;
  size_t n;
  size_t cap;
};

static void
emit (struct program *p, uint8_t code, uint8_t dst, uint8_t src, int16_t off, int32_t imm)
{
  if (p->n == p->cap)
    {
      p->cap = p->cap ? p->cap * 2 : 64;
      p->insns = realloc (p->insns, p->cap * sizeof (*p->insns));
      if (p->insns == NULL)
        abort ();
    }
  p->insns[p->n++] = (struct bpf_insn) { .code = code, .dst_reg = dst, .src_reg = src, .off = off, .imm = imm };
}

static uint32_t
access_bits (const char *access)
{
  uint32_t bits = 0;

  if (strchr (access, 'r') != NULL)
    bits |= BPF_DEVCG_ACC_READ;
  if (strchr (access, 'w') != NULL)
    bits |= BPF_DEVCG_ACC_WRITE;
  if (strchr (access, 'm') != NULL)
    bits |= BPF_DEVCG_ACC_MKNOD;
  return bits;
}

static bool
is_default_rule (const struct ar_device_rule *rule)
{
  return rule->type == 'a' && rule->major < 0 && rule->minor < 0 && strcmp (rule->access, "rwm") == 0;
}

/* One exception: a run of conditional jumps to the end of the block, then
 * "return allow".  Jump offsets count the instructions skipped. */
static void
emit_rule (struct program *p, const struct ar_device_rule *rule)
{
  size_t start = p->n;
  uint32_t access = access_bits (rule->access);

  if (rule->type != 'a')
    emit (p, BPF_JMP | BPF_JNE | BPF_K, R2, 0, 0, rule->type == 'b' ? BPF_DEVCG_DEV_BLOCK : BPF_DEVCG_DEV_CHAR);
  if (rule->major >= 0)
    emit (p, BPF_JMP | BPF_JNE | BPF_K, R4, 0, 0, (int32_t) rule->major);
  if (rule->minor >= 0)
    emit (p, BPF_JMP | BPF_JNE | BPF_K, R5, 0, 0, (int32_t) rule->minor);

  emit (p, BPF_ALU64 | BPF_MOV | BPF_X, R6, R3, 0, 0);
  if (rule->allow)
    {
      /* Some requested access that the rule does not grant: no match. */
      emit (p, BPF_ALU64 | BPF_AND | BPF_K, R6, 0, 0, (int32_t) (~access & 7));
      emit (p, BPF_JMP | BPF_JNE | BPF_K, R6, 0, 0, 0);
    }
  else
    {
      /* No requested access that the rule covers: no match. */
      emit (p, BPF_ALU64 | BPF_AND | BPF_K, R6, 0, 0, (int32_t) access);
      emit (p, BPF_JMP | BPF_JEQ | BPF_K, R6, 0, 0, 0);
    }
  emit (p, BPF_ALU64 | BPF_MOV | BPF_K, R0, 0, 0, rule->allow ? 1 : 0);
  emit (p, BPF_JMP | BPF_EXIT, 0, 0, 0, 0);

  /* Point every jump of the block past its end. */
  for (size_t i = start; i < p->n; i++)
    if (BPF_CLASS (p->insns[i].code) == BPF_JMP && BPF_OP (p->insns[i].code) != BPF_EXIT)
      p->insns[i].off = (int16_t) (p->n - i - 1);
}

static int
build_program (const struct ar_resources *r, struct program *p, ar_error_t *err)
{
  size_t first = 0;
  bool default_allow = true;

  if (r->n_devices > MAX_RULES)
    return ar_make_error (err, E2BIG, "%s.devices: %zu rules are more than the %d this runtime supports on cgroup v2",
                          r->json_path, r->n_devices, MAX_RULES);

  for (size_t i = 0; i < r->n_devices; i++)
    {
      const struct ar_device_rule *rule = &r->devices[i];

      if (rule->major > INT32_MAX || rule->minor > INT32_MAX)
        return ar_make_error (err, 0, "%s.devices[%zu]: device number out of range", r->json_path, i);
      if (is_default_rule (rule))
        {
          default_allow = rule->allow;
          first = i + 1;
        }
    }

  /* Unpack the context: type in the low 16 bits of access_type, access
   * in the high ones. */
  emit (p, BPF_LDX | BPF_MEM | BPF_W, R2, R1, offsetof (struct bpf_cgroup_dev_ctx, access_type), 0);
  emit (p, BPF_ALU64 | BPF_MOV | BPF_X, R3, R2, 0, 0);
  emit (p, BPF_ALU64 | BPF_AND | BPF_K, R2, 0, 0, 0xffff);
  emit (p, BPF_ALU64 | BPF_RSH | BPF_K, R3, 0, 0, 16);
  emit (p, BPF_LDX | BPF_MEM | BPF_W, R4, R1, offsetof (struct bpf_cgroup_dev_ctx, major), 0);
  emit (p, BPF_LDX | BPF_MEM | BPF_W, R5, R1, offsetof (struct bpf_cgroup_dev_ctx, minor), 0);

  for (size_t i = r->n_devices; i-- > first;)
    emit_rule (p, &r->devices[i]);

  emit (p, BPF_ALU64 | BPF_MOV | BPF_K, R0, 0, 0, default_allow ? 1 : 0);
  emit (p, BPF_JMP | BPF_EXIT, 0, 0, 0, 0);
  return 0;
}

static int
bpf (int cmd, union bpf_attr *attr)
{
  return (int) syscall (SYS_bpf, cmd, attr, sizeof (*attr));
}

static int
load_program (const struct program *p, const char *json_path, ar_error_t *err)
{
  static char log[4096];
  union bpf_attr attr;
  int fd;

  memset (&attr, 0, sizeof (attr));
  attr.prog_type = BPF_PROG_TYPE_CGROUP_DEVICE;
  attr.insns = (uint64_t) (uintptr_t) p->insns;
  attr.insn_cnt = (uint32_t) p->n;
  attr.license = (uint64_t) (uintptr_t) "Apache-2.0";
  attr.log_buf = (uint64_t) (uintptr_t) log;
  attr.log_size = sizeof (log);
  attr.log_level = 1;
  log[0] = '\0';

  fd = bpf (BPF_PROG_LOAD, &attr);
  if (fd < 0)
    return ar_make_error (err, errno, "%s.devices: cannot load the cgroup v2 device filter (eBPF)%s%.300s", json_path,
                          log[0] != '\0' ? ": verifier: " : "", log);
  return fd;
}

/* Ids of the device programs attached to the cgroup now. */
static int
query_attached (int cgroup_fd, uint32_t *ids, uint32_t *n_ids, ar_error_t *err)
{
  union bpf_attr attr;

  memset (&attr, 0, sizeof (attr));
  attr.query.target_fd = (uint32_t) cgroup_fd;
  attr.query.attach_type = BPF_CGROUP_DEVICE;
  attr.query.prog_ids = (uint64_t) (uintptr_t) ids;
  attr.query.prog_cnt = *n_ids;
  if (bpf (BPF_PROG_QUERY, &attr) < 0)
    return ar_make_error (err, errno, "cannot list the device filters of the cgroup");
  *n_ids = attr.query.prog_cnt;
  return 0;
}

static void
detach (int cgroup_fd, uint32_t id)
{
  union bpf_attr attr;
  cleanup_close int prog_fd = -1;

  memset (&attr, 0, sizeof (attr));
  attr.prog_id = id;
  prog_fd = bpf (BPF_PROG_GET_FD_BY_ID, &attr);
  if (prog_fd < 0)
    {
      ar_debug ("cgroup: cannot open device filter %u to detach it: %s", id, strerror (errno));
      return;
    }

  memset (&attr, 0, sizeof (attr));
  attr.target_fd = (uint32_t) cgroup_fd;
  attr.attach_bpf_fd = (uint32_t) prog_fd;
  attr.attach_type = BPF_CGROUP_DEVICE;
  if (bpf (BPF_PROG_DETACH, &attr) < 0)
    ar_debug ("cgroup: cannot detach device filter %u: %s", id, strerror (errno));
}

int
ar_cgroup_v2_set_devices (const char *dir, const struct ar_resources *r, ar_error_t *err)
{
  struct program program = { 0 };
  cleanup_close int cgroup_fd = -1;
  cleanup_close int prog_fd = -1;
  uint32_t old_ids[64];
  uint32_t n_old = 64;
  union bpf_attr attr;
  int ret;

  ret = build_program (r, &program, err);
  if (ret == 0)
    ret = prog_fd = load_program (&program, r->json_path, err);
  free (program.insns);
  if (ret < 0)
    return ret;

  cgroup_fd = open (dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (cgroup_fd < 0)
    return ar_make_error (err, errno, "cannot open cgroup `%s`", dir);

  ret = query_attached (cgroup_fd, old_ids, &n_old, err);
  if (ret < 0)
    return ar_error_wrap (err, "%s.devices", r->json_path);

  /* The new filter goes on before the old ones come off, so no device is
   * open to the container in between: while both are attached, both must
   * allow. */
  memset (&attr, 0, sizeof (attr));
  attr.target_fd = (uint32_t) cgroup_fd;
  attr.attach_bpf_fd = (uint32_t) prog_fd;
  attr.attach_type = BPF_CGROUP_DEVICE;
  attr.attach_flags = BPF_F_ALLOW_MULTI;
  if (bpf (BPF_PROG_ATTACH, &attr) < 0)
    return ar_make_error (err, errno, "%s.devices: cannot attach the device filter to `%s`", r->json_path, dir);

  for (uint32_t i = 0; i < n_old; i++)
    detach (cgroup_fd, old_ids[i]);
  ar_debug ("cgroup: attached a device filter of %zu rules to `%s`", r->n_devices, dir);
  return 0;
}
