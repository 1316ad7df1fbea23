#!/bin/bash
# make-bundle.sh DIR: writes an OCI bundle for the example agent into DIR:
# DIR/rootfs, a busybox root filesystem, and DIR/config.json.
#
# The rootfs is Debian's busybox-static (/bin/busybox, package busybox-static)
# with every applet linked, an /etc/passwd and /etc/group with root and the
# unprivileged user `agent` (1000:1000), and the agent itself in /agent.
# BUSYBOX=PATH takes another statically linked busybox.
set -euo pipefail

usage() {
  echo "usage: $0 DIR" >&2
  echo "Writes DIR/rootfs and DIR/config.json.  DIR must be missing or empty." >&2
  exit 2
}

[ $# -eq 1 ] || usage
bundle=$1
busybox=${BUSYBOX:-/bin/busybox}

if [ ! -x "$busybox" ]; then
  echo "$0: $busybox not found: install the Debian package busybox-static" >&2
  exit 1
fi
banner=$(LC_ALL=C "$busybox" 2>&1 || true)
if [[ $banner != BusyBox* ]]; then
  echo "$0: $busybox is not busybox" >&2
  exit 1
fi
if ldd "$busybox" >/dev/null 2>&1; then
  echo "$0: $busybox is dynamically linked; the container has no libraries, so install busybox-static" >&2
  exit 1
fi
if [ -e "$bundle" ] && [ -n "$(ls -A "$bundle")" ]; then
  echo "$0: $bundle is not empty: pick a new folder" >&2
  exit 1
fi

rootfs=$bundle/rootfs
mkdir -p "$rootfs"
cd "$rootfs"

mkdir -p bin sbin usr/bin usr/sbin etc proc sys dev tmp run root home/agent agent workspace
chmod 1777 tmp
chmod 0700 root
install -m 0755 "$busybox" bin/busybox

# As root, busybox links its applets itself at their usual paths inside
# the chroot, in one process.  Otherwise one ln per applet does it:
# --list-full prints each applet's path relative to /, e.g. usr/bin/awk.
if [ "$(id -u)" = 0 ]; then
  chroot . /bin/busybox --install -s
else
  "$busybox" --list-full | while read -r applet; do
    [ "$applet" = bin/busybox ] || [ -e "$applet" ] || ln -s /bin/busybox "$applet"
  done
fi

cat >etc/passwd <<'PASSWD'
root:x:0:0:root:/root:/bin/sh
agent:x:1000:1000:example agent:/home/agent:/bin/sh
nobody:x:65534:65534:nobody:/nonexistent:/bin/false
PASSWD

cat >etc/group <<'GROUP'
root:x:0:
tty:x:5:
agent:x:1000:
nogroup:x:65534:
GROUP

cat >etc/hosts <<'HOSTS'
127.0.0.1 localhost
::1 localhost
HOSTS

chown 1000:1000 home/agent

cat >agent/agent.sh <<'AGENT'
#!/bin/sh
# A stand-in for an AI agent or MCP server: it reports who it runs as and
# what it may do, then does one small unit of work in /workspace.

# Names of capability bits 0 to 40, as in <linux/capability.h>.
CAP_NAMES="chown dac_override dac_read_search fowner fsetid kill setgid setuid
setpcap linux_immutable net_bind_service net_broadcast net_admin net_raw ipc_lock
ipc_owner sys_module sys_rawio sys_chroot sys_ptrace sys_pacct sys_admin sys_boot
sys_nice sys_resource sys_time sys_tty_config mknod lease audit_write
audit_control setfcap mac_override mac_admin syslog wake_alarm block_suspend
audit_read perfmon bpf checkpoint_restore"

# Prints the capability names set in a hexadecimal mask, or "none".
cap_names() {
  mask=$((0x$1)) bit=0 names=""
  for name in $CAP_NAMES; do
    [ $(((mask >> bit) & 1)) = 1 ] && names="$names $name"
    bit=$((bit + 1))
  done
  echo "${names:- none}"
}

echo "agent: user $(id -un 2>/dev/null || id -u) (uid $(id -u), gid $(id -g), groups $(id -G))"
echo "agent: hostname $(hostname)"
while read -r field mask; do
  case $field in
    CapEff:) echo "agent: effective capabilities:$(cap_names "$mask")" ;;
    CapBnd:) echo "agent: bounding capabilities:$(cap_names "$mask")" ;;
    NoNewPrivs:) echo "agent: no_new_privs $mask" ;;
  esac
done </proc/self/status
if touch /agent/.probe 2>/dev/null; then
  echo "agent: root filesystem writable"
else
  echo "agent: root filesystem read-only"
fi
# Unquoted, so that the names are joined by single spaces.
echo "agent: network interfaces:" $(ls /sys/class/net)

words=$(wc -w </agent/agent.sh)
echo "$words" >/workspace/result.txt
echo "agent: work: counted $words words in /agent/agent.sh, wrote /workspace/result.txt"
AGENT
chmod 0755 agent/agent.sh

