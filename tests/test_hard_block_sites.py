"""Keeping block RAMs and DSPs in chosen site columns ([pnr] hard_block_sites).

On the xc7a100t routing data the flow is verified on, a design must stay on one side of
the configuration centre to route in useful time (docs/build.md, "The xc7a100t"): its
logic by [pnr] slice_range (test_slice_range.py), its block RAMs and DSPs by this. The
nextpnr runner therefore can write a `--pre-place` script that keeps every DSP48E1,
RAMB18E1 and RAMB36E1 cell in named site columns. (Fixed sites rather than a region:
nextpnr's analytical placer stalls on region-constrained block RAMs.)

- the option's values and the script it writes;
- the runner passing the script to nextpnr-xilinx (a stand-in nextpnr) and refusing a
  bad column in one line before running anything;
- the flow's Makefile passing the option on;
- with the openXC7 tools present: a design of DSPs and block RAMs placed twice on the
  xc7a35t, each time kept to a different column, and every block lands in its column.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

import _build_helpers as H  # noqa: F401  (puts flows/ on sys.path)
from edalize.tools import nextpnr_xilinx  # noqa: E402
from test_flow_edalize import TOOLS, configure, fake_nextpnr, recipe, run_runner  # noqa: E402,F401

COLUMNS = ["DSP48_X0", "RAMB18_X0", "RAMB36_X0"]


@pytest.mark.parametrize("value, why", [
    ("DSP48_X0,SLICE_X3", "'SLICE_X3' is not a block RAM or DSP site column"),
    ("DSP48_X0Y2", "'DSP48_X0Y2' is not a block RAM or DSP site column"),
    ("dsp48_x0", "'dsp48_x0' is not a block RAM or DSP site column"),
    (" , ", "no site columns given"),
])
def test_columns_are_checked(value, why):
    with pytest.raises(ValueError, match=why):
        nextpnr_xilinx.hard_block_columns(value)


def test_columns_from_text_or_list():
    assert nextpnr_xilinx.hard_block_columns("DSP48_X0, RAMB36_X12") == ["DSP48_X0", "RAMB36_X12"]
    assert nextpnr_xilinx.hard_block_columns(COLUMNS) == COLUMNS


class _Cell:
    def __init__(self, kind, attrs=None):
        self.type, self.attrs = kind, dict(attrs or {})

    def setAttr(self, key, value):
        self.attrs[key] = value


class _Ctx:
    """The two Context calls the script makes (nextpnr-xilinx itself runs it in the test
    with the tools below): the bels' names and the cells."""

    def __init__(self, bels, cells):
        self._bels, self.cells = bels, cells

    def getBels(self):
        return iter(self._bels)


BELS = ["DSP48_X0Y0/DSP48E1", "DSP48_X0Y0/ALUMODE0INV", "DSP48_X0Y1/DSP48E1", "DSP48_X0Y2/DSP48E1",
        "DSP48_X1Y1/DSP48E1", "RAMB36_X0Y0/RAMB36E1", "RAMB36_X0Y1/RAMB36E1",
        *(f"RAMB18_X0Y{y}/RAMB18E1" for y in range(4)), "SLICE_X0Y0/A6LUT"]


def run_script(columns, cells):
    exec(compile(nextpnr_xilinx.hard_block_script(columns), "hard_block_sites.py", "exec"),
         {"ctx": _Ctx(BELS, cells)})
    return {name: cell.attrs.get("BEL") for name, cell in cells}


def test_script_places_blocks_from_the_middle_row(capsys):
    """Each kind fills its columns' free sites nearest the middle row; a RAMB36 takes both
    RAMB18 sites of its tile; a cell the netlist already pins keeps its site, which no
    other cell gets; logic is left to the placer."""
    cells = [("mul0", _Cell("DSP48E1_DSP48E1")), ("mul1", _Cell("DSP48E1_DSP48E1")),
             ("pinned", _Cell("DSP48E1_DSP48E1", {"BEL": "DSP48_X0Y1/DSP48E1"})),
             ("ram36", _Cell("RAMB36E1_RAMB36E1")), ("ram18a", _Cell("RAMB18E1_RAMB18E1")),
             ("ram18b", _Cell("RAMB18E1_RAMB18E1")), ("lut", _Cell("SLICE_LUTX"))]
    assert run_script(COLUMNS, cells) == {
        "mul0": "DSP48_X0Y0/DSP48E1", "mul1": "DSP48_X0Y2/DSP48E1", "pinned": "DSP48_X0Y1/DSP48E1",
        "ram36": "RAMB36_X0Y0/RAMB36E1", "ram18a": "RAMB18_X0Y2/RAMB18E1", "ram18b": "RAMB18_X0Y3/RAMB18E1",
        "lut": None}
    assert capsys.readouterr().out == ("hard_block_sites: placed 1 RAMB36E1, 2 RAMB18E1, 2 DSP48E1 in "
                                       "DSP48_X0, RAMB18_X0, RAMB36_X0\n")


