"""Create the real-ttnn venv: Python 3.12, `ttnn==0.81.1` from PyPI, GNU binutils for RISC-V, the stand-in compiler.

    python -m tttgen.checking.realttnn.setup [--venv DIR]

Idempotent: a finished venv is recognised by a stamp file and left alone. Each step says what it does. The venv holds
no torch (ttnn imports without it; the runner uses shape-only stand-ins), so it stays about 670 MB.

Steps:
1. find a Python 3.12 (`TTTGEN_PYTHON312`, `python3.12` on PATH, or pyenv's versions/3.12.*): ttnn 0.81.1 ships
   cp310/cp312 wheels only and the main venv is 3.11;
2. `python3.12 -m venv DIR` and `pip install ttnn==0.81.1`;
3. Debian's `binutils-riscv64-unknown-elf` (assembler and linker), installed with apt-get only when missing;
4. the stand-in SFPI compiler (`sfpi_standin.py`) at the path tt-metal probes, with a one-instruction RV32 object
   assembled here: tt-metal builds firmware and kernels when it opens even a mock device, and loads the ELF files.
"""

from __future__ import annotations

import argparse
import glob
import os
import shutil
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parents[2]))

from tttgen.checking.realttnn.environment import TTNN_VERSION, venv_dir  # noqa: E402

STAMP = ".tttgen-ttnn-ready"
COMPILER_NAMES = ("riscv-tt-elf-g++", "riscv32-tt-elf-g++")  # newer and older tt-metal probe names
APT_PACKAGE = "binutils-riscv64-unknown-elf"
STUB_ASSEMBLY = """\
    .text
standin_text:
    lui a0, %hi(standin_data)
    addi a0, a0, %lo(standin_data)
    ret
    .data
standin_data:
    .word 0
"""


def say(message: str) -> None:
    print(f"[ttnn-venv] {message}", flush=True)


def find_python312() -> str:
    candidates = [os.environ.get("TTTGEN_PYTHON312"), shutil.which("python3.12")]
    root = os.environ.get("PYENV_ROOT") or os.path.expanduser("~/.pyenv")
    candidates += sorted(glob.glob(f"{root}/versions/3.12.*/bin/python3.12"), reverse=True)
    for c in candidates:  # a pyenv shim on PATH may exist and still fail: ask each one
        if c and Path(c).exists():
            probe = subprocess.run([c, "-c", "import sys; print(sys.version_info[:2] == (3, 12))"], capture_output=True, text=True)
            if probe.stdout.strip() == "True":
                return c
    sys.exit(
        "[ttnn-venv] error: no Python 3.12 found (ttnn 0.81.1 ships wheels for 3.10 and 3.12 only, and the main venv is 3.11). "
        "Install python3.12 or set TTTGEN_PYTHON312=/path/to/python3.12."
    )


def run(cmd: list[str], **kw) -> None:
    done = subprocess.run(cmd, **kw)
    if done.returncode != 0:
        sys.exit(f"[ttnn-venv] error: `{' '.join(cmd)}` failed with exit code {done.returncode}")


def ensure_binutils() -> None:
    if shutil.which("riscv64-unknown-elf-as") and shutil.which("riscv64-unknown-elf-ld"):
        return
    say(f"installing Debian's {APT_PACKAGE} (RISC-V assembler and linker for the stand-in compiler, ~12 MB)")
    if not shutil.which("apt-get"):
        sys.exit(f"[ttnn-venv] error: riscv64-unknown-elf-ld is missing and apt-get is not available: install {APT_PACKAGE}")
    sudo = [] if os.geteuid() == 0 else ["sudo"]
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    run(sudo + ["apt-get", "update", "-qq"], env=env)
    run(sudo + ["apt-get", "install", "-y", "-qq", APT_PACKAGE], env=env)


def site_packages(venv: Path) -> Path:
    found = sorted(venv.glob("lib/python3.*/site-packages"))
    if not found:
        sys.exit(f"[ttnn-venv] error: no site-packages under {venv}")
    return found[0]


def install_standin_compiler(venv: Path) -> Path:
    bindir = site_packages(venv) / "ttnn" / "runtime" / "sfpi" / "compiler" / "bin"
    bindir.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(HERE / "sfpi_standin.py", bindir / "sfpi_standin.py")
    source = bindir / "standin.s"
    source.write_text(STUB_ASSEMBLY)
    run(["riscv64-unknown-elf-as", "-march=rv32i", "-mabi=ilp32", "-o", str(bindir / "standin.o"), str(source)])
    # The system Python without site packages starts fast; the compiler is called many times per kernel build.
    interpreter = "/usr/bin/python3" if Path("/usr/bin/python3").exists() else sys.executable
    for name in COMPILER_NAMES:
        path = bindir / name
        path.write_text(f'#!/bin/sh\nexec {interpreter} -S "$(dirname "$0")/sfpi_standin.py" "$@"\n')
        path.chmod(0o755)
    return bindir


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--venv", type=Path, default=venv_dir())
    args = parser.parse_args(argv)
    venv: Path = args.venv
    stamp = venv / STAMP
    want = f"ttnn=={TTNN_VERSION}\n{(HERE / 'sfpi_standin.py').read_text()}"
    if stamp.exists() and stamp.read_text() == want:
        return 0
    say(f"setting up the real-ttnn check venv at {venv} (first time: a few minutes, ~670 MB)")
    if not (venv / "bin" / "python").exists():
        python = find_python312()
        say(f"creating a Python 3.12 venv with {python}")
        run([python, "-m", "venv", str(venv)])
    say(f"installing ttnn=={TTNN_VERSION} from PyPI (no torch)")
    run([str(venv / "bin" / "pip"), "install", "-q", "--disable-pip-version-check", f"ttnn=={TTNN_VERSION}"])
    ensure_binutils()
    bindir = install_standin_compiler(venv)
    say(f"stand-in SFPI compiler installed at {bindir}")
    stamp.write_text(want)
    say("ready")
    return 0


if __name__ == "__main__":
    sys.exit(main())
