"""`tritgpt build`: a weights package to a bitstream with open tools only.

    weights package + rtl/ + board  --FuseSoC-->  Makefile of the openxc7 Edalize flow
    make synth      yosys synth_xilinx                         (stage: synth)
    make pnr        xc7prep, nextpnr-xilinx, seeds, timeout    (stages: place, route)
    make bitstream  fasm2frames, xc7frames2bit                 (stage: bitstream)

Everything happens in the build directory (build/BOARD/ by default), which is the
FuseSoC work root: src/ (the exported RTL), weights/ (a copy of the weights package;
the RTL reads it with $readmemh and includes its tritgpt_config.vh), the Makefile, the
tool outputs and logs, and at the end

    tritgpt.bit      the bitstream
    report.json      utilisation vs the board, Fmax vs the target clock, tokens/s, tools, times
    memmap.json      every block RAM: cell, placed site and tile, widths, weights image

Before any tool runs: unknown boards and models that do not fit the board's BRAM are
refused, and missing tools are reported in one message.

Incremental: each stage has a hash of its inputs (RTL, weights, board, options, tool
versions). A stage whose hash is unchanged is not redone; an unchanged build does
nothing. Reproducible: fixed seeds and a fixed .bit header date give byte-identical
bitstreams for the same inputs.
"""

from __future__ import annotations

import dataclasses
import filecmp
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

from rich.console import Console
from rich.table import Table

from . import boards as boards_mod
from . import toolchain as tc_mod
from ..errors import UserError

from ..paths import CORES_DIR, FLOWS_DIR, ROOT as PROJECT_ROOT, build_root
SYSTEM_NAME = "tritgpt"
REPORT_FORMAT = 1

# stage -> (make goal, files it makes, in the work root)
STAGE_OUTPUTS = {
    # bench.json (cycles/token of the core, measured after the bitstream) goes with the RTL
    "synth": ["tritgpt.json", "tritgpt.stat.json", "yosys.log", "bench.json"],
    # xc7prep belongs to place and route: it reads the part's tile grid (clock blockers)
    "pnr": ["tritgpt.fasm", "tritgpt.routed.json", "nextpnr.log", "nextpnr_report.json",
            "tritgpt.prep.json", "xc7prep.json"],
    "bitstream": ["tritgpt.frames", "tritgpt.bit"],
}
STAGE_ORDER = ("synth", "pnr", "bitstream")


@dataclasses.dataclass
class BuildRequest:
    board: str
    weights: Path
    build_dir: Path | None = None
    seeds: tuple[int, ...] = (1, 2, 3)
    seed_policy: str = "first"
    timeout: float = 3600.0
    allow_timing_fail: bool = False
    cycles_per_token: float | None = None
    stop_after: str | None = None  # None (bitstream), "synth", or "setup" (FuseSoC only)
    force: bool = False
    nice: int = 0
    baud: int | None = None
    fixture: bool = False  # build the test stand-in top (tests/fixtures/board_top)
    extra_cores: tuple[Path, ...] = ()
    # measure cycles/token on the Verilator model of the core when no bench JSON gives it
    bench: bool = True


# ----------------------------------------------------------------------------
# helpers
# ----------------------------------------------------------------------------


def _sha_files(paths, root: Path | None = None) -> str:
    h = hashlib.sha256()
    for p in sorted(set(Path(x) for x in paths)):
        if p.is_file():
            name = str(p.relative_to(root)) if root and p.is_relative_to(root) else str(p)
            h.update(name.encode() + b"\0")
            h.update(hashlib.sha256(p.read_bytes()).digest())
    return h.hexdigest()


def _sha_obj(obj) -> str:
    return hashlib.sha256(json.dumps(obj, sort_keys=True, default=str).encode()).hexdigest()


def _tree(root: Path, patterns=("*",)) -> list[Path]:
    out = []
    if root.is_dir():
        for pat in patterns:
            out += [p for p in root.rglob(pat) if p.is_file() and "__pycache__" not in p.parts]
    return out


def _flow_code(*names: str) -> list[Path]:
    """The flow's Python files of the given tools (flows/edalize/{flows,tools}/NAME.py)."""
    out = []
    for name in names:
        out += [p for p in (FLOWS_DIR / "edalize" / "flows" / f"{name}.py", FLOWS_DIR / "edalize" / "tools" / f"{name}.py")
                if p.exists()]
    return out


def cores_roots(req: BuildRequest) -> list[Path]:
    roots = [CORES_DIR]
    if req.fixture:
        roots.append(PROJECT_ROOT / "tests" / "fixtures" / "board_top")
    roots += [Path(p) for p in req.extra_cores]
    return roots


def flow_env() -> dict:
    """Environment for FuseSoC and make: the project's Edalize flow on the Python path."""
    env = dict(os.environ)
    if (FLOWS_DIR / "edalize" / "flows" / "openxc7.py").exists():
        # the checkout's flow, like its RTL (an installed copy is used otherwise)
        env["PYTHONPATH"] = os.pathsep.join([str(FLOWS_DIR)] + [p for p in [env.get("PYTHONPATH")] if p])
    return env


