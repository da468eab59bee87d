"""Compare a rendered package with what is on disk: missing, changed and stale files."""

from __future__ import annotations

import difflib
import hashlib
from dataclasses import dataclass
from pathlib import Path

from tttgen.output.write import recorded_hashes
from tttgen.render.emit import MANIFEST


@dataclass(frozen=True)
class Drift:
    kind: str  # missing | changed | stale | hash
    path: str
    diff: str = ""

    def __str__(self) -> str:
        text = f"{self.kind}: {self.path}"
        return text + ("\n" + self.diff if self.diff else "")


def compare(files: dict[str, str], directory: Path) -> list[Drift]:
    drifts: list[Drift] = []
    present = {p.relative_to(directory).as_posix() for p in directory.rglob("*") if p.is_file()} if directory.exists() else set()
    recorded = recorded_hashes(directory) or {}
    for name in sorted(files):
        path = directory / name
        if name not in present:
            drifts.append(Drift("missing", f"{directory / name}"))
            continue
        on_disk = path.read_bytes()
        if recorded.get(name) and name != MANIFEST and hashlib.sha256(on_disk).hexdigest() != recorded[name]:
            drifts.append(Drift("hash", f"{path} (content no longer matches its MANIFEST.json sha256)"))
        text = on_disk.decode("utf-8", errors="replace")
        if text != files[name]:
            diff = "".join(
                difflib.unified_diff(
                    text.splitlines(keepends=True), files[name].splitlines(keepends=True), f"{path} (on disk)", f"{path} (regenerated)"
                )
            )
            drifts.append(Drift("changed", str(path), diff))
    for name in sorted(present - set(files)):
        drifts.append(Drift("stale", str(directory / name)))
    return drifts
