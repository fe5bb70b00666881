"""Post-route simulation: nextpnr-xilinx's placed and routed netlist turned back into the
primitives it placed, written as Verilog for the gate-level top's harness (gatesim.py).

    netlist = routed_netlist(build_dir)        # BUILD/tritgpt.routed.json -> tritgpt_top.routed.v
    exe = gatesim.build_top(netlist, name="simboard_routed")
    with gatesim.GateTopSim(exe, cycles_per_bit) as port: ...

What this checks that the post-synthesis simulation cannot: nextpnr's packing. Its cells
are sites (SLICE_LUTX, SLICE_FFX, RAMB36E1_RAMB36E1, DSP48E1_DSP48E1, ...) with physical
pins, but each keeps the primitive it was made from in X_ORIG_TYPE and, per physical
pin, the primitive's pin in X_ORIG_PORT_<pin> ("A[3]" for a bus bit). So every cell
becomes its primitive again with the pins as nextpnr connected them: LUT inputs as
permuted onto the physical A1..A6 pins, block RAM halves (RAMB36 U/L pins) merged,
route-through LUT1s nextpnr added, the LUT-RAM elements (RAMD32, RAMD64E) it split
RAM32M / RAM64M into, constants from its PSEUDO_GND / PSEUDO_VCC drivers.

Pin inversions nextpnr records as IS_<PIN>_INVERTED = 1 (a pin tied to VCC and
inverted, for a constant 0) are folded into the connection, so no model has to know
them. BUFGCTRL (nextpnr's form of BUFG and BUFGCE, with no X_ORIG_TYPE) is written
back as the BUFG or BUFGCE it is configured as; the BUFGCE model gates glitch-free.
nextpnr-xilinx ties the BUFGCTRL's IGNORE0 high, which on silicon makes a falling CE0
cut the clock at once: docs/build.md, "Post-route simulation", says what that means
for the clock divider. Timing is not simulated (zero delay), only function.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path

from ..errors import UserError

ROUTED_JSON = "tritgpt.routed.json"
ROUTED_NETLIST = "tritgpt_top.routed.v"
INVERTED_RE = re.compile(r"^IS_(.+)_INVERTED$")
PORT_BIT_RE = re.compile(r"^(.+)\[(\d+)\]$")
SKIPPED = {"PAD"}                                   # package pins: the module's ports
ZERO, ONE = "1'b0", "1'b1"
CONSTANT_DRIVERS = {"PSEUDO_GND": ZERO, "PSEUDO_VCC": ONE}
# nextpnr writes some names the primitives do not have
PORT_ALIASES = {("SELMUX2_1", "OUT"): "O"}
# a slice flip-flop whose CE pin nextpnr left unrouted is always enabled (CEUSED off)
HIGH_WHEN_UNROUTED = {(ff, "CE") for ff in ("FDRE", "FDSE", "FDCE", "FDPE")}


def _ident(name: str) -> str:
    return "\\" + name.replace(" ", "_") + " "


def _net(bit, constants: dict) -> str:
    """A net bit of the routed JSON (an integer, or a constant string) as Verilog; nets
    that nextpnr's PSEUDO_GND / PSEUDO_VCC drive are their constant."""
    if isinstance(bit, int):
        return constants.get(bit) or f"n{bit}"
    return {"0": ZERO, "1": ONE}.get(bit, ZERO)       # "x" / "z": undriven, low


def _param(value) -> str:
    """A parameter as nextpnr writes it (bit strings, or strings; a trailing space marks
    a string that looks like bits) as a Verilog literal; undefined bits (x) are 0, as the
    bitstream has them."""
    if isinstance(value, int):
        return str(value)
    if value and set(value) <= set("01xz") and not value.endswith(" "):
        return f"{len(value)}'b{value.replace('x', '0').replace('z', '0')}"
    return '"' + value.rstrip(" ").replace('"', '\\"') + '"'


