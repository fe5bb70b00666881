"""Validation loss of the integer model (numpy only)."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from .model import EXP_BITS, IntParams, stream_logits


def load_text_tokens(path: Path, min_chars: int = 2) -> np.ndarray:
    from .corpus import read_corpus

    return read_corpus(path, min_chars)[0]


def validation_loss(p: IntParams, corpus: Path, chunk: int = 512) -> dict:
    """Cross-entropy (nats/char) of softmax(z / 16) on the last 10% of the corpus.

    The validation text is one stream, each character predicted from the context the
    ring-buffer KV cache holds when generation reaches it (the last `context` tokens,
    `stream_logits` = KVCache.step over the whole text), as a user streaming it sees.
    """
    from .corpus import min_chars_for

    data = load_text_tokens(corpus, min_chars_for(p.cfg.context))
    val = data[int(0.9 * len(data)):]
    if len(val) < 2:
        raise ValueError("corpus too short for validation")
    x, y = val[:-1], val[1:]
    total = 0.0
    for i in range(0, len(x), 8192):  # logits in slices: bounded memory
        lo = max(0, i - p.cfg.n_layers * (p.cfg.context - 1))
        z = stream_logits(p, x[lo: i + 8192], chunk)[i - lo:].astype(np.float64) / 2**EXP_BITS
        z -= z.max(axis=-1, keepdims=True)
        logp = z - np.log(np.exp(z).sum(axis=-1, keepdims=True))
        total -= float(np.take_along_axis(logp, y[i: i + 8192, None], axis=-1).sum())
    loss = total / len(y)
    return {"loss": loss, "bits_per_char": loss / math.log(2), "chars": len(y), "context": p.cfg.context}
