"""Checks that fail closed: a skip in CI, an empty dump, a skipped cocotb case."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent


def _run_pytest(tmp_path: Path, ci: str | None) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != "CI"}
    if ci is not None:
        env["CI"] = ci
    return subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(tmp_path)],
                          cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)


def test_skip_of_a_required_test_fails_under_ci(tmp_path):
    for name in ("conftest.py", "_ecp5_background.py"):   # the conftest and the module it imports
        shutil.copy(HERE / name, tmp_path / name)
    (tmp_path / "test_rtl_core.py").write_text(
        "import pytest\n\ndef test_core():\n    pytest.skip('Verilator not found')\n")
    (tmp_path / "test_model.py").write_text(
        "import pytest\n\ndef test_optional():\n    pytest.skip('optional data not here')\n")
    local = _run_pytest(tmp_path, None)
    assert local.returncode == 0 and "2 skipped" in local.stdout, local.stdout
    ci = _run_pytest(tmp_path, "true")
    assert ci.returncode == 1, ci.stdout
    assert "1 failed, 1 skipped" in ci.stdout
    assert "skipped under CI=true" in ci.stdout and "Verilator not found" in ci.stdout


def test_compare_refuses_an_empty_dump():
    from tritgpt.ml.model import Config, IntParams
    from tritgpt.sim.verilator import RunResult, compare, reference_trace

    p = IntParams.random(Config.load("tiny"), seed=3)
    tokens, steps = reference_trace(p, [ord("a")], 3)
    undumped = RunResult(tokens=list(tokens), cycles_at=[10, 20, 30], total_cycles=30, steps=[], wall_s=0.0)
    assert "no dump" in compare(tokens, steps, undumped)
    assert compare(tokens, steps, undumped, tokens_only=True) is None
    wrong = RunResult(tokens=[t ^ 1 for t in tokens], cycles_at=[10, 20, 30], total_cycles=30, steps=[], wall_s=0.0)
    assert compare(tokens, steps, wrong, tokens_only=True).startswith("token 0")


def test_skipped_cocotb_case_is_not_a_pass(tmp_path):
    """Bench.run_all reads cocotb's results.xml: a <skipped/> case is reported, not passed."""
    from cocotb_support import Bench

    bench = Bench.__new__(Bench)
    bench.build_dir = tmp_path
    runs = tmp_path / "runs" / "all"
    runs.mkdir(parents=True)

    class Runner:
        def test(self, results_xml, **kw):
            Path(results_xml).write_text(
                '<testsuites><testsuite name="t">'
                '<testcase name="ran" classname="m"/>'
                '<testcase name="skipped_one" classname="m"><skipped message="not on this simulator"/></testcase>'
                '<testcase name="failed_one" classname="m"><failure message="boom"/></testcase>'
                '</testsuite></testsuites>')

    bench.runner, bench.module, bench.toplevel = Runner(), "m", "top"
    results = bench.run_all()
    assert results["ran"] is None
    assert results["failed_one"] == "boom"
    assert results["skipped_one"].startswith("skipped inside the simulation: not on this simulator")
