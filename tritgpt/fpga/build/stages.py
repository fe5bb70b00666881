"""Running the build's stages: one make goal of the openxc7 flow each, logged and timed.

    setup      FuseSoC: export the sources, write the flow's Makefile
    synth      make synth      yosys synth_xilinx
    prep       make pnr        xc7prep (the part's clock blockers)           } split by
    place                      nextpnr-xilinx: pack and place               } the nextpnr
    route                      nextpnr-xilinx: route                        } watcher
    frames                     fasm2frames (the runner's check of each seed) }
               make frames     fasm2frames (nothing left to do when the check ran)
    bitstream  make bitstream  xc7frames2bit
    verify     (tritgpt.fpga.build.verify)

Each stage runs under a time limit (plan.time_limits); one that passes it is stopped,
with its process group, and the build fails saying so. Each tool's time is counted
under its own stage, also when one make goal runs several tools.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import threading
import time
from pathlib import Path

from rich.console import Console

from ...errors import UserError
from .plan import STAGE_OUTPUTS, Stamps


class Ui:
    """Per-stage progress with a live elapsed time (rich), one line per finished stage."""

    def __init__(self, console: Console):
        self.console = console
        self.progress = None
        self.task = None
        self.t0 = None
        self.label = ""

    def start(self, label: str):
        self.t0 = time.monotonic()
        self.label = label
        if self.console.is_terminal:
            from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

            self.progress = Progress(SpinnerColumn(), TextColumn("[bold]{task.fields[label]:<10}[/]"),
                                     TimeElapsedColumn(), TextColumn("[dim]{task.description}[/]"),
                                     console=self.console, transient=True)
            self.progress.start()
            self.task = self.progress.add_task("", label=label)
        else:
            self.console.print(f"  {label} ...", highlight=False)

    def update(self, text: str):
        if self.progress is not None:
            self.progress.update(self.task, description=text.replace("[", "(").replace("]", ")")[-70:])

    def done(self, ok: bool = True, note: str = "") -> float:
        el = time.monotonic() - self.t0
        if self.progress is not None:
            self.progress.stop()
            self.progress = None
        mark = "[green]✓[/]" if ok else "[red]✗[/]"
        self.console.print(f"  {mark} {self.label:<10} {el:8.1f} s  {note}", highlight=False)
        return el

    def unchanged(self, label: str, why: str = "unchanged"):
        self.console.print(f"  [dim]=[/] {label:<10} {'':>8}    {why}", highlight=False)


class StageTimeout(Exception):
    pass


def run_logged(cmd, cwd: Path, env: dict, log: Path, on_line=None, time_limit: float | None = None) -> int:
    """Run cmd, its output into `log` (and line by line to on_line); the exit status.

    Past `time_limit` seconds its whole process group is killed and StageTimeout raised."""
    log.parent.mkdir(parents=True, exist_ok=True)
    with open(log, "w") as f:
        f.write("$ " + " ".join(cmd) + "\n")
        f.flush()
        proc = subprocess.Popen(cmd, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                text=True, errors="replace", bufsize=1, start_new_session=True)
        expired = threading.Event()

        def stop():
            expired.set()
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass

        timer = threading.Timer(time_limit, stop) if time_limit else None
        if timer:
            timer.daemon = True
            timer.start()
        try:
            for line in proc.stdout:
                f.write(line)
                f.flush()
                if on_line:
                    on_line(line.rstrip("\n"))
            rc = proc.wait()
        except BaseException:
            # Ctrl-C or SIGTERM (the CLI turns it into KeyboardInterrupt): the tool is in its own
            # session, so nothing else stops it, and `make` would leave yosys or nextpnr running
            # on after us. Stop the whole group, then let the interrupt go on.
            _stop_group(proc)
            f.write("\n(interrupted: the tool was stopped)\n")
            raise
        finally:
            if timer:
                timer.cancel()
        if expired.is_set():
            f.write(f"\n(stopped after its time limit of {time_limit:.0f} s)\n")
            raise StageTimeout()
        return rc


def _stop_group(proc: subprocess.Popen, grace: float = 5.0) -> None:
    """SIGTERM to the process group proc leads, SIGKILL to what is left after `grace` seconds."""
    for sig, wait in ((signal.SIGTERM, grace), (signal.SIGKILL, grace)):
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            return
        try:
            proc.wait(timeout=wait)
        except subprocess.TimeoutExpired:
            continue
        try:   # the leader is gone; its children may not be (make's recipe, yosys under it)
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        return


def _tail(path: Path, n: int = 15) -> str:
    if not path.exists():
        return ""
    lines = path.read_text(errors="replace").splitlines()
    return "\n".join(lines[-n:])


def _error_lines(path: Path, n: int = 8) -> str:
    if not path.exists():
        return ""
    lines = [x for x in path.read_text(errors="replace").splitlines() if "ERROR" in x]
    return "\n".join(lines[:n])


def stage_failure(stage: str, work: Path, logs: list[Path]) -> UserError:
    """'STAGE failed; logs: ...' with the first ERROR lines (or the last lines) of its logs."""
    detail = ""
    for log in logs:
        detail = _error_lines(log) or detail
        if detail:
            break
    if not detail and logs:
        detail = _tail(logs[-1])
    where = ", ".join(str(p.relative_to(work.parent) if p.is_relative_to(work.parent) else p) for p in logs if p.exists())
    return UserError(f"{stage} failed; logs: {where}\n{detail}".rstrip())


def rejected_tiles(work: Path, pnr_report: dict | None) -> str:
    """'TILE (seeds 1, 3), ...' for seeds whose FASM the check refused for missing database features."""
    tiles: dict[str, list[int]] = {}
    for run in (pnr_report or {}).get("runs", []):
        if run.get("status") != "rejected" or not run.get("check_log"):
            continue
        try:
            text = (work / run["check_log"]).read_text(errors="replace")
        except OSError:
            continue
        for tile in sorted(set(re.findall(r"not found from line '([A-Za-z0-9_]+)\.", text))):
            tiles.setdefault(tile, []).append(run["seed"])
    return ", ".join(f"{t} (seed{'s' if len(v) > 1 else ''} {', '.join(map(str, v))})" for t, v in tiles.items())


class PnrWatcher:
    """Splits `make pnr` into its tools by the runner's `nextpnr_xilinx: seed N: ...` lines.

    prep (xc7prep) until the first seed starts; place from `start`; route from `route`;
    frames (the fasm2frames check) from `check`, back to place at the next seed's
    `start`. Each tool's time is summed over the seeds tried."""

    PREFIX = "nextpnr_xilinx: "

    def __init__(self, console: Console):
        self.console = console
        self.ui = Ui(console)
        self.seconds: dict[str, float] = {}
        self.why = None

    def start(self):
        self._switch("prep")

    def _switch(self, label: str, note: str = ""):
        if self.ui.t0 is not None:
            el = self.ui.done(True, note)
            self.seconds[self.ui.label] = self.seconds.get(self.ui.label, 0.0) + el
        self.ui = Ui(self.console)
        self.ui.start(label)

    def on_line(self, line: str):
        if not line.startswith(self.PREFIX):
            self.ui.update(line[-60:])
            return
        msg = line[len(self.PREFIX):]
        self.ui.update(msg)
        label = self.ui.label
        if msg.endswith(": start") and label != "place":
            note = ""
            if label in ("route", "frames"):
                note = self.why or "(seed did not meet timing; next seed)"
                self.why = None
            self._switch("place", note)
        elif msg.endswith(": route") and label == "place":
            self._switch("route", msg.split(":")[0])  # the place stage ends where routing starts
        elif msg.endswith(": check") and label != "frames":
            self._switch("frames", msg.split(":")[0])
        elif ": rejected" in msg:
            self.why = "(" + msg.split(",")[0] + ": its FASM has features prjxray-db lacks; next seed)"

    def finish(self, ok: bool, note: str = "") -> dict[str, float]:
        el = self.ui.done(ok, note)
        self.seconds[self.ui.label] = self.seconds.get(self.ui.label, 0.0) + el
        return self.seconds


