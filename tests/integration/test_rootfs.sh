# The container's root filesystem, checked from inside: read-only root,
# the default mounts and /dev nodes, config devices, masked and read-only
# paths, hostname, domainname and sysctl.

test_read_only_root() {
  make_bundle
  config_edit '.root.readonly = true'
  run_script 'touch /newfile 2>&1 || true; touch /tmp/ok && echo "tmp writable"'
  assert_contains "$OUT" "Read-only file system" "error of a write to the read-only root"
  assert_contains "$OUT" "tmp writable" "tmpfs on a read-only root"
  [ ! -e "$BUNDLE/rootfs/newfile" ] || fail "a file was created in the read-only rootfs"
}

test_writable_root() {
  make_bundle
  config_edit '.root.readonly = false'
  run_script 'echo written >/newfile'
  assert_eq "$(cat "$BUNDLE/rootfs/newfile")" written "file written to the rootfs"
}

test_root_path_absolute() {
  make_bundle
  mv "$BUNDLE/rootfs" "$AR_TEST_DIR/elsewhere"
  config_edit '.root.path = $p' --arg p "$AR_TEST_DIR/elsewhere"
  run_script 'echo fine'
  assert_eq "$OUT" fine "output of a container with an absolute root.path"
}

test_default_mounts() {
  make_bundle
  run_script 'cat /proc/self/mounts'
  local mountpoint expected line
  for expected in "/proc proc" "/dev tmpfs" "/dev/pts devpts" "/dev/shm tmpfs" "/dev/mqueue mqueue" \
    "/sys sysfs"; do
    mountpoint=${expected% *}
    line=$(awk -v m="$mountpoint" '$2 == m' <<<"$OUT")
    [ -n "$line" ] || fail "$mountpoint is not mounted: $OUT"
    assert_eq "$(awk '{ print $3 }' <<<"$line")" "${expected#* }" "filesystem type of $mountpoint"
  done
  line=$(awk '$2 == "/sys"' <<<"$OUT")
  assert_match "$line" " ro[ ,]" "options of /sys"
}

test_default_dev_nodes() {
  make_bundle
  run_script '
    for n in null zero full random urandom tty; do
      stat -c "%n %F %t:%T %a" /dev/$n
    done
    for l in fd stdin stdout stderr ptmx; do echo "/dev/$l -> $(readlink /dev/$l)"; done
    echo discard >/dev/null && echo "null writable"
    echo "zero reads $(head -c 8 /dev/zero | wc -c) bytes"
    echo "urandom reads $(head -c 8 /dev/urandom | wc -c) bytes"
    echo x 2>&1 >/dev/full | grep -q "No space left" && echo "full is full"
    ls /dev'
  assert_contains "$OUT" "/dev/null character special file 1:3 666"
  assert_contains "$OUT" "/dev/zero character special file 1:5 666"
  assert_contains "$OUT" "/dev/full character special file 1:7 666"
  assert_contains "$OUT" "/dev/random character special file 1:8 666"
  assert_contains "$OUT" "/dev/urandom character special file 1:9 666"
  assert_contains "$OUT" "/dev/tty character special file 5:0 666"
  assert_contains "$OUT" "/dev/fd -> /proc/self/fd"
  assert_contains "$OUT" "/dev/stdin -> /proc/self/fd/0"
  assert_contains "$OUT" "/dev/stdout -> /proc/self/fd/1"
  assert_contains "$OUT" "/dev/stderr -> /proc/self/fd/2"
  assert_contains "$OUT" "/dev/ptmx -> pts/ptmx"
  assert_contains "$OUT" "null writable"
  assert_contains "$OUT" "zero reads 8 bytes"
  assert_contains "$OUT" "urandom reads 8 bytes"
  assert_contains "$OUT" "full is full"
  # Nothing of the host's /dev besides the defaults.
  assert_not_contains "$OUT" "kmsg" "/dev listing"
  assert_not_contains "$OUT" "vda" "/dev listing"
}

test_config_devices() {
  make_bundle
  config_edit '.linux.devices = [
      {path: "/dev/ar-random", type: "c", major: 1, minor: 8, fileMode: 416, uid: 1000, gid: 1000},
      {path: "/dev/ar-fifo", type: "p"}]
    | .linux.resources.devices += [{allow: true, type: "c", major: 1, minor: 8, access: "rwm"}]'
  run_script '
    stat -c "%n %F %t:%T %a %u %g" /dev/ar-random
    stat -c "%n %F" /dev/ar-fifo
    echo "reads $(head -c 4 /dev/ar-random | wc -c) bytes"'
  assert_contains "$OUT" "/dev/ar-random character special file 1:8 640 1000 1000"
  assert_contains "$OUT" "/dev/ar-fifo fifo"
  assert_contains "$OUT" "reads 4 bytes"
}

