"""Weights packages for the RTL tests: random, zero-row and calibrated (shipped-like)."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np

from tritgpt.ml import export
from tritgpt.ml.model import Config, IntParams

ROOT = Path(__file__).resolve().parent.parent


def missing() -> str | None:
    """What keeps Verilator models from being built here (None: nothing): the real
    missing piece, so a skip says what to install."""
    from tritgpt.errors import UserError
    from tritgpt.sim.verilator import verilator_command

    try:
        verilator_command()
    except UserError as exc:
        return str(exc)
    absent = [tool for tool in ("make", "c++", "perl") if shutil.which(tool) is None]
    if absent:
        return (f"{' and '.join(absent)} not found: Verilator needs them to build models "
                f"(Debian/Ubuntu: sudo apt install make g++ perl)")
    return None


def available() -> bool:
    return missing() is None


def zero_row_params(cfg: Config, seed: int) -> IntParams:
    """Random weights with all-zero rows and matrices and extreme constants."""
    p = IntParams.random(cfg, seed)
    rng = np.random.default_rng(seed)
    for L in p.layers:
        for m in ("wq", "wk", "wv", "wo", "w1", "w2"):
            rows = rng.random(L[m].shape[0]) < 0.25
            L[m][rows] = 0
        L["wv"][:] = 0                                 # v = 0: attention output 0
        L["g2"][: cfg.d_model // 4] = 0
    p.wlm[::3] = 0
    p.tok_emb[5] = 0
    p.requant["0.wq"] = (2**15 - 1, 1)                  # saturate q
    p.requant["0.wk"] = (1, 47)                          # k = 0
    p.requant["lm"] = (2**15 - 1, 8)
    p.att_shift[0] = 0
    p.check()
    return p


def calibrated_params(cfg: Config, seed: int) -> IntParams:
    """An untrained float model calibrated like training does: realistic constants."""
    try:
        import torch
        from tritgpt.ml.train import FloatGPT, HwGPT, calibrate
    except Exception:                                   # pragma: no cover - no torch
        return IntParams.random(cfg, seed)
    torch.manual_seed(seed)
    fm = FloatGPT(cfg)
    batch = torch.randint(32, 127, (8, cfg.context))
    return HwGPT(cfg, calibrate(fm, batch)).to_int_params()


def shipped_or_calibrated(dest: Path):
    """weights/default when it is there (the shipped model), else a calibrated package."""
    shipped = ROOT / "weights" / "default"
    if (shipped / "manifest.json").exists():
        try:
            return shipped, export.load_package(shipped)
        except export.WeightsError:
            pass
    p = calibrated_params(Config.load("default"), 5)
    return export.write_package(p, dest), p
