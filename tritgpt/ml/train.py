"""Training: BitNet-b1.58-style ternary QAT, then a hardware-mode phase.

Phase 1 ("float"): latent float weights, ternarised in the forward pass with the
absmean rule w_t = clip(round(w / mean|w|), -1, 1) and a straight-through
estimator; activations, RMSNorm and softmax in float.

Calibration: one batch through the float model fixes every activation scale and
turns them into the integer constants of tritgpt.ml.model (requant M/S, shifts).

Phase 2 ("hw"): the forward pass *is* the integer reference arithmetic, computed
exactly on integer-valued float64 tensors. Each integer step is paired with a
smooth surrogate that carries the gradient: ste(exact, surrogate) has the value of
`exact` and the gradient of `surrogate`. Parameters are latents in integer units
(round(latent) is the exported integer), so logits equal tritgpt.ml.model.forward's
bit for bit (tests/test_train.py checks it).

Needs torch: pip install 'tritgpt[train]'.
"""

from __future__ import annotations

import json
import math
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

from . import model as M
from .corpus import min_chars_for
from .model import Config, IntParams

CHECKPOINT_FORMAT = 2  # 2: ALiBi distance penalties, no position table


def alibi_slope_log2(n_heads: int) -> list[int]:
    """Distance penalty of each head, log2 of 1/16-nat steps per token: 1/2 nat, 1/16 nat, ...

    A steep head for the last few characters, gentler heads for the rest of the context.
    """
    return [3 - 3 * h for h in range(n_heads)]


def band_mask_distance(t: int, context: int):
    """(distance, visible) of a t-token stream: query i sees keys i-context+1..i."""
    idx = torch.arange(t)
    dist = (idx[:, None] - idx[None, :]).double()
    return dist, (dist >= 0) & (dist < context)


# ----------------------------------------------------------------------------
# phase 1: float model with ternary weights
# ----------------------------------------------------------------------------


def ternarise(w: torch.Tensor) -> torch.Tensor:
    """absmean ternarisation with STE: value gamma * clip(round(w/gamma)), gradient identity."""
    gamma = w.abs().mean().clamp(min=1e-8)
    wq = (w / gamma).round().clamp(-1, 1) * gamma
    return w + (wq - w).detach()


def rmsnorm(x: torch.Tensor, g: torch.Tensor) -> torch.Tensor:
    return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + 1e-6) * g


class FloatGPT(nn.Module):
    def __init__(self, cfg: Config):
        super().__init__()
        self.cfg = cfg
        d, f, v = cfg.d_model, cfg.d_ff, cfg.vocab_size
        self.tok_emb = nn.Parameter(torch.randn(v, d) * 0.3)
        # slopes in nats per token of distance (fixed, as in ALiBi)
        self.register_buffer("slopes", torch.tensor([2.0 ** (s - M.EXP_BITS) for s in alibi_slope_log2(cfg.n_heads)]))
        self.layers = nn.ModuleList()
        for _ in range(cfg.n_layers):
            L = nn.ParameterDict({
                "g1": nn.Parameter(torch.ones(d)), "g2": nn.Parameter(torch.ones(d)),
                "wq": nn.Parameter(torch.randn(d, d) / math.sqrt(d)),
                "wk": nn.Parameter(torch.randn(d, d) / math.sqrt(d)),
                "wv": nn.Parameter(torch.randn(d, d) / math.sqrt(d)),
                "wo": nn.Parameter(torch.randn(d, d) / math.sqrt(d)),
                "w1": nn.Parameter(torch.randn(f, d) / math.sqrt(d)),
                "w2": nn.Parameter(torch.randn(d, f) / math.sqrt(f)),
            })
            self.layers.append(L)
        self.gf = nn.Parameter(torch.ones(d))
        self.wlm = nn.Parameter(torch.randn(v, d) / math.sqrt(d))

    def forward(self, idx: torch.Tensor, record: dict | None = None) -> torch.Tensor:
        cfg = self.cfg
        b, t = idx.shape
        hd = cfg.head_dim
        x = self.tok_emb[idx]
        dist, mask = band_mask_distance(t, cfg.context)
        bias = -self.slopes[:, None, None] * dist.float()  # (heads, t, t)

        def rec(name, val):
            if record is not None:
                record.setdefault(name, []).append(val.detach())
            return val

        rec("x", x)
        for i, L in enumerate(self.layers):
            h = rmsnorm(x, L["g1"])
            # gamma of each matrix goes into the requant constant at calibration
            q = rec(f"{i}.q", h @ ternarise(L["wq"]).T)
            k = rec(f"{i}.k", h @ ternarise(L["wk"]).T)
            v = rec(f"{i}.v", h @ ternarise(L["wv"]).T)
            q = q.view(b, t, cfg.n_heads, hd).transpose(1, 2)
            k = k.view(b, t, cfg.n_heads, hd).transpose(1, 2)
            v = v.view(b, t, cfg.n_heads, hd).transpose(1, 2)
            att = (q @ k.transpose(-1, -2)) / math.sqrt(hd) + bias
            att = att.masked_fill(~mask, float("-inf")).softmax(-1)
            o = (att @ v).transpose(1, 2).reshape(b, t, cfg.d_model)
            x = rec(f"{i}.x_mid", x + o @ ternarise(L["wo"]).T)
            h = rmsnorm(x, L["g2"])
            a = rec(f"{i}.ffn_act", F.relu(h @ ternarise(L["w1"]).T))
            x = rec(f"{i}.x_out", x + a @ ternarise(L["w2"]).T)
        return rmsnorm(x, self.gf) @ ternarise(self.wlm).T


