"""Helpers for the swap tests (tests/test_swap*.py).

`build_swap_fixture` builds tests/fixtures/swap_top (block RAMs of many shapes,
initialised from a weights package) with the installed open tools, into a directory
laid out like a `tritgpt build` directory: weights/, tritgpt.routed.json,
tritgpt.fasm, tritgpt.frames, tritgpt.bit, memmap.json (tritgpt.fpga.memmap) and a
report.json with the bitstream hash. It runs yosys, nextpnr-xilinx, fasm2frames and
xc7frames2bit directly, so it does not depend on the FuseSoC/Edalize flow.

As a script, to build it by hand (e.g. to measure):

    python tests/_swap_helpers.py BUILD_DIR [--config default] [--seed 1]
"""

from __future__ import annotations

import hashlib
import json
import random
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FIXTURE = ROOT / "tests" / "fixtures" / "swap_top"
PART = "xc7a35tcsg324-1"
# the Arty A7-35T's clock and its four LEDs: the pins of the small designs the tests place
CLOCK_LEDS_XDC = """
set_property -dict {PACKAGE_PIN E3 IOSTANDARD LVCMOS33} [get_ports clk]
set_property -dict {PACKAGE_PIN H5 IOSTANDARD LVCMOS33} [get_ports {led[0]}]
set_property -dict {PACKAGE_PIN J5 IOSTANDARD LVCMOS33} [get_ports {led[1]}]
set_property -dict {PACKAGE_PIN T9 IOSTANDARD LVCMOS33} [get_ports {led[2]}]
set_property -dict {PACKAGE_PIN T10 IOSTANDARD LVCMOS33} [get_ports {led[3]}]
"""
BOARD_XDC = ROOT / "constraints" / "arty-a7-35t.xdc"

if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


def tools_reason(part: str = PART) -> str | None:
    """Why the fixture cannot be built here, or None."""
    from tritgpt.fpga import toolchain

    tc = toolchain.discover()
    missing = [t.name for t in (tc.yosys, tc.nextpnr_xilinx, tc.fasm2frames, tc.xc7frames2bit) if not t.found]
    if missing:
        return ("openXC7 tools not found: " + ", ".join(missing)
                + " (put them on PATH or set NEXTPNR_XILINX/PRJXRAY_BIN/PRJXRAY_DB_DIR/CHIPDB)")
    if not tc.db_family_dir(part):
        return f"prjxray-db with {part} not found (set PRJXRAY_DB_DIR)"
    if not tc.chipdb_file(part):
        return f"no nextpnr-xilinx chip database for {part} (set CHIPDB)"
    return None


def synth_small_design(work: Path, top: str, verilog: str, xdc: str, netlist: str = "n.json"):
    """A small Verilog design (module `top`) synthesised for the xc7 by the installed yosys
    into WORK/NETLIST, its XDC as WORK/board.xdc; skips the test if the openXC7 tools are
    missing. Returns the toolchain."""
    import pytest
    from tritgpt.fpga import toolchain

    reason = tools_reason()
    if reason:
        pytest.skip(reason)
    tc = toolchain.discover()
    (work / f"{top}.v").write_text(verilog)
    (work / "board.xdc").write_text(xdc)
    subprocess.run(tc.yosys.command + ["-q", "-p", f"read_verilog {top}.v; synth_xilinx -flatten -abc9 "
                                       f"-arch xc7 -top {top}; delete t:$scopeinfo; write_json {netlist}"],
                   cwd=work, check=True)
    return tc


def make_weights(path: Path, config: str = "default", seed: int = 0) -> Path:
    from tritgpt.ml.export import write_package
    from tritgpt.ml.model import Config, IntParams

    return write_package(IntParams.random(Config.load(config), seed=seed), path, force=True)


def table_hex(seed: int = 5) -> str:
    """Contents of the fixture's table ROM (not part of a weights package)."""
    rnd = random.Random(seed)
    return "".join(f"{rnd.randrange(256):02x}\n" for _ in range(256))


