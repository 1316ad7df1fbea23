#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <linux/ioprio.h>
#include <linux/sched.h>
#include <sched.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/capability.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "oci/config.h"
#include "oci/error.h"
#include "oci/log.h"
#include "oci/util.h"
#include "unit.h"

/* Every field of config.h except linux.resources, whose parser is tested
 * on its own. */
static const char full_config[] =
  "{\n"
  "  \"ociVersion\": \"1.2.0\",\n"
  "  \"process\": {\n"
  "    \"terminal\": true,\n"
  "    \"consoleSize\": { \"height\": 25, \"width\": 80 },\n"
  "    \"user\": { \"uid\": 1000, \"gid\": 1001, \"umask\": 18, \"additionalGids\": [5, 6],\n"
  "              \"username\": \"agent\" },\n"
  "    \"args\": [\"/bin/sh\", \"-c\", \"true\"],\n"
  "    \"env\": [\"PATH=/usr/bin:/bin\", \"TERM=xterm\", \"EMPTY=\"],\n"
  "    \"cwd\": \"/work\",\n"
  "    \"capabilities\": {\n"
  "      \"bounding\": [\"CAP_CHOWN\", \"CAP_KILL\", \"CAP_NET_BIND_SERVICE\"],\n"
  "      \"effective\": [\"CAP_KILL\"],\n"
  "      \"inheritable\": [],\n"
  "      \"permitted\": [\"CAP_KILL\", \"CAP_SYS_ADMIN\"],\n"
  "      \"ambient\": [\"CAP_NET_BIND_SERVICE\"]\n"
  "    },\n"
  "    \"rlimits\": [\n"
  "      { \"type\": \"RLIMIT_NOFILE\", \"soft\": 1024, \"hard\": 4096 },\n"
  "      { \"type\": \"RLIMIT_CORE\", \"soft\": 0, \"hard\": 18446744073709551615 }\n"
  "    ],\n"
  "    \"noNewPrivileges\": true,\n"
  "    \"apparmorProfile\": \"agent-profile\",\n"
  "    \"selinuxLabel\": \"system_u:system_r:container_t:s0\",\n"
  "    \"oomScoreAdj\": -500,\n"
  "    \"ioPriority\": { \"class\": \"IOPRIO_CLASS_BE\", \"priority\": 6 },\n"
  "    \"scheduler\": { \"policy\": \"SCHED_DEADLINE\", \"nice\": -3, \"priority\": 0,\n"
  "                   \"flags\": [\"SCHED_FLAG_RESET_ON_FORK\", \"SCHED_FLAG_RECLAIM\"],\n"
  "                   \"runtime\": 10000000, \"deadline\": 20000000, \"period\": 30000000 },\n"
  "    \"execCPUAffinity\": { \"initial\": \"7\", \"final\": \"0-3,7\" },\n"
  "    \"extensionField\": { \"ignored\": true }\n"
  "  },\n"
  "  \"root\": { \"path\": \"rootfs\", \"readonly\": true },\n"
  "  \"hostname\": \"agent-box\",\n"
  "  \"domainname\": \"example.test\",\n"
  "  \"mounts\": [\n"
  "    { \"destination\": \"/proc\", \"type\": \"proc\", \"source\": \"proc\" },\n"
  "    { \"destination\": \"/data\", \"type\": \"none\", \"source\": \"/srv/data\",\n"
  "      \"options\": [\"rbind\", \"ro\", \"rprivate\", \"rnosuid\", \"size=10m\", \"mode=755\", \"ridmap\"],\n"
  "      \"uidMappings\": [{ \"containerID\": 0, \"hostID\": 100000, \"size\": 65536 }],\n"
  "      \"gidMappings\": [{ \"containerID\": 0, \"hostID\": 200000, \"size\": 1000 }] },\n"
  "    { \"destination\": \"/tmp\", \"type\": \"tmpfs\", \"source\": \"tmpfs\",\n"
  "      \"options\": [\"nosuid\", \"tmpcopyup\", \"shared\"] }\n"
  "  ],\n"
  "  \"hooks\": {\n"
  "    \"prestart\": [{ \"path\": \"/usr/bin/pre\" }],\n"
  "    \"createRuntime\": [{ \"path\": \"/usr/bin/net\", \"args\": [\"net\", \"up\"], \"env\": [\"A=1\"],\n"
  "                        \"timeout\": 5 }],\n"
  "    \"createContainer\": [{ \"path\": \"/usr/bin/cc\" }, { \"path\": \"/usr/bin/cc2\" }],\n"
  "    \"startContainer\": [{ \"path\": \"/bin/ldconfig\" }],\n"
  "    \"poststart\": [{ \"path\": \"/usr/bin/notify\" }],\n"
  "    \"poststop\": [{ \"path\": \"/usr/bin/cleanup\", \"timeout\": 30 }]\n"
  "  },\n"
  "  \"annotations\": { \"io.agentrun.policy\": \"strict\", \"owner\": \"tests\" },\n"
  "  \"linux\": {\n"
  "    \"namespaces\": [\n"
  "      { \"type\": \"pid\" }, { \"type\": \"network\", \"path\": \"/var/run/netns/agent\" },\n"
  "      { \"type\": \"mount\" }, { \"type\": \"ipc\" }, { \"type\": \"uts\" }, { \"type\": \"user\" },\n"
  "      { \"type\": \"cgroup\" }, { \"type\": \"time\" }\n"
  "    ],\n"
  "    \"uidMappings\": [{ \"containerID\": 0, \"hostID\": 100000, \"size\": 65536 }],\n"
  "    \"gidMappings\": [{ \"containerID\": 0, \"hostID\": 100000, \"size\": 65536 },\n"
  "                    { \"containerID\": 65536, \"hostID\": 300000, \"size\": 10 }],\n"
  "    \"timeOffsets\": { \"monotonic\": { \"secs\": -3600, \"nanosecs\": 500 },\n"
  "                     \"boottime\": { \"secs\": 86400 } },\n"
  "    \"devices\": [\n"
  "      { \"type\": \"c\", \"path\": \"/dev/fuse\", \"major\": 10, \"minor\": 229, \"fileMode\": 438,\n"
  "        \"uid\": 0, \"gid\": 0 },\n"
  "      { \"type\": \"p\", \"path\": \"/dev/fifo\" }\n"
  "    ],\n"
  "    \"cgroupsPath\": \"/agentrun/test\",\n"
  "    \"sysctl\": { \"net.ipv4.ip_forward\": \"1\", \"kernel.shm_rmid_forced\": \"1\" },\n"
  "    \"seccomp\": {\n"
  "      \"defaultAction\": \"SCMP_ACT_ERRNO\",\n"
  "      \"defaultErrnoRet\": 38,\n"
  "      \"architectures\": [\"SCMP_ARCH_X86_64\", \"SCMP_ARCH_X86\"],\n"
  "      \"flags\": [\"SECCOMP_FILTER_FLAG_LOG\"],\n"
  "      \"listenerPath\": \"/run/agent/seccomp.sock\",\n"
  "      \"listenerMetadata\": \"agent-1\",\n"
  "      \"syscalls\": [\n"
  "        { \"names\": [\"read\", \"write\"], \"action\": \"SCMP_ACT_ALLOW\" },\n"
  "        { \"names\": [\"personality\"], \"action\": \"SCMP_ACT_ALLOW\",\n"
  "          \"args\": [{ \"index\": 0, \"value\": 4294967295, \"op\": \"SCMP_CMP_EQ\" },\n"
  "                   { \"index\": 5, \"value\": 18446744073709551615, \"valueTwo\": 16,\n"
  "                     \"op\": \"SCMP_CMP_MASKED_EQ\" }] },\n"
  "        { \"names\": [\"mount\"], \"action\": \"SCMP_ACT_ERRNO\", \"errnoRet\": 1 }\n"
  "      ]\n"
  "    },\n"
  "    \"rootfsPropagation\": \"rslave\",\n"
  "    \"maskedPaths\": [\"/proc/kcore\", \"/sys/firmware\"],\n"
  "    \"readonlyPaths\": [\"/proc/sys\"],\n"
  "    \"mountLabel\": \"system_u:object_r:container_file_t:s0\",\n"
  "    \"personality\": { \"domain\": \"LINUX32\" },\n"
  "    \"intelRdt\": { \"closID\": \"agent\" },\n"
  "    \"netDevices\": { \"eth1\": { \"name\": \"net1\" } },\n"
  "    \"memoryPolicy\": { \"mode\": \"MPOL_BIND\", \"nodes\": \"0\" }\n"
  "  },\n"
  "  \"vm\": { \"hypervisor\": { \"path\": \"/unused\" } }\n"
  "}\n";

/* The smallest config each invalid case patches. */
static const char base_config[] = "{ \"ociVersion\": \"1.2.0\", \"root\": { \"path\": \"rootfs\" },"
                                  "  \"process\": { \"args\": [\"sh\"], \"cwd\": \"/\" } }";

static int
parse_text (const char *text, struct ar_config **out, ar_error_t *err)
{
  return ar_config_parse (text, strlen (text), "config.json", out, err);
}

static bool
kernel_has_cap (int cap)
{
  cleanup_free char *text = NULL;
  cleanup_error ar_error_t err = NULL;
  long last = 0;

  if (ar_read_file ("/proc/sys/kernel/cap_last_cap", &text, NULL, &err) < 0)
    return true;
  text[strcspn (text, "\n")] = '\0';
  if (ar_parse_long (text, &last) < 0)
    return true;
  return cap <= last;
}

static uint64_t
cap_bit (int cap)
{
  return kernel_has_cap (cap) ? UINT64_C (1) << cap : 0;
}

