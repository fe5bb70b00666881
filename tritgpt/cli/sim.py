"""Simulation commands: `tritgpt sim` and `tritgpt bench --sim` (also `bench --port`).

Both run the Verilator model of rtl/tritgpt_core (tritgpt.sim.verilator): the first
run after an RTL change builds it (a minute or two), later runs reuse the build.
A simulation has no clock of its own: tokens/s figures are at the design clock of a
board (its board file's design_mhz; arty-a7-35t unless --clock-mhz says otherwise).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.table import Table

from ..errors import UserError
from ..fpga.boards import REFERENCE_BOARD as CLOCK_REFERENCE_BOARD
from ..paths import build_root
from .options import (BAUD, CLOCK_MHZ, JSON, LINK_BUILD, PORT, PROMPT, SEED, SERIAL_TIMEOUT, TEMPERATURE, TOKENS,
                      WEIGHTS, link_baud, read_build_report, weights_or_default)
from .output import err, out

BENCH_TOKENS = 1000  # past the context: the sustained rate of a stream


def _package(weights: Optional[Path]):
    from ..ml import export

    path = weights_or_default(weights)
    try:
        return path, export.load_package(path)
    except export.WeightsError as exc:
        raise UserError(str(exc)) from None


def design_clock(clock_mhz: Optional[float]) -> tuple[float, str]:
    """(Hz, words) of the clock a tokens/s figure assumes."""
    import math

    if clock_mhz is not None:
        if not (math.isfinite(clock_mhz) and 0 < clock_mhz <= 1000):
            raise UserError(f"--clock-mhz must be in (0, 1000] (got {clock_mhz})")
        return clock_mhz * 1e6, f"{clock_mhz:g} MHz"
    from ..fpga.boards import get_board

    board = get_board(CLOCK_REFERENCE_BOARD)
    return board.design_mhz * 1e6, f"{board.design_mhz:g} MHz ({board.name} design clock)"


def _sim(cfg, **kw):
    from ..sim.verilator import CoreSim

    with err.status(f"building / starting the Verilator model of tritgpt_core ('{cfg.name}') ..."):
        return CoreSim(cfg, **kw)


def run_bench(weights: Path, n: int = BENCH_TOKENS, synth: bool = True, clock_hz: Optional[float] = None,
              baud: Optional[int] = None) -> dict:
    """cycles/token of the core (greedy, 1-token prompt), tokens/s at clock_hz, what a UART at
    `baud` (default the reference board's) carries and which limits a stream, yosys resources."""
    from ..link.protocol import stream_rate
    from ..sim.verilator import bench_core

    weights, p = _package(weights)
    with err.status(f"Verilator model of tritgpt_core ('{p.cfg.name}'): building (once) and running ..."):
        rep = bench_core(weights, n, params=p)
    if clock_hz is None:
        clock_hz = design_clock(None)[0]
    rep.pop("tokens_per_second_at_100mhz", None)   # replaced by the figure at the stated clock
    rep["clock_hz"] = clock_hz
    rep["tokens_per_second_at_clock"] = clock_hz * rep["tokens"] / rep["total_cycles"]
    if baud is None:
        from ..fpga.boards import get_board

        baud = get_board(CLOCK_REFERENCE_BOARD).baud
    rep["link"] = stream_rate(rep["tokens_per_second_at_clock"], baud)
    if synth:
        from ..fpga.synth import synthesize

        with err.status("yosys synth_xilinx of tritgpt_core (minutes the first time, cached after) ..."):
            s = synthesize(weights)
        rep["resources"] = {"used": s["used"], "utilization": s["utilization"], "cells": {
            k: v for k, v in s["cells"].items() if k.startswith(("RAMB", "DSP", "CARRY", "LUT", "RAM"))},
            "fits_xc7a35t_budget": s["fits"], "problems": s["problems"]}
    return rep


def sim(
    weights: WEIGHTS = None,
    prompt: PROMPT = "ROMEO:",
    n: TOKENS = 200,
    temperature: TEMPERATURE = 0.0,
    seed: SEED = 1,
    trace: Annotated[Optional[Path], typer.Option(help="Write an FST waveform of the run to this file.")] = None,
    clock_mhz: CLOCK_MHZ = None,
):
    """Generate text with the Verilator model of the RTL core; check it against the reference."""
    from ..ml.model import decode, encode, generate, temperature_to_tinv

    clock_hz, clock_words = design_clock(clock_mhz)
    weights, p = _package(weights)
    tinv = temperature_to_tinv(temperature)
    toks = encode(prompt)
    if trace is not None:
        trace = trace.resolve()
        if not trace.parent.is_dir():
            raise UserError(f"cannot write {trace}: {trace.parent} is not a directory")
        if trace.is_dir():
            raise UserError(f"--trace {trace} is a directory; give a file name such as run.fst")
    s = _sim(p.cfg, dump=True, capture=False, trace=trace)
    try:
        s.load(weights)
        r = s.run(toks[-p.cfg.context:] if toks else toks, n, tinv, seed)
    finally:
        s.close()
    out.print(prompt + decode(r.tokens), markup=False, highlight=False, soft_wrap=True)
    ref = generate(p, toks, n, tinv, seed)
    cyc = r.cycles_per_token
    if cyc:
        err.print(f"{len(cyc)} tokens from a {len(toks[-p.cfg.context:])}-token prompt: cycles/token first "
                  f"{cyc[0]} (prompt and first token), average {sum(cyc) / len(cyc):.1f} over the {len(cyc)}-token "
                  f"run = {clock_hz * len(cyc) / r.cycles_at[-1]:,.0f} tokens/s at {clock_words}; the Verilator "
                  f"model ran at {len(cyc) / max(r.wall_s, 1e-9):,.0f} tokens/s", markup=False, highlight=False)
    if trace is not None:
        err.print(f"waveform: {trace}", markup=False, highlight=False)
    if r.tokens != ref:
        k = next((i for i, (a, b) in enumerate(zip(r.tokens, ref)) if a != b), min(len(r.tokens), len(ref)))
        raise UserError(f"the RTL differs from the reference model at token {k}: this is a bug in rtl/, "
                        f"please report it with the weights package and the command line")
    err.print("[green]matches the reference model (tritgpt.ml.model.generate) token for token[/]")


def bench(
    sim: Annotated[bool, typer.Option("--sim", help="Benchmark the Verilator model of the core.")] = False,
    port: PORT = None,
    weights: WEIGHTS = None,
    n: TOKENS = None,
    synth: Annotated[bool, typer.Option("--synth/--no-synth", help="Include yosys resource counts (--sim).")] = True,
    json_out: JSON = False,
    baud: BAUD = None,
    build: LINK_BUILD = None,
    timeout: SERIAL_TIMEOUT = 2.0,
    clock_mhz: CLOCK_MHZ = None,
):
    """Cycles/token of the core: simulated (--sim) or measured on a board (--port).

    -n defaults to 1000 tokens (--sim reports the first token, the first 128 and all 1000).
    """
    if sim == (port is not None):
        raise UserError("give exactly one of --sim (Verilator model) or --port PORT (a board)")
    if port is not None:
        from ..link.bench import bench_port

        import math
        if clock_mhz is not None and not (math.isfinite(clock_mhz) and 0 < clock_mhz <= 1000):
            raise UserError(f"--clock-mhz must be in (0, 1000] (got {clock_mhz})")
        # with --weights, the board must run that package and the tokens are checked against it
        if weights is not None:
            _package(weights)
        rep = bench_port(port, n or 1000, baud=link_baud(baud, build), timeout=timeout,
                         clock_hz=clock_mhz * 1e6 if clock_mhz else None, weights=weights)
        if json_out:
            print(json.dumps(rep, indent=2, default=str))
            return
        t = Table(title=f"tritgpt bench on {port}: {rep['tokens']} tokens generated on the board, not streamed")
        t.add_column("")
        t.add_column("value", justify="right")
        labels = {"cycles_per_token": f"cycles/token, average over the {rep['tokens']}-token run",
                  "core_tokens_per_second": f"tokens/s at {rep['clock_hz'] / 1e6:g} MHz (board clock from IDENT)"
                  if not clock_mhz else f"tokens/s at {clock_mhz:g} MHz"}
        for k, v in rep.items():
            if k not in ("tokens", "link"):
                t.add_row(labels.get(k, k), f"{v:,.1f}" if isinstance(v, float) else str(v))
        link = rep["link"]
        t.add_row(f"UART {link['baud']:,} baud (IDENT): characters/s the wire carries",
                  f"{link['wire_chars_per_s']:,.0f}")
        t.add_row("a stream is limited by", f"the {link['limit']} ({link['stream_chars_per_s']:,.0f} characters/s)")
        out.print(t)
        return
    n = n or BENCH_TOKENS
    clock_hz, clock_words = design_clock(clock_mhz)
    rep = run_bench(weights, n, synth, clock_hz, link_baud(baud, build))
    if build is not None:
        # the build's routed Fmax: what the core would make clocked at it
        fmax = read_build_report(build).get("fmax_mhz")
        if isinstance(fmax, (int, float)) and fmax > 0:
            rep["fmax_mhz"] = fmax
            rep["tokens_per_second_at_fmax"] = fmax * 1e6 * rep["tokens"] / rep["total_cycles"]
    dest = build_root() / "sim" / "bench.json"
    dest.parent.mkdir(parents=True, exist_ok=True)
    dest.write_text(json.dumps(rep, indent=2) + "\n")
    if json_out:
        print(json.dumps(rep, indent=2))
        return
    t = Table(title=f"tritgpt_core ('{rep['config']}'), a {n}-token greedy run from a 1-token prompt")
    t.add_column("")
    t.add_column("value", justify="right")
    t.add_row("cycles, first token", f"{rep['first_token_cycles']}")
    for key, val in rep.items():
        if key.startswith("cycles_per_token_"):          # cycles_per_token_first_128, ..._sustained_1000
            run = key[len("cycles_per_token_"):].split("_")
            t.add_row(f"cycles/token, {' '.join(run[:-1])} {run[-1]} tokens", f"{val:.1f}")
    t.add_row("cycles, last token", f"{rep['last_token_cycles']}")
    t.add_row(f"tokens/s at {clock_words}", f"{rep['tokens_per_second_at_clock']:,.0f}")
    if "fmax_mhz" in rep:
        t.add_row(f"tokens/s at Fmax {rep['fmax_mhz']:.2f} MHz ({build}'s report)",
                  f"{rep['tokens_per_second_at_fmax']:,.0f}")
    link = rep["link"]
    t.add_row(f"UART {link['baud']:,} baud: characters/s the wire carries", f"{link['wire_chars_per_s']:,.0f}")
    t.add_row(f"a stream at {clock_words} is limited by", f"the {link['limit']} "
              f"({link['stream_chars_per_s']:,.0f} characters/s)")
    t.add_row("Verilator model, tokens/s (wall clock)", f"{rep['sim_tokens_per_second']:,.1f}")
    t.add_row("matches the reference", "yes" if rep["matches_reference"] else "[red]NO[/]")
    if "resources" in rep:
        u, f = rep["resources"]["used"], rep["resources"]["utilization"]
        t.add_row("xc7a35t LUT", f"{u['LUT']:,} ({f['LUT']:.1%})")
        t.add_row("xc7a35t FF", f"{u['FF']:,} ({f['FF']:.1%})")
        t.add_row("xc7a35t BRAM (RAMB36)", f"{u['BRAM36']:g} ({f['BRAM36']:.1%})")
        t.add_row("xc7a35t DSP48E1", f"{u['DSP']} ({f['DSP']:.1%})")
        t.add_row("within budget (LUT<=80%, BRAM/DSP<=90%)",
                  "yes" if rep["resources"]["fits_xc7a35t_budget"] else "[red]no[/]")
    out.print(t)
    err.print(f"written to {dest}", markup=False, highlight=False)