def _run(cmd, cwd: Path, log: Path) -> float:
    t0 = time.monotonic()
    with open(log, "w") as f:
        f.write("$ " + " ".join(map(str, cmd)) + "\n")
        f.flush()
        cp = subprocess.run(["nice", "-n", "10"] + [str(c) for c in cmd], cwd=cwd, stdout=f,
                            stderr=subprocess.STDOUT)
    if cp.returncode != 0:
        raise RuntimeError(f"{cmd[0]} failed (exit {cp.returncode}); see {log}\n"
                           + "\n".join(log.read_text(errors="replace").splitlines()[-15:]))
    return time.monotonic() - t0


def build_swap_fixture(work: Path, weights: Path, *, seed: int = 1, bind: bool = False) -> dict:
    """Build the fixture design with the weights package `weights` into `work`.

    bind=True also completes memmap.json with the swap fields (what a build does with
    tritgpt.fpga.memmap.write_memmap); bind=False leaves the plain map of tritgpt.fpga.memmap.
    Returns the stage times in seconds.
    """
    from tritgpt.fpga import memmap
    from tritgpt.fpga import toolchain

    tc = toolchain.discover()
    db = tc.db_family_dir(PART)
    chipdb = tc.chipdb_file(PART)
    work = Path(work)
    (work / "src").mkdir(parents=True, exist_ok=True)
    (work / "logs").mkdir(exist_ok=True)
    shutil.copy2(FIXTURE / "swap_top.v", work / "src" / "swap_top.v")
    (work / "table.hex").write_text(table_hex())
    if (work / "weights").exists():
        shutil.rmtree(work / "weights")
    shutil.copytree(weights, work / "weights")
    times = {}
    # yosys (YoWASP sees only the current directory tree: relative paths)
    script = ("read_verilog src/swap_top.v; "
              "chparam -set WEIGHTS_DIR \"weights/\" -set TABLE \"table.hex\" tritgpt_top; "
              "synth_xilinx -flatten -abc9 -arch xc7 -top tritgpt_top; delete t:$scopeinfo; "
              "write_json tritgpt.json")
    times["synth"] = _run(tc.yosys.command + ["-q", "-l", "yosys.log", "-p", script], work, work / "logs" / "yosys.log")
    times["pnr"] = _run(tc.nextpnr_xilinx.command + [
        "--chipdb", chipdb, "--xdc", BOARD_XDC, "--json", "tritgpt.json", "--fasm", "tritgpt.fasm",
        "--write", "tritgpt.routed.json", "--freq", "50", "--seed", str(seed), "-l", "nextpnr.log"],
        work, work / "logs" / "nextpnr.log")
    times["fasm2frames"] = _run(tc.fasm2frames.command + [
        "--db-root", db, "--part", PART, "tritgpt.fasm", "tritgpt.frames"], work, work / "logs" / "fasm2frames.log")
    times["xc7frames2bit"] = _run(tc.xc7frames2bit.command + [
        "--part_file", db / PART / "part.yaml", "--part_name", PART, "--frm_file", "tritgpt.frames",
        "--output_file", "tritgpt.bit"], work, work / "logs" / "xc7frames2bit.log")
    mm = memmap.build_memmap(work / "tritgpt.routed.json", placed=True, weights_dir=work / "weights",
                             db_family_dir=db, part=PART)
    (work / "memmap.json").write_text(json.dumps(mm, indent=1) + "\n")
    bit = work / "tritgpt.bit"
    report = {"format": "tritgpt-build-report", "board": "arty-a7-35t", "part": PART, "status": "ok",
              "bitstream": {"path": str(bit), "bytes": bit.stat().st_size,
                            "sha256": hashlib.sha256(bit.read_bytes()).hexdigest()},
              "stage_seconds": {k: round(v, 2) for k, v in times.items()},
              "total_seconds": round(sum(times.values()), 2), "fixture": "tests/fixtures/swap_top"}
    (work / "report.json").write_text(json.dumps(report, indent=2) + "\n")
    if bind:
        memmap.write_memmap(work)
    return times


if __name__ == "__main__":
    import argparse

    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("work", type=Path)
    ap.add_argument("--config", default="default")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--weights-seed", type=int, default=0)
    ap.add_argument("--bind", action="store_true")
    args = ap.parse_args()
    reason = tools_reason()
    if reason:
        sys.exit(reason)
    args.work.mkdir(parents=True, exist_ok=True)
    w = make_weights(args.work.parent / f".{args.work.name}-weights", args.config, args.weights_seed)
    print(json.dumps(build_swap_fixture(args.work, w, seed=args.seed, bind=args.bind), indent=1))


