"""The RTL's FuseSoC library: every core's `lint` target (Verilator -Wall, nothing
waived on the command line) passes, for all RTL: the core, the UART, the protocol
engine, the clock divider and the board top level. Also: the ROM tables in
rtl/tables/ are what tools/gen_tables.py writes."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

import pytest

from tritgpt.paths import CORE_LIBRARIES, ROOT
from tritgpt.tools import find_tool

from _rtl_helpers import missing

# (core, lint target): every RTL file is linted through one of these
LINT_TARGETS = [
    ("tritgpt:core:common", "lint"), ("tritgpt:core:matvec", "lint"), ("tritgpt:core:attention", "lint"),
    ("tritgpt:core:rmsnorm", "lint"), ("tritgpt:core:sampler", "lint"), ("tritgpt:core:ternary_gpt", "lint"),
    ("tritgpt:tritgpt:clock", "lint"), ("tritgpt:tritgpt:uart", "lint"), ("tritgpt:tritgpt:uart", "lint_tx"),
    ("tritgpt:tritgpt:proto", "lint"), ("tritgpt:tritgpt:top", "lint"),
]


def fusesoc() -> str | None:
    local = os.path.join(os.path.dirname(sys.executable), "fusesoc")
    return shutil.which("fusesoc") or (local if os.path.exists(local) else None)


def test_tables_are_current():
    r = subprocess.run([sys.executable, str(ROOT / "tools" / "gen_tables.py"), "--check"],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stdout + r.stderr


@pytest.mark.skipif(missing() is not None or fusesoc() is None, reason=str(missing() or "fusesoc not installed"))
@pytest.mark.parametrize("core,target", LINT_TARGETS, ids=[f"{c.split(':')[-1]}-{t}" for c, t in LINT_TARGETS])
def test_fusesoc_lint_target(tmp_path, core, target):
    env = dict(find_tool("verilator").env)
    env["PATH"] = os.path.dirname(sys.executable) + os.pathsep + env.get("PATH", "")
    roots = [a for root in CORE_LIBRARIES for a in ("--cores-root", str(root))]
    r = subprocess.run([fusesoc(), *roots, "run", "--build-root",
                        str(tmp_path / "build"), "--target", target, core],
                       cwd=tmp_path, env=env, capture_output=True, text=True)
    out = r.stdout + r.stderr
    assert r.returncode == 0, f"{core} {target}:\n{out[-4000:]}"
    assert "%Warning" not in out, f"{core} {target} warns:\n{out[-4000:]}"
    # FuseSoC: no file outside its core's directory (deprecated, an error in future versions)
    assert "not within the directory containing the core file" not in out, f"{core} {target}:\n{out[-4000:]}"
