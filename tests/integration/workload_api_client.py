#!/usr/bin/python3
"""A SPIFFE Workload API client for the tests of the keeper's socket.

It calls the socket as a program written with the SPIFFE libraries would,
with grpcio and the message classes that protoc generates from agentrun's
spiffe/proto/, and prints what it got as JSON lines:
  x509 DIR        FetchX509SVID's first message; writes DIR/svid.pem,
                  DIR/key.pem and DIR/bundle.pem
  bundles DIR     FetchX509Bundles' first message; writes DIR/bundle.pem
  jwt AUDIENCE    FetchJWTSVID
  jwtbundles DIR  FetchJWTBundles' first message; writes DIR/jwt_bundle.json
  validate AUDIENCE TOKEN
                  ValidateJWTSVID
  bare            FetchX509SVID without the workload.spiffe.io metadata
  watch N DIR     FetchX509SVID until N messages came, writing
                  DIR/svid-K.pem for each; prints a line per message
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile

import grpc

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from workload_api_server import load_messages  # noqa: E402

METADATA = (("workload.spiffe.io", "true"),)


def pem(der, kind):
    if kind == "PRIVATE KEY":
        out = subprocess.run(["openssl", "pkey", "-inform", "DER"], input=der, capture_output=True, check=True)
        return out.stdout
    text = b""
    rest = der
    while rest:
        # One DER certificate: a SEQUENCE, with its length in short or long form.
        if rest[1] & 0x80:
            n = rest[1] & 0x7F
            length = 2 + n + int.from_bytes(rest[2:2 + n], "big")
        else:
            length = 2 + rest[1]
        out = subprocess.run(["openssl", "x509", "-inform", "DER"], input=rest[:length], capture_output=True,
                             check=True)
        text += out.stdout
        rest = rest[length:]
    return text


def write(path, data):
    with open(path, "wb") as f:
        f.write(data)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--socket", required=True)
    parser.add_argument("--proto-dir", required=True)
    parser.add_argument("--timeout", type=float, default=10)
    parser.add_argument("command")
    parser.add_argument("args", nargs="*")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="client-") as workdir:
        w, _, _ = load_messages(os.path.abspath(args.proto_dir), workdir)
        channel = grpc.insecure_channel("unix:" + args.socket)
        x509 = channel.unary_stream("/SpiffeWorkloadAPI/FetchX509SVID",
                                    request_serializer=lambda m: m.SerializeToString(),
                                    response_deserializer=w.X509SVIDResponse.FromString)
        bundles = channel.unary_stream("/SpiffeWorkloadAPI/FetchX509Bundles",
                                       request_serializer=lambda m: m.SerializeToString(),
                                       response_deserializer=w.X509BundlesResponse.FromString)
        jwt = channel.unary_unary("/SpiffeWorkloadAPI/FetchJWTSVID",
                                  request_serializer=lambda m: m.SerializeToString(),
                                  response_deserializer=w.JWTSVIDResponse.FromString)
        jwt_bundles = channel.unary_stream("/SpiffeWorkloadAPI/FetchJWTBundles",
                                           request_serializer=lambda m: m.SerializeToString(),
                                           response_deserializer=w.JWTBundlesResponse.FromString)
        validate = channel.unary_unary("/SpiffeWorkloadAPI/ValidateJWTSVID",
                                       request_serializer=lambda m: m.SerializeToString(),
                                       response_deserializer=w.ValidateJWTSVIDResponse.FromString)
        try:
            if args.command == "x509":
                response = next(iter(x509(w.X509SVIDRequest(), metadata=METADATA, timeout=args.timeout)))
                svid = response.svids[0]
                write(os.path.join(args.args[0], "svid.pem"), pem(svid.x509_svid, "CERTIFICATE"))
                write(os.path.join(args.args[0], "key.pem"), pem(svid.x509_svid_key, "PRIVATE KEY"))
                write(os.path.join(args.args[0], "bundle.pem"), pem(svid.bundle, "CERTIFICATE"))
                print(json.dumps({"svids": len(response.svids), "spiffe_id": svid.spiffe_id}))
            elif args.command == "bundles":
                response = next(iter(bundles(w.X509BundlesRequest(), metadata=METADATA, timeout=args.timeout)))
                for der in response.bundles.values():
                    write(os.path.join(args.args[0], "bundle.pem"), pem(der, "CERTIFICATE"))
                print(json.dumps({"trust_domains": sorted(response.bundles)}))
            elif args.command == "jwt":
                response = jwt(w.JWTSVIDRequest(audience=args.args), metadata=METADATA, timeout=args.timeout)
                print(json.dumps({"spiffe_id": response.svids[0].spiffe_id, "svid": response.svids[0].svid}))
            elif args.command == "jwtbundles":
                response = next(iter(jwt_bundles(w.JWTBundlesRequest(), metadata=METADATA, timeout=args.timeout)))
                for jwks in response.bundles.values():
                    write(os.path.join(args.args[0], "jwt_bundle.json"), jwks)
                print(json.dumps({"trust_domains": sorted(response.bundles)}))
            elif args.command == "validate":
                response = validate(w.ValidateJWTSVIDRequest(audience=args.args[0], svid=args.args[1]),
                                    metadata=METADATA, timeout=args.timeout)
                print(json.dumps({"spiffe_id": response.spiffe_id}))
            elif args.command == "bare":
                next(iter(x509(w.X509SVIDRequest(), timeout=args.timeout)))
                print(json.dumps({"code": "OK"}))
            elif args.command == "watch":
                count, out_dir = int(args.args[0]), args.args[1]
                stream = x509(w.X509SVIDRequest(), metadata=METADATA, timeout=args.timeout)
                for i, response in enumerate(stream, 1):
                    write(os.path.join(out_dir, f"svid-{i}.pem"), pem(response.svids[0].x509_svid, "CERTIFICATE"))
                    print(json.dumps({"message": i, "spiffe_id": response.svids[0].spiffe_id}), flush=True)
                    if i == count:
                        stream.cancel()
                        break
            else:
                parser.error(f"unknown command {args.command}")
        except grpc.RpcError as e:
            print(json.dumps({"code": e.code().name, "details": e.details()}))
            return 1
        finally:
            channel.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
