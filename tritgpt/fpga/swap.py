"""`tritgpt swap`: new weights into a built bitstream, without synthesis or place and route.

    tritgpt swap BUILD_DIR NEW_WEIGHTS -o new.bit

A build keeps the routed design as FASM (tritgpt.fasm), the configuration frames
(tritgpt.frames), the bitstream (tritgpt.bit) and the memory map (memmap.json, see
tritgpt.fpga.memmap). The weights are only in the INIT_xx/INITP_xx features of the block
RAMs the map lists, so a swap

1. checks that NEW_WEIGHTS has the build's config and layout, and that the FASM,
   frames and bitstream are still the ones the map was made for (sha256);
2. computes each mapped cell's new contents: its current contents (read from the
   FASM) with the image bits it holds replaced (cell lanes <-> image bits from the
   map), and writes the INIT/INITP lines of its RAMB18 halves as nextpnr-xilinx
   does (RAMB36 bit interleave included, see tritgpt.fpga.fasm_bram);
3. turns the new lines into frames with prjxray fasm2frames (only the lines of the
   changed tiles; their block RAM words replace those of tritgpt.frames), or with
   the project's own segbits encoder (--direct), or runs fasm2frames on the whole new
   FASM (--full);
4. runs xc7frames2bit, keeping the build's .bit header (design name, date);
5. verifies: reads the frames of the new bitstream back with prjxray bitread, checks
   that they are exactly the frames meant, and that every mapped block RAM holds
   exactly the new images and every other block RAM is unchanged (optionally also
   with prjxray bit2fasm, an independent decoder, and the project's FASM reader).

Nothing in BUILD_DIR or NEW_WEIGHTS is modified; outputs are written atomically.

The memory map is completed for swapping by `complete_memmap` (called by
`write_memmap` once the bitstream exists). It adds to memmap.json:

    swap.files           sha256 of tritgpt.fasm, tritgpt.frames, tritgpt.bit
    swap.prjxray_db      the database directory and sha256 of the files the swap uses
    swap.weights         config, layout, model hash and image hashes of the build's weights
    swap.tables          hashes of the ROM tables the build copied (rtl/tables/*.hex)
    swap.ternary         how ternary codes are packed into the weight banks
    swap.coverage        per image: words, bits held by block RAMs, anything not held
    cells[].fasm_halves  the FASM prefixes (TILE.RAMB18_Yn) of the cell
    cells[].port_width   the widest port, which fixes the lanes of a word
    cells[].image        {image, word_offset, words, bits: [[image_bit, INIT|INITP, lane]],
                          pad: [[INIT|INITP, lane]] (lanes that hold zeros above bit 31)}
                         found by matching the cell's defined INIT bits (from the routed
                         JSON) to the build's images and tables with the lane order of
                         the port; table cells are kept (and checked) unchanged
    cells[].candidates   instead of image, when the contents fit several places (e.g.
                         all-zero regions); a swap then needs all of them to agree

If a build's map was not completed (older flow), `tritgpt swap` completes it in
memory, after checking the bitstream against the sha256 in report.json and the FASM
and frames against the routed design.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from . import bram_frames as bf
from . import fasm_bram as fb
from ..errors import UserError

SWAP_FORMAT = 1
FASM_NAME = "tritgpt.fasm"
FRAMES_NAME = "tritgpt.frames"
BIT_NAME = "tritgpt.bit"
ROUTED_NAME = "tritgpt.routed.json"
MEMMAP_NAME = "memmap.json"
WIDTH_KEYS = ("READ_WIDTH_A", "READ_WIDTH_B", "WRITE_WIDTH_A", "WRITE_WIDTH_B")
TERNARY = {
    "codes": {"+1": "01", "-1": "10", "0": "00", "11": "invalid"},
    "lane": "lane j of a weight-stream address is bits [2(j%16)+1:2(j%16)] of word `address` of wt_bank{j//16:02d}",
    "banks": "wt_bankNN.hex, one 32-bit word (16 lanes) per address",
}


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


# ----------------------------------------------------------------------------
# matching cells to images
# ----------------------------------------------------------------------------


def _int_param(v) -> int:
    if isinstance(v, int):
        return v
    if isinstance(v, str) and v and set(v) <= {"0", "1"}:
        return int(v, 2)
    try:
        return int(str(v))
    except ValueError:
        return 0


def port_width(params: dict) -> int:
    """The widest port of a block RAM cell (0 if it has none)."""
    widths = [_int_param(params.get(k, 0)) for k in WIDTH_KEYS]
    return max([w for w in widths if w > 0], default=0)


def _lane_index(kind: str, j: int, words: int, data: int, parity: int) -> np.ndarray:
    return np.arange(words) * (data if kind == "INIT" else parity) + j


def lane_columns(init, initp, width: int, depth: int) -> list[np.ndarray]:
    """Per port bit p: its value in every word, (depth,) arrays."""
    data, parity = fb.data_parity_width(width)
    out = []
    for kind, j in fb.port_lanes(width):
        src = init if kind == "INIT" else initp
        out.append(src[_lane_index(kind, j, depth, data, parity)])
    return out


def _image_bits(img: np.ndarray) -> np.ndarray:
    """(words, 32) bit matrix of an image."""
    return ((img[:, None] >> np.arange(32, dtype=np.uint64)) & np.uint64(1)).astype(np.uint8)


class ImageIndex:
    """The images cut into chunks of n words, each bit column findable by its contents."""

    def __init__(self, images: dict[str, np.ndarray]):
        self.images = images
        self.bits = {name: _image_bits(img) for name, img in images.items()}
        self._by_n: dict[int, dict[bytes, list]] = {}

    def chunks(self, depth: int):
        """(name, offset, n) of every chunk of `depth` words (the last one may be shorter)."""
        for name, img in self.images.items():
            for off in range(0, len(img), depth):
                yield name, off, min(depth, len(img) - off)

    def columns(self, depth: int) -> dict[bytes, list]:
        """key (n, packed column) -> [(name, offset, bit)] for chunks of `depth` words."""
        if depth not in self._by_n:
            table: dict[bytes, list] = {}
            for name, off, n in self.chunks(depth):
                chunk = self.bits[name][off: off + n]
                for b in range(32):
                    key = n.to_bytes(4, "little") + np.packbits(chunk[:, b]).tobytes()
                    table.setdefault(key, []).append((name, off, b))
            self._by_n[depth] = table
        return self._by_n[depth]


def match_cell(primitive: str, params: dict, images, index: ImageIndex | None = None) -> list[dict]:
    """Every way a cell's defined contents fit the images (usually exactly one).

    The cell holds image bits b0, b0+1, ... on its used port bits in port order (used
    = with any defined, non-'x' INIT bit); used port bits beyond image bit 31 must be
    zero (a memory wider than 32 bits). Words of the image map onto addresses
    0..words-1 of the cell from word_offset (a multiple of the cell depth); the cell's
    other addresses must be undefined or zero.
    """
    index = index or ImageIndex(images)
    width = port_width(params)
    if not width:
        return []
    init, initp, dinit, dinitp = fb.params_bits(params, primitive)
    depth = fb.cell_depth(primitive, width)
    cols = lane_columns(init, initp, width, depth)
    dcols = lane_columns(dinit, dinitp, width, depth)
    lanes = fb.port_lanes(width)
    used = [p for p in range(width) if dcols[p].any()]
    if not used:
        return []
    C = np.stack([cols[p] for p in used], axis=1)  # (depth, k)
    k = len(used)
    nonzero = [i for i in range(k) if C[:, i].any()]
    # candidate (image, offset, b0): from the first non-zero lane's column, else all
    cands = set()
    if nonzero:
        k0 = nonzero[0]
        table = index.columns(depth)
        for n in {n for _, _, n in index.chunks(depth)}:
            key = n.to_bytes(4, "little") + np.packbits(C[:n, k0]).tobytes()
            for name, off, b in table.get(key, ()):
                if b - k0 >= 0:
                    cands.add((name, off, b - k0))
    else:
        cands = {(name, off, b0) for name, off, _ in index.chunks(depth) for b0 in range(32)}
    out = []
    for name, off, b0 in sorted(cands):
        n = min(depth, len(index.images[name]) - off)
        if C[n:].any():
            continue
        real = min(k, 32 - b0)
        if not np.array_equal(C[:n, :real], index.bits[name][off: off + n, b0: b0 + real]):
            continue
        if real < k and C[:, real:].any():
            continue
        out.append({
            "image": name, "word_offset": int(off), "words": int(n),
            "bits": [[b0 + i, *lanes[used[i]]] for i in range(real)],
            "pad": [list(lanes[used[i]]) for i in range(real, k)],
        })
    return out


def _memory_name(cell: str) -> str:
    """yosys names block RAM cells MEMORY.i.j: the memory they come from."""
    parts = cell.split(".")
    while len(parts) > 1 and parts[-1].isdigit():
        parts.pop()
    return ".".join(parts)


def resolve(cands: dict[str, list[dict]]) -> dict[str, dict]:
    """{cell: {"image": ...}} or {cell: {"candidates": [...]}} from all matches.

    A cell with several matches keeps those of the image its sibling cells (same
    memory) hold, if they hold exactly one.
    """
    out = {}
    images_of: dict[str, set] = {}
    for cell, cs in cands.items():
        if len(cs) == 1:
            images_of.setdefault(_memory_name(cell), set()).add(cs[0]["image"])
    for cell, cs in cands.items():
        if not cs:
            continue
        if len(cs) > 1:
            sib = images_of.get(_memory_name(cell), set())
            if len(sib) == 1:
                narrowed = [c for c in cs if c["image"] in sib]
                cs = narrowed or cs
        out[cell] = {"image": cs[0]} if len(cs) == 1 else {"candidates": cs}
    return out


# ----------------------------------------------------------------------------
# applying a mapping
# ----------------------------------------------------------------------------


def put_image(init: np.ndarray, initp: np.ndarray, width: int, m: dict, img: np.ndarray) -> None:
    """Write the image bits a cell holds (mapping m) into its INIT/INITP arrays, in place."""
    data, parity = fb.data_parity_width(width)
    off, n = m["word_offset"], m["words"]
    words = img[off: off + n]
    for b, kind, j in m["bits"]:
        col = ((words >> np.uint64(b)) & np.uint64(1)).astype(np.uint8)
        dst = init if kind == "INIT" else initp
        dst[_lane_index(kind, j, n, data, parity)] = col


def get_image(init: np.ndarray, initp: np.ndarray, width: int, m: dict) -> tuple[np.ndarray, np.ndarray]:
    """(words, mask) of the image words a cell holds: mask has the bits it holds."""
    data, parity = fb.data_parity_width(width)
    n = m["words"]
    words = np.zeros(n, np.uint64)
    mask = np.uint64(0)
    for b, kind, j in m["bits"]:
        src = init if kind == "INIT" else initp
        col = src[_lane_index(kind, j, n, data, parity)].astype(np.uint64)
        words |= col << np.uint64(b)
        mask |= np.uint64(1) << np.uint64(b)
    return words, mask


def _popcount(a: np.ndarray) -> int:
    return int(np.unpackbits(np.ascontiguousarray(a, dtype="<u8").view(np.uint8)).sum())


def held_mask(cells: list[dict], name: str, n_words: int) -> np.ndarray:
    """Per word of image `name`: the bits some cell certainly holds (ambiguous cells do not count)."""
    held = np.zeros(n_words, np.uint64)
    for c in cells:
        m = c.get("image")
        if m and m["image"] == name:
            mask = np.uint64(sum(1 << b for b, _, _ in m["bits"]))
            held[m["word_offset"]: m["word_offset"] + m["words"]] |= mask
    return held


def coverage(cells: list[dict], images: dict[str, np.ndarray]) -> dict:
    """Per image: words, bits held by block RAMs, bits not held, cells holding it."""
    out = {}
    for name, img in images.items():
        held = held_mask(cells, name, len(img))
        missing = np.nonzero(held != np.uint64(0xFFFFFFFF))[0]
        out[name] = {
            "words": int(len(img)),
            "cells": sorted(c["cell"] for c in cells if (c.get("image") or {}).get("image") == name),
            "bits_held": _popcount(held),
            "bits_missing": 32 * len(img) - _popcount(held),
        }
        if len(missing):
            out[name]["first_missing_word"] = int(missing[0])
    return out


# ----------------------------------------------------------------------------
# memory map completion
# ----------------------------------------------------------------------------


def load_images(weights_dir: Path) -> dict[str, np.ndarray]:
    """The images of a weights package by file name (wt_bank00.hex -> uint64 words)."""
    from . import memmap as memmap_mod

    return memmap_mod.load_images(weights_dir)


TABLES_PREFIX = "rtl/tables/"


def load_tables(build_dir: Path) -> dict[str, np.ndarray]:
    """The fixed ROM tables a build copied (rtl/tables/*.hex), named as memmap.json names them."""
    from . import memmap as memmap_mod

    d = Path(build_dir) / TABLES_PREFIX
    return memmap_mod.load_images(d, prefix=TABLES_PREFIX) if d.is_dir() else {}


def _read_json(path: Path, what: str) -> dict:
    try:
        return json.loads(Path(path).read_text())
    except OSError as exc:
        raise UserError(f"cannot read {what} {path}: {exc.strerror}") from None
    except json.JSONDecodeError as exc:
        raise UserError(f"{path} is not valid JSON (line {exc.lineno})") from None


def load_memmap(build_dir: Path) -> dict:
    build_dir = Path(build_dir)
    if not build_dir.is_dir():
        raise UserError(f"{build_dir} is not a build directory")
    path = build_dir / MEMMAP_NAME
    if not path.exists():
        raise UserError(f"{build_dir} has no {MEMMAP_NAME} (memory map): it was not built by `tritgpt build`, "
                        "or the build did not finish; rebuild it to swap weights")
    mm = _read_json(path, "the memory map")
    if mm.get("format") != "tritgpt-memmap":
        raise UserError(f"{path} is not a tritgpt memory map")
    if not mm.get("placed"):
        raise UserError(f"{path} is the map of a synthesis-only build (no placement, no bitstream); "
                        "build the bitstream first")
    return mm


def db_files(db_family_dir: Path, part: str, fabric: str | None) -> dict[str, Path]:
    files = {
        "segbits_bram_l.block_ram.db": db_family_dir / "segbits_bram_l.block_ram.db",
        "segbits_bram_r.block_ram.db": db_family_dir / "segbits_bram_r.block_ram.db",
        f"{part}/part.yaml": db_family_dir / part / "part.yaml",
    }
    if fabric:
        files[f"{fabric}/tilegrid.json"] = db_family_dir / fabric / "tilegrid.json"
    return files


def db_identity(db_family_dir: Path, part: str) -> dict:
    from . import memmap as memmap_mod

    fabric = memmap_mod.fabric_of(db_family_dir, part)
    out = {"dir": str(db_family_dir), "fabric": fabric, "sha256": {}}
    for name, p in db_files(db_family_dir, part, fabric).items():
        out["sha256"][name] = sha256_file(p) if p.exists() else None
    return out


def _find_db(part: str, hint: str | None = None) -> Path:
    from . import toolchain

    tc = toolchain.discover()
    fam = tc.db_family_dir(part)
    if fam:
        return fam
    if hint and (Path(hint) / part / "part.yaml").exists():
        return Path(hint)
    raise UserError(f"prjxray-db with {part} not found (set PRJXRAY_DB_DIR)")


def _cell_params(routed: dict) -> dict[str, dict]:
    out = {}
    for module in routed.get("modules", {}).values():
        for name, cell in module.get("cells", {}).items():
            if cell.get("type", "").startswith(("RAMB36E1", "RAMB18E1")):
                out[name] = cell.get("parameters", {})
    return out


def complete_memmap(build_dir: Path, mm: dict | None = None, *, db_family_dir: Path | None = None) -> dict:
    """The memory map of a finished build, completed for swapping (see the module doc).

    Checks, and refuses with UserError otherwise: every block RAM cell is placed on a
    known tile; the FASM's INIT lines are exactly what the routed design's cells give
    (so the FASM belongs to the design and the encoding here is nextpnr-xilinx's);
    the frames hold the same block RAM contents; the bitstream is the one report.json
    recorded, if it recorded one.
    """
    build_dir = Path(build_dir)
    mm = json.loads(json.dumps(mm)) if mm is not None else load_memmap(build_dir)
    part = mm.get("part")
    if not part:
        raise UserError(f"{build_dir / MEMMAP_NAME} does not name the part")
    for name in (FASM_NAME, FRAMES_NAME, BIT_NAME, ROUTED_NAME):
        if not (build_dir / name).exists():
            raise UserError(f"{build_dir} has no {name}; rebuild it (`tritgpt build`) to swap weights")
    wdir = build_dir / "weights"
    if not (wdir / "manifest.json").exists():
        raise UserError(f"{build_dir} has no weights/manifest.json (the build's copy of its weights)")
    db = Path(db_family_dir) if db_family_dir else _find_db(part)
    report_path = build_dir / "report.json"
    bit_sha = sha256_file(build_dir / BIT_NAME)
    if report_path.exists():
        rep = _read_json(report_path, "the build report")
        want = (rep.get("bitstream") or {}).get("sha256")
        if want and want != bit_sha:
            raise UserError(f"{build_dir / BIT_NAME} is not the bitstream the build made (sha256 differs from "
                            f"report.json); rebuild it")

    images = load_images(wdir)
    tables = load_tables(build_dir)
    routed = _read_json(build_dir / ROUTED_NAME, "the routed design")
    params = _cell_params(routed)
    index = ImageIndex({**tables, **images})
    cands = {}
    for c in mm["cells"]:
        if c["cell"] not in params:
            raise UserError(f"memmap.json lists {c['cell']}, which is not in {ROUTED_NAME}: the map is not of this build")
        if not c.get("tile") or not c.get("frame_bits"):
            raise UserError(f"memmap.json: {c['cell']} has no placed tile (prjxray-db lacks it?); cannot swap")
        c["fasm_halves"] = fb.cell_halves(c["primitive"], c["tile"], c["site"])
        c["port_width"] = port_width(params[c["cell"]])
        cands[c["cell"]] = match_cell(c["primitive"], params[c["cell"]], index.images, index)
    resolved = resolve(cands)
    for c in mm["cells"]:
        r = resolved.get(c["cell"], {})
        c["image"] = r.get("image")
        if "candidates" in r:
            c["candidates"] = r["candidates"]
        else:
            c.pop("candidates", None)

    # the FASM and frames hold what the routed cells say
    fasm_text = (build_dir / FASM_NAME).read_text()
    prefixes = [p for c in mm["cells"] for p in c["fasm_halves"]]
    halves = fb.read_halves(fasm_text, prefixes)
    frames = bf.FramesFile.read(build_dir / FRAMES_NAME)
    tiles = {c["tile"]: c["frame_bits"] for c in mm["cells"]}
    try:
        in_frames = bf.read_halves_from_frames(frames.words, tiles, db)
    except bf.FramesError as exc:
        raise UserError(f"{build_dir / FRAMES_NAME}: {exc}") from None
    for c in mm["cells"]:
        init, initp, _, _ = fb.params_bits(params[c["cell"]], c["primitive"])
        want = fb.cell_to_halves(c["primitive"], init, initp)
        for prefix, h in zip(c["fasm_halves"], want):
            if halves.get(prefix) != h:
                raise UserError(f"{build_dir / FASM_NAME}: the INIT lines of {prefix} are not those of cell "
                                f"{c['cell']} in {ROUTED_NAME}; the FASM is not of this build (rebuild it)")
            if in_frames[prefix] != h:
                raise UserError(f"{build_dir / FRAMES_NAME}: the block RAM contents of {prefix} differ from the FASM; "
                                "the frames are not of this build (rebuild it)")

    manifest = _read_json(wdir / "manifest.json", "the weights manifest")
    mm["swap"] = {
        "format_version": SWAP_FORMAT,
        "files": {
            "fasm": {"name": FASM_NAME, "sha256": sha256_file(build_dir / FASM_NAME)},
            "frames": {"name": FRAMES_NAME, "sha256": sha256_file(build_dir / FRAMES_NAME)},
            "bitstream": {"name": BIT_NAME, "sha256": bit_sha},
        },
        "prjxray_db": db_identity(db, part),
        "weights": {
            "model_hash": manifest.get("model_hash"),
            "config": manifest.get("config"),
            "layout": manifest.get("layout"),
            "images": {name: {"words": int(len(img)), "sha256": sha256_file(wdir / name)}
                       for name, img in images.items()},
        },
        "tables": {name: {"words": int(len(img)), "sha256": sha256_file(build_dir / name)}
                   for name, img in tables.items()},
        "ternary": TERNARY,
        "coverage": coverage(mm["cells"], images),
        "interleave": "RAMB36E1: cell INIT/INITP bit n -> RAMB18_Y{n%2} bit n//2 (nextpnr-xilinx fasm.cc)",
    }
    return mm


def write_memmap(build_dir: Path, **kw) -> dict:
    """Complete BUILD_DIR/memmap.json for swapping, in place (a build's last step)."""
    mm = complete_memmap(build_dir, **kw)
    bf.atomic_write(Path(build_dir) / MEMMAP_NAME, json.dumps(mm, indent=1) + "\n")
    return mm


# ----------------------------------------------------------------------------
# tools
# ----------------------------------------------------------------------------


@dataclass
class Tools:
    fasm2frames: list[str] | None
    xc7frames2bit: list[str] | None
    bitread: list[str] | None
    bit2fasm: list[str] | None


def find_tools() -> Tools:
    from . import toolchain

    tc = toolchain.discover()
    dirs = []
    for t in (tc.xc7frames2bit, tc.fasm2frames):
        if t.found and t.source != "container":
            p = shutil.which(t.command[-1]) or t.command[-1]
            dirs.append(Path(p).parent)
    if os.environ.get("PRJXRAY_BIN"):
        dirs.insert(0, Path(os.environ["PRJXRAY_BIN"]))

    def find(name: str, env: str) -> list[str] | None:
        if os.environ.get(env):
            return os.environ[env].split()
        for d in dirs:
            p = d / name
            if p.is_file() and os.access(p, os.X_OK):
                return [str(p)]
        p = shutil.which(name)
        return [p] if p else None

    local = lambda t: t.command if t.found and t.source != "container" else None  # noqa: E731
    return Tools(local(tc.fasm2frames), local(tc.xc7frames2bit), find("bitread", "BITREAD"),
                 find("bit2fasm", "BIT2FASM"))


def _run(cmd: list[str], cwd: Path, what: str, nice: int = 0, stdout: Path | None = None) -> None:
    if nice and shutil.which("nice"):
        cmd = ["nice", "-n", str(nice)] + cmd
    env = dict(os.environ)
    env.setdefault("PYTHONWARNINGS", "ignore")
    if stdout is not None:
        with open(stdout, "w") as f:
            cp = subprocess.run(cmd, cwd=cwd, stdout=f, stderr=subprocess.PIPE, text=True, env=env)
    else:
        cp = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, env=env)
    if cp.returncode != 0:
        tail = "\n".join((cp.stderr or cp.stdout or "").strip().splitlines()[-8:])
        raise UserError(f"{what} failed (exit {cp.returncode}):\n{tail}")


# ----------------------------------------------------------------------------
# the swap
# ----------------------------------------------------------------------------


@dataclass
class SwapResult:
    out: Path
    changed_cells: int = 0
    cells: int = 0
    halves: int = 0
    fasm_lines: int = 0
    frames_changed: int = 0
    images_changed: list = field(default_factory=list)
    warnings: list = field(default_factory=list)
    times: dict = field(default_factory=dict)
    verified: list = field(default_factory=list)
    method: str = ""
    identical: bool = False

    def as_dict(self) -> dict:
        return {"out": str(self.out), "cells": self.cells, "changed_cells": self.changed_cells,
                "halves": self.halves, "fasm_lines_changed": self.fasm_lines, "frames_changed": self.frames_changed,
                "images_changed": self.images_changed, "warnings": self.warnings, "method": self.method,
                "seconds": {k: round(v, 3) for k, v in self.times.items()}, "verified": self.verified,
                "identical_to_build": self.identical}


class _Clock:
    def __init__(self):
        self.t0 = time.monotonic()
        self.last = self.t0
        self.times: dict[str, float] = {}

    def lap(self, name: str):
        now = time.monotonic()
        self.times[name] = self.times.get(name, 0.0) + now - self.last
        self.last = now

    def total(self) -> float:
        return time.monotonic() - self.t0


def _check_weights(binding: dict, new_dir: Path) -> tuple[dict, dict[str, np.ndarray]]:
    from ..ml import export

    try:
        manifest = export.read_manifest(new_dir)
        export.load_package(new_dir, verify=True)
    except export.WeightsError as exc:
        raise UserError(str(exc)) from None
    old = binding["weights"]
    oc, nc = dict(old.get("config") or {}), dict(manifest.get("config") or {})
    oname, nname = oc.pop("name", None), nc.pop("name", None)
    if oc != nc:
        diff = ", ".join(f"{k} {oc.get(k)} -> {nc.get(k)}" for k in sorted(set(oc) | set(nc)) if oc.get(k) != nc.get(k))
        raise UserError(f"{new_dir} has config {nname!r} of another shape than the build's {oname!r} ({diff}); "
                        "weights of another shape need a new build (`tritgpt build`)")
    ol, nl = old.get("layout") or {}, manifest.get("layout") or {}
    if ol != nl:
        keys = [k for k in sorted(set(ol) | set(nl)) if ol.get(k) != nl.get(k)]
        raise UserError(f"{new_dir} has another memory layout than the build ({', '.join(keys)} differ); "
                        "rebuild with `tritgpt build`")
    images = load_images(new_dir)
    for name, info in old["images"].items():
        if name not in images:
            raise UserError(f"{new_dir} has no {name}, which the build has")
        if len(images[name]) != info["words"]:
            raise UserError(f"{new_dir}/{name} has {len(images[name])} words, the build's has {info['words']}")
    extra = sorted(set(images) - set(old["images"]))
    if extra:
        raise UserError(f"{new_dir} has images the build does not have: {', '.join(extra)}")
    return manifest, images


def _bound(build_dir: Path, console=None) -> tuple[dict, list[str]]:
    """The completed memory map and notes; refuses if files changed since it was made."""
    mm = load_memmap(build_dir)
    notes = []
    if not mm.get("swap"):
        notes.append("the memory map was not completed at build time; checked the build's FASM, frames and "
                     "bitstream against the routed design and report.json now")
        return complete_memmap(build_dir, mm), notes
    if mm["swap"].get("format_version") != SWAP_FORMAT:
        raise UserError(f"{build_dir / MEMMAP_NAME}: swap format {mm['swap'].get('format_version')}, "
                        f"this tritgpt reads {SWAP_FORMAT}; rebuild")
    for key, info in mm["swap"]["files"].items():
        p = build_dir / info["name"]
        if not p.exists():
            raise UserError(f"{p} is missing; the memory map needs it")
        if sha256_file(p) != info["sha256"]:
            raise UserError(f"{p} has changed since the build (its sha256 is not the one in {MEMMAP_NAME}); "
                            "the memory map does not describe it any more: rebuild")
    return mm, notes


def swap(build_dir: Path, new_weights: Path, out: Path, *, fasm_out: Path | None = None,
         frames_out: Path | None = None, method: str = "fasm2frames", verify: str = "bitread",
         nice: int = 0) -> SwapResult:
    """Write `out`: the build's bitstream with the weights of `new_weights` (see module doc)."""
    if method not in ("fasm2frames", "direct", "full"):
        raise UserError(f"unknown method {method!r}: fasm2frames, direct or full")
    if verify not in ("bitread", "bit2fasm", "none"):
        raise UserError(f"unknown verification {verify!r}: bitread, bit2fasm or none")
    clock = _Clock()
    build_dir, new_weights, out = Path(build_dir), Path(new_weights), Path(out)
    res = SwapResult(out=out, method=method)
    inputs = {p.resolve() for p in (build_dir / FASM_NAME, build_dir / FRAMES_NAME, build_dir / BIT_NAME,
                                    build_dir / MEMMAP_NAME)}
    for o in (out, fasm_out, frames_out):
        if o is not None and Path(o).resolve() in inputs:
            raise UserError(f"{o} is a file of the build; write the swapped outputs elsewhere")

    mm, notes = _bound(build_dir)
    res.warnings += notes
    binding = mm["swap"]
    part = mm["part"]
    db = _find_db(part, binding["prjxray_db"].get("dir"))
    now_db = db_identity(db, part)
    if now_db["sha256"] != binding["prjxray_db"]["sha256"]:
        diff = [k for k in binding["prjxray_db"]["sha256"] if binding["prjxray_db"]["sha256"][k] != now_db["sha256"].get(k)]
        raise UserError(f"the prjxray-db at {db} is not the one the build used ({', '.join(diff)} differ); "
                        "swap with the same database, or rebuild")
    clock.lap("check build")

    _, new_images = _check_weights(binding, new_weights)
    for name, info in binding["weights"]["images"].items():
        f = build_dir / "weights" / name
        if not f.exists() or sha256_file(f) != info["sha256"]:
            raise UserError(f"{f} is not the image the build used (changed or missing since the build); rebuild")
    old_images = load_images(build_dir / "weights")
    tables = load_tables(build_dir)
    for name, info in binding.get("tables", {}).items():
        f = build_dir / name
        if not f.exists() or sha256_file(f) != info["sha256"]:
            raise UserError(f"{f} is not the table the build used (changed or missing since the build); rebuild")
    new_all = {**tables, **new_images}  # tables stay as they are
    res.images_changed = sorted(n for n in new_images if not np.array_equal(new_images[n], old_images[n]))
    tools = find_tools()
    need = {"xc7frames2bit": tools.xc7frames2bit}
    if method in ("fasm2frames", "full"):
        need["fasm2frames"] = tools.fasm2frames
    if verify != "none":
        need["bitread"] = tools.bitread
    if verify == "bit2fasm":
        need["bit2fasm"] = tools.bit2fasm
    missing = [k for k, v in need.items() if not v]
    if missing:
        raise UserError("not found: " + ", ".join(missing) + " (prjxray tools; put them on PATH or set PRJXRAY_BIN)")
    clock.lap("check weights")

    # ---- new cell contents -------------------------------------------------
    fasm_text = (build_dir / FASM_NAME).read_text()
    cells = [c for c in mm["cells"]
             if any(m["image"] in new_images for m in ([c["image"]] if c.get("image") else c.get("candidates") or []))]
    # every half of every BRAM tile the map knows, as the build has it (unused halves: zero)
    old_all = {f"{c['tile']}.RAMB18_Y{h}": fb.Half.zeros() for c in mm["cells"] for h in (0, 1)}
    old_all.update(fb.read_halves(fasm_text, set(old_all)))
    cur = old_all
    absent = []
    for name in res.images_changed:
        held = held_mask(mm["cells"], name, len(new_images[name]))
        diff = (new_images[name] ^ old_images[name]) & ~held & np.uint64(0xFFFFFFFF)
        if not held.any():
            absent.append(name.removesuffix(".hex"))
            continue
        if diff.any():
            w = int(np.nonzero(diff)[0][0])
            raise UserError(f"{name} differs from the build's at word {w} (bits 0x{int(diff[w]):08x}), which no block "
                            "RAM of the build holds (not in the memory map: optimised away or in logic); "
                            "only a rebuild can change it")
    if absent:
        res.warnings.append("not in any block RAM of this design, so not swapped: " + ", ".join(absent))
    new_halves: dict[str, fb.Half] = {}
    for c in cells:
        old = [cur[p] for p in c["fasm_halves"]]
        init0, initp0 = fb.halves_to_cell(c["primitive"], old)
        results = []
        for m in ([c["image"]] if c.get("image") else c["candidates"]):
            init, initp = init0.copy(), initp0.copy()
            put_image(init, initp, c["port_width"], m, new_all[m["image"]])
            results.append((init, initp))
        if any(not (np.array_equal(r[0], results[0][0]) and np.array_equal(r[1], results[0][1])) for r in results[1:]):
            where = ", ".join(f"{m['image']} words {m['word_offset']}.." for m in c["candidates"][:3])
            raise UserError(f"block RAM {c['cell']}: the build's contents fit several places ({where}) and the new "
                            "weights differ between them; rebuild with these weights")
        init, initp = results[0]
        hs = fb.cell_to_halves(c["primitive"], init, initp)
        if any(h != o for h, o in zip(hs, old)):
            res.changed_cells += 1
        for p, h in zip(c["fasm_halves"], hs):
            new_halves[p] = h
    res.cells = len(cells)
    res.halves = len(new_halves)
    rw = fb.rewrite(fasm_text, new_halves)
    res.fasm_lines = rw.changed + rw.inserted
    clock.lap("encode FASM")

    # ---- frames ------------------------------------------------------------
    tiles = {}
    for c in mm["cells"]:
        tiles[c["tile"]] = c["frame_bits"]
    # only tiles whose contents change get new frames (none when the weights are the build's)
    changed_halves = {p: h for p, h in new_halves.items() if h != cur[p]}
    touched = {p.split(".RAMB18_Y")[0] for p in changed_halves}
    part_yaml = db / part / "part.yaml"
    with tempfile.TemporaryDirectory(prefix="tritgpt-swap-") as tmp_s:
        tmp = Path(tmp_s)
        if method == "full":
            (tmp / "swap.fasm").write_text(rw.text)
            _run(tools.fasm2frames + ["--db-root", str(db), "--part", part, "swap.fasm", "new.frames"], tmp,
                 "fasm2frames", nice)
            frames_text = (tmp / "new.frames").read_text()
            old_frames = (build_dir / FRAMES_NAME).read_text()
            res.frames_changed = sum(a != b for a, b in zip(frames_text.splitlines(), old_frames.splitlines()))
            clock.lap("fasm2frames")
        else:
            frames = bf.FramesFile.read(build_dir / FRAMES_NAME)
            clock.lap("read frames")
            if method == "direct":
                res.frames_changed = bf.write_halves_to_frames(frames, changed_halves, {t: tiles[t] for t in touched},
                                                               db)
                clock.lap("encode frames")
            elif touched:
                # both halves of every touched tile: the new lines, and the other half as it is
                lines = []
                sub = set()
                for t in sorted(touched):
                    for h in (0, 1):
                        sub.add(f"{t}.RAMB18_Y{h}")
                for p in sorted(sub):
                    if p in new_halves:
                        lines += fb.half_lines(p, new_halves[p]).values()
                for line in fasm_text.splitlines():
                    parsed = fb.parse_init_line(line)
                    if parsed and parsed[0] in sub and parsed[0] not in new_halves:
                        lines.append(line)
                (tmp / "bram.fasm").write_text("\n".join(lines) + "\n")
                clock.lap("encode FASM")
                _run(tools.fasm2frames + ["--sparse", "--db-root", str(db), "--part", part, "bram.fasm", "bram.frames"],
                     tmp, "fasm2frames", nice)
                clock.lap("fasm2frames")
                sparse = bf.read_frames_text((tmp / "bram.frames").read_text())
                res.frames_changed = bf.merge_tile_words(frames, sparse.get, {t: tiles[t] for t in touched})
                clock.lap("merge frames")
            frames_text = frames.text()
        # ---- bitstream ---------------------------------------------------------
        old_bit = (build_dir / BIT_NAME).read_bytes()
        header, _ = bf.bit_header(old_bit)
        design = dict(header).get(ord("a"), b"").split(b"\0")[0].decode(errors="replace")
        frm_name = design.split(";")[0] or FRAMES_NAME
        if "/" in frm_name or not frm_name:
            frm_name = FRAMES_NAME
        (tmp / frm_name).write_text(frames_text)
        _run(tools.xc7frames2bit + ["--part_file", str(part_yaml), "--part_name", part, "--frm_file", frm_name,
                                    "--output_file", "new.bit"], tmp, "xc7frames2bit", nice)
        new_bit = bf.copy_header_fields((tmp / "new.bit").read_bytes(), old_bit)
        (tmp / "new.bit").write_bytes(new_bit)
        clock.lap("xc7frames2bit")

        # ---- verify ------------------------------------------------------------
        if verify != "none":
            old_frames_text = (build_dir / FRAMES_NAME).read_text()
            _verify_bitstream(tmp / "new.bit", frames_text, old_frames_text, {t: tiles[t] for t in touched}, mm,
                              old_all, new_all, part_yaml, db, tools.bitread)
            res.verified.append("bitread: the bitstream's frames are the swapped frames; every mapped block RAM "
                                "holds the new images, every other one is unchanged")
            clock.lap("verify (bitread)")
        if verify == "bit2fasm":
            _run(tools.bit2fasm + ["--db-root", str(db), "--part", part,
                                   f"--frame_range=0x{bf.BRAM_FRAME_RANGE[0]:08x}:0x{bf.BRAM_FRAME_RANGE[1]:08x}",
                                   "new.bit"], tmp, "bit2fasm", nice, stdout=tmp / "decoded.fasm")
            decoded = fb.read_halves((tmp / "decoded.fasm").read_text(), set(old_all))
            _check_halves(decoded, mm, old_all, new_all, "bit2fasm")
            res.verified.append("bit2fasm + FASM reader: every mapped block RAM holds the new images, "
                                "every other one is unchanged")
            clock.lap("verify (bit2fasm)")

        # ---- outputs -----------------------------------------------------------
        bf.atomic_write(out, new_bit)
        if fasm_out:
            bf.atomic_write(Path(fasm_out), rw.text)
        if frames_out:
            bf.atomic_write(Path(frames_out), frames_text)
        res.identical = new_bit == old_bit
        clock.lap("write")
    res.times = dict(clock.times)
    res.times["total"] = clock.total()
    return res


def _check_halves(got: dict[str, fb.Half], mm: dict, old: dict[str, fb.Half], images: dict[str, np.ndarray],
                  source: str) -> None:
    """Every mapped cell holds its image bits from `images`; all its other bits, and every
    half in `old` that no mapped cell uses, are as in `old`."""
    mapped = set()
    for c in mm["cells"]:
        ms = [c["image"]] if c.get("image") else c.get("candidates") or []
        if not ms:
            continue
        mapped.update(c["fasm_halves"])
        hs = [got.get(p, fb.Half.zeros()) for p in c["fasm_halves"]]
        init, initp = fb.halves_to_cell(c["primitive"], hs)
        exp_init, exp_initp = fb.halves_to_cell(c["primitive"], [old.get(p, fb.Half.zeros()) for p in c["fasm_halves"]])
        for m in ms:
            words, mask = get_image(init, initp, c["port_width"], m)
            want = images[m["image"]][m["word_offset"]: m["word_offset"] + m["words"]] & mask
            if not np.array_equal(words, want):
                w = int(np.nonzero(words != want)[0][0])
                raise UserError(f"verification ({source}) failed: block RAM {c['cell']} word {w} holds "
                                f"0x{int(words[w]):08x}, {m['image']} word {m['word_offset'] + w} is 0x{int(want[w]):08x}")
            put_image(exp_init, exp_initp, c["port_width"], m, images[m["image"]])
        if not (np.array_equal(init, exp_init) and np.array_equal(initp, exp_initp)):
            raise UserError(f"verification ({source}) failed: block RAM {c['cell']} has bits outside its images "
                            "that differ from the build")
    for p, h in old.items():
        if p not in mapped and got.get(p, fb.Half.zeros()) != h:
            raise UserError(f"verification ({source}) failed: {p} (no weights) changed")


def _segments(tiles: dict[str, dict]) -> dict[int, list[tuple[int, int]]]:
    """frame address -> word ranges [lo, hi) of the given tiles' BLOCK_RAM segments."""
    out: dict[int, list[tuple[int, int]]] = {}
    for fbits in tiles.values():
        base, n, off, words = bf.segment(fbits)
        for f in range(n):
            out.setdefault(base + f, []).append((off, off + words))
    return out


def check_frames_diff(old_text: str, new_text: str, tiles: dict[str, dict]) -> int:
    """The frames differ only inside the BLOCK_RAM segments of `tiles`; returns frames changed."""
    old_lines = old_text.splitlines()
    new_lines = new_text.splitlines()
    if len(old_lines) != len(new_lines):
        raise UserError(f"verification failed: the swapped frames have {len(new_lines)} frames, the build's "
                        f"{len(old_lines)}")
    allowed = _segments(tiles)
    changed = 0
    for a, b in zip(old_lines, new_lines):
        if a == b:
            continue
        fa, fb_ = bf.read_frames_text(a), bf.read_frames_text(b)
        if fa.keys() != fb_.keys():
            raise UserError("verification failed: the swapped frames are not in the build's order")
        (addr, wa), = fa.items()
        wb = fb_[addr]
        ok = np.zeros(len(wa), bool)
        for lo, hi in allowed.get(addr, ()):
            ok[lo:hi] = True
        bad = np.nonzero((wa != wb) & ~ok)[0]
        if len(bad):
            raise UserError(f"verification failed: frame 0x{addr:08X} word {int(bad[0])} changed, outside the "
                            "block RAMs being swapped")
        changed += 1
    return changed


def _verify_bitstream(bit: Path, frames_text: str, old_frames_text: str, touched: dict[str, dict], mm: dict,
                      old: dict[str, fb.Half], images: dict[str, np.ndarray], part_yaml: Path, db: Path,
                      bitread: list[str]) -> None:
    try:
        got = bf.bitstream_frames(bit, part_yaml, bitread, frame_range=None)
    except bf.FramesError as exc:
        raise UserError(f"verification failed: {exc}") from None
    frames = bf.read_frames_text(frames_text)
    zero = np.zeros(bf.FRAME_WORDS, np.uint32)
    for addr, words in frames.items():
        if not np.array_equal(got.get(addr, zero), words):
            raise UserError(f"verification failed: frame 0x{addr:08X} of the new bitstream is not the swapped frame")
    extra = [a for a, w in got.items() if a not in frames and w.any()]
    if extra:
        raise UserError(f"verification failed: the new bitstream has frame 0x{extra[0]:08X}, which the frames do not")
    check_frames_diff(old_frames_text, frames_text, touched)
    tiles = {c["tile"]: c["frame_bits"] for c in mm["cells"]}
    halves = bf.read_halves_from_frames(lambda a: got.get(a, zero), tiles, db)
    _check_halves(halves, mm, old, images, "bitread")