static void
check_full_process (const struct ar_process *p)
{
  CHECK (p->terminal);
  CHECK (p->has_console_size);
  CHECK (p->console_height == 25);
  CHECK (p->console_width == 80);

  CHECK (p->user.uid == 1000);
  CHECK (p->user.gid == 1001);
  CHECK (p->user.has_umask);
  CHECK (p->user.umask == 022);
  CHECK (p->user.n_additional_gids == 2);
  CHECK (p->user.additional_gids[0] == 5);
  CHECK (p->user.additional_gids[1] == 6);
  CHECK_STR_EQ (p->user.username, "agent");

  CHECK (ar_strv_len (p->args) == 3);
  CHECK_STR_EQ (p->args[0], "/bin/sh");
  CHECK_STR_EQ (p->args[2], "true");
  CHECK (ar_strv_len (p->env) == 3);
  CHECK_STR_EQ (p->env[2], "EMPTY=");
  CHECK_STR_EQ (p->cwd, "/work");

  CHECK (p->capabilities != NULL);
  CHECK (p->capabilities->bounding
         == (cap_bit (CAP_CHOWN) | cap_bit (CAP_KILL) | cap_bit (CAP_NET_BIND_SERVICE)));
  CHECK (p->capabilities->effective == cap_bit (CAP_KILL));
  CHECK (p->capabilities->inheritable == 0);
  CHECK (p->capabilities->permitted == (cap_bit (CAP_KILL) | cap_bit (CAP_SYS_ADMIN)));
  CHECK (p->capabilities->ambient == cap_bit (CAP_NET_BIND_SERVICE));

  CHECK (p->n_rlimits == 2);
  CHECK (p->rlimits[0].resource == RLIMIT_NOFILE);
  CHECK_STR_EQ (p->rlimits[0].type, "RLIMIT_NOFILE");
  CHECK (p->rlimits[0].soft == 1024);
  CHECK (p->rlimits[0].hard == 4096);
  CHECK (p->rlimits[1].resource == RLIMIT_CORE);
  CHECK (p->rlimits[1].soft == 0);
  CHECK (p->rlimits[1].hard == UINT64_MAX);

  CHECK (p->no_new_privileges);
  CHECK_STR_EQ (p->apparmor_profile, "agent-profile");
  CHECK_STR_EQ (p->selinux_label, "system_u:system_r:container_t:s0");
  CHECK (p->has_oom_score_adj);
  CHECK (p->oom_score_adj == -500);

  CHECK (p->io_priority != NULL);
  CHECK (p->io_priority->ioprio_class == IOPRIO_CLASS_BE);
  CHECK (p->io_priority->priority == 6);

  CHECK (p->scheduler != NULL);
  CHECK (p->scheduler->policy == SCHED_DEADLINE);
  CHECK (p->scheduler->nice == -3);
  CHECK (p->scheduler->priority == 0);
  CHECK (p->scheduler->flags == (SCHED_FLAG_RESET_ON_FORK | SCHED_FLAG_RECLAIM));
  CHECK (p->scheduler->runtime == 10000000);
  CHECK (p->scheduler->deadline == 20000000);
  CHECK (p->scheduler->period == 30000000);

  CHECK_STR_EQ (p->exec_cpu_affinity_initial, "7");
  CHECK_STR_EQ (p->exec_cpu_affinity_final, "0-3,7");
}

static void
check_full_mounts (const struct ar_config *c)
{
  const struct ar_mount *m;

  CHECK (c->n_mounts == 3);
  if (c->n_mounts != 3)
    return;

  m = &c->mounts[0];
  CHECK_STR_EQ (m->destination, "/proc");
  CHECK_STR_EQ (m->type, "proc");
  CHECK_STR_EQ (m->source, "proc");
  CHECK (m->n_options == 0);
  CHECK (m->flags == 0);
  CHECK (m->data == NULL);

  m = &c->mounts[1];
  CHECK_STR_EQ (m->destination, "/data");
  CHECK_STR_EQ (m->source, "/srv/data");
  CHECK (m->n_options == 7);
  CHECK_STR_EQ (m->options[6], "ridmap");
  CHECK (m->options[7] == NULL);
  CHECK (m->bind);
  CHECK (m->recursive_bind);
  CHECK (m->flags == (MS_BIND | MS_REC | MS_RDONLY));
  CHECK (m->propagation == (MS_PRIVATE | MS_REC));
  CHECK (m->attr_set == MOUNT_ATTR_NOSUID);
  CHECK (m->has_recursive_attrs);
  CHECK_STR_EQ (m->data, "size=10m,mode=755");
  CHECK (m->idmap);
  CHECK (m->recursive_idmap);
  CHECK (m->n_uid_mappings == 1);
  CHECK (m->uid_mappings[0].host_id == 100000);
  CHECK (m->uid_mappings[0].size == 65536);
  CHECK (m->n_gid_mappings == 1);
  CHECK (m->gid_mappings[0].host_id == 200000);
  CHECK (m->gid_mappings[0].size == 1000);

  m = &c->mounts[2];
  CHECK (m->tmpcopyup);
  CHECK (m->flags == MS_NOSUID);
  CHECK (m->propagation == MS_SHARED);
  CHECK (!m->bind);
  CHECK (m->data == NULL);
}

static void
check_full_hooks (const struct ar_config *c)
{
  const struct ar_hook_list *h = c->hooks;

  CHECK (h[AR_HOOK_PRESTART].n_hooks == 1);
  CHECK_STR_EQ (h[AR_HOOK_PRESTART].hooks[0].path, "/usr/bin/pre");
  CHECK (!h[AR_HOOK_PRESTART].hooks[0].has_timeout);
  CHECK (h[AR_HOOK_PRESTART].hooks[0].args == NULL);

  CHECK (h[AR_HOOK_CREATE_RUNTIME].n_hooks == 1);
  CHECK_STR_EQ (h[AR_HOOK_CREATE_RUNTIME].hooks[0].args[1], "up");
  CHECK_STR_EQ (h[AR_HOOK_CREATE_RUNTIME].hooks[0].env[0], "A=1");
  CHECK (h[AR_HOOK_CREATE_RUNTIME].hooks[0].has_timeout);
  CHECK (h[AR_HOOK_CREATE_RUNTIME].hooks[0].timeout == 5);

  CHECK (h[AR_HOOK_CREATE_CONTAINER].n_hooks == 2);
  CHECK_STR_EQ (h[AR_HOOK_CREATE_CONTAINER].hooks[1].path, "/usr/bin/cc2");
  CHECK (h[AR_HOOK_START_CONTAINER].n_hooks == 1);
  CHECK (h[AR_HOOK_POSTSTART].n_hooks == 1);
  CHECK (h[AR_HOOK_POSTSTOP].n_hooks == 1);
  CHECK (h[AR_HOOK_POSTSTOP].hooks[0].timeout == 30);
}

static void
check_full_linux (const struct ar_linux *l)
{
  const struct ar_seccomp *s;

  for (int i = 0; i < AR_NS_COUNT; i++)
    CHECK (l->namespaces[i].present);
  CHECK_STR_EQ (l->namespaces[AR_NS_NETWORK].path, "/var/run/netns/agent");
  CHECK (l->namespaces[AR_NS_PID].path == NULL);

  CHECK (l->n_uid_mappings == 1);
  CHECK (l->uid_mappings[0].container_id == 0);
  CHECK (l->uid_mappings[0].host_id == 100000);
  CHECK (l->n_gid_mappings == 2);
  CHECK (l->gid_mappings[1].container_id == 65536);
  CHECK (l->gid_mappings[1].size == 10);

  CHECK (l->time_monotonic.present);
  CHECK (l->time_monotonic.secs == -3600);
  CHECK (l->time_monotonic.nanosecs == 500);
  CHECK (l->time_boottime.present);
  CHECK (l->time_boottime.secs == 86400);

  CHECK (l->n_devices == 2);
  CHECK (l->devices[0].type == 'c');
  CHECK_STR_EQ (l->devices[0].path, "/dev/fuse");
  CHECK (l->devices[0].major == 10);
  CHECK (l->devices[0].minor == 229);
  CHECK (l->devices[0].has_file_mode);
  CHECK (l->devices[0].file_mode == 0666);
  CHECK (l->devices[0].has_uid && l->devices[0].uid == 0);
  CHECK (l->devices[0].has_gid && l->devices[0].gid == 0);
  CHECK (l->devices[1].type == 'p');
  CHECK (!l->devices[1].has_file_mode);

  CHECK_STR_EQ (l->cgroups_path, "/agentrun/test");
  CHECK (l->resources == NULL);
  CHECK (l->n_sysctl == 2);
  CHECK_STR_EQ (l->sysctl[0].key, "net.ipv4.ip_forward");
  CHECK_STR_EQ (l->sysctl[0].value, "1");

  s = l->seccomp;
  CHECK (s != NULL);
  if (s != NULL)
    {
      CHECK_STR_EQ (s->default_action, "SCMP_ACT_ERRNO");
      CHECK (s->has_default_errno_ret);
      CHECK (s->default_errno_ret == 38);
      CHECK_STR_EQ (s->architectures[1], "SCMP_ARCH_X86");
      CHECK_STR_EQ (s->flags[0], "SECCOMP_FILTER_FLAG_LOG");
      CHECK_STR_EQ (s->listener_path, "/run/agent/seccomp.sock");
      CHECK_STR_EQ (s->listener_metadata, "agent-1");
      CHECK (s->n_syscalls == 3);
      CHECK_STR_EQ (s->syscalls[0].names[1], "write");
      CHECK (!s->syscalls[0].has_errno_ret);
      CHECK (s->syscalls[1].n_args == 2);
      CHECK (s->syscalls[1].args[0].value == 4294967295u);
      CHECK_STR_EQ (s->syscalls[1].args[0].op, "SCMP_CMP_EQ");
      CHECK (s->syscalls[1].args[1].index == 5);
      CHECK (s->syscalls[1].args[1].value == UINT64_MAX);
      CHECK (s->syscalls[1].args[1].value_two == 16);
      CHECK (s->syscalls[2].has_errno_ret);
      CHECK (s->syscalls[2].errno_ret == 1);
    }

  CHECK_STR_EQ (l->rootfs_propagation, "rslave");
  CHECK (l->rootfs_propagation_flags == (MS_SLAVE | MS_REC));
  CHECK (ar_strv_len (l->masked_paths) == 2);
  CHECK_STR_EQ (l->readonly_paths[0], "/proc/sys");
  CHECK_STR_EQ (l->mount_label, "system_u:object_r:container_file_t:s0");
  CHECK (l->personality != NULL);
  CHECK_STR_EQ (l->personality->domain, "LINUX32");
  CHECK (l->has_intel_rdt);
  CHECK (l->has_net_devices);
  CHECK (l->has_memory_policy);
}

static void
test_full_config_round (void)
{
  cleanup_config struct ar_config *c = NULL;
  cleanup_error ar_error_t err = NULL;
  cleanup_free char *msg = NULL;
  int ret;

  ret = parse_text (full_config, &c, &err);
  msg = ar_error_format (err);
  CHECK (ret == 0);
  if (ret != 0)
    {
      fprintf (stderr, "unexpected error: %s\n", msg);
      return;
    }

  CHECK_STR_EQ (c->oci_version, "1.2.0");
  CHECK_STR_EQ (c->root.path, "rootfs");
  CHECK (c->root.readonly);
  CHECK_STR_EQ (c->hostname, "agent-box");
  CHECK_STR_EQ (c->domainname, "example.test");
  CHECK (c->n_annotations == 2);
  CHECK_STR_EQ (c->annotations[0].key, "io.agentrun.policy");
  CHECK_STR_EQ (c->annotations[0].value, "strict");
  CHECK_STR_EQ (c->raw_json, full_config);

  CHECK (c->process != NULL);
  if (c->process != NULL)
    check_full_process (c->process);
  check_full_mounts (c);
  check_full_hooks (c);
  check_full_linux (&c->linux_config);
}

