"""The real top level (rtl/tritgpt_top.v) through the open flow.

Synthesis (yosys only) runs through the flow for each distinct part, with the resources
checked against the budget of every board with that part. Synthesis does not depend on
the part, so the 100 MHz boards share one yosys run (the flow's synthesis cache): the
first test synthesises (minutes with YoWASP yosys), the others reuse it. The 12 MHz Cmod
A7 (same part as the Basys 3) is checked up to the synthesis script.
Place, route and bitstream (marker openxc7) run when the openXC7 tools are installed: for
the Arty A7-35T in every run (the session's build, conftest.py), for the A7-100T when
selected (marker openxc7_long).
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from rich.console import Console

import _build_helpers as H
from tritgpt.errors import UserError
from tritgpt.fpga import boards
from tritgpt.fpga import flow
from tritgpt.fpga import toolchain
from tritgpt.fpga.build import report as build_report

# one board per distinct part
SYNTH_BOARDS = ["arty-a7-35t", "arty-a7-100t", "basys3"]
# place and route: the Arty A7-35T in every run; the A7-100T when selected (-m openxc7_long:
# another full build; it needs a nextpnr-xilinx with Python for its [pnr] scripts)
PNR_BOARDS = [H.REAL_TOP_BOARD, pytest.param("arty-a7-100t", marks=pytest.mark.openxc7_long)]


def quiet() -> Console:
    return Console(file=open(os.devnull, "w"), width=120)


@pytest.fixture(scope="module")
def weights(real_top_weights):
    return real_top_weights      # conftest.py: shared with the gate-level simulation


@pytest.fixture(scope="module")
def build_root(real_top_root):
    return real_top_root


@pytest.fixture(autouse=True)
def need_real_top():
    reason = H.real_top_reason()
    if reason:
        pytest.skip(reason)


def test_distinct_parts_covered():
    """Every Artix-7 part (ECP5 boards build with their own flow: tests/test_ecp5.py)."""
    parts = [boards.get_board(b).part for b in SYNTH_BOARDS]
    assert sorted(parts) == sorted({b.part for b in boards.all_boards() if not b.is_ecp5})


def test_cmod_12mhz_setup(weights, build_root):
    """The Cmod A7 runs the design at 12 MHz: CLK_HZ and the nextpnr target follow."""
    rep = flow.build(flow.BuildRequest(board="cmod-a7-35t", weights=weights, build_dir=build_root / "cmod",
                                       stop_after="setup"), quiet())
    assert rep["status"] == "setup-only"
    ys = (build_root / "cmod" / "tritgpt.ys").read_text()
    assert "-set CLK_HZ 12000000 " in ys
    mk = (build_root / "cmod" / "Makefile").read_text()
    assert "--freq 12 " in mk and "--part xc7a35tcpg236-1" in mk
    assert "/cmod-a7-35t.xdc" in mk   # exported beside the board core (constraints/)


def check_budget(report: dict, board: boards.Board):
    u = report["utilisation"]
    for key in ("lut", "ff", "ramb36", "dsp"):
        assert u[key]["available"] == getattr(board.budget, key)
        assert u[key]["used"] <= u[key]["available"], f"{board.name}: {key} {u[key]['used']} > {u[key]['available']}"


@pytest.mark.slow
@pytest.mark.parametrize("name", SYNTH_BOARDS)
def test_top_synthesis(name, weights, build_root):
    board = boards.get_board(name)
    rep = flow.build(flow.BuildRequest(board=name, weights=weights, build_dir=build_root / name,
                                       stop_after="synth", nice=10), quiet())
    assert rep["status"] == "synth-only"
    check_budget(rep, board)
    # every board with this part fits too
    for other in boards.all_boards():
        if other.part == board.part:
            check_budget(dict(rep, utilisation=build_report.vs_budget(rep["synth_utilisation"], other, "yosys")), other)
    u = rep["synth_utilisation"]
    assert u["ramb36"] <= rep["bram_estimate_ramb36"] + 2, (u["ramb36"], rep["bram_estimate_ramb36"])
    ys = (build_root / name / "tritgpt.ys").read_text()
    assert f"-set CLK_HZ {board.clk_hz} " in ys
    mm = json.loads((build_root / name / "memmap.json").read_text())
    images = {c["image"]["image"] for c in mm["cells"] if c.get("image")}
    for n in range(16):
        assert f"wt_bank{n:02d}.hex" in images, (n, sorted(images))
    assert {"tok_emb.hex", "gains.hex", "consts.hex"} <= images


@pytest.mark.slow
@pytest.mark.openxc7
@pytest.mark.parametrize("name", PNR_BOARDS)
def test_top_bitstream(name, weights, build_root, request):
    board = boards.get_board(name)
    if name == H.REAL_TOP_BOARD:   # the session's build (conftest.py), shared with the swap test
        work, rep = request.getfixturevalue("real_top_build")
        seeds = H.REAL_TOP_SEEDS
    else:
        reason = H.openxc7_reason(board.part)
        if reason:
            pytest.skip(reason)
        try:   # its [pnr] slice_range and hard_block_sites need nextpnr-xilinx's Python
            toolchain.discover().require_pre_place(board)
        except UserError as e:
            pytest.skip(str(e))
        # the board's seeds ([pnr] seeds), timing failure allowed, like the session's build
        work = build_root / f"{name}-full"
        rep = flow.build(flow.BuildRequest(board=name, weights=weights, build_dir=work, nice=10, timeout=3600,
                                           allow_timing_fail=True), quiet())
        seeds = board.seeds
    check_budget(rep, board)
    assert rep["bitstream"]["bytes"] > 1_000_000
    assert rep["fmax_mhz"] and rep["seed"] in seeds
    mm = json.loads((work / "memmap.json").read_text())
    assert mm["placed"] and all(c.get("site") for c in mm["cells"])
    print(f"\n{name}: Fmax {rep['fmax_mhz']:.2f} MHz (target {rep['target_mhz']:g}, met: {rep['timing_met']}), "
          f"LUT {rep['utilisation']['lut']['used']}, FF {rep['utilisation']['ff']['used']}, "
          f"RAMB36 {rep['utilisation']['ramb36']['used']}, DSP {rep['utilisation']['dsp']['used']}, "
          f"times {rep['stage_seconds']}")
