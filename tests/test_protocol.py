"""The UART protocol in Python (tritgpt/protocol.py) and the host client's error paths.

The host-side failures (no port, permission, silent board, garbled replies, wrong
model) are exercised against a scripted device on a pseudo-terminal.
"""

from __future__ import annotations

import errno
import os
import random
import re
import struct
import threading
import time
import tty
from pathlib import Path

import pytest

from tritgpt.link import protocol as P
from tritgpt.errors import UserError

ROOT = Path(__file__).resolve().parents[1]


# ----------------------------------------------------------------------------
# CRC and framing
# ----------------------------------------------------------------------------


def test_crc16_check_value_and_residue():
    assert P.crc16(b"123456789") == 0x29B1          # CRC-16/CCITT-FALSE check value
    assert P.crc16(b"") == 0xFFFF
    frame = P.encode_frame(P.Cmd.STOP)
    assert frame == bytes([0xA5, 0x05, 0x00]) + P.crc16(b"\x05\x00").to_bytes(2, "big")
    assert P.crc16(frame[1:]) == 0                   # type..crc: zero residue (what the RTL checks)


def test_encode_decode_roundtrip_any_split():
    rng = random.Random(1)
    objs = [P.Ack(P.Cmd.WRITE, 3, 0x1234, 63), P.Tokens(65535, b"hello"), P.DeviceError(1, 2),
            P.End(True, False, 500, 123456789, 0xBEEF), P.Tokens(7, bytes(range(32)))]
    ident = P.Ident(1, 0x0100, "0123456789abcdef", 100_000_000, 115200, 128, 2, 2, 64, 256, 128, 256,
                    True, True, False, 63, 17, 99)
    objs.append(ident)
    stream = b"".join(P.encode_response(o) for o in objs)
    for _ in range(20):
        dec, got, i = P.FrameDecoder(), [], 0
        while i < len(stream):
            j = i + rng.randrange(1, 9)
            got += [P.parse(f) for f in dec.feed(stream[i:j])]
            i = j
        assert got == objs
        assert dec.skipped == 0 and dec.crc_errors == 0 and dec.pending == 0


def test_decoder_resyncs_after_garbage_corruption_and_truncation():
    a = P.encode_response(P.Tokens(0, b"abc"))
    b = P.encode_response(P.Tokens(3, b"def"))
    c = P.encode_response(P.End(False, False, 6, 100, 0))
    corrupted = bytearray(b)
    corrupted[5] ^= 0x01
    # noise that contains a sync byte and a plausible header
    noise = bytes([0x00, P.SYNC, P.Rsp.TOKENS, 0x05, 0x01])
    stream = noise + a + bytes(corrupted) + a[:4] + c
    dec = P.FrameDecoder()
    got = [P.parse(f) for f in dec.feed(stream)]
    assert got == [P.parse(P.FrameDecoder().feed(a)[0]), P.End(False, False, 6, 100, 0)]
    assert dec.crc_errors >= 1 and dec.skipped > 0


def test_decoder_rejects_impossible_headers():
    dec = P.FrameDecoder()
    # ERROR frames always have 2 payload bytes; TOKENS at most 34
    assert dec.feed(bytes([P.SYNC, P.Rsp.ERROR, 3, 0, 0, 0, 0, 0])) == []
    assert dec.feed(bytes([P.SYNC, P.Rsp.TOKENS, 200])) == []
    assert dec.pending < 3


