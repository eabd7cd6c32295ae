#!/usr/bin/env python3
# tests/host/trace_check.py - validates a wdmsim trace against the Chrome
# trace-event format (the JSON object form the Perfetto UI imports) and
# counts its events.
#
#   trace_check.py FILE [KEY=N ...] [counter:PREFIX ...]
#
# Checks: a JSON object with a "traceEvents" array; every event has a known
# ph, integer pid/tid, a numeric ts (all but metadata), a name where the
# format needs one; B/E nest on every (pid, tid) track with non-decreasing
# ts; every async "b" has its "e" (same pid, cat, id); counters carry
# numeric args; metadata names processes and threads.
# KEY=N compares a count: dpc, isr, dispatch (distinct IoCallDriver calls),
# dma (async transfers), interrupt (device-track interrupt slices), bus.
# counter:PREFIX requires a counter whose name starts with PREFIX.
# Exit 0 when valid and every expectation holds; prints the counts.
import json
import sys


def fail(msg):
    print("trace_check: " + msg)
    sys.exit(1)


def main():
    if len(sys.argv) < 2:
        fail("usage: trace_check.py FILE [KEY=N ...] [counter:PREFIX ...]")
    with open(sys.argv[1]) as f:
        doc = json.load(f)
    if not isinstance(doc, dict) or not isinstance(doc.get("traceEvents"), list):
        fail("not a trace-event JSON object with a traceEvents array")
    stacks, asyncs, last_ts = {}, {}, {}
    counts = {"dpc": 0, "isr": 0, "dispatch": 0, "dma": 0, "interrupt": 0, "bus": 0}
    calls, counters = set(), set()
    for i, e in enumerate(doc["traceEvents"]):
        where = "event %d (%s)" % (i, json.dumps(e)[:120])
        ph = e.get("ph")
        if ph not in ("B", "E", "b", "e", "i", "C", "M", "X"):
            fail(where + ": unknown ph")
        if not isinstance(e.get("pid"), int) or not isinstance(e.get("tid"), int):
            fail(where + ": pid and tid must be integers")
        if ph != "M" and not isinstance(e.get("ts"), (int, float)):
            fail(where + ": no numeric ts")
        if ph in ("B", "b", "e", "i", "C", "M") and not isinstance(e.get("name"), str):
            fail(where + ": no name")
        track = (e["pid"], e["tid"])
        if ph in ("B", "E"):
            if e["ts"] < last_ts.get(track, 0):
                fail(where + ": ts goes backwards on its track")
            last_ts[track] = e["ts"]
        if ph == "B":
            stacks.setdefault(track, []).append(e["name"])
            cat = e.get("cat")
            if cat in ("dpc", "isr", "interrupt"):
                counts[cat] += 1
            if cat == "dispatch":
                calls.add(e["args"]["call"])
        elif ph == "E":
            if not stacks.get(track):
                fail(where + ": E without an open B on its track")
            stacks[track].pop()
        elif ph in ("b", "e"):
            if "cat" not in e or "id" not in e:
                fail(where + ": async event without cat and id")
            key = (e["pid"], e["cat"], e["id"])
            if ph == "b":
                if key in asyncs:
                    fail(where + ": async id reused while open")
                asyncs[key] = e["name"]
                if e["cat"] == "dma":
                    counts["dma"] += 1
            else:
                if asyncs.pop(key, None) is None:
                    fail(where + ": e without its b")
        elif ph == "C":
            args = e.get("args")
            if not isinstance(args, dict) or not args or not all(
                    isinstance(v, (int, float)) for v in args.values()):
                fail(where + ": counter args must be numbers")
            counters.add(e["name"])
        elif ph == "M":
            if e["name"] not in ("process_name", "thread_name") or not isinstance(
                    e.get("args", {}).get("name"), str):
                fail(where + ": bad metadata")
        elif ph == "i" and e.get("cat") == "bus":
            counts["bus"] += 1
    for track, st in stacks.items():
        if st:
            fail("track %s ends with open slices %s" % (track, st))
    if asyncs:
        fail("async slices never ended: %s" % list(asyncs.values())[:5])
    counts["dispatch"] = len(calls)
    print("trace_check: valid, %d events; counts %s; %d counters" %
          (len(doc["traceEvents"]), json.dumps(counts, sort_keys=True), len(counters)))
    ok = True
    for arg in sys.argv[2:]:
        if arg.startswith("counter:"):
            prefix = arg[len("counter:"):]
            if not any(c.startswith(prefix) for c in counters):
                print("trace_check: no counter named %s..." % prefix)
                ok = False
            continue
        key, want = arg.split("=")
        if counts.get(key) != int(want):
            print("trace_check: %s: %s in the trace, %s expected" % (key, counts.get(key), want))
            ok = False
    sys.exit(0 if ok else 1)


main()
