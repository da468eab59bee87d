"""Where the real ttnn wheel comes from: the pip download the API snapshot and the golden-function
tests both read (never import). One copy of the command and the cache location."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

WHEEL_NAME = "ttnn-{version}-cp312-cp312-manylinux_2_34_x86_64.whl"
DEFAULT_CACHE = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "tttgen" / "wheels"


def wheel_filename(version: str) -> str:
    return WHEEL_NAME.format(version=version)


def download_wheel(version: str, cache_dir: Path = DEFAULT_CACHE, *, quiet: bool = False, timeout: float | None = None) -> Path:
    """The cached wheel, downloaded with pip (cp312 manylinux, no dependencies) when missing.

    Raises subprocess.CalledProcessError / TimeoutExpired when pip fails, FileNotFoundError when pip
    succeeds without producing the wheel."""
    cache_dir.mkdir(parents=True, exist_ok=True)
    target = cache_dir / wheel_filename(version)
    if target.exists():
        return target
    cmd = [
        sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:",
        "--python-version", "3.12", "--platform", "manylinux_2_34_x86_64",
        f"ttnn=={version}", "-d", str(cache_dir),
    ]  # fmt: skip
    if not quiet:
        print("+", " ".join(cmd), file=sys.stderr)
    subprocess.run(cmd, check=True, capture_output=quiet, timeout=timeout)
    if not target.exists():
        raise FileNotFoundError(f"pip did not produce {target}")
    return target
