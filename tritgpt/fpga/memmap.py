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
