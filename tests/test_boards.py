"""Boards: data files, generated XDC and FuseSoC core, pins, budgets, the BRAM fit check."""

from __future__ import annotations

import csv
import dataclasses
import os
import re
from pathlib import Path

import pytest

import _build_helpers as H
from conftest import SHARED
from tritgpt.fpga import boards
from tritgpt.errors import UserError
from tritgpt.ml.model import Config

# Checked against Digilent's master XDC files (github.com/Digilent/digilent-xdc):
# board: (part, clock pin, MHz, FPGA TX, FPGA RX, LEDs, openFPGALoader board)
EXPECTED = {
    "arty-a7-35t": ("xc7a35tcsg324-1", "E3", 100.0, "D10", "A9", ("H5", "J5", "T9", "T10"), "arty_a7_35t"),
    "arty-a7-100t": ("xc7a100tcsg324-1", "E3", 100.0, "D10", "A9", ("H5", "J5", "T9", "T10"), "arty_a7_100t"),
    "basys3": ("xc7a35tcpg236-1", "W5", 100.0, "A18", "B18", ("U16", "E19", "U19", "V19"), "basys3"),
    "nexys-a7-100t": ("xc7a100tcsg324-1", "E3", 100.0, "D4", "C4", ("H17", "K15", "J13", "N14"), "nexys_a7_100"),
    "cmod-a7-35t": ("xc7a35tcpg236-1", "L17", 12.0, "J18", "J17", ("A17", "C16", "B17", "B16"), "cmoda7_35t"),
}
BUDGETS = {
    "xc7a35t": boards.Budget(lut=20800, ff=41600, ramb36=50, dsp=90),
    "xc7a100t": boards.Budget(lut=63400, ff=126800, ramb36=135, dsp=240),
}


def test_known_boards():
    assert set(EXPECTED) <= set(boards.board_names())


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_board_data(name):
    b = boards.get_board(name)
    part, clk_pin, mhz, tx, rx, leds, loader = EXPECTED[name]
    assert (b.part, b.clock_pin, b.clock_mhz, b.uart_tx, b.uart_rx, b.led_pins, b.openfpgaloader) == \
        (part, clk_pin, mhz, tx, rx, leds, loader)
    assert b.iostandard == "LVCMOS33"
    assert b.part.startswith(b.device) and b.package in b.part
    assert b.budget == BUDGETS[b.device]
    assert b.clk_hz == int(b.design_mhz * 1e6)
    assert b.design_mhz * b.clk_div == b.clock_mhz  # tg_clock_divider: an integer fraction


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_xdc_matches_board(name):
    """constraints/NAME.xdc is the generated one and constrains every top-level port."""
    b = boards.get_board(name)
    xdc = (boards.BOARDS_DIR / f"{name}.xdc").read_text()
    assert xdc == b.xdc(), f"constraints/{name}.xdc is stale: run `tritgpt boards --write`"
    pins = boards.parse_xdc_pins(xdc)
    want = {"clk": b.clock_pin, "uart_tx": b.uart_tx, "uart_rx": b.uart_rx}
    want.update({f"led[{i}]": p for i, p in enumerate(b.led_pins)})
    assert {k: v[0] for k, v in pins.items()} == want
    assert {v[1] for v in pins.values()} == {"LVCMOS33"}
    period = float(re.search(r"create_clock .*-period ([0-9.]+)", xdc).group(1))
    assert period == pytest.approx(1000.0 / b.clock_mhz, abs=1e-3)
    # nextpnr-xilinx's XDC reader: no spaces inside {} around a port name
    assert "{ " + "clk" not in xdc and "[get_ports { " not in xdc


