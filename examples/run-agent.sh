#!/bin/bash
# run-agent.sh [agentrun|podman|both]: runs the demo agent of
# examples/demo/demo.sh under the policy examples/policies/demo-agent.yaml
# (the same as `make demo`), with `agentrun run`, with podman, or both.
#
# run-agent.sh --busybox: builds the small busybox example bundle
# (examples/busybox) in a temporary folder and runs it with `agentrun run`
# and no policy, then removes the bundle and the container's state.
# RUNTIME=PATH runs that bundle with another OCI runtime, e.g. RUNTIME=runc.
#
# Both need root and a built ./agentrun.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

if [ "${1:-}" != --busybox ]; then
  exec "$here/demo/demo.sh" "$@"
fi

runtime=${RUNTIME:-$here/../agentrun}

if [ "$(id -u)" != 0 ]; then
  echo "$0: run as root (sudo $0): the runtime creates namespaces, mounts and cgroups" >&2
  exit 1
fi
if ! command -v "$runtime" >/dev/null; then
  echo "$0: runtime $runtime not found: run make first, or set RUNTIME" >&2
  exit 1
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/agentrun-example.XXXXXX")
id=agentrun-example-$$
cleanup() {
  "$runtime" --root "$work/state" delete --force "$id" >/dev/null 2>&1 || true
  rm -rf --one-file-system "$work"
}
trap cleanup EXIT
# The agent runs as uid 1000, which must reach its rootfs.
chmod 0755 "$work"

"$here/busybox/make-bundle.sh" "$work/bundle" >/dev/null
echo "+ $runtime --root $work/state run --bundle $work/bundle $id" >&2
"$runtime" --root "$work/state" run --bundle "$work/bundle" "$id"
