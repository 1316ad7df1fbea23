#!/bin/bash
# Shows where agentrun's `run` spends its time, beside crun's, on the
# bundle of bench/run.sh and in the same private mount namespace (see
# bench/common.sh).  Needs root; run it by hand after `make`:
#
#   bench/profile.sh            writes bench/out/profile/*.txt
#
# It measures, interleaved with hyperfine where it times:
#   variants.json     run with and without cgroups (--cgroup-manager
#                     disabled), with the state root on a tmpfs, with
#                     podman's seccomp profile, crun without its memfd
#                     re-exec, and the --version floors
#   parallel.json     100 containers four at a time, state on disk or tmpfs
#   strace-c.*.txt    strace -c -f of one run (syscall counts and times)
#   cgroup-attach.txt time of the writes to cgroup.procs in each of RUNS runs
#   timeline.*.txt    strace -f -ttt -T of one run, with every syscall over
#                     0.2 ms and every gap over 0.2 ms between syscalls of
#                     one process (user-space work, or time off the CPU)
#   ld-statistics.txt the dynamic loader's own count of its startup work
#   callgrind.*.txt   the functions with the most inclusive instructions, for
#                     the run and seccomp bundles
#
# Environment: RUNS (30), PAUSE (0.1 s, see bench/run.sh), OUT
# (bench/out/profile), and those of common.sh.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
RUNS=${RUNS:-30}
PAUSE=${PAUSE:-0.1}
OUT=${OUT:-$here/out/profile}
# shellcheck source=bench/common.sh
. "$here/common.sh"
rm -f "$OUT"/*.txt "$OUT"/*.json 2> /dev/null || true

# The runtimes with their state roots: as words for hyperfine's command
# strings, and as arrays for direct calls.
ar_cmd="$tmp/bin/agentrun --root $tmp/root/agentrun"
cr_cmd="$tmp/bin/crun --root $tmp/root/crun"
ar=("$tmp/bin/agentrun" --root "$tmp/root/agentrun")
cr=("$tmp/bin/crun" --root "$tmp/root/crun")
iterations=$(seq -s, 1 "$RUNS")

# crun without its re-exec: a crun binary on a read-only mount, with
# _LIBCONTAINER_CLONED_BINARY=1 in the environment, counts as already
# cloned (the check that runc's cloned_binary.c introduced).
touch "$tmp/crun-ro"
mount --bind "$CRUN" "$tmp/crun-ro"
mount -o remount,bind,ro "$tmp/crun-ro"
cat > "$tmp/bin/crun-noreexec" << END
#!/bin/sh
_LIBCONTAINER_CLONED_BINARY=1 exec $tmp/crun-ro "\$@"
END
chmod +x "$tmp/bin/crun-noreexec"
# The wrapper costs one dash start-up; the same wrapper around stock crun
# gives the baseline to compare it with.
cat > "$tmp/bin/crun-wrapped" << END
#!/bin/sh
exec $CRUN "\$@"
END
chmod +x "$tmp/bin/crun-wrapped"

# State roots on a tmpfs, where fsync(2) returns at once, to compare
# with the roots in $tmp on the disk (on this machine /run is on the
# disk too).
mkdir -p "$tmp/root-tmpfs"
mount -t tmpfs ar-bench-state "$tmp/root-tmpfs"

echo "== variants" >&2
# name, command; hyperfine takes no command names in a parameter scan, and
# its results come in the order of the commands within each iteration.
variants=(
  agentrun "$ar_cmd run --bundle $bundle/run ar-bench-$tag-a-{i}"
  agentrun-no-cgroup "$ar_cmd --cgroup-manager disabled run --bundle $bundle/run ar-bench-$tag-an-{i}"
  agentrun-seccomp "$ar_cmd run --bundle $bundle/seccomp ar-bench-$tag-as-{i}"
  agentrun-root-tmpfs "$tmp/bin/agentrun --root $tmp/root-tmpfs/agentrun run --bundle $bundle/run ar-bench-$tag-at-{i}"
  agentrun-root-tmpfs-no-cgroup "$tmp/bin/agentrun --root $tmp/root-tmpfs/agentrun --cgroup-manager disabled run --bundle $bundle/run ar-bench-$tag-atn-{i}"
  crun "$cr_cmd run --bundle $bundle/run ar-bench-$tag-c-{i}"
  crun-no-cgroup "$cr_cmd --cgroup-manager=disabled run --bundle $bundle/run ar-bench-$tag-cn-{i}"
  crun-seccomp "$cr_cmd run --bundle $bundle/seccomp ar-bench-$tag-cs-{i}"
  crun-root-tmpfs "$tmp/bin/crun --root $tmp/root-tmpfs/crun run --bundle $bundle/run ar-bench-$tag-ct-{i}"
  crun-root-tmpfs-no-cgroup "$tmp/bin/crun --root $tmp/root-tmpfs/crun --cgroup-manager=disabled run --bundle $bundle/run ar-bench-$tag-ctn-{i}"
  crun-wrapped "$tmp/bin/crun-wrapped --root $tmp/root/crun run --bundle $bundle/run ar-bench-$tag-cw-{i}"
  crun-noreexec "$tmp/bin/crun-noreexec --root $tmp/root/crun run --bundle $bundle/run ar-bench-$tag-cr-{i}"
  agentrun-version "$tmp/bin/agentrun --version"
  crun-version "$tmp/bin/crun --version"
  crun-wrapped-version "$tmp/bin/crun-wrapped --version"
  crun-noreexec-version "$tmp/bin/crun-noreexec --version"
  true "/bin/true"
)
names=()
commands=()
for ((k = 0; k < ${#variants[@]}; k += 2)); do
  names+=("${variants[k]}")
  commands+=("${variants[k + 1]}")
done
# The pause before each command lets the cgroup attach of the command
# before it age out (see bench/run.sh).
hyperfine -N -i -r 1 -L i "$iterations" --style none --export-json "$OUT/variants.json" \
  --prepare "sleep $PAUSE" "${commands[@]}"
jq -r --argjson names "$(printf '%s\n' "${names[@]}" | jq -R . | jq -s .)" '
  def median: sort | if length % 2 == 1 then .[(length - 1) / 2] else (.[length / 2 - 1] + .[length / 2]) / 2 end;
  [.results | to_entries[] | {name: $names[.key % ($names | length)], t: .value.times[0],
                               u: .value.user, s: .value.system}]
  | group_by(.name)
  | map("\(.[0].name)\tmin \(map(.t) | min * 1e4 | round / 10) ms\tmedian \(map(.t) | median * 1e4 | round / 10) ms"
        + "\tuser+sys median \(map(.u + .s) | median * 1e4 | round / 10) ms") | .[]' \
  "$OUT/variants.json" | column -t -s $'\t' > "$OUT/variants.txt"
cat "$OUT/variants.txt"

echo "== 100 containers, four at a time, state on the disk and on a tmpfs" >&2
parallel="seq 100 | xargs -P4 -I@"
hyperfine -N -i -r 1 -L i "$(seq -s, 1 "${PAR_RUNS:-3}")" --style none --export-json "$OUT/parallel.json" \
  "sh -c '$parallel $ar_cmd run --bundle $bundle/run ar-bench-$tag-pa-{i}-@'" \
  "sh -c '$parallel $tmp/bin/agentrun --root $tmp/root-tmpfs/agentrun run --bundle $bundle/run ar-bench-$tag-pat-{i}-@'" \
  "sh -c '$parallel $cr_cmd run --bundle $bundle/run ar-bench-$tag-pc-{i}-@'" \
  "sh -c '$parallel $tmp/bin/crun --root $tmp/root-tmpfs/crun run --bundle $bundle/run ar-bench-$tag-pct-{i}-@'"
jq -r '
  def median: sort | if length % 2 == 1 then .[(length - 1) / 2] else (.[length / 2 - 1] + .[length / 2]) / 2 end;
  ["agentrun", "agentrun-root-tmpfs", "crun", "crun-root-tmpfs"] as $names
  | [.results | to_entries[] | {name: $names[.key % 4], t: .value.times[0]}] | group_by(.name)
  | map("\(.[0].name)\tmin \(map(.t) | min * 1000 | round) ms\tmedian \(map(.t) | median * 1000 | round) ms")
  | .[]' "$OUT/parallel.json" | column -t -s $'\t' > "$OUT/parallel.txt"
cat "$OUT/parallel.txt"

echo "== strace -c" >&2
strace -c -f -o "$OUT/strace-c.agentrun.txt" "${ar[@]}" run --bundle "$bundle/run" "ar-bench-$tag-sc"
strace -c -f -o "$OUT/strace-c.crun.txt" "${cr[@]}" run --bundle "$bundle/run" "ar-bench-$tag-sc"

# The first write of a pid into a cgroup v1 cgroup.procs in a while waits
# for an RCU grace period (the kernel's cgroup_threadgroup_rwsem), so it is
# timed on its own, per run.
echo "== cgroup attach" >&2
{
  echo "# runtime: sum of the times of the writes to cgroup.procs, per run (ms)"
  for rt in agentrun crun; do
    printf '%s:' "$rt"
    for n in $(seq "$RUNS"); do
      strace -f -T -e trace=openat,write -o "$tmp/attach.trace" \
        "$tmp/bin/$rt" --root "$tmp/root/$rt" run --bundle "$bundle/run" "ar-bench-$tag-$rt-attach-$n"
      grep -A1 '/sys/fs/cgroup/[a-z,=]*/.*cgroup.procs", O_WRONLY' "$tmp/attach.trace" \
        | grep -v unified | grep 'write(' | grep -o '<[0-9.]*>' | tr -d '<>' \
        | awk '{ s += $1 } END { printf " %.1f", s * 1000 }'
    done
    echo
  done
} > "$OUT/cgroup-attach.txt"
cat "$OUT/cgroup-attach.txt"

