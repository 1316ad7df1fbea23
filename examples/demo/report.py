#!/usr/bin/python3
"""Turns the demo agent's JSON lines into the demo's report: one line per
check, naming the policy rule (FILE:LINE and field) behind each outcome.

Usage: report.py POLICY POLICY_NAME RUNTIME AGENT_OUTPUT DENIED_PACKETS DENIED_REQUESTS

POLICY is the policy file, POLICY_NAME how the report names it, RUNTIME
what ran the agent.
DENIED_PACKETS is the packet count of the deny chain of the table that
agentrun installed in the agent's network namespace, DENIED_REQUESTS the
number of requests that the denied server logged.  Exits with 1 when a
check's outcome is not the one the policy should give, or is missing.

Each line reads `OUTCOME  ACTION: RESULT  [RULE]`.  OUTCOME is identity,
allowed, blocked, or waiting for a check that needs a feature still being
built.  A line whose outcome differs from the expected one ends with
`UNEXPECTED`.
"""

import json
import os
import re
import sys

# The checks in report order: (name, expected outcome, policy field, the
# regular expression of the policy line that decides it, a note).
CHECKS = [
    ("identity", "allowed", "identity", r"^identity:", ""),
    ("fetch-allowed", "allowed", "network.egress", r"cidr: 10\.213\.90\.10\b", ""),
    ("fetch-denied", "blocked", "network.mode", r"^\s*mode: allowlist", "no egress rule matches"),
    ("write-workspace", "allowed", "filesystem.readwrite_paths", r"readwrite_paths:", ""),
    ("write-outside", "blocked", "filesystem.readonly_rootfs", r"readonly_rootfs:", ""),
    ("syscall", "blocked", "syscalls.base", r"^\s*base:", ""),
    ("capability", "blocked", "process.capabilities", r"^\s*capabilities:", "CAP_NET_BIND_SERVICE not kept"),
]

# Lines for the parts of egress by DNS name that are still being built:
# agentrun's DNS responder, which answers only allowed names and opens
# their addresses in nft sets, and agentrun's own veth network.
WAITING = [
    "waiting  DNS: exfil.demo.test resolves (the demo's DNS server answers)  "
    "[needs agentrun's DNS responder, which answers only allowed names]",
    "waiting  egress by name: a cidr rule stands in for `domain: api.demo.test`  [needs domain rules]",
    "waiting  network: the demo makes the agent's namespace and veth  [needs agentrun's veth network]",
]


def rule_location(policy_lines, policy_name, pattern):
    for number, line in enumerate(policy_lines, 1):
        if re.search(pattern, line):
            return "%s:%d" % (policy_name, number)
    return "%s (no line matches /%s/)" % (policy_name, pattern)


def main():
    if len(sys.argv) != 7:
        sys.exit("usage: report.py POLICY POLICY_NAME RUNTIME AGENT_OUTPUT DENIED_PACKETS DENIED_REQUESTS")
    policy, shown_policy, runtime, output, denied_packets, denied_requests = sys.argv[1:]
    with open(policy) as f:
        policy_lines = f.read().splitlines()
    policy_name = os.path.basename(policy)
    results = {}
    with open(output) as f:
        for line in f:
            line = line.strip()
            if line.startswith("{"):
                try:
                    result = json.loads(line)
                    results[result["check"]] = result
                except (ValueError, KeyError):
                    pass

    print("agentrun demo: %s, run by %s" % (shown_policy, runtime))
    failed = False
    for name, expected, field, pattern, note in CHECKS:
        rule = "%s %s" % (field, rule_location(policy_lines, policy_name, pattern))
        if note:
            rule += ": " + note
        result = results.get(name)
        if result is None:
            print("missing  %s: the agent printed no result  [%s]  UNEXPECTED" % (name, rule))
            failed = True
            continue
        outcome, action, text = result["outcome"], result["action"], result["result"]
        if name == "identity":
            detail = "X509-SVID"
            if result.get("jwt_sub") == result.get("spiffe_id"):
                detail = "X509- and JWT-SVID, aud %s" % ",".join(result.get("jwt_aud") or [])
            line = "identity %s  [%s: %s]" % (text, rule, detail)
            if outcome != "allowed":
                line = "identity none: %s  [%s]" % (text, rule)
        else:
            if result.get("address"):
                action = "%s (%s:%s)" % (action, result["address"], result["port"])
            if name == "fetch-denied" and outcome == "blocked":
                rule += "; %s packets dropped, %s requests served" % (denied_packets, denied_requests)
            if name == "syscall":
                rule += ": seccomp" if result.get("seccomp") == "2" else ": seccomp mode %s" % result.get("seccomp")
            line = "%-8s %s: %s  [%s]" % (outcome, action, text, rule)
        if outcome != expected:
            line += "  UNEXPECTED"
            failed = True
        print(line)
    for line in WAITING:
        print(line)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
