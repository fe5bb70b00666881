"""Host tools against the simulated board built with the fake core (tests/rtl/fake_core.v).

The whole top level (POR, uart_rx/uart_tx, protocol engine) runs in Verilator
behind a pseudo-terminal, exactly as `tritgpt serve-sim` runs it; the fake core
(a deterministic token source) keeps these tests independent of the real core
and fast. tests/test_stream_sim.py repeats the end-to-end checks with the real core.
"""

from __future__ import annotations

import re
import time
from pathlib import Path

import pytest

from fake_core_ref import CYCLES_PER_TOKEN, fake_tokens
from tritgpt.link import protocol as P
from tritgpt.sim.simboard import sim_board

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def packages(tmp_path_factory):
    from tritgpt.ml.export import write_package
    from tritgpt.ml.model import Config, IntParams

    d = tmp_path_factory.mktemp("fakeboard")
    cfg = Config.load("tiny")
    return (write_package(IntParams.random(cfg, seed=21), d / "a"),
            write_package(IntParams.random(cfg, seed=22), d / "b"))


@pytest.fixture(scope="module")
def port(packages):
    from cocotb_support import runner_available
    from tritgpt.sim.simboard import SimBoard, board_sources

    reason = runner_available()
    if reason:
        pytest.skip(reason)
    sources = board_sources(core=[ROOT / "tests" / "rtl" / "fake_core.v"])
    with SimBoard(packages[0], sources=sources) as port:
        yield port


def board(port, **kw):
    from tritgpt.link.host import Board

    return Board(port, timeout=kw.pop("timeout", 3.0), token_timeout=10.0, **kw)


def test_generate_greedy_and_seeded(port):
    with board(port) as b:
        for prompt, n, temp, seed in [("ROMEO:", 300, 0.0, 1), ("To be", 100, 0.8, 1234)]:
            got = []
            r = b.generate(prompt, n, temperature=temp, seed=seed, on_token=got.append)
            assert r.tokens == got == fake_tokens(list(prompt.encode()), n, seed)
            assert r.end.cycles == n * CYCLES_PER_TOKEN and not r.end.stopped


def test_long_prompt_is_cropped_to_context(port, packages):
    prompt = "x" * 40 + "the last sixteen"          # tiny config: context 16
    with board(port) as b:
        assert b.identify().context == 16
        r = b.generate(prompt, 10)
    assert r.tokens == fake_tokens(list(prompt.encode()[-16:]), 10, 1)


def test_cli_stream_and_info(port, tmp_path):
    import json

    from typer.testing import CliRunner

    from tritgpt.cli.app import app

    r = CliRunner().invoke(app, ["stream", "--port", port, "--prompt", "ROMEO:", "-n", "64", "--seed", "5"])
    assert r.exit_code == 0, r.output
    text = "".join(chr(t) for t in fake_tokens(list(b"ROMEO:"), 64, 5))
    assert r.stdout.startswith("ROMEO:" + text)
    # the fake core makes a token in 32 cycles, far faster than the link: the wire limits
    sb = sim_board()
    clock = f"at {sb.design_mhz:g} MHz (the board's clock, from IDENT)"
    core = f"{sb.clk_hz / CYCLES_PER_TOKEN:,.0f} tokens/s {clock}: {64 * CYCLES_PER_TOKEN:,} cycles for the 64-token run"
    assert re.search(rf"^delivered [0-9,]+ characters/s {re.escape(clock)}: 64 characters in [0-9,]+ cycles",
                     r.stderr, re.M), r.stderr
    assert f"core {core} ({CYCLES_PER_TOKEN:.1f} cycles/token" in r.stderr
    assert f"link {sb.baud:,} baud carries up to {P.wire_tokens_per_second(sb.baud):,.0f} characters/s: the wire limits this stream" in r.stderr
    assert "host wall clock: 64 characters in " in r.stderr
    # the rate a build recorded (report.json's uart.baud), or a clear refusal
    (tmp_path / "report.json").write_text(json.dumps({"uart": {"baud": sb.baud}}))
    r = CliRunner().invoke(app, ["info", "--port", port, "--build", str(tmp_path)])
    assert r.exit_code == 0, r.output
    assert "d_model=32" in r.stdout and f"protocol {P.PROTO_VERSION}" in r.stdout
    assert re.search(rf"baud\s+{sb.baud}\b", r.stdout), r.stdout
    # (a --build without a report: tests/test_misuse.py)