# ----------------------------------------------------------------------------
# a synthetic build for the tests without tools (CI)
# ----------------------------------------------------------------------------
#
# Everything here is made by the project's own code: the cells' INIT parameters
# (as yosys writes them: MSB-first strings with 'x' for undefined bits), the FASM
# (tritgpt.fpga.fasm_bram.half_lines, plus other lines), a stand-in prjxray-db (random
# but fixed segbits for the BRAM contents), the frames (tritgpt.fpga.bram_frames), and
# stand-ins for xc7frames2bit and bitread (a .bit header around the frames text).

FAKE_PART = "xc7a35tcsg324-1"
SEG_OFFSETS = (0, 10, 20, 30, 40, 51, 61, 71, 81, 91)

FAKE_XC7FRAMES2BIT = r'''
import sys, time
args = dict(zip(sys.argv[1::2], sys.argv[2::2]))
frm, out, part = args["--frm_file"], args["--output_file"], args["--part_name"]
body = open(frm, "rb").read()
def field(key, text):
    v = text.encode() + b"\0"
    return key.encode() + len(v).to_bytes(2, "big") + v
t = time.localtime()
head = (b"\x00\x09\x0f\xf0\x0f\xf0\x0f\xf0\x0f\xf0\x00\x00\x01" + field("a", frm + ";Generator=fake")
        + field("b", part) + field("c", time.strftime("%Y/%m/%d", t)) + field("d", time.strftime("%H:%M:%S", t))
        + b"e" + len(body).to_bytes(4, "big"))
open(out, "wb").write(head + body)
'''

FAKE_BITREAD = r'''
import sys
opts = {a.split("=", 1)[0]: a.split("=", 1)[1] if "=" in a else True for a in sys.argv[1:-1]}
data = open(sys.argv[-1], "rb").read()
pos = 13
while data[pos] != ord("e"):
    pos += 3 + int.from_bytes(data[pos + 1:pos + 3], "big")
body = data[pos + 5:].decode()
lo, hi = 0, 1 << 32
if "-F" in opts:
    lo, hi = (int(x, 16) for x in opts["-F"].split(":"))
with open(opts["-o"], "w") as f:
    for line in body.splitlines():
        addr, words = line.split(None, 1)
        a = int(addr, 16)
        w = [int(x, 16) for x in words.split(",")]
        if not (lo <= a <= hi) or ("-z" in opts and not any(w)):
            continue
        f.write(".frame 0x%08x\n" % a)
        for i in range(0, len(w), 6):
            f.write(" ".join("%08x" % x for x in w[i:i + 6]) + "\n")
'''


def make_fake_db(root: Path, seed: int = 3) -> Path:
    """A stand-in prjxray-db family dir: part files, mapping, and BRAM segbits (a fixed random layout)."""
    import numpy as np

    fam = Path(root) / "artix7"
    (fam / FAKE_PART).mkdir(parents=True, exist_ok=True)
    (fam / FAKE_PART / "part.yaml").write_text("# stand-in part file for tests\nidcode: 0x0\n")
    (fam / "mapping").mkdir(exist_ok=True)
    (fam / "mapping" / "parts.yaml").write_text(f"{FAKE_PART}:\n  device: xc7a50t\n  package: csg324\n")
    (fam / "mapping" / "devices.yaml").write_text('"xc7a50t":\n  fabric: "xc7a50t"\n')
    (fam / "xc7a50t").mkdir(exist_ok=True)
    rng = np.random.default_rng(seed)
    perm = rng.permutation(128 * 320)
    for side in ("L", "R"):
        lines, n = [], 0
        for h in (0, 1):
            for kind, count in (("INIT", 64), ("INITP", 8)):
                for i in range(count):
                    for b in range(256):
                        pos = int(perm[n])
                        n += 1
                        lines.append(f"BRAM_{side}.RAMB18_Y{h}.{kind}_{i:02X}[{b:03d}] {pos // 320:02d}_{pos % 320:02d}")
        (fam / f"segbits_bram_{side.lower()}.block_ram.db").write_text("\n".join(lines) + "\n")
    return fam


