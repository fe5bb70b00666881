"""Build commands: build (weights -> bitstream, open tools only), program, boards."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Optional

import typer
from rich.console import Console
from rich.table import Table

from ..errors import UserError
from ..paths import default_weights

console = Console(stderr=True)




def _seeds(text: str) -> tuple[int, ...]:
    try:
        seeds = tuple(int(s) for s in text.replace(" ", "").split(",") if s)
    except ValueError:
        raise UserError(f"--seeds takes comma-separated integers, e.g. 1,2,3 (got {text!r})") from None
    if not seeds:
        raise UserError("--seeds needs at least one seed")
    return seeds


def register(app: typer.Typer) -> None:
    @app.command()
    def build(
        board: str = typer.Option(..., "--board", "-b", help="Board name (see `tritgpt boards`)."),
        weights: Optional[Path] = typer.Option(None, help="Weights package directory (default: weights/default)."),
        out: Optional[Path] = typer.Option(None, "--out", "-o", help="Build directory (default: build/BOARD)."),
        seeds: str = typer.Option("1,2,3", help="nextpnr-xilinx seeds, tried in order; the first meeting timing is kept."),
        best_seed: bool = typer.Option(False, "--best-seed", help="Try every seed and keep the highest Fmax."),
        timeout: float = typer.Option(3600, help="Time limit per nextpnr-xilinx run, seconds."),
        allow_timing_fail: bool = typer.Option(False, "--allow-timing-fail", help="Write the bitstream even if Fmax < target."),
        cycles_per_token: Optional[float] = typer.Option(None, help="For the tokens/s estimate (default: from a bench JSON)."),
        bench: bool = typer.Option(True, "--bench/--no-bench",
                                   help="Without a bench JSON, measure cycles/token on the Verilator model (~2 min)."),
        synth_only: bool = typer.Option(False, "--synth-only", help="Stop after synthesis (no nextpnr needed)."),
        baud: Optional[int] = typer.Option(None, help="UART baud rate (default: the top level's 115200)."),
        force: bool = typer.Option(False, "--force", help="Redo every stage even if nothing changed."),
        nice: int = typer.Option(0, help="Run the tools at this nice level."),
        json_out: bool = typer.Option(False, "--json", help="Print the report as JSON on stdout."),
    ):
        """Build a bitstream for BOARD from a weights package with the open openXC7 tools."""
        from ..fpga.flow import BuildRequest, build as run_build

        req = BuildRequest(
            board=board, weights=weights or default_weights(), build_dir=out, seeds=_seeds(seeds),
            seed_policy="best" if best_seed else "first", timeout=timeout, allow_timing_fail=allow_timing_fail,
            cycles_per_token=cycles_per_token, stop_after="synth" if synth_only else None, force=force,
            nice=nice, baud=baud, bench=bench,
        )
        report = run_build(req, console)
        if json_out:
            print(json.dumps(report, indent=2))

    @app.command()
    def program(
        board: str = typer.Option(..., "--board", "-b", help="Board name (see `tritgpt boards`)."),
        bitstream: Optional[Path] = typer.Argument(None, help="Bitstream (default: build/BOARD/tritgpt.bit)."),
        cable: Optional[str] = typer.Option(None, help="openFPGALoader cable, if not the board's default."),
        flash: bool = typer.Option(False, "--flash", help="Write the configuration flash instead of SRAM."),
    ):
        """Load a bitstream onto BOARD with openFPGALoader."""
        from ..fpga.flow import program as run_program

        run_program(board, bitstream, cable=cable, flash=flash, console=console)

    @app.command()
    def boards(
        write: bool = typer.Option(False, "--write", help="Regenerate constraints/*.xdc and cores/tritgpt_board.core."),
        tools: bool = typer.Option(False, "--tools", help="Show where the FPGA tools were found."),
        json_out: bool = typer.Option(False, "--json", help="Print the boards as JSON."),
    ):
        """List the supported boards (part, clock, pins, resources, models that fit)."""
        from ..fpga import boards as boards_mod

        if write:
            for path in boards_mod.write_board_files():
                console.print(f"wrote {path}")
        all_boards = boards_mod.all_boards()
        if json_out:
            out = []
            for b in all_boards:
                d = {k: v for k, v in b.__dict__.items() if k != "path"}
                d["budget"] = b.budget.__dict__
                out.append(d)
            print(json.dumps(out, indent=2))
        else:
            # compact enough for an 80-column terminal: thousands as "k", clocks as board/design
            from rich import box

            t = Table(show_header=True, header_style="bold", box=box.SIMPLE_HEAD, pad_edge=False, show_edge=False, padding=(0, 1), collapse_padding=True,
                      caption="clock: board/design MHz; whole part: LUT, FF (k), BRAM (RAMB36 or DP16KD), DSP")
            for col in ("board", "part", "clock", "LUT", "FF", "BRAM", "DSP", "models"):
                t.add_column(col, no_wrap=True, justify="right" if col in ("LUT", "FF", "BRAM", "DSP") else "left")
            for b in all_boards:
                t.add_row(b.name, b.part, f"{b.clock_mhz:g}/{b.design_mhz:g}", f"{b.budget.lut / 1000:.1f}k",
                          f"{b.budget.ff / 1000:.1f}k", str(b.budget.ramb36), str(b.budget.dsp), ",".join(b.fits))
            Console().print(t)
        if tools:
            from ..fpga import toolchain

            tc = toolchain.discover()
            t = Table(title=f"tools (config: {tc.config_file})", show_header=True, header_style="bold")
            t.add_column("tool")
            t.add_column("found")
            t.add_column("from")
            for tool in (tc.yosys, tc.nextpnr_xilinx, tc.fasm2frames, tc.xc7frames2bit, tc.bbasm):
                t.add_row(tool.name, tool.make_value() or "[red]missing[/]", tool.source)
            for name, val in (("bbaexport.py", tc.bbaexport), ("constids.inc", tc.constids),
                              ("nextpnr-xilinx-meta", tc.metadata), ("prjxray-db", tc.prjxray_db),
                              ("chip databases", tc.chipdb), ("chipdb cache", toolchain.cache_dir() / "chipdb")):
                t.add_row(name, str(val) if val else "[yellow]not found[/]", "")
            if tc.container:
                t.add_row("container", f"{tc.container['engine']} {tc.container['image']}", "config")
            Console().print(t)
