# The Workload API that the keeper serves inside a container with an
# identity, at /run/spiffe/agent/agent.sock, called from the host through
# /proc/PID/root by workload_api_client.py, a grpcio client as a program
# written with the SPIFFE libraries would use.

# Skips the test without the client's tools or for runtimes without SPIFFE
# support (runc, crun).
require_workload_client() {
  require_cmd openssl jq protoc basenc
  /usr/bin/python3 -c 'import grpc, google.protobuf' 2>/dev/null ||
    skip "/usr/bin/python3 lacks grpcio or protobuf (python3-grpcio)"
  "$RUNTIME" ca --help >/dev/null 2>&1 || skip "$(basename "$RUNTIME") has no SPIFFE support"
}

# Calls the container's Workload API at socket SOCKET with the client's
# ARGS; prints the client's JSON line.
workload_client() {
  local socket=$1
  shift
  /usr/bin/python3 "$AR_REPO/tests/integration/workload_api_client.py" --socket "$socket" \
    --proto-dir "$AR_REPO/spiffe/proto" "$@"
}

# Decodes base64url without padding from stdin.
socket_b64url_decode() {
  local text
  text=$(cat)
  while [ $(( ${#text} % 4 )) != 0 ]; do text+="="; done
  basenc --base64url -d <<<"$text"
}

# A container whose SVIDs last 10 s, so the keeper renews them after about
# 5 s, with a client that keeps a FetchX509SVID stream open meanwhile and
# other clients that fetch the SVID, the bundles and a JWT-SVID, and
# validate that JWT-SVID.
test_workload_socket_serves_identity() {
  require_workload_client
  local ca=$AR_TEST_DIR/ca dir=$AR_TEST_DIR/fetched pid keeper socket out policy i
  mkdir -p "$dir/x509" "$dir/bundles" "$dir/watch"
  rt_capture ca init --trust-domain example.org --dir "$ca"
  expect_success "ca init"
  make_bundle
  policy=$(jq -nc '{trust_domain: "example.org",
                    id_template: "spiffe://example.org/agent/{container_id}",
                    svid_dir: "/run/spiffe", jwt_audiences: ["svc.example.org"], lifetime_seconds: 10}')
  config_edit '.annotations += {"agentrun.policy.identity": $p, "agentrun.identity.ca": $ca}
               | .process.user = {uid: 1000, gid: 1000}' --arg p "$policy" --arg ca "$ca"
  set_args /bin/sleep 120

  rt_capture run --detach --bundle "$BUNDLE" "$ID"
  expect_success "run --detach"
  pid=$(state_field "$ID" pid)
  keeper=$(jq -r '.keeper_pid // empty' "$AR_ROOT/$ID/state.json")
  [ -n "$keeper" ] || fail "the state records no keeper"
  socket=/proc/$pid/root/run/spiffe/agent/agent.sock
  [ -S "$socket" ] || fail "no socket at /run/spiffe/agent/agent.sock: $(ls -lnAR "/proc/$pid/root/run/spiffe")"
  assert_match "$(ls -ln "$socket")" "^srw------- +1 1000 +1000 " "the socket's mode and owner"
  assert_eq "$(rt exec "$ID" /bin/sh -c 'echo $SPIFFE_ENDPOINT_SOCKET')" "unix:///run/spiffe/agent/agent.sock" \
    "SPIFFE_ENDPOINT_SOCKET in exec"

  # A stream that stays open across the renewal, beside the calls below.
  spawn /usr/bin/python3 "$AR_REPO/tests/integration/workload_api_client.py" --socket "$socket" \
    --proto-dir "$AR_REPO/spiffe/proto" --timeout 25 watch 2 "$dir/watch" >"$dir/watch.out" 2>&1
  local watcher=$SPAWNED_PID

  out=$(workload_client "$socket" x509 "$dir/x509")
  assert_eq "$out" "{\"svids\": 1, \"spiffe_id\": \"spiffe://example.org/agent/$ID\"}" "FetchX509SVID"
  openssl verify -CAfile "$dir/x509/bundle.pem" "$dir/x509/svid.pem" >/dev/null ||
    fail "the X509-SVID does not verify against the bundle"
  cmp -s "$dir/x509/bundle.pem" "$ca/ca.pem" || fail "the bundle is not the CA's certificate"
  assert_eq "$(openssl x509 -in "$dir/x509/svid.pem" -noout -text | grep -o 'URI:[^, ]*')" \
    "URI:spiffe://example.org/agent/$ID" "the URI SAN"
  [ "$(openssl pkey -in "$dir/x509/key.pem" -pubout)" = "$(openssl x509 -in "$dir/x509/svid.pem" -noout -pubkey)" ] ||
    fail "the key does not match the X509-SVID"

  out=$(workload_client "$socket" bundles "$dir/bundles")
  assert_eq "$out" '{"trust_domains": ["spiffe://example.org"]}' "FetchX509Bundles"
  cmp -s "$dir/bundles/bundle.pem" "$ca/ca.pem" || fail "FetchX509Bundles' bundle is not the CA's certificate"

  out=$(workload_client "$socket" jwt db.example.org)
  assert_eq "$(jq -r .spiffe_id <<<"$out")" "spiffe://example.org/agent/$ID" "the JWT-SVID's SPIFFE ID"
  assert_eq "$(jq -r .svid <<<"$out" | cut -d. -f2 | socket_b64url_decode | jq -c '[.sub, .aud]')" \
    "[\"spiffe://example.org/agent/$ID\",[\"db.example.org\"]]" "the JWT-SVID's claims"

  local token
  token=$(jq -r .svid <<<"$out")
  out=$(workload_client "$socket" jwtbundles "$dir/bundles")
  assert_eq "$out" '{"trust_domains": ["spiffe://example.org"]}' "FetchJWTBundles"
  assert_eq "$(jq -cS . "$dir/bundles/jwt_bundle.json")" "$(jq -cS . "$ca/jwt_bundle.json")" "the JWT bundle"
  out=$(workload_client "$socket" validate db.example.org "$token")
  assert_eq "$out" "{\"spiffe_id\": \"spiffe://example.org/agent/$ID\"}" "ValidateJWTSVID"
  out=$(workload_client "$socket" validate other.example.org "$token") && fail "validated for another audience: $out"
  assert_eq "$(jq -r .code <<<"$out")" INVALID_ARGUMENT "the status of ValidateJWTSVID for another audience"

  out=$(workload_client "$socket" bare) && fail "a call without workload.spiffe.io succeeded: $out"
  assert_eq "$(jq -r .code <<<"$out")" INVALID_ARGUMENT "the status of a call without workload.spiffe.io"

  # The stream brings the renewed X509-SVID.
  for ((i = 0; i < 100; i++)); do
    grep -q '"message": 2' "$dir/watch.out" 2>/dev/null && break
    kill -0 "$watcher" 2>/dev/null || break
    sleep 0.25
  done
  grep -q '"message": 2' "$dir/watch.out" || fail "the stream brought no renewed SVID: $(cat "$dir/watch.out")"
  [ "$(openssl x509 -in "$dir/watch/svid-1.pem" -noout -serial)" != \
    "$(openssl x509 -in "$dir/watch/svid-2.pem" -noout -serial)" ] || fail "the stream's second SVID is the first"
  openssl verify -CAfile "$ca/ca.pem" "$dir/watch/svid-2.pem" >/dev/null || fail "the renewed SVID does not verify"

  rt_capture delete --force "$ID"
  expect_success "delete --force"
  for ((i = 0; i < 50; i++)); do
    kill -0 "$keeper" 2>/dev/null || break
    sleep 0.1
  done
  ! kill -0 "$keeper" 2>/dev/null || fail "the keeper $keeper still runs after delete"
  [ ! -e "$socket" ] || fail "the socket is still there after delete"
  assert_no_leftovers "$ID"
}

# SVIDs from a SPIRE agent (workload_api_server.py) in a container with a
# user namespace: the keeper binds the socket in a tmpfs that belongs to
# that namespace, and FetchJWTSVID returns the fetched JWT-SVID only for
# the policy's audiences.
test_workload_socket_agent_in_user_namespace() {
  require_workload_client
  # shellcheck source=tests/integration/test_workload_api.sh
  . "$AR_REPO/tests/integration/test_workload_api.sh"
  local dir=$AR_TEST_DIR/fetched pid socket out
  mkdir -p "$dir"
  start_agent "spiffe://example.org/agent/$ID/blue" --workload-only
  make_bundle
  add_agent_annotations "unix://$AGENT_SOCKET"
  config_edit '.process.user = {uid: 1000, gid: 1000}
    | .linux.namespaces += [{type: "user"}]
    | .linux.uidMappings = [{containerID: 0, hostID: 100000, size: 65536}]
    | .linux.gidMappings = [{containerID: 0, hostID: 100000, size: 65536}]'
  # The container's root cannot create the folder in a rootfs that the
  # host's root owns.
  mkdir -p "$BUNDLE/rootfs/run/spiffe"
  set_args /bin/sleep 60

  rt_capture run --detach --bundle "$BUNDLE" "$ID"
  expect_success "run --detach"
  pid=$(state_field "$ID" pid)
  socket=/proc/$pid/root/run/spiffe/agent/agent.sock
  assert_match "$(ls -ln "$socket")" "^srw------- +1 101000 +101000 " "the socket's mode and owner"

  out=$(workload_client "$socket" x509 "$dir")
  assert_eq "$(jq -r .spiffe_id <<<"$out")" "spiffe://example.org/agent/$ID/blue" "FetchX509SVID"
  openssl verify -CAfile "$AR_TEST_DIR/ca/ca.pem" "$dir/svid.pem" >/dev/null ||
    fail "the X509-SVID does not verify against the agent's CA"

  out=$(workload_client "$socket" jwt svc.example.org)
  assert_eq "$(jq -r .svid <<<"$out")" "$(rt exec "$ID" /bin/cat /run/spiffe/jwt_svid.token)" \
    "the JWT-SVID for the policy's audience"
  out=$(workload_client "$socket" jwt db.example.org) && fail "a JWT-SVID for another audience: $out"
  assert_eq "$(jq -r .code <<<"$out")" NOT_FOUND "the status for another audience"
  out=$(workload_client "$socket" jwtbundles "$dir") && fail "FetchJWTBundles succeeded with an agent: $out"
  assert_eq "$(jq -r .code <<<"$out")" UNAVAILABLE "the status of FetchJWTBundles with an agent"

  rt_capture delete --force "$ID"
  expect_success "delete --force"
  assert_no_leftovers "$ID"
}
