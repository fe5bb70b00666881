"""The RTL's file lists, read from the FuseSoC cores: the one place they are written.

    files = core_files("tritgpt:core:ternary_gpt")
    files.sources        # Verilog sources, dependencies first (tg_ram_sp.v ... tritgpt_core.v)
    files.include_dirs   # directories of the cores' include files (tritgpt_proto_defs.vh)
    files.user           # other files (ROM tables, images), with where FuseSoC copies them

The simulation, synthesis and test code ask here instead of keeping their own
lists, so adding a module to the RTL means adding it to its .core file only.

This reads the CAPI2 subset the project's cores use (filesets with files and
depend, targets naming filesets, `flag? (vlnv)` / `!flag? (vlnv)` dependencies)
with PyYAML, rather than through FuseSoC's CoreManager: FuseSoC is an optional
extra (tritgpt[synth]), and importing it and building its core library took 2.0 s
(against 0.2 s here for the board top level's whole tree, on the project's 2-core
machine) at every simulation start. tests/test_rtl_facts.py checks that FuseSoC
itself resolves the same file lists.
"""

from __future__ import annotations

import dataclasses
import functools
import re
from pathlib import Path

from .errors import UserError
from .paths import CORE_LIBRARIES

CORE_VLNV = "tritgpt:core:ternary_gpt"   # the inference core
TOP_VLNV = "tritgpt:tritgpt:top"         # the board top level (UART, protocol, core)
PROTO_VLNV = "tritgpt:tritgpt:proto"     # the protocol engine
UART_VLNV = "tritgpt:tritgpt:uart"


@dataclasses.dataclass(frozen=True)
class CoreFiles:
    sources: tuple[Path, ...]          # Verilog sources (not include files), dependencies first
    include_files: tuple[Path, ...]    # `include files
    user: tuple[tuple[Path, str], ...]  # (file, copyto) of the other files

    @property
    def include_dirs(self) -> tuple[Path, ...]:
        return tuple(dict.fromkeys(f.parent for f in self.include_files))

    @property
    def all_files(self) -> tuple[Path, ...]:
        """Every file the cores list (for cache keys)."""
        return self.sources + self.include_files + tuple(f for f, _ in self.user)


def _name(vlnv: str) -> str:
    """vendor:library:name of a VLNV (the version dropped)."""
    parts = vlnv.strip().lstrip("=<>~^").split(":")
    return ":".join(parts[:3])


def library(roots: tuple[Path, ...] | None = None) -> dict[str, tuple[Path, dict]]:
    """Every core under the library roots (default: paths.CORE_LIBRARIES, as FuseSoC
    searches them): {vendor:library:name: (core file, its CAPI2 data)}."""
    return _library(tuple(Path(r).resolve() for r in (roots or CORE_LIBRARIES)))


@functools.lru_cache(maxsize=None)
def _library(roots: tuple[Path, ...]) -> dict[str, tuple[Path, dict]]:
    import yaml

    lib: dict[str, tuple[Path, dict]] = {}
    for path in sorted(p for root in roots for p in root.rglob("*.core")):
        try:
            data = yaml.load(path.read_text(), Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
        except yaml.YAMLError as exc:
            raise UserError(f"{path} is not valid CAPI2 YAML ({exc}); fix the core file") from None
        if isinstance(data, dict) and data.get("name"):
            lib[_name(data["name"])] = (path, data)
    return lib


_CONDITIONAL = re.compile(r"^(!?)(\w+)\?\s*\((.*)\)$")


def _active(item: str, flags: frozenset[str]) -> str | None:
    """The value of a CAPI2 list item under `flags`: `flag? (x)`, `!flag? (x)` or x."""
    m = _CONDITIONAL.match(item.strip())
    if not m:
        return item.strip()
    neg, flag, value = m.groups()
    return value.strip() if (flag in flags) != bool(neg) else None


def core_files(vlnv: str, target: str = "default", *, flags: tuple[str, ...] = (),
               roots: tuple[Path, ...] | None = None) -> CoreFiles:
    """The files of core `vlnv`'s target and of every core it depends on, dependencies first."""
    lib = library(roots)
    active = frozenset(flags)
    sources: dict[Path, None] = {}
    includes: dict[Path, None] = {}
    user: dict[Path, str] = {}
    seen: set[str] = set()

    def visit(name: str, tgt: str) -> None:
        name = _name(name)
        if name in seen:
            return
        seen.add(name)
        if name not in lib:
            raise UserError(f"no core named {name} in {', '.join(map(str, roots or CORE_LIBRARIES))}; "
                            "check the core's depend list")
        path, data = lib[name]
        targets = data.get("targets") or {}
        if tgt not in targets:
            raise UserError(f"core {name} ({path}) has no target '{tgt}'")
        filesets = data.get("filesets") or {}
        for fs_item in targets[tgt].get("filesets") or []:
            fs_name = _active(str(fs_item), active)
            if fs_name is None:
                continue
            fs = filesets.get(fs_name) or {}
            for dep in fs.get("depend") or []:
                dep = _active(str(dep), active)
                if dep:
                    visit(dep, "default")
            default_type = fs.get("file_type")
            for entry in fs.get("files") or []:
                attrs = {}
                if isinstance(entry, dict):
                    (entry, attrs), = entry.items()
                f = (path.parent / str(entry)).resolve()
                ftype = attrs.get("file_type", default_type)
                if attrs.get("is_include_file"):
                    includes[f] = None
                elif ftype in ("verilogSource", "systemVerilogSource") or \
                        str(ftype or "").startswith("verilogSource"):
                    sources[f] = None
                else:
                    user[f] = attrs.get("copyto", f.name)

    visit(vlnv, target)
    return CoreFiles(tuple(sources), tuple(includes), tuple(user.items()))


def rtl_sources(vlnv: str = CORE_VLNV) -> list[Path]:
    """The Verilog sources of a core and its dependencies, dependencies first."""
    return list(core_files(vlnv).sources)


def rtl_digest(vlnv: str = CORE_VLNV) -> str:
    """sha256 of a core's Verilog sources and includes (names and contents): what a cycle
    count measured on the RTL belongs to (bench JSON entries carry it)."""
    import hashlib

    files = core_files(vlnv)
    h = hashlib.sha256()
    for f in (*files.sources, *files.include_files):
        h.update(f.name.encode() + b"\0" + f.read_bytes() + b"\0")
    return h.hexdigest()
