# SVIDs from a SPIRE agent: the SPIFFE Workload API and SPIRE's Delegated
# Identity API over gRPC on a UNIX socket.  The agent is
# workload_api_server.py, a grpcio server that serves agentrun's own
# spiffe/proto/ and mints its SVIDs with openssl from a CA that the test
# makes with openssl.

# Skips the test without the peer's tools or for runtimes without SPIFFE
# support (runc, crun).
require_spire_peer() {
  require_cmd openssl jq protoc basenc
  /usr/bin/python3 -c 'import grpc, google.protobuf' 2>/dev/null ||
    skip "/usr/bin/python3 lacks grpcio or protobuf (python3-grpcio)"
  "$RUNTIME" ca --help >/dev/null 2>&1 || skip "$(basename "$RUNTIME") has no SPIFFE support"
}

# Makes a P-256 CA for example.org in AR_TEST_DIR/ca with openssl.
make_test_ca() {
  local ca=$AR_TEST_DIR/ca
  mkdir -p "$ca"
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$ca/ca_key.pem" \
    -out "$ca/ca.pem" -days 1 -subj "/O=agentrun test CA" \
    -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" \
    -addext "subjectAltName=URI:spiffe://example.org" 2>/dev/null || fail "openssl cannot make the test CA"
}

# Starts the agent on AGENT_SOCKET, handing out SVIDs for SPIFFE_ID; more
# arguments go to the server (--deny).  Sets AGENT_SOCKET and AGENT_LOG.
start_agent() {
  local spiffe_id=$1
  shift
  AGENT_SOCKET=$AR_TEST_DIR/agent.sock
  AGENT_LOG=$AR_TEST_DIR/agent.log
  [ -e "$AR_TEST_DIR/ca/ca.pem" ] || make_test_ca
  : >"$AGENT_LOG"
  spawn /usr/bin/python3 "$AR_REPO/tests/integration/workload_api_server.py" --socket "$AGENT_SOCKET" \
    --proto-dir "$AR_REPO/spiffe/proto" --ca-dir "$AR_TEST_DIR/ca" --spiffe-id "$spiffe_id" \
    --log "$AGENT_LOG" --ready "$AR_TEST_DIR/agent.ready" "$@" >"$AR_TEST_DIR/agent.out" 2>&1
  local i
  for ((i = 0; i < 200; i++)); do
    [ -e "$AR_TEST_DIR/agent.ready" ] && return 0
    kill -0 "$SPAWNED_PID" 2>/dev/null || fail "the test agent exited: $(cat "$AR_TEST_DIR/agent.out")"
    sleep 0.05
  done
  fail "the test agent did not start within 10s: $(cat "$AR_TEST_DIR/agent.out")"
}

# Adds the identity policy annotation, which expects the ID
# spiffe://example.org/agent/ID/blue, and agentrun.identity.workload-api
# ENDPOINT (none when empty); a second argument sets
# agentrun.identity.delegated.
add_agent_annotations() {
  local endpoint=$1 delegated=${2:-} policy
  policy=$(jq -nc '{trust_domain: "example.org",
                    id_template: "spiffe://example.org/agent/{container_id}/{annotation:team}",
                    svid_dir: "/run/spiffe", jwt_audiences: ["svc.example.org"], lifetime_seconds: 600}')
  config_edit '.annotations += {"agentrun.policy.identity": $p, "team": "blue"}' --arg p "$policy"
  [ -z "$endpoint" ] || config_edit '.annotations["agentrun.identity.workload-api"] = $e' --arg e "$endpoint"
  [ -z "$delegated" ] || config_edit '.annotations["agentrun.identity.delegated"] = $d' --arg d "$delegated"
}