def test_script_leaves_kinds_not_named_to_the_placer():
    cells = [("mul", _Cell("DSP48E1_DSP48E1")), ("ram", _Cell("RAMB36E1_RAMB36E1"))]
    assert run_script(["DSP48_X1"], cells) == {"mul": "DSP48_X1Y1/DSP48E1", "ram": None}


def test_script_stops_when_the_columns_are_full():
    cells = [(f"ram{i}", _Cell("RAMB36E1_RAMB36E1")) for i in range(3)]
    with pytest.raises(SystemExit, match="3 RAMB36E1 cells but only 2 free sites in RAMB36_X0: name more columns"):
        run_script(COLUMNS, cells)


def test_runner_passes_the_script(tmp_path, fake_nextpnr):
    cp, rep = run_runner(tmp_path, fake_nextpnr, "--seeds", "1", "--hard-block-sites", ",".join(COLUMNS),
                         env={"FAKE_FMAX": "1:120"})
    assert cp.returncode == 0, cp.stdout + cp.stderr
    assert (tmp_path / nextpnr_xilinx.HARD_BLOCK_SCRIPT).read_text() == nextpnr_xilinx.hard_block_script(COLUMNS)
    assert f"--pre-place {nextpnr_xilinx.HARD_BLOCK_SCRIPT}" in rep["runs"][0]["command"]
    # without the option: no script and no --pre-place
    plain = tmp_path / "plain"
    plain.mkdir()
    cp, rep = run_runner(plain, fake_nextpnr, "--seeds", "1", env={"FAKE_FMAX": "1:120"})
    assert cp.returncode == 0 and "--pre-place" not in rep["runs"][0]["command"]
    assert not (plain / nextpnr_xilinx.HARD_BLOCK_SCRIPT).exists()


def test_runner_refuses_a_bad_column_before_running(tmp_path, fake_nextpnr):
    cp, rep = run_runner(tmp_path, fake_nextpnr, "--seeds", "1", "--hard-block-sites", "DSP48_X0,BRAM_X1",
                         env={"FAKE_FMAX": "1:120"})
    assert cp.returncode == 64 and rep is None
    assert cp.stderr.strip().splitlines() == [
        "nextpnr_xilinx.py: --hard-block-sites: 'BRAM_X1' is not a block RAM or DSP site column: expected "
        "DSP48_X<n>, RAMB18_X<n> or RAMB36_X<n>, e.g. DSP48_X0"]
    assert not (tmp_path / "nextpnr.seed1.log").exists()


def test_runner_refuses_a_nextpnr_without_python(tmp_path, fake_nextpnr):
    """A nextpnr-xilinx built with -DBUILD_PYTHON=OFF has no --pre-place: one line naming
    the fix, before any seed runs (not a failure after packing)."""
    cp, rep = run_runner(tmp_path, fake_nextpnr, "--seeds", "1", "--hard-block-sites", ",".join(COLUMNS),
                         "--slice-range", "SLICE_X28Y0:SLICE_X81Y199", env={"FAKE_FMAX": "1:120", "FAKE_NO_PYTHON": "1"})
    assert cp.returncode == 64 and rep is None
    assert cp.stderr.strip().splitlines() == [
        f"nextpnr_xilinx.py: --hard-block-sites and --slice-range run as nextpnr-xilinx scripts, but {fake_nextpnr} "
        "was built without Python scripting (no --pre-place option): rebuild nextpnr-xilinx with cmake "
        "-DBUILD_PYTHON=ON (its default)"]
    assert not (tmp_path / "nextpnr.seed1.log").exists() and not (tmp_path / nextpnr_xilinx.HARD_BLOCK_SCRIPT).exists()


def test_makefile_passes_the_option(tmp_path):
    _, mk = configure(tmp_path, hard_block_sites=COLUMNS)
    [cmd] = recipe(mk, "top.fasm")
    runner = cmd[:cmd.index("--")]
    assert runner[runner.index("--hard-block-sites") + 1] == "DSP48_X0,RAMB18_X0,RAMB36_X0"
    plain = tmp_path / "plain"
    plain.mkdir()
    _, mk = configure(plain)
    assert "--hard-block-sites" not in mk


