"""Block RAM contents in FASM: the INIT_xx/INITP_xx features of BRAM tiles.

A BRAM_L/BRAM_R tile has two RAMB18 halves, `TILE.RAMB18_Y0` and `TILE.RAMB18_Y1`.
Each half's contents are 64 features `INIT_00..INIT_3F[255:0]` (16 Kib of data) and 8
features `INITP_00..INITP_07[255:0]` (2 Kib of parity), in FASM like

    BRAM_L_X6Y45.RAMB18_Y1.INIT_00[255:0] = 256'b0001...0110

with bit 255 first. Bit k of INIT_ii is bit 256*ii + k of the half's data array
(likewise INITP). This module calls these arrays a half's `init`/`initp` bits.

How a cell's INIT parameters become FASM (nextpnr-xilinx, xilinx/fasm.cc,
write_bram_half/write_bram_init):

- RAMB18E1: the cell's INIT_ii/INITP_ii go unchanged to the half it is placed in
  (RAMB18_Y0 for an even site Y, RAMB18_Y1 for an odd one).
- RAMB36E1: the cell's 128 INIT_ii (32 Kib) and 16 INITP_ii (4 Kib) are split over
  both halves, bit-interleaved: cell bit n goes to half n % 2, at bit n // 2 of that
  half. (In the source: bit k of cell INIT_{2i+j} with k % 2 == half goes to bit
  128*j + k/2 of the half's INIT_i.) The same holds for INITP and for every
  READ/WRITE width: the split depends only on the bit index, the port widths only
  decide which bits one address reads (see `port_lanes`).
- A half gets an INIT line for every INIT parameter the cell has (yosys gives every
  block RAM cell all of them), zero-valued ones included; 'x' bits are written as 0.

Inside a cell, a port of width W reads word `a` from these bits (Xilinx block RAM
layout; W = 9/18/36/72 includes W/9 parity bits):

    W in (1, 2, 4):      data bit j of word a = INIT bit a*W + j
    W = 9*B (B bytes):   port bit p = 9*(p // 9) + r: data bit 8*(p//9) + r of the
                         word (INIT bit a*8B + 8*(p//9) + r) for r < 8, parity bit
                         p // 9 (INITP bit a*B + p//9) for r = 8

The functions here encode and decode these lines, read BRAM contents back from any
FASM (nextpnr's output, or bit2fasm's, which writes shorter slices such as
`INIT_00[251:0] = 252'b...` and leaves out zero features), and rewrite the BRAM
lines of chosen halves in a FASM text leaving every other line byte for byte.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

LINE_BITS = 256
HALF_INIT_LINES = 64
HALF_INITP_LINES = 8
HALF_INIT_BITS = HALF_INIT_LINES * LINE_BITS      # 16384
HALF_INITP_BITS = HALF_INITP_LINES * LINE_BITS    # 2048
CELL_LINES = {"RAMB18E1": (64, 8), "RAMB36E1": (128, 16)}

# TILE.RAMB18_Yh.INIT_ii / INITP_ii with an optional [hi:lo] or [i]; the value follows "="
_FEATURE_RE = re.compile(
    r"^(?P<prefix>[A-Za-z0-9_]+\.RAMB18_Y[01])\.(?P<kind>INITP?)_(?P<idx>[0-9A-Fa-f]{2})"
    r"(?:\[(?P<hi>\d+)(?::(?P<lo>\d+))?\])?$")
_VALUE_RE = re.compile(r"^(?:(?P<width>\d+)'(?P<base>[bBhHdDoO]))?(?P<digits>[0-9a-fA-F_]+)$")
_BASES = {"b": 2, "h": 16, "d": 10, "o": 8}


class FasmError(ValueError):
    """A FASM line that cannot be read."""


@dataclass
class Half:
    """Contents of one RAMB18 half: 16384 data bits and 2048 parity bits (uint8 0/1)."""

    init: np.ndarray
    initp: np.ndarray

    @classmethod
    def zeros(cls) -> "Half":
        return cls(np.zeros(HALF_INIT_BITS, np.uint8), np.zeros(HALF_INITP_BITS, np.uint8))

    def copy(self) -> "Half":
        return Half(self.init.copy(), self.initp.copy())

    def bits(self, kind: str) -> np.ndarray:
        return self.init if kind == "INIT" else self.initp

    def __eq__(self, other) -> bool:
        return (isinstance(other, Half) and np.array_equal(self.init, other.init)
                and np.array_equal(self.initp, other.initp))


# ----------------------------------------------------------------------------
# cells <-> halves
# ----------------------------------------------------------------------------


def cell_halves(primitive: str, tile: str, site: str) -> list[str]:
    """FASM prefixes of the halves a placed cell occupies, in cell-bit order."""
    if primitive == "RAMB36E1":
        return [f"{tile}.RAMB18_Y0", f"{tile}.RAMB18_Y1"]
    if primitive == "RAMB18E1":
        y = int(re.search(r"Y(\d+)$", site).group(1))
        return [f"{tile}.RAMB18_Y{y % 2}"]
    raise ValueError(f"not a block RAM primitive: {primitive}")


def cell_to_halves(primitive: str, init: np.ndarray, initp: np.ndarray) -> list[Half]:
    """A cell's INIT/INITP bit arrays as the contents of its halves (see cell_halves)."""
    n_init, n_initp = CELL_LINES[primitive]
    init = np.asarray(init, np.uint8)
    initp = np.asarray(initp, np.uint8)
    if len(init) != n_init * LINE_BITS or len(initp) != n_initp * LINE_BITS:
        raise ValueError(f"{primitive}: expected {n_init * LINE_BITS} INIT and {n_initp * LINE_BITS} INITP bits")
    if primitive == "RAMB18E1":
        return [Half(init.copy(), initp.copy())]
    return [Half(init[h::2].copy(), initp[h::2].copy()) for h in (0, 1)]


