"""`make bench`: every benchmark, one after another; each prints a markdown table."""

from __future__ import annotations

import runpy
from pathlib import Path

HERE = Path(__file__).resolve().parent
SCRIPTS = ("spine.py",)

for name in SCRIPTS:
    print(f"\n## {name}\n")
    runpy.run_path(str(HERE / name), run_name="__main__")
