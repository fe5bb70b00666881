"""cocotb tests for the protocol engine (rtl/tritgpt_proto.v) with the fake core.

Bench: tests/rtl/proto_tb.v, byte streams in and out (no UART, for speed).
TG_WEIGHTS names the tiny weights package the bench was built with.
"""

from __future__ import annotations

import os
import random
import struct

import cocotb
from cocotb.clock import Clock
from cocotb.queue import Queue
from cocotb.triggers import ClockCycles, FallingEdge, ReadOnly, RisingEdge, with_timeout
from cocotb.utils import get_sim_time

from fake_core_ref import CYCLES_PER_TOKEN, fake_tokens
from tritgpt.link import protocol as P
from tritgpt.ml.export import load_package

TIMEOUT_CYCLES = 3000   # the bench's partial-frame timeout


class Host:
    """Drives command bytes in and decodes response frames out."""

    def __init__(self, dut):
        self.dut = dut
        self.frames: Queue = Queue()
        self.decoder = P.FrameDecoder()
        self.raw = bytearray()
        self.times: list[int] = []      # the clock cycle each byte in raw went out
        self.sent_cycle = 0             # when the host's last byte was taken
        self.first_tokens_cycle = None  # when the run's first TOKENS frame began
        self.end_cycle = None           # when the run's END frame began (its sync byte)

    @staticmethod
    def cycle() -> int:
        return int(get_sim_time("ns")) // 10

    async def start(self, tx_period: int = 2):
        dut = self.dut
        cocotb.start_soon(Clock(dut.clk, 10, unit="ns").start())
        dut.rx_tvalid.value = 0
        dut.rx_tdata.value = 0
        dut.rx_overrun.value = 0
        dut.rx_frame_error.value = 0
        dut.tx_period.value = tx_period
        dut.rst.value = 1
        await ClockCycles(dut.clk, 4)
        dut.rst.value = 0
        cocotb.start_soon(self._monitor())
        await ClockCycles(dut.clk, 4)

    async def _monitor(self):
        while True:
            await RisingEdge(self.dut.tx_fire)
            await ReadOnly()
            b = int(self.dut.tx_tdata.value)
            self.raw.append(b)
            self.times.append(self.cycle())
            for f in self.decoder.feed(bytes([b])):
                began = self.times[-(5 + len(f.payload))]
                if f.type == P.Rsp.TOKENS and self.first_tokens_cycle is None:
                    self.first_tokens_cycle = began
                elif f.type == P.Rsp.END:
                    self.end_cycle = began
                self.frames.put_nowait(f)

    async def send(self, data: bytes, gap: int = 0):
        dut = self.dut
        for b in data:
            await FallingEdge(dut.clk)
            while not int(dut.rx_tready.value):
                await FallingEdge(dut.clk)
            dut.rx_tdata.value = b
            dut.rx_tvalid.value = 1
            await FallingEdge(dut.clk)
            dut.rx_tvalid.value = 0
            self.sent_cycle = self.cycle()
            if gap:
                await ClockCycles(dut.clk, gap)

    async def recv(self, cycles: int = 20000):
        f = await with_timeout(self.frames.get(), cycles * 10, "ns")
        return P.parse(f)

    async def expect(self, cls, cycles: int = 20000):
        r = await self.recv(cycles)
        assert isinstance(r, cls), f"expected {cls.__name__}, got {r}"
        return r

    async def expect_error(self, code, cycles: int = 20000):
        r = await self.expect(P.DeviceError, cycles)
        assert r.code == code, f"expected {P.ErrorCode(code).name}, got {r.describe()}"
        return r

    async def quiet(self, cycles: int = 2000):
        """No frame arrives for a while."""
        await ClockCycles(self.dut.clk, cycles)
        assert self.frames.empty(), f"unexpected frame {self.frames.get_nowait()}"

    async def run(self, prompt: bytes, n: int, tinv: int = 0, seed: int = 1, bench: bool = False):
        """Start a run; collect tokens until END. Returns (tokens, end, frames_seen)."""
        self.first_tokens_cycle = self.end_cycle = None
        for frame in P.prompt_frames(prompt, n, tinv, seed, bench):
            await self.send(frame)
            ack = await self.expect(P.Ack)
            assert ack.cmd in (P.Cmd.PROMPT, P.Cmd.BENCH if bench else P.Cmd.GENERATE)
        return await self.collect()

    async def collect(self, cycles: int = 200000):
        toks, nframes = bytearray(), 0
        while True:
            r = await self.recv(cycles)
            if isinstance(r, P.Tokens):
                assert r.seq == len(toks) & 0xFFFF, f"sequence {r.seq}, expected {len(toks)}"
                toks += r.tokens
                nframes += 1
            elif isinstance(r, P.End):
                return bytes(toks), r, nframes
            else:
                raise AssertionError(f"unexpected {r}")


