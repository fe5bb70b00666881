"""xc7prep's carry-chain LUT copies: a CARRY4 S input driven by a LUT that also drives
something else gets its own copy of that LUT, so nextpnr-xilinx packs the copy into the
chain's slice instead of putting a feed-through LUT there and placing the shared LUT on
its own (flows/edalize/tools/xc7prep.py explains why that cost the core its timing).

- a LUT pinned to a site, or with one load, is left alone;
- on a small adder tree synthesised by the installed yosys: every S input ends up with a
  LUT of its own, each copy is its original's function on the same inputs, and yosys's
  equivalence checker proves the edited netlist equal to the original;
- with the openXC7 tools present: nextpnr-xilinx packs the edited netlist with fewer
  feed-through LUTs in front of S inputs, at least one fewer per copy.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "flows" / "edalize" / "tools"))
sys.path.insert(0, str(Path(__file__).resolve().parent))
import xc7prep  # noqa: E402

# sign-extended sums (the top two S inputs share one XOR), a sum whose bit 0 goes
# straight to a register (S0 = a0 ^ b0), a difference and a second level of the tree
ADDERS_V = """
module adders (input wire clk, output wire [3:0] led);
    reg [63:0] r = 64'd1;              // operands from an LFSR: no pins needed
    reg [16:0] s0, s1;
    reg [17:0] y;
    reg [16:0] z;
    wire [15:0] a = r[15:0], b = r[31:16], c = r[47:32], d = r[63:48];
    always @(posedge clk) begin
        r  <= {r[62:0], r[63] ^ r[62] ^ r[60] ^ r[59]};
        s0 <= {a[15], a} + {b[15], b};
        s1 <= {c[15], c} - {d[15], d};
        y  <= {s0[16], s0} + {s1[16], s1};
        z  <= {a[15], a} + {d[15], d};
    end
    assign led = {^y[17:9], ^y[8:0], ^z[16:8], ^z[7:0]};
