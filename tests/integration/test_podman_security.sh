# podman run's security options with the runtime under test: the user,
# a read-only root, capabilities, a seccomp profile file,
# no-new-privileges and user namespace id maps.  The helpers are in
# podman_lib.sh.

# shellcheck source=tests/integration/podman_lib.sh
. "$AR_REPO/tests/integration/podman_lib.sh"

# Prints the named fields of /proc/self/status, one "Name: value" a line.
STATUS_SCRIPT='grep -E "^(Uid|Gid|Groups|CapInh|CapPrm|CapEff|CapBnd|CapAmb|NoNewPrivs|Seccomp):" /proc/self/status'

test_podman_user() {
  setup_podman
  podman_run --user 1000:1000 localhost/busybox sh -c 'id; touch /root/x 2>/dev/null || echo "root only"'
  expect_success "podman run --user"
  assert_match "$OUT" "^uid=1000\(agent\) gid=1000\(agent\)" "id of the process"
  assert_contains "$OUT" "root only" "write to /root as uid 1000"
}

test_podman_user_by_name_and_group() {
  setup_podman
  podman_run --user agent --group-add 5 localhost/busybox sh -c 'echo "$(id -u) $(id -g) $(id -G)"'
  expect_success "podman run --user agent --group-add 5"
  assert_eq "$OUT" "1000 1000 1000 5" "uid, gid and groups"
}

test_podman_read_only() {
  setup_podman
  podman_run --read-only localhost/busybox sh -c '
    touch /x 2>&1 || true
    touch /tmp/y && echo "tmp writable"
    touch /run/z && echo "run writable"'
  expect_success "podman run --read-only"
  assert_contains "$OUT" "Read-only file system" "write to the root"
  assert_contains "$OUT" "tmp writable" "write to /tmp (a tmpfs with --read-only-tmpfs)"
  assert_contains "$OUT" "run writable" "write to /run"
}

test_podman_cap_drop_all() {
  setup_podman
  podman_run --cap-drop ALL localhost/busybox sh -c "$STATUS_SCRIPT; chown 1000 /tmp 2>&1 || true"
  expect_success "podman run --cap-drop ALL"
  local field
  for field in CapInh CapPrm CapEff CapBnd CapAmb; do
    assert_eq "$(status_value "$OUT" "$field")" 0000000000000000 "$field with --cap-drop ALL"
  done
  assert_contains "$OUT" "Operation not permitted" "chown without CAP_CHOWN"
}

test_podman_cap_add() {
  setup_podman
  podman_run --cap-drop ALL --cap-add CHOWN --cap-add NET_RAW localhost/busybox \
    sh -c "$STATUS_SCRIPT; chown 1000 /tmp && echo chowned"
  expect_success "podman run --cap-drop ALL --cap-add CHOWN --cap-add NET_RAW"
  # CAP_CHOWN is bit 0, CAP_NET_RAW bit 13.
  assert_eq "$(status_value "$OUT" CapEff)" 0000000000002001 "CapEff"
  assert_eq "$(status_value "$OUT" CapBnd)" 0000000000002001 "CapBnd"
  assert_contains "$OUT" chowned "chown with CAP_CHOWN"
}

test_podman_cap_drop_one() {
  setup_podman
  podman_run --cap-drop CHOWN localhost/busybox sh -c "$STATUS_SCRIPT; chown 1000 /tmp 2>&1 || true"
  expect_success "podman run --cap-drop CHOWN"
  local eff
  eff=$(status_value "$OUT" CapEff)
  [ $((0x$eff & 1)) = 0 ] || fail "CAP_CHOWN still in CapEff $eff"
  [ $((0x$eff)) != 0 ] || fail "CapEff is empty; podman's other default capabilities are missing"
  assert_contains "$OUT" "Operation not permitted" "chown without CAP_CHOWN"
}

