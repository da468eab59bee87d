"""The stand-in SFPI compiler: answers tt-metal's probe, writes empty preprocessor output, one RV32 object per
compile, and links ELF files the tt-metal loader accepts (a text segment, relocations kept)."""

import os
import shutil
import struct
import subprocess
import sys
from pathlib import Path

import pytest

from tttgen.checking.realttnn import setup as ttnn_setup

HERE = Path(ttnn_setup.__file__).resolve().parent


@pytest.fixture
def compiler(tmp_path):
    if not shutil.which("riscv64-unknown-elf-as"):
        if os.environ.get("CI") == "true":
            pytest.fail("binutils-riscv64-unknown-elf missing: `make ttnn-venv` installs it")
        pytest.skip("binutils-riscv64-unknown-elf not installed (`make ttnn-venv` installs it)")
    bindir = tmp_path / "bin"
    bindir.mkdir()
    shutil.copyfile(HERE / "sfpi_standin.py", bindir / "sfpi_standin.py")
    (bindir / "standin.s").write_text(ttnn_setup.STUB_ASSEMBLY)
    subprocess.run(["riscv64-unknown-elf-as", "-march=rv32i", "-mabi=ilp32", "-o", str(bindir / "standin.o"), str(bindir / "standin.s")], check=True)

    def run(*args):
        return subprocess.run([sys.executable, "-S", str(bindir / "sfpi_standin.py"), *args], capture_output=True, text=True, cwd=tmp_path)

    return run


def sections(path: Path) -> list[str]:
    out = subprocess.run(["riscv64-unknown-elf-readelf", "-S", "-W", str(path)], capture_output=True, text=True, check=True).stdout
    return [line.split("]")[1].split()[0] for line in out.splitlines() if "]" in line and line.split("]")[1].split()]


def test_version_probe(compiler):
    assert "stand-in" in compiler("--version").stdout


def test_precompiled_header_and_preprocess_write_empty_files(compiler, tmp_path):
    assert compiler("-x", "c++-header", "pch.h", "-o", str(tmp_path / "pch.gch")).returncode == 0
    assert (tmp_path / "pch.gch").read_bytes() == b""


def test_compile_writes_an_rv32_object_and_its_dependency_file(compiler, tmp_path):
    out = tmp_path / "k.o"
    assert compiler("-c", "-MMD", "k.cpp", "-o", str(out)).returncode == 0
    head = out.read_bytes()[:20]
    assert head[:4] == b"\x7fELF" and head[4] == 1  # 32-bit ELF
    assert struct.unpack("<H", head[18:20])[0] == 0xF3  # EM_RISCV
    assert (tmp_path / "k.d").read_text().startswith(str(out))


def test_link_keeps_text_and_relocations(compiler, tmp_path):
    obj = tmp_path / "k.o"
    compiler("-c", "k.cpp", "-o", str(obj))
    script = tmp_path / "kernel.ld"
    script.write_text("SECTIONS { . = 0x10000; .text : { *(.text*) } .data : { *(.data*) } }\n")
    elf = tmp_path / "k.elf"
    done = compiler("-O3", "-Wl,--emit-relocs", "-nostartfiles", f"-T{script}", str(obj), "-o", str(elf))
    assert done.returncode == 0, done.stderr
    names = sections(elf)
    assert ".text" in names and ".rela.text" in names


def test_link_failure_is_reported(compiler, tmp_path):
    done = compiler("-Tmissing.ld", "-o", str(tmp_path / "x.elf"))
    assert done.returncode != 0
