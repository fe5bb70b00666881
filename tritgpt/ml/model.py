"""The ternary GPT and its integer reference model.

This file is the specification of the hardware arithmetic. Every rounding and
saturation the FPGA core performs is written down here, once, in numpy; the
Verilog core (rtl/) and the training's hardware mode (tritgpt/ml/train.py) are
tested against it bit for bit.

Model: character-level GPT, vocabulary = 128 ASCII codes.
    x   = tok_emb[t] << emb_shift                              int16 residual
    for each block:
        h   = rmsnorm(x, g1)                                   int8
        q,k,v = requant(Wq h), requant(Wk h), requant(Wv h)    int8, ternary W
        o   = softmax attention over the last `context` tokens  int8
              score = q.k - (distance << alibi_shift[head])     (ALiBi, no positions)
        x   = sat16(x + requant(Wo o))
        h   = rmsnorm(x, g2)
        a   = clip(requant(W1 h), 0, 127)                      ReLU, int8
        x   = sat16(x + requant(W2 a))
    z = sat16(requant(Wlm rmsnorm(x, gf)))                     logits, 1/16 nat
    next token = argmax z, or a sample from exp((z - zmax) / (16 T))

Positions are relative only: a token attends to itself and the context-1 tokens
before it, each score lowered by its distance times a power-of-two slope per head
(ALiBi with integer shifts). So a stream of any length is one banded-causal
forward pass (`forward`), the KV cache is a ring of the last `context` tokens
(`KVCache`) and every new token costs the same: nothing is ever re-prefilled.

Integer primitives (all exact):
    rshift_round(v, s) = (v + 2**(s-1)) >> s      arithmetic shift, s >= 1
    requant(acc, M, S) = rshift_round(acc * M, S)  M < 2**15: one per matrix
    sat8 / sat16       = clip to [-128, 127] / [-32768, 32767]
Tables (fixed, not learned):
    EXP[d]   = round(255 * exp(-d / 16)),    d in 0..255  (softmax; d in 1/16 nat)
    RSQRT[m] = round(2**15 / sqrt(m)),       m in 1..255  (RMSNorm)
    RECIP[i] = round(2**16 / (128 + i)),     i in 0..127  (softmax normaliser)
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import math
from pathlib import Path

import numpy as np

from ..paths import CONFIG_DIR
NORM_SHIFT = 2  # rmsnorm output = (x / rms) * g / 4: lets int8 gains use their full range
EXP_BITS = 4  # softmax argument d is in units of 2**-EXP_BITS nat
ALIBI_SHIFT_MAX = 15  # penalty = distance << shift, shift in 0..15 (4 bits per head in consts)
MAX_HEADS = 8  # eight 4-bit ALiBi shifts per layer fill one consts word


# ----------------------------------------------------------------------------
# configuration
# ----------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Config:
    name: str = "default"
    vocab_size: int = 128
    d_model: int = 64
    n_heads: int = 2
    d_ff: int = 256
    context: int = 128
    n_layers: int = 2

    @property
    def head_dim(self) -> int:
        return self.d_model // self.n_heads

    def validate(self) -> None:
        def pow2(n: int) -> bool:
            return n > 0 and n & (n - 1) == 0

        if self.vocab_size != 128:
            raise ValueError("vocab_size must be 128 (the ASCII codes)")
        for field in ("d_model", "d_ff", "context", "n_heads"):
            if not pow2(getattr(self, field)):
                raise ValueError(f"{field} must be a power of two, got {getattr(self, field)}")
        if self.d_model % self.n_heads:
            raise ValueError("d_model must be divisible by n_heads")
        if self.n_layers < 1:
            raise ValueError("n_layers must be at least 1")
        if self.n_heads > MAX_HEADS:
            raise ValueError(f"n_heads must be at most {MAX_HEADS} (one 4-bit ALiBi shift per head)")
        if self.context > 256:
            raise ValueError("context must be at most 256 (8-bit positions in the RTL)")

    @property
    def ternary_weights(self) -> int:
        d, f = self.d_model, self.d_ff
        return self.n_layers * (4 * d * d + 2 * d * f) + self.vocab_size * d

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> "Config":
        if not isinstance(data, dict):
            raise ValueError(f"a config is a JSON object of fields, not {type(data).__name__}")
        fields = {f.name: f for f in dataclasses.fields(cls)}
        unknown = set(data) - set(fields)
        if unknown:
            raise ValueError(f"unknown config field(s): {', '.join(sorted(unknown))}")
        for key, value in data.items():
            kind = str if fields[key].type in (str, "str") else int
            if not isinstance(value, kind) or isinstance(value, bool):
                raise ValueError(f"config field {key} must be {'a string' if kind is str else 'an integer'}, "
                                 f"not {value!r}")
        cfg = cls(**data)
        cfg.validate()
        return cfg

    @classmethod
    def load(cls, name_or_path: str | Path) -> "Config":
        """A config by name (tritgpt/ml/configs/NAME.json) or by path to a JSON file."""
        path = Path(name_or_path)
        if not path.suffix:
            path = CONFIG_DIR / f"{name_or_path}.json"
        if not path.exists():
            names = ", ".join(sorted(p.stem for p in CONFIG_DIR.glob("*.json")))
            raise FileNotFoundError(f"no config '{name_or_path}' (built-in configs: {names})")
        try:
            data = json.loads(path.read_text())
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise ValueError(f"config {path} is not a readable JSON file ({exc.__class__.__name__}: {exc})") from None
        try:
            return cls.from_dict(data)
        except ValueError as exc:
            raise ValueError(f"config {path}: {exc}") from None


# ----------------------------------------------------------------------------
# fixed tables
# ----------------------------------------------------------------------------

EXP_TABLE = np.array([round(255 * np.exp(-d / 2**EXP_BITS)) for d in range(256)], dtype=np.int64)
RSQRT_TABLE = np.array([2**15] + [round(2**15 / np.sqrt(m)) for m in range(1, 256)], dtype=np.int64)
RECIP_TABLE = np.array([round(2**16 / (128 + i)) for i in range(128)], dtype=np.int64)

# ----------------------------------------------------------------------------
# integer primitives
# ----------------------------------------------------------------------------


def rshift_round(v, s):
    """Round-half-up arithmetic right shift by s >= 1 (s may be an array)."""
    v = np.asarray(v, dtype=np.int64)
    s = np.asarray(s, dtype=np.int64)
    return (v + (np.int64(1) << (s - 1))) >> s


def sat(v, bits: int):
    lo, hi = -(1 << (bits - 1)), (1 << (bits - 1)) - 1
    return np.clip(v, lo, hi)


def requant(acc, m: int, s: int):
    return rshift_round(np.asarray(acc, dtype=np.int64) * int(m), int(s))


def bit_length(v):
    """Number of bits of each (non-negative) element: 0 -> 0, 1 -> 1, 255 -> 8."""
    v = np.asarray(v, dtype=np.int64)
    n = np.zeros_like(v)
    for i in range(48):
        n += (v >> i) > 0
    return n


def imatmul(x, w):
    """x @ w.T for integer arrays; exact (float64 BLAS, every value < 2**53)."""
    return np.rint(np.asarray(x, np.float64) @ np.asarray(w, np.float64).T).astype(np.int64)


def rmsnorm_int(x, g, log2_d: int):
    """Integer RMSNorm of the last axis: y = sat8((x * g * RSQRT[m]) >> (15 + k + 2)).

    ms = mean(x^2) (shift by log2 d), then ms = m * 4**k with m in [64, 256) (or
    k = 0 for small ms), so 1/sqrt(ms) = RSQRT[m] * 2**-(15 + k).
    """
    x = np.asarray(x, dtype=np.int64)
    ss = np.sum(x * x, axis=-1, keepdims=True)
    ms = np.maximum(ss >> log2_d, 1)
    k = np.maximum(0, (bit_length(ms) - 7) // 2)
    m = ms >> (2 * k)
    r = RSQRT_TABLE[m]
    return sat(rshift_round(x * np.asarray(g, np.int64) * r, 15 + k + NORM_SHIFT), 8)


def softmax_weights(scores, smax, shift: int):
    """EXP[min(255, (smax - s) >> shift)]: unnormalised 8-bit attention weights."""
    d = np.minimum(255, (smax - scores) >> shift)
    return EXP_TABLE[d]


def normalise_attention(acc, esum):
    """o = sat8(acc / esum) via an 8-bit-mantissa reciprocal table (esum >= 255)."""
    n = bit_length(esum)
    m = esum >> (n - 8)
    r = RECIP_TABLE[m - 128]
    return sat(rshift_round(acc * r, 16 + n - 8), 8)


# ----------------------------------------------------------------------------
# integer parameters
# ----------------------------------------------------------------------------

MATRICES = ("wq", "wk", "wv", "wo", "w1", "w2")


@dataclasses.dataclass
class IntParams:
    """All integer parameters of a model. Ternary matrices are (out, in) in {-1, 0, 1}.

    requant[name] = (M, S) per matrix; layer matrices are named f"{i}.{mat}".
    att_shift[i]  = shift that turns score differences into 1/16-nat steps.
    alibi_shift[i][h] = distance penalty of head h in layer i: score -= distance << shift.
    """

    cfg: Config
    tok_emb: np.ndarray  # (V, d) int8
    emb_shift: int
    layers: list  # per layer: dict g1, g2 (d,) int8; wq.. w2 ternary
    gf: np.ndarray
    wlm: np.ndarray  # (V, d) ternary
    requant: dict  # name -> (M, S)
    att_shift: list
    alibi_shift: list  # per layer: one shift per head

    def check(self) -> None:
        """Raise ValueError naming the first parameter of the wrong shape or range."""
        c = self.cfg
        d, f, v = c.d_model, c.d_ff, c.vocab_size
        expect = {
            "tok_emb": (self.tok_emb, (v, d), 8),
            "gf": (self.gf, (d,), 8),
            "wlm": (self.wlm, (v, d), 2),
        }
        if len(self.layers) != c.n_layers:
            raise ValueError(f"expected {c.n_layers} layers, found {len(self.layers)}")
        for i, layer in enumerate(self.layers):
            shapes = {"g1": (d,), "g2": (d,), "wq": (d, d), "wk": (d, d), "wv": (d, d),
                      "wo": (d, d), "w1": (f, d), "w2": (d, f)}
            for key, shape in shapes.items():
                if key not in layer:
                    raise ValueError(f"layer {i}: missing {key}")
                expect[f"{i}.{key}"] = (layer[key], shape, 8 if key[0] == "g" else 2)
        for name, (arr, shape, bits) in expect.items():
            arr = np.asarray(arr)
            if arr.shape != shape:
                raise ValueError(f"{name}: shape {arr.shape}, expected {shape} for config '{c.name}'")
            if bits == 2:
                bad = ~np.isin(arr, (-1, 0, 1))
                if bad.any():
                    idx = tuple(int(i) for i in np.argwhere(bad)[0])
                    raise ValueError(f"{name}: value {arr[idx]} at {idx} is not ternary (-1, 0, +1)")
            elif arr.min() < -128 or arr.max() > 127:
                raise ValueError(f"{name}: values outside int8 [-128, 127]")
        for name in self.requant_names():
            if name not in self.requant:
                raise ValueError(f"missing requantisation constants for {name}")
            m, s = self.requant[name]
            if not (0 < m < 2**15 and 1 <= s <= 47):
                raise ValueError(f"{name}: requant (M={m}, S={s}) outside 0<M<2^15, 1<=S<=47")
        if len(self.att_shift) != c.n_layers or not all(0 <= s <= 24 for s in self.att_shift):
            raise ValueError("att_shift: one shift in 0..24 per layer expected")
        if (len(self.alibi_shift) != c.n_layers
                or not all(len(a) == c.n_heads and all(0 <= int(s) <= ALIBI_SHIFT_MAX for s in a)
                           for a in self.alibi_shift)):
            raise ValueError(f"alibi_shift: per layer, one shift in 0..{ALIBI_SHIFT_MAX} per head expected")
        if not 0 <= self.emb_shift <= 7:
            raise ValueError("emb_shift must be in 0..7")

    def requant_names(self) -> list[str]:
        return [f"{i}.{m}" for i in range(self.cfg.n_layers) for m in MATRICES] + ["lm"]

    def digest(self) -> str:
        """sha256 over every integer parameter: the model hash the bitstream reports."""
        h = hashlib.sha256()
        h.update(json.dumps(self.cfg.to_dict(), sort_keys=True).encode())
        for arr in self.arrays():
            h.update(np.ascontiguousarray(arr, dtype=np.int8).tobytes())
        h.update(json.dumps([self.emb_shift, self.att_shift, [list(map(int, a)) for a in self.alibi_shift],
                             sorted((k, list(v)) for k, v in self.requant.items())]).encode())
        return h.hexdigest()

    def arrays(self):
        yield self.tok_emb
        for layer in self.layers:
            for key in ("g1", "wq", "wk", "wv", "wo", "g2", "w1", "w2"):
                yield layer[key]
        yield self.gf
        yield self.wlm

    @classmethod
    def random(cls, cfg: Config, seed: int = 0, density: float = 0.66) -> "IntParams":
        """Random ternary weights with aggressive constants: drives the saturation paths."""
        rng = np.random.default_rng(seed)
        d, f, v = cfg.d_model, cfg.d_ff, cfg.vocab_size

        def tern(*shape):
            w = rng.integers(-1, 2, size=shape)
            return np.where(rng.random(shape) < density, w, 0).astype(np.int64)

        def i8(*shape):
            return rng.integers(-128, 128, size=shape).astype(np.int64)

        layers = [dict(g1=i8(d), g2=i8(d), wq=tern(d, d), wk=tern(d, d), wv=tern(d, d),
                       wo=tern(d, d), w1=tern(f, d), w2=tern(d, f)) for _ in range(cfg.n_layers)]
        # residual-writing matrices get small shifts so the int16 saturation is exercised too
        requant = {f"{i}.{m}": (int(rng.integers(1 << 12, 1 << 15)),
                                int(rng.integers(6, 12) if m in ("wo", "w2") else rng.integers(10, 17)))
                   for i in range(cfg.n_layers) for m in MATRICES}
        requant["lm"] = (int(rng.integers(1 << 12, 1 << 15)), int(rng.integers(8, 14)))
        att_shift = [int(rng.integers(4, 10)) for _ in range(cfg.n_layers)]
        # shifts around att_shift put distance penalties where they change the softmax
        alibi_shift = [[int(rng.integers(max(0, a - 2), min(ALIBI_SHIFT_MAX, a + 4) + 1))
                        for _ in range(cfg.n_heads)] for a in att_shift]
        p = cls(cfg=cfg, tok_emb=i8(v, d), emb_shift=int(rng.integers(0, 4)),
                layers=layers, gf=i8(d), wlm=tern(v, d), requant=requant,
                att_shift=att_shift, alibi_shift=alibi_shift)
        p.check()
        return p


# ----------------------------------------------------------------------------
# the reference forward pass
# ----------------------------------------------------------------------------


def band_distance(t: int, context: int):
    """(distance, visible) of every query/key pair of a t-token stream.

    distance[i, j] = i - j; query i sees key j when 0 <= i - j < context: itself and
    the context-1 tokens before it (what the ring-buffer KV cache holds).
    """
    idx = np.arange(t)
    dist = idx[:, None] - idx[None, :]
    return dist, (dist >= 0) & (dist < context)


def attention_scores(q, k, dist, alibi_shift: int):
    """q.k - (distance << alibi_shift): the integer score of each visible pair."""
    return imatmul_batched(q, k) - (np.asarray(dist, np.int64) << int(alibi_shift))


def forward(p: IntParams, tokens, dump: dict | None = None):
    """Integer forward pass over whole streams (any length, banded causal attention).

    tokens: int array (..., T). Returns int64 logits (..., T, V) in 1/16 nat. Token i
    attends to tokens i-context+1..i, so the logits of a stream of any length equal
    those of generating it token by token through the ring-buffer KV cache.
    If dump is a dict, every intermediate vector is stored in it by name
    (e.g. "0.q", "1.x_out", "logits"), each of shape (..., T, width).
    """
    c = p.cfg
    tokens = np.asarray(tokens, dtype=np.int64)
    if tokens.ndim == 1:
        tokens = tokens[None]
    b, t = tokens.shape
    if tokens.min() < 0 or tokens.max() >= c.vocab_size:
        raise ValueError("token outside the vocabulary")
    log2_d = c.d_model.bit_length() - 1
    hd = c.head_dim

    def keep(name, val):
        if dump is not None:
            dump[name] = val.copy()
        return val

    x = p.tok_emb[tokens] << p.emb_shift
    keep("x_emb", x)
    dist, visible = band_distance(t, c.context)
    for i, L in enumerate(p.layers):
        rq = lambda m, acc: requant(acc, *p.requant[f"{i}.{m}"])  # noqa: E731
        h = keep(f"{i}.h1", rmsnorm_int(x, L["g1"], log2_d))
        q = keep(f"{i}.q", sat(rq("wq", imatmul(h, L["wq"])), 8))
        k = keep(f"{i}.k", sat(rq("wk", imatmul(h, L["wk"])), 8))
        v = keep(f"{i}.v", sat(rq("wv", imatmul(h, L["wv"])), 8))
        heads = []
        for hh in range(c.n_heads):
            sl = slice(hh * hd, (hh + 1) * hd)
            s = attention_scores(q[..., sl], k[..., sl], dist, p.alibi_shift[i][hh])  # (b, t, t)
            s = np.where(visible, s, np.iinfo(np.int64).min // 4)
            smax = s.max(axis=-1, keepdims=True)
            e = np.where(visible, softmax_weights(np.where(visible, s, smax), smax, p.att_shift[i]), 0)
            acc = np.rint(e.astype(np.float64) @ v[..., sl].astype(np.float64)).astype(np.int64)
            heads.append(normalise_attention(acc, e.sum(axis=-1, keepdims=True)))
        o = keep(f"{i}.att", np.concatenate(heads, axis=-1))
        y = keep(f"{i}.att_out", sat(rq("wo", imatmul(o, L["wo"])), 16))
        x = keep(f"{i}.x_mid", sat(x + y, 16))
        h = keep(f"{i}.h2", rmsnorm_int(x, L["g2"], log2_d))
        a = keep(f"{i}.ffn_act", np.clip(rq("w1", imatmul(h, L["w1"])), 0, 127))
        y = keep(f"{i}.ffn_out", sat(rq("w2", imatmul(a, L["w2"])), 16))
        x = keep(f"{i}.x_out", sat(x + y, 16))
    h = keep("hf", rmsnorm_int(x, p.gf, log2_d))
    return keep("logits", sat(requant(imatmul(h, p.wlm), *p.requant["lm"]), 16))


def stream_logits(p: IntParams, tokens, chunk: int = 512):
    """forward(p, tokens) of one long stream, computed in chunks (same integers, less memory).

    A position's logits depend on the 1 + n_layers*(context-1) tokens up to it, so each
    chunk is run with that much history in front and only its own rows are kept.
    """
    tokens = np.asarray(tokens, dtype=np.int64)
    halo = p.cfg.n_layers * (p.cfg.context - 1)
    out = []
    for start in range(0, len(tokens), chunk):
        lo = max(0, start - halo)
        z = forward(p, tokens[lo: start + chunk])[0]
        out.append(z[start - lo:])
    return np.concatenate(out) if out else np.zeros((0, p.cfg.vocab_size), np.int64)


def imatmul_batched(a, b):
    """a @ b^T over the last two axes, exact."""
    return np.rint(np.asarray(a, np.float64) @ np.swapaxes(np.asarray(b, np.float64), -1, -2)).astype(np.int64)


# ----------------------------------------------------------------------------
# sampling and autoregressive generation (what the on-chip FSM does)
# ----------------------------------------------------------------------------


def xorshift32(state: int) -> int:
    state ^= (state << 13) & 0xFFFFFFFF
    state ^= state >> 17
    state ^= (state << 5) & 0xFFFFFFFF
    return state & 0xFFFFFFFF


def seed_state(seed: int) -> int:
    """The PRNG state for a seed (xorshift32 must never hold 0)."""
    seed &= 0xFFFFFFFF
    return seed if seed else 0x9E3779B9


def temperature_to_tinv(temperature: float) -> int:
    """Temperature as the integer the core uses: 0 = greedy, else round(256 / T)."""
    if not math.isfinite(temperature) or temperature < 0:
        raise ValueError(f"temperature must be >= 0 and finite (got {temperature})")
    if temperature == 0:
        return 0
    return int(min(65535, max(1, round(256 / temperature))))


def sample(logits, tinv: int, state: int) -> tuple[int, int]:
    """Pick the next token from int logits; returns (token, new PRNG state).

    Greedy (tinv == 0): first index of the maximum. Otherwise
    e_i = EXP[min(255, ((zmax - z_i) * tinv) >> 8)], r = (rand16 * sum e) >> 16,
    token = first i whose running sum of e exceeds r. One PRNG step per sample.
    """
    z = np.asarray(logits, dtype=np.int64)
    if tinv == 0:
        return int(np.argmax(z)), state
    d = np.minimum(255, ((z.max() - z) * tinv) >> 8)
    e = EXP_TABLE[d]
    state = xorshift32(state)
    r = ((state >> 16) * int(e.sum())) >> 16
    return int(np.argmax(np.cumsum(e) > r)), state


class KVCache:
    """One-token-at-a-time forward with a ring-buffer KV cache: the order the hardware computes in.

    Token n (counting from the reset) writes its k, v to slot n % context; its
    attention reads every filled slot, slot j holding the token at distance
    (n - j) % context. The stream never has to be cropped or re-prefilled.
    """

    def __init__(self, p: IntParams):
        self.p = p
        c = p.cfg
        self.k = np.zeros((c.n_layers, c.context, c.d_model), np.int64)
        self.v = np.zeros_like(self.k)
        self.length = 0

    def reset(self) -> None:
        self.length = 0

    def step(self, token: int, dump: dict | None = None) -> np.ndarray:
        p, c = self.p, self.p.cfg
        slot = self.length % c.context
        filled = min(self.length + 1, c.context)
        dist = (slot - np.arange(filled)) % c.context
        log2_d = c.d_model.bit_length() - 1
        hd = c.head_dim

        def keep(name, val):
            if dump is not None:
                dump[name] = val.copy()
            return val

        x = keep("x_emb", p.tok_emb[token] << p.emb_shift)
        for i, L in enumerate(p.layers):
            rq = lambda m, acc: requant(acc, *p.requant[f"{i}.{m}"])  # noqa: E731
            h = keep(f"{i}.h1", rmsnorm_int(x, L["g1"], log2_d))
            q = keep(f"{i}.q", sat(rq("wq", L["wq"] @ h), 8))
            self.k[i, slot] = keep(f"{i}.k", sat(rq("wk", L["wk"] @ h), 8))
            self.v[i, slot] = keep(f"{i}.v", sat(rq("wv", L["wv"] @ h), 8))
            heads = []
            for hh in range(c.n_heads):
                sl = slice(hh * hd, (hh + 1) * hd)
                s = self.k[i, :filled, sl] @ q[sl] - (dist << p.alibi_shift[i][hh])
                e = softmax_weights(s, s.max(), p.att_shift[i])
                heads.append(normalise_attention(e @ self.v[i, :filled, sl], e.sum()))
            o = keep(f"{i}.att", np.concatenate(heads))
            x = keep(f"{i}.x_mid", sat(x + keep(f"{i}.att_out", sat(rq("wo", L["wo"] @ o), 16)), 16))
            h = keep(f"{i}.h2", rmsnorm_int(x, L["g2"], log2_d))
            a = keep(f"{i}.ffn_act", np.clip(rq("w1", L["w1"] @ h), 0, 127))
            x = keep(f"{i}.x_out", sat(x + keep(f"{i}.ffn_out", sat(rq("w2", L["w2"] @ a), 16)), 16))
        h = keep("hf", rmsnorm_int(x, p.gf, log2_d))
        self.length += 1
        return keep("logits", sat(requant(p.wlm @ h, *p.requant["lm"]), 16))


def encode(text: str) -> list[int]:
    """Text to tokens: ASCII codes; any other character becomes '?'."""
    return [ord(ch) if ord(ch) < 128 else ord("?") for ch in text]


def decode(tokens) -> str:
    return "".join(chr(int(t)) for t in tokens)


def generate(p: IntParams, prompt: list[int], n: int, tinv: int = 0, seed: int = 1,
             on_token=None) -> list[int]:
    """Autoregressive generation exactly as the on-chip FSM does it.

    The prompt is cropped to its last `context` tokens (empty: "\n") and streamed
    through the ring-buffer KV cache; every generated token follows it through the
    same cache, so generation never stops or re-prefills for length.
    """
    c = p.cfg
    hist = list(prompt)[-c.context:] or [ord("\n")]
    cache = KVCache(p)
    state = seed_state(seed)
    out: list[int] = []
    if n <= 0:
        return out
    for tok in hist:
        logits = cache.step(tok)
    while True:
        tok, state = sample(logits, tinv, state)
        out.append(tok)
        if on_token is not None:
            on_token(tok)
        if len(out) >= n:
            return out
        logits = cache.step(tok)
