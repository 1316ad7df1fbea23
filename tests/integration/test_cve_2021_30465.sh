# CVE-2021-30465: a mount destination that is, or passes through, a
# symlink in the rootfs must be resolved inside the rootfs, so that the
# mount lands inside it or fails.  A runtime that follows the symlink on
# the host mounts over, or creates folders in, a host path.
#
# Every test points the symlinks at HOST_DIR, a folder outside the rootfs
# that must stay empty, and binds VOLUME, which contains the file
# from-volume, at the destination.

setup_attack() {
  make_bundle
  config_edit '.root.readonly = false'
  HOST_DIR=$AR_TEST_DIR/host-dir
  VOLUME=$AR_TEST_DIR/volume
  mkdir -p "$HOST_DIR" "$VOLUME"
  touch "$VOLUME/from-volume"
}

# Fails when HOST_DIR has any entry or a mount on it or below it.
assert_host_dir_untouched() {
  local entries mounts
  entries=$(ls -A "$HOST_DIR")
  [ -z "$entries" ] || fail "the runtime wrote into the host folder $HOST_DIR: $entries"
  mounts=$(grep -F "$HOST_DIR" /proc/self/mountinfo || true)
  [ -z "$mounts" ] || fail "a mount landed on the host folder $HOST_DIR: $mounts"
}

# Runs the container and checks that it either failed or found the volume
# at the path that the symlink names inside the rootfs.  The script
# prints what it sees at the destination, then the mount points under
# INSIDE_PATH.
run_attack() {
  local destination=$1 inside_path=$2
  add_mount "$destination" bind "$VOLUME" rbind rw
  set_script 'ls -A "$1"; echo "--"; sed -n "s/^[^ ]* [^ ]* [^ ]* [^ ]* \([^ ]*\) .*/\1/p" /proc/self/mountinfo' \
    "$destination"
  run_container
  assert_host_dir_untouched
  if [ "$RC" != 0 ]; then
    [ -n "$ERR" ] || fail "the run failed without an error message"
    return 0
  fi
  assert_contains "${OUT%%--*}" from-volume "the destination $destination seen in the container"
  assert_contains "${OUT#*--}" "$inside_path" "the container's mount points"
}

# An absolute symlink at the destination: /evil -> HOST_DIR.
test_absolute_symlink_destination() {
  setup_attack
  ln -s "$HOST_DIR" "$BUNDLE/rootfs/evil"
  run_attack /evil "$HOST_DIR"
  # Inside the rootfs the symlink leads to rootfs/HOST_DIR, which the
  # runtime may have created; that is inside the rootfs.
}

# A relative symlink that climbs out of the rootfs with "..".
test_relative_symlink_destination() {
  setup_attack
  ln -s "../../../../../../../..$HOST_DIR" "$BUNDLE/rootfs/evil"
  run_attack /evil "$HOST_DIR"
}

# A symlinked parent: the runtime must not create /evil/a/b on the host.
test_symlink_parent_of_destination() {
  setup_attack
  ln -s "$HOST_DIR" "$BUNDLE/rootfs/evil"
  run_attack /evil/a/b "$HOST_DIR/a/b"
}

# The published attack: a symlink swapped in at a mount destination while
# the runtime sets up the mounts.  A background loop keeps exchanging
# rootfs/vol between a folder and a symlink to HOST_DIR while containers
# start; every run must leave HOST_DIR alone.
test_symlink_swapped_during_create() {
  setup_attack
  local root=$BUNDLE/rootfs round
  mkdir "$root/vol-dir"
  ln -s "$HOST_DIR" "$root/vol-link"
  mkdir "$root/vol"
  add_mount /vol/sub bind "$VOLUME" rbind rw
  mkdir "$root/vol-dir/sub" "$root/vol/sub"
  set_args /bin/true
  spawn bash -c '
    cd "$1" || exit 1
    while :; do
      mv -T vol vol-tmp && mv -T vol-link vol && mv -T vol-tmp vol-link
    done' swapper "$root"
  for round in $(seq 20); do
    echo "round $round" >&2
    run_container
    assert_host_dir_untouched
    rt_capture delete --force "$ID"
  done
  kill "$SPAWNED_PID"
  wait "$SPAWNED_PID" 2>/dev/null || true
  assert_host_dir_untouched
}
