"""UART RTL (rtl/uart_rx.v, rtl/uart_tx.v) against cocotbext-uart, in Verilator."""

from __future__ import annotations

import pytest

from cocotb_support import RTL, TB_RTL, Bench

CASES = ["test_rx_all_rates", "test_tx_all_rates", "test_tx_bit_timing",
         "test_rx_frame_error_and_glitch", "test_rx_overrun"]


@pytest.fixture(scope="module")
def bench():
    return Bench("uart", "uart_tb", [RTL / "uart_rx.v", RTL / "uart_tx.v", TB_RTL / "uart_tb.v"],
                 module="cocotb_uart")


@pytest.mark.parametrize("case", CASES)
def test_uart(bench, case):
    bench.run(case)
