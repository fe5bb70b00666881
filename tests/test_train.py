"""Training: hardware mode equals the integer reference bit for bit; training learns."""

import numpy as np
import pytest

torch = pytest.importorskip("torch", reason="training tests need tritgpt[train]")

from tritgpt.ml import train as T  # noqa: E402
from tritgpt.ml.model import Config, IntParams, forward  # noqa: E402


def _hw_from_int(p: IntParams) -> "T.HwGPT":
    """An HwGPT whose latents are exactly the integer parameters p."""
    lat = {"tok_emb": p.tok_emb, "gf": p.gf, "wlm": p.wlm}
    for i, L in enumerate(p.layers):
        for k, v in L.items():
            lat[f"{i}.{k}"] = v
    calib = {"emb_shift": p.emb_shift, "requant": p.requant, "att_shift": p.att_shift, "alibi_shift": p.alibi_shift,
             "latent": {k: torch.tensor(np.asarray(v), dtype=torch.float64) for k, v in lat.items()}}
    return T.HwGPT(p.cfg, calib)


@pytest.mark.parametrize("cfg_name,seed", [("default", 0), ("default", 5), ("tiny", 1)])
def test_hardware_mode_logits_equal_reference_on_random_weights(cfg_name, seed):
    p = IntParams.random(Config.load(cfg_name), seed=seed)
    hw = _hw_from_int(p)
    assert hw.to_int_params().digest() == p.digest()
    # longer than the context: banded attention, as an endless stream sees it
    x = np.random.default_rng(seed).integers(0, 128, size=(2, 2 * p.cfg.context + 3))
    with torch.no_grad():
        z_hw = hw(torch.from_numpy(x)).numpy()
    z_ref = forward(p, x)
    assert np.array_equal(z_hw.astype(np.int64), z_ref)
    assert np.array_equal(z_hw, np.round(z_hw)), "hardware mode must produce exact integers"


@pytest.fixture(scope="module")
def short_run(tmp_path_factory, shakespeare):
    out = tmp_path_factory.mktemp("run")
    res = T.train(shakespeare, out, Config.load("tiny"), float_steps=60, hw_steps=20, batch=16,
                  eval_every=20, eval_batches=2, log=lambda *_: None)
    return out, res


def test_short_training_lowers_the_loss(short_run):
    out, res = short_run
    h = res["history"]
    # ln(128) = 4.85 nats is a uniform guess; the run must do clearly better than where it started
    assert h["val"][-1] < min(h["val"][0], 4.85) - 0.3, h["val"]
    assert (out / "loss.png").stat().st_size > 1000
    assert h["phase"][-1] == "hw"


def test_trained_hardware_mode_equals_reference(short_run):
    out, _ = short_run
    state = T.load_checkpoint(out / "ckpt.pt")
    hw = T.HwGPT(Config.from_dict(state["config"]), state["calib"])
    hw.load_state_dict(state["model"])
    p = T.int_params_from_checkpoint(out / "ckpt.pt")
    x = np.random.default_rng(0).integers(32, 127, size=(4, p.cfg.context))
    with torch.no_grad():
        assert np.array_equal(hw(torch.from_numpy(x)).numpy().astype(np.int64), forward(p, x))


def test_resume_continues_from_checkpoint(short_run, shakespeare):
    out, res = short_run
    res2 = T.train(shakespeare, out, Config.load("tiny"), float_steps=60, hw_steps=30, batch=16,
                   eval_every=10, eval_batches=1, log=lambda *_: None)
    assert res2["history"]["step"][-1] == 90
    assert res2["history"]["step"][: len(res["history"]["step"])] == res["history"]["step"]


def test_bad_checkpoints(tmp_path):
    with pytest.raises(FileNotFoundError):
        T.load_checkpoint(tmp_path / "missing.pt")
    (tmp_path / "junk.pt").write_bytes(b"\x00garbage" * 100)
    with pytest.raises(ValueError, match="not a readable tritgpt checkpoint"):
        T.load_checkpoint(tmp_path / "junk.pt")
    torch.save({"hello": 1}, tmp_path / "other.pt")
    with pytest.raises(ValueError, match="not a tritgpt checkpoint"):
        T.load_checkpoint(tmp_path / "other.pt")


def test_non_ascii_corpus_is_mapped(tmp_path):
    f = tmp_path / "c.txt"
    f.write_bytes("héllo wörld\n".encode() * 50)
    data, n_bad = T.load_corpus(f)
    assert n_bad == 4 * 50 and data.max() < 128
    (tmp_path / "e.txt").write_bytes(b"")
    with pytest.raises(ValueError, match="empty"):
        T.load_corpus(tmp_path / "e.txt")


def test_hardware_mode_equals_reference_on_shipped_weights():
    from pathlib import Path

    from tritgpt.ml.export import load_package

    p = load_package(Path(__file__).resolve().parents[1] / "weights" / "default")
    hw = _hw_from_int(p)
    text = b"ROMEO:\nWhat light through yonder window breaks? It is the east, and Juliet is the sun."
    x = np.frombuffer(text, dtype=np.uint8).astype(np.int64)[None, : p.cfg.context]
    with torch.no_grad():
        assert np.array_equal(hw(torch.from_numpy(x)).numpy().astype(np.int64), forward(p, x))


def test_warm_start_float_model_follows_the_integer_model(short_run):
    """warm_start turns an integer model into a float model with (nearly) its function."""
    import torch.nn.functional as F

    p = T.int_params_from_checkpoint(short_run[0] / "ckpt.pt")
    fm = T.FloatGPT(p.cfg)
    T.warm_start(fm, p)
    x = np.random.default_rng(3).integers(32, 127, size=(4, 2 * p.cfg.context))
    with torch.no_grad():
        pf = F.softmax(fm(torch.from_numpy(x)).double(), -1)
    pi = F.softmax(torch.from_numpy(forward(p, x) / 16.0), -1)
    # total variation between the two next-character distributions, averaged over positions
    assert float((pf - pi).abs().sum(-1).mean()) / 2 < 0.15


def test_old_checkpoint_format_is_named(tmp_path):
    path = tmp_path / "old.pt"
    torch.save({"format": 1, "config": {}}, path)
    with pytest.raises(ValueError, match=r"checkpoint format 1 .*format 2 .*tritgpt train"):
        T.load_checkpoint(path)
