"""Training and evaluation text: reading, checking, and the Tiny Shakespeare download.

A corpus is a text file of ASCII characters (the model's vocabulary is the 128
ASCII codes). Every command reads it through read_corpus, which refuses what
cannot be used (a directory, an empty or binary file, too little text) with a
message naming the file and the fix.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np

SHAKESPEARE_URL = "https://raw.githubusercontent.com/karpathy/char-rnn/master/data/tinyshakespeare/input.txt"
SHAKESPEARE_SHA256 = "86c4e6aa9db7c042ec79f339dcb96d42b0075e16b8fc2e86bf0ca57e2dc565ed"  # 1,115,394 bytes
# a NUL, or more than this share of control bytes (other than tab, newline, carriage
# return, form feed): not text. Bytes >= 128 (UTF-8 text) are allowed and become '?'.
MAX_CONTROL_SHARE = 0.01


class CorpusError(ValueError):
    """A corpus that cannot be used; the message names the file and the fix."""


def read_corpus(path: Path, min_chars: int = 2) -> tuple[np.ndarray, int]:
    """The corpus as int64 tokens (non-ASCII bytes become '?') and how many were replaced."""
    path = Path(path)
    if not path.exists():
        raise CorpusError(f"corpus {path} does not exist; give a text file with --corpus")
    if not path.is_file():
        raise CorpusError(f"corpus {path} is not a file; give a text file with --corpus")
    try:
        raw = np.frombuffer(path.read_bytes(), dtype=np.uint8)
    except OSError as exc:
        raise CorpusError(f"cannot read corpus {path}: {exc.strerror or exc}") from None
    if raw.size == 0:
        raise CorpusError(f"corpus {path} is empty; give a text file with --corpus")
    control = ((raw < 32) & ~np.isin(raw, (9, 10, 12, 13))) | (raw == 127)
    if (raw == 0).any() or control.mean() > MAX_CONTROL_SHARE:
        raise CorpusError(f"corpus {path} is not text ({control.mean():.1%} of its bytes are control codes); "
                          f"give a plain ASCII text file with --corpus")
    if raw.size < min_chars:
        raise CorpusError(f"corpus {path} has {raw.size:,} characters, too few: this model needs at least "
                          f"{min_chars:,} (its last 10% validates, in windows of the model's context)")
    bad = raw >= 128
    return np.where(bad, ord("?"), raw).astype(np.int64), int(bad.sum())


def min_chars_for(context: int) -> int:
    """Fewest characters for a 90/10 split whose validation part holds one window (+1 target)."""
    return 10 * (context + 2)


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def shakespeare(cache_dir: Path | None = None, log=print) -> Path:
    """Tiny Shakespeare, downloaded once into ~/.cache/tritgpt and checked against its sha256."""
    cache = Path(cache_dir or Path.home() / ".cache" / "tritgpt") / "tinyshakespeare.txt"
    if cache.is_file() and _sha256(cache.read_bytes()) == SHAKESPEARE_SHA256:
        return cache
    import urllib.request

    log(f"downloading Tiny Shakespeare from {SHAKESPEARE_URL}")
    try:
        with urllib.request.urlopen(SHAKESPEARE_URL, timeout=30) as r:
            data = r.read()
    except OSError as exc:
        raise CorpusError(f"could not download Tiny Shakespeare ({exc}); pass --corpus FILE") from None
    if _sha256(data) != SHAKESPEARE_SHA256:
        raise CorpusError(f"the download from {SHAKESPEARE_URL} does not have Tiny Shakespeare's sha256 "
                          f"({SHAKESPEARE_SHA256[:16]}...); pass --corpus FILE")
    try:
        cache.parent.mkdir(parents=True, exist_ok=True)
        tmp = cache.with_suffix(".part")
        tmp.write_bytes(data)
        tmp.replace(cache)
    except OSError as exc:
        raise CorpusError(f"cannot write {cache} ({exc.strerror or exc}); pass --corpus FILE") from None
    return cache