@torch.no_grad()
def warm_start(fm: FloatGPT, p: IntParams) -> None:
    """Set the float model to the function of integer model p (calibration run backwards).

    Real units chosen: x = x_int * 2**-(5 + emb_shift), norm outputs h_int / 16, q, k, v
    and ffn activations / 16 (q scaled so q.k / sqrt(hd) is the score in nats). Each
    ternary latent is W_int * gamma / mean|W_int|, so absmean ternarisation gives back
    W_int with the per-matrix scale gamma the requantisation constants imply.
    """
    cfg = fm.cfg
    hd = cfg.head_dim
    s_res = 2.0 ** -(5 + p.emb_shift)
    s_kv = s_a = 1 / 16

    def t(a):
        return torch.as_tensor(np.asarray(a, np.float64), dtype=torch.float32)

    def mat(latent, w_int, gamma):
        w = np.asarray(w_int, np.float64)
        latent.copy_(t(w * gamma / max(np.abs(w).mean(), 1e-6)))

    def ratio(name):
        m, s = p.requant[name]
        return m / 2.0**s

    fm.tok_emb.copy_(t(p.tok_emb) / 32)
    for i, L in enumerate(fm.layers):
        P = p.layers[i]
        s_q = math.sqrt(hd) * 2.0 ** -(p.att_shift[i] + M.EXP_BITS) / s_kv
        L["g1"].copy_(t(P["g1"]) / 64)
        L["g2"].copy_(t(P["g2"]) / 64)
        mat(L["wq"], P["wq"], 16 * s_q * ratio(f"{i}.wq"))
        mat(L["wk"], P["wk"], 16 * s_kv * ratio(f"{i}.wk"))
        mat(L["wv"], P["wv"], 16 * s_kv * ratio(f"{i}.wv"))
        mat(L["wo"], P["wo"], s_res * ratio(f"{i}.wo") / s_kv)
        mat(L["w1"], P["w1"], 16 * s_a * ratio(f"{i}.w1"))
        mat(L["w2"], P["w2"], s_res * ratio(f"{i}.w2") / s_a)
    fm.gf.copy_(t(p.gf) / 64)
    mat(fm.wlm, p.wlm, ratio("lm"))


# ----------------------------------------------------------------------------
# calibration: float model -> integer constants
# ----------------------------------------------------------------------------


def _requant_const(ratio: float) -> tuple[int, int]:
    """(M, S) with M / 2**S ~= ratio, M as large as fits below 2**15."""
    if not ratio > 0:
        raise ValueError(f"cannot requantise with ratio {ratio}")
    s = int(math.floor(math.log2((2**15 - 1) / ratio)))
    s = max(1, min(47, s))
    m = int(round(ratio * 2**s))
    while m >= 2**15:
        s -= 1
        m = int(round(ratio * 2**s))
    return max(1, m), s