def test_board_core_matches_boards():
    text = boards.CORE_FILE.read_text()
    assert text == boards.board_core(), "constraints/tritgpt_board.core is stale: run `tritgpt boards --write`"
    import yaml

    core = yaml.safe_load(text)
    for b in boards.all_boards():
        t = core["targets"][b.target]
        assert float(t["flow_options"]["frequency"]) == b.design_mhz
        assert f"CLK_HZ={b.clk_hz}" in t["parameters"]
        assert t["toplevel"] == "tritgpt_top"
        if b.is_ecp5:
            assert t["flow"] == "ecp5"
            assert (t["flow_options"]["device"], t["flow_options"]["package"]) == (b.device, b.package)
            assert f"{boards.ECP5_DEFINE}=true" in t["parameters"]
            pin_sets = [fs for fs in t["filesets"] if fs.startswith("lpf_")]
            [lpf] = core["filesets"][pin_sets[0]]["files"]
            assert core["filesets"][pin_sets[0]]["file_type"] == "LPF"
            assert (boards.CORE_FILE.parent / lpf).resolve() == (boards.BOARDS_DIR / f"{b.name}.lpf").resolve()
            continue
        assert t["flow"] == "openxc7"
        assert t["flow_options"]["part"] == b.part
        assert not any(boards.ECP5_DEFINE in p for p in t["parameters"])
        xdc_sets = [fs for fs in t["filesets"] if fs.startswith("xdc_")]
        [xdc] = core["filesets"][xdc_sets[0]]["files"]
        assert (boards.CORE_FILE.parent / xdc).resolve() == (boards.BOARDS_DIR / f"{b.name}.xdc").resolve()
        assert t["toplevel"] == "tritgpt_top"


def _package_pins(part):
    from tritgpt.fpga import toolchain

    env = dict(os.environ)
    shared_db = SHARED / "prjxray-db" / "artix7"   # the verification database beside the checkout (CI has it)
    if "PRJXRAY_DB_DIR" not in env and shared_db.is_dir():
        env["PRJXRAY_DB_DIR"] = str(shared_db)
    tc = toolchain.discover(env=env)
    fam = tc.db_family_dir(part)
    if not fam:
        pytest.skip(f"prjxray-db with {part} not found (set PRJXRAY_DB_DIR) to check the pins against the package")
    with open(fam / part / "package_pins.csv") as f:
        return {row["pin"]: row for row in csv.DictReader(f)}


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_pins_exist_in_package(name):
    b = boards.get_board(name)
    pins = _package_pins(b.part)
    for pin in (b.clock_pin, b.uart_tx, b.uart_rx, *b.led_pins):
        assert pin in pins, f"{pin} is not a pin of {b.part}"
    # the clock must arrive on a clock-capable pin
    assert "CC" in pins[b.clock_pin]["pin_function"]


def test_unknown_board_lists_known():
    with pytest.raises(UserError) as exc:
        boards.get_board("arty-z7")
    msg = str(exc.value)
    assert "unknown board 'arty-z7'" in msg
    for name in EXPECTED:
        assert name in msg


def test_bram_estimate_builtin_configs():
    """Every board lists the built-in configs that fit, and the estimate agrees."""
    from tritgpt.fpga import ecp5

    for b in boards.all_boards():
        for name in ("tiny", "default"):
            cfg = Config.load(name)
            need = ecp5.estimate_ebr(cfg)["dp16kd"] if b.is_ecp5 else boards.estimate_bram(cfg)["ramb36"]
            assert (need <= b.budget.ramb36) == (name in b.fits), (b.name, name)
    est = boards.estimate_bram(Config.load("default"))
    items = est["items_ramb36"]
    assert items["weight banks"] == 8.0  # 16 banks of 512 x 32: one RAMB18 each
    # 2 x 2 layers x 32 x 64 bytes in 16 banks: a RAMB36 (K, dual port) and a RAMB18 (V) each
    assert items["KV cache"] == 24.0
    assert est["bytes_kv_cache"] == 2 * 2 * 32 * 64
    assert "position embedding" not in items              # positions are relative (ALiBi)
    assert est["ramb36"] == 38  # what yosys makes of rtl/ with this config


