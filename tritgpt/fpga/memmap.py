"""Memory map of a build: where every block RAM of the design was placed.

memmap.json lists each RAMB36E1/RAMB18E1 cell of the placed design with

    cell        hierarchical cell name (yosys names after flattening)
    primitive   RAMB36E1 or RAMB18E1
    site, bel   placed site (e.g. RAMB36_X0Y5) and BEL, from nextpnr's routed JSON
    tile        the BRAM tile holding the site, and its configuration frame address
                ("bits": baseaddr/frames/offset/words of BLOCK_RAM), from prjxray-db
                tilegrid.json
    widths      READ_WIDTH_A/B, WRITE_WIDTH_A/B, RAM_MODE, DOA_REG/DOB_REG
    image       the weights-package image (wt_bank00.hex, tok_emb.hex, ...) or fixed
                table (rtl/tables/exp.hex, ...) whose words the INIT contents match:
                word offset, word count, and for each image bit held here its INIT or
                INITP bit within the word ("bits"; bits that are 0 in every word of the
                image cannot be located this way and are left out). null for memories
                with no initial contents (KV cache, FIFOs).

It is the basis for swapping weights into a finished bitstream without synthesis or
place and route: an image's words are in the INIT/INITP of the listed cells, and the
cells' frames are at the listed addresses.

The memory map is completed for swapping by `complete_memmap` (called by
`write_memmap` once the bitstream exists; the build's last step). It adds to memmap.json:

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

import json
import re
from pathlib import Path

import numpy as np

from . import bram_frames as bf
from . import fasm_bram as fb
from . import toolchain
from ..errors import UserError
from .files import atomic_write, sha256_file

BRAM_TYPES = ("RAMB36E1", "RAMB18E1")
WIDTH_PARAMS = ("READ_WIDTH_A", "READ_WIDTH_B", "WRITE_WIDTH_A", "WRITE_WIDTH_B", "RAM_MODE",
                "DOA_REG", "DOB_REG", "RAM_EXTENSION_A", "RAM_EXTENSION_B")


def _param_value(v):
    """yosys JSON parameter: binary string of a number, or a string."""
    if isinstance(v, str) and v and set(v) <= {"0", "1", "x", "z"} and len(v) >= 1:
        if set(v) <= {"0", "1"}:
            return int(v, 2)
        return v
    if isinstance(v, str):
        return v.rstrip()
    return v


def _bits(params: dict, prefix: str, n: int) -> np.ndarray:
    """INIT_00.. (or INITP_00..) of a cell as one bit array, bit i = INIT bit i ('x' = 0)."""
    out = np.zeros(n * 256, np.uint8)
    for i in range(n):
        v = params.get(f"{prefix}_{i:02X}")
        if isinstance(v, str) and v and set(v) <= set("01xz"):
            s = v.replace("x", "0").replace("z", "0")[-256:].rjust(256, "0")
            out[i * 256:(i + 1) * 256] = np.frombuffer(s[::-1].encode(), np.uint8) - 48
        elif isinstance(v, int):
            out[i * 256:(i + 1) * 256] = [(v >> k) & 1 for k in range(256)]
    return out


def _read_width(params: dict) -> int:
    widths = [params.get(k) for k in ("READ_WIDTH_A", "READ_WIDTH_B", "WRITE_WIDTH_A", "WRITE_WIDTH_B")]
    widths = [w for w in widths if isinstance(w, int) and w > 0]
    return max(widths) if widths else 0


def cell_columns(params: dict, primitive: str, width: int) -> dict:
    """Per bit of the port word, its value in every word: {("INIT"|"INITP", j): bits}.

    A word of `width` bits (9/18/36/72 include 1/2/4/8 parity bits) keeps its data bits
    contiguously in INIT_xx and its parity bits contiguously in INITP_xx.
    """
    n_init, n_initp = (128, 16) if primitive == "RAMB36E1" else (64, 8)
    parity = width // 9 if width >= 9 else 0
    data = width - parity
    init = _bits(params, "INIT", n_init)
    words = len(init) // data
    cols = {("INIT", j): init[j::data][:words] for j in range(data)}
    if parity:
        initp = _bits(params, "INITP", n_initp)
        for j in range(parity):
            cols[("INITP", j)] = initp[j::parity][:words]
    return cols


def match_images(cols: dict, images: dict[str, np.ndarray]) -> dict | None:
    """Which image, word range and bits a BRAM cell holds, by matching bit columns.

    Returns {"image", "word_offset", "words", "bits": [[image_bit, "INIT"|"INITP", j], ...]}
    (one entry per image bit stored in the cell), or None (no data, or no image matches:
    KV cache, tables, FIFOs).
    """
    live = {k: v for k, v in cols.items() if v.any()}
    if not live:
        return None
    depth = len(next(iter(cols.values())))
    for name, img in images.items():
        for off in range(0, len(img), depth):
            n = min(depth, len(img) - off)
            chunk = img[off: off + n]
            img_cols = {b: ((chunk >> np.uint64(b)) & np.uint64(1)).astype(np.uint8) for b in range(32)}
            mapping, used = [], set()
            for key, col in live.items():
                if col[n:].any():
                    break
                hit = next((b for b, ic in img_cols.items() if b not in used and np.array_equal(ic, col[:n])), None)
                if hit is None:
                    break
                used.add(hit)
                mapping.append([hit, key[0], key[1]])
            else:
                if mapping:
                    return {"image": name, "word_offset": int(off), "words": int(n),
                            "bits": sorted(mapping)}
    return None


def load_images(directory: Path, prefix: str = "") -> dict[str, np.ndarray]:
    """Every $readmemh image (*.hex) of a directory: name -> words."""
    out = {}
    for f in sorted(Path(directory).glob("*.hex")):
        try:
            words = [int(x, 16) for x in f.read_text().split() if not x.startswith("//")]
        except ValueError:
            continue
        out[prefix + f.name] = np.array(words, np.uint64)
    return out


def site_tiles(tilegrid: dict) -> dict[str, tuple[str, dict]]:
    """site name -> (tile name, BLOCK_RAM frame bits) for BRAM tiles."""
    out = {}
    for tile, info in tilegrid.items():
        if not info.get("type", "").startswith("BRAM"):
            continue
        bits = info.get("bits", {}).get("BLOCK_RAM")
        for site in info.get("sites", {}):
            out[site] = (tile, bits)
    return out


def fabric_of(db_family_dir: Path, part: str) -> str | None:
    """The tilegrid directory (fabric) of a part, from prjxray-db mapping/*.yaml."""
    try:
        import yaml
    except ImportError:  # pragma: no cover
        return None
    mapping = Path(db_family_dir) / "mapping"
    try:
        parts = yaml.safe_load((mapping / "parts.yaml").read_text())
        devices = yaml.safe_load((mapping / "devices.yaml").read_text())
    except OSError:
        return None
    device = parts.get(part, {}).get("device")
    return devices.get(device, {}).get("fabric", device) if device else None


def build_memmap(netlist_json: Path, *, placed: bool, weights_dir: Path | None = None,
                 db_family_dir: Path | None = None, part: str | None = None,
                 tables_dir: Path | None = None) -> dict:
    """Memory map from a routed JSON (placed=True) or a synthesised netlist (placed=False)."""
    data = json.loads(Path(netlist_json).read_text())
    tiles = {}
    if db_family_dir and part:
        fabric = fabric_of(db_family_dir, part)
        grid = Path(db_family_dir) / (fabric or "") / "tilegrid.json"
        if fabric and grid.exists():
            tiles = site_tiles(json.loads(grid.read_text()))
    images = load_images(weights_dir) if weights_dir else {}
    if tables_dir and Path(tables_dir).is_dir():
        images.update(load_images(tables_dir, prefix="rtl/tables/"))
    cells = []
    for module in data.get("modules", {}).values():
        for name, cell in module.get("cells", {}).items():
            ctype = cell.get("type", "")
            prim = next((t for t in BRAM_TYPES if ctype == t or ctype.startswith(t + "_")), None)
            if not prim:
                continue
            params = {k: _param_value(v) for k, v in cell.get("parameters", {}).items()}
            attrs = cell.get("attributes", {})
            entry = {"cell": name, "primitive": prim}
            bel = attrs.get("NEXTPNR_BEL")
            if bel:
                site = bel.split("/")[0]
                entry["site"] = site
                entry["bel"] = bel
                if site in tiles:
                    entry["tile"], entry["frame_bits"] = tiles[site]
                    if prim == "RAMB18E1":
                        # FASM features of this half: <tile>.RAMB18_Y0/Y1.INIT_xx
                        y = int(re.search(r"Y(\d+)$", site).group(1))
                        entry["fasm_prefix"] = f"{entry['tile']}.RAMB18_Y{y % 2}"
            entry["widths"] = {k: params[k] for k in WIDTH_PARAMS if k in params}
            width = _read_width(params)
            match = None
            if images and width:
                match = match_images(cell_columns(cell.get("parameters", {}), prim, width), images)
            entry["image"] = match
            src = attrs.get("src")
            if src:
                entry["src"] = re.sub(r"\|.*", "", str(src))
            cells.append(entry)
    cells.sort(key=lambda c: c["cell"])
    return {
        "format": "tritgpt-memmap",
        "format_version": 1,
        "placed": placed,
        "part": part,
        "n_ramb36": sum(c["primitive"] == "RAMB36E1" for c in cells),
        "n_ramb18": sum(c["primitive"] == "RAMB18E1" for c in cells),
        "cells": cells,
    }


# ----------------------------------------------------------------------------
# completing the map for swapping: cells matched to images by their lanes
# ----------------------------------------------------------------------------

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
            mask = np.uint64(sum(1 << bit[0] for bit in m["bits"]))  # [image bit, where it is held...]
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


TABLES_PREFIX = "rtl/tables/"


def load_tables(build_dir: Path) -> dict[str, np.ndarray]:
    """The fixed ROM tables a build copied (rtl/tables/*.hex), named as memmap.json names them."""
    d = Path(build_dir) / TABLES_PREFIX
    return load_images(d, prefix=TABLES_PREFIX) if d.is_dir() else {}


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
    fabric = fabric_of(db_family_dir, part)
    out = {"dir": str(db_family_dir), "fabric": fabric, "sha256": {}}
    for name, p in db_files(db_family_dir, part, fabric).items():
        out["sha256"][name] = sha256_file(p) if p.exists() else None
    return out


def find_db(part: str, hint: str | None = None) -> Path:
    tc = toolchain.discover()
    fam = tc.db_family_dir(part)
    if fam:
        return fam
    if hint and (Path(hint) / part / "part.yaml").exists():
        return Path(hint)
    raise UserError(f"prjxray-db with {part} not found (set PRJXRAY_DB_DIR)")


def bram_cells(netlist: dict) -> dict[str, tuple[str, dict]]:
    """Every block RAM cell of a yosys/nextpnr JSON netlist: name -> (primitive, parameters).

    nextpnr-xilinx's routed cells are typed RAMB36E1_RAMB36E1 etc.; the primitive is the
    part before the suffix (X_ORIG_TYPE names it too)."""
    out = {}
    for module in netlist.get("modules", {}).values():
        for name, cell in module.get("cells", {}).items():
            ctype = cell.get("attributes", {}).get("X_ORIG_TYPE") or cell.get("type", "")
            prim = next((t for t in BRAM_TYPES if ctype == t or ctype.startswith(t + "_")), None)
            if prim:
                out[name] = (prim, cell.get("parameters", {}))
    return out


def _cell_params(routed: dict) -> dict[str, dict]:
    return {name: params for name, (_, params) in bram_cells(routed).items()}


def match_cells(cells: dict[str, tuple[str, dict]], images: dict[str, np.ndarray]) -> dict[str, dict]:
    """Each cell's place in the images (see match_cell and resolve): {cell: {"image"|"candidates": ...}}."""
    index = ImageIndex(images)
    return resolve({name: match_cell(prim, params, index.images, index) for name, (prim, params) in cells.items()})


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
    db = Path(db_family_dir) if db_family_dir else find_db(part)
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
    for c in mm["cells"]:
        if c["cell"] not in params:
            raise UserError(f"memmap.json lists {c['cell']}, which is not in {ROUTED_NAME}: the map is not of this build")
        if not c.get("tile") or not c.get("frame_bits"):
            raise UserError(f"memmap.json: {c['cell']} has no placed tile (prjxray-db lacks it?); cannot swap")
        c["fasm_halves"] = fb.cell_halves(c["primitive"], c["tile"], c["site"])
        c["port_width"] = port_width(params[c["cell"]])
    resolved = match_cells({c["cell"]: (c["primitive"], params[c["cell"]]) for c in mm["cells"]}, {**tables, **images})
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
    atomic_write(Path(build_dir) / MEMMAP_NAME, json.dumps(mm, indent=1) + "\n")
    return mm

