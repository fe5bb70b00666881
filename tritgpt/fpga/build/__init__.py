"""The units `tritgpt build` (tritgpt.fpga.flow.build) is made of, in the order it uses them.

    plan.py     the checks before any tool runs, the build's inputs and their hashes,
                which stages are stale
    stages.py   the stage runner: one make goal of the openxc7 flow per stage, logged,
                watched (the nextpnr watcher splits `make pnr` into prep, place, route,
                frames), bounded by a time limit; the synthesis cache
    verify.py   the verify stage: the routed netlist's block RAM INIT equals the weights
                package, and bit2fasm of the .bit equals nextpnr's FASM
    report.py   report.json and the printed summary: utilisation, Fmax, tokens/s, times

Dependencies point one way: flow -> build.* -> memmap, boards, toolchain (never swap).
"""
