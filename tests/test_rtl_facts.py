"""Each RTL fact has one home: file lists in the FuseSoC cores, protocol numbers in
tritgpt/link/protocol.py (rtl/tritgpt_proto_defs.vh is generated from it), one
module per file."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from tritgpt import hdl
from tritgpt.link import protocol as P
from tritgpt.paths import CORE_LIBRARIES, RTL_DIR

PROTO_RTL = sorted(RTL_DIR.glob("tritgpt_proto*.v"))


def verilog_code(path) -> str:
    """A Verilog file without its comments."""
    text = re.sub(r"/\*.*?\*/", "", path.read_text(), flags=re.S)
    return re.sub(r"//[^\n]*", "", text)


def test_proto_header_is_generated_from_the_table():
    committed = (RTL_DIR / P.PROTO_DEFS_HEADER).read_text()
    assert committed == P.verilog_header(), \
        "rtl/tritgpt_proto_defs.vh is stale: run `python -m tritgpt.link.protocol --write`"
    r = subprocess.run([sys.executable, "-m", "tritgpt.link.protocol", "--check"], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr


def test_header_has_every_number_of_the_table():
    text = P.verilog_header()
    defined = dict(re.findall(r"`define (TG_\w+)\s+\d+'([hd]\w+)", text))
    value = {k: int(v[1:], 16 if v[0] == "h" else 10) for k, v in defined.items()}
    for group, prefix in ((P.Cmd, "TG_CMD_"), (P.Rsp, "TG_RSP_"), (P.ErrorCode, "TG_ERR_"), (P.Mem, "TG_MEM_")):
        for m in group:
            assert value[prefix + m.name] == m
    assert value["TG_SYNC"] == P.SYNC and value["TG_MAX_BATCH"] == P.MAX_BATCH
    assert value["TG_IDENT_LEN"] == P.IDENT_LEN == len(P.encode_ident(P.parse_ident(bytes(P.IDENT_LEN))))


def test_protocol_rtl_uses_the_header():
    code = {f.name: verilog_code(f) for f in PROTO_RTL}
    assert "tritgpt_proto_rx.v" in code and "tritgpt_proto_tx.v" in code
    everything = "\n".join(code.values())
    # every frame type and error code the device handles is named, not numbered
    for name in [*(f"TG_CMD_{c.name}" for c in P.Cmd), *(f"TG_RSP_{r.name}" for r in P.Rsp),
                 *(f"TG_ERR_{e.name}" for e in P.ErrorCode), "TG_SYNC", "TG_MEM_MAX"]:
        assert f"`{name}" in everything, f"the protocol RTL does not use `{name}"
    for name, text in code.items():
        # protocol numbers are hexadecimal in docs/protocol.md: no 8-bit hex literal
        # (other than zero) and no local redefinition may stand in for a header name
        literals = [lit for lit in re.findall(r"\b8'h[0-9A-Fa-f_]+", text) if int(lit[3:], 16) != 0]
        assert not literals, f"{name}: bare protocol literals {literals}; use tritgpt_proto_defs.vh"
        assert not re.search(r"localparam\s*\[7:0\]\s*\w+\s*=\s*\d*'[hd]", text), \
            f"{name} defines a protocol byte of its own"
        assert not re.search(r"type\s*==\s*\d+'", text), f"{name} compares a frame type with a literal"


def test_one_module_per_file_named_after_it():
    for f in sorted(RTL_DIR.glob("*.v")):
        modules = re.findall(r"^\s*module\s+(\w+)", verilog_code(f), flags=re.M)
        assert modules == [f.stem], f"{f.name} defines {modules}"


def test_every_rtl_file_is_in_a_core():
    listed = set()
    for core in hdl.library().values():
        path, data = core
        for fs in (data.get("filesets") or {}).values():
            for entry in fs.get("files") or []:
                name = next(iter(entry)) if isinstance(entry, dict) else entry
                listed.add((path.parent / name).resolve())
    for f in [*RTL_DIR.glob("*.v"), *RTL_DIR.glob("*.vh")]:
        assert f.resolve() in listed, f"{f.name} is in no .core file"


@pytest.mark.parametrize("vlnv", [hdl.CORE_VLNV, hdl.TOP_VLNV, hdl.PROTO_VLNV])
def test_file_lists_match_fusesoc(vlnv):
    """tritgpt.hdl reads the cores as FuseSoC itself does (same files, dependencies first)."""
    pytest.importorskip("fusesoc")
    from fusesoc.config import Config
    from fusesoc.coremanager import CoreManager
    from fusesoc.librarymanager import Library
    from fusesoc.vlnv import Vlnv

    cm = CoreManager(Config())
    for root in CORE_LIBRARIES:
        cm.add_library(Library(root.name, str(root)), [])
    flags = {"tool": "verilator", "target": "default"}
    theirs = []
    for core in cm.get_depends(Vlnv(vlnv), flags):
        theirs += [(Path(core.core_root) / f["name"]).resolve() for f in core.get_files(flags)
                   if f.get("file_type") == "verilogSource" and not f.get("is_include_file")]
    ours = hdl.rtl_sources(vlnv)
    assert set(theirs) == set(ours)
    # FuseSoC orders dependencies before their users too: a module's file comes
    # after the files of the cores it depends on in both lists
    assert ours[-1] == theirs[-1]
