#!/bin/bash
# demo.sh [agentrun|podman|both]: runs the demo agent (examples/demo/agent.py)
# in a Debian 12 root filesystem under the policy
# examples/policies/demo-agent.yaml with a SPIFFE identity, and prints what
# it could do, what was blocked and by which policy rule.  With `agentrun`
# (the default), `agentrun run` runs the agent.  With `podman`, podman runs
# it with agentrun as its runtime, on an image imported from the same root
# filesystem.  `both` does one after the other.  Needs root and a built
# ./agentrun.
#
# What it makes, and removes when it ends (NAME is DEMO_NAME, by default
# ar-demo-PID; it is also the container's id with agentrun run):
#   - network namespaces: NAME (the "host", where agentrun and podman
#     run) and NAME-s (the test hosts: api.demo.test and exfil.demo.test,
#     python3 -m http.server each, and a DNS server that resolves both
#     names, the upstream of agentrun's DNS responder).  With agentrun run,
#     the agent gets a new network namespace and agentrun's own network:
#     a veth pair from NAME, the table `inet agentrun-host` and forwarding
#     in NAME (AGENTRUN_NETWORK_SUBNET 10.213.92.0/24).  With podman, the
#     agent joins NAME-c2 by path, which the demo makes with a veth pair
#     from NAME.  NAME forwards between them.  Nothing touches the network
#     of the namespace the script was started in;
#   - a temporary folder with the bundle, the workspace, podman's storage,
#     and a copy of the policy whose audit events go to a file there, for
#     the report.
# What it keeps between runs:
#   - the root filesystem, /var/cache/agentrun/demo-rootfs (DEMO_ROOTFS),
#     built by build-rootfs.sh on the first run only;
#   - the local CA, /var/lib/agentrun/demo-ca (DEMO_CA), made with
#     `agentrun ca init` on the first run only;
#   - the lock files DEMO_ROOTFS.lock and DEMO_CA.lock, which keep two first
#     runs from building either twice.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)
agentrun=${AGENTRUN:-$repo/agentrun}
policy=$repo/examples/policies/demo-agent.yaml
rootfs=${DEMO_ROOTFS:-/var/cache/agentrun/demo-rootfs}
ca=${DEMO_CA:-/var/lib/agentrun/demo-ca}
trust_domain=demo.agentrun.test
python=/usr/bin/python3
which=${1:-agentrun}

case $which in
  agentrun | podman | both) ;;
  *)
    echo "usage: $0 [agentrun|podman|both]" >&2
    exit 2
    ;;
esac
if [ "$(id -u)" != 0 ]; then
  echo "$0: run as root (sudo $0): it makes network namespaces and containers" >&2
  exit 1
fi
if [ ! -x "$agentrun" ]; then
  echo "$0: $agentrun not found: run make first, or set AGENTRUN" >&2
  exit 1
fi
for cmd in ip nsenter nft jq "$python"; do
  command -v "$cmd" >/dev/null || {
    echo "$0: $cmd not found: run .ci/install-deps" >&2
    exit 1
  }
done
"$python" -c 'import dnslib' 2>/dev/null || {
  echo "$0: $python lacks dnslib: install python3-dnslib (.ci/install-deps)" >&2
  exit 1
}
if [ "$which" != agentrun ] && ! command -v podman >/dev/null; then
  echo "$0: podman not found: run .ci/install-deps" >&2
  exit 1
fi

# The test network.  The host namespace has 10.213.90.1 towards the test
# hosts, 10.213.91.5 towards podman's agent, and agentrun's gateway
# 10.213.92.1 towards the agent of agentrun run.
tag=${DEMO_NAME:-ar-demo-$$}
host_ns=$tag
servers_ns=$tag-s
api_address=10.213.90.10
exfil_address=10.213.90.20
dns_address=10.213.90.53
agent_subnet=10.213.92.0/24