def _check_synth_deps():
    missing = []
    for mod, pkg in (("fusesoc", "fusesoc"), ("edalize", "edalize")):
        try:
            __import__(mod)
        except ImportError:
            missing.append(pkg)
    if missing:
        raise UserError(f"{' and '.join(missing)} not installed: pip install fusesoc==2.4.7 edalize==0.6.8 "
                        "(tritgpt's synth extra)")


def find_cycles_per_token(weights_manifest: dict, search: list[Path]) -> tuple[float | None, str | None]:
    """cycles/token from a bench JSON (key cycles_per_token) for this model, if one exists."""
    model_hash = weights_manifest.get("model_hash")
    config = weights_manifest.get("config", {}).get("name")
    for path in search:
        if not path.is_file():
            continue
        try:
            data = json.loads(path.read_text())
        except (OSError, json.JSONDecodeError):
            continue
        entries = data if isinstance(data, list) else [data]
        for e in entries:
            if not isinstance(e, dict):
                continue
            cpt = e.get("cycles_per_token")
            if not isinstance(cpt, (int, float)) or cpt <= 0:
                continue
            if e.get("model_hash") and e["model_hash"] != model_hash:
                continue
            if not e.get("model_hash") and e.get("config") not in (None, config):
                continue
            return float(cpt), str(path)
    return None, None


def bench_candidates(weights: Path) -> list[Path]:
    root = PROJECT_ROOT
    return [weights / "bench.json", root / "build" / "bench.json", root / "build" / "sim" / "bench.json",
            root / "runs" / "bench.json"]


# ----------------------------------------------------------------------------
# utilisation
# ----------------------------------------------------------------------------

LUT_WEIGHT = {
    "LUT1": 1, "LUT2": 1, "LUT3": 1, "LUT4": 1, "LUT5": 1, "LUT6": 1, "LUT6_2": 1,
    "SRL16E": 1, "SRLC16E": 1, "SRLC32E": 1,
    "RAM32X1S": 1, "RAM64X1S": 1, "RAM32X1D": 2, "RAM64X1D": 2, "RAM128X1S": 2, "RAM128X1D": 4,
    "RAM256X1S": 4, "RAM32M": 4, "RAM64M": 4, "RAM32M16": 8, "RAM64M8": 8,
}


def synth_utilisation(stat: dict) -> dict:
    """LUT/FF/BRAM/DSP from yosys `stat -json` of the flattened design."""
    cells = stat.get("design", {}).get("num_cells_by_type")
    if cells is None:  # older yosys: one module
        mods = list(stat.get("modules", {}).values())
        cells = mods[0].get("num_cells_by_type", {}) if mods else {}
    lut = sum(n * LUT_WEIGHT.get(t, 0) for t, n in cells.items())
    ff = sum(n for t, n in cells.items() if t in ("FDRE", "FDSE", "FDCE", "FDPE", "LDCE", "LDPE"))
    bram = cells.get("RAMB36E1", 0) + cells.get("RAMB18E1", 0) / 2
    return {"lut": lut, "ff": ff, "ramb36": bram, "dsp": cells.get("DSP48E1", 0),
            "ramb36_cells": cells.get("RAMB36E1", 0), "ramb18_cells": cells.get("RAMB18E1", 0),
            "carry4": cells.get("CARRY4", 0), "cells_by_type": dict(sorted(cells.items()))}


def pnr_utilisation(util: dict) -> dict:
    """LUT/FF/BRAM/DSP from nextpnr-xilinx's 'Device utilisation' (BEL types)."""
    def used(*names):
        return sum(util.get(n, {}).get("used", 0) for n in names)

    return {"lut": used("SLICE_LUTX"), "ff": used("SLICE_FFX"),
            "ramb36": used("RAMB36E1") + used("RAMB18E1") / 2, "dsp": used("DSP48E1"),
            "ramb36_cells": used("RAMB36E1"), "ramb18_cells": used("RAMB18E1"), "carry4": used("CARRY4")}


# ----------------------------------------------------------------------------
# the build
# ----------------------------------------------------------------------------


class Ui:
    """Per-stage progress with a live elapsed time (rich), one line per finished stage."""

    def __init__(self, console: Console):
        self.console = console
        self.progress = None
        self.task = None
        self.t0 = None
        self.label = ""

    def start(self, label: str):
        self.t0 = time.monotonic()
        self.label = label
        if self.console.is_terminal:
            from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

            self.progress = Progress(SpinnerColumn(), TextColumn("[bold]{task.fields[label]:<10}[/]"),
                                     TimeElapsedColumn(), TextColumn("[dim]{task.description}[/]"),
                                     console=self.console, transient=True)
            self.progress.start()
            self.task = self.progress.add_task("", label=label)
        else:
            self.console.print(f"  {label} ...", highlight=False)

    def update(self, text: str):
        if self.progress is not None:
            self.progress.update(self.task, description=text.replace("[", "(").replace("]", ")")[-70:])

    def done(self, ok: bool = True, note: str = "") -> float:
        el = time.monotonic() - self.t0
        if self.progress is not None:
            self.progress.stop()
            self.progress = None
        mark = "[green]✓[/]" if ok else "[red]✗[/]"
        self.console.print(f"  {mark} {self.label:<10} {el:8.1f} s  {note}", highlight=False)
        return el


