# shellcheck shell=bash
# Sourced by bench/run.sh and bench/profile.sh, with `here` and OUT set.
# Re-executes the calling script, as root, inside a private mount
# namespace that covers /sys/fs/cgroup/unified with an empty tmpfs.  Then
# it makes a temporary folder $tmp with the bundles, one state root per
# runtime and links named after the runtimes in $tmp/bin.  On exit, the
# cleanup deletes every container whose id starts with ar-bench-$tag-,
# removes leftover cgroups of those ids, and removes the folder.
#
# crun (1.8.1 and later) rejects the hybrid cgroup layout, where a v1 host
# also mounts cgroup2 on /sys/fs/cgroup/unified; with the tmpfs over it,
# every runtime sees a pure cgroup v1 host, and the host's mounts stay as
# they are.
#
# Environment: AGENTRUN, CRUN, RUNC, the binaries (default ./agentrun,
# crun, runc).
top=$(cd "${here:?set by the sourcing script}/.." && pwd)
runtimes=(agentrun crun runc)

if [[ ${AR_BENCH_IN_NAMESPACE:-} != 1 ]]; then
  if [[ $(id -u) != 0 ]]; then
    echo "$0: must run as root (the runtimes create cgroups and namespaces)" >&2
    exit 1
  fi
  for tool in hyperfine jq unshare valgrind strace crun runc cc /usr/bin/time; do
    if ! command -v "$tool" > /dev/null; then
      echo "$0: $tool not found; install it (Debian: hyperfine jq util-linux valgrind strace crun runc gcc time)" >&2
      exit 1
    fi
  done
  export AR_BENCH_IN_NAMESPACE=1
  # The benchmark shares the host's network namespace: agentrun's own
  # container network would add veth pairs, a host nft table and turn on
  # forwarding there.  The agent policy's egress table needs none of it.
  export AGENTRUN_NETWORK_SUBNET=none
  exec unshare --mount --propagation private "$0" "$@"
fi

AGENTRUN=$(realpath "${AGENTRUN:-$top/agentrun}")
CRUN=$(realpath "$(command -v "${CRUN:-crun}")")
RUNC=$(realpath "$(command -v "${RUNC:-runc}")")

if [[ ! -x $AGENTRUN ]]; then
  echo "$0: $AGENTRUN is missing; run make first" >&2
  exit 1
fi

if mountpoint -q /sys/fs/cgroup/unified; then
  # crun creates its cgroup folders in this tmpfs, which goes away with
  # the namespace.
  mount -t tmpfs ar-bench-hide-cgroup2 /sys/fs/cgroup/unified
fi

tmp=$(mktemp -d /tmp/ar-bench.XXXXXX)
# Every container id starts with ar-bench-TAG-RUNTIME-, which keeps ids
# apart from other runs and lets the cleanup find what this run made.
tag=${tmp##*.}
mkdir -p "$tmp/bin" "$OUT"
ln -s "$AGENTRUN" "$tmp/bin/agentrun"
ln -s "$CRUN" "$tmp/bin/crun"
ln -s "$RUNC" "$tmp/bin/runc"
for rt in "${runtimes[@]}"; do
  mkdir -p "$tmp/root/$rt"
done

cleanup ()
{
  local rt id leftovers
  set +e
  umount "$tmp/crun-ro" 2> /dev/null
  for rt in "${runtimes[@]}"; do
    for id in $("$tmp/bin/$rt" --root "$tmp/root-tmpfs/$rt" list -q 2> /dev/null); do
      "$tmp/bin/$rt" --root "$tmp/root-tmpfs/$rt" delete --force "$id" > /dev/null 2>&1
    done
  done
  umount "$tmp/root-tmpfs" 2> /dev/null
  for rt in "${runtimes[@]}"; do
    for id in $("$tmp/bin/$rt" --root "$tmp/root/$rt" list -q 2> /dev/null); do
      "$tmp/bin/$rt" --root "$tmp/root/$rt" delete --force "$id" > /dev/null 2>&1
    done
  done
  # /sys/fs/cgroup/unified is this namespace's tmpfs, where crun leaves
  # folders that go away with the namespace.
  leftovers=$(find /sys/fs/cgroup -maxdepth 4 -path /sys/fs/cgroup/unified -prune \
                -o -name "ar-bench-$tag-*" -print 2> /dev/null)
  if [[ -n $leftovers ]]; then
    echo "bench: leftover cgroups (removing them):" >&2
    echo "$leftovers" >&2
    echo "$leftovers" | sort -r | xargs -r rmdir 2> /dev/null
  fi
  rm -rf "$tmp"
}
trap cleanup EXIT

"$here/make-bundle.sh" "$tmp/bundle"
bundle=$tmp/bundle

# Valgrind rejects any change of RLIMIT_NOFILE's hard limit, so the
# instruction counts use the run bundle without process.rlimits.
mkdir -p "$bundle/norlimit"
jq 'del(.process.rlimits)' "$bundle/run/config.json" > "$bundle/norlimit/config.json"
if [[ -f $bundle/seccomp/config.json ]]; then
  mkdir -p "$bundle/seccomp-norlimit"
  jq 'del(.process.rlimits)' "$bundle/seccomp/config.json" > "$bundle/seccomp-norlimit/config.json"
fi

