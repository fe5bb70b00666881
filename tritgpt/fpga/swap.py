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

The memory map it reads is made and completed by tritgpt.fpga.memmap (at the end of
the build).
"""

from __future__ import annotations

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
from .toolchain import PrjxrayUtils as Tools, find_prjxray_utils as find_tools
from ..errors import UserError
from .files import atomic_write, sha256_file
from .memmap import (BIT_NAME, FASM_NAME, FRAMES_NAME, MEMMAP_NAME, SWAP_FORMAT, complete_memmap, db_identity,
                     find_db, get_image, held_mask, load_images, load_memmap, load_tables, put_image)

# ----------------------------------------------------------------------------
# tools
# ----------------------------------------------------------------------------


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
    _refuse_build_files_as_outputs(build_dir, (out, fasm_out, frames_out))
    mm, db, notes = _check_build(build_dir)
    res.warnings += notes
    clock.lap("check build")
    imgs = _check_images(build_dir, mm, new_weights)
    res.images_changed = imgs.changed
    tools = _tools_for(method, verify)
    clock.lap("check weights")

    fasm_text = (build_dir / FASM_NAME).read_text()
    plan = _new_contents(mm, fasm_text, imgs, res)
    rw = fb.rewrite(fasm_text, plan.new)
    res.fasm_lines = rw.changed + rw.inserted
    clock.lap("encode FASM")

    part = mm["part"]
    tiles = {c["tile"]: c["frame_bits"] for c in mm["cells"]}
    touched = {t: tiles[t] for t in plan.touched_tiles}
    with tempfile.TemporaryDirectory(prefix="tritgpt-swap-") as tmp_s:
        tmp = Path(tmp_s)
        frames_text = _new_frames(method, build_dir, tmp, rw.text, plan, touched, db, part, tools, nice, clock, res)
        new_bit = _frames_to_bitstream(build_dir, tmp, frames_text, db, part, tools, nice)
        clock.lap("xc7frames2bit")
        if verify != "none":
            _verify_bitstream(tmp / "new.bit", frames_text, (build_dir / FRAMES_NAME).read_text(), touched, mm,
                              plan.old, imgs.all_new, db / part / "part.yaml", db, tools.bitread)
            res.verified.append("bitread: the bitstream's frames are the swapped frames; every mapped block RAM "
                                "holds the new images, every other one is unchanged")
            clock.lap("verify (bitread)")
        if verify == "bit2fasm":
            _verify_with_bit2fasm(tmp, mm, plan.old, imgs.all_new, db, part, tools, nice)
            res.verified.append("bit2fasm + FASM reader: every mapped block RAM holds the new images, "
                                "every other one is unchanged")
            clock.lap("verify (bit2fasm)")
    atomic_write(out, new_bit)
    if fasm_out:
        atomic_write(Path(fasm_out), rw.text)
    if frames_out:
        atomic_write(Path(frames_out), frames_text)
    res.identical = new_bit == (build_dir / BIT_NAME).read_bytes()
    clock.lap("write")
    res.times = dict(clock.times)
    res.times["total"] = clock.total()
    return res


def _refuse_build_files_as_outputs(build_dir: Path, outputs) -> None:
    inputs = {(build_dir / name).resolve() for name in (FASM_NAME, FRAMES_NAME, BIT_NAME, MEMMAP_NAME)}
    for o in outputs:
        if o is not None and Path(o).resolve() in inputs:
            raise UserError(f"{o} is a file of the build; write the swapped outputs elsewhere")


def _check_build(build_dir: Path) -> tuple[dict, Path, list[str]]:
    """The build's completed memory map, its prjxray-db (the one it was made with), notes."""
    mm, notes = _bound(build_dir)
    binding = mm["swap"]
    part = mm["part"]
    db = find_db(part, binding["prjxray_db"].get("dir"))
    now_db = db_identity(db, part)
    if now_db["sha256"] != binding["prjxray_db"]["sha256"]:
        diff = [k for k in binding["prjxray_db"]["sha256"] if binding["prjxray_db"]["sha256"][k] != now_db["sha256"].get(k)]
        raise UserError(f"the prjxray-db at {db} is not the one the build used ({', '.join(diff)} differ); "
                        "swap with the same database, or rebuild")
    return mm, db, notes


