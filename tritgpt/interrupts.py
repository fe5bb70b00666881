"""Ctrl-C and SIGTERM stop tritgpt the same way.

Both unwind as KeyboardInterrupt, so every `finally` runs: the build stages stop their tool's
process group, a sweep cancels its tasks and writes sweep.json. Left at its default, SIGTERM
(`kill`, a batch scheduler, CI's time limit) would end Python at once and leave yosys or
nextpnr running in sessions of their own. The signal is recorded, because the exception
that reaches the caller may have been re-raised by a library in between as a plain
KeyboardInterrupt, and typer turns it into a bare exit code 130.
"""

from __future__ import annotations

import signal
import threading
from typing import Callable

_received: list = [None]   # the signal that interrupted the command, if one did


def _unwind(signum, frame):
    _received[0] = signum
    raise KeyboardInterrupt()


def catch(signums=(signal.SIGINT, signal.SIGTERM)) -> Callable[[], None]:
    """Make these signals unwind as KeyboardInterrupt; returns the undo. A signal that was
    ignored when tritgpt started stays ignored (SIGINT in a background job), and only the
    main thread can take signals, so elsewhere nothing changes."""
    if threading.current_thread() is not threading.main_thread():
        return lambda: None
    _received[0] = None   # a signal from before (handled by whoever caught it) is not this one
    previous = {}
    for signum in signums:
        if signal.getsignal(signum) is not signal.SIG_IGN:
            previous[signum] = signal.signal(signum, _unwind)

    def undo() -> None:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
    return undo


def received() -> int | None:
    """The signal that interrupted us (SIGINT or SIGTERM), or None when none did."""
    return _received[0]


def exit_line(signum: int) -> str:
    """What a stopped command prints last: the shell's word for the signal."""
    return "terminated" if signum == signal.SIGTERM else "aborted"