static void
test_minimal_config_defaults (void)
{
  static const char text[] = "{\"ociVersion\": \"1.0.2\", \"root\": {\"path\": \"/abs/rootfs\"}}";
  cleanup_config struct ar_config *c = NULL;
  cleanup_error ar_error_t err = NULL;

  CHECK (parse_text (text, &c, &err) == 0);
  if (c == NULL)
    return;
  CHECK (c->process == NULL);
  CHECK (!c->root.readonly);
  CHECK (c->hostname == NULL);
  CHECK (c->n_mounts == 0);
  CHECK (c->linux_config.seccomp == NULL);
  CHECK (c->linux_config.rootfs_propagation_flags == 0);
  for (int i = 0; i < AR_NS_COUNT; i++)
    CHECK (!c->linux_config.namespaces[i].present);
  CHECK (!c->linux_config.has_intel_rdt);
}

static void
test_process_defaults (void)
{
  cleanup_config struct ar_config *c = NULL;
  cleanup_error ar_error_t err = NULL;

  CHECK (parse_text (base_config, &c, &err) == 0);
  if (c == NULL || c->process == NULL)
    return;
  CHECK (!c->process->terminal);
  CHECK (c->process->user.uid == 0);
  CHECK (!c->process->user.has_umask);
  CHECK (c->process->env != NULL);
  CHECK (c->process->env[0] == NULL);
  CHECK (c->process->capabilities == NULL);
  CHECK (!c->process->has_oom_score_adj);
  CHECK (c->process->io_priority == NULL);
  CHECK (c->process->scheduler == NULL);
  CHECK (c->process->exec_cpu_affinity_final == NULL);
}

static void
test_console_size_needs_terminal (void)
{
  static const char text[] = "{\"ociVersion\": \"1.2.0\", \"root\": {\"path\": \"r\"}, \"process\": {\"args\": "
                             "[\"sh\"], \"cwd\": \"/\", \"consoleSize\": {\"height\": 40, \"width\": 100}}}";
  cleanup_config struct ar_config *c = NULL;
  cleanup_error ar_error_t err = NULL;

  CHECK (parse_text (text, &c, &err) == 0);
  if (c == NULL)
    return;
  CHECK (!c->process->terminal);
  CHECK (!c->process->has_console_size);
}

/* podman --privileged writes fileMode as stat(2) reports it, with the
 * file type: 8630 is S_IFCHR | 0666. */
static void
test_device_file_mode_with_file_type (void)
{
  static const char text[] = "{\"ociVersion\": \"1.2.0\", \"root\": {\"path\": \"r\"}, \"linux\": {\"devices\": ["
                             "{\"type\": \"c\", \"path\": \"/dev/a\", \"major\": 1, \"minor\": 3, \"fileMode\": 8630},"
                             "{\"type\": \"b\", \"path\": \"/dev/b\", \"major\": 7, \"minor\": 0, \"fileMode\": 25008},"
                             "{\"type\": \"p\", \"path\": \"/dev/c\", \"fileMode\": 384}]}}";
  cleanup_config struct ar_config *c = NULL;
  cleanup_error ar_error_t err = NULL;

  CHECK (parse_text (text, &c, &err) == 0);
  if (c == NULL)
    return;
  CHECK (c->linux_config.n_devices == 3);
  CHECK (c->linux_config.devices[0].has_file_mode && c->linux_config.devices[0].file_mode == 0666);
  CHECK (c->linux_config.devices[1].file_mode == 0660);
  CHECK (c->linux_config.devices[2].file_mode == 0600);
}

static void
test_null_members_are_absent (void)
{
  static const char text[] = "{\"ociVersion\": \"1.2.0\", \"root\": {\"path\": \"rootfs\"}, \"process\": null,"
                             " \"hostname\": null, \"linux\": {\"seccomp\": null, \"namespaces\": null}}";
  cleanup_config struct ar_config *c = NULL;
  cleanup_error ar_error_t err = NULL;

  CHECK (parse_text (text, &c, &err) == 0);
  if (c == NULL)
    return;
  CHECK (c->process == NULL);
  CHECK (c->hostname == NULL);
  CHECK (c->linux_config.seccomp == NULL);
}

struct invalid_case
{
  const char *patch; /* merged into base_config */
  const char *message;
};

