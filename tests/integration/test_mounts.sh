# The mounts of config.json, checked from inside the container: bind mounts
# read-only and read-write, tmpfs options, rbind of submounts, propagation.

test_bind_read_only() {
  make_bundle
  mkdir "$AR_TEST_DIR/data"
  echo "host data" >"$AR_TEST_DIR/data/file"
  add_mount /data bind "$AR_TEST_DIR/data" bind ro
  run_script 'cat /data/file; if touch /data/new 2>/tmp/err; then echo created; else cat /tmp/err; fi'
  assert_contains "$OUT" "host data" "content of the bound file"
  assert_contains "$OUT" "Read-only file system" "error of a write to a ro bind mount"
  [ ! -e "$AR_TEST_DIR/data/new" ] || fail "the container created a file through a ro bind mount"
}

test_bind_read_write() {
  make_bundle
  mkdir "$AR_TEST_DIR/data"
  add_mount /data bind "$AR_TEST_DIR/data" bind rw
  run_script 'echo "from the container" >/data/out'
  assert_eq "$(cat "$AR_TEST_DIR/data/out")" "from the container" "file written through a rw bind mount"
}

test_bind_single_file() {
  make_bundle
  echo "setting=1" >"$AR_TEST_DIR/agent.conf"
  add_mount /etc/agent.conf bind "$AR_TEST_DIR/agent.conf" bind ro
  run_script 'cat /etc/agent.conf'
  assert_eq "$OUT" "setting=1" "content of a file bind mount"
}

test_tmpfs_size_mode_and_flags() {
  make_bundle
  add_mount /scratch tmpfs tmpfs size=1m mode=0710 nosuid nodev noexec
  run_script '
    grep " /scratch " /proc/self/mountinfo
    stat -c "mode %a" /scratch
    cp /bin/busybox /scratch/busybox && /scratch/busybox true 2>/dev/null || echo "exec denied"
    if dd if=/dev/zero of=/scratch/big bs=1024 count=2048 2>/tmp/err; then echo "wrote 2 MiB"
    else cat /tmp/err; fi'
  local line
  line=$(grep " /scratch " <<<"$OUT")
  assert_match "$line" " - tmpfs " "filesystem type of /scratch"
  assert_match "$line" "size=1024k" "size of /scratch"
  assert_match "$line" "[ ,]nosuid" "flags of /scratch"
  assert_match "$line" "[ ,]nodev" "flags of /scratch"
  assert_match "$line" "[ ,]noexec" "flags of /scratch"
  assert_contains "$OUT" "mode 710"
  assert_contains "$OUT" "exec denied" "running a program from a noexec tmpfs"
  assert_contains "$OUT" "No space left on device" "writing 2 MiB to a 1 MiB tmpfs"
}

# Makes AR_TEST_DIR/src with a file, and a tmpfs mounted on src/sub with
# another file.
make_source_with_submount() {
  mkdir -p "$AR_TEST_DIR/src/sub"
  echo top >"$AR_TEST_DIR/src/top"
  mount -t tmpfs -o size=1m ar-tests-submount "$AR_TEST_DIR/src/sub"
  echo sub >"$AR_TEST_DIR/src/sub/file"
}

test_bind_leaves_out_submounts() {
  make_bundle
  make_source_with_submount
  add_mount /src bind "$AR_TEST_DIR/src" bind ro
  run_script 'cat /src/top; ls /src/sub'
  assert_eq "$OUT" "top" "files seen through a bind mount (the submount stays out)"
}

test_rbind_includes_submounts() {
  make_bundle
  make_source_with_submount
  add_mount /src bind "$AR_TEST_DIR/src" rbind ro
  run_script 'cat /src/top /src/sub/file'
  assert_eq "$OUT" "$(printf 'top\nsub')" "files seen through an rbind mount"
}

# Makes AR_TEST_DIR/prop a shared mount point, so that mounts below it
# propagate to its slaves and peers.
make_shared_source() {
  mkdir -p "$AR_TEST_DIR/prop"
  mount --bind "$AR_TEST_DIR/prop" "$AR_TEST_DIR/prop"
  mount --make-shared "$AR_TEST_DIR/prop"
}

