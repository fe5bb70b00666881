"""UART RTL (rtl/uart_rx.v, rtl/uart_tx.v) against cocotbext-uart, in Verilator."""

from __future__ import annotations

import pytest

from cocotb_support import TB_RTL, Bench, rtl_under_test

CASES = ["test_rx_all_rates", "test_tx_all_rates", "test_tx_bit_timing",
         "test_rx_frame_error_and_glitch", "test_rx_overrun"]


@pytest.fixture(scope="module")
def bench():
    sources, _ = rtl_under_test("tritgpt:tritgpt:uart")
    # TRITGPT_ASSERT: uart_rx checks its registered tick against the compare it replaces
    b = Bench("uart", "uart_tb", [*sources, TB_RTL / "uart_tb.v"], module="cocotb_uart",
              build_args=["-DTRITGPT_ASSERT"])
    # all cases in one simulation (each resets the DUT): saves a simulator start per case
    b.results = b.run_all()
    return b


@pytest.mark.parametrize("case", CASES)
def test_uart(bench, case):
    if case not in bench.results:
        pytest.fail(f"cocotb test {case} did not run (see {bench.log})")
    if bench.results[case] is not None:
        pytest.fail(f"{case}: {bench.results[case]} (log: {bench.log})")
