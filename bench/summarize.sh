#!/bin/bash
# Prints the results that bench/run.sh left in OUT as Markdown tables:
# min and median per runtime, and the ratios of the medians to crun's.
# Runs that exited non-zero are left out of the times and counted.
#
# Usage: bench/summarize.sh OUT
set -euo pipefail

out=${1:?usage: $0 OUT}

# The targets, as the highest allowed ratio of agentrun's median to crun's.
declare -A target=([run]=0.8 [create]=1.0 [start]=1.0 [delete]=1.0 [rss]=1.0)

echo "## Machine"
echo
echo "- $(date -u +%Y-%m-%dT%H:%MZ), $(nproc) CPUs, $(free -g | awk '/^Mem:/ {print $2}') GiB,"\
     "kernel $(uname -r), $(. /etc/os-release && echo "$PRETTY_NAME")"
echo "- $(crun --version | head -1), $(runc --version | head -1), $(hyperfine --version)," \
     "$(valgrind --version)"
echo "- load average before the summary: $(cut -d' ' -f1-3 /proc/loadavg)"
echo
echo "## Times (hyperfine, one run per runtime in turn)"
echo
echo "| case | runs | agentrun min / median | crun min / median | runc min / median | agentrun/crun | runc/crun | target |"
echo "| --- | ---: | ---: | ---: | ---: | ---: | ---: | --- |"

for name in version run run-seccomp create start delete exec run-100-parallel-4; do
  file=$out/$name.json
  [[ -f $file ]] || continue
  jq -r --arg name "$name" --arg target "${target[$name]:-}" '
    def median: sort | if length % 2 == 1 then .[(length - 1) / 2]
                       else (.[length / 2 - 1] + .[length / 2]) / 2 end;
    def ms: if . >= 1 then "\(. * 100 | round / 100) s" else "\(. * 10000 | round / 10) ms" end;
    def ratio($a; $b): ($a / $b * 100 | round / 100);
    [.results[] | {rt: .command, t: .times[0], ok: (.exit_codes[0] == 0)}]
    | group_by(.rt)
    | map({key: .[0].rt, value: (map(select(.ok) | .t) as $t
                                 | {min: ($t | min), median: ($t | median), n: length,
                                    failed: map(select(.ok | not)) | length})})
    | from_entries as $s
    | ratio($s.agentrun.median; $s.crun.median) as $r
    | ([$s | to_entries[] | select(.value.failed > 0) | "\(.value.failed) of \(.key) failed"]
       | if length > 0 then " (" + join(", ") + ")" else "" end) as $failed
    | "| \($name) | \($s.crun.n)\($failed) "
      + "| \($s.agentrun.min | ms) / \($s.agentrun.median | ms) "
      + "| \($s.crun.min | ms) / \($s.crun.median | ms) "
      + "| \($s.runc.min | ms) / \($s.runc.median | ms) "
      + "| \($r) | \(ratio($s.runc.median; $s.crun.median)) "
      + "| \(if $target == "" then "-" elif $r <= ($target | tonumber) then "<= \($target): met"
             else "<= \($target): not met" end) |"' "$file"
done

echo
echo "## CPU time (user + system of the command and its children, median of the same runs)"
echo
echo "Waits (an RCU grace period in the cgroup attach, fsync, the child's set-up) do not count here,"
echo "so these medians move less with the machine's load than the wall-clock times above."
echo
echo "| case | agentrun | crun | runc | agentrun/crun | runc/crun |"
echo "| --- | ---: | ---: | ---: | ---: | ---: |"
for name in version run run-seccomp create start delete exec run-100-parallel-4; do
  file=$out/$name.json
  [[ -f $file ]] || continue
  jq -r --arg name "$name" '
    def median: sort | if length % 2 == 1 then .[(length - 1) / 2]
                       else (.[length / 2 - 1] + .[length / 2]) / 2 end;
    def ms: if . >= 1 then "\(. * 100 | round / 100) s" else "\(. * 10000 | round / 10) ms" end;
    [.results[] | select(.exit_codes[0] == 0) | {rt: .command, cpu: (.user + .system)}]
    | group_by(.rt) | map({key: .[0].rt, value: (map(.cpu) | median)}) | from_entries as $c
    | "| \($name) | \($c.agentrun | ms) | \($c.crun | ms) | \($c.runc | ms) "
      + "| \($c.agentrun / $c.crun * 100 | round / 100) | \($c.runc / $c.crun * 100 | round / 100) |"' "$file"
done