def halves_to_cell(primitive: str, halves: list[Half]) -> tuple[np.ndarray, np.ndarray]:
    """Inverse of cell_to_halves: the cell's INIT and INITP bit arrays."""
    if primitive == "RAMB18E1":
        return halves[0].init.copy(), halves[0].initp.copy()
    init = np.zeros(2 * HALF_INIT_BITS, np.uint8)
    initp = np.zeros(2 * HALF_INITP_BITS, np.uint8)
    for h in (0, 1):
        init[h::2] = halves[h].init
        initp[h::2] = halves[h].initp
    return init, initp


def params_bits(params: dict, primitive: str) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """INIT/INITP bits of a cell from its JSON parameters (yosys/nextpnr: MSB-first strings).

    Returns (init, initp, init_defined, initp_defined): 'x'/'z' bits are 0 in the
    values (as nextpnr writes them) and 0 in the `defined` masks.
    """
    n_init, n_initp = CELL_LINES[primitive]
    out = []
    for prefix, n in (("INIT", n_init), ("INITP", n_initp)):
        val = np.zeros(n * LINE_BITS, np.uint8)
        dfn = np.zeros(n * LINE_BITS, np.uint8)
        for i in range(n):
            v = params.get(f"{prefix}_{i:02X}")
            if v is None:
                continue
            if isinstance(v, int):
                s = format(v, "b")
            else:
                s = str(v)
            s = s[-LINE_BITS:].rjust(LINE_BITS, "0")[::-1]  # LSB first
            raw = np.frombuffer(s.encode(), np.uint8)
            val[i * LINE_BITS:(i + 1) * LINE_BITS] = raw == ord("1")
            dfn[i * LINE_BITS:(i + 1) * LINE_BITS] = (raw == ord("0")) | (raw == ord("1"))
        out += [val, dfn]
    return out[0], out[2], out[1], out[3]


# ----------------------------------------------------------------------------
# port lanes
# ----------------------------------------------------------------------------


def data_parity_width(width: int) -> tuple[int, int]:
    """(data bits, parity bits) of a port word of `width` bits."""
    if width in (1, 2, 4):
        return width, 0
    if width in (9, 18, 36, 72):
        return width - width // 9, width // 9
    raise ValueError(f"not a block RAM port width: {width}")