# timeline BUNDLE LABEL RUNTIME-COMMAND...
timeline ()
{
  local bundle_dir=$1 label=$2
  shift 2
  strace -f -ttt -T -o "$tmp/timeline.trace" "$@" run --bundle "$bundle_dir" "ar-bench-$tag-tl-$label"
  awk '
    { pid = $1; t = $2 + 0
      if (pid in last && t - last[pid] > 0.0002)
        printf "gap %6.2f ms in %s before: %s\n", (t - last[pid]) * 1000, pid, substr($0, index($0, $3), 120)
      last[pid] = t
      if (match($0, /<[0-9.]+>$/)) {
        d = substr($0, RSTART + 1, RLENGTH - 2) + 0
        if (d > 0.0002)
          printf "call %5.2f ms in %s: %s\n", d * 1000, pid, substr($0, index($0, $3), 120)
        # A call that ended later was in flight, not a gap.
        last[pid] = t + d
      }
    }' "$tmp/timeline.trace" > "$OUT/timeline.$label.txt"
  printf 'total %.2f ms\n' "$(awk 'NR == 1 { first = $2 } { t = $2 } END { print (t - first) * 1000 }' \
    "$tmp/timeline.trace")" >> "$OUT/timeline.$label.txt"
}
echo "== timelines" >&2
timeline "$bundle/run" agentrun "${ar[@]}"
timeline "$bundle/seccomp" agentrun-seccomp "${ar[@]}"
timeline "$bundle/run" crun "${cr[@]}"