@torch.no_grad()
def calibrate(fm: FloatGPT, batch: torch.Tensor, pct: float = 99.99) -> dict:
    """Activation scales from a batch -> a dict of latents and integer constants for HwGPT."""
    cfg = fm.cfg
    rec: dict = {}
    fm(batch, record=rec)

    def amax(name):
        vals = torch.cat([v.flatten() for v in rec[name]]).abs().double()
        return float(np.percentile(vals.numpy(), pct))

    def gamma(w):
        return float(w.abs().mean().clamp(min=1e-8))

    emb_max = float(fm.tok_emb.abs().max())
    s_emb = emb_max / 127
    res_max = max([amax("x")] + [amax(f"{i}.x_mid") for i in range(cfg.n_layers)]
                  + [amax(f"{i}.x_out") for i in range(cfg.n_layers)])
    emb_shift = 0
    while emb_shift < 7 and 2 * res_max <= 32767 * s_emb / 2 ** (emb_shift + 1):
        emb_shift += 1
    s_res = s_emb / 2**emb_shift

    def gain_scale(g):
        return float(g.abs().max().clamp(min=1e-6)) / 127  # s_g; norm output scale = 4 s_g

    out = {"emb_shift": emb_shift, "requant": {}, "att_shift": [], "alibi_shift": [], "latent": {}}
    lat = out["latent"]
    lat["tok_emb"] = (fm.tok_emb / s_emb).clone()
    for i, L in enumerate(fm.layers):
        s_g1, s_g2 = gain_scale(L["g1"]), gain_scale(L["g2"])
        s_h1, s_h2 = 4 * s_g1, 4 * s_g2
        lat[f"{i}.g1"] = L["g1"] / s_g1
        lat[f"{i}.g2"] = L["g2"] / s_g2
        for m in M.MATRICES:
            lat[f"{i}.{m}"] = L[m] / gamma(L[m])
        s_k = amax(f"{i}.k") / 127
        s_v = amax(f"{i}.v") / 127
        s_q_cal = amax(f"{i}.q") / 127
        # score difference >> att_shift must be in 1/16 nat: 2**-sa = 16 s_q s_k / sqrt(hd)
        sa = int(round(-math.log2(2**M.EXP_BITS * s_q_cal * s_k / math.sqrt(cfg.head_dim))))
        sa = max(0, min(24, sa))
        s_q = 2.0**-sa * math.sqrt(cfg.head_dim) / (2**M.EXP_BITS * s_k)
        out["att_shift"].append(sa)
        # 2**sa score units are 1/16 nat, so the float slopes become exact shifts
        out["alibi_shift"].append([max(0, min(M.ALIBI_SHIFT_MAX, sa + sl)) for sl in alibi_slope_log2(cfg.n_heads)])
        s_a = amax(f"{i}.ffn_act") / 127
        rq = out["requant"]
        rq[f"{i}.wq"] = _requant_const(gamma(L["wq"]) * s_h1 / s_q)
        rq[f"{i}.wk"] = _requant_const(gamma(L["wk"]) * s_h1 / s_k)
        rq[f"{i}.wv"] = _requant_const(gamma(L["wv"]) * s_h1 / s_v)
        rq[f"{i}.wo"] = _requant_const(gamma(L["wo"]) * s_v / s_res)
        rq[f"{i}.w1"] = _requant_const(gamma(L["w1"]) * s_h2 / s_a)
        rq[f"{i}.w2"] = _requant_const(gamma(L["w2"]) * s_a / s_res)
    s_gf = gain_scale(fm.gf)
    lat["gf"] = fm.gf / s_gf
    lat["wlm"] = fm.wlm / gamma(fm.wlm)
    out["requant"]["lm"] = _requant_const(gamma(fm.wlm) * 4 * s_gf * 2**M.EXP_BITS)
    out["latent"] = {k: v.detach().clone() for k, v in lat.items()}
    return out


# ----------------------------------------------------------------------------
# phase 2: hardware mode (exact integer forward, surrogate gradients)
# ----------------------------------------------------------------------------


def ste(exact: torch.Tensor, surrogate: torch.Tensor) -> torch.Tensor:
    """Value of `exact` (bit for bit), gradient of `surrogate`."""
    return exact.detach() + (surrogate - surrogate.detach())


def _rshift_round(v: torch.Tensor, s) -> torch.Tensor:
    """Exact rshift_round on integer-valued float64 (power-of-two division is exact)."""
    p = torch.as_tensor(2.0, dtype=torch.float64) ** s
    return torch.floor((v + p / 2) / p)


