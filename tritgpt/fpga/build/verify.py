"""The verify stage: what nextpnr-xilinx wrote is what the build meant (on by default; --no-verify skips it).

1. block RAM INIT: every block RAM cell of the routed netlist (nextpnr's --write JSON,
   cells RAMB18E1_RAMB18E1 / RAMB36E1_RAMB36E1 with X_ORIG_TYPE) has exactly the INIT and
   INITP values synthesis gave it (tritgpt.json, every defined bit), none is lost, and
   those values are the weights package's images and the ROM tables: each cell with
   contents matches a place in an image or table (lanes of its port, see memmap), and
   every bit that is 1 in an image is held by a block RAM, up to the depth of the
   memory holding it (a memory shallower than its image holds its first words, as
   $readmemh loads them). Images that synthesis put in no block RAM at all (small ones
   can become logic) are listed as such.
2. FASM read-back: prjxray's bit2fasm decodes the written .bit, independently of the
   encoder that made it; its features, as a set of single-bit features, are nextpnr's
   FASM's. Two kinds of difference carry no information and are counted, not failed:
   features of nextpnr's FASM that set no configuration bit (pseudo-PIPs in
   ppips_*.db, features whose segbits are all clear), which no bitstream can show; and
   features bit2fasm reports whose set bits are all among the bits nextpnr's features
   in the same tile set (a decoder sees a feature wherever its bits are on).

3. Post-route simulation (`--postroute-sim`, off by default: minutes): the routed
   netlist turned back into primitives (tritgpt.sim.postroute) answers IDENTIFY and
   generates the reference model's tokens over its UART in Verilator.

A mismatch fails the build with one line naming the memory, the feature or the token.
The results go to verify.json and the report's "verify".
"""

from __future__ import annotations

import json
import re
import subprocess
import time
from collections import defaultdict
from pathlib import Path

import numpy as np

from .. import fasm_bram as fb
from .. import memmap
from ...errors import UserError


class VerifyError(UserError):
    """What the build wrote is not what it meant."""


# ----------------------------------------------------------------------------
# 1. block RAM INIT
# ----------------------------------------------------------------------------


def _defined_bits(prim: str, params: dict) -> tuple[np.ndarray, np.ndarray]:
    init, initp, dinit, dinitp = fb.params_bits(params, prim)
    return np.concatenate([init, initp]), np.concatenate([dinit, dinitp]).astype(bool)


def _first_diff_param(prim: str, a: np.ndarray, b: np.ndarray, mask: np.ndarray) -> str:
    n_init = fb.CELL_LINES[prim][0] * fb.LINE_BITS
    i = int(np.nonzero((a != b) & mask)[0][0])
    kind, j = ("INIT", i) if i < n_init else ("INITP", i - n_init)
    return f"{kind}_{j // fb.LINE_BITS:02X} bit {j % fb.LINE_BITS}"