def _run_logged(cmd, cwd: Path, env: dict, log: Path, on_line=None) -> int:
    log.parent.mkdir(parents=True, exist_ok=True)
    with open(log, "w") as f:
        f.write("$ " + " ".join(cmd) + "\n")
        f.flush()
        proc = subprocess.Popen(cmd, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                text=True, errors="replace", bufsize=1)
        for line in proc.stdout:
            f.write(line)
            f.flush()
            if on_line:
                on_line(line.rstrip("\n"))
        return proc.wait()


def _tail(path: Path, n: int = 15) -> str:
    if not path.exists():
        return ""
    lines = path.read_text(errors="replace").splitlines()
    return "\n".join(lines[-n:])


def _error_lines(path: Path, n: int = 8) -> str:
    if not path.exists():
        return ""
    lines = [x for x in path.read_text(errors="replace").splitlines() if "ERROR" in x]
    return "\n".join(lines[:n])


def _fail(stage: str, work: Path, logs: list[Path]) -> UserError:
    detail = ""
    for log in logs:
        detail = _error_lines(log) or detail
        if detail:
            break
    if not detail and logs:
        detail = _tail(logs[-1])
    where = ", ".join(str(p.relative_to(work.parent) if p.is_relative_to(work.parent) else p) for p in logs if p.exists())
    return UserError(f"{stage} failed; logs: {where}\n{detail}".rstrip())


