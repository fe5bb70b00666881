"""Boards: one data file each in constraints/NAME.toml, plus the pin file generated from it.

A board file gives the part, its family ("artix7", the default, or "ecp5"), the clock
pin and frequency, the UART and LED pins, the I/O standard, the openFPGALoader board
name, the resource budget of the whole part and the built-in model configs that fit.
The pin file is generated from it (`tritgpt boards --write`) and checked in so other
tools can read it: constraints/NAME.xdc for Artix-7 (nextpnr-xilinx, Vivado),
constraints/NAME.lpf for ECP5 (nextpnr-ecp5, Diamond); the tests check they agree.

Budgets are per family: an Artix-7 board counts LUT6, FF, RAMB36 and DSP48E1; an ECP5
board LUT4, FF, DP16KD (EBR) and MULT18X18D. Budget keeps them as lut, ff, bram, dsp
with the family's names in its file (Budget.ramb36 is the block RAM count).

The BRAM fit check (estimate_bram) runs before any tool: it counts the RAMB36 blocks
the weights package, the KV cache and the fixed tables need, from export.layout().
"""

from __future__ import annotations

import dataclasses
import math
import re
import sys
from pathlib import Path

from ..errors import UserError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

from ..paths import CONSTRAINTS_DIR as BOARDS_DIR
from ..paths import DEFAULT_WEIGHTS, WEIGHTS_DIR, ROOT as PROJECT_ROOT, flow_module

# Top-level ports of rtl/tritgpt_top.v
PORT_CLK, PORT_RX, PORT_TX, PORT_LED = "clk", "uart_rx", "uart_tx", "led"
MAX_CLK_DIV = 16  # rtl/tg_clock_divider.v
# The board whose design clock and UART rate the simulations report against (and the
# simulated board of `tritgpt serve-sim` is built for)
REFERENCE_BOARD = "arty-a7-35t"
# A board's default UART rate divides its design clock exactly into at least this many
# cycles per bit (uart_rx samples each bit once at its middle; 8 cycles keep that within
# 1/8 bit of the middle whatever the start edge's phase). The RTL itself needs 4.
MIN_CYCLES_PER_BIT = 8
# USB-UART bridges: reference clock and fastest rate. FTDI chips make ref / d with d
# a whole number plus eighths (d >= 1).
UART_BRIDGES = {"FT2232H": (12_000_000, 12_000_000), "FT231X": (3_000_000, 3_000_000)}


@dataclasses.dataclass(frozen=True)
class Budget:
    lut: int
    ff: int
    ramb36: int
    dsp: int


DEFAULT_SEEDS = (1, 2, 3)   # `tritgpt build`'s seeds on a board without [pnr] seeds


