"""Protocol engine RTL (rtl/tritgpt_proto.v) with the fake core, in Verilator via cocotb."""

from __future__ import annotations

import pytest

from cocotb_support import BUILD, TB_RTL, Bench, rtl_under_test

CASES = ["test_identify", "test_generate", "test_backpressure", "test_bench_mode", "test_stop",
         "test_long_prompt", "test_write_weights", "test_bad_crc_and_recovery", "test_malformed",
         "test_truncated_frame_times_out", "test_dropped_and_injected_bytes",
         "test_garbage_between_frames", "test_busy_and_uart_errors"]


def tiny_package(path):
    """A tiny-config package with random weights, rewritten only when it changes."""
    from tritgpt.ml.export import load_package, write_package
    from tritgpt.ml.model import Config, IntParams

    p = IntParams.random(Config.load("tiny"), seed=11)
    try:
        if load_package(path).digest() == p.digest():
            return path
    except Exception:
        pass
    write_package(p, path, force=True)
    return path


@pytest.fixture(scope="module")
def bench():
    weights = tiny_package(BUILD / "proto_weights")
    sources, includes = rtl_under_test("tritgpt:tritgpt:proto")
    b = Bench("proto", "proto_tb", [*sources, TB_RTL / "fake_core.v", TB_RTL / "proto_tb.v"],
              module="cocotb_proto", includes=[*includes, weights],
              parameters={"WEIGHTS_DIR": f'"{weights}/"'})
    # all cases in one simulation (each resets the DUT): saves a simulator start per case
    b.results = b.run_all(extra_env={"TG_WEIGHTS": str(weights)})
    return b


@pytest.mark.parametrize("case", CASES)
def test_proto(bench, case):
    if case not in bench.results:
        pytest.fail(f"cocotb test {case} did not run (see {bench.log})")
    if bench.results[case] is not None:
        pytest.fail(f"{case}: {bench.results[case]} (log: {bench.log})")
