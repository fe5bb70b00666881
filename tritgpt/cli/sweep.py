"""`tritgpt sweep`: place and route over seeds, router/placer options and boards as Dask tasks.

The work is in tritgpt.fpga.sweep; this module only reads the options.
"""

from __future__ import annotations

import itertools
from pathlib import Path
from typing import List, Optional

import typer

from ..errors import UserError
from ..fpga.boards import get_board
from ..paths import build_root
from .options import WEIGHTS, weights_or_default
from .output import err as console


def option_sets(routers: list[str], placers: list[str]) -> tuple[dict, ...]:
    """Every combination of the given --router and --placer values ({} when neither is given)."""
    axes = [[("router", r) for r in routers] or [None], [("placer", p) for p in placers] or [None]]
    return tuple(dict(kv for kv in combo if kv) for combo in itertools.product(*axes))


def sweep(
    board: List[str] = typer.Option([], "--board", "-b", help="Board (repeat for several; see `tritgpt boards`)."),
    seeds: str = typer.Option("1-8", help="Placer seeds: ranges and lists, e.g. 1-16 or 1,3,5."),
    router: List[str] = typer.Option([], help="nextpnr router (router1, router2); repeat to sweep both."),
    placer: List[str] = typer.Option([], help="nextpnr placer (e.g. heap, sa); repeat to sweep several."),
    weights: WEIGHTS = None,
    scheduler: Optional[str] = typer.Option(None, help="Existing Dask scheduler, e.g. tcp://HOST:8786 "
                                            "(default: a local cluster sized from cores and memory)."),
    workers: Optional[int] = typer.Option(None, help="Local cluster workers (default: as many as cores and "
                                          "memory allow)."),
    timeout: float = typer.Option(3600, help="Time limit per place-and-route run, seconds."),
    prune_below: Optional[float] = typer.Option(
        None, metavar="MHZ", help="Stop a run whose placement estimate (printed before routing) is below MHZ: "
                                  "routing mostly ends below it, so the time goes to the next seed."),
    prune_overused: Optional[str] = typer.Option(
        None, metavar="WIRES@ITER", help="Stop a run that still has more than WIRES wires overused at router2 "
                                         "iteration ITER, e.g. 300@15 (congested placements route late and slow)."),
    out: Optional[Path] = typer.Option(None, "--out", "-o", help="Where sweep.json and the plot go, and with "
                                       "one board its build directory (default: build/ or build/BOARD)."),
    promote: bool = typer.Option(True, "--promote/--no-promote",
                                 help="Install each board's best candidate into its build directory."),
    ship_chipdb: bool = typer.Option(False, "--ship-chipdb",
                                     help="Send the chip database with each task (workers without it)."),
    design_mhz: Optional[float] = typer.Option(
        None, "--design-mhz", help="Clock the core at this many MHz instead of each board file's design_mhz "
                                   "(the board clock divided by an integer); `tritgpt build --design-mhz` with "
                                   "the same clock takes the promoted result."),
    fixture: bool = typer.Option(False, "--fixture", hidden=True, help="Build the test stand-in top level."),
    netlist: Optional[Path] = typer.Option(None, help="Sweep this ECP5 netlist (yosys synth_ecp5 -json) "
                                           "instead of a board's build."),
    constraints: Optional[Path] = typer.Option(None, help="With --netlist: its LPF constraints."),
    device: str = typer.Option("25k", help="With --netlist: nextpnr-ecp5 device (25k, 45k, 85k, um5g-85k...)."),
    package: str = typer.Option("CABGA381", help="With --netlist: the package."),
    freq: Optional[float] = typer.Option(None, help="With --netlist: target clock, MHz."),
    name: str = typer.Option("design", help="With --netlist: the name of its subdirectory and files."),
):
    """Place and route over seeds, router/placer options and boards on Dask; keep the best."""
    from ..fpga import sweep as sweep_mod

    seed_list = sweep_mod.parse_seeds(seeds)
    if prune_below is not None and not prune_below > 0:
        raise UserError(f"--prune-below takes a clock in MHz above 0, e.g. 95 (got {prune_below:g})")
    wires, iteration = sweep_mod.parse_prune_overused(prune_overused)
    prune = sweep_mod.PruneRule(below_mhz=prune_below, overused=wires, at_iteration=iteration)
    no_chipdb = [name] if netlist is not None else [b for b in dict.fromkeys(board) if get_board(b).is_ecp5]
    if ship_chipdb and no_chipdb:
        console.print(f"  note: --ship-chipdb has no effect on {', '.join(no_chipdb)}: nextpnr-ecp5 (from PyPI) "
                      f"carries its own chip database", highlight=False)
    designs = []
    if netlist is not None:
        if board:
            raise UserError("give either --board or --netlist, not both")
        if design_mhz is not None:
            raise UserError("--design-mhz is for --board; a --netlist sweep takes its clock from --freq")
        for path, what in ((netlist, "--netlist"), (constraints, "--constraints")):
            if path is None or not Path(path).is_file():
                raise UserError(f"{what} {path or ''}: no such file (a netlist sweep needs --netlist and "
                                f"--constraints)".replace("  ", " "))
        root = Path(out) if out else build_root() / name
        root.mkdir(parents=True, exist_ok=True)
        designs.append(sweep_mod.ecp5_design(name, netlist, constraints, root, device=device, package=package,
                                             target_mhz=freq))
    elif not board:
        raise UserError("which boards? give --board BOARD (repeat for several), or --netlist FILE")
    else:
        w = weights_or_default(weights)
        for b in dict.fromkeys(board):
            bdir = Path(out) if out and len(board) == 1 else None
            if get_board(b).is_ecp5:
                designs.append(sweep_mod.ecp5_board_design(b, w, bdir, fixture=fixture, console=console,
                                                           design_mhz=design_mhz))
            else:
                designs.append(sweep_mod.xilinx_board_design(b, w, bdir, fixture=fixture, ship_chipdb=ship_chipdb,
                                                             console=console, design_mhz=design_mhz))
    req = sweep_mod.SweepRequest(
        designs=designs, seeds=seed_list, option_sets=option_sets(router, placer),
        out_dir=Path(out) if out else (designs[0].build_dir if len(designs) == 1 else build_root()),
        time_limit=timeout, scheduler=scheduler, workers=workers, promote=promote, prune=prune)
    summary = sweep_mod.run_sweep(req, console)
    if not any(summary["promoted"].values()) and promote:
        raise UserError(f"nothing promoted ({sweep_mod.outcome(summary['counts'])}); see {summary['path']}", code=2)
