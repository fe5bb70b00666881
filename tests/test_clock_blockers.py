"""xc7prep's clock blockers: slices whose clock would pass through an HCLK tile that
prjxray-db has no configuration bits for get an unclocked flip-flop pinned on them,
so nextpnr-xilinx places no clocked cell there and fasm2frames can assemble the result.

- the tile-grid analysis on a small synthetic grid and, when ../shared/prjxray-db is
  beside the checkout, on the 50T and 100T grids of the database the flow is verified on;
- the netlist edit and the command line;
- with the openXC7 tools present: a small counter design placed and routed twice,
  the second time with blockers on exactly the slices its flip-flops took the first
  time: they must all move, the blockers stay where they were pinned, and the FASM
  assembles.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
TOOLS = ROOT / "flows" / "edalize" / "tools"
sys.path.insert(0, str(TOOLS))
sys.path.insert(0, str(Path(__file__).resolve().parent))
import xc7prep  # noqa: E402

SHARED_DB = Path(os.environ.get("TRITGPT_SHARED", ROOT.parent / "shared")) / "prjxray-db" / "artix7"


def tile(x, y, kind, region="X0Y0", bits=True, sites=None):
    return {"grid_x": x, "grid_y": y, "type": kind, "clock_region": region,
            "bits": {"CLB_IO_CLK": {"baseaddr": "0x0", "frames": 36, "offset": 0, "words": 2}} if bits else {},
            "sites": sites or {}}


def synthetic_grid() -> dict:
    """Two INT columns under one HCLK row; the left HCLK has no bits, the right one has."""
    g = {
        "HCLK_L_BOT_UTURN_X5Y10": tile(5, 10, "HCLK_L_BOT_UTURN", bits=False),
        "HCLK_R_X6Y10": tile(6, 10, "HCLK_R"),
        "HCLK_CLB_X4Y10": tile(4, 10, "HCLK_CLB", bits=False),  # a spacer: no bits, feeds nothing
        "HCLK_L_X5Y30": tile(5, 30, "HCLK_L", region="X0Y1"),
    }
    for y in (9, 11):
        g[f"INT_L_X5Y{y}"] = tile(5, y, "INT_L")
        g[f"INT_R_X6Y{y}"] = tile(6, y, "INT_R")
        g[f"CLBLM_R_X7Y{y}"] = tile(7, y, "CLBLM_R", sites={f"SLICE_X2Y{y}": "SLICEM", f"SLICE_X3Y{y}": "SLICEL"})
    g["CLBLL_L_X4Y9"] = tile(4, 9, "CLBLL_L", sites={"SLICE_X0Y9": "SLICEL", "SLICE_X1Y9": "SLICEL"})
    # a block RAM behind its interface tile
    g["BRAM_INT_INTERFACE_L_X4Y11"] = tile(4, 11, "BRAM_INT_INTERFACE_L")
    g["BRAM_L_X3Y11"] = tile(3, 11, "BRAM_L", sites={"RAMB18_X0Y2": "RAMB18E1"})
    # same column, another clock region (its own HCLK has bits): not blocked
    g["INT_L_X5Y29"] = tile(5, 29, "INT_L", region="X0Y1")
    g["CLBLL_L_X4Y29"] = tile(4, 29, "CLBLL_L", region="X0Y1", sites={"SLICE_X0Y29": "SLICEL"})
    return g


def test_blocked_sites_on_synthetic_grid():
    found = xc7prep.clock_blocked_sites(synthetic_grid())
    assert found["tiles"] == ["HCLK_L_BOT_UTURN_X5Y10"]
    # the INT_L column's CLB is on its left; the INT_R column's HCLK has bits
    assert found["sites"] == ["SLICE_X0Y9", "SLICE_X1Y9"]
    # a clocked hard block in that column cannot be covered by a flip-flop: reported
    assert found["unprotected"] == ["BRAM_L_X3Y11"]


def test_complete_grid_blocks_nothing():
    g = synthetic_grid()
    g["HCLK_L_BOT_UTURN_X5Y10"] = tile(5, 10, "HCLK_L_BOT_UTURN")
    assert xc7prep.clock_blocked_sites(g) == {"tiles": [], "sites": [], "unprotected": []}


def netlist_with_counter() -> dict:
    return {"modules": {
        "sub": {"attributes": {}, "cells": {}, "netnames": {}},
        "top": {"attributes": {"top": "00000000000000000000000000000001"},
                "cells": {"ff": {"type": "FDRE", "connections": {"C": [2], "D": [3], "Q": [7], "CE": ["1"], "R": ["0"]}}},
                "netnames": {"clk": {"bits": [2]}, "q": {"bits": [7]}, "d": {"bits": [3]}}},
    }}


def test_add_clock_blockers_edits_the_top_module():
    n = netlist_with_counter()
    assert xc7prep.add_clock_blockers(n, ["SLICE_X0Y9", "SLICE_X1Y9"]) == 2
    top = n["modules"]["top"]
    assert n["modules"]["sub"]["cells"] == {}
    blockers = {k: v for k, v in top["cells"].items() if k.startswith(xc7prep.BLOCKER_PREFIX)}
    assert sorted(b["attributes"]["NEXTPNR_BEL"] for b in blockers.values()) == ["SLICE_X0Y9/AFF", "SLICE_X1Y9/AFF"]
    for b in blockers.values():
        assert b["type"] == "FDRE"
        assert set(b["connections"]) == {"D"}  # no clock: that is what keeps clocked cells out
        # D on a new net that nothing drives (bit numbers above every existing one)
        assert b["connections"]["D"] == [8]
        assert "BEL" not in b["attributes"]
    assert top["netnames"][xc7prep.BLOCKER_PREFIX + "d"]["bits"] == [8]
    assert xc7prep.add_clock_blockers(netlist_with_counter(), []) == 0


def test_command_line_reads_the_part_tile_grid(tmp_path):
    db = tmp_path / "artix7"
    (db / "mapping").mkdir(parents=True)
    (db / "mapping" / "parts.yaml").write_text("xc7a35tcsg324-1:\n  device: xc7a50t\n  package: csg324\n")
    (db / "mapping" / "devices.yaml").write_text("xc7a50t:\n  fabric: xc7a50t\n")
    (db / "xc7a50t").mkdir()
    (db / "xc7a50t" / "tilegrid.json").write_text(json.dumps(synthetic_grid()))
    src, dst, rep = tmp_path / "in.json", tmp_path / "out.json", tmp_path / "r.json"
    src.write_text(json.dumps(netlist_with_counter()))
    cmd = [sys.executable, str(TOOLS / "xc7prep.py"), str(src), str(dst), "--report", str(rep)]
    cp = subprocess.run(cmd + ["--part", "xc7a35tcsg324-1", "--db-root", str(db)], capture_output=True, text=True)
    assert cp.returncode == 0, cp.stderr
    assert "pinned 2 clock blockers on the slices of HCLK_L_BOT_UTURN_X5Y10" in cp.stdout
    assert "BRAM_L_X3Y11" in cp.stderr  # the warning names what blockers cannot cover
    r = json.loads(rep.read_text())
    assert r["clock_blockers"] == 2 and r["clock_tiles_without_bits"] == ["HCLK_L_BOT_UTURN_X5Y10"]
    cells = json.loads(dst.read_text())["modules"]["top"]["cells"]
    assert xc7prep.BLOCKER_PREFIX + "SLICE_X1Y9" in cells
    # a part the database does not list: said so, netlist otherwise prepared
    cp = subprocess.run(cmd + ["--part", "xc7a200tffg1156-1", "--db-root", str(db)], capture_output=True, text=True)
    assert cp.returncode == 0 and "no tilegrid.json for xc7a200tffg1156-1" in cp.stderr
    assert not any(k.startswith(xc7prep.BLOCKER_PREFIX) for k in json.loads(dst.read_text())["modules"]["top"]["cells"])


@pytest.mark.parametrize("part, hclk_x, int_cols", [
    ("xc7a35tcsg324-1", ("X72Y130", "X73Y130"), ("INT_L_X28Y", "INT_R_X29Y")),
    ("xc7a100tcsg324-1", ("X105Y182", "X106Y182"), ("INT_L_X42Y", "INT_R_X43Y")),
])
def test_verification_database_grids(part, hclk_x, int_cols):
    """The reconstructed 50T/100T grids lack the bits of the two HCLK tiles over the PCIe
    block; their 25 rows of CLBs (the other half of the region is PCIe) are blocked."""
    grid_path = xc7prep.tilegrid_path(str(SHARED_DB), part)
    if grid_path is None:
        pytest.skip(f"no prjxray-db for {part} at {SHARED_DB}")
    grid = json.loads(Path(grid_path).read_text())
    found = xc7prep.clock_blocked_sites(grid)
    assert found["tiles"] == [f"HCLK_L_BOT_UTURN_{hclk_x[0]}", f"HCLK_R_BOT_UTURN_{hclk_x[1]}"]
    assert len(found["sites"]) == 100 and found["unprotected"] == []
    site_tile = {s: name for name, t in grid.items() for s in t.get("sites", {})}
    region = grid[found["tiles"][0]]["clock_region"]
    for s in found["sites"]:
        t = grid[site_tile[s]]
        assert t["type"] in ("CLBLL_L", "CLBLM_R", "CLBLL_R", "CLBLM_L") and t["clock_region"] == region
        # beside one of the two INT columns under the tiles without bits
        beside = [n for n, u in grid.items() if u["grid_y"] == t["grid_y"] and abs(u["grid_x"] - t["grid_x"]) == 1]
        assert any(n.startswith(int_cols) for n in beside), (s, beside)


# ----------------------------------------------------------------------------
# with nextpnr-xilinx: the blockers keep clocked cells out
# ----------------------------------------------------------------------------

COUNTER_V = """
module counter_top(input clk, output [3:0] led);
    reg [47:0] a = 0, b = 0;
    always @(posedge clk) begin
        a <= a + 48'd1;
        b <= b ^ {b[46:0], a[47]};
    end
    assign led = a[47:44] ^ b[3:0];
