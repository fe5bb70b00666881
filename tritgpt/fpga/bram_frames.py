"""Block RAM contents in configuration frames: prjxray .frames files and bitstreams.

Where a BRAM tile's INIT/INITP bits are in the configuration memory comes from two
prjxray-db files:

- tilegrid.json: the tile's BLOCK_RAM segment, e.g. {"baseaddr": "0x00C00000",
  "frames": 128, "offset": 91, "words": 10}: frames baseaddr .. baseaddr+127,
  words 91..100 of each (block type 1, the block RAM contents, separate from the
  tile's routing/configuration frames). memmap.json records it per cell as
  "frame_bits".
- segbits_bram_{l,r}.block_ram.db: per feature bit its place in that segment, e.g.
  `BRAM_L.RAMB18_Y1.INIT_00[000] 00_176` = frame +0, bit 176 of the segment
  (word offset + 176 // 32, bit 176 % 32).

A .frames file (fasm2frames output, xc7frames2bit input) has one line per frame:
`0x00C00000 0x00000000,...` (101 words). `FramesFile` reads and writes one keeping
every line it does not change byte for byte. `bitstream_frames` reads the frames of a
.bit back with prjxray's bitread.
"""

from __future__ import annotations

import functools
import re
import subprocess
import tempfile
from pathlib import Path

import numpy as np

from .fasm_bram import HALF_INIT_BITS, HALF_INITP_BITS, Half

FRAME_WORDS = 101
# block type 1 (block RAM contents) in a frame address: bits [25:23] = 1
BRAM_FRAME_RANGE = (0x00800000, 0x00FFFFFF)


class FramesError(ValueError):
    """A frames file or bitstream that cannot be used."""


# ----------------------------------------------------------------------------
# segbits
# ----------------------------------------------------------------------------


class BramSegbits:
    """Bit positions of the INIT/INITP features of a BRAM tile type in its BLOCK_RAM segment."""

    def __init__(self, path: Path):
        self.path = Path(path)
        pos = {}
        pat = re.compile(r"^\S+\.RAMB18_Y([01])\.(INITP?)_([0-9A-F]{2})\[(\d+)\]\s+(\d+)_(\d+)\s*$")
        n = {(h, k): (HALF_INIT_BITS if k == "INIT" else HALF_INITP_BITS) for h in (0, 1) for k in ("INIT", "INITP")}
        for key, size in n.items():
            pos[key] = (np.full(size, -1, np.int64), np.full(size, -1, np.int64))
        for line in self.path.read_text().splitlines():
            m = pat.match(line)
            if not m:
                continue
            h, kind, idx, bit, frame, seg_bit = m.groups()
            i = int(idx, 16) * 256 + int(bit)
            fr, bp = pos[(int(h), kind)]
            fr[i] = int(frame)
            bp[i] = int(seg_bit)
        for key, (fr, bp) in pos.items():
            if (fr < 0).any():
                raise FramesError(f"{self.path}: {int((fr < 0).sum())} bits of RAMB18_Y{key[0]}.{key[1]} are missing")
        self.pos = pos
        self.n_frames = 1 + max(int(fr.max()) for fr, _ in pos.values())
        self.n_bits = 1 + max(int(bp.max()) for _, bp in pos.values())


@functools.lru_cache(maxsize=8)
def _segbits_cached(path: str, mtime: int) -> BramSegbits:
    return BramSegbits(Path(path))


def segbits_for(db_family_dir: Path, tile: str) -> BramSegbits:
    """The BRAM segbits of a tile (BRAM_L_X6Y45 -> segbits_bram_l.block_ram.db)."""
    kind = "bram_l" if tile.startswith("BRAM_L") else "bram_r" if tile.startswith("BRAM_R") else None
    if not kind:
        raise FramesError(f"{tile} is not a BRAM tile")
    path = Path(db_family_dir) / f"segbits_{kind}.block_ram.db"
    if not path.exists():
        raise FramesError(f"{path} not found: the prjxray database has no block RAM contents bits")
    return _segbits_cached(str(path), path.stat().st_mtime_ns)


# ----------------------------------------------------------------------------
# frames
# ----------------------------------------------------------------------------


_FRAME_FMT = {}


def _frame_line(addr: int, words) -> str:
    n = len(words)
    fmt = _FRAME_FMT.get(n)
    if fmt is None:
        fmt = _FRAME_FMT[n] = "0x%08X " + ",".join(["0x%08X"] * n) + "\n"
    return fmt % (addr, *np.asarray(words).tolist())


