# Copyright tritgpt contributors
# Licensed under the 2-Clause BSD License, as Edalize (whose flow API this follows), so
# that it can be offered upstream.
# SPDX-License-Identifier: BSD-2-Clause

"""nextpnr-xilinx (openXC7) place and route, bounded by a timeout, over several seeds.

Edalize's `nextpnr` tool runs nextpnr-xilinx once, with no target clock, no seed and no
time limit. This tool runs it through a small runner (this file, as a script) that

- passes the target clock with --freq: the openXC7 nextpnr-xilinx does not carry a
  create_clock on the input pin through IBUF/BUFG, so the XDC clock alone leaves the
  design clock unconstrained;
- tries the seeds in the given order, each run killed after `timeout` seconds;
- keeps the first seed that routes and meets timing (policy `first`, reproducible:
  the same inputs always pick the same seed) or the best of all (policy `best`);
- optionally checks each candidate with a command (the openxc7 flow runs fasm2frames):
  a seed whose FASM the bitstream tools cannot assemble (e.g. routed through a tile
  the database has no bits for) is rejected and the next seed is tried; the frames the
  check wrote are kept, so the flow's fasm2frames step has nothing left to do;
- writes nextpnr_report.json: per seed status, Fmax per clock, run time, and the
  device utilisation nextpnr reports;
- optionally keeps every block RAM and DSP48E1 in given site columns
  (`--hard-block-sites DSP48_X0,RAMB18_X0,RAMB36_X0`): it writes a small script,
  `hard_block_sites.py`, that nextpnr-xilinx runs before placing (`--pre-place`). The
  script fixes each such cell in a site of those columns, nearest the middle row
  first; the placer then puts the logic around them;
- optionally keeps the logic in a range of slices, written as a Vivado pblock range
  (`--slice-range SLICE_X28Y0:SLICE_X81Y199`): a second pre-place script,
  `slice_range.py`, constrains every cell a slice can hold to the slices of that range
  (a nextpnr region). On the xc7a100t this keeps the design on one side of the
  configuration centre, which the routing data gives no way across (docs/build.md).

A run that routes but reports no Fmax is an error (status no-fmax), never "timing met".
If no seed meets timing, the best routed result is kept under its per-seed names only
and the runner exits with status 2, so `make` stops before the bitstream; with
`timing_allow_fail` it is installed and the flow goes on.

As a command (from the flow's Makefile):

    python nextpnr_xilinx.py --seeds 1,2,3 --timeout 3600 --freq 100 \\
        --fasm top.fasm --routed top.routed.json --report nextpnr_report.json \\
        -- nextpnr-xilinx --chipdb xc7a35tcsg324-1.bin --xdc board.xdc --json top.prep.json

EDALIZE_LAUNCHER, when set, is put in front of the nextpnr-xilinx command.
"""

import argparse
import collections
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import threading
import time

try:
    from edalize.tools.edatool import Edatool
    from edalize.utils import EdaCommands
except ImportError:  # run as a plain script without Edalize
    Edatool = object
    EdaCommands = None

