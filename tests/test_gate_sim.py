"""Gate-level simulation of what synthesis made (tritgpt.sim.gatesim).

The core: its yosys synth_xilinx netlist (the board build's synthesis commands; the
same cached run as tests/test_rtl_synth.py), in Verilator with yosys' cell models and
rtl/sim/xilinx/, generates exactly the reference model's tokens (tritgpt.ml.model.
generate) for the shipped weights baked into the block RAMs' INIT values, and for
random weights written through the core's write port, with token delivery on the
same cycles as the RTL model. The top level: the board build's netlist (tritgpt.json
of `tritgpt build --board arty-a7-35t`, synthesis stage; the same run as
tests/test_build_top.py) answers IDENTIFY and a short GENERATE over its UART pins, at
the board's baud rate through the gated design clock (BUFGCE).

Slow (two syntheses, shared with other tests, and two Verilator builds of a few
minutes each); never skipped under CI=true.
"""

from __future__ import annotations

import json
import os
import re
import time
from pathlib import Path

import pytest
from rich.console import Console

import _build_helpers as H
import _rtl_helpers
from tritgpt.fpga import boards, flow
from tritgpt.fpga import synth as core_synth
from tritgpt.tools import require_tool
from tritgpt.ml import export
from tritgpt.ml.model import IntParams, encode, generate, temperature_to_tinv
from tritgpt.paths import DEFAULT_WEIGHTS
from tritgpt.sim import gatesim
from tritgpt.sim.verilator import CoreSim

pytestmark = pytest.mark.slow

BOARD = "basys3"          # a 50 MHz board's netlist (design clock = board clock / 2: BUFGCE)
PROMPT = "ROMEO:"


def _missing_tools() -> str | None:
    if _rtl_helpers.missing():
        return _rtl_helpers.missing()
    try:
        require_tool("yosys")
        core_synth.build_synth_commands()
        gatesim.yosys_cells_sim()
    except Exception as exc:   # UserError with the install hint
        return str(exc)
    return None


def _require_tools():
    reason = _missing_tools()
    if reason:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"gate-level simulation cannot run under CI: {reason}")
        pytest.skip(reason)


def _report(msg: str) -> None:
    print("\n" + msg)


# ----------------------------------------------------------------------------
# the core
# ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def core_exe():
    _require_tools()
    t0 = time.monotonic()
    rep = core_synth.synthesize(DEFAULT_WEIGHTS)           # cached: the same run as test_rtl_synth
    t1 = time.monotonic()
    exe = gatesim.build_core(rep["netlist"])
    _report(f"gate-level core: synthesis {t1 - t0:.0f} s (yosys {rep['seconds']} s when made), "
            f"Verilator build {time.monotonic() - t1:.0f} s ({gatesim.build_seconds(exe)} s when made)")
    return exe


def _run_both(exe, p: IntParams, weights_dir, n: int, tinv: int, seed: int, load: bool):
    """The gate-level core and the RTL model on one generation: (gate run, RTL run)."""
    prompt = encode(PROMPT)
    with gatesim.GateCoreSim(exe, p.cfg) as sim:
        t0 = time.monotonic()
        if load:
            sim.load(weights_dir)
        t_load = time.monotonic() - t0
        gate = sim.run(prompt, n, tinv, seed)
        assert sim.model_hash() == p.digest()[:16]       # (reloaded from the consts at start)
    with CoreSim(p.cfg, dump=True, capture=False) as rtl:
        rtl.load(weights_dir)
        ref_rtl = rtl.run(prompt, n, tinv, seed)
    _report(f"gate-level core, {n} tokens (tinv {tinv}): cycles at each token {gate.cycles_at}, "
            f"{gate.total_cycles / gate.wall_s:.0f} cycles/s, run {gate.wall_s:.1f} s"
            + (f", write-port load {t_load:.1f} s" if load else ""))
    return gate, ref_rtl


def test_core_shipped_weights_in_block_ram_init(core_exe):
    """Nothing is written: the weights are the netlist's INIT values."""
    p = export.load_package(DEFAULT_WEIGHTS)
    n = 3
    gate, rtl = _run_both(core_exe, p, DEFAULT_WEIGHTS, n, 0, 1, load=False)
    assert gate.tokens == generate(p, encode(PROMPT), n)
    assert gate.cycles_at == rtl.cycles_at and gate.total_cycles == rtl.total_cycles


