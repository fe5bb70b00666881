"""`tritgpt swap` without the FPGA tools: the FASM INIT encoding, the memory map, the swap.

The FASM, the cells, the prjxray-db stand-in and the frames are all generated here by
the project's own code (tests/_swap_helpers.py); xc7frames2bit and bitread are
replaced by small stand-ins. tests/test_swap_tools.py runs the same on real builds.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _swap_helpers as SH  # noqa: E402

from tritgpt.fpga import bram_frames as bf  # noqa: E402
from tritgpt.fpga import fasm_bram as fb  # noqa: E402
from tritgpt.fpga import memmap  # noqa: E402
from tritgpt.fpga import swap as sw  # noqa: E402
from tritgpt.errors import UserError  # noqa: E402

RNG = np.random.default_rng(1234)


def rand_bits(n: int) -> np.ndarray:
    return RNG.integers(0, 2, n).astype(np.uint8)


# ----------------------------------------------------------------------------
# encoding
# ----------------------------------------------------------------------------


def nextpnr_write_bram_init(half: int, params: dict, is_36: bool) -> dict[str, list[bool]]:
    """A line-by-line transcription of write_bram_init (nextpnr-xilinx xilinx/fasm.cc) as the oracle.

    params: INIT_xx/INITP_xx -> list of bools, index k = bit k (nextpnr's Property order).
    Returns feature -> init_data (index = bit of the FASM value).
    """
    out = {}
    for mode in ("", "P"):
        for i in range(8 if mode == "P" else 64):
            has_init = False
            init_data = [False] * 256
            if is_36:
                for j in range(2):
                    param = f"INIT{mode}_{i * 2 + j:02X}"
                    if param in params:
                        init0 = params[param]
                        has_init = True
                        for k in range(half, 256, 2):
                            if k >= len(init0):
                                break
                            init_data[j * 128 + (k // 2)] = init0[k]
            else:
                param = f"INIT{mode}_{i:02X}"
                if param in params:
                    init = params[param]
                    has_init = True
                    for k in range(256):
                        if k >= len(init):
                            break
                        init_data[k] = init[k]
            if has_init:
                out[f"INIT{mode}_{i:02X}"] = init_data
    return out


@pytest.mark.parametrize("primitive", ["RAMB18E1", "RAMB36E1"])
def test_cell_to_halves_matches_nextpnr(primitive):
    n_init, n_initp = fb.CELL_LINES[primitive]
    init, initp = rand_bits(n_init * 256), rand_bits(n_initp * 256)
    params = {f"INIT_{i:02X}": [bool(b) for b in init[i * 256:(i + 1) * 256]] for i in range(n_init)}
    params.update({f"INITP_{i:02X}": [bool(b) for b in initp[i * 256:(i + 1) * 256]] for i in range(n_initp)})
    halves = fb.cell_to_halves(primitive, init, initp)
    for h, half in enumerate(halves):
        oracle = nextpnr_write_bram_init(h, params, primitive == "RAMB36E1")
        lines = fb.half_lines(f"BRAM_L_X6Y5.RAMB18_Y{h}", half)
        assert len(lines) == len(oracle) == 72
        for feat, data in oracle.items():
            # write_vector(reverse=true): most significant bit first
            want = f"BRAM_L_X6Y5.RAMB18_Y{h}.{feat}[255:0] = 256'b" + "".join("1" if b else "0" for b in reversed(data))
            assert lines[f"BRAM_L_X6Y5.RAMB18_Y{h}.{feat}"] == want
    back = fb.halves_to_cell(primitive, halves)
    assert np.array_equal(back[0], init) and np.array_equal(back[1], initp)


def test_ramb36_interleave_rule():
    init, initp = np.zeros(32768, np.uint8), np.zeros(4096, np.uint8)
    init[12345] = 1
    initp[4095] = 1
    y0, y1 = fb.cell_to_halves("RAMB36E1", init, initp)
    assert y1.init[12345 // 2] == 1 and y0.init.sum() == 0 and y1.init.sum() == 1
    assert y1.initp[4095 // 2] == 1 and y0.initp.sum() == 0


def test_cell_halves_names():
    assert fb.cell_halves("RAMB36E1", "BRAM_L_X6Y40", "RAMB36_X0Y8") == ["BRAM_L_X6Y40.RAMB18_Y0", "BRAM_L_X6Y40.RAMB18_Y1"]
    assert fb.cell_halves("RAMB18E1", "BRAM_L_X6Y40", "RAMB18_X0Y17") == ["BRAM_L_X6Y40.RAMB18_Y1"]
    assert fb.cell_halves("RAMB18E1", "BRAM_R_X37Y0", "RAMB18_X1Y0") == ["BRAM_R_X37Y0.RAMB18_Y0"]


def test_port_lanes():
    assert fb.port_lanes(4) == [("INIT", 0), ("INIT", 1), ("INIT", 2), ("INIT", 3)]
    lanes = fb.port_lanes(36)
    assert lanes[:9] == [("INIT", j) for j in range(8)] + [("INITP", 0)]
    assert lanes[9] == ("INIT", 8) and lanes[35] == ("INITP", 3)
    assert sorted(lanes) == sorted([("INIT", j) for j in range(32)] + [("INITP", j) for j in range(4)])
    assert fb.cell_depth("RAMB36E1", 72) == 512 and fb.cell_depth("RAMB18E1", 9) == 2048
    assert fb.cell_depth("RAMB36E1", 1) == 32768


def test_params_bits_msb_first_and_x():
    s = "x" * 255 + "1"  # bit 0 set, the rest undefined
    init, initp, dinit, _ = fb.params_bits({"INIT_00": s, "INIT_01": "0" * 255 + "1"}, "RAMB18E1")
    assert init[0] == 1 and init[1:256].sum() == 0 and dinit[0] == 1 and dinit[1:256].sum() == 0
    assert init[256] == 1 and dinit[256:512].all()


# ----------------------------------------------------------------------------
# reading and rewriting FASM
# ----------------------------------------------------------------------------


def make_fasm(halves: dict[str, fb.Half]) -> str:
    """A FASM with the INIT lines of `halves` among other lines, as nextpnr-xilinx lays it out."""
    out = ["# made by tests/test_swap.py", "INT_L_X2Y3.EE2BEG0.LOGIC_OUTS4",
           "CLBLL_L_X2Y3.SLICEL_X0.ALUT.INIT[63:0] = 64'b" + "01" * 32, ""]
    for prefix, h in halves.items():
        tile = prefix.split(".")[0]
        out += [f"{prefix}.IN_USE", f"{prefix}.READ_WIDTH_A_18"]
        out += fb.half_lines(prefix, h).values()
        out += [f"{tile}.CASCOUT_ARD_ACTIVE", ""]
    return "\n".join(out) + "\n"


def rand_half() -> fb.Half:
    return fb.Half(rand_bits(fb.HALF_INIT_BITS), rand_bits(fb.HALF_INITP_BITS))


def test_read_halves_roundtrip():
    halves = {"BRAM_L_X6Y5.RAMB18_Y0": rand_half(), "BRAM_L_X6Y5.RAMB18_Y1": rand_half(),
              "BRAM_R_X37Y10.RAMB18_Y1": rand_half()}
    got = fb.read_halves(make_fasm(halves))
    assert got.keys() == halves.keys()
    for p in halves:
        assert got[p] == halves[p]
    assert fb.read_halves(make_fasm(halves), ["BRAM_L_X6Y5.RAMB18_Y1"]).keys() == {"BRAM_L_X6Y5.RAMB18_Y1"}


def test_read_halves_other_forms():
    """bit2fasm's forms: shorter slices, single bits, hex, no value, comments; zero features absent."""
    text = "\n".join([
        "BRAM_L_X6Y5.RAMB18_Y0.INIT_00[5:0] = 6'b100101",
        "BRAM_L_X6Y5.RAMB18_Y0.INIT_01[255:252] = 4'hA  # comment",
        "BRAM_L_X6Y5.RAMB18_Y0.INITP_07[3]",
        "BRAM_L_X6Y5.RAMB18_Y0.INIT_3F[255:0] = 256'd1 { annotation }",
        "BRAM_L_X6Y5.RAMB18_Y0.INIT_02[7:0] = 8'b1111_0000",
    ])
    h = fb.read_halves(text)["BRAM_L_X6Y5.RAMB18_Y0"]
    assert list(np.nonzero(h.init[:6])[0]) == [0, 2, 5]
    assert list(np.nonzero(h.init[256:512])[0]) == [253, 255]
    assert list(np.nonzero(h.init[512:768])[0]) == [4, 5, 6, 7]
    assert h.init[63 * 256] == 1 and h.init.sum() == 3 + 2 + 4 + 1
    assert h.initp[7 * 256 + 3] == 1 and h.initp.sum() == 1
    with pytest.raises(fb.FasmError):
        fb.read_halves("BRAM_L_X6Y5.RAMB18_Y0.INIT_00[3:0] = 5'b11111")
    with pytest.raises(fb.FasmError):
        fb.read_halves("BRAM_L_X6Y5.RAMB18_Y0.INIT_40[255:0] = 256'b1")


def test_rewrite_changes_only_target_lines():
    halves = {"BRAM_L_X6Y5.RAMB18_Y0": rand_half(), "BRAM_L_X6Y5.RAMB18_Y1": rand_half(),
              "BRAM_R_X37Y10.RAMB18_Y1": rand_half()}
    text = make_fasm(halves)
    new = {"BRAM_L_X6Y5.RAMB18_Y1": rand_half()}
    res = fb.rewrite(text, new)
    got = fb.read_halves(res.text)
    assert got["BRAM_L_X6Y5.RAMB18_Y1"] == new["BRAM_L_X6Y5.RAMB18_Y1"]
    assert got["BRAM_L_X6Y5.RAMB18_Y0"] == halves["BRAM_L_X6Y5.RAMB18_Y0"]
    assert got["BRAM_R_X37Y10.RAMB18_Y1"] == halves["BRAM_R_X37Y10.RAMB18_Y1"]
    old_lines, new_lines = text.splitlines(), res.text.splitlines()
    assert len(old_lines) == len(new_lines)
    for a, b in zip(old_lines, new_lines):
        if not a.startswith("BRAM_L_X6Y5.RAMB18_Y1.INIT"):
            assert a == b
    assert res.changed == 72 and res.inserted == 0 and res.halves == 1
    # the same contents give the same text, byte for byte
    same = fb.rewrite(text, {p: h.copy() for p, h in halves.items()})
    assert same.text == text and same.changed == 0


def test_rewrite_inserts_missing_nonzero_features_and_keeps_line_endings():
    h = fb.Half.zeros()
    h.init[:256] = rand_bits(256)
    text = "A.B\r\n" + "\r\n".join(v for k, v in fb.half_lines("BRAM_L_X6Y5.RAMB18_Y0", h).items()
                                    if k.endswith("INIT_00")) + "\r\nC.D\r\n"
    new = fb.Half.zeros()
    new.init[:256] = rand_bits(256)
    new.initp[5] = 1
    res = fb.rewrite(text, {"BRAM_L_X6Y5.RAMB18_Y0": new})
    assert res.inserted == 1 and res.changed == 1
    assert res.text.startswith("A.B\r\nBRAM_L_X6Y5.RAMB18_Y0.INIT_00[255:0] = ") and res.text.endswith("C.D\r\n")
    assert fb.read_halves(res.text)["BRAM_L_X6Y5.RAMB18_Y0"] == new
    with pytest.raises(fb.FasmError, match="not used"):
        fb.rewrite(text, {"BRAM_L_X6Y9.RAMB18_Y0": new})


# ----------------------------------------------------------------------------
# matching cells to images
# ----------------------------------------------------------------------------


def image(n: int) -> np.ndarray:
    return RNG.integers(0, 1 << 32, n, dtype=np.uint64)


@pytest.mark.parametrize("primitive,width,b0,nbits,pad", [
    ("RAMB18E1", 36, 0, 32, 0),   # SDP, 32-bit words on the 36-bit port (parity lanes used)
    ("RAMB36E1", 18, 18, 14, 0),  # upper part of a word split over two cells
    ("RAMB36E1", 9, 9, 9, 0),
    ("RAMB36E1", 4, 28, 4, 0),
    ("RAMB36E1", 72, 0, 32, 64),  # 64-bit memory, upper half zero
])
def test_match_cell(primitive, width, b0, nbits, pad):
    depth = fb.cell_depth(primitive, width)
    imgs = {"a.hex": image(2 * depth), "b.hex": image(64)}
    target = imgs["a.hex"][depth:]
    params = SH.yosys_params(primitive, width, SH.image_contents(target, depth, b0, nbits, pad_to=pad))
    (m,) = memmap.match_cell(primitive, params, imgs)
    assert m["image"] == "a.hex" and m["word_offset"] == depth and m["words"] == depth
    lanes = fb.port_lanes(width)
    assert m["bits"] == [[b0 + i, *lanes[i]] for i in range(nbits)]
    assert len(m["pad"]) == max(0, pad - nbits)
    # the mapping writes and reads back exactly the image bits
    init, initp, _, _ = fb.params_bits(params, primitive)
    words, mask = memmap.get_image(init, initp, width, m)
    assert np.array_equal(words, target & mask)
    new = image(2 * depth)
    memmap.put_image(init, initp, width, m, new)
    words, _ = memmap.get_image(init, initp, width, m)
    assert np.array_equal(words, new[depth:] & mask)


def test_match_cell_short_image_and_no_contents():
    imgs = {"c.hex": image(32)}
    params = SH.yosys_params("RAMB18E1", 36, SH.image_contents(imgs["c.hex"], 512, 0, 32), "SDP")
    (m,) = memmap.match_cell("RAMB18E1", params, imgs)
    assert (m["word_offset"], m["words"]) == (0, 32)
    assert memmap.match_cell("RAMB18E1", SH.yosys_params("RAMB18E1", 36, {}, "SDP"), imgs) == []
    other = SH.yosys_params("RAMB18E1", 9, SH.image_contents(image(256), 2048, 0, 8))
    assert memmap.match_cell("RAMB18E1", other, imgs) == []


def test_ambiguous_zero_regions_and_siblings():
    z = np.zeros(1024, np.uint64)
    z[:512] = image(512)
    imgs = {"z.hex": z}
    p0 = SH.yosys_params("RAMB18E1", 36, SH.image_contents(z[:512], 512, 0, 32), "SDP")
    p1 = SH.yosys_params("RAMB18E1", 36, SH.image_contents(z[512:], 512, 0, 32), "SDP")
    c0, c1 = memmap.match_cell("RAMB18E1", p0, imgs), memmap.match_cell("RAMB18E1", p1, imgs)
    assert len(c0) == 1 and len(c1) > 1  # an all-zero cell fits anywhere in a zero region
    r = memmap.resolve({"m.0.0": c0, "m.1.0": c1})
    assert r["m.0.0"]["image"]["word_offset"] == 0 and "candidates" in r["m.1.0"]
    z2 = {"z.hex": z, "y.hex": np.zeros(512, np.uint64)}
    c1b = memmap.match_cell("RAMB18E1", p1, z2)
    assert {c["image"] for c in c1b} == {"z.hex", "y.hex"}
    r = memmap.resolve({"m.0.0": c0, "m.1.0": c1b})  # the sibling holds z.hex: y.hex is dropped
    assert {c["image"] for c in r["m.1.0"]["candidates"]} == {"z.hex"}


# ----------------------------------------------------------------------------
# the synthetic build and the swap
# ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def synth_env(tmp_path_factory):
    root = tmp_path_factory.mktemp("swap")
    db = SH.make_fake_db(root / "db")
    tools = SH.write_fake_tools(root / "tools")
    w_old = SH.make_weights(root / "w_old", "tiny", seed=1)
    w_new = SH.make_weights(root / "w_new", "tiny", seed=2)
    w_default = SH.make_weights(root / "w_default", "default", seed=1)
    build = root / "build"
    info = SH.make_synthetic_build(build, w_old, db, root / "tools")
    return {"root": root, "db": db, "tools": tools, "old": w_old, "new": w_new, "default": w_default,
            "build": build, "info": info}


@pytest.fixture
def env(synth_env, monkeypatch, tmp_path):
    for k, v in synth_env["tools"].items():
        monkeypatch.setenv(k, v)
    monkeypatch.setenv("PRJXRAY_DB_DIR", str(synth_env["root"] / "db"))
    monkeypatch.setenv("TRITGPT_TOOLS_CONFIG", str(tmp_path / "no-tools.toml"))
    monkeypatch.setenv("PATH", str(Path(sys.executable).parent) + ":/usr/bin:/bin")
    for k in ("FASM2FRAMES", "NEXTPNR_XILINX", "PRJXRAY_BIN", "BIT2FASM", "CHIPDB"):
        monkeypatch.delenv(k, raising=False)
    build = tmp_path / "build"
    shutil.copytree(synth_env["build"], build)
    return dict(synth_env, build=build, tmp=tmp_path)


def tree_hashes(d: Path) -> dict:
    return {str(p.relative_to(d)): hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(d.rglob("*")) if p.is_file()}


def decoded_images(bit: Path, mm: dict, db: Path, bitread: list[str]) -> dict[str, np.ndarray]:
    """Images read back from a bitstream through the memory map (words not held stay 0)."""
    frames = bf.bitstream_frames(bit, db / mm["part"] / "part.yaml", bitread, frame_range=None)
    zero = np.zeros(bf.FRAME_WORDS, np.uint32)
    halves = bf.read_halves_from_frames(lambda a: frames.get(a, zero), {c["tile"]: c["frame_bits"] for c in mm["cells"]}, db)
    out = {}
    for c in mm["cells"]:
        if not c.get("image"):
            continue
        m = c["image"]
        init, initp = fb.halves_to_cell(c["primitive"], [halves[p] for p in c["fasm_halves"]])
        words, _ = memmap.get_image(init, initp, c["port_width"], m)
        img = out.setdefault(m["image"], np.zeros(m["word_offset"] + m["words"], np.uint64))
        if len(img) < m["word_offset"] + m["words"]:
            img = out[m["image"]] = np.concatenate([img, np.zeros(m["word_offset"] + m["words"] - len(img), np.uint64)])
        img[m["word_offset"]: m["word_offset"] + m["words"]] |= words
    return out


def test_complete_memmap(env):
    mm = memmap.complete_memmap(env["build"])
    by = {c["cell"]: c for c in mm["cells"]}
    assert by["u_core.u_mv.g_bank[3].u_bank.mem.0.0"]["image"]["image"] == "wt_bank03.hex"
    tok1 = by["u_core.u_emb.u_tok.mem.0.1"]
    assert tok1["image"]["bits"][0][0] == 18 and len(tok1["image"]["bits"]) == 14 and tok1["port_width"] == 18
    assert len(tok1["fasm_halves"]) == 2
    assert len(by["u_core.u_mv.g_bank[15].u_bank.mem.0.0"]["image"]["pad"]) == 32
    assert by["u_core.u_att.u_exp.mem.0.0"]["image"]["image"] == "rtl/tables/exp.hex"  # a table, not a weight
    assert "rtl/tables/exp.hex" in mm["swap"]["tables"] and "rtl/tables/exp.hex" not in mm["swap"]["coverage"]
    assert by["u_core.u_att.u_k.mem.0.0"]["image"] is None
    cov = mm["swap"]["coverage"]
    assert all(v["bits_missing"] == 0 for v in cov.values()), cov
    assert set(mm["swap"]["files"]) == {"fasm", "frames", "bitstream"}
    assert mm["swap"]["weights"]["config"]["name"] == "tiny"
    assert mm["swap"]["ternary"]["codes"]["-1"] == "10"
    assert "segbits_bram_l.block_ram.db" in mm["swap"]["prjxray_db"]["sha256"]
    json.dumps(mm)  # serialisable


def test_swap_new_weights_and_back(env):
    build, tmp = env["build"], env["tmp"]
    before = tree_hashes(build)
    before_new = tree_hashes(env["new"])
    memmap.write_memmap(build)
    bound = tree_hashes(build)
    res = sw.swap(build, env["new"], tmp / "out" / "new.bit", fasm_out=tmp / "out" / "new.fasm", method="direct")
    assert res.changed_cells == res.cells == 16 + 2 + 4 + 1  # weight cells only, not the table
    assert res.verified and not res.identical
    mm = json.loads((build / "memmap.json").read_text())
    got = decoded_images(tmp / "out" / "new.bit", mm, env["db"], env["tools"]["BITREAD"].split())
    new_imgs = memmap.load_images(env["new"])
    for name, img in new_imgs.items():
        assert np.array_equal(got[name][: len(img)], img), name
    # the FASM: only BRAM INIT lines of mapped halves changed; they decode to the new images too
    old_lines = (build / "tritgpt.fasm").read_text().splitlines()
    new_lines = (tmp / "out" / "new.fasm").read_text().splitlines()
    assert len(old_lines) == len(new_lines)
    assert all(a == b for a, b in zip(old_lines, new_lines) if ".INIT" not in a or "RAMB18" not in a)
    # back to the build's weights: byte-identical FASM, frames and bitstream
    res2 = sw.swap(build, build / "weights", tmp / "out" / "orig.bit", fasm_out=tmp / "out" / "orig.fasm",
                   frames_out=tmp / "out" / "orig.frames", method="direct")
    assert res2.identical
    assert (tmp / "out" / "orig.bit").read_bytes() == (build / "tritgpt.bit").read_bytes()
    assert (tmp / "out" / "orig.fasm").read_text() == (build / "tritgpt.fasm").read_text()
    assert (tmp / "out" / "orig.frames").read_text() == (build / "tritgpt.frames").read_text()
    # nothing of the inputs changed (write_memmap only completed memmap.json), no temp files left
    assert tree_hashes(build) == bound
    assert {k: v for k, v in before.items() if k != "memmap.json"} == {k: v for k, v in bound.items() if k != "memmap.json"}
    assert tree_hashes(env["new"]) == before_new
    assert sorted(p.name for p in (tmp / "out").iterdir()) == ["new.bit", "new.fasm", "orig.bit", "orig.fasm", "orig.frames"]


def test_swap_keeps_header_date(env):
    import time as _time

    res = sw.swap(env["build"], env["new"], env["tmp"] / "n.bit", method="direct")
    assert res.verified
    _time.sleep(1.1)
    old = bf.bit_header((env["build"] / "tritgpt.bit").read_bytes())[0]
    new = bf.bit_header((env["tmp"] / "n.bit").read_bytes())[0]
    assert old == new  # same design name, part, date and time


def test_swap_unbound_map_checks_report(env):
    build = env["build"]
    rep = json.loads((build / "report.json").read_text())
    rep["bitstream"]["sha256"] = "0" * 64
    (build / "report.json").write_text(json.dumps(rep))
    with pytest.raises(UserError, match="not the bitstream the build made"):
        sw.swap(build, env["new"], env["tmp"] / "x.bit", method="direct")
    assert not (env["tmp"] / "x.bit").exists()


def test_swap_refuses_other_config(env):
    with pytest.raises(UserError, match="another shape"):
        sw.swap(env["build"], env["default"], env["tmp"] / "x.bit", method="direct")
    assert not (env["tmp"] / "x.bit").exists()


def test_swap_refuses_missing_memmap(env):
    (env["build"] / "memmap.json").unlink()
    with pytest.raises(UserError, match="no memmap.json"):
        sw.swap(env["build"], env["new"], env["tmp"] / "x.bit", method="direct")
    with pytest.raises(UserError, match="not a build directory"):
        sw.swap(env["tmp"] / "nothing", env["new"], env["tmp"] / "x.bit", method="direct")


def test_swap_refuses_synth_only_map(env):
    mm = json.loads((env["build"] / "memmap.json").read_text())
    mm["placed"] = False
    (env["build"] / "memmap.json").write_text(json.dumps(mm))
    with pytest.raises(UserError, match="synthesis-only"):
        sw.swap(env["build"], env["new"], env["tmp"] / "x.bit", method="direct")


@pytest.mark.parametrize("name", ["tritgpt.fasm", "tritgpt.bit", "tritgpt.frames"])
def test_swap_refuses_changed_files(env, name):
    memmap.write_memmap(env["build"])
    p = env["build"] / name
    p.write_bytes(p.read_bytes() + b"\n")
    with pytest.raises(UserError, match="has changed since the build"):
        sw.swap(env["build"], env["new"], env["tmp"] / "x.bit", method="direct")


def test_unbound_map_refuses_fasm_of_another_design(env):
    p = env["build"] / "tritgpt.fasm"
    text = p.read_text()
    i = text.index("RAMB18_Y0.INIT_00[255:0] = 256'b") + len("RAMB18_Y0.INIT_00[255:0] = 256'b")
    p.write_text(text[:i] + ("1" if text[i] == "0" else "0") + text[i + 1:])
    with pytest.raises(UserError, match="not those of cell"):
        sw.swap(env["build"], env["new"], env["tmp"] / "x.bit", method="direct")


def test_swap_refuses_changed_build_weights(env):
    memmap.write_memmap(env["build"])
    p = env["build"] / "weights" / "gains.hex"
    p.write_text(p.read_text().replace("0", "1", 1))
    with pytest.raises(UserError, match="not the image the build used"):
        sw.swap(env["build"], env["new"], env["tmp"] / "x.bit", method="direct")


def test_swap_refuses_changed_table(env):
    memmap.write_memmap(env["build"])
    p = env["build"] / "rtl" / "tables" / "exp.hex"
    p.write_text("00\n" + p.read_text())
    with pytest.raises(UserError, match="not the table the build used"):
        sw.swap(env["build"], env["new"], env["tmp"] / "x.bit", method="direct")


def test_swap_refuses_corrupt_weights(env):
    bad = env["tmp"] / "bad"
    shutil.copytree(env["new"], bad)
    (bad / "tok_emb.hex").write_text("zz\n")
    with pytest.raises(UserError):
        sw.swap(env["build"], bad, env["tmp"] / "x.bit", method="direct")


def test_swap_refuses_output_over_inputs_and_missing_tools(env):
    with pytest.raises(UserError, match="a file of the build"):
        sw.swap(env["build"], env["new"], env["build"] / "tritgpt.bit", method="direct")
    with pytest.raises(UserError, match="fasm2frames"):
        sw.swap(env["build"], env["new"], env["tmp"] / "x.bit")  # default method needs fasm2frames


def test_swap_refuses_bits_not_in_any_bram(env):
    """A design that keeps only part of an image: the rest can only change with a rebuild."""
    from tritgpt.ml.export import load_package, write_package

    mm = memmap.complete_memmap(env["build"])
    mm["cells"] = [c for c in mm["cells"] if c["cell"] != "u_core.u_emb.u_tok.mem.0.1"]  # tok_emb bits 18-31 gone
    del mm["swap"]
    (env["build"] / "memmap.json").write_text(json.dumps(mm))
    with pytest.raises(UserError, match="no block RAM of the build holds"):
        sw.swap(env["build"], env["new"], env["tmp"] / "x.bit", method="direct")
    # weights that differ only where the design holds them are fine
    p = load_package(env["old"])
    q = load_package(env["new"])
    p.layers = [dict(L, **{m: q.layers[i][m] for m in ("wq", "wk", "wv", "wo", "w1", "w2")}) for i, L in enumerate(p.layers)]
    p.wlm = q.wlm
    write_package(p, env["tmp"] / "mats")
    res = sw.swap(env["build"], env["tmp"] / "mats", env["tmp"] / "m.bit", method="direct")
    assert res.verified and "tok_emb.hex" not in res.images_changed


def test_swap_ambiguous_cells_must_agree(env):
    """A cell whose contents fit several places: fine while the new weights agree there."""
    mm = memmap.complete_memmap(env["build"])
    c = next(c for c in mm["cells"] if c["cell"] == "u_core.u_fsm.u_consts.mem.0.0")
    alt = dict(c["image"], image="gains.hex")
    c["candidates"] = [c["image"], alt]
    c["image"] = None
    (env["build"] / "memmap.json").write_text(json.dumps(mm))
    with pytest.raises(UserError, match="fit several places"):
        sw.swap(env["build"], env["new"], env["tmp"] / "x.bit", method="direct")
    c["candidates"] = [c["candidates"][0], dict(c["candidates"][0])]  # two places that agree
    (env["build"] / "memmap.json").write_text(json.dumps(mm))
    res = sw.swap(env["build"], env["new"], env["tmp"] / "y.bit", method="direct")
    assert res.verified


def test_cli_swap(env):
    from typer.testing import CliRunner

    from tritgpt.cli.app import app

    r = CliRunner().invoke(app, ["swap", str(env["build"]), str(env["new"]), "-o", str(env["tmp"] / "c.bit"),
                                 "--direct", "--json"])
    assert r.exit_code == 0, r.output
    out = json.loads(r.stdout[r.stdout.index("{"):])
    assert out["changed_cells"] == 23 and out["verified"] and out["seconds"]["total"] > 0
    r = CliRunner().invoke(app, ["swap", str(env["build"]), str(env["default"]), "-o", str(env["tmp"] / "d.bit"),
                                 "--direct"])
    assert r.exit_code != 0 and isinstance(r.exception, UserError)
