"""Build commands: build (weights -> bitstream, open tools only), program, boards."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.table import Table

from ..errors import UserError
from .options import BAUD, BOARD, JSON, NICE, WEIGHTS, weights_or_default
from .output import err, out


def _seeds(text: str) -> tuple[int, ...]:
    try:
        seeds = tuple(int(s) for s in text.replace(" ", "").split(",") if s)
    except ValueError:
        raise UserError(f"--seeds takes comma-separated integers, e.g. 1,2,3 (got {text!r})") from None
    if not seeds:
        raise UserError("--seeds needs at least one seed")
    if any(not 0 <= s < 2**31 for s in seeds):
        raise UserError(f"--seeds takes seeds in 0..{2**31 - 1} (got {text!r})")
    return seeds


def build(
    board: BOARD,
    weights: WEIGHTS = None,
    out: Optional[Path] = typer.Option(None, "--out", "-o", help="Build directory (default: build/BOARD)."),
    seeds: Optional[str] = typer.Option(
        None, help="nextpnr seeds, tried in order; the first meeting timing is kept (default: the board's "
                   "[pnr] seeds, found by `tritgpt sweep`, else 1,2,3; see `tritgpt boards --json`)."),
    best_seed: bool = typer.Option(False, "--best-seed", help="Try every seed and keep the highest Fmax."),
    timeout: float = typer.Option(3600, callback=lambda v: _positive("--timeout", v),
                                  help="Time limit per nextpnr-xilinx run, seconds."),
    allow_timing_fail: bool = typer.Option(False, "--allow-timing-fail", help="Write the bitstream even if Fmax < target."),
    cycles_per_token: Optional[float] = typer.Option(
        None, callback=lambda v: v if v is None else _positive("--cycles-per-token", v),
        help="Average cycles/token for the tokens/s estimate (default: a 128-token run of bench.json)."),
    bench: bool = typer.Option(True, "--bench/--no-bench",
                               help="Without a bench JSON, measure cycles/token on the Verilator model (~2 min)."),
    verify: bool = typer.Option(True, "--verify/--no-verify",
                                help="Check the routed block RAM INIT values against the weights and read the bitstream "
                                     "back with bit2fasm (needs prjxray's bit2fasm)."),
    postroute_sim: bool = typer.Option(
        False, "--postroute-sim", help="In the verify stage, also simulate nextpnr's routed netlist (its primitives, "
                                      "in Verilator): IDENTIFY and 2 tokens over the UART against the reference "
                                      "model. Several minutes."),
    synth_only: bool = typer.Option(False, "--synth-only", help="Stop after synthesis (no nextpnr needed)."),
    baud: BAUD = None,
    design_mhz: Optional[float] = typer.Option(
        None, "--design-mhz", help="Clock the core at this many MHz instead of the board file's design_mhz: "
                                   "the board clock divided by an integer (e.g. 50 on a 100 MHz board)."),
    force: bool = typer.Option(False, "--force", help="Redo every stage even if nothing changed."),
    nice: NICE = 0,
    json_out: JSON = False,
):
    """Build a bitstream for BOARD from a weights package with the open openXC7 tools."""
    from ..fpga.boards import get_board
    from ..fpga.flow import BuildRequest, build as run_build
    from ..ml.export import load_package

    is_ecp5 = get_board(board).is_ecp5
    if postroute_sim and not verify:
        raise UserError("--postroute-sim is part of the verify stage: drop --no-verify")
    if postroute_sim and is_ecp5:
        raise UserError(f"--postroute-sim: {board} is an ECP5 board; post-route simulation is for the Artix-7 "
                        f"flow (nextpnr-xilinx's routed netlist); build without it")
    weights = weights_or_default(weights)
    load_package(weights)      # every image against its sha256, as generate and sim check it
    if out is not None and out.exists() and not out.is_dir():
        raise UserError(f"--out {out} is a file; give a build directory (it is created)")
    req = BuildRequest(
        board=board, weights=weights, build_dir=out, seeds=_seeds(seeds) if seeds is not None else None,
        seed_policy="best" if best_seed else "first", timeout=timeout, allow_timing_fail=allow_timing_fail,
        cycles_per_token=cycles_per_token, stop_after="synth" if synth_only else None, force=force,
        nice=nice, baud=baud, design_mhz=design_mhz, bench=bench, verify=verify, postroute_sim=postroute_sim,
    )
    report = run_build(req, err)
    if json_out:
        print(json.dumps(report, indent=2))


def program(
    board: BOARD,
    bitstream: Optional[Path] = typer.Argument(None, help="Bitstream (default: build/BOARD/tritgpt.bit)."),
    cable: Optional[str] = typer.Option(None, help="openFPGALoader cable, if not the board's default."),
    flash: bool = typer.Option(False, "--flash", help="Write the configuration flash instead of SRAM."),
):
    """Load a bitstream onto BOARD with openFPGALoader."""
    from ..fpga.flow import program as run_program

    run_program(board, bitstream, cable=cable, flash=flash, console=err)


def boards(
    write: bool = typer.Option(False, "--write", help="Regenerate constraints/*.xdc, constraints/tritgpt_board.core and weights/default.core."),
    tools: bool = typer.Option(False, "--tools", help="Show where the FPGA tools were found."),
    json_out: JSON = False,
):
    """List the supported boards (part, clock, pins, resources, models that fit)."""
    from ..fpga import boards as boards_mod

    if write:
        for path in boards_mod.write_board_files():
            err.print(f"wrote {path}", markup=False, highlight=False)
    all_boards = boards_mod.all_boards()
    if json_out:
        rows = []
        for b in all_boards:
            d = {k: v for k, v in b.__dict__.items() if k != "path"}
            d["budget"] = b.budget.__dict__
            rows.append(d)
        print(json.dumps(rows, indent=2))
    else:
        # compact enough for an 80-column terminal: LUT and FF in thousands, clocks as board/design
        from rich import box

        t = Table(show_header=True, header_style="bold", box=box.SIMPLE_HEAD, pad_edge=False, show_edge=False, padding=(0, 1), collapse_padding=True,
                  caption="clock: board/design MHz; the whole part: LUT, FF (thousands), BRAM, DSP")
        for col in ("board", "part", "clock", "LUT", "FF", "BRAM", "DSP", "models"):
            t.add_column(col, no_wrap=True, justify="right" if col in ("LUT", "FF", "BRAM", "DSP") else "left")
        for b in all_boards:
            t.add_row(b.name, b.part, f"{b.clock_mhz:g}/{b.design_mhz:g}", f"{b.budget.lut / 1000:.1f}",
                      f"{b.budget.ff / 1000:.1f}", str(b.budget.ramb36), str(b.budget.dsp), ",".join(b.fits))
        out.print(t)
        _print_ecp5_parts()
    if tools:
        from ..fpga import toolchain

        tc = toolchain.discover()
        t = Table(title=f"tools (config: {tc.config_file})", show_header=True, header_style="bold")
        t.add_column("tool")
        t.add_column("found")
        t.add_column("from")
        for tool in (tc.yosys, tc.nextpnr_xilinx, tc.fasm2frames, tc.xc7frames2bit, tc.bbasm):
            t.add_row(tool.name, tool.make_value() or "[red]missing[/]", tool.source)
            if tool is tc.nextpnr_xilinx and tool.found:   # the [pnr] scripts of the xc7a100t boards need it
                t.add_row("  its Python", "[yellow]no --pre-place: rebuild with -DBUILD_PYTHON=ON[/]"
                          if tc.pre_place_missing() else "yes (--pre-place)", "")
        for name, val in (("bbaexport.py", tc.bbaexport), ("constids.inc", tc.constids),
                          ("nextpnr-xilinx-meta", tc.metadata), ("prjxray-db", tc.prjxray_db),
                          ("chip databases", tc.chipdb), ("chipdb cache", toolchain.cache_dir() / "chipdb")):
            t.add_row(name, str(val) if val else "[yellow]not found[/]", "")
        if tc.container:
            t.add_row("container", f"{tc.container['engine']} {tc.container['image']}", "config")
        out.print(t)


def _print_ecp5_parts() -> None:
    """Which LFE5U parts hold each shipped config (block RAM estimate, measured LUT4 and
    multipliers): a board with another ECP5 part only needs a board file."""
    from ..fpga import ecp5
    from ..ml.model import Config

    for name in ("tiny", "default"):
        fits = ecp5.part_fits(Config.load(name))
        ok = [p for p, short in fits.items() if short is None]
        no = [f"{p} ({short})" for p, short in fits.items() if short is not None]
        # one part a line: the table above fits 80 columns, so these do too
        out.print(f"ECP5 parts for {name}: fits {', '.join(ok) or 'none'}", highlight=False, soft_wrap=True)
        for reason in no:
            out.print(f"  not {reason}", highlight=False, soft_wrap=True)


def _positive(option: str, value: float) -> float:
    if not (math.isfinite(value) and value > 0):
        raise UserError(f"{option} must be a finite number > 0 (got {value})")
    return value
