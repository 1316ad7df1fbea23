#!/usr/bin/python3
"""The demo agent: does what an MCP tool server does on a request, and
reports each step as one JSON object per line.

It reads its SPIFFE identity from the SVID files that agentrun wrote into
$AGENTRUN_SVID_DIR.  It fetches a page by name from an allowed server and
from one that its policy does not list, and writes inside and outside its
workspace.  It sends its own query for the denied name to the DNS server
of /etc/resolv.conf, to see the response code, and fetches a page by address from
a server whose name it never resolved.  It reports its own address and
default route.  It calls unshare(2), which the policy's seccomp profile denies,
and binds TCP port 80, which needs CAP_NET_BIND_SERVICE.

Each line has "check" (a fixed name), "outcome" ("allowed", "blocked" or
"missing"), "action" (what was tried) and "result" (what came back), plus
check-specific fields.  Only the Python standard library is used.

Usage: agent.py ALLOWED_URL DENIED_URL ADDRESS_URL
"""

import base64
import ctypes
import json
import random
import os
import socket
import ssl
import struct
import sys
import urllib.error
import urllib.parse
import urllib.request

CLONE_NEWUSER = 0x10000000
# Seconds to wait for a server.  A blocked connection always waits this
# long, because the policy's table drops its packets; the allowed one gets
# more time on a busy machine.
ALLOWED_TIMEOUT = 10
DENIED_TIMEOUT = 2


def emit(check, outcome, action, result, **extra):
    line = {"check": check, "outcome": outcome, "action": action, "result": result}
    line.update(extra)
    print(json.dumps(line), flush=True)


def error_text(exc):
    if isinstance(exc, OSError) and exc.errno:
        return os.strerror(exc.errno)
    if isinstance(exc, urllib.error.URLError):
        return error_text(exc.reason) if isinstance(exc.reason, Exception) else str(exc.reason)
    if isinstance(exc, (socket.timeout, TimeoutError)):
        return "timed out"
    return str(exc) or type(exc).__name__


def jwt_claims(token):
    payload = token.split(".")[1]
    payload += "=" * (-len(payload) % 4)
    return json.loads(base64.urlsafe_b64decode(payload))


def check_identity():
    folder = os.environ.get("AGENTRUN_SVID_DIR")
    action = "read the SVIDs in %s" % (folder or "$AGENTRUN_SVID_DIR")
    if not folder:
        emit("identity", "missing", action, "AGENTRUN_SVID_DIR is not set")
        return
    try:
        # The private decoder of the ssl module reads a PEM certificate
        # file without a connection; the standard library has no public one.
        cert = ssl._ssl._test_decode_cert(os.path.join(folder, "svid.pem"))
    except (OSError, ssl.SSLError) as exc:
        emit("identity", "missing", action, error_text(exc))
        return
    uris = [value for kind, value in cert.get("subjectAltName", ()) if kind == "URI"]
    extra = {"spiffe_id": uris[0] if len(uris) == 1 else None, "not_after": cert.get("notAfter")}
    try:
        with open(os.path.join(folder, "jwt_svid.token")) as f:
            claims = jwt_claims(f.read().strip())
        extra["jwt_sub"] = claims.get("sub")
        extra["jwt_aud"] = claims.get("aud")
    except (OSError, ValueError, IndexError):
        extra["jwt_sub"] = None
    if extra["spiffe_id"] is None:
        emit("identity", "missing", action, "svid.pem has %d URI SANs, not one" % len(uris), **extra)
    else:
        emit("identity", "allowed", action, extra["spiffe_id"], **extra)


def check_fetch(check, url, timeout):
    host = urllib.parse.urlsplit(url).hostname
    port = urllib.parse.urlsplit(url).port or 80
    action = "GET %s" % url
    try:
        address = socket.getaddrinfo(host, port, socket.AF_INET, socket.SOCK_STREAM)[0][4][0]
    except socket.gaierror as exc:
        emit(check, "blocked", action, "cannot resolve %s: %s" % (host, exc.strerror), host=host, stage="dns")
        return
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            body = response.read(200).decode("utf-8", "replace").strip().splitlines()
            emit(check, "allowed", action, "HTTP %d %s" % (response.status, body[0] if body else ""),
                 host=host, address=address, port=port, stage="connect")
    except (OSError, urllib.error.URLError) as exc:
        emit(check, "blocked", action, error_text(exc), host=host, address=address, port=port, stage="connect")


# The DNS response codes the demo may see (RFC 1035, 4.1.1).
RCODES = {0: "NOERROR", 2: "SERVFAIL", 3: "NXDOMAIN", 5: "REFUSED"}


