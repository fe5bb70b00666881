#!/usr/bin/env python3
"""Write the fixed ROM images of the RTL core (rtl/tables/*.hex) from tritgpt.ml.model.

    exp.hex    EXP[d]   = round(255 * exp(-d/16)), d = 0..255     8-bit words
    rsqrt.hex  RSQRT[m] = round(2**15 / sqrt(m)), m = 0..255     16-bit words (m = 0 unused)
    recip.hex  RECIP[i] = round(2**16 / (128 + i)), i = 0..127   16-bit words

The tables are part of the specification in model.py; this script only formats them
for $readmemh. Run it after changing model.py and commit its output:

    python tools/gen_tables.py            # writes rtl/tables/
    python tools/gen_tables.py --check    # exit 1 if rtl/tables/ is out of date
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tritgpt.ml.model import EXP_TABLE, RECIP_TABLE, RSQRT_TABLE  # noqa: E402


def tables() -> dict[str, str]:
    def fmt(values, digits):
        return "".join(f"{int(v):0{digits}x}\n" for v in values)

    assert len(EXP_TABLE) == 256 and len(RSQRT_TABLE) == 256 and len(RECIP_TABLE) == 128
    return {
        "exp.hex": fmt(EXP_TABLE, 2),
        "rsqrt.hex": fmt(RSQRT_TABLE, 4),
        "recip.hex": fmt(RECIP_TABLE, 4),
    }


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=ROOT / "rtl" / "tables")
    ap.add_argument("--check", action="store_true", help="only check that the files are current")
    args = ap.parse_args()
    stale = []
    for name, text in tables().items():
        path = args.out / name
        if args.check:
            if not path.exists() or path.read_text() != text:
                stale.append(str(path))
        else:
            args.out.mkdir(parents=True, exist_ok=True)
            path.write_text(text)
    if stale:
        print("out of date (run tools/gen_tables.py):", *stale, sep="\n  ")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
