#!/bin/bash
# Benchmarks agentrun against crun and runc on one busybox bundle, with
# hyperfine, and records peak RSS and instruction counts.  `make bench`
# runs it; it needs root.  It runs inside a private mount namespace that
# hides /sys/fs/cgroup/unified, so that crun works on this hybrid cgroup
# host (see bench/common.sh).
#
# Each case is one hyperfine parameter scan over the runtime (outer) and
# the iteration (inner), with one run per combination (-L rt ... -L i ...
# -r 1).  The three runtimes thus take turns, and every iteration uses a
# container id of its own.  hyperfine runs the commands without a shell
# (-N).
#
# Where the measured command moves a process into cgroups (run, create,
# exec), each run waits PAUSE seconds first, untimed.  On cgroup v1 the
# first write to a cgroup.procs file waits for an RCU grace period (5 to
# 15 ms on this machine) unless another write ended less than about one
# grace period before; back to back, the runtime that follows one which
# just wrote its cgroups would skip that wait, and the order of the
# runtimes would decide the ratios.  After the pause every runtime pays
# the wait, as a single container start on a quiet host does.
#
# Environment:
#   AGENTRUN, CRUN, RUNC  the binaries (default ./agentrun, crun, runc)
#   RUNS        iterations per runtime for each single-container case (50)
#   PAR_RUNS    iterations of the 100-container case (5)
#   RSS_RUNS    runs per runtime for peak RSS (20)
#   PAUSE       seconds to wait, untimed, before each run that writes
#               cgroups (0.1)
#   ICOUNT      1: also count instructions by single-stepping (minutes)
#   ICOUNT_RUNTIMES  the runtimes to single-step ("agentrun crun")
#   OUT         folder for the raw results (bench/out)
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
RUNS=${RUNS:-50}
PAR_RUNS=${PAR_RUNS:-5}
RSS_RUNS=${RSS_RUNS:-20}
PAUSE=${PAUSE:-0.1}
OUT=${OUT:-$here/out}
# shellcheck source=bench/common.sh
. "$here/common.sh"
rm -f "$OUT"/*.json "$OUT"/*.txt "$OUT"/*.md "$OUT"/callgrind.* 2> /dev/null || true
: > "$OUT/errors.txt"

rt_cmd="$tmp/bin/{rt} --root $tmp/root/{rt}"
iterations=$(seq -s, 1 "$RUNS")

# hyperfine_scan NAME ITERATIONS HYPERFINE-ARGS... COMMAND
hyperfine_scan ()
{
  local name=$1 list=$2
  shift 2
  echo "== $name" >&2
  # -i: a run that fails is recorded with its exit code, which
  # summarize.sh counts, instead of ending the whole benchmark.
  hyperfine -N -i -r 1 -L rt "$(IFS=,; echo "${runtimes[*]}")" -L i "$list" -n '{rt}' --style none \
    --export-json "$OUT/$name.json" "$@"
}

# prepare-stopped RUNTIME ID: creates and starts container ID from the run
# bundle and waits until /bin/true has exited, so that `delete` runs on a
# stopped container and no runtime has to kill.  A step that fails is
# logged to $OUT/errors.txt; the `delete` that follows then fails and is
# counted, while hyperfine would stop at a failed preparation.
cat > "$tmp/bin/prepare-stopped" << END
#!/bin/sh
rt=\$1 id=\$2
runtime="$tmp/bin/\$rt --root $tmp/root/\$rt"
log=$tmp/prepare.log
fail ()
{
  echo "prepare-stopped \$rt \$id: \$1: \$(cat \$log)" >> "$OUT/errors.txt"
  exit 0
}
# Output goes to a file: the container process keeps what it inherits
# open until it exits.
\$runtime create --bundle "$bundle/run" "\$id" > \$log 2>&1 < /dev/null || fail create
\$runtime start "\$id" > \$log 2>&1 || fail start
for n in \$(seq 500); do
  \$runtime state "\$id" 2> /dev/null | grep -q '"running"' || exit 0
  sleep 0.01
done
echo > \$log
fail "still running after 5 s"
END
chmod +x "$tmp/bin/prepare-stopped"

echo "bench: warming up" >&2
for rt in "${runtimes[@]}"; do
  for n in 1 2 3 4 5; do
    "$tmp/bin/$rt" --root "$tmp/root/$rt" run --bundle "$bundle/run" "ar-bench-$tag-$rt-warmup-$n" > /dev/null
  done
done

hyperfine_scan version "$iterations" "$tmp/bin/{rt} --version"

hyperfine_scan run "$iterations" --prepare "sleep $PAUSE" "$rt_cmd run --bundle $bundle/run ar-bench-$tag-{rt}-run-{i}"

if [[ -f $bundle/seccomp/config.json ]]; then
  hyperfine_scan run-seccomp "$iterations" --prepare "sleep $PAUSE" "$rt_cmd run --bundle $bundle/seccomp ar-bench-$tag-{rt}-seccomp-{i}"
fi

hyperfine_scan create "$iterations" --prepare "sleep $PAUSE" \
  --cleanup "$rt_cmd delete --force ar-bench-$tag-{rt}-create-{i}" \
  "$rt_cmd create --bundle $bundle/run ar-bench-$tag-{rt}-create-{i}"

hyperfine_scan start "$iterations" \
  --prepare "$rt_cmd create --bundle $bundle/run ar-bench-$tag-{rt}-start-{i}" \
  --cleanup "$rt_cmd delete --force ar-bench-$tag-{rt}-start-{i}" \
  "$rt_cmd start ar-bench-$tag-{rt}-start-{i}"

hyperfine_scan delete "$iterations" \
  --prepare "$tmp/bin/prepare-stopped {rt} ar-bench-$tag-{rt}-delete-{i}" \
  "$rt_cmd delete ar-bench-$tag-{rt}-delete-{i}"

for rt in "${runtimes[@]}"; do
  "$tmp/bin/$rt" --root "$tmp/root/$rt" create --bundle "$bundle/sleep" "ar-bench-$tag-$rt-exec" < /dev/null > /dev/null 2>&1
  "$tmp/bin/$rt" --root "$tmp/root/$rt" start "ar-bench-$tag-$rt-exec"
done
hyperfine_scan exec "$iterations" --prepare "sleep $PAUSE" "$rt_cmd exec ar-bench-$tag-{rt}-exec /bin/true"
for rt in "${runtimes[@]}"; do
  "$tmp/bin/$rt" --root "$tmp/root/$rt" delete --force "ar-bench-$tag-$rt-exec"
done

# The full agent sandbox (bench/agent-policy.yaml, inline in config.json,
# with a local CA for the SVIDs) against plain runs of agentrun and crun, in
# one scan: the "runtime" agentrun-agent is agentrun on the agent bundle.
"$tmp/bin/agentrun" ca init --trust-domain bench.example --dir "$tmp/ca" > /dev/null
mkdir -p "$bundle/agent"
jq --rawfile policy "$here/agent-policy.yaml" --arg ca "$tmp/ca" '
  .annotations["agentrun.policy.inline"] = $policy | .annotations["agentrun.identity.ca"] = $ca' \
  "$bundle/run/config.json" > "$bundle/agent/config.json"
ln -s "$tmp/bin/agentrun" "$tmp/bin/agentrun-agent"
ln -s "$tmp/root/agentrun" "$tmp/root/agentrun-agent"
ln -s run "$bundle/case-crun"
ln -s run "$bundle/case-agentrun"
ln -s agent "$bundle/case-agentrun-agent"
echo "== agent" >&2
hyperfine -N -i -r 1 -L rt crun,agentrun,agentrun-agent -L i "$iterations" -n '{rt}' --style none \
  --export-json "$OUT/agent.json" --prepare "sleep $PAUSE" \
  "$tmp/bin/{rt} --root $tmp/root/{rt} run --bundle $bundle/case-{rt} ar-bench-$tag-{rt}-agent-{i}"

hyperfine_scan run-100-parallel-4 "$(seq -s, 1 "$PAR_RUNS")" \
  "sh -c 'seq 100 | xargs -P4 -I@ $rt_cmd run --bundle $bundle/run ar-bench-$tag-{rt}-par-{i}-@'"

# Peak RSS: /usr/bin/time's %M is ru_maxrss from wait4, the largest
# resident set of any one process in the tree that the runtime reaped
# (the runtime before and after its re-exec, its helpers, the container
# process before and after it executes /bin/true).
echo "== peak RSS" >&2
: > "$OUT/rss.txt"
for n in $(seq "$RSS_RUNS"); do
  for rt in "${runtimes[@]}"; do
    /usr/bin/time -f "$rt %M" -a -o "$OUT/rss.txt" \
      "$tmp/bin/$rt" --root "$tmp/root/$rt" run --bundle "$bundle/run" "ar-bench-$tag-$rt-rss-$n"
  done
  /usr/bin/time -f "agentrun-agent %M" -a -o "$OUT/rss.txt" \
    "$tmp/bin/agentrun" --root "$tmp/root/agentrun" run --bundle "$bundle/agent" "ar-bench-$tag-agentrun-agent-rss-$n"
done

# Instruction counts.  valgrind 3.19 cannot run any of the three runtimes
# through a whole `run`, so each row records the exit status and first
# message, and bench/RESULTS.md explains what each count covers.
echo "== callgrind" >&2
cc -O2 -Wall -Wextra -shared -fPIC -o "$tmp/valgrind_shim.so" "$here/valgrind_shim.c" -ldl
callgrind () # LABEL COMMAND...
{
  local label=$1 rc=0
  shift
  valgrind --tool=callgrind --trace-children=no --callgrind-out-file="$OUT/callgrind.$label.%p" \
    "$@" > "$OUT/callgrind.$label.log" 2>&1 || rc=$?
  local log=$OUT/callgrind.$label.log main
  main=$(sed -n 's/^==\([0-9]*\)== Command:.*/\1/p' "$log" | head -1)
  # label, exit status, instructions of the first process, first error line
  printf '%s\t%s\t%s\t%s\n' "$label" "$rc" \
    "$(sed -n "s/^==$main== Collected : \([0-9]*\).*/\1/p" "$log")" \
    "$(grep -v '^==\|^--' "$log" | grep -m1 -E 'Assertion|[a-z]{3}')" >> "$OUT/callgrind.txt"
}
: > "$OUT/callgrind.txt"
for rt in "${runtimes[@]}"; do
  callgrind "$rt" "$tmp/bin/$rt" --root "$tmp/root/$rt" run --bundle "$bundle/norlimit" "ar-bench-$tag-$rt-callgrind"