class FramesFile:
    """A prjxray .frames text: frames are parsed on demand, unchanged lines kept as they are."""

    def __init__(self, text: str):
        self.lines = text.splitlines(keepends=True)
        self.index: dict[int, int] = {}
        for i, line in enumerate(self.lines):
            head = line[:10]
            if not head.strip():
                continue
            try:
                self.index[int(head, 16)] = i
            except ValueError:
                raise FramesError(f"line {i + 1} of the frames file is not a frame: {line[:30]!r}") from None
        self._cache: dict[int, np.ndarray] = {}

    @classmethod
    def read(cls, path: Path) -> "FramesFile":
        return cls(Path(path).read_text())

    def words(self, addr: int) -> np.ndarray:
        if addr not in self._cache:
            i = self.index.get(addr)
            if i is None:
                raise FramesError(f"frame 0x{addr:08X} is not in the frames file")
            body = self.lines[i].split(None, 1)[1]
            w = np.array([int(x, 16) for x in body.split(",")], np.uint32)
            if len(w) != FRAME_WORDS:
                raise FramesError(f"frame 0x{addr:08X} has {len(w)} words, not {FRAME_WORDS}")
            self._cache[addr] = w
        return self._cache[addr]

    def set_words(self, addr: int, words: np.ndarray) -> bool:
        """Replace a frame; True if it changed."""
        old = self.words(addr)
        if np.array_equal(old, words):
            return False
        self._cache[addr] = np.asarray(words, np.uint32).copy()
        self.lines[self.index[addr]] = _frame_line(addr, self._cache[addr])
        return True

    def text(self) -> str:
        return "".join(self.lines)


def segment(frame_bits: dict) -> tuple[int, int, int, int]:
    """(base frame address, frames, word offset, words) of a tile's BLOCK_RAM segment."""
    base = int(str(frame_bits["baseaddr"]), 0)
    return base, int(frame_bits["frames"]), int(frame_bits["offset"]), int(frame_bits["words"])


def tile_block(get_words, frame_bits: dict) -> np.ndarray:
    """The tile's BLOCK_RAM segment as bits: array (frames, 32*words), bit b of word w at 32w+b."""
    base, n_frames, offset, n_words = segment(frame_bits)
    words = np.stack([get_words(base + f)[offset: offset + n_words] for f in range(n_frames)])
    return np.unpackbits(words.astype("<u4").view(np.uint8).reshape(n_frames, -1), axis=1, bitorder="little")


def decode_half(block: np.ndarray, seg: BramSegbits, half: int) -> Half:
    out = Half.zeros()
    for kind in ("INIT", "INITP"):
        fr, bp = seg.pos[(half, kind)]
        out.bits(kind)[:] = block[fr, bp]
    return out


def encode_half(block: np.ndarray, seg: BramSegbits, half: int, contents: Half) -> None:
    for kind in ("INIT", "INITP"):
        fr, bp = seg.pos[(half, kind)]
        block[fr, bp] = contents.bits(kind)


def block_words(block: np.ndarray) -> np.ndarray:
    """Inverse of the unpacking in tile_block: (frames, words) uint32."""
    n_frames = block.shape[0]
    return np.packbits(block, axis=1, bitorder="little").view("<u4").reshape(n_frames, -1).astype(np.uint32)


def read_halves_from_frames(get_words, tiles: dict[str, dict], db_family_dir: Path) -> dict[str, Half]:
    """Contents of both halves of each tile: {"TILE.RAMB18_Yh": Half}. tiles: tile -> frame_bits."""
    out = {}
    for tile, frame_bits in tiles.items():
        seg = segbits_for(db_family_dir, tile)
        block = tile_block(get_words, frame_bits)
        for h in (0, 1):
            out[f"{tile}.RAMB18_Y{h}"] = decode_half(block, seg, h)
    return out


