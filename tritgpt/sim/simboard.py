"""A simulated board on a pseudo-terminal: the whole top level in Verilator.

The Verilator model of rtl/tritgpt_top.v (UART pins included) runs under a small
C++ harness (tritgpt/sim/simboard.cpp) that drives uart_rx from bytes read off a pty
and decodes the uart_tx waveform back into bytes. Clients of the binary protocol
(docs/protocol.md) talk to it as to a board: `tritgpt stream --port /dev/pts/N`,
tritgpt.link.host.Board; a raw terminal program shows only framed bytes.

The simulated board is boards.REFERENCE_BOARD (constraints/arty-a7-35t.toml) as built: its design
clock (CLK_HZ) and its UART rate (BAUD), with the harness timing each bit as the RTL
does (CLK_HZ / BAUD cycles, fractional), so in simulated time the link carries what
the board's link carries. The END frame's span (docs/protocol.md) lets a client
measure the delivered characters/s in that time. The baud rate a client sets on the
pty is ignored.

Builds (tritgpt.sim.verilate) are cached in BUILD_ROOT/simboard/simboard-KEY, KEY a
hash of the RTL sources (listed by the FuseSoC cores), the harness, the weights
package (copied into the build, so the binary is self-contained), the parameters
and the Verilator version.

    with SimBoard("weights/default") as port:
        Board(port).identify()
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import threading
import time
import tty
from pathlib import Path

from .. import hdl
from ..errors import UserError
from ..paths import DEFAULT_WEIGHTS, RTL_DIR
from ..paths import build_root as default_build_root
from .verilate import VerilatorModel

HARNESS = Path(__file__).resolve().parent / "simboard.cpp"


def sim_board():
    """The board the simulated board is (its clock and UART rate): boards.REFERENCE_BOARD."""
    from ..fpga import boards

    return boards.get_board(boards.REFERENCE_BOARD)


def core_present() -> bool:
    return (RTL_DIR / "tritgpt_core.v").exists()


def board_sources(core: list[Path] | None = None) -> list[Path]:
    """The board top level's Verilog sources (its FuseSoC core, tritgpt:tritgpt:top), with
    `core` (e.g. a test stand-in for tritgpt_core) in place of the real core's files."""
    if core is None:
        if not core_present():
            raise UserError(f"{RTL_DIR / 'tritgpt_core.v'} not found: this checkout has no core RTL yet")
        return hdl.rtl_sources(hdl.TOP_VLNV)
    real_core = set(hdl.rtl_sources(hdl.CORE_VLNV))
    return [f for f in hdl.rtl_sources(hdl.TOP_VLNV) if f not in real_core] + [Path(f) for f in core]


def default_sources() -> list[Path]:
    """The top level with the real core."""
    return board_sources()


def table_files() -> list[tuple[Path, str]]:
    """The core's fixed ROM images and where it reads them at start-up (rtl/tables/, its TABLES_DIR)."""
    return list(hdl.core_files(hdl.TOP_VLNV).user)


def _weights_files(weights_dir: Path) -> list[Path]:
    files = sorted(p for p in weights_dir.iterdir() if p.suffix in (".hex", ".vh", ".json"))
    if not (weights_dir / "tritgpt_config.vh").exists() or not (weights_dir / "consts.hex").exists():
        raise UserError(f"{weights_dir} is not a weights package (no tritgpt_config.vh / consts.hex); "
                        f"create one with `tritgpt export`")
    return files


