"""The host <-> FPGA UART protocol: frames, CRC, commands and responses.

The protocol is specified in docs/protocol.md; this module is its executable
form, shared by the host client (tritgpt.link.host) and the tests. rtl/tritgpt_proto.v
is the device side. The numbers both sides must agree on (frame types, error codes,
payload lengths, write-port memory ids) are defined here once; verilog_header()
writes them as rtl/tritgpt_proto_defs.vh for the RTL:

    python -m tritgpt.link.protocol --write     # after changing a number here
    python -m tritgpt.link.protocol --check     # exit 1 if the header is stale

Frame:  A5 | type | len | payload[len] | crc_hi | crc_lo
CRC-16/CCITT-FALSE (poly 0x1021, init 0xFFFF, no reflection, no final xor) over
type, len and payload, sent most significant byte first. Multi-byte payload
fields are little-endian, except the model hash (sent in digest order).
"""

from __future__ import annotations

import dataclasses
import enum
import struct
from collections.abc import Iterable

SYNC = 0xA5
PROTO_VERSION = 2             # 2: END carries the run's span (cycles until its last token was on the wire)
MAX_PAYLOAD = 255
MAX_WRITE_WORDS = 63          # 3 + 4 * 63 = 255 payload bytes
MAX_INLINE_PROMPT = MAX_PAYLOAD - 10
MAX_PROMPT_CHUNK = MAX_PAYLOAD - 1
MAX_BATCH = 32                # tokens per TOKENS frame (device side)
MAX_TOKENS = 0xFFFF           # n_tokens of GENERATE/BENCH is 16 bits
DEVICE_TIMEOUT_S = 0.020      # partial frame discarded after 20 ms without a byte
UART_BITS_PER_BYTE = 10       # 8N1: start bit, 8 data bits, stop bit
TOKENS_FRAME_OVERHEAD = 7     # sync, type, len, seq:u16, crc:u16 around a TOKENS frame's tokens



class Mem(enum.IntEnum):
    """Memory ids of the core's write port (wr_mem): 0..31 are the weight banks
    (wt_bankNN.hex), the rest named by their export.images() stem."""

    TOK_EMB = 32
    # 33 held the format-1 position table
    GAINS = 34
    CONSTS = 35


MEM_TOK_EMB, MEM_GAINS, MEM_CONSTS = Mem.TOK_EMB, Mem.GAINS, Mem.CONSTS
MAX_MEM = max(Mem)


class Cmd(enum.IntEnum):
    """Host -> device frame types."""

    IDENTIFY = 0x01
    GENERATE = 0x02
    PROMPT = 0x03
    BENCH = 0x04
    STOP = 0x05
    WRITE = 0x06


class Rsp(enum.IntEnum):
    """Device -> host frame types."""

    IDENT = 0x81
    ACK = 0x82
    TOKENS = 0x83
    END = 0x84
    ERROR = 0x85


class ErrorCode(enum.IntEnum):
    BAD_CRC = 0x01
    BAD_TYPE = 0x02
    BAD_LENGTH = 0x03
    TIMEOUT = 0x04
    BUSY = 0x05
    BAD_ARG = 0x06
    OVERRUN = 0x07
    FRAMING = 0x08
    GARBAGE = 0x09


ERROR_TEXT = {
    ErrorCode.BAD_CRC: "frame with a bad CRC discarded",
    ErrorCode.BAD_TYPE: "unknown frame type",
    ErrorCode.BAD_LENGTH: "length not allowed for this frame type",
    ErrorCode.TIMEOUT: "partial frame timed out",
    ErrorCode.BUSY: "command needs an idle device (a run is in progress)",
    ErrorCode.BAD_ARG: "argument out of range",
    ErrorCode.OVERRUN: "receive FIFO overrun: bytes were lost",
    ErrorCode.FRAMING: "UART framing error (wrong baud rate or line noise)",
    ErrorCode.GARBAGE: "bytes outside a frame ignored",
}