FMAX_RE = re.compile(r"Max frequency for clock\s+'([^']+)':\s+([0-9.]+) MHz \((PASS|FAIL) at ([0-9.]+) MHz\)")
UTIL_RE = re.compile(r"^Info:\s+([A-Za-z0-9_]+):\s+(\d+)/\s*(\d+)\s+(\d+)%")
# how far routing got: router2's line per iteration, router1's arc count and its table rows
ROUTER2_ITER_RE = re.compile(r"^Info:\s+iter=(\d+) wires=\d+ overused=(\d+) overuse=\d+")
ROUTER1_ARCS_RE = re.compile(r"^Info: Routing (\d+) arcs\.")
ROUTER1_ROW_RE = re.compile(r"^Info:\s+(\d+) \|\s+\d+\s+\d+ \|\s+\d+\s+\d+ \|\s+(\d+)\|")
PROGRESS_EVERY_S = 60.0  # the runner announces routing progress at most this often
# a site column of block RAMs or DSPs, as prjxray names sites without their row
HARD_BLOCK_COLUMN_RE = re.compile(r"^(DSP48|RAMB18|RAMB36)_X\d+$")
HARD_BLOCK_SCRIPT = "hard_block_sites.py"
# per kind of site column: the packed cell type it holds and the name of its bel in a site
HARD_BLOCK_CELLS = {"DSP48": "DSP48E1_DSP48E1", "RAMB18": "RAMB18E1_RAMB18E1", "RAMB36": "RAMB36E1_RAMB36E1"}
HARD_BLOCK_BELS = {"DSP48": "DSP48E1", "RAMB18": "RAMB18E1", "RAMB36": "RAMB36E1"}
# a rectangle of slices, as a Vivado pblock range names it: SLICE_X<x0>Y<y0>:SLICE_X<x1>Y<y1>
SLICE_RANGE_RE = re.compile(r"^SLICE_X(\d+)Y(\d+):SLICE_X(\d+)Y(\d+)$")
SLICE_RANGE_SCRIPT = "slice_range.py"
# the lines the pre-place scripts print about what they did, shown in the build's progress
SCRIPT_SUMMARIES = ("hard_block_sites:", "slice_range:")
PHASES = (
    ("Packing", "pack"),
    ("Running main analytical placer", "place"),
    ("Running simulated annealing placer", "place"),
    ("Routing Vcc connections", "route"),
    ("Routing global clocks", "route"),
    ("Running router2", "route"),
    ("Routing..", "route"),
    ("Program finished normally", "done"),
)


# the lines that open routing: an Fmax reported before the first of them is the placer's estimate
ROUTE_START = tuple(key for key, phase in PHASES if phase == "route")


def placement_fmax(lines) -> dict | None:
    """The placer's Fmax estimate per clock: the last report before routing starts. None
    before routing has started (the placer may report again) and when it reported none."""
    estimate = {}
    for line in lines:
        if any(key in line for key in ROUTE_START):
            return estimate or None
        m = FMAX_RE.search(line)
        if m:
            estimate[m.group(1)] = float(m.group(2))
    return None


def router_progress(lines) -> dict | None:
    """Where routing stood at the last progress line of `lines`: router2's iteration and
    overused wires, or router1's routed and remaining arcs; `text` says it in words.
    None before routing starts."""
    state, total = None, None
    for line in lines:
        m = ROUTER2_ITER_RE.match(line)
        if m:
            state = {"router": "router2", "iteration": int(m.group(1)), "overused_wires": int(m.group(2))}
            continue
        m = ROUTER1_ARCS_RE.match(line)
        if m:
            total = int(m.group(1))
            continue
        m = ROUTER1_ROW_RE.match(line)
        if m:
            state = {"router": "router1", "arcs": total, "arcs_routed": int(m.group(1)),
                     "arcs_remaining": int(m.group(2))}
    if state is None:
        return None
    if state["router"] == "router2":
        state["text"] = f"router2 iteration {state['iteration']}, {state['overused_wires']:,} wires overused"
    else:
        of = f" of {state['arcs']:,}" if state["arcs"] else ""
        state["text"] = (f"router1 {state['arcs_remaining']:,}{of} arcs left after "
                         f"{state['arcs_routed']:,} routed")
    return state


def parse_log(text: str) -> dict:
    """Fmax per clock (the last report, i.e. after routing), the placer's estimate
    (`placement_fmax_mhz`), utilisation, errors, and how far routing got
    (`router_progress`: what a run stopped at its time limit had done)."""
    fmax, target, verdict = {}, {}, {}
    for m in FMAX_RE.finditer(text):
        fmax[m.group(1)] = float(m.group(2))
        target[m.group(1)] = float(m.group(4))
        # nextpnr's own verdict: it prints Fmax rounded to 10 kHz, so a path a
        # picosecond too slow reads "100.00 MHz (FAIL at 100.00 MHz)"
        verdict[m.group(1)] = m.group(3) == "PASS"
    util = {}
    lines = text.splitlines()
    for i, line in enumerate(lines):
        if line.strip() == "Info: Device utilisation:":
            util = {}
            for follow in lines[i + 1:]:
                m = UTIL_RE.match(follow)
                if not m:
                    if util:
                        break
                    continue
                util[m.group(1)] = {"used": int(m.group(2)), "available": int(m.group(3))}
    errors = [line for line in lines if line.startswith("ERROR:")]
    return {"fmax_mhz": fmax, "clock_target_mhz": target, "clock_pass": verdict, "utilisation": util,
            "errors": errors[:20],
            "placement_fmax_mhz": placement_fmax(lines), "router_progress": router_progress(lines)}


