"""Build hook: a wheel carries the hardware trees under tritgpt/_data/.

The RTL, the FuseSoC cores, the board files, the Edalize flow and the shipped
weights live once, at the top of the checkout (tritgpt/paths.py lists them as
DATA_TREES). A built wheel gets a copy of each under tritgpt/_data/, with the same
relative layout, so the cores' relative paths hold and tritgpt.paths finds them
when tritgpt is installed outside a checkout. Everything else is in pyproject.toml.
"""

import runpy
import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

HERE = Path(__file__).resolve().parent
DATA_TREES = runpy.run_path(str(HERE / "tritgpt" / "paths.py"))["DATA_TREES"]
SKIP = shutil.ignore_patterns("__pycache__", "*.pyc", "obj_dir", ".pytest_cache")


class BuildPyWithData(build_py):
    def run(self):
        super().run()
        if getattr(self, "editable_mode", False):
            return  # an editable install reads the checkout's trees in place
        dest = Path(self.build_lib) / "tritgpt" / "_data"
        for tree in DATA_TREES:
            src = HERE / tree
            if not src.is_dir():
                raise SystemExit(f"setup.py: {src} is missing; build the wheel from a complete checkout")
            shutil.copytree(src, dest / tree, ignore=SKIP, dirs_exist_ok=True)


setup(cmdclass={"build_py": BuildPyWithData})