def check_span(host, end):
    """END's span ends when its sync byte goes out, and began after the run's command
    arrived, before its first TOKENS frame."""
    assert host.end_cycle is not None and host.first_tokens_cycle is not None
    assert host.end_cycle - host.first_tokens_cycle <= end.span_cycles <= host.end_cycle - host.sent_cycle, \
        (end, host.sent_cycle, host.first_tokens_cycle, host.end_cycle)


def package():
    return load_package(os.environ["TG_WEIGHTS"])


async def identify(host):
    await host.send(P.cmd_identify())
    return await host.expect(P.Ident)


@cocotb.test(timeout_time=2, timeout_unit="ms")
async def test_identify(dut):
    host = Host(dut)
    await host.start()
    p = package()
    ident = await identify(host)
    assert ident.proto_version == P.PROTO_VERSION
    assert ident.model_hash == p.digest()[:16]
    assert ident.config() == {k: v for k, v in p.cfg.to_dict().items() if k != "name"}
    assert (ident.clk_hz, ident.baud, ident.lanes) == (100_000_000, 12_500_000, 256)
    assert not ident.running and ident.max_write_words == P.MAX_WRITE_WORDS
    await ClockCycles(dut.clk, 4)
    assert int(dut.idle.value) == 1


@cocotb.test(timeout_time=10, timeout_unit="ms")
async def test_generate(dut):
    """Greedy and seeded runs: exact tokens, sequence numbers, END count/cycles/CRC."""
    host = Host(dut)
    await host.start()
    for prompt, n, tinv, seed in [(b"ROMEO:", 40, 0, 1), (b"x", 25, 300, 0xDEADBEEF), (b"\n", 1, 0, 0)]:
        toks, end, _ = await host.run(prompt, n, tinv, seed)
        want = bytes(fake_tokens(list(prompt), n, seed))
        assert toks == want
        assert (end.tokens, end.stopped, end.bench) == (n, False, False)
        assert end.cycles == n * CYCLES_PER_TOKEN
        assert end.token_crc == P.crc16(want)
        check_span(host, end)
        # the core is the limit here: the span is its cycles plus framing the last token
        assert end.cycles <= end.span_cycles <= end.cycles + 200, end
    await ClockCycles(dut.clk, 10)
    assert int(dut.idle.value) == 1 and int(dut.running.value) == 0


@cocotb.test(timeout_time=40, timeout_unit="ms")
async def test_backpressure(dut):
    """A tx side much slower than the core: tokens batch up, the core stalls, none is lost."""
    host = Host(dut)
    await host.start(tx_period=300)
    n = 300
    toks, end, nframes = await host.run(b"ab", n, 0, 7)
    assert toks == bytes(fake_tokens(list(b"ab"), n, 7))
    assert end.tokens == n and end.cycles == n * CYCLES_PER_TOKEN   # stalls not counted
    assert int(dut.core_stall.value) > 0
    # the wire is the limit: the span covers the ACK and every TOKENS byte at one per 300
    # cycles, stalls included
    check_span(host, end)
    tok_bytes = n + P.TOKENS_FRAME_OVERHEAD * nframes
    ack_bytes = 5 + P.RESPONSE_LEN[P.Rsp.ACK]
    assert end.span_cycles >= (ack_bytes + tok_bytes - 1) * 300, (end, tok_bytes)
    assert nframes < n // 8, f"{nframes} frames for {n} tokens: no batching"