# Starts a container with AR_TEST_DIR/prop bound at /prop with PROPAGATION,
# mounts a tmpfs below the source on the host and prints what the container
# saw: its mountinfo line for /prop, then "seen" or "not seen".
propagation_check() {
  local propagation=$1
  make_bundle
  make_shared_source
  share_dir shared
  add_mount /prop bind "$AR_TEST_DIR/prop" rbind "$propagation"
  set_script '
    grep " /prop " /proc/self/mountinfo >/shared/mountinfo
    touch /shared/ready
    i=0
    while [ $i -lt 40 ] && [ ! -e /prop/late/file ]; do sleep 0.05; i=$((i + 1)); done
    if [ -e /prop/late/file ]; then echo seen; else echo "not seen"; fi >/shared/result'
  create_container
  rt_capture start "$ID"
  expect_success "start"
  wait_file "$AR_TEST_DIR/shared/ready"
  mkdir "$AR_TEST_DIR/prop/late"
  mount -t tmpfs -o size=1m ar-tests-late "$AR_TEST_DIR/prop/late"
  touch "$AR_TEST_DIR/prop/late/file"
  wait_file "$AR_TEST_DIR/shared/result" 10
  cat "$AR_TEST_DIR/shared/mountinfo" "$AR_TEST_DIR/shared/result"
}

test_propagation_rslave_receives_host_mounts() {
  local seen
  seen=$(propagation_check rslave)
  assert_match "$(head -n 1 <<<"$seen")" " master:[0-9]+" "mountinfo of an rslave mount"
  assert_eq "$(tail -n 1 <<<"$seen")" "seen" "host mount below an rslave bind mount"
}

test_propagation_rprivate_receives_nothing() {
  local seen
  seen=$(propagation_check rprivate)
  assert_not_contains "$(head -n 1 <<<"$seen")" "master:" "mountinfo of an rprivate mount"
  assert_not_contains "$(head -n 1 <<<"$seen")" "shared:" "mountinfo of an rprivate mount"
  assert_eq "$(tail -n 1 <<<"$seen")" "not seen" "host mount below an rprivate bind mount"
}

test_propagation_rshared_is_peer() {
  local seen
  seen=$(propagation_check rshared)
  assert_match "$(head -n 1 <<<"$seen")" " shared:[0-9]+" "mountinfo of an rshared mount"
  assert_eq "$(tail -n 1 <<<"$seen")" "seen" "host mount below an rshared bind mount"
}

test_rootfs_propagation_private() {
  make_bundle
  config_edit '.linux.rootfsPropagation = "private"'
  run_script 'grep -E "^[0-9]+ [0-9]+ [^ ]+ [^ ]+ / " /proc/self/mountinfo'
  assert_match "$OUT" "^[0-9]+ [0-9]+ [^ ]+ [^ ]+ / " "mountinfo line of /"
  assert_not_contains "$OUT" "master:" "mountinfo of / with rootfsPropagation private"
  assert_not_contains "$OUT" "shared:" "mountinfo of / with rootfsPropagation private"
}

test_rootfs_propagation_slave() {
  make_bundle
  config_edit '.linux.rootfsPropagation = "rslave"'
  run_script 'grep -E "^[0-9]+ [0-9]+ [^ ]+ [^ ]+ / " /proc/self/mountinfo'
  assert_match "$OUT" "^[0-9]+ [0-9]+ [^ ]+ [^ ]+ / " "mountinfo line of /"
  assert_not_contains "$OUT" "shared:" "mountinfo of / with rootfsPropagation rslave"
  # Only a mount that was shared on the host has a master to receive from.
  if [ "$(findmnt -n -o PROPAGATION --target "$BUNDLE/rootfs")" = shared ]; then
    assert_match "$OUT" " master:[0-9]+" "mountinfo of / with rootfsPropagation rslave"
  fi
}

test_mount_destination_symlink_stays_in_rootfs() {
  make_bundle
  mkdir "$AR_TEST_DIR/data" "$AR_TEST_DIR/outside"
  echo inside >"$AR_TEST_DIR/data/file"
  # An absolute symlink in the rootfs resolves inside the rootfs, never on
  # the host: the mount must land on rootfs/AR_TEST_DIR/outside.
  ln -s "$AR_TEST_DIR/outside" "$BUNDLE/rootfs/link"
  mkdir -p "$BUNDLE/rootfs$AR_TEST_DIR/outside"
  add_mount /link bind "$AR_TEST_DIR/data" bind ro
  run_script 'cat "$1/outside/file"' "$AR_TEST_DIR"
  assert_eq "$OUT" "inside" "file under the symlink target inside the rootfs"
  [ ! -e "$AR_TEST_DIR/outside/file" ] || fail "the bind mount followed a symlink out of the rootfs"
}
