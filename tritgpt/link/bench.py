"""BENCH on a board: n tokens generated on chip (not streamed) and the core's cycle count."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

from . import protocol as P
from .host import Board


def bench_port(port: str, n: int = 1000, *, baud: int | None = None, clock_hz: Optional[float] = None,
               prompt: str = "\n", temperature: float = 0.0, seed: int = 1,
               weights: Optional[Path] = None, timeout: float = 2.0) -> dict:
    """Run BENCH on the board at `port`.

    Returns tokens, cycles, cycles_per_token (average over the n-token run from
    `prompt`), clock_hz (the board's design clock from IDENT unless given),
    core_tokens_per_second (at clock_hz), baud (the board's, from IDENT), link (what that
    rate carries and which of core or wire limits a stream), wall_seconds, model_hash, and with
    `weights` also matches_reference: whether the checksum of the tokens equals that
    of tritgpt.ml.model.generate's.
    """
    from ..ml.model import temperature_to_tinv

    tinv = temperature_to_tinv(temperature)
    with Board(port, baud, timeout=timeout, token_timeout=max(30.0, n / 50)) as board:
        if weights is not None:
            board.check_weights(weights)
        result = board.bench(n, prompt=prompt, temperature=temperature, seed=seed)
    if clock_hz is not None:
        result["clock_hz"] = clock_hz
    result["core_tokens_per_second"] = n * result["clock_hz"] / result["cycles"] if result["cycles"] else 0.0
    result["link"] = P.stream_rate(result["core_tokens_per_second"], result["baud"])
    result["port"] = port
    if weights is not None:
        from ..ml.export import load_package
        from ..ml.model import encode, generate

        p = load_package(Path(weights))
        toks = generate(p, encode(prompt)[-p.cfg.context:], n, tinv=tinv, seed=seed)
        result["matches_reference"] = P.crc16(toks) == result["token_crc"]
    return result
