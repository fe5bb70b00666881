# Copyright tritgpt contributors
# Licensed under the 2-Clause BSD License, as Edalize (whose flow API this follows), so
# that it can be offered upstream.
# SPDX-License-Identifier: BSD-2-Clause

"""Prepare a yosys JSON netlist for nextpnr-xilinx.

Two things in a netlist from current yosys stop nextpnr-xilinx (openXC7):

- `$scopeinfo` cells (yosys >= 0.38 keeps them after flattening to record the
  hierarchy): nextpnr-xilinx has no such cell type and stops with an error. The
  synthesis script deletes them; this step removes any that are left.
- DSP48E1 cascade inputs tied to constants. yosys's DSP mapping ties ACIN, BCIN and
  PCIN to 0, and CARRYCASCIN/MULTSIGNIN may be tied too. These pins only have
  dedicated routing from the DSP below, so nextpnr-xilinx cannot route a constant to
  them, and a tied CARRYCASCIN makes the packer treat the DSP as a cascade member.
  Constant bits on these ports are made undriven ("x"), which is what an unused
  cascade input is.

And one thing costs timing: nextpnr-xilinx packs a LUT into a carry chain's slice only
when the LUT's output drives that one CARRY4 S input and nothing else. yosys often
shares the LUT: the sum bit 0 of an adder with no carry in (S0 = a0 ^ b0 goes to the
CARRY4 and straight to the result), the sign-extended top bits of `{a[n], a} + {b[n], b}`
(two S inputs with the same XOR), identical S functions of two adders. nextpnr-xilinx
then puts a feed-through LUT in front of the S input, and the shared LUT is placed on
its own, often far from the chain: on a routed 100 MHz build of the core, the worst
paths were shared XOR LUT -> feed-through -> carry chain, placed 16 to 91 rows apart.
This step gives each such S input its own copy of the LUT (LUT1..LUT4: a copy with five
or more inputs cannot share the slice with the chain's DI feed-through, so nextpnr
would bypass it anyway). A copy takes the LUT the feed-through would have taken.

And one thing in the chip database can make a routed design unassemblable:

- An HCLK tile that prjxray-db has no configuration bits for (the reconstructed 50T
  grid has two, HCLK_L/R_BOT_UTURN over the PCIe block). A clocked cell placed in the
  slices that tile feeds makes nextpnr-xilinx turn on the tile's clock buffer, and
  fasm2frames then refuses the FASM. Given the part and prjxray-db (`--part`,
  `--db-root`), this step puts a blocker on each of those slices: a flip-flop with no
  clock, pinned to the slice's AFF. A slice's flip-flops and LUT RAM share one clock,
  so no clocked cell can join it; combinational logic still can. With a complete
  database there is nothing to block and the netlist is unchanged.

As a command (run from the flow's Makefile):

    python xc7prep.py IN.json OUT.json [--report xc7prep.json] [--part P --db-root DB]

As an Edalize tool it takes the jsonNetlist from synthesis and passes on the prepared
one to place and route.
"""

import argparse
import json
import os
import re
import sys

try:
    from edalize.tools.edatool import Edatool
    from edalize.utils import EdaCommands
except ImportError:  # run as a plain script without Edalize
    Edatool = object
    EdaCommands = None

DSP_CASCADE_INPUTS = ("ACIN", "BCIN", "PCIN", "CARRYCASCIN", "MULTSIGNIN")
CONSTANT_BITS = ("0", "1", "x", "z")
# LUTs nextpnr-xilinx packs into a CARRY4's slice (LUT5 and LUT6 leave no inputs for
# the DI feed-through that shares the LUT6_2 site; see copy_shared_carry_luts)
CARRY_PACKABLE_LUTS = ("LUT1", "LUT2", "LUT3", "LUT4")
CARRY_COPY_SUFFIX = "$xc7prep_carry_s"
# a cell pinned by the user (nextpnr's and Vivado's names): never copied
PLACEMENT_ATTRIBUTES = {"NEXTPNR_BEL", "BEL", "LOC"}
# HCLK tiles that drive the leaf clocks of the INT column below them (not HCLK_CLB,
# HCLK_BRAM, ...: those are spacers or feed their own hard blocks)
LEAF_CLOCK_HCLK = re.compile(r"^HCLK_[LR](_|$)")
BLOCKER_PREFIX = "xc7prep_clock_blocker_"


