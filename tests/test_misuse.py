"""Misuse, as users commit it: the installed `tritgpt` executable in a subprocess.

Every case asserts the exit code and the whole of stderr: a usage error as click
prints it (usage line, error line, exit 2) or one line "error: ..." naming the thing
and the fix (exit 1); never a traceback, and nothing on stdout before a failure.
No case needs a Verilator build or a board: each is refused before one would start.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SHIPPED = ROOT / "weights" / "default"
NO_PORT = "/dev/tritgpt-no-such-port"


def executable() -> str:
    """The `tritgpt` console script of this interpreter's environment (what users run)."""
    here = Path(sys.executable).parent / "tritgpt"
    found = str(here) if here.exists() else shutil.which("tritgpt")
    assert found, "the tritgpt executable is not installed (pip install -e .)"
    return found


@pytest.fixture(scope="module")
def work(tmp_path_factory) -> Path:
    """Everything the cases point at: broken packages, checkpoints, corpora, files."""
    w = tmp_path_factory.mktemp("misuse")

    def package(name, edit_manifest=None, edit_files=None):
        d = w / name
        shutil.copytree(SHIPPED, d)
        if edit_manifest:
            m = json.loads((d / "manifest.json").read_text())
            m = edit_manifest(m)
            (d / "manifest.json").write_text(json.dumps(m) if not isinstance(m, (bytes, str)) else m)
        if edit_files:
            edit_files(d)

    def set_config(**kw):
        def edit(m):
            m["config"].update(kw)
            return m
        return edit

    def drop(key):
        def edit(m):
            del m[key]
            return m
        return edit

    def replace(key, value):
        def edit(m):
            m[key] = value
            return m
        return edit

    def write(name, data):
        def edit(d):
            f = d / name
            if f.is_dir():
                shutil.rmtree(f)
            elif f.exists():
                f.unlink()
            if data is None:
                return
            if data == "DIR":
                f.mkdir()
            else:
                f.write_bytes(data)
        return edit

    def flip_gain(d):
        lines = (d / "gains.hex").read_text().splitlines()
        lines[0] = f"{int(lines[0], 16) ^ 1:08x}"
        (d / "gains.hex").write_text("\n".join(lines) + "\n")

    package("ok")
    package("binary_manifest", edit_files=write("manifest.json", b"\x00\xff\xfe\x80 garbage"))
    package("list_manifest", lambda m: [m])
    package("bad_json", lambda m: '{"format": "tritgpt-weights",')
    package("no_config", drop("config"))
    package("no_files", drop("files"))
    package("files_list", replace("files", ["gains.hex"]))
    package("lanes_garbage", lambda m: {**m, "layout": {**m["layout"], "lanes": "many"}})
    package("format_99", replace("format_version", 99))
    package("config_str", set_config(d_model="64"))
    package("config_bool", set_config(n_layers=True))
    package("config_48", set_config(d_model=48))
    package("config_unknown", set_config(dropout=0.1))
    package("config_list", replace("config", [64, 2]))
    package("three_layers", set_config(n_layers=3))
    package("requant_garbage", replace("requant", "garbage"))
    package("requant_changed", lambda m: {**m, "requant": {**m["requant"], "lm": [1, 2]}})
    package("gains_edited", edit_files=flip_gain)
    package("bank_is_dir", edit_files=write("wt_bank00.hex", "DIR"))
    package("bank_missing", edit_files=write("wt_bank03.hex", None))
    package("bank_binary", edit_files=write("tok_emb.hex", b"\x00\x01\x02\xff" * 100))
    (w / "empty_pkg").mkdir()
    (w / "a_file").write_text("not a directory\n")

    (w / "garbage.pt").write_bytes(b"not a checkpoint" * 10)
    (w / "ckpt_dir").mkdir()
    (w / "existing_file").write_text("keep me\n")

    (w / "empty.txt").write_bytes(b"")
    (w / "binary.bin").write_bytes(bytes(range(256)) * 64)
    (w / "short.txt").write_text("To be, or not to be.\n")
    (w / "corpus_dir").mkdir()
    (w / "bad_config.json").write_text("{ not json")
    (w / "str_config.json").write_text(json.dumps({"name": "s", "d_model": "64"}))
    return w


