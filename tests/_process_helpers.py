"""Finding the processes a test started, through the tool's own children.

A test sets TRITGPT_TEST_MARK in the environment of the command it runs; every process
below it (make, yosys, nextpnr) inherits it, so a test can tell its own leftovers from
anyone else's runs on the same machine."""

from __future__ import annotations

from pathlib import Path

MARK_VARIABLE = "TRITGPT_TEST_MARK"


def marked_processes(mark: str) -> dict[int, list[str]]:
    """pid -> command line (arguments) of every process carrying this mark."""
    entry = f"{MARK_VARIABLE}={mark}".encode()
    found = {}
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            if entry in (proc / "environ").read_bytes().split(b"\0"):
                args = (proc / "cmdline").read_bytes().rstrip(b"\0").split(b"\0")
                found[int(proc.name)] = [a.decode(errors="replace") for a in args]
        except OSError:
            continue
    return found
