"""The worst path of a routed design, from nextpnr's log, named in the design's terms.

nextpnr (-xilinx and -ecp5 alike) ends with one "Critical path report" per clock:

    Info: Critical path report for clock 'clk_design' (posedge -> posedge):
    Info: curr total
    Info:  0.1  0.1  Source $auto$ff.cc:337:slice$56796.Q
    Info:  5.7  5.8    Net rst budget 4.435000 ns (13,3) -> (51,143)
    Info:                Sink $abc$...$101962.A1
    ...
    Info:  0.1 13.3  Setup $auto$ff.cc:337:slice$39504.CE
    Info: 1.1 ns logic, 12.2 ns routing

Its cells are named by synthesis ($auto$ff.cc:...), which says nothing to the person
who wrote the RTL, so the start and end registers are named here by the nets their
outputs drive, from the routed JSON (u_core.rst, u_proto.u_rx.fields[1]): the
registers to copy or pipeline next. For docs/build.md's "Timing" and the build report.
"""

from __future__ import annotations

import re
from pathlib import Path

HEADER = re.compile(r"Critical path report for clock '([^']+)' \((\w+) -> (\w+)\)")
STEP = re.compile(r"^Info:\s+([0-9.]+)\s+([0-9.]+)\s+(Source|Setup)\s+(\S+)\.(\w+)\s*$")
NET = re.compile(r"^Info:\s+([0-9.]+)\s+([0-9.]+)\s+Net\s+(\S+)(?:\s+budget\s+\S+\s+ns)?\s+(\([^)]*\)\s*->\s*\([^)]*\))?")
SPLIT = re.compile(r"^Info:\s+([0-9.]+) ns logic, ([0-9.]+) ns routing")


def parse_log(log_text: str, clock: str) -> dict | None:
    """The critical path of `clock` (launch and capture on the same clock) from a
    nextpnr log: total, logic and routing ns, the start and end cells, and every net
    with its delay and, where printed, its placement (x,y) -> (x,y). None if absent."""
    lines = log_text.splitlines()
    start = None
    for i, line in enumerate(lines):
        m = HEADER.search(line)
        if m and m.group(1) == clock:
            start = i          # the last report of the clock wins (nextpnr prints it once, at the end)
    if start is None:
        return None
    path = {"clock": clock, "nets": []}
    for line in lines[start + 1:]:
        m = STEP.match(line)
        if m:
            role = "source" if m.group(3) == "Source" else "endpoint"
            path.setdefault(role, {"cell": m.group(4), "pin": m.group(5)})
            path["total_ns"] = float(m.group(2))
            continue
        m = NET.match(line)
        if m:
            path["nets"].append({"name": m.group(3), "ns": float(m.group(1)),
                                 "placement": re.sub(r"\s+", " ", m.group(4)) if m.group(4) else None})
            continue
        m = SPLIT.match(line)
        if m:
            path["logic_ns"], path["routing_ns"] = float(m.group(1)), float(m.group(2))
            break
        if HEADER.search(line):
            break
    if "source" not in path or "endpoint" not in path or "total_ns" not in path:
        return None
    return path


def _public(names: list[str]) -> str | None:
    """The most readable of a net's names: not synthesis-made ($...), shortest path first."""
    good = [n for n in names if not n.startswith("$")]
    return min(good, key=lambda n: (n.count("."), len(n))) if good else None


def name_registers(path: dict, routed: dict) -> dict:
    """Name the path's start and end by the nets their registers drive (routed JSON of the
    same run). The start is the source cell's output; the end is the endpoint cell's
    register output (Q), or the cell itself when it has none (a block RAM, a DSP)."""
    modules = routed.get("modules", {})
    top = max(modules.values(), key=lambda m: len(m.get("cells", {})), default={})
    cells = top.get("cells", {})
    wanted = {}
    for role, out_pin in (("source", path["source"]["pin"]), ("endpoint", "Q")):
        cell = cells.get(path[role]["cell"])
        if cell:
            bits = cell.get("connections", {}).get(out_pin) or []
            if bits and isinstance(bits[0], int):
                wanted[bits[0]] = role
    found = {role: [] for role in wanted.values()}
    for name, net in top.get("netnames", {}).items():
        bits = net.get("bits", [])
        for i, bit in enumerate(bits):
            if bit in wanted:
                found[wanted[bit]].append(f"{name}[{i + int(net.get('offset', 0))}]" if len(bits) > 1 else name)
    for role in ("source", "endpoint"):
        path[role]["register"] = _public(found.get(role, []))
    return path


def critical_path(log: Path, routed_json: dict | None, clock: str) -> dict | None:
    """parse_log + name_registers for a build directory's files; None if the log has no report."""
    try:
        text = log.read_text(errors="replace")
    except OSError:
        return None
    path = parse_log(text, clock)
    if path and routed_json:
        name_registers(path, routed_json)
    return path


def summary(path: dict) -> str:
    """One line: 'worst path 13.3 ns (12.2 ns routing, longest net 5.7 ns: rst): A -> B'."""
    def reg(role):
        p = path[role]
        return p.get("register") or f"{p['cell']}.{p['pin']}"
    longest = max(path["nets"], key=lambda n: n["ns"], default=None)
    extra = f", longest net {longest['ns']:.1f} ns: {longest['name']}" if longest else ""
    routing = f"{path['routing_ns']:.1f} ns routing" if "routing_ns" in path else "routing unknown"
    return f"worst path {path['total_ns']:.1f} ns ({routing}{extra}): {reg('source')} -> {reg('endpoint')}"