def test_command_encoding():
    f = P.cmd_generate(500, 320, 0x01020304, 6, b"ROMEO:")
    assert f[:3] == bytes([P.SYNC, P.Cmd.GENERATE, 16])
    assert struct.unpack("<HHIH", f[3:13]) == (500, 320, 0x01020304, 6) and f[13:19] == b"ROMEO:"
    w = P.cmd_write(35, 2, [0x01234567, 0x89ABCDEF])
    assert w[3:6] == bytes([35, 2, 0]) and w[6:10] == bytes([0x67, 0x45, 0x23, 0x01])
    with pytest.raises(ValueError):
        P.cmd_write(36, 0, [1])
    with pytest.raises(ValueError):
        P.cmd_write(0, 0xFFFF, [1, 2])
    with pytest.raises(ValueError):
        P.cmd_write(0, 0, list(range(64)))
    assert [P.mem_id(s) for s in ("wt_bank00", "wt_bank15", "tok_emb", "gains", "consts")] \
        == [0, 15, 32, 34, 35]
    with pytest.raises(ValueError, match="no write-port memory"):
        P.mem_id("pos_emb")                       # weights format 1 only


@pytest.mark.parametrize("length", [1, 16, 245, 246, 256])
def test_prompt_frames_reassemble(length):
    """PROMPT chunks + GENERATE tail, replayed the way the device does, give the prompt back."""
    prompt = bytes(random.Random(length).randrange(128) for _ in range(length))
    frames = P.prompt_frames(prompt, 10, 0, 1)
    hist = bytearray(256)
    plen = None
    for f in frames:
        fr = P.FrameDecoder(types=P.Cmd).feed(f)[0]
        if fr.type == P.Cmd.PROMPT:
            off = fr.payload[0]
            hist[off:off + len(fr.payload) - 1] = fr.payload[1:]
        else:
            assert fr is not None and fr.type == P.Cmd.GENERATE
            plen = struct.unpack("<H", fr.payload[8:10])[0]
            tail = fr.payload[10:]
            hist[plen - len(tail):plen] = tail
    assert plen == length and bytes(hist[:plen]) == prompt
    assert len(frames) == (1 if length <= P.MAX_INLINE_PROMPT else 2)


def test_protocol_doc_example_dump_is_current():
    """docs/protocol.md's example byte dumps are produced by this module."""
    doc = (ROOT / "docs" / "protocol.md").read_text()
    examples = {
        "IDENTIFY": P.cmd_identify(),
        "IDENT": P.encode_response(P.Ident(P.PROTO_VERSION, 0x0100, "6696e458d234d71d", 50_000_000, 2_000_000,
                                           128, 2, 2, 64, 256, 128, 256, False, False, False, 63, 0, 0)),
        "GENERATE": P.cmd_generate(3, 0, 1, 6, b"ROMEO:"),
        "ACK": P.encode_response(P.Ack(P.Cmd.GENERATE, 0, 3, 0)),
        "TOKENS": P.encode_response(P.Tokens(0, b"\nTh")),
        "END": P.encode_response(P.End(False, False, 3, 12345, P.crc16(b"\nTh"), 14129)),
        "ERROR": P.encode_response(P.DeviceError(P.ErrorCode.BAD_CRC, P.Cmd.GENERATE)),
        "WRITE": P.cmd_write(35, 2, [0x01234567]),
    }
    for name, frame in examples.items():
        dump = " ".join(f"{b:02x}" for b in frame)
        assert dump in doc, f"docs/protocol.md: {name} example should read: {dump}"
    for code in P.ErrorCode:
        assert re.search(rf"0x{code:02x}\b.*{code.name}", doc), f"error {code.name} not documented"


# ----------------------------------------------------------------------------
# host error paths against a scripted device on a pty
# ----------------------------------------------------------------------------


class ScriptedDevice:
    """Answers commands on a pty with a Python function: reply(frame) -> bytes."""

    def __init__(self, reply):
        self.master, slave = os.openpty()
        tty.setraw(slave)
        self.slave = slave
        self.port = os.ttyname(slave)
        self.reply = reply
        self.stop = False
        self.received: list = []
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self):
        import select

        dec = P.FrameDecoder(types=P.Cmd)
        while not self.stop:
            r, _, _ = select.select([self.master], [], [], 0.05)
            if not r:
                continue
            try:
                data = os.read(self.master, 4096)
            except OSError:
                continue
            for f in dec.feed(data):
                self.received.append(f)
                out = self.reply(f)
                if out:
                    os.write(self.master, out)

    def close(self):
        self.stop = True
        self.thread.join(timeout=2)
        os.close(self.master)
        os.close(self.slave)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


