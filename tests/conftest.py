"""Shared fixtures: corpora from ../shared/datasets, small weights packages."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

import _ecp5_background

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


@pytest.fixture(scope="session")
def real_top_build(real_top_weights, real_top_root):
    """The real top level placed, routed and made a bitstream for the Arty A7-35T, once a
    session (at H.REAL_TOP_DESIGN_MHZ with H.REAL_TOP_SEEDS, timing failure allowed): tests/test_build_top.py checks it,
    tests/test_swap_tools.py swaps its weights, tests/test_gate_sim.py simulates its routed
    netlist. Skips when the openXC7 tools are missing. Returns (build directory, report)."""
    import _build_helpers as H
    from rich.console import Console

    from tritgpt.fpga import boards, flow

    reason = H.real_top_reason() or H.openxc7_reason(boards.get_board(H.REAL_TOP_BOARD).part)
    if reason:
        pytest.skip(reason)
    work = real_top_root / f"{H.REAL_TOP_BOARD}-full"
    rep = flow.build(flow.BuildRequest(board=H.REAL_TOP_BOARD, weights=real_top_weights, build_dir=work, nice=10,
                                       timeout=3600, allow_timing_fail=True, design_mhz=H.REAL_TOP_DESIGN_MHZ,
                                       seeds=H.REAL_TOP_SEEDS), Console(file=open(os.devnull, "w")))
    return work, rep


# ---------------------------------------------------------------------------
# Checks that fail closed: in CI (CI=true) the tools these tests need are part of the
# install, so a skip there means a broken install, not a reason to pass. These modules
# are the core regressions (Verilator), the cocotb tests and the simulated-board tests.
# ---------------------------------------------------------------------------

REQUIRED_IN_CI = {
    "test_rtl_core", "test_rtl_units", "test_rtl_lint", "test_fusesoc_targets",   # core regressions, lint
    "test_uart_rtl", "test_uart_top", "test_protocol_rtl",                         # cocotb
    "test_protocol_board", "test_stream_sim",                                      # simulated board
    "test_ecp5",                                   # ECP5 bitstream, gate level, swap: PyPI tools only
}


def pytest_configure(config):
    config.addinivalue_line("markers", "required_in_ci: a skip of this test is a failure when CI=true")


def pytest_collection_modifyitems(config, items):
    for item in items:
        if item.path.stem in REQUIRED_IN_CI:
            item.add_marker(pytest.mark.required_in_ci)
    # the tests that wait for the ECP5 build (started in the background below) go last
    items.sort(key=_ecp5_background.uses_build)


@pytest.fixture(scope="session", autouse=True)
def _ecp5_build_beside_the_suite(request, tmp_path_factory):
    """Starts the ECP5 end-to-end build when the session starts, if a selected test needs
    it and the tools are here (tests/_ecp5_background.py); stops it if it is still running
    when the session ends."""
    items = request.session.items
    if any(_ecp5_background.uses_build(item) for item in items) and _ecp5_background.missing_tools() is None:
        _ecp5_background.job(tmp_path_factory, any(_ecp5_background.needs_place_and_route(i) for i in items))
    yield
    _ecp5_background.stop()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if (report.skipped and not hasattr(report, "wasxfail") and os.environ.get("CI") == "true"
            and item.get_closest_marker("required_in_ci") is not None):
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
        report.outcome = "failed"
        report.longrepr = (f"skipped under CI=true ({reason}): the tools for this test are part of the "
                           f"CI install (ci/install), so a skip here is a broken install")