@dataclass
class _Images:
    new: dict[str, np.ndarray]      # the new package's images
    old: dict[str, np.ndarray]      # the build's
    all_new: dict[str, np.ndarray]  # the new images and the build's (unchanged) tables
    changed: list[str]


def _check_images(build_dir: Path, mm: dict, new_weights: Path) -> _Images:
    """The new weights fit the build, and the build's own images and tables are the ones it used."""
    binding = mm["swap"]
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
    changed = sorted(n for n in new_images if not np.array_equal(new_images[n], old_images[n]))
    return _Images(new_images, old_images, {**tables, **new_images}, changed)


def _tools_for(method: str, verify: str) -> Tools:
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
    return tools


@dataclass
class _Contents:
    old: dict[str, fb.Half]   # every half of every BRAM tile the map knows, as the build has it
    new: dict[str, fb.Half]   # the halves of the cells holding images, with the new images

    @property
    def changed(self) -> dict[str, fb.Half]:
        return {p: h for p, h in self.new.items() if h != self.old[p]}

    @property
    def touched_tiles(self) -> set[str]:
        """Tiles whose contents change (none when the weights are the build's)."""
        return {p.split(".RAMB18_Y")[0] for p in self.changed}


def _new_contents(mm: dict, fasm_text: str, imgs: _Images, res: SwapResult) -> _Contents:
    """Each mapped cell's new contents: its current contents with the image bits it holds replaced."""
    old_all = {f"{c['tile']}.RAMB18_Y{h}": fb.Half.zeros() for c in mm["cells"] for h in (0, 1)}  # unused: zero
    old_all.update(fb.read_halves(fasm_text, set(old_all)))
    _refuse_changes_outside_block_ram(mm, imgs, res)
    cells = [c for c in mm["cells"]
             if any(m["image"] in imgs.new for m in ([c["image"]] if c.get("image") else c.get("candidates") or []))]
    new_halves: dict[str, fb.Half] = {}
    for c in cells:
        old = [old_all[p] for p in c["fasm_halves"]]
        hs = _cell_with_images(c, old, imgs.all_new)
        if any(h != o for h, o in zip(hs, old)):
            res.changed_cells += 1
        new_halves.update(zip(c["fasm_halves"], hs))
    res.cells = len(cells)
    res.halves = len(new_halves)
    return _Contents(old_all, new_halves)


def _refuse_changes_outside_block_ram(mm: dict, imgs: _Images, res: SwapResult) -> None:
    """A changed image bit that no block RAM holds needs a rebuild; an image in none is noted."""
    absent = []
    for name in imgs.changed:
        held = held_mask(mm["cells"], name, len(imgs.new[name]))
        diff = (imgs.new[name] ^ imgs.old[name]) & ~held & np.uint64(0xFFFFFFFF)
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


def _cell_with_images(c: dict, old: list[fb.Half], images: dict[str, np.ndarray]) -> list[fb.Half]:
    """The halves of cell `c` with its image bits from `images`; every candidate place must agree."""
    init0, initp0 = fb.halves_to_cell(c["primitive"], old)
    results = []
    for m in ([c["image"]] if c.get("image") else c["candidates"]):
        init, initp = init0.copy(), initp0.copy()
        put_image(init, initp, c["port_width"], m, images[m["image"]])
        results.append((init, initp))
    if any(not (np.array_equal(r[0], results[0][0]) and np.array_equal(r[1], results[0][1])) for r in results[1:]):
        where = ", ".join(f"{m['image']} words {m['word_offset']}.." for m in c["candidates"][:3])
        raise UserError(f"block RAM {c['cell']}: the build's contents fit several places ({where}) and the new "
                        "weights differ between them; rebuild with these weights")
    return fb.cell_to_halves(c["primitive"], *results[0])