@dataclasses.dataclass(frozen=True)
class Board:
    name: str
    title: str
    part: str
    family: str
    device: str
    package: str
    iostandard: str
    openfpgaloader: str
    clock_pin: str
    clock_mhz: float
    design_mhz: float
    uart_tx: str
    uart_rx: str
    baud: int            # the build's default BAUD ([uart] baud; tritgpt build --baud overrides)
    uart_bridge: str     # the board's USB-UART chip, a key of UART_BRIDGES
    led_pins: tuple[str, ...]
    led_active_low: tuple[bool, ...]
    budget: Budget
    fits: tuple[str, ...]
    master_xdc: str = ""
    master_lpf: str = ""
    # nextpnr's router for this part ([pnr] router), "" for the tool's default: router2
    # does not converge on the xc7a100t here where router1 does (docs/build.md)
    router: str = ""
    # the seeds `tritgpt build` tries, in order, when --seeds is not given ([pnr] seeds): on a
    # congested part the seed decides whether the router converges at all, so a board lists
    # the ones a sweep found for the default model first (docs/build.md, "Sweeps")
    seeds: tuple[int, ...] = DEFAULT_SEEDS
    # site columns every block RAM and DSP must be placed in ([pnr] hard_block_sites), () for
    # anywhere: the xc7a100t keeps them beside its logic, on one side of the configuration
    # centre (docs/build.md, "The xc7a100t")
    hard_block_sites: tuple[str, ...] = ()
    # the slices the logic may use, as a pblock range ([pnr] slice_range), "" for anywhere:
    # the xc7a100t's routing data has no way across its configuration centre, so its logic
    # is kept on one side (docs/build.md, "The xc7a100t")
    slice_range: str = ""
    path: Path | None = None

    @property
    def is_ecp5(self) -> bool:
        return self.family == "ecp5"

    @property
    def bram_kind(self) -> str:
        """The family's block RAM that Budget.ramb36 counts."""
        return FAMILY_RESOURCES[self.family]["bram"][1]

    @property
    def dsp_kind(self) -> str:
        return FAMILY_RESOURCES[self.family]["dsp"][1]

    @property
    def pin_file(self) -> str:
        """constraints/ file name of the generated pin constraints."""
        return f"{self.name}.{'lpf' if self.is_ecp5 else 'xdc'}"

    def pin_constraints(self) -> str:
        return board_lpf(self) if self.is_ecp5 else board_xdc(self)

    @property
    def clk_hz(self) -> int:
        """CLK_HZ parameter of tritgpt_top."""
        return int(round(self.design_mhz * 1e6))

    @property
    def clk_div(self) -> int:
        """CLK_DIV parameter of tritgpt_top: design clock = board clock / CLK_DIV."""
        return int(round(self.clock_mhz / self.design_mhz))

    @property
    def target(self) -> str:
        """FuseSoC target name in constraints/tritgpt_board.core."""
        return self.name

    def xdc(self) -> str:
        return board_xdc(self)


def _get(data: dict, key: str, where: str, kind=str):
    if key not in data:
        raise UserError(f"{where}: missing '{key}'")
    value = data[key]
    if kind is float and isinstance(value, int):
        value = float(value)
    if not isinstance(value, kind):
        raise UserError(f"{where}: '{key}' must be a {kind.__name__}, got {value!r}")
    return value


def _seeds(pnr: dict, where: str) -> tuple[int, ...]:
    seeds = _get(pnr, "seeds", where, list)
    if not seeds or not all(isinstance(s, int) and not isinstance(s, bool) and 0 <= s < 2**31 for s in seeds):
        raise UserError(f"{where}: 'seeds' must be a non-empty list of nextpnr seeds (integers 0..{2**31 - 1}), "
                        f"e.g. seeds = [7, 5], got {seeds!r}")
    return tuple(seeds)


def _hard_block_sites(pnr: dict, where: str) -> tuple[str, ...]:
    sites = _get(pnr, "hard_block_sites", where, list)
    try:
        return tuple(flow_module("tools", "nextpnr_xilinx").hard_block_columns(sites))
    except ValueError as e:
        raise UserError(f"{where}: hard_block_sites: {e} (got {sites!r})") from None


def _slice_range(pnr: dict, where: str) -> str:
    text = _get(pnr, "slice_range", where)
    try:
        x0, y0, x1, y1 = flow_module("tools", "nextpnr_xilinx").slice_range(text)
    except ValueError as e:
        raise UserError(f"{where}: slice_range: {e}") from None
    return f"SLICE_X{x0}Y{y0}:SLICE_X{x1}Y{y1}"


PIN_RE = re.compile(r"^[A-Z]{1,2}[0-9]{1,2}$")
PART_RE = re.compile(r"^(xc7[aksz]\d+t)([a-z]+\d+)-(\d)$")
# LFE5U-85F-6BG381C: device LFE5U-85F, speed 6, package BG381 (nextpnr: CABGA381), grade C
ECP5_PART_RE = re.compile(r"^(LFE5UM?5?G?-(?:12|25|45|85)F)-([678])(BG|MG)(\d+)([CI])$")
ECP5_PACKAGE_PREFIX = {"BG": "CABGA", "MG": "CSFBGA"}

