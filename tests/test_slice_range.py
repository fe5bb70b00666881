"""Keeping the logic in a range of slices ([pnr] slice_range).

On the routing data the flow is verified on, tile columns 36-45 hold no interconnect in
rows 53-155 (beside the configuration centre and the XADC), and the long wires that cross
them are missing. A design whose logic sits on both sides routes arcs round that block one
whole-die search at a time: on the xc7a100t router2's first iteration did not finish in
22 minutes. With the logic kept right of it (and the block RAMs and DSPs in the columns
there), the same netlist routes in 6 iterations (docs/build.md, "The xc7a100t"). The
nextpnr runner therefore can write a `--pre-place` script that constrains every cell a
slice can hold to a range of slices, named as a Vivado pblock range.

- the option's values and the script it writes, run against a recorded Context;
- the runner passing the script to nextpnr-xilinx (a stand-in nextpnr), beside the
  hard-block script, and refusing a bad range in one line before running anything;
- the flow's Makefile passing the option on;
- with the openXC7 tools present: a small design placed and routed on the xc7a35t with its
  logic kept to a corner of slices and its DSPs and block RAMs to one column, and every
  cell lands where it was told.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys

import pytest

import _build_helpers as H  # noqa: F401  (puts flows/ on sys.path)
from edalize.tools import nextpnr_xilinx  # noqa: E402
from test_flow_edalize import TOOLS, configure, fake_nextpnr, recipe, run_runner  # noqa: E402,F401
from test_hard_block_sites import BLOCKS_V, BLOCKS_XDC, skip_without_python  # noqa: E402

RANGE = "SLICE_X28Y0:SLICE_X81Y199"


@pytest.mark.parametrize("value, why", [
    ("SLICE_X28Y0", "'SLICE_X28Y0' is not a range of slices: expected SLICE_X<x0>Y<y0>:SLICE_X<x1>Y<y1>"),
    ("SLICE_X28Y0:DSP48_X1Y9", "is not a range of slices"),
    ("slice_x0y0:slice_x1y1", "is not a range of slices"),
    ("SLICE_X28Y0:SLICE_X81", "is not a range of slices"),
    ("SLICE_X9Y0:SLICE_X2Y5", "the first corner must be the lower left one"),
    ("SLICE_X0Y9:SLICE_X2Y5", "the first corner must be the lower left one"),
])
def test_range_is_checked(value, why):
    with pytest.raises(ValueError, match=re.escape(why) if "<" in why else why):
        nextpnr_xilinx.slice_range(value)


def test_range_corners_are_included():
    assert nextpnr_xilinx.slice_range(RANGE) == (28, 0, 81, 199)
    assert nextpnr_xilinx.slice_range(" SLICE_X3Y4:SLICE_X3Y4 ") == (3, 4, 3, 4)


class _Cell:
    def __init__(self, kind, attrs=None):
        self.type, self.attrs = kind, dict(attrs or {})


class _Ctx:
    """The Context calls the script makes (nextpnr-xilinx itself runs it in the test with
    the tools below), recording the region it builds."""

    def __init__(self, bels, cells):
        self._bels, self.cells = bels, cells
        self.region, self.constrained = set(), []

    def createRectangularRegion(self, name, x0, y0, x1, y1):
        assert name == "slice_range" and (x0, y0, x1, y1) == (0, 0, 0, 0)

    def getBels(self):
        return iter(self._bels)

    def getBelType(self, bel):
        return self._bels[bel]

    def addBelToRegion(self, name, bel):
        self.region.add(bel)

    def constrainCellToRegion(self, cell, name):
        self.constrained.append(cell)


# two slices on each side of the range's edge, and a DSP inside it
BELS = {**{f"SLICE_X{x}Y{y}/{b}": t for x in (27, 28) for y in (0, 1)
           for b, t in (("A6LUT", "SLICE_LUTX"), ("AFF", "SLICE_FFX"), ("CARRY4", "CARRY4"))},
        "DSP48_X1Y0/DSP48E1": "DSP48E1", "SLICE_X28Y200/A6LUT": "SLICE_LUTX"}


def run_script(value, cells):
    ctx = _Ctx(BELS, cells)
    exec(compile(nextpnr_xilinx.slice_range_script(value), "slice_range.py", "exec"), {"ctx": ctx})
    return ctx


def test_script_keeps_slice_cells_in_the_range(capsys):
    """Every cell a slice bel can hold is constrained, a cell the netlist pins is not, nor
    any other kind; the region holds exactly the range's slice bels, corners included."""
    cells = [("lut", _Cell("SLICE_LUTX")), ("ff", _Cell("SLICE_FFX")), ("carry", _Cell("CARRY4")),
             ("pinned", _Cell("SLICE_LUTX", {"BEL": "SLICE_X27Y0/A6LUT"})), ("mul", _Cell("DSP48E1_DSP48E1")),
             ("io", _Cell("IOB33"))]
    ctx = run_script("SLICE_X28Y0:SLICE_X40Y199", cells)
    assert ctx.constrained == ["lut", "ff", "carry"]
    assert ctx.region == {f"SLICE_X28Y{y}/{b}" for y in (0, 1) for b in ("A6LUT", "AFF", "CARRY4")}
    assert capsys.readouterr().out == ("slice_range: kept 3 logic cells in the 6 slice bels of "
                                       "SLICE_X28Y0:SLICE_X40Y199\n")