if [[ -f $out/agent.json ]]; then
  echo
  echo "## The full agent sandbox (bench/agent-policy.yaml) against plain runs, one scan"
  echo
  echo "| command | runs | min / median | CPU median | / plain crun run | / plain agentrun run | target |"
  echo "| --- | ---: | ---: | ---: | ---: | ---: | --- |"
  jq -r '
    def median: sort | if length % 2 == 1 then .[(length - 1) / 2]
                       else (.[length / 2 - 1] + .[length / 2]) / 2 end;
    def ms: if . >= 1 then "\(. * 100 | round / 100) s" else "\(. * 10000 | round / 10) ms" end;
    def ratio($a; $b): ($a / $b * 100 | round / 100);
    [.results[] | {rt: .command, t: .times[0], cpu: (.user + .system), ok: (.exit_codes[0] == 0)}]
    | group_by(.rt)
    | map({key: .[0].rt, value: (map(select(.ok)) as $ok
                                 | {min: ($ok | map(.t) | min), median: ($ok | map(.t) | median),
                                    cpu: ($ok | map(.cpu) | median), n: length,
                                    failed: map(select(.ok | not)) | length})})
    | from_entries as $s
    | ["crun", "agentrun", "agentrun-agent"][] as $rt
    | $s[$rt] as $v
    | "| \(if $rt == "agentrun-agent" then "agentrun, agent policy" else "\($rt), plain" end) "
      + "| \($v.n)\(if $v.failed > 0 then " (\($v.failed) failed)" else "" end) "
      + "| \($v.min | ms) / \($v.median | ms) | \($v.cpu | ms) "
      + "| \(ratio($v.median; $s.crun.median)) | \(ratio($v.median; $s.agentrun.median)) "
      + "| \(if $rt != "agentrun-agent" then "-" elif ratio($v.median; $s.crun.median) <= 1.5
             then "<= 1.5 x plain crun: met" else "<= 1.5 x plain crun: not met" end) |"' "$out/agent.json"
fi

if [[ -s $out/errors.txt ]]; then
  echo
  echo "Failed preparations (their runs are counted as failed above):"
  echo
  sed 's/^/    /' "$out/errors.txt"
fi

if [[ -s $out/rss.txt ]]; then
  echo
  echo "## Peak RSS of \`run\` (KiB, ru_maxrss of the reaped process tree)"
  echo
  echo "| runtime | runs | median | max | median / crun's | target |"
  echo "| --- | ---: | ---: | ---: | ---: | --- |"
  awk -v target="${target[rss]}" '
    { kib[$1] = kib[$1] " " $2; n[$1]++ }
    function median(list,   a, k, i, j, t) {
      k = split(list, a, " ")
      for (i = 1; i <= k; i++) for (j = i + 1; j <= k; j++) if (a[j] + 0 < a[i] + 0) { t = a[i]; a[i] = a[j]; a[j] = t }
      return k % 2 ? a[(k + 1) / 2] : (a[k / 2] + a[k / 2 + 1]) / 2
    }
    function max(list,   a, k, i, m) {
      k = split(list, a, " "); m = 0
      for (i = 1; i <= k; i++) if (a[i] + 0 > m) m = a[i] + 0
      return m
    }
    END {
      c = median(kib["crun"])
      split("agentrun crun runc agentrun-agent", order, " ")
      for (o = 1; o <= 4; o++) {
        rt = order[o]
        if (!(rt in n)) continue
        m = median(kib[rt]); r = sprintf("%.2f", m / c)
        t = rt == "agentrun" ? ("<= " target ": " (r + 0 <= target ? "met" : "not met")) : "-"
        printf "| %s | %d | %d | %d | %s | %s |\n", rt, n[rt], m, max(kib[rt]), r, t
      }
    }' "$out/rss.txt"
fi

if [[ -s $out/callgrind.txt ]]; then
  echo
  echo "## callgrind (valgrind --tool=callgrind --trace-children=no, bundle without rlimits)"
  echo
  echo "| command | exit status | instructions of the first process | first message |"
  echo "| --- | ---: | ---: | --- |"
  awk -F'\t' '{ printf "| %s | %s | %s | %s |\n", $1, $2, ($3 == "" ? "-" : $3), ($4 == "" ? "-" : $4) }' \
    "$out/callgrind.txt"
fi

if [[ -s $out/icount.txt ]]; then
  echo
  echo "## Single-stepped instruction counts of \`run\` (bench/icount.c), by program"
  echo
  echo '```'
  cat "$out/icount.txt"
  echo '```'
fi
