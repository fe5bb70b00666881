"""The `tritgpt` command line: one module per area, each adding its commands to `app`.

    model.py   train, export, eval, generate            (tritgpt.ml.model, train, export)
    sim.py     sim, bench --sim                          (Verilator model of the core)
    build.py   build, program, boards, swap              (openXC7 flow via FuseSoC/Edalize)
    serial.py  stream, info, load-weights, serve-sim     (UART protocol host side)
    swap.py    swap                                      (new weights into a built bitstream)
    demo.py    demo                                      (shipped weights on the simulated board)
    sweep.py   sweep                                     (place and route over seeds and boards on Dask)
"""

from .app import app, main

__all__ = ["app", "main"]
