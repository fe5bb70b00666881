"""Shared helpers for the build-flow tests (tests/test_flow*.py, test_boards*.py, test_build*.py)."""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FLOWS = ROOT / "flows"
FIXTURE_CORES = ROOT / "tests" / "fixtures" / "board_top"
REAL_TOP = ROOT / "rtl" / "tritgpt_top.v"
# the board the real top level is placed and routed for in every run (conftest.py's real_top_build)
REAL_TOP_BOARD = "arty-a7-35t"
# ... and the design clock and seed it is built with: the divided core (CLK_DIV = 2, a BUFGCE)
# at 50 MHz, seed 7, routes in about 10 minutes; the board's own build, the core clocked at
# 100 MHz (seed 23), took 26 minutes to place and route beside another run, more than CI has
# (docs/build.md, "Towards 100 MHz, the seventh round")
REAL_TOP_DESIGN_MHZ = 50.0
REAL_TOP_SEEDS = (7,)

# the project's Edalize flow and tools (installed with tritgpt, or from the checkout)
if str(FLOWS) not in sys.path:
    sys.path.insert(0, str(FLOWS))


def real_top_reason() -> str | None:
    """Why the real top level cannot be built yet, or None."""
    if not REAL_TOP.exists():
        return "rtl/tritgpt_top.v is not in the tree yet"
    cores = list((ROOT / "rtl").glob("*.core"))
    if not any("tritgpt:tritgpt:top" in p.read_text() for p in cores):
        return "no core in rtl/ provides tritgpt:tritgpt:top yet"
    return None


def openxc7_reason(part: str) -> str | None:
    """Why place/route/bitstream cannot run here, or None."""
    from tritgpt.fpga import toolchain

    tc = toolchain.discover()
    missing = [t.name for t in (tc.nextpnr_xilinx, tc.fasm2frames, tc.xc7frames2bit) if not t.found]
    if missing:
        return ("openXC7 tools not found: " + ", ".join(missing)
                + " (put them on PATH or set NEXTPNR_XILINX/PRJXRAY_BIN, or ~/.config/tritgpt/tools.toml)")
    if not tc.db_family_dir(part):
        return f"prjxray-db with {part} not found (set PRJXRAY_DB_DIR)"
    if not tc.chipdb_file(part) and not tc.can_make_chipdb():
        return f"no chip database for {part} (set CHIPDB) and no bbaexport.py/bbasm to make one"
    return None


def make_weights(path: Path, config: str = "tiny", seed: int = 0) -> Path:
    from tritgpt.ml.export import write_package
    from tritgpt.ml.model import Config, IntParams

    return write_package(IntParams.random(Config.load(config), seed=seed), path, force=True)