def yosys_params(primitive: str, width: int, contents: dict, mode: str = "TDP") -> dict:
    """INIT/INITP parameters of a cell as yosys writes them.

    contents: port bit p -> (values per address, defined per address), arrays of the
    cell depth; port bits not given are undefined ('x').
    """
    import numpy as np

    from tritgpt.fpga import fasm_bram as fb

    n_init, n_initp = fb.CELL_LINES[primitive]
    depth = fb.cell_depth(primitive, width)
    data, parity = fb.data_parity_width(width)
    chars = {"INIT": np.full(n_init * 256, ord("x"), np.uint8), "INITP": np.full(n_initp * 256, ord("x"), np.uint8)}
    lanes = fb.port_lanes(width)
    for p, (vals, dfn) in contents.items():
        kind, j = lanes[p]
        idx = np.arange(depth) * (data if kind == "INIT" else parity) + j
        c = np.where(dfn.astype(bool), np.where(vals.astype(bool), ord("1"), ord("0")), ord("x")).astype(np.uint8)
        chars[kind][idx] = c
    params = {}
    for kind, n in (("INIT", n_init), ("INITP", n_initp)):
        for i in range(n):
            params[f"{kind}_{i:02X}"] = chars[kind][i * 256:(i + 1) * 256][::-1].tobytes().decode()
    w = format(width, "032b")
    zero = format(0, "032b")
    if mode == "SDP":
        params.update(RAM_MODE="SDP", READ_WIDTH_A=w, WRITE_WIDTH_B=w, READ_WIDTH_B=zero, WRITE_WIDTH_A=zero)
    else:
        params.update(RAM_MODE="TDP", READ_WIDTH_A=w, WRITE_WIDTH_A=w, READ_WIDTH_B=w, WRITE_WIDTH_B=zero)
    params.update(DOA_REG=zero, DOB_REG=zero, INIT_A=format(0, "036b"), INIT_B=format(0, "036b"))
    return params


def image_contents(img, depth: int, b0: int, nbits: int, pad_to: int = 0) -> dict:
    """Port bits 0..nbits-1 <- image bits b0.. (words beyond the image undefined); then
    zero-valued defined port bits up to pad_to (a memory wider than the image word)."""
    import numpy as np

    n = min(depth, len(img))
    out = {}
    for p in range(max(nbits, pad_to)):
        vals = np.zeros(depth, np.uint8)
        dfn = np.zeros(depth, np.uint8)
        dfn[:n] = 1
        if p < nbits:
            vals[:n] = (np.asarray(img[:n], np.uint64) >> np.uint64(b0 + p)) & np.uint64(1)
        out[p] = (vals, dfn)
    return out