/* Each patch breaks one value; the error must name its JSON path. */
static const struct invalid_case invalid_cases[] = {
  /* wrong JSON types */
  { "{\"ociVersion\": 1}", "config.json: ociVersion: expected a string, got an integer" },
  { "{\"process\": []}", "config.json: process: expected an object, got an array" },
  { "{\"process\": {\"terminal\": \"yes\"}}", "config.json: process.terminal: expected a boolean, got a string" },
  { "{\"process\": {\"args\": [\"sh\", 3]}}", "config.json: process.args[1]: expected a string, got an integer" },
  { "{\"process\": {\"user\": {\"uid\": 1.5, \"gid\": 0}}}",
    "config.json: process.user.uid: expected an integer, got a number with a fraction or exponent" },
  { "{\"mounts\": {}}", "config.json: mounts: expected an array, got an object" },
  { "{\"mounts\": [\"/proc\"]}", "config.json: mounts[0]: expected an object, got a string" },
  { "{\"annotations\": {\"a\": \"x\", \"b.c\": 1}}",
    "config.json: annotations[\"b.c\"]: expected a string, got an integer" },
  { "{\"linux\": {\"sysctl\": {\"net.core.somaxconn\": 256}}}",
    "config.json: linux.sysctl[\"net.core.somaxconn\"]: expected a string, got an integer" },
  { "{\"linux\": {\"intelRdt\": true}}", "config.json: linux.intelRdt: expected an object, got a boolean" },
  { "{\"process\": {\"args\": [\"sh\"], \"cwd\": \"/\", \"oomScoreAdj\": 9223372036854775808}}",
    "config.json: process.oomScoreAdj: 9223372036854775808 is out of range, expected -1000 to 1000" },
  { "{\"hostname\": 18446744073709551615}", "config.json: hostname: expected a string, got an integer" },

  /* missing required fields */
  { "{\"ociVersion\": null}", "config.json: ociVersion: required field is missing" },
  { "{\"root\": null}", "config.json: root: required field is missing" },
  { "{\"root\": {\"path\": null, \"readonly\": true}}", "config.json: root.path: required field is missing" },
  { "{\"process\": {\"args\": null}}", "config.json: process.args: required field is missing" },
  { "{\"process\": {\"cwd\": null}}", "config.json: process.cwd: required field is missing" },
  { "{\"process\": {\"user\": {\"uid\": 0}}}", "config.json: process.user.gid: required field is missing" },
  { "{\"process\": {\"consoleSize\": {\"height\": 1}}}",
    "config.json: process.consoleSize.width: required field is missing" },
  { "{\"process\": {\"rlimits\": [{\"type\": \"RLIMIT_CPU\", \"soft\": 1}]}}",
    "config.json: process.rlimits[0].hard: required field is missing" },
  { "{\"process\": {\"ioPriority\": {\"priority\": 1}}}",
    "config.json: process.ioPriority.class: required field is missing" },
  { "{\"process\": {\"scheduler\": {\"nice\": 1}}}", "config.json: process.scheduler.policy: required field is missing" },
  { "{\"mounts\": [{\"source\": \"proc\"}]}", "config.json: mounts[0].destination: required field is missing" },
  { "{\"mounts\": [{\"destination\": \"/a\", \"uidMappings\": [{\"containerID\": 0, \"hostID\": 1, \"size\": 1}]}]}",
    "config.json: mounts[0].gidMappings: required field is missing" },
  { "{\"hooks\": {\"poststop\": [{\"args\": [\"x\"]}]}}", "config.json: hooks.poststop[0].path: required field is missing" },
  { "{\"linux\": {\"namespaces\": [{\"path\": \"/proc/1/ns/pid\"}]}}",
    "config.json: linux.namespaces[0].type: required field is missing" },
  { "{\"linux\": {\"uidMappings\": [{\"containerID\": 0, \"size\": 1}]}}",
    "config.json: linux.uidMappings[0].hostID: required field is missing" },
  { "{\"linux\": {\"devices\": [{\"type\": \"c\", \"path\": \"/dev/x\", \"major\": 1}]}}",
    "config.json: linux.devices[0].minor: required field is missing" },
  { "{\"linux\": {\"seccomp\": {\"syscalls\": []}}}", "config.json: linux.seccomp.defaultAction: required field is missing" },
  { "{\"linux\": {\"seccomp\": {\"defaultAction\": \"SCMP_ACT_ALLOW\", \"syscalls\": [{\"action\": \"SCMP_ACT_LOG\"}]}}}",
    "config.json: linux.seccomp.syscalls[0].names: required field is missing" },
  { "{\"linux\": {\"seccomp\": {\"defaultAction\": \"SCMP_ACT_ALLOW\", \"syscalls\": [{\"names\": [\"read\"], "
    "\"action\": \"SCMP_ACT_LOG\", \"args\": [{\"index\": 0, \"value\": 1}]}]}}}",
    "config.json: linux.seccomp.syscalls[0].args[0].op: required field is missing" },
  { "{\"linux\": {\"personality\": {\"flags\": []}}}", "config.json: linux.personality.domain: required field is missing" },

  /* invalid values */
  { "{\"process\": {\"args\": []}}", "config.json: process.args: must contain at least the program to run" },
  { "{\"process\": {\"args\": [\"\"]}}", "config.json: process.args: the program name (first entry) is empty" },
  { "{\"process\": {\"cwd\": \"work\"}}", "config.json: process.cwd: `work` is not an absolute path" },
  { "{\"process\": {\"env\": [\"A=1\", \"NOVALUE\"]}}",
    "config.json: process.env[1]: `NOVALUE` is not of the form NAME=VALUE" },
  { "{\"process\": {\"env\": [\"=x\"]}}", "config.json: process.env[0]: `=x` is not of the form NAME=VALUE" },
  { "{\"process\": {\"user\": {\"uid\": -1, \"gid\": 0}}}",
    "config.json: process.user.uid: -1 is out of range, expected 0 to 4294967294" },
  { "{\"process\": {\"user\": {\"uid\": 0, \"gid\": 0, \"umask\": 512}}}",
    "config.json: process.user.umask: 512 is out of range, expected 0 to 511" },
  { "{\"process\": {\"user\": {\"uid\": 0, \"gid\": 0, \"additionalGids\": [1, -2]}}}",
    "config.json: process.user.additionalGids[1]: -2 is out of range" },
  { "{\"process\": {\"consoleSize\": {\"height\": 70000, \"width\": 80}}}",
    "config.json: process.consoleSize.height: 70000 is out of range, expected 0 to 65535" },
  { "{\"process\": {\"capabilities\": {\"bounding\": [\"CAP_CHOWN\", \"CAP_FOO\"]}}}",
    "config.json: process.capabilities.bounding[1]: unknown capability `CAP_FOO`" },
  { "{\"process\": {\"capabilities\": {\"ambient\": [\"cap_chown\"]}}}",
    "config.json: process.capabilities.ambient[0]: unknown capability `cap_chown`" },
  { "{\"process\": {\"capabilities\": {\"effective\": [\"12\"]}}}",
    "config.json: process.capabilities.effective[0]: unknown capability `12`" },
  { "{\"process\": {\"rlimits\": [{\"type\": \"RLIMIT_NOFILE\", \"soft\": 1, \"hard\": 1}, "
    "{\"type\": \"RLIMIT_FOO\", \"soft\": 1, \"hard\": 1}]}}",
    "config.json: process.rlimits[1].type: unknown rlimit `RLIMIT_FOO`; use one of RLIMIT_CPU, RLIMIT_FSIZE, "
    "RLIMIT_DATA, RLIMIT_STACK, RLIMIT_CORE, RLIMIT_RSS, RLIMIT_NPROC, RLIMIT_NOFILE, RLIMIT_MEMLOCK, RLIMIT_AS, "
    "RLIMIT_LOCKS, RLIMIT_SIGPENDING, RLIMIT_MSGQUEUE, RLIMIT_NICE, RLIMIT_RTPRIO, RLIMIT_RTTIME" },
  { "{\"process\": {\"rlimits\": [{\"type\": \"RLIMIT_NOFILE\", \"soft\": 1, \"hard\": 1}, "
    "{\"type\": \"RLIMIT_NPROC\", \"soft\": 1, \"hard\": 1}, {\"type\": \"RLIMIT_NOFILE\", \"soft\": 2, \"hard\": 2}]}}",
    "config.json: process.rlimits[2].type: duplicate rlimit `RLIMIT_NOFILE`, already set by process.rlimits[0]" },
  { "{\"process\": {\"rlimits\": [{\"type\": \"RLIMIT_NOFILE\", \"soft\": 10, \"hard\": 5}]}}",
    "config.json: process.rlimits[0].soft: 10 is above the hard limit 5" },
  { "{\"process\": {\"rlimits\": [{\"type\": \"RLIMIT_NOFILE\", \"soft\": -1, \"hard\": 5}]}}",
    "config.json: process.rlimits[0].soft: expected a non-negative integer, got -1" },
  { "{\"process\": {\"oomScoreAdj\": 1001}}", "config.json: process.oomScoreAdj: 1001 is out of range, expected -1000 to 1000" },
  { "{\"process\": {\"oomScoreAdj\": -1001}}", "config.json: process.oomScoreAdj: -1001 is out of range" },
  { "{\"process\": {\"ioPriority\": {\"class\": \"IOPRIO_CLASS_NONE\"}}}",
    "config.json: process.ioPriority.class: unknown I/O priority class `IOPRIO_CLASS_NONE`; use one of "
    "IOPRIO_CLASS_RT, IOPRIO_CLASS_BE, IOPRIO_CLASS_IDLE" },
  { "{\"process\": {\"ioPriority\": {\"class\": \"IOPRIO_CLASS_RT\", \"priority\": 8}}}",
    "config.json: process.ioPriority.priority: 8 is out of range, expected 0 to 7" },
  { "{\"process\": {\"scheduler\": {\"policy\": \"SCHED_FAST\"}}}",
    "config.json: process.scheduler.policy: unknown scheduling policy `SCHED_FAST`; use one of SCHED_OTHER, "
    "SCHED_FIFO, SCHED_RR, SCHED_BATCH, SCHED_ISO, SCHED_IDLE, SCHED_DEADLINE" },
  { "{\"process\": {\"scheduler\": {\"policy\": \"SCHED_RR\", \"flags\": [\"SCHED_FLAG_RECLAIM\", \"SCHED_FLAG_X\"]}}}",
    "config.json: process.scheduler.flags[1]: unknown scheduler flag `SCHED_FLAG_X`" },
  { "{\"process\": {\"scheduler\": {\"policy\": \"SCHED_OTHER\", \"nice\": 20}}}",
    "config.json: process.scheduler.nice: 20 is out of range, expected -20 to 19" },
  { "{\"process\": {\"execCPUAffinity\": {\"initial\": \"3-1\"}}}",
    "config.json: process.execCPUAffinity.initial: invalid CPU list `3-1`" },
  { "{\"process\": {\"execCPUAffinity\": {\"final\": \"0,,2\"}}}",
    "config.json: process.execCPUAffinity.final: invalid CPU list `0,,2`" },
  { "{\"root\": {\"path\": \"\"}}", "config.json: root.path: is empty" },
  { "{\"hostname\": \"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\"}",
    "config.json: hostname: `aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa` is longer than 64 bytes" },
  { "{\"mounts\": [{\"destination\": \"/ok\"}, {\"destination\": \"relative\"}]}",
    "config.json: mounts[1].destination: `relative` is not an absolute path" },
  { "{\"mounts\": [{\"destination\": \"/a\", \"options\": [\"ro\", \"\"]}]}",
    "config.json: mounts[0].options[1]: empty mount option" },
  { "{\"mounts\": [{\"destination\": \"/a\", \"options\": [\"rbind\", \"idmap\"]}]}",
    "config.json: mounts[0].options: idmap needs uidMappings and gidMappings on the mount, or a user namespace" },
  { "{\"hooks\": {\"createRuntime\": [{\"path\": \"hook\"}]}}",
    "config.json: hooks.createRuntime[0].path: `hook` is not an absolute path" },
  { "{\"hooks\": {\"poststart\": [{\"path\": \"/h\", \"timeout\": 0}]}}",
    "config.json: hooks.poststart[0].timeout: 0 seconds is not greater than zero" },
  { "{\"hooks\": {\"prestart\": {}}}", "config.json: hooks.prestart: expected an array, got an object" },
  { "{\"linux\": {\"namespaces\": [{\"type\": \"pid\"}, {\"type\": \"net\"}]}}",
    "config.json: linux.namespaces[1].type: unknown namespace type `net`; use one of pid, network, mount, ipc, "
    "uts, user, cgroup, time" },
  { "{\"linux\": {\"namespaces\": [{\"type\": \"pid\"}, {\"type\": \"ipc\"}, {\"type\": \"pid\"}]}}",
    "config.json: linux.namespaces[2].type: duplicate namespace `pid`, already listed at linux.namespaces[0]" },
  { "{\"linux\": {\"namespaces\": [{\"type\": \"network\", \"path\": \"run/netns/x\"}]}}",
    "config.json: linux.namespaces[0].path: `run/netns/x` is not an absolute path" },
  { "{\"linux\": {\"uidMappings\": [{\"containerID\": 0, \"hostID\": 1000, \"size\": 0}]}}",
    "config.json: linux.uidMappings[0].size: must be at least 1" },
  { "{\"linux\": {\"gidMappings\": [{\"containerID\": 0, \"hostID\": 4294967295, \"size\": 1}]}}",
    "config.json: linux.gidMappings[0].size: the range passes the largest id" },
  { "{\"linux\": {\"timeOffsets\": {\"realtime\": {\"secs\": 1}}}}",
    "config.json: linux.timeOffsets.realtime: unknown clock" },
  { "{\"linux\": {\"timeOffsets\": {\"boottime\": {\"nanosecs\": 1000000000}}}}",
    "config.json: linux.timeOffsets.boottime.nanosecs: 1000000000 is out of range, expected 0 to 999999999" },
  { "{\"linux\": {\"devices\": [{\"type\": \"x\", \"path\": \"/dev/x\"}]}}",
    "config.json: linux.devices[0].type: unknown device type `x`; use c, b, u or p" },
  { "{\"linux\": {\"devices\": [{\"type\": \"p\", \"path\": \"dev/x\"}]}}",
    "config.json: linux.devices[0].path: `dev/x` is not an absolute path" },
  { "{\"linux\": {\"devices\": [{\"type\": \"b\", \"path\": \"/dev/sda\", \"major\": 8, \"minor\": -1}]}}",
    "config.json: linux.devices[0].minor: -1 is out of range" },
  { "{\"linux\": {\"devices\": [{\"type\": \"b\", \"path\": \"/dev/x\", \"major\": 1, \"minor\": 3, "
    "\"fileMode\": 8630}]}}",
    "config.json: linux.devices[0].fileMode: 8630 has bits beyond 07777 (decimal 4095) that are not the file "
    "type of a `b` device (24576)" },
  { "{\"linux\": {\"devices\": [{\"type\": \"c\", \"path\": \"/dev/x\", \"major\": 1, \"minor\": 3, "
    "\"fileMode\": 33188}]}}",
    "config.json: linux.devices[0].fileMode: 33188 has bits beyond 07777" },
  { "{\"linux\": {\"seccomp\": {\"defaultAction\": \"SCMP_ACT_DENY\"}}}",
    "config.json: linux.seccomp.defaultAction: unknown seccomp action `SCMP_ACT_DENY`; use one of SCMP_ACT_KILL" },
  { "{\"linux\": {\"seccomp\": {\"defaultAction\": \"SCMP_ACT_ALLOW\", \"defaultErrnoRet\": 1}}}",
    "config.json: linux.seccomp.defaultErrnoRet: SCMP_ACT_ALLOW takes no errno value" },
  { "{\"linux\": {\"seccomp\": {\"defaultAction\": \"SCMP_ACT_ALLOW\", \"architectures\": [\"SCMP_ARCH_Z80\"]}}}",
    "config.json: linux.seccomp.architectures[0]: unknown seccomp architecture `SCMP_ARCH_Z80`" },
  { "{\"linux\": {\"seccomp\": {\"defaultAction\": \"SCMP_ACT_ALLOW\", \"flags\": [\"SECCOMP_FILTER_FLAG_NEW\"]}}}",
    "config.json: linux.seccomp.flags[0]: unknown seccomp flag `SECCOMP_FILTER_FLAG_NEW`" },
  { "{\"linux\": {\"seccomp\": {\"defaultAction\": \"SCMP_ACT_ALLOW\", \"listenerMetadata\": \"x\"}}}",
    "config.json: linux.seccomp.listenerMetadata: is set without listenerPath" },
  { "{\"linux\": {\"seccomp\": {\"defaultAction\": \"SCMP_ACT_ALLOW\", \"syscalls\": [{\"names\": [], "
    "\"action\": \"SCMP_ACT_LOG\"}]}}}",
    "config.json: linux.seccomp.syscalls[0].names: must contain at least one syscall name" },
  { "{\"linux\": {\"seccomp\": {\"defaultAction\": \"SCMP_ACT_ALLOW\", \"syscalls\": [{\"names\": [\"read\"], "
    "\"action\": \"SCMP_ACT_KILL\", \"errnoRet\": 1}]}}}",
    "config.json: linux.seccomp.syscalls[0].errnoRet: SCMP_ACT_KILL takes no errno value" },
  { "{\"linux\": {\"seccomp\": {\"defaultAction\": \"SCMP_ACT_ALLOW\", \"syscalls\": [{\"names\": [\"read\"], "
    "\"action\": \"SCMP_ACT_LOG\", \"args\": [{\"index\": 6, \"value\": 1, \"op\": \"SCMP_CMP_EQ\"}]}]}}}",
    "config.json: linux.seccomp.syscalls[0].args[0].index: 6 is out of range, expected 0 to 5" },
  { "{\"linux\": {\"seccomp\": {\"defaultAction\": \"SCMP_ACT_ALLOW\", \"syscalls\": [{\"names\": [\"read\"], "
    "\"action\": \"SCMP_ACT_LOG\", \"args\": [{\"index\": 0, \"value\": 1, \"op\": \"SCMP_CMP_LIKE\"}]}]}}}",
    "config.json: linux.seccomp.syscalls[0].args[0].op: unknown seccomp operator `SCMP_CMP_LIKE`" },
  { "{\"linux\": {\"rootfsPropagation\": \"rshared2\"}}",
    "config.json: linux.rootfsPropagation: unknown propagation `rshared2`; use one of shared, slave, private, "
    "unbindable, rshared, rslave, rprivate, runbindable" },
  { "{\"linux\": {\"maskedPaths\": [\"/proc/kcore\", \"proc/keys\"]}}",
    "config.json: linux.maskedPaths[1]: `proc/keys` is not an absolute path" },
  { "{\"linux\": {\"readonlyPaths\": [\"sys\"]}}", "config.json: linux.readonlyPaths[0]: `sys` is not an absolute path" },
  { "{\"linux\": {\"personality\": {\"domain\": \"LINUX64\"}}}",
    "config.json: linux.personality.domain: unknown personality domain `LINUX64`; use one of LINUX, LINUX32" },
  { "{\"linux\": {\"personality\": {\"domain\": \"LINUX\", \"flags\": [\"ADDR_NO_RANDOMIZE\"]}}}",
    "config.json: linux.personality.flags: unsupported flag `ADDR_NO_RANDOMIZE`" },
};

