/* `agentrun policy explain`: what a policy lets the agent do, in sentences
 * a reviewer can check against the policy file. */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "apply_internal.h"
#include "model.h"
#include "oci/util.h"
#include "values.h"

/* What each capability lets a process do, from capabilities(7). */
static const struct
{
  const char *name;
  const char *meaning;
} capability_meanings[] = {
  { "CAP_AUDIT_CONTROL", "configure kernel auditing" },
  { "CAP_AUDIT_READ", "read the kernel audit log" },
  { "CAP_AUDIT_WRITE", "write records to the kernel audit log" },
  { "CAP_BLOCK_SUSPEND", "block system suspend" },
  { "CAP_BPF", "load eBPF programs" },
  { "CAP_CHECKPOINT_RESTORE", "checkpoint and restore processes" },
  { "CAP_CHOWN", "change the owner of any file" },
  { "CAP_DAC_OVERRIDE", "bypass file read, write and execute permissions" },
  { "CAP_DAC_READ_SEARCH", "read any file and open files by handle" },
  { "CAP_FOWNER", "bypass checks that need the file's owner" },
  { "CAP_FSETID", "keep setuid and setgid bits when changing files" },
  { "CAP_IPC_LOCK", "lock memory" },
  { "CAP_IPC_OWNER", "bypass permissions on System V IPC objects" },
  { "CAP_KILL", "send signals to any process in the container" },
  { "CAP_LEASE", "take leases on any file" },
  { "CAP_LINUX_IMMUTABLE", "set the immutable and append-only file flags" },
  { "CAP_MAC_ADMIN", "change the mandatory access control policy" },
  { "CAP_MAC_OVERRIDE", "bypass mandatory access control" },
  { "CAP_MKNOD", "create device files" },
  { "CAP_NET_ADMIN", "configure interfaces, routes and firewall rules" },
  { "CAP_NET_BIND_SERVICE", "listen on ports below 1024" },
  { "CAP_NET_BROADCAST", "send broadcasts and listen to multicast" },
  { "CAP_NET_RAW", "use raw and packet sockets (ping, forged packets)" },
  { "CAP_PERFMON", "use performance monitoring" },
  { "CAP_SETFCAP", "set file capabilities" },
  { "CAP_SETGID", "change its group IDs" },
  { "CAP_SETPCAP", "change capability sets" },
  { "CAP_SETUID", "change its user IDs" },
  { "CAP_SYSLOG", "read the kernel log" },
  { "CAP_SYS_ADMIN", "mount filesystems, create namespaces and much more" },
  { "CAP_SYS_BOOT", "reboot" },
  { "CAP_SYS_CHROOT", "call chroot" },
  { "CAP_SYS_MODULE", "load kernel modules" },
  { "CAP_SYS_NICE", "raise priorities and move memory between NUMA nodes" },
  { "CAP_SYS_PACCT", "configure process accounting" },
  { "CAP_SYS_PTRACE", "trace any process" },
  { "CAP_SYS_RAWIO", "access I/O ports and raw devices" },
  { "CAP_SYS_RESOURCE", "exceed resource limits" },
  { "CAP_SYS_TIME", "set the clock" },
  { "CAP_SYS_TTY_CONFIG", "configure terminals" },
  { "CAP_WAKE_ALARM", "set alarms that wake the system" },
};

static const char *
capability_meaning (const char *name)
{
  for (size_t i = 0; i < sizeof (capability_meanings) / sizeof (capability_meanings[0]); i++)
    if (strcmp (capability_meanings[i].name, name) == 0)
      return capability_meanings[i].meaning;
  return NULL;
}

/* Prints "a, b and c". */
static void
print_joined (FILE *f, char *const *items, size_t n)
{
  for (size_t i = 0; i < n; i++)
    {
      if (i > 0 && i + 1 == n)
        fputs (" and ", f);
      else if (i > 0)
        fputs (", ", f);
      fputs (items[i], f);
    }
}

static void
explain_mode (FILE *f, const struct ar_policy *policy)
{
  if (policy->mode.value == AR_POLICY_MODE_ENFORCE)
    fputs ("Mode: enforce. agentrun refuses to create the container when its config.json asks for more than this "
           "policy allows, and fills in what config.json leaves out from the policy.\n",
           f);
  else
    fputs ("Mode: audit. The container runs as its config.json asks: each request beyond this policy is reported as "
           "an audit event, and system calls the policy would deny are logged by the kernel instead of blocked. "
           "Nothing below is enforced.\n",
           f);
}

