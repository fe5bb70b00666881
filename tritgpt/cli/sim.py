"""Simulation commands: `tritgpt sim` and `tritgpt bench --sim` (also `bench --port`).

Both run the Verilator model of rtl/tritgpt_core (tritgpt.sim.verilator): the first
run after an RTL change builds it (a minute or two), later runs reuse the build.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Optional

import typer
from rich.console import Console
from rich.table import Table

from ..errors import UserError
from ..paths import build_root

console = Console(stderr=True)
out = Console()

DEFAULT_WEIGHTS = Path("weights/default")
BENCH_TOKENS = 1000  # past the context: the sustained rate of a stream


def _package(weights: Path):
    from ..ml import export

    if not (weights / "manifest.json").exists():
        hint = (" (the shipped weights are not in this checkout; make a package with "
                "`tritgpt export CHECKPOINT -o DIR` or `tritgpt train`)") if weights == DEFAULT_WEIGHTS else ""
        raise UserError(f"no weights package at {weights}{hint}")
    try:
        return export.load_package(weights)
    except export.WeightsError as exc:
        raise UserError(str(exc)) from None


def _tinv(temperature: float) -> int:
    from ..ml.model import temperature_to_tinv

    try:
        return temperature_to_tinv(temperature)
    except ValueError as exc:
        raise UserError(str(exc)) from None


def _sim(cfg, **kw):
    from ..sim.verilator import CoreSim

    with console.status(f"building / starting the Verilator model of tritgpt_core ('{cfg.name}') ..."):
        return CoreSim(cfg, **kw)


def run_bench(weights: Path, n: int = BENCH_TOKENS, synth: bool = True) -> dict:
    """cycles/token of the core (greedy, 1-token prompt), simulated speed, yosys resources."""
    from ..sim.verilator import bench_core

    p = _package(weights)
    with console.status(f"Verilator model of tritgpt_core ('{p.cfg.name}'): building (once) and running ..."):
        rep = bench_core(weights, n, params=p)
    if synth:
        from ..fpga.synth import synthesize

        with console.status("yosys synth_xilinx of tritgpt_core (minutes the first time, cached after) ..."):
            s = synthesize(weights)
        rep["resources"] = {"used": s["used"], "utilization": s["utilization"], "cells": {
            k: v for k, v in s["cells"].items() if k.startswith(("RAMB", "DSP", "CARRY", "LUT", "RAM"))},
            "fits_xc7a35t_budget": s["fits"], "problems": s["problems"]}
    return rep


def register(app: typer.Typer) -> None:
    @app.command()
    def sim(
        weights: Path = typer.Option(DEFAULT_WEIGHTS, help="Weights package directory."),
        prompt: str = typer.Option("ROMEO:", help="Prompt text (ASCII; cropped to the model's context)."),
        n: int = typer.Option(200, "-n", help="Tokens to generate."),
        temperature: float = typer.Option(0.0, help="0 = greedy, else sampling at this temperature."),
        seed: int = typer.Option(1, help="PRNG seed for sampling."),
        trace: Optional[Path] = typer.Option(None, help="Write an FST waveform of the run to this file."),
    ):
        """Generate text with the Verilator model of the RTL core; check it against the reference."""
        from ..ml.model import decode, encode, generate

        if n < 0 or n > 65535:
            raise UserError("-n must be in 0..65535 (the core's n_tokens is 16 bits)")
        p = _package(weights)
        tinv = _tinv(temperature)
        toks = encode(prompt)
        if trace is not None:
            trace = trace.resolve()
            if not trace.parent.is_dir():
                raise UserError(f"cannot write {trace}: {trace.parent} is not a directory")
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
            console.print(f"[bold]{len(cyc)}[/] tokens, cycles/token: first {cyc[0]}, "
                          f"average {sum(cyc) / len(cyc):.1f}; {100e6 * len(cyc) / r.cycles_at[-1]:,.0f} "
                          f"tokens/s at 100 MHz; simulated at {len(cyc) / max(r.wall_s, 1e-9):,.0f} tokens/s")
        if trace is not None:
            console.print(f"waveform: {trace}")
        if r.tokens != ref:
            k = next((i for i, (a, b) in enumerate(zip(r.tokens, ref)) if a != b), min(len(r.tokens), len(ref)))
            raise UserError(f"the RTL differs from the reference model at token {k}: this is a bug in rtl/, "
                            f"please report it with the weights package and the command line")
        console.print("[green]matches the reference model (tritgpt.ml.model.generate) token for token[/]")

    @app.command()
    def bench(
        sim: bool = typer.Option(False, "--sim", help="Benchmark the Verilator model of the core."),
        port: Optional[str] = typer.Option(None, help="Benchmark a board on this serial port instead."),
        weights: Path = typer.Option(DEFAULT_WEIGHTS, help="Weights package directory."),
        n: int = typer.Option(None, "-n", help=f"Tokens (default {BENCH_TOKENS})."),
        synth: bool = typer.Option(True, "--synth/--no-synth", help="Include yosys resource counts (--sim)."),
        json_out: bool = typer.Option(False, "--json", help="Print the report as JSON on stdout."),
        baud: int = typer.Option(115200, help="Baud rate of the board (--port)."),
    ):
        """Cycles/token of the core: simulated (--sim) or measured on a board (--port)."""
        if sim == (port is not None):
            raise UserError("give exactly one of --sim (Verilator model) or --port PORT (a board)")
        if port is not None:
            from .serial import bench_port

            rep = bench_port(port, n or 1000, baud=baud, weights=weights if (weights / "manifest.json").exists() else None)
            if json_out:
                print(json.dumps(rep, indent=2, default=str))
                return
            t = Table(title=f"tritgpt bench on {port}")
            t.add_column("")
            t.add_column("value", justify="right")
            for k, v in rep.items():
                if k != "tokens":
                    t.add_row(k, f"{v:,.1f}" if isinstance(v, float) else str(v))
            out.print(t)
            return
        n = n or BENCH_TOKENS
        if n < 1 or n > 65535:
            raise UserError("-n must be in 1..65535")
        rep = run_bench(weights, n, synth)
        dest = build_root() / "sim" / "bench.json"
        dest.parent.mkdir(parents=True, exist_ok=True)
        dest.write_text(json.dumps(rep, indent=2) + "\n")
        if json_out:
            print(json.dumps(rep, indent=2))
            return
        t = Table(title=f"tritgpt_core ('{rep['config']}'), {n} greedy tokens from a 1-token prompt")
        t.add_column("")
        t.add_column("value", justify="right")
        t.add_row("cycles, first token", f"{rep['first_token_cycles']}")
        for key, val in rep.items():
            if key.startswith("cycles_per_token_"):
                run = key[len("cycles_per_token_"):].split("_")
                t.add_row(f"cycles/token, {' '.join(run[:-1])} {run[-1]} tokens", f"{val:.1f}")
        t.add_row("cycles, last token", f"{rep['last_token_cycles']}")
        t.add_row("tokens/s at 100 MHz", f"{rep['tokens_per_second_at_100mhz']:,.0f}")
        t.add_row("Verilator model, tokens/s", f"{rep['sim_tokens_per_second']:,.1f}")
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
        console.print(f"written to {dest}")
