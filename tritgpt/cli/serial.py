"""Serial commands: stream, info, load-weights, serve-sim.

They talk to a board (or the simulated board, `tritgpt serve-sim`) with the binary
UART protocol of docs/protocol.md through tritgpt.link.host.Board.
"""

from __future__ import annotations

import math
import sys
import time
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.table import Table

from ..errors import UserError
from .options import (BAUD, CLOCK_MHZ, LINK_BUILD, PORT, PROMPT, SEED, SERIAL_TIMEOUT, TEMPERATURE, TOKENS, WEIGHTS,
                      link_baud)
from .output import err, out


def _rate(x: float) -> str:
    return f"{x:,.0f}" if x >= 100 else f"{x:.1f}"


def _log(message: str) -> None:
    err.print(message, style="dim", markup=False, highlight=False)


def stream(
    port: PORT,
    prompt: PROMPT = "ROMEO:",
    n: TOKENS = 200,
    temperature: TEMPERATURE = 0.0,
    seed: SEED = 1,
    baud: BAUD = None,
    build: LINK_BUILD = None,
    clock_mhz: CLOCK_MHZ = None,
    clock_hz: Annotated[Optional[float], typer.Option(hidden=True, help="Core clock in Hz (use --clock-mhz).")] = None,
    weights: Annotated[Optional[Path], typer.Option(help="Check the board runs this weights package.")] = None,
    timeout: SERIAL_TIMEOUT = 2.0,
):
    """Generate on the board and print the text as it arrives.

    Then, on stderr: the characters/s delivered (timed by the board's clock: END's span),
    the core's tokens/s (its own cycles), both at the clock the board reports (IDENT)
    unless --clock-mhz, what the link's baud rate carries and which of the two limits the
    stream, and the host's wall-clock rate (for the simulated board: the simulator's speed).
    """
    from ..link.host import Board
    from ..link.protocol import stream_rate
    from ..ml.model import temperature_to_tinv

    tinv = temperature_to_tinv(temperature)
    clock = clock_mhz * 1e6 if clock_mhz is not None else clock_hz
    if clock is not None and not (math.isfinite(clock) and clock > 0):
        raise UserError(f"--clock-mhz must be a frequency > 0 (got {clock_mhz if clock_mhz is not None else clock_hz})")
    baud = link_baud(baud, build)
    with Board(port, baud, timeout=timeout, log=_log) as board:
        ident = board.identify()        # reach the board before printing anything
        if weights is not None:
            board.check_weights(weights)
        sys.stdout.write(prompt)
        sys.stdout.flush()

        def show(tok: int) -> None:
            sys.stdout.write(chr(tok))
            sys.stdout.flush()

        try:
            result = board.generate(prompt, n, tinv=tinv, seed=seed, on_token=show)
        except KeyboardInterrupt:
            sys.stdout.write("\n")
            err.print("[yellow]stopped[/]")
            raise typer.Exit(130)
        wire_baud = board.ident.baud   # the bitstream's rate (a simulated board ignores --baud)
    sys.stdout.write("\n")
    sys.stdout.flush()
    if clock is None:
        clock, clock_words = ident.clk_hz, f"{ident.clk_hz / 1e6:g} MHz (the board's clock, from IDENT)"
    else:
        clock_words = f"{clock / 1e6:g} MHz"
    n_tok = len(result.tokens)
    core = result.core_tokens_per_second(clock)
    link = stream_rate(core, wire_baud)
    lines = [
        f"delivered {_rate(result.delivered_chars_per_second(clock))} characters/s at {clock_words}: {n_tok} "
        f"characters in {result.end.span_cycles:,} cycles from the start of the run until the last left the "
        f"board's UART (the board's clock, END's span)",
        f"core {_rate(core)} tokens/s at {clock_words}: {result.end.cycles:,} cycles for the {n_tok}-token run "
        f"({result.end.cycles / max(n_tok, 1):,.1f} cycles/token, stalls excluded)",
        f"link {wire_baud:,} baud carries up to {_rate(link['wire_chars_per_s'])} characters/s: the {link['limit']} "
        f"limits this stream",
        f"host wall clock: {n_tok} characters in {result.wire_seconds:.2f} s = "
        f"{_rate(result.wire_tokens_per_second)} characters/s as received here (from a simulated board: "
        f"the simulator's speed, not the board's)",
    ]
    err.print("\n".join(lines), markup=False, highlight=False)


