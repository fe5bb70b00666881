"""cocotb tests of rtl/tritgpt_top.v (with the fake core) through its UART pins.

Built with CLK_HZ = 200 kHz and BAUD = 25000 (8 cycles per bit) so that the
LED timings (1/4 s error, 1/2 s heartbeat) are short in simulated cycles;
cocotbext-uart plays the host's USB-UART. The board clock is CLK_DIV (env
TOP_CLK_DIV, the bench's CLK_DIV parameter) times the 200 kHz design clock.
"""

from __future__ import annotations

import os

import cocotb
from cocotb.clock import Clock
from cocotb.triggers import ClockCycles, Timer, with_timeout
from cocotb.utils import get_sim_time
from cocotbext.uart import UartSink, UartSource

from fake_core_ref import fake_tokens
from tritgpt.link import protocol as P

CLK_HZ = 200_000
BAUD = 25_000
CLK_DIV = int(os.environ.get("TOP_CLK_DIV", "1"))


class UartHost:
    def __init__(self, dut):
        self.dut = dut
        self.src = UartSource(dut.uart_rx, baud=BAUD, bits=8)
        self.sink = UartSink(dut.uart_tx, baud=BAUD, bits=8)
        self.decoder = P.FrameDecoder()
        self.pending = []

    async def send(self, data: bytes):
        await self.src.write(data)

    async def recv(self, timeout_us: int = 1_000_000):
        async def get():
            while not self.pending:
                await self.sink.wait()
                self.pending += [P.parse(f) for f in self.decoder.feed(bytes(self.sink.read_nowait()))]
            return self.pending.pop(0)

        return await with_timeout(get(), timeout_us, "us")


async def start(dut):
    dut.uart_rx.value = 1
    cocotb.start_soon(Clock(dut.clk, 5_000_000 // CLK_DIV, unit="ps").start())
    host = UartHost(dut)
    await ClockCycles(dut.clk, 40 * CLK_DIV)     # power-on reset: no reset pin
    return host


def led(dut, i: int) -> int:
    return (int(dut.led.value) >> i) & 1


@cocotb.test(timeout_time=2, timeout_unit="sec")
async def test_top_generate_and_leds(dut):
    host = await start(dut)
    assert led(dut, 0) == 1 and led(dut, 1) == 0 and led(dut, 2) == 0   # idle, not busy, no error
    await host.send(P.cmd_identify())
    ident = await host.recv()
    assert isinstance(ident, P.Ident) and (ident.clk_hz, ident.baud) == (CLK_HZ, BAUD)
    # 150 tokens at 32 cycles each outrun a 125 kbaud UART: batching and back-pressure
    await host.send(P.prompt_frames(b"ROMEO:", 150, 0, 4)[0])
    await host.src.wait()
    t_sent = get_sim_time("ns")        # the run starts after this: the GENERATE has arrived
    assert isinstance(await host.recv(), P.Ack)
    assert led(dut, 1) == 1 and led(dut, 0) == 0                         # busy
    toks, sizes = bytearray(), []
    while not isinstance(r := await host.recv(), P.End):
        assert isinstance(r, P.Tokens) and r.seq == len(toks)
        toks += r.tokens
        sizes.append(len(r.tokens))
    assert bytes(toks) == bytes(fake_tokens(list(b"ROMEO:"), 150, 4))
    assert r.tokens == 150 and max(sizes) == P.MAX_BATCH
    # END's span (design-clock cycles) holds the ACK and every TOKENS byte at the UART's
    # 10 bits of CLK_HZ / BAUD cycles, and ends when END's first byte goes out: before the
    # host has the other bytes of END
    t_end = get_sim_time("ns")
    byte_cycles = P.UART_BITS_PER_BYTE * CLK_HZ // BAUD
    tok_bytes = len(toks) + P.TOKENS_FRAME_OVERHEAD * len(sizes)
    ack_bytes = 5 + P.RESPONSE_LEN[P.Rsp.ACK]
    end_bytes = 5 + P.RESPONSE_LEN[P.Rsp.END]
    elapsed_cycles = (t_end - t_sent) * CLK_HZ / 1e9
    assert (ack_bytes + tok_bytes) * byte_cycles <= r.span_cycles <= elapsed_cycles - (end_bytes - 1) * byte_cycles, \
        (r, tok_bytes, elapsed_cycles)
    await ClockCycles(dut.clk, 200 * CLK_DIV)
    assert led(dut, 1) == 0 and led(dut, 0) == 1


@cocotb.test(timeout_time=3, timeout_unit="sec")
async def test_top_error_led_and_heartbeat(dut):
    host = await start(dut)
    hb0 = led(dut, 3)
    await host.send(b"junk")
    err = await host.recv()
    assert isinstance(err, P.DeviceError) and err.code == P.ErrorCode.GARBAGE
    assert led(dut, 2) == 1                                              # error LED lit ...
    await Timer(300, unit="ms")
    assert led(dut, 2) == 0                                              # ... for 1/4 s
    # heartbeat: toggles every 1/2 s (first toggle at 0.5 s after configuration)
    await Timer(250 - int(get_sim_time("ms")) + 500, unit="ms")          # t = 0.75 s
    assert led(dut, 3) != hb0
    await Timer(500, unit="ms")                                          # t = 1.25 s
    assert led(dut, 3) == hb0
    # a host at the wrong baud rate: framing errors (or garbage), then recovery
    bad = UartSource(dut.uart_rx, baud=BAUD * 2, bits=8)
    await bad.write(b"\x00\x00\x00\x00")
    await bad.wait()
    await Timer(25, unit="ms")
    frames = host.decoder.feed(bytes(host.sink.read_nowait()))
    codes = {P.parse(f).code for f in frames}
    assert codes & {P.ErrorCode.FRAMING, P.ErrorCode.GARBAGE}, codes
    await host.send(P.cmd_identify())
    assert isinstance(await host.recv(), P.Ident)