FAMILIES = ("artix7", "ecp5")
ROUTERS = ("", "router1", "router2")   # nextpnr --router ("": the tool's default)
# budget key in the board file -> (Budget field, resource name in reports)
FAMILY_RESOURCES = {
    "artix7": {"lut": ("lut", "LUT"), "ff": ("ff", "FF"), "bram": ("ramb36", "RAMB36"), "dsp": ("dsp", "DSP48E1")},
    "ecp5": {"lut": ("lut4", "LUT4"), "ff": ("ff", "FF"), "bram": ("dp16kd", "DP16KD"), "dsp": ("mult18x18d", "MULT18X18D")},
}


def ecp5_part_fields(part: str) -> dict | None:
    """device, speed grade and package (nextpnr-ecp5's names) of an ECP5 part, or None."""
    m = ECP5_PART_RE.match(part)
    if not m:
        return None
    return {"device": m.group(1), "speed": int(m.group(2)),
            "package": ECP5_PACKAGE_PREFIX[m.group(3)] + m.group(4)}


def load_board_file(path: Path) -> Board:
    path = Path(path)
    where = str(path)
    try:
        data = tomllib.loads(path.read_text())
    except tomllib.TOMLDecodeError as exc:
        raise UserError(f"{where}: not valid TOML: {exc}") from None
    clock = _get(data, "clock", where, dict)
    uart = _get(data, "uart", where, dict)
    leds = _get(data, "leds", where, dict)
    budget = _get(data, "budget", where, dict)
    models = data.get("models", {})
    pnr = _get(data, "pnr", where, dict) if "pnr" in data else {}
    pins = tuple(_get(leds, "pins", where + " [leds]", list))
    active_low = tuple(leds.get("active_low", [False] * len(pins)))
    family = data.get("family", "artix7")
    if family not in FAMILIES:
        raise UserError(f"{where}: family '{family}' is not one of {', '.join(FAMILIES)}")
    res = FAMILY_RESOURCES[family]
    board = Board(
        name=_get(data, "name", where),
        title=_get(data, "title", where),
        part=_get(data, "part", where),
        family=family,
        device=_get(data, "device", where),
        package=_get(data, "package", where),
        iostandard=_get(data, "iostandard", where),
        openfpgaloader=_get(data, "openfpgaloader", where),
        clock_pin=_get(clock, "pin", where + " [clock]"),
        clock_mhz=_get(clock, "mhz", where + " [clock]", float),
        design_mhz=_get(clock, "design_mhz", where + " [clock]", float),
        uart_tx=_get(uart, "tx", where + " [uart]"),
        uart_rx=_get(uart, "rx", where + " [uart]"),
        baud=_get(uart, "baud", where + " [uart]", int),
        uart_bridge=_get(uart, "bridge", where + " [uart]"),
        led_pins=pins,
        led_active_low=active_low,
        budget=Budget(**{field: int(_get(budget, key, where + " [budget]", int))
                         for field, (key, _) in zip(("lut", "ff", "ramb36", "dsp"), res.values())}),
        fits=tuple(models.get("fits", [])),
        master_xdc=data.get("master_xdc", ""),
        master_lpf=data.get("master_lpf", ""),
        router=_get(pnr, "router", where + " [pnr]") if "router" in pnr else "",
        seeds=_seeds(pnr, where + " [pnr]") if "seeds" in pnr else DEFAULT_SEEDS,
        hard_block_sites=_hard_block_sites(pnr, where + " [pnr]") if "hard_block_sites" in pnr else (),
        slice_range=_slice_range(pnr, where + " [pnr]") if "slice_range" in pnr else "",
        path=path,
    )
    if board.slice_range and board.is_ecp5:
        raise UserError(f"{where}: [pnr] slice_range is for the Artix-7 flow (prjxray site names); "
                        f"remove it from this ECP5 board")
    if board.hard_block_sites and board.is_ecp5:
        raise UserError(f"{where}: [pnr] hard_block_sites is for the Artix-7 flow (prjxray site names); "
                        f"remove it from this ECP5 board")
    if board.router and board.is_ecp5:
        raise UserError(f"{where}: [pnr] router is for the Artix-7 flow; the ECP5 flow uses nextpnr-ecp5's default "
                        f"(remove [pnr] router, or sweep routers with `tritgpt sweep --router`)")
    if board.router not in ROUTERS:
        raise UserError(f"{where}: [pnr] router '{board.router}' is not one of {', '.join(r for r in ROUTERS if r)} "
                        f"(or leave it out for nextpnr's default)")
    if board.name != path.stem:
        raise UserError(f"{where}: name '{board.name}' must match the file name '{path.stem}'")
    if board.is_ecp5:
        f = ecp5_part_fields(board.part)
        if not f or f["device"] != board.device or f["package"] != board.package:
            raise UserError(f"{where}: part {board.part} does not match device {board.device} / package {board.package}")
    else:
        m = PART_RE.match(board.part)
        if not m or m.group(1) != board.device or m.group(2) != board.package:
            raise UserError(f"{where}: part {board.part} does not match device {board.device} / package {board.package}")
    for pin in (board.clock_pin, board.uart_tx, board.uart_rx, *board.led_pins):
        if not PIN_RE.match(pin):
            raise UserError(f"{where}: '{pin}' is not a package pin name")
    if len(board.led_pins) != 4 or len(board.led_active_low) != 4:
        raise UserError(f"{where}: tritgpt_top has 4 LEDs; give 4 pins (and 4 active_low flags)")
    _check_clock(board, f"{where}: design_mhz must be")
    problem = baud_problem(board, board.baud)
    if problem:
        raise UserError(f"{where}: [uart] baud {board.baud}: {problem}")
    return board


