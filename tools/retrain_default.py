#!/usr/bin/env python3
"""How weights/default (format 2, ALiBi, context 32) was trained: a warm start.

The format-1 default model (learned position table, context 128; 2,000 float + 150
hardware-mode steps, 32 min) is read from git history, its position table dropped
and ALiBi slopes set; train.warm_start turns it into a float model. Then:

    stage 1  500 float QAT steps on 128-token windows (batch 64, lr 3e-3, warm-up 50)
    stage 2  calibrate for context 32, 200 hardware-mode steps on 64-token streams
             with banded attention (batch 16, lr 0.02)                       -> 1.9222
    stage 3  stage 2's integer model warm-started again: 2,000 float steps at context 32
             (batch 64, lr 1.5e-3, warm-up 50), calibrate, 1,000 hardware-mode steps
             (batch 16, lr 0.01: half stage 2's, which overshot)             -> 1.8786
             (3.9 min on a quiet 2-core machine)

    python tools/retrain_default.py runs/default        # then: tritgpt export runs/default/stage3/ckpt.pt ...

Needs torch and git (the format-1 package is at commit FORMAT1_COMMIT).
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tritgpt.ml import export  # noqa: E402
from tritgpt.ml.model import Config  # noqa: E402
from tritgpt.ml.train import (  # noqa: E402
    alibi_slope_log2,
    int_params_from_checkpoint,
    load_checkpoint,
    save_checkpoint,
    train,
)

FORMAT1_COMMIT = "c0d9379"
CORPUS = ROOT.parent / "shared" / "datasets" / "tinyshakespeare.txt"


def format1_default(tmp: Path):
    """The format-1 default model as IntParams without its position table, ALiBi shifts set."""
    names = subprocess.run(["git", "-C", str(ROOT), "ls-tree", "--name-only", f"{FORMAT1_COMMIT}:weights/default"],
                           check=True, capture_output=True, text=True).stdout.split()
    for name in names:
        if name.endswith((".hex", ".json", ".vh")) and name != "pos_emb.hex":
            data = subprocess.run(["git", "-C", str(ROOT), "show", f"{FORMAT1_COMMIT}:weights/default/{name}"],
                                  check=True, capture_output=True).stdout
            (tmp / name).write_bytes(data)
    mf = json.loads((tmp / "manifest.json").read_text())
    mf["format_version"] = export.FORMAT_VERSION       # same images, minus pos_emb; word 7 of each layer is 0
    mf["config"]["context"] = 128
    (tmp / "manifest.json").write_text(json.dumps(mf))
    p = export.load_package(tmp, verify=False)
    p.alibi_shift = [[a + s for s in alibi_slope_log2(p.cfg.n_heads)] for a in p.att_shift]
    p.check()
    return p


def main(out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    log = lambda m: print(time.strftime("%H:%M:%S"), m, flush=True)  # noqa: E731
    t0 = time.time()
    with tempfile.TemporaryDirectory() as tmp:
        init = format1_default(Path(tmp))
    cfg128 = Config.from_dict(dict(Config.load("default").to_dict(), context=128))
    train(CORPUS, out / "stage1", cfg128, init=init, warmup=50, float_steps=500, hw_steps=0, batch=64, lr=3e-3,
          eval_every=50, eval_batches=4, threads=1, log=log)
    cfg = Config.load("default")
    st = load_checkpoint(out / "stage1" / "ckpt.pt")
    (out / "stage2").mkdir(exist_ok=True)
    # stage 1's float weights (no position table: nothing depends on the context) under context 32
    st.update(config=cfg.to_dict(), phase="float", model=st["float_model"])
    st.pop("opt", None)
    save_checkpoint(out / "stage2" / "ckpt.pt", st)
    train(CORPUS, out / "stage2", cfg, float_steps=500, hw_steps=200, batch=64, hw_batch=16, hw_lr=0.02,
          eval_every=50, eval_batches=4, threads=1, log=log)
    train(CORPUS, out / "stage3", cfg, init=int_params_from_checkpoint(out / "stage2" / "ckpt.pt"), warmup=50,
          float_steps=2000, hw_steps=1000, batch=64, lr=1.5e-3, hw_batch=16, hw_lr=0.01,
          eval_every=50, eval_batches=4, threads=1, log=log)
    log(f"trained in {(time.time() - t0) / 60:.1f} min")


if __name__ == "__main__":
    main(Path(sys.argv[1] if len(sys.argv) > 1 else "runs/default"))
