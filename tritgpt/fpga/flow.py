"""`tritgpt build`: a weights package to a bitstream with open tools only.

    weights package + rtl/ + board  --FuseSoC-->  Makefile of the openxc7 Edalize flow
    make synth      yosys synth_xilinx                              (stage: synth)
    make pnr        xc7prep, nextpnr-xilinx over seeds, each seed's
                    FASM checked with fasm2frames                    (stages: prep, place, route, frames)
    make frames     fasm2frames (only if no check made the frames)   (stage: frames)
    make bitstream  xc7frames2bit                                    (stage: bitstream)
    verify          routed block RAM INIT = the package; bit2fasm of the .bit = nextpnr's FASM

Everything happens in the build directory (build/BOARD/ by default), which is the
FuseSoC work root: src/ (the exported RTL), weights/ (a copy of the weights package;
the RTL reads it with $readmemh and includes its tritgpt_config.vh), the Makefile, the
tool outputs and logs, and at the end

    tritgpt.bit      the bitstream
    report.json      utilisation vs the board, Fmax vs the target clock, tokens/s, tools,
                     what the verify stage checked, times per stage
    memmap.json      every block RAM: cell, placed site and tile, widths, weights image
    verify.json      the verify stage's checks and figures

Before any tool runs: unknown boards and models that do not fit the board's BRAM are
refused, and missing tools are reported in one message.

Incremental: each stage has a hash of its inputs (RTL, weights, board, options, tool
versions). A stage whose hash is unchanged is not redone; an unchanged build does
nothing. Reproducible: fixed seeds and a fixed .bit header date give byte-identical
bitstreams for the same inputs.

The work is done by tritgpt.fpga.build: plan (inputs, hashes, what is stale), stages
(the runner), verify, report. This module puts them in order.
"""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

from rich.console import Console

from . import boards as boards_mod
from . import memmap
from . import toolchain as tc_mod
from .build import plan, report as rep, stages, verify as verify_mod
from .files import atomic_write
from ..errors import UserError
from ..paths import CORE_LIBRARIES, FLOWS_DIR, ROOT as PROJECT_ROOT, build_root

SYSTEM_NAME = "tritgpt"


@dataclasses.dataclass
class BuildRequest:
    board: str
    weights: Path
    build_dir: Path | None = None
    seeds: tuple[int, ...] | None = None   # None: the board's ([pnr] seeds, else boards.DEFAULT_SEEDS)
    seed_policy: str = "first"
    timeout: float = 3600.0
    allow_timing_fail: bool = False
    cycles_per_token: float | None = None
    stop_after: str | None = None  # None (bitstream), "synth", or "setup" (FuseSoC only)
    force: bool = False
    nice: int = 0
    baud: int | None = None
    # the core's clock, MHz: None for the board file's design_mhz (the board clock over an integer)
    design_mhz: float | None = None
    fixture: bool = False  # build the test stand-in top (tests/fixtures/board_top)
    extra_cores: tuple[Path, ...] = ()
    # measure cycles/token on the Verilator model of the core when no bench JSON gives it
    bench: bool = True
    # the verify stage also simulates the routed netlist (tritgpt.sim.postroute; minutes)
    postroute_sim: bool = False
    # the verify stage: routed block RAM INIT vs the package, bit2fasm of the .bit vs the FASM
    verify: bool = True


def cores_roots(req: BuildRequest) -> list[Path]:
    roots = list(CORE_LIBRARIES)
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


def with_board_defaults(req: BuildRequest) -> BuildRequest:
    """The request with what it leaves to the board filled in: the seeds ([pnr] seeds)."""
    if req.seeds is None:
        req = dataclasses.replace(req, seeds=boards_mod.get_board(req.board).seeds)
    return req


