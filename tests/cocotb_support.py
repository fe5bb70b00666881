"""Run cocotb testbenches (Verilator) from pytest.

Each bench is built once per session into build/cocotb/NAME (Verilator skips
re-verilating identical inputs, make skips up-to-date objects), then every
cocotb test case runs as its own pytest test so failures are reported by name.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
RTL = ROOT / "rtl"
TB_RTL = Path(__file__).resolve().parent / "rtl"
BUILD = ROOT / "build" / "cocotb"


def runner_available() -> str | None:
    """None if cocotb and Verilator can run, else the reason they cannot."""
    try:
        import cocotb_tools.runner  # noqa: F401
    except ImportError:
        return "cocotb is not installed (pip install -e '.[test]')"
    from tritgpt.sim.simboard import verilator_env

    try:
        verilator_env(apply=True)
    except Exception as exc:  # UserError with the install hint
        return str(exc)
    return None


class Bench:
    """A built cocotb testbench: bench.run("test_name") runs one cocotb test."""

    def __init__(self, name: str, toplevel: str, sources: list[Path], module: str,
                 parameters: dict | None = None, includes: list[Path] | None = None,
                 build_args: list[str] | None = None):
        reason = runner_available()
        if reason:
            pytest.skip(reason)
        from cocotb_tools.runner import get_runner

        self.name, self.toplevel, self.module = name, toplevel, module
        self.build_dir = BUILD / name
        self.runner = get_runner("verilator")
        # these benches run for seconds: compile the C++ quickly rather than well
        saved = {k: os.environ.get(k) for k in ("OPT_FAST", "OPT_SLOW", "OPT_GLOBAL")}
        os.environ.update(OPT_FAST="-O0", OPT_SLOW="-O0", OPT_GLOBAL="-O0")
        try:
            self._build(sources, toplevel, includes, parameters, build_args)
        finally:
            for k, v in saved.items():
                if v is None:
                    os.environ.pop(k, None)
                else:
                    os.environ[k] = v

    def _build(self, sources, toplevel, includes, parameters, build_args):
        self.runner.build(
            sources=[str(s) for s in sources],
            hdl_toplevel=toplevel,
            includes=[str(i) for i in includes or []],
            parameters=parameters or {},
            build_args=["-Wno-fatal", "-Wno-PROCASSINIT", "-Wno-DECLFILENAME", "-Wno-PINCONNECTEMPTY",
                        "-Wno-UNUSEDSIGNAL", "-Wno-WIDTHEXPAND", "-Wno-WIDTHTRUNC"]
                       + list(build_args or []),
            build_dir=str(self.build_dir),
            timescale=("1ns", "1ps"),
            log_file=str(self.build_dir / "build.log"),
        )

    def run_all(self, extra_env: dict | None = None) -> dict:
        """Run every cocotb test of the module in one simulation (they must each reset
        the DUT); returns {test name: None if passed, else the failure text}."""
        import xml.etree.ElementTree as ET

        test_dir = self.build_dir / "runs" / "all"
        test_dir.mkdir(parents=True, exist_ok=True)
        results = test_dir / "results.xml"
        results.unlink(missing_ok=True)
        try:
            self.runner.test(test_module=self.module, hdl_toplevel=self.toplevel, test_dir=str(test_dir),
                             build_dir=str(self.build_dir), extra_env=extra_env or {},
                             results_xml=str(results), log_file=str(test_dir / "sim.log"))
        except SystemExit:
            pass  # failures are read from the results below
        out = {}
        if results.exists():
            for case in ET.parse(results).iter("testcase"):
                bad = case.find("failure")
                if bad is None:
                    bad = case.find("error")
                if bad is None and case.find("skipped") is not None:
                    bad = case.find("skipped")   # a skipped case verified nothing: not a pass
                    out[case.get("name")] = f"skipped inside the simulation: {bad.get('message') or 'no reason'}"
                    continue
                out[case.get("name")] = None if bad is None else (bad.get("message") or "failed")
        self.log = test_dir / "sim.log"
        return out

    def run(self, testcase: str, extra_env: dict | None = None) -> None:
        test_dir = self.build_dir / "runs" / testcase
        test_dir.mkdir(parents=True, exist_ok=True)
        self.runner.test(
            test_module=self.module,
            hdl_toplevel=self.toplevel,
            testcase=testcase,
            test_dir=str(test_dir),
            build_dir=str(self.build_dir),
            extra_env=extra_env or {},
            log_file=str(test_dir / "sim.log"),
        )