def _sat(v, bits):
    return v.clamp(-(2 ** (bits - 1)), 2 ** (bits - 1) - 1)


def _bit_length(v: torch.Tensor) -> torch.Tensor:
    n = torch.zeros_like(v)
    for i in range(48):
        n = n + (v >= 2.0**i).double()
    return n


_TABLES: dict = {}


def _table(name):
    if name not in _TABLES:
        _TABLES[name] = torch.tensor(getattr(M, name), dtype=torch.float64)
    return _TABLES[name]


class HwGPT(nn.Module):
    """The integer reference model in torch, trainable through surrogate gradients."""

    def __init__(self, cfg: Config, calib: dict):
        super().__init__()
        self.cfg = cfg
        self.emb_shift = calib["emb_shift"]
        self.requant = {k: tuple(v) for k, v in calib["requant"].items()}
        self.att_shift = list(calib["att_shift"])
        self.alibi_shift = [list(a) for a in calib["alibi_shift"]]
        self.lat = nn.ParameterDict({k.replace(".", "_"): nn.Parameter(v.double())
                                     for k, v in calib["latent"].items()})

    def _p(self, name):
        return self.lat[name.replace(".", "_")]

    def _int(self, name, bits):
        """Integer parameter from its latent: round + clip, identity gradient inside the range."""
        w = self._p(name)
        lo, hi = (-1, 1) if bits == 2 else (-128, 127)
        return ste(torch.round(w).clamp(lo, hi), w.clamp(lo - 0.5, hi + 0.5))

    def _requant(self, acc, name, lo, hi):
        m, s = self.requant[name]
        exact = _rshift_round(acc.detach() * m, s).clamp(lo, hi)
        return ste(exact, (acc * (m / 2.0**s)).clamp(lo, hi))

    def _norm(self, x, g):
        log2_d = self.cfg.d_model.bit_length() - 1
        xd = x.detach()
        ss = (xd * xd).sum(-1, keepdim=True)
        ms = torch.clamp(torch.floor(ss / 2**log2_d), min=1)
        k = torch.clamp(torch.floor((_bit_length(ms) - 7) / 2), min=0)
        m = torch.floor(ms / 4**k)
        r = _table("RSQRT_TABLE")[m.long()]
        exact = _sat(_rshift_round(xd * g.detach() * r, 15 + k + M.NORM_SHIFT), 8)
        sur = x * g * torch.rsqrt((x * x).mean(-1, keepdim=True) + 1) / 2**M.NORM_SHIFT
        return ste(exact, _sat(sur, 8))

    def forward(self, idx: torch.Tensor) -> torch.Tensor:
        cfg = self.cfg
        b, t = idx.shape
        hd = cfg.head_dim
        dist, visible = band_mask_distance(t, cfg.context)
        tok = self._int("tok_emb", 8)
        x = tok[idx] * 2**self.emb_shift
        for i in range(cfg.n_layers):
            W = {m: self._int(f"{i}.{m}", 2) for m in M.MATRICES}
            h = self._norm(x, self._int(f"{i}.g1", 8))
            q = self._requant(h @ W["wq"].T, f"{i}.wq", -128, 127)
            k = self._requant(h @ W["wk"].T, f"{i}.wk", -128, 127)
            v = self._requant(h @ W["wv"].T, f"{i}.wv", -128, 127)
            heads = []
            for hh in range(cfg.n_heads):
                sl = slice(hh * hd, (hh + 1) * hd)
                penalty = dist * 2.0 ** self.alibi_shift[i][hh]
                heads.append(self._attention(q[..., sl], k[..., sl], v[..., sl], visible, penalty, self.att_shift[i]))
            o = torch.cat(heads, -1)
            x = _sat(x + self._requant(o @ W["wo"].T, f"{i}.wo", -32768, 32767), 16)
            h = self._norm(x, self._int(f"{i}.g2", 8))
            a = self._requant(h @ W["w1"].T, f"{i}.w1", 0, 127)
            x = _sat(x + self._requant(a @ W["w2"].T, f"{i}.w2", -32768, 32767), 16)
        h = self._norm(x, self._int("gf", 8))
        return self._requant(h @ self._int("wlm", 2).T, "lm", -32768, 32767)

    @staticmethod
    def _attention(q, k, v, causal, penalty, shift):
        s = q @ k.transpose(-1, -2) - penalty
        sd = s.detach()
        neg = torch.tensor(-2.0**40, dtype=torch.float64)
        smax = torch.where(causal, sd, neg).amax(-1, keepdim=True)
        d = torch.clamp(torch.floor((smax - torch.where(causal, sd, smax)) / 2**shift), max=255)
        e = torch.where(causal, _table("EXP_TABLE")[d.long()], torch.zeros((), dtype=torch.float64))
        esum = e.sum(-1, keepdim=True)
        acc = e @ v.detach()
        n = _bit_length(esum)
        mant = torch.floor(esum / 2 ** (n - 8))
        r = _table("RECIP_TABLE")[(mant - 128).long()]
        exact = _sat(_rshift_round(acc * r, 16 + n - 8), 8)
        # surrogate: float softmax at the same temperature
        z = (s - smax) / (2**shift * 2**M.EXP_BITS)
        p = torch.where(causal, z, torch.full_like(z, float("-inf"))).softmax(-1)
        return ste(exact, p @ v)

    def to_int_params(self) -> IntParams:
        cfg = self.cfg

        def get(name, bits):
            return self._int(name, bits).detach().numpy().astype(np.int64)

        layers = []
        for i in range(cfg.n_layers):
            L = {m: get(f"{i}.{m}", 2) for m in M.MATRICES}
            L["g1"] = get(f"{i}.g1", 8)
            L["g2"] = get(f"{i}.g2", 8)
            layers.append(L)
        p = IntParams(cfg=cfg, tok_emb=get("tok_emb", 8),
                      emb_shift=self.emb_shift, layers=layers, gf=get("gf", 8), wlm=get("wlm", 2),
                      requant=dict(self.requant), att_shift=list(self.att_shift),
                      alibi_shift=[list(a) for a in self.alibi_shift])
        p.check()
        return p


