"""tritgpt.sim.postroute on a small routed netlist written the way nextpnr-xilinx writes
one (site cells with X_ORIG_TYPE / X_ORIG_PORT_*, PSEUDO_GND / PSEUDO_VCC, per-bit pin
inversions, a BUFGCTRL): the Verilog it makes, and that Verilog simulated in Verilator
with yosys' cell models and ours. The real routed top level is simulated in
tests/test_gate_sim.py (openXC7 tools)."""

from __future__ import annotations

import json

import pytest

import _rtl_helpers
from test_xilinx_sim_models import run_bench
from tritgpt.errors import UserError
from tritgpt.sim import gatesim, postroute

VCC, GND = 900, 901
ZERO_32 = "0" * 32
ONE_32 = "0" * 31 + "1"


def _routed() -> dict:
    """clk -> BUFGCTRL (as nextpnr makes a BUFG) -> a flip-flop registering a AND NOT b,
    a LUT2 whose I0 / I1 sit on physical pins A3 / A5 (A6 tied high, as nextpnr ties
    spare pins; not symmetric, so swapped pins show), the flip-flop's reset a GND net,
    its CE unrouted."""
    return {"modules": {"top": {
        "ports": {"clk": {"direction": "input", "bits": [2]}, "a": {"direction": "input", "bits": [3]},
                  "b": {"direction": "input", "bits": [4]}, "q": {"direction": "output", "bits": [12]}},
        "cells": {
            "$PACKER_VCC_DRV": {"type": "PSEUDO_VCC", "parameters": {}, "attributes": {}, "connections": {"Y": [VCC]}},
            "$PACKER_GND_DRV": {"type": "PSEUDO_GND", "parameters": {}, "attributes": {}, "connections": {"Y": [GND]}},
            "clk": {"type": "PAD", "parameters": {}, "attributes": {"X_ORIG_TYPE": "PAD"}, "connections": {"PAD": [2]}},
            "u_bufg": {"type": "BUFGCTRL", "attributes": {},
                       "parameters": {"IS_CE1_INVERTED": ONE_32, "IS_S1_INVERTED": ONE_32,
                                      "IS_IGNORE1_INVERTED": ONE_32},
                       "connections": {"I0": [2], "O": [11], "S0": [VCC], "CE0": [VCC], "S1": [VCC],
                                       "CE1": [VCC], "IGNORE0": [VCC], "IGNORE1": [VCC]}},
            "u_andn": {"type": "SLICE_LUTX", "parameters": {"INIT": "0010"},
                      "attributes": {"X_ORIG_TYPE": "LUT2", "X_ORIG_PORT_A3": "I0", "X_ORIG_PORT_A5": "I1",
                                     "X_ORIG_PORT_O6": "O", "X_ORIG_PORT_I0": "CI"},
                      "connections": {"A3": [3], "A5": [4], "A6": [VCC], "A1": [], "O6": [10]}},
            "u_ff": {"type": "SLICE_FFX", "parameters": {"INIT": "0"},
                     "attributes": {"X_ORIG_TYPE": "FDRE", "X_ORIG_PORT_CK": "C", "X_ORIG_PORT_D": "D",
                                    "X_ORIG_PORT_Q": "Q", "X_ORIG_PORT_SR": "R", "X_ORIG_PORT_CE": "CE"},
                     "connections": {"CK": [11], "D": [10], "Q": [12], "SR": [GND], "CE": []}},
            # a falling-edge flip-flop: nextpnr marks the slice's clock inverted (IS_CLK_INVERTED),
            # which FDRE_1 already is
            "u_ff_n": {"type": "SLICE_FFX", "parameters": {"INIT": "0", "IS_CLK_INVERTED": ONE_32},
                       "attributes": {"X_ORIG_TYPE": "FDRE_1", "X_ORIG_PORT_CK": "C", "X_ORIG_PORT_D": "D",
                                      "X_ORIG_PORT_Q": "Q", "X_ORIG_PORT_SR": "R", "X_ORIG_PORT_CE": "CE"},
                       "connections": {"CK": [11], "D": [12], "Q": [14], "SR": [GND], "CE": [VCC]}},
            # a DSP-style per-bit inversion of a pin tied to VCC: a constant 0 on that bit
            "u_dsp_like": {"type": "SLICE_LUTX", "parameters": {"INIT": "10", "IS_I[1]_INVERTED": ONE_32},
                           "attributes": {"X_ORIG_TYPE": "LUT1", "X_ORIG_PORT_A1": "I[0]", "X_ORIG_PORT_A2": "I[1]",
                                          "X_ORIG_PORT_O6": "O"},
                           "connections": {"A1": [3], "A2": [VCC], "O6": [13]}},
        }}}}