done
# agentrun with clone3 and openat2 turned into clone and openat.
LD_PRELOAD=$tmp/valgrind_shim.so callgrind agentrun-shim \
  "$tmp/bin/agentrun" --root "$tmp/root/agentrun" run --bundle "$bundle/norlimit" "ar-bench-$tag-agentrun-callgrind-shim"
# crun without its re-exec: a crun binary on a read-only mount, with
# _LIBCONTAINER_CLONED_BINARY=1, counts as already cloned.
touch "$tmp/crun-ro"
mount --bind "$CRUN" "$tmp/crun-ro"
mount -o remount,bind,ro "$tmp/crun-ro"
_LIBCONTAINER_CLONED_BINARY=1 callgrind crun-noreexec \
  "$tmp/crun-ro" --root "$tmp/root/crun" run --bundle "$bundle/norlimit" "ar-bench-$tag-crun-callgrind-noreexec"
umount "$tmp/crun-ro"

if [[ ${ICOUNT:-0} == 1 ]]; then
  echo "== icount (single-stepping: several minutes)" >&2
  cc -O2 -Wall -Wextra -o "$tmp/icount" "$here/icount.c"
  : > "$OUT/icount.txt"
  # runc is left out by default: its Go runtime executes tens of millions
  # of instructions, an hour of single-stepping here.
  for rt in ${ICOUNT_RUNTIMES:-agentrun crun}; do
    echo "# $rt" >> "$OUT/icount.txt"
    "$tmp/icount" "$tmp/bin/$rt" --root "$tmp/root/$rt" run --bundle "$bundle/run" "ar-bench-$tag-$rt-icount" \
      2>> "$OUT/icount.txt"
  done
fi

"$here/summarize.sh" "$OUT" | tee "$OUT/summary.md"