def prepare(netlist: dict) -> dict:
    """Fix a yosys JSON netlist in place; returns a summary of what was changed."""
    summary = {"scopeinfo_removed": 0, "dsp_cells": 0, "dsp_ports_disconnected": 0,
               "carry_luts_copied": 0}
    for module in netlist.get("modules", {}).values():
        cells = module.get("cells", {})
        for name in [n for n, c in cells.items() if c.get("type") == "$scopeinfo"]:
            del cells[name]
            summary["scopeinfo_removed"] += 1
        for cell in cells.values():
            if cell.get("type") != "DSP48E1":
                continue
            summary["dsp_cells"] += 1
            conns = cell.get("connections", {})
            for port in DSP_CASCADE_INPUTS:
                bits = conns.get(port)
                if not bits:
                    continue
                if all(isinstance(b, str) and b in CONSTANT_BITS for b in bits):
                    if any(b != "x" for b in bits):
                        conns[port] = ["x"] * len(bits)
                        summary["dsp_ports_disconnected"] += 1
        summary["carry_luts_copied"] += copy_shared_carry_luts(module)
    return summary


def copy_shared_carry_luts(module: dict) -> int:
    """Give each CARRY4 S input driven by a shared LUT1..LUT4 its own copy of that LUT.

    A LUT whose output also goes elsewhere keeps every other load; when all its loads are
    S inputs, it keeps the first. Returns the number of copies made."""
    cells = module.get("cells", {})
    loads: dict[int, list[tuple[str, str, int]]] = {}     # net bit -> (cell, port, index)
    driver: dict[int, str] = {}
    for name, cell in cells.items():
        dirs = cell.get("port_directions", {})
        for port, bits in cell.get("connections", {}).items():
            for i, b in enumerate(bits):
                if not isinstance(b, int):
                    continue
                if dirs.get(port) == "output":
                    driver[b] = name
                else:
                    loads.setdefault(b, []).append((name, port, i))
    for port in module.get("ports", {}).values():
        if port.get("direction") != "input":
            for b in port.get("bits", []):
                if isinstance(b, int):
                    loads.setdefault(b, []).append(("", "", 0))  # a module output: not a cell
    used = [b for n in list(module.get("netnames", {}).values()) + list(module.get("ports", {}).values())
            for b in n.get("bits", []) if isinstance(b, int)]
    next_bit = max(used + list(driver) + list(loads), default=1) + 1
    copies = 0
    for bit in sorted(loads):
        lut = driver.get(bit)
        users = loads[bit]
        if lut is None or len(users) < 2 or cells[lut].get("type") not in CARRY_PACKABLE_LUTS:
            continue
        if PLACEMENT_ATTRIBUTES & set(cells[lut].get("attributes", {})):
            continue                        # a copy cannot take the same site
        s_loads = [u for u in users if u[1] == "S" and cells[u[0]].get("type") == "CARRY4"]
        if not s_loads:
            continue
        if len(s_loads) == len(users):
            s_loads = s_loads[1:]           # the original stays with the first S input
        src = cells[lut]
        for cell_name, port, index in s_loads:
            copy = json.loads(json.dumps(src))
            copy["connections"]["O"] = [next_bit]
            cells[f"{lut}{CARRY_COPY_SUFFIX}{copies}"] = copy
            cells[cell_name]["connections"][port][index] = next_bit
            next_bit += 1
            copies += 1
    return copies