def _valid_len(ftype: int, n: int) -> bool:
    """Which payload lengths each frame type may have (both directions)."""
    if ftype in (Cmd.IDENTIFY, Cmd.STOP):
        return n == 0
    if ftype in (Cmd.GENERATE, Cmd.BENCH):
        return n >= 10
    if ftype == Cmd.PROMPT:
        return n >= 2
    if ftype == Cmd.WRITE:
        return n >= 7 and n % 4 == 3
    if ftype == Rsp.TOKENS:
        return 3 <= n <= 2 + MAX_BATCH
    if ftype in RESPONSE_LEN:
        return n == RESPONSE_LEN[ftype]
    return False


# ----------------------------------------------------------------------------
# CRC and framing
# ----------------------------------------------------------------------------


def _crc_table() -> list[int]:
    table = []
    for byte in range(256):
        c = byte << 8
        for _ in range(8):
            c = ((c << 1) ^ 0x1021) if c & 0x8000 else (c << 1)
        table.append(c & 0xFFFF)
    return table


_CRC_TABLE = _crc_table()


def crc16(data: Iterable[int], crc: int = 0xFFFF) -> int:
    """CRC-16/CCITT-FALSE: crc16(b"123456789") == 0x29B1."""
    for b in data:
        crc = ((crc << 8) & 0xFFFF) ^ _CRC_TABLE[((crc >> 8) ^ b) & 0xFF]
    return crc


def encode_frame(ftype: int, payload: bytes = b"") -> bytes:
    payload = bytes(payload)
    if len(payload) > MAX_PAYLOAD:
        raise ValueError(f"payload of {len(payload)} bytes exceeds {MAX_PAYLOAD}")
    body = bytes([ftype, len(payload)]) + payload
    c = crc16(body)
    return bytes([SYNC]) + body + bytes([c >> 8, c & 0xFF])


@dataclasses.dataclass(frozen=True)
class Frame:
    type: int
    payload: bytes

    def encode(self) -> bytes:
        return encode_frame(self.type, self.payload)


class FrameDecoder:
    """Incremental decoder: feed() bytes, get complete frames with a good CRC.

    It hunts for the sync byte, rejects a header whose type is not one of
    `types` or whose length that type cannot have, and on a CRC failure
    resumes hunting at the byte after the false sync, so a lost or corrupted
    byte costs at most the frames it touches. Counters say what was dropped.
    """

    def __init__(self, types: Iterable[int] = tuple(Rsp)):
        self.types = {int(t) for t in types}
        self.buf = bytearray()
        self.skipped = 0       # bytes discarded while hunting
        self.crc_errors = 0    # candidate frames with a bad CRC

    def reset(self) -> None:
        self.buf.clear()

    def feed(self, data: bytes) -> list[Frame]:
        self.buf += data
        frames = []
        buf = self.buf
        i = 0
        while True:
            j = buf.find(SYNC, i)
            if j < 0:
                self.skipped += len(buf) - i
                i = len(buf)
                break
            self.skipped += j - i
            i = j
            if len(buf) - i < 3:
                break
            ftype, n = buf[i + 1], buf[i + 2]
            if ftype not in self.types or not _valid_len(ftype, n):
                self.skipped += 1
                i += 1
                continue
            end = i + 3 + n + 2
            if len(buf) < end:
                break
            if crc16(buf[i + 1:end]) != 0:
                self.crc_errors += 1
                self.skipped += 1
                i += 1
                continue
            frames.append(Frame(ftype, bytes(buf[i + 3:i + 3 + n])))
            i = end
        del buf[:i]
        return frames

    @property
    def pending(self) -> int:
        """Bytes held back as the possible start of a frame."""
        return len(self.buf)


# ----------------------------------------------------------------------------
# what a link carries
# ----------------------------------------------------------------------------


def wire_tokens_per_second(baud: float) -> float:
    """The most tokens (= characters) per second a link at `baud` carries: full TOKENS
    frames (MAX_BATCH tokens each) back to back, 8N1."""
    return baud / UART_BITS_PER_BYTE * MAX_BATCH / (MAX_BATCH + TOKENS_FRAME_OVERHEAD)