def _check_clock(board: Board, must: str) -> None:
    div = board.clock_mhz / board.design_mhz if board.design_mhz > 0 else 0
    if not (1 <= round(div) <= MAX_CLK_DIV and abs(div - round(div)) < 1e-9):
        raise UserError(f"{must} the board clock ({board.clock_mhz:g} MHz) divided by an integer "
                        f"1..{MAX_CLK_DIV} (rtl/tg_clock_divider.v), not {board.design_mhz:g} MHz")


def at_design_clock(board: Board, mhz: float | None, baud: int | None = None) -> Board:
    """The board with the core at another design clock (`tritgpt build --design-mhz`), checked as
    the board file's own is: the board clock over an integer, and a UART rate (`baud`, else the
    board's) that divides it. None: the board as it is."""
    if mhz is None or mhz == board.design_mhz:
        return board
    clocked = dataclasses.replace(board, design_mhz=float(mhz))
    _check_clock(clocked, f"--design-mhz: the core's clock on {board.name} must be")
    rate = baud or board.baud
    problem = baud_problem(clocked, rate)
    if problem:
        raise UserError(f"--design-mhz {mhz:g} on {board.name}: UART {rate} baud {problem}; "
                        f"give --baud with a rate that does")
    return clocked


def baud_problem(board: Board, baud: int) -> str | None:
    """Why `baud` cannot be this board's default UART rate, or None (docs/protocol.md,
    "Choosing the rate"): an exact divisor of the design clock with at least
    MIN_CYCLES_PER_BIT cycles per bit, made exactly by the board's bridge."""
    if board.uart_bridge not in UART_BRIDGES:
        return f"bridge '{board.uart_bridge}' is not one of {', '.join(UART_BRIDGES)}"
    ref, fastest = UART_BRIDGES[board.uart_bridge]
    if not 0 < baud <= fastest:
        return f"the {board.uart_bridge} runs at most {fastest} baud"
    if board.clk_hz % baud or board.clk_hz // baud < MIN_CYCLES_PER_BIT:
        return (f"must divide the {board.design_mhz:g} MHz design clock exactly into at least "
                f"{MIN_CYCLES_PER_BIT} cycles per bit")
    if (ref * 8) % baud:
        return f"the {board.uart_bridge} cannot make it exactly ({ref} Hz / n, n in eighths)"
    return None