def tilegrid_path(db_root: str, part: str) -> str | None:
    """prjxray-db's tilegrid.json for a part (db_root: the family directory, e.g. .../artix7)."""
    try:
        import yaml
    except ImportError:
        return None
    try:
        with open(os.path.join(db_root, "mapping", "parts.yaml")) as f:
            device = (yaml.safe_load(f) or {}).get(part, {}).get("device")
        with open(os.path.join(db_root, "mapping", "devices.yaml")) as f:
            fabric = (yaml.safe_load(f) or {}).get(device, {}).get("fabric", device)
    except OSError:
        return None
    path = os.path.join(db_root, fabric or "", "tilegrid.json")
    return path if fabric and os.path.exists(path) else None


def clock_blocked_sites(tilegrid: dict) -> dict:
    """Slices whose clock would pass through an HCLK tile without configuration bits.

    Returns {"tiles": [HCLK tiles without bits], "sites": [SLICE_...],
    "unprotected": [clocked non-CLB tiles in those columns, which blockers cannot cover]}.
    An HCLK tile feeds the INT tiles of its grid column in its clock region; each INT
    tile's slices sit in the CLB tile beside it."""
    at = {(t["grid_x"], t["grid_y"]): name for name, t in tilegrid.items()}
    dead = sorted(name for name, t in tilegrid.items()
                  if LEAF_CLOCK_HCLK.match(t.get("type", "")) and not t.get("bits"))
    sites, unprotected = set(), set()
    for hclk in dead:
        h = tilegrid[hclk]
        for name, t in tilegrid.items():
            if (t["grid_x"] != h["grid_x"] or t.get("clock_region") != h.get("clock_region")
                    or not t.get("type", "").startswith("INT_")):
                continue
            side = -1 if t["type"] == "INT_L" else 1
            beside = at.get((t["grid_x"] + side, t["grid_y"]))
            if beside is not None and "INTERFACE" in tilegrid[beside].get("type", ""):
                # BRAM/DSP/IO columns sit behind an interface tile
                beside = at.get((t["grid_x"] + 2 * side, t["grid_y"]))
            if beside is None:
                continue
            kind = tilegrid[beside].get("type", "")
            if kind.startswith("CLBL"):
                sites.update(s for s, st in tilegrid[beside].get("sites", {}).items()
                             if st in ("SLICEL", "SLICEM"))
            elif tilegrid[beside].get("sites"):
                unprotected.add(beside)
    return {"tiles": dead, "sites": sorted(sites), "unprotected": sorted(unprotected)}