def build(req: BuildRequest, console: Console | None = None) -> dict:
    console = console or Console()
    from ..ml import export

    # ---- checks before any tool runs --------------------------------------
    board = boards_mod.get_board(req.board)
    weights = Path(req.weights)
    try:
        manifest = export.read_manifest(weights)
        from ..ml.model import Config

        cfg = Config.from_dict(manifest["config"])
    except export.WeightsError as exc:
        raise UserError(str(exc)) from None
    except (KeyError, TypeError, ValueError) as exc:
        raise UserError(f"{weights}/manifest.json: bad config: {exc}") from None
    fit = boards_mod.check_fit(board, cfg, manifest.get("layout", {}).get("lanes"))
    xdc_file = boards_mod.BOARDS_DIR / f"{board.name}.xdc"
    if not xdc_file.exists() or xdc_file.read_text() != board.xdc():
        raise UserError(f"{xdc_file} is missing or out of date with {board.path}; run `tritgpt boards --write`")
    if req.stop_after not in (None, "synth", "setup"):
        raise UserError(f"stop_after must be 'setup', 'synth' or None, not {req.stop_after!r}")
    _check_synth_deps()
    tools = tc_mod.discover()
    tools.require("all" if req.stop_after is None else "synth", board.part)

    work = Path(req.build_dir or build_root() / board.name).resolve()
    work.mkdir(parents=True, exist_ok=True)
    logs = work / "logs"
    logs.mkdir(exist_ok=True)
    env = flow_env()
    t_start = time.monotonic()

    console.print(f"[bold]tritgpt build[/] {board.name} ({board.part}, {board.design_mhz:g} MHz), "
                  f"weights {weights} (config {cfg.name})", highlight=False)

    # ---- weights into the build directory ----------------------------------
    wdir = work / "weights"
    wdir.mkdir(exist_ok=True)
    weights_files = sorted(p for p in weights.iterdir() if p.is_file())
    names = {p.name for p in weights_files}
    for old_file in wdir.iterdir():
        if old_file.name not in names:
            old_file.unlink() if old_file.is_file() else shutil.rmtree(old_file)
    for p in weights_files:
        dst = wdir / p.name
        if not dst.exists() or not filecmp.cmp(p, dst, shallow=False):
            shutil.copy2(p, dst)

    # ---- FuseSoC: export the sources and write the flow's Makefile ----------
    ui = Ui(console)
    ui.start("setup")
    fusesoc_conf = work / "fusesoc.conf"
    fusesoc_conf.write_text("[main]\n")
    cmd = [sys.executable, "-m", "fusesoc.main", "--config", str(fusesoc_conf), "--monochrome"]
    for root in cores_roots(req):
        cmd += ["--cores-root", str(root)]
    cmd += ["run", "--target", board.target, "--setup", "--work-root", str(work), "--system-name", SYSTEM_NAME]
    cmd += ["--flag", boards_mod.WEIGHTS_FLAG]  # weights/ comes from this build's package
    if req.fixture:
        cmd += ["--flag", boards_mod.FIXTURE_FLAG]
    cmd += [boards_mod.BOARD_CORE_VLNV.rsplit(":", 1)[0]]
    # the core's target has the same clock; passing it keeps the build and the report on one number
    cmd += [f"--CLK_HZ={board.clk_hz}", f"--CLK_DIV={board.clk_div}", f"--frequency={board.design_mhz:g}"]
    cmd += ["--WEIGHTS_DIR=weights/", f"--seeds={','.join(map(str, req.seeds))}",
            f"--seed_policy={req.seed_policy}", f"--timeout={int(req.timeout)}"]
    if req.baud:
        cmd += [f"--BAUD={req.baud}"]
    if req.allow_timing_fail:
        cmd += ["--timing_allow_fail"]
    rc = _run_logged(cmd, PROJECT_ROOT, env, logs / "fusesoc.log")
    if rc != 0 or not (work / "Makefile").exists():
        ui.done(False)
        text = _tail(logs / "fusesoc.log", 12)
        top = boards_mod.TOP_CORE_VLNV
        if top.replace(":", "_") in text and "missing" in text:
            raise UserError(f"no core provides the board top level ({top}): add one to cores/ "
                            f"(rtl/tritgpt_top.v and what it instantiates); see {logs / 'fusesoc.log'}")
        raise UserError(f"FuseSoC setup failed (see {logs / 'fusesoc.log'}):\n{text}")
    ui.done(True, f"{work}")
    if req.stop_after == "setup":
        return {"status": "setup-only", "board": board.name, "part": board.part, "build_dir": str(work)}

    # ---- stage hashes ---------------------------------------------------------
    versions = tools.versions(board.part if req.stop_after != "synth" else None)
    synth_in = {
        # exactly the sources FuseSoC exported for this target, the synthesis script
        # (parameters, defines) and the flow's own code
        "rtl": _sha_files([p for p in _tree(work / "src") + _tree(work / "rtl") if p.suffix != ".xdc"]
                          + [work / "tritgpt.ys"], work),
        "flow": _sha_files(_flow_code("openxc7", "yosys_ys"), FLOWS_DIR),
        "weights": _sha_files(weights_files, weights),
        # not the part: synthesis does not depend on it (boards with the same clock share it)
        "board": {"clk_hz": board.clk_hz, "clk_div": board.clk_div, "baud": req.baud},
        "yosys": versions.get("yosys"),
        "fixture": req.fixture,
    }
    pnr_in = {
        "synth": _sha_obj(synth_in),
        "xdc": board.xdc(),
        "nextpnr": [versions.get("nextpnr-xilinx"), versions.get("nextpnr-xilinx-file")],
        "flow": _sha_files(_flow_code("xc7prep", "nextpnr_xilinx"), FLOWS_DIR),
        "prjxray-db": versions.get("prjxray-db"),  # xc7prep reads its tile grid
        "seeds": list(req.seeds), "policy": req.seed_policy, "freq": board.design_mhz,
        "allow_timing_fail": req.allow_timing_fail,
    }
    chipdb = None
    if req.stop_after != "synth":
        ui = Ui(console)
        if not tools.chipdb_file(board.part):
            ui.start("chipdb")
            ui.update(f"generating the {board.part} chip database (once)")
        try:
            chipdb = tc_mod.ensure_chipdb(tools, board.part, logs, timeout=max(req.timeout, 1800))
        finally:
            if ui.t0 is not None:
                ui.done(True, str(chipdb) if chipdb else "")
        st = chipdb.stat()
        pnr_in["chipdb"] = [chipdb.name, st.st_size, st.st_mtime_ns]
    bit_in = {"pnr": _sha_obj(pnr_in), "prjxray": [versions.get("fasm2frames"), versions.get("xc7frames2bit"),
                                                  versions.get("prjxray-db")],
              "flow": _sha_files(_flow_code("fasm2frames", "xc7frames2bit"), FLOWS_DIR)}
    hashes = {"synth": _sha_obj(synth_in), "pnr": _sha_obj(pnr_in), "bitstream": _sha_obj(bit_in)}
    input_hash = _sha_obj([hashes, req.stop_after])

    report_path = work / "report.json"
    stamps_path = work / ".stamps.json"
    stamps = {}
    if stamps_path.exists() and not req.force:
        try:
            stamps = json.loads(stamps_path.read_text())
        except json.JSONDecodeError:
            stamps = {}
    if report_path.exists() and not req.force:
        try:
            old = json.loads(report_path.read_text())
        except json.JSONDecodeError:
            old = {}
        bit = work / "tritgpt.bit"
        done_ok = old.get("status") in ("ok", "synth-only", "timing-failed-allowed")
        if old.get("input_hash") == input_hash and done_ok and (
                req.stop_after == "synth" or (bit.exists() and tc_mod.sha256_file(bit) == old.get("bitstream", {}).get("sha256"))):
            console.print(f"[green]up to date[/]: {board.name} ({report_path}) — nothing to do", highlight=False)
            old["up_to_date"] = True
            if req.stop_after is None and _tokens_per_s_or_bench(old, req, manifest, weights, board, work, console):
                report_path.write_text(json.dumps({k: v for k, v in old.items() if k != "up_to_date"}, indent=2) + "\n")
            print_report(old, console)
            return old

    # invalidate stages whose inputs changed (and everything after them)
    stale = False
    for stage in STAGE_ORDER[:1] if req.stop_after == "synth" else STAGE_ORDER:
        if stale or stamps.get(stage) != hashes[stage]:
            stale = True
            for name in STAGE_OUTPUTS[stage]:
                (work / name).unlink(missing_ok=True)
            for extra in work.glob("tritgpt.seed*"):
                if stage == "pnr":
                    extra.unlink()
            stamps.pop(stage, None)
    stamps_path.write_text(json.dumps(stamps, indent=2) + "\n")
    report_path.unlink(missing_ok=True)

    make_vars = tools.make_vars(board.part)
    if chipdb:
        make_vars["CHIPDB"] = str(chipdb)
    if tools.container:
        mounts = [PROJECT_ROOT, work] + [p for p in (tools.prjxray_db, chipdb) if p]
        env["EDALIZE_LAUNCHER"] = str(tc_mod.write_launcher(tools, work / "launcher.sh", mounts))
    make = (["nice", "-n", str(req.nice)] if req.nice and shutil.which("nice") else []) + ["make"]
    make_args = [f"{k}={v}" for k, v in sorted(make_vars.items())]
    stage_times = {}

    def run_stage(goal: str, label: str, log_name: str, tool_logs: list[str], watch=None, goal_target=None) -> None:
        if stamps.get(goal) == hashes[goal] and all((work / f).exists() for f in STAGE_OUTPUTS[goal][:1]):
            console.print(f"  [dim]=[/] {label:<10} {'':>8}    unchanged", highlight=False)
            stage_times[label] = 0.0
            return
        cache = work.parent / ".synth-cache" / hashes[goal][:32] if goal == "synth" else None
        if cache and (cache / "done").exists() and not req.force:
            for name in STAGE_OUTPUTS[goal]:  # in make's dependency order, with fresh mtimes
                if (cache / name).exists():
                    shutil.copyfile(cache / name, work / name)
            source = (cache / "done").read_text().strip()
            console.print(f"  [dim]=[/] {label:<10} {'':>8}    same design as {source}: reused", highlight=False)
            stage_times[label] = 0.0
        else:
            ui = Ui(console)
            ui.start(label)
            rc = _run_logged(make + [goal_target or goal] + make_args, work, env, logs / log_name,
                             on_line=(lambda line: watch(ui, line)) if watch else (lambda line: ui.update(line[-60:])))
            if rc != 0:
                ui.done(False)
                raise _fail(label, work, [logs / log_name] + [work / t for t in tool_logs])
            stage_times[label] = ui.done(True)
            if cache:
                _store_synth(cache, work, goal, board.name)
        stamps[goal] = hashes[goal]
        stamps_path.write_text(json.dumps(stamps, indent=2) + "\n")

    report = {
        "format": "tritgpt-build-report", "format_version": REPORT_FORMAT,
        "board": board.name, "title": board.title, "part": board.part,
        "weights": {"path": str(weights), "model_hash": manifest.get("model_hash"), "config": manifest.get("config")},
        "bram_estimate_ramb36": fit["ramb36"],
        "input_hash": input_hash, "stage_hashes": hashes,
        "tools": versions, "build_dir": str(work),
    }

    # ---- synth ----------------------------------------------------------------
    run_stage("synth", "synth", "synth.log", ["yosys.log"])
    synth_util = synth_utilisation(json.loads((work / "tritgpt.stat.json").read_text()))
    report["synth_utilisation"] = synth_util
    from . import memmap as memmap_mod

    if req.stop_after == "synth":
        report["utilisation"] = _vs_budget(synth_util, board, "yosys (pre-place)")
        report["status"] = "synth-only"
        mm = memmap_mod.build_memmap(work / "tritgpt.json", placed=False, weights_dir=wdir, part=board.part,
                                     tables_dir=work / "rtl" / "tables")
        (work / "memmap.json").write_text(json.dumps(mm, indent=1) + "\n")
        return _finish(report, stage_times, t_start, work, console)

    # ---- place and route ---------------------------------------------------
    state = {"label": "place"}
    pnr_ui = {}

    def watch_pnr(ui: Ui, line: str):
        if not line.startswith("nextpnr_xilinx: "):
            return
        msg = line[len("nextpnr_xilinx: "):]
        ui.update(msg)
        if msg.endswith(": route") and state["label"] == "place":
            # the place stage ends where routing starts
            pnr_ui["place"] = ui.done(True, msg.split(":")[0])
            state["label"] = "route"
            ui.start("route")
        elif ": rejected" in msg:
            state["why"] = "(" + msg.split(",")[0] + ": its FASM has features prjxray-db lacks; next seed)"
        elif msg.endswith(": start") and state["label"] == "route":
            ui.done(True, state.pop("why", "(seed did not meet timing; next seed)"))
            state["label"] = "place"
            ui.start("place")

    if stamps.get("pnr") == hashes["pnr"] and (work / "tritgpt.fasm").exists():
        console.print(f"  [dim]=[/] {'place':<10} {'':>8}    unchanged", highlight=False)
        console.print(f"  [dim]=[/] {'route':<10} {'':>8}    unchanged", highlight=False)
    else:
        ui = Ui(console)
        ui.start("place")
        t_pnr = time.monotonic()
        rc = _run_logged(make + ["pnr"] + make_args, work, env, logs / "pnr.log", on_line=lambda line: watch_pnr(ui, line))
        pnr_report = _read_json(work / "nextpnr_report.json")
        if rc != 0:
            ui.done(False)
            if pnr_report and pnr_report.get("chosen_seed") is not None and not pnr_report.get("timing_met"):
                report.update(_pnr_fields(pnr_report, board))
                report["status"] = "timing-failed"
                _finish(report, stage_times, t_start, work, console, write_only=True)
                raise UserError(
                    f"timing not met on {board.name}: Fmax {pnr_report['fmax_min_mhz']:.2f} MHz < target "
                    f"{board.design_mhz:g} MHz (best of seeds {pnr_report['seeds_tried']}); no bitstream written. "
                    f"Try more seeds (--seeds), or --allow-timing-fail to build it anyway. Report: {work / 'report.json'}")
            rejected = _rejected_tiles(work, pnr_report)
            if rejected:
                raise UserError(
                    f"no seed gave a design that fasm2frames can assemble with this prjxray-db: the routes use "
                    f"tiles it has no bits for ({rejected}). Try other seeds (--seeds), or a complete prjxray-db; "
                    f"see {work / 'check.seed*.log'}")
            raise _fail("place and route", work, [logs / "pnr.log"] + sorted(work.glob("nextpnr.seed*.log")))
        el = ui.done(True)
        stage_times["place"] = pnr_ui.get("place", 0.0)
        stage_times["route"] = el if "place" in pnr_ui else 0.0
        if "place" not in pnr_ui:
            stage_times["place"] = el
        stage_times["pnr_total"] = time.monotonic() - t_pnr
        stamps["pnr"] = hashes["pnr"]
        stamps_path.write_text(json.dumps(stamps, indent=2) + "\n")
    pnr_report = _read_json(work / "nextpnr_report.json") or {}
    report.update(_pnr_fields(pnr_report, board, work / "tritgpt.routed.json"))
    report["xc7prep"] = _read_json(work / "xc7prep.json") or {}

    # ---- bitstream --------------------------------------------------------------
    run_stage("bitstream", "bitstream", "bitstream.log", [])
    bit = work / "tritgpt.bit"
    report["bitstream"] = {"path": str(bit), "bytes": bit.stat().st_size, "sha256": tc_mod.sha256_file(bit)}

    # ---- memory map -------------------------------------------------------------
    complete_memory_map(work, board, tools, report, console)

    _tokens_per_s_or_bench(report, req, manifest, weights, board, work, console, stage_times)
    report["status"] = "ok" if report.get("timing_met", True) else "timing-failed-allowed"
    return _finish(report, stage_times, t_start, work, console)


