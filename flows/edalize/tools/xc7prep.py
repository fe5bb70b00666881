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

As a command (run from the flow's Makefile):

    python xc7prep.py IN.json OUT.json [--report xc7prep.json]

As an Edalize tool it takes the jsonNetlist from synthesis and passes on the prepared
one to place and route.
"""

import argparse
import json
import os
import sys

try:
    from edalize.tools.edatool import Edatool
    from edalize.utils import EdaCommands
except ImportError:  # run as a plain script without Edalize
    Edatool = object
    EdaCommands = None

DSP_CASCADE_INPUTS = ("ACIN", "BCIN", "PCIN", "CARRYCASCIN", "MULTSIGNIN")
CONSTANT_BITS = ("0", "1", "x", "z")


def prepare(netlist: dict) -> dict:
    """Fix a yosys JSON netlist in place; returns a summary of what was changed."""
    summary = {"scopeinfo_removed": 0, "dsp_cells": 0, "dsp_ports_disconnected": 0}
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
    return summary


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description="Prepare a yosys JSON netlist for nextpnr-xilinx")
    ap.add_argument("input")
    ap.add_argument("output")
    ap.add_argument("--report", help="write a JSON summary of the changes here")
    args = ap.parse_args(argv)
    with open(args.input) as f:
        netlist = json.load(f)
    summary = prepare(netlist)
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
        "{dsp_ports_disconnected} constant cascade inputs on {dsp_cells} DSP48E1".format(**summary)
    )
    return 0


class Xc7prep(Edatool):

    description = "Prepare a yosys JSON netlist for nextpnr-xilinx ($scopeinfo, DSP48E1 cascade inputs)"

    TOOL_OPTIONS = {}

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
        commands.add(
            ["$(PYTHON)", "$(OPENXC7_TOOLS)/xc7prep.py", netlist, target, "--report", "xc7prep.json"],
            [target],
            [netlist],
        )
        commands.set_default_target(target)
        self.commands = commands


if __name__ == "__main__":
    sys.exit(main())
