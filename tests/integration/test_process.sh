# The process object of config.json, checked from inside the container:
# args, env, cwd, user, capabilities, rlimits, noNewPrivileges, oomScoreAdj.

test_args_passed_verbatim() {
  make_bundle
  set_args /bin/sh -c 'for a in "$@"; do printf "[%s]" "$a"; done' sh "a b" 'c*' "" '$HOME' "x'y\"z"
  run_container
  expect_success
  assert_eq "$OUT" "[a b][c*][][\$HOME][x'y\"z]" "arguments seen by the process"
}

test_args_first_is_looked_up_in_path() {
  make_bundle
  config_edit '.process.args = ["echo", "found"]'
  run_container
  expect_success
  assert_eq "$OUT" "found" "output of echo found through PATH"
}

test_env_exact() {
  make_bundle
  config_edit '.process.env = ["PATH=/bin:/usr/bin", "SPACED=a b  c", "EMPTY=", "EQUALS=x=y", "HOME=/h"]'
  set_script 'env | sort'
  run_container
  expect_success
  assert_eq "$OUT" "$(printf '%s\n' "EMPTY=" "EQUALS=x=y" "HOME=/h" "PATH=/bin:/usr/bin" \
    "PWD=/" "SHLVL=1" "SPACED=a b  c" | sort)" "environment"
}

test_cwd() {
  make_bundle
  config_edit '.process.cwd = "/tmp"'
  run_script 'pwd; touch here && ls /tmp'
  assert_eq "$OUT" "$(printf '/tmp\nhere')" "working directory and its contents"
}

test_user_ids_groups_umask() {
  make_bundle
  config_edit '.process.user = {uid: 1000, gid: 1001, additionalGids: [10, 20], umask: 23}'
  run_script 'cat /proc/$$/status; echo "umask $(umask)"; touch /tmp/f; stat -c "file %u %g %a" /tmp/f'
  assert_eq "$(status_value "$OUT" Uid)" "$(printf '1000\t1000\t1000\t1000')" "Uid line"
  assert_eq "$(status_value "$OUT" Gid)" "$(printf '1001\t1001\t1001\t1001')" "Gid line"
  assert_eq "$(status_value "$OUT" Groups | xargs)" "10 20" "supplementary groups"
  assert_eq "$(status_value "$OUT" Umask)" "0027" "Umask line"
  assert_contains "$OUT" "umask 0027"
  assert_contains "$OUT" "file 1000 1001 640" "owner and mode of a new file"
}

test_user_without_additional_gids_has_no_groups() {
  make_bundle
  config_edit '.process.user = {uid: 1000, gid: 1000}'
  run_script 'cat /proc/$$/status; umask'
  assert_eq "$(status_value "$OUT" Groups | xargs)" "" "supplementary groups"
  assert_contains "$OUT" "0022" "default umask"
}

# Root: after execve the kernel gives uid 0 every capability of the
# bounding and inheritable sets, so CapPrm and CapEff are their union.
test_capabilities_sets_root() {
  make_bundle
  config_edit '.process.capabilities = {
    bounding: ["CAP_CHOWN", "CAP_KILL", "CAP_NET_BIND_SERVICE"],
    effective: ["CAP_CHOWN", "CAP_KILL", "CAP_NET_BIND_SERVICE"],
    permitted: ["CAP_CHOWN", "CAP_KILL", "CAP_NET_BIND_SERVICE"],
    inheritable: ["CAP_KILL"],
    ambient: []}'
  run_script 'cat /proc/$$/status'
  assert_eq "$(status_value "$OUT" CapBnd)" 0000000000000421 CapBnd
  assert_eq "$(status_value "$OUT" CapInh)" 0000000000000020 CapInh
  assert_eq "$(status_value "$OUT" CapPrm)" 0000000000000421 CapPrm
  assert_eq "$(status_value "$OUT" CapEff)" 0000000000000421 CapEff
  assert_eq "$(status_value "$OUT" CapAmb)" 0000000000000000 CapAmb
}

# Other users keep only the ambient set across execve, in CapPrm and CapEff.
test_capabilities_sets_unprivileged_user() {
  make_bundle
  config_edit '.process.user = {uid: 1000, gid: 1000}
    | .process.capabilities = {
        bounding: ["CAP_CHOWN", "CAP_KILL", "CAP_NET_BIND_SERVICE"],
        effective: ["CAP_CHOWN", "CAP_NET_BIND_SERVICE"],
        permitted: ["CAP_CHOWN", "CAP_KILL", "CAP_NET_BIND_SERVICE"],
        inheritable: ["CAP_KILL", "CAP_NET_BIND_SERVICE"],
        ambient: ["CAP_NET_BIND_SERVICE"]}'
  run_script 'cat /proc/$$/status'
  assert_eq "$(status_value "$OUT" CapBnd)" 0000000000000421 CapBnd
  assert_eq "$(status_value "$OUT" CapInh)" 0000000000000420 CapInh
  assert_eq "$(status_value "$OUT" CapPrm)" 0000000000000400 CapPrm
  assert_eq "$(status_value "$OUT" CapEff)" 0000000000000400 CapEff
  assert_eq "$(status_value "$OUT" CapAmb)" 0000000000000400 CapAmb
}

