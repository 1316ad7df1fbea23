#!/bin/bash
# Writes the seed corpora of tests/fuzz/corpus/ from real inputs: the
# configs that `agentrun spec` and podman write, the example policies
# (YAML, and the same as JSON), the network annotations that
# `agentrun policy compile` makes of them, and a CA, its keys and a
# JWT-SVID made with `agentrun ca` and openssl.  Needs ./agentrun, jq,
# openssl and Debian's /usr/bin/python3 with its yaml module.  The CA and
# the JWT-SVID are valid for one year, after which those seeds only reach
# the expiry checks: run this script again then.
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$repo"
out=tests/fuzz/corpus
agentrun=./agentrun
tmp=$(mktemp -d "${TMPDIR:-/tmp}/ar-fuzz-seeds.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

rm -rf "$out"
mkdir -p "$out"/{config,dns,egress,grpc,policy_yaml,policy_json,spiffe_ca,spiffe_jwt}

# --- policies -----------------------------------------------------------------
for policy in examples/policies/*.yaml; do
  name=$(basename "$policy" .yaml)
  cp "$policy" "$out/policy_yaml/$name.yaml"
  /usr/bin/python3 -c 'import json, sys, yaml; json.dump(yaml.safe_load(open(sys.argv[1])), sys.stdout, indent=2)' \
    "$policy" >"$out/policy_json/$name.json"
done

# --- config.json: spec, podman's, and each policy merged into spec ------------
"$agentrun" spec --bundle "$tmp"
cp "$tmp/config.json" "$out/config/spec.json"
rm "$tmp/config.json"
"$agentrun" spec --bundle "$tmp" --rootless
cp "$tmp/config.json" "$out/config/spec-rootless.json"
cp tests/policy/podman-config.json "$out/config/podman.json"

for policy in examples/policies/*.yaml; do
  name=$(basename "$policy" .yaml)
  "$agentrun" policy compile "$policy" >"$tmp/compiled.json"
  # Applies the patch, made against an empty document, to the spec: an
  # object that the patch adds is merged into the spec's own.
  /usr/bin/python3 - "$out/config/spec.json" "$tmp/compiled.json" >"$out/config/spec-$name.json" <<'PY'
import json, sys
def merge(old, new):
    if isinstance(old, dict) and isinstance(new, dict):
        for key, value in new.items():
            old[key] = merge(old.get(key), value)
        return old
    return new
doc = json.load(open(sys.argv[1]))
for op in json.load(open(sys.argv[2]))["patch"]:
    keys = [k.replace("~1", "/").replace("~0", "~") for k in op["path"].split("/")[1:]]
    parent = doc
    for key in keys[:-1]:
        parent = parent[int(key)] if isinstance(parent, list) else parent[key]
    last = keys[-1]
    if isinstance(parent, list):
        index = len(parent) if last == "-" else int(last)
        if op["op"] == "add":
            parent.insert(index, op["value"])
        elif op["op"] == "replace":
            parent[index] = op["value"]
        else:
            del parent[index]
    elif op["op"] in ("add", "replace"):
        parent[last] = merge(parent.get(last), op["value"])
    else:
        del parent[last]
json.dump(doc, sys.stdout, indent=2)
PY
  jq -r '.annotations["agentrun.policy.network"] // empty' "$out/config/spec-$name.json" \
    >"$out/egress/$name.json"
  [ -s "$out/egress/$name.json" ] || rm "$out/egress/$name.json"
done

# --- egress annotations with address rules ------------------------------------
cat >"$out/egress/cidr.json" <<'JSON'
{"mode": "allowlist", "enforce": true, "egress": [
 {"cidr": "10.20.0.0/16", "ports": [{"first": 5432, "last": 5432}], "protocol": "tcp", "rule": "p.yaml:3"},
 {"cidr": "2001:db8::1", "ports": [], "protocol": "any"},
 {"cidr": "0.0.0.0/0", "ports": [{"first": 443, "last": 443}, {"first": 8000, "last": 8080}]},
 {"cidr": "fd00::/8", "protocol": "udp", "ports": [{"first": 53, "last": 53}]},
 {"domain": "example.org", "protocol": "tcp", "ports": [{"first": 443, "last": 443}]}],
 "ingress": [{"ports": [{"first": 8080, "last": 8080}], "protocol": "tcp"}]}
JSON
printf '{"mode": "open", "enforce": false}' >"$out/egress/open.json"
printf '{"mode": "host"}' >"$out/egress/host.json"

# --- a CA made by agentrun, and certificates made by openssl ------------------
"$agentrun" ca init --trust-domain example.org --dir "$tmp/ca" >/dev/null
"$agentrun" ca mint --dir "$tmp/ca" --spiffe-id spiffe://example.org/agent --ttl 31536000 \
  --audience fuzz --audience other --out "$tmp/svid" >/dev/null
# The files are separated by NUL bytes, as the targets read them.
join() { local first=1 f; for f in "$@"; do [ $first = 1 ] || printf '\0'; cat "$f"; first=0; done; }
join "$tmp/ca/ca.pem" "$tmp/ca/ca_key.pem" "$tmp/ca/jwt_key.pem" >"$out/spiffe_ca/agentrun-ca"
join "$tmp/svid/svid.pem" "$tmp/svid/svid_key.pem" "$tmp/ca/jwt_key.pem" >"$out/spiffe_ca/svid-not-ca"

openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$tmp/ec.pem" 2>/dev/null
openssl req -x509 -new -key "$tmp/ec.pem" -subj /CN=openssl-ca -days 365 -sha256 \
  -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign \
  -addext subjectAltName=URI:spiffe://openssl.example -out "$tmp/ec-ca.pem" 2>/dev/null
join "$tmp/ec-ca.pem" "$tmp/ec.pem" "$tmp/ec.pem" >"$out/spiffe_ca/openssl-ec-ca"
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:1024 -out "$tmp/rsa.pem" 2>/dev/null
openssl req -x509 -new -key "$tmp/rsa.pem" -subj /CN=rsa -days 365 -out "$tmp/rsa-ca.pem" 2>/dev/null
join "$tmp/rsa-ca.pem" "$tmp/rsa.pem" "$tmp/rsa.pem" >"$out/spiffe_ca/openssl-rsa"
openssl req -x509 -new -key "$tmp/ec.pem" -subj /CN=path -days 365 \
  -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign \
  -addext subjectAltName=URI:spiffe://openssl.example/with/path -out "$tmp/path-ca.pem" 2>/dev/null
join "$tmp/path-ca.pem" "$tmp/ec.pem" "$tmp/ec.pem" >"$out/spiffe_ca/openssl-san-path"

# --- a JWT-SVID and its bundle -------------------------------------------------
{ tr -d '\n' <"$tmp/svid/jwt_svid.token"; printf '\0'; cat "$tmp/ca/jwt_bundle.json"; } \
  >"$out/spiffe_jwt/agentrun-jwt"

# --- Workload API responses in gRPC frames, from the SVIDs above ---------------
# The first byte picks the response type of fuzz_grpc.c: 0 X509SVIDResponse,
# 1 JWTSVIDResponse, 2 X509BundlesResponse.
protoc --python_out="$tmp" -Ispiffe/proto spiffe/proto/workload.proto
openssl x509 -in "$tmp/svid/svid.pem" -outform DER -out "$tmp/svid.der"
openssl pkcs8 -topk8 -nocrypt -in "$tmp/svid/svid_key.pem" -outform DER -out "$tmp/svid_key.der"
openssl x509 -in "$tmp/ca/ca.pem" -outform DER -out "$tmp/ca.der"
/usr/bin/python3 - "$tmp" "$out/grpc" <<'PYTHON'
import struct
import sys

sys.path.insert(0, sys.argv[1])
import workload_pb2

tmp, out = sys.argv[1], sys.argv[2]
der = open(tmp + "/svid.der", "rb").read()
key = open(tmp + "/svid_key.der", "rb").read()
ca = open(tmp + "/ca.der", "rb").read()
token = open(tmp + "/svid/jwt_svid.token").read().strip()
spiffe_id = "spiffe://example.org/agent"


def frames(kind, *messages):
    body = b"".join(b"\0" + struct.pack(">I", len(m)) + m for m in messages)
    return bytes([kind]) + body


x509 = workload_pb2.X509SVIDResponse()
x509.svids.add(spiffe_id=spiffe_id, x509_svid=der, x509_svid_key=key, bundle=ca)
open(out + "/x509-svid", "wb").write(frames(0, x509.SerializeToString()))
open(out + "/x509-svid-twice", "wb").write(frames(0, x509.SerializeToString(), x509.SerializeToString()))
jwt = workload_pb2.JWTSVIDResponse()
jwt.svids.add(spiffe_id=spiffe_id, svid=token)
open(out + "/jwt-svid", "wb").write(frames(1, jwt.SerializeToString()))
bundles = workload_pb2.X509BundlesResponse()
bundles.bundles["spiffe://example.org"] = ca
open(out + "/x509-bundles", "wb").write(frames(2, bundles.SerializeToString()))
PYTHON

# --- DNS queries and answers, written with dnslib ------------------------------
/usr/bin/python3 - "$out/dns" <<'PYTHON'
import sys
from dnslib import AAAA, CNAME, QTYPE, RR, A, DNSRecord

out = sys.argv[1]
open(out + "/query-a", "wb").write(DNSRecord.question("pypi.org", "A").pack())
open(out + "/query-aaaa", "wb").write(DNSRecord.question("files.pythonhosted.org", "AAAA").pack())
reply = DNSRecord.question("api.example.com", "A").reply()
reply.add_answer(RR("api.example.com", QTYPE.CNAME, rdata=CNAME("edge.example.net"), ttl=60))
reply.add_answer(RR("edge.example.net", QTYPE.A, rdata=A("192.0.2.10"), ttl=300))
open(out + "/answer-cname-chain", "wb").write(reply.pack())
reply = DNSRecord.question("v6.example.org", "AAAA").reply()
reply.add_answer(RR("v6.example.org", QTYPE.AAAA, rdata=AAAA("2001:db8::1"), ttl=86400))
open(out + "/answer-aaaa-long-ttl", "wb").write(reply.pack())
PYTHON

ls -R "$out" | head -n 40