def build(req: BuildRequest, console: Console | None = None) -> dict:
    console = console or Console()
    req = with_board_defaults(req)
    if boards_mod.get_board(req.board).is_ecp5:  # the ECP5 back end (tritgpt/fpga/ecp5.py)
        from . import ecp5

        return ecp5.build(req, console)
    inputs = plan.check_inputs(req)
    board = inputs.board
    work = Path(req.build_dir or build_root() / board.name).resolve()
    (work / "logs").mkdir(parents=True, exist_ok=True)
    env = flow_env()
    t_start = time.monotonic()
    console.print(f"[bold]tritgpt build[/] {board.name} ({board.part}, {board.design_mhz:g} MHz), "
                  f"weights {inputs.weights} (config {inputs.cfg.name})", highlight=False)
    weights_files = plan.copy_weights(inputs.weights, work / "weights")
    limits = plan.time_limits(req)
    stage_times = {"setup": _setup(req, board, work, env, console, limits["setup"])}
    if req.stop_after == "setup":
        return {"status": "setup-only", "board": board.name, "part": board.part, "build_dir": str(work)}

    versions = inputs.tools.versions(board.part if req.stop_after != "synth" else None)
    chipdb = None if req.stop_after == "synth" else _chipdb(inputs.tools, board, work, req, console)
    hashes = plan.stage_hashes(req, inputs, work, weights_files, versions, chipdb)
    input_hash = plan.input_hash(req, inputs, hashes)
    stamps = plan.Stamps(work, req.force)
    promoted = plan.adopt_promoted(work, stamps, hashes, req)
    old = None if promoted else plan.finished_report(work, input_hash, req.stop_after, req.force)
    if old is not None:
        return _up_to_date(old, req, inputs, work, console)
    if promoted:
        console.print(f"  place and route: the sweep's {promoted['task']} ({promoted['fmax_mhz'] or 0:.2f} MHz), promoted "
                      f"here, is taken as it is (bitstream: {promoted['bitstream']}; --force places and routes again)",
                      highlight=False)

    stamps.invalidate(work, hashes, plan.STAGE_ORDER[:1] if req.stop_after == "synth" else plan.STAGE_ORDER)
    (work / "report.json").unlink(missing_ok=True)
    runner = _runner(req, inputs, work, env, chipdb, stamps, hashes, limits, console)
    report = rep.new_report(board, inputs.weights, inputs.manifest, inputs.fit, input_hash, hashes, versions, work)

    runner.synth()
    stage_times.update(runner.seconds)
    report["synth_utilisation"] = rep.synth_utilisation(json.loads((work / "tritgpt.stat.json").read_text()))
    if req.stop_after == "synth":
        report["utilisation"] = rep.vs_budget(report["synth_utilisation"], board, "yosys (pre-place)")
        report["status"] = "synth-only"
        mm = memmap.build_memmap(work / "tritgpt.json", placed=False, weights_dir=work / "weights", part=board.part,
                                 tables_dir=work / "rtl" / "tables")
        atomic_write(work / memmap.MEMMAP_NAME, json.dumps(mm, indent=1) + "\n")
        return rep.finish(report, stage_times, t_start, work, console)

    try:
        runner.pnr()
    except stages.PnrFailed:
        stage_times.update(runner.seconds)
        raise _pnr_failure(report, board, work, stage_times, t_start, console) from None
    finally:
        stage_times.update(runner.seconds)
    report.update(rep.pnr_fields(stages.read_json(work / "nextpnr_report.json") or {}, board,
                                 work / "tritgpt.routed.json", work / "nextpnr.log"))
    report["xc7prep"] = stages.read_json(work / "xc7prep.json") or {}
    if promoted:
        report["sweep"] = promoted

    runner.bitstream()
    stage_times.update(runner.seconds)
    bit = work / "tritgpt.bit"
    report["bitstream"] = {"path": str(bit), "bytes": bit.stat().st_size, "sha256": tc_mod.sha256_file(bit)}
    complete_memory_map(work, board, inputs.tools, report, console)
    _verify(report, req, inputs, work, stamps, limits, stage_times, t_start, console)

    rep.tokens_per_s_or_bench(report, req, inputs.manifest, inputs.weights, board, work, console, stage_times)
    report["status"] = "ok" if report.get("timing_met", True) else "timing-failed-allowed"
    return rep.finish(report, stage_times, t_start, work, console)


# ----------------------------------------------------------------------------
# the steps of build()
# ----------------------------------------------------------------------------