def test_script_stops_when_the_range_is_too_small():
    cells = [(f"lut{i}", _Cell("SLICE_LUTX")) for i in range(3)]
    with pytest.raises(SystemExit, match="slice_range: 3 SLICE_LUTX cells but only 2 such bels in "
                                         "SLICE_X28Y0:SLICE_X28Y1: widen the range"):
        run_script("SLICE_X28Y0:SLICE_X28Y1", cells)


def test_runner_passes_both_scripts(tmp_path, fake_nextpnr):
    cp, rep = run_runner(tmp_path, fake_nextpnr, "--seeds", "1", "--hard-block-sites", "DSP48_X1",
                         "--slice-range", RANGE, env={"FAKE_FMAX": "1:120"})
    assert cp.returncode == 0, cp.stdout + cp.stderr
    assert (tmp_path / nextpnr_xilinx.SLICE_RANGE_SCRIPT).read_text() == nextpnr_xilinx.slice_range_script(RANGE)
    command = rep["runs"][0]["command"]
    assert (f"--pre-place {nextpnr_xilinx.HARD_BLOCK_SCRIPT} --pre-place {nextpnr_xilinx.SLICE_RANGE_SCRIPT}"
            in command)


def test_runner_refuses_a_bad_range_before_running(tmp_path, fake_nextpnr):
    """A malformed range is refused in one line before nextpnr runs, and neither pre-place
    script is left behind, not even the valid hard-block one."""
    cp, rep = run_runner(tmp_path, fake_nextpnr, "--seeds", "1", "--hard-block-sites", "DSP48_X1",
                         "--slice-range", "SLICE_X28Y0-SLICE_X81Y199", env={"FAKE_FMAX": "1:120"})
    assert (cp.returncode, rep, cp.stdout) == (64, None, "")
    assert cp.stderr.strip().splitlines() == [
        "nextpnr_xilinx.py: --slice-range: 'SLICE_X28Y0-SLICE_X81Y199' is not a range of slices: expected "
        "SLICE_X<x0>Y<y0>:SLICE_X<x1>Y<y1>, e.g. SLICE_X28Y0:SLICE_X81Y199"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["nextpnr-xilinx"]   # the stand-in, nothing else


def test_pre_place_scripts_in_order():
    """The runner and a sweep's tasks take their scripts from one function: the hard blocks
    fixed first, then the logic's region; none without the options."""
    assert nextpnr_xilinx.pre_place_scripts("DSP48_X1", RANGE) == [
        (nextpnr_xilinx.HARD_BLOCK_SCRIPT, nextpnr_xilinx.hard_block_script("DSP48_X1")),
        (nextpnr_xilinx.SLICE_RANGE_SCRIPT, nextpnr_xilinx.slice_range_script(RANGE))]
    assert nextpnr_xilinx.pre_place_scripts(None, "") == []
    with pytest.raises(ValueError, match="^--hard-block-sites: 'X' is not a block RAM"):
        nextpnr_xilinx.pre_place_scripts("X", RANGE)


def test_makefile_passes_the_option(tmp_path):
    _, mk = configure(tmp_path, slice_range=RANGE)
    [cmd] = recipe(mk, "top.fasm")
    runner = cmd[:cmd.index("--")]
    assert runner[runner.index("--slice-range") + 1] == RANGE
    plain = tmp_path / "plain"
    plain.mkdir()
    _, mk = configure(plain)
    assert "--slice-range" not in mk
    with pytest.raises(ValueError, match="is not a range of slices"):
        configure(tmp_path / "plain", slice_range="SLICE_X1")


@pytest.mark.openxc7
def test_nextpnr_keeps_the_logic_in_the_range(tmp_path):
    """The hard-block design of test_hard_block_sites, its logic kept to slices X36-X47,
    Y50-Y99 of the xc7a35t (right of the configuration centre) and its DSPs and block RAMs
    to the X1 columns: every slice cell and every block lands there, and it routes."""
    import _swap_helpers as SH

    tc = SH.synth_small_design(tmp_path, "blocks_top", BLOCKS_V, BLOCKS_XDC)
    skip_without_python(tc)
    subprocess.run([sys.executable, str(TOOLS / "xc7prep.py"), "n.json", "prep.json"], cwd=tmp_path, check=True,
                   capture_output=True)
    columns = ["DSP48_X1", "RAMB18_X1", "RAMB36_X1"]
    cp = subprocess.run([sys.executable, str(TOOLS / "nextpnr_xilinx.py"), "--seeds", "1", "--timeout", "900",
                         "--freq", "50", "--fasm", "top.fasm", "--routed", "top.routed.json",
                         "--hard-block-sites", ",".join(columns), "--slice-range", "SLICE_X36Y50:SLICE_X47Y99", "--",
                         *tc.nextpnr_xilinx.command, "--chipdb", str(tc.chipdb_file(SH.PART)),
                         "--xdc", "board.xdc", "--json", "prep.json"], cwd=tmp_path, capture_output=True, text=True)
    assert cp.returncode == 0, cp.stdout[-3000:] + cp.stderr[-2000:]
    [top] = json.loads((tmp_path / "top.routed.json").read_text())["modules"].values()
    sites = [c["attributes"]["NEXTPNR_BEL"].split("/")[0] for c in top["cells"].values()]
    slices = [tuple(map(int, m.groups())) for s in sites for m in [re.match(r"^SLICE_X(\d+)Y(\d+)$", s)] if m]
    assert len(slices) > 100, sites
    assert all(36 <= x <= 47 and 50 <= y <= 99 for x, y in slices), sorted(set(slices))
    blocks = [s for s in sites if s.startswith(("DSP48_", "RAMB"))]
    assert len(blocks) >= 12 and all(s.split("Y")[0] in columns for s in blocks), blocks
    summary = re.search(r"slice_range: kept (\d+) logic cells in the (\d+) slice bels of SLICE_X36Y50:SLICE_X47Y99",
                        cp.stdout)
    assert summary and int(summary.group(1)) > 100, cp.stdout
    assert "hard_block_sites: placed 4 RAMB36E1, 0 RAMB18E1, 8 DSP48E1" in cp.stdout, cp.stdout