# (id, argv with {w} for the work directory, exit code, fragments stderr must hold)
USAGE = [
    ("no-args", [], 2, ["Usage: tritgpt"]),
    ("unknown-command", ["foo"], 2, ["No such command 'foo'"]),
    ("n-not-a-number", ["generate", "-n", "abc"], 2, ["'-n'"]),
    ("temperature-not-a-number", ["generate", "--temperature", "abc"], 2, ["'--temperature'"]),
    ("stream-without-port", ["stream"], 2, ["Missing option '--port'"]),
    ("info-without-port", ["info"], 2, ["Missing option '--port'"]),
    ("build-without-board", ["build"], 2, ["Missing option '--board'"]),
    ("export-without-out", ["export", "{w}/garbage.pt"], 2, ["Missing option '-o'"]),
    ("generate-extra-argument", ["generate", "extra"], 2, ["unexpected extra argument"]),
    ("generate-unknown-option", ["generate", "--bogus"], 2, ["No such option: --bogus"]),
    ("boards-json-value", ["boards", "--json", "true"], 2, ["unexpected extra argument"]),
    ("seed-not-a-number", ["sim", "--seed", "x"], 2, ["'--seed'"]),
    ("load-weights-without-arguments", ["load-weights"], 2, ["Missing argument"]),
    ("swap-without-arguments", ["swap"], 2, ["Missing argument"]),
    ("baud-not-a-number", ["stream", "--port", NO_PORT, "--baud", "fast"], 2, ["'--baud'"]),
]

NUMBERS = [
    ("generate-n-0", ["generate", "-n", "0"], ["-n must be in 1..65535"]),
    ("generate-n-negative", ["generate", "-n", "-5"], ["-n must be in 1..65535"]),
    ("generate-n-65536", ["generate", "-n", "65536"], ["-n must be in 1..65535"]),
    ("generate-n-huge", ["generate", "-n", "1000000000"], ["-n must be in 1..65535"]),
    ("sim-n-huge", ["sim", "-n", "1000000000"], ["-n must be in 1..65535"]),
    ("stream-n-huge", ["stream", "--port", NO_PORT, "-n", "70000"], ["-n must be in 1..65535"]),
    ("demo-n-0", ["demo", "-n", "0"], ["-n must be in 1..65535"]),
    ("bench-n-0", ["bench", "--sim", "-n", "0"], ["-n must be in 1..65535"]),
    ("temperature-nan", ["generate", "--temperature", "nan"], ["temperature must be >= 0", "nan"]),
    ("temperature-inf", ["generate", "--temperature", "inf"], ["temperature must be >= 0", "inf"]),
    ("temperature-overflow", ["sim", "--temperature", "1e400"], ["temperature must be >= 0", "inf"]),
    ("temperature-negative", ["stream", "--port", NO_PORT, "--temperature", "-1"], ["temperature must be >= 0"]),
    ("seed-negative", ["generate", "--seed", "-1"], ["--seed must be in 0..4294967295"]),
    ("seed-too-big", ["sim", "--seed", str(2**32)], ["--seed must be in 0..4294967295"]),
    ("baud-0", ["stream", "--port", NO_PORT, "--baud", "0"], ["--baud must be in"]),
    ("baud-negative", ["info", "--port", NO_PORT, "--baud", "-9600"], ["--baud must be in"]),
    ("timeout-0", ["info", "--port", NO_PORT, "--timeout", "0"], ["--timeout must be", "> 0"]),
    ("timeout-nan", ["stream", "--port", NO_PORT, "--timeout", "nan"], ["--timeout must be"]),
    ("float-steps-negative", ["train", "--float-steps", "-5"], ["--float-steps must be >= 0"]),
    ("batch-0", ["train", "--batch", "0"], ["--batch must be >= 1"]),
    ("lr-0", ["train", "--lr", "0"], ["--lr must be a finite number > 0"]),
    ("lr-nan", ["train", "--lr", "nan"], ["--lr must be a finite number > 0"]),
    ("eval-every-0", ["train", "--eval-every", "0"], ["--eval-every must be >= 1"]),
    ("threads-0", ["train", "--threads", "0"], ["--threads must be >= 1"]),
    ("build-nice-negative", ["build", "--board", "arty-a7-35t", "--nice", "-1"], ["--nice must be in 0..19"]),
    ("build-timeout-0", ["build", "--board", "arty-a7-35t", "--timeout", "0"], ["--timeout must be"]),
    ("build-baud-0", ["build", "--board", "arty-a7-35t", "--baud", "0"], ["--baud must be in"]),
    ("build-seeds-words", ["build", "--board", "arty-a7-35t", "--seeds", "a,b"], ["--seeds takes"]),
    ("sim-clock-0", ["sim", "--clock-mhz", "0"], ["--clock-mhz must be"]),
    ("prompt-non-ascii", ["generate", "--prompt", "héllo"], ["prompt must be ASCII", "U+00E9"]),
    ("sim-prompt-emoji", ["sim", "--prompt", "hi \U0001F600"], ["prompt must be ASCII", "U+1F600"]),
]

