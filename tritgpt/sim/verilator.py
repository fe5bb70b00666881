"""Verilator model of the RTL core: cached build, simulation runs, bit-exact checks.

    exe = build(cfg)                              # cached by RTL sources + model dimensions
    tokens, cycles, dumps = run_core("weights/default", encode("ROMEO:"), 20, tinv=0, seed=1)

A build (tritgpt.sim.verilate) is keyed by a hash of every RTL source (the list
comes from the FuseSoC core), ROM table, the C++ testbench, the model dimensions
and the build options, and kept in build/verilator/ (or $TRITGPT_BUILD_DIR), so
only the first run after an RTL change pays for Verilator.
Weights are not compiled in: each run loads the package's images through the
core's write port, so every package of the same configuration shares one build.

Dumps (with dump=True) are the intermediate vectors of every token step, named as
in model.KVCache.step ("x_emb", "0.q", ..., "hf", "logits"); compare() checks them
and the tokens against the integer reference and names the first difference.
"""

from __future__ import annotations

import dataclasses
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from .. import hdl
from ..errors import UserError
from ..link.protocol import Mem
from ..ml import export
from ..ml.model import Config, IntParams, KVCache, sample, seed_state
from ..paths import RTL_DIR
from .verilate import VerilatorModel

TESTBENCH = RTL_DIR / "sim" / "tb_core.cpp"


def rtl_files() -> list[Path]:
    """The core's Verilog sources (from its FuseSoC core, tritgpt:core:ternary_gpt)."""
    return hdl.rtl_sources(hdl.CORE_VLNV)


def table_files() -> list[tuple[Path, str]]:
    """The core's ROM images and where it reads them (rtl/tables/NAME: its TABLES_DIR)."""
    return list(hdl.core_files(hdl.CORE_VLNV).user)


def _config_header(cfg: Config) -> str:
    """tritgpt_config.vh without the model hash: all the RTL needs from a package."""
    lay = export.layout(cfg)
    p = IntParams.random(cfg, 0)
    text = export.verilog_header(p)
    return "".join(line + "\n" for line in text.splitlines() if "TG_MODEL_HASH" not in line) + \
        f"// layout {lay['depth']}\n"


def model(cfg: Config, *, dump: bool = True, trace: bool = False) -> VerilatorModel:
    """The Verilator model of tritgpt_core for a configuration (weights are loaded at run time)."""
    options = ["-O3", "--x-assign", "fast", "--x-initial", "fast", "--noassert"]
    if dump:
        options += ["-DTRITGPT_DUMP", "-DTRITGPT_ASSERT"]
    if trace:
        options += ["--trace-fst", "--trace-structs"]
    return VerilatorModel(
        f"tb_core-{cfg.name}", top="tritgpt_core", sources=[*rtl_files(), TESTBENCH],
        include_dirs=["{build}/include"],
        # $readmemh images for time 0 (paths are compiled in); runs load the real weights
        parameters={"WEIGHTS_DIR": '"{out}/init/"', "TABLES_DIR": '"{out}/tables/"'},
        options=options, make_flags={"OPT_FAST": "-O1"},
        key_files=[f for f, _ in table_files()], key_text=_config_header(cfg))


def build(cfg: Config, *, dump: bool = True, trace: bool = False, jobs: int = 2, quiet: bool = True) -> Path:
    """Build (or reuse) the Verilator model for a configuration; returns the executable."""
    def prepare(d: Path) -> None:
        (d / "include").mkdir()
        (d / "include" / "tritgpt_config.vh").write_text(_config_header(cfg))
        export.write_package(IntParams.random(cfg, 0), d / "init")
        (d / "tables").mkdir()
        for f, _ in table_files():
            shutil.copy(f, d / "tables" / f.name)

    log = None if quiet else (lambda m: print(m, file=sys.stderr))
    return model(cfg, dump=dump, trace=trace).build(prepare=prepare, jobs=jobs, log=log)


# ----------------------------------------------------------------------------
# running
# ----------------------------------------------------------------------------


