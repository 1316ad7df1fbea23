#!/bin/bash
# Builds the bundles that bench/run.sh gives to every runtime:
#
#   DIR/rootfs/          busybox-static, with links for true, sh, sleep
#   DIR/run/config.json  /bin/true (run, create, start, delete)
#   DIR/sleep/config.json  /bin/sleep 3600 (the container that exec enters)
#   DIR/seccomp/config.json  /bin/true under the seccomp profile that podman
#                        passes by default (only where that profile is installed)
#
# Each config.json is `crun spec` with process.args replaced, no terminal,
# no ambient capabilities (crun's spec lists ambient capabilities that are
# not inheritable, which the kernel cannot raise), and root.path pointing at
# the shared read-only rootfs.
#
# Usage: bench/make-bundle.sh DIR
set -euo pipefail

dir=${1:?usage: $0 DIR}
busybox=${BUSYBOX:-$(command -v busybox || true)}
# podman's default profile, from the golang-github-containers-common package.
podman_seccomp=${PODMAN_SECCOMP:-/usr/share/containers/seccomp.json}

if [[ -z $busybox ]]; then
  echo "$0: busybox not found; install busybox-static or set BUSYBOX" >&2
  exit 1
fi
if ! file -L "$busybox" | grep -q 'statically linked'; then
  echo "$0: $busybox is not statically linked; install busybox-static" >&2
  exit 1
fi

mkdir -p "$dir/rootfs/bin" "$dir/rootfs/proc" "$dir/rootfs/dev" "$dir/rootfs/sys" "$dir/rootfs/tmp"
cp "$busybox" "$dir/rootfs/bin/busybox"
for applet in true sh sleep cat; do
  ln -sf busybox "$dir/rootfs/bin/$applet"
done
rootfs=$(cd "$dir/rootfs" && pwd)

spec=$(mktemp -d)
trap 'rm -rf "$spec"' EXIT
(cd "$spec" && crun spec)

write_config () # NAME ARGS-AS-JSON
{
  mkdir -p "$dir/$1"
  jq --arg rootfs "$rootfs" --argjson args "$2" '
    .process.terminal = false
    | .process.args = $args
    | .process.capabilities.ambient = []
    | .root.path = $rootfs
    | .hostname = "bench"' "$spec/config.json" > "$dir/$1/config.json"
}

write_config run '["/bin/true"]'
write_config sleep '["/bin/sleep", "3600"]'

# Turns podman's profile (the Docker format, with rules chosen by
# architecture and capability) into an OCI linux.seccomp for this machine's
# architecture and the bundle's bounding capabilities, as podman does.
case $(uname -m) in
  x86_64) arch=amd64 scmp_arch=SCMP_ARCH_X86_64 ;;
  aarch64) arch=arm64 scmp_arch=SCMP_ARCH_AARCH64 ;;
  *) arch= ;;
esac
if [[ -r $podman_seccomp && -n $arch ]]; then
  jq --arg arch "$arch" --arg scmp_arch "$scmp_arch" \
     --argjson caps "$(jq '.process.capabilities.bounding' "$spec/config.json")" '
    def has_all($list): all(.[]; . as $x | $list | index($x) != null);
    def has_any($list): any(.[]; . as $x | $list | index($x) != null);
    {
      defaultAction: .defaultAction,
      defaultErrnoRet: .defaultErrnoRet,
      architectures: ([.archMap[] | select(.architecture == $scmp_arch)
                       | [.architecture] + .subArchitectures] | add),
      syscalls: [
        .syscalls[]
        | select((.includes.arches // []) | length == 0 or index($arch) != null)
        | select((.excludes.arches // []) | index($arch) == null)
        | select((.includes.caps // []) | has_all($caps))
        | select((.excludes.caps // []) | has_any($caps) | not)
        | {names, action}
          + (if (.args // []) | length > 0 then {args} else {} end)
          + (if .errnoRet != null then {errnoRet} else {} end)
      ]
    }' "$podman_seccomp" > "$spec/seccomp.json"
  mkdir -p "$dir/seccomp"
  jq --slurpfile profile "$spec/seccomp.json" '.linux.seccomp = $profile[0]' "$dir/run/config.json" \
    > "$dir/seccomp/config.json"
else
  echo "$0: no seccomp bundle: $podman_seccomp is missing or $(uname -m) is not mapped" >&2
fi
