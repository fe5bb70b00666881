# Copyright tritgpt contributors
# Licensed under the 2-Clause BSD License, as Edalize (whose flow API this follows), so
# that it can be offered upstream.
# SPDX-License-Identifier: BSD-2-Clause

"""prjxray xc7frames2bit: configuration frames to a .bit file, with a reproducible header.

    $(XC7FRAMES2BIT) --part_file DB/PART/part.yaml --part_name PART --frm_file FRAMES --output_file BIT
    $(PYTHON) xc7frames2bit.py normalize BIT

xc7frames2bit writes the current date and time into the .bit header (fields 'c' and
'd'), so two builds of the same design differ. The second step rewrites them, in
place and with the same lengths, to the time given by SOURCE_DATE_EPOCH (the
reproducible-builds convention; default 0, i.e. 1970/01/01 00:00:00).
"""

import os
import sys
import time

try:
    from edalize.tools.edatool import Edatool
    from edalize.utils import EdaCommands
except ImportError:  # run as a plain script without Edalize
    Edatool = object
    EdaCommands = None


def normalize_header(data: bytes, epoch: int = 0) -> bytes:
    """Replace the date ('c') and time ('d') fields of a Xilinx .bit header."""
    t = time.gmtime(epoch)
    values = {ord("c"): time.strftime("%Y/%m/%d", t).encode(), ord("d"): time.strftime("%H:%M:%S", t).encode()}
    out = bytearray(data)
    # header: 2-byte length + 9 bytes + 2-byte length (0x0001), then fields key, 16-bit length, value
    if len(out) < 13 or out[:2] != b"\x00\x09":
        raise ValueError("not a .bit file (no Xilinx bit header)")
    pos = 13
    while pos < len(out):
        key = out[pos]
        if key == ord("e"):  # bitstream length follows: end of the header
            return bytes(out)
        length = int.from_bytes(out[pos + 1: pos + 3], "big")
        start = pos + 3
        if key in values:
            new = values[key] + b"\x00"
            if len(new) != length:
                raise ValueError(f"header field {chr(key)!r} has length {length}, expected {len(new)}")
            out[start: start + length] = new
        pos = start + length
    raise ValueError("truncated .bit header")


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if len(argv) != 2 or argv[0] != "normalize":
        print("usage: xc7frames2bit.py normalize FILE.bit", file=sys.stderr)
        return 64
    path = argv[1]
    epoch = int(os.environ.get("SOURCE_DATE_EPOCH", "0") or 0)
    with open(path, "rb") as f:
        data = f.read()
    fixed = normalize_header(data, epoch)
    if fixed != data:
        with open(path + ".tmp", "wb") as f:
            f.write(fixed)
        os.replace(path + ".tmp", path)
    return 0


class Xc7frames2bit(Edatool):

    description = "prjxray xc7frames2bit: frames to a Xilinx 7-series .bit file (reproducible header)"

    TOOL_OPTIONS = {
        "part": {"type": "str", "desc": "Device part, e.g. xc7a35tcsg324-1"},
    }

    def setup(self, edam):
        super().setup(edam)
        frames = ""
        unused_files = []
        for f in self.files:
            if f.get("file_type") == "xc7Frames":
                frames = f["name"]
            else:
                unused_files.append(f)
        if not frames:
            raise RuntimeError("xc7frames2bit: no frames input")
        part = self._require_tool_option("part")
        bit = f"{self.name}.bit"
        self.edam = edam.copy()
        self.edam["files"] = unused_files + [{"name": bit, "file_type": "bitstream"}]
        commands = EdaCommands()
        commands.add(
            [
                [
                    "$(XC7FRAMES2BIT)",
                    "--part_file", f"$(PRJXRAY_DB_FAMILY)/{part}/part.yaml",
                    "--part_name", part,
                    "--frm_file", frames,
                    "--output_file", bit,
                ],
                ["$(PYTHON)", "$(OPENXC7_TOOLS)/xc7frames2bit.py", "normalize", bit],
            ],
            [bit],
            [frames],
        )
        commands.set_default_target(bit)
        self.commands = commands


if __name__ == "__main__":
    sys.exit(main())
