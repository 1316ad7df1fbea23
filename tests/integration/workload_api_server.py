#!/usr/bin/python3
"""A stand-in SPIRE agent for the integration tests.

It serves the SPIFFE Workload API and SPIRE's Delegated Identity API with
grpcio on a UNIX socket, from the message classes that protoc generates at
start from agentrun's own spiffe/proto/*.proto.  It hands out one X509-SVID
that it mints with the openssl command line tool from a test CA (ca.pem and
ca_key.pem in --ca-dir), and ES256 JWT-SVIDs signed with the CA key.  Every
call is logged as one JSON object per line in --log: the method, the
workload.spiffe.io header, the audiences, the SPIFFE ID and the selectors
asked for.

Run it with Debian's /usr/bin/python3, which has grpcio and protobuf.
"""

import argparse
import base64
import concurrent.futures
import importlib
import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time

import grpc

WORKLOAD = "SpiffeWorkloadAPI"
DELEGATED = "spire.api.agent.delegatedidentity.v1.DelegatedIdentity"


def openssl(*args, data=None):
    return subprocess.run(["openssl", *args], input=data, check=True, capture_output=True).stdout


def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def der_ecdsa_to_raw(sig):
    """Turns a DER ECDSA-Sig-Value into the 64-byte r||s of JWS ES256."""
    assert sig[0] == 0x30
    pos = 2 if sig[1] < 0x80 else 3
    parts = []
    for _ in range(2):
        assert sig[pos] == 0x02
        length = sig[pos + 1]
        value = sig[pos + 2:pos + 2 + length].lstrip(b"\0")
        parts.append(value.rjust(32, b"\0"))
        pos += 2 + length
    return b"".join(parts)


class Identity:
    """The SVID of one SPIFFE ID, minted once with openssl."""

    def __init__(self, workdir, ca_dir, spiffe_id, ttl):
        self.spiffe_id = spiffe_id
        self.ca_key = os.path.join(ca_dir, "ca_key.pem")
        self.ttl = ttl
        key = os.path.join(workdir, "svid_key.pem")
        csr = os.path.join(workdir, "svid.csr")
        cert = os.path.join(workdir, "svid.pem")
        ext = os.path.join(workdir, "svid.ext")
        with open(ext, "w") as f:
            f.write("basicConstraints = critical, CA:FALSE\n"
                    "keyUsage = critical, digitalSignature\n"
                    "extendedKeyUsage = serverAuth, clientAuth\n"
                    f"subjectAltName = URI:{spiffe_id}\n")
        openssl("genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", key)
        openssl("req", "-new", "-key", key, "-subj", "/O=SPIRE test agent", "-out", csr)
        openssl("x509", "-req", "-in", csr, "-CA", os.path.join(ca_dir, "ca.pem"), "-CAkey", self.ca_key,
                "-set_serial", str(int(time.time() * 1000)), "-days", "1", "-extfile", ext, "-out", cert)
        self.cert_der = openssl("x509", "-in", cert, "-outform", "DER")
        self.key_der = openssl("pkcs8", "-topk8", "-nocrypt", "-in", key, "-outform", "DER")
        self.bundle_der = openssl("x509", "-in", os.path.join(ca_dir, "ca.pem"), "-outform", "DER")
        self.expires_at = int(time.time()) + 86400

    def jwt(self, audiences):
        now = int(time.time())
        header = b64url(json.dumps({"alg": "ES256", "kid": "test", "typ": "JWT"}).encode())
        claims = {"sub": self.spiffe_id, "aud": list(audiences), "iat": now, "exp": now + self.ttl}
        payload = b64url(json.dumps(claims).encode())
        sig = openssl("dgst", "-sha256", "-sign", self.ca_key, data=f"{header}.{payload}".encode())
        return f"{header}.{payload}.{b64url(der_ecdsa_to_raw(sig))}", claims["exp"]


