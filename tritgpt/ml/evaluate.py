"""Validation loss of the integer model (numpy only)."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from .model import EXP_BITS, IntParams, forward


def load_text_tokens(path: Path, min_chars: int = 2) -> np.ndarray:
    from .corpus import read_corpus

    return read_corpus(path, min_chars)[0]


def validation_loss(p: IntParams, corpus: Path, batch: int = 64) -> dict:
    """Cross-entropy (nats/char) of softmax(z / 16) on the last 10% of the corpus.

    The validation text is cut into non-overlapping windows of `context` tokens, each
    predicted from position 0 (as nanoGPT's estimate_loss does with random windows).
    """
    from .corpus import min_chars_for

    if batch < 1:
        raise ValueError(f"batch must be >= 1 (got {batch})")
    data = load_text_tokens(corpus, min_chars_for(p.cfg.context))
    val = data[int(0.9 * len(data)):]
    t = p.cfg.context
    n_win = (len(val) - 1) // t
    if n_win < 1:
        raise ValueError("corpus too short for a validation window")
    x = np.stack([val[i * t: (i + 1) * t] for i in range(n_win)])
    y = np.stack([val[i * t + 1: (i + 1) * t + 1] for i in range(n_win)])
    total, count = 0.0, 0
    for i in range(0, n_win, batch):
        z = forward(p, x[i: i + batch]).astype(np.float64) / 2**EXP_BITS
        z -= z.max(axis=-1, keepdims=True)
        logp = z - np.log(np.exp(z).sum(axis=-1, keepdims=True))
        yy = y[i: i + batch]
        total -= float(np.take_along_axis(logp, yy[..., None], axis=-1).sum())
        count += yy.size
    loss = total / count
    return {"loss": loss, "bits_per_char": loss / math.log(2), "chars": count, "windows": n_win}
