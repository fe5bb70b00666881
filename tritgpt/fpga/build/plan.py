"""The plan of a build: checked inputs, per-stage input hashes, what is stale.

A stage's hash covers everything its outputs depend on (RTL, weights, board, options,
tool versions, the flow's own code, and the hash of the stage before it). `.stamps.json`
in the build directory records the hash each finished stage was made with; a stage whose
hash changed is redone together with every stage after it.
"""

from __future__ import annotations

import dataclasses
import filecmp
import hashlib
import json
import shutil
from pathlib import Path

from .. import boards as boards_mod
from .. import toolchain as tc_mod
from ...errors import UserError
from ...paths import FLOWS_DIR

# stage (a make goal of the openxc7 flow) -> files it makes, in the work root
STAGE_OUTPUTS = {
    # bench.json (cycles/token of the core, measured after the bitstream) goes with the RTL
    "synth": ["tritgpt.json", "tritgpt.stat.json", "yosys.log", "bench.json"],
    # xc7prep belongs to place and route: it reads the part's tile grid (clock blockers);
    # the frames of the chosen seed are written by its fasm2frames check
    "pnr": ["tritgpt.fasm", "tritgpt.routed.json", "nextpnr.log", "nextpnr_report.json",
            "tritgpt.prep.json", "xc7prep.json"],
    "bitstream": ["tritgpt.frames", "tritgpt.bit", "verify.json"],
}
STAGE_ORDER = ("synth", "pnr", "bitstream")


@dataclasses.dataclass
class Inputs:
    """What a build starts from, checked before any tool runs."""
    board: boards_mod.Board
    weights: Path
    manifest: dict
    cfg: object  # tritgpt.ml.model.Config
    fit: dict
    tools: tc_mod.Toolchain
    utils: tc_mod.PrjxrayUtils  # bit2fasm for the verify stage


def check_inputs(req) -> Inputs:
    """Unknown boards, unreadable packages, models that do not fit and missing tools: one message."""
    from ...ml import export
    from ...ml.model import Config

    board = boards_mod.get_board(req.board, req.design_mhz, req.baud)
    weights = Path(req.weights)
    try:
        manifest = export.read_manifest(weights)
        cfg = Config.from_dict(manifest["config"])
    except export.WeightsError as exc:
        raise UserError(str(exc)) from None
    except (KeyError, TypeError, ValueError) as exc:
        raise UserError(f"{weights}/manifest.json: bad config: {exc}") from None
    fit = boards_mod.check_fit(board, cfg, manifest.get("layout", {}).get("lanes"))
    xdc_file = boards_mod.BOARDS_DIR / f"{board.name}.xdc"
    if not xdc_file.exists() or xdc_file.read_text() != board.xdc():
        raise UserError(f"{xdc_file} is missing or out of date with {board.path}; run `tritgpt boards --write`")
    if req.stop_after not in (None, "synth", "setup"):
        raise UserError(f"stop_after must be 'setup', 'synth' or None, not {req.stop_after!r}")
    _check_synth_deps()
    tools = tc_mod.discover()
    tools.require("all" if req.stop_after is None else "synth", board.part)
    if req.stop_after is None:
        tools.require_pre_place(board)
    utils = tc_mod.find_prjxray_utils(tools)
    if req.stop_after is None and req.verify and not utils.bit2fasm:
        raise UserError("bit2fasm (prjxray) not found: the verify stage reads the bitstream back with it. "
                        "Put it on PATH (or set BIT2FASM / PRJXRAY_BIN), or build with --no-verify")
    return Inputs(board, weights, manifest, cfg, fit, tools, utils)


def _check_synth_deps():
    missing = []
    for mod, pkg in (("fusesoc", "fusesoc"), ("edalize", "edalize")):
        try:
            __import__(mod)
        except ImportError:
            missing.append(pkg)
    if missing:
        raise UserError(f"{' and '.join(missing)} not installed: pip install fusesoc==2.4.7 edalize==0.6.8 "
                        "(tritgpt's synth extra)")


def copy_weights(weights: Path, wdir: Path) -> list[Path]:
    """The package into the build directory (changed files only); returns the package's files."""
    wdir.mkdir(exist_ok=True)
    files = sorted(p for p in weights.iterdir() if p.is_file())
    names = {p.name for p in files}
    for old in wdir.iterdir():
        if old.name not in names:
            old.unlink() if old.is_file() else shutil.rmtree(old)
    for p in files:
        dst = wdir / p.name
        if not dst.exists() or not filecmp.cmp(p, dst, shallow=False):
            shutil.copy2(p, dst)
    return files


# ----------------------------------------------------------------------------
# hashes
# ----------------------------------------------------------------------------