def _setup(req: BuildRequest, board, work: Path, env: dict, console: Console, time_limit: float) -> float:
    """FuseSoC: export the sources and write the flow's Makefile; its time."""
    ui = stages.Ui(console)
    ui.start("setup")
    fusesoc_conf = work / "fusesoc.conf"
    fusesoc_conf.write_text("[main]\n")
    cmd = [sys.executable, "-m", "fusesoc.main", "--config", str(fusesoc_conf), "--monochrome"]
    for root in cores_roots(req):
        cmd += ["--cores-root", str(root)]
    cmd += ["run", "--target", board.target, "--setup", "--work-root", str(work), "--system-name", SYSTEM_NAME]
    cmd += ["--flag", boards_mod.WEIGHTS_FLAG]  # weights/ comes from this build's package
    if req.fixture:
        cmd += ["--mapping", boards_mod.FIXTURE_CORE_VLNV]
    cmd += [boards_mod.BOARD_CORE_VLNV.rsplit(":", 1)[0]]
    # the core's target has the same clock; passing it keeps the build and the report on one number
    cmd += [f"--CLK_HZ={board.clk_hz}", f"--CLK_DIV={board.clk_div}", f"--frequency={board.design_mhz:g}"]
    cmd += ["--WEIGHTS_DIR=weights/", f"--seeds={','.join(map(str, req.seeds))}",
            f"--seed_policy={req.seed_policy}", f"--timeout={int(req.timeout)}"]
    cmd += [f"--BAUD={req.baud or board.baud}"]   # the board's rate unless --baud
    if req.allow_timing_fail:
        cmd += ["--timing_allow_fail"]
    log = work / "logs" / "fusesoc.log"
    try:
        rc = stages.run_logged(cmd, PROJECT_ROOT, env, log, time_limit=time_limit)
    except stages.StageTimeout:
        ui.done(False, "time limit")
        raise UserError(f"FuseSoC setup did not finish within {time_limit:.0f} s (see {log})") from None
    if rc != 0 or not (work / "Makefile").exists():
        ui.done(False)
        text = stages._tail(log, 12)
        top = boards_mod.TOP_CORE_VLNV
        if top.replace(":", "_") in text and "missing" in text:
            raise UserError(f"no core provides the board top level ({top}): add one to rtl/ "
                            f"(rtl/tritgpt_top.v and what it instantiates); see {log}")
        raise UserError(f"FuseSoC setup failed (see {log}):\n{text}")
    return ui.done(True, f"{work}")


def _chipdb(tools, board, work: Path, req: BuildRequest, console: Console) -> Path:
    """The part's nextpnr-xilinx chip database, generated once if the tools can."""
    ui = stages.Ui(console)
    if not tools.chipdb_file(board.part):
        ui.start("chipdb")
        ui.update(f"generating the {board.part} chip database (once)")
    chipdb = None
    try:
        chipdb = tc_mod.ensure_chipdb(tools, board.part, work / "logs", timeout=max(req.timeout, 1800))
    finally:
        if ui.t0 is not None:
            ui.done(chipdb is not None, str(chipdb) if chipdb else "")
    return chipdb


def _runner(req: BuildRequest, inputs: plan.Inputs, work: Path, env: dict, chipdb: Path | None,
            stamps: plan.Stamps, hashes: dict, limits: dict, console: Console) -> stages.StageRunner:
    tools = inputs.tools
    make_vars = tools.make_vars(inputs.board.part)
    if chipdb:
        make_vars["CHIPDB"] = str(chipdb)
    if tools.container:
        mounts = [PROJECT_ROOT, work] + [p for p in (tools.prjxray_db, chipdb) if p]
        env["EDALIZE_LAUNCHER"] = str(tc_mod.write_launcher(tools, work / "launcher.sh", mounts))
    make = (["nice", "-n", str(req.nice)] if req.nice and shutil.which("nice") else []) + ["make"]
    return stages.StageRunner(work=work, env=env, make=make, make_args=[f"{k}={v}" for k, v in sorted(make_vars.items())],
                              console=console, stamps=stamps, hashes=hashes, limits=limits, force=req.force,
                              board_name=inputs.board.name)


def _up_to_date(old: dict, req: BuildRequest, inputs: plan.Inputs, work: Path, console: Console) -> dict:
    console.print(f"[green]up to date[/]: {inputs.board.name} ({work / 'report.json'}) — nothing to do", highlight=False)
    old["up_to_date"] = True
    if req.stop_after is None and rep.tokens_per_s_or_bench(old, req, inputs.manifest, inputs.weights, inputs.board,
                                                            work, console):
        (work / "report.json").write_text(json.dumps({k: v for k, v in old.items() if k != "up_to_date"}, indent=2) + "\n")
    rep.print_report(old, console)
    return old