# ----------------------------------------------------------------------------
# data, loop, checkpoints
# ----------------------------------------------------------------------------


def load_corpus(path: Path, min_chars: int = 2) -> tuple[np.ndarray, int]:
    """Corpus bytes as tokens; non-ASCII bytes become '?' (their count is returned)."""
    from .corpus import read_corpus

    return read_corpus(path, min_chars)


def split(data: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """nanoGPT's convention: first 90% train, last 10% validation."""
    n = int(0.9 * len(data))
    return data[:n], data[n:]


def get_batch(data: np.ndarray, batch: int, ctx: int, gen: np.random.Generator):
    ix = gen.integers(0, len(data) - ctx - 1, size=batch)
    x = np.stack([data[i: i + ctx] for i in ix])
    y = np.stack([data[i + 1: i + 1 + ctx] for i in ix])
    return torch.from_numpy(x), torch.from_numpy(y)


def save_checkpoint(path: Path, state: dict) -> None:
    """Write atomically: a crash never leaves a half-written checkpoint."""
    path = Path(path)
    tmp = path.with_suffix(path.suffix + ".tmp")
    torch.save(state, tmp)
    tmp.replace(path)


def load_checkpoint(path: Path) -> dict:
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"checkpoint {path} does not exist")
    try:
        state = torch.load(path, map_location="cpu", weights_only=False)
    except Exception as exc:  # torch raises many types for a corrupt file
        raise ValueError(f"checkpoint {path} is not a readable tritgpt checkpoint ({exc.__class__.__name__})") from None
    if not isinstance(state, dict) or "format" not in state:
        raise ValueError(f"checkpoint {path} is not a tritgpt checkpoint (format {CHECKPOINT_FORMAT})")
    if state["format"] != CHECKPOINT_FORMAT:
        raise ValueError(f"checkpoint {path} has checkpoint format {state['format']} (learned position table); "
                         f"this tritgpt reads format {CHECKPOINT_FORMAT} (ALiBi): train a new model with `tritgpt train`")
    return state