def sha_files(paths, root: Path | None = None) -> str:
    h = hashlib.sha256()
    for p in sorted(set(Path(x) for x in paths)):
        if p.is_file():
            name = str(p.relative_to(root)) if root and p.is_relative_to(root) else str(p)
            h.update(name.encode() + b"\0")
            h.update(hashlib.sha256(p.read_bytes()).digest())
    return h.hexdigest()


def sha_obj(obj) -> str:
    return hashlib.sha256(json.dumps(obj, sort_keys=True, default=str).encode()).hexdigest()


def tree(root: Path, patterns=("*",)) -> list[Path]:
    out = []
    if root.is_dir():
        for pat in patterns:
            out += [p for p in root.rglob(pat) if p.is_file() and "__pycache__" not in p.parts]
    return out


def flow_code(*names: str) -> list[Path]:
    """The flow's Python files of the given tools (flows/edalize/{flows,tools}/NAME.py)."""
    out = []
    for name in names:
        out += [p for p in (FLOWS_DIR / "edalize" / "flows" / f"{name}.py", FLOWS_DIR / "edalize" / "tools" / f"{name}.py")
                if p.exists()]
    return out


def stage_hashes(req, inputs: Inputs, work: Path, weights_files: list[Path], versions: dict,
                 chipdb: Path | None) -> dict[str, str]:
    """Hash of each stage's inputs; each includes the hash of the stage before it."""
    board = inputs.board
    synth_in = {
        # exactly the sources FuseSoC exported for this target, the synthesis script
        # (parameters, defines) and the flow's own code
        "rtl": sha_files([p for p in tree(work / "src") + tree(work / "rtl") if p.suffix != ".xdc"]
                         + [work / "tritgpt.ys"], work),
        "flow": sha_files(flow_code("openxc7", "yosys_ys"), FLOWS_DIR),
        "weights": sha_files(weights_files, inputs.weights),
        # not the part: synthesis does not depend on it (boards with the same clock share it)
        "board": {"clk_hz": board.clk_hz, "clk_div": board.clk_div, "baud": req.baud or board.baud},
        "yosys": versions.get("yosys"),
        "fixture": req.fixture,
    }
    pnr_in = {
        "synth": sha_obj(synth_in),
        "xdc": board.xdc(),
        "nextpnr": [versions.get("nextpnr-xilinx"), versions.get("nextpnr-xilinx-file")],
        "flow": sha_files(flow_code("xc7prep", "nextpnr_xilinx"), FLOWS_DIR),
        "prjxray-db": versions.get("prjxray-db"),  # xc7prep reads its tile grid
        "seeds": list(req.seeds), "policy": req.seed_policy, "freq": board.design_mhz,
        "allow_timing_fail": req.allow_timing_fail,
    }
    if board.router:   # [pnr] router (only when set, so boards without it keep their hashes)
        pnr_in["router"] = board.router
    if board.hard_block_sites:   # [pnr] hard_block_sites, likewise
        pnr_in["hard_block_sites"] = list(board.hard_block_sites)
    if board.slice_range:   # [pnr] slice_range, likewise
        pnr_in["slice_range"] = board.slice_range
    if chipdb:
        st = chipdb.stat()
        pnr_in["chipdb"] = [chipdb.name, st.st_size, st.st_mtime_ns]
    bit_in = {"pnr": sha_obj(pnr_in), "prjxray": [versions.get("fasm2frames"), versions.get("xc7frames2bit"),
                                                 versions.get("prjxray-db")],
              "flow": sha_files(flow_code("fasm2frames", "xc7frames2bit"), FLOWS_DIR)}
    return {"synth": sha_obj(synth_in), "pnr": sha_obj(pnr_in), "bitstream": sha_obj(bit_in)}


def input_hash(req, inputs: Inputs, hashes: dict[str, str]) -> str:
    """The whole build's: its stages, where it stops, and what the verify stage checks with."""
    verify = None
    if req.verify and req.stop_after is None:
        verify = [sha_files([Path(__file__).with_name("verify.py")]),
                  tc_mod._file_identity(inputs.utils.bit2fasm) if inputs.utils.bit2fasm else None]
        if req.postroute_sim:   # only when asked, so other builds keep their hashes
            verify.append("postroute-sim")
    return sha_obj([hashes, req.stop_after, verify])


# ----------------------------------------------------------------------------
# what is stale
# ----------------------------------------------------------------------------