endmodule
"""


def _placed_ffs(routed: Path) -> dict[str, str]:
    cells = json.loads(routed.read_text())["modules"]["top"]["cells"]
    return {n: c["attributes"]["NEXTPNR_BEL"] for n, c in cells.items() if c["type"] == "SLICE_FFX"}


@pytest.mark.openxc7
def test_nextpnr_keeps_clocked_cells_off_blocked_slices(tmp_path):
    import _swap_helpers as SH

    tc = SH.synth_small_design(tmp_path, "counter_top", COUNTER_V, SH.CLOCK_LEDS_XDC)
    part = SH.PART

    def pnr(netlist: dict, tag: str) -> Path:
        (tmp_path / f"{tag}.json").write_text(json.dumps(netlist))
        cp = subprocess.run(tc.nextpnr_xilinx.command + [
            "--chipdb", str(tc.chipdb_file(part)), "--xdc", "board.xdc", "--json", f"{tag}.json",
            "--fasm", f"{tag}.fasm", "--write", f"{tag}.routed.json", "--freq", "50", "--seed", "1"],
            cwd=tmp_path, capture_output=True, text=True)
        assert cp.returncode == 0, cp.stdout[-3000:] + cp.stderr[-2000:]
        return tmp_path / f"{tag}.routed.json"

    netlist = json.loads((tmp_path / "n.json").read_text())
    free = _placed_ffs(pnr(netlist, "free"))
    assert len(free) >= 20, free  # what yosys keeps of the two registers
    taken = sorted({bel.split("/")[0] for bel in free.values()})

    assert xc7prep.add_clock_blockers(netlist, taken) == len(taken)
    placed = _placed_ffs(pnr(netlist, "blocked"))
    blockers = {n: b for n, b in placed.items() if n.startswith(xc7prep.BLOCKER_PREFIX)}
    assert sorted(b.split("/")[0] for b in blockers.values()) == taken
    assert all(b.endswith("/AFF") for b in blockers.values())
    moved = {n: b.split("/")[0] for n, b in placed.items() if n not in blockers}
    assert len(moved) == len(free) and not set(moved.values()) & set(taken)
    # and the result assembles
    db = tc.db_family_dir(part)
    subprocess.run(tc.fasm2frames.command + ["--db-root", str(db), "--part", part, "blocked.fasm", "blocked.frames"],
                   cwd=tmp_path, check=True, capture_output=True)
    assert (tmp_path / "blocked.frames").stat().st_size > 0