@dataclasses.dataclass
class RunResult:
    tokens: list[int]
    cycles_at: list[int]          # cycle_count at each delivered token
    total_cycles: int
    steps: list[dict]             # per token step: {"pos", "token", "vectors": {name: array}, "out"}
    wall_s: float

    @property
    def cycles_per_token(self) -> list[int]:
        prev, out = 0, []
        for c in self.cycles_at:
            out.append(c - prev)
            prev = c
        return out


class CoreSim:
    """A running Verilator model of tritgpt_core (one process, many runs)."""

    def __init__(self, cfg: Config, *, dump: bool = False, trace: Path | None = None,
                 maxcycles: int = 50_000_000, capture: bool | None = None):
        """dump: build with intermediate-vector dumps; capture: write them (default: dump)."""
        self.cfg = cfg
        self.exe = build(cfg, dump=dump, trace=trace is not None)
        self.dump_path = None
        args = [str(self.exe), f"+maxcycles={maxcycles}"]
        if dump if capture is None else capture:
            fd, name = tempfile.mkstemp(prefix="tritgpt-dump-", suffix=".txt")
            os.close(fd)
            self.dump_path = Path(name)
            args.append(f"+dump={name}")
            self._dump_pos = 0
        if trace is not None:
            args.append(f"+trace={trace}")
        self.proc = subprocess.Popen(args, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, bufsize=1)
        self.loaded: str | None = None

    def _cmd(self, line: str) -> list[str]:
        """Send one command; return its reply lines (up to ok/done/hash/error)."""
        assert self.proc.stdin and self.proc.stdout
        self.proc.stdin.write(line + "\n")
        self.proc.stdin.flush()
        out = []
        while True:
            reply = self.proc.stdout.readline()
            if not reply:
                raise RuntimeError(f"simulator exited (code {self.proc.poll()}) after: {line[:80]}")
            reply = reply.strip()
            out.append(reply)
            if reply.split(" ", 1)[0] in ("ok", "done", "hash", "error"):
                if reply.startswith("error"):
                    raise RuntimeError(f"simulator: {reply}")
                return out

    def load(self, weights_dir: Path) -> None:
        """Write every image of a weights package through the core's write port."""
        weights_dir = Path(weights_dir).resolve()
        mf = export.read_manifest(weights_dir)
        if Config.from_dict(mf["config"]) != self.cfg:
            raise UserError(f"{weights_dir} is a '{mf['config']['name']}' package; this model is built "
                            f"for '{self.cfg.name}'")
        for b in range(mf["layout"]["banks"]):
            self._cmd(f"wr {b} {weights_dir / f'wt_bank{b:02d}.hex'}")
        for mem in Mem:
            self._cmd(f"wr {int(mem)} {weights_dir / f'{mem.name.lower()}.hex'}")
        self.loaded = str(weights_dir)

    def model_hash(self) -> str:
        return self._cmd("hash")[-1].split()[1]

    def run(self, prompt: list[int], n: int, tinv: int = 0, seed: int = 1, *,
            stop_after: int = -1, ready_seed: int = 0) -> RunResult:
        t0 = time.time()
        prompt = [int(t) for t in prompt]
        lines = self._cmd(f"run {n} {tinv} {seed & 0xFFFFFFFF} {stop_after} {ready_seed} {len(prompt)} "
                          + " ".join(map(str, prompt)))
        tokens, cyc = [], []
        for ln in lines:
            f = ln.split()
            if f[0] == "ASSERT":
                raise RuntimeError(f"simulation assertion: {ln}")
            if f[0] == "tok":
                tokens.append(int(f[1]))
                cyc.append(int(f[2]))
            elif f[0] == "done":
                total = int(f[1])
        steps = self._read_dump() if self.dump_path else []
        return RunResult(tokens, cyc, total, steps, time.time() - t0)

    def _read_dump(self) -> list[dict]:
        with open(self.dump_path) as fh:
            fh.seek(self._dump_pos)
            text = fh.read()
            self._dump_pos = fh.tell()
        return parse_dump(text)

    def close(self) -> None:
        if self.proc.poll() is None:
            try:
                self.proc.stdin.write("quit\n")
                self.proc.stdin.flush()
                self.proc.wait(timeout=10)
            except (BrokenPipeError, subprocess.TimeoutExpired):
                self.proc.kill()
        if self.dump_path and self.dump_path.exists():
            self.dump_path.unlink()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