def stream_rate(core_tokens_per_second: float, baud: float) -> dict:
    """What a stream delivers: the core's tokens/s against the wire's characters/s at `baud`.

    limit is "core" when the core is slower than the wire (tokens then leave in small
    frames as they are made, and the stream runs at the core's rate), else "wire"."""
    wire = wire_tokens_per_second(baud)
    return {"baud": int(baud), "wire_chars_per_s": wire, "core_tokens_per_s": core_tokens_per_second,
            "stream_chars_per_s": min(wire, core_tokens_per_second),
            "limit": "core" if core_tokens_per_second <= wire else "wire"}


# ----------------------------------------------------------------------------
# commands (host -> device)
# ----------------------------------------------------------------------------


def cmd_identify() -> bytes:
    return encode_frame(Cmd.IDENTIFY)


def cmd_stop() -> bytes:
    return encode_frame(Cmd.STOP)


def cmd_prompt(offset: int, data: bytes) -> bytes:
    if not 1 <= len(data) <= MAX_PROMPT_CHUNK or not 0 <= offset <= 255:
        raise ValueError("PROMPT: offset 0..255 and 1..254 bytes")
    return encode_frame(Cmd.PROMPT, bytes([offset]) + bytes(data))


def cmd_generate(n: int, tinv: int, seed: int, prompt_len: int, tail: bytes,
                 bench: bool = False) -> bytes:
    """GENERATE (or BENCH): the last len(tail) prompt bytes travel inline."""
    if not 1 <= n <= 0xFFFF:
        raise ValueError("number of tokens must be 1..65535")
    if len(tail) > MAX_INLINE_PROMPT or len(tail) > prompt_len:
        raise ValueError("inline prompt tail too long")
    payload = struct.pack("<HHIH", n, tinv & 0xFFFF, seed & 0xFFFFFFFF, prompt_len) + bytes(tail)
    return encode_frame(Cmd.BENCH if bench else Cmd.GENERATE, payload)


def prompt_frames(prompt: bytes, n: int, tinv: int, seed: int, bench: bool = False) -> list[bytes]:
    """The frames that load a prompt and start a run: PROMPT chunks for the head
    of a long prompt, then GENERATE/BENCH carrying the rest inline."""
    prompt = bytes(prompt)
    if not prompt:
        raise ValueError("empty prompt")
    tail_len = min(len(prompt), MAX_INLINE_PROMPT)
    head = prompt[: len(prompt) - tail_len]
    frames = [cmd_prompt(off, head[off:off + MAX_PROMPT_CHUNK])
              for off in range(0, len(head), MAX_PROMPT_CHUNK)]
    frames.append(cmd_generate(n, tinv, seed, len(prompt), prompt[len(head):], bench))
    return frames


def cmd_write(mem: int, addr: int, words: Iterable[int]) -> bytes:
    words = [int(w) & 0xFFFFFFFF for w in words]
    if not 1 <= len(words) <= MAX_WRITE_WORDS:
        raise ValueError(f"WRITE carries 1..{MAX_WRITE_WORDS} words")
    if not 0 <= mem <= MAX_MEM or not (0 <= addr and addr + len(words) <= 0x10000):
        raise ValueError(f"WRITE: memory 0..{MAX_MEM}, address range within 0..65535")
    return encode_frame(Cmd.WRITE, struct.pack(f"<BH{len(words)}I", mem, addr, *words))


def mem_id(stem: str) -> int:
    """The write-port memory id of an export.images() stem."""
    if stem.startswith("wt_bank"):
        return int(stem[len("wt_bank"):])
    try:
        return int(Mem[stem.upper()])
    except KeyError:
        raise ValueError(f"no write-port memory for image {stem!r}") from None


# ----------------------------------------------------------------------------
# responses (device -> host)
# ----------------------------------------------------------------------------

_IDENT = struct.Struct("<BH8sIIBBBHHHHBBHI")
_ACK = struct.Struct("<BBHB")
_END = struct.Struct("<BHIHI")
IDENT_LEN = _IDENT.size
# payload lengths of the fixed-size responses (TOKENS: 2 + 1..MAX_BATCH)
RESPONSE_LEN = {Rsp.IDENT: _IDENT.size, Rsp.ACK: _ACK.size, Rsp.END: _END.size, Rsp.ERROR: 2}


