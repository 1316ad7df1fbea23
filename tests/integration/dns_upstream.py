#!/usr/bin/python3
"""A small authoritative DNS server over UDP for the DNS tests.

    dns_upstream.py ADDRESS PORT RECORDS LOG

RECORDS holds one record a line, `NAME TYPE VALUE [TTL]`, with TYPE A,
AAAA or CNAME.  Every question is appended to LOG as `NAME TYPE`, so a test
can tell which names reached the upstream.  Names without records get
NXDOMAIN.  Uses Debian's python3-dnslib."""

import socket
import sys

from dnslib import AAAA, CNAME, QTYPE, RCODE, RR, A, DNSRecord


def load(path):
    records = []
    with open(path, encoding="ascii") as f:
        for line in f:
            fields = line.split()
            if len(fields) < 3:
                continue
            ttl = int(fields[3]) if len(fields) > 3 else 60
            records.append((fields[0].lower().rstrip("."), fields[1].upper(), fields[2], ttl))
    return records


def answer(request, records):
    reply = request.reply()
    name = str(request.q.qname).lower().rstrip(".")
    qtype = QTYPE[request.q.qtype]
    known = False
    for _ in range(8):
        cname = None
        for owner, rtype, value, ttl in records:
            if owner != name:
                continue
            known = True
            if rtype == "CNAME":
                reply.add_answer(RR(owner, QTYPE.CNAME, rdata=CNAME(value), ttl=ttl))
                cname = value.lower().rstrip(".")
            elif rtype == qtype == "A":
                reply.add_answer(RR(owner, QTYPE.A, rdata=A(value), ttl=ttl))
            elif rtype == qtype == "AAAA":
                reply.add_answer(RR(owner, QTYPE.AAAA, rdata=AAAA(value), ttl=ttl))
        if cname is None:
            break
        name = cname
    if not known:
        reply.header.rcode = RCODE.NXDOMAIN
    return reply


def main():
    address, port, records_path, log_path = sys.argv[1:5]
    records = load(records_path)
    family = socket.AF_INET6 if ":" in address else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_DGRAM)
    sock.bind((address, int(port)))
    with open(log_path, "a", encoding="ascii", buffering=1) as log:
        log.write("ready\n")
        while True:
            data, client = sock.recvfrom(65535)
            try:
                request = DNSRecord.parse(data)
            except Exception:  # pylint: disable=broad-except
                continue
            log.write(f"{str(request.q.qname).rstrip('.')} {QTYPE[request.q.qtype]}\n")
            sock.sendto(answer(request, records).pack(), client)


if __name__ == "__main__":
    main()