IDENT = P.Ident(P.PROTO_VERSION, 0x0100, "0123456789abcdef", 100_000_000, 115200, 128, 1, 2, 32, 64, 16, 256,
                False, False, False, 63, 0, 0)


def good_device(frame):
    if frame.type == P.Cmd.STOP:
        return P.encode_response(P.Ack(P.Cmd.STOP, 0, 0, 0))
    if frame.type == P.Cmd.IDENTIFY:
        return P.encode_response(IDENT)
    return b""


def test_no_such_port():
    from tritgpt.link.host import Board

    with pytest.raises(UserError, match="no such serial port /dev/ttyNOPE"):
        Board("/dev/ttyNOPE")


def test_permission_denied_mentions_dialout(monkeypatch):
    import serial

    from tritgpt.link.host import Board

    def deny(*a, **k):
        raise serial.SerialException(errno.EACCES, "could not open port /dev/ttyUSB1: [Errno 13] Permission denied")

    monkeypatch.setattr(serial, "Serial", deny)
    with pytest.raises(UserError, match="dialout"):
        Board("/dev/ttyUSB1")


def test_silent_board_times_out_with_advice():
    from tritgpt.link.host import Board

    with ScriptedDevice(lambda f: b"") as dev:
        t0 = time.monotonic()
        with Board(dev.port, timeout=0.3) as board, pytest.raises(UserError, match="not answering.*--baud"):
            board.identify()
        assert time.monotonic() - t0 < 3


def test_garbled_replies_blame_the_baud_rate():
    from tritgpt.link.host import Board

    def garbled(frame):
        out = bytearray(good_device(frame))
        if out:
            out[4] ^= 0x40
        return bytes(out) + b"\x13\x37" * 10

    with ScriptedDevice(garbled) as dev:
        with Board(dev.port, timeout=0.3) as board, pytest.raises(UserError, match="garbled.*CRC.*baud"):
            board.identify()


def test_retry_after_device_reports_bad_crc():
    """A command the device reports as corrupted is sent again."""
    from tritgpt.link.host import Board

    seen = {"n": 0}

    def flaky(frame):
        if frame.type == P.Cmd.IDENTIFY:
            seen["n"] += 1
            if seen["n"] == 1:
                return P.encode_response(P.DeviceError(P.ErrorCode.BAD_CRC, P.Cmd.IDENTIFY))
        return good_device(frame)

    with ScriptedDevice(flaky) as dev:
        with Board(dev.port, timeout=1.0) as board:
            assert board.identify() == IDENT
        assert seen["n"] == 2


def test_wrong_model_hash(tmp_path):
    from tritgpt.ml.export import write_package
    from tritgpt.link.host import Board
    from tritgpt.ml.model import Config, IntParams

    pkg = write_package(IntParams.random(Config.load("tiny"), seed=3), tmp_path / "pkg")
    with ScriptedDevice(good_device) as dev:
        with Board(dev.port, timeout=1.0) as board, pytest.raises(UserError, match="wrong model.*load-weights"):
            board.check_weights(pkg)


def test_lost_token_frame_is_detected():
    """A TOKENS frame that never arrives (sequence gap) is an error, not silent loss."""
    from tritgpt.link.host import Board

    def device(frame):
        if frame.type == P.Cmd.GENERATE:
            return (P.encode_response(P.Ack(P.Cmd.GENERATE, 0, 6, 0))
                    + P.encode_response(P.Tokens(0, b"abc"))
                    + P.encode_response(P.Tokens(6, b"ghi"))   # 3..5 lost
                    + P.encode_response(P.End(False, False, 9, 10, 0)))
        return good_device(frame)

    with ScriptedDevice(device) as dev:
        with Board(dev.port, timeout=1.0) as board, pytest.raises(UserError, match="3 token.*lost"):
            board.generate("x", 9)
