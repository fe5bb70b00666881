"""Model commands: train, export, eval, generate."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Optional

import numpy as np
import typer
from rich.console import Console

from ..errors import UserError
from ..paths import default_weights

console = Console(stderr=True)

SHAKESPEARE_URL = "https://raw.githubusercontent.com/karpathy/char-rnn/master/data/tinyshakespeare/input.txt"


def load_weights(path: Optional[Path]):
    from ..ml.export import WeightsError, load_package

    path = Path(path) if path else default_weights()
    try:
        return load_package(path)
    except WeightsError as exc:
        raise UserError(str(exc)) from None


def _need_torch():
    try:
        import torch  # noqa: F401
    except ImportError:
        raise UserError("training needs torch: pip install 'tritgpt[train]' (CPU build: pip install torch==2.13.0)") from None


def resolve_corpus(corpus: Optional[Path]) -> Path:
    """The corpus path; Tiny Shakespeare is downloaded once into ~/.cache/tritgpt if none is given."""
    if corpus is not None:
        if not Path(corpus).is_file():
            raise UserError(f"corpus {corpus} does not exist")
        return Path(corpus)
    cache = Path.home() / ".cache" / "tritgpt" / "tinyshakespeare.txt"
    if cache.exists():
        return cache
    import urllib.request

    console.print(f"downloading Tiny Shakespeare from {SHAKESPEARE_URL}")
    cache.parent.mkdir(parents=True, exist_ok=True)
    try:
        with urllib.request.urlopen(SHAKESPEARE_URL, timeout=30) as r:
            data = r.read()
    except OSError as exc:
        raise UserError(f"could not download Tiny Shakespeare ({exc}); pass --corpus FILE") from None
    tmp = cache.with_suffix(".part")
    tmp.write_bytes(data)
    tmp.replace(cache)
    return cache


def register(app: typer.Typer) -> None:
    @app.command()
    def train(
        corpus: Optional[Path] = typer.Option(None, help="Training text (ASCII). Default: Tiny Shakespeare, downloaded once."),
        out: Path = typer.Option(Path("runs/default"), help="Run directory: ckpt.pt, loss.png, loss.json."),
        config: str = typer.Option("default", help="Model config name or JSON file."),
        float_steps: int = typer.Option(2000, help="Steps of ternary QAT with float activations."),
        hw_steps: int = typer.Option(150, help="Steps in hardware mode (exact integer forward)."),
        batch: int = typer.Option(64),
        lr: float = typer.Option(3e-3),
        seed: int = typer.Option(1337),
        eval_every: int = typer.Option(100),
        threads: int = typer.Option(1, help="torch threads; 1 is fastest for this small model on a busy machine."),
        fresh: bool = typer.Option(False, "--fresh", help="Ignore an existing checkpoint in --out (it is kept as ckpt.pt.old)."),
    ):
        """Train a ternary GPT (needs the train extra); resumes from OUT/ckpt.pt."""
        _need_torch()
        from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn

        from ..ml.model import Config
        from ..ml.train import train as run_train

        try:
            cfg = Config.load(config)
        except (FileNotFoundError, ValueError) as exc:
            raise UserError(str(exc)) from None
        path = resolve_corpus(corpus)
        ckpt = Path(out) / "ckpt.pt"
        if fresh and ckpt.exists():
            ckpt.replace(ckpt.with_suffix(".pt.old"))
        with Progress(TextColumn("[bold]{task.fields[phase]}"), BarColumn(), TextColumn("{task.completed}/{task.total}"),
                      TextColumn("loss {task.fields[loss]:.3f}"), TextColumn("{task.fields[tok_s]:,.0f} tok/s"),
                      TimeRemainingColumn(), console=console) as progress:
            task = progress.add_task("train", total=float_steps + hw_steps, phase="float", loss=0.0, tok_s=0.0)

            def on_progress(step, total, loss, tok_s, phase):
                progress.update(task, completed=step, loss=loss, tok_s=tok_s, phase=phase)

            try:
                result = run_train(path, out, cfg, float_steps=float_steps, hw_steps=hw_steps, batch=batch, lr=lr,
                                   seed=seed, eval_every=eval_every, threads=threads, progress=on_progress, log=progress.console.print)
            except ValueError as exc:
                raise UserError(str(exc)) from None
        console.print(f"checkpoint: {result['checkpoint']}  loss curve: {Path(out) / 'loss.png'}  "
                      f"({result['seconds'] / 60:.1f} min)")
        console.print(f"next: tritgpt export {result['checkpoint']} -o weights/NAME")

    @app.command()
    def export(
        checkpoint: Path = typer.Argument(..., help="ckpt.pt from `tritgpt train`."),
        out: Path = typer.Option(..., "-o", "--out", help="Weights package directory to write."),
        force: bool = typer.Option(False, "--force", help="Replace an existing package."),
    ):
        """Export a checkpoint to a weights package (BRAM init images + manifest)."""
        _need_torch()
        from ..ml.export import WeightsError, write_package
        from ..ml.train import checkpoint_summary, int_params_from_checkpoint

        try:
            p = int_params_from_checkpoint(checkpoint)
            metrics = {"training": checkpoint_summary(checkpoint)}
        except (FileNotFoundError, ValueError) as exc:
            raise UserError(str(exc)) from None
        try:
            write_package(p, out, source=Path(checkpoint).name, metrics=metrics, force=force)
        except WeightsError as exc:
            raise UserError(str(exc)) from None
        console.print(f"wrote {out} (model hash {p.digest()[:16]}, {p.cfg.ternary_weights:,} ternary weights)")

    @app.command("eval")
    def eval_cmd(
        weights: Optional[Path] = typer.Argument(None, help="Weights package (default weights/default)."),
        corpus: Optional[Path] = typer.Option(None, help="Text to evaluate on (default Tiny Shakespeare)."),
        json_out: bool = typer.Option(False, "--json"),
        record: bool = typer.Option(False, "--record", help="Store the result in the package's manifest.json."),
    ):
        """Validation loss of the integer model (nats/char) on the last 10% of the corpus."""
        from ..ml.evaluate import validation_loss
        from ..ml.export import record_metric

        p = load_weights(weights)
        path = resolve_corpus(corpus)
        t0 = time.time()
        res = validation_loss(p, path)
        res["seconds"] = round(time.time() - t0, 1)
        if record:
            record_metric(Path(weights) if weights else default_weights(), "eval", res)
        if json_out:
            print(json.dumps(res))
        else:
            print(f"validation loss (integer model): {res['loss']:.4f} nats/char "
                  f"({res['bits_per_char']:.3f} bits/char) over {res['chars']:,} chars")

    @app.command()
    def generate(
        prompt: str = typer.Option("ROMEO:", help="Prompt text (ASCII)."),
        n: int = typer.Option(200, "-n", help="Tokens to generate."),
        temperature: float = typer.Option(0.0, help="0 = greedy (argmax)."),
        seed: int = typer.Option(1, help="PRNG seed for sampling."),
        weights: Optional[Path] = typer.Option(None, help="Weights package (default weights/default)."),
    ):
        """Generate text with the integer reference model (what the FPGA computes)."""
        from ..ml.model import encode, generate as gen, temperature_to_tinv

        p = load_weights(weights)
        if n < 0:
            raise UserError("-n must be >= 0")
        try:
            tinv = temperature_to_tinv(temperature)
        except ValueError as exc:
            raise UserError(str(exc)) from None
        sys.stdout.write(prompt)
        sys.stdout.flush()

        def show(tok):
            sys.stdout.write(chr(tok))
            sys.stdout.flush()

        gen(p, encode(prompt), n, tinv=tinv, seed=seed, on_token=show)
        sys.stdout.write("\n")
