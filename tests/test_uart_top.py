"""rtl/tritgpt_top.v through its UART pins (cocotbext-uart), with the fake core."""

from __future__ import annotations

import pytest

from cocotb_support import BUILD, RTL, TB_RTL, Bench
from test_protocol_rtl import tiny_package


@pytest.fixture(scope="module")
def bench():
    weights = tiny_package(BUILD / "proto_weights")
    return Bench("top", "tritgpt_top",
                 [RTL / "uart_rx.v", RTL / "uart_tx.v", RTL / "tritgpt_proto.v", RTL / "tritgpt_top.v",
                  TB_RTL / "fake_core.v"],
                 module="cocotb_top", includes=[weights],
                 parameters={"CLK_HZ": 200_000, "BAUD": 25_000, "WEIGHTS_DIR": f'"{weights}/"'})


@pytest.mark.parametrize("case", ["test_top_generate_and_leds", "test_top_error_led_and_heartbeat"])
def test_top(bench, case):
    bench.run(case)