def hard_block_columns(text) -> list:
    """The site columns of a --hard-block-sites value ("DSP48_X0,RAMB18_X0" or a list);
    ValueError naming the first one that is not a DSP48, RAMB18 or RAMB36 column."""
    columns = [str(c).strip() for c in (text.split(",") if isinstance(text, str) else text) if str(c).strip()]
    for c in columns:
        if not HARD_BLOCK_COLUMN_RE.match(c):
            raise ValueError(f"'{c}' is not a block RAM or DSP site column: expected DSP48_X<n>, "
                             f"RAMB18_X<n> or RAMB36_X<n>, e.g. DSP48_X0")
    if not columns:
        raise ValueError("no site columns given, e.g. DSP48_X0,RAMB18_X0,RAMB36_X0")
    return columns


def hard_block_script(columns) -> str:
    """nextpnr-xilinx --pre-place script: it places every cell of a kind named in `columns`
    (DSP48E1, RAMB18E1, RAMB36E1) itself, in those columns' sites nearest the middle row,
    and fixes it there (the BEL attribute). Kinds not named stay free."""
    columns = hard_block_columns(columns)
    kinds = sorted({c.split("_X")[0] for c in columns}, key=["RAMB36", "RAMB18", "DSP48"].index)
    return f'''# Written by the nextpnr-xilinx runner (--hard-block-sites); nextpnr-xilinx runs it
# before placing (--pre-place). Every cell of these kinds is put in a site of these columns,
# nearest the middle row first, and fixed there; the placer then puts the logic around them.
# (A region constraint would leave the rows to the placer, but nextpnr's analytical placer
# stalls on region-constrained block RAMs.)
import re
COLUMNS = {sorted(columns)!r}
KINDS = {kinds!r}          # RAMB36 before RAMB18: a RAMB36 takes both RAMB18 sites of its tile
CELL = {HARD_BLOCK_CELLS!r}
BEL = {HARD_BLOCK_BELS!r}
SITE = re.compile(r"^(DSP48|RAMB18|RAMB36)_X(\\d+)Y(\\d+)/(\\w+)$")
sites = {{k: [] for k in KINDS}}
for bel in ctx.getBels():
    m = SITE.match(str(bel))
    if m and m.group(1) in sites and f"{{m.group(1)}}_X{{m.group(2)}}" in COLUMNS and m.group(4) == BEL[m.group(1)]:
        sites[m.group(1)].append((int(m.group(2)), int(m.group(3))))
taken = set()              # (kind, x, y) of every site in use, RAMB36 tiles as their two RAMB18s
for name, cell in ctx.cells:
    if "BEL" in cell.attrs:
        m = SITE.match(str(cell.attrs["BEL"]))
        if m:
            kind, x, y = m.group(1), int(m.group(2)), int(m.group(3))
            taken |= {{("RAMB18", x, 2 * y), ("RAMB18", x, 2 * y + 1)}} if kind == "RAMB36" else {{(kind, x, y)}}
placed = []
for kind in KINDS:
    cells = sorted((name, cell) for name, cell in ctx.cells if cell.type == CELL[kind] and "BEL" not in cell.attrs)
    rows = [y for _, y in sites[kind]]
    middle = (min(rows) + max(rows)) / 2 if rows else 0
    free = sorted((s for s in sites[kind] if (kind, *s) not in taken
                   and not (kind == "RAMB36" and {{("RAMB18", s[0], 2 * s[1]), ("RAMB18", s[0], 2 * s[1] + 1)}} & taken)),
                  key=lambda s: (abs(s[1] - middle), s[1], s[0]))
    if len(cells) > len(free):
        raise SystemExit(f"hard_block_sites: {{len(cells)}} {{BEL[kind]}} cells but only {{len(free)}} free sites in "
                         f"{{', '.join(c for c in COLUMNS if c.startswith(kind))}}: name more columns")
    for (name, cell), (x, y) in zip(cells, free):
        cell.setAttr("BEL", f"{{kind}}_X{{x}}Y{{y}}/{{BEL[kind]}}")
        taken |= {{("RAMB18", x, 2 * y), ("RAMB18", x, 2 * y + 1)}} if kind == "RAMB36" else {{(kind, x, y)}}
    placed.append(f"{{len(cells)}} {{BEL[kind]}}")
print(f"hard_block_sites: placed {{', '.join(placed)}} in {{', '.join(COLUMNS)}}", flush=True)
'''