# Decodes base64url without padding from stdin.
b64url_decode() {
  local text
  text=$(cat)
  while [ $(( ${#text} % 4 )) != 0 ]; do text+="="; done
  basenc --base64url -d <<<"$text"
}

# Runs the container, which copies its SVID files to AR_TEST_DIR/out, and
# checks them.  The SVID must verify against the bundle that came with it,
# which must be the test CA.  Its URI SAN must be the expected ID, the key
# must match, and the JWT-SVID must be for that ID and svc.example.org.
run_and_check_svids() {
  local out=$AR_TEST_DIR/out expected="spiffe://example.org/agent/$ID/blue" payload
  share_dir out
  config_edit '.process.user = {uid: 1000, gid: 1000}'
  run_script 'd=$AGENTRUN_SVID_DIR; echo "dir=$d"; ls -ln "$d"; grep " $d " /proc/mounts
              cp "$d/svid.pem" "$d/svid_bundle.pem" "$d/jwt_svid.token" /out/ && cat "$d/svid_key.pem" >/out/key.pem'

  assert_match "$OUT" "^tmpfs /run/spiffe tmpfs " "mount of the SVID folder"
  assert_match "$OUT" "-r-------- +1 1000 +1000 .* svid_key.pem" "svid_key.pem listing"
  assert_match "$OUT" "-rw-r--r-- +1 1000 +1000 .* svid.pem" "svid.pem listing"
  openssl verify -CAfile "$out/svid_bundle.pem" "$out/svid.pem" >/dev/null ||
    fail "the SVID does not verify against svid_bundle.pem"
  cmp -s <(openssl x509 -in "$out/svid_bundle.pem") <(openssl x509 -in "$AR_TEST_DIR/ca/ca.pem") ||
    fail "svid_bundle.pem is not the agent's CA"
  assert_eq "$(openssl x509 -in "$out/svid.pem" -noout -ext subjectAltName | grep -o 'URI:[^, ]*')" \
    "URI:$expected" "the URI SAN"
  [ "$(openssl pkey -in "$out/key.pem" -pubout)" = "$(openssl x509 -in "$out/svid.pem" -noout -pubkey)" ] ||
    fail "the installed key does not match the SVID"
  payload=$(cut -d. -f2 "$out/jwt_svid.token" | b64url_decode)
  assert_eq "$(jq -r .sub <<<"$payload")" "$expected" "JWT sub"
  assert_eq "$(jq -c .aud <<<"$payload")" '["svc.example.org"]' "JWT aud"
  [ -z "$(ls -A "$BUNDLE/rootfs/run/spiffe")" ] || fail "SVID files left in the rootfs"
  assert_no_leftovers "$ID"
}

# Prints the agent's log entries for METHOD, one JSON object a line.
agent_calls() {
  jq -c --arg m "$1" 'select(.method == $m)' "$AGENT_LOG"
}

test_workload_api_svids_installed() {
  require_spire_peer
  start_agent "spiffe://example.org/agent/$ID/blue"
  make_bundle
  add_agent_annotations "unix://$AR_TEST_DIR/agent.sock"
  run_and_check_svids

  assert_eq "$(agent_calls FetchX509SVID | jq -r .header)" true "workload.spiffe.io header of FetchX509SVID"
  assert_eq "$(agent_calls FetchJWTSVID | jq -r .header)" true "workload.spiffe.io header of FetchJWTSVID"
  assert_eq "$(agent_calls FetchJWTSVID | jq -c .audience)" '["svc.example.org"]' "audience asked for"
  assert_eq "$(agent_calls FetchJWTSVID | jq -r .spiffe_id)" "spiffe://example.org/agent/$ID/blue" \
    "SPIFFE ID asked for"
}

test_workload_api_endpoint_from_environment() {
  require_spire_peer
  start_agent "spiffe://example.org/agent/$ID/blue"
  make_bundle
  add_agent_annotations ""
  SPIFFE_ENDPOINT_SOCKET=$AGENT_SOCKET run_and_check_svids
  assert_eq "$(agent_calls FetchX509SVID | wc -l)" 1 "FetchX509SVID calls"
}

test_workload_api_delegated_identity() {
  require_spire_peer
  start_agent "spiffe://example.org/agent/$ID/blue"
  make_bundle
  add_agent_annotations "$AR_TEST_DIR/agent.sock" true
  run_and_check_svids

  assert_eq "$(agent_calls SubscribeToX509SVIDs | jq -c .selectors)" '["unix:uid:1000"]' "selectors"
  assert_eq "$(agent_calls SubscribeToX509Bundles | wc -l)" 1 "SubscribeToX509Bundles calls"
  assert_eq "$(agent_calls FetchJWTSVIDs | jq -c .audience)" '["svc.example.org"]' "audience asked for"
  assert_eq "$(agent_calls FetchJWTSVIDs | jq -c .selectors)" '["unix:uid:1000"]' "selectors of the JWT-SVID"
  assert_eq "$(agent_calls FetchX509SVID | wc -l)" 0 "Workload API calls"
}

test_workload_api_delegated_selectors() {
  require_spire_peer
  start_agent "spiffe://example.org/agent/$ID/blue"
  make_bundle
  add_agent_annotations "$AR_TEST_DIR/agent.sock" "k8s:ns:agents,unix:uid:5"
  run_and_check_svids
  assert_eq "$(agent_calls SubscribeToX509SVIDs | jq -c .selectors)" '["k8s:ns:agents","unix:uid:5"]' "selectors"

  make_bundle "$AR_TEST_DIR/bundle2"
  add_agent_annotations "$AR_TEST_DIR/agent.sock" "k8s:ns:agents,nocolon"
  run_container
  expect_failure "selector \`nocolon\` is not of the form TYPE:VALUE"
  assert_no_leftovers "$ID"
}

test_workload_api_no_socket_stops_create() {
  require_spire_peer
  make_bundle
  add_agent_annotations "unix://$AR_TEST_DIR/no-agent.sock"
  run_container
  expect_failure "SPIRE agent at \`unix://$AR_TEST_DIR/no-agent.sock\`.*cannot connect .*No such file"
  assert_no_leftovers "$ID"
}

test_workload_api_permission_denied_stops_create() {
  require_spire_peer
  start_agent "spiffe://example.org/agent/$ID/blue" --deny
  make_bundle
  add_agent_annotations "$AR_TEST_DIR/agent.sock"
  run_container
  expect_failure "SPIRE agent at \`$AR_TEST_DIR/agent.sock\`.*PERMISSION_DENIED \(7\): no identity issued"
  assert_no_leftovers "$ID"
}

test_workload_api_other_spiffe_id_stops_create() {
  require_spire_peer
  start_agent "spiffe://example.org/agent/someone-else"
  make_bundle
  add_agent_annotations "$AR_TEST_DIR/agent.sock"
  run_container
  expect_failure "no X509-SVID for \`spiffe://example.org/agent/$ID/blue\`; it issued \`spiffe://example.org/agent/someone-else\`"
  assert_no_leftovers "$ID"

  make_bundle "$AR_TEST_DIR/bundle2"
  add_agent_annotations "$AR_TEST_DIR/agent.sock" true
  run_container
  expect_failure "no X509-SVID for \`spiffe://example.org/agent/$ID/blue\` to these selectors"
  assert_no_leftovers "$ID"
}

test_workload_api_delegated_unimplemented() {
  require_spire_peer
  start_agent "spiffe://example.org/agent/$ID/blue" --workload-only
  make_bundle
  add_agent_annotations "$AR_TEST_DIR/agent.sock" true
  run_container
  expect_failure "SubscribeToX509SVIDs on \`$AR_TEST_DIR/agent.sock\`: the server returned UNIMPLEMENTED \(12\)"
  assert_no_leftovers "$ID"
}

test_workload_api_closing_socket_stops_create() {
  require_spire_peer
  # A socket that closes every connection at once.
  spawn /usr/bin/python3 -c '
import socket, sys
s = socket.socket(socket.AF_UNIX)
s.bind(sys.argv[1])
s.listen(8)
while True:
    s.accept()[0].close()' "$AR_TEST_DIR/closing.sock"
  wait_file "$AR_TEST_DIR/closing.sock"
  make_bundle
  add_agent_annotations "$AR_TEST_DIR/closing.sock"
  run_container
  expect_failure "FetchX509SVID on \`$AR_TEST_DIR/closing.sock\`: (the server closed the connection|cannot send|cannot read)"
  assert_no_leftovers "$ID"
}

test_workload_api_silent_agent_times_out() {
  require_spire_peer
  # A socket that accepts connections but never responds.
  spawn /usr/bin/python3 -c '
import socket, sys, time
s = socket.socket(socket.AF_UNIX)
s.bind(sys.argv[1])
s.listen(8)
time.sleep(60)' "$AR_TEST_DIR/silent.sock"
  wait_file "$AR_TEST_DIR/silent.sock"
  make_bundle
  add_agent_annotations "$AR_TEST_DIR/silent.sock"
  run_container
  expect_failure "FetchX509SVID on \`$AR_TEST_DIR/silent.sock\`: timed out after 5000 ms without a response"
  assert_no_leftovers "$ID"
}

test_workload_api_and_ca_conflict() {
  require_spire_peer
  make_bundle
  add_agent_annotations "$AR_TEST_DIR/agent.sock"
  config_edit '.annotations["agentrun.identity.ca"] = "/nonexistent"'
  run_container
  expect_failure "agentrun.identity.ca and agentrun.identity.workload-api both name a source"
  assert_no_leftovers "$ID"
}

# Prints the exp claim of the JWT-SVID in container CONTAINER.  The token
# is read whole first, so that the runtime never writes into a closed pipe.
jwt_exp_in() {
  local token
  token=$(rt exec "$1" /bin/cat /run/spiffe/jwt_svid.token)
  cut -d. -f2 <<<"$token" | b64url_decode | jq .exp
}

# The keeper renews SVIDs from the agent too: with 20-second JWT-SVIDs it
# fetches again after about 10 seconds, and the container sees the new
# token, while the agent logs a second pair of calls.
test_workload_api_svids_renewed() {
  require_spire_peer
  local exp_before exp_after i
  start_agent "spiffe://example.org/agent/$ID/blue" --jwt-ttl 20
  make_bundle
  add_agent_annotations "unix://$AR_TEST_DIR/agent.sock"
  set_args /bin/sleep 60
  create_container
  rt_capture start "$ID"
  expect_success "start"
  exp_before=$(jwt_exp_in "$ID")
  [ -n "$exp_before" ] || fail "no JWT-SVID in the container"
  for ((i = 0; i < 30; i++)); do
    exp_after=$(jwt_exp_in "$ID")
    [ "$exp_after" = "$exp_before" ] || break
    sleep 1
  done
  [ "$exp_after" -gt "$exp_before" ] || fail "the JWT-SVID was not renewed within 30s (exp $exp_before)"
  [ "$(agent_calls FetchX509SVID | wc -l)" -ge 2 ] || fail "the agent saw no second FetchX509SVID: $(cat "$AGENT_LOG")"
  rt_capture delete --force "$ID"
  expect_success "delete --force"
  assert_no_leftovers "$ID"
}
