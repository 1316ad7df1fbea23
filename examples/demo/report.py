#!/usr/bin/python3
"""Turns the demo agent's JSON lines into the demo's report: one line per
check, naming the policy rule (FILE:LINE and field) behind each outcome,
and for what agentrun blocked at the network, the audit event it wrote.

Usage: report.py POLICY POLICY_NAME RUNTIME AGENT_OUTPUT EVENTS DENIED_PACKETS DENIED_REQUESTS NETWORK

POLICY is the policy file, POLICY_NAME how the report names it, RUNTIME
what ran the agent.  EVENTS is the file of the policy's audit events (one
JSON object per line).  DENIED_PACKETS is the packet count of the deny
chain of the table that agentrun installed in the agent's network
namespace (empty when that namespace is gone), DENIED_REQUESTS the number of requests that the denied server
logged.  NETWORK describes who made the agent's network.  Exits with 1 when a
check's outcome is not the one the policy should give, is missing, or
lacks its audit event.

Each line reads `OUTCOME  ACTION: RESULT  [RULE]`.  OUTCOME is identity,
network, allowed or blocked.  A line whose outcome differs from the
expected one, or whose event is missing, ends with `UNEXPECTED`.
"""

import json
import os
import re
import sys

# The checks in report order: (name, expected outcome, policy field, the
# regular expression of the policy line that decides it, a note).
CHECKS = [
    ("identity", "allowed", "identity", r"^identity:", ""),
    ("fetch-allowed", "allowed", "network.egress", r"domain: api\.demo\.test\b", ""),
    ("fetch-denied", "blocked", "network.mode", r"^\s*mode: allowlist", "no egress rule matches"),
    ("dns-denied", "blocked", "network.mode", r"^\s*mode: allowlist", "agentrun's DNS responder refuses the name"),
    ("fetch-address", "blocked", "network.mode", r"^\s*mode: allowlist",
     "the address was never resolved through agentrun"),
    ("write-workspace", "allowed", "filesystem.readwrite_paths", r"readwrite_paths:", ""),
    ("write-outside", "blocked", "filesystem.readonly_rootfs", r"readonly_rootfs:", ""),
    ("syscall", "blocked", "syscalls.base", r"^\s*base:", ""),
    ("capability", "blocked", "process.capabilities", r"^\s*capabilities:", "CAP_NET_BIND_SERVICE not kept"),
    ("network", "allowed", "network.mode", r"^\s*mode: allowlist", ""),
]


def read_events(path):
    events = []
    try:
        with open(path) as f:
            for line in f:
                try:
                    event = json.loads(line)
                except ValueError:
                    continue
                if isinstance(event, dict):
                    events.append(event)
    except FileNotFoundError:
        pass
    return events


def find_event(events, **fields):
    for event in events:
        if all(event.get(key) == value for key, value in fields.items()):
            return event
    return None


def rule_location(policy_lines, policy_name, pattern):
    for number, line in enumerate(policy_lines, 1):
        if re.search(pattern, line):
            return "%s:%d" % (policy_name, number)
    return "%s (no line matches /%s/)" % (policy_name, pattern)


def main():
    if len(sys.argv) != 9:
        sys.exit("usage: report.py POLICY POLICY_NAME RUNTIME AGENT_OUTPUT EVENTS DENIED_PACKETS DENIED_REQUESTS"
                 " NETWORK")
    policy, shown_policy, runtime, output, events_path, denied_packets, denied_requests, network = sys.argv[1:]
    events = read_events(events_path)
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
        expected_outcome = expected
        if name == "identity":
            detail = "X509-SVID"
            if result.get("jwt_sub") == result.get("spiffe_id"):
                detail = "X509- and JWT-SVID, aud %s" % ",".join(result.get("jwt_aud") or [])
            line = "identity %s  [%s: %s]" % (text, rule, detail)
            if outcome != "allowed":
                line = "identity none: %s  [%s]" % (text, rule)
        else:
            if result.get("address") and result.get("port"):
                action = "%s (%s:%s)" % (action, result["address"], result["port"])
            event = None
            if name == "dns-denied" and outcome == "blocked":
                event = find_event(events, type="dns", name=result["host"], qtype="A", outcome="blocked")
                if event is not None:
                    rule += "; dns event: answer %s, rule %s" % (event.get("answer"), event.get("rule"))
            if name == "fetch-address" and outcome == "blocked":
                event = find_event(events, type="connection", outcome="blocked", protocol="tcp",
                                   destination=result.get("address"), port=result.get("port"))
                if event is not None:
                    rule += "; connection event: tcp %s:%s, rule %s" % (
                        event.get("destination"), event.get("port"), event.get("rule"))
                if denied_packets:
                    rule += "; %s packets dropped" % denied_packets
                rule += "; %s requests served" % denied_requests
            if name in ("dns-denied", "fetch-address") and outcome == "blocked" and event is None:
                rule += "; no audit event"
                expected_outcome = None
            if name == "network":
                outcome = "network"
                rule = network
            if name == "syscall":
                rule += ": seccomp" if result.get("seccomp") == "2" else ": seccomp mode %s" % result.get("seccomp")
            line = "%-8s %s: %s  [%s]" % (outcome, action, text, rule)
        if result["outcome"] != expected_outcome:
            line += "  UNEXPECTED"
            failed = True
        print(line)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