def write_halves_to_frames(frames: FramesFile, new: dict[str, Half], tiles: dict[str, dict],
                           db_family_dir: Path) -> int:
    """Write half contents into a frames file; returns the number of frames changed."""
    by_tile: dict[str, dict[int, Half]] = {}
    for prefix, half in new.items():
        tile, h = prefix.split(".RAMB18_Y")
        by_tile.setdefault(tile, {})[int(h)] = half
    changed = 0
    for tile, halves in by_tile.items():
        seg = segbits_for(db_family_dir, tile)
        block = tile_block(frames.words, tiles[tile])
        for h, contents in halves.items():
            encode_half(block, seg, h, contents)
        words = block_words(block)
        base, n_frames, offset, n_words = segment(tiles[tile])
        for f in range(n_frames):
            w = frames.words(base + f).copy()
            w[offset: offset + n_words] = words[f]
            changed += frames.set_words(base + f, w)
    return changed


def merge_tile_words(frames: FramesFile, source, tiles: dict[str, dict]) -> int:
    """Copy the BLOCK_RAM words of `tiles` from `source` (addr -> words or None for zero)."""
    changed = 0
    for tile, frame_bits in tiles.items():
        base, n_frames, offset, n_words = segment(frame_bits)
        for f in range(n_frames):
            src = source(base + f)
            w = frames.words(base + f).copy()
            w[offset: offset + n_words] = 0 if src is None else src[offset: offset + n_words]
            changed += frames.set_words(base + f, w)
    return changed


def read_frames_text(text: str) -> dict[int, np.ndarray]:
    """All frames of a (possibly sparse) .frames text."""
    out = {}
    for line in text.splitlines():
        if not line.strip():
            continue
        addr, body = line.split(None, 1)
        out[int(addr, 16)] = np.array([int(x, 16) for x in body.split(",")], np.uint32)
    return out


# ----------------------------------------------------------------------------
# bitstreams
# ----------------------------------------------------------------------------


def bitstream_frames(bit: Path, part_yaml: Path, bitread: list[str],
                     frame_range: tuple[int, int] | None = BRAM_FRAME_RANGE) -> dict[int, np.ndarray]:
    """Frames of a .bit (those in frame_range, zero frames left out), read with prjxray's bitread."""
    with tempfile.TemporaryDirectory(prefix="tritgpt-bitread-") as tmp:
        out = Path(tmp) / "frames.txt"
        cmd = list(bitread) + [f"-part_file={part_yaml}", f"-o={out}", "-z"]
        if frame_range:
            cmd.append(f"-F=0x{frame_range[0]:08x}:0x{frame_range[1]:08x}")
        cmd.append(str(bit))
        cp = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        if cp.returncode != 0 or not out.exists():
            raise FramesError(f"bitread failed on {bit} (exit {cp.returncode}): {cp.stderr.strip()[-300:]}")
        frames: dict[int, list[int]] = {}
        cur = None
        for line in out.read_text().splitlines():
            line = line.strip()
            if line.startswith(".frame"):
                cur = int(line.split()[1], 16)
                frames[cur] = []
            elif line and cur is not None:
                frames[cur].extend(int(x, 16) for x in line.split())
    return {a: np.array(w, np.uint32) for a, w in frames.items()}


def bit_header(data: bytes) -> tuple[list[tuple[int, bytes]], int]:
    """Fields (key, value) of a Xilinx .bit header and the offset of the 'e' field."""
    if len(data) < 13 or data[:2] != b"\x00\x09":
        raise FramesError("not a .bit file (no Xilinx bit header)")
    pos, fields = 13, []
    while pos < len(data):
        key = data[pos]
        if key == ord("e"):
            return fields, pos
        length = int.from_bytes(data[pos + 1: pos + 3], "big")
        fields.append((key, data[pos + 3: pos + 3 + length]))
        pos += 3 + length
    raise FramesError("truncated .bit header")


def copy_header_fields(new: bytes, old: bytes, keys: str = "cd") -> bytes:
    """`new` with the values of header fields `keys` (date 'c', time 'd') taken from `old`.

    A build normalises these (SOURCE_DATE_EPOCH); a swapped bitstream keeps the build's.
    """
    old_fields = dict(bit_header(old)[0])
    out = bytearray(new)
    pos = 13
    while pos < len(out):
        key = out[pos]
        if key == ord("e"):
            return bytes(out)
        length = int.from_bytes(out[pos + 1: pos + 3], "big")
        if chr(key) in keys and key in old_fields:
            if len(old_fields[key]) != length:
                raise FramesError(f"bit header field {chr(key)!r}: lengths differ")
            out[pos + 3: pos + 3 + length] = old_fields[key]
        pos += 3 + length
    raise FramesError("truncated .bit header")
