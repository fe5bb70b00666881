"""Weights package: integer parameters <-> BRAM init images + manifest.

A weights package is a directory:

    manifest.json          config, layout, sha256 of every file, format version
    wt_bank00.hex ..       ternary weight banks (LANES/16 banks of 32-bit words)
    tok_emb.hex            token embedding, 4 int8 per 32-bit word
    gains.hex              RMSNorm gains: g1, g2 per layer, then gf (4 int8 per word)
    consts.hex             requant constants, shifts, model hash (layout below)
    tritgpt_config.vh      Verilog header: model parameters and memory layout

Every image is `$readmemh` text, one 8-hex-digit word per line, with a power-of-two
number of lines (unused words are zero), so each maps onto whole BRAMs.

Ternary weight stream (what the matrix-vector unit reads, one address per cycle):
the matrices in order [layer 0: wq wk wv wo w1 w2, layer 1: ..., lm]. A matrix
(out, in) with in <= LANES takes LANES/in rows per address: lane j of address a
holds W[a*R + j // in, j % in] (R = LANES/in). With in > LANES, a row takes in/LANES
consecutive addresses. Lane j is bits [2(j%16)+1 : 2(j%16)] of bank j//16.
Codes: 01 = +1, 10 = -1, 00 = 0.

consts.hex words:
    0: 0x54475054 ("TGPT")   1: format version   2,3: first 8 bytes of the model hash
    4: emb_shift             8+8i+m: requant of layer i matrix m (M | S << 16), m = 0..5
    8+8i+6: att_shift of layer i                 8+8L: requant of the LM head
    8+8i+7: ALiBi shifts of layer i, head h in bits [4h+3:4h]

Format versions: 1 had a learned position table (pos_emb.hex); 2 has none (ALiBi
distance penalties, ring-buffer KV cache). A version-1 model cannot be converted.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from pathlib import Path

import numpy as np

from .model import MATRICES, Config, IntParams

FORMAT_VERSION = 2
FORMAT_HISTORY = {1: "learned position table, re-prefill past the context"}
LANES = 256
MAGIC = 0x54475054
CODE = {1: 0b01, -1: 0b10, 0: 0b00}


class WeightsError(ValueError):
    """A weights package or checkpoint that cannot be used; the message says why."""


def next_pow2(n: int) -> int:
    return 1 << max(0, int(n - 1).bit_length())


def matrix_order(cfg: Config) -> list[tuple[str, int, int]]:
    """(name, out, in) of every ternary matrix in stream order."""
    d, f, v = cfg.d_model, cfg.d_ff, cfg.vocab_size
    shapes = {"wq": (d, d), "wk": (d, d), "wv": (d, d), "wo": (d, d), "w1": (f, d), "w2": (d, f)}
    order = [(f"{i}.{m}", *shapes[m]) for i in range(cfg.n_layers) for m in MATRICES]
    return order + [("lm", v, d)]


def layout(cfg: Config, lanes: int = LANES) -> dict:
    """Address map of the weight stream and the depth of every image."""
    if lanes % 16 or lanes < 16:
        raise WeightsError("lanes must be a multiple of 16")
    mats, addr = {}, 0
    for name, out, inp in matrix_order(cfg):
        words = out * inp // lanes
        if words * lanes != out * inp or (inp < lanes and lanes % inp) or (inp > lanes and inp % lanes):
            raise WeightsError(f"matrix {name} ({out}x{inp}) does not tile onto {lanes} lanes")
        mats[name] = {"base": addr, "words": words, "out": out, "in": inp}
        addr += words
    d = cfg.d_model
    n_consts = 9 + 8 * cfg.n_layers
    return {
        "lanes": lanes,
        "banks": lanes // 16,
        "matrices": mats,
        "weight_words": addr,
        "depth": {
            "wt_bank": next_pow2(addr),
            "tok_emb": next_pow2(cfg.vocab_size * d // 4),
            "gains": next_pow2((2 * cfg.n_layers + 1) * d // 4),
            "consts": next_pow2(n_consts),
        },
    }


def _pack_int8(values: np.ndarray) -> np.ndarray:
    """Flatten int8 values into 32-bit words, element 4i in bits 7:0."""
    b = (np.asarray(values, np.int64).reshape(-1) & 0xFF).astype(np.uint64)
    b = b.reshape(-1, 4)
    return b[:, 0] | (b[:, 1] << 8) | (b[:, 2] << 16) | (b[:, 3] << 24)


def _unpack_int8(words: np.ndarray, n: int) -> np.ndarray:
    w = np.asarray(words, np.uint64)
    b = np.stack([(w >> (8 * i)) & 0xFF for i in range(4)], axis=1).reshape(-1)[:n].astype(np.int64)
    return np.where(b >= 128, b - 256, b)


def weight_stream(p: IntParams, lanes: int = LANES) -> np.ndarray:
    """(words, lanes) array of ternary values in stream order."""
    lay = layout(p.cfg, lanes)
    out = np.zeros((lay["weight_words"], lanes), np.int64)
    for name, _, _ in matrix_order(p.cfg):
        w = p.wlm if name == "lm" else p.layers[int(name.split(".")[0])][name.split(".")[1]]
        m = lay["matrices"][name]
        out[m["base"]: m["base"] + m["words"]] = np.asarray(w).reshape(m["words"], lanes)
    return out


def _bank_words(stream: np.ndarray, depth: int) -> list[np.ndarray]:
    codes = np.where(stream == 1, 1, np.where(stream == -1, 2, 0)).astype(np.uint64)
    banks = []
    for b in range(stream.shape[1] // 16):
        c = codes[:, 16 * b: 16 * b + 16]
        words = np.zeros(depth, np.uint64)
        words[: len(c)] = np.bitwise_or.reduce(c << (2 * np.arange(16, dtype=np.uint64)), axis=1)
        banks.append(words)
    return banks


def _consts_words(p: IntParams, depth: int) -> np.ndarray:
    w = np.zeros(depth, np.uint64)
    digest = bytes.fromhex(p.digest())
    w[0], w[1] = MAGIC, FORMAT_VERSION
    w[2] = int.from_bytes(digest[0:4], "big")
    w[3] = int.from_bytes(digest[4:8], "big")
    w[4] = p.emb_shift
    for i in range(p.cfg.n_layers):
        for j, m in enumerate(MATRICES):
            mm, s = p.requant[f"{i}.{m}"]
            w[8 + 8 * i + j] = mm | (s << 16)
        w[8 + 8 * i + 6] = p.att_shift[i]
        w[8 + 8 * i + 7] = sum(int(a) << (4 * h) for h, a in enumerate(p.alibi_shift[i]))
    mm, s = p.requant["lm"]
    w[8 + 8 * p.cfg.n_layers] = mm | (s << 16)
    return w


def images(p: IntParams, lanes: int = LANES) -> dict[str, np.ndarray]:
    """Every BRAM image of a model: file stem -> uint64 array of 32-bit words."""
    p.check()
    cfg, lay = p.cfg, layout(p.cfg, lanes)
    dep = lay["depth"]

    def padded(words, depth):
        out = np.zeros(depth, np.uint64)
        out[: len(words)] = words
        return out

    imgs = {f"wt_bank{b:02d}": w for b, w in enumerate(_bank_words(weight_stream(p, lanes), dep["wt_bank"]))}
    imgs["tok_emb"] = padded(_pack_int8(p.tok_emb), dep["tok_emb"])
    gains = np.concatenate([np.concatenate([L["g1"], L["g2"]]) for L in p.layers] + [p.gf])
    imgs["gains"] = padded(_pack_int8(gains), dep["gains"])
    imgs["consts"] = _consts_words(p, dep["consts"])
    return imgs


def verilog_header(p: IntParams, lanes: int = LANES) -> str:
    cfg, lay = p.cfg, layout(p.cfg, lanes)
    lines = [
        "// Generated by `tritgpt export`: model parameters and memory layout. Do not edit.",
        "`ifndef TRITGPT_CONFIG_VH", "`define TRITGPT_CONFIG_VH",
        f"`define TG_VOCAB {cfg.vocab_size}", f"`define TG_D_MODEL {cfg.d_model}",
        f"`define TG_N_HEADS {cfg.n_heads}", f"`define TG_HEAD_DIM {cfg.head_dim}",
        f"`define TG_D_FF {cfg.d_ff}", f"`define TG_CONTEXT {cfg.context}",
        f"`define TG_N_LAYERS {cfg.n_layers}", f"`define TG_LANES {lanes}",
        f"`define TG_WT_BANKS {lay['banks']}", f"`define TG_WT_WORDS {lay['weight_words']}",
    ]
    for key, depth in lay["depth"].items():
        lines.append(f"`define TG_DEPTH_{key.upper()} {depth}")
    for name, m in lay["matrices"].items():
        lines.append(f"`define TG_BASE_{name.replace('.', '_').upper()} {m['base']}")
    lines.append(f"`define TG_MODEL_HASH 64'h{p.digest()[:16]}")
    lines.append("`endif")
    return "\n".join(lines) + "\n"


def _hex_text(words: np.ndarray) -> str:
    return "".join(f"{int(w):08x}\n" for w in words)


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def write_package(p: IntParams, out_dir: Path, *, source: str = "", metrics: dict | None = None,
                  force: bool = False, lanes: int = LANES) -> Path:
    """Write a weights package atomically (a temp dir renamed into place).

    An existing package is only replaced with force=True; it is kept as NAME.bak until
    the new one is complete, so nothing is lost if writing fails.
    """
    out_dir = Path(out_dir)
    if out_dir.exists() and any(out_dir.iterdir()) and not force:
        raise WeightsError(f"{out_dir} already exists and is not empty; pass --force to replace it")
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.", dir=out_dir.parent))
    try:
        files = {}
        for stem, words in images(p, lanes).items():
            (tmp / f"{stem}.hex").write_text(_hex_text(words))
        (tmp / "tritgpt_config.vh").write_text(verilog_header(p, lanes))
        for f in sorted(tmp.iterdir()):
            files[f.name] = _sha256(f)
        manifest = {
            "format": "tritgpt-weights",
            "format_version": FORMAT_VERSION,
            "config": p.cfg.to_dict(),
            "model_hash": p.digest(),
            "layout": layout(p.cfg, lanes),
            "codes": {"+1": "01", "-1": "10", "0": "00"},
            "emb_shift": p.emb_shift,
            "att_shift": p.att_shift,
            "alibi_shift": p.alibi_shift,
            "requant": {k: list(v) for k, v in sorted(p.requant.items())},
            "files": files,
            "source": source,
            "metrics": metrics or {},
        }
        (tmp / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n")
        if out_dir.exists():
            backup = out_dir.with_name(out_dir.name + ".bak")
            if backup.exists():
                shutil.rmtree(backup)
            out_dir.rename(backup)
            tmp.rename(out_dir)
            shutil.rmtree(backup)
        else:
            tmp.rename(out_dir)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
    return out_dir


def record_metric(pkg: Path, key: str, value) -> None:
    """Add a figure (e.g. the measured validation loss) to manifest.json["metrics"].

    The manifest is not among the hashed files, so recording keeps the package valid.
    """
    manifest = read_manifest(pkg)
    manifest.setdefault("metrics", {})[key] = value
    tmp = Path(pkg) / "manifest.json.tmp"
    tmp.write_text(json.dumps(manifest, indent=2) + "\n")
    tmp.replace(Path(pkg) / "manifest.json")


def read_manifest(pkg: Path) -> dict:
    """manifest.json of a package, checked for the fields every reader relies on."""
    pkg = Path(pkg)
    mf = pkg / "manifest.json"
    if not pkg.is_dir():
        raise WeightsError(f"{pkg} is not a weights package directory (expected {pkg}/manifest.json)")
    if not mf.is_file():
        raise WeightsError(f"{pkg} has no manifest.json; create a package with `tritgpt export CKPT -o {pkg}`")
    try:
        manifest = json.loads(mf.read_text())
    except UnicodeDecodeError:
        raise WeightsError(f"{mf} is not text (binary or corrupt); re-export the package") from None
    except json.JSONDecodeError as exc:
        raise WeightsError(f"{mf} is not valid JSON (line {exc.lineno}: {exc.msg}); re-export the package") from None
    except OSError as exc:
        raise WeightsError(f"cannot read {mf}: {exc.strerror or exc}") from None
    if not isinstance(manifest, dict) or manifest.get("format") != "tritgpt-weights":
        raise WeightsError(f"{mf} is not a tritgpt weights manifest (no \"format\": \"tritgpt-weights\"); "
                           f"re-export the package")
    version = manifest.get("format_version")
    if version != FORMAT_VERSION:
        what = f" ({FORMAT_HISTORY[version]})" if version in FORMAT_HISTORY else ""
        raise WeightsError(f"{mf}: weights format version {version}{what}; this tritgpt reads version {FORMAT_VERSION}: "
                           f"train and export a new model (`tritgpt train`, then `tritgpt export CKPT -o {pkg}`)")
    for key, kind in (("config", dict), ("files", dict), ("layout", dict), ("model_hash", str)):
        if not isinstance(manifest.get(key), kind):
            what = "missing" if key not in manifest else f"not a {'JSON object' if kind is dict else 'string'}"
            raise WeightsError(f"{mf}: field {key!r} is {what}; re-export the package")
    if not all(isinstance(k, str) and isinstance(v, str) for k, v in manifest["files"].items()):
        raise WeightsError(f"{mf}: field 'files' must map file names to sha256 strings; re-export the package")
    lanes = manifest["layout"].get("lanes")
    if not isinstance(lanes, int) or isinstance(lanes, bool) or lanes < 16 or lanes % 16:
        raise WeightsError(f"{mf}: layout.lanes must be a multiple of 16, not {lanes!r}; re-export the package")
    return manifest


def _read_hex(path: Path, depth: int, manifest_note: str = "") -> np.ndarray:
    if not path.is_file():
        raise WeightsError(f"{path} is {'not a file' if path.exists() else 'missing'}; re-export the package")
    try:
        text = path.read_text()
    except UnicodeDecodeError:
        raise WeightsError(f"{path} is not a text hex image (binary or corrupt); re-export the package") from None
    except OSError as exc:
        raise WeightsError(f"cannot read {path}: {exc.strerror or exc}") from None
    words = []
    for n, line in enumerate(text.split("\n"), 1):
        line = line.strip()
        if not line:
            continue
        try:
            word = int(line, 16)
        except ValueError:
            raise WeightsError(f"{path}:{n}: not a hex word: {line[:20]!r}") from None
        if not 0 <= word <= 0xFFFFFFFF:
            raise WeightsError(f"{path}:{n}: {line[:20]!r} is not a 32-bit word")
        words.append(word)
    if len(words) != depth:
        raise WeightsError(f"{path}: {len(words)} words, expected {depth}{manifest_note}")
    return np.array(words, np.uint64)


def load_package(pkg: Path, verify: bool = True) -> IntParams:
    """Read a weights package back into IntParams (checking hashes, shapes and codes)."""
    pkg = Path(pkg)
    manifest = read_manifest(pkg)
    mf = pkg / "manifest.json"
    try:
        cfg = Config.from_dict(manifest["config"])
    except (TypeError, ValueError) as exc:
        raise WeightsError(f"{mf}: bad config: {exc}") from None
    if verify:
        for name, digest in manifest["files"].items():
            f = pkg / name
            if not f.is_file():
                raise WeightsError(f"{pkg}: {name} is {'not a file' if f.exists() else 'missing'}; re-export the package")
            if _sha256(f) != digest:
                raise WeightsError(f"{pkg}: {name} does not match its sha256 in manifest.json (edited or corrupt)")
    lanes = manifest["layout"]["lanes"]
    lay = layout(cfg, lanes)
    if {k: manifest["layout"].get(k) for k in lay} != lay:
        raise WeightsError(f"{mf}: the layout does not match the config ({_config_text(cfg)}): the manifest was "
                           f"edited or comes from another model; re-export the package")
    dep = lay["depth"]
    note = f" for the config in {mf} ({_config_text(cfg)}); the manifest and the images are from different models"
    banks = [_read_hex(pkg / f"wt_bank{b:02d}.hex", dep["wt_bank"], note) for b in range(lay["banks"])]
    stream = np.zeros((lay["weight_words"], lanes), np.int64)
    for b, words in enumerate(banks):
        for i in range(16):
            code = (words[: lay["weight_words"]] >> np.uint64(2 * i)) & np.uint64(3)
            if (code == 3).any():
                addr = int(np.argmax(code == 3))
                raise WeightsError(f"{pkg}/wt_bank{b:02d}.hex: invalid ternary code 11 at word {addr}, lane {16 * b + i}")
            stream[:, 16 * b + i] = np.where(code == 1, 1, np.where(code == 2, -1, 0))
    mats = {}
    for name, _, _ in matrix_order(cfg):
        m = lay["matrices"][name]
        mats[name] = stream[m["base"]: m["base"] + m["words"]].reshape(m["out"], m["in"])
    d = cfg.d_model
    tok = _unpack_int8(_read_hex(pkg / "tok_emb.hex", dep["tok_emb"], note), cfg.vocab_size * d).reshape(-1, d)
    gains = _unpack_int8(_read_hex(pkg / "gains.hex", dep["gains"], note), (2 * cfg.n_layers + 1) * d).reshape(-1, d)
    consts = _read_hex(pkg / "consts.hex", dep["consts"], note)
    if int(consts[0]) != MAGIC:
        raise WeightsError(f"{pkg}/consts.hex: bad magic word {int(consts[0]):08x}")

    def rq(word):
        return (int(word) & 0xFFFF, (int(word) >> 16) & 0x3F)

    layers = []
    requant = {}
    att_shift = []
    alibi_shift = []
    for i in range(cfg.n_layers):
        L = {m: mats[f"{i}.{m}"] for m in MATRICES}
        L["g1"], L["g2"] = gains[2 * i], gains[2 * i + 1]
        layers.append(L)
        for j, m in enumerate(MATRICES):
            requant[f"{i}.{m}"] = rq(consts[8 + 8 * i + j])
        att_shift.append(int(consts[8 + 8 * i + 6]))
        alibi_shift.append([(int(consts[8 + 8 * i + 7]) >> (4 * h)) & 0xF for h in range(cfg.n_heads)])
    requant["lm"] = rq(consts[8 + 8 * cfg.n_layers])
    p = IntParams(cfg=cfg, tok_emb=tok, emb_shift=int(consts[4]), layers=layers,
                  gf=gains[2 * cfg.n_layers], wlm=mats["lm"], requant=requant, att_shift=att_shift,
                  alibi_shift=alibi_shift)
    try:
        p.check()
    except ValueError as exc:
        raise WeightsError(f"{pkg}: {exc}") from None
    if verify and p.digest() != manifest["model_hash"]:
        raise WeightsError(f"{pkg}: decoded parameters do not match the manifest's model hash")
    # the manifest repeats the constants of consts.hex for readers; a copy that disagrees is refused
    recorded = {"emb_shift": manifest.get("emb_shift", p.emb_shift), "att_shift": manifest.get("att_shift", p.att_shift),
                "requant": manifest.get("requant", {k: list(v) for k, v in p.requant.items()})}
    decoded = {"emb_shift": p.emb_shift, "att_shift": list(p.att_shift),
               "requant": {k: list(v) for k, v in p.requant.items()}}
    for key, value in decoded.items():
        if recorded[key] != value:
            raise WeightsError(f"{mf}: field {key!r} does not match consts.hex (edited or corrupt); re-export the package")
    return p


def _config_text(cfg: Config) -> str:
    return ", ".join(f"{k}={v}" for k, v in cfg.to_dict().items() if k != "name")