def add_clock_blockers(netlist: dict, sites: list[str]) -> int:
    """Pin an unclocked FDRE on each site's AFF (see the module docstring)."""
    # yosys marks the top module with attribute top = "000...01" (a binary string)
    module = next((m for m in netlist.get("modules", {}).values()
                   if str(m.get("attributes", {}).get("top", "0")).strip("0")), None)
    if module is None:
        modules = list(netlist.get("modules", {}).values())
        if len(modules) != 1:
            raise RuntimeError("xc7prep: cannot tell the top module (no 'top' attribute)")
        module = modules[0]
    if not sites:
        return 0
    cells = module.setdefault("cells", {})
    # D on a net of its own with no driver: nextpnr-xilinx's packer needs a D net, and an
    # undriven one costs no routing (a constant would be routed to every blocker)
    bits = [b for n in module.get("netnames", {}).values() for b in n.get("bits", []) if isinstance(b, int)]
    bits += [b for c in cells.values() for v in c.get("connections", {}).values() for b in v if isinstance(b, int)]
    d_net = max(bits, default=1) + 1
    module.setdefault("netnames", {})[BLOCKER_PREFIX + "d"] = {"hide_name": 0, "bits": [d_net], "attributes": {}}
    for site in sites:
        # NEXTPNR_BEL (not BEL: nextpnr-xilinx's IO packer takes every BEL-constrained
        # cell for an IO buffer) is bound when the netlist is read, with user strength
        cells[BLOCKER_PREFIX + site] = {
            "hide_name": 0, "type": "FDRE",
            "parameters": {"INIT": "0"},
            "attributes": {"NEXTPNR_BEL": f"{site}/AFF", "keep": "00000000000000000000000000000001"},
            "port_directions": {"D": "input"}, "connections": {"D": [d_net]},
        }
    return len(sites)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description="Prepare a yosys JSON netlist for nextpnr-xilinx")
    ap.add_argument("input")
    ap.add_argument("output")
    ap.add_argument("--report", help="write a JSON summary of the changes here")
    ap.add_argument("--part", help="device part, e.g. xc7a35tcsg324-1 (with --db-root: block clock tiles without bits)")
    ap.add_argument("--db-root", help="prjxray-db family directory, e.g. .../prjxray-db/artix7")
    args = ap.parse_args(argv)
    with open(args.input) as f:
        netlist = json.load(f)
    summary = prepare(netlist)
    if args.part and args.db_root:
        grid = tilegrid_path(args.db_root, args.part)
        if grid is None:
            print(f"xc7prep: no tilegrid.json for {args.part} under {args.db_root}: no clock blockers",
                  file=sys.stderr)
        else:
            with open(grid) as f:
                found = clock_blocked_sites(json.load(f))
            summary["clock_tiles_without_bits"] = found["tiles"]
            summary["clock_blockers"] = add_clock_blockers(netlist, found["sites"])
            summary["clock_unprotected_tiles"] = found["unprotected"]
            if found["unprotected"]:
                print("xc7prep: warning: clocked cells in " + ", ".join(found["unprotected"])
                      + " would need a clock tile without bits; blockers cannot cover them", file=sys.stderr)
    tmp = args.output + ".tmp"
    with open(tmp, "w") as f:
        json.dump(netlist, f, indent=None, separators=(",", ":"))
        f.write("\n")
    os.replace(tmp, args.output)
    if args.report:
        with open(args.report, "w") as f:
            json.dump(summary, f, indent=2)
            f.write("\n")
    print(
        "xc7prep: removed {scopeinfo_removed} $scopeinfo cells; disconnected "
        "{dsp_ports_disconnected} constant cascade inputs on {dsp_cells} DSP48E1; copied "
        "{carry_luts_copied} shared LUTs into the carry chains they feed".format(**summary)
        + ("; pinned {} clock blockers on the slices of {}".format(
            summary["clock_blockers"], ", ".join(summary["clock_tiles_without_bits"]))
           if summary.get("clock_blockers") else "")
    )
    return 0


class Xc7prep(Edatool):

    description = ("Prepare a yosys JSON netlist for nextpnr-xilinx ($scopeinfo, DSP48E1 cascade inputs, "
                   "shared carry LUTs, blockers on slices clocked through tiles without bits)")

    TOOL_OPTIONS = {
        "part": {"type": "str", "desc": "Device part: with db_root, block the slices of clock tiles without bits"},
        "db_root": {"type": "str", "desc": "prjxray-db family directory (e.g. .../prjxray-db/artix7)"},
    }

    def setup(self, edam):
        super().setup(edam)
        netlist = ""
        unused_files = []
        for f in self.files:
            if f.get("file_type") == "jsonNetlist":
                if netlist:
                    raise RuntimeError(f"xc7prep takes one netlist, found {netlist} and {f['name']}")
                netlist = f["name"]
            else:
                unused_files.append(f)
        if not netlist:
            raise RuntimeError("xc7prep: no jsonNetlist input")
        target = f"{self.name}.prep.json"
        self.edam = edam.copy()
        self.edam["files"] = unused_files + [{"name": target, "file_type": "jsonNetlist"}]
        commands = EdaCommands()
        cmd = ["$(PYTHON)", "$(OPENXC7_TOOLS)/xc7prep.py", netlist, target, "--report", "xc7prep.json"]
        if self.tool_options.get("part") and self.tool_options.get("db_root"):
            cmd += ["--part", self.tool_options["part"], "--db-root", self.tool_options["db_root"]]
        commands.add(cmd, [target], [netlist])
        commands.set_default_target(target)
        self.commands = commands


if __name__ == "__main__":
    sys.exit(main())