def slice_range(text) -> tuple:
    """(x0, y0, x1, y1) of a --slice-range value, "SLICE_X28Y0:SLICE_X81Y199", corners
    included; ValueError naming the value if it is not such a range."""
    m = SLICE_RANGE_RE.match(str(text).strip())
    if not m:
        raise ValueError(f"'{text}' is not a range of slices: expected SLICE_X<x0>Y<y0>:SLICE_X<x1>Y<y1>, "
                         f"e.g. SLICE_X28Y0:SLICE_X81Y199")
    x0, y0, x1, y1 = (int(g) for g in m.groups())
    if x0 > x1 or y0 > y1:
        raise ValueError(f"'{text}': the first corner must be the lower left one (x0 <= x1, y0 <= y1)")
    return x0, y0, x1, y1


def slice_range_script(text) -> str:
    """nextpnr-xilinx --pre-place script: it constrains every cell a slice can hold (the bel
    types of the SLICE_* sites) to the slices of the range, as a nextpnr region."""
    x0, y0, x1, y1 = slice_range(text)
    name = f"SLICE_X{x0}Y{y0}:SLICE_X{x1}Y{y1}"
    return f'''# Written by the nextpnr-xilinx runner (--slice-range); nextpnr-xilinx runs it before
# placing (--pre-place). Every cell a slice can hold (LUT, flip-flop, carry, wide mux) may
# only be placed in the slices of {name}, as a Vivado pblock would keep it; block RAMs,
# DSPs, IO and clock cells are left alone (see hard_block_sites for the former).
import collections, re
X0, Y0, X1, Y1 = {x0}, {y0}, {x1}, {y1}
SLICE = re.compile(r"^SLICE_X(\\d+)Y(\\d+)/")
# An empty region to add bels to: nextpnr's Python API only makes rectangles of tiles, and
# tile (0, 0), the die's corner, holds no slice (only cells a slice can hold are constrained).
ctx.createRectangularRegion("slice_range", 0, 0, 0, 0)
inside, anywhere = collections.Counter(), set()
for bel in ctx.getBels():
    m = SLICE.match(str(bel))
    if m:
        kind = str(ctx.getBelType(bel))
        anywhere.add(kind)
        if X0 <= int(m.group(1)) <= X1 and Y0 <= int(m.group(2)) <= Y1:
            ctx.addBelToRegion("slice_range", bel)
            inside[kind] += 1
cells = collections.Counter()
for name, cell in ctx.cells:
    if str(cell.type) in anywhere and "BEL" not in cell.attrs:
        ctx.constrainCellToRegion(name, "slice_range")
        cells[str(cell.type)] += 1
for kind, n in sorted(cells.items()):
    if n > inside[kind]:
        raise SystemExit(f"slice_range: {{n}} {{kind}} cells but only {{inside[kind]}} such bels in {name}: "
                         f"widen the range")
print(f"slice_range: kept {{sum(cells.values())}} logic cells in the {{sum(inside.values())}} slice bels of {name}",
      flush=True)
'''


def pre_place_missing(command, launcher=()) -> str:
    """Why `command` (a nextpnr-xilinx) cannot run the pre-place scripts, or "".

    The scripts need nextpnr-xilinx's Python scripting (--pre-place), which a build with
    cmake -DBUILD_PYTHON=OFF leaves out; without it nextpnr-xilinx stops at the unknown
    option after packing, so this asks its --help first."""
    try:
        cp = subprocess.run(list(launcher) + list(command) + ["--help"], capture_output=True, text=True,
                            errors="replace", timeout=120)
    except (OSError, subprocess.TimeoutExpired) as e:
        return f"could not ask {command[0]} for its options ({e})"
    if "--pre-place" in cp.stdout + cp.stderr:
        return ""
    return (f"{command[0]} was built without Python scripting (no --pre-place option): rebuild nextpnr-xilinx "
            f"with cmake -DBUILD_PYTHON=ON (its default)")


