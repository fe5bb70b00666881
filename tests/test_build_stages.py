"""The build's stage units without the FPGA tools: the verify checks, the stage runner's
time limit and per-tool accounting, and output file modes.

The checks run on a made-up build (tests/_swap_helpers.make_synthetic_build) and a
made-up prjxray-db; the same checks on a real build are in test_build.py (openxc7)."""

from __future__ import annotations

import copy
import json
import os
import stat
import sys
import time
from pathlib import Path

import pytest
from rich.console import Console

sys.path.insert(0, str(Path(__file__).parent))
import _swap_helpers as SH  # noqa: E402

from tritgpt.fpga import memmap  # noqa: E402
from tritgpt.fpga.build import stages, verify  # noqa: E402
from tritgpt.fpga.files import atomic_write  # noqa: E402


def quiet() -> Console:
    return Console(file=open(os.devnull, "w"), width=120)


# ----------------------------------------------------------------------------
# verify 1: block RAM INIT
# ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def made_up_build(tmp_path_factory):
    root = tmp_path_factory.mktemp("verify")
    db = SH.make_fake_db(root / "db")
    SH.write_fake_tools(root / "tools")
    weights = SH.make_weights(root / "w", "tiny", seed=1)
    build = root / "build"
    SH.make_synthetic_build(build, weights, db, root / "tools")
    routed = json.loads((build / "tritgpt.routed.json").read_text())
    # the synthesised netlist: the same cells with yosys' primitive types
    synth = copy.deepcopy(routed)
    for cell in synth["modules"]["tritgpt_top"]["cells"].values():
        cell["type"] = cell["type"].split("_")[0]
    return {"build": build, "routed": routed, "synth": synth, "db": db,
            "images": memmap.load_images(build / "weights"), "tables": memmap.load_tables(build)}


def _check(tmp_path, b, synth=None, routed=None, images=None):
    (tmp_path / "s.json").write_text(json.dumps(synth or b["synth"]))
    (tmp_path / "r.json").write_text(json.dumps(routed or b["routed"]))
    return verify.check_init(tmp_path / "s.json", tmp_path / "r.json", images or b["images"], b["tables"])


def _flip(netlist: dict, cell: str, param: str = "INIT_00", bit: int = 5) -> dict:
    out = copy.deepcopy(netlist)
    params = out["modules"]["tritgpt_top"]["cells"][cell]["parameters"]
    v = list(params[param])
    i = len(v) - 1 - bit
    v[i] = "1" if v[i] != "1" else "0"
    params[param] = "".join(v)
    return out


def test_init_check_passes_on_the_package(tmp_path, made_up_build):
    res = _check(tmp_path, made_up_build)
    assert res["passed"] and res["name"] == "bram-init"
    assert res["images_held"] == sorted(made_up_build["images"]) and res["images_not_in_block_ram"] == []
    assert res["tables_held"] == ["rtl/tables/exp.hex"]
    assert res["cells"] == len(memmap.bram_cells(made_up_build["routed"]))


def test_init_check_names_the_memory(tmp_path, made_up_build):
    b = made_up_build
    # nextpnr wrote another bit than synthesis had
    bank0, bank1 = (f"u_core.u_mv.g_bank[{i}].u_bank.mem.0.0" for i in (0, 1))
    with pytest.raises(verify.VerifyError, match=r"^verify: block RAM u_core\.u_mv\.g_bank\[0\]\.u_bank\.mem\.0\.0: "
                                                 r"INIT_00 bit 5 in the routed netlist differs from synthesis$"):
        _check(tmp_path, b, routed=_flip(b["routed"], bank0))
    # synthesis and routing agree, but the contents are not the package's
    with pytest.raises(verify.VerifyError, match=r"^verify: block RAM u_core.*g_bank\[0\].*: its INIT values are none of"):
        _check(tmp_path, b, synth=_flip(b["synth"], bank0), routed=_flip(b["routed"], bank0))
    # a block RAM lost
    routed = copy.deepcopy(b["routed"])
    del routed["modules"]["tritgpt_top"]["cells"][bank1]
    with pytest.raises(verify.VerifyError, match=r"block RAM u_core.*g_bank\[1\].* of the synthesised netlist is not in"):
        _check(tmp_path, b, routed=routed)
    # an image word no block RAM holds
    images = dict(b["images"])
    img = images["wt_bank00.hex"].copy()
    img[3] ^= 0x10
    images["wt_bank00.hex"] = img
    with pytest.raises(verify.VerifyError, match=r"block RAM u_core.*g_bank\[0\].*: its INIT values are none"):
        _check(tmp_path, b, images=images)