def check_init(synth_json: Path, routed_json: Path, images: dict[str, np.ndarray],
               tables: dict[str, np.ndarray]) -> dict:
    """Check 1 (see the module doc); a summary, or VerifyError naming the memory."""
    synth = memmap.bram_cells(json.loads(Path(synth_json).read_text()))
    routed = memmap.bram_cells(json.loads(Path(routed_json).read_text()))
    for name, (prim, params) in sorted(synth.items()):
        if name not in routed:
            raise VerifyError(f"verify: block RAM {name} of the synthesised netlist is not in the routed netlist "
                              f"({routed_json.name})")
        rprim, rparams = routed[name]
        if rprim != prim:
            raise VerifyError(f"verify: block RAM {name} is a {prim} after synthesis but a {rprim} after routing")
        want, defined = _defined_bits(prim, params)
        got, _ = _defined_bits(prim, rparams)
        if not np.array_equal(want[defined], got[defined]):
            raise VerifyError(f"verify: block RAM {name}: {_first_diff_param(prim, want, got, defined)} in the routed "
                              "netlist differs from synthesis")
    extra = sorted(set(routed) - set(synth))
    if extra:
        raise VerifyError(f"verify: block RAM {extra[0]} is in the routed netlist but not in the synthesised one")

    resolved = memmap.match_cells(routed, {**tables, **images})
    for name, (prim, params) in sorted(routed.items()):
        bits, defined = _defined_bits(prim, params)
        if name not in resolved and (bits.astype(bool) & defined).any():
            raise VerifyError(f"verify: block RAM {name}: its INIT values are none of the weights package's images "
                              "or the ROM tables")
    placed = [{"cell": n, "image": r.get("image")} for n, r in resolved.items()]
    # a cell whose contents fit several identical regions holds each of them
    placed += [{"cell": n, "image": m} for n, r in resolved.items() for m in r.get("candidates", ())]
    held_images, not_in_bram, shorter = [], [], {}
    for name, img in images.items():
        held = memmap.held_mask(placed, name, len(img))
        if not held.any():
            not_in_bram.append(name)
            continue
        # a memory shallower than its image holds its first words ($readmemh stops at the end)
        depth = int(np.nonzero(held)[0][-1]) + 1
        lost = img[:depth] & ~held[:depth] & np.uint64(0xFFFFFFFF)
        if lost.any():
            w = int(np.nonzero(lost)[0][0])
            raise VerifyError(f"verify: {name} word {w} (bits 0x{int(lost[w]):08x}) is in no block RAM's INIT")
        if depth < len(img):
            shorter[name] = {"words": int(len(img)), "words_in_block_ram": depth}
        held_images.append(name)
    cells_with_contents = sum(1 for r in resolved.values())
    return {
        "name": "bram-init", "passed": True,
        "cells": len(routed), "cells_with_contents": cells_with_contents,
        "images_held": sorted(held_images), "images_not_in_block_ram": sorted(not_in_bram),
        "images_deeper_than_their_memory": shorter,
        "tables_held": sorted(t for t in tables if memmap.held_mask(placed, t, len(tables[t])).any()),
        "summary": (f"{len(routed)} block RAM cells have synthesis' INIT/INITP; {len(held_images)} package images "
                    f"held bit for bit by {cells_with_contents} cells"
                    + (f"; {len(not_in_bram)} in no block RAM ({', '.join(n.removesuffix('.hex') for n in sorted(not_in_bram))})"
                       if not_in_bram else "")
                    + "".join(f"; {n}: the first {v['words_in_block_ram']} of {v['words']} words (the memory's depth)"
                              for n, v in sorted(shorter.items()))),
    }


# ----------------------------------------------------------------------------
# 2. FASM read-back
# ----------------------------------------------------------------------------


_LINE_RE = re.compile(r"^(?P<feature>[A-Za-z0-9_.\[\]:]+?)(?:\[(?P<hi>\d+)(?::(?P<lo>\d+))?\])?"
                      r"(?:\s*=\s*(?P<value>\S+))?$")


def _value_bits(value: str | None, width: int) -> list[int]:
    """Indices of the 1 bits of a FASM value (1 when absent)."""
    if value is None:
        return [0]
    try:
        v = fb.parse_value(value, width)
    except fb.FasmError as exc:
        raise VerifyError(f"verify: cannot read FASM value {value!r}: {exc}") from None
    return [i for i in range(max(width, v.bit_length())) if (v >> i) & 1]


def canonical_features(text: str) -> set[str]:
    """A FASM text as the set of its single-bit features that are on: `T.F[hi:lo] = N'b...` -> T.F[i]."""
    out = set()
    for raw in text.splitlines():
        line = raw.split("#", 1)[0].strip()
        if not line or line.startswith("{"):
            continue
        line = re.sub(r"\s*\{.*\}\s*$", "", line)  # annotations
        m = _LINE_RE.match(line)
        if not m:
            raise VerifyError(f"verify: cannot read FASM line {raw.strip()[:80]!r}")
        feat, hi, lo, value = m.group("feature"), m.group("hi"), m.group("lo"), m.group("value")
        if hi is None:
            if _value_bits(value, 1):
                out.add(feat)
            continue
        lo_i = int(lo) if lo is not None else int(hi)
        width = int(hi) - lo_i + 1
        for i in _value_bits(value, width):
            # bit 0 of a feature is the feature itself (prjxray's canonical form writes F, not F[0])
            out.add(f"{feat}[{lo_i + i}]" if lo_i + i else feat)
    return out