def pre_place_scripts(hard_block_sites=None, slice_range=None) -> list:
    """(file name, text) of each --pre-place script these options ask for, in the order
    nextpnr-xilinx is to run them (the hard blocks fixed first, then the logic's region);
    ValueError naming the option if a value is malformed. The runner and a sweep's tasks
    both take their scripts from here."""
    scripts = []
    for option, value, name, write in (("--hard-block-sites", hard_block_sites, HARD_BLOCK_SCRIPT, hard_block_script),
                                       ("--slice-range", slice_range, SLICE_RANGE_SCRIPT, slice_range_script)):
        if value:
            try:
                scripts.append((name, write(value)))
            except ValueError as e:
                raise ValueError(f"{option}: {e}") from None
    return scripts


def _run_seed(cmd, seed, timeout, log_path, announce) -> dict:
    start = time.monotonic()
    announce(f"seed {seed}: start")
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            errors="replace", bufsize=1)
    timed_out = threading.Event()

    def kill():
        timed_out.set()
        proc.kill()

    timer = threading.Timer(timeout, kill) if timeout and timeout > 0 else None
    if timer:
        timer.daemon = True
        timer.start()
    phase = None
    last_progress = 0.0
    tail = collections.deque(maxlen=2)   # the last words of a run that dies without an ERROR line
    saw_error = False
    try:
        for line in proc.stdout:
            if line.strip():
                tail.append(line.strip())
            for key, name in PHASES:
                if key in line and name != phase:
                    phase = name
                    announce(f"seed {seed}: {name}")
                    break
            if phase == "route" and time.monotonic() - last_progress >= PROGRESS_EVERY_S:
                progress = router_progress([line])
                if progress:
                    last_progress = time.monotonic()
                    announce(f"seed {seed}: {progress['text']}")
            if line.startswith(("ERROR:",) + SCRIPT_SUMMARIES):
                saw_error = saw_error or line.startswith("ERROR:")
                announce(f"seed {seed}: {line.strip()}")
        rc = proc.wait()
    finally:
        if timer:
            timer.cancel()
    elapsed = time.monotonic() - start
    text = ""
    if os.path.exists(log_path):
        with open(log_path, errors="replace") as f:
            text = f.read()
    result = {"seed": seed, "returncode": rc, "elapsed_s": round(elapsed, 2)}
    result.update(parse_log(text))
    if timed_out.is_set():
        result["status"] = "timeout"
    elif rc != 0:
        result["status"] = "failed"
        if not saw_error:   # e.g. an uncaught C++ exception: "terminate called after throwing ..."
            result["last_output"] = list(tail)
            said = f"its last output: {' / '.join(tail)}" if tail else "and printed nothing"
            announce(f"seed {seed}: nextpnr-xilinx exited {rc} without an ERROR line; {said}")
    else:
        result["status"] = "routed"
    return result