def test_fit_check_refuses_oversized_model():
    big = dataclasses.replace(Config.load("default"), name="big", d_model=256, d_ff=1024, n_layers=4, context=256)
    big.validate()
    with pytest.raises(UserError) as exc:
        boards.check_fit(boards.get_board("arty-a7-35t"), big)
    msg = str(exc.value)
    assert "RAMB36" in msg and "arty-a7-35t" in msg and "has 50" in msg
    # a model that fits the 100T but not the 35T
    mid = dataclasses.replace(Config.load("default"), name="mid", d_model=128, d_ff=512, n_layers=2, context=256)
    need = boards.estimate_bram(mid)["ramb36"]
    assert 50 < need <= 135, need
    with pytest.raises(UserError):
        boards.check_fit(boards.get_board("arty-a7-35t"), mid)
    assert boards.check_fit(boards.get_board("arty-a7-100t"), mid)["ramb36"] == need


def test_ramb18_shapes():
    assert boards.ramb18_for(512, 32) == 1
    assert boards.ramb18_for(1024, 32) == 2
    assert boards.ramb18_for(2048, 8) == 1
    assert boards.ramb18_for(256, 17) == 1
    assert boards.ramb18_for(16384, 1) == 1
    assert boards.ramb18_for(0, 32) == 0


def test_bad_board_file(tmp_path):
    text = (boards.BOARDS_DIR / "arty-a7-35t.toml").read_text()
    text = re.sub(r"(?m)^design_mhz = [0-9.]+", "design_mhz = 50.0", text)   # the cases below are for 50 MHz
    bad = tmp_path / "arty-a7-35t.toml"
    bad.write_text(text.replace('pin = "E3"', 'pin = "E3X"'))
    with pytest.raises(UserError, match="not a package pin"):
        boards.load_board_file(bad)
    bad.write_text(text.replace('part = "xc7a35tcsg324-1"', 'part = "xc7a100tcsg324-1"'))
    with pytest.raises(UserError, match="does not match device"):
        boards.load_board_file(bad)
    for design in ("60.0", "100.5", "5.0"):  # not 100 MHz / an integer in 1..16
        bad.write_text(text.replace("design_mhz = 50.0", f"design_mhz = {design}"))
        with pytest.raises(UserError, match="divided by an integer 1..16"):
            boards.load_board_file(bad)
    bad.write_text(text.replace("design_mhz = 50.0", "design_mhz = 25.0").replace("baud = 2_000_000", "baud = 1_000_000"))
    assert boards.load_board_file(bad).clk_div == 4
    for baud, why in (("3_000_000", "divide the 50 MHz design clock exactly"),    # 16.7 cycles per bit
                      ("12_500_000", "at most 12000000 baud"),
                      ("10_000_000", "at least 8 cycles per bit"),                # 5 cycles per bit
                      ("1_562_500", "cannot make it exactly"),                    # 32 cycles, but 12 MHz / 7.68
                      ("0", "at most")):
        bad.write_text(text.replace("baud = 2_000_000", f"baud = {baud}"))
        with pytest.raises(UserError, match=why):
            boards.load_board_file(bad)
    bad.write_text(text.replace('bridge = "FT2232H"', 'bridge = "CP2102"'))
    with pytest.raises(UserError, match="bridge 'CP2102' is not one of"):
        boards.load_board_file(bad)
    other = tmp_path / "other.toml"
    other.write_text(text)
    with pytest.raises(UserError, match="must match the file name"):
        boards.load_board_file(other)
    text = re.sub(r"(?ms)^\[pnr\]\n.*?(?=^\[)", "", text)     # this test writes its own [pnr]
    assert "[pnr]" not in text and "[budget]" in text
    bad.write_text(text + '\n[pnr]\nrouter = "router3"\n')
    with pytest.raises(UserError, match=r"\[pnr\] router 'router3' is not one of router1, router2"):
        boards.load_board_file(bad)
    bad.write_text(text + '\n[pnr]\nrouter = "router1"\n')
    assert boards.load_board_file(bad).router == "router1"
    for seeds in ("[]", "[-1]", '["7"]', "[true]", "7"):
        bad.write_text(text + f"\n[pnr]\nseeds = {seeds}\n")
        with pytest.raises(UserError, match=r"\[pnr\]: 'seeds' must be a non-empty list of nextpnr seeds|'seeds' must be a list"):
            boards.load_board_file(bad)
    bad.write_text(text + '\n[pnr]\nseeds = [9, 4]\n')
    assert boards.load_board_file(bad).seeds == (9, 4) and boards.load_board_file(bad).router == ""
    for sites, why in (('["DSP48_X0", "SLICE_X3"]', "'SLICE_X3' is not a block RAM or DSP site column"),
                       ('["DSP48_X0Y3"]', "'DSP48_X0Y3' is not a block RAM or DSP site column"),
                       ("[]", "no site columns given"), ('"DSP48_X0"', "'hard_block_sites' must be a list")):
        bad.write_text(text + f"\n[pnr]\nhard_block_sites = {sites}\n")
        with pytest.raises(UserError, match=why):
            boards.load_board_file(bad)
    bad.write_text(text + '\n[pnr]\nhard_block_sites = ["DSP48_X0", "RAMB36_X1"]\n')
    assert boards.load_board_file(bad).hard_block_sites == ("DSP48_X0", "RAMB36_X1")
    for value, why in (('"SLICE_X28Y0"', "'SLICE_X28Y0' is not a range of slices"),
                       ('"SLICE_X9Y0:SLICE_X2Y5"', "the first corner must be the lower left one"),
                       ("[28, 81]", "'slice_range' must be a str")):
        bad.write_text(text + f"\n[pnr]\nslice_range = {value}\n")
        with pytest.raises(UserError, match=why):
            boards.load_board_file(bad)
    bad.write_text(text + '\n[pnr]\nslice_range = " SLICE_X28Y0:SLICE_X81Y199"\n')
    assert boards.load_board_file(bad).slice_range == "SLICE_X28Y0:SLICE_X81Y199"
    ecp5_text = (boards.BOARDS_DIR / "ulx3s-85f.toml").read_text()
    (tmp_path / "ulx3s-85f.toml").write_text(ecp5_text + '\n[pnr]\nrouter = "router1"\n')
    with pytest.raises(UserError, match="router is for the Artix-7 flow"):
        boards.load_board_file(tmp_path / "ulx3s-85f.toml")
    (tmp_path / "ulx3s-85f.toml").write_text(ecp5_text + '\n[pnr]\nhard_block_sites = ["DSP48_X0"]\n')
    with pytest.raises(UserError, match="hard_block_sites is for the Artix-7 flow"):
        boards.load_board_file(tmp_path / "ulx3s-85f.toml")
    (tmp_path / "ulx3s-85f.toml").write_text(ecp5_text + '\n[pnr]\nslice_range = "SLICE_X0Y0:SLICE_X9Y9"\n')
    with pytest.raises(UserError, match="slice_range is for the Artix-7 flow"):
        boards.load_board_file(tmp_path / "ulx3s-85f.toml")


