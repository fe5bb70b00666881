"""Options shared by several commands, each defined once (name, help, limits).

A command declares `weights: WEIGHTS = None` or `n: TOKENS = 200`; the limits are
checked here, before the command runs, and a value outside them is one line naming
the option and what it accepts (tritgpt.errors.UserError, exit 1).
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Annotated, Optional

import typer

from ..errors import UserError
from ..link.protocol import MAX_TOKENS

MAX_SEED = 2**32 - 1          # the core's PRNG seed register is 32 bits
MIN_BAUD, MAX_BAUD = 300, 12_000_000


def _int_range(option: str, lo: int, hi: int, why: str = ""):
    def check(value: Optional[int]) -> Optional[int]:
        if value is not None and not lo <= value <= hi:
            raise UserError(f"{option} must be in {lo}..{hi}{why} (got {value})")
        return value
    return check


def _positive_seconds(option: str):
    def check(value: Optional[float]) -> Optional[float]:
        if value is not None and not (math.isfinite(value) and value > 0):
            raise UserError(f"{option} must be a number of seconds > 0 (got {value})")
        return value
    return check


def _temperature(value: float) -> float:
    if not math.isfinite(value) or value < 0:
        raise UserError(f"temperature must be >= 0 and finite: 0 = greedy, e.g. 0.8 to sample (got {value})")
    return value


def _ascii_prompt(value: str) -> str:
    bad = sorted({ch for ch in value if ord(ch) >= 128})
    if bad:
        shown = " ".join(f"{ch!r} (U+{ord(ch):04X})" for ch in bad[:3])
        raise UserError(f"the prompt must be ASCII (the model's vocabulary is the 128 ASCII codes); "
                        f"replace {shown}")
    return value


def weights_or_default(weights: Optional[Path]) -> Path:
    """--weights as given, else weights/default of a checkout, else the shipped package."""
    from ..paths import default_weights

    return Path(weights) if weights is not None else default_weights()


WEIGHTS = Annotated[Optional[Path], typer.Option(
    "--weights", help="Weights package directory (default: weights/default, else the shipped package).")]
PROMPT = Annotated[str, typer.Option(
    "--prompt", callback=_ascii_prompt, help="Prompt text (ASCII; cropped to the model's context).")]
TOKENS = Annotated[Optional[int], typer.Option(
    "-n", callback=_int_range("-n", 1, MAX_TOKENS, " (the core's token counter is 16 bits)"),
    help=f"Tokens to generate (1..{MAX_TOKENS}).")]
TEMPERATURE = Annotated[float, typer.Option(
    "--temperature", callback=_temperature, help="0 = greedy (argmax), else sampling at this temperature.")]
SEED = Annotated[int, typer.Option(
    "--seed", callback=_int_range("--seed", 0, MAX_SEED, " (32-bit PRNG seed)"), help="PRNG seed for sampling.")]
PORT = Annotated[Optional[str], typer.Option(
    "--port", help="Serial port of the board, e.g. /dev/ttyUSB1 (or the /dev/pts/N of `tritgpt serve-sim`).")]
BAUD = Annotated[Optional[int], typer.Option(
    "--baud", callback=_int_range("--baud", MIN_BAUD, MAX_BAUD),
    help="UART baud rate: the bitstream's BAUD parameter (build: default the board's [uart] baud, "
         "e.g. 2000000; 115200 also works; talking to a board: see --build).")]
LINK_BUILD = Annotated[Optional[Path], typer.Option(
    "--build", help="The board's build directory (or its report.json): use the baud rate it was built "
                    "for (bench --sim: and its Fmax). Default without --baud: the reference board's rate "
                    "(arty-a7-35t, 2000000).")]


def read_build_report(build: Path) -> dict:
    """--build DIR (or DIR/report.json) as the dict a finished `tritgpt build` wrote."""
    import json

    report = build / "report.json" if build.is_dir() else build
    try:
        data = json.loads(report.read_text())
    except (OSError, ValueError):
        data = None
    if not isinstance(data, dict):
        raise UserError(f"--build {build}: no report.json there; give the directory of a finished "
                        f"`tritgpt build`, or --baud") from None
    return data


def link_baud(baud: Optional[int], build: Optional[Path]) -> Optional[int]:
    """The rate to open a board's port at: --baud, else the one --build's report.json records
    (uart.baud), else None (tritgpt.link.host.default_baud())."""
    if baud is not None or build is None:
        return baud
    uart = read_build_report(build).get("uart")
    value = uart.get("baud") if isinstance(uart, dict) else None
    if value is None:
        raise UserError(f"--build {build}: no report.json with the UART rate (uart.baud) there; give the "
                        f"directory of a finished `tritgpt build`, or --baud")
    if not isinstance(value, int) or not MIN_BAUD <= value <= MAX_BAUD:
        raise UserError(f"--build {build}: report.json's uart.baud is {value!r}, not a baud rate; give --baud")
    return value


SERIAL_TIMEOUT = Annotated[float, typer.Option(
    "--timeout", callback=_positive_seconds("--timeout"), help="Seconds to wait for the board to answer a command.")]
JSON = Annotated[bool, typer.Option("--json", help="Print the result as JSON on stdout.")]
BOARD = Annotated[str, typer.Option("--board", "-b", help="Board name (see `tritgpt boards`).")]
CORPUS = Annotated[Optional[Path], typer.Option(
    "--corpus", help="Text file (ASCII). Default: Tiny Shakespeare, downloaded once and checked by sha256.")]
NICE = Annotated[int, typer.Option("--nice", callback=_int_range("--nice", 0, 19), help="Run the tools at this nice level.")]
CLOCK_MHZ = Annotated[Optional[float], typer.Option(
    "--clock-mhz", help="Core clock in MHz for the tokens/s figure (default: a board's clock from its "
                        "IDENT; a simulation's, the arty-a7-35t design clock).")]
