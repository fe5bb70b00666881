"""The two consoles of the command line: `out` (stdout, results) and `err` (stderr,
progress and notes).

On a terminal rich wraps to the window. Sent to a file, a pipe or a CI log, lines
are never wrapped (rich would otherwise wrap at 80 columns, splitting figures from
their units and URLs mid-word, so a pasted install hint would fail).
"""

from __future__ import annotations

import sys

from rich.console import Console

WIDTH_WHEN_NOT_A_TERMINAL = 400


def make_console(stderr: bool = False) -> Console:
    stream = sys.stderr if stderr else sys.stdout
    tty = hasattr(stream, "isatty") and stream.isatty()
    if tty:
        return Console(stderr=stderr)
    return Console(stderr=stderr, width=WIDTH_WHEN_NOT_A_TERMINAL, soft_wrap=True)


out = make_console()
err = make_console(stderr=True)
