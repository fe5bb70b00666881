"""Model commands: train, export, eval, generate (tritgpt.ml: model, train, export, evaluate)."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Annotated, Optional

import typer

from ..errors import UserError
from .options import CORPUS, JSON, PROMPT, SEED, TEMPERATURE, TOKENS, WEIGHTS, weights_or_default
from .output import err


def load_weights(path: Optional[Path]):
    """The weights package at path (default: weights/default or the shipped one), sha256-checked."""
    from ..ml.export import WeightsError, load_package

    try:
        return load_package(weights_or_default(path))
    except WeightsError as exc:
        raise UserError(str(exc)) from None


def _need_torch():
    try:
        import torch  # noqa: F401
    except ImportError:
        raise UserError("training needs torch: pip install 'tritgpt[train]' (CPU build: pip install torch==2.13.0)") from None


def resolve_corpus(corpus: Optional[Path]) -> Path:
    """The corpus path as given, else Tiny Shakespeare (downloaded once, sha256-checked)."""
    from ..ml.corpus import CorpusError, read_corpus, shakespeare

    try:
        if corpus is not None:
            read_corpus(corpus)          # exists, is a file, is text
            return Path(corpus)
        return shakespeare(log=lambda m: err.print(m, markup=False, highlight=False))
    except CorpusError as exc:
        raise UserError(str(exc)) from None


def _int_at_least(option: str, low: int):
    def check(value: int) -> int:
        if value < low:
            raise UserError(f"{option} must be >= {low} (got {value})")
        return value
    return check


def _positive_float(option: str):
    def check(value: float) -> float:
        import math

        if not (math.isfinite(value) and value > 0):
            raise UserError(f"{option} must be a finite number > 0 (got {value})")
        return value
    return check


def train(
    corpus: CORPUS = None,
    out: Annotated[Path, typer.Option(help="Run directory: ckpt.pt, loss.png, loss.json.")] = Path("runs/default"),
    config: Annotated[str, typer.Option(help="Model config name or JSON file.")] = "default",
    float_steps: Annotated[int, typer.Option(callback=_int_at_least("--float-steps", 0),
                                             help="Steps of ternary QAT with float activations.")] = 2000,
    hw_steps: Annotated[int, typer.Option(callback=_int_at_least("--hw-steps", 0),
                                          help="Steps in hardware mode (exact integer forward).")] = 150,
    batch: Annotated[int, typer.Option(callback=_int_at_least("--batch", 1), help="Windows per step.")] = 64,
    lr: Annotated[float, typer.Option(callback=_positive_float("--lr"), help="Learning rate (float phase).")] = 3e-3,
    seed: Annotated[int, typer.Option(callback=_int_at_least("--seed", 0), help="Seed of weights and batches.")] = 1337,
    eval_every: Annotated[int, typer.Option(callback=_int_at_least("--eval-every", 1),
                                            help="Steps between validation estimates.")] = 100,
    threads: Annotated[int, typer.Option(callback=_int_at_least("--threads", 1),
                                         help="torch threads; 1 is fastest for this small model on a busy machine.")] = 1,
    fresh: Annotated[bool, typer.Option("--fresh", help="Ignore an existing checkpoint in --out (it is kept as ckpt.pt.old).")] = False,
):
    """Train a ternary GPT (needs the train extra); resumes from OUT/ckpt.pt."""
    _need_torch()
    from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn

    from ..ml.corpus import CorpusError, min_chars_for, read_corpus
    from ..ml.model import Config
    from ..ml.train import train as run_train

    if float_steps + hw_steps < 1:
        raise UserError("--float-steps plus --hw-steps must be at least 1")
    try:
        cfg = Config.load(config)
    except (FileNotFoundError, ValueError) as exc:
        raise UserError(str(exc)) from None
    if out.exists() and not out.is_dir():
        raise UserError(f"--out {out} is a file, not a run directory; give a directory (it is created)")
    path = resolve_corpus(corpus)
    try:
        read_corpus(path, min_chars_for(cfg.context))
    except CorpusError as exc:
        raise UserError(str(exc)) from None
    ckpt = Path(out) / "ckpt.pt"
    if fresh and ckpt.exists():
        ckpt.replace(ckpt.with_suffix(".pt.old"))
    # the bar appears with the first step, so an error before it leaves no half-drawn line
    progress = Progress(TextColumn("[bold]{task.fields[phase]}"), BarColumn(), TextColumn("{task.completed}/{task.total}"),
                        TextColumn("loss {task.fields[loss]:.3f}"), TextColumn("{task.fields[tok_s]:,.0f} tok/s"),
                        TimeRemainingColumn(), console=err)
    task = None

    def on_progress(step, total, loss, tok_s, phase):
        nonlocal task
        if task is None:
            progress.start()
            task = progress.add_task("train", total=total, phase=phase, loss=loss, tok_s=tok_s)
        progress.update(task, completed=step, loss=loss, tok_s=tok_s, phase=phase)

    try:
        result = run_train(path, out, cfg, float_steps=float_steps, hw_steps=hw_steps, batch=batch, lr=lr,
                           seed=seed, eval_every=eval_every, threads=threads, progress=on_progress,
                           log=lambda m: progress.console.print(m, markup=False, highlight=False))
    except ValueError as exc:
        raise UserError(str(exc)) from None
    finally:
        progress.stop()
    err.print(f"checkpoint: {result['checkpoint']}  loss curve: {Path(out) / 'loss.png'}  "
              f"({result['seconds'] / 60:.1f} min)", markup=False, highlight=False)
    err.print(f"next: tritgpt export {result['checkpoint']} -o weights/NAME", markup=False, highlight=False)


def export(
    checkpoint: Annotated[Path, typer.Argument(help="ckpt.pt from `tritgpt train`.")],
    out: Annotated[Path, typer.Option("-o", "--out", help="Weights package directory to write.")],
    force: Annotated[bool, typer.Option("--force", help="Replace an existing package.")] = False,
):
    """Export a checkpoint to a weights package (BRAM init images + manifest)."""
    _need_torch()
    from ..ml.export import WeightsError, write_package
    from ..ml.train import checkpoint_summary, int_params_from_checkpoint

    if out.exists() and not out.is_dir():
        raise UserError(f"-o {out} is a file; give a directory for the weights package (it is created)")
    if checkpoint.is_dir():
        raise UserError(f"checkpoint {checkpoint} is a directory; give its ckpt.pt")
    try:
        p = int_params_from_checkpoint(checkpoint)
        metrics = {"training": checkpoint_summary(checkpoint)}
    except (FileNotFoundError, ValueError, KeyError) as exc:
        raise UserError(str(exc) if not isinstance(exc, KeyError)
                        else f"checkpoint {checkpoint} lacks {exc}; it is not from this tritgpt's `train`") from None
    try:
        write_package(p, out, source=Path(checkpoint).name, metrics=metrics, force=force)
    except WeightsError as exc:
        raise UserError(str(exc)) from None
    except OSError as exc:
        raise UserError(f"cannot write {out}: {exc.strerror or exc}") from None
    err.print(f"wrote {out} (model hash {p.digest()[:16]}, {p.cfg.ternary_weights:,} ternary weights)",
              markup=False, highlight=False)


def eval_cmd(
    weights: Annotated[Optional[Path], typer.Argument(help="Weights package (default weights/default).")] = None,
    corpus: CORPUS = None,
    json_out: JSON = False,
    record: Annotated[bool, typer.Option("--record", help="Store the result in the package's manifest.json.")] = False,
):
    """Validation loss of the integer model (nats/char) on the last 10% of the corpus."""
    from ..ml.corpus import CorpusError
    from ..ml.evaluate import validation_loss
    from ..ml.export import record_metric

    p = load_weights(weights)
    path = resolve_corpus(corpus)
    t0 = time.time()
    try:
        res = validation_loss(p, path)
    except CorpusError as exc:
        raise UserError(str(exc)) from None
    res["seconds"] = round(time.time() - t0, 1)
    if record:
        record_metric(weights_or_default(weights), "eval", res)
    if json_out:
        print(json.dumps(res))
    else:
        print(f"validation loss (integer model): {res['loss']:.4f} nats/char "
              f"({res['bits_per_char']:.3f} bits/char) over {res['chars']:,} chars")


def generate(
    prompt: PROMPT = "ROMEO:",
    n: TOKENS = 200,
    temperature: TEMPERATURE = 0.0,
    seed: SEED = 1,
    weights: WEIGHTS = None,
):
    """Generate text with the integer reference model (what the FPGA computes)."""
    from ..ml.model import encode, generate as gen, temperature_to_tinv

    p = load_weights(weights)
    tinv = temperature_to_tinv(temperature)
    sys.stdout.write(prompt)
    sys.stdout.flush()

    def show(tok):
        sys.stdout.write(chr(tok))
        sys.stdout.flush()

    gen(p, encode(prompt), n, tinv=tinv, seed=seed, on_token=show)
    sys.stdout.write("\n")