static void
test_invalid_values_name_path (void)
{
  for (size_t i = 0; i < sizeof (invalid_cases) / sizeof (invalid_cases[0]); i++)
    {
      const struct invalid_case *tc = &invalid_cases[i];
      cleanup_config struct ar_config *c = NULL;
      cleanup_error ar_error_t err = NULL;
      cleanup_free char *text = NULL;
      cleanup_free char *msg = NULL;
      json_auto_t *doc = json_loads (base_config, 0, NULL);
      json_auto_t *patch = json_loads (tc->patch, 0, NULL);
      int ret;

      if (patch == NULL)
        {
          /* Patches with integers above INT64_MAX go through the parser
           * as text: they replace one member of the base document. */
          text = ar_xasprintf ("{\"ociVersion\": \"1.2.0\", \"root\": {\"path\": \"rootfs\"}, %s", tc->patch + 1);
        }
      else
        {
          CHECK (json_object_update_recursive (doc, patch) == 0);
          text = json_dumps (doc, 0);
        }

      ret = parse_text (text, &c, &err);
      CHECK (ret < 0);
      CHECK (c == NULL);
      msg = ar_error_format (err);
      CHECK_CONTAINS (msg, tc->message);
    }
}

static void
test_malformed_json_position (void)
{
  static const char text[] = "{\n  \"ociVersion\": \"1.2.0\",\n  \"root\": {\"path\": \"rootfs\",}\n}\n";
  static const char truncated[] = "{\"ociVersion\": \"1.2.0\"";
  cleanup_config struct ar_config *c = NULL;
  cleanup_error ar_error_t err = NULL;
  cleanup_error ar_error_t err2 = NULL;
  cleanup_error ar_error_t err3 = NULL;
  cleanup_free char *msg = NULL;
  cleanup_free char *msg2 = NULL;
  cleanup_free char *msg3 = NULL;

  CHECK (parse_text (text, &c, &err) == -EINVAL);
  msg = ar_error_format (err);
  CHECK_CONTAINS (msg, "config.json: invalid JSON at line 3, column 29: ");
  CHECK_CONTAINS (msg, "string or '}' expected");

  CHECK (parse_text (truncated, &c, &err2) == -EINVAL);
  msg2 = ar_error_format (err2);
  CHECK_CONTAINS (msg2, "config.json: invalid JSON at line 1, column");

  CHECK (parse_text ("[1, 2]", &c, &err3) == -EINVAL);
  msg3 = ar_error_format (err3);
  CHECK_STR_EQ (msg3, "config.json: expected a JSON object at the top level, got an array");
  CHECK (c == NULL);
}

static void
test_big_integer_after_syntax_error (void)
{
  /* The integer above INT64_MAX forces the second parse; the later syntax
   * error must still carry its own line. */
  static const char text[] = "{\"ociVersion\": \"1.2.0\",\n"
                             " \"process\": {\"rlimits\": [{\"type\": \"RLIMIT_AS\", \"soft\": 18446744073709551615,\n"
                             " \"hard\": 18446744073709551615}]},\n"
                             " \"root\": {\"path\": \"rootfs\"} ]\n";
  static const char too_big[] = "{\"ociVersion\": \"1.2.0\", \"root\": {\"path\": \"rootfs\"},\n"
                                " \"process\": {\"args\": [\"sh\"], \"cwd\": \"/\", \"rlimits\": [{\"type\": "
                                "\"RLIMIT_AS\", \"soft\": 18446744073709551616, \"hard\": 1}]}}";
  cleanup_config struct ar_config *c = NULL;
  cleanup_error ar_error_t err = NULL;
  cleanup_error ar_error_t err2 = NULL;
  cleanup_free char *msg = NULL;
  cleanup_free char *msg2 = NULL;

  CHECK (parse_text (text, &c, &err) < 0);
  msg = ar_error_format (err);
  CHECK_CONTAINS (msg, "config.json: invalid JSON at line 4,");

  CHECK (parse_text (too_big, &c, &err2) < 0);
  msg2 = ar_error_format (err2);
  CHECK_CONTAINS (msg2, "config.json: invalid JSON at line 2,");
  CHECK_CONTAINS (msg2, "too big integer");
}

static void
test_big_integer_in_strings_kept (void)
{
  /* Digits inside strings, escaped quotes included, are left alone. */
  static const char text[] = "{\"ociVersion\": \"1.2.0\", \"root\": {\"path\": \"rootfs\"},"
                             " \"hostname\": \"h\\\"18446744073709551615\","
                             " \"annotations\": {\"n\": \"18446744073709551615\"},"
                             " \"process\": {\"args\": [\"sh\"], \"cwd\": \"/\", \"rlimits\": [{\"type\": "
                             "\"RLIMIT_AS\", \"soft\": 9223372036854775808, \"hard\": 18446744073709551615}]}}";
  cleanup_config struct ar_config *c = NULL;
  cleanup_error ar_error_t err = NULL;

  CHECK (parse_text (text, &c, &err) == 0);
  if (c == NULL)
    return;
  CHECK_STR_EQ (c->hostname, "h\"18446744073709551615");
  CHECK_STR_EQ (c->annotations[0].value, "18446744073709551615");
  CHECK (c->process->rlimits[0].soft == UINT64_C (9223372036854775808));
  CHECK (c->process->rlimits[0].hard == UINT64_MAX);
}

static void
test_unknown_keys_ignored (void)
{
  static const char text[] = "{\"ociVersion\": \"1.2.0\", \"root\": {\"path\": \"rootfs\", \"x-extra\": 1},"
                             " \"org.example.extension\": {\"a\": [1, 2]},"
                             " \"process\": {\"args\": [\"sh\"], \"cwd\": \"/\", \"commandLine\": \"sh\","
                             " \"user\": {\"uid\": 0, \"gid\": 0, \"sid\": \"x\"}},"
                             " \"linux\": {\"futureField\": true, \"devices\": [{\"type\": \"p\", \"path\": \"/p\","
                             " \"extra\": null}]}, \"windows\": {\"layerFolders\": []}}";
  cleanup_config struct ar_config *c = NULL;
  cleanup_error ar_error_t err = NULL;

  CHECK (parse_text (text, &c, &err) == 0);
  CHECK (c != NULL);
}

struct mount_case
{
  const char *options[8];
  unsigned long flags;
  unsigned long clear_flags;
  unsigned long propagation;
  uint64_t attr_set;
  uint64_t attr_clear;
  bool bind, recursive_bind, idmap, recursive_idmap, tmpcopyup, recursive_attrs;
  const char *data;
};