def board_names() -> list[str]:
    return sorted(p.stem for p in BOARDS_DIR.glob("*.toml"))


def all_boards() -> list[Board]:
    return [load_board_file(BOARDS_DIR / f"{n}.toml") for n in board_names()]


def get_board(name: str, design_mhz: float | None = None, baud: int | None = None) -> Board:
    """A board by name, or a UserError that lists the known boards; with design_mhz, the core
    at that clock instead of the file's (`--design-mhz`, checked by at_design_clock)."""
    path = BOARDS_DIR / f"{name}.toml"
    if not path.exists():
        names = ", ".join(board_names()) or "(none: constraints/ is empty)"
        raise UserError(f"unknown board '{name}'; known boards: {names}")
    return at_design_clock(load_board_file(path), design_mhz, baud)


def board_xdc(board: Board) -> str:
    """The board's pin constraints as XDC, as nextpnr-xilinx (and Vivado) read it."""
    io = board.iostandard
    period = 1000.0 / board.clock_mhz
    lines = [
        f"# {board.title} ({board.part}): pins of tritgpt_top.",
        f"# Generated from constraints/{board.name}.toml by `tritgpt boards --write-xdc`; do not edit.",
        f"set_property -dict {{ PACKAGE_PIN {board.clock_pin} IOSTANDARD {io} }} [get_ports {PORT_CLK}]",
        # nextpnr-xilinx does not carry this through IBUF/BUFG; the flow passes --freq too.
        # Port names without spaces inside braces: nextpnr-xilinx's XDC reader needs that.
        f"create_clock -add -name sys_clk_pin -period {period:.3f} -waveform {{0 {period / 2:.3f}}} [get_ports {PORT_CLK}]",
        f"set_property -dict {{ PACKAGE_PIN {board.uart_tx} IOSTANDARD {io} }} [get_ports {PORT_TX}]",
        f"set_property -dict {{ PACKAGE_PIN {board.uart_rx} IOSTANDARD {io} }} [get_ports {PORT_RX}]",
    ]
    for i, pin in enumerate(board.led_pins):
        lines.append(f"set_property -dict {{ PACKAGE_PIN {pin} IOSTANDARD {io} }} [get_ports {{{PORT_LED}[{i}]}}]")
    return "\n".join(lines) + "\n"


def board_lpf(board: Board) -> str:
    """The board's pin constraints as LPF, as nextpnr-ecp5 (and Diamond) read it."""
    io = board.iostandard
    lines = [
        f"# {board.title} ({board.part}): pins of tritgpt_top.",
        f"# Generated from constraints/{board.name}.toml by `tritgpt boards --write`; do not edit.",
        f'LOCATE COMP "{PORT_CLK}" SITE "{board.clock_pin}";',
        f'IOBUF PORT "{PORT_CLK}" PULLMODE=NONE IO_TYPE={io};',
        f'FREQUENCY PORT "{PORT_CLK}" {board.clock_mhz:g} MHZ;',
        f'LOCATE COMP "{PORT_TX}" SITE "{board.uart_tx}";',
        f'IOBUF PORT "{PORT_TX}" PULLMODE=UP IO_TYPE={io} DRIVE=4;',
        f'LOCATE COMP "{PORT_RX}" SITE "{board.uart_rx}";',
        f'IOBUF PORT "{PORT_RX}" PULLMODE=UP IO_TYPE={io};',
    ]
    for i, pin in enumerate(board.led_pins):
        lines.append(f'LOCATE COMP "{PORT_LED}[{i}]" SITE "{pin}";')
        lines.append(f'IOBUF PORT "{PORT_LED}[{i}]" PULLMODE=NONE IO_TYPE={io} DRIVE=4;')
    return "\n".join(lines) + "\n"


