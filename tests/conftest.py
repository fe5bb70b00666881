"""Shared fixtures: corpora from ../shared/datasets, small weights packages."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("TRITGPT_SHARED", ROOT.parent / "shared"))
SHAKESPEARE = SHARED / "datasets" / "tinyshakespeare.txt"
NAMES = SHARED / "datasets" / "names.txt"


@pytest.fixture(scope="session")
def shakespeare() -> Path:
    if not SHAKESPEARE.exists():
        pytest.skip(f"Tiny Shakespeare not found at {SHAKESPEARE} (set TRITGPT_SHARED)")
    return SHAKESPEARE


@pytest.fixture(scope="session")
def random_package(tmp_path_factory):
    """A default-config weights package with random ternary weights."""
    from tritgpt.ml.export import write_package
    from tritgpt.ml.model import Config, IntParams

    d = tmp_path_factory.mktemp("pkg") / "random"
    write_package(IntParams.random(Config.load("default"), seed=7), d)
    return d


@pytest.fixture(scope="session")
def real_top_root(tmp_path_factory):
    """Build directories of the real top level, shared by the tests that synthesise it
    (tests/test_build_top.py, tests/test_gate_sim.py): one yosys run for all of them."""
    return tmp_path_factory.mktemp("top")


@pytest.fixture(scope="session")
def real_top_weights(real_top_root):
    """The random default-config weights the real top level is synthesised with."""
    import _build_helpers as H

    return H.make_weights(real_top_root / "weights" / "default", "default", seed=5)
