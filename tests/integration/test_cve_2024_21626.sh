# CVE-2024-21626: a file descriptor that the runtime holds open while it
# sets up the container must never become the container's working
# directory, which would put the process outside its root.

# Tries process.cwd = /proc/self/fd/N for the first fds the runtime may
# hold: each run must either fail or stay inside the container's root.
test_cwd_through_leaked_fd_stays_inside() {
  make_bundle
  mkdir -p "$AR_TEST_DIR/host-marker-dir"
  local fd escaped=()
  for fd in $(seq 3 12); do
    config_edit '.process.cwd = $cwd' --arg cwd "/proc/self/fd/$fd"
    # From a host folder, the host's files are reachable by walking up,
    # or through 1/root when the folder is the host's /proc.
    # getcwd(3) reports a directory outside the root as unreachable.
    set_script 'case "$(pwd -P 2>/dev/null)" in /*) ;; *) echo ESCAPED ;; esac
      ls "1/root/$1" >/dev/null 2>&1 && echo ESCAPED
      cd ../../../../../../../.. 2>/dev/null; ls "$1" >/dev/null 2>&1 && echo ESCAPED' sh \
      "${AR_TEST_DIR#/}/host-marker-dir"
    config_edit '.process.cwd = $cwd' --arg cwd "/proc/self/fd/$fd"
    run_container
    if [[ "$OUT" == *ESCAPED* ]]; then
      escaped+=("$fd")
    fi
  done
  [ ${#escaped[@]} -eq 0 ] || fail "process.cwd through /proc/self/fd/N reached the host's files for fd ${escaped[*]}"
}
