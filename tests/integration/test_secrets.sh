# Secrets of the identity feature: the private key of a container's
# X509-SVID must exist only in the container's tmpfs.  It must not reach
# the state folder under --root, the runtime's --log file (with --debug),
# the bundle, or any file on the host outside the CA folder.

require_identity() {
  require_cmd openssl
  "$RUNTIME" ca --help >/dev/null 2>&1 || skip "$(basename "$RUNTIME") has no ca command"
}

# Searches files for a private key, in every form a leak might take: the
# lines of its PEM body, the raw 32-byte private scalar and its hex.
# Arguments: the key's PEM file, the scalar as hex, then the files and
# folders to search.  The search stays on the file system of each folder.
# Prints each file that contains the key.
KEY_SCANNER='
import os, sys
pem_path, scalar_hex, *paths = sys.argv[1:]
body = [line.strip() for line in open(pem_path) if line.strip() and not line.startswith("-----")]
needles = [line.encode() for line in body if len(line) >= 32]
needles += [bytes.fromhex(scalar_hex), scalar_hex.encode(), scalar_hex.upper().encode()]
pem_real = os.path.realpath(pem_path)

def scan(path):
    if os.path.realpath(path) == pem_real:
        return
    try:
        if os.path.getsize(path) > 64 << 20:
            return
        with open(path, "rb") as f:
            data = f.read()
    except OSError:
        return
    if any(n in data for n in needles):
        print(path)

def same_device(path, dev):
    try:
        return os.lstat(path).st_dev == dev
    except OSError:
        return False

for top in paths:
    if not os.path.isdir(top):
        # A file, or one that other users of the host removed meanwhile.
        scan(top)
        continue
    dev = os.stat(top).st_dev
    for folder, dirs, files in os.walk(top):
        dirs[:] = [d for d in dirs if same_device(os.path.join(folder, d), dev)]
        for name in files:
            path = os.path.join(folder, name)
            if os.path.isfile(path) and not os.path.islink(path):
                scan(path)
'

test_svid_key_stays_in_the_container() {
  require_identity
  local ca=$AR_TEST_DIR/ca secret=$AR_TEST_DIR/secret scalar found
  rt_capture ca init --trust-domain example.org --dir "$ca"
  expect_success "ca init"
  touch "$AR_TEST_DIR/.start"
  make_bundle
  config_edit '.annotations += {"agentrun.policy.identity": $p, "agentrun.identity.ca": $ca}' \
    --arg ca "$ca" --arg p "$(jq -nc '{trust_domain: "example.org",
      id_template: "spiffe://example.org/agent/{container_id}", svid_dir: "/run/spiffe",
      jwt_audiences: ["svc.example.org"], lifetime_seconds: 600}')"
  set_args sleep 60
  rt_capture --debug --log "$AR_TEST_DIR/runtime.log" run --detach --bundle "$BUNDLE" "$ID"
  expect_success "run --detach with an identity"

  # The test's own copy of the key, kept in a folder that the search skips.
  mkdir -m 0700 "$secret"
  # Not through rt_capture, which would copy the key into the test's log.
  timeout -k 5 30 "$RUNTIME" --root "$AR_ROOT" exec "$ID" cat /run/spiffe/svid_key.pem \
    </dev/null >"$secret/key.pem" || fail "reading the key in the container failed"
  grep -q "BEGIN PRIVATE KEY" "$secret/key.pem" || fail "the container's svid_key.pem is no PEM private key"
  scalar=$(openssl pkey -in "$secret/key.pem" -text -noout |
    awk '/^priv:/ { on = 1; next } /^pub:/ { on = 0 } on { gsub(/[ :]/, ""); printf "%s", $0 }')
  # A P-256 scalar is 32 bytes, printed with a leading 00 when its top bit is set.
  scalar=${scalar: -64}
  assert_eq "${#scalar}" 64 "hex length of the private scalar"

  # While the container runs, and again after a debug-logged delete.
  local round
  for round in running deleted; do
    if [ "$round" = deleted ]; then
      rt_capture --debug --log "$AR_TEST_DIR/runtime.log" delete --force "$ID"
      expect_success "delete --force"
    fi
    [ -s "$AR_TEST_DIR/runtime.log" ] || fail "the runtime wrote no --debug log"
    found=$(/usr/bin/python3 -c "$KEY_SCANNER" "$secret/key.pem" "$scalar" \
      "$AR_ROOT" "$AR_TEST_DIR/runtime.log" "$AR_TEST_DIR/.out" "$AR_TEST_DIR/.err" "$BUNDLE")
    [ -z "$found" ] || fail "the SVID key ($round) is in: $found"
  done

  # Any other file written on the host since the test began, in the
  # places a runtime writes: temporary folders, /run and /var.
  local recent
  recent=$(find /tmp /var/tmp /run /dev/shm /var/lib /var/run -xdev -type f -newer "$AR_TEST_DIR/.start" \
    -size -64M -not -path "$ca/*" -not -path "$secret/*" 2>/dev/null || true)
  if [ -n "$recent" ]; then
    # shellcheck disable=SC2086 # one path per line, without spaces
    found=$(/usr/bin/python3 -c "$KEY_SCANNER" "$secret/key.pem" "$scalar" $recent)
    [ -z "$found" ] || fail "the SVID key is in host files: $found"
  fi
  assert_no_leftovers "$ID"
}