def test_board_router_reaches_the_core_and_the_sweep():
    """A board's [pnr] router is one fact: the board core passes it to nextpnr-xilinx
    (nextpnr_options) and a sweep's tasks get it unless --router says otherwise."""
    from tritgpt.cli.sweep import option_sets
    from tritgpt.fpga import sweep

    base = boards.get_board("arty-a7-35t")
    routed = dataclasses.replace(base, router="router1")
    core = boards.board_core([routed])
    target = core[core.index(f"  {routed.target}:\n    description"):]
    assert "      nextpnr_options: [--router, router1]\n" in target
    assert "nextpnr_options" not in boards.board_core([dataclasses.replace(base, router="")])
    design = sweep.PnrDesign(board="b", part=base.part, tool="nextpnr-xilinx", args=(), inputs={}, outputs=(),
                             target_mhz=50.0, build_dir=Path("."), peak_memory_gb=2.0,
                             default_options={"router": "router1"})
    for sets, want in ((option_sets([], []), ["router1"]), (option_sets(["router2"], []), ["router2"]),
                       (option_sets(["router1", "router2"], []), ["router1", "router2"])):
        req = sweep.SweepRequest(designs=[design], seeds=(1,), option_sets=sets, out_dir=Path("."))
        tasks = [t for _, t in sweep.plan(req)]
        assert [dict(t.options)["router"] for t in tasks] == want
        assert all("--router" in t.command_args() for t in tasks)


