"""Swap command: new weights into a built bitstream, without synthesis or place and route."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Optional

import typer
from rich.table import Table

from .options import JSON, NICE
from .output import err as console


def swap(
    build_dir: Path = typer.Argument(..., help="Build directory of `tritgpt build` (e.g. build/arty-a7-35t)."),
    weights: Path = typer.Argument(..., help="Weights package with the new weights (same config as the build)."),
    out: Path = typer.Option(..., "--out", "-o", help="The new bitstream (.bit) to write."),
    fasm: Optional[Path] = typer.Option(None, "--fasm", help="Also write the swapped FASM here."),
    frames: Optional[Path] = typer.Option(None, "--frames", help="Also write the swapped frames here."),
    direct: bool = typer.Option(False, "--direct",
                                help="Encode the frames with the project's segbits encoder instead of fasm2frames."),
    full: bool = typer.Option(False, "--full",
                              help="Run fasm2frames on the whole swapped FASM (slow; the reference path)."),
    bit2fasm: bool = typer.Option(False, "--bit2fasm",
                                  help="Also verify with prjxray bit2fasm and the project's FASM reader."),
    no_verify: bool = typer.Option(False, "--no-verify", help="Do not read the new bitstream back."),
    nice: NICE = 0,
    json_out: JSON = False,
):
    """Write a bitstream with new weights into a finished build's routed design, in seconds.

    Only the INIT/INITP contents of the block RAMs in the build's memory map change;
    the new bitstream is read back and checked before it is written.
    """
    from ..errors import UserError
    from ..fpga.swap import swap as run_swap

    if direct and full:
        raise UserError("--direct and --full exclude each other")
    if no_verify and bit2fasm:
        raise UserError("--no-verify and --bit2fasm exclude each other")
    method = "direct" if direct else "full" if full else "fasm2frames"
    verify = "none" if no_verify else "bit2fasm" if bit2fasm else "bitread"
    with console.status("swapping ...") if console.is_terminal else _Null():
        res = run_swap(build_dir, weights, out, fasm_out=fasm, frames_out=frames, method=method,
                       verify=verify, nice=nice)
    t = Table(show_header=True, header_style="bold", title="time")
    t.add_column("step")
    t.add_column("s", justify="right")
    for k, v in res.times.items():
        if k != "total":
            t.add_row(k, f"{v:.2f}")
    t.add_row("[bold]total[/]", f"[bold]{res.times['total']:.2f}[/]")
    console.print(t)
    for w in res.warnings:
        console.print(f"note: {w}", style="yellow", markup=False, highlight=False)
    changed = ", ".join(n.removesuffix(".hex") for n in res.images_changed) or "none"
    console.print(f"  {res.changed_cells} of {res.cells} weight block RAMs changed ({res.halves} RAMB18 halves, "
                  f"{res.fasm_lines} FASM lines, {res.frames_changed} frames; frames by {res.method})",
                  highlight=False)
    console.print(f"  images changed: {changed}", highlight=False)
    for v in res.verified:
        console.print(f"  verified {v}", style="green", markup=False, highlight=False)
    if res.identical:
        console.print("  the new bitstream is byte-identical to the build's (same weights)", highlight=False)
    console.print(f"wrote {res.out} in {res.times['total']:.1f} s", style="green", markup=False, highlight=False)
    if json_out:
        print(json.dumps(res.as_dict(), indent=2))




class _Null:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False
