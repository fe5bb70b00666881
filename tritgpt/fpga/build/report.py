"""The build's report: report.json and the summary printed at the end.

report.json (format tritgpt-build-report 1) holds the board and part, the weights, the
stage hashes, tool versions, utilisation (yosys before placement, nextpnr-xilinx after)
against the board's budget, Fmax against the target clock, the seeds tried, the worst
path (its start and end registers, logic and routing ns, each net: critical_path.py), cycles/token
(sustained, and the first token, first 128 and sustained runs of the bench it came from),
tokens/s at the design clock and at Fmax, the UART (baud, the characters/s the wire
carries, and whether the core or the wire limits a stream), the bitstream's size and sha256,
the memory map, what the verify stage checked, and each stage's seconds.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

from rich.console import Console
from rich.table import Table

from ...paths import ROOT as PROJECT_ROOT
from .critical_path import critical_path, summary as path_summary
from .stages import Ui, read_json

REPORT_FORMAT = 1

LUT_WEIGHT = {
    "LUT1": 1, "LUT2": 1, "LUT3": 1, "LUT4": 1, "LUT5": 1, "LUT6": 1, "LUT6_2": 1,
    "SRL16E": 1, "SRLC16E": 1, "SRLC32E": 1,
    "RAM32X1S": 1, "RAM64X1S": 1, "RAM32X1D": 2, "RAM64X1D": 2, "RAM128X1S": 2, "RAM128X1D": 4,
    "RAM256X1S": 4, "RAM32M": 4, "RAM64M": 4, "RAM32M16": 8, "RAM64M8": 8,
}


def new_report(board, weights: Path, manifest: dict, fit: dict, input_hash: str, hashes: dict, versions: dict,
               work: Path) -> dict:
    return {
        "format": "tritgpt-build-report", "format_version": REPORT_FORMAT,
        "board": board.name, "title": board.title, "part": board.part,
        "weights": {"path": str(weights), "model_hash": manifest.get("model_hash"), "config": manifest.get("config")},
        "bram_estimate_ramb36": fit["ramb36"],
        "input_hash": input_hash, "stage_hashes": hashes,
        "tools": versions, "build_dir": str(work),
    }


# ----------------------------------------------------------------------------
# utilisation
# ----------------------------------------------------------------------------


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


def vs_budget(util: dict, board, source: str) -> dict:
    b = board.budget
    return {
        "source": source,
        "lut": {"used": util["lut"], "available": b.lut},
        "ff": {"used": util["ff"], "available": b.ff},
        "ramb36": {"used": util["ramb36"], "available": b.ramb36},
        "dsp": {"used": util["dsp"], "available": b.dsp},
    }


def placed_luts(routed_json: Path | dict) -> int | None:
    """Physical LUTs used: distinct (slice, A-D) LUT6 sites holding a LUT (6LUT or 5LUT).

    nextpnr-xilinx's SLICE_LUTX count has one BEL per 6LUT and per 5LUT (8 per slice),
    plus route-through LUTs; a device's LUT count (e.g. 20,800 on the xc7a35t) is 4
    per slice. This is the number comparable to it.
    """
    data = routed_json if isinstance(routed_json, dict) else read_json(routed_json)
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


def pnr_fields(pnr: dict, board, routed_json: Path | None = None, log: Path | None = None) -> dict:
    """The place-and-route part of the report; with the chosen seed's routed JSON the LUT
    count is of physical LUTs, and with its log the worst path is named (critical_path)."""
    util = pnr_utilisation(pnr.get("utilisation", {}))
    routed = read_json(routed_json) if routed_json else None
    luts = placed_luts(routed) if routed else None
    if luts is not None:
        util["lut_bels"] = util["lut"]
        util["lut"] = luts
    fmax = pnr.get("fmax_mhz", {})
    worst_clock = min(fmax, key=fmax.get) if fmax else None
    path = critical_path(log, routed, worst_clock) if log and worst_clock else None
    return {
        "utilisation": vs_budget(util, board, "nextpnr-xilinx (placed)"),
        "pnr_utilisation_raw": pnr.get("utilisation", {}),
        "target_mhz": board.design_mhz,
        "fmax_mhz": pnr.get("fmax_min_mhz"),
        "fmax_per_clock_mhz": pnr.get("fmax_mhz", {}),
        "timing_met": bool(pnr.get("timing_met")),
        "seed": pnr.get("chosen_seed"),
        "seeds_tried": pnr.get("seeds_tried"),
        "pnr_runs": [{k: r.get(k) for k in ("seed", "status", "fmax_min_mhz", "timing_met", "elapsed_s", "check_s")}
                     for r in pnr.get("runs", [])],
        "critical_path": path,
    }


# ----------------------------------------------------------------------------
# tokens/s
# ----------------------------------------------------------------------------


def find_cycles_per_token(weights_manifest: dict, search: list[Path]) -> tuple[float | None, str | None]:
    """cycles/token from a bench JSON (key cycles_per_token) for this model, if one exists."""
    entry, src = find_bench(weights_manifest, search)
    return (float(entry["cycles_per_token"]), src) if entry else (None, None)


def find_bench(weights_manifest: dict, search: list[Path]) -> tuple[dict | None, str | None]:
    """The first bench JSON entry (with a cycles_per_token) for this model and this RTL, and
    its file. An entry measured on other RTL (rtl_sha256), or saying nothing of it, is passed
    over: a change to the core changes its cycles/token."""
    from ... import hdl

    model_hash = weights_manifest.get("model_hash")
    config = weights_manifest.get("config", {}).get("name")
    rtl = hdl.rtl_digest()
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
            if e.get("rtl_sha256") != rtl:
                continue
            if not e.get("model_hash") and e.get("config") not in (None, config):
                continue
            return e, str(path)
    return None, None


def cycles_per_token_runs(bench: dict) -> dict:
    """The runs a bench JSON names: {"first": cycles of the first token (prompt included),
    "first_128": average over the first 128, "sustained_1000": over all 1000, ...}."""
    runs = {}
    if isinstance(bench.get("first_token_cycles"), (int, float)):
        runs["first"] = bench["first_token_cycles"]
    for key, val in bench.items():
        if key.startswith("cycles_per_token_") and isinstance(val, (int, float)):
            runs[key[len("cycles_per_token_"):]] = val
    return runs


def link_fields(baud: int, core_tokens_per_s: float | None, design_mhz: float) -> dict:
    """report.json's "uart": the build's rate, what the wire carries, and which of core or
    wire limits a stream (tritgpt.link.protocol.stream_rate) at the design clock."""
    from ...link.protocol import stream_rate, wire_tokens_per_second

    if core_tokens_per_s:
        fields = stream_rate(core_tokens_per_s, baud)
        fields["core_clock_mhz"] = design_mhz
        return fields
    return {"baud": int(baud), "wire_chars_per_s": wire_tokens_per_second(baud), "core_tokens_per_s": None,
            "stream_chars_per_s": None, "limit": None, "core_clock_mhz": design_mhz}


def bench_candidates(weights: Path) -> list[Path]:
    root = PROJECT_ROOT
    return [weights / "bench.json", root / "build" / "bench.json", root / "build" / "sim" / "bench.json",
            root / "runs" / "bench.json"]


def add_tokens_per_s(report: dict, req, manifest: dict, weights: Path, board, work: Path) -> bool:
    """tokens/s = clock / cycles per token (--cycles-per-token, or a bench JSON for this
    model: the weights package's, the project's, or the build's own).

    Also for an up-to-date build, so a bench run after the build still fills it in.
    The "uart" entry (the build's baud, the wire's characters/s, which of core or wire
    limits a stream) is written with it. Returns whether tokens/s changed."""
    baud = req.baud or board.baud
    bench, src = ({"cycles_per_token": req.cycles_per_token}, "--cycles-per-token") if req.cycles_per_token else \
        find_bench(manifest, bench_candidates(weights) + [work / "bench.json"])
    cpt = float(bench["cycles_per_token"]) if bench else None
    if not cpt:
        report["uart"] = link_fields(baud, None, board.design_mhz)   # the wire's rate alone
        return False
    if report.get("cycles_per_token", {}).get("value") == cpt and report.get("uart", {}).get("baud") == baud:
        return False
    report["cycles_per_token"] = {"value": cpt, "source": src, "runs": cycles_per_token_runs(bench)}
    report["tokens_per_s"] = {
        "design_clock_mhz": board.design_mhz,
        "at_design_clock": board.design_mhz * 1e6 / cpt,
        "fmax_mhz": report.get("fmax_mhz"),
        "at_fmax": (report["fmax_mhz"] * 1e6 / cpt) if report.get("fmax_mhz") else None,
    }
    report["uart"] = link_fields(baud, report["tokens_per_s"]["at_design_clock"], board.design_mhz)
    return True


def tokens_per_s_or_bench(report: dict, req, manifest: dict, weights: Path, board, work: Path,
                          console: Console, stage_times: dict | None = None) -> bool:
    """Fill in tokens/s; with no cycles/token known, measure it first (unless --no-bench)."""
    if add_tokens_per_s(report, req, manifest, weights, board, work):
        return True
    if report.get("tokens_per_s") or not req.bench or req.fixture:
        return False
    el = bench_core(weights, work, console)
    if stage_times is not None:
        stage_times["bench"] = el
    return add_tokens_per_s(report, req, manifest, weights, board, work)


def bench_core(weights: Path, work: Path, console: Console) -> float:
    """cycles/token of these weights on the Verilator model of the core -> WORK/bench.json.

    The core is the same RTL the bitstream holds and is cycle-exact, so this is the
    figure the board gives (less UART waits). A failure only costs the tokens/s line."""
    from ...sim.verilator import bench_core as run_bench

    ui = Ui(console)
    ui.start("bench")
    ui.update("cycles/token on the Verilator model of the core")
    try:
        rep = run_bench(weights)
    except Exception as exc:  # noqa: BLE001 - a build must not fail for its estimate
        return ui.done(False, f"no tokens/s estimate ({exc}); `tritgpt bench --sim` measures it")
    if not rep.get("matches_reference"):
        return ui.done(False, "the core's tokens differ from the reference model: no tokens/s estimate")
    (work / "bench.json").write_text(json.dumps(rep, indent=2) + "\n")
    return ui.done(True, f"{rep['cycles_per_token']:.1f} cycles/token")


# ----------------------------------------------------------------------------
# writing and printing
# ----------------------------------------------------------------------------


STAGE_NAMES = ("setup", "synth", "prep", "place", "route", "pnr", "frames", "bitstream", "verify", "bench")


def finish(report: dict, stage_times: dict, t_start: float, work: Path, console: Console,
           write_only: bool = False) -> dict:
    order = {k: i for i, k in enumerate(STAGE_NAMES)}
    report["stage_seconds"] = {k: round(v, 2) for k, v in sorted(stage_times.items(), key=lambda kv: order.get(kv[0], 99))}
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
    # an ECP5 report names its resources (LUT4, DP16KD, MULT18X18D); Artix-7 is the default
    names = {"lut": "LUT", "ff": "FF", "ramb36": "BRAM (RAMB36)", "dsp": "DSP48E1", **util.get("names", {})}
    for key, label in names.items():
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
        seed = f" (seed {report['seed']})" if report.get("seed") is not None else ""
        console.print(f"  Fmax {report['fmax_mhz']:.2f} MHz vs target {report['target_mhz']:g} MHz: timing {mark}"
                      f"{seed}", highlight=False)
    if report.get("critical_path"):
        console.print(f"  {path_summary(report['critical_path'])}", highlight=False)
    tps = report.get("tokens_per_s")
    if tps:
        cpt = report["cycles_per_token"]
        runs = ", ".join(("first token" if name == "first" else name.replace("_", " "))
                         + (f" {val:,}" if isinstance(val, int) else f" {val:,.1f}")
                         for name, val in cpt.get("runs", {}).items())
        console.print(f"  cycles/token {cpt['value']:,.1f}" + (f" ({runs})" if runs else "")
                      + f" from {cpt['source']}", highlight=False)
        clock = tps.get("design_clock_mhz", report.get("target_mhz"))
        line = f"{tps['at_design_clock']:,.0f} tokens/s at the {clock:g} MHz design clock"
        if report.get("fmax_mhz") is not None and not report.get("timing_met"):
            # --allow-timing-fail: the bitstream exists, but is not known to run at that clock
            line = f"  {line} only if it ran there (timing NOT met)"
        else:
            line = f"  expected {line}"
        if tps.get("at_fmax"):
            line += f", {tps['at_fmax']:,.0f} at Fmax {report['fmax_mhz']:.2f} MHz"
        console.print(line, highlight=False)
    link = report.get("uart")
    if link:
        line = f"  UART {link['baud']:,} baud carries {link['wire_chars_per_s']:,.0f} characters/s"
        if link.get("limit"):
            line += (f"; the {link['limit']} limits a stream to {link['stream_chars_per_s']:,.0f} characters/s "
                     f"at {link['core_clock_mhz']:g} MHz")
        console.print(line, highlight=False)
    if report.get("bitstream"):
        console.print(f"  bitstream {report['bitstream']['path']} ({report['bitstream']['bytes']:,} bytes)", highlight=False)
    if report.get("memmap"):
        mm = report["memmap"]
        blocks = ", ".join(f"{mm[k]} {k.upper()}" for k in ("ramb36", "ramb18", "dp16kd") if k in mm)
        console.print(f"  memory map {mm['path']} ({blocks}, {mm['matched_to_images']} holding weights or tables)",
                      highlight=False)
    verify = report.get("verify")
    if verify:
        if verify.get("skipped"):
            console.print(f"  verify: [yellow]skipped[/] ({verify['skipped']})", highlight=False)
        else:
            for check in verify.get("checks", []):
                mark = "[green]passed[/]" if check.get("passed") else "[red]FAILED[/]"
                console.print(f"  verify {check['name']}: {mark} — {check['summary']}", highlight=False)
    if report.get("stage_seconds"):
        times = ", ".join(f"{k} {v:.1f} s" for k, v in report["stage_seconds"].items() if k != "pnr_total")
        console.print(f"  time: {times}; total {report.get('total_seconds', 0):.0f} s", highlight=False)
    console.print(f"  report {Path(report['build_dir']) / 'report.json'}", highlight=False)
