# The local SPIFFE CA: `ca init` and `ca mint`, with every file checked by
# the openssl command line tool rather than by agentrun's own code.

# Skips the test for runtimes without the ca command (runc, crun).
require_ca_command() {
  require_cmd openssl basenc jq
  "$RUNTIME" ca --help >/dev/null 2>&1 || skip "$(basename "$RUNTIME") has no ca command"
}

# Decodes base64url without padding from stdin.
b64url_decode() {
  local text
  text=$(cat)
  while [ $(( ${#text} % 4 )) != 0 ]; do text+="="; done
  basenc --base64url -d <<<"$text"
}

# Prints a DER INTEGER for the big-endian unsigned HEX value.
der_integer() {
  local hex=$1
  while [ "${hex:0:2}" = 00 ] && [ ${#hex} -gt 2 ]; do hex=${hex:2}; done
  case ${hex:0:1} in [89A-F]) hex="00$hex" ;; esac
  printf '02%02X%s' $(( ${#hex} / 2 )) "$hex"
}

# Verifies the ES256 signature of the JWT in file TOKEN with the JWK of
# kid KID in the JWK set BUNDLE, with openssl: the JWK becomes a PEM public
# key and the raw r||s signature a DER ECDSA-Sig-Value.
verify_jwt_with_openssl() {
  local token=$1 bundle=$2 kid=$3 dir=$AR_TEST_DIR/jwt
  local x y sig r s body
  mkdir -p "$dir"
  x=$(jq -r --arg kid "$kid" '.keys[] | select(.kid == $kid) | .x' "$bundle" | b64url_decode | basenc --base16 -w0)
  y=$(jq -r --arg kid "$kid" '.keys[] | select(.kid == $kid) | .y' "$bundle" | b64url_decode | basenc --base16 -w0)
  assert_eq "${#x}" 64 "hex length of the JWK x coordinate"
  assert_eq "${#y}" 64 "hex length of the JWK y coordinate"
  # SubjectPublicKeyInfo of an id-ecPublicKey on prime256v1, uncompressed point.
  printf '3059301306072A8648CE3D020106082A8648CE3D030107034200%s%s' "04$x" "$y" | basenc --base16 -d >"$dir/pub.der"
  openssl pkey -pubin -inform DER -in "$dir/pub.der" -out "$dir/pub.pem"

  sig=$(cut -d. -f3 "$token" | b64url_decode | basenc --base16 -w0)
  assert_eq "${#sig}" 128 "hex length of the ES256 signature (raw r||s)"
  r=$(der_integer "${sig:0:64}")
  s=$(der_integer "${sig:64:64}")
  body="$r$s"
  printf '30%02X%s' $(( ${#body} / 2 )) "$body" | basenc --base16 -d >"$dir/sig.der"
  cut -d. -f1,2 "$token" | tr -d '\n' >"$dir/input"
  openssl dgst -sha256 -verify "$dir/pub.pem" -signature "$dir/sig.der" "$dir/input" >/dev/null ||
    fail "openssl does not verify the JWT-SVID signature"
}

test_ca_init_makes_a_spiffe_ca() {
  require_ca_command
  local ca=$AR_TEST_DIR/ca text
  rt_capture ca init --trust-domain example.org --dir "$ca"
  expect_success "ca init"
  assert_eq "$(stat -c %a "$ca/ca_key.pem")" 600 "mode of ca_key.pem"
  assert_eq "$(stat -c %a "$ca/jwt_key.pem")" 600 "mode of jwt_key.pem"

  text=$(openssl x509 -in "$ca/ca.pem" -noout -text)
  assert_contains "$text" "Public-Key: (256 bit)"
  assert_contains "$text" "NIST CURVE: P-256"
  assert_match "$(grep -A1 'Basic Constraints' <<<"$text")" "critical" "basicConstraints"
  assert_contains "$text" "CA:TRUE"
  assert_match "$(grep -A1 'X509v3 Key Usage' <<<"$text")" "critical" "keyUsage"
  assert_match "$(grep -A1 'X509v3 Key Usage' <<<"$text" | tail -1)" "^ *Certificate Sign, CRL Sign$" "keyUsage"
  assert_contains "$text" "URI:spiffe://example.org"
  openssl verify -CAfile "$ca/ca.pem" "$ca/ca.pem" >/dev/null || fail "the CA certificate is not self-signed"
  jq -e '.keys[0] | .kty == "EC" and .crv == "P-256" and .use == "jwt-svid" and (.kid | length > 0)' \
    "$ca/jwt_bundle.json" >/dev/null || fail "jwt_bundle.json is not a P-256 JWK set: $(cat "$ca/jwt_bundle.json")"

  # A second init leaves the CA as it was.
  local before
  before=$(sha256sum "$ca/ca.pem")
  rt_capture ca init --trust-domain example.org --dir "$ca"
  expect_failure "exists"
  assert_eq "$(sha256sum "$ca/ca.pem")" "$before" "ca.pem after a second init"
}

test_ca_mint_x509_svid() {
  require_ca_command
  local ca=$AR_TEST_DIR/ca out=$AR_TEST_DIR/out text start end
  rt_capture ca init --trust-domain example.org --dir "$ca"
  expect_success "ca init"
  rt_capture ca mint --dir "$ca" --spiffe-id spiffe://example.org/ns/team-a/sa/agent --out "$out"
  expect_success "ca mint"

  assert_eq "$(stat -c %a "$out/svid_key.pem")" 400 "mode of svid_key.pem"
  assert_eq "$(stat -c %a "$out/svid.pem")" 644 "mode of svid.pem"
  [ ! -e "$out/jwt_svid.token" ] || fail "jwt_svid.token written without --audience"
  cmp -s "$out/svid_bundle.pem" "$ca/ca.pem" || fail "svid_bundle.pem is not the CA certificate"

  openssl verify -CAfile "$out/svid_bundle.pem" "$out/svid.pem" >/dev/null || fail "openssl verify failed"
  openssl verify -purpose sslclient -CAfile "$out/svid_bundle.pem" "$out/svid.pem" >/dev/null ||
    fail "the SVID is not valid for TLS clients"
  openssl verify -purpose sslserver -CAfile "$out/svid_bundle.pem" "$out/svid.pem" >/dev/null ||
    fail "the SVID is not valid for TLS servers"

  text=$(openssl x509 -in "$out/svid.pem" -noout -text)
  assert_eq "$(grep -o 'URI:[^, ]*' <<<"$text")" "URI:spiffe://example.org/ns/team-a/sa/agent" "the URI SANs"
  assert_contains "$text" "CA:FALSE"
  assert_match "$(grep -A1 'X509v3 Key Usage' <<<"$text")" "critical" "keyUsage"
  assert_match "$(grep -A1 'X509v3 Key Usage' <<<"$text" | tail -1)" "^ *Digital Signature$" "keyUsage"
  assert_contains "$text" "TLS Web Server Authentication, TLS Web Client Authentication"
  assert_contains "$text" "NIST CURVE: P-256"

  start=$(date -d "$(openssl x509 -in "$out/svid.pem" -noout -startdate | cut -d= -f2)" +%s)
  end=$(date -d "$(openssl x509 -in "$out/svid.pem" -noout -enddate | cut -d= -f2)" +%s)
  assert_eq "$((end - start))" 3600 "default SVID lifetime in seconds"

  [ "$(openssl pkey -in "$out/svid_key.pem" -pubout)" = "$(openssl x509 -in "$out/svid.pem" -noout -pubkey)" ] ||
    fail "svid_key.pem does not match svid.pem"
}

test_ca_mint_jwt_svid() {
  require_ca_command
  local ca=$AR_TEST_DIR/ca out=$AR_TEST_DIR/out header payload
  rt_capture ca init --trust-domain example.org --dir "$ca"
  expect_success "ca init"
  rt_capture ca mint --dir "$ca" --spiffe-id spiffe://example.org/agent --ttl 120 \
    --audience tickets.example.org --audience mail.example.org --out "$out"
  expect_success "ca mint"
  assert_eq "$(stat -c %a "$out/jwt_svid.token")" 400 "mode of jwt_svid.token"

  header=$(cut -d. -f1 "$out/jwt_svid.token" | b64url_decode)
  payload=$(cut -d. -f2 "$out/jwt_svid.token" | b64url_decode)
  assert_eq "$(jq -r .alg <<<"$header")" ES256 "JWT alg"
  assert_eq "$(jq -r .sub <<<"$payload")" spiffe://example.org/agent "JWT sub"
  assert_eq "$(jq -c .aud <<<"$payload")" '["tickets.example.org","mail.example.org"]' "JWT aud"
  assert_eq "$(jq '.exp - .iat' <<<"$payload")" 120 "JWT lifetime"
  verify_jwt_with_openssl "$out/jwt_svid.token" "$ca/jwt_bundle.json" "$(jq -r .kid <<<"$header")"
}

test_ca_errors() {
  require_ca_command
  local ca=$AR_TEST_DIR/ca out=$AR_TEST_DIR/out
  rt_capture ca init --trust-domain Example.ORG --dir "$ca"
  expect_failure "trust domain .*lowercase"
  [ ! -e "$ca" ] || fail "a failed init left $ca"

  rt_capture ca mint --dir "$AR_TEST_DIR/missing" --spiffe-id spiffe://example.org/a --out "$out"
  expect_failure "cannot open CA folder .*agentrun ca init"

  # A short-lived CA, long enough for the two mints below on a loaded host.
  rt_capture ca init --trust-domain example.org --dir "$ca" --ttl 5
  expect_success "ca init"
  rt_capture ca mint --dir "$ca" --spiffe-id spiffe://other.org/a --out "$out"
  expect_failure "not in the CA's trust domain"
  rt_capture ca mint --dir "$ca" --spiffe-id spiffe://example.org/a?b --out "$out"
  expect_failure "query"

  sleep 6
  rt_capture ca mint --dir "$ca" --spiffe-id spiffe://example.org/a --out "$out"
  expect_failure "expired"
  [ ! -e "$out" ] || fail "a failed mint left $out"
}

# Adds the identity annotations to BUNDLE: the policy JSON that `agentrun
# policy compile` writes, and the CA folder CA_DIR.
add_identity_annotations() {
  local ca_dir=$1 policy
  policy=$(jq -nc '{trust_domain: "example.org",
                    id_template: "spiffe://example.org/agent/{container_id}/{annotation:team}",
                    svid_dir: "/run/spiffe", jwt_audiences: ["svc.example.org"], lifetime_seconds: 600}')
  config_edit '.annotations += {"agentrun.policy.identity": $p, "agentrun.identity.ca": $ca, "team": "blue"}' \
    --arg p "$policy" --arg ca "$ca_dir"
}

test_identity_installed_at_create() {
  require_ca_command
  local ca=$AR_TEST_DIR/ca out=$AR_TEST_DIR/out text
  rt_capture ca init --trust-domain example.org --dir "$ca"
  expect_success "ca init"
  make_bundle
  share_dir out
  add_identity_annotations "$ca"
  config_edit '.process.user = {uid: 1000, gid: 1000}'
  run_script 'd=$AGENTRUN_SVID_DIR; echo "dir=$d"; ls -ln "$d"; grep " $d " /proc/mounts
              cp "$d/svid.pem" "$d/svid_bundle.pem" "$d/jwt_svid.token" /out/ && cat "$d/svid_key.pem" >/out/key.pem'

  assert_contains "$OUT" "dir=/run/spiffe"
  assert_match "$OUT" "^tmpfs /run/spiffe tmpfs " "mount of the SVID folder"
  assert_match "$OUT" "-r-------- +1 1000 +1000 .* svid_key.pem" "svid_key.pem listing"
  assert_match "$OUT" "-r-------- +1 1000 +1000 .* jwt_svid.token" "jwt_svid.token listing"
  assert_match "$OUT" "-rw-r--r-- +1 1000 +1000 .* svid.pem" "svid.pem listing"

  openssl verify -CAfile "$ca/ca.pem" "$out/svid.pem" >/dev/null || fail "the installed SVID does not verify"
  text=$(openssl x509 -in "$out/svid.pem" -noout -text)
  assert_eq "$(grep -o 'URI:[^, ]*' <<<"$text")" "URI:spiffe://example.org/agent/$ID/blue" "the URI SAN"
  [ "$(openssl pkey -in "$out/key.pem" -pubout)" = "$(openssl x509 -in "$out/svid.pem" -noout -pubkey)" ] ||
    fail "the installed key does not match the SVID"
  assert_eq "$(cut -d. -f2 "$out/jwt_svid.token" | b64url_decode | jq -c .aud)" '["svc.example.org"]' "JWT aud"

  # The files were in the container's tmpfs only, not in the bundle.
  [ -z "$(ls -A "$BUNDLE/rootfs/run/spiffe")" ] || fail "SVID files left in the rootfs: $(ls -A "$BUNDLE/rootfs/run/spiffe")"
  assert_no_leftovers "$ID"
}

test_identity_missing_ca_stops_create() {
  require_ca_command
  make_bundle
  add_identity_annotations "$AR_TEST_DIR/no-such-ca"
  run_container
  expect_failure "SPIFFE identity.*cannot open CA folder"
  assert_no_leftovers "$ID"
}

test_identity_expired_ca_stops_create() {
  require_ca_command
  local ca=$AR_TEST_DIR/ca
  # A short-lived CA, long enough for the two mints below on a loaded host.
  rt_capture ca init --trust-domain example.org --dir "$ca" --ttl 5
  expect_success "ca init"
  make_bundle
  add_identity_annotations "$ca"
  sleep 6
  run_container
  expect_failure "CA certificate .* expired"
  assert_no_leftovers "$ID"
}

test_identity_key_hidden_from_other_users() {
  require_ca_command
  local ca=$AR_TEST_DIR/ca
  rt_capture ca init --trust-domain example.org --dir "$ca"
  expect_success "ca init"
  make_bundle
  add_identity_annotations "$ca"
  config_edit '.process.user = {uid: 1000, gid: 1000}'
  set_args /bin/sleep 60
  rt_capture run --detach --bundle "$BUNDLE" "$ID"
  expect_success "run --detach"

  rt_capture exec --user 1000:1000 "$ID" /bin/cat /run/spiffe/svid_key.pem
  expect_success "the container's user reads its key"
  assert_contains "$OUT" "BEGIN PRIVATE KEY"
  rt_capture exec --user 2000:2000 "$ID" /bin/cat /run/spiffe/svid_key.pem
  expect_failure "Permission denied"
  assert_not_contains "$OUT" "PRIVATE KEY"
  rt_capture exec --user 2000:2000 "$ID" /bin/cat /run/spiffe/jwt_svid.token
  expect_failure "Permission denied"
  rt_capture exec --user 2000:2000 "$ID" /bin/cat /run/spiffe/svid.pem
  expect_success "another user reads the public certificate"

  rt_capture delete --force "$ID"
  expect_success "delete --force"
  assert_no_leftovers "$ID"
}

test_identity_invalid_id_stops_create() {
  require_ca_command
  local ca=$AR_TEST_DIR/ca
  rt_capture ca init --trust-domain example.org --dir "$ca"
  expect_success "ca init"
  make_bundle
  add_identity_annotations "$ca"
  config_edit '.annotations.team = "blue/../admin"'
  run_container
  expect_failure "placeholder \{annotation:team\} contains \`/\`"
  assert_no_leftovers "$ID"
}

test_identity_other_trust_domain_stops_create() {
  require_ca_command
  local ca=$AR_TEST_DIR/ca
  rt_capture ca init --trust-domain other.org --dir "$ca"
  expect_success "ca init"
  make_bundle
  add_identity_annotations "$ca"
  run_container
  expect_failure "CA .* is for trust domain \`other.org\`"
  assert_no_leftovers "$ID"
}

# Writes AR_TEST_DIR/policy.yaml: an audit-mode policy (so that the base
# config's grants only produce events) whose ID template uses a pod
# annotation.
write_annotation_policy() {
  cat >"$AR_TEST_DIR/policy.yaml" <<POLICY
name: id-test
version: 1
mode: audit
identity:
  trust_domain: example.org
  id_template: "spiffe://{trust_domain}/ns/{annotation:io.kubernetes.pod.namespace}/{policy}/{container_id}"
audit:
  events: $AR_TEST_DIR/events.jsonl
POLICY
}

test_identity_annotation_from_policy() {
  require_ca_command
  local ca=$AR_TEST_DIR/ca out=$AR_TEST_DIR/out
  rt_capture ca init --trust-domain example.org --dir "$ca"
  expect_success "ca init"
  write_annotation_policy
  make_bundle
  share_dir out
  config_edit '.annotations += {"agentrun.identity.ca": $ca, "io.kubernetes.pod.namespace": "team-a"}' \
    --arg ca "$ca"
  set_script 'cp "$AGENTRUN_SVID_DIR/svid.pem" /out/'
  run_container --policy "$AR_TEST_DIR/policy.yaml"
  expect_success "run with an annotation in the ID template"
  assert_eq "$(openssl x509 -in "$out/svid.pem" -noout -text | grep -o 'URI:[^, ]*')" \
    "URI:spiffe://example.org/ns/team-a/id-test/$ID" "the URI SAN"
  assert_no_leftovers "$ID"
}

test_identity_missing_annotation_stops_create() {
  require_ca_command
  local ca=$AR_TEST_DIR/ca
  rt_capture ca init --trust-domain example.org --dir "$ca"
  expect_success "ca init"
  write_annotation_policy
  make_bundle
  config_edit '.annotations += {"agentrun.identity.ca": $ca}' --arg ca "$ca"
  run_container --policy "$AR_TEST_DIR/policy.yaml"
  expect_failure "needs the annotation \`io.kubernetes.pod.namespace\`, which config.json does not have"
  assert_no_leftovers "$ID"
}