class SegbitsDb:
    """Per tile type, which configuration bits each feature sets (prjxray-db segbits), and its pseudo-PIPs."""

    def __init__(self, db_family_dir: Path, part: str):
        self.dir = Path(db_family_dir)
        fabric = memmap.fabric_of(self.dir, part)
        grid = json.loads((self.dir / (fabric or "") / "tilegrid.json").read_text())
        self.tile_type = {tile: info.get("type", "") for tile, info in grid.items()}
        # tiles whose bits are described by another type's segbits (e.g. RIOB33_SING -> RIOB33)
        self.segbits_type = dict(self.tile_type)
        for tile, info in grid.items():
            for bits in (info.get("bits") or {}).values():
                if isinstance(bits, dict) and (bits.get("alias") or {}).get("type"):
                    self.segbits_type[tile] = bits["alias"]["type"]
        self._segbits: dict[str, dict[str, frozenset]] = {}
        self._ppips: dict[str, set] = {}

    @staticmethod
    def _key(feature: str) -> str:
        m = re.match(r"^(.*)\[0*(\d+)\]$", feature)
        if not m:
            return feature
        return f"{m.group(1)}[{m.group(2)}]" if int(m.group(2)) else m.group(1)

    def segbits(self, ttype: str) -> dict[str, frozenset]:
        if ttype not in self._segbits:
            table: dict[str, frozenset] = {}
            for path in sorted(self.dir.glob(f"segbits_{ttype.lower()}.*db")) + \
                    [p for p in [self.dir / f"segbits_{ttype.lower()}.db"] if p.exists()]:
                block = path.name.split(".")[1] if path.name.count(".") > 1 else "clb_io_clk"
                for line in path.read_text().splitlines():
                    parts = line.split()
                    if len(parts) < 1 or "." not in parts[0]:
                        continue
                    feature = self._key(parts[0].split(".", 1)[1])
                    table[feature] = frozenset((block, b) for b in parts[1:] if not b.startswith("!"))
            self._segbits[ttype] = table
        return self._segbits[ttype]

    def ppips(self, ttype: str) -> set[str]:
        if ttype not in self._ppips:
            path = self.dir / f"ppips_{ttype.lower()}.db"
            names = set()
            if path.exists():
                for line in path.read_text().splitlines():
                    if line.strip():
                        names.add(line.split()[0].split(".", 1)[1])
            self._ppips[ttype] = names
        return self._ppips[ttype]

    def set_bits(self, feature: str) -> frozenset | None:
        """The bits a TILE.FEATURE sets; None if the database does not know it."""
        tile, _, rest = feature.partition(".")
        return self.segbits(self.segbits_type.get(tile, "")).get(self._key(rest))

    def is_pseudo(self, feature: str) -> bool:
        tile, _, rest = feature.partition(".")
        return any(rest in self.ppips(t) for t in {self.tile_type.get(tile, ""), self.segbits_type.get(tile, "")})


def compare_features(written: set[str], decoded: set[str], db: SegbitsDb) -> dict:
    """Check 2's comparison (see the module doc); a summary, or VerifyError naming the feature."""
    silent = {f for f in written if db.is_pseudo(f) or db.set_bits(f) == frozenset()}
    visible = written - silent
    missing = sorted(visible - decoded)
    if missing:
        raise VerifyError(f"verify: {missing[0]} is in nextpnr's FASM but not in the bitstream (bit2fasm)"
                          + (f", and {len(missing) - 1} more" if len(missing) > 1 else ""))
    on_bits: dict[str, set] = defaultdict(set)
    for f in visible:
        on_bits[f.partition(".")[0]] |= db.set_bits(f) or set()
    implied = 0
    for f in sorted(decoded - visible):
        bits = db.set_bits(f)
        if bits is None or not bits <= on_bits.get(f.partition(".")[0], set()):
            raise VerifyError(f"verify: the bitstream has {f} (bit2fasm), which nextpnr's FASM does not")
        implied += 1
    return {"name": "fasm-readback", "passed": True, "features": len(visible), "decoded": len(decoded),
            "without_bits": len(silent), "implied": implied,
            "summary": (f"bit2fasm of the .bit gives nextpnr's {len(visible):,} features "
                        f"({len(silent):,} without configuration bits not visible; {implied:,} decoded features "
                        "implied by the same bits)")}