@cocotb.test(timeout_time=5, timeout_unit="ms")
async def test_bench_mode(dut):
    host = Host(dut)
    await host.start()
    toks, end, _ = await host.run(b"ROMEO:", 100, 0, 3, bench=True)
    assert toks == b"" and end.bench and end.tokens == 100
    assert end.cycles == 100 * CYCLES_PER_TOKEN
    assert end.token_crc == P.crc16(fake_tokens(list(b"ROMEO:"), 100, 3))


@cocotb.test(timeout_time=10, timeout_unit="ms")
async def test_stop(dut):
    host = Host(dut)
    await host.start()
    await host.send(P.prompt_frames(b"hi", 5000, 0, 1)[0])
    await host.expect(P.Ack)
    first = await host.expect(P.Tokens)
    await host.send(P.cmd_stop())
    toks, end = bytearray(first.tokens), None
    acked = False
    while end is None:
        r = await host.recv()
        if isinstance(r, P.Tokens):
            assert r.seq == len(toks)
            toks += r.tokens
        elif isinstance(r, P.Ack):
            assert r.cmd == P.Cmd.STOP and r.a == 1
            acked = True
        else:
            end = r
    assert acked and isinstance(end, P.End) and end.stopped
    assert end.tokens == len(toks) < 100
    assert bytes(toks) == bytes(fake_tokens(list(b"hi"), len(toks), 1))
    # STOP when idle: acknowledged with a = 0, nothing else
    await host.send(P.cmd_stop())
    ack = await host.expect(P.Ack)
    assert ack.cmd == P.Cmd.STOP and ack.a == 0
    await host.quiet()


@cocotb.test(timeout_time=5, timeout_unit="ms")
async def test_long_prompt(dut):
    """A prompt split into PROMPT + GENERATE-tail reaches the core intact."""
    host = Host(dut)
    await host.start()
    ctx = package().cfg.context
    prompt = bytes(random.Random(5).randrange(128) for _ in range(ctx))
    # PROMPT chunks at offsets 0 and 5, GENERATE carrying the last 4 bytes inline
    await host.send(P.cmd_prompt(0, prompt[:5]))
    assert (await host.expect(P.Ack)) == P.Ack(P.Cmd.PROMPT, 0, 0, 5)
    await host.send(P.cmd_prompt(5, prompt[5:ctx - 4]))
    assert (await host.expect(P.Ack)) == P.Ack(P.Cmd.PROMPT, 5, 0, ctx - 9)
    await host.send(P.cmd_generate(20, 0, 9, ctx, prompt[ctx - 4:]))
    await host.expect(P.Ack)
    toks, end, _ = await host.collect()
    assert toks == bytes(fake_tokens(list(prompt), 20, 9))


@cocotb.test(timeout_time=5, timeout_unit="ms")
async def test_write_weights(dut):
    """WRITE lands in the core's memories (the fake core's model hash reads consts 2,3)."""
    host = Host(dut)
    await host.start()
    await host.send(P.cmd_write(P.MEM_CONSTS, 2, [0x01234567, 0x89ABCDEF]))
    assert (await host.expect(P.Ack)) == P.Ack(P.Cmd.WRITE, P.MEM_CONSTS, 2, 2)
    assert (await identify(host)).model_hash == "0123456789abcdef"
    # a full-size block (63 words) to another memory is acknowledged too
    await host.send(P.cmd_write(3, 0x100, list(range(63))))
    assert (await host.expect(P.Ack)) == P.Ack(P.Cmd.WRITE, 3, 0x100, 63)


