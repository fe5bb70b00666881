"""The `tritgpt` command line: one module per area of module-level command functions,
thin over the library; app.py registers them and holds the one error path.

    options.py the options several commands share (--weights, -n, --prompt, --baud, ...)
    output.py  the stdout / stderr consoles (no wrapping when not a terminal)
    model.py   train, export, eval, generate            (tritgpt.ml.model, train, export)
    sim.py     sim, bench (--sim, --port)                (Verilator model of the core; tritgpt.link.bench)
    build.py   build, program, boards                    (openXC7 flow via FuseSoC/Edalize)
    serial.py  stream, info, load-weights, serve-sim     (UART protocol host side)
    swap.py    swap                                      (new weights into a built bitstream)
    demo.py    demo                                      (shipped weights on the simulated board)
    sweep.py   sweep                                     (place and route over seeds and boards on Dask)
"""

from .app import app, main

__all__ = ["app", "main"]