static void
explain_filesystem (FILE *f, const struct ar_policy *policy)
{
  const struct ar_policy_filesystem *fs = &policy->filesystem;
  const struct ar_policy_tmpfs *tmpfs = fs->tmpfs.items;

  fputs ("\nFiles\n", f);
  if (fs->readonly_rootfs.value)
    {
      fputs ("  - The root filesystem is read-only.\n", f);
      if (fs->readwrite_paths.n == 0 && fs->tmpfs.n == 0)
        fputs ("  - The agent cannot write anywhere, except in /dev (device files) and /dev/shm.\n", f);
      else
        {
          fputs ("  - The agent can write only in:", f);
          for (size_t i = 0; i < fs->readwrite_paths.n; i++)
            fprintf (f, "\n      %s (when config.json mounts something writable there)", fs->readwrite_paths.values[i]);
          for (size_t i = 0; i < fs->tmpfs.n; i++)
            {
              cleanup_free char *size = ar_policy_format_size (tmpfs[i].size.value);
              fprintf (f, "\n      %s (in-memory, at most %s, emptied when the container stops)", tmpfs[i].path.value,
                       size);
            }
          fputs ("\n    and in /dev/shm when config.json mounts it.\n", f);
        }
    }
  else
    {
      fputs ("  - The root filesystem is writable.\n", f);
      for (size_t i = 0; i < fs->tmpfs.n; i++)
        {
          cleanup_free char *size = ar_policy_format_size (tmpfs[i].size.value);
          fprintf (f, "  - %s is an in-memory filesystem of at most %s, emptied when the container stops.\n",
                   tmpfs[i].path.value, size);
        }
    }
  for (size_t i = 0; i < fs->tmpfs.n; i++)
    if (!tmpfs[i].exec.value)
      fprintf (f, "  - Programs cannot run from %s.\n", tmpfs[i].path.value);

  if (fs->readonly_paths.n > 0)
    {
      fputs ("  - Read-only even where config.json mounts them: ", f);
      print_joined (f, fs->readonly_paths.values, fs->readonly_paths.n);
      fputs (".\n", f);
    }
  if (fs->denied_paths.n > 0)
    {
      fputs ("  - Hidden (they appear empty): ", f);
      print_joined (f, fs->denied_paths.values, fs->denied_paths.n);
      fputs (".\n", f);
    }
  fputs ("  - The kernel's sensitive files in /proc and /sys (such as /proc/kcore and /sys/firmware) are hidden, and "
         "kernel settings (/proc/sys) are read-only",
         f);
  for (size_t i = 0; i < fs->readwrite_paths.n; i++)
    if (ar_policy_path_within (fs->readwrite_paths.values[i], "/proc")
        || ar_policy_path_within (fs->readwrite_paths.values[i], "/sys"))
      fprintf (f, ", except %s", fs->readwrite_paths.values[i]);
  fputs (".\n", f);
}

static void
explain_capabilities (FILE *f, const struct ar_policy *policy)
{
  const struct ar_policy_list *caps = &policy->process.capabilities;

  if (caps->n == 0)
    {
      fputs ("  - Keeps no Linux capabilities: even as root in the container it cannot bypass file permissions, "
             "bind ports below 1024 or use raw sockets.\n",
             f);
      return;
    }
  fputs ("  - Keeps only these Linux capabilities, and no other:\n", f);
  for (size_t i = 0; i < caps->n; i++)
    {
      const char *meaning = capability_meaning (caps->values[i]);

      fprintf (f, "      %s%s%s%s\n", caps->values[i], meaning ? " (" : "", meaning ? meaning : "", meaning ? ")" : "");
    }
}

static void
explain_process (FILE *f, const struct ar_policy *policy)
{
  const struct ar_policy_process *process = &policy->process;

  fputs ("\nProcesses\n", f);
  if (process->user.set)
    fprintf (f, "  - Runs as uid %u, gid %u%s.\n", process->user.uid,
             process->user.has_gid ? process->user.gid : process->user.uid,
             process->user.uid == 0 ? " (root inside the container)" : "");
  else
    fputs ("  - Runs as the user config.json names.\n", f);
  if (process->no_new_privileges.value)
    fputs ("  - Cannot gain privileges through setuid programs or file capabilities.\n", f);
  else
    fputs ("  - Can gain privileges through setuid programs and file capabilities.\n", f);
  explain_capabilities (f, policy);
  if (process->host_pid.value)
    fputs ("  - Shares the host's process namespace: it sees every host process and can signal those of its "
           "user.\n",
           f);
  else
    fputs ("  - Has its own process namespace: it cannot see or signal host processes.\n", f);
}