def timing(result: dict, freq: float):
    """(min Fmax over clocks or None, timing met).

    No Fmax in the log (no timing analysis ran, or its report changed form) says nothing
    about timing: it is never "met". Met needs nextpnr's PASS for every clock as well as
    the figure: the figure is rounded, the verdict is not. The runner and a sweep's tasks
    (tritgpt.fpga.sweep) both judge a log's figures (parse_log) here."""
    fmax = result.get("fmax_mhz") or {}
    if not fmax:
        return None, False
    worst = min(fmax.values())
    passed = all((result.get("clock_pass") or {}).get(clock, False) for clock in fmax)
    return worst, passed and (freq is None or worst >= freq)


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if "--" not in argv:
        print("nextpnr_xilinx.py: expected '-- NEXTPNR_COMMAND ...'", file=sys.stderr)
        return 64
    split = argv.index("--")
    ap = argparse.ArgumentParser(description="Run nextpnr-xilinx over seeds with a timeout")
    ap.add_argument("--seeds", default="1", help="comma-separated seeds, tried in order")
    ap.add_argument("--policy", choices=("first", "best"), default="first")
    ap.add_argument("--timeout", type=float, default=3600.0, help="seconds per nextpnr run (0: none)")
    ap.add_argument("--freq", type=float, help="target clock in MHz (passed as --freq)")
    ap.add_argument("--timing-allow-fail", action="store_true")
    ap.add_argument("--fasm", required=True)
    ap.add_argument("--routed", required=True)
    ap.add_argument("--log", default="nextpnr.log")
    ap.add_argument("--report", default="nextpnr_report.json")
    ap.add_argument("--check", help="command run on each candidate; {fasm} and {frames} are replaced")
    ap.add_argument("--frames", help="where the chosen seed's frames (written by --check) go")
    ap.add_argument("--hard-block-sites", help="site columns for every block RAM and DSP, e.g. DSP48_X0,RAMB18_X0")
    ap.add_argument("--slice-range", help="the slices the logic may use, e.g. SLICE_X28Y0:SLICE_X81Y199")
    args = ap.parse_args(argv[:split])
    base = argv[split + 1:]
    if not base:
        print("nextpnr_xilinx.py: no nextpnr command given", file=sys.stderr)
        return 64
    try:
        scripts = pre_place_scripts(args.hard_block_sites, args.slice_range)
    except ValueError as e:
        print(f"nextpnr_xilinx.py: {e}", file=sys.stderr)
        return 64
    launcher = shlex.split(os.environ.get("EDALIZE_LAUNCHER", ""))
    if scripts:
        why = pre_place_missing(base, launcher)
        if why:
            options = " and ".join(o for o, v in (("--hard-block-sites", args.hard_block_sites),
                                                  ("--slice-range", args.slice_range)) if v)
            print(f"nextpnr_xilinx.py: {options} run as nextpnr-xilinx scripts, but {why}", file=sys.stderr)
            return 64
    for name, text in scripts:
        with open(name, "w") as f:
            f.write(text)
        base = base + ["--pre-place", name]
    seeds = [int(s) for s in str(args.seeds).replace(" ", "").split(",") if s]

    def announce(msg):
        print(f"nextpnr_xilinx: {msg}", flush=True)

    fasm_stem = args.fasm[:-5] if args.fasm.endswith(".fasm") else args.fasm
    routed_stem = args.routed[:-5] if args.routed.endswith(".json") else args.routed
    log_stem = args.log[:-4] if args.log.endswith(".log") else args.log

    def files(seed):
        return (f"{fasm_stem}.seed{seed}.fasm", f"{routed_stem}.seed{seed}.json", f"{log_stem}.seed{seed}.log")

    def frames_of(seed):
        return f"{fasm_stem}.seed{seed}.frames"

    def check(result) -> None:
        """Run --check on a routed candidate; a failure rejects the seed."""
        seed = result["seed"]
        fasm = files(seed)[0]
        cmd = launcher + [a.replace("{fasm}", fasm).replace("{frames}", frames_of(seed))
                          for a in shlex.split(args.check)]
        announce(f"seed {seed}: check")
        start = time.monotonic()
        with open(f"check.seed{seed}.log", "w") as log:
            log.write("$ " + " ".join(shlex.quote(c) for c in cmd) + "\n")
            log.flush()
            try:
                rc = subprocess.call(cmd, stdout=log, stderr=subprocess.STDOUT)
            except FileNotFoundError:
                rc = 127
        result["check_s"] = round(time.monotonic() - start, 2)
        if rc != 0:
            result["status"] = "rejected"
            result["timing_met"] = False
            result["check_log"] = f"check.seed{seed}.log"
            announce(f"seed {seed}: rejected, the check failed (exit {rc}; see check.seed{seed}.log)")
        else:
            announce(f"seed {seed}: check passed")

    results = []
    chosen = None
    for seed in seeds:
        fasm, routed, log = files(seed)
        for stale in (fasm, routed, log, frames_of(seed)):
            if os.path.exists(stale):
                os.remove(stale)
        cmd = launcher + base + ["--seed", str(seed), "--fasm", fasm, "--write", routed, "--log", log,
                                 "--timing-allow-fail"]
        if args.freq:
            cmd += ["--freq", f"{args.freq:g}"]
        try:
            result = _run_seed(cmd, seed, args.timeout, log, announce)
        except FileNotFoundError:
            print(f"nextpnr_xilinx: command not found: {cmd[0]}", file=sys.stderr)
            return 127
        result["command"] = " ".join(shlex.quote(c) for c in cmd)
        result["files"] = {"fasm": fasm, "routed": routed, "log": log}   # what this seed left behind
        worst, met = timing(result, args.freq)
        result["fmax_min_mhz"] = worst
        result["timing_met"] = bool(result["status"] == "routed" and met)
        if result["status"] == "routed" and not os.path.exists(fasm):
            result["status"] = "failed"
            result["timing_met"] = False
        if result["status"] == "routed" and worst is None:
            # an error, not a pass: without timing figures nothing says the design runs at its clock
            result["status"] = "no-fmax"
            announce(f"seed {seed}: ERROR: no 'Max frequency' line in {log}: timing unknown")
        results.append(result)
        fm = f"{worst:.2f} MHz" if worst is not None else "no Fmax"
        announce(f"seed {seed}: {result['status']}, {fm}, {result['elapsed_s']:.0f} s"
                 + (" (timing met)" if result["timing_met"] else ""))
        if args.check and result["status"] == "routed" and (result["timing_met"] or args.timing_allow_fail):
            check(result)
        if result["timing_met"] and args.policy == "first":
            break

    routed_ok = [r for r in results if r["status"] == "routed"]
    if routed_ok:
        met = [r for r in routed_ok if r["timing_met"]]
        pool = met or routed_ok

        def key(r):
            return (r["fmax_min_mhz"] if r["fmax_min_mhz"] is not None else float("inf"), -seeds.index(r["seed"]))

        chosen = max(pool, key=key) if args.policy == "best" or not met else met[0]

    timing_met = bool(chosen and chosen["timing_met"])
    installed = bool(chosen and (timing_met or args.timing_allow_fail))
    if installed:
        fasm, routed, log = files(chosen["seed"])
        shutil.copyfile(fasm, args.fasm + ".tmp")
        shutil.copyfile(routed, args.routed)
        shutil.copyfile(log, args.log)
        if args.frames and os.path.exists(args.frames):
            os.remove(args.frames)
        os.replace(args.fasm + ".tmp", args.fasm)  # the Make target last ...
        if args.frames and os.path.exists(frames_of(chosen["seed"])):
            os.replace(frames_of(chosen["seed"]), args.frames)  # ... but for the checked frames,
            os.utime(args.frames)  # newer than the FASM, so make does not run fasm2frames again
        for r in results:  # keep every log; drop the other seeds' large outputs
            if r is not chosen:
                for f in list(files(r["seed"])[:2]) + [frames_of(r["seed"])]:
                    if os.path.exists(f):
                        os.remove(f)
    report = {
        "target_mhz": args.freq,
        "seeds_tried": [r["seed"] for r in results],
        "policy": args.policy,
        "chosen_seed": chosen["seed"] if chosen else None,
        "installed": installed,
        "timing_met": timing_met,
        "fmax_mhz": chosen["fmax_mhz"] if chosen else {},
        "fmax_min_mhz": chosen["fmax_min_mhz"] if chosen else None,
        "utilisation": chosen["utilisation"] if chosen else {},
        "runs": results,
    }
    with open(args.report, "w") as f:
        json.dump(report, f, indent=2)
        f.write("\n")
    if not chosen:
        rejected = [r for r in results if r["status"] == "rejected"]
        no_fmax = [r for r in results if r["status"] == "no-fmax"]
        if no_fmax:
            announce("ERROR: nextpnr-xilinx reported no Fmax (seeds "
                     + ", ".join(str(r["seed"]) for r in no_fmax) + "), so timing is unknown; see "
                     + ", ".join(files(r["seed"])[2] for r in no_fmax))
        elif rejected:
            announce("no seed gave a design the check accepts; see "
                     + ", ".join(r["check_log"] for r in rejected))
        else:
            announce("no seed produced a routed design; see " + ", ".join(files(r["seed"])[2] for r in results))
        return 1
    if not timing_met:
        announce(f"timing not met: {chosen['fmax_min_mhz']:.2f} MHz < {args.freq:g} MHz (best seed {chosen['seed']})")
        return 0 if args.timing_allow_fail else 2
    return 0