def train(corpus: Path, out_dir: Path, cfg: Config, *, float_steps: int, hw_steps: int,
          batch: int = 32, lr: float = 3e-3, hw_lr: float = 0.02, seed: int = 1337,
          eval_every: int = 250, eval_batches: int = 8, threads: int | None = None,
          hw_batch: int | None = None, hw_seq_len: int | None = None, init: IntParams | None = None,
          warmup: int = 200, resume: bool = True, progress=None, log=print) -> dict:
    """Train to out_dir/ckpt.pt (resumable), writing loss.json and loss.png as it goes.

    The float phase trains on context-long windows (a token sees everything before
    it). The hardware phase trains on hw_seq_len tokens (default 2 x context) with
    banded attention, so the second half of each sequence is exactly the steady state
    of an endless stream through the ring-buffer KV cache. `init` starts the float
    phase from an integer model (warm_start) instead of random weights.
    """
    if threads:
        torch.set_num_threads(threads)
    out_dir = Path(out_dir)
    if float_steps < 0 or hw_steps < 0 or float_steps + hw_steps < 1:
        raise ValueError(f"steps must be >= 0 and at least one in total (float {float_steps}, hardware {hw_steps})")
    if batch < 1:
        raise ValueError(f"batch must be >= 1 (got {batch})")
    if not (lr > 0 and hw_lr > 0 and math.isfinite(lr) and math.isfinite(hw_lr)):
        raise ValueError(f"learning rates must be finite and > 0 (lr {lr}, hw_lr {hw_lr})")
    if eval_every < 1 or eval_batches < 1:
        raise ValueError(f"eval_every and eval_batches must be >= 1 (got {eval_every}, {eval_batches})")
    data, n_bad = load_corpus(corpus, min_chars_for(cfg.context))
    if n_bad:
        log(f"corpus: {n_bad} non-ASCII bytes replaced by '?'")
    if out_dir.exists() and not out_dir.is_dir():
        raise ValueError(f"--out {out_dir} is a file, not a run directory; give a directory (it is created)")
    out_dir.mkdir(parents=True, exist_ok=True)
    train_data, val_data = split(data)
    ckpt_path = out_dir / "ckpt.pt"
    torch.manual_seed(seed)
    gen = np.random.default_rng(seed)
    fm = FloatGPT(cfg).double() if False else FloatGPT(cfg)
    state = None
    if resume and ckpt_path.exists():
        state = load_checkpoint(ckpt_path)
        if state["config"] != cfg.to_dict():
            raise ValueError(f"{ckpt_path} was trained with another config; use a new --out directory")
        log(f"resuming from {ckpt_path} at step {state['step']} ({state['phase']} phase)")
    history = state["history"] if state else {"step": [], "phase": [], "train": [], "val": [], "tok_s": []}
    step = state["step"] if state else 0
    hw = None
    if state and "float_model" in state:
        fm.load_state_dict(state["float_model"])
    if state and state["phase"] == "hw":
        hw = HwGPT(cfg, state["calib"])
        hw.load_state_dict(state["model"])
    elif state:
        fm.load_state_dict(state["model"])
    elif init is not None:
        warm_start(fm, init)

    def make_opt(module, phase):
        if phase == "float":
            return torch.optim.AdamW(module.parameters(), lr=lr, betas=(0.9, 0.99), weight_decay=0.0)
        return torch.optim.Adam(module.parameters(), lr=hw_lr)

    phase = "hw" if hw is not None else "float"
    opt = make_opt(hw if hw is not None else fm, phase)
    if state and "opt" in state and state.get("opt_phase") == phase:
        opt.load_state_dict(state["opt"])
    total = float_steps + hw_steps
    hw_seq_len = hw_seq_len or 2 * cfg.context
    hw_batch = hw_batch or batch

    def shape(ph):
        return (batch, cfg.context) if ph == "float" else (hw_batch, hw_seq_len)

    @torch.no_grad()
    def evaluate(module):
        egen = np.random.default_rng(0)
        losses = []
        for _ in range(eval_batches):
            x, y = get_batch(val_data, *shape(phase), egen)
            z = module(x)
            if phase == "hw":
                z = z / 2**M.EXP_BITS
            losses.append(float(F.cross_entropy(z.reshape(-1, cfg.vocab_size).float(), y.reshape(-1))))
        return float(np.mean(losses))

    def checkpoint():
        module = hw if phase == "hw" else fm
        st = {"format": CHECKPOINT_FORMAT, "config": cfg.to_dict(), "phase": phase, "step": step,
              "model": module.state_dict(), "opt": opt.state_dict(), "opt_phase": phase,
              "history": history, "seed": seed, "float_model": fm.state_dict()}
        if hw is not None:
            st["calib"] = {"emb_shift": hw.emb_shift, "requant": hw.requant, "att_shift": hw.att_shift,
                           "alibi_shift": hw.alibi_shift,
                           "latent": {k.replace("_", "."): v.detach() for k, v in hw.lat.items()}}
        save_checkpoint(ckpt_path, st)
        plot_history(history, out_dir / "loss.png")
        (out_dir / "loss.json").write_text(json.dumps(history))

    t0, tokens = time.time(), 0
    running = None
    while step < total:
        if phase == "float" and step >= float_steps:
            x, _ = get_batch(train_data, 64, cfg.context, np.random.default_rng(1))
            hw = HwGPT(cfg, calibrate(fm, x))
            phase = "hw"
            history["hw_from"] = step
            opt = make_opt(hw, phase)
            log(f"step {step}: calibrated; hardware-mode phase (val {evaluate(hw):.3f} nats/char)")
        module = hw if phase == "hw" else fm
        if phase == "float":
            frac = step / max(1, float_steps)
            cur_lr = lr * min(1.0, (step + 1) / max(1, warmup)) * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * frac)))
        else:
            frac = (step - float_steps) / max(1, hw_steps)
            cur_lr = hw_lr * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * frac)))
        for g in opt.param_groups:
            g["lr"] = cur_lr
        x, y = get_batch(train_data, *shape(phase), gen)
        z = module(x)
        if phase == "hw":
            z = z / 2**M.EXP_BITS
        loss = F.cross_entropy(z.reshape(-1, cfg.vocab_size).float(), y.reshape(-1))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(module.parameters(), 1.0)
        opt.step()
        step += 1
        tokens += x.numel()
        lv = float(loss.detach())
        running = lv if running is None else 0.95 * running + 0.05 * lv
        tok_s = tokens / max(1e-9, time.time() - t0)
        if progress is not None:
            progress(step, total, running, tok_s, phase)
        if step % eval_every == 0 or step == total:
            val = evaluate(module)
            for key, val_ in (("step", step), ("phase", phase), ("train", running), ("val", val), ("tok_s", tok_s)):
                history[key].append(val_)
            log(f"step {step}/{total} [{phase}] train {running:.3f} val {val:.3f} nats/char, {tok_s:,.0f} tok/s")
            checkpoint()
    if hw is None:  # no hardware phase requested: calibrate so the checkpoint still exports
        x, _ = get_batch(train_data, 64, cfg.context, np.random.default_rng(1))
        hw = HwGPT(cfg, calibrate(fm, x))
        phase = "hw"
        opt = make_opt(hw, phase)
        checkpoint()
    return {"checkpoint": str(ckpt_path), "history": history, "seconds": time.time() - t0}