def _new_frames(method: str, build_dir: Path, tmp: Path, new_fasm: str, plan: _Contents, touched: dict[str, dict],
                db: Path, part: str, tools: Tools, nice: int, clock: _Clock, res: SwapResult) -> str:
    """The build's frames with the new block RAM contents (see the module doc for the methods)."""
    if method == "full":
        (tmp / "swap.fasm").write_text(new_fasm)
        _run(tools.fasm2frames + ["--db-root", str(db), "--part", part, "swap.fasm", "new.frames"], tmp,
             "fasm2frames", nice)
        frames_text = (tmp / "new.frames").read_text()
        old_frames = (build_dir / FRAMES_NAME).read_text()
        res.frames_changed = sum(a != b for a, b in zip(frames_text.splitlines(), old_frames.splitlines()))
        clock.lap("fasm2frames")
        return frames_text
    frames = bf.FramesFile.read(build_dir / FRAMES_NAME)
    clock.lap("read frames")
    if method == "direct":
        res.frames_changed = bf.write_halves_to_frames(frames, plan.changed, touched, db)
        clock.lap("encode frames")
    elif touched:
        (tmp / "bram.fasm").write_text(_touched_tiles_fasm(new_fasm, plan, touched))
        clock.lap("encode FASM")
        _run(tools.fasm2frames + ["--sparse", "--db-root", str(db), "--part", part, "bram.fasm", "bram.frames"],
             tmp, "fasm2frames", nice)
        clock.lap("fasm2frames")
        sparse = bf.read_frames_text((tmp / "bram.frames").read_text())
        res.frames_changed = bf.merge_tile_words(frames, sparse.get, touched)
        clock.lap("merge frames")
    return frames.text()


def _touched_tiles_fasm(new_fasm: str, plan: _Contents, touched: dict[str, dict]) -> str:
    """The INIT lines of both halves of every touched tile: the new lines, the other half as it is."""
    sub = {f"{t}.RAMB18_Y{h}" for t in touched for h in (0, 1)}
    lines = []
    for p in sorted(sub):
        if p in plan.new:
            lines += fb.half_lines(p, plan.new[p]).values()
    for line in new_fasm.splitlines():
        parsed = fb.parse_init_line(line)
        if parsed and parsed[0] in sub and parsed[0] not in plan.new:
            lines.append(line)
    return "\n".join(lines) + "\n"


def _frames_to_bitstream(build_dir: Path, tmp: Path, frames_text: str, db: Path, part: str, tools: Tools,
                         nice: int) -> bytes:
    """xc7frames2bit on the new frames -> tmp/new.bit, with the build's .bit header (design name, date)."""
    old_bit = (build_dir / BIT_NAME).read_bytes()
    header, _ = bf.bit_header(old_bit)
    design = dict(header).get(ord("a"), b"").split(b"\0")[0].decode(errors="replace")
    frm_name = design.split(";")[0] or FRAMES_NAME
    if "/" in frm_name or not frm_name:
        frm_name = FRAMES_NAME
    (tmp / frm_name).write_text(frames_text)
    _run(tools.xc7frames2bit + ["--part_file", str(db / part / "part.yaml"), "--part_name", part,
                                "--frm_file", frm_name, "--output_file", "new.bit"], tmp, "xc7frames2bit", nice)
    new_bit = bf.copy_header_fields((tmp / "new.bit").read_bytes(), old_bit)
    (tmp / "new.bit").write_bytes(new_bit)
    return new_bit


def _verify_with_bit2fasm(tmp: Path, mm: dict, old: dict[str, fb.Half], images: dict[str, np.ndarray], db: Path,
                          part: str, tools: Tools, nice: int) -> None:
    _run(tools.bit2fasm + ["--db-root", str(db), "--part", part,
                           f"--frame_range=0x{bf.BRAM_FRAME_RANGE[0]:08x}:0x{bf.BRAM_FRAME_RANGE[1]:08x}",
                           "new.bit"], tmp, "bit2fasm", nice, stdout=tmp / "decoded.fasm")
    decoded = fb.read_halves((tmp / "decoded.fasm").read_text(), set(old))
    _check_halves(decoded, mm, old, images, "bit2fasm")


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
