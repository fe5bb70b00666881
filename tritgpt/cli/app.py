"""The `tritgpt` command line: train -> export -> sim / build -> program / stream.

Each area registers its commands on `app` from a module in tritgpt/commands/.
Errors the user can fix are raised as tritgpt.errors.UserError and printed as one
line with a non-zero exit code, never as a traceback.
"""

from __future__ import annotations

import typer

app = typer.Typer(
    name="tritgpt",
    help="A ternary GPT on Artix-7 FPGAs, built with open tools only.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
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


# Command modules register themselves on `app` when imported.
import importlib  # noqa: E402

MODULES = ("model", "sim", "build", "serial", "swap", "demo", "sweep")


def register_all(app) -> None:
    for name in MODULES:
        try:
            mod = importlib.import_module(f"{__package__}.{name}")
        except ModuleNotFoundError as exc:
            if exc.name == f"{__package__}.{name}":
                continue  # area not present in this checkout
            raise
        mod.register(app)


register_all(app)


def main() -> None:
    """Console entry point: UserError becomes one red line and its exit code."""
    import sys

    from rich.console import Console

    from ..errors import UserError

    try:
        app(standalone_mode=False)
    except UserError as exc:
        Console(stderr=True).print(f"[bold red]error:[/] {exc}", highlight=False)
        sys.exit(exc.code)
    except KeyboardInterrupt:
        sys.exit(130)
    except SystemExit:
        raise
    except Exception as exc:  # click's usage errors arrive here in non-standalone mode
        import click

        if isinstance(exc, click.exceptions.ClickException):
            exc.show()
            sys.exit(exc.exit_code)
        raise
