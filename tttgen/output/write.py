"""Write a rendered package atomically; refuse to overwrite hand-edited files without --force."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from pathlib import Path

from tttgen.errors import OutputConflict
from tttgen.render.emit import MANIFEST


def recorded_hashes(directory: Path) -> dict[str, str] | None:
    try:
        return json.loads((directory / MANIFEST).read_text())["files"]
    except (OSError, ValueError, KeyError, TypeError):
        return None


def hand_edits(directory: Path) -> list[str]:
    """Files in an existing package that differ from what its manifest recorded, or are unknown."""
    if not directory.exists():
        return []
    recorded = recorded_hashes(directory)
    present = sorted(p.relative_to(directory).as_posix() for p in directory.rglob("*") if p.is_file())
    if recorded is None:
        return present  # not a tttgen package (or its manifest is broken): everything is someone's
    edited = []
    for name in present:
        if name == MANIFEST:
            continue
        digest = hashlib.sha256((directory / name).read_bytes()).hexdigest()
        if recorded.get(name) != digest:
            edited.append(name)
    return edited


def write_package(files: dict[str, str], directory: Path, force: bool = False) -> None:
    """Replace `directory` with exactly `files`. Stale files vanish; a failure leaves the old tree."""
    edited = hand_edits(directory)
    if edited and not force:
        raise OutputConflict(
            f"{len(edited)} file(s) were edited by hand or are not tttgen's: {', '.join(edited)}",
            where=str(directory),
            hint="run `tttgen check` to see the diff, or pass --force to overwrite",
        )
    directory.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{directory.name}.", dir=directory.parent))
    try:
        for name, text in sorted(files.items()):
            target = staging / name
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(text, encoding="utf-8", newline="\n")
        old = None
        if directory.exists():
            old = directory.parent / f".{directory.name}.old"
            if old.exists():
                shutil.rmtree(old)
            os.replace(directory, old)
        os.replace(staging, directory)
        if old is not None:
            shutil.rmtree(old)
    finally:
        if staging.exists():
            shutil.rmtree(staging)
