"""cocotb tests for rtl/uart_rx.v and rtl/uart_tx.v (bench: tests/rtl/uart_tb.v).

cocotbext-uart is the peer. Four rx/tx pairs run from one 100 MHz clock at
115200, 1M, 3M and 12M baud (3M and 12M do not divide the clock: the
fractional bit timer is what makes them work).
"""

from __future__ import annotations

import random

import cocotb
from cocotb.clock import Clock
from cocotb.triggers import ClockCycles, FallingEdge, First, RisingEdge, Timer
from cocotb.utils import get_sim_time
from cocotbext.uart import UartSink, UartSource

RATES = {"a": 115200, "b": 1_000_000, "c": 3_000_000, "d": 12_000_000}


async def setup(dut):
    cocotb.start_soon(Clock(dut.clk, 10, unit="ns").start())
    for s in RATES:
        getattr(dut, f"rxd_{s}").value = 1
        getattr(dut, f"rx_ready_{s}").value = 1
        getattr(dut, f"tx_valid_{s}").value = 0
        getattr(dut, f"tx_data_{s}").value = 0
    dut.rst.value = 1
    await ClockCycles(dut.clk, 5)
    dut.rst.value = 0
    await ClockCycles(dut.clk, 5)


async def collect_rx(dut, s, out: list, errors: list):
    """Record every byte uart_rx presents (ready is held high)."""
    valid = getattr(dut, f"rx_valid_{s}")
    data = getattr(dut, f"rx_data_{s}")
    ferr = getattr(dut, f"rx_ferr_{s}")

    async def bytes_():
        while True:
            await RisingEdge(valid)
            out.append(int(data.value))

    async def errs():
        while True:
            await RisingEdge(ferr)
            errors.append("frame")

    cocotb.start_soon(bytes_())
    cocotb.start_soon(errs())


async def send_tx(dut, s, payload: bytes):
    """Feed bytes into uart_tx's valid/ready input."""
    valid = getattr(dut, f"tx_valid_{s}")
    data = getattr(dut, f"tx_data_{s}")
    ready = getattr(dut, f"tx_ready_{s}")
    for b in payload:
        await FallingEdge(dut.clk)
        if not int(ready.value):
            await RisingEdge(ready)
            await FallingEdge(dut.clk)
        data.value = b
        valid.value = 1
        await RisingEdge(dut.clk)
        await FallingEdge(dut.clk)
        valid.value = 0


def nbytes(baud: int) -> int:
    return 6 if baud < 1_000_000 else 40


@cocotb.test(timeout_time=20, timeout_unit="ms")
async def test_rx_all_rates(dut):
    """uart_rx receives random bytes at each rate, at the nominal baud and +-2 %."""
    await setup(dut)
    rng = random.Random(1)
    for s, baud in RATES.items():
        for skew in (1.0, 1.02, 0.98):
            got, errs = [], []
            await collect_rx(dut, s, got, errs)
            src = UartSource(getattr(dut, f"rxd_{s}"), baud=int(baud * skew), bits=8)
            payload = bytes(rng.randrange(256) for _ in range(nbytes(baud))) + b"\x00\xff\x55"
            await src.write(payload)
            await src.wait()
            await Timer(int(3e9 / baud), unit="ns")
            assert bytes(got) == payload, f"{baud} baud x{skew}: got {bytes(got).hex()} want {payload.hex()}"
            assert not errs, f"{baud} baud x{skew}: framing errors"
            src._run_cr.cancel()


@cocotb.test(timeout_time=20, timeout_unit="ms")
async def test_tx_all_rates(dut):
    """uart_tx sends back-to-back bytes that a UART sink decodes at each rate."""
    await setup(dut)
    rng = random.Random(2)
    for s, baud in RATES.items():
        sink = UartSink(getattr(dut, f"txd_{s}"), baud=baud, bits=8)
        payload = bytes(rng.randrange(256) for _ in range(nbytes(baud))) + b"\x00\xff\xa5"
        await send_tx(dut, s, payload)
        await Timer(int(12e9 / baud), unit="ns")
        got = bytes(sink.read_nowait())
        assert got == payload, f"{baud} baud: got {got.hex()} want {payload.hex()}"


@cocotb.test(timeout_time=5, timeout_unit="ms")
async def test_tx_bit_timing(dut):
    """At 12 Mbaud (8.33 cycles per bit) the bit edges stay within a cycle of ideal."""
    await setup(dut)
    txd = dut.txd_d
    edges = []

    async def watch():
        while True:
            await First(RisingEdge(txd), FallingEdge(txd))
            edges.append(get_sim_time("ns"))

    cocotb.start_soon(watch())
    await send_tx(dut, "d", b"\x55")  # 0x55: an edge at every bit boundary
    await Timer(1000, unit="ns")
    assert len(edges) == 10
    t0 = edges[0]
    bit = 1e9 / 12_000_000
    worst = max(abs((t - t0) - k * bit) for k, t in enumerate(edges))
    assert worst <= 10.0, f"edge error {worst:.1f} ns exceeds one clock cycle"
    # back to back: 20 bytes take 20 frames of 10 bits, plus at most 2 cycles per byte
    edges.clear()
    await send_tx(dut, "d", b"\x55" * 20)
    await Timer(1000, unit="ns")
    span = edges[-1] - edges[0]
    assert 199 * bit <= span <= 199 * bit + 20 * 20, f"20 bytes took {span} ns"


@cocotb.test(timeout_time=5, timeout_unit="ms")
async def test_rx_frame_error_and_glitch(dut):
    """A low stop bit is a frame error (byte dropped); a short glitch is no start bit."""
    await setup(dut)
    got, errs = [], []
    await collect_rx(dut, "b", got, errs)
    rxd = dut.rxd_b
    bit = 1000  # ns at 1 Mbaud
    # glitch of 200 ns: ignored
    rxd.value = 0
    await Timer(200, unit="ns")
    rxd.value = 1
    await Timer(3 * bit, unit="ns")
    assert got == [] and errs == []
    # 0x00 with a low stop bit (a break): one frame error, no byte
    rxd.value = 0
    await Timer(20 * bit, unit="ns")
    rxd.value = 1
    await Timer(3 * bit, unit="ns")
    assert got == [] and errs == ["frame"]
    # the receiver recovers
    src = UartSource(rxd, baud=1_000_000, bits=8)
    await src.write(b"ok")
    await src.wait()
    await Timer(2 * bit, unit="ns")
    assert bytes(got) == b"ok"


@cocotb.test(timeout_time=5, timeout_unit="ms")
async def test_rx_overrun(dut):
    """A byte that arrives while the previous one is still held is dropped and flagged."""
    await setup(dut)
    dut.rx_ready_b.value = 0
    overruns = []

    async def watch():
        while True:
            await RisingEdge(dut.rx_ovr_b)
            overruns.append(1)

    cocotb.start_soon(watch())
    src = UartSource(dut.rxd_b, baud=1_000_000, bits=8)
    await src.write(b"AB")
    await src.wait()
    await Timer(2000, unit="ns")
    assert int(dut.rx_valid_b.value) == 1 and int(dut.rx_data_b.value) == ord("A")
    assert overruns == [1]
    await FallingEdge(dut.clk)
    dut.rx_ready_b.value = 1
    await ClockCycles(dut.clk, 2)
    assert int(dut.rx_valid_b.value) == 0