def model(weights_dir: Path, sources: list[Path], build_root: Path, opt: str, *, netlist: bool = False,
          verilator_args: tuple[str, ...] = ()) -> VerilatorModel:
    """The simulated board for a weights package: the model plus a copy of the package it reads.
    A synthesised netlist has its parameters fixed in it, so none are set for one."""
    board = sim_board()
    parameters = {} if netlist else {"CLK_HZ": board.clk_hz, "BAUD": board.baud,
                                     "WEIGHTS_DIR": '"{out}/weights/"'}
    return VerilatorModel(
        "simboard_netlist" if netlist else "simboard", top="tritgpt_top", sources=[HARNESS, *sources],
        include_dirs=["{build}/weights", *hdl.core_files(hdl.TOP_VLNV).include_dirs],
        # the binary reads the weights (WEIGHTS_DIR, absolute) and the tables (rtl/tables/,
        # relative: it runs in its build directory) from its own snapshot at start-up
        parameters=parameters,
        options=["-O3", "--x-assign", "fast", "--x-initial", "fast", "--noassert", *verilator_args],
        make_flags={"OPT_FAST": opt, "OPT_SLOW": "-O0", "OPT_GLOBAL": "-O1"},
        key_files=[*(f for f, _ in table_files()), *_weights_files(weights_dir)],
        root=Path(build_root) / "simboard")


def build(weights_dir: str | Path = DEFAULT_WEIGHTS, sources: list[Path] | None = None,
          build_root: str | Path | None = None, jobs: int = 2, log=None, opt: str | None = None,
          netlist: bool = False, verilator_args: tuple[str, ...] = ()) -> Path:
    """Build (or reuse) the simulated board for a weights package; returns the binary.

    opt: C++ optimisation of the model's per-cycle code (default -O2, or
    $TRITGPT_SIM_OPT): higher runs faster and compiles slower.
    netlist: the sources are a synthesised top level (gate-level simulation): its
    parameters are fixed in it, so none are set; verilator_args: extra arguments
    (e.g. the cell library's include directory).
    """
    opt = opt or os.environ.get("TRITGPT_SIM_OPT", "-O2")
    weights_dir = Path(weights_dir).resolve()
    if not weights_dir.is_dir():
        raise UserError(f"weights package {weights_dir} not found; train and export one "
                        f"(`tritgpt export CKPT -o {weights_dir}`) or pass --weights")
    sources = [Path(s).resolve() for s in (sources or default_sources())]
    m = model(weights_dir, sources, Path(build_root or default_build_root()), opt,
              netlist=netlist, verilator_args=tuple(verilator_args))

    def prepare(d: Path) -> None:
        (d / "weights").mkdir()
        for f in _weights_files(weights_dir):
            shutil.copy2(f, d / "weights" / f.name)
        for f, copyto in table_files():
            (d / copyto).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(f, d / copyto)

    return m.build(prepare=prepare, jobs=jobs, log=log)


class SimBoard:
    """The simulated board on a pty, as a context manager yielding the device path.

        with SimBoard(weights_dir) as port: ...
    """

    def __init__(self, weights_dir: str | Path = DEFAULT_WEIGHTS, *, sources: list[Path] | None = None,
                 build_root: str | Path | None = None, log=None, ready_timeout: float = 60.0,
                 cycles_per_bit: int | None = None, netlist: bool = False,
                 verilator_args: tuple[str, ...] = ()):
        self.weights_dir = Path(weights_dir)
        self.sources = sources
        self.cycles_per_bit = cycles_per_bit   # None: the RTL build's CLK_HZ / BAUD (sim_board())
        self.netlist = netlist
        self.verilator_args = tuple(verilator_args)
        self.build_root = build_root
        self.log = log
        self.ready_timeout = ready_timeout
        self.proc: subprocess.Popen | None = None
        self.port: str | None = None
        self._slave: int | None = None
        self._stderr_lines: list[str] = []

    def start(self) -> str:
        binary = build(self.weights_dir, self.sources, self.build_root, log=self.log, netlist=self.netlist,
                       verilator_args=self.verilator_args)
        master, slave = os.openpty()
        tty.setraw(slave)
        self._slave = slave  # kept open: the pty survives clients coming and going
        self.port = os.ttyname(slave)
        if self.cycles_per_bit is None:
            board = sim_board()
            timing = ["--clk-hz", str(board.clk_hz), "--baud", str(board.baud)]
        else:
            timing = ["--cycles-per-bit", str(self.cycles_per_bit)]
        try:
            self.proc = subprocess.Popen(
                [str(binary), "--fd", str(master), *timing],
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