def parse_lpf_pins(text: str) -> dict[str, tuple[str, str]]:
    """port -> (pin, io type) from LOCATE COMP / IOBUF PORT lines."""
    sites, types = {}, {}
    for line in text.splitlines():
        line = line.split("#", 1)[0]
        m = re.search(r'LOCATE\s+COMP\s+"([^"]+)"\s+SITE\s+"([^"]+)"', line)
        if m:
            sites[m.group(1)] = m.group(2)
        m = re.search(r'IOBUF\s+PORT\s+"([^"]+)".*IO_TYPE=(\w+)', line)
        if m:
            types[m.group(1)] = m.group(2)
    return {port: (pin, types.get(port, "")) for port, pin in sites.items()}


def parse_xdc_pins(text: str) -> dict[str, tuple[str, str]]:
    """port -> (pin, iostandard) from `set_property -dict {PACKAGE_PIN .. IOSTANDARD ..}` lines."""
    out = {}
    for line in text.splitlines():
        line = line.split("#", 1)[0]
        m = re.search(r"PACKAGE_PIN\s+(\S+)\s+IOSTANDARD\s+(\S+)\s*}\s*\[get_ports\s+(\{[^}]*\}|[^\]\s]+)\s*\]", line)
        if m:
            out[m.group(3).strip("{} ")] = (m.group(1), m.group(2))
    return out


# ----------------------------------------------------------------------------
# BRAM fit check
# ----------------------------------------------------------------------------

# RAMB18E1 aspect ratios (depth, width) in simple dual port; a RAMB36E1 is two of these.
RAMB18_SHAPES = ((16384, 1), (8192, 2), (4096, 4), (2048, 9), (1024, 18), (512, 36))


def ramb18_for(depth: int, width: int) -> int:
    """RAMB18 blocks for a depth x width memory (best aspect ratio, no sharing)."""
    if depth <= 0 or width <= 0:
        return 0
    best = None
    for d, w in RAMB18_SHAPES:
        n = math.ceil(depth / d) * math.ceil(width / w)
        best = n if best is None else min(best, n)
    return best


def estimate_bram(cfg, lanes: int | None = None) -> dict:
    """RAMB36 blocks a model needs on the FPGA, itemised, as rtl/ lays the memories out.

    - weight banks: LANES/16 banks of depth x 32 (one RAMB18 per 512 words);
    - the token embedding (depth x 32, 4 int8 per word; positions are relative: no table);
    - RMSNorm gains (depth x 32, read through both ports: a RAMB36 per 1024 words) and
      the constants (depth x 32);
    - the KV cache, 2 x n_layers x context x d_model bytes, kept as d_model/4 banks of
      32 bits for K and for V (one position per address): K is read through both ports,
      which at 32 bits needs a RAMB36 per 1024 words; V a RAMB18 per 512;
    - the fixed tables: EXP (softmax and sampler), RSQRT, RECIP and the sampler's
      histogram, a RAMB18 each.
    A RAMB18 counts as half a RAMB36. rtl/tritgpt_core.v with the default config
    synthesises to exactly this (38 RAMB36).
    """
    from ..ml import export

    lay = export.layout(cfg, lanes or export.LANES)
    dep = lay["depth"]
    kv_depth = cfg.n_layers * cfg.context
    kv_banks = cfg.d_model // 4
    items = {  # in RAMB18
        "weight banks": lay["banks"] * ramb18_for(dep["wt_bank"], 32),
        "token embedding": ramb18_for(dep["tok_emb"], 32),
        "gains": 2 * math.ceil(dep["gains"] / 1024),
        "consts": ramb18_for(dep["consts"], 32),
        "KV cache": kv_banks * (2 * math.ceil(kv_depth / 1024) + ramb18_for(kv_depth, 32)),
        "tables": 5,
    }
    ramb18 = sum(items.values())
    return {
        "items_ramb36": {k: v / 2 for k, v in items.items()},
        "ramb36": math.ceil(ramb18 / 2),
        "bytes_kv_cache": 2 * cfg.n_layers * cfg.context * cfg.d_model,
    }