def complete_memory_map(work: Path, board, tools, report: dict, console: Console) -> None:
    """memmap.json of a placed and routed build (every block RAM: cell, site, tile, frames,
    weights image), completed for `tritgpt swap`; its summary into the report."""
    from . import memmap as memmap_mod
    from . import swap as swap_mod

    mm = memmap_mod.build_memmap(work / "tritgpt.routed.json", placed=True, weights_dir=work / "weights",
                                 db_family_dir=tools.db_family_dir(board.part), part=board.part,
                                 tables_dir=work / "rtl" / "tables")
    (work / "memmap.json").write_text(json.dumps(mm, indent=1) + "\n")
    report["memmap"] = {"path": str(work / "memmap.json"), "ramb36": mm["n_ramb36"], "ramb18": mm["n_ramb18"],
                        "matched_to_images": sum(1 for c in mm["cells"] if c.get("image"))}
    # complete it for `tritgpt swap` now: FASM lines and frames of every block RAM, hashes
    # of the FASM, frames and bitstream it belongs to (a swap checks them, not redoes them)
    try:
        swap_mod.write_memmap(work, db_family_dir=tools.db_family_dir(board.part))
        report["memmap"]["swap_ready"] = True
    except UserError as exc:
        report["memmap"]["swap_ready"] = False
        report["memmap"]["swap_problem"] = str(exc)
        console.print(f"[yellow]warning[/]: memory map not completed for swapping: {exc}", highlight=False)