test_podman_seccomp_profile_file() {
  setup_podman
  cat >"$AR_TEST_DIR/seccomp.json" <<'JSON'
{"defaultAction": "SCMP_ACT_ALLOW",
 "syscalls": [{"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO", "errnoRet": 13}]}
JSON
  podman_run --security-opt "seccomp=$AR_TEST_DIR/seccomp.json" localhost/busybox \
    sh -c "$STATUS_SCRIPT; mkdir /tmp/d 2>&1 || true; touch /tmp/f && echo touched"
  expect_success "podman run --security-opt seccomp=FILE"
  assert_eq "$(status_value "$OUT" Seccomp)" 2 "seccomp mode"
  assert_contains "$OUT" "Permission denied" "mkdir under the profile (errnoRet 13)"
  assert_contains "$OUT" touched "a system call that the profile allows"
}

test_podman_seccomp_unconfined() {
  setup_podman
  podman_run --security-opt seccomp=unconfined localhost/busybox sh -c "$STATUS_SCRIPT"
  expect_success "podman run --security-opt seccomp=unconfined"
  assert_eq "$(status_value "$OUT" Seccomp)" 0 "seccomp mode"
}

test_podman_default_seccomp_profile() {
  setup_podman
  podman_run localhost/busybox sh -c "$STATUS_SCRIPT"
  expect_success "podman run"
  assert_eq "$(status_value "$OUT" Seccomp)" 2 "seccomp mode under podman's default profile"
}

# --privileged: every capability of podman, no seccomp filter, the host's
# devices (podman lists them with the file type in fileMode).
test_podman_privileged() {
  setup_podman
  podman_run --privileged localhost/busybox sh -c "$STATUS_SCRIPT; ls -l /dev/null /dev/loop0 2>&1"
  expect_success "podman run --privileged"
  assert_eq "$(status_value "$OUT" CapEff)" "$(status_value "$(cat /proc/self/status)" CapBnd)" \
    "CapEff of a privileged container (the bounding set of the test)"
  assert_eq "$(status_value "$OUT" Seccomp)" 0 "seccomp mode of a privileged container"
  assert_match "$OUT" "^crw-rw-rw- .* 1, +3 .* /dev/null" "/dev/null of the container"
  if [ -b /dev/loop0 ]; then
    assert_match "$OUT" "^brw-.* 7, +0 .* /dev/loop0" "a host device in the privileged container"
  fi
}

test_podman_privileged_detached_exec() {
  setup_podman
  podman_run_detached --privileged localhost/busybox sleep 600
  podman_capture exec "$CID" sh -c 'grep ^CapEff /proc/self/status'
  expect_success "podman exec in a privileged container"
  assert_eq "$(status_value "$OUT" CapEff)" "$(status_value "$(cat /proc/self/status)" CapBnd)" \
    "CapEff of an exec process in a privileged container"
}

test_podman_no_new_privileges() {
  setup_podman
  podman_run localhost/busybox sh -c "$STATUS_SCRIPT"
  expect_success "podman run"
  assert_eq "$(status_value "$OUT" NoNewPrivs)" 0 "no_new_privs without the option"
  podman_run --security-opt no-new-privileges localhost/busybox sh -c "$STATUS_SCRIPT"
  expect_success "podman run --security-opt no-new-privileges"
  assert_eq "$(status_value "$OUT" NoNewPrivs)" 1 "no_new_privs with the option"
}

test_podman_uidmap() {
  setup_podman
  podman_run --uidmap 0:200000:65536 --gidmap 0:200000:65536 localhost/busybox sh -c '
    cat /proc/self/uid_map /proc/self/gid_map; id -u; stat -c "%u %g" /bin/busybox'
  expect_success "podman run --uidmap"
  assert_match "$OUT" "^ *0 +200000 +65536" "uid_map and gid_map in the container"
  assert_contains "$OUT" "0 0" "owner of /bin/busybox in the container"
}

test_podman_uidmap_host_view() {
  setup_podman
  podman_run_detached --uidmap 0:200000:65536 --gidmap 0:200000:65536 localhost/busybox \
    sh -c 'id -u; sleep 600'
  local pid
  pid=$(podman_field '{{.State.Pid}}')
  assert_eq "$(status_value "$(cat "/proc/$pid/status")" Uid | awk '{ print $1 }')" 200000 \
    "uid of the container's process on the host"
  assert_ne "$(readlink "/proc/$pid/ns/user")" "$(readlink /proc/self/ns/user)" "user namespace"
  podman_capture exec "$CID" id -u
  expect_success "podman exec"
  assert_eq "$OUT" 0 "uid of an exec process in the container"
}