class Stamps:
    """.stamps.json: the input hash each finished stage was made with."""

    def __init__(self, work: Path, force: bool = False):
        self.path = work / ".stamps.json"
        self.data: dict[str, str] = {}
        if self.path.exists() and not force:
            try:
                self.data = json.loads(self.path.read_text())
            except json.JSONDecodeError:
                self.data = {}

    def current(self, goal: str, want: str) -> bool:
        return self.data.get(goal) == want

    def mark(self, goal: str, value: str) -> None:
        self.data[goal] = value
        self.save()

    def save(self) -> None:
        self.path.write_text(json.dumps(self.data, indent=2) + "\n")

    def invalidate(self, work: Path, hashes: dict[str, str], stages) -> list[str]:
        """Delete the outputs of stages whose inputs changed, and of every stage after them."""
        stale_stages = []
        for stage in stages:
            if stale_stages or self.data.get(stage) != hashes[stage]:
                stale_stages.append(stage)
                for name in STAGE_OUTPUTS[stage]:
                    (work / name).unlink(missing_ok=True)
                if stage == "pnr":
                    for extra in work.glob("tritgpt.seed*"):
                        extra.unlink()
                self.data.pop(stage, None)
        self.save()
        return stale_stages


def adopt_promoted(work: Path, stamps: Stamps, hashes: dict[str, str], req) -> dict | None:
    """A place-and-route result that `tritgpt sweep` promoted into this directory, taken
    as this build's place and route (and its bitstream, if that is the one the sweep
    wrote) so the build goes on to the verify stage without placing and routing again.

    The sweep synthesises through this directory's own synth stage and places its
    xc7prep output, then installs the best seed's FASM and routed netlist with a
    nextpnr_report.json of policy "sweep"; it leaves no place-and-route stamp. Taken
    once: only if the synthesis it placed is current (its stamp and file order), every
    place-and-route output is there, and its timing is met (or --allow-timing-fail).
    The stamps then hold this build's hashes, so a later build with other seeds or
    tools places and routes again; --force never adopts. Returns what was taken."""
    if req.force or req.stop_after is not None:
        return None
    pnr = _read_json(work / "nextpnr_report.json")
    if not pnr or pnr.get("policy") != "sweep" or not pnr.get("installed") or pnr.get("adopted"):
        return None
    if not (pnr.get("timing_met") or req.allow_timing_fail):
        return None
    if not stamps.current("synth", hashes["synth"]):
        return None
    files = [work / n for n in STAGE_OUTPUTS["pnr"]]
    if not all(f.exists() for f in files + [work / "tritgpt.json"]):
        return None
    # placed from this synthesis: xc7prep after yosys, nextpnr's outputs after xc7prep
    t_synth, t_prep = (work / "tritgpt.json").stat().st_mtime_ns, (work / "tritgpt.prep.json").stat().st_mtime_ns
    if not t_synth <= t_prep <= min((work / n).stat().st_mtime_ns for n in ("tritgpt.fasm", "tritgpt.routed.json")):
        return None
    stamps.mark("pnr", hashes["pnr"])
    old = _read_json(work / "report.json") or {}
    bit, frames = work / "tritgpt.bit", work / "tritgpt.frames"
    with_bitstream = (bit.exists() and frames.exists()
                      and tc_mod.sha256_file(bit) == old.get("bitstream", {}).get("sha256"))
    if with_bitstream:
        stamps.mark("bitstream", hashes["bitstream"])
    else:
        stamps.data.pop("bitstream", None)
        stamps.save()
    pnr["adopted"] = True
    (work / "nextpnr_report.json").write_text(json.dumps(pnr, indent=2) + "\n")
    return {"task": pnr.get("sweep_task"), "seed": pnr.get("chosen_seed"), "fmax_mhz": pnr.get("fmax_min_mhz"),
            "options": (old.get("sweep") or {}).get("options"), "bitstream": "the sweep's" if with_bitstream
            else "made again from the FASM"}


def _read_json(path: Path):
    try:
        return json.loads(path.read_text())
    except (OSError, json.JSONDecodeError):
        return None


def finished_report(work: Path, input_hash: str, stop_after: str | None, force: bool) -> dict | None:
    """The report of a finished build with these very inputs (and its bitstream intact), if any."""
    report_path = work / "report.json"
    if force or not report_path.exists():
        return None
    try:
        old = json.loads(report_path.read_text())
    except json.JSONDecodeError:
        return None
    bit = work / "tritgpt.bit"
    done_ok = old.get("status") in ("ok", "synth-only", "timing-failed-allowed")
    if old.get("input_hash") != input_hash or not done_ok:
        return None
    if stop_after != "synth" and not (bit.exists() and tc_mod.sha256_file(bit) == old.get("bitstream", {}).get("sha256")):
        return None
    return old


def time_limits(req) -> dict[str, float]:
    """Seconds each stage may take before it is stopped (a build says so rather than running for hours).

    --timeout bounds one nextpnr-xilinx run; place and route may run one per seed."""
    per_run = max(float(req.timeout), 60.0)
    return {"setup": 600.0, "synth": max(per_run, 1800.0), "pnr": per_run * len(req.seeds) + 900.0,
            "frames": max(per_run, 1800.0), "bitstream": max(per_run, 1800.0), "verify": max(per_run, 1800.0)}
