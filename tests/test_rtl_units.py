"""Unit tests of the core's arithmetic blocks against the model's formulas.

tg_round_sat is the requantiser lane (rshift_round + sat8 / sat16 / ReLU clip, shift
1..36) and the normaliser lane (shift 16..31, sat8); tg_mac_slice the DSP48 multiply
(25 x 18 signed); tg_xorshift32 the PRNG step. Edge cases: extreme operands,
values on and next to every rounding boundary, saturation in both directions.
"""

from __future__ import annotations

import subprocess

import numpy as np
import pytest

from tritgpt import hdl
from tritgpt.ml.model import rshift_round, sat, xorshift32
from tritgpt.sim.verilate import VerilatorModel

from _rtl_helpers import ROOT, missing

pytestmark = pytest.mark.skipif(missing() is not None, reason=str(missing()))

TB = [ROOT / "tests" / "rtl" / "tg_units_top.v", ROOT / "tests" / "rtl" / "tb_units.cpp"]


@pytest.fixture(scope="module")
def units_exe():
    # tg_round_sat, tg_mac_slice (common) and tg_xorshift32 (sampler), from their cores
    sources = hdl.rtl_sources("tritgpt:core:sampler")
    return VerilatorModel("tb_units", top="tg_units_top", sources=[*sources, *TB]).build()


def run(exe, vectors):
    text = "".join(" ".join(str(int(x)) for x in v) + "\n" for v in vectors)
    r = subprocess.run([str(exe)], input=text, capture_output=True, text=True, check=True)
    return [tuple(int(x) for x in line.split()) for line in r.stdout.splitlines()]


def requant_ref(p, s, mode):
    v = int(rshift_round(p, s))
    return int(np.clip(v, 0, 127)) if mode == 2 else int(sat(v, 8 if mode == 0 else 16))


def test_round_sat_mac_xorshift(units_exe):
    rng = np.random.default_rng(3)
    vecs = []
    # requant lane: every shift, values at and around rounding boundaries, extremes
    for s in range(1, 37):
        base = [0, 1, -1, 2**33, -(2**33), 2**34 - 1, -(2**34)]
        for k in (-3, -1, 0, 1, 2, 127, 128, 255, 256, 32767, 32768, -128, -129, -32768, -32769):
            for d in (-1, 0, 1):
                base.append(k * 2**(s - 1) + d)
        base += list(rng.integers(-(2**34), 2**34, 20))
        for p in base:
            p = int(np.clip(p, -(2**35), 2**35 - 1))
            vecs.append((p, s - 1, int(rng.integers(0, 3)), 0, 0, 0, 0, 1))
    # normaliser lane
    for s in range(16, 32):
        for k in (-129, -128, -127, -1, 0, 1, 126, 127, 128):
            for d in (-1, 0, 1):
                vecs.append((0, 0, 0, k * 2**(s - 1) + d, s - 16, 0, 0, 1))
        for p in rng.integers(-(2**38), 2**38, 20):
            vecs.append((0, 0, 0, int(p), s - 16, 0, 0, 1))
    # multiplier and PRNG
    ext_a, ext_b = [-(2**24), 2**24 - 1, -1, 0, 1, 127 * 2**17 + 255], [-(2**17), 2**17 - 1, -1, 0, 1, 255]
    for a in ext_a + list(rng.integers(-(2**24), 2**24, 30)):
        for b in ext_b + list(rng.integers(-(2**17), 2**17, 5)):
            vecs.append((0, 0, 0, 0, 0, int(a), int(b), int(rng.integers(1, 2**32))))
    vecs += [(0, 0, 0, 0, 0, 0, 0, s) for s in (1, 0x9E3779B9, 0xFFFFFFFF, 0x80000000)]
    got = run(units_exe, vecs)
    assert len(got) == len(vecs)
    for v, (ya, yb, p, n, ya_copy) in zip(vecs, got):
        pa, sa, ma, pb, sb, a, b, s = v
        assert ya == requant_ref(pa, sa + 1, ma), f"requant lane p={pa} s={sa + 1} mode={ma}: {ya}"
        assert ya_copy == ya, f"requant lane's copy register p={pa} s={sa + 1} mode={ma}: {ya_copy} != {ya}"
        assert yb == int(sat(int(rshift_round(pb, sb + 16)), 8)), f"norm lane p={pb} s={sb + 16}: {yb}"
        assert p == a * b, f"DSP slice {a} * {b}: {p}"
        assert n == xorshift32(s), f"xorshift32({s:#x}): {n:#x}"