# ----------------------------------------------------------------------------
# verify 2: FASM read-back
# ----------------------------------------------------------------------------


def test_canonical_features():
    text = ("# comment\n"
            "T.A[3:0] = 4'b1010\n"
            "T.B[5]\n"
            "T.C\n"
            "T.D = 1'b0\n"
            "T.E[7:0] = 8'h81  # trailing\n"
            "T.F[255:0] = 256'b" + "0" * 254 + "10\n"
            "\n")
    assert verify.canonical_features(text) == {"T.A[1]", "T.A[3]", "T.B[5]", "T.C", "T.E", "T.E[7]", "T.F[1]"}
    with pytest.raises(verify.VerifyError, match="cannot read FASM line"):
        verify.canonical_features("T.A[3:0] = = 4'b1\n")


@pytest.fixture
def clb_db(tmp_path):
    fam = SH.make_fake_db(tmp_path / "db")
    grid = {"CLBLL_L_X2Y3": {"type": "CLBLL_L", "bits": {}, "sites": {}}}
    (fam / "xc7a50t" / "tilegrid.json").write_text(json.dumps(grid))
    (fam / "segbits_clbll_l.db").write_text(
        "CLBLL_L.SLICEL_X0.ALUT.INIT[00] 31_14\n"
        "CLBLL_L.SLICEL_X0.ALUT.INIT[01] 31_15\n"
        "CLBLL_L.SLICEL_X0.ALUT.INIT[02] 31_16\n"
        "CLBLL_L.SLICEL_X0.AFF.ZINI !30_01\n"      # sets no bit
        "CLBLL_L.A.B 30_02 30_03\n"
        "CLBLL_L.A.C 30_02 !30_04\n")              # its set bit is one of A.B's
    (fam / "ppips_clbll_l.db").write_text("CLBLL_L.P.Q always\n")
    return verify.SegbitsDb(fam, SH.FAKE_PART)


WRITTEN = ("CLBLL_L_X2Y3.SLICEL_X0.ALUT.INIT[1:0] = 2'b11\nCLBLL_L_X2Y3.A.B\nCLBLL_L_X2Y3.P.Q\n"
           "CLBLL_L_X2Y3.SLICEL_X0.AFF.ZINI\n")


def test_fasm_readback_equal_features(clb_db):
    written = verify.canonical_features(WRITTEN)
    decoded = {"CLBLL_L_X2Y3.SLICEL_X0.ALUT.INIT", "CLBLL_L_X2Y3.SLICEL_X0.ALUT.INIT[1]", "CLBLL_L_X2Y3.A.B",
               "CLBLL_L_X2Y3.A.C"}
    res = verify.compare_features(written, decoded, clb_db)
    assert res["passed"] and res["features"] == 3 and res["without_bits"] == 2 and res["implied"] == 1


def test_fasm_readback_names_the_feature(clb_db):
    written = verify.canonical_features(WRITTEN)
    decoded = {"CLBLL_L_X2Y3.SLICEL_X0.ALUT.INIT", "CLBLL_L_X2Y3.A.B"}
    with pytest.raises(verify.VerifyError, match=r"^verify: CLBLL_L_X2Y3\.SLICEL_X0\.ALUT\.INIT\[1\] is in nextpnr's "
                                                 r"FASM but not in the bitstream \(bit2fasm\)$"):
        verify.compare_features(written, decoded, clb_db)
    decoded |= {"CLBLL_L_X2Y3.SLICEL_X0.ALUT.INIT[1]", "CLBLL_L_X2Y3.SLICEL_X0.ALUT.INIT[2]"}
    with pytest.raises(verify.VerifyError, match=r"^verify: the bitstream has CLBLL_L_X2Y3\.SLICEL_X0\.ALUT\.INIT\[2\] "
                                                 r"\(bit2fasm\), which nextpnr's FASM does not$"):
        verify.compare_features(written, decoded, clb_db)


# ----------------------------------------------------------------------------
# the stage runner
# ----------------------------------------------------------------------------


def assert_gone(pid: int, what: str, within: float = 5.0) -> None:
    """pid exits within `within` seconds (a stopped stage's grandchild, reaped by init)."""
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return
        time.sleep(0.1)
    pytest.fail(f"{what} was left running")