test_capabilities_empty_sets() {
  make_bundle
  config_edit '.process.capabilities = {bounding: [], effective: [], permitted: [],
                                        inheritable: [], ambient: []}'
  run_script 'cat /proc/$$/status'
  local set
  for set in CapBnd CapInh CapPrm CapEff CapAmb; do
    assert_eq "$(status_value "$OUT" $set)" 0000000000000000 "$set"
  done
}

test_capabilities_enforced() {
  make_bundle
  config_edit '.process.capabilities.bounding -= ["CAP_CHOWN"]
    | .process.capabilities.effective -= ["CAP_CHOWN"]
    | .process.capabilities.permitted -= ["CAP_CHOWN"]'
  run_script 'touch /tmp/f; if chown 1000 /tmp/f 2>/dev/null; then echo chowned; else echo denied; fi'
  assert_eq "$OUT" denied "chown without CAP_CHOWN"

  config_edit '.process.capabilities.bounding += ["CAP_CHOWN"]
    | .process.capabilities.effective += ["CAP_CHOWN"]
    | .process.capabilities.permitted += ["CAP_CHOWN"]'
  run_script 'touch /tmp/f; if chown 1000 /tmp/f 2>/dev/null; then echo chowned; else echo denied; fi'
  assert_eq "$OUT" chowned "chown with CAP_CHOWN"
}

test_rlimits_nofile() {
  make_bundle
  config_edit '.process.rlimits = [{type: "RLIMIT_NOFILE", soft: 1234, hard: 2345},
                                   {type: "RLIMIT_CORE", soft: 0, hard: 0}]'
  run_script 'echo "$(ulimit -n) $(ulimit -Hn) $(ulimit -c)"'
  assert_eq "$OUT" "1234 2345 0" "soft and hard nofile, core"
}

# No process can raise a hard limit above the runtime's own without
# CAP_SYS_RESOURCE, so the runtime must refuse the config with a message
# that names the limit, and leave nothing behind.
test_rlimits_nofile_above_host_hard_limit_fails() {
  local host_hard bounding
  host_hard=$(ulimit -Hn)
  bounding=$(awk '$1 == "CapBnd:" { print $2 }' /proc/self/status)
  if [ "$host_hard" = unlimited ] || (((0x$bounding >> 24) & 1)); then
    skip "this host can raise RLIMIT_NOFILE (hard limit $host_hard, CAP_SYS_RESOURCE in the bounding set)"
  fi
  make_bundle
  config_edit '.process.rlimits = [{type: "RLIMIT_NOFILE", soft: $n, hard: $n}]' \
    --argjson n $((host_hard + 1))
  run_container
  expect_failure 'rlimit|nofile'
  assert_no_leftovers "$ID"
}

test_rlimits_nofile_podman_default_fails() {
  local host_hard bounding
  host_hard=$(ulimit -Hn)
  bounding=$(awk '$1 == "CapBnd:" { print $2 }' /proc/self/status)
  if [ "$host_hard" = unlimited ] || [ "$host_hard" -ge 1048576 ] || (((0x$bounding >> 24) & 1)); then
    skip "this host allows RLIMIT_NOFILE 1048576 (hard limit $host_hard)"
  fi
  make_bundle
  config_edit '.process.rlimits = [{type: "RLIMIT_NOFILE", soft: 1048576, hard: 1048576}]'
  run_container
  expect_failure 'rlimit|nofile'
  assert_no_leftovers "$ID"
}

test_no_new_privileges() {
  make_bundle
  config_edit '.process.noNewPrivileges = true'
  run_script 'cat /proc/$$/status'
  assert_eq "$(status_value "$OUT" NoNewPrivs)" 1 "NoNewPrivs with noNewPrivileges true"

  config_edit '.process.noNewPrivileges = false'
  run_script 'cat /proc/$$/status'
  assert_eq "$(status_value "$OUT" NoNewPrivs)" 0 "NoNewPrivs with noNewPrivileges false"
}

test_oom_score_adj() {
  make_bundle
  config_edit '.process.oomScoreAdj = 123'
  run_script 'cat /proc/self/oom_score_adj'
  assert_eq "$OUT" 123 "oom_score_adj"
}