@dataclasses.dataclass(frozen=True)
class Ident:
    proto_version: int
    fw_version: int
    model_hash: str          # 16 hex digits: the first 8 bytes of IntParams.digest()
    clk_hz: int
    baud: int
    vocab_size: int
    n_layers: int
    n_heads: int
    d_model: int
    d_ff: int
    context: int
    lanes: int
    running: bool
    core_busy: bool
    bench: bool
    max_write_words: int
    tok_count: int
    cycle_count: int

    @property
    def fw_version_str(self) -> str:
        return f"{self.fw_version >> 8}.{self.fw_version & 0xFF}"

    def config(self) -> dict:
        return {"vocab_size": self.vocab_size, "d_model": self.d_model, "n_heads": self.n_heads,
                "d_ff": self.d_ff, "context": self.context, "n_layers": self.n_layers}


def parse_ident(payload: bytes) -> Ident:
    (pv, fw, h, clk, baud, vocab, nl, nh, d, f, ctx, lanes, flags, maxw,
     tokc, cyc) = _IDENT.unpack(payload)
    return Ident(pv, fw, h.hex(), clk, baud, vocab, nl, nh, d, f, ctx, lanes,
                 bool(flags & 1), bool(flags & 2), bool(flags & 4), maxw, tokc, cyc)


def encode_ident(i: Ident) -> bytes:
    """IDENT payload (used by tests that play the device)."""
    flags = int(i.running) | int(i.core_busy) << 1 | int(i.bench) << 2
    return _IDENT.pack(i.proto_version, i.fw_version, bytes.fromhex(i.model_hash), i.clk_hz, i.baud,
                       i.vocab_size, i.n_layers, i.n_heads, i.d_model, i.d_ff, i.context, i.lanes,
                       flags, i.max_write_words, i.tok_count, i.cycle_count)


@dataclasses.dataclass(frozen=True)
class Ack:
    cmd: int
    a: int
    b: int
    c: int


def parse_ack(payload: bytes) -> Ack:
    return Ack(*_ACK.unpack(payload))


@dataclasses.dataclass(frozen=True)
class Tokens:
    seq: int             # index (mod 65536) of the first token in this frame
    tokens: bytes


def parse_tokens(payload: bytes) -> Tokens:
    return Tokens(payload[0] | payload[1] << 8, bytes(payload[2:]))


@dataclasses.dataclass(frozen=True)
class End:
    stopped: bool        # a STOP arrived during the run
    bench: bool
    tokens: int          # tokens produced (mod 65536)
    cycles: int          # core cycles of the run, excluding back-pressure stalls
    token_crc: int       # crc16 over all tokens produced
    span_cycles: int = 0  # cycles from the run's start until its last TOKENS frame had left the UART
                          # (stalls included): the board's own clock on how fast the stream arrived

    @property
    def status(self) -> int:
        return int(self.stopped) | int(self.bench) << 1


def parse_end(payload: bytes) -> End:
    status, n, cyc, tcrc, span = _END.unpack(payload)
    return End(bool(status & 1), bool(status & 2), n, cyc, tcrc, span)


@dataclasses.dataclass(frozen=True)
class DeviceError:
    code: int
    detail: int

    def describe(self) -> str:
        try:
            code = ErrorCode(self.code)
        except ValueError:
            return f"device error 0x{self.code:02x} (detail 0x{self.detail:02x})"
        text = ERROR_TEXT[code]
        if code in (ErrorCode.BAD_CRC, ErrorCode.BAD_LENGTH, ErrorCode.BUSY, ErrorCode.BAD_ARG) \
                and self.detail in iter(Cmd):
            text += f" ({Cmd(self.detail).name})"
        return f"{code.name}: {text}"


def parse_error(payload: bytes) -> DeviceError:
    return DeviceError(payload[0], payload[1])


def parse(frame: Frame):
    """A decoded response frame as its dataclass (Ident, Ack, Tokens, End, DeviceError)."""
    parsers = {Rsp.IDENT: parse_ident, Rsp.ACK: parse_ack, Rsp.TOKENS: parse_tokens,
               Rsp.END: parse_end, Rsp.ERROR: parse_error}
    return parsers[Rsp(frame.type)](frame.payload)