def test_board_pre_place_options_reach_the_core_the_sweep_and_the_hashes(tmp_path, monkeypatch):
    """[pnr] hard_block_sites and slice_range are each one fact: the board core passes them
    to the flow's runner, a sweep's tasks run the very scripts the runner writes, and
    changing them places and routes again without synthesising again."""
    from types import SimpleNamespace

    import tritgpt.fpga.flow as flow
    import tritgpt.fpga.toolchain as tc
    from tritgpt.fpga import sweep
    from tritgpt.fpga.build.plan import stage_hashes
    from tritgpt.paths import flow_module

    base = boards.get_board("arty-a7-35t")
    kept = dataclasses.replace(base, hard_block_sites=("DSP48_X0", "RAMB18_X0", "RAMB36_X0"))
    ranged = dataclasses.replace(kept, slice_range="SLICE_X0Y0:SLICE_X17Y149")
    core = boards.board_core([ranged])
    target = core[core.index(f"  {kept.target}:\n    description"):]
    assert "      hard_block_sites: [DSP48_X0, RAMB18_X0, RAMB36_X0]\n" in target
    assert '      slice_range: "SLICE_X0Y0:SLICE_X17Y149"\n' in target
    assert "hard_block_sites" not in boards.board_core([base]) and "slice_range" not in boards.board_core([kept])

    req = SimpleNamespace(baud=None, fixture=False, seeds=(1,), seed_policy="first", allow_timing_fail=False)

    def hashes(board):
        return stage_hashes(req, SimpleNamespace(board=board, weights=tmp_path), tmp_path, [], {}, None)

    plain, left, inside = hashes(base), hashes(kept), hashes(ranged)
    assert plain["synth"] == left["synth"] == inside["synth"]
    assert len({plain["pnr"], left["pnr"], inside["pnr"]}) == 3

    # the sweep's design for each board, without synthesis or tools (not what this tests)
    work = tmp_path / "work"
    work.mkdir()
    (work / "tritgpt.prep.json").write_text("{}")
    monkeypatch.setattr(tc, "discover", lambda: SimpleNamespace(require=lambda *a: None,
                                                                 require_pre_place=lambda *a: None))
    monkeypatch.setattr(tc, "ensure_chipdb", lambda *a: tmp_path / "x.bin")
    monkeypatch.setattr(flow, "run_flow_goal", lambda *a, **k: 0)
    runner = flow_module("tools", "nextpnr_xilinx")
    for board, scripts in ((ranged, [runner.HARD_BLOCK_SCRIPT, runner.SLICE_RANGE_SCRIPT]),
                           (kept, [runner.HARD_BLOCK_SCRIPT]), (base, [])):
        monkeypatch.setattr(sweep, "_synthesise", lambda *a, _b=board: (_b, work))
        design = sweep.xilinx_board_design(board.name, tmp_path)
        assert [design.args[i + 1] for i, a in enumerate(design.args) if a == "--pre-place"] == scripts
        assert sorted(n for n in design.inputs if n.endswith(".py")) == sorted(scripts)
        if board.hard_block_sites:
            assert design.inputs[runner.HARD_BLOCK_SCRIPT].decode() == runner.hard_block_script(board.hard_block_sites)
        if board.slice_range:
            assert design.inputs[runner.SLICE_RANGE_SCRIPT].decode() == runner.slice_range_script(board.slice_range)


def test_board_seeds_are_the_builds_default():
    """`tritgpt build` without --seeds tries the board's [pnr] seeds (the ones a sweep found);
    --seeds overrides them; a board without [pnr] seeds gets boards.DEFAULT_SEEDS."""
    from tritgpt.fpga.flow import BuildRequest, with_board_defaults

    arty = boards.get_board("arty-a7-35t")
    assert arty.seeds != boards.DEFAULT_SEEDS, "the Arty A7-35T lists its swept seeds in [pnr] seeds"
    assert with_board_defaults(BuildRequest(board="arty-a7-35t", weights=Path("w"))).seeds == arty.seeds
    assert with_board_defaults(BuildRequest(board="arty-a7-35t", weights=Path("w"), seeds=(4,))).seeds == (4,)
    plain = next(b for b in boards.all_boards() if "seeds" not in (b.path.read_text() if b.path else ""))
    assert with_board_defaults(BuildRequest(board=plain.name, weights=Path("w"))).seeds == boards.DEFAULT_SEEDS