static void
explain_syscalls (FILE *f, const struct ar_policy *policy)
{
  const struct ar_policy_syscalls *syscalls = &policy->syscalls;

  fputs ("\nSystem calls\n", f);
  switch (syscalls->base_kind)
    {
    case AR_POLICY_SECCOMP_DEFAULT:
      fputs ("  - Allows the system calls ordinary Linux programs make, as the default profiles of Docker and podman "
             "do: no mounts, namespaces, kernel modules, eBPF, kernel keyrings, clock changes, reboot or io_uring, "
             "unless a kept capability needs them.\n",
             f);
      break;
    case AR_POLICY_SECCOMP_STRICT:
      fputs ("  - Allows the system calls ordinary Linux programs make, and denies more than Docker's default "
             "profile: also no ptrace or access to other processes' memory, no device files, no userfaultfd, no "
             "perf_event_open, no 32-bit system calls, and sockets only for local, IPv4, IPv6 and routing "
             "messages, whatever capabilities are kept.\n",
             f);
      break;
    case AR_POLICY_SECCOMP_FILE:
      fprintf (f, "  - Allows what the seccomp profile %s allows.\n",
               syscalls->base_file != NULL ? syscalls->base_file : syscalls->base.value);
      break;
    }
  if (syscalls->allow.n > 0)
    {
      fputs ("  - Also allows: ", f);
      print_joined (f, syscalls->allow.values, syscalls->allow.n);
      fputs (".\n", f);
    }
  if (syscalls->deny.n > 0)
    {
      fputs ("  - Always denies: ", f);
      print_joined (f, syscalls->deny.values, syscalls->deny.n);
      fputs (".\n", f);
    }
  switch ((enum ar_policy_syscall_action) syscalls->action.value)
    {
    case AR_POLICY_ACTION_ERRNO:
      fputs ("  - A denied system call fails with EPERM (\"Operation not permitted\").\n", f);
      break;
    case AR_POLICY_ACTION_KILL:
      fputs ("  - A denied system call kills the process.\n", f);
      break;
    case AR_POLICY_ACTION_LOG:
      fputs ("  - A denied system call still runs; the kernel only logs it.\n", f);
      break;
    }
}

static void
explain_resources (FILE *f, const struct ar_policy *policy)
{
  const struct ar_policy_resources *limits = &policy->resources;
  bool any = false;

  fputs ("\nResources\n", f);
  if (limits->memory.set)
    {
      cleanup_free char *memory = ar_policy_format_size (limits->memory.value);
      cleanup_free char *swap = limits->swap.set && limits->swap.value > 0 ? ar_policy_format_size (limits->swap.value)
                                                                           : NULL;

      if (swap != NULL)
        fprintf (f, "  - Memory: at most %s, plus %s of swap.\n", memory, swap);
      else
        fprintf (f, "  - Memory: at most %s, and no swap.\n", memory);
      any = true;
    }
  if (limits->cpu.set)
    {
      cleanup_free char *cpu = ar_policy_format_cpu (limits->cpu.value);
      fprintf (f, "  - CPU: at most %s CPU%s of time.\n", cpu, limits->cpu.value == 1000 ? "" : "s");
      any = true;
    }
  if (limits->pids.set)
    {
      fprintf (f, "  - Processes and threads: at most %llu.\n", (unsigned long long) limits->pids.value);
      any = true;
    }
  if (limits->open_files.set)
    {
      fprintf (f, "  - Open files: at most %llu per process.\n", (unsigned long long) limits->open_files.value);
      any = true;
    }
  if (limits->io_weight.set)
    {
      fprintf (f, "  - Block I/O weight: at most %llu (on a scale of 10 to 1000).\n",
               (unsigned long long) limits->io_weight.value);
      any = true;
    }
  if (limits->wall_clock.set)
    {
      cleanup_free char *duration = ar_policy_format_duration (limits->wall_clock.value);
      fprintf (f, "  - Run time: stopped after %s.\n", duration);
      any = true;
    }
  if (!any)
    fputs ("  - No limits beyond those config.json sets.\n", f);
}

static const char *
protocol_text (int protocol)
{
  switch ((enum ar_policy_protocol) protocol)
    {
    case AR_POLICY_PROTOCOL_TCP:
      return "TCP";
    case AR_POLICY_PROTOCOL_UDP:
      return "UDP";
    case AR_POLICY_PROTOCOL_ANY:
      break;
    }
  return "TCP and UDP";
}

static void
print_ports (FILE *f, const struct ar_policy_ports *ports, int protocol)
{
  cleanup_free char *list = ar_policy_format_ports (ports);

  if (!ports->set || ports->n == 0)
    fprintf (f, "%s, every port", protocol_text (protocol));
  else
    fprintf (f, "%s port%s %s", protocol_text (protocol),
             ports->n == 1 && ports->ranges[0].first == ports->ranges[0].last ? "" : "s", list);
}