def _pnr_failure(report: dict, board, work: Path, stage_times: dict, t_start: float, console: Console) -> UserError:
    """Why `make pnr` failed: timing (the report is written), seeds the database cannot assemble, or the logs."""
    pnr_report = stages.read_json(work / "nextpnr_report.json")
    if pnr_report and pnr_report.get("chosen_seed") is not None and not pnr_report.get("timing_met"):
        # the best seed's routed netlist stays beside its log: with it the LUT count is of
        # physical LUTs, as for a build that met timing, not nextpnr's 5LUT+6LUT BELs (which
        # exceed the device's LUT count on a full die)
        chosen = next((r for r in pnr_report.get("runs", []) if r.get("seed") == pnr_report["chosen_seed"]), {})
        files = chosen.get("files") or {}
        report.update(rep.pnr_fields(pnr_report, board, work / files["routed"] if "routed" in files else None,
                                     work / files["log"] if "log" in files else None))
        report["status"] = "timing-failed"
        rep.finish(report, stage_times, t_start, work, console, write_only=True)
        fmax = pnr_report["fmax_min_mhz"]
        short = (f"< target {board.design_mhz:g} MHz" if fmax < board.design_mhz else
                 f"(rounded), nextpnr-xilinx reports FAIL at {board.design_mhz:g} MHz")
        return UserError(
            f"timing not met on {board.name}: Fmax {fmax:.2f} MHz {short} "
            f"(best of seeds {pnr_report['seeds_tried']}); no bitstream written. "
            f"Try more seeds (--seeds), or --allow-timing-fail to build it anyway. Report: {work / 'report.json'}")
    runs = (pnr_report or {}).get("runs", [])
    if runs and all(r.get("status") == "timeout" for r in runs):
        seeds = ", ".join(str(r["seed"]) for r in runs)
        longest = max(r.get("elapsed_s") or 0 for r in runs)
        where = "; ".join(f"seed {r['seed']}: {(r.get('router_progress') or {}).get('text') or 'not routing yet'}"
                          for r in runs)
        return UserError(
            f"place and route did not finish on {board.name}: router still converging when each seed tried "
            f"({seeds}) reached its time limit ({longest:.0f} s; {where}); raise --timeout, or try other seeds "
            f"(`tritgpt sweep --board {board.name} --seeds 1-8` runs several at once); logs: "
            + ", ".join(r.get("files", {}).get("log", "") for r in runs if r.get("files")))
    rejected = stages.rejected_tiles(work, pnr_report)
    if rejected:
        return UserError(
            f"no seed gave a design that fasm2frames can assemble with this prjxray-db: the routes use "
            f"tiles it has no bits for ({rejected}). Try other seeds (--seeds), or a complete prjxray-db; "
            f"see {work / 'check.seed*.log'}")
    return stages.stage_failure("place and route", work, [work / "logs" / "pnr.log"] + sorted(work.glob("nextpnr.seed*.log")))


def complete_memory_map(work: Path, board, tools, report: dict, console: Console) -> None:
    """memmap.json of a placed and routed build (every block RAM: cell, site, tile, frames,
    weights image), completed for `tritgpt swap` (FASM lines, frames, hashes); its summary
    into the report."""
    db = tools.db_family_dir(board.part)
    mm = memmap.build_memmap(work / "tritgpt.routed.json", placed=True, weights_dir=work / "weights",
                             db_family_dir=db, part=board.part, tables_dir=work / "rtl" / "tables")
    atomic_write(work / memmap.MEMMAP_NAME, json.dumps(mm, indent=1) + "\n")
    report["memmap"] = {"path": str(work / memmap.MEMMAP_NAME), "ramb36": mm["n_ramb36"], "ramb18": mm["n_ramb18"],
                        "matched_to_images": sum(1 for c in mm["cells"] if c.get("image"))}
    try:
        memmap.write_memmap(work, db_family_dir=db)
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
    return stages.run_logged(["make", goal] + [f"{k}={v}" for k, v in sorted(make_vars.items())], work, env, log,
                             on_line)


def _verify(report: dict, req: BuildRequest, inputs: plan.Inputs, work: Path, stamps: plan.Stamps, limits: dict,
            stage_times: dict, t_start: float, console: Console) -> None:
    """The verify stage (tritgpt.fpga.build.verify); a mismatch writes the report and fails the build."""
    if not req.verify:
        report["verify"] = {"skipped": "--no-verify"}
        (work / "verify.json").unlink(missing_ok=True)
        return
    ui = stages.Ui(console)
    ui.start("verify")
    board = inputs.board
    ui.update("block RAM INIT vs the weights package; bit2fasm of the bitstream vs the FASM"
              + ("; the routed netlist in Verilator (post-route simulation)" if req.postroute_sim else ""))
    sim = {"clk_hz": board.clk_hz, "clk_div": board.clk_div, "baud": req.baud or board.baud}
    try:
        result = verify_mod.run(work, bit2fasm=inputs.utils.bit2fasm,
                                db_family_dir=inputs.tools.db_family_dir(board.part),
                                part=board.part, time_limit=limits["verify"],
                                postroute_sim=sim if req.postroute_sim else None)
    except UserError as exc:
        stage_times["verify"] = ui.done(False)
        report["verify"] = {"passed": False, "error": str(exc)}
        report["status"] = "verify-failed"
        stamps.data.pop("bitstream", None)  # a next build redoes the bitstream and checks it again
        stamps.save()
        rep.finish(report, stage_times, t_start, work, console, write_only=True)
        raise
    stage_times["verify"] = ui.done(True, "; ".join(f"{c['name']} passed" for c in result["checks"]))
    report["verify"] = result


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
