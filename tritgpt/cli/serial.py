"""Serial commands: stream, info, load-weights, serve-sim; bench_port() for `bench --port`.

They talk to a board (or the simulated board, `tritgpt serve-sim`) with the UART
protocol of docs/protocol.md through tritgpt.link.host.Board.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Optional

import typer
from rich.console import Console
from rich.table import Table

from ..errors import UserError

console = Console(stderr=True)

DEFAULT_CLOCK_HZ = 100e6
PORT_HELP = "Serial port of the board, e.g. /dev/ttyUSB1 (or the /dev/pts/N of `tritgpt serve-sim`)."
BAUD_HELP = "Baud rate the bitstream was built for (BAUD parameter)."


def _tinv(temperature: float) -> int:
    from ..ml.model import temperature_to_tinv

    try:
        return temperature_to_tinv(temperature)
    except ValueError as exc:
        raise UserError(str(exc)) from None


def _rate(x: float) -> str:
    return f"{x:,.0f}" if x >= 100 else f"{x:.1f}"


def bench_port(port: str, n: int = 1000, *, baud: int = 115200, clock_hz: float = DEFAULT_CLOCK_HZ,
               prompt: str = "\n", temperature: float = 0.0, seed: int = 1,
               weights: Optional[Path] = None, timeout: float = 2.0) -> dict:
    """Run BENCH on a board: n tokens generated on chip, not streamed; the core's cycle count.

    Returns tokens, cycles, cycles_per_token, core_tokens_per_second (at clock_hz),
    wall_seconds, model_hash, and with `weights` also matches_reference: whether
    the checksum of the tokens equals that of tritgpt.ml.model.generate's.
    """
    from ..link import protocol as P
    from ..link.host import Board

    with Board(port, baud, timeout=timeout, token_timeout=max(30.0, n / 50)) as board:
        if weights is not None:
            board.check_weights(weights)
        result = board.bench(n, prompt=prompt, temperature=temperature, seed=seed)
    result["clock_hz"] = clock_hz
    result["core_tokens_per_second"] = n * clock_hz / result["cycles"] if result["cycles"] else 0.0
    result["port"] = port
    if weights is not None:
        from ..ml.export import load_package
        from ..ml.model import encode, generate

        p = load_package(Path(weights))
        toks = generate(p, encode(prompt)[-p.cfg.context:], n, tinv=_tinv(temperature), seed=seed)
        result["matches_reference"] = P.crc16(toks) == result["token_crc"]
    return result


def register(app: typer.Typer) -> None:
    @app.command()
    def stream(
        port: str = typer.Option(..., help=PORT_HELP),
        prompt: str = typer.Option("ROMEO:", help="Prompt text (ASCII; cropped to the model's context)."),
        n: int = typer.Option(200, "-n", help="Tokens to generate (1..65535)."),
        temperature: float = typer.Option(0.0, help="0 = greedy (argmax), else sampling at this temperature."),
        seed: int = typer.Option(1, help="PRNG seed for sampling."),
        baud: int = typer.Option(115200, help=BAUD_HELP),
        clock_hz: float = typer.Option(DEFAULT_CLOCK_HZ, help="Board clock, for the core's tokens/s."),
        weights: Optional[Path] = typer.Option(None, help="Check the board runs this weights package."),
        timeout: float = typer.Option(2.0, help="Seconds to wait for the board to answer a command."),
    ):
        """Generate on the board and print the text as it arrives."""
        from ..link.host import Board

        tinv = _tinv(temperature)
        if not 1 <= n <= 65535:
            raise UserError("-n must be between 1 and 65535")
        with Board(port, baud, timeout=timeout, log=lambda m: console.print(f"[dim]{m}[/]")) as board:
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
                console.print("[yellow]stopped[/]")
                raise typer.Exit(130)
            link_baud = board.ident.baud   # the bitstream's rate (a simulated board ignores --baud)
        sys.stdout.write("\n")
        sys.stdout.flush()
        core = result.core_tokens_per_second(clock_hz)
        console.print(
            f"[bold]{len(result.tokens)}[/] tokens in {result.wire_seconds:.2f} s: "
            f"[bold]{_rate(result.wire_tokens_per_second)}[/] tokens/s over the wire ({link_baud} baud link); "
            f"core {result.end.cycles:,} cycles = [bold]{_rate(core)}[/] tokens/s at {clock_hz / 1e6:g} MHz",
            highlight=False)

    @app.command()
    def info(
        port: str = typer.Option(..., help=PORT_HELP),
        baud: int = typer.Option(115200, help=BAUD_HELP),
        weights: Optional[Path] = typer.Option(None, help="Also check the board runs this weights package."),
        timeout: float = typer.Option(2.0, help="Seconds to wait for the board to answer."),
    ):
        """Identify the board: firmware, model hash and configuration, clock and baud."""
        from ..link.host import Board

        with Board(port, baud, timeout=timeout) as board:
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
        Console().print(t)

    @app.command("load-weights")
    def load_weights(
        weights_dir: Path = typer.Argument(..., help="Weights package directory (same config as the bitstream)."),
        port: str = typer.Option(..., help=PORT_HELP),
        baud: int = typer.Option(115200, help=BAUD_HELP),
        timeout: float = typer.Option(2.0, help="Seconds to wait for each acknowledgement."),
    ):
        """Write a weights package into the running board's memories (no rebuild)."""
        from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn

        from ..link.host import Board

        t0 = time.monotonic()
        with Board(port, baud, timeout=timeout, log=lambda m: console.print(f"[dim]{m}[/]")) as board:
            with Progress(TextColumn("writing weights"), BarColumn(), TextColumn("{task.completed}/{task.total} words"),
                          TimeRemainingColumn(), console=console, transient=True) as bar:
                task = bar.add_task("write", total=None)
                ident = board.write_weights(weights_dir, progress=lambda d, t: bar.update(task, completed=d, total=t))
        console.print(f"loaded {weights_dir} in {time.monotonic() - t0:.1f} s; the board now runs model "
                      f"[bold]{ident.model_hash}[/] (verified)", highlight=False)

    @app.command("serve-sim")
    def serve_sim(
        weights: Optional[Path] = typer.Option(None, help="Weights package (default weights/default)."),
        build_dir: Optional[Path] = typer.Option(None, help="Build cache (default build/, or $TRITGPT_BUILD_DIR)."),
    ):
        """Run the simulated board (Verilator model of the whole top level) on a pseudo-terminal."""
        from ..paths import default_weights
        from ..sim.simboard import serve

        weights = weights or default_weights()

        def ready(port: str) -> None:
            print(port, flush=True)
            console.print(f"simulated board on [bold]{port}[/] (Ctrl-C to stop); try: "
                          f"tritgpt stream --port {port}", highlight=False)

        serve(weights, build_root=build_dir, on_ready=ready, log=lambda m: console.print(f"[dim]{m}[/]"))