PACKAGES = [
    ("missing", "generate", "{w}/nowhere", ["nowhere", "not a weights package"]),
    ("a-file", "generate", "{w}/a_file", ["a_file", "not a weights package"]),
    ("no-manifest", "sim", "{w}/empty_pkg", ["empty_pkg", "no manifest.json", "tritgpt export"]),
    ("binary-manifest", "generate", "{w}/binary_manifest", ["binary_manifest/manifest.json", "not text"]),
    ("list-manifest", "generate", "{w}/list_manifest", ["list_manifest/manifest.json", "not a tritgpt weights manifest"]),
    ("bad-json", "eval", "{w}/bad_json", ["bad_json/manifest.json", "not valid JSON", "line 1"]),
    ("no-config", "generate", "{w}/no_config", ["no_config/manifest.json", "'config' is missing", "re-export"]),
    ("no-files", "sim", "{w}/no_files", ["no_files/manifest.json", "'files' is missing"]),
    ("files-list", "generate", "{w}/files_list", ["files_list/manifest.json", "'files'"]),
    ("lanes-garbage", "generate", "{w}/lanes_garbage", ["lanes_garbage/manifest.json", "lanes"]),
    ("format-99", "generate", "{w}/format_99", ["format_99/manifest.json", "format version 99"]),
    ("config-string", "generate", "{w}/config_str", ["config_str/manifest.json", "d_model must be an integer"]),
    ("config-bool", "generate", "{w}/config_bool", ["config_bool/manifest.json", "n_layers must be an integer"]),
    ("config-not-pow2", "sim", "{w}/config_48", ["config_48/manifest.json", "d_model must be a power of two"]),
    ("config-unknown-field", "generate", "{w}/config_unknown", ["config_unknown/manifest.json", "dropout"]),
    ("config-list", "generate", "{w}/config_list", ["config_list/manifest.json", "'config'"]),
    ("layer-count", "generate", "{w}/three_layers", ["three_layers/manifest.json", "n_layers=3", "re-export"]),
    ("requant-garbage", "generate", "{w}/requant_garbage", ["requant_garbage/manifest.json", "'requant'"]),
    ("requant-changed", "sim", "{w}/requant_changed", ["requant_changed/manifest.json", "'requant'", "consts.hex"]),
    ("gains-edited", "generate", "{w}/gains_edited", ["gains.hex", "sha256"]),
    ("bank-is-directory", "generate", "{w}/bank_is_dir", ["wt_bank00.hex", "not a file"]),
    ("bank-missing", "sim", "{w}/bank_missing", ["wt_bank03.hex", "missing"]),
    ("image-binary", "generate", "{w}/bank_binary", ["tok_emb.hex"]),
]