def test_stage_time_limit_stops_the_process_group(tmp_path):
    """A stage past its time limit is stopped with everything it started."""
    pidfile = tmp_path / "child.pid"
    cmd = ["sh", "-c", f"sleep 60 & echo $! > {pidfile}; wait"]
    t0 = time.monotonic()
    with pytest.raises(stages.StageTimeout):
        stages.run_logged(cmd, tmp_path, dict(os.environ), tmp_path / "x.log", time_limit=1.0)
    assert time.monotonic() - t0 < 20
    assert "stopped after its time limit of 1 s" in (tmp_path / "x.log").read_text()
    assert_gone(int(pidfile.read_text()), "the stage's child process")
    assert stages.run_logged(["sh", "-c", "echo hi; exit 3"], tmp_path, dict(os.environ), tmp_path / "y.log",
                             time_limit=30) == 3


def test_interrupt_stops_the_process_group(tmp_path):
    """Ctrl-C during a stage (KeyboardInterrupt in the main thread) stops the tool and what it
    started before the interrupt goes on: the tool runs in its own session, so nothing else
    would."""
    pidfile = tmp_path / "child.pid"
    cmd = ["sh", "-c", f"sleep 60 & echo $! > {pidfile}; echo started; wait"]

    def interrupt_once_started(line):
        if line == "started":
            raise KeyboardInterrupt

    t0 = time.monotonic()
    with pytest.raises(KeyboardInterrupt):
        stages.run_logged(cmd, tmp_path, dict(os.environ), tmp_path / "x.log", on_line=interrupt_once_started)
    assert time.monotonic() - t0 < 20
    assert "(interrupted: the tool was stopped)" in (tmp_path / "x.log").read_text()
    assert_gone(int(pidfile.read_text()), "the interrupted stage's child process")


def test_pnr_watcher_counts_each_tool(monkeypatch):
    """make pnr runs xc7prep, nextpnr-xilinx and fasm2frames: each is timed as its own stage,
    summed over the seeds tried (seed 1 is rejected by the check, seed 2 kept)."""
    now = [0.0]
    monkeypatch.setattr(stages.time, "monotonic", lambda: now[0])
    w = stages.PnrWatcher(quiet())
    w.start()
    script = [(5, "xc7prep: ..."), (0, "nextpnr_xilinx: seed 1: start"), (1, "nextpnr_xilinx: seed 1: pack"),
              (20, "nextpnr_xilinx: seed 1: route"), (100, "nextpnr_xilinx: seed 1: routed, 120.00 MHz, 121 s"),
              (0, "nextpnr_xilinx: seed 1: check"),
              (30, "nextpnr_xilinx: seed 1: rejected, the check failed"), (0, "nextpnr_xilinx: seed 2: start"),
              (25, "nextpnr_xilinx: seed 2: route"), (110, "nextpnr_xilinx: seed 2: check"),
              (31, "nextpnr_xilinx: seed 2: check passed")]
    for dt, line in script:
        now[0] += dt
        w.on_line(line)
    assert w.finish(True) == {"prep": 5, "place": 46, "route": 210, "frames": 61}


def test_outputs_written_atomically_keep_the_usual_mode(tmp_path):
    """mkstemp makes private (0600) files; an output renamed from one must not stay so."""
    umask = os.umask(0o022)
    try:
        atomic_write(tmp_path / "a.json", "{}\n")
        assert stat.S_IMODE((tmp_path / "a.json").stat().st_mode) == 0o644
        (tmp_path / "b.bit").write_bytes(b"old")
        os.chmod(tmp_path / "b.bit", 0o640)
        atomic_write(tmp_path / "b.bit", b"new")
        assert stat.S_IMODE((tmp_path / "b.bit").stat().st_mode) == 0o640
        assert (tmp_path / "b.bit").read_bytes() == b"new"
        assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []
    finally:
        os.umask(umask)


def test_completed_memmap_is_not_private(tmp_path, made_up_build):
    """memmap.json is completed through atomic_write at the end of a build: it stays 0644 like every output."""
    import shutil

    build = tmp_path / "b"
    shutil.copytree(made_up_build["build"], build)
    umask = os.umask(0o022)
    try:
        memmap.write_memmap(build, db_family_dir=made_up_build["db"])
    finally:
        os.umask(umask)
    assert json.loads((build / "memmap.json").read_text())["swap"]["files"]
    assert stat.S_IMODE((build / "memmap.json").stat().st_mode) == 0o644