# Eight DSP multipliers and four block RAMs: enough of each that a free placer would not
# put them all in one column by chance on the xc7a35t's two DSP and three BRAM columns.
BLOCKS_V = """
module blocks_top(input wire clk, input wire rx, output reg tx);
  localparam N = 8, R = 4;
  reg [31:0] lfsr;   // an XNOR LFSR: runs from all zeros
  always @(posedge clk) lfsr <= {lfsr[30:0], ~(lfsr[31] ^ lfsr[21] ^ lfsr[1] ^ lfsr[0] ^ rx)};
  reg [24:0] a [0:N-1], ar [0:N-1];
  reg [17:0] b [0:N-1], br [0:N-1];
  reg [42:0] p [0:N-1];
  integer i;
  always @(posedge clk) begin
    a[0] <= lfsr[24:0]; b[0] <= lfsr[31:14];
    for (i = 1; i < N; i = i + 1) begin a[i] <= a[i-1] ^ {b[i-1][6:0], b[i-1]}; b[i] <= b[i-1] ^ a[i-1][17:0]; end
    for (i = 0; i < N; i = i + 1) begin ar[i] <= a[i]; br[i] <= b[i]; p[i] <= $signed(ar[i]) * $signed(br[i]); end
  end
  reg [9:0] addr;
  always @(posedge clk) addr <= addr + 1;
  wire [35:0] q [0:R-1];
  genvar g;
  generate for (g = 0; g < R; g = g + 1) begin : m
    reg [35:0] mem [0:1023];
    reg [35:0] r;
    always @(posedge clk) begin if (rx) mem[addr ^ g] <= {lfsr, lfsr[3:0]} ^ g; r <= mem[addr]; end
    assign q[g] = r;
  end endgenerate
  reg [42:0] x;
  always @(*) begin
    x = 0;
    for (i = 0; i < N; i = i + 1) x = x ^ p[i];
    for (i = 0; i < R; i = i + 1) x = x ^ q[i];
  end
  always @(posedge clk) tx <= ^x;
endmodule
"""
BLOCKS_XDC = """set_property -dict { PACKAGE_PIN E3 IOSTANDARD LVCMOS33 } [get_ports clk]
set_property -dict { PACKAGE_PIN D10 IOSTANDARD LVCMOS33 } [get_ports tx]
set_property -dict { PACKAGE_PIN A9 IOSTANDARD LVCMOS33 } [get_ports rx]
"""


def skip_without_python(tc):
    """The pre-place scripts need nextpnr-xilinx's Python scripting; a build without it
    is refused by the runner (test above) and skips the tests that place for real."""
    why = nextpnr_xilinx.pre_place_missing(tc.nextpnr_xilinx.command)
    if why:
        pytest.skip(why)


@pytest.mark.openxc7
def test_nextpnr_places_blocks_in_the_named_columns(tmp_path):
    import _swap_helpers as SH

    tc = SH.synth_small_design(tmp_path, "blocks_top", BLOCKS_V, BLOCKS_XDC)
    part = SH.PART
    skip_without_python(tc)
    subprocess.run([sys.executable, str(TOOLS / "xc7prep.py"), "n.json", "prep.json"], cwd=tmp_path, check=True,
                   capture_output=True)
    for column in ("X0", "X1"):
        run = tmp_path / column
        run.mkdir()
        (run / "prep.json").write_bytes((tmp_path / "prep.json").read_bytes())
        (run / "board.xdc").write_text(BLOCKS_XDC)
        columns = [f"DSP48_{column}", f"RAMB18_{column}", f"RAMB36_{column}"]
        cp = subprocess.run([sys.executable, str(TOOLS / "nextpnr_xilinx.py"), "--seeds", "1", "--timeout", "900",
                             "--freq", "50", "--fasm", "top.fasm", "--routed", "top.routed.json",
                             "--hard-block-sites", ",".join(columns), "--",
                             *tc.nextpnr_xilinx.command, "--chipdb", str(tc.chipdb_file(part)),
                             "--xdc", "board.xdc", "--json", "prep.json"], cwd=run, capture_output=True, text=True)
        assert cp.returncode == 0, cp.stdout[-3000:] + cp.stderr[-2000:]
        [top] = json.loads((run / "top.routed.json").read_text())["modules"].values()
        cells = top["cells"]
        sites = {n: c["attributes"]["NEXTPNR_BEL"].split("/")[0] for n, c in cells.items()
                 if c["type"].startswith(("DSP48E1", "RAMB"))}
        assert sum(s.startswith("DSP48_") for s in sites.values()) == 8, sites
        assert any(s.startswith("RAMB") for s in sites.values()), sites
        assert all(s.split("Y")[0] in columns for s in sites.values()), sites
        summary = f"hard_block_sites: placed 4 RAMB36E1, 0 RAMB18E1, 8 DSP48E1 in {', '.join(sorted(columns))}"
        assert summary in cp.stdout, cp.stdout
