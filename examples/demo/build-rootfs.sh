#!/bin/bash
# build-rootfs.sh [DIR]: makes the demo agent's root filesystem, a minimal
# Debian 12 (bookworm) with python3, in DIR (default
# /var/cache/agentrun/demo-rootfs), unless DIR already contains one.
#
# debootstrap --variant=minbase fetches the packages from the first Debian
# mirror named in /etc/apt/sources.list or /etc/apt/sources.list.d/*.sources
# (DEMO_MIRROR=URL picks another).  The first build takes about a minute;
# later calls find DIR and return at once.  Delete DIR to rebuild it.
set -euo pipefail

dir=${1:-/var/cache/agentrun/demo-rootfs}
suite=bookworm

if [ -x "$dir/usr/bin/python3" ]; then
  exit 0
fi
if [ "$(id -u)" != 0 ]; then
  echo "$0: run as root: debootstrap needs it" >&2
  exit 1
fi
if ! command -v debootstrap >/dev/null; then
  echo "$0: debootstrap not found: install it (apt-get install debootstrap, or .ci/install-deps)" >&2
  exit 1
fi

# The first http(s) mirror for Debian itself (not debian-security) that
# apt uses, in the one-line or the deb822 format.
find_mirror() {
  local files=() f
  for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources; do
    [ -f "$f" ] && files+=("$f")
  done
  [ ${#files[@]} -gt 0 ] || return 0
  grep -hoE '^(deb[[:space:]]+(\[[^]]*\][[:space:]]+)?|URIs:[[:space:]]*)https?://[^[:space:]]+' "${files[@]}" |
    grep -oE 'https?://[^[:space:]]+' | grep -v -- '-security' | head -n 1
}

# One build at a time: a second caller waits, then finds DIR complete.
mkdir -p "$(dirname "$dir")"
exec 9>"$dir.lock"
flock 9
if [ -x "$dir/usr/bin/python3" ]; then
  exit 0
fi
# Builds that were killed before their EXIT trap ran.
rm -rf --one-file-system "$dir".new.*

mirror=${DEMO_MIRROR:-$(find_mirror)}
if [ -z "$mirror" ]; then
  echo "$0: no Debian mirror in /etc/apt/sources.list or /etc/apt/sources.list.d: set DEMO_MIRROR=URL" >&2
  exit 1
fi

# Build beside DIR and rename it into place at the end, so an interrupted
# build never leaves a DIR that looks complete.
tmp=$(mktemp -d "$dir.new.XXXXXX")
cleanup() {
  [ -z "$tmp" ] || rm -rf --one-file-system "$tmp"
}
trap cleanup EXIT

echo "building the demo root filesystem in $dir from $mirror (about a minute, once)" >&2
debootstrap --variant=minbase --include=python3 "$suite" "$tmp" "$mirror" >"$tmp.log" 2>&1 || {
  echo "$0: debootstrap failed; its log:" >&2
  tail -n 20 "$tmp.log" >&2
  rm -f "$tmp.log"
  exit 1
}
rm -f "$tmp.log"

# What a container does not need: the package caches and lists.
rm -rf "$tmp/var/cache/apt/archives/"*.deb "$tmp/var/lib/apt/lists/"*
# The demo's mount points, made here so that the runtime never writes
# into the cached tree: the agent's folder, its workspace and the folder
# of its SVIDs.
mkdir -p "$tmp/opt/demo" "$tmp/workspace" "$tmp/run/spiffe"
# debootstrap copies the host's resolv.conf; the demo mounts its own.
: >"$tmp/etc/resolv.conf"
printf '127.0.0.1 localhost\n::1 localhost\n' >"$tmp/etc/hosts"
chmod 0755 "$tmp"
# A DIR without python3 is left from an older, broken build.
rm -rf --one-file-system "$dir"
mv -T "$tmp" "$dir"
tmp=
