"""`tritgpt build / program / boards`: checks before any tool, incremental builds, reports.

The builds here use the stand-in top level (tests/fixtures/board_top), so they are fast;
test_build_top.py builds the real one. Place, route and bitstream need the openXC7
tools (marker openxc7) and skip with the reason when they are not installed.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from rich.console import Console

import _build_helpers as H
from tritgpt.fpga import boards, flow
from tritgpt.fpga.build import report as build_report, stages
from tritgpt.errors import UserError


def cli(*args, env=None, cwd=None) -> subprocess.CompletedProcess:
    env = dict(env or os.environ)
    env["COLUMNS"] = "1000"  # one line per message
    cp = subprocess.run([sys.executable, "-m", "tritgpt", *args], capture_output=True, text=True,
                        env=env, cwd=cwd or H.ROOT, timeout=600)
    cp.stderr = " ".join(cp.stderr.split())
    return cp


def no_tools_env(tmp_path) -> dict:
    env = os.environ.copy()
    env["PATH"] = "/usr/bin:/bin"
    env["HOME"] = str(tmp_path)
    env["XDG_CONFIG_HOME"] = str(tmp_path / "cfg")
    for k in ("NEXTPNR_XILINX", "CHIPDB", "PRJXRAY_DB_DIR", "PRJXRAY_BIN", "TRITGPT_TOOLS_CONFIG",
              "NEXTPNR_XILINX_CHIPDB_DIR", "TRITGPT_OPENXC7_IMAGE", "FASM2FRAMES", "XC7FRAMES2BIT"):
        env.pop(k, None)
    return env


@pytest.fixture(scope="module")
def tiny_weights(tmp_path_factory):
    return H.make_weights(tmp_path_factory.mktemp("w") / "tiny", "tiny", seed=1)


def quiet() -> Console:
    return Console(file=open(os.devnull, "w"), width=120)


def test_boards_command():
    cp = cli("boards", "--json")
    assert cp.returncode == 0, cp.stderr
    names = {b["name"]: b for b in json.loads(cp.stdout)}
    assert names["arty-a7-35t"]["part"] == "xc7a35tcsg324-1"
    assert names["cmod-a7-35t"]["design_mhz"] == 12.0
    # the table fits an 80-column terminal without cutting a value
    env = dict(os.environ, COLUMNS="80")
    table = subprocess.run([sys.executable, "-m", "tritgpt", "boards"], capture_output=True, text=True, env=env,
                           cwd=H.ROOT, timeout=600).stdout
    assert max(len(line) for line in table.splitlines()) <= 80 and "\u2026" not in table
    assert "arty-a7-100t" in table and "xc7a100tcsg324-1" in table and "100/50" in table and "12/12" in table


def test_rejected_seeds_name_the_tiles(tmp_path):
    """When every routed seed is refused by fasm2frames, the error names the tiles the database lacks."""
    err = ("prjxray.fasm_assembler.FasmLookupError: Segment DB HCLK_R_BOT_UTURN, key "
           "HCLK_R_BOT_UTURN.ENABLE_BUFFER.HCLK_CK_BUFHCLK0 not found from line "
           "'HCLK_R_BOT_UTURN_X73Y130.ENABLE_BUFFER.HCLK_CK_BUFHCLK0'\n")
    (tmp_path / "check.seed1.log").write_text(err)
    (tmp_path / "check.seed3.log").write_text(err + err.replace("X73Y130", "X72Y130").replace("_R_", "_L_"))
    report = {"runs": [{"seed": 1, "status": "rejected", "check_log": "check.seed1.log"},
                       {"seed": 2, "status": "failed"},
                       {"seed": 3, "status": "rejected", "check_log": "check.seed3.log"}]}
    assert stages.rejected_tiles(tmp_path, report) == \
        "HCLK_R_BOT_UTURN_X73Y130 (seeds 1, 3), HCLK_L_BOT_UTURN_X72Y130 (seed 3)"
    assert stages.rejected_tiles(tmp_path, {"runs": [{"seed": 2, "status": "failed"}]}) == ""


def test_unknown_board_refused():
    cp = cli("build", "--board", "arty-z7")
    assert cp.returncode == 1
    assert "unknown board 'arty-z7'" in cp.stderr and "arty-a7-35t" in cp.stderr and "Traceback" not in cp.stderr


def test_oversized_model_refused_before_tools(tmp_path):
    from tritgpt.ml.export import write_package
    from tritgpt.ml.model import Config, IntParams

    big = dataclasses.replace(Config.load("default"), name="big", d_model=256, d_ff=1024, n_layers=2, context=256)
    pkg = write_package(IntParams.random(big), tmp_path / "big")
    cp = cli("build", "--board", "basys3", "--weights", str(pkg), "--out", str(tmp_path / "b"),
             env=no_tools_env(tmp_path))
    assert cp.returncode == 1
    assert "needs about" in cp.stderr and "RAMB36" in cp.stderr and "basys3" in cp.stderr
    assert "missing tools" not in cp.stderr  # refused before looking for any tool
    assert not (tmp_path / "b").exists()


def test_missing_tools_one_message(tmp_path, tiny_weights):
    cp = cli("build", "--board", "arty-a7-35t", "--weights", str(tiny_weights), "--out", str(tmp_path / "b"),
             env=no_tools_env(tmp_path))
    assert cp.returncode == 1
    assert "missing tools for the FPGA build" in cp.stderr
    assert "nextpnr-xilinx" in cp.stderr and "toolchain-installer" in cp.stderr and "nix develop" in cp.stderr
    assert not (tmp_path / "b").exists()


def test_board_scripts_need_a_nextpnr_with_python(tmp_path, tiny_weights):
    """The Arty A7-100T places with [pnr] slice_range and hard_block_sites, which run as
    nextpnr-xilinx scripts: a nextpnr-xilinx built without Python is named in one line
    before synthesis, with the fix."""
    bin_dir = tmp_path / "openxc7" / "bin"
    bin_dir.mkdir(parents=True)
    for name in ("nextpnr-xilinx", "fasm2frames", "xc7frames2bit", "bbasm"):   # --help without --pre-place
        (bin_dir / name).write_text('#!/bin/sh\necho "General options:"\necho "  --seed arg   seed value"\n')
        (bin_dir / name).chmod(0o755)
    part = "xc7a100tcsg324-1"
    (tmp_path / "db" / "artix7" / part).mkdir(parents=True)
    (tmp_path / "db" / "artix7" / part / "part.yaml").write_text("x\n")
    (tmp_path / "chipdb").mkdir()
    (tmp_path / "chipdb" / f"{part}.bin").write_bytes(b"chipdb")
    cfg = tmp_path / "cfg" / "tritgpt" / "tools.toml"
    cfg.parent.mkdir(parents=True)
    cfg.write_text(f'bin_dir = "{bin_dir}"\nprjxray_db = "{tmp_path / "db"}"\nchipdb_dir = "{tmp_path / "chipdb"}"\n')
    cp = cli("build", "--board", "arty-a7-100t", "--weights", str(tiny_weights), "--out", str(tmp_path / "b"),
             env=no_tools_env(tmp_path))
    assert cp.returncode == 1, cp.stdout + cp.stderr
    [line] = cp.stderr.strip().splitlines()
    assert ("arty-a7-100t.toml: [pnr] hard_block_sites and slice_range are nextpnr-xilinx scripts, but "
            f"{bin_dir / 'nextpnr-xilinx'} was built without Python scripting") in line, line
    assert line.endswith("rebuild nextpnr-xilinx with cmake -DBUILD_PYTHON=ON (its default)"), line
    assert not (tmp_path / "b").exists()
    # a sweep of the board says the same, before synthesis
    cp = cli("sweep", "--board", "arty-a7-100t", "--seeds", "1", "--weights", str(tiny_weights), "--out",
             str(tmp_path / "s"), env=no_tools_env(tmp_path))
    assert cp.returncode != 0 and "Traceback" not in cp.stderr, cp.stderr
    assert "-DBUILD_PYTHON=ON" in cp.stderr and not (tmp_path / "s" / "arty-a7-100t").exists(), cp.stderr
    # and `tritgpt boards --tools` shows it beside the nextpnr-xilinx it found
    cp = cli("boards", "--tools", env=dict(no_tools_env(tmp_path), COLUMNS="200"))
    assert cp.returncode == 0, cp.stderr
    [row] = [ln for ln in cp.stdout.splitlines() if "its Python" in ln]
    assert "no --pre-place: rebuild with -DBUILD_PYTHON=ON" in row


def test_bad_weights_dir(tmp_path):
    with pytest.raises(UserError, match="not a weights package"):
        flow.build(flow.BuildRequest(board="arty-a7-35t", weights=tmp_path / "none"), quiet())


def test_program_messages(tmp_path):
    env = no_tools_env(tmp_path)
    cp = cli("program", "--board", "arty-a7-35t", str(tmp_path / "missing.bit"), env=env)
    assert cp.returncode == 1 and "no bitstream" in cp.stderr
    bit = tmp_path / "x.bit"
    bit.write_bytes(b"\0")
    cp = cli("program", "--board", "arty-a7-35t", str(bit), env=env)
    assert cp.returncode == 1 and "openFPGALoader not found" in cp.stderr and "apt install openfpgaloader" in cp.stderr
    # with a stand-in openFPGALoader: the board name and file are passed on
    fake = tmp_path / "bin" / "openFPGALoader"
    fake.parent.mkdir()
    fake.write_text(f'#!/bin/sh\necho "$@" > {tmp_path / "args"}\n')
    fake.chmod(0o755)
    env["PATH"] = f"{fake.parent}:{env['PATH']}"
    cp = cli("program", "--board", "cmod-a7-35t", str(bit), env=env)
    assert cp.returncode == 0, cp.stderr
    assert (tmp_path / "args").read_text().split() == ["--board", "cmoda7_35t", "--bitstream", str(bit)]


def test_cycles_per_token_from_bench(tmp_path):
    """A bench entry counts for this model on this RTL only: one measured on other RTL (or
    saying nothing of it, as entries before rtl_sha256 did) is passed over."""
    from tritgpt import hdl

    rtl = hdl.rtl_digest()
    manifest = {"model_hash": "abc", "config": {"name": "tiny"}}
    other = tmp_path / "other.json"
    other.write_text(json.dumps({"model_hash": "zzz", "rtl_sha256": rtl, "cycles_per_token": 5}))
    stale = tmp_path / "stale.json"
    stale.write_text(json.dumps([{"model_hash": "abc", "rtl_sha256": "0" * 64, "cycles_per_token": 813.5},
                                 {"model_hash": "abc", "cycles_per_token": 804.5}]))
    bench = tmp_path / "bench.json"
    bench.write_text(json.dumps([{"config": "default", "rtl_sha256": rtl, "cycles_per_token": 7},
                                 {"model_hash": "abc", "rtl_sha256": rtl, "cycles_per_token": 1234.5}]))
    search = [tmp_path / "nope.json", other, stale, bench]
    assert build_report.find_cycles_per_token(manifest, search) == (1234.5, str(bench))
    assert build_report.find_cycles_per_token(manifest, [other, stale]) == (None, None)


# ----------------------------------------------------------------------------
# synthesis through the flow (yosys only): incremental behaviour
# ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def synth_build(tmp_path_factory, tiny_weights):
    out = tmp_path_factory.mktemp("build") / "basys3"
    req = flow.BuildRequest(board="basys3", weights=tiny_weights, build_dir=out, stop_after="synth",
                            fixture=True, nice=10)
    return req, flow.build(req, quiet())


def test_synth_fixture_report(synth_build):
    req, report = synth_build
    work = Path(req.build_dir)
    assert report["status"] == "synth-only"
    u = report["utilisation"]
    assert u["ramb36"] == {"used": 1.5, "available": 50}  # three 512 x 32 memories: one RAMB18 each
    assert 0 < u["lut"]["used"] < 500 and u["dsp"]["used"] == 0
    for name in ("tritgpt.json", "yosys.log", "report.json", "memmap.json", "Makefile",
                 "logs/fusesoc.log", "logs/synth.log", "weights/manifest.json"):
        assert (work / name).exists(), name
    # xc7prep reads the part's tile grid, so it runs with place and route, not here
    assert not (work / "tritgpt.prep.json").exists()
    assert json.loads((work / "report.json").read_text())["input_hash"] == report["input_hash"]
    ys = (work / "tritgpt.ys").read_text()
    b = boards.get_board(req.board)
    assert 'WEIGHTS_DIR "weights/"' in ys and f"-set CLK_HZ {b.clk_hz} -set CLK_DIV {b.clk_div} " in ys
    assert "-Iweights" in ys
    # a BUFG for the board clock; a BUFGCE for the design clock if the board's clock is divided
    cells = json.loads((work / "tritgpt.stat.json").read_text())["design"]["num_cells_by_type"]
    assert cells.get("BUFG") == 1 and cells.get("BUFGCE", 0) == (1 if b.clk_div > 1 else 0), cells
    mm = json.loads((work / "memmap.json").read_text())
    cells = {c["cell"]: c for c in mm["cells"]}
    assert set(cells) == {"wt_bank00.0.0", "wt_bank01.0.0", "tok_emb.0.0"}
    assert cells["wt_bank01.0.0"]["image"]["image"] == "wt_bank01.hex"
    assert cells["tok_emb.0.0"]["image"]["words"] == 512
    assert len(cells["wt_bank00.0.0"]["image"]["bits"]) <= 32


def test_unchanged_build_not_redone(synth_build):
    req, first = synth_build
    work = Path(req.build_dir)
    stamp = (work / "tritgpt.json").stat().st_mtime_ns
    again = flow.build(req, quiet())
    assert again.get("up_to_date") and again["input_hash"] == first["input_hash"]
    assert (work / "tritgpt.json").stat().st_mtime_ns == stamp


def test_design_clock_from_the_command_line(synth_build):
    """--design-mhz: the core at another integer fraction of the board clock, in the synthesis
    parameters, the divider (a BUFGCE only when the clock is divided) and the report."""
    req, first = synth_build
    b = boards.get_board(req.board)
    mhz = b.clock_mhz if b.clk_div != 1 else b.clock_mhz / 2
    other = Path(req.build_dir).parent / f"{b.name}-{mhz:g}mhz"
    rep = flow.build(dataclasses.replace(req, build_dir=other, design_mhz=mhz), quiet())
    div = int(b.clock_mhz / mhz)
    assert rep["input_hash"] != first["input_hash"]
    assert f"-set CLK_HZ {int(mhz * 1e6)} -set CLK_DIV {div} " in (other / "tritgpt.ys").read_text()
    cells = json.loads((other / "tritgpt.stat.json").read_text())["design"]["num_cells_by_type"]
    assert cells.get("BUFGCE", 0) == (1 if div > 1 else 0), cells
    assert f" --freq {mhz:g} " in (other / "Makefile").read_text()    # nextpnr-xilinx's target


def test_boards_with_same_design_share_synthesis(synth_build):
    """Synthesis does not depend on the part: another board with the same clocks reuses it."""
    req, first = synth_build
    b, o = boards.get_board(req.board), boards.get_board("arty-a7-100t")
    assert (o.clk_hz, o.clk_div, o.baud) == (b.clk_hz, b.clk_div, b.baud) and o.part != b.part
    other = Path(req.build_dir).parent / o.name
    rep = flow.build(dataclasses.replace(req, board=o.name, build_dir=other), quiet())
    assert rep["status"] == "synth-only" and rep["stage_seconds"]["synth"] == 0.0
    assert not (other / "logs" / "synth.log").exists()  # yosys did not run
    assert (other / "tritgpt.json").read_bytes() == (Path(req.build_dir) / "tritgpt.json").read_bytes()
    assert f"--part {o.part}" in (other / "Makefile").read_text()


def test_changed_weights_redo_synth(synth_build, tmp_path):
    req, first = synth_build
    other = H.make_weights(tmp_path / "tiny2", "tiny", seed=2)
    req2 = dataclasses.replace(req, weights=other)
    report = flow.build(req2, quiet())
    assert report["input_hash"] != first["input_hash"] and not report.get("up_to_date")
    mm = json.loads((Path(req.build_dir) / "memmap.json").read_text())
    assert all(c["image"] for c in mm["cells"])


# ----------------------------------------------------------------------------
# place, route, bitstream (openXC7 tools)
# ----------------------------------------------------------------------------


@pytest.mark.openxc7
def test_fixture_bitstream_reproducible(tmp_path, tiny_weights):
    reason = H.openxc7_reason("xc7a35tcsg324-1")
    if reason:
        pytest.skip(reason)
    req = flow.BuildRequest(board="arty-a7-35t", weights=tiny_weights, build_dir=tmp_path / "a", seeds=(1, 2),
                            fixture=True, nice=10, cycles_per_token=1000, timeout=600)
    rep = flow.build(req, quiet())
    work = tmp_path / "a"
    assert rep["status"] == "ok" and rep["timing_met"] and rep["fmax_mhz"] >= 100
    assert rep["seed"] == 1 and rep["seeds_tried"] == [1]
    bit = work / "tritgpt.bit"
    data = bit.read_bytes()
    assert rep["bitstream"]["bytes"] == len(data) > 1_000_000
    assert b"1970/01/01\0" in data[:200]  # fixed header date
    u = rep["utilisation"]
    assert u["ramb36"]["used"] == 1.5 and u["ramb36"]["available"] == 50 and 0 < u["lut"]["used"] < 500
    board = boards.get_board("arty-a7-35t")
    assert rep["tokens_per_s"]["at_design_clock"] == pytest.approx(board.design_mhz * 1e6 / 1000)
    # the worst path, its registers named by their nets in the routed netlist, adds up to the Fmax
    path = rep["critical_path"]
    assert path["clock"] == min(rep["fmax_per_clock_mhz"], key=rep["fmax_per_clock_mhz"].get)
    assert 1000 / path["total_ns"] == pytest.approx(rep["fmax_mhz"], rel=0.02)
    assert path["logic_ns"] + path["routing_ns"] == pytest.approx(path["total_ns"], abs=0.15)
    assert path["nets"] and all(not path[r]["register"].startswith("$") for r in ("source", "endpoint"))
    for log in ("yosys.log", "nextpnr.log", "nextpnr.seed1.log", "check.seed1.log", "logs/pnr.log",
                "logs/bitstream.log"):
        assert (work / log).exists(), log
    mm = json.loads((work / "memmap.json").read_text())
    assert mm["placed"] and mm["n_ramb18"] == 3
    for c in mm["cells"]:
        assert c["site"].startswith("RAMB18_") and c["tile"].startswith("BRAM_")
        assert c["fasm_prefix"].startswith(c["tile"] + ".RAMB18_Y")
        assert c["frame_bits"]["frames"] == 128
        assert c["image"]
    # completed for swapping by the build itself: hashes of what it belongs to
    files = mm["swap"]["files"]
    assert rep["memmap"]["swap_ready"]
    for info in files.values():
        assert info["sha256"] == hashlib.sha256((work / info["name"]).read_bytes()).hexdigest(), info
    # the xc7prep summary is reported: 100 clock blockers on the verification database
    # (two HCLK tiles without bits), none on a complete one
    assert rep["xc7prep"]["clock_blockers"] == (100 if rep["xc7prep"]["clock_tiles_without_bits"] else 0)
    # same inputs: byte-identical bitstream; unchanged: nothing redone
    again = flow.build(dataclasses.replace(req, build_dir=tmp_path / "b"), quiet())
    assert (tmp_path / "b" / "tritgpt.bit").read_bytes() == data
    assert again["bitstream"]["sha256"] == rep["bitstream"]["sha256"]
    assert flow.build(req, quiet()).get("up_to_date")
    # a new cycles/token figure (e.g. a bench run after the build) updates tokens/s, nothing is rebuilt
    newer = flow.build(dataclasses.replace(req, cycles_per_token=500), quiet())
    clk_hz = boards.get_board(req.board).clk_hz
    assert newer.get("up_to_date") and newer["tokens_per_s"]["at_design_clock"] == pytest.approx(clk_hz / 500)
    assert json.loads((work / "report.json").read_text())["cycles_per_token"]["value"] == 500
    # other seeds: place and route again, synthesis kept
    t_synth = (work / "tritgpt.json").stat().st_mtime_ns
    rep3 = flow.build(dataclasses.replace(req, seeds=(3,)), quiet())
    assert rep3["seed"] == 3 and (work / "tritgpt.json").stat().st_mtime_ns == t_synth
    check_verify_stage(rep3, work)
    # --no-verify: the report says so; no tool runs again
    t_bit = (work / "tritgpt.bit").stat().st_mtime_ns
    unverified = flow.build(dataclasses.replace(req, seeds=(3,), verify=False), quiet())
    assert unverified["verify"] == {"skipped": "--no-verify"} and unverified["status"] == "ok"
    assert (work / "tritgpt.bit").stat().st_mtime_ns == t_bit and not (work / "verify.json").exists()


def check_verify_stage(rep: dict, work: Path) -> None:
    """The fixture build's verify stage passed, each tool was counted under its own stage,
    and a changed feature or INIT bit would have failed it."""
    import stat

    from tritgpt.fpga import toolchain
    from tritgpt.fpga.build import verify

    v = rep["verify"]
    assert v["passed"] and [c["name"] for c in v["checks"]] == ["bram-init", "fasm-readback"]
    init, readback = v["checks"]
    assert init["passed"] and init["cells"] == 3 and init["images_held"] == ["tok_emb.hex", "wt_bank00.hex",
                                                                             "wt_bank01.hex"]
    assert readback["passed"] and readback["features"] > 1000 and readback["decoded"] >= readback["features"]
    assert json.loads((work / "verify.json").read_text()) == v
    # fasm2frames (the seed check) is counted as frames, not route; every tool has its stage
    secs = rep["stage_seconds"]
    assert {"setup", "synth", "prep", "place", "route", "frames", "bitstream", "verify"} <= set(secs)
    check_s = next(r["check_s"] for r in rep["pnr_runs"] if r["seed"] == rep["seed"])
    assert secs["frames"] >= 0.9 * check_s > 0
    assert secs["prep"] + secs["place"] + secs["route"] + secs["frames"] <= secs["pnr_total"] + 1.0
    # outputs alike: memmap.json (completed through a temporary file) is not private
    assert stat.S_IMODE((work / "memmap.json").stat().st_mode) == stat.S_IMODE((work / "report.json").stat().st_mode)
    # the comparison fails on one feature the bitstream lacks, naming it
    db = verify.SegbitsDb(toolchain.discover().db_family_dir(rep["part"]), rep["part"])
    written = verify.canonical_features((work / "tritgpt.fasm").read_text())
    decoded = verify.canonical_features((work / "tritgpt.readback.fasm").read_text())
    lost = sorted(f for f in decoded & written if ".INIT_" in f)[0]
    with pytest.raises(verify.VerifyError, match=re.escape(f"verify: {lost} is in nextpnr's FASM but not in the bitstream")):
        verify.compare_features(written, decoded - {lost}, db)


@pytest.mark.openxc7
def test_build_takes_a_promoted_sweep_result(tmp_path, tiny_weights):
    """`tritgpt build` in a directory where `tritgpt sweep` promoted a seed: the build
    takes that place and route and bitstream as they are and runs the verify stage on
    them (no nextpnr-xilinx run); once taken, a build with other seeds places again."""
    reason = H.openxc7_reason("xc7a35tcsg324-1")
    if reason:
        pytest.skip(reason)
    work = tmp_path / "arty"
    cp = subprocess.run([str(Path(sys.executable).with_name("tritgpt")), "sweep", "--board", "arty-a7-35t",
                         "--fixture", "--weights", str(tiny_weights), "--seeds", "2", "--workers", "1",
                         "--out", str(work), "--timeout", "900"],
                        capture_output=True, text=True, timeout=1800, stdin=subprocess.DEVNULL)
    assert cp.returncode == 0, cp.stderr[-3000:]
    promoted = json.loads((work / "report.json").read_text())
    bit = (work / "tritgpt.bit").read_bytes()
    routed_mtime = (work / "tritgpt.routed.json").stat().st_mtime_ns
    assert promoted["sweep"]["seed"] == 2 and "verify" not in promoted
    req = flow.BuildRequest(board="arty-a7-35t", weights=tiny_weights, build_dir=work, fixture=True, nice=10,
                            cycles_per_token=1000, timeout=600)
    rep = flow.build(req, quiet())
    assert rep["status"] == "ok" and rep["seed"] == 2 and rep["fmax_mhz"] == promoted["fmax_mhz"]
    assert rep["sweep"]["task"] == "arty-a7-35t/seed2" and rep["sweep"]["bitstream"] == "the sweep's"
    # nothing placed, routed or written again: the sweep's files, checked
    assert not list(work.glob("nextpnr.seed*.log")) and not (work / "logs" / "pnr.log").exists()
    assert (work / "tritgpt.routed.json").stat().st_mtime_ns == routed_mtime
    assert (work / "tritgpt.bit").read_bytes() == bit and rep["bitstream"]["sha256"] == promoted["bitstream"]["sha256"]
    assert "place" not in rep["stage_seconds"] or rep["stage_seconds"]["place"] == 0
    v = rep["verify"]
    assert v["passed"] and [c["name"] for c in v["checks"]] == ["bram-init", "fasm-readback"]
    assert all(c["passed"] for c in v["checks"]) and v["checks"][1]["features"] > 1000
    assert json.loads((work / "verify.json").read_text()) == v
    assert flow.build(req, quiet()).get("up_to_date")
    # taken once: other seeds place and route again (the sweep's result is not taken back)
    again = flow.build(dataclasses.replace(req, seeds=(3,)), quiet())
    assert again["seed"] == 3 and "sweep" not in again and (work / "nextpnr.seed3.log").exists()
    assert again["verify"]["passed"]


@pytest.mark.openxc7
def test_timing_failure_is_an_error(tmp_path, tiny_weights, monkeypatch):
    """A target clock the design cannot reach: a clear error, the report, no bitstream."""
    reason = H.openxc7_reason("xc7a35tcsg324-1")
    if reason:
        pytest.skip(reason)
    from tritgpt.fpga import boards

    real = boards.get_board("arty-a7-35t")
    class Undivided(type(real)):  # the board clock straight through (a 900 MHz target has no divider)
        @property
        def clk_div(self) -> int:
            return 1

    # same pins and XDC, a 900 MHz target
    fast = Undivided(**{f.name: getattr(real, f.name) for f in dataclasses.fields(real)})
    fast = dataclasses.replace(fast, design_mhz=900.0)
    monkeypatch.setattr(boards, "get_board", lambda name, *clock: fast)
    with pytest.raises(UserError, match=r"timing not met on arty-a7-35t: Fmax .* MHz < target 900 MHz"):
        flow.build(flow.BuildRequest(board="arty-a7-35t", weights=tiny_weights, build_dir=tmp_path / "t",
                                     seeds=(1,), fixture=True, nice=10), quiet())
    rep = json.loads((tmp_path / "t" / "report.json").read_text())
    assert rep["status"] == "timing-failed" and not rep["timing_met"] and rep["target_mhz"] == 900.0
    # LUTs counted as physical LUT sites in the best seed's routed netlist, as for a build that
    # met timing (nextpnr's SLICE_LUTX counts 5LUT and 6LUT BELs: 135 % of the die on a full one)
    from tritgpt.fpga.build.report import placed_luts
    assert rep["utilisation"]["lut"]["used"] == placed_luts(tmp_path / "t" / "tritgpt.routed.seed1.json")
    assert not (tmp_path / "t" / "tritgpt.bit").exists()


def test_bench_stage_measures_cycles_per_token(tmp_path, tiny_weights):
    """Without a bench JSON, a build measures cycles/token on the Verilator model of the
    core and the report's tokens/s comes from it (the board's clock / that figure)."""
    from tritgpt.fpga import boards
    from tritgpt.ml.export import read_manifest

    work = tmp_path / "b"
    work.mkdir()
    manifest = read_manifest(tiny_weights)
    req = flow.BuildRequest(board="arty-a7-35t", weights=tiny_weights)
    board = boards.get_board("arty-a7-35t")
    report = {}
    assert not build_report.add_tokens_per_s(report, req, manifest, tiny_weights, board, work)
    assert build_report.bench_core(tiny_weights, work, quiet()) > 0
    bench = json.loads((work / "bench.json").read_text())
    assert bench["matches_reference"] and bench["model_hash"] == manifest["model_hash"]
    assert build_report.add_tokens_per_s(report, req, manifest, tiny_weights, board, work)
    cpt = report["cycles_per_token"]
    assert cpt["value"] == bench["cycles_per_token"] and cpt["source"] == str(work / "bench.json")
    assert cpt["runs"]["first"] == bench["first_token_cycles"]
    assert cpt["runs"][f"sustained_{bench['tokens']}"] == bench["cycles_per_token"]
    tps = report["tokens_per_s"]
    assert tps["at_design_clock"] == pytest.approx(board.clk_hz / bench["cycles_per_token"])
    assert tps["design_clock_mhz"] == board.design_mhz and tps["at_fmax"] is None   # no place and route here
    # the wire: the board's rate, what it carries, and which of core or wire is slower
    link = report["uart"]
    assert link["baud"] == board.baud and link["core_tokens_per_s"] == tps["at_design_clock"]
    assert link["limit"] == ("core" if tps["at_design_clock"] < link["wire_chars_per_s"] else "wire")
    assert link["stream_chars_per_s"] == min(tps["at_design_clock"], link["wire_chars_per_s"])
    with_115200 = {}
    assert build_report.add_tokens_per_s(with_115200, dataclasses.replace(req, baud=115200), manifest,
                                         tiny_weights, board, work)
    assert with_115200["uart"]["baud"] == 115200 and with_115200["uart"]["limit"] == "wire"
    # another model's bench does not count
    other = dict(manifest, model_hash="0" * 16)
    no_bench = {}
    assert not build_report.add_tokens_per_s(no_bench, req, other, tiny_weights, board, work)
    assert "tokens_per_s" not in no_bench and no_bench["uart"]["baud"] == board.baud   # the wire's rate alone


# A critical path report as nextpnr-xilinx printed it for the Arty A7-35T (abridged to three
# nets), and the routed netlist's names of the registers at its ends.
CRITICAL_PATH_LOG = """\
Info: Critical path report for clock 'clk_design' (posedge -> posedge):
Info: curr total
Info:  0.1  0.1  Source $auto$ff.cc:337:slice$56796.Q
Info:  5.7  5.8    Net rst budget 4.435000 ns (13,3) -> (51,143)
Info:                Sink $abc$956627$lut$aiger956626$101962.A1
Info:  0.1  5.9  Source $abc$956627$lut$aiger956626$101962.O6
Info:  1.7  7.6    Net $techmap970196$abc$956627$lut$aiger$o94086.A[1] budget 1.859000 ns (51,143) -> (52,136)
Info:                Sink $abc$956627$lut$aiger$o56608.A2
Info:  0.1  7.7  Source $abc$956627$lut$aiger$o56608.O6
Info:  1.1  8.8    Net $abc$956627$aiger$o56608 budget 0.764000 ns (52,136) -> (52,136)
Info:                Sink $auto$ff.cc:337:slice$39504.CE
Info:  0.1  8.9  Setup $auto$ff.cc:337:slice$39504.CE
Info: 0.4 ns logic, 8.5 ns routing