static const struct mount_case mount_cases[] = {
  { { NULL }, 0, 0, 0, 0, 0, false, false, false, false, false, false, NULL },
  { { "defaults", NULL }, 0, 0, 0, 0, 0, false, false, false, false, false, false, NULL },
  { { "ro", "nosuid", "nodev", "noexec", "sync", "dirsync", "remount", NULL },
    MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC | MS_SYNCHRONOUS | MS_DIRSYNC | MS_REMOUNT, 0, 0, 0, 0,
    false, false, false, false, false, false, NULL },
  { { "rw", "suid", "dev", "exec", "async", NULL }, 0, MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC | MS_SYNCHRONOUS,
    0, 0, 0, false, false, false, false, false, false, NULL },
  { { "ro", "rw", NULL }, 0, MS_RDONLY, 0, 0, 0, false, false, false, false, false, false, NULL },
  { { "rw", "ro", NULL }, MS_RDONLY, 0, 0, 0, 0, false, false, false, false, false, false, NULL },
  { { "mand", "noatime", "nodiratime", "relatime", "strictatime", "nosymfollow", "silent", NULL },
    MS_MANDLOCK | MS_NOATIME | MS_NODIRATIME | MS_RELATIME | MS_STRICTATIME | MS_NOSYMFOLLOW | MS_SILENT, 0, 0, 0, 0,
    false, false, false, false, false, false, NULL },
  { { "nomand", "atime", "diratime", "norelatime", "nostrictatime", "symfollow", "loud", NULL }, 0,
    MS_MANDLOCK | MS_NOATIME | MS_NODIRATIME | MS_RELATIME | MS_STRICTATIME | MS_NOSYMFOLLOW | MS_SILENT, 0, 0, 0,
    false, false, false, false, false, false, NULL },
  { { "iversion", "lazytime", NULL }, MS_I_VERSION | MS_LAZYTIME, 0, 0, 0, 0, false, false, false, false, false,
    false, NULL },
  { { "noiversion", "nolazytime", NULL }, 0, MS_I_VERSION | MS_LAZYTIME, 0, 0, 0, false, false, false, false, false,
    false, NULL },
  { { "bind", NULL }, MS_BIND, 0, 0, 0, 0, true, false, false, false, false, false, NULL },
  { { "rbind", NULL }, MS_BIND | MS_REC, 0, 0, 0, 0, true, true, false, false, false, false, NULL },
  { { "private", NULL }, 0, 0, MS_PRIVATE, 0, 0, false, false, false, false, false, false, NULL },
  { { "rprivate", NULL }, 0, 0, MS_PRIVATE | MS_REC, 0, 0, false, false, false, false, false, false, NULL },
  { { "shared", NULL }, 0, 0, MS_SHARED, 0, 0, false, false, false, false, false, false, NULL },
  { { "rshared", NULL }, 0, 0, MS_SHARED | MS_REC, 0, 0, false, false, false, false, false, false, NULL },
  { { "slave", NULL }, 0, 0, MS_SLAVE, 0, 0, false, false, false, false, false, false, NULL },
  { { "rslave", NULL }, 0, 0, MS_SLAVE | MS_REC, 0, 0, false, false, false, false, false, false, NULL },
  { { "unbindable", NULL }, 0, 0, MS_UNBINDABLE, 0, 0, false, false, false, false, false, false, NULL },
  { { "runbindable", NULL }, 0, 0, MS_UNBINDABLE | MS_REC, 0, 0, false, false, false, false, false, false, NULL },
  { { "rshared", "rslave", NULL }, 0, 0, MS_SLAVE | MS_REC, 0, 0, false, false, false, false, false, false, NULL },
  { { "rro", "rnosuid", "rnodev", "rnoexec", "rnodiratime", "rnosymfollow", NULL }, 0, 0, 0,
    MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC | MOUNT_ATTR_NODIRATIME
        | MOUNT_ATTR_NOSYMFOLLOW,
    0, false, false, false, false, false, true, NULL },
  { { "rrw", "rsuid", "rdev", "rexec", "rdiratime", "rsymfollow", NULL }, 0, 0, 0, 0,
    MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC | MOUNT_ATTR_NODIRATIME
        | MOUNT_ATTR_NOSYMFOLLOW,
    false, false, false, false, false, true, NULL },
  { { "rro", "rrw", NULL }, 0, 0, 0, 0, MOUNT_ATTR_RDONLY, false, false, false, false, false, true, NULL },
  { { "rrw", "rro", NULL }, 0, 0, 0, MOUNT_ATTR_RDONLY, 0, false, false, false, false, false, true, NULL },
  { { "rnoatime", NULL }, 0, 0, 0, MOUNT_ATTR_NOATIME, MOUNT_ATTR__ATIME, false, false, false, false, false, true,
    NULL },
  { { "rstrictatime", NULL }, 0, 0, 0, MOUNT_ATTR_STRICTATIME, MOUNT_ATTR__ATIME, false, false, false, false, false,
    true, NULL },
  { { "rnorelatime", NULL }, 0, 0, 0, MOUNT_ATTR_STRICTATIME, MOUNT_ATTR__ATIME, false, false, false, false, false,
    true, NULL },
  { { "rnoatime", "rrelatime", NULL }, 0, 0, 0, MOUNT_ATTR_RELATIME, MOUNT_ATTR__ATIME, false, false, false, false,
    false, true, NULL },
  { { "rnoatime", "ratime", NULL }, 0, 0, 0, MOUNT_ATTR_RELATIME, MOUNT_ATTR__ATIME, false, false, false, false,
    false, true, NULL },
  { { "rstrictatime", "rnostrictatime", NULL }, 0, 0, 0, MOUNT_ATTR_RELATIME, MOUNT_ATTR__ATIME, false, false, false,
    false, false, true, NULL },
  { { "idmap", NULL }, 0, 0, 0, 0, 0, false, false, true, false, false, false, NULL },
  { { "ridmap", NULL }, 0, 0, 0, 0, 0, false, false, true, true, false, false, NULL },
  { { "tmpcopyup", NULL }, 0, 0, 0, 0, 0, false, false, false, false, true, false, NULL },
  { { "mode=755", "nosuid", "size=65536k", "uid=0", NULL }, MS_NOSUID, 0, 0, 0, 0, false, false, false, false, false,
    false, "mode=755,size=65536k,uid=0" },
  { { "newinstance", "ptmxmode=0666", NULL }, 0, 0, 0, 0, 0, false, false, false, false, false, false,
    "newinstance,ptmxmode=0666" },
  { { "rbind", "ro", "rro", "rprivate", "lowerdir=/a:/b", NULL }, MS_BIND | MS_REC | MS_RDONLY, 0,
    MS_PRIVATE | MS_REC, MOUNT_ATTR_RDONLY, 0, true, true, false, false, false, true, "lowerdir=/a:/b" },
};

static void
test_mount_option_table (void)
{
  for (size_t i = 0; i < sizeof (mount_cases) / sizeof (mount_cases[0]); i++)
    {
      const struct mount_case *tc = &mount_cases[i];
      struct ar_mount mount;
      cleanup_error ar_error_t err = NULL;

      memset (&mount, 0, sizeof (mount));
      mount.options = (char **) tc->options;
      mount.n_options = ar_strv_len ((char **) tc->options);

      CHECK (ar_mount_parse_options (&mount, "mounts[0]", &err) == 0);
      if (mount.flags != tc->flags || mount.clear_flags != tc->clear_flags || mount.propagation != tc->propagation
          || mount.attr_set != tc->attr_set || mount.attr_clear != tc->attr_clear)
        fprintf (stderr, "mount case %zu (%s): flags %#lx clear %#lx propagation %#lx attr_set %#llx attr_clear %#llx\n",
                 i, tc->options[0] ? tc->options[0] : "none", mount.flags, mount.clear_flags, mount.propagation,
                 (unsigned long long) mount.attr_set, (unsigned long long) mount.attr_clear);
      CHECK (mount.flags == tc->flags);
      CHECK (mount.clear_flags == tc->clear_flags);
      CHECK (mount.propagation == tc->propagation);
      CHECK (mount.attr_set == tc->attr_set);
      CHECK (mount.attr_clear == tc->attr_clear);
      CHECK (mount.bind == tc->bind);
      CHECK (mount.recursive_bind == tc->recursive_bind);
      CHECK (mount.idmap == tc->idmap);
      CHECK (mount.recursive_idmap == tc->recursive_idmap);
      CHECK (mount.tmpcopyup == tc->tmpcopyup);
      CHECK (mount.has_recursive_attrs == tc->recursive_attrs);
      if (tc->data == NULL)
        CHECK (mount.data == NULL);
      else
        CHECK_STR_EQ (mount.data, tc->data);

      /* A second call starts over rather than adding to the first. */
      CHECK (ar_mount_parse_options (&mount, "mounts[0]", &err) == 0);
      CHECK (mount.flags == tc->flags);
      if (tc->data != NULL)
        CHECK_STR_EQ (mount.data, tc->data);
      free (mount.data);
    }
}

static void
test_mount_option_error_prefix (void)
{
  char *options[] = { "ro", "", NULL };
  cleanup_error ar_error_t err = NULL;
  cleanup_free char *msg = NULL;
  struct ar_mount mount;

  memset (&mount, 0, sizeof (mount));
  mount.options = options;
  mount.n_options = 2;
  CHECK (ar_mount_parse_options (&mount, "spec.json: mounts[4]", &err) == -EINVAL);
  msg = ar_error_format (err);
  CHECK_STR_EQ (msg, "spec.json: mounts[4].options[1]: empty mount option, remove it");
  free (mount.data);
}

static void
test_mount_mappings_imply_idmap (void)
{
  static const char text[] = "{\"ociVersion\": \"1.2.0\", \"root\": {\"path\": \"rootfs\"}, \"mounts\": ["
                             "{\"destination\": \"/a\", \"source\": \"/b\", \"options\": [\"bind\"],"
                             " \"uidMappings\": [], \"gidMappings\": []},"
                             "{\"destination\": \"/c\", \"options\": [\"ridmap\"]}],"
                             " \"linux\": {\"namespaces\": [{\"type\": \"user\"}]}}";
  cleanup_config struct ar_config *c = NULL;
  cleanup_error ar_error_t err = NULL;

  CHECK (parse_text (text, &c, &err) == 0);
  if (c == NULL)
    return;
  CHECK (c->mounts[0].idmap);
  CHECK (!c->mounts[0].recursive_idmap);
  CHECK (c->mounts[0].uid_mappings != NULL);
  CHECK (c->mounts[0].n_uid_mappings == 0);
  CHECK (c->mounts[1].idmap);
  CHECK (c->mounts[1].recursive_idmap);
}

static void
test_capability_names (void)
{
  static const struct
  {
    const char *name;
    int cap;
  } names[] = {
    { "CAP_CHOWN", CAP_CHOWN },           { "CAP_DAC_OVERRIDE", CAP_DAC_OVERRIDE },
    { "CAP_SETUID", CAP_SETUID },         { "CAP_NET_ADMIN", CAP_NET_ADMIN },
    { "CAP_SYS_ADMIN", CAP_SYS_ADMIN },   { "CAP_SYS_RESOURCE", CAP_SYS_RESOURCE },
    { "CAP_AUDIT_READ", CAP_AUDIT_READ }, { "CAP_PERFMON", CAP_PERFMON },
    { "CAP_BPF", CAP_BPF },               { "CAP_CHECKPOINT_RESTORE", CAP_CHECKPOINT_RESTORE },
  };

  for (size_t i = 0; i < sizeof (names) / sizeof (names[0]); i++)
    {
      cleanup_config struct ar_config *c = NULL;
      cleanup_error ar_error_t err = NULL;
      cleanup_free char *text
          = ar_xasprintf ("{\"ociVersion\": \"1.2.0\", \"root\": {\"path\": \"r\"}, \"process\": {\"args\": [\"sh\"],"
                          " \"cwd\": \"/\", \"capabilities\": {\"bounding\": [\"%s\"], \"effective\": [\"%s\"],"
                          " \"inheritable\": [\"%s\"], \"permitted\": [\"%s\"], \"ambient\": [\"%s\"]}}}",
                          names[i].name, names[i].name, names[i].name, names[i].name, names[i].name);

      CHECK (parse_text (text, &c, &err) == 0);
      if (c == NULL)
        continue;
      CHECK (c->process->capabilities->bounding == cap_bit (names[i].cap));
      CHECK (c->process->capabilities->effective == cap_bit (names[i].cap));
      CHECK (c->process->capabilities->inheritable == cap_bit (names[i].cap));
      CHECK (c->process->capabilities->permitted == cap_bit (names[i].cap));
      CHECK (c->process->capabilities->ambient == cap_bit (names[i].cap));
    }
}

static void
test_capability_empty_sets (void)
{
  static const char text[] = "{\"ociVersion\": \"1.2.0\", \"root\": {\"path\": \"r\"}, \"process\": {\"args\": "
                             "[\"sh\"], \"cwd\": \"/\", \"capabilities\": {}}}";
  cleanup_config struct ar_config *c = NULL;
  cleanup_error ar_error_t err = NULL;

  CHECK (parse_text (text, &c, &err) == 0);
  if (c == NULL)
    return;
  CHECK (c->process->capabilities != NULL);
  CHECK (c->process->capabilities->bounding == 0);
  CHECK (c->process->capabilities->ambient == 0);
}

