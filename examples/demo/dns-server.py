#!/usr/bin/python3
"""The demo's DNS server, the upstream of its test network: answers A
queries for the names given on the command line, NXDOMAIN for every other
name, and runs until it is killed.  Needs dnslib (Debian: python3-dnslib).

Usage: dns-server.py ADDRESS NAME=IPV4...
"""

import sys
import time

from dnslib import QTYPE, RCODE, RR, A
from dnslib.server import BaseResolver, DNSLogger, DNSServer


class Resolver(BaseResolver):
    def __init__(self, names):
        self.names = names

    def resolve(self, request, handler):
        reply = request.reply()
        name = str(request.q.qname).rstrip(".").lower()
        if name not in self.names:
            reply.header.rcode = RCODE.NXDOMAIN
        elif request.q.qtype in (QTYPE.A, QTYPE.ANY):
            reply.add_answer(RR(request.q.qname, QTYPE.A, rdata=A(self.names[name]), ttl=60))
        return reply


def main():
    if len(sys.argv) < 3:
        sys.exit("usage: dns-server.py ADDRESS NAME=IPV4...")
    names = dict(arg.lower().split("=", 1) for arg in sys.argv[2:])
    server = DNSServer(Resolver(names), address=sys.argv[1], port=53,
                       logger=DNSLogger(log="-request,-reply,-truncated,-error,-recv,-send,-data"))
    server.start_thread()
    while server.isAlive():
        time.sleep(1)


if __name__ == "__main__":
    main()
