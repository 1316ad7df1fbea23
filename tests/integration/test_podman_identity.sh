# A SPIFFE identity under podman: the policy named by the annotation
# agentrun.policy requests one, the annotation agentrun.identity.ca names
# the local CA, and podman's container gets its SVIDs.  The helpers are in
# podman_lib.sh.

# shellcheck source=tests/integration/podman_lib.sh
. "$AR_REPO/tests/integration/podman_lib.sh"

# Skips the test for runtimes without the ca command (runc, crun).
require_identity_support() {
  require_cmd openssl
  "$RUNTIME" ca --help >/dev/null 2>&1 || skip "$(basename "$RUNTIME") has no ca command"
}

# Writes the policy ar-identity.yaml into AR_TEST_DIR/policies and a CA
# into AR_TEST_DIR/ca.  conmon starts the runtime with an environment of
# its own, so the runtime wrapper of setup_podman sets AGENTRUN_POLICY_DIR
# (where agentrun is installed, policies live in /etc/agentrun/policies).
setup_identity() {
  mkdir -p "$AR_TEST_DIR/policies"
  cat >"$AR_TEST_DIR/policies/ar-identity.yaml" <<'POLICY'
name: ar-identity
version: 1
description: A podman container with a SPIFFE identity.
mode: enforce
filesystem:
  # The files that podman bind-mounts writable into every container.
  readwrite_paths: [/etc/hosts, /etc/hostname, /etc/resolv.conf, /run/.containerenv]
process:
  user: "1000:1000"
network:
  mode: none
identity:
  trust_domain: example.org
  id_template: "spiffe://{trust_domain}/podman/{policy}/{container_id}"
  jwt_audiences: [svc.example.org]
  lifetime: 1m
POLICY
  sed -i "2i export AGENTRUN_POLICY_DIR='$AR_TEST_DIR/policies'" "$AR_TEST_DIR/podman/runtime-wrapper"
  rt_capture ca init --trust-domain example.org --dir "$AR_TEST_DIR/ca"
  expect_success "ca init"
}

test_podman_identity() {
  require_identity_support
  setup_podman
  setup_identity
  podman_run_detached --user 1000:1000 --cap-drop ALL --annotation agentrun.policy=ar-identity.yaml \
    --annotation agentrun.identity.ca="$AR_TEST_DIR/ca" localhost/busybox sleep 120

  podman_ok exec "$CID" sh -c 'echo "dir=$AGENTRUN_SVID_DIR"; id -u; ls -lnA "$AGENTRUN_SVID_DIR"'
  assert_contains "$OUT" "dir=/run/spiffe"
  assert_match "$OUT" "-r-------- +1 1000 +1000 .* svid_key.pem" "svid_key.pem listing"
  assert_match "$OUT" "-rw-r--r-- +1 1000 +1000 .* svid.pem" "svid.pem listing"
  podman_ok exec "$CID" cat /run/spiffe/svid.pem
  printf '%s\n' "$OUT" >"$AR_TEST_DIR/svid.pem"
  openssl verify -CAfile "$AR_TEST_DIR/ca/ca.pem" "$AR_TEST_DIR/svid.pem" >/dev/null ||
    fail "the SVID in the podman container does not verify"
  assert_contains "$(openssl x509 -in "$AR_TEST_DIR/svid.pem" -noout -ext subjectAltName)" \
    "URI:spiffe://example.org/podman/ar-identity/$CID"

  podman_capture exec --user 2000:2000 "$CID" cat /run/spiffe/svid_key.pem
  [ "$RC" != 0 ] || fail "another user read the SVID key"
  assert_not_contains "$OUT" "PRIVATE KEY"

  # The keeper renews the 1-minute SVID at half its lifetime, under podman
  # as under agentrun alone.
  local serial i
  serial=$(openssl x509 -in "$AR_TEST_DIR/svid.pem" -noout -serial)
  for ((i = 0; i < 50; i++)); do
    podman_ok exec "$CID" cat /run/spiffe/svid.pem
    printf '%s\n' "$OUT" >"$AR_TEST_DIR/svid-now.pem"
    [ "$(openssl x509 -in "$AR_TEST_DIR/svid-now.pem" -noout -serial)" = "$serial" ] || break
    sleep 1
  done
  [ "$(openssl x509 -in "$AR_TEST_DIR/svid-now.pem" -noout -serial)" != "$serial" ] ||
    fail "the SVID was not renewed within 50 s"
  openssl verify -CAfile "$AR_TEST_DIR/ca/ca.pem" "$AR_TEST_DIR/svid-now.pem" >/dev/null ||
    fail "the renewed SVID does not verify"

  podman_ok rm -f -t 0 "$CID"
  assert_no_podman_containers
}

test_podman_identity_without_ca_fails() {
  require_identity_support
  setup_podman
  setup_identity
  podman_run --user 1000:1000 --cap-drop ALL --annotation agentrun.policy=ar-identity.yaml localhost/busybox true
  [ "$RC" != 0 ] || fail "podman run succeeded without a source of SVIDs"
  assert_contains "$ERR" "set agentrun.identity.ca to a CA folder"
  assert_no_podman_containers
}