cd - >/dev/null

# The process runs as `agent` with one capability (binding ports below
# 1024, as an MCP server might), no_new_privileges and a few rlimits.
# It gets new pid, network, ipc, uts, mount and cgroup namespaces, so it
# shares no processes, network or mounts with the host, and its network
# has only loopback.  The root is read-only, and /workspace and /tmp are
# small tmpfs mounts.  The seccomp filter allows everything but a short
# list of system calls that no agent needs, which fail with EPERM.
cat >"$bundle/config.json" <<'CONFIG'
{
  "ociVersion": "1.0.2",
  "process": {
    "terminal": false,
    "user": { "uid": 1000, "gid": 1000, "additionalGids": [1000], "umask": 18 },
    "args": ["/agent/agent.sh"],
    "env": [
      "PATH=/usr/sbin:/usr/bin:/sbin:/bin",
      "HOME=/home/agent",
      "TMPDIR=/tmp",
      "AGENT_WORKSPACE=/workspace"
    ],
    "cwd": "/workspace",
    "capabilities": {
      "bounding": ["CAP_NET_BIND_SERVICE"],
      "effective": ["CAP_NET_BIND_SERVICE"],
      "permitted": ["CAP_NET_BIND_SERVICE"],
      "inheritable": ["CAP_NET_BIND_SERVICE"],
      "ambient": ["CAP_NET_BIND_SERVICE"]
    },
    "rlimits": [
      { "type": "RLIMIT_NOFILE", "hard": 4096, "soft": 1024 },
      { "type": "RLIMIT_CORE", "hard": 0, "soft": 0 }
    ],
    "noNewPrivileges": true,
    "oomScoreAdj": 500
  },
  "root": { "path": "rootfs", "readonly": true },
  "hostname": "agent",
  "mounts": [
    { "destination": "/proc", "type": "proc", "source": "proc",
      "options": ["nosuid", "noexec", "nodev"] },
    { "destination": "/dev", "type": "tmpfs", "source": "tmpfs",
      "options": ["nosuid", "strictatime", "mode=755", "size=1m"] },
    { "destination": "/dev/pts", "type": "devpts", "source": "devpts",
      "options": ["nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"] },
    { "destination": "/dev/shm", "type": "tmpfs", "source": "shm",
      "options": ["nosuid", "noexec", "nodev", "mode=1777", "size=16m"] },
    { "destination": "/dev/mqueue", "type": "mqueue", "source": "mqueue",
      "options": ["nosuid", "noexec", "nodev"] },
    { "destination": "/sys", "type": "sysfs", "source": "sysfs",
      "options": ["nosuid", "noexec", "nodev", "ro"] },
    { "destination": "/sys/fs/cgroup", "type": "cgroup", "source": "cgroup",
      "options": ["nosuid", "noexec", "nodev", "relatime", "ro"] },
    { "destination": "/tmp", "type": "tmpfs", "source": "tmpfs",
      "options": ["nosuid", "nodev", "mode=1777", "size=16m"] },
    { "destination": "/workspace", "type": "tmpfs", "source": "tmpfs",
      "options": ["nosuid", "nodev", "mode=0700", "uid=1000", "gid=1000", "size=64m"] }
  ],
  "linux": {
    "namespaces": [
      { "type": "pid" },
      { "type": "network" },
      { "type": "ipc" },
      { "type": "uts" },
      { "type": "mount" },
      { "type": "cgroup" }
    ],
    "resources": {
      "devices": [{ "allow": false, "access": "rwm" }],
      "memory": { "limit": 268435456 },
      "pids": { "limit": 128 }
    },
    "maskedPaths": [
      "/proc/acpi",
      "/proc/asound",
      "/proc/interrupts",
      "/proc/kcore",
      "/proc/keys",
      "/proc/latency_stats",
      "/proc/sched_debug",
      "/proc/scsi",
      "/proc/timer_list",
      "/proc/timer_stats",
      "/sys/devices/virtual/powercap",
      "/sys/firmware"
    ],
    "readonlyPaths": [
      "/proc/bus",
      "/proc/fs",
      "/proc/irq",
      "/proc/sys",
      "/proc/sysrq-trigger"
    ],
    "seccomp": {
      "defaultAction": "SCMP_ACT_ALLOW",
      "architectures": ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"],
      "syscalls": [
        {
          "names": [
            "add_key", "bpf", "delete_module", "finit_module", "init_module",
            "kexec_file_load", "kexec_load", "keyctl", "mount", "move_mount",
            "open_by_handle_at", "perf_event_open", "pivot_root", "ptrace",
            "reboot", "request_key", "setns", "swapoff", "swapon", "umount2",
            "unshare", "userfaultfd"
          ],
          "action": "SCMP_ACT_ERRNO",
          "errnoRet": 1
        }
      ]
    }
  }
}
CONFIG

echo "bundle written to $bundle"
