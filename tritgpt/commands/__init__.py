"""Command modules. Each defines register(app) and adds its typer commands.

    model.py   train, export, eval, generate            (tritgpt.model, train, export)
    sim.py     sim, bench --sim                          (Verilator model of the core)
    build.py   build, program, boards, swap              (openXC7 flow via FuseSoC/Edalize)
    serial.py  stream, info, load-weights, serve-sim     (UART protocol host side)
    swap.py    swap                                      (new weights into a built bitstream)
    demo.py    demo                                      (shipped weights on the simulated board)
"""

from __future__ import annotations

import importlib

MODULES = ("model", "sim", "build", "serial", "swap", "demo")


def register_all(app) -> None:
    for name in MODULES:
        try:
            mod = importlib.import_module(f"{__name__}.{name}")
        except ModuleNotFoundError as exc:
            if exc.name == f"{__name__}.{name}":
                continue  # area not present in this checkout
            raise
        mod.register(app)