def checkpoint_summary(path: Path) -> dict:
    """Training figures recorded in a weights package's manifest."""
    h = load_checkpoint(path)["history"]
    return {"steps": h["step"][-1] if h["step"] else 0,
            "val_loss_estimate": round(h["val"][-1], 4) if h["val"] else None,
            "hw_from_step": h.get("hw_from")}


def int_params_from_checkpoint(path: Path) -> IntParams:
    state = load_checkpoint(path)
    cfg = Config.from_dict(state["config"])
    if state["phase"] != "hw":
        raise ValueError(f"checkpoint {path} has no hardware-mode weights yet (still in the float phase)")
    hw = HwGPT(cfg, state["calib"])
    try:
        hw.load_state_dict(state["model"])
    except RuntimeError as exc:
        raise ValueError(f"checkpoint {path}: tensors do not match config '{cfg.name}': {str(exc).splitlines()[0]}") from None
    return hw.to_int_params()


def plot_history(history: dict, path: Path) -> None:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return
    if not history["step"]:
        return
    fig, ax = plt.subplots(figsize=(7, 4))
    ax.plot(history["step"], history["train"], label="train (smoothed)")
    ax.plot(history["step"], history["val"], label="validation")
    hw_from = history.get("hw_from")
    if hw_from is not None:
        ax.axvline(hw_from, color="grey", ls="--", lw=0.8, label="hardware mode from here")
    ax.axhline(1.9, color="red", ls=":", lw=0.8, label="1.90 nats/char target")
    ax.set_xlabel("step")
    ax.set_ylabel("loss (nats/char)")
    ax.set_title("tritgpt training")
    ax.legend()
    ax.grid(alpha=0.3)
    fig.tight_layout()
    tmp = Path(str(path) + ".tmp.png")
    fig.savefig(tmp, dpi=100)
    plt.close(fig)
    tmp.replace(path)
