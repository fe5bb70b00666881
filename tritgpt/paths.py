"""Where tritgpt's own files are: the one place every module asks.

In a checkout the hardware sources sit beside the package (rtl/, cores/,
constraints/, flows/, weights/default/). An installed wheel carries the same
trees inside the package, under tritgpt/_data/, so `pip install` gives a tritgpt
that can simulate and build from any directory.
"""

from __future__ import annotations

from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent
# the checkout's trees a wheel carries under tritgpt/_data/ (setup.py copies them at build time)
DATA_TREES = ("rtl", "cores", "constraints", "flows", "weights/default")


def _root() -> Path:
    checkout = PACKAGE_DIR.parent
    if (checkout / "rtl").is_dir() and (checkout / "cores").is_dir():
        return checkout
    return PACKAGE_DIR / "_data"


ROOT = _root()
RTL_DIR = ROOT / "rtl"
TABLES_DIR = RTL_DIR / "tables"
CORES_DIR = ROOT / "cores"
CONSTRAINTS_DIR = ROOT / "constraints"
FLOWS_DIR = ROOT / "flows"
WEIGHTS_DIR = ROOT / "weights"
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