def check_fit(board: Board, cfg, lanes: int | None = None) -> dict:
    """Raise UserError if the model's memories do not fit the board's BRAM."""
    est = estimate_bram(cfg, lanes)
    if est["ramb36"] > board.budget.ramb36:
        parts = ", ".join(f"{k} {v:g}" for k, v in est["items_ramb36"].items() if v)
        raise UserError(
            f"model '{cfg.name}' needs about {est['ramb36']} RAMB36 ({parts}) but {board.name} "
            f"({board.device}) has {board.budget.ramb36}; use a smaller config or a larger board "
            f"(see `tritgpt boards`)"
        )
    return est


# ----------------------------------------------------------------------------
# FuseSoC core with one target per board
# ----------------------------------------------------------------------------

# FuseSoC wants a core's files in its own directory: the board core sits beside the
# constraints, the shipped weights' core beside the package (weights/default.core)
CORE_FILE = BOARDS_DIR / "tritgpt_board.core"
WEIGHTS_CORE_FILE = WEIGHTS_DIR / "default.core"
BOARD_CORE_VLNV = "tritgpt:tritgpt:board:0.1.0"
TOP_CORE_VLNV = "tritgpt:tritgpt:top"
WEIGHTS_CORE_VLNV = "tritgpt:weights:default"
# the test stand-in for the top level: its core maps TOP_CORE_VLNV to itself, applied
# with `fusesoc run --mapping FIXTURE_CORE_VLNV` (the board core never names it)
FIXTURE_CORE_VLNV = "tritgpt:test:fixture_top:0.1.0"
WEIGHTS_FLAG = "tritgpt_weights"  # set by `tritgpt build`: it puts its own package in weights/


def _fileset(board: Board) -> str:
    return ("lpf_" if board.is_ecp5 else "xdc_") + board.name.replace("-", "_")


# vlogdefine that selects the ECP5 branch of the vendor-specific RTL (rtl/tg_clock_divider.v)
ECP5_DEFINE = "TG_FAMILY_ECP5"


def board_core(boards: list[Board] | None = None) -> str:
    """constraints/tritgpt_board.core: the board top level for every board, flow openxc7 or ecp5."""
    boards = all_boards() if boards is None else boards
    out = [
        "CAPI=2:",
        "# Generated from constraints/*.toml by `tritgpt boards --write`; do not edit.",
        "#",
        "# One target per board, built with the openXC7 flow (flows/edalize/flows/openxc7.py) for",
        "# Artix-7 and the ECP5 flow (flows/edalize/flows/ecp5.py) for ECP5:",
        "#   fusesoc run --target arty-a7-35t tritgpt:tritgpt:board   (fusesoc.conf: the libraries)",
        "# (weights/default is copied to weights/ in the build directory). `tritgpt build` runs",
        "# the same targets with its own weights package, the tools it found, and reports.",
        f"name: {BOARD_CORE_VLNV}",
        "description: tritgpt_top on Artix-7 and ECP5 boards (open toolchain)",
        "",
        "filesets:",
        "  top:",
        "    depend:",
        f"      - {TOP_CORE_VLNV}",
    ]
    # the shipped weights, for builds with FuseSoC alone (tritgpt build brings its own)
    wfiles = _default_weights_files()
    if wfiles:
        out += ["  default_weights:", "    depend:", f"      - {WEIGHTS_CORE_VLNV}"]
    for b in boards:
        out += [
            f"  {_fileset(b)}:",
            f"    files: [{b.pin_file}]",
            f"    file_type: {'LPF' if b.is_ecp5 else 'xdc'}",
        ]
    out += [
        "",
        "parameters:",
        "  CLK_HZ:",
        "    datatype: int",
        "    paramtype: vlogparam",
        "    description: Design clock in Hz (set per board)",
        "  CLK_DIV:",
        "    datatype: int",
        "    paramtype: vlogparam",
        "    default: 1",
        "    description: Design clock = board clock / CLK_DIV (set per board)",
        "  BAUD:",
        "    datatype: int",
        "    paramtype: vlogparam",
        "    default: 115200",
        "    description: UART baud rate",
        "  WEIGHTS_DIR:",
        "    datatype: str",
        "    paramtype: vlogparam",
        '    default: "weights/"',
        "    description: Weights package directory, relative to the build directory",
        f"  {ECP5_DEFINE}:",
        "    datatype: bool",
        "    paramtype: vlogdefine",
        "    description: Lattice ECP5 clock buffers (DCCA) in rtl/tg_clock_divider.v (set per board)",
        "",
        "targets:",
        "  default:",
        "    filesets: [top]",
        "    toplevel: tritgpt_top",
    ]
    # (the ROM tables come with the core: tritgpt:core:tables copies them to rtl/tables/)
    extra_fs = f', "!{WEIGHTS_FLAG}? (default_weights)"' if wfiles else ""
    for b in boards:
        out += [
            f"  {b.target}:",
            f"    description: {b.title} ({b.part}, {b.design_mhz:g} MHz)",
        ]
        if b.is_ecp5:
            part = ecp5_part_fields(b.part)
            out += [
                "    flow: ecp5",
                "    flow_options:",
                f"      device: {part['device']}",
                f"      package: {part['package']}",
                f"      speed: {part['speed']}",
                f"      frequency: {b.design_mhz:g}",
                "      include_dirs: [weights]",
            ]
            family_params = f", {ECP5_DEFINE}=true"
        else:
            out += [
                "    flow: openxc7",
                "    flow_options:",
                f"      part: {b.part}",
                f"      frequency: {b.design_mhz:g}",
                "      include_dirs: [weights]",
            ]
            if b.router:
                out += [f"      nextpnr_options: [--router, {b.router}]"]
            if b.hard_block_sites:
                out += [f"      hard_block_sites: [{', '.join(b.hard_block_sites)}]"]
            if b.slice_range:
                out += [f"      slice_range: \"{b.slice_range}\""]
            family_params = ""
        out += [
            f"    filesets: [top{extra_fs}, {_fileset(b)}]",
            f"    parameters: [CLK_HZ={b.clk_hz}, CLK_DIV={b.clk_div}, BAUD={b.baud}, WEIGHTS_DIR{family_params}]",
            "    toplevel: tritgpt_top",
        ]
    return "\n".join(out) + "\n"