BENCH_PROMPT = "\n"


BENCH_SHORT = 128  # the short run: the context's worth of tokens


def bench_core(weights_dir: Path, n: int = 1000, *, params: IntParams | None = None) -> dict:
    """Cycles/token of the core on a weights package: n greedy tokens from a 1-token
    prompt, checked against the reference model (`tritgpt bench --sim`, and the build's
    tokens/s estimate).

    Three figures, each named by its run: the first token, the average over the first
    128 tokens and the sustained average over all n (the stream passes the context and
    keeps going on the ring-buffer KV cache). `cycles_per_token` is the sustained one."""
    from ..ml.model import encode, generate

    p = params if params is not None else export.load_package(Path(weights_dir))
    sim = CoreSim(p.cfg, dump=True, capture=False)
    try:
        sim.load(weights_dir)
        t0 = time.time()
        r = sim.run(encode(BENCH_PROMPT), n)
        wall = time.time() - t0
    finally:
        sim.close()
    cyc = r.cycles_per_token
    short = cyc[:BENCH_SHORT]
    return {
        "config": p.cfg.name,
        "model_hash": p.digest(),
        "rtl_sha256": hdl.rtl_digest(),     # cycles/token belong to this RTL
        "weights": str(weights_dir),
        "tokens": n,
        "first_token_cycles": cyc[0],
        f"cycles_per_token_first_{len(short)}": sum(short) / len(short),
        f"cycles_per_token_sustained_{n}": sum(cyc) / len(cyc),
        "cycles_per_token": sum(cyc) / len(cyc),
        "last_token_cycles": cyc[-1],
        "total_cycles": r.cycles_at[-1],
        "tokens_per_second_at_100mhz": 100e6 * len(cyc) / r.cycles_at[-1],
        "sim_tokens_per_second": len(cyc) / wall if wall > 0 else 0.0,
        "sim_cycles_per_second": r.cycles_at[-1] / wall if wall > 0 else 0.0,
        "matches_reference": r.tokens == generate(p, encode(BENCH_PROMPT), n),
    }


def parse_dump(text: str) -> list[dict]:
    steps: list[dict] = []
    cur = None
    for line in text.splitlines():
        f = line.split()
        if not f:
            continue
        if f[0] == "step":
            cur = {"pos": int(f[1]), "token": int(f[2]), "elems": {}, "out": None}
            steps.append(cur)
        elif f[0] == "tok":
            if cur is not None:
                cur["out"] = int(f[1])
        elif cur is not None and len(f) == 4:
            name, layer, idx, val = f[0], int(f[1]), int(f[2]), int(f[3])
            key = name if layer < 0 else f"{layer}.{name}"
            cur["elems"].setdefault(key, {})[idx] = val
    for s in steps:
        vecs = {}
        for key, d in s.pop("elems").items():
            arr = np.full(max(d) + 1, np.iinfo(np.int64).min, np.int64)
            for i, v in d.items():
                arr[i] = v
            vecs[key] = arr
        s["vectors"] = vecs
    return steps


def run_core(weights_dir, prompt_tokens, n: int, tinv: int = 0, seed: int = 1, trace=None, *,
             dump: bool = False):
    """Generate n tokens on the Verilator model: (tokens, cycles_per_token, dumps)."""
    weights_dir = Path(weights_dir)
    cfg = Config.from_dict(export.read_manifest(weights_dir)["config"])
    with CoreSim(cfg, dump=dump, trace=Path(trace) if trace else None) as sim:
        sim.load(weights_dir)
        r = sim.run(list(prompt_tokens), n, tinv, seed)
    return r.tokens, r.cycles_per_token, r.steps