class StageRunner:
    """Runs the flow's make goals in the build directory, skipping those whose inputs are unchanged."""

    def __init__(self, *, work: Path, env: dict, make: list[str], make_args: list[str], console: Console,
                 stamps: Stamps, hashes: dict[str, str], limits: dict[str, float], force: bool, board_name: str):
        self.work, self.env, self.make, self.make_args = work, env, make, make_args
        self.console, self.stamps, self.hashes, self.limits = console, stamps, hashes, limits
        self.force, self.board_name = force, board_name
        self.logs = work / "logs"
        self.seconds: dict[str, float] = {}

    def up_to_date(self, goal: str) -> bool:
        return self.stamps.current(goal, self.hashes[goal]) and (self.work / STAGE_OUTPUTS[goal][0]).exists()

    def make_goal(self, goal: str, label: str, log_name: str, tool_logs: list[str] = (), on_line=None,
                  limit_key: str | None = None) -> float:
        """`make GOAL`, shown as `label`; its time. A failure raises UserError naming the logs."""
        ui = Ui(self.console)
        ui.start(label)
        limit = self.limits.get(limit_key or label)
        try:
            rc = run_logged(self.make + [goal] + self.make_args, self.work, self.env, self.logs / log_name,
                            on_line=on_line or (lambda line: ui.update(line[-60:])), time_limit=limit)
        except StageTimeout:
            ui.done(False, "time limit")
            raise UserError(f"{label} did not finish within its time limit of {limit:.0f} s and was stopped "
                            f"(log: {self.logs / log_name}); raise --timeout to allow more") from None
        except KeyboardInterrupt:
            ui.done(False, f"interrupted (log: {self.logs / log_name})")
            raise
        if rc != 0:
            ui.done(False)
            raise stage_failure(label, self.work, [self.logs / log_name] + [self.work / t for t in tool_logs])
        return ui.done(True)

    def synth(self) -> None:
        """yosys, or the same design's synthesis from the cache another board's build left."""
        if self.up_to_date("synth"):
            Ui(self.console).unchanged("synth")
            self.seconds["synth"] = 0.0
            return
        cache = self.work.parent / ".synth-cache" / self.hashes["synth"][:32]
        if (cache / "done").exists() and not self.force:
            for name in STAGE_OUTPUTS["synth"]:  # in make's dependency order, with fresh mtimes
                if (cache / name).exists():
                    shutil.copyfile(cache / name, self.work / name)
            Ui(self.console).unchanged("synth", f"same design as {(cache / 'done').read_text().strip()}: reused")
            self.seconds["synth"] = 0.0
        else:
            self.seconds["synth"] = self.make_goal("synth", "synth", "synth.log", ["yosys.log"])
            store_synth(cache, self.work, self.board_name)
        self.stamps.mark("synth", self.hashes["synth"])

    def pnr(self) -> None:
        """xc7prep and nextpnr-xilinx over the seeds (with the fasm2frames check), split by tool."""
        if self.up_to_date("pnr"):
            for label in ("prep", "place", "route"):
                Ui(self.console).unchanged(label)
            return
        watcher = PnrWatcher(self.console)
        watcher.start()
        log = self.logs / "pnr.log"
        limit = self.limits["pnr"]
        t0 = time.monotonic()
        try:
            rc = run_logged(self.make + ["pnr"] + self.make_args, self.work, self.env, log,
                            on_line=watcher.on_line, time_limit=limit)
        except StageTimeout:
            watcher.finish(False)
            raise UserError(f"place and route did not finish within its time limit of {limit:.0f} s "
                            f"(--timeout per seed, {len(self._seeds())} seeds) and was stopped; log: {log}") from None
        except KeyboardInterrupt:
            watcher.finish(False, f"interrupted (log: {log})")
            raise
        secs = watcher.finish(rc == 0)
        for label, el in secs.items():
            self.seconds[label] = self.seconds.get(label, 0.0) + el
        self.seconds["pnr_total"] = time.monotonic() - t0
        if rc != 0:
            raise PnrFailed()
        self.stamps.mark("pnr", self.hashes["pnr"])

    def _seeds(self) -> list[str]:
        return [a for a in self.make_args if a.startswith("SEEDS=")]

    def bitstream(self) -> None:
        """fasm2frames (when the seed check did not leave the frames) and xc7frames2bit."""
        if self.up_to_date("bitstream"):
            for label in ("frames", "bitstream"):
                Ui(self.console).unchanged(label)
            self.seconds.setdefault("frames", 0.0)
            self.seconds["bitstream"] = 0.0
            return
        el = self.make_goal("frames", "frames", "frames.log")
        self.seconds["frames"] = self.seconds.get("frames", 0.0) + el
        self.seconds["bitstream"] = self.make_goal("bitstream", "bitstream", "bitstream.log")
        self.stamps.mark("bitstream", self.hashes["bitstream"])


class PnrFailed(Exception):
    """`make pnr` failed; the caller reads nextpnr_report.json to say why."""


def store_synth(cache: Path, work: Path, board_name: str, keep: int = 6) -> None:
    """Keep a synthesis result for other boards with the same design (build/.synth-cache)."""
    tmp = cache.with_name(cache.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    for name in STAGE_OUTPUTS["synth"]:
        if (work / name).exists():
            shutil.copy2(work / name, tmp / name)
    (tmp / "done").write_text(f"{board_name} ({work})\n")
    shutil.rmtree(cache, ignore_errors=True)
    tmp.rename(cache)
    entries = sorted((d for d in cache.parent.iterdir() if (d / "done").exists()),
                     key=lambda d: (d / "done").stat().st_mtime, reverse=True)
    for old in entries[keep:]:
        shutil.rmtree(old, ignore_errors=True)


def read_json(path: Path):
    try:
        return json.loads(path.read_text())
    except (OSError, json.JSONDecodeError):
        return None