work=$(mktemp -d "${TMPDIR:-/tmp}/ar-demo.XXXXXX")
pids=()
cleanup() {
  local pid
  set +e
  [ "$which" = agentrun ] || podman_cleanup
  # delete runs where create ran, in the demo's host namespace, so that it
  # finds the veth pair and the host table that agentrun made there.
  if [ -e "/run/netns/$host_ns" ]; then
    nsenter --net="/run/netns/$host_ns" "$agentrun" --root "$work/state" delete --force "$tag" >/dev/null 2>&1
  fi
  for pid in "${pids[@]}"; do
    kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
  done
  # Whatever still runs in the test hosts' namespace was started by the
  # demo, and would keep the namespace alive.
  if [ -e "/run/netns/$servers_ns" ]; then
    for pid in $(ip netns pids "$servers_ns"); do
      kill "$pid" 2>/dev/null
    done
  fi
  # Deleting NAME removes what agentrun made there: the host ends of its
  # veth pairs and the table inet agentrun-host.
  for ns in "$tag-c2" "$servers_ns" "$host_ns"; do
    [ ! -e "/run/netns/$ns" ] || ip netns del "$ns"
  done
  rm -rf --one-file-system "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
# The agent runs as uid 1000, which must reach its files.
chmod 0755 "$work"

# Elapsed seconds since the script started, for the progress lines.
say() {
  printf '[%3ss] %s\n' "$SECONDS" "$*" >&2
}

# Waits until something listens on ADDRESS:PORT (tcp or udp) in the test
# hosts' namespace.
wait_listen() {
  local proto=$1 address=$2 port=$3 i
  for ((i = 0; i < 400; i++)); do
    ip netns exec "$servers_ns" ss -Hln"${proto:0:1}" "src $address:$port" | grep -q . && return 0
    sleep 0.05
  done
  echo "$0: nothing listens on $proto $address:$port in $servers_ns" >&2
  return 1
}

# Makes the agent's namespace NAME and a veth pair from the host namespace
# into it: agent_netns NAME HOST_ADDRESS AGENT_ADDRESS (both in a /30).
agent_netns() {
  local name=$1 host_address=$2 agent_address=$3 link=${1##*-}
  ip netns add "$name"
  ip -n "$host_ns" link add "$link" type veth peer name eth0 netns "$name"
  ip -n "$host_ns" addr add "$host_address/30" dev "$link"
  ip -n "$host_ns" link set "$link" up
  ip -n "$name" addr add "$agent_address/30" dev eth0
  ip -n "$name" link set lo up
  ip -n "$name" link set eth0 up
  ip -n "$name" route add default via "$host_address"
}

# Runs COMMAND in the test hosts' namespace with the demo's /etc/hosts.
# `ip netns exec` gives it a mount namespace whose mounts stay there.  Call
# it in the background (&): it replaces its subshell, so that $! is the
# server's pid, which cleanup kills.
in_servers() {
  exec ip netns exec "$servers_ns" sh -c 'mount --bind "$0" /etc/hosts && exec "$@"' "$work/hosts" "$@"
}

setup_network() {
  ip netns add "$host_ns"
  ip netns add "$servers_ns"
  ip -n "$host_ns" link set lo up
  ip -n "$servers_ns" link set lo up
  ip -n "$host_ns" link add servers type veth peer name eth0 netns "$servers_ns"
  ip -n "$host_ns" addr add 10.213.90.1/24 dev servers
  ip -n "$host_ns" link set servers up
  for address in "$api_address" "$exfil_address" "$dns_address"; do
    ip -n "$servers_ns" addr add "$address/24" dev eth0
  done
  ip -n "$servers_ns" link set eth0 up
  ip -n "$servers_ns" route add default via 10.213.90.1
  # Forwarding in the demo's host namespace only (a per-namespace setting).
  ip netns exec "$host_ns" sh -c 'echo 1 >/proc/sys/net/ipv4/ip_forward'
  agent_netns "$tag-c2" 10.213.91.5 10.213.91.6

  # http.server looks its address up when it starts, and the host's DNS
  # servers are out of reach from the test hosts, so their /etc/hosts
  # lists the names.
  printf '127.0.0.1 localhost\n%s api.demo.test\n%s exfil.demo.test\n%s dns.demo.test\n' \
    "$api_address" "$exfil_address" "$dns_address" >"$work/hosts"

  mkdir -p "$work/www-api" "$work/www-exfil"
  echo "api.demo.test: hello, agent" >"$work/www-api/index.html"
  echo "exfil.demo.test: upload accepted" >"$work/www-exfil/index.html"
  in_servers "$python" -m http.server --bind "$api_address" --directory "$work/www-api" 80 \
    >"$work/api.log" 2>&1 &
  pids+=($!)
  in_servers "$python" -m http.server --bind "$exfil_address" --directory "$work/www-exfil" 80 \
    >"$work/exfil.log" 2>&1 &
  pids+=($!)
  in_servers "$python" "$here/dns-server.py" "$dns_address" \
    "api.demo.test=$api_address" "exfil.demo.test=$exfil_address" >"$work/dns.log" 2>&1 &
  pids+=($!)
  wait_listen tcp "$api_address" 80
  wait_listen tcp "$exfil_address" 80
  wait_listen udp "$dns_address" 53
}

# The policy that the containers run: a copy of demo-agent.yaml whose
# audit events go to EVENTS, a file the report reads.  Only that line
# differs, so the rules keep their lines.
policy_copy() {
  mkdir -p "$work/policies"
  sed "s|^  events: .*|  events: $work/events.jsonl|" "$policy" >"$work/policies/demo-agent.yaml"
  grep -qxF "  events: $work/events.jsonl" "$work/policies/demo-agent.yaml" || {
    echo "$0: $policy has no audit.events line" >&2
    return 1
  }
}

# Prints the packets dropped by the deny chain that agentrun installed in
# namespace NETNS.
denied_packets() {
  ip netns exec "$1" nft list chain inet agentrun deny 2>/dev/null |
    awk '/counter packets/ { print $3; exit }' | grep . || echo 0
}

# Prints the number of requests the exfil server has logged.
exfil_requests() {
  grep -c '"GET ' "$work/exfil.log" || true
}

# Describes the network that agentrun made for the agent of agentrun run,
# from the demo's host namespace, after the run.
host_table_note() {
  if ip netns exec "$host_ns" nft list table inet agentrun-host >/dev/null 2>&1; then
    echo "agentrun's own network: a new namespace, a veth pair from $host_ns, table inet agentrun-host there, subnet $agent_subnet"
  else
    echo "no table inet agentrun-host in $host_ns"
  fi
}

run_agentrun() {
  local bundle=$work/bundle requests
  mkdir -p "$bundle" "$work/workspace"
  chown 1000:1000 "$work/workspace"
  (cd "$bundle" && "$agentrun" spec)
  # config.json requests only what the agent needs.  The policy fills in
  # the user, the capabilities and the limits, and checks the rest.
  jq --arg rootfs "$rootfs" --arg here "$here" --arg work "$work" --arg dns "$dns_address" \
    --arg ca "$ca" --arg api "http://api.demo.test/" --arg exfil "http://exfil.demo.test/" \
    --arg address "http://$exfil_address/" '
    .root = {path: $rootfs, readonly: true}
    | .hostname = "demo-agent"
    | .process.terminal = false
    | .process.args = ["/usr/bin/python3", "/opt/demo/agent.py", $api, $exfil, $address]
    | .process.env += ["HOME=/workspace"]
    | .process.cwd = "/workspace"
    | del(.process.user, .process.capabilities)
    | .mounts += [
        {destination: "/opt/demo", type: "bind", source: $here, options: ["rbind", "ro", "nosuid", "nodev"]},
        {destination: "/workspace", type: "bind", source: ($work + "/workspace"), options: ["rbind", "nosuid", "nodev"]}]
    | .linux.namespaces = [.linux.namespaces[] | select(.type != "network")] + [{type: "network"}]
    | .annotations["agentrun.identity.ca"] = $ca
    | .annotations["agentrun.network.dns-upstream"] = $dns' \
    "$bundle/config.json" >"$bundle/config.json.new"
  mv "$bundle/config.json.new" "$bundle/config.json"

  say "agentrun run --policy demo-agent.yaml $tag (in the demo's host namespace, AGENTRUN_NETWORK_SUBNET=$agent_subnet)"
  requests=$(exfil_requests)
  rm -f "$work/events.jsonl"
  # A new network namespace (no path) gets agentrun's own network, made in
  # the namespace where agentrun runs: the demo's host namespace.
  AGENTRUN_NETWORK_SUBNET=$agent_subnet nsenter --net="/run/netns/$host_ns" \
    "$agentrun" --root "$work/state" run --policy "$work/policies/demo-agent.yaml" \
    --bundle "$bundle" "$tag" >"$work/agent-agentrun.out" 2>"$work/agent-agentrun.err" </dev/null || {
    echo "$0: agentrun run failed (exit status $?):" >&2
    cat "$work/agent-agentrun.err" "$work/agent-agentrun.out" >&2
    return 1
  }
  # The agent's namespace is gone with the container, and with it the
  # packet counters of its table; the host table stays, empty.
  "$python" "$here/report.py" "$policy" "${policy#"$repo"/}" "agentrun run" "$work/agent-agentrun.out" \
    "$work/events.jsonl" "" "$(($(exfil_requests) - requests))" \
    "$(host_table_note)"
}

podman_cleanup() {
  [ -n "${podman_cmd[*]:-}" ] || return 0
  "${podman_cmd[@]}" rm -a -f -t 0 >/dev/null 2>&1
  "${podman_cmd[@]}" rmi -a -f >/dev/null 2>&1
  [ -z "${podman_runroot:-}" ] || rm -rf --one-file-system "$podman_runroot"
}

run_podman() {
  local dir=$work/podman requests
  # podman rejects a runroot path longer than 50 characters.
  podman_runroot=$(mktemp -d /tmp/ar-demo-run.XXXXXX)
  mkdir -p "$dir/bin" "$dir/storage" "$dir/tmp" "$dir/cni" "$work/workspace-podman"
  chown 1000:1000 "$work/workspace-podman"
  # podman starts the runtime with a cleared environment, so a wrapper
  # points agentrun at the folder of named policies.  It is named agentrun
  # too, because podman matches runtime_supports_json against the name.
  printf '#!/bin/sh\nAGENTRUN_POLICY_DIR=%s exec %s "$@"\n' "$work/policies" "$agentrun" \
    >"$dir/bin/agentrun"
  chmod 0755 "$dir/bin/agentrun"
  # podman's own settings and storage, in the temporary folder.
  sed -e '/^agentrun = \[/d' -e "/^\[engine.runtimes\]/a agentrun = [\"$dir/bin/agentrun\"]" \
    "$repo/examples/podman/agentrun.conf" >"$dir/containers.conf"
  printf '[storage]\ndriver = "vfs"\ngraphroot = "%s"\nrunroot = "%s"\n' "$dir/storage" "$podman_runroot" \
    >"$dir/storage.conf"
  : >"$dir/registries.conf"
  export CONTAINERS_CONF=$dir/containers.conf CONTAINERS_STORAGE_CONF=$dir/storage.conf
  export CONTAINERS_REGISTRIES_CONF=$dir/registries.conf
  # podman, conmon and agentrun run in the demo's host namespace, as
  # agentrun run does; with --network ns:PATH podman sets up no network.
  podman_cmd=(nsenter --net="/run/netns/$host_ns" podman --root "$dir/storage" --runroot "$podman_runroot" --tmpdir "$dir/tmp" --storage-driver vfs
    --network-config-dir "$dir/cni")

  say "podman import $rootfs as localhost/agentrun-demo"
  tar -C "$rootfs" -c . | "${podman_cmd[@]}" import -q - localhost/agentrun-demo >/dev/null

  # The flags match the container to the policy, which rejects podman's
  # defaults: capabilities, uid 0, a writable root or podman's tmpfs
  # mounts on a read-only one, and a pids limit of 2048.
  requests=$(exfil_requests)
  rm -f "$work/events.jsonl"
  say "podman --runtime $dir/bin/agentrun run --annotation agentrun.policy=demo-agent.yaml ... (network ns:/run/netns/$tag-c2)"
  "${podman_cmd[@]}" --runtime "$dir/bin/agentrun" run --rm --pull never \
    --network "ns:/run/netns/$tag-c2" --hostname demo-agent \
    --annotation agentrun.policy=demo-agent.yaml --annotation "agentrun.identity.ca=$ca" \
    --annotation "agentrun.network.dns-upstream=$dns_address" \
    --user 1000:1000 --cap-drop all --read-only --read-only-tmpfs=false --pids-limit 64 \
    -v "$here:/opt/demo:ro" -v "$work/workspace-podman:/workspace" -w /workspace -e HOME=/workspace \
    localhost/agentrun-demo /usr/bin/python3 /opt/demo/agent.py http://api.demo.test/ http://exfil.demo.test/ \
    "http://$exfil_address/" \
    >"$work/agent-podman.out" 2>"$work/agent-podman.err" </dev/null || {
    echo "$0: podman run failed (exit status $?):" >&2
    cat "$work/agent-podman.err" "$work/agent-podman.out" >&2
    return 1
  }
  "$python" "$here/report.py" "$policy" "${policy#"$repo"/}" "podman --runtime agentrun" "$work/agent-podman.out" \
    "$work/events.jsonl" "$(denied_packets "$tag-c2")" "$(($(exfil_requests) - requests))" \
    "a namespace that demo.sh made ($tag-c2, a veth pair from $host_ns), joined by path"
}

say "root filesystem $rootfs"
"$here/build-rootfs.sh" "$rootfs"
if [ ! -e "$ca/ca.pem" ]; then
  say "agentrun ca init --trust-domain $trust_domain --dir $ca"
  mkdir -p "$(dirname "$ca")"
  # flock, so that of two first runs at once only one makes the CA.
  flock "$ca.lock" sh -c '[ -e "$2/ca.pem" ] || "$1" ca init --trust-domain "$3" --dir "$2" >/dev/null' \
    sh "$agentrun" "$ca" "$trust_domain"
fi
say "test network: $host_ns (host), $servers_ns (api.demo.test, exfil.demo.test, DNS), $tag-c2 (podman's agent)"
setup_network
policy_copy

# Without `||` after them, so that set -e stops the script at the first
# failed step.
if [ "$which" != podman ]; then
  run_agentrun
fi
if [ "$which" != agentrun ]; then
  run_podman
fi
say "done; removing the containers, namespaces and $work"