static void
test_every_rlimit_name (void)
{
  static const struct
  {
    const char *name;
    int resource;
  } rlimits[] = {
    { "RLIMIT_CPU", RLIMIT_CPU },         { "RLIMIT_FSIZE", RLIMIT_FSIZE },     { "RLIMIT_DATA", RLIMIT_DATA },
    { "RLIMIT_STACK", RLIMIT_STACK },     { "RLIMIT_CORE", RLIMIT_CORE },       { "RLIMIT_RSS", RLIMIT_RSS },
    { "RLIMIT_NPROC", RLIMIT_NPROC },     { "RLIMIT_NOFILE", RLIMIT_NOFILE },   { "RLIMIT_MEMLOCK", RLIMIT_MEMLOCK },
    { "RLIMIT_AS", RLIMIT_AS },           { "RLIMIT_LOCKS", RLIMIT_LOCKS },     { "RLIMIT_SIGPENDING", RLIMIT_SIGPENDING },
    { "RLIMIT_MSGQUEUE", RLIMIT_MSGQUEUE }, { "RLIMIT_NICE", RLIMIT_NICE },     { "RLIMIT_RTPRIO", RLIMIT_RTPRIO },
    { "RLIMIT_RTTIME", RLIMIT_RTTIME },
  };
  json_auto_t *doc = json_loads (base_config, 0, NULL);
  json_t *array = json_array ();
  cleanup_config struct ar_config *c = NULL;
  cleanup_error ar_error_t err = NULL;
  cleanup_free char *text = NULL;
  size_t n = sizeof (rlimits) / sizeof (rlimits[0]);

  CHECK (n == RLIMIT_NLIMITS);
  for (size_t i = 0; i < n; i++)
    json_array_append_new (array, json_pack ("{s:s, s:I, s:I}", "type", rlimits[i].name, "soft", (json_int_t) i,
                                             "hard", (json_int_t) (i + 100)));
  json_object_set_new (json_object_get (doc, "process"), "rlimits", array);
  text = json_dumps (doc, 0);

  CHECK (parse_text (text, &c, &err) == 0);
  if (c == NULL)
    return;
  CHECK (c->process->n_rlimits == n);
  for (size_t i = 0; i < n && i < c->process->n_rlimits; i++)
    {
      CHECK (c->process->rlimits[i].resource == rlimits[i].resource);
      CHECK_STR_EQ (c->process->rlimits[i].type, rlimits[i].name);
      CHECK (c->process->rlimits[i].soft == i);
      CHECK (c->process->rlimits[i].hard == i + 100);
    }
}

static void
test_scheduler_and_ioprio_names (void)
{
  static const struct
  {
    const char *policy;
    int value;
  } policies[] = {
    { "SCHED_OTHER", SCHED_OTHER }, { "SCHED_FIFO", SCHED_FIFO }, { "SCHED_RR", SCHED_RR },
    { "SCHED_BATCH", SCHED_BATCH }, { "SCHED_ISO", 4 },          { "SCHED_IDLE", SCHED_IDLE },
    { "SCHED_DEADLINE", SCHED_DEADLINE },
  };
  static const struct
  {
    const char *name;
    int value;
  } classes[] = { { "IOPRIO_CLASS_RT", 1 }, { "IOPRIO_CLASS_BE", 2 }, { "IOPRIO_CLASS_IDLE", 3 } };

  for (size_t i = 0; i < sizeof (policies) / sizeof (policies[0]); i++)
    {
      cleanup_config struct ar_config *c = NULL;
      cleanup_error ar_error_t err = NULL;
      cleanup_free char *text = ar_xasprintf (
          "{\"ociVersion\": \"1.2.0\", \"root\": {\"path\": \"r\"}, \"process\": {\"args\": [\"sh\"], \"cwd\": \"/\","
          " \"scheduler\": {\"policy\": \"%s\", \"flags\": [\"SCHED_FLAG_KEEP_POLICY\", \"SCHED_FLAG_KEEP_PARAMS\","
          " \"SCHED_FLAG_UTIL_CLAMP_MIN\", \"SCHED_FLAG_UTIL_CLAMP_MAX\", \"SCHED_FLAG_DL_OVERRUN\"]},"
          " \"ioPriority\": {\"class\": \"%s\"}}}",
          policies[i].policy, classes[i % 3].name);

      CHECK (parse_text (text, &c, &err) == 0);
      if (c == NULL)
        continue;
      CHECK (c->process->scheduler->policy == policies[i].value);
      CHECK (c->process->scheduler->flags == 0x7c);
      CHECK (c->process->io_priority->ioprio_class == classes[i % 3].value);
      CHECK (c->process->io_priority->priority == 0);
    }
}

static void
test_namespace_and_hook_names (void)
{
  static const char *const ns[] = { "pid", "network", "mount", "ipc", "uts", "user", "cgroup", "time" };
  static const char *const hooks[]
      = { "prestart", "createRuntime", "createContainer", "startContainer", "poststart", "poststop" };

  for (int i = 0; i < AR_NS_COUNT; i++)
    {
      CHECK (ar_namespace_type_from_name (ns[i]) == i);
      CHECK_STR_EQ (ar_namespace_type_name ((enum ar_namespace_type) i), ns[i]);
    }
  CHECK (ar_namespace_type_from_name ("net") == -1);
  CHECK (ar_namespace_type_from_name ("PID") == -1);
  CHECK (ar_namespace_type_name (AR_NS_COUNT) == NULL);

  for (int i = 0; i < AR_HOOK_KIND_COUNT; i++)
    {
      CHECK (ar_hook_kind_from_name (hooks[i]) == i);
      CHECK_STR_EQ (ar_hook_kind_name ((enum ar_hook_kind) i), hooks[i]);
    }
  CHECK (ar_hook_kind_from_name ("poststop ") == -1);
  CHECK (ar_hook_kind_name (AR_HOOK_KIND_COUNT) == NULL);
}

static void
test_resources_call_returns (void)
{
  static const char text[] = "{\"ociVersion\": \"1.2.0\", \"root\": {\"path\": \"rootfs\"},"
                             " \"linux\": {\"resources\": {\"pids\": {\"limit\": 64}}}}";
  cleanup_config struct ar_config *c = NULL;
  cleanup_error ar_error_t err = NULL;
  cleanup_free char *msg = NULL;
  int ret;

  /* Only the hand-over is tested here: the resources parser has its own
   * tests, and may still be a stub that returns ENOSYS. */
  ret = parse_text (text, &c, &err);
  if (ret == 0)
    {
      CHECK (c->linux_config.resources != NULL);
      return;
    }
  msg = ar_error_format (err);
  CHECK (c == NULL);
  CHECK (ar_error_errno (err) == ENOSYS);
  CHECK_CONTAINS (msg, "config.json: ");
}

/* Parses a default spec, dropping linux.resources when the resources
 * parser is still a stub. */
static struct ar_config *
parse_default_spec (bool rootless)
{
  cleanup_free char *spec = ar_config_default_spec (rootless);
  cleanup_error ar_error_t err = NULL;
  cleanup_free char *msg = NULL;
  struct ar_config *c = NULL;

  CHECK (spec != NULL);
  if (spec == NULL)
    return NULL;
  CHECK (spec[strlen (spec) - 1] == '\n');

  if (parse_text (spec, &c, &err) < 0 && ar_error_errno (err) == ENOSYS)
    {
      json_auto_t *doc = json_loads (spec, 0, NULL);
      cleanup_free char *text = NULL;

      ar_error_release (&err);
      json_object_del (json_object_get (doc, "linux"), "resources");
      text = json_dumps (doc, 0);
      parse_text (text, &c, &err);
    }
  msg = ar_error_format (err);
  if (c == NULL)
    fprintf (stderr, "default spec: %s\n", msg);
  return c;
}

static void
check_default_spec_common (const struct ar_config *c)
{
  const struct ar_process *p = c->process;
  uint64_t caps = cap_bit (CAP_AUDIT_WRITE) | cap_bit (CAP_KILL) | cap_bit (CAP_NET_BIND_SERVICE);

  CHECK_STR_EQ (c->oci_version, "1.2.0");
  CHECK_STR_EQ (c->root.path, "rootfs");
  CHECK (p != NULL);
  if (p == NULL)
    return;
  CHECK (p->terminal);
  CHECK (ar_strv_len (p->args) == 1);
  CHECK_STR_EQ (p->args[0], "sh");
  CHECK_STR_EQ (p->cwd, "/");
  CHECK (p->no_new_privileges);
  CHECK (p->capabilities->bounding == caps);
  CHECK (p->capabilities->effective == caps);
  CHECK (p->capabilities->permitted == caps);
  CHECK (p->capabilities->inheritable == 0);
  CHECK (p->capabilities->ambient == 0);
  CHECK (p->n_rlimits == 1);
  CHECK (p->rlimits[0].resource == RLIMIT_NOFILE);
  CHECK (p->rlimits[0].soft == 1024);
  CHECK (p->rlimits[0].hard == 1024);

  CHECK (c->n_mounts >= 6);
  CHECK_STR_EQ (c->mounts[0].destination, "/proc");
  CHECK_STR_EQ (c->mounts[1].destination, "/dev");
  CHECK_STR_EQ (c->mounts[1].data, "mode=755,size=65536k");
  CHECK_STR_EQ (c->mounts[2].destination, "/dev/pts");
  CHECK_STR_EQ (c->mounts[3].destination, "/dev/shm");
  CHECK_STR_EQ (c->mounts[4].destination, "/dev/mqueue");
  CHECK_STR_EQ (c->mounts[5].destination, "/sys");
  CHECK (c->mounts[5].flags & MS_RDONLY);

  CHECK (c->linux_config.namespaces[AR_NS_PID].present);
  CHECK (c->linux_config.namespaces[AR_NS_IPC].present);
  CHECK (c->linux_config.namespaces[AR_NS_UTS].present);
  CHECK (c->linux_config.namespaces[AR_NS_MOUNT].present);
  CHECK (c->linux_config.namespaces[AR_NS_CGROUP].present);
  CHECK (!c->linux_config.namespaces[AR_NS_TIME].present);
  CHECK (ar_strv_len (c->linux_config.masked_paths) > 5);
  CHECK_STR_EQ (c->linux_config.readonly_paths[0], "/proc/bus");
}

static void
test_default_spec_parses (void)
{
  cleanup_config struct ar_config *c = parse_default_spec (false);

  CHECK (c != NULL);
  if (c == NULL)
    return;
  check_default_spec_common (c);
  CHECK (c->linux_config.namespaces[AR_NS_NETWORK].present);
  CHECK (!c->linux_config.namespaces[AR_NS_USER].present);
  CHECK (c->linux_config.uid_mappings == NULL);
  CHECK (c->n_mounts == 7);
  CHECK_STR_EQ (c->mounts[6].destination, "/sys/fs/cgroup");
  CHECK_CONTAINS (c->mounts[2].data, "gid=5");
}