def test_core_random_weights_through_write_port(core_exe, tmp_path):
    """Every image written through wr_*, then temperature sampling (the sampler's passes)."""
    p = IntParams.random(export.load_package(DEFAULT_WEIGHTS).cfg, seed=11)
    pkg = export.write_package(p, tmp_path / "random")
    n, tinv, seed = 2, temperature_to_tinv(0.8), 3
    gate, rtl = _run_both(core_exe, p, pkg, n, tinv, seed, load=True)
    assert gate.tokens == generate(p, encode(PROMPT), n, tinv, seed)
    assert gate.cycles_at == rtl.cycles_at and gate.total_cycles == rtl.total_cycles


# tg_copy_reg copies: (what, a pattern whose group is the copy's index, bits per copy,
# the names a copy's flip-flop outputs can take in the netlist: the copy's q or the
# parent's wire it drives)
REPLICAS = [
    ("pass 1 operand selects", r"\\u_att\.g_p1rep\[(\d+)\]\.", 2,
     r"\\u_att\.(?:g_p1rep\[\d+\]\.u_sel\.q \[[01]\]|[vc]2_rep \[\d+\])"),
    ("pass 2 accumulator valid/clear", r"\\u_att\.g_acc\[(\d+)\]\.", 4,
     r"\\u_att\.g_acc\[\d+\]\.(?:u_ctl_(?:lo|hi)\.q \[[01]\]|(?:lo|hi)_(?:v|first))"),
    ("requantiser shift/mode", r"\\u_rq\.g_lane\[(\d+)\]\.", 8,
     r"\\u_rq\.g_lane\[\d+\]\.(?:u_sm_copy\.q|sm_out) \[\d\]"),
    ("matrix-vector level select", r"\\u_mv\.g_out\[(\d+)\]\.", 1,
     r"\\u_mv\.g_out\[\d+\]\.(?:u_use_f\.q|use_f)"),
    ("multiplier array RMSNorm select", r"\\u_rsel\[(\d+)\]\.", 1,
     r"\\u_rsel\[\d+\]\.q|\\rsel \[\d+\]"),
    ("multiplier array shift per lane", r"\\u_arr\.g_slice\[(\d+)\]\.g_pp\.", 4,
     r"\\u_arr\.(?:u_soff_lane\[\d+\]\.q|g_slice\[\d+\]\.g_pp\.u_rs\.s_off) \[\d\]"),
]


@pytest.mark.parametrize("what,copy_re,bits,q_names", REPLICAS, ids=[r[0] for r in REPLICAS])
def test_replicated_registers_stay_separate_flip_flops(what, copy_re, bits, q_names):
    """The RTL copies a flip-flop per group of loads where one would drive too many
    (pass 1's operand selects per MAC slice, pass 2's accumulator valid/clear per
    accumulator, the requantiser's shift per lane, the matrix-vector unit's level select
    per output, the multiplier array's RMSNorm select per slice and its shift per lane) with
    tg_copy_reg; without its keep attribute yosys merges identical flip-flops back into
    one. Each copy must be its own flip-flop."""
    _require_tools()
    netlist = Path(core_synth.synthesize(DEFAULT_WEIGHTS)["netlist"]).read_text()
    copies = set(re.findall(copy_re, netlist))
    flops = set(re.findall(rf"\.Q\(({q_names})\s?\)", netlist))
    assert len(copies) >= 2, f"no copies of the {what} in the netlist: renamed in the RTL?"
    assert len(flops) == bits * len(copies), \
        f"{what}: {len(flops)} flip-flops for {len(copies)} {bits}-bit copies: merged by synthesis"


def test_reset_copies_stay_separate_flip_flops():
    """Each block of the core takes its own copy of the reset (tritgpt_core.v's instance
    array u_rst): all have the same input, so without keep they would merge back into
    one flip-flop driving the whole die."""
    _require_tools()
    rtl = (Path(__file__).resolve().parents[1] / "rtl" / "tritgpt_core.v").read_text()
    m = re.search(r"tg_copy_reg #\(\.INIT\(1'b1\)\) u_rst \[(\d+):0\]", rtl)
    assert m, "no reset copies (u_rst) in tritgpt_core.v: renamed?"
    netlist = Path(core_synth.synthesize(DEFAULT_WEIGHTS)["netlist"]).read_text()
    flops = set(re.findall(r"\.Q\(\\u_rst\[(\d+)\]\.q\s?\)", netlist))
    assert flops == {str(i) for i in range(int(m.group(1)) + 1)}, \
        f"reset copies without their own flip-flop: {int(m.group(1)) + 1} blocks, flip-flops of {sorted(flops)}"