def test_board_router_is_a_place_and_route_input(tmp_path):
    """Changing a board's [pnr] router places and routes again (and writes a new bitstream);
    synthesis is untouched."""
    from types import SimpleNamespace

    from tritgpt.fpga.build.plan import stage_hashes

    req = SimpleNamespace(baud=None, fixture=False, seeds=(1,), seed_policy="first", allow_timing_fail=False)
    base = boards.get_board("arty-a7-35t")

    def hashes(board):
        return stage_hashes(req, SimpleNamespace(board=board, weights=tmp_path), tmp_path, [], {}, None)

    plain, r1, r2 = (hashes(dataclasses.replace(base, router=r)) for r in ("", "router1", "router2"))
    assert plain["synth"] == r1["synth"] == r2["synth"]
    assert len({plain["pnr"], r1["pnr"], r2["pnr"]}) == 3
    assert len({plain["bitstream"], r1["bitstream"], r2["bitstream"]}) == 3


# The shipped core makes a token in about 800 cycles (`tritgpt bench --sim`: 794 over the first
# 128, 805 sustained); 700 leaves room for a faster core.
CORE_CYCLES_PER_TOKEN_FLOOR = 700


@pytest.mark.parametrize("name", boards.board_names())
def test_default_baud_carries_the_core(name):
    """Each board's UART rate (docs/protocol.md, "Choosing the rate") divides its design clock
    exactly into >= 8 cycles per bit, is one its bridge makes, and carries the core's tokens/s
    even with the core on the board's full clock (CLK_DIV = 1), as characters/s over the wire."""
    from tritgpt.link.protocol import wire_tokens_per_second

    b = boards.get_board(name)
    assert boards.baud_problem(b, b.baud) is None
    assert b.clk_hz % b.baud == 0 and b.clk_hz // b.baud >= boards.MIN_CYCLES_PER_BIT
    assert wire_tokens_per_second(b.baud) >= b.clock_mhz * 1e6 / CORE_CYCLES_PER_TOKEN_FLOOR
    assert wire_tokens_per_second(115200) < b.clk_hz / CORE_CYCLES_PER_TOKEN_FLOOR or b.clk_hz < 10e6
    assert f"BAUD={b.baud}," in (boards.BOARDS_DIR / "tritgpt_board.core").read_text().split(f"  {b.target}:")[1]


def test_checkout_paths_are_the_package_paths():
    """In a checkout the package reads the checkout's trees, not a stale installed copy."""
    from tritgpt import paths

    assert (H.ROOT / "pyproject.toml").is_file()
    assert paths.ROOT == H.ROOT and paths.CONSTRAINTS_DIR == H.ROOT / "constraints"
    assert sorted(p.stem for p in paths.CONSTRAINTS_DIR.glob("*.toml")) == boards.board_names()


def test_helpers_importable():
    assert H.ROOT.is_dir()


def test_board_core_leaves_the_test_fixture_out_and_its_files_in_its_directory():
    """The board core depends on the real top level only (tests map the stand-in in with
    `fusesoc run --mapping`), and every file a core lists sits in the core's directory
    (FuseSoC deprecates anything else)."""
    import yaml

    from tritgpt import hdl

    assert boards.WEIGHTS_CORE_FILE.read_text() == boards.weights_core(), \
        "weights/default.core is stale: run `tritgpt boards --write`"
    text = boards.CORE_FILE.read_text()
    assert "fixture" not in text and "tritgpt:test" not in text
    assert boards.TOP_CORE_VLNV in yaml.safe_load(text)["filesets"]["top"]["depend"]
    for path, data in hdl.library().values():
        for fs in (data.get("filesets") or {}).values():
            for entry in fs.get("files") or []:
                name = next(iter(entry)) if isinstance(entry, dict) else entry
                f = (path.parent / name).resolve()
                assert f.is_relative_to(path.parent.resolve()) and f.exists(), f"{path}: {name}"