def run_flow_goal(work: Path, goal: str, part: str, log: Path, chipdb: Path | None = None, on_line=None) -> int:
    """`make GOAL` of the openxc7 flow's Makefile in WORK (set up by a build) with this
    machine's tools; GOAL is a flow target (prep, pnr, frames, bitstream). The exit status."""
    tools = tc_mod.discover()
    make_vars = tools.make_vars(part)
    if chipdb:
        make_vars["CHIPDB"] = str(chipdb)
    env = flow_env()
    if tools.container:
        mounts = [PROJECT_ROOT, work] + [p for p in (tools.prjxray_db, chipdb) if p]
        env["EDALIZE_LAUNCHER"] = str(tc_mod.write_launcher(tools, work / "launcher.sh", mounts))
    return _run_logged(["make", goal] + [f"{k}={v}" for k, v in sorted(make_vars.items())], work, env, log, on_line)


def _tokens_per_s_or_bench(report: dict, req: BuildRequest, manifest: dict, weights: Path, board, work: Path,
                           console: Console, stage_times: dict | None = None) -> bool:
    """Fill in tokens/s; with no cycles/token known, measure it first (unless --no-bench)."""
    if _add_tokens_per_s(report, req, manifest, weights, board, work):
        return True
    if report.get("tokens_per_s") or not req.bench or req.fixture:
        return False
    el = _bench_core(weights, work, console)
    if stage_times is not None:
        stage_times["bench"] = el
    return _add_tokens_per_s(report, req, manifest, weights, board, work)


