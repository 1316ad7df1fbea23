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
# policy compile` writes, with an SVID lifetime of LIFETIME seconds (600),
# and the CA folder CA_DIR.
add_identity_annotations() {
  local ca_dir=$1 lifetime=${2:-600} policy
  policy=$(jq -nc --argjson lifetime "$lifetime" '{trust_domain: "example.org",
                    id_template: "spiffe://example.org/agent/{container_id}/{annotation:team}",
                    svid_dir: "/run/spiffe", jwt_audiences: ["svc.example.org"], lifetime_seconds: $lifetime}')
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

test_identity_without_source_stops_create() {
  require_ca_command
  make_bundle
  add_identity_annotations "$AR_TEST_DIR/ca"
  config_edit 'del(.annotations["agentrun.identity.ca"])'
  run_container
  expect_failure "nothing names a source of SVIDs; set agentrun.identity.ca to a CA folder"
  assert_contains "$ERR" "agentrun.identity.workload-api"
  assert_no_leftovers "$ID"
}

# Prints the serial number of the X509-SVID in container CONTAINER.
svid_serial() {
  # openssl stops reading at the end of the certificate: with the file in
  # a variable first, the runtime never writes into a closed pipe.
  local pem
  pem=$(rt exec "$1" /bin/cat /run/spiffe/svid.pem)
  openssl x509 -noout -serial <<<"$pem"
}

# Prints the exp claim of the JWT-SVID in container CONTAINER.
jwt_exp() {
  local token
  token=$(rt exec "$1" /bin/cat /run/spiffe/jwt_svid.token)
  cut -d. -f2 <<<"$token" | b64url_decode | jq .exp
}

# Waits up to TIMEOUT seconds until the X509-SVID of CONTAINER has another
# serial number than SERIAL.
wait_serial_change() {
  local container=$1 serial=$2 timeout=$3 i
  for ((i = 0; i < timeout; i++)); do
    [ "$(svid_serial "$container")" = "$serial" ] || return 0
    sleep 1
  done
  fail "the X509-SVID of $container still has $serial after ${timeout}s"
}

# Waits up to TIMEOUT seconds until FILE contains TEXT.
wait_text() {
  local file=$1 text=$2 timeout=$3 i
  for ((i = 0; i < timeout * 4; i++)); do
    grep -qF -- "$text" "$file" 2>/dev/null && return 0
    sleep 0.25
  done
  fail "$file does not contain '$text' after ${timeout}s: $(cat "$file" 2>/dev/null)"
}

# Succeeds when process PID exists and is not a zombie.
process_alive() {
  local stat
  stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
  stat=${stat##*) }
  [ "${stat%% *}" != Z ]
}

# Two containers with 30-second SVIDs: the keeper of the first renews them
# at about 15 s.  The CA of the second is away at that time, so its keeper
# logs the failure, keeps the old files and retries until the CA is back.
# The second runs in a user namespace whose ids are shifted by 100000, so
# its keeper must give the files the host's uid 101000.
test_identity_rotated_while_running() {
  require_ca_command
  local ca=$AR_TEST_DIR/ca ca_b=$AR_TEST_DIR/ca-b id_b=$ID-b
  local serial serial_b exp listing keeper dir=$AR_TEST_DIR/check key_before key_after started
  mkdir -p "$dir"
  touch "$AR_TEST_DIR/.start"
  rt_capture ca init --trust-domain example.org --dir "$ca"
  expect_success "ca init"
  cp -a "$ca" "$ca_b"

  make_bundle "$AR_TEST_DIR/bundle-b"
  add_identity_annotations "$ca_b" 30
  config_edit '.process.user = {uid: 1000, gid: 1000}
    | .linux.namespaces += [{type: "user"}]
    | .linux.uidMappings = [{containerID: 0, hostID: 100000, size: 65536}]
    | .linux.gidMappings = [{containerID: 0, hostID: 100000, size: 65536}]'
  # The container's root cannot create the folder in a rootfs that the
  # host's root owns.
  mkdir -p "$BUNDLE/rootfs/run/spiffe"
  set_args /bin/sleep 120
  make_bundle
  add_identity_annotations "$ca" 30
  config_edit '.process.user = {uid: 1000, gid: 1000}'
  set_args /bin/sleep 120

  started=$(date +%s)
  rt_capture --log "$AR_TEST_DIR/a.log" run --detach --bundle "$BUNDLE" "$ID"
  expect_success "run --detach"
  rt_capture --log "$AR_TEST_DIR/b.log" run --detach --bundle "$AR_TEST_DIR/bundle-b" "$id_b"
  expect_success "run --detach of the second container"
  mv "$ca_b" "$ca_b.away"

  serial=$(svid_serial "$ID")
  serial_b=$(svid_serial "$id_b")
  exp=$(jwt_exp "$ID")
  key_before=$(rt exec "$ID" /bin/sed -n 2p /run/spiffe/svid_key.pem)
  [ -n "$serial" ] && [ -n "$exp" ] && [ -n "$key_before" ] || fail "cannot read the first SVIDs"

  keeper=$(jq -r '.keeper_pid // empty' "$AR_ROOT/$ID/state.json")
  [ -n "$keeper" ] || fail "the state records no keeper"
  echo "keeper $keeper: $(grep -E "^(VmRSS|RssAnon|RssFile)" "/proc/$keeper/status" | tr -s "\t\n " " ")" >&2

  wait_serial_change "$ID" "$serial" 30
  # Renewed at half the 30-second lifetime, not earlier.
  [ $(($(date +%s) - started)) -ge 14 ] || fail "renewed after $(($(date +%s) - started)) s, before half the lifetime"
  rt exec "$ID" /bin/cat /run/spiffe/svid.pem >"$dir/svid.pem"
  rt exec "$ID" /bin/cat /run/spiffe/svid_bundle.pem >"$dir/bundle.pem"
  openssl verify -CAfile "$dir/bundle.pem" "$dir/svid.pem" >/dev/null || fail "the renewed SVID does not verify"
  rt exec "$ID" /bin/cat /run/spiffe/svid_key.pem >"$dir/key.pem"
  [ "$(openssl pkey -pubout -in "$dir/key.pem")" = "$(openssl x509 -in "$dir/svid.pem" -noout -pubkey)" ] ||
    fail "the renewed key does not match the SVID"
  [ "$(jwt_exp "$ID")" -gt "$exp" ] || fail "the JWT-SVID's exp did not move past $exp"
  listing=$(rt exec "$ID" /bin/ls -lnA /run/spiffe)
  echo "$listing" >&2
  assert_match "$listing" "-r-------- +1 1000 +1000 .* svid_key.pem" "svid_key.pem after renewal"
  assert_match "$listing" "-r-------- +1 1000 +1000 .* jwt_svid.token" "jwt_svid.token after renewal"
  assert_match "$listing" "-rw-r--r-- +1 1000 +1000 .* svid.pem" "svid.pem after renewal"
  assert_not_contains "$listing" ".tmp" "temporary files after renewal"
  rt_capture exec --user 2000:2000 "$ID" /bin/cat /run/spiffe/svid_key.pem
  expect_failure "Permission denied"
  echo "keeper $keeper after a renewal: $(grep -E "^(VmRSS|RssAnon|RssFile)" "/proc/$keeper/status" | tr -s "\t\n " " ")" >&2

  # The second container kept its first SVID while its CA was away.
  wait_text "$AR_TEST_DIR/b.log" "cannot renew the SVIDs of spiffe://example.org/agent/$id_b/blue" 20
  assert_eq "$(svid_serial "$id_b")" "$serial_b" "serial of the second container's SVID during the failure"
  mv "$ca_b.away" "$ca_b"
  wait_serial_change "$id_b" "$serial_b" 15
  wait_text "$AR_TEST_DIR/b.log" "renewed the SVIDs of spiffe://example.org/agent/$id_b/blue after" 5
  listing=$(rt exec "$id_b" /bin/ls -lnA /run/spiffe)
  echo "$listing" >&2
  assert_match "$listing" "-r-------- +1 1000 +1000 .* svid_key.pem" "svid_key.pem in the user namespace"
  assert_match "$listing" "-rw-r--r-- +1 1000 +1000 .* svid.pem" "svid.pem in the user namespace"

  key_after=$(rt exec "$ID" /bin/sed -n 2p /run/spiffe/svid_key.pem)
  rt_capture delete --force "$ID"
  expect_success "delete --force"
  rt_capture delete --force "$id_b"
  expect_success "delete --force of the second container"
  assert_no_leftovers "$ID"
  local i
  for ((i = 0; i < 50; i++)); do
    process_alive "$keeper" || break
    sleep 0.1
  done
  ! process_alive "$keeper" || fail "the keeper $keeper still runs after delete"

  # No key reached the host's disk: search what changed since the test began.
  local found
  found=$(find "$AR_ROOT" /run /tmp -xdev -type f -newer "$AR_TEST_DIR/.start" -size -1M -print0 2>/dev/null |
    xargs -0 -r grep -lF -e "$key_before" -e "$key_after" 2>/dev/null || true)
  [ -z "$found" ] || fail "SVID keys found on the host's disk: $found"
}

test_identity_env_in_exec() {
  require_ca_command
  local ca=$AR_TEST_DIR/ca
  rt_capture ca init --trust-domain example.org --dir "$ca"
  expect_success "ca init"
  make_bundle
  add_identity_annotations "$ca"
  set_args /bin/sleep 60
  rt_capture run --detach --bundle "$BUNDLE" "$ID"
  expect_success "run --detach"

  rt_capture exec "$ID" /bin/sh -c 'echo "dir=$AGENTRUN_SVID_DIR"'
  expect_success "exec"
  assert_eq "$OUT" "dir=/run/spiffe" "AGENTRUN_SVID_DIR in exec"

  jq '.process | .args = ["/bin/sh", "-c", "echo dir=$AGENTRUN_SVID_DIR"] | .env = ["PATH=/bin"]' \
    "$BUNDLE/config.json" >"$AR_TEST_DIR/process.json"
  rt_capture exec --process "$AR_TEST_DIR/process.json" "$ID"
  expect_success "exec --process"
  assert_eq "$OUT" "dir=/run/spiffe" "AGENTRUN_SVID_DIR in exec --process"

  rt_capture exec --env AGENTRUN_SVID_DIR=/elsewhere "$ID" /bin/sh -c 'echo "dir=$AGENTRUN_SVID_DIR"'
  expect_success "exec --env"
  assert_eq "$OUT" "dir=/elsewhere" "AGENTRUN_SVID_DIR that exec --env sets"

  rt_capture delete --force "$ID"
  expect_success "delete --force"
  assert_no_leftovers "$ID"
}