class _Cell:
    """One routed cell as its primitive: type, parameters, and per primitive pin the
    Verilog expression of each bit."""

    def __init__(self, name: str, cell: dict, constants: dict):
        self.name = name
        self.site_type = cell["type"]
        attrs = cell.get("attributes", {})
        self.type = attrs.get("X_ORIG_TYPE", "").strip() or self.site_type
        self.params = {k: v for k, v in cell.get("parameters", {}).items()}
        self.pins: dict[str, dict[int | None, str]] = {}   # primitive pin -> {bit index or None: expr}
        self.conflicts = 0
        for phys, bits in cell.get("connections", {}).items():
            if not bits:
                continue
            orig = attrs.get(f"X_ORIG_PORT_{phys}", phys if self.type == self.site_type else None)
            if orig is None:
                continue                                 # a physical pin the primitive does not have
            orig = PORT_ALIASES.get((self.site_type, orig), orig)
            m = PORT_BIT_RE.match(orig)
            port, index = (m.group(1), int(m.group(2))) if m else (orig, None)
            expr = _net(bits[0], constants)
            have = self.pins.setdefault(port, {}).get(index)
            if have is not None and have != expr:
                self.conflicts += 1                      # two physical pins of one bit, different nets
            self.pins[port].setdefault(index, expr)
        for prim, port in HIGH_WHEN_UNROUTED:
            if prim == self.type and port not in self.pins:
                self.pins[port] = {None: ONE}

    def fold_inversions(self) -> None:
        """IS_<PIN>_INVERTED = 1: invert what drives PIN (or PIN[i]), drop the parameter."""
        for key in [k for k in self.params if INVERTED_RE.match(k)]:
            value = self.params.pop(key)
            if not (set(str(value)) - {"0", " "}):
                continue                                 # not inverted
            pin = INVERTED_RE.match(key).group(1)
            if self.type.startswith("FD") and pin == "CLK":
                # the slice's clock inversion: already the primitive's own for FDRE_1 and
                # the other falling-edge flip-flops, else an inversion of its C pin
                if self.type.endswith("_1"):
                    continue
                pin = "C"
            m = PORT_BIT_RE.match(pin)
            port, index = (m.group(1), int(m.group(2))) if m else (pin, None)
            bits = self.pins.get(port)
            if not bits:
                # an inverted pin nothing drives: the inverted constant 0
                self.pins[port] = {index: ONE}
                continue
            for i in ([index] if index is not None else list(bits)):
                expr = bits.get(i, ZERO)
                bits[i] = {ZERO: ONE, ONE: ZERO}.get(expr, f"~{expr}")

    def as_clock_buffer(self) -> None:
        """BUFGCTRL as nextpnr-xilinx makes it from BUFG / BUFGCE (S0 = 1, S1 = CE1 = 0):
        back to that primitive. Anything else is refused."""
        def pin(name: str) -> str:
            return self.pins.get(name, {}).get(None, ZERO)
        if pin("S0") != ONE or pin("S1") != ZERO or pin("CE1") != ZERO:
            raise UserError(f"post-route simulation: BUFGCTRL {self.name} is not a BUFG or BUFGCE "
                            f"(S0 {pin('S0')}, S1 {pin('S1')}, CE1 {pin('CE1')}); not modelled")
        self.params = {}
        if pin("CE0") == ONE:
            self.type, self.pins = "BUFG", {"I": {None: pin("I0")}, "O": {None: pin("O")}}
        else:
            self.type, self.pins = "BUFGCE", {"I": {None: pin("I0")}, "CE": {None: pin("CE0")},
                                              "O": {None: pin("O")}}

    def verilog(self) -> str:
        params = ", ".join(f".{k}({_param(v)})" for k, v in sorted(self.params.items()))
        conns = []
        for port, bits in sorted(self.pins.items()):
            if None in bits:
                conns.append(f".{port}({bits[None]})")
            else:
                msb_first = [bits.get(i, ZERO) for i in range(max(bits), -1, -1)]
                conns.append(f".{port}({{{', '.join(msb_first)}}})")
        return f"  {self.type} {'#(' + params + ') ' if params else ''}{_ident(self.name)}({', '.join(conns)});\n"