def _bench_core(weights: Path, work: Path, console: Console) -> float:
    """cycles/token of these weights on the Verilator model of the core -> WORK/bench.json.

    The core is the same RTL the bitstream holds and is cycle-exact, so this is the
    figure the board gives (less UART waits). A failure only costs the tokens/s line."""
    from ..sim.verilator import bench_core

    ui = Ui(console)
    ui.start("bench")
    ui.update("cycles/token on the Verilator model of the core")
    try:
        rep = bench_core(weights)
    except Exception as exc:  # noqa: BLE001 - a build must not fail for its estimate
        return ui.done(False, f"no tokens/s estimate ({exc}); `tritgpt bench --sim` measures it")
    if not rep.get("matches_reference"):
        return ui.done(False, "the core's tokens differ from the reference model: no tokens/s estimate")
    (work / "bench.json").write_text(json.dumps(rep, indent=2) + "\n")
    return ui.done(True, f"{rep['cycles_per_token']:.1f} cycles/token")


def _rejected_tiles(work: Path, pnr_report: dict | None) -> str:
    """'TILE (seeds 1, 3), ...' for seeds whose FASM the check refused for missing database features."""
    tiles: dict[str, list[int]] = {}
    for run in (pnr_report or {}).get("runs", []):
        if run.get("status") != "rejected" or not run.get("check_log"):
            continue
        try:
            text = (work / run["check_log"]).read_text(errors="replace")
        except OSError:
            continue
        for tile in sorted(set(re.findall(r"not found from line '([A-Za-z0-9_]+)\.", text))):
            tiles.setdefault(tile, []).append(run["seed"])
    return ", ".join(f"{t} (seed{'s' if len(v) > 1 else ''} {', '.join(map(str, v))})" for t, v in tiles.items())


def _add_tokens_per_s(report: dict, req: BuildRequest, manifest: dict, weights: Path, board, work: Path) -> bool:
    """tokens/s = clock / cycles per token (--cycles-per-token, or a bench JSON for this
    model: the weights package's, the project's, or the build's own).

    Also for an up-to-date build, so a bench run after the build still fills it in.
    Returns whether the report changed."""
    cpt, src = (req.cycles_per_token, "--cycles-per-token") if req.cycles_per_token else \
        find_cycles_per_token(manifest, bench_candidates(weights) + [work / "bench.json"])
    if not cpt or report.get("cycles_per_token", {}).get("value") == cpt:
        return False
    report["cycles_per_token"] = {"value": cpt, "source": src}
    report["tokens_per_s"] = {
        "at_design_clock": board.design_mhz * 1e6 / cpt,
        "at_fmax": (report["fmax_mhz"] * 1e6 / cpt) if report.get("fmax_mhz") else None,
    }
    return True