OTHER = [
    # build refuses a package generate and sim refuse, before any tool runs
    ("build-synth-only-edited-gains", ["build", "--synth-only", "--board", "arty-a7-35t", "--weights",
                                       "{w}/gains_edited", "--out", "{w}/build_gains"], ["gains.hex", "sha256"]),
    ("build-unknown-board", ["build", "--board", "arty-z7"], ["unknown board 'arty-z7'", "arty-a7-35t"]),
    ("build-out-is-file", ["build", "--synth-only", "--board", "arty-a7-35t", "--out", "{w}/existing_file"],
     ["existing_file", "is a file"]),
    # a design clock the divider cannot make, or the UART rate cannot divide
    ("build-design-mhz-30", ["build", "--synth-only", "--board", "arty-a7-35t", "--design-mhz", "30",
                             "--out", "{w}/build_30"], ["--design-mhz", "board clock (100 MHz) divided by an integer"]),
    ("build-design-mhz-baud", ["build", "--synth-only", "--board", "arty-a7-35t", "--design-mhz", "12.5",
                               "--out", "{w}/build_12"], ["--design-mhz 12.5", "2000000 baud", "--baud"]),
    ("program-unknown-board", ["program", "--board", "nope"], ["unknown board 'nope'"]),
    ("serve-sim-bad-package", ["serve-sim", "--weights", "{w}/no_config"], ["no_config/manifest.json"]),
    ("load-weights-bad-package", ["load-weights", "{w}/gains_edited", "--port", NO_PORT], ["gains.hex", "sha256"]),
    ("stream-build-without-report", ["stream", "--port", NO_PORT, "--build", "{w}"],
     ["--build", "no report.json there", "or --baud"]),
    # checkpoints
    ("export-missing-checkpoint", ["export", "{w}/none.pt", "-o", "{w}/out1"], ["none.pt", "does not exist"]),
    ("export-garbage-checkpoint", ["export", "{w}/garbage.pt", "-o", "{w}/out2"],
     ["garbage.pt", "not a readable tritgpt checkpoint"]),
    ("export-directory-checkpoint", ["export", "{w}/ckpt_dir", "-o", "{w}/out3"], ["ckpt_dir", "is a directory"]),
    ("export-out-is-file", ["export", "{w}/garbage.pt", "-o", "{w}/existing_file"], ["existing_file", "is a file"]),
    # corpora and configs
    ("train-corpus-missing", ["train", "--corpus", "{w}/none.txt", "--out", "{w}/run"], ["none.txt", "does not exist"]),
    ("train-corpus-directory", ["train", "--corpus", "{w}/corpus_dir", "--out", "{w}/run"], ["corpus_dir", "not a file"]),
    ("train-corpus-empty", ["train", "--corpus", "{w}/empty.txt", "--out", "{w}/run"], ["empty.txt", "empty"]),
    ("train-corpus-binary", ["train", "--corpus", "{w}/binary.bin", "--out", "{w}/run"], ["binary.bin", "not text"]),
    ("train-corpus-too-short", ["train", "--corpus", "{w}/short.txt", "--out", "{w}/run"], ["short.txt", "too few"]),
    ("train-out-is-file", ["train", "--corpus", str(ROOT / "README.md"), "--out", "{w}/existing_file"],
     ["existing_file", "is a file"]),
    ("train-config-unknown", ["train", "--corpus", str(ROOT / "README.md"), "--config", "huge"], ["built-in configs"]),
    ("train-config-bad-json", ["train", "--corpus", str(ROOT / "README.md"), "--config", "{w}/bad_config.json"],
     ["bad_config.json", "not a readable JSON"]),
    ("train-config-wrong-type", ["train", "--corpus", str(ROOT / "README.md"), "--config", "{w}/str_config.json"],
     ["str_config.json", "d_model must be an integer"]),
    ("eval-corpus-too-short", ["eval", str(SHIPPED), "--corpus", "{w}/short.txt"], ["short.txt", "too few"]),
    ("eval-corpus-binary", ["eval", str(SHIPPED), "--corpus", "{w}/binary.bin"], ["binary.bin", "not text"]),
    ("eval-corpus-directory", ["eval", str(SHIPPED), "--corpus", "{w}/corpus_dir"], ["corpus_dir", "not a file"]),
    # ports
    ("stream-no-such-port", ["stream", "--port", NO_PORT], [NO_PORT, "no such serial port"]),
    ("info-no-such-port", ["info", "--port", NO_PORT], [NO_PORT, "no such serial port"]),
    ("bench-no-such-port", ["bench", "--port", NO_PORT, "-n", "10"], [NO_PORT, "no such serial port"]),
    ("stream-port-is-a-file", ["stream", "--port", "{w}/a_file"], ["a_file"]),
    ("bench-neither", ["bench"], ["--sim", "--port"]),
    ("swap-missing-build", ["swap", "{w}/no_build", str(SHIPPED), "-o", "{w}/x.bit"], ["no_build"]),
]


def _package_argv(command: str, package: str) -> list[str]:
    return ["eval", package] if command == "eval" else [command, "--weights", package]


ALL_ARGV = ([c[1] for c in USAGE] + [c[1] for c in NUMBERS] + [_package_argv(c[1], c[2]) for c in PACKAGES]
            + [c[1] for c in OTHER])


@pytest.fixture(scope="module")
def results(work) -> dict:
    """Every case's run, made up front on all cores (each is a process start, ~1 s of CPU)."""
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(max_workers=max(2, os.cpu_count() or 2)) as pool:
        runs = list(pool.map(lambda argv: run(argv, work), ALL_ARGV))
    return {tuple(argv): res for argv, res in zip(ALL_ARGV, runs)}


def run(argv: list[str], work: Path) -> subprocess.CompletedProcess:
    args = [a.replace("{w}", str(work)) for a in argv]
    env = {k: v for k, v in os.environ.items() if k != "TRITGPT_DEBUG"}
    env["TRITGPT_BUILD_DIR"] = str(work / "build")
    return subprocess.run([executable(), *args], cwd=work, capture_output=True, text=True, timeout=120, env=env)