# ----------------------------------------------------------------------------
# the top level
# ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def top(real_top_weights, real_top_root):
    reason = H.real_top_reason()
    if reason:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"gate-level top level cannot run under CI: {reason}")
        pytest.skip(reason)
    _require_tools()
    t0 = time.monotonic()
    # the same request as test_build_top.py's synthesis: an incremental build finds it done
    rep = flow.build(flow.BuildRequest(board=BOARD, weights=real_top_weights, build_dir=real_top_root / BOARD,
                                       stop_after="synth", nice=10), Console(file=open(os.devnull, "w")))
    assert rep["status"] == "synth-only"
    t1 = time.monotonic()
    netlist = gatesim.top_netlist(real_top_root / BOARD)
    exe = gatesim.build_top(netlist)
    _report(f"gate-level top: synthesis {t1 - t0:.0f} s, Verilator build {time.monotonic() - t1:.0f} s "
            f"({gatesim.build_seconds(exe)} s when made)")
    return exe, real_top_weights, export.load_package(real_top_weights)


# wall time allowed for one frame: the gate-level top runs about 6,000 board cycles per
# CPU-second, and IDENTIFY's answer is 48 bytes of UART (at 115200 baud that alone was
# minutes on a loaded machine; at the boards' 2 Mbaud, seconds)
RECV_TIMEOUT_S = 1800


def _answers_the_protocol(exe, weights_dir, p, what: str) -> None:
    """IDENTIFY and a 2-token GENERATE over the top level's UART pins at the board's baud
    rate (gatesim.protocol_check: the package's identity, the reference's tokens), and
    the END frame's cycle count = the RTL core's."""
    board = boards.get_board(BOARD)
    res = gatesim.protocol_check(exe, weights_dir, clk_hz=board.clk_hz, clk_div=board.clk_div, baud=board.baud,
                                 prompt=PROMPT, n=2, frame_timeout=RECV_TIMEOUT_S)
    assert res["tokens"] == generate(p, encode(PROMPT), 2)
    with CoreSim(p.cfg, dump=True, capture=False) as rtl:     # the run's cycles, as the RTL core counts them
        rtl.load(weights_dir)
        assert res["cycles"] == rtl.run(encode(PROMPT), 2).total_cycles
    _report(f"{what}: IDENTIFY answered in {res['identify_s']:.0f} s, 2 tokens in {res['generate_s']:.0f} s "
            f"({board.clk_hz / 1e6:g} MHz design clock, {board.baud} baud); {res['harness']}")


def test_top_answers_the_protocol_over_its_uart(top):
    exe, weights_dir, p = top
    _answers_the_protocol(exe, weights_dir, p, "gate-level top")


@pytest.mark.openxc7
@pytest.mark.openxc7_long
def test_routed_top_answers_the_protocol_over_its_uart(real_top_weights, real_top_build):
    """Post-route: nextpnr-xilinx's placed and routed netlist of the same build, turned
    back into primitives (tritgpt.sim.postroute), answers the same exchange. Checks
    nextpnr's packing: LUT pin permutations, block RAM halves, LUT RAM split into RAMD32 /
    RAMD64E, route-through LUTs, folded pin inversions. Needs the openXC7 tools; the
    place and route is the session's build (conftest.py's real_top_build; an incremental
    build finds it, and its verify stage runs again with --postroute-sim). Selected with
    -m openxc7_long; with the build shared it took 273 s more (the verify stage's
    post-route check 228 s, 217 s of it building the routed netlist's Verilator model)."""
    reason = H.real_top_reason()
    if reason:
        pytest.skip(reason)
    _require_tools()
    t0 = time.monotonic()
    work, _ = real_top_build
    rep = flow.build(flow.BuildRequest(board=H.REAL_TOP_BOARD, weights=real_top_weights, build_dir=work, nice=10,
                                       timeout=3600, allow_timing_fail=True, postroute_sim=True,
                                       design_mhz=H.REAL_TOP_DESIGN_MHZ, seeds=H.REAL_TOP_SEEDS),
                     Console(file=open(os.devnull, "w")))
    assert rep["status"] in ("ok", "timing-failed-allowed"), rep["status"]
    [check] = [c for c in rep["verify"]["checks"] if c["name"] == "postroute-sim"]
    p = export.load_package(real_top_weights)
    assert check["passed"] and check["tokens"] == generate(p, encode(PROMPT), 2)
    cells = json.loads((work / "postroute_netlist.json").read_text())["cells"]
    assert {"RAMB18E1", "DSP48E1", "CARRY4", "LUT1", "RAMD32", "BUFGCE"} <= set(cells), cells
    with CoreSim(p.cfg, dump=True, capture=False) as rtl:
        rtl.load(real_top_weights)
        assert check["cycles"] == rtl.run(encode(PROMPT), 2).total_cycles
    _report(f"post-route top: build {time.monotonic() - t0:.0f} s (seed {rep['seed']}), {check['cells']} cells, "
            f"Verilator build {check['verilator_build_s']} s, check {check['seconds']} s")
