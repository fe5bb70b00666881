"""The command line as a user meets it: one-line errors, exit codes, shipped weights."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def tritgpt(*args, cwd=ROOT, timeout=600):
    return subprocess.run([sys.executable, "-m", "tritgpt", *map(str, args)], cwd=cwd, capture_output=True,
                          text=True, timeout=timeout)


def assert_user_error(res, *fragments):
    assert res.returncode == 1, res.stderr
    assert "Traceback" not in res.stderr, res.stderr
    err = " ".join(res.stderr.split())
    assert err.startswith("error:"), err
    for f in fragments:
        assert f in err, err


def test_generate_with_shipped_weights_matches_reference():
    from tritgpt.ml.export import load_package
    from tritgpt.ml.model import decode, encode, generate

    res = tritgpt("generate", "--prompt", "ROMEO:", "-n", 40, "--temperature", 0.8, "--seed", 3)
    assert res.returncode == 0, res.stderr
    p = load_package(ROOT / "weights" / "default")
    expect = decode(generate(p, encode("ROMEO:"), 40, tinv=320, seed=3))
    assert res.stdout == "ROMEO:" + expect + "\n"


@pytest.mark.slow
def test_shipped_model_meets_the_loss_target(shakespeare):
    res = tritgpt("eval", "weights/default", "--corpus", shakespeare, "--json")
    assert res.returncode == 0, res.stderr
    out = json.loads(res.stdout)
    assert out["loss"] <= 2.00, out
    assert out["chars"] > 100_000


def test_missing_and_corrupt_checkpoints(tmp_path):
    pytest.importorskip("torch")
    assert_user_error(tritgpt("export", tmp_path / "none.pt", "-o", tmp_path / "w"), "does not exist")
    (tmp_path / "bad.pt").write_bytes(b"not a checkpoint")
    assert_user_error(tritgpt("export", tmp_path / "bad.pt", "-o", tmp_path / "w"), "not a readable tritgpt checkpoint")
    assert not (tmp_path / "w").exists()


def test_bad_weights_and_options(tmp_path):
    assert_user_error(tritgpt("generate", "--weights", tmp_path), "no manifest.json")
    assert_user_error(tritgpt("generate", "--temperature", "-1", "-n", 1), "temperature must be >= 0")
    assert_user_error(tritgpt("train", "--corpus", tmp_path / "nope.txt"), "does not exist")
    assert_user_error(tritgpt("train", "--corpus", __file__, "--config", "huge"), "built-in configs")


def test_export_refuses_to_overwrite(tmp_path):
    pytest.importorskip("torch")
    import torch

    from tritgpt.ml import train as T
    from tritgpt.ml.model import Config

    T.train(ROOT / "README.md", tmp_path / "run", Config.load("tiny"), float_steps=2, hw_steps=1, batch=2,
            eval_every=100, eval_batches=1, log=lambda *_: None)
    assert tritgpt("export", tmp_path / "run" / "ckpt.pt", "-o", tmp_path / "w").returncode == 0
    manifest = (tmp_path / "w" / "manifest.json").read_text()
    assert_user_error(tritgpt("export", tmp_path / "run" / "ckpt.pt", "-o", tmp_path / "w"), "--force")
    assert (tmp_path / "w" / "manifest.json").read_text() == manifest
    del torch