def encode_response(obj) -> bytes:
    """The frame for a response dataclass (used by tests that play the device)."""
    if isinstance(obj, Ident):
        return encode_frame(Rsp.IDENT, encode_ident(obj))
    if isinstance(obj, Ack):
        return encode_frame(Rsp.ACK, _ACK.pack(obj.cmd, obj.a, obj.b, obj.c))
    if isinstance(obj, Tokens):
        return encode_frame(Rsp.TOKENS, struct.pack("<H", obj.seq) + obj.tokens)
    if isinstance(obj, End):
        return encode_frame(Rsp.END, _END.pack(obj.status, obj.tokens, obj.cycles, obj.token_crc,
                                                 obj.span_cycles))
    if isinstance(obj, DeviceError):
        return encode_frame(Rsp.ERROR, bytes([obj.code, obj.detail]))
    raise TypeError(f"not a response: {obj!r}")


# ----------------------------------------------------------------------------
# the RTL's copy of the numbers: rtl/tritgpt_proto_defs.vh
# ----------------------------------------------------------------------------

PROTO_DEFS_HEADER = "tritgpt_proto_defs.vh"


def verilog_header() -> str:
    """rtl/tritgpt_proto_defs.vh: every protocol number the RTL uses, as `define macros."""
    def define(name: str, bits: int, value: int, why: str = "", count: bool = False) -> str:
        number = f"{bits}'d{int(value)}" if count else f"{bits}'h{int(value):0{(bits + 3) // 4}X}"
        text = f"`define {name:<22} {number}"
        return text + (f"   // {why}" if why else "")

    lines = [
        "// Generated by `python -m tritgpt.link.protocol --write` from tritgpt/link/protocol.py;",
        "// do not edit. The protocol's numbers (docs/protocol.md), shared with the host.",
        "`ifndef TRITGPT_PROTO_DEFS_VH",
        "`define TRITGPT_PROTO_DEFS_VH",
        "",
        define("TG_SYNC", 8, SYNC, "first byte of every frame"),
        define("TG_PROTO_VERSION", 8, PROTO_VERSION),
        "",
        "// host -> device frame types",
        *(define(f"TG_CMD_{c.name}", 8, c) for c in Cmd),
        "",
        "// device -> host frame types",
        *(define(f"TG_RSP_{r.name}", 8, r) for r in Rsp),
        "",
        "// ERROR codes",
        *(define(f"TG_ERR_{e.name}", 8, e) for e in ErrorCode),
        "",
        "// payload lengths of the fixed-size responses",
        *(define(f"TG_{r.name}_LEN", 8, n, count=True) for r, n in RESPONSE_LEN.items()),
        define("TG_MAX_BATCH", 8, MAX_BATCH, "tokens per TOKENS frame", count=True),
        define("TG_MAX_WRITE_WORDS", 8, MAX_WRITE_WORDS, "32-bit words per WRITE frame", count=True),
        "",
        "// write-port memory ids (wr_mem): 0..31 weight banks, then",
        *(define(f"TG_MEM_{m.name}", 6, m, count=True) for m in Mem),
        define("TG_MEM_MAX", 6, MAX_MEM, count=True),
        "",
        "`endif",
        "",
    ]
    return "\n".join(lines)


def _main(argv=None) -> int:
    import argparse
    import sys

    from ..paths import RTL_DIR

    ap = argparse.ArgumentParser(description=f"write or check rtl/{PROTO_DEFS_HEADER}")
    g = ap.add_mutually_exclusive_group(required=True)
    g.add_argument("--write", action="store_true", help=f"write rtl/{PROTO_DEFS_HEADER}")
    g.add_argument("--check", action="store_true", help="exit 1 if the committed header is stale")
    a = ap.parse_args(argv)
    path = RTL_DIR / PROTO_DEFS_HEADER
    if a.write:
        path.write_text(verilog_header())
        print(f"wrote {path}")
        return 0
    if not path.is_file() or path.read_text() != verilog_header():
        print(f"{path} is stale: run `python -m tritgpt.link.protocol --write`", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(_main())