def info(
    port: PORT,
    baud: BAUD = None,
    build: LINK_BUILD = None,
    weights: Annotated[Optional[Path], typer.Option(help="Also check the board runs this weights package.")] = None,
    timeout: SERIAL_TIMEOUT = 2.0,
):
    """Identify the board: firmware, model hash and configuration, clock and baud."""
    from ..link.host import Board

    with Board(port, link_baud(baud, build), timeout=timeout) as board:
        ident = board.identify()
        if weights is not None:
            board.check_weights(weights)
    t = Table(show_header=False, box=None)
    t.add_column(style="bold")
    t.add_column()
    t.add_row("port", port)
    t.add_row("firmware", f"{ident.fw_version_str} (protocol {ident.proto_version})")
    t.add_row("model hash", ident.model_hash)
    t.add_row("config", ", ".join(f"{k}={v}" for k, v in ident.config().items()) + f", lanes={ident.lanes}")
    t.add_row("clock", f"{ident.clk_hz / 1e6:g} MHz")
    t.add_row("baud", f"{ident.baud}")
    state = "running" + (" (bench)" if ident.bench else "") if ident.running else "idle"
    t.add_row("state", state)
    t.add_row("last run", f"{ident.tok_count} tokens, {ident.cycle_count:,} cycles")
    if weights is not None:
        t.add_row("weights", f"{weights}: matches")
    out.print(t)


def load_weights(
    weights_dir: Annotated[Path, typer.Argument(help="Weights package directory (same config as the bitstream).")],
    port: PORT,
    baud: BAUD = None,
    build: LINK_BUILD = None,
    timeout: SERIAL_TIMEOUT = 2.0,
):
    """Write a weights package into the running board's memories (no rebuild)."""
    from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn

    from ..link.host import Board
    from ..ml.export import load_package

    load_package(weights_dir)          # a broken package is refused before the board is touched
    t0 = time.monotonic()
    with Board(port, link_baud(baud, build), timeout=timeout, log=_log) as board:
        with Progress(TextColumn("writing weights"), BarColumn(), TextColumn("{task.completed}/{task.total} words"),
                      TimeRemainingColumn(), console=err, transient=True) as bar:
            task = bar.add_task("write", total=None)
            ident = board.write_weights(weights_dir, progress=lambda d, t: bar.update(task, completed=d, total=t))
    err.print(f"loaded {weights_dir} in {time.monotonic() - t0:.1f} s; the board now runs model "
              f"{ident.model_hash} (verified)", markup=False, highlight=False)


def serve_sim(
    weights: WEIGHTS = None,
    build_dir: Annotated[Optional[Path], typer.Option(help="Build cache (default build/, or $TRITGPT_BUILD_DIR).")] = None,
):
    """Run the simulated board (Verilator model of the whole top level) on a pseudo-terminal.

    It prints the pty's path; talk to it with `tritgpt stream --port PATH` (the
    protocol is binary, so a terminal program such as miniterm shows nothing useful).
    """
    from ..ml.export import load_package
    from ..sim.simboard import serve
    from .options import weights_or_default

    weights = weights_or_default(weights)
    load_package(weights)
    if build_dir is not None and build_dir.exists() and not build_dir.is_dir():
        raise UserError(f"--build-dir {build_dir} is a file; give a directory")

    from ..sim.simboard import sim_board

    board = sim_board()

    def ready(port: str) -> None:
        print(port, flush=True)
        err.print(f"simulated board on {port} (Ctrl-C to stop): {board.name} as built, {board.design_mhz:g} MHz "
                  f"design clock, {board.baud} baud, UART bits timed as the RTL times them; "
                  f"try: tritgpt stream --port {port}", markup=False, highlight=False)

    serve(weights, build_root=build_dir, on_ready=ready, log=_log)