class Nextpnr_xilinx(Edatool):

    description = "nextpnr-xilinx (openXC7) place and route with a target clock, seeds and a timeout"

    TOOL_OPTIONS = {
        "part": {"type": "str", "desc": "Device part, e.g. xc7a35tcsg324-1 (selects CHIPDB/<part>.bin)"},
        "frequency": {"type": "real", "desc": "Target clock frequency in MHz (passed as --freq)"},
        "seeds": {"type": "str", "desc": "Comma-separated placer seeds, tried in order (default 1)"},
        "seed_policy": {"type": "str", "desc": "first: keep the first seed meeting timing (default); best: try all"},
        "timeout": {"type": "int", "desc": "Seconds allowed per nextpnr-xilinx run (default 3600, 0: none)"},
        "timing_allow_fail": {"type": "bool", "desc": "Go on to the bitstream when timing is not met"},
        "nextpnr_options": {"type": "str", "desc": "Additional options for nextpnr-xilinx", "list": True},
        "hard_block_sites": {
            "type": "str", "list": True,
            "desc": "Site columns every block RAM and DSP48E1 must be placed in, e.g. DSP48_X0 (default: any)",
        },
        "slice_range": {
            "type": "str",
            "desc": "The slices the logic may use, as a pblock range, e.g. SLICE_X28Y0:SLICE_X81Y199 (default: any)",
        },
        "check_command": {
            "type": "str",
            "desc": "Command run on each candidate result ({fasm}, {frames} replaced); a failure rejects the seed",
        },
    }

    def setup(self, edam):
        super().setup(edam)
        netlist = ""
        xdcs = []
        chipdb = ""
        unused_files = []
        for f in self.files:
            file_type = f.get("file_type", "")
            if file_type == "jsonNetlist":
                if netlist:
                    raise RuntimeError(f"nextpnr_xilinx takes one netlist, found {netlist} and {f['name']}")
                netlist = f["name"]
            elif file_type == "xdc":
                xdcs.append(f["name"])
            elif file_type == "chipdb":
                chipdb = f["name"]
            else:
                unused_files.append(f)
        if not netlist:
            raise RuntimeError("nextpnr_xilinx: no jsonNetlist input")
        if not xdcs:
            raise RuntimeError("nextpnr_xilinx: no XDC constraint file (file_type: xdc)")
        self._require_tool_option("part")
        chipdb = chipdb or "$(CHIPDB_FILE)"

        opts = self.tool_options
        fasm = f"{self.name}.fasm"
        routed = f"{self.name}.routed.json"
        runner = ["$(PYTHON)", "$(OPENXC7_TOOLS)/nextpnr_xilinx.py"]
        runner += ["--seeds", "$(SEEDS)", "--policy", opts.get("seed_policy", "first")]
        runner += ["--timeout", "$(PNR_TIMEOUT)"]
        if opts.get("frequency"):
            runner += ["--freq", f"{float(opts['frequency']):g}"]
        if opts.get("timing_allow_fail"):
            runner += ["--timing-allow-fail"]
        runner += ["--fasm", fasm, "--routed", routed, "--log", "nextpnr.log", "--report", "nextpnr_report.json"]
        if opts.get("hard_block_sites"):
            runner += ["--hard-block-sites", ",".join(hard_block_columns(opts["hard_block_sites"]))]
        if opts.get("slice_range"):
            slice_range(opts["slice_range"])   # refused here, before make, if malformed
            runner += ["--slice-range", opts["slice_range"]]
        if opts.get("check_command"):
            runner += ["--check", "'" + opts["check_command"] + "'", "--frames", f"{self.name}.frames"]
        nextpnr = ["$(NEXTPNR_XILINX)", "--chipdb", chipdb]
        for x in xdcs:
            nextpnr += ["--xdc", x]
        nextpnr += ["--json", netlist] + list(opts.get("nextpnr_options", []))
        self.seeds = str(opts.get("seeds", "1"))
        self.timeout = int(opts.get("timeout", 3600))

        self.edam = edam.copy()
        self.edam["files"] = unused_files + [
            {"name": fasm, "file_type": "FASM"},
            {"name": routed, "file_type": "nextpnrRoutedJson"},
        ]
        commands = EdaCommands()
        commands.add(runner + ["--"] + nextpnr, [fasm], [netlist] + xdcs)
        commands.set_default_target(fasm)
        self.commands = commands


if __name__ == "__main__":
    sys.exit(main())