def write_routed_verilog(routed: dict, out: Path, top: str = "tritgpt_top") -> dict:
    """Write the primitives of a nextpnr-xilinx routed JSON as the Verilog module `top`;
    returns what was written (cell types, folded inversions, pin conflicts)."""
    modules = routed.get("modules", {})
    mod = modules.get("top") or next(iter(modules.values()), None)
    if mod is None:
        raise UserError("post-route simulation: the routed netlist has no module")
    ports = mod.get("ports", {})
    cells = mod.get("cells", {})
    constants = {b: CONSTANT_DRIVERS[c["type"]] for c in cells.values() if c["type"] in CONSTANT_DRIVERS
                 for bits in c.get("connections", {}).values() for b in bits if isinstance(b, int)}
    lines, used = [], set()
    types: Counter = Counter()
    conflicts = 0
    for name, raw in cells.items():
        if raw["type"] in SKIPPED or raw["type"] in CONSTANT_DRIVERS:
            continue
        cell = _Cell(name, raw, constants)
        cell.fold_inversions()
        if cell.type == "BUFGCTRL":
            cell.as_clock_buffer()
        elif cell.type == cell.site_type and "X_ORIG_TYPE" not in raw.get("attributes", {}):
            raise UserError(f"post-route simulation: cell {name} ({raw['type']}) has no X_ORIG_TYPE; "
                            f"not modelled")
        conflicts += cell.conflicts
        types[cell.type] += 1
        for bits in raw.get("connections", {}).values():
            used.update(b for b in bits if isinstance(b, int) and b not in constants)
        lines.append(cell.verilog())
    head = [f"// {top}: nextpnr-xilinx's routed netlist as the primitives it placed\n",
            f"// (written by tritgpt/sim/postroute.py; {sum(types.values())} cells)\n",
            f"module {top} ({', '.join(ports)});\n"]
    for pname, p in ports.items():
        width = len(p["bits"])
        rng = f"[{width - 1}:0] " if width > 1 else ""
        head.append(f"  {p['direction']} wire {rng}{pname};\n")
        used.update(b for b in p["bits"] if isinstance(b, int) and b not in constants)
    head += [f"  wire n{b};\n" for b in sorted(used)]
    for pname, p in ports.items():
        for i, b in enumerate(p["bits"]):
            ref = f"{pname}[{i}]" if len(p["bits"]) > 1 else pname
            if p["direction"] == "input":
                if isinstance(b, int) and b not in constants:
                    head.append(f"  assign n{b} = {ref};\n")
            else:
                head.append(f"  assign {ref} = {_net(b, constants)};\n")
    tmp = Path(out).with_suffix(".tmp")
    with open(tmp, "w") as f:
        f.writelines(head)
        f.writelines(lines)
        f.write("endmodule\n")
    tmp.replace(out)
    return {"cells": dict(types.most_common()), "pin_conflicts": conflicts}


def routed_netlist(build_dir: Path) -> Path:
    """BUILD/tritgpt.routed.json (what nextpnr-xilinx wrote) as Verilog next to it. Written
    every time (seconds), so a change of this converter is never hidden by an old file;
    the Verilator model is cached by the netlist's contents."""
    build_dir = Path(build_dir)
    src, out = build_dir / ROUTED_JSON, build_dir / ROUTED_NETLIST
    if not src.exists():
        raise UserError(f"{src} not found: place and route first (`tritgpt build --board B`)")
    try:
        routed = json.loads(src.read_text())
    except json.JSONDecodeError as exc:
        raise UserError(f"{src}: not a nextpnr JSON netlist ({exc}); place and route again") from None
    info = write_routed_verilog(routed, out)
    (build_dir / "postroute_netlist.json").write_text(json.dumps(info, indent=2) + "\n")
    return out