def _store_synth(cache: Path, work: Path, goal: str, board_name: str, keep: int = 6) -> None:
    """Keep a synthesis result for other boards with the same design (build/.synth-cache)."""
    tmp = cache.with_name(cache.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    for name in STAGE_OUTPUTS[goal]:
        if (work / name).exists():
            shutil.copy2(work / name, tmp / name)
    (tmp / "done").write_text(f"{board_name} ({work})\n")
    shutil.rmtree(cache, ignore_errors=True)
    tmp.rename(cache)
    entries = sorted((d for d in cache.parent.iterdir() if (d / "done").exists()),
                     key=lambda d: (d / "done").stat().st_mtime, reverse=True)
    for old in entries[keep:]:
        shutil.rmtree(old, ignore_errors=True)


def _read_json(path: Path):
    try:
        return json.loads(path.read_text())
    except (OSError, json.JSONDecodeError):
        return None


def _vs_budget(util: dict, board, source: str) -> dict:
    b = board.budget
    return {
        "source": source,
        "lut": {"used": util["lut"], "available": b.lut},
        "ff": {"used": util["ff"], "available": b.ff},
        "ramb36": {"used": util["ramb36"], "available": b.ramb36},
        "dsp": {"used": util["dsp"], "available": b.dsp},
    }


def placed_luts(routed_json: Path) -> int | None:
    """Physical LUTs used: distinct (slice, A-D) LUT6 sites holding a LUT (6LUT or 5LUT).

    nextpnr-xilinx's SLICE_LUTX count has one BEL per 6LUT and per 5LUT (8 per slice),
    plus route-through LUTs; a device's LUT count (e.g. 20,800 on the xc7a35t) is 4
    per slice. This is the number comparable to it.
    """
    data = _read_json(routed_json)
    if not data:
        return None
    sites = set()
    for module in data.get("modules", {}).values():
        for cell in module.get("cells", {}).values():
            bel = cell.get("attributes", {}).get("NEXTPNR_BEL", "")
            if "/" in bel:
                site, name = bel.split("/", 1)
                if name in ("A6LUT", "B6LUT", "C6LUT", "D6LUT", "A5LUT", "B5LUT", "C5LUT", "D5LUT"):
                    sites.add((site, name[0]))
    return len(sites)


def _pnr_fields(pnr: dict, board, routed_json: Path | None = None) -> dict:
    util = pnr_utilisation(pnr.get("utilisation", {}))
    luts = placed_luts(routed_json) if routed_json else None
    if luts is not None:
        util["lut_bels"] = util["lut"]
        util["lut"] = luts
    return {
        "utilisation": _vs_budget(util, board, "nextpnr-xilinx (placed)"),
        "pnr_utilisation_raw": pnr.get("utilisation", {}),
        "target_mhz": board.design_mhz,
        "fmax_mhz": pnr.get("fmax_min_mhz"),
        "fmax_per_clock_mhz": pnr.get("fmax_mhz", {}),
        "timing_met": bool(pnr.get("timing_met")),
        "seed": pnr.get("chosen_seed"),
        "seeds_tried": pnr.get("seeds_tried"),
        "pnr_runs": [{k: r.get(k) for k in ("seed", "status", "fmax_min_mhz", "timing_met", "elapsed_s")}
                     for r in pnr.get("runs", [])],
    }


def _finish(report: dict, stage_times: dict, t_start: float, work: Path, console: Console,
            write_only: bool = False) -> dict:
    report["stage_seconds"] = {k: round(v, 2) for k, v in stage_times.items()}
    report["total_seconds"] = round(time.monotonic() - t_start, 2)
    report["logs"] = sorted(str(p.relative_to(work)) for p in list(work.glob("*.log")) + list((work / "logs").glob("*.log")))
    (work / "report.json").write_text(json.dumps(report, indent=2) + "\n")
    if not write_only:
        print_report(report, console)
    return report


def print_report(report: dict, console: Console) -> None:
    t = Table(title=f"{report['board']} ({report['part']})", show_header=True, header_style="bold")
    t.add_column("resource")
    t.add_column("used", justify="right")
    t.add_column("available", justify="right")
    t.add_column("%", justify="right")
    util = report.get("utilisation", {})
    for key, label in (("lut", "LUT"), ("ff", "FF"), ("ramb36", "BRAM (RAMB36)"), ("dsp", "DSP48E1")):
        u = util.get(key)
        if not u:
            continue
        pct = 100.0 * u["used"] / u["available"] if u["available"] else 0
        style = "red" if pct > 100 else ""
        t.add_row(label, f"{u['used']:g}", f"{u['available']}", f"[{style}]{pct:.1f}[/]" if style else f"{pct:.1f}")
    console.print(t)
    if util.get("source"):
        console.print(f"  utilisation from {util['source']}", highlight=False)
    if report.get("fmax_mhz") is not None:
        ok = report.get("timing_met")
        mark = "[green]met[/]" if ok else "[red]NOT met[/]"
        console.print(f"  Fmax {report['fmax_mhz']:.2f} MHz vs target {report['target_mhz']:g} MHz: timing {mark}"
                      f" (seed {report.get('seed')})", highlight=False)
    tps = report.get("tokens_per_s")
    if tps:
        cpt = report["cycles_per_token"]
        line = f"  expected {tps['at_design_clock']:.1f} tokens/s at {report['target_mhz']:g} MHz"
        if tps.get("at_fmax"):
            line += f" ({tps['at_fmax']:.1f} at Fmax)"
        console.print(line + f"; {cpt['value']:g} cycles/token from {cpt['source']}", highlight=False)
    if report.get("bitstream"):
        console.print(f"  bitstream {report['bitstream']['path']} ({report['bitstream']['bytes']:,} bytes)", highlight=False)
    if report.get("memmap"):
        mm = report["memmap"]
        console.print(f"  memory map {mm['path']} ({mm['ramb36']} RAMB36, {mm['ramb18']} RAMB18, "
                      f"{mm['matched_to_images']} holding weights or tables)", highlight=False)
    if report.get("stage_seconds"):
        times = ", ".join(f"{k} {v:.0f} s" for k, v in report["stage_seconds"].items() if k != "pnr_total")
        console.print(f"  time: {times}; total {report.get('total_seconds', 0):.0f} s", highlight=False)
    console.print(f"  report {Path(report['build_dir']) / 'report.json'}", highlight=False)


# ----------------------------------------------------------------------------
# programming
# ----------------------------------------------------------------------------


def program(board_name: str, bitstream: Path | None = None, *, cable: str | None = None,
            flash: bool = False, console: Console | None = None) -> None:
    console = console or Console()
    board = boards_mod.get_board(board_name)
    bit = Path(bitstream) if bitstream else build_root() / board.name / "tritgpt.bit"
    if not bit.exists():
        raise UserError(f"no bitstream at {bit}; build one with `tritgpt build --board {board.name}`")
    loader = shutil.which("openFPGALoader")
    if not loader:
        raise UserError("openFPGALoader not found: install it (Debian/Ubuntu: sudo apt install openfpgaloader; "
                        "or nix: nix-shell -p openfpgaloader; or from github.com/trabucayre/openFPGALoader)")
    cmd = [loader, "--board", board.openfpgaloader]
    if cable:
        cmd += ["--cable", cable]
    if flash:
        cmd += ["--write-flash"]
    cmd += ["--bitstream", str(bit)]
    console.print("$ " + " ".join(cmd), highlight=False)
    rc = subprocess.call(cmd)
    if rc != 0:
        raise UserError(f"openFPGALoader failed (exit {rc}); is the board connected and powered?")