def test_routed_netlist_as_verilog(tmp_path):
    out = tmp_path / "top.v"
    info = postroute.write_routed_verilog(_routed(), out)
    v = out.read_text()
    assert info == {"cells": {"BUFG": 1, "LUT2": 1, "FDRE": 1, "FDRE_1": 1, "LUT1": 1}, "pin_conflicts": 0}
    assert "FDRE_1 #(.INIT(1'b0)) \\u_ff_n (.C(n11), .CE(1'b1), .D(n12), .Q(n14), .R(1'b0));" in v
    assert "BUFG \\u_bufg (.I(n2), .O(n11));" in v                        # BUFGCTRL back to its BUFG
    assert "LUT2 #(.INIT(4'b0010)) \\u_andn (.I0(n3), .I1(n4), .O(n10));" in v  # physical pins to I0 / I1
    assert ".CE(1'b1)" in v and ".R(1'b0)" in v                               # unrouted CE; GND net
    assert ".I({1'b0, n3})" in v and "IS_I[1]_INVERTED" not in v             # VCC inverted, folded
    assert "assign n2 = clk;" in v and "assign q = n12;" in v
    assert "PAD" not in v and "n900" not in v and "n901" not in v            # constants, not nets


def test_unmodelled_clock_buffer_is_refused(tmp_path):
    routed = _routed()
    routed["modules"]["top"]["cells"]["u_bufg"]["connections"]["S1"] = [GND]   # S1 high: a BUFGMUX
    with pytest.raises(UserError, match="BUFGCTRL u_bufg is not a BUFG or BUFGCE"):
        postroute.write_routed_verilog(routed, tmp_path / "top.v")


def test_routed_netlist_needs_a_build(tmp_path):
    with pytest.raises(UserError, match="place and route first"):
        postroute.routed_netlist(tmp_path)
    (tmp_path / postroute.ROUTED_JSON).write_text("{not json")
    with pytest.raises(UserError, match="not a nextpnr JSON netlist"):
        postroute.routed_netlist(tmp_path)


TB = r"""
module tb_routed;
    reg clk = 0, a = 0, b = 0;
    wire q;
    top u_top (.clk(clk), .a(a), .b(b), .q(q));
    integer t, errors = 0, seed = 3;
    reg want;
    initial begin
        for (t = 0; t < 2000; t = t + 1) begin
            a = $random(seed); b = $random(seed);
            want = a & ~b;
            #1 clk = 1;
            #1 clk = 0;
            if (q !== want) errors = errors + 1;
        end
        if (errors == 0) $display("PASS routed: %0d cycles", t);
        else $display("FAIL routed: %0d mismatches", errors);
        $finish;
    end
endmodule
"""


@pytest.mark.skipif(not _rtl_helpers.available(), reason="Verilator (and make, c++) not installed")
def test_routed_netlist_simulates(tmp_path):
    """The Verilog of the small routed netlist registers a AND NOT b on every clock: the LUT's
    pins, the flip-flop's unrouted CE and the clock buffer all came back right."""
    try:
        cells_sim = gatesim.yosys_cells_sim()
    except UserError as exc:
        pytest.skip(str(exc))
    routed = _routed()
    routed["modules"]["top"]["cells"].pop("u_dsp_like")    # LUT1 with a bus pin: text check only
    src = tmp_path / "routed.json"
    src.write_text(json.dumps(routed))
    netlist = tmp_path / "top.v"
    postroute.write_routed_verilog(routed, netlist, top="top")
    tb = tmp_path / "tb_routed.v"
    tb.write_text(TB)
    out = run_bench(tmp_path, "tb_routed", "tb_routed", [*gatesim.model_files(), netlist, tb, cells_sim])
    assert "PASS routed: 2000 cycles" in out, out[-3000:]