static void
test_default_spec_rootless (void)
{
  cleanup_config struct ar_config *c = parse_default_spec (true);

  CHECK (c != NULL);
  if (c == NULL)
    return;
  check_default_spec_common (c);
  CHECK (!c->linux_config.namespaces[AR_NS_NETWORK].present);
  CHECK (c->linux_config.namespaces[AR_NS_USER].present);
  CHECK (c->linux_config.n_uid_mappings == 1);
  CHECK (c->linux_config.uid_mappings[0].container_id == 0);
  CHECK (c->linux_config.uid_mappings[0].host_id == getuid ());
  CHECK (c->linux_config.uid_mappings[0].size == 1);
  CHECK (c->linux_config.n_gid_mappings == 1);
  CHECK (c->linux_config.gid_mappings[0].host_id == getgid ());
  CHECK (c->linux_config.resources == NULL);
  CHECK (c->mounts[5].bind);
  CHECK (c->mounts[5].recursive_bind);
  CHECK (c->mounts[2].data != NULL && strstr (c->mounts[2].data, "gid=") == NULL);
}

static char *
make_temp_dir (void)
{
  char *dir = ar_xstrdup ("/tmp/ar-config-test-XXXXXX");

  if (mkdtemp (dir) == NULL)
    {
      free (dir);
      return NULL;
    }
  return dir;
}

static void
write_text (const char *path, const char *text)
{
  cleanup_close int fd = open (path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);

  CHECK (fd >= 0);
  CHECK (ar_write_all (fd, text, strlen (text)) == (ssize_t) strlen (text));
}

/* Exit status of the child when it cannot set up its mount namespace. */
#define CHILD_SKIPPED 77

/* Runs in a child with its own mount namespace, where a file bound over
 * /proc/sys/kernel/cap_last_cap makes the kernel look older than libcap. */
static int
parse_caps_with_last_cap_38 (const char *dir)
{
  static const char text[] = "{\"ociVersion\": \"1.2.0\", \"root\": {\"path\": \"r\"}, \"process\": {\"args\": "
                             "[\"sh\"], \"cwd\": \"/\", \"capabilities\": {\"bounding\": [\"CAP_KILL\", "
                             "\"CAP_BPF\", \"CAP_CHECKPOINT_RESTORE\", \"CAP_SYSLOG\"]}}}";
  cleanup_free char *fake = ar_xasprintf ("%s/cap_last_cap", dir);
  cleanup_free char *log_path = ar_xasprintf ("%s/debug.log", dir);
  cleanup_free char *log_text = NULL;
  cleanup_config struct ar_config *c = NULL;
  cleanup_error ar_error_t err = NULL;

  if (unshare (CLONE_NEWNS) < 0 || mount ("none", "/", "none", MS_REC | MS_PRIVATE, NULL) < 0)
    return CHILD_SKIPPED;
  write_text (fake, "38\n");
  if (mount (fake, "/proc/sys/kernel/cap_last_cap", "none", MS_BIND, NULL) < 0)
    return CHILD_SKIPPED;
  CHECK (ar_log_init (log_path, AR_LOG_FORMAT_TEXT, true, &err) == 0);

  CHECK (parse_text (text, &c, &err) == 0);
  if (c != NULL)
    CHECK (c->process->capabilities->bounding == ((UINT64_C (1) << CAP_KILL) | (UINT64_C (1) << CAP_SYSLOG)));

  ar_log_reset ();
  CHECK (ar_read_file (log_path, &log_text, NULL, &err) == 0);
  CHECK_CONTAINS (log_text, "config.json: process.capabilities.bounding[1]: capability `CAP_BPF` is beyond the "
                            "running kernel's last capability 38, skipping it");
  CHECK_CONTAINS (log_text, "bounding[2]: capability `CAP_CHECKPOINT_RESTORE` is beyond");
  return unit_failures == 0 ? 0 : 1;
}

static void
test_capability_beyond_kernel_skipped (void)
{
  cleanup_free char *dir = make_temp_dir ();
  cleanup_free char *fake = NULL;
  cleanup_free char *log_path = NULL;
  int status = 0;
  pid_t pid;

  CHECK (dir != NULL);
  if (dir == NULL)
    return;

  fflush (NULL);
  pid = fork ();
  CHECK (pid >= 0);
  if (pid == 0)
    {
      int code = parse_caps_with_last_cap_38 (dir);

      free (ar_steal_ptr (dir));
      _exit (code);
    }
  CHECK (waitpid (pid, &status, 0) == pid);
  CHECK (WIFEXITED (status));
  if (WIFEXITED (status) && WEXITSTATUS (status) == CHILD_SKIPPED)
    fprintf (stderr, "capability beyond kernel skipped: needs root for a private mount namespace, not run\n");
  else
    CHECK (WIFEXITED (status) && WEXITSTATUS (status) == 0);

  fake = ar_xasprintf ("%s/cap_last_cap", dir);
  log_path = ar_xasprintf ("%s/debug.log", dir);
  unlink (fake);
  unlink (log_path);
  rmdir (dir);
}

static void
test_load_bundle (void)
{
  cleanup_free char *dir = make_temp_dir ();
  cleanup_free char *missing = NULL;
  cleanup_free char *config_path = NULL;
  cleanup_free char *msg1 = NULL, *msg2 = NULL, *msg3 = NULL;
  cleanup_error ar_error_t err1 = NULL, err2 = NULL, err3 = NULL, err4 = NULL;
  cleanup_config struct ar_config *c = NULL;

  CHECK (dir != NULL);
  if (dir == NULL)
    return;
  missing = ar_xasprintf ("%s/nope", dir);
  config_path = ar_xasprintf ("%s/config.json", dir);

  CHECK (ar_config_load_bundle (missing, &c, &err1) == -ENOENT);
  msg1 = ar_error_format (err1);
  CHECK_CONTAINS (msg1, "bundle `");
  CHECK_CONTAINS (msg1, "/nope` not found");

  CHECK (ar_config_load_bundle (dir, &c, &err2) == -ENOENT);
  msg2 = ar_error_format (err2);
  CHECK_CONTAINS (msg2, "config.json not found");
  CHECK (c == NULL);

  write_text (config_path, "{\"ociVersion\": \"1.2.0\", \"root\": {\"path\": \"rootfs\"}, \"hostname\": 5}");
  CHECK (ar_config_load_bundle (dir, &c, &err3) == -EINVAL);
  msg3 = ar_error_format (err3);
  CHECK_CONTAINS (msg3, "/config.json: hostname: expected a string, got an integer");
  CHECK_CONTAINS (msg3, dir);

  write_text (config_path, full_config);
  CHECK (ar_config_load_bundle (dir, &c, &err4) == 0);
  CHECK (c != NULL);
  if (c != NULL)
    CHECK_STR_EQ (c->raw_json, full_config);

  unlink (config_path);
  rmdir (dir);
}

static void
test_process_parse_file (void)
{
  static const char process_json[] = "{\"terminal\": false, \"user\": {\"uid\": 5, \"gid\": 6}, \"args\": "
                                     "[\"/bin/echo\", \"hi\"], \"env\": [\"A=B\"], \"cwd\": \"/tmp\","
                                     " \"capabilities\": {\"bounding\": [\"CAP_KILL\"]}}";
  cleanup_free char *dir = make_temp_dir ();
  cleanup_free char *path = NULL;
  cleanup_free char *msg = NULL;
  cleanup_free char *msg_missing = NULL;
  cleanup_error ar_error_t err = NULL;
  cleanup_error ar_error_t err_missing = NULL;
  struct ar_process *p = NULL;

  CHECK (dir != NULL);
  if (dir == NULL)
    return;
  path = ar_xasprintf ("%s/process.json", dir);

  write_text (path, process_json);
  CHECK (ar_process_parse_file (path, &p, &err) == 0);
  CHECK (p != NULL);
  if (p != NULL)
    {
      CHECK (p->user.uid == 5);
      CHECK (p->user.gid == 6);
      CHECK_STR_EQ (p->args[1], "hi");
      CHECK_STR_EQ (p->cwd, "/tmp");
      CHECK (p->capabilities->bounding == cap_bit (CAP_KILL));
      ar_process_free (p);
      p = NULL;
    }

  write_text (path, "{\"args\": [\"sh\"], \"cwd\": \"tmp\"}");
  CHECK (ar_process_parse_file (path, &p, &err) == -EINVAL);
  CHECK (p == NULL);
  msg = ar_error_format (err);
  CHECK_CONTAINS (msg, "/process.json: cwd: `tmp` is not an absolute path");

  unlink (path);
  CHECK (ar_process_parse_file (path, &p, &err_missing) == -ENOENT);
  msg_missing = ar_error_format (err_missing);
  CHECK_CONTAINS (msg_missing, "cannot read the process file");
  rmdir (dir);
}

static void
test_free_accepts_null (void)
{
  struct ar_config *c = NULL;

  ar_config_free (NULL);
  ar_process_free (NULL);
  ar_config_release (&c);
  ar_config_release (NULL);
  CHECK (c == NULL);
}

int
main (void)
{
  static const struct unit_test tests[] = {
    { "config full round", test_full_config_round },
    { "config minimal defaults", test_minimal_config_defaults },
    { "process defaults", test_process_defaults },
    { "console size needs terminal", test_console_size_needs_terminal },
    { "device fileMode with the file type", test_device_file_mode_with_file_type },
    { "null members are absent", test_null_members_are_absent },
    { "invalid values name path", test_invalid_values_name_path },
    { "malformed JSON position", test_malformed_json_position },
    { "big integer after syntax error", test_big_integer_after_syntax_error },
    { "big integer in strings kept", test_big_integer_in_strings_kept },
    { "unknown keys ignored", test_unknown_keys_ignored },
    { "mount option table", test_mount_option_table },
    { "mount option error prefix", test_mount_option_error_prefix },
    { "mount mappings imply idmap", test_mount_mappings_imply_idmap },
    { "capability names", test_capability_names },
    { "capability empty sets", test_capability_empty_sets },
    { "every rlimit name", test_every_rlimit_name },
    { "scheduler and ioprio names", test_scheduler_and_ioprio_names },
    { "namespace and hook names", test_namespace_and_hook_names },
    { "resources call returns", test_resources_call_returns },
    { "default spec parses", test_default_spec_parses },
    { "default spec rootless", test_default_spec_rootless },
    { "capability beyond kernel skipped", test_capability_beyond_kernel_skipped },
    { "load bundle", test_load_bundle },
    { "process parse file", test_process_parse_file },
    { "free accepts null", test_free_accepts_null },
    { NULL, NULL },
  };
  return unit_run (tests);
}