test_device_cgroup_denies_unlisted_device() {
  make_bundle
  # /dev/ar-kmsg is the kernel log (1:11); the cgroup device rules of the
  # base config deny it, so opening it must fail even for root.
  config_edit '.linux.devices = [{path: "/dev/ar-kmsg", type: "c", major: 1, minor: 11, fileMode: 384}]'
  run_script 'if head -c 1 /dev/ar-kmsg >/dev/null 2>/tmp/err; then echo opened; else cat /tmp/err; fi'
  assert_contains "$OUT" "Operation not permitted" "reading a device that the cgroup denies"
}

test_masked_paths_read_empty() {
  make_bundle
  echo "secret" >"$BUNDLE/rootfs/secret.txt"
  mkdir "$BUNDLE/rootfs/secretdir"
  echo "secret" >"$BUNDLE/rootfs/secretdir/file"
  # A file of the default maskedPaths that this kernel has.
  local proc_file
  for proc_file in /proc/kcore /proc/timer_list /proc/keys /proc/sched_debug ""; do
    [ -z "$proc_file" ] || [ -e "$proc_file" ] && break
  done
  [ -n "$proc_file" ] || skip "none of /proc/kcore, timer_list, keys, sched_debug exists here"
  config_edit '.linux.maskedPaths += [$p, "/secret.txt", "/secretdir", "/does/not/exist"]' \
    --arg p "$proc_file"
  run_script '
    echo "$1 $(wc -c <"$1")"
    echo "firmware [$(ls -A /sys/firmware)]"
    echo "secret.txt [$(cat /secret.txt)]"
    echo "secretdir [$(ls -A /secretdir)]"
    touch /secretdir/new 2>/dev/null && echo "secretdir written"
    true' "$proc_file"
  assert_contains "$OUT" "$proc_file 0"
  assert_contains "$OUT" "firmware []"
  assert_contains "$OUT" "secret.txt []"
  assert_contains "$OUT" "secretdir []"
  assert_not_contains "$OUT" "secretdir written"
  assert_eq "$(cat "$BUNDLE/rootfs/secret.txt")" secret "masked file on the host"
}

test_readonly_paths_reject_writes() {
  make_bundle
  config_edit '.root.readonly = false | .linux.readonlyPaths += ["/rotest", "/does/not/exist"]'
  mkdir "$BUNDLE/rootfs/rotest"
  run_script '
    touch /rotest/x 2>&1 || true
    (echo y >/proc/sys/kernel/domainname) 2>&1 || true
    touch /other && echo "other writable"'
  assert_match "$OUT" "/rotest/x.*Read-only file system" "error of a write below a readonly path"
  assert_match "$OUT" "domainname.*Read-only file system" "error of a write to /proc/sys"
  assert_contains "$OUT" "other writable" "a path outside readonlyPaths"
}

test_hostname() {
  make_bundle
  config_edit '.hostname = "ar-host"'
  run_script 'hostname; cat /proc/sys/kernel/hostname'
  assert_eq "$OUT" "$(printf 'ar-host\nar-host')" "hostname"
  assert_ne "$(hostname)" "ar-host" "host's hostname"
}

test_domainname() {
  known_gap runc "runc 1.1.5 ignores domainname (support came in runc 1.2)"
  make_bundle
  config_edit '.domainname = "ar.example"'
  run_script 'cat /proc/sys/kernel/domainname'
  assert_eq "$OUT" "ar.example" "domainname"
}

test_sysctl() {
  make_bundle
  config_edit '.linux.sysctl = {"net.ipv4.ip_local_port_range": "40000 50000", "kernel.msgmax": "12345"}'
  run_script 'cat /proc/sys/net/ipv4/ip_local_port_range /proc/sys/kernel/msgmax'
  assert_eq "$OUT" "$(printf '40000\t50000\n12345')" "sysctl values in the container"
  assert_ne "$(cat /proc/sys/kernel/msgmax)" 12345 "host's kernel.msgmax"
}

test_sysctl_of_host_namespace_rejected() {
  make_bundle
  # Without a new network namespace, a net.* sysctl would change the host.
  # The value is the host's own, so a runtime that wrongly accepts it
  # changes nothing.
  local before
  before=$(cat /proc/sys/net/ipv4/ip_forward)
  config_edit '.linux.namespaces |= map(select(.type != "network"))
    | .linux.sysctl = {"net.ipv4.ip_forward": $v}' --arg v "$before"
  run_container
  expect_failure 'sysctl|net|namespace'
  assert_eq "$(cat /proc/sys/net/ipv4/ip_forward)" "$before" "host's net.ipv4.ip_forward"
  assert_no_leftovers "$ID"
}
