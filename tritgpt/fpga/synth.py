"""Yosys synthesis of tritgpt_core for the xc7a35t and its resource check.

    report = synthesize(Path("weights/default"))     # cached by RTL + model dimensions
    print(format_report(report))

Runs the board build's synthesis commands (`synth_xilinx` with the options and
post-synthesis commands of the openxc7 Edalize flow, flows/edalize/flows/openxc7.py)
on the core alone (no I/O), in a work directory under build/synth/ holding copies of
the RTL, the ROM tables and the weights package, because YoWASP's yosys only sees the
directory tree it starts in. The netlist is kept as Verilog (`tritgpt_core.gate.v`,
the weights in the block RAMs' INIT values) for the gate-level simulation
(tritgpt.sim.gatesim). The
report counts LUTs (logic + LUT RAM), flip-flops, block RAM (in RAMB36 units),
DSP48E1s, and checks them against the budget of the project's issue: LUT <= 80 %,
BRAM <= 90 %, DSP <= 90 % of the xc7a35t, and every large memory in block RAM.

Command line (also what the FuseSoC `synth` target runs):
    python -m tritgpt.fpga.synth [WEIGHTS_DIR] [--json] [--force]
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

from .. import hdl
from ..errors import UserError
from ..ml import export
from ..ml.model import Config, IntParams
from ..paths import DEFAULT_WEIGHTS, build_root
from ..sim.verilate import cache_key, publish, scratch_dir
from ..tools import require_tool

# xc7a35t resources and the issue's budget
XC7A35T = {"LUT": 20800, "FF": 41600, "BRAM36": 50, "DSP": 90}
BUDGET = {"LUT": 0.80, "BRAM36": 0.90, "DSP": 0.90}
# LUT sites taken by LUT RAM / shift-register primitives
LUTRAM_SITES = {"RAM32M": 4, "RAM64M": 4, "RAM32X1D": 2, "RAM64X1D": 2, "RAM128X1D": 4,
                "RAM32X1S": 1, "RAM64X1S": 1, "RAM128X1S": 2, "RAM256X1S": 4,
                "SRL16E": 1, "SRLC32E": 1}
# memories that must end up in block RAM (instance paths contain these)
BRAM_MEMORIES = ("u_mv.g_bank", "u_att.g_kv", "u_emb.u_tok", "u_norm.u_gains")


def _core_files() -> hdl.CoreFiles:
    """The core's sources and ROM tables, from its FuseSoC core."""
    return hdl.core_files(hdl.CORE_VLNV)


NETLIST = "tritgpt_core.gate.v"


def build_synth_commands() -> tuple[list[str], list[str]]:
    """(synth_xilinx options, post-synthesis commands) of the board build: the openxc7
    flow's own settings, so the core is synthesised exactly as the boards' top level."""
    try:
        from edalize.flows.openxc7 import Openxc7
    except ImportError:
        raise UserError("the openxc7 Edalize flow is not importable: `pip install -e '.[synth]'`") from None
    fdto = Openxc7._flow["yosys_ys"]["fdto"]
    return list(fdto["yosys_synth_options"]), list(fdto.get("yosys_post_synth", []))


def _key(cfg: Config, weights_dir: Path | None) -> str:
    from ..sim.verilator import _config_header
    # the weights are in the netlist (block RAM INIT), so they are part of the key
    weights = (sorted(f for f in Path(weights_dir).iterdir() if f.is_file()) if weights_dir is not None else [])
    return cache_key([*_core_files().all_files, *weights], _config_header(cfg),
                     "random weights, seed 0" if weights_dir is None else "weights",
                     repr(build_synth_commands()), NETLIST)


def synth_script(sources: list[str], weights_rel: str) -> str:
    # the core's parameter defaults (WEIGHTS_DIR weights/default/, TABLES_DIR
    # rtl/tables/) are the work directory's layout
    options, post = build_synth_commands()
    return "\n".join([
        f"read_verilog -DSYNTHESIS -I {weights_rel} " + " ".join(sources),
        " ".join(["synth_xilinx", *options, "-top", "tritgpt_core"]),
        *post,
        "tee -q -o stat.json stat -json",
        f"write_verilog -noattr {NETLIST}",
        "",
    ])


