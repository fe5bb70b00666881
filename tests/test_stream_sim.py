"""End to end: host tools <-> pty <-> Verilator model of tritgpt_top with the real core.

Every token must equal tritgpt.ml.model.generate's for the same weights, prompt,
temperature and seed: greedy, seeded sampling, streams past the context (the
ring-buffer KV cache wraps),
after a client disconnects mid-stream, and after new weights are written through
the protocol at run time. Tiny-config random packages keep the simulation quick.
Skipped (with the reason) while rtl/tritgpt_core.v does not exist.
"""

from __future__ import annotations

import re
import time

import pytest

from tritgpt.link import protocol as P
from tritgpt.ml.model import Config, IntParams, encode, generate, temperature_to_tinv
from tritgpt.sim.simboard import RTL_DIR, core_present, sim_board

pytestmark = pytest.mark.skipif(not core_present(),
                                reason=f"{RTL_DIR / 'tritgpt_core.v'} not present yet (the core RTL)")


@pytest.fixture(scope="module")
def params():
    cfg = Config.load("tiny")
    return IntParams.random(cfg, seed=31), IntParams.random(cfg, seed=32)


@pytest.fixture(scope="module")
def packages(params, tmp_path_factory):
    from tritgpt.ml.export import write_package

    d = tmp_path_factory.mktemp("stream")
    return write_package(params[0], d / "a"), write_package(params[1], d / "b")


@pytest.fixture(scope="module")
def port(packages):
    from cocotb_support import runner_available
    from tritgpt.sim.simboard import SimBoard

    reason = runner_available()
    if reason:
        pytest.skip(reason)
    with SimBoard(packages[0]) as port:
        yield port


def board(port):
    from tritgpt.link.host import Board

    return Board(port, timeout=5.0, token_timeout=60.0)


def reference(p, prompt, n, temperature=0.0, seed=1):
    toks = encode(prompt)[-p.cfg.context:]
    return generate(p, toks, n, tinv=temperature_to_tinv(temperature), seed=seed)


def test_identify_reports_the_package(port, params):
    with board(port) as b:
        ident = b.identify()
    assert ident.model_hash == params[0].digest()[:16]
    assert ident.config() == {k: v for k, v in params[0].cfg.to_dict().items() if k != "name"}


@pytest.mark.parametrize("temperature,seed", [(0.0, 1), (0.8, 1234), (1.5, 0)])
def test_generate_matches_reference(port, params, temperature, seed):
    n = 40   # past the tiny context of 16: the ring cache wraps twice
    with board(port) as b:
        r = b.generate("ROMEO:", n, temperature=temperature, seed=seed)
    assert r.tokens == reference(params[0], "ROMEO:", n, temperature, seed)
    assert r.end.tokens == n and r.end.cycles > 0


def test_cli_stream_matches_reference(port, params):
    from typer.testing import CliRunner

    from tritgpt.cli.app import app

    r = CliRunner().invoke(app, ["stream", "--port", port, "--prompt", "To be", "-n", "24",
                                 "--temperature", "0.7", "--seed", "7"])
    assert r.exit_code == 0, r.output
    want = "".join(map(chr, reference(params[0], "To be", 24, 0.7, 7)))
    assert r.stdout == "To be" + want + "\n"
    board = sim_board()
    clock = f"at {board.design_mhz:g} MHz (the board's clock, from IDENT)"
    lines = r.stderr.splitlines()
    assert lines[-4].startswith("delivered ") and f"characters/s {clock}: 24 characters in " in lines[-4]
    assert lines[-3].startswith("core ") and f"tokens/s {clock}: " in lines[-3]
    assert re.match(rf"link {board.baud:,} baud carries up to [0-9,]+ characters/s: the (core|wire) limits", lines[-2])
    assert lines[-1].startswith("host wall clock: 24 characters in ")


def test_stream_rate_in_simulated_time(port, params):
    """Benchmark: the simulated board (the reference board's design clock and UART rate, bits
    timed as the RTL times them) delivers at least 90 % of the rate the core and the link
    allow, in simulated time: tokens over END's span, against the lesser of the core's
    tokens/s (its own cycles) and the characters/s full TOKENS frames carry at the baud."""
    from tritgpt.link.protocol import stream_rate

    n = 1000   # a sustained stream: the first frames (one token, then a few) weigh little
    with board(port) as b:
        ident = b.identify()
        r = b.generate("ROMEO:", n)
    assert r.tokens == reference(params[0], "ROMEO:", n)
    sb = sim_board()
    assert (ident.clk_hz, ident.baud) == (sb.clk_hz, sb.baud)
    core = r.core_tokens_per_second(ident.clk_hz)
    allowed = stream_rate(core, ident.baud)
    delivered = r.delivered_chars_per_second(ident.clk_hz)
    print(f"\n{sb.name} simulated, {n} tokens at {sb.design_mhz:g} MHz and {ident.baud} baud: core "
          f"{core:,.0f} tokens/s, wire {allowed['wire_chars_per_s']:,.0f} characters/s ({allowed['limit']} "
          f"limits), delivered {delivered:,.0f} characters/s = {delivered / allowed['stream_chars_per_s']:.1%}")
    # the span holds the core's cycles, the stalls and the frames: nothing beats the limit
    assert r.end.span_cycles >= r.end.cycles
    assert delivered <= allowed["stream_chars_per_s"] * (1 + 1e-9)
    assert delivered >= 0.9 * allowed["stream_chars_per_s"]


def test_disconnect_midstream_then_reconnect(port, params):
    with board(port) as b:
        b._start("abandoned", 5000, 0, 1, bench=False)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if isinstance(b._recv(5.0), P.Tokens):
                break
    with board(port) as b:
        r = b.generate("hello", 20, temperature=0.9, seed=3)
        assert r.tokens == reference(params[0], "hello", 20, 0.9, 3)


def test_bench_matches_reference(port, packages):
    from tritgpt.link.bench import bench_port

    r = bench_port(port, 30, prompt="Q", temperature=0.5, seed=2, weights=packages[0])
    assert r["tokens"] == 30 and r["matches_reference"]
    assert r["core_tokens_per_second"] > 0


def test_runtime_weight_write_then_generate(port, params, packages):
    """Weights written through the protocol replace the built-in ones (a board of its own,
    so the other tests keep package a)."""
    from tritgpt.sim.simboard import SimBoard

    with SimBoard(packages[0]) as own_port, board(own_port) as b:
        ident = b.write_weights(packages[1])
        assert ident.model_hash == params[1].digest()[:16]
        for temperature, seed in [(0.0, 1), (0.8, 99)]:
            r = b.generate("ROMEO:", 30, temperature=temperature, seed=seed)
            assert r.tokens == reference(params[1], "ROMEO:", 30, temperature, seed)