static void
explain_network (FILE *f, const struct ar_policy *policy)
{
  const struct ar_policy_network *network = &policy->network;
  const struct ar_policy_egress *egress = network->egress.items;
  const struct ar_policy_ingress *ingress = network->ingress.items;

  fputs ("\nNetwork\n", f);
  switch ((enum ar_policy_network_mode) network->mode.value)
    {
    case AR_POLICY_NETWORK_NONE:
      fputs ("  - No network access: the container has its own network namespace with only a loopback "
             "interface.\n",
             f);
      return;
    case AR_POLICY_NETWORK_ALLOWLIST:
      if (network->egress.n == 0)
        fputs ("  - No outgoing connections.\n", f);
      else
        {
          fputs ("  - Outgoing connections only to:\n", f);
          for (size_t i = 0; i < network->egress.n; i++)
            {
              if (egress[i].domain.value != NULL && ar_str_has_prefix (egress[i].domain.value, "*."))
                fprintf (f, "      any name under %s (%s, not %s itself), ", egress[i].domain.value + 2,
                         egress[i].domain.value, egress[i].domain.value + 2);
              else if (egress[i].domain.value != NULL)
                fprintf (f, "      %s, ", egress[i].domain.value);
              else
                fprintf (f, "      the addresses %s, ", egress[i].cidr.value);
              print_ports (f, &egress[i].ports, egress[i].protocol.value);
              fputs ("\n", f);
            }
          fputs ("    Every other destination is refused.\n", f);
        }
      break;
    case AR_POLICY_NETWORK_OPEN:
      fputs ("  - Any outgoing connection, from its own network namespace.\n", f);
      break;
    case AR_POLICY_NETWORK_HOST:
      fputs ("  - Uses the host's network: every host interface and every service listening on the host, "
             "including on localhost. No network rule applies.\n",
             f);
      return;
    }

  if (network->ingress.n == 0)
    fputs ("  - Accepts no incoming connections from outside the container.\n", f);
  else
    {
      fputs ("  - Accepts incoming connections on:\n", f);
      for (size_t i = 0; i < network->ingress.n; i++)
        {
          fputs ("      ", f);
          print_ports (f, &ingress[i].ports, ingress[i].protocol.value);
          fputs ("\n", f);
        }
    }
}

static void
explain_identity (FILE *f, const struct ar_policy *policy)
{
  const struct ar_policy_identity *identity = &policy->identity;
  cleanup_free char *lifetime = NULL;
  cleanup_free char *id = NULL;

  fputs ("\nIdentity\n", f);
  if (!identity->present)
    {
      fputs ("  - No workload identity: the agent receives no SPIFFE certificate or token.\n", f);
      return;
    }
  lifetime = ar_policy_format_duration (identity->lifetime.value);
  id = ar_policy_spiffe_id (policy);
  if (strstr (id, "{annotation:") != NULL)
    fprintf (f, "  - SPIFFE ID %s, where {container_id} is the container's id and {annotation:KEY} the value of its "
             "annotation KEY (create fails without it).\n",
             id);
  else
    fprintf (f, "  - SPIFFE ID %s, where {container_id} is the container's id.\n", id);
  fprintf (f, "  - Its X.509-SVID and key are written to %s; each is valid for %s and renewed before it expires.\n",
           identity->svid_dir.value, lifetime);
  if (identity->jwt_audiences.n > 0)
    {
      fputs ("  - It can get JWT-SVIDs for the audiences ", f);
      print_joined (f, identity->jwt_audiences.values, identity->jwt_audiences.n);
      fputs (" and no other.\n", f);
    }
}

static void
explain_audit (FILE *f, const struct ar_policy *policy)
{
  const char *events = policy->audit.events.value;

  fputs ("\nAudit\n", f);
  if (strcmp (events, "log") == 0)
    fputs ("  - Audit events go to the runtime's log (the --log file, or standard error).\n", f);
  else if (strcmp (events, "stderr") == 0)
    fputs ("  - Audit events go to the runtime's standard error.\n", f);
  else
    fprintf (f, "  - Audit events are appended to %s, one JSON object per line.\n", events);
}

char *
ar_policy_explain (const struct ar_policy *policy)
{
  char *out = NULL;
  size_t len = 0;
  FILE *f = open_memstream (&out, &len);

  if (f == NULL)
    abort ();
  fprintf (f, "Policy %s (format version %llu, %s)\n", policy->name.value,
           (unsigned long long) policy->version.value, policy->origin);
  if (policy->description.value != NULL)
    fprintf (f, "%s\n", policy->description.value);
  fputs ("\n", f);
  explain_mode (f, policy);
  explain_filesystem (f, policy);
  explain_process (f, policy);
  explain_syscalls (f, policy);
  explain_resources (f, policy);
  explain_network (f, policy);
  explain_identity (f, policy);
  explain_audit (f, policy);
  fclose (f);
  return out;
}