def assert_one_line_error(res: subprocess.CompletedProcess, fragments: list[str], work: Path) -> None:
    assert "Traceback" not in res.stderr, res.stderr
    assert res.returncode == 1, (res.returncode, res.stderr)
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), res.stderr
    for f in fragments:
        assert f.replace("{w}", str(work)) in lines[0], (f, lines[0])
    assert res.stdout == "", f"printed before failing: {res.stdout!r}"


@pytest.mark.parametrize("argv,code,fragments", [c[1:] for c in USAGE], ids=[c[0] for c in USAGE])
def test_usage_errors(argv, code, fragments, results):
    res = results[tuple(argv)]
    assert "Traceback" not in res.stderr, res.stderr
    assert res.returncode == code, (res.returncode, res.stderr)
    text = res.stderr if argv else res.stdout + res.stderr   # no arguments: the help, as click prints it
    assert "Usage: tritgpt" in text, text
    if argv:
        errors = [line for line in res.stderr.splitlines() if line.startswith("Error:")]
        assert len(errors) == 1, res.stderr
    for f in fragments:
        assert f in text, (f, text)


@pytest.mark.parametrize("argv,fragments", [c[1:] for c in NUMBERS], ids=[c[0] for c in NUMBERS])
def test_numbers_out_of_range(argv, fragments, results, work):
    assert_one_line_error(results[tuple(argv)], fragments, work)


@pytest.mark.parametrize("command,package,fragments", [c[1:] for c in PACKAGES], ids=[c[0] for c in PACKAGES])
def test_malformed_packages(command, package, fragments, results, work):
    assert_one_line_error(results[tuple(_package_argv(command, package))], fragments, work)


@pytest.mark.parametrize("argv,fragments", [c[1:] for c in OTHER], ids=[c[0] for c in OTHER])
def test_files_corpora_checkpoints_ports(argv, fragments, results, work):
    if argv[0] in ("train", "export"):
        pytest.importorskip("torch")
    res = results[tuple(argv)]
    assert_one_line_error(res, fragments, work)
    if argv[0] == "train" and "existing_file" in argv:
        assert (work / "existing_file").read_text() == "keep me\n"
    if argv[0] == "export":
        assert not any((work / f"out{i}").exists() for i in (1, 2, 3))


def test_debug_shows_the_traceback(work):
    """TRITGPT_DEBUG=1 is the one way to see where an error came from."""
    res = subprocess.run([executable(), "generate", "--weights", str(work / "no_config")], cwd=work,
                         capture_output=True, text=True, timeout=120, env={**os.environ, "TRITGPT_DEBUG": "1"})
    assert res.returncode == 1 and "Traceback" in res.stderr
    assert "field 'config' is missing" in res.stderr.strip().splitlines()[-1]


def test_messages_keep_their_brackets_and_do_not_wrap(work, tmp_path):
    """Rich markup must not eat '[train]'; output to a pipe is not wrapped at 80 columns."""
    long_name = tmp_path / ("a-weights-package-with-a-long-name-" * 4)
    res = run(["generate", "--weights", str(long_name)], work)
    assert_one_line_error(res, [str(long_name)], work)
    env = {**os.environ, "PYTHONPATH": str(work / "no_torch")}
    (work / "no_torch").mkdir(exist_ok=True)
    (work / "no_torch" / "torch.py").write_text("raise ImportError('torch is hidden for this test')\n")
    res = subprocess.run([executable(), "train", "--corpus", str(ROOT / "README.md"), "--out", str(tmp_path / "r")],
                         cwd=work, capture_output=True, text=True, timeout=120, env=env)
    assert_one_line_error(res, ["pip install 'tritgpt[train]'"], work)


@pytest.mark.parametrize("board", ["arty-a7-35t", "ulx3s-85f"])
def test_build_refuses_an_old_yosys_before_synthesis(work, tmp_path, board):
    """Debian's yosys 0.23 named in $YOSYS: one line naming it and the fix, and nothing built."""
    old = tmp_path / "bin" / "yosys"
    old.parent.mkdir()
    old.write_text('#!/bin/sh\necho "Yosys 0.23 (git sha1 7ce5011c24b)"\n')
    old.chmod(0o755)
    out = tmp_path / "build"
    res = subprocess.run([executable(), "build", "--synth-only", "--board", board, "--out", str(out)], cwd=work,
                         capture_output=True, text=True, timeout=120,
                         env={**os.environ, "YOSYS": str(old), "TRITGPT_DEBUG": ""})
    assert_one_line_error(res, [str(old), "yosys 0.23", "0.70 or newer", "pip install"], work)
    assert not (out / "tritgpt.json").exists() and not list(out.glob("**/*.json")), "synthesis ran"