@cocotb.test(timeout_time=10, timeout_unit="ms")
async def test_bad_crc_and_recovery(dut):
    host = Host(dut)
    await host.start()
    good = P.cmd_write(P.MEM_CONSTS, 2, [0x11111111, 0x22222222])
    before = (await identify(host)).model_hash   # memories survive reset (earlier tests may write)
    for pos in (1, 2, 3, 5, len(good) - 1):     # type, len, payload, crc bytes
        bad = bytearray(good)
        bad[pos] ^= 0x10
        await host.send(bytes(bad))
        r = await host.expect(P.DeviceError)
        # a corrupted type/length is caught before the CRC (or a longer length times
        # out); garbage after it may follow
        assert r.code in (P.ErrorCode.BAD_CRC, P.ErrorCode.BAD_TYPE, P.ErrorCode.BAD_LENGTH,
                          P.ErrorCode.TIMEOUT), r.describe()
        await ClockCycles(dut.clk, TIMEOUT_CYCLES + 100)
        while not host.frames.empty():
            r = host.frames.get_nowait()
            assert P.parse(r).code in (P.ErrorCode.GARBAGE, P.ErrorCode.TIMEOUT)
        # nothing was executed
        assert (await identify(host)).model_hash == before
    await host.send(good)
    await host.expect(P.Ack)
    assert (await identify(host)).model_hash == "1111111122222222"


@cocotb.test(timeout_time=5, timeout_unit="ms")
async def test_malformed(dut):
    """Unknown type, impossible lengths, bad arguments: error frames, then business as usual."""
    host = Host(dut)
    await host.start()
    ctx = package().cfg.context
    await host.send(bytes([P.SYNC, 0x42]))
    assert (await host.expect_error(P.ErrorCode.BAD_TYPE)).detail == 0x42
    await host.send(bytes([P.SYNC, P.Cmd.IDENTIFY, 3]))
    assert (await host.expect_error(P.ErrorCode.BAD_LENGTH)).detail == P.Cmd.IDENTIFY
    await host.send(bytes([P.SYNC, P.Cmd.WRITE, 8]))    # not 3 + 4n
    await host.expect_error(P.ErrorCode.BAD_LENGTH)
    await host.send(bytes([P.SYNC, P.Cmd.GENERATE, 9]))
    await host.expect_error(P.ErrorCode.BAD_LENGTH)
    for frame in [P.cmd_generate(5, 0, 1, ctx + 1, b"a"),             # prompt longer than context
                  P.encode_frame(P.Cmd.GENERATE, struct.pack("<HHIH", 0, 0, 1, 1) + b"a"),  # n = 0
                  P.encode_frame(P.Cmd.GENERATE, struct.pack("<HHIH", 5, 0, 1, 1) + b"ab"),  # tail > len
                  P.encode_frame(P.Cmd.GENERATE, struct.pack("<HHIH", 5, 0, 1, 0)),  # prompt_len 0
                  P.cmd_prompt(ctx - 2, b"abc"),                           # past the context
                  P.encode_frame(P.Cmd.WRITE, struct.pack("<BHI", 36, 0, 1)),   # no such memory
                  P.encode_frame(P.Cmd.WRITE, struct.pack("<BHII", 1, 0xFFFF, 1, 2))]:  # addr wraps
        await host.send(frame)
        await host.expect_error(P.ErrorCode.BAD_ARG)
    await host.quiet()
    toks, end, _ = await host.run(b"ok", 5, 0, 1)
    assert toks == bytes(fake_tokens(list(b"ok"), 5, 1))