Info: Critical path report for clock 'u_clock.g_divide.clk_g' (posedge -> posedge):
Info: curr total
Info:  0.1  0.1  Source $auto$ff.cc:337:slice$1.Q
Info:  2.6  2.7    Net x budget 1.0 ns (1,1) -> (2,2)
Info:                Sink $auto$ff.cc:337:slice$2.D
Info:  0.1  2.8  Setup $auto$ff.cc:337:slice$2.D
Info: 0.2 ns logic, 2.6 ns routing
"""


def test_critical_path_names_its_registers():
    from tritgpt.fpga.build.critical_path import parse_log, name_registers, summary
    path = parse_log(CRITICAL_PATH_LOG, "clk_design")
    assert path["total_ns"] == 8.9 and path["logic_ns"] == 0.4 and path["routing_ns"] == 8.5
    assert [n["ns"] for n in path["nets"]] == [5.7, 1.7, 1.1]
    assert path["nets"][0] == {"name": "rst", "ns": 5.7, "placement": "(13,3) -> (51,143)"}
    assert path["source"]["cell"] == "$auto$ff.cc:337:slice$56796" and path["endpoint"]["pin"] == "CE"
    routed = {"modules": {"tritgpt_top": {
        "cells": {"$auto$ff.cc:337:slice$56796": {"connections": {"Q": [7]}},
                  "$auto$ff.cc:337:slice$39504": {"connections": {"Q": [9], "CE": [8]}}},
        "netnames": {"rst": {"bits": [7]}, "u_core.rst": {"bits": [7]}, "$auto$x": {"bits": [9]},
                     "u_proto.u_rx.fields[1]": {"bits": [11, 9, 12]}}}}}
    name_registers(path, routed)
    assert path["source"]["register"] == "rst"
    assert path["endpoint"]["register"] == "u_proto.u_rx.fields[1][1]"
    assert summary(path) == ("worst path 8.9 ns (8.5 ns routing, longest net 5.7 ns: rst): "
                             "rst -> u_proto.u_rx.fields[1][1]")
    assert parse_log(CRITICAL_PATH_LOG, "u_clock.g_divide.clk_g")["total_ns"] == 2.8
    assert parse_log("Info: Max frequency for clock 'clk': 100 MHz\n", "clk") is None


@pytest.mark.parametrize("met", [True, False])
def test_summary_promises_tokens_at_the_design_clock_only_when_timing_is_met(met):
    """A build with --allow-timing-fail has a bitstream but no design clock it is known to
    reach: its tokens/s at that clock is a conditional, not an expectation."""
    rep = {"board": "b", "part": "p", "build_dir": "d", "fmax_mhz": 88.33, "target_mhz": 100.0, "timing_met": met, "seed": 7,
           "cycles_per_token": {"value": 804.5, "source": "bench.json", "runs": {}},
           "tokens_per_s": {"design_clock_mhz": 100.0 if not met else 50.0,
                            "at_design_clock": 124304.0 if not met else 62152.0,
                            "fmax_mhz": 88.33, "at_fmax": 109798.0}}
    console = Console(record=True, width=200)
    build_report.print_report(rep, console)
    text = console.export_text()
    line = next(ln for ln in text.splitlines() if "tokens/s at the" in ln)
    if met:
        assert line.strip().startswith("expected 62,152 tokens/s at the 50 MHz design clock"), line
    else:
        assert "only if it ran there (timing NOT met)" in line and "expected" not in line, line
    assert "109,798 at Fmax 88.33 MHz" in line

