"""Writing and fingerprinting the build's files.

Every output of a build or a swap is written through `atomic_write`: a temporary file
in the same directory, then a rename, so a reader never sees half a file. The
temporary file comes from `tempfile.mkstemp`, which creates it mode 0600 (private) on
purpose; renamed as it is, the output would keep that mode while every other output
is 0644. `atomic_write` therefore gives it the mode an ordinary `open(path, "w")`
would (0666 less the umask), or the mode of the file it replaces.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from pathlib import Path


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def atomic_write(path: Path, data: bytes | str) -> None:
    """Write a file through a temporary file in the same directory and a rename."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        mode = path.stat().st_mode & 0o777
    except OSError:
        mode = 0o666 & ~_umask()
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data.encode() if isinstance(data, str) else data)
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_json(path: Path, obj, indent: int = 2) -> None:
    atomic_write(path, json.dumps(obj, indent=indent) + "\n")


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()
