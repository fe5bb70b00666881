"""Where tritgpt's own files are: the one place every module asks.

In a checkout the hardware sources sit beside the package (rtl/, constraints/,
flows/, weights/default/). An installed wheel carries the same
trees inside the package, under tritgpt/_data/, so `pip install` gives a tritgpt
that can simulate and build from any directory.
"""

from __future__ import annotations

import functools
import importlib.util
from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent
# the checkout's trees a wheel carries under tritgpt/_data/ (setup.py copies them at build time)
DATA_TREES = ("rtl", "constraints", "flows", "weights/default", "weights/default.core")


def _root() -> Path:
    checkout = PACKAGE_DIR.parent
    if (checkout / "rtl").is_dir() and (checkout / "constraints").is_dir():
        return checkout
    return PACKAGE_DIR / "_data"


ROOT = _root()
RTL_DIR = ROOT / "rtl"
TABLES_DIR = RTL_DIR / "tables"
CONSTRAINTS_DIR = ROOT / "constraints"
FLOWS_DIR = ROOT / "flows"
WEIGHTS_DIR = ROOT / "weights"
# FuseSoC cores sit beside the files they list: the RTL's in rtl/ (CORES_DIR), the
# board core beside the constraints, the shipped weights' in weights/. Every FuseSoC
# run searches all of CORE_LIBRARIES (as fusesoc.conf does).
CORES_DIR = RTL_DIR
CORE_LIBRARIES = (RTL_DIR, CONSTRAINTS_DIR, WEIGHTS_DIR)
DEFAULT_WEIGHTS = WEIGHTS_DIR / "default"
CONFIG_DIR = PACKAGE_DIR / "ml" / "configs"


def default_weights() -> Path:
    """weights/default in the working directory if there is one (a checkout), else the shipped package."""
    here = Path("weights/default")
    return here if (here / "manifest.json").is_file() else DEFAULT_WEIGHTS


def build_root() -> Path:
    """Where builds and simulation caches go: $TRITGPT_BUILD_DIR, else build/ in the
    checkout, else build/ in the working directory (an installed tritgpt)."""
    import os

    if os.environ.get("TRITGPT_BUILD_DIR"):
        return Path(os.environ["TRITGPT_BUILD_DIR"]).expanduser()
    return ROOT / "build" if ROOT == PACKAGE_DIR.parent else Path.cwd() / "build"


@functools.lru_cache(maxsize=None)
def flow_module(kind: str, name: str):
    """A module of the Edalize flows that ship with tritgpt (flows/edalize/KIND/NAME.py),
    e.g. flow_module("tools", "nextpnr_xilinx"): their facts live there, in one place."""
    path = FLOWS_DIR / "edalize" / kind / f"{name}.py"
    spec = importlib.util.spec_from_file_location(f"tritgpt_flow_{kind}_{name}", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod
