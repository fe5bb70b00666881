"""rtl/tritgpt_top.v through its UART pins (cocotbext-uart), with the fake core."""

from __future__ import annotations

import pytest

from cocotb_support import BUILD, TB_RTL, Bench, rtl_under_test
from test_protocol_rtl import tiny_package


# CLK_DIV 1: the board clock is the design clock; 3: the design clock is a third of
# it (tg_clock_divider's gated clock: one board-clock high phase in three)
@pytest.fixture(scope="module", params=[1, 3], ids=["div1", "div3"])
def bench(request):
    weights = tiny_package(BUILD / "proto_weights")
    div = request.param
    # the top level with the fake core in place of tritgpt_core
    sources, includes = rtl_under_test("tritgpt:tritgpt:top", without="tritgpt:core:ternary_gpt")
    b = Bench(f"top_div{div}", "tritgpt_top", [*sources, TB_RTL / "fake_core.v"],
              module="cocotb_top", includes=[*includes, weights],
              parameters={"CLK_HZ": 200_000, "CLK_DIV": div, "BAUD": 25_000, "WEIGHTS_DIR": f'"{weights}/"'})
    b.div = div
    return b


@pytest.mark.parametrize("case", ["test_top_generate_and_leds", "test_top_error_led_and_heartbeat"])
def test_top(bench, case):
    bench.run(case, extra_env={"TOP_CLK_DIV": str(bench.div)})