def test_disconnect_midstream_then_reconnect(port):
    """A client that goes away mid-stream leaves the board running; the next one recovers."""
    with board(port) as b:
        b._start("abandoned", 60000, 0, 1, bench=False)
        got = 0
        while got < 3:
            r = b._recv(5.0)
            assert r is not None
            got += isinstance(r, P.Tokens)
    # the first client is gone without a STOP; the board keeps streaming into the pty
    time.sleep(0.3)
    with board(port) as b:
        r = b.generate("hello", 50, seed=3)
        assert r.tokens == fake_tokens(list(b"hello"), 50, 3)
        assert not b.identify().running


def test_interrupted_generate_stops_the_run(port):
    def interrupt_after_10(tok, seen=[]):
        seen.append(tok)
        if len(seen) == 10:
            raise KeyboardInterrupt

    with board(port) as b:
        with pytest.raises(KeyboardInterrupt):
            b.generate("abc", 50000, on_token=interrupt_after_10)
        assert not b.identify().running
        assert b.generate("abc", 5).tokens == fake_tokens(list(b"abc"), 5, 1)


def test_line_noise_then_commands_work(port):
    """Garbage, a truncated frame and a corrupted frame on the wire: errors, then recovery."""
    import serial

    def errors_until(s, code, timeout=10.0):
        dec, codes = P.FrameDecoder(), []
        deadline = time.monotonic() + timeout
        while code not in codes and time.monotonic() < deadline:
            codes += [P.parse(f).code for f in dec.feed(s.read(256)) if f.type == P.Rsp.ERROR]
        return codes

    with serial.Serial(port, timeout=0.1) as s:
        s.reset_input_buffer()
        s.write(b"\x00\xffgarbage" + P.cmd_generate(5, 0, 1, 1, b"a")[:6])
        # simulated time runs slower than real time: wait for the 20 ms timeout to be reported
        assert errors_until(s, P.ErrorCode.TIMEOUT) == [P.ErrorCode.GARBAGE, P.ErrorCode.TIMEOUT]
        bad = bytearray(P.cmd_write(P.MEM_CONSTS, 2, [0, 0]))
        bad[7] ^= 1
        s.write(bytes(bad))
        assert errors_until(s, P.ErrorCode.BAD_CRC) == [P.ErrorCode.BAD_CRC]
    with board(port) as b:
        assert b.generate("a", 5).tokens == fake_tokens([ord("a")], 5, 1)


def test_bench_port(port, packages):
    from tritgpt.link.bench import bench_port

    r = bench_port(port, 200, prompt="Q", seed=9)
    assert r["tokens"] == 200 and r["cycles"] == 200 * CYCLES_PER_TOKEN
    assert r["core_tokens_per_second"] == pytest.approx(sim_board().clk_hz / CYCLES_PER_TOKEN)
    assert r["token_crc"] == P.crc16(fake_tokens([ord("Q")], 200, 9))


def test_write_weights_and_model_check(port, packages):
    """load-weights writes every image (the fake core keeps consts) and verifies the hash."""
    from typer.testing import CliRunner

    from tritgpt.cli.app import app
    from tritgpt.errors import UserError
    from tritgpt.ml.export import load_package

    a, b_pkg = packages
    try:
        r = CliRunner().invoke(app, ["load-weights", str(b_pkg), "--port", port])
        assert r.exit_code == 0, r.output
        assert load_package(b_pkg).digest()[:16] in r.stderr
        with board(port) as b:
            b.check_weights(b_pkg)
            with pytest.raises(UserError, match="wrong model"):
                b.check_weights(a)
        r = CliRunner().invoke(app, ["stream", "--port", port, "-n", "5", "--weights", str(a)])
        assert r.exit_code != 0 and "wrong model" in str(r.exception)
    finally:
        with board(port) as b:
            b.write_weights(a)


def test_serve_prints_port_and_stops_on_ctrl_c(port, packages):
    """simboard.serve (what `tritgpt serve-sim` runs): port on stdout, Ctrl-C ends it."""
    import select
    import signal
    import subprocess
    import sys

    from tritgpt.link.host import Board

    code = ("import sys; from pathlib import Path; from tritgpt.sim.simboard import serve, board_sources;"
            "serve(sys.argv[1], sources=board_sources(core=[Path(sys.argv[2])]))")
    # Ctrl-C as a terminal sends it: SIGINT at its default in the child even when this run
    # inherited it ignored (a shell's background job), or Python would never raise KeyboardInterrupt
    proc = subprocess.Popen([sys.executable, "-c", code, str(packages[0]), str(ROOT / "tests/rtl/fake_core.v")],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    try:
        # the build is cached (same sources and weights as the `port` fixture's)
        assert select.select([proc.stdout], [], [], 300)[0], "serve printed no port within 300 s"
        served = proc.stdout.readline().strip()
        assert served.startswith("/dev/pts/") and served != port, served
        with Board(served, timeout=5.0) as b:
            assert b.identify().context == 16
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=60) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=10)