def port_lanes(width: int) -> list[tuple[str, int]]:
    """Where each port bit p (0..width-1) of a word lives: ("INIT"|"INITP", lane j).

    Word a's port bit p is INIT bit a*D + j (kind INIT) or INITP bit a*P + j (kind
    INITP), D/P = data/parity bits per word.
    """
    if width in (1, 2, 4):
        return [("INIT", p) for p in range(width)]
    data, parity = data_parity_width(width)
    return [("INIT", 8 * (p // 9) + p % 9) if p % 9 < 8 else ("INITP", p // 9) for p in range(width)]


def cell_depth(primitive: str, width: int) -> int:
    n_init, _ = CELL_LINES[primitive]
    return n_init * LINE_BITS // data_parity_width(width)[0]


# ----------------------------------------------------------------------------
# FASM lines
# ----------------------------------------------------------------------------


def _bits_text(bits: np.ndarray) -> str:
    return (np.asarray(bits[::-1], np.uint8) + 48).tobytes().decode()


def half_lines(prefix: str, half: Half, n_init: int = HALF_INIT_LINES,
               n_initp: int = HALF_INITP_LINES) -> dict[str, str]:
    """The INIT/INITP lines of a half as nextpnr-xilinx writes them: {feature: line}.

    feature is e.g. "BRAM_L_X6Y45.RAMB18_Y1.INIT_00" (no bit range); the line has no
    newline. Order: INIT_00..INIT_3F then INITP_00..INITP_07.
    """
    out = {}
    for kind, n, bits in (("INIT", n_init, half.init), ("INITP", n_initp, half.initp)):
        for i in range(n):
            feat = f"{prefix}.{kind}_{i:02X}"
            out[feat] = f"{feat}[255:0] = 256'b{_bits_text(bits[i * LINE_BITS:(i + 1) * LINE_BITS])}"
    return out


def parse_value(text: str | None, width: int) -> int:
    """A FASM value (256'b..., 12'h..., 5, or absent = 1) as an integer."""
    if text is None or text.strip() == "":
        return 1
    m = _VALUE_RE.match(text.strip())
    if not m:
        raise FasmError(f"not a FASM value: {text.strip()[:40]!r}")
    digits = m.group("digits").replace("_", "")
    base = _BASES[m.group("base").lower()] if m.group("base") else 10
    try:
        value = int(digits, base)
    except ValueError:
        raise FasmError(f"not a FASM value: {text.strip()[:40]!r}") from None
    if m.group("width") and value >> int(m.group("width")):
        raise FasmError(f"value {text.strip()[:40]!r} does not fit its width")
    if value >> width:
        raise FasmError(f"value {text.strip()[:40]!r} does not fit {width} bits")
    return value


def parse_init_line(line: str):
    """(prefix, kind, index, lo, width, value) of a BRAM INIT/INITP line, else None."""
    if "RAMB18_Y" not in line or "INIT" not in line:
        return None
    for mark in ("#", "{"):
        if mark in line:
            line = line[:line.index(mark)]
    feat, eq, value = line.partition("=")
    m = _FEATURE_RE.match(feat.strip())
    if not m:
        return None
    hi = m.group("hi")
    lo = m.group("lo")
    if hi is None:
        hi_i, lo_i = 0, 0
    elif lo is None:
        hi_i = lo_i = int(hi)
    else:
        hi_i, lo_i = int(hi), int(lo)
    if hi_i < lo_i or hi_i >= LINE_BITS:
        raise FasmError(f"bad bit range in {line.strip()[:80]!r}")
    width = hi_i - lo_i + 1
    value = value.strip()
    if value.startswith(f"{width}'b") and len(value) == width + len(str(width)) + 2:
        try:
            v = int(value[len(str(width)) + 2:], 2)  # nextpnr's form, the common case
        except ValueError:
            v = parse_value(value, width)
    else:
        v = parse_value(value if eq else None, width)
    return m.group("prefix"), m.group("kind"), int(m.group("idx"), 16), lo_i, width, v


def read_halves(text: str, prefixes=None) -> dict[str, Half]:
    """BRAM contents of every half (or those in `prefixes`) named in a FASM text.

    Features that are not set are 0. A half that has no INIT/INITP line is absent.
    """
    wanted = set(prefixes) if prefixes is not None else None
    out: dict[str, Half] = {}
    for n, line in enumerate(text.splitlines(), 1):
        try:
            parsed = parse_init_line(line)
        except FasmError as exc:
            raise FasmError(f"line {n}: {exc}") from None
        if not parsed:
            continue
        prefix, kind, idx, lo, width, value = parsed
        if wanted is not None and prefix not in wanted:
            continue
        limit = HALF_INIT_LINES if kind == "INIT" else HALF_INITP_LINES
        if idx >= limit:
            raise FasmError(f"line {n}: {kind}_{idx:02X} does not exist in a RAMB18 half")
        half = out.setdefault(prefix, Half.zeros())
        bits = half.bits(kind)
        base = idx * LINE_BITS + lo
        if value:
            vb = np.unpackbits(np.frombuffer(value.to_bytes((width + 7) // 8, "little"), np.uint8),
                               bitorder="little")[:width]
            bits[base: base + width] |= vb
    return out


@dataclass
class RewriteResult:
    text: str
    changed: int      # lines whose text changed
    inserted: int     # lines added (features the original did not list)
    halves: int       # halves rewritten


def rewrite(text: str, new: dict[str, Half]) -> RewriteResult:
    """Replace the INIT/INITP lines of the halves in `new`; every other line is kept.

    Lines of those halves are written as nextpnr-xilinx writes them (`[255:0] =
    256'b...`). A feature the original does not list is added after the half's last
    INIT/INITP line, only if its new value is not zero (so a zero feature stays
    absent, as in bit2fasm's output). A half in `new` that has no INIT line at all in
    the text is an error: the FASM does not use that block RAM.
    """
    lines = text.splitlines(keepends=True)
    canon = {p: half_lines(p, h) for p, h in new.items()}
    seen: dict[str, set] = {p: set() for p in new}
    last: dict[str, int] = {}
    out_idx: list = []  # per input line: replacement text or None (keep)
    changed = 0
    for i, line in enumerate(lines):
        if "RAMB18_Y" not in line or "INIT" not in line:
            out_idx.append(None)
            continue
        parsed = parse_init_line(line)
        if not parsed or parsed[0] not in new:
            out_idx.append(None)
            continue
        prefix, kind, idx = parsed[:3]
        feat = f"{prefix}.{kind}_{idx:02X}"
        if feat in seen[prefix]:
            # a second line of the same feature (a sliced form): already written in full
            out_idx.append("")
            changed += 1
            continue
        seen[prefix].add(feat)
        last[prefix] = i
        end = line[len(line.rstrip("\r\n")):] or "\n"
        repl = canon[prefix][feat] + end
        out_idx.append(repl)
        if repl != line:
            changed += 1
    missing = [p for p in new if p not in last]
    if missing:
        raise FasmError("no INIT lines for " + ", ".join(sorted(missing)[:4])
                        + (" ..." if len(missing) > 4 else "") + " in the FASM: those block RAMs are not used there")
    extra: dict[int, list[str]] = {}
    inserted = 0
    for prefix, feats in canon.items():
        half = new[prefix]
        for feat, line in feats.items():
            if feat in seen[prefix]:
                continue
            kind, idx = feat.rsplit(".", 1)[1].split("_")
            i = int(idx, 16)
            if half.bits(kind)[i * LINE_BITS:(i + 1) * LINE_BITS].any():
                extra.setdefault(last[prefix], []).append(line + "\n")
                inserted += 1
    parts = []
    for i, line in enumerate(lines):
        repl = out_idx[i]
        parts.append(line if repl is None else repl)
        parts.extend(extra.get(i, ()))
    return RewriteResult("".join(parts), changed, inserted, len(new))
