# Copyright tritgpt contributors
# Licensed under the 2-Clause BSD License, as Edalize (whose flow API this follows), so
# that it can be offered upstream.
# SPDX-License-Identifier: BSD-2-Clause

"""prjxray fasm2frames: FPGA assembly (FASM) to configuration frames.

    $(FASM2FRAMES) --part PART --db-root DB FASM FRAMES

DB is the prjxray-db family directory (e.g. .../prjxray-db/artix7), given by the Make
variable PRJXRAY_DB_FAMILY that the openxc7 flow derives from PRJXRAY_DB_DIR.
"""

from edalize.tools.edatool import Edatool
from edalize.utils import EdaCommands


class Fasm2frames(Edatool):

    description = "prjxray fasm2frames: FASM to configuration frames"

    TOOL_OPTIONS = {
        "part": {"type": "str", "desc": "Device part, e.g. xc7a35tcsg324-1"},
        "fasm2frames_options": {"type": "str", "desc": "Additional options for fasm2frames", "list": True},
    }

    def setup(self, edam):
        super().setup(edam)
        fasm = ""
        unused_files = []
        for f in self.files:
            if f.get("file_type") == "FASM":
                fasm = f["name"]
            else:
                unused_files.append(f)
        if not fasm:
            raise RuntimeError("fasm2frames: no FASM input")
        part = self._require_tool_option("part")
        frames = f"{self.name}.frames"
        self.edam = edam.copy()
        self.edam["files"] = unused_files + [{"name": frames, "file_type": "xc7Frames"}]
        command = ["$(FASM2FRAMES)", "--part", part, "--db-root", "$(PRJXRAY_DB_FAMILY)"]
        command += list(self.tool_options.get("fasm2frames_options", []))
        command += [fasm, frames]
        commands = EdaCommands()
        commands.add(command, [frames], [fasm])
        commands.set_default_target(frames)
        self.commands = commands