endmodule
"""


def synth(work: Path) -> dict:
    from tritgpt.fpga import toolchain

    tc = toolchain.discover()
    if not tc.yosys.found:
        pytest.skip("yosys not found")
    (work / "adders.v").write_text(ADDERS_V)
    subprocess.run(tc.yosys.command + ["-q", "-p", "read_verilog adders.v; synth_xilinx -flatten -abc9 -arch xc7 "
                                       "-top adders; delete t:$scopeinfo; write_json n.json"],
                   cwd=work, check=True)
    return json.loads((work / "n.json").read_text())


def s_input_loads(module: dict) -> list[int]:
    """For each CARRY4 S input driven by a LUT1..LUT4: how many loads that LUT has."""
    cells = module["cells"]
    loads, driver = Counter(), {}
    for name, c in cells.items():
        for port, bits in c["connections"].items():
            for b in bits:
                if isinstance(b, int):
                    if c["port_directions"][port] == "output":
                        driver[b] = name
                    else:
                        loads[b] += 1
    for p in module["ports"].values():
        if p["direction"] == "output":
            loads.update(b for b in p["bits"] if isinstance(b, int))
    return [loads[b] for c in cells.values() if c["type"] == "CARRY4" for b in c["connections"]["S"]
            if isinstance(b, int) and cells.get(driver.get(b), {}).get("type") in xc7prep.CARRY_PACKABLE_LUTS]


@pytest.mark.required_in_ci  # yosys is part of the CI install
def test_each_s_input_gets_a_lut_of_its_own(tmp_path):
    netlist = synth(tmp_path)
    module = netlist["modules"]["adders"]
    before = s_input_loads(module)
    shared = sum(1 for n in before if n > 1)
    assert shared >= 4, before  # yosys shares: bit 0 of each sum, the sign-extended top bits
    originals = {n: json.loads(json.dumps(c)) for n, c in module["cells"].items()}

    summary = xc7prep.prepare(netlist)

    copies = {n: c for n, c in module["cells"].items() if n not in originals}
    # one copy per shared S input, less one where every load of a LUT is an S input
    assert summary["carry_luts_copied"] == len(copies) >= shared // 2
    assert all(n == 1 for n in s_input_loads(module))
    for name, c in copies.items():
        src = originals[name.split(xc7prep.CARRY_COPY_SUFFIX)[0]]
        assert c["type"] == src["type"] and c["parameters"] == src["parameters"]
        assert {p: v for p, v in c["connections"].items() if p != "O"} == \
               {p: v for p, v in src["connections"].items() if p != "O"}
    # a second pass finds nothing left to copy
    assert xc7prep.copy_shared_carry_luts(module) == 0


@pytest.mark.required_in_ci
def test_copies_are_equivalent_to_the_original(tmp_path):
    """yosys proves the edited netlist equal to the original, flip-flop for flip-flop."""
    from tritgpt.fpga import toolchain

    netlist = synth(tmp_path)
    # the top module only: the cell library comes from yosys's own models (whiteboxes)
    netlist["modules"] = {"adders": netlist["modules"]["adders"]}
    (tmp_path / "gold.json").write_text(json.dumps(netlist))
    assert xc7prep.prepare(netlist)["carry_luts_copied"] > 0
    (tmp_path / "gate.json").write_text(json.dumps(netlist))
    script = ("read_json gold.json; rename adders gold; read_json gate.json; rename adders gate; "
              "read_verilog +/xilinx/cells_sim.v; equiv_make gold gate equiv; hierarchy -top equiv; "
              "flatten; proc; opt_clean; equiv_simple -seq 2; equiv_induct; equiv_status -assert")
    tc = toolchain.discover()
    cp = subprocess.run(tc.yosys.command + ["-p", script], cwd=tmp_path, capture_output=True, text=True)
    assert cp.returncode == 0, cp.stdout[-3000:] + cp.stderr[-2000:]
    assert "Equivalence successfully proven!" in cp.stdout


def _s_feedthroughs(packed: Path) -> int:
    """Feed-through LUTs nextpnr-xilinx put in front of a CARRY4 S input."""
    (module,) = json.loads(packed.read_text())["modules"].values()
    cells = module["cells"]
    return sum(1 for n, c in cells.items() if "$LUT$" in n and c["type"] == "SLICE_LUTX"
               and c.get("attributes", {}).get("NEXTPNR_BEL", "").endswith("6LUT"))


@pytest.mark.openxc7
def test_nextpnr_packs_the_copies(tmp_path):
    import _swap_helpers as SH

    reason = SH.tools_reason()
    if reason:
        pytest.skip(reason)
    from tritgpt.fpga import toolchain

    tc = toolchain.discover()
    netlist = synth(tmp_path)

    def pnr(n: dict, tag: str) -> Path:
        (tmp_path / f"{tag}.json").write_text(json.dumps(n))
        cp = subprocess.run(tc.nextpnr_xilinx.command + [
            "--chipdb", str(tc.chipdb_file(SH.PART)), "--xdc", "board.xdc", "--json", f"{tag}.json",
            "--write", f"{tag}.placed.json", "--no-route", "--freq", "100", "--seed", "1"],
            cwd=tmp_path, capture_output=True, text=True)
        assert cp.returncode == 0, cp.stdout[-3000:] + cp.stderr[-2000:]
        return tmp_path / f"{tag}.placed.json"

    (tmp_path / "board.xdc").write_text(SH.CLOCK_LEDS_XDC)
    before = _s_feedthroughs(pnr(netlist, "before"))
    copied = xc7prep.prepare(netlist)["carry_luts_copied"]
    after = _s_feedthroughs(pnr(netlist, "after"))
    # each copy takes a feed-through's place; where a LUT fed two S inputs and nothing
    # else, the original loses its feed-through too (the rest are flip-flop-driven S)
    assert copied > 0 and after <= before - copied, (before, copied, after)


def test_pinned_and_unshared_luts_are_left_alone():
    """A LUT the user pinned to a site is not copied (the copy could not share the site),
    nor is one with a single load."""
    def lut(o, **attrs):
        return {"type": "LUT2", "attributes": attrs, "parameters": {"INIT": "0110"},
                "port_directions": {"I0": "input", "I1": "input", "O": "output"},
                "connections": {"I0": [2], "I1": [3], "O": [o]}}
    carry = {"type": "CARRY4", "port_directions": {"S": "input", "O": "output"},
             "connections": {"S": [10, 10, 11, 12], "O": [20, 21, 22, 23]}}
    module = {"ports": {}, "netnames": {}, "cells": {
        "pinned": lut(10, NEXTPNR_BEL="SLICE_X0Y0/A6LUT"), "single": lut(11), "free": lut(12), "c4": carry,
        "ff": {"type": "FDRE", "port_directions": {"D": "input"}, "connections": {"D": [12]}}}}
    assert xc7prep.copy_shared_carry_luts(module) == 1      # "free" (S and a flip-flop) only
    s = module["cells"]["c4"]["connections"]["S"]
    assert s[:3] == [10, 10, 11] and s[3] not in (10, 11, 12, 20, 21, 22, 23)
    assert module["cells"]["ff"]["connections"]["D"] == [12]