class Agent:
    def __init__(self, args, workload, delegated, types):
        self.args = args
        self.workload = workload
        self.delegated = delegated
        self.types = types
        self.identity = Identity(args.workdir, args.ca_dir, args.spiffe_id, args.jwt_ttl)
        self.log_lock = threading.Lock()

    def log(self, method, context, **fields):
        metadata = dict(context.invocation_metadata())
        entry = {"method": method, "header": metadata.get("workload.spiffe.io"), **fields}
        with self.log_lock, open(self.args.log, "a") as f:
            f.write(json.dumps(entry) + "\n")

    def check(self, context, workload_api):
        if self.args.deny:
            context.abort(grpc.StatusCode.PERMISSION_DENIED, "no identity issued (test agent: 100% refused)")
        if workload_api and dict(context.invocation_metadata()).get("workload.spiffe.io") != "true":
            context.abort(grpc.StatusCode.INVALID_ARGUMENT, "security header missing from request")

    @staticmethod
    def hold(context):
        """Keeps a stream open, as an agent does until the SVIDs change."""
        deadline = time.time() + 30
        while context.is_active() and time.time() < deadline:
            time.sleep(0.05)

    # --- Workload API ---------------------------------------------------

    def fetch_x509_svid(self, request, context):
        self.log("FetchX509SVID", context)
        self.check(context, True)
        svid = self.workload.X509SVID(spiffe_id=self.identity.spiffe_id, x509_svid=self.identity.cert_der,
                                      x509_svid_key=self.identity.key_der, bundle=self.identity.bundle_der)
        yield self.workload.X509SVIDResponse(svids=[svid])
        self.hold(context)

    def fetch_x509_bundles(self, request, context):
        self.log("FetchX509Bundles", context)
        self.check(context, True)
        domain = "spiffe://" + self.identity.spiffe_id.split("/")[2]
        yield self.workload.X509BundlesResponse(bundles={domain: self.identity.bundle_der})
        self.hold(context)

    def fetch_jwt_svid(self, request, context):
        self.log("FetchJWTSVID", context, audience=list(request.audience), spiffe_id=request.spiffe_id)
        self.check(context, True)
        if request.spiffe_id and request.spiffe_id != self.identity.spiffe_id:
            context.abort(grpc.StatusCode.PERMISSION_DENIED, f"no identity issued for {request.spiffe_id}")
        token, _ = self.identity.jwt(request.audience)
        return self.workload.JWTSVIDResponse(svids=[self.workload.JWTSVID(spiffe_id=self.identity.spiffe_id,
                                                                          svid=token)])

    # --- Delegated Identity API -----------------------------------------

    def spiffe_id_message(self):
        _, _, domain, path = self.identity.spiffe_id.split("/", 3)
        return self.types.SPIFFEID(trust_domain=domain, path="/" + path)

    def subscribe_x509_svids(self, request, context):
        selectors = [f"{s.type}:{s.value}" for s in request.selectors]
        self.log("SubscribeToX509SVIDs", context, selectors=selectors)
        self.check(context, False)
        svid = self.types.X509SVID(cert_chain=[self.identity.cert_der], id=self.spiffe_id_message(),
                                   expires_at=self.identity.expires_at)
        yield self.delegated.SubscribeToX509SVIDsResponse(
            x509_svids=[self.delegated.X509SVIDWithKey(x509_svid=svid, x509_svid_key=self.identity.key_der)])
        self.hold(context)

    def subscribe_x509_bundles(self, request, context):
        self.log("SubscribeToX509Bundles", context)
        self.check(context, False)
        domain = self.identity.spiffe_id.split("/")[2]
        yield self.delegated.SubscribeToX509BundlesResponse(ca_certificates={domain: self.identity.bundle_der})
        self.hold(context)

    def fetch_jwt_svids(self, request, context):
        selectors = [f"{s.type}:{s.value}" for s in request.selectors]
        self.log("FetchJWTSVIDs", context, audience=list(request.audience), selectors=selectors)
        self.check(context, False)
        token, exp = self.identity.jwt(request.audience)
        svid = self.types.JWTSVID(token=token, id=self.spiffe_id_message(), expires_at=exp)
        return self.delegated.FetchJWTSVIDsResponse(svids=[svid])

    def handlers(self):
        w, d = self.workload, self.delegated

        def stream(fn, req):
            return grpc.unary_stream_rpc_method_handler(fn, request_deserializer=req.FromString,
                                                        response_serializer=lambda m: m.SerializeToString())

        def unary(fn, req):
            return grpc.unary_unary_rpc_method_handler(fn, request_deserializer=req.FromString,
                                                       response_serializer=lambda m: m.SerializeToString())

        handlers = [
            grpc.method_handlers_generic_handler(WORKLOAD, {
                "FetchX509SVID": stream(self.fetch_x509_svid, w.X509SVIDRequest),
                "FetchX509Bundles": stream(self.fetch_x509_bundles, w.X509BundlesRequest),
                "FetchJWTSVID": unary(self.fetch_jwt_svid, w.JWTSVIDRequest),
            }),
            grpc.method_handlers_generic_handler(DELEGATED, {
                "SubscribeToX509SVIDs": stream(self.subscribe_x509_svids, d.SubscribeToX509SVIDsRequest),
                "SubscribeToX509Bundles": stream(self.subscribe_x509_bundles, d.SubscribeToX509BundlesRequest),
                "FetchJWTSVIDs": unary(self.fetch_jwt_svids, d.FetchJWTSVIDsRequest),
            }),
        ]
        return handlers[:1] if self.args.workload_only else handlers


def load_messages(proto_dir, out_dir):
    protos = sorted(f for f in os.listdir(proto_dir) if f.endswith(".proto"))
    subprocess.run(["protoc", f"--python_out={out_dir}", f"-I{proto_dir}", *protos], check=True, cwd=proto_dir)
    sys.path.insert(0, out_dir)
    return (importlib.import_module("workload_pb2"), importlib.import_module("delegatedidentity_pb2"),
            importlib.import_module("spire_types_pb2"))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--socket", required=True)
    parser.add_argument("--proto-dir", required=True)
    parser.add_argument("--ca-dir", required=True)
    parser.add_argument("--spiffe-id", required=True, help="the ID of the SVIDs handed out")
    parser.add_argument("--log", required=True)
    parser.add_argument("--ready", required=True, help="a file created once the server listens")
    parser.add_argument("--deny", action="store_true", help="fail every call with PERMISSION_DENIED")
    parser.add_argument("--jwt-ttl", type=int, default=300, help="lifetime of the JWT-SVIDs, in seconds")
    parser.add_argument("--workload-only", action="store_true",
                        help="serve only the Workload API, as on an agent's workload socket")
    args = parser.parse_args()

    # Beside the log, in the test's folder, which the test runner removes
    # even when it ends the server with SIGKILL.
    log_dir = os.path.dirname(os.path.abspath(args.log))
    with tempfile.TemporaryDirectory(prefix="peer-", dir=log_dir) as workdir:
        args.workdir = workdir
        workload, delegated, types = load_messages(os.path.abspath(args.proto_dir), workdir)
        agent = Agent(args, workload, delegated, types)
        server = grpc.server(concurrent.futures.ThreadPoolExecutor(max_workers=8), handlers=agent.handlers())
        server.add_insecure_port("unix:" + args.socket)
        server.start()
        stop = threading.Event()
        signal.signal(signal.SIGTERM, lambda *_: stop.set())
        signal.signal(signal.SIGINT, lambda *_: stop.set())
        open(args.ready, "w").close()
        stop.wait()
        server.stop(0)


if __name__ == "__main__":
    main()