# ----------------------------------------------------------------------------
# the reference, step by step
# ----------------------------------------------------------------------------


def reference_trace(p: IntParams, prompt: list[int], n: int, tinv: int = 0, seed: int = 1):
    """model.generate, recording every KVCache.step: (tokens, steps) like a dump.

    A step's "pos" is its KV ring slot (step number % context), as the core dumps it.
    """
    c = p.cfg
    todo = list(prompt)[-c.context:] or [ord("\n")]
    cache = KVCache(p)
    state = seed_state(seed)
    out: list[int] = []
    steps: list[dict] = []
    while len(out) < n:
        for i, t in enumerate(todo):
            d: dict = {}
            slot = cache.length % c.context
            logits = cache.step(t, dump=d)
            steps.append({"pos": slot, "token": t, "vectors": d, "out": None, "final": i == len(todo) - 1})
        tok, state = sample(logits, tinv, state)
        steps[-1]["out"] = tok
        out.append(tok)
        todo = [tok]
    return out, steps


FINAL_ONLY = ("hf", "logits")


def compare(ref_tokens, ref_steps, rtl: RunResult, *, tokens_only: bool = False) -> str | None:
    """None if the RTL run equals the reference bit for bit, else the first difference.

    Every intermediate vector is compared, so the run must have been dumped
    (CoreSim(dump=True)); an empty dump is a difference, not a reason to compare
    less. tokens_only=True compares the tokens alone, for runs made without a dump
    on purpose.
    """
    if tokens_only:
        ref_steps = []
    elif ref_steps and not rtl.steps:
        return ("the RTL run has no dump of intermediate vectors (CoreSim(dump=False), or the dump was lost); "
                "run with dump=True, or compare(..., tokens_only=True) for a tokens-only check")
    for i, (rs, hs) in enumerate(zip(ref_steps, rtl.steps)):
        where = f"step {i} (position {rs['pos']}, input token {rs['token']})"
        if (rs["pos"], rs["token"]) != (hs["pos"], hs["token"]):
            return f"{where}: RTL stepped position {hs['pos']} token {hs['token']}"
        for name, ref in rs["vectors"].items():
            if name in FINAL_ONLY and not rs["final"]:
                continue   # prefill steps skip the final norm and LM head
            got = hs["vectors"].get(name)
            ref = np.asarray(ref).reshape(-1)
            if got is None:
                return f"{where}: RTL produced no {name}"
            if got.shape != ref.shape or (got != ref).any():
                if got.shape != ref.shape:
                    return f"{where}: {name} has {got.size} elements in the RTL, {ref.size} in the reference"
                e = int(np.argmax(got != ref))
                return (f"{where}: {name}[{e}] = {int(got[e])} in the RTL, {int(ref[e])} in the reference "
                        f"(first of {int((got != ref).sum())} differences)")
        if rs["out"] is not None and rs["out"] != hs["out"]:
            return f"{where}: RTL sampled token {hs['out']}, reference {rs['out']}"
    if not tokens_only and len(rtl.steps) != len(ref_steps):
        return f"RTL ran {len(rtl.steps)} token steps, reference {len(ref_steps)}"
    if list(rtl.tokens) != list(ref_tokens):
        k = next((i for i, (a, b) in enumerate(zip(rtl.tokens, ref_tokens)) if a != b),
                 min(len(rtl.tokens), len(ref_tokens)))
        return f"token {k}: RTL {rtl.tokens[k:k+1]}, reference {list(ref_tokens)[k:k+1]} " \
               f"({len(rtl.tokens)} vs {len(ref_tokens)} tokens)"
    return None


if __name__ == "__main__":  # pragma: no cover - developer helper: build for a config
    cfg = Config.load(sys.argv[1] if len(sys.argv) > 1 else "tiny")
    print(build(cfg, quiet=False))
