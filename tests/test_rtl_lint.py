"""The core's FuseSoC library: every core's `lint` target (Verilator -Wall) passes, and
the ROM tables in rtl/tables/ are what tools/gen_tables.py writes."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

import pytest

from tritgpt.sim.verilator import ROOT, verilator_command

from _rtl_helpers import missing

CORES = ["common", "matvec", "attention", "rmsnorm", "sampler", "ternary_gpt"]


def test_tables_are_current():
    r = subprocess.run([sys.executable, str(ROOT / "tools" / "gen_tables.py"), "--check"],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stdout + r.stderr


@pytest.mark.skipif(missing() is not None, reason=str(missing()))
def test_fusesoc_lint_targets(tmp_path):
    _, env = verilator_command()
    fusesoc = os.path.join(os.path.dirname(sys.executable), "fusesoc")
    fusesoc = fusesoc if os.path.exists(fusesoc) else shutil.which("fusesoc")
    assert fusesoc, "fusesoc is not installed (pip install -e '.[synth]')"
    env["PATH"] = os.path.dirname(sys.executable) + os.pathsep + env.get("PATH", "")
    for core in CORES:
        r = subprocess.run([fusesoc, "--cores-root", str(ROOT / "cores"), "run", "--build-root",
                            str(tmp_path / core), "--target", "lint", f"tritgpt:core:{core}"],
                           cwd=ROOT, env=env, capture_output=True, text=True)
        assert r.returncode == 0, f"tritgpt:core:{core} lint:\n{r.stdout[-3000:]}\n{r.stderr[-3000:]}"