def first_nameserver():
    with open("/etc/resolv.conf") as f:
        for line in f:
            fields = line.split()
            if len(fields) >= 2 and fields[0] == "nameserver":
                return fields[1]
    return None


def check_dns(check, host):
    """Sends one A query for HOST to the first nameserver, as a resolver
    does, and reports the response code, which getaddrinfo hides."""
    server = first_nameserver()
    action = "DNS A %s (to %s)" % (host, server)
    if server is None:
        emit(check, "missing", action, "/etc/resolv.conf names no nameserver", host=host)
        return

    query_id = random.randrange(1 << 16)
    question = b"".join(bytes([len(label)]) + label.encode() for label in host.split(".")) + b"\0"
    query = struct.pack("!HHHHHH", query_id, 0x0100, 1, 0, 0, 0) + question + struct.pack("!HH", 1, 1)

    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        sock.settimeout(DENIED_TIMEOUT)
        sock.connect((server, 53))
        sock.send(query)
        while True:
            reply = sock.recv(4096)
            if len(reply) >= 12 and struct.unpack("!H", reply[:2])[0] == query_id:
                break
    except OSError as exc:
        emit(check, "blocked", action, error_text(exc), host=host, server=server)
        return
    finally:
        sock.close()

    rcode = reply[3] & 0x0F
    answers = struct.unpack("!H", reply[6:8])[0]
    text = RCODES.get(rcode, "rcode %d" % rcode)
    if rcode == 0:
        text += ", %d answers" % answers
    emit(check, "blocked" if rcode == 5 else "allowed", action, text, host=host, server=server, rcode=text)


def check_network(check, host):
    """Reports the address that the agent's packets to HOST leave from
    and the default route, from /proc/net/route."""
    action = "address and default route"
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        sock.connect((host, 9))
        source = sock.getsockname()[0]
    except OSError as exc:
        emit(check, "missing", action, error_text(exc))
        return
    finally:
        sock.close()
    interface = gateway = None
    with open("/proc/net/route") as f:
        for line in f.readlines()[1:]:
            fields = line.split()
            if fields[1] == "00000000" and fields[7] == "00000000":
                interface = fields[0]
                gateway = socket.inet_ntoa(struct.pack("<I", int(fields[2], 16)))
                break
    emit(check, "allowed", action, "%s %s via %s" % (interface, source, gateway),
         interface=interface, address=source, gateway=gateway)


def check_write(check, path):
    action = "write %s" % path
    try:
        with open(path, "w") as f:
            f.write("written by the demo agent\n")
        emit(check, "allowed", action, "wrote %d bytes" % os.path.getsize(path), path=path)
    except OSError as exc:
        emit(check, "blocked", action, error_text(exc), path=path)


def status_field(name):
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(name + ":"):
                return line.split(":", 1)[1].strip()
    return None


def check_syscall():
    libc = ctypes.CDLL(None, use_errno=True)
    action = "unshare(CLONE_NEWUSER)"
    extra = {"syscall": "unshare", "seccomp": status_field("Seccomp")}
    if libc.unshare(CLONE_NEWUSER) == 0:
        emit("syscall", "allowed", action, "a new user namespace", **extra)
    else:
        emit("syscall", "blocked", action, os.strerror(ctypes.get_errno()), **extra)


def check_capability():
    action = "bind TCP port 80"
    extra = {"capability": "CAP_NET_BIND_SERVICE", "cap_eff": status_field("CapEff")}
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        sock.bind(("0.0.0.0", 80))
        emit("capability", "allowed", action, "bound", **extra)
    except OSError as exc:
        emit("capability", "blocked", action, error_text(exc), **extra)
    finally:
        sock.close()


def main():
    if len(sys.argv) != 4:
        sys.exit("usage: agent.py ALLOWED_URL DENIED_URL ADDRESS_URL")
    check_identity()
    check_fetch("fetch-allowed", sys.argv[1], ALLOWED_TIMEOUT)
    check_fetch("fetch-denied", sys.argv[2], DENIED_TIMEOUT)
    check_dns("dns-denied", urllib.parse.urlsplit(sys.argv[2]).hostname)
    check_fetch("fetch-address", sys.argv[3], DENIED_TIMEOUT)
    check_network("network", urllib.parse.urlsplit(sys.argv[1]).hostname)
    check_write("write-workspace", "/workspace/agent-notes.txt")
    check_write("write-outside", "/etc/agent-notes.txt")
    check_syscall()
    check_capability()


if __name__ == "__main__":
    main()
