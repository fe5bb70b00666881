"""The `tritgpt` command line: train -> export -> sim / build -> program / stream.

Commands are module-level functions in one module per area (model, sim, build,
serial, swap, demo, sweep), thin over the library; options shared between commands are
defined once in options.py. `main` is the one error path:

- usage errors (unknown command or option, a value of the wrong type, a missing
  option) are printed as click prints them: usage line, one error line, exit 2;
- tritgpt.errors.UserError (and errors the library raises for bad files:
  WeightsError, ...) is one line on stderr, exit 1;
- anything else is a bug: one line asking for a report, exit 1; the traceback
  only with TRITGPT_DEBUG=1.
"""

from __future__ import annotations

import os
import signal
import sys

import typer

from . import build, demo, model, serial, sim, swap, sweep
from .. import interrupts

app = typer.Typer(
    name="tritgpt",
    help="A ternary GPT on Artix-7 FPGAs, built with open tools only.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)


def _version(value: bool) -> None:
    if value:
        from importlib.metadata import version

        print(f"tritgpt {version('tritgpt')}")
        raise typer.Exit()


@app.callback()
def _root(
    version: bool = typer.Option(False, "--version", callback=_version, is_eager=True, help="Print the version."),
) -> None:
    """A ternary GPT on Artix-7 FPGAs, built with open tools only."""


COMMANDS = [
    (model.train, "train"), (model.export, "export"), (model.eval_cmd, "eval"), (model.generate, "generate"),
    (sim.sim, "sim"), (sim.bench, "bench"),
    (build.build, "build"), (build.program, "program"), (build.boards, "boards"),
    (serial.stream, "stream"), (serial.info, "info"), (serial.load_weights, "load-weights"),
    (serial.serve_sim, "serve-sim"),
    (swap.swap, "swap"),
    (demo.demo, "demo"),
    (sweep.sweep, "sweep"),
]
for _fn, _name in COMMANDS:
    app.command(_name)(_fn)


def _click_exception_classes() -> tuple[tuple[type, ...], tuple[type, ...]]:
    """(usage error classes, abort classes) of every click typer may raise: recent typer
    vendors click as typer._click (Abort and Exit in typer.exceptions); older typer
    uses the click package."""
    import importlib

    def classes(*names: str) -> tuple[type, ...]:
        found = []
        for name in names:
            module, _, attr = name.rpartition(".")
            try:
                found.append(getattr(importlib.import_module(module), attr))
            except (ImportError, AttributeError):
                pass
        return tuple(found)

    return (classes("typer._click.exceptions.ClickException", "click.exceptions.ClickException"),
            classes("typer.exceptions.Abort", "click.exceptions.Abort"))


def _print_error(message: str) -> None:
    """One line on stderr. No rich markup: messages hold brackets ('tritgpt[train]')."""
    sys.stderr.write(f"error: {message}\n")
    sys.stderr.flush()


def main() -> None:
    """Console entry point (see the module docstring for the error path)."""
    from ..errors import UserError
    from ..ml.export import WeightsError

    usage_errors, aborts = _click_exception_classes()
    debug = os.environ.get("TRITGPT_DEBUG") == "1"
    interrupts.catch()
    try:
        rv = app(standalone_mode=False)
    except usage_errors as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except (UserError, WeightsError) as exc:
        if debug:
            raise
        _print_error(str(exc))
        sys.exit(getattr(exc, "code", 1))
    except (KeyboardInterrupt, *aborts):
        _interrupted(interrupts.received() or signal.SIGINT)
    except BrokenPipeError:
        # the reader went away (`tritgpt generate | head`): not an error of ours
        sys.stderr.close()
        sys.exit(0)
    except SystemExit:
        raise
    except Exception as exc:
        if debug:
            raise
        _print_error(f"internal error ({exc.__class__.__name__}: {exc}); this is a bug in tritgpt, please "
                     f"report it with the command line (TRITGPT_DEBUG=1 shows the traceback)")
        sys.exit(1)
    # standalone_mode=False returns the exit code of typer.Exit(code) instead of exiting; typer
    # itself turns KeyboardInterrupt into Exit(130), so an interrupt usually ends up here
    signum = interrupts.received()
    if signum is not None and rv == 130:
        _interrupted(signum)
    sys.exit(rv if isinstance(rv, int) else 0)


def _interrupted(signum: int):
    """One line and 128+signal, as a shell reports a command its signal stopped."""
    sys.stderr.write(f"\n{interrupts.exit_line(signum)}\n")
    sys.exit(128 + signum)
