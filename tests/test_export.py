"""Weights packages: round trip, power-of-two images, and every bad input."""

import json
import shutil

import numpy as np
import pytest

from tritgpt.ml import export as E
from tritgpt.ml.model import Config, IntParams


@pytest.fixture
def pkg(tmp_path):
    p = IntParams.random(Config.load("default"), seed=11)
    return p, E.write_package(p, tmp_path / "w")


def test_round_trip_is_exact(pkg):
    p, d = pkg
    q = E.load_package(d)
    assert q.digest() == p.digest()
    for a, b in zip(p.arrays(), q.arrays()):
        assert np.array_equal(a, b)
    assert q.requant == p.requant and q.att_shift == p.att_shift and q.emb_shift == p.emb_shift


def test_every_image_has_power_of_two_depth(pkg):
    _, d = pkg
    for f in d.glob("*.hex"):
        n = len(f.read_text().split())
        assert n & (n - 1) == 0, f"{f.name}: {n} words"
        assert all(len(w) == 8 for w in f.read_text().split())


def test_bank_packing_follows_the_documented_codes(tmp_path):
    cfg = Config.load("default")
    p = IntParams.random(cfg, seed=1)
    p.layers[0]["wq"][:] = 0
    p.layers[0]["wq"][0, 0] = 1   # lane 0 of word 0 -> bank 0 bits 1:0 = 01
    p.layers[0]["wq"][0, 17] = -1  # lane 17 -> bank 1 bits 3:2 = 10
    p.layers[0]["wq"][1, 0] = 1   # row 1 of a 64-input matrix is lane 64 -> bank 4 bits 1:0
    d = E.write_package(p, tmp_path / "w")
    word0 = lambda b: int((d / f"wt_bank{b:02d}.hex").read_text().split()[0], 16)  # noqa: E731
    assert word0(0) & 0b11 == 0b01
    assert (word0(1) >> 2) & 0b11 == 0b10
    assert word0(4) & 0b11 == 0b01


def test_existing_package_is_not_overwritten(pkg):
    p, d = pkg
    before = (d / "consts.hex").read_text()
    with pytest.raises(E.WeightsError, match="--force"):
        E.write_package(IntParams.random(p.cfg, seed=99), d)
    assert (d / "consts.hex").read_text() == before
    E.write_package(IntParams.random(p.cfg, seed=99), d, force=True)
    assert E.load_package(d).digest() != p.digest()
    assert not d.with_name(d.name + ".bak").exists()


def test_edited_file_is_detected(pkg):
    _, d = pkg
    f = d / "wt_bank03.hex"
    lines = f.read_text().split()
    lines[5] = "ffffffff"
    f.write_text("\n".join(lines) + "\n")
    with pytest.raises(E.WeightsError, match="wt_bank03.hex does not match its sha256"):
        E.load_package(d)
    with pytest.raises(E.WeightsError, match="invalid ternary code 11"):
        E.load_package(d, verify=False)


def test_missing_and_malformed_packages(tmp_path, pkg):
    with pytest.raises(E.WeightsError, match="not a weights package"):
        E.load_package(tmp_path / "nope")
    (tmp_path / "empty").mkdir()
    with pytest.raises(E.WeightsError, match="no manifest.json"):
        E.load_package(tmp_path / "empty")
    _, d = pkg
    bad = tmp_path / "bad"
    shutil.copytree(d, bad)
    (bad / "manifest.json").write_text("{not json")
    with pytest.raises(E.WeightsError, match="not valid JSON"):
        E.load_package(bad)
    m = json.loads((d / "manifest.json").read_text())
    m["config"]["d_model"] = 48
    (bad / "manifest.json").write_text(json.dumps(m))
    with pytest.raises(E.WeightsError, match="power of two"):
        E.load_package(bad)
    m["config"]["d_model"] = 64
    m["format_version"] = 99
    (bad / "manifest.json").write_text(json.dumps(m))
    with pytest.raises(E.WeightsError, match="format version 99"):
        E.load_package(bad)


def test_truncated_image_is_reported(pkg):
    _, d = pkg
    f = d / "gains.hex"
    f.write_text("\n".join(f.read_text().split()[:10]))
    with pytest.raises(E.WeightsError, match="gains.hex: 10 words, expected 128"):
        E.load_package(d, verify=False)


def test_header_matches_layout(pkg):
    p, d = pkg
    vh = (d / "tritgpt_config.vh").read_text()
    lay = E.layout(p.cfg)
    assert f"`define TG_WT_WORDS {lay['weight_words']}" in vh
    assert f"`define TG_BASE_LM {lay['matrices']['lm']['base']}" in vh
    assert lay["weight_words"] == p.cfg.ternary_weights // 256
