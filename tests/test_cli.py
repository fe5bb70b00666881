"""The command line as a user meets it: one-line errors, exit codes, shipped weights."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from _process_helpers import MARK_VARIABLE, marked_processes

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


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["ctrl_c", "sigterm"])
def test_interrupted_build_leaves_no_tool_running(tmp_path, signum):
    """Ctrl-C, or `kill` from a batch scheduler, while yosys synthesises: the build stops with
    one line and exit 128+signal, and yosys (under make, in its own session) stops with it.
    Before, it ran on to the end in the background."""
    mark = f"{os.getpid()}-{signum}"
    env = {**os.environ, MARK_VARIABLE: mark, "TRITGPT_BUILD_DIR": str(tmp_path / "cache")}
    proc = subprocess.Popen([str(Path(sys.executable).parent / "tritgpt"), "build", "--synth-only", "--board",
                             "arty-a7-35t", "--out", str(tmp_path / "build")], cwd=tmp_path, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    try:
        deadline = time.monotonic() + 300
        # yosys itself (its command line reads the script), not make's, which names it too
        while (not any(" -s tritgpt.ys" in " ".join(args) for args in marked_processes(mark).values())
               and proc.poll() is None):
            assert time.monotonic() < deadline, "yosys never started"
            time.sleep(0.1)
        assert proc.poll() is None, proc.stderr.read()
        proc.send_signal(signum)
        err = proc.stderr.read()
        assert proc.wait(timeout=60) == 128 + signum, err
        assert "Traceback" not in err
        assert err.rstrip().endswith("terminated" if signum == signal.SIGTERM else "aborted"), err
        assert "interrupted: the tool was stopped" in (tmp_path / "build" / "logs" / "synth.log").read_text()
        time.sleep(1.0)
        assert marked_processes(mark) == {}
    finally:
        if proc.poll() is None:
            proc.kill()