def make_synthetic_build(work: Path, weights: Path, db_family: Path, tools_dir: Path) -> dict:
    """A build directory of a made-up design holding every image of a tiny-config package.

    Cells: wt_bankNN in RAMB18 (SDP, 36 bits); tok_emb split over two RAMB36 at 18
    bits (bits 0-17, 18-31); wt_bank15 in a RAMB36 at 72 bits, 64-bit words (upper half
    zero); gains over four RAMB18 at 9 bits; consts in a RAMB36 at 36 bits; a table
    ROM (not a weight) and a RAM without contents. Returns {"cells": ..., "tiles": ...}.
    """
    import hashlib

    import numpy as np

    from tritgpt.fpga import bram_frames as bf
    from tritgpt.fpga import fasm_bram as fb
    from tritgpt.fpga import memmap

    work = Path(work)
    work.mkdir(parents=True, exist_ok=True)
    if (work / "weights").exists():
        shutil.rmtree(work / "weights")
    shutil.copytree(weights, work / "weights")
    imgs = memmap.load_images(work / "weights")

    # (name, primitive, width, mode, contents)
    cells = []
    for b in range(15):
        name = f"wt_bank{b:02d}.hex"
        cells.append((f"u_core.u_mv.g_bank[{b}].u_bank.mem.0.0", "RAMB18E1", 36, "SDP",
                      image_contents(imgs[name], 512, 0, 32)))
    tok = imgs["tok_emb.hex"]
    cells.append(("u_core.u_emb.u_tok.mem.0.0", "RAMB36E1", 18, "TDP", image_contents(tok, 2048, 0, 18)))
    cells.append(("u_core.u_emb.u_tok.mem.0.1", "RAMB36E1", 18, "TDP", image_contents(tok, 2048, 18, 14)))
    cells.append(("u_core.u_mv.g_bank[15].u_bank.mem.0.0", "RAMB36E1", 72, "SDP",
                  image_contents(imgs["wt_bank15.hex"], 512, 0, 32, pad_to=64)))
    for i, (b0, nb) in enumerate(((0, 9), (9, 9), (18, 9), (27, 5))):
        cells.append((f"u_core.u_norm.u_gains.mem.0.{i}", "RAMB18E1", 9, "TDP",
                      image_contents(imgs["gains.hex"], 2048, b0, nb)))
    cells.append(("u_core.u_fsm.u_consts.mem.0.0", "RAMB36E1", 36, "TDP",
                  image_contents(imgs["consts.hex"], 1024, 0, 32)))
    rnd = random.Random(9)
    table = np.array([rnd.randrange(256) for _ in range(256)], np.uint64)
    (work / "rtl" / "tables").mkdir(parents=True, exist_ok=True)  # as `tritgpt build` copies the ROM tables
    (work / "rtl" / "tables" / "exp.hex").write_text("".join(f"{int(v):02x}\n" for v in table))
    cells.append(("u_core.u_att.u_exp.mem.0.0", "RAMB18E1", 9, "TDP", image_contents(table, 2048, 0, 8)))
    cells.append(("u_core.u_att.u_k.mem.0.0", "RAMB18E1", 36, "SDP", {}))

    # placement: a RAMB36 takes a tile, RAMB18s pair up; tiles alternate BRAM_L/BRAM_R columns
    tilegrid, placed, tiles = {}, [], []
    pending18 = None

    def new_tile():
        k = len(tiles)
        side = "L" if (k // 10) % 2 == 0 else "R"
        tile = f"BRAM_{side}_X{6 + 24 * ((k // 10) % 2)}Y{5 * k}"
        bits = {"baseaddr": f"0x{0x00C00000 + 0x80 * (k // 10):08X}", "frames": 128,
                "offset": SEG_OFFSETS[k % 10], "words": 10}
        tilegrid[tile] = {"type": f"BRAM_{side}", "bits": {"BLOCK_RAM": bits},
                          "sites": {f"RAMB18_X0Y{2 * k}": "RAMB18E1", f"RAMB18_X0Y{2 * k + 1}": "RAMB18E1",
                                    f"RAMB36_X0Y{k}": "RAMB36E1"}}
        tiles.append(tile)
        return k

    for name, prim, width, mode, contents in cells:
        if prim == "RAMB36E1":
            k = new_tile()
            site = f"RAMB36_X0Y{k}"
        elif pending18 is None:
            k = new_tile()
            pending18 = k
            site = f"RAMB18_X0Y{2 * k}"
        else:
            site = f"RAMB18_X0Y{2 * pending18 + 1}"
            pending18 = None
        placed.append((name, prim, width, mode, contents, site))
    (db_family / "xc7a50t" / "tilegrid.json").write_text(json.dumps(tilegrid, indent=1))

    routed_cells = {}
    for name, prim, width, mode, contents, site in placed:
        routed_cells[name] = {"type": f"{prim}_{prim}", "parameters": yosys_params(prim, width, contents, mode),
                              "attributes": {"NEXTPNR_BEL": f"{site}/{prim}", "src": "rtl/tg_common.v:25.5-25.40"},
                              "connections": {}}
    # some other cells
    routed_cells["u_core.acc_reg[0]"] = {"type": "FDRE", "parameters": {}, "attributes": {"NEXTPNR_BEL": "SLICE_X0Y0/AFF"}}
    (work / "tritgpt.routed.json").write_text(json.dumps({"modules": {"tritgpt_top": {"cells": routed_cells}}}))

    # FASM: per tile (in tile order) its halves' lines, with routing and LUT lines around
    site_of = {}
    for name, prim, width, mode, contents, site in placed:
        site_of[name] = site
    by_tile: dict[str, dict[int, tuple]] = {}
    for name, prim, width, mode, contents, site in placed:
        t = next(tn for tn, info in tilegrid.items() if site in info["sites"])
        init, initp, _, _ = fb.params_bits(routed_cells[name]["parameters"], prim)
        for prefix, half in zip(fb.cell_halves(prim, t, site), fb.cell_to_halves(prim, init, initp)):
            by_tile.setdefault(t, {})[int(prefix[-1])] = (half, width, prim)
    rnd = random.Random(4)
    lines = ["# FASM of a made-up design (tests/_swap_helpers.py)"]
    for t in tiles:
        lines.append(f"INT_L_X{rnd.randrange(40)}Y{rnd.randrange(150)}.EE2BEG{rnd.randrange(4)}.LOGIC_OUTS{rnd.randrange(24)}")
        lines.append(f"CLBLL_L_X2Y{rnd.randrange(150)}.SLICEL_X0.ALUT.INIT[63:0] = 64'b"
                     + "".join(rnd.choice("01") for _ in range(64)))
        for h in (0, 1):
            if h not in by_tile.get(t, {}):
                continue
            half, width, prim = by_tile[t][h]
            lines.append(f"{t}.RAMB18_Y{h}.IN_USE")
            lines.append(f"{t}.RAMB18_Y{h}.READ_WIDTH_A_{width if prim == 'RAMB18E1' else max(1, width // 2)}")
            lines.append(f"{t}.RAMB18_Y{h}.ZINIT_A[17:0] = 18'b111111111111111111")
            lines.extend(fb.half_lines(f"{t}.RAMB18_Y{h}", half).values())
        lines.append(f"{t}.CASCOUT_ARD_ACTIVE")
        lines.append("")
    fasm_text = "\n".join(lines) + "\n"
    (work / "tritgpt.fasm").write_text(fasm_text)

    # frames: some configuration frames with content, every BRAM frame of the used columns
    frames_lines = {}
    for a in range(0x00000000, 0x00000020):
        frames_lines[a] = [rnd.getrandbits(32) if rnd.random() < 0.3 else 0 for _ in range(101)]
    for k in range(0, len(tiles), 10):
        base = 0x00C00000 + 0x80 * (k // 10)
        for f in range(128):
            frames_lines[base + f] = [0] * 101
    text = "".join(f"0x{a:08X} " + ",".join(f"0x{w:08X}" for w in ws) + "\n" for a, ws in sorted(frames_lines.items()))
    frames = bf.FramesFile(text)
    halves = fb.read_halves(fasm_text)
    bf.write_halves_to_frames(frames, halves, {t: tilegrid[t]["bits"]["BLOCK_RAM"] for t in tiles}, db_family)
    (work / "tritgpt.frames").write_text(frames.text())
    subprocess.run([sys.executable, str(tools_dir / "fake_xc7frames2bit.py"), "--part_file",
                    str(db_family / FAKE_PART / "part.yaml"), "--part_name", FAKE_PART, "--frm_file", "tritgpt.frames",
                    "--output_file", "tritgpt.bit"], cwd=work, check=True)
    mm = memmap.build_memmap(work / "tritgpt.routed.json", placed=True, weights_dir=work / "weights",
                             db_family_dir=db_family, part=FAKE_PART, tables_dir=work / "rtl" / "tables")
    (work / "memmap.json").write_text(json.dumps(mm, indent=1) + "\n")
    bit = work / "tritgpt.bit"
    (work / "report.json").write_text(json.dumps({
        "format": "tritgpt-build-report", "part": FAKE_PART, "status": "ok",
        "bitstream": {"path": str(bit), "bytes": bit.stat().st_size,
                      "sha256": hashlib.sha256(bit.read_bytes()).hexdigest()}}, indent=2) + "\n")
    return {"cells": placed, "tiles": tiles, "tilegrid": tilegrid}


def write_fake_tools(d: Path) -> dict[str, str]:
    """Stand-ins for xc7frames2bit and bitread; returns the environment that selects them."""
    d = Path(d)
    d.mkdir(parents=True, exist_ok=True)
    (d / "fake_xc7frames2bit.py").write_text(FAKE_XC7FRAMES2BIT)
    (d / "fake_bitread.py").write_text(FAKE_BITREAD)
    return {"XC7FRAMES2BIT": f"{sys.executable} {d / 'fake_xc7frames2bit.py'}",
            "BITREAD": f"{sys.executable} {d / 'fake_bitread.py'}"}