echo "== ld.so statistics" >&2
{
  for binary in "$AGENTRUN" "$tmp/crun-ro"; do
    echo "# $binary --version"
    LD_DEBUG=statistics _LIBCONTAINER_CLONED_BINARY=1 "$binary" --version 2>&1 > /dev/null \
      | sed 's/^ *[0-9]*: *//'
  done
  echo "# shared libraries of agentrun"
  ldd "$AGENTRUN"
} > "$OUT/ld-statistics.txt"

echo "== callgrind" >&2
cc -O2 -Wall -Wextra -shared -fPIC -o "$tmp/valgrind_shim.so" "$here/valgrind_shim.c" -ldl
valgrind --tool=callgrind --trace-children=no --callgrind-out-file="$tmp/cg.agentrun" \
  "${ar[@]}" run --bundle "$bundle/norlimit" "ar-bench-$tag-cg" > "$tmp/cg.agentrun.log" 2>&1 || true
LD_PRELOAD=$tmp/valgrind_shim.so valgrind --tool=callgrind --trace-children=no \
  --callgrind-out-file="$tmp/cg.agentrun-shim" \
  "${ar[@]}" run --bundle "$bundle/norlimit" "ar-bench-$tag-cgs" > "$tmp/cg.agentrun-shim.log" 2>&1 || true
_LIBCONTAINER_CLONED_BINARY=1 valgrind --tool=callgrind --trace-children=no \
  --callgrind-out-file="$tmp/cg.crun-noreexec" \
  "$tmp/crun-ro" --root "$tmp/root/crun" run --bundle "$bundle/norlimit" "ar-bench-$tag-cg" \
  > "$tmp/cg.crun-noreexec.log" 2>&1 || true
labels=(agentrun agentrun-shim crun-noreexec)
# The seccomp profile is compiled before clone, so the count without the
# shim covers the whole compilation.
if [[ -d $bundle/seccomp-norlimit ]]; then
  valgrind --tool=callgrind --trace-children=no --callgrind-out-file="$tmp/cg.agentrun-seccomp" \
    "${ar[@]}" run --bundle "$bundle/seccomp-norlimit" "ar-bench-$tag-cgsec" \
    > "$tmp/cg.agentrun-seccomp.log" 2>&1 || true
  _LIBCONTAINER_CLONED_BINARY=1 valgrind --tool=callgrind --trace-children=no \
    --callgrind-out-file="$tmp/cg.crun-noreexec-seccomp" \
    "$tmp/crun-ro" --root "$tmp/root/crun" run --bundle "$bundle/seccomp-norlimit" "ar-bench-$tag-cgsec" \
    > "$tmp/cg.crun-noreexec-seccomp.log" 2>&1 || true
  labels+=(agentrun-seccomp crun-noreexec-seccomp)
fi
for label in "${labels[@]}"; do
  {
    grep -v '^==\|^--' "$tmp/cg.$label.log" | head -3 || true
    callgrind_annotate --inclusive=yes --threshold=99 "$tmp/cg.$label" 2> /dev/null \
      | sed -n '/PROGRAM TOTALS/,$p' | head -45 || true
  } > "$OUT/callgrind.$label.txt"
done
echo "profile: results in $OUT" >&2