def check_fasm_readback(work: Path, bit2fasm: list[str], db_family_dir: Path, part: str,
                        time_limit: float | None = None) -> dict:
    decoded_path = work / "tritgpt.readback.fasm"
    cmd = list(bit2fasm) + ["--db-root", str(db_family_dir), "--part", part, "--canonical", "tritgpt.bit"]
    with open(work / "logs" / "verify.log", "w") as log, open(decoded_path, "w") as out:
        log.write("$ " + " ".join(cmd) + "\n")
        log.flush()
        try:
            rc = subprocess.run(cmd, cwd=work, stdout=out, stderr=log, timeout=time_limit).returncode
        except subprocess.TimeoutExpired:
            raise UserError(f"verify: bit2fasm did not finish within {time_limit:.0f} s") from None
    if rc != 0:
        raise UserError(f"verify: bit2fasm failed (exit {rc}); log: {work / 'logs' / 'verify.log'}")
    written = canonical_features((work / "tritgpt.fasm").read_text())
    decoded = canonical_features(decoded_path.read_text())
    return compare_features(written, decoded, SegbitsDb(db_family_dir, part))


# ----------------------------------------------------------------------------
# the stage
# ----------------------------------------------------------------------------


def check_postroute_sim(work: Path, *, clk_hz: int, clk_div: int, baud: int) -> dict:
    """nextpnr's routed netlist, as the primitives it placed (tritgpt.sim.postroute), in
    Verilator with the simulated board's harness: IDENTIFY and 2 greedy tokens over its
    UART, against the build's weights package and the reference model."""
    from ...sim import gatesim, postroute

    netlist = postroute.routed_netlist(work)
    t0 = time.monotonic()
    exe = gatesim.build_top(netlist, name="simboard_routed")
    exchange = gatesim.protocol_check(exe, work / "weights", clk_hz=clk_hz, clk_div=clk_div, baud=baud)
    cells = json.loads((work / "postroute_netlist.json").read_text())["cells"]
    n = sum(cells.values())
    return {"name": "postroute-sim", "passed": True,
            "summary": (f"the routed netlist's {n:,} primitives in Verilator answered IDENTIFY and generated the "
                        f"reference's tokens {exchange['tokens']} from {exchange['prompt']!r} "
                        f"({exchange['cycles']:,} design cycles)"),
            "cells": n, "tokens": exchange["tokens"],
            "prompt": exchange["prompt"], "cycles": exchange["cycles"],
            "verilator_build_s": gatesim.build_seconds(exe), "wall_s": round(time.monotonic() - t0, 1)}


def run(work: Path, *, bit2fasm: list[str], db_family_dir: Path, part: str, time_limit: float | None = None,
        postroute_sim: dict | None = None) -> dict:
    """The checks on a finished build directory (with postroute_sim, the clock and baud
    of the board: also check_postroute_sim); writes verify.json. Raises VerifyError (or
    UserError) on a mismatch."""
    work = Path(work)
    checks = []
    t0 = time.monotonic()
    images = memmap.load_images(work / "weights")
    tables = memmap.load_tables(work)
    checks.append(dict(check_init(work / "tritgpt.json", work / memmap.ROUTED_NAME, images, tables),
                       seconds=round(time.monotonic() - t0, 2)))
    t1 = time.monotonic()
    checks.append(dict(check_fasm_readback(work, bit2fasm, db_family_dir, part, time_limit),
                       seconds=round(time.monotonic() - t1, 2)))
    if postroute_sim:
        t2 = time.monotonic()
        checks.append(dict(check_postroute_sim(work, **postroute_sim), seconds=round(time.monotonic() - t2, 2)))
    result = {"passed": all(c["passed"] for c in checks), "checks": checks}
    (work / "verify.json").write_text(json.dumps(result, indent=2) + "\n")
    return result