@cocotb.test(timeout_time=5, timeout_unit="ms")
async def test_truncated_frame_times_out(dut):
    host = Host(dut)
    await host.start()
    frame = P.prompt_frames(b"hello", 5, 0, 1)[0]
    await host.send(frame[:7])
    await ClockCycles(dut.clk, TIMEOUT_CYCLES // 2)
    assert host.frames.empty()                  # still waiting for the rest
    r = await host.expect_error(P.ErrorCode.TIMEOUT, TIMEOUT_CYCLES)
    assert r.detail == P.Cmd.GENERATE
    assert int(dut.running.value) == 0
    await host.send(frame)
    await host.expect(P.Ack)
    toks, end, _ = await host.collect()
    assert toks == bytes(fake_tokens(list(b"hello"), 5, 1))


@cocotb.test(timeout_time=10, timeout_unit="ms")
async def test_dropped_and_injected_bytes(dut):
    """A frame missing a byte, or with one extra, is never executed; the retry works."""
    host = Host(dut)
    await host.start()
    good = P.cmd_write(P.MEM_CONSTS, 2, [0xAAAAAAAA, 0xBBBBBBBB])
    before = (await identify(host)).model_hash
    rng = random.Random(3)
    for trial in range(6):
        bad = bytearray(good)
        pos = rng.randrange(1, len(good))
        if trial % 2:
            del bad[pos]
        else:
            bad.insert(pos, rng.randrange(256))
        await host.send(bytes(bad))
        # a dropped byte leaves the parser waiting: it times out; an extra one fails the CRC
        r = await host.expect(P.DeviceError, 2 * TIMEOUT_CYCLES)
        assert r.code in (P.ErrorCode.BAD_CRC, P.ErrorCode.TIMEOUT, P.ErrorCode.BAD_LENGTH,
                          P.ErrorCode.GARBAGE), r.describe()
        await ClockCycles(dut.clk, TIMEOUT_CYCLES + 100)
        while not host.frames.empty():
            assert isinstance(P.parse(host.frames.get_nowait()), P.DeviceError)
        assert (await identify(host)).model_hash == before, f"trial {trial}: executed"
    await host.send(good)
    await host.expect(P.Ack)
    assert (await identify(host)).model_hash == "aaaaaaaabbbbbbbb"


@cocotb.test(timeout_time=5, timeout_unit="ms")
async def test_garbage_between_frames(dut):
    """Noise between frames: one GARBAGE error per run of noise; repeated sync bytes are fine."""
    host = Host(dut)
    await host.start()
    await host.send(b"hello world\x00\xff")
    r = await host.expect_error(P.ErrorCode.GARBAGE)
    assert r.detail == ord("h")
    await host.quiet(500)
    await host.send(bytes([P.SYNC, P.SYNC, P.SYNC]) + P.cmd_identify())
    await host.expect(P.Ident)
    await host.send(b"zz" + P.cmd_identify() + b"\x01" + P.cmd_identify())
    await host.expect_error(P.ErrorCode.GARBAGE)
    await host.expect(P.Ident)
    await host.expect_error(P.ErrorCode.GARBAGE)
    await host.expect(P.Ident)


@cocotb.test(timeout_time=10, timeout_unit="ms")
async def test_busy_and_uart_errors(dut):
    """Commands that need an idle device get BUSY during a run; UART errors are reported."""
    host = Host(dut)
    await host.start()
    await host.send(P.prompt_frames(b"q", 200, 0, 2)[0])
    await host.expect(P.Ack)
    toks = bytearray()

    async def next_not_tokens():
        while isinstance(r := await host.recv(), P.Tokens):
            assert r.seq == len(toks)
            toks.extend(r.tokens)
        return r

    for frame in (P.prompt_frames(b"q", 5, 0, 2)[0], P.cmd_prompt(0, b"a"),
                  P.cmd_write(P.MEM_CONSTS, 2, [0])):
        await host.send(frame)
        r = await next_not_tokens()
        assert isinstance(r, P.DeviceError) and r.code == P.ErrorCode.BUSY, r
    await host.send(P.cmd_identify())
    r = await next_not_tokens()
    assert isinstance(r, P.Ident) and r.running
    await FallingEdge(dut.clk)
    dut.rx_overrun.value = 1
    await ClockCycles(dut.clk, 1)
    dut.rx_overrun.value = 0
    dut.rx_frame_error.value = 1
    await ClockCycles(dut.clk, 1)
    dut.rx_frame_error.value = 0
    codes = []
    while not isinstance(r := await next_not_tokens(), P.End):
        assert isinstance(r, P.DeviceError)
        codes.append(r.code)
    assert codes == [P.ErrorCode.OVERRUN, P.ErrorCode.FRAMING]
    assert bytes(toks) == bytes(fake_tokens([ord("q")], 200, 2))   # the run was undisturbed
    assert r.tokens == 200
