"""Memory map of a build: where every block RAM of the design was placed.

memmap.json lists each RAMB36E1/RAMB18E1 cell of the placed design with

    cell        hierarchical cell name (yosys names after flattening)
    primitive   RAMB36E1 or RAMB18E1
    site, bel   placed site (e.g. RAMB36_X0Y5) and BEL, from nextpnr's routed JSON
    tile        the BRAM tile holding the site, and its configuration frame address
                ("bits": baseaddr/frames/offset/words of BLOCK_RAM), from prjxray-db
                tilegrid.json
    widths      READ_WIDTH_A/B, WRITE_WIDTH_A/B, RAM_MODE, DOA_REG/DOB_REG
    image       the weights-package image (wt_bank00.hex, tok_emb.hex, ...) whose words
                the INIT contents match, with the word offset and bit slice found, or
                null (KV cache, tables, FIFOs)

It is the basis for swapping weights into a finished bitstream without synthesis or
place and route: an image's words are in the INIT/INITP of the listed cells, and the
cells' frames are at the listed addresses.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np

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


def _init_words(params: dict, primitive: str) -> tuple[np.ndarray, np.ndarray]:
    """(data bits, parity bits) of a BRAM cell as bit arrays, bit i = memory bit i."""
    n_init = 128 if primitive == "RAMB36E1" else 64
    n_initp = 16 if primitive == "RAMB36E1" else 8

    def bits(prefix, n):
        out = np.zeros(n * 256, np.uint8)
        for i in range(n):
            v = params.get(f"{prefix}_{i:02X}")
            if v is None:
                continue
            if isinstance(v, str) and set(v) <= {"0", "1", "x", "z"}:
                s = v.replace("x", "0").replace("z", "0")[-256:].rjust(256, "0")
                out[i * 256:(i + 1) * 256] = np.frombuffer(s[::-1].encode(), np.uint8) - 48
            elif isinstance(v, int):
                out[i * 256:(i + 1) * 256] = [(v >> k) & 1 for k in range(256)]
        return out

    return bits("INIT", n_init), bits("INITP", n_initp)


def _read_width(params: dict) -> int:
    for key in ("READ_WIDTH_A", "READ_WIDTH_B", "WRITE_WIDTH_A", "WRITE_WIDTH_B"):
        w = params.get(key)
        if isinstance(w, int) and w > 0:
            return w
    return 0


def _data_width(w: int) -> int:
    """Data bits per word of a read width (9/18/36/72 carry 1/2/4/8 parity bits)."""
    return {9: 8, 18: 16, 36: 32, 72: 64}.get(w, w)


def _words(data_bits: np.ndarray, width: int) -> np.ndarray:
    """INIT data as words of the given data width (parity excluded)."""
    n = len(data_bits) // width
    b = data_bits[: n * width].reshape(n, width).astype(np.uint64)
    return (b << np.arange(width, dtype=np.uint64)).sum(axis=1)


def match_images(cell_words: np.ndarray, width: int, images: dict[str, np.ndarray]) -> dict | None:
    """Find which image (and bit slice, word offset) a BRAM's contents come from."""
    if not len(cell_words) or not cell_words.any():
        return None
    for name, img in images.items():
        for lo in range(0, 32, width) if width < 32 else [0]:
            sl = ((img >> np.uint64(lo)) & np.uint64((1 << width) - 1)) if width < 32 else img
            n = len(cell_words)
            for off in range(0, max(1, len(sl) - n + 1), n):
                chunk = sl[off: off + n]
                if len(chunk) == n and np.array_equal(chunk, cell_words):
                    return {"image": name, "word_offset": int(off), "words": int(n), "bit_lo": int(lo),
                            "bit_hi": int(lo + min(width, 32) - 1)}
    return None


def load_images(weights_dir: Path) -> dict[str, np.ndarray]:
    out = {}
    for f in sorted(Path(weights_dir).glob("*.hex")):
        words = [int(x, 16) for x in f.read_text().split()]
        out[f.name] = np.array(words, np.uint64)
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
                 db_family_dir: Path | None = None, part: str | None = None) -> dict:
    """Memory map from a routed JSON (placed=True) or a synthesised netlist (placed=False)."""
    data = json.loads(Path(netlist_json).read_text())
    tiles = {}
    if db_family_dir and part:
        fabric = fabric_of(db_family_dir, part)
        grid = Path(db_family_dir) / (fabric or "") / "tilegrid.json"
        if fabric and grid.exists():
            tiles = site_tiles(json.loads(grid.read_text()))
    images = load_images(weights_dir) if weights_dir else {}
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
            entry["widths"] = {k: params[k] for k in WIDTH_PARAMS if k in params}
            width = _data_width(_read_width(params))
            match = None
            if images and width:
                data_bits, _ = _init_words(cell.get("parameters", {}), prim)
                match = match_images(_words(data_bits, min(width, 64)), min(width, 64), images)
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
