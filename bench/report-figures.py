#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""bench/run-bench's figures from hotplug-ci run reports (report.json and the
cells' events.log beside it).  Standard library only.

  report-figures.py boot-kinds REPORT      "restored_median cold_median restored_n cold_n" (ms)
  report-figures.py verdict-times REPORT   time to verdict per outcome, plug to hang-smm
  report-figures.py compare COLD REUSE     "EQUAL TOTAL SAME_OUTCOME"; differences on stderr
  report-figures.py hangs REPORT...        hang verdicts of loaded runs
"""
import json
import os
import re
import statistics
import sys


def ran_cells(report):
    return [c for c in json.load(open(report))["cells"] if c.get("ran")]


def events_text(report, cell):
    path = os.path.join(os.path.dirname(report), cell["dir"], "events.log")
    return open(path, errors="replace").read() if os.path.exists(path) else ""


def plug_to_failure_ms(text):
    """From the first plug request to the failure note of an events.log, or None."""
    plug = fail = None
    for m in re.finditer(r"^\s*(\d+) note\s+(.*)$", text, re.M):
        if plug is None and m.group(2).startswith("plug vCPU"):
            plug = int(m.group(1))
        if fail is None and m.group(2).startswith("failure:"):
            fail = int(m.group(1))
    return fail - plug if plug is not None and fail is not None else None


def boot_kinds(report):
    cells = ran_cells(report)

    def med(kind):
        v = [c["timings"]["duration_ms"] for c in cells
             if (c.get("boot") or {}).get("kind", "cold") == kind]
        return (int(statistics.median(v)) if v else -1), len(v)

    r, rn = med("restored")
    c, cn = med("cold")
    print(r, c, rn, cn)


def verdict_times(report):
    cells = ran_cells(report)
    by = {}
    for c in cells:
        by.setdefault(c["outcome"], []).append(c["timings"]["duration_ms"])
    for o in sorted(by):
        v = by[o]
        print(f"time_to_verdict_{o.replace('-', '_')}: median {statistics.median(v) / 1000:.1f} s, "
              f"max {max(v) / 1000:.1f} s, {len(v)} cells")
    hang = [plug_to_failure_ms(events_text(report, c)) for c in cells if c["outcome"] == "hang-smm"]
    hang = [ms for ms in hang if ms is not None]
    if hang:
        print(f"plug_to_hang_smm: median {statistics.median(hang) / 1000:.1f} s, "
              f"max {max(hang) / 1000:.1f} s, {len(hang)} cells")


def compare(cold_report, reuse_report):
    a = {c["id"]: c for c in json.load(open(cold_report))["cells"]}
    b = {c["id"]: c for c in json.load(open(reuse_report))["cells"]}
    equal = same_outcome = 0
    for cid in a:
        x, y = a[cid], b.get(cid) or {}
        equal += x.get("verdict") == y.get("verdict")
        same_outcome += x.get("outcome") == y.get("outcome")
        if (x.get("verdict"), x.get("outcome")) != (y.get("verdict"), y.get("outcome")):
            print(f"run-bench: differs: {cid}: cold {x.get('verdict')}/{x.get('outcome')}, "
                  f"reuse {y.get('verdict')}/{y.get('outcome')} ({(y.get('boot') or {}).get('kind')})",
                  file=sys.stderr)
    print(equal, len(a), same_outcome)


def hangs(reports):
    cells = hang_cells = false_hangs = stalls = 0
    longest = 0
    plug_to_hang = []
    for report in reports:
        for c in ran_cells(report):
            cells += 1
            exp = c.get("expected") or {}
            allowed = {exp.get("outcome")} | set(exp.get("also") or [])
            smi = c.get("smi") or {}
            stalls += smi.get("stalls") or 0
            longest = max(longest, smi.get("longest_stall_ms") or 0)
            text = events_text(report, c)
            if c["outcome"] == "hang-smm":
                hang_cells += 1
                if "hang-smm" not in allowed:
                    false_hangs += 1
                    print(f"run-bench: false hang? {c['id']} in {report}", file=sys.stderr)
                ms = plug_to_failure_ms(text)
                if ms is not None:
                    plug_to_hang.append(ms)
            elif "hang in SMM over" in text and c["outcome"] == "pass":
                false_hangs += 1
    print(f"loaded_cells: {cells} cells")
    print(f"loaded_hang_smm: {hang_cells} cells")
    print(f"loaded_false_hangs: {false_hangs} cells")
    if plug_to_hang:
        print(f"loaded_plug_to_hang_smm_median: {statistics.median(plug_to_hang) / 1000:.1f} s")
        print(f"loaded_plug_to_hang_smm_max: {max(plug_to_hang) / 1000:.1f} s")
    print(f"loaded_smm_stalls: {stalls}")
    print(f"loaded_longest_stall: {longest / 1000:.1f} s")


def main(argv):
    commands = {
        "boot-kinds": (boot_kinds, 1),
        "verdict-times": (verdict_times, 1),
        "compare": (compare, 2),
    }
    if len(argv) >= 2 and argv[1] == "hangs" and len(argv) >= 3:
        hangs(argv[2:])
        return 0
    if len(argv) >= 2 and argv[1] in commands and len(argv) == 2 + commands[argv[1]][1]:
        fn, _ = commands[argv[1]]
        fn(*argv[2:])
        return 0
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