def _default_weights_files() -> list[str]:
    wdir = DEFAULT_WEIGHTS
    return sorted(p.name for p in wdir.iterdir() if p.suffix in (".hex", ".vh", ".json")) if wdir.is_dir() else []


def weights_core() -> str:
    """weights/default.core: the shipped weights package as a FuseSoC core, copied to
    weights/ in a build (the board's WEIGHTS_DIR, the core targets' too)."""
    out = [
        "CAPI=2:",
        "# Generated from weights/default/ by `tritgpt boards --write`; do not edit.",
        "# The shipped model for FuseSoC's own targets (the core's lint/sim/synth, the",
        "# boards): its header on the include path and its images, in weights/.",
        f"name: {WEIGHTS_CORE_VLNV}:0.1.0",
        "description: the shipped tritgpt weights package (weights/default)",
        "",
        "filesets:",
        "  package:",
        "    file_type: user",
        "    files:",
    ]
    for n in _default_weights_files():
        if n.endswith(".vh"):
            out.append(f"      - default/{n}: {{copyto: weights/{n}, is_include_file: true, file_type: verilogSource}}")
        else:
            out.append(f"      - default/{n}: {{copyto: weights/{n}}}")
    out += ["", "targets:", "  default:", "    filesets: [package]"]
    return "\n".join(out) + "\n"


def write_board_files() -> list[Path]:
    """Regenerate constraints/NAME.{xdc,lpf}, constraints/tritgpt_board.core and
    weights/default.core; returns changed files."""
    changed = []
    boards = all_boards()
    files = {BOARDS_DIR / b.pin_file: b.pin_constraints() for b in boards}
    files[CORE_FILE] = board_core(boards)
    if _default_weights_files():
        files[WEIGHTS_CORE_FILE] = weights_core()
    for path, text in files.items():
        if not path.exists() or path.read_text() != text:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text)
            changed.append(path)
    return changed
