"""`tritgpt demo`: the whole user path with no board at hand.

Shipped weights -> Verilator model of the board top level (core + UART) -> a
pseudo-terminal -> the serial client -> text on screen, checked token for token
against the integer reference model.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

from ..errors import UserError
from .options import PROMPT, SEED, TEMPERATURE, TOKENS, WEIGHTS, weights_or_default
from .output import err as console


def demo(
    weights: WEIGHTS = None,
    prompt: PROMPT = "ROMEO:",
    n: TOKENS = 300,
    temperature: TEMPERATURE = 0.8,
    seed: SEED = 7,
):
    """Stream text from the simulated board over a real serial port (a pty), checked against the reference."""
    from ..ml.export import WeightsError, load_package
    from ..link.host import Board
    from ..ml.model import encode, generate, temperature_to_tinv
    from ..sim.simboard import SimBoard, core_present

    weights = weights_or_default(weights)
    try:
        p = load_package(weights)
    except WeightsError as exc:
        raise UserError(str(exc)) from None
    if not core_present():
        raise UserError("the Verilog core (rtl/tritgpt_core.v) is missing from this checkout")
    tinv = temperature_to_tinv(temperature)
    console.print(f"weights {weights} (model {p.digest()[:16]}, integer-model loss "
                  f"{_loss(weights)}); starting the simulated board ...", markup=False, highlight=False)
    t0 = time.monotonic()
    with SimBoard(weights, log=lambda m: console.print(m, style="dim", markup=False, highlight=False)) as port:
        console.print(f"simulated board on serial port {port} (ready in {time.monotonic() - t0:.0f} s)",
                      markup=False, highlight=False)
        with Board(port) as board:
            ident = board.identify()
            sys.stdout.write(prompt)
            sys.stdout.flush()
            result = board.generate(prompt, n, tinv=tinv, seed=seed,
                                    on_token=lambda t: (sys.stdout.write(chr(t)), sys.stdout.flush()))
    sys.stdout.write("\n")
    expect = generate(p, encode(prompt), n, tinv=tinv, seed=seed)
    same = result.tokens == expect
    cycles_per_token = result.end.cycles / max(1, len(result.tokens))
    console.print(f"{len(result.tokens)} tokens over the serial port in {result.wire_seconds:.1f} s of "
                  f"wall-clock time (the simulator's speed); in the simulated board's time they arrived at "
                  f"{result.delivered_chars_per_second(ident.clk_hz):,.0f} characters/s over its {ident.baud} baud "
                  f"UART; the core took {result.end.cycles:,} cycles for the {len(result.tokens)}-token run "
                  f"= {cycles_per_token:,.0f} cycles/token on average = {ident.clk_hz / cycles_per_token:,.0f} "
                  f"tokens/s at {ident.clk_hz / 1e6:g} MHz (the simulated board's clock)", markup=False, highlight=False)
    if not same:
        first = next((i for i, (a, b) in enumerate(zip(result.tokens, expect)) if a != b), len(expect))
        raise UserError(f"the board's tokens differ from the integer reference model at token {first}")
    console.print("[green]token for token identical to the integer reference model[/]")




def _loss(weights: Path) -> str:
    from ..ml.export import read_manifest

    ev = read_manifest(weights).get("metrics", {}).get("eval")
    return f"{ev['loss']:.3f} nats/char" if ev else "not measured"