def synthesize(weights_dir: Path | None = None, cfg: Config | None = None, *, force: bool = False,
               log=None) -> dict:
    """Synthesise the core (weights package, else random weights of cfg); returns the report."""
    if weights_dir is not None:
        weights_dir = Path(weights_dir)
        cfg = Config.from_dict(export.read_manifest(weights_dir)["config"])
    if cfg is None:
        cfg = Config.load("default")
    key = _key(cfg, weights_dir)
    work = build_root() / "synth" / f"{cfg.name}-{key}"
    rep_path = work / "report.json"
    if rep_path.exists() and not force:
        return json.loads(rep_path.read_text())
    tmp = scratch_dir(work)            # renamed to work when done (publish)
    files = _core_files()
    (tmp / "rtl").mkdir()
    for f in files.sources + files.include_files:
        shutil.copy(f, tmp / "rtl" / f.name)
    for f, copyto in files.user:       # the ROM tables, at the core's TABLES_DIR (rtl/tables/)
        (tmp / copyto).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(f, tmp / copyto)
    # (the core's default WEIGHTS_DIR is weights/default/)
    if weights_dir is not None:
        shutil.copytree(weights_dir, tmp / "weights" / "default")
    else:
        export.write_package(IntParams.random(cfg, 0), tmp / "weights" / "default")
    (tmp / "synth.ys").write_text(synth_script([f"rtl/{f.name}" for f in files.sources], "weights/default"))
    cmd = [*require_tool("yosys").command, "-q", "-l", "synth.log", "synth.ys"]
    if log:
        log(f"yosys synth_xilinx of tritgpt_core ('{cfg.name}') in {work} ...")
    t0 = time.time()
    r = subprocess.run(cmd, cwd=tmp, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    wall = time.time() - t0
    logtext = (tmp / "synth.log").read_text() if (tmp / "synth.log").exists() else ""
    if r.returncode != 0 or not (tmp / "stat.json").exists():
        tail = "".join(logtext.splitlines(True)[-20:]) or r.stderr[-2000:]
        raise UserError(f"yosys failed (log {tmp / 'synth.log'}):\n{tail}")
    report = parse_report(json.loads((tmp / "stat.json").read_text()), logtext)
    report.update({"config": cfg.name, "key": key, "seconds": round(wall, 1), "work_dir": str(work),
                   "netlist": str(work / NETLIST)})
    (tmp / "report.json").write_text(json.dumps(report, indent=2) + "\n")
    if not publish(tmp, work, complete=lambda d: (d / "report.json").exists(), replace=force):
        return json.loads(rep_path.read_text())    # finished meanwhile by another process: theirs
    return report


def parse_report(stat: dict, logtext: str = "") -> dict:
    mods = stat.get("modules", {})
    top = mods.get("\\tritgpt_core") or mods.get("tritgpt_core") or next(iter(mods.values()))
    cells = {k.lstrip("\\"): int(v) for k, v in top.get("num_cells_by_type", {}).items()}
    lut_logic = sum(n for t, n in cells.items() if re.fullmatch(r"LUT[1-6]", t))
    lut_ram = sum(n * LUTRAM_SITES[t] for t, n in cells.items() if t in LUTRAM_SITES)
    ff = sum(n for t, n in cells.items() if re.fullmatch(r"FD[CPRSE]E?", t))
    bram36 = cells.get("RAMB36E1", 0) + 0.5 * (cells.get("RAMB18E1", 0))
    dsp = cells.get("DSP48E1", 0)
    used = {"LUT": lut_logic + lut_ram, "FF": ff, "BRAM36": bram36, "DSP": dsp}
    util = {k: used[k] / XC7A35T[k] for k in used}
    # memories yosys turned into registers (should only be small delay lines)
    to_regs = sorted(set(re.findall(r"Replacing memory \\?(\S+) with list of registers", logtext)))
    problems = [f"{k} {util[k]:.0%} of the xc7a35t exceeds {BUDGET[k]:.0%}" for k in BUDGET
                if util[k] > BUDGET[k]]
    bad = [m for m in to_regs if m in ("mem",)]
    if bad:
        problems.append(f"memories mapped to flip-flops: {', '.join(bad)}")
    return {"cells": cells, "lut_logic": lut_logic, "lut_ram": lut_ram, "used": used,
            "utilization": util, "ramb36": cells.get("RAMB36E1", 0), "ramb18": cells.get("RAMB18E1", 0),
            "registers_from_memories": to_regs, "problems": problems, "fits": not problems}


def format_report(rep: dict) -> str:
    u, p = rep["used"], rep["utilization"]
    lines = [
        f"tritgpt_core ('{rep.get('config', '?')}') on xc7a35t, yosys synth_xilinx:",
        f"  LUT    {u['LUT']:6d} / {XC7A35T['LUT']}  {p['LUT']:6.1%}  (logic {rep['lut_logic']}, LUT RAM {rep['lut_ram']})",
        f"  FF     {u['FF']:6d} / {XC7A35T['FF']}  {p['FF']:6.1%}",
        f"  BRAM   {u['BRAM36']:6.1f} / {XC7A35T['BRAM36']}     {p['BRAM36']:6.1%}  "
        f"({rep['ramb36']} RAMB36E1 + {rep['ramb18']} RAMB18E1)",
        f"  DSP    {u['DSP']:6d} / {XC7A35T['DSP']}     {p['DSP']:6.1%}",
        "  budget " + ("met (LUT <= 80 %, BRAM <= 90 %, DSP <= 90 %)" if rep["fits"]
                       else "NOT met: " + "; ".join(rep["problems"])),
    ]
    return "\n".join(lines)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description="yosys synth_xilinx of tritgpt_core for the xc7a35t")
    ap.add_argument("weights", nargs="?", type=Path, default=None,
                    help="weights package (default: weights/default if present, else random weights)")
    ap.add_argument("--config", default="default", help="config for random weights (no package)")
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--force", action="store_true", help="ignore the cached report")
    a = ap.parse_args(argv)
    w = a.weights
    if w is None and (DEFAULT_WEIGHTS / "manifest.json").exists() and a.config == "default":
        w = DEFAULT_WEIGHTS
    try:
        rep = synthesize(w, None if w else Config.load(a.config), force=a.force,
                         log=lambda m: print(m, file=sys.stderr))
    except UserError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(json.dumps(rep, indent=2) if a.json else format_report(rep))
    return 0 if rep["fits"] else 1


if __name__ == "__main__":
    sys.exit(main())
