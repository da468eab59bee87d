"""A stand-in for the SFPI RISC-V compiler that tt-metal probes and calls when it opens a device.

A mock device (TT_METAL_MOCK_CLUSTER_DESC_PATH) never runs a kernel, but tt-metal still builds firmware and
kernels and loads the ELF files it gets. This script compiles nothing: it answers the version probe, writes empty
preprocessor outputs, writes one small RV32 object for every compile, and links objects with GNU ld and
tt-metal's own linker scripts so the loader finds a text segment and a relocation section.

It runs with the system Python and no site packages (`python3 -S`), so it imports only the standard library.
"""

import os
import shutil
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
STUB_OBJECT = os.path.join(HERE, "standin.o")  # written by setup: one text-to-data reference (see setup.py)
LD = "riscv64-unknown-elf-ld"
VERSION = "riscv-tt-elf-g++ (tttgen stand-in, compiles nothing) 12.4.0"

# ld flags passed through from `-Wl,` lists and the driver's own link arguments.
LD_PREFIXES = ("--just-symbols", "--emit-relocs", "--defsym", "-z", "-L", "-T", "--gc-sections", "-Map", "--no-warn")


def _output(args):
    if "-o" in args:
        return args[args.index("-o") + 1]
    for a in args:
        if a.startswith("-o") and len(a) > 2:
            return a[2:]
    return "a.out"


def _write_deps(args, out):
    dep = None
    if "-MF" in args:
        dep = args[args.index("-MF") + 1]
    elif "-MMD" in args or "-MD" in args:
        dep = os.path.splitext(out)[0] + ".d"
    if dep:
        with open(dep, "w") as f:
            f.write(f"{out}:\n")


def _is_lto(path):
    with open(path, "rb") as f:
        return b".gnu.lto_" in f.read()


def _link(args, out):
    cmd = [LD, "-m", "elf32lriscv", "--no-relax", "--unresolved-symbols=ignore-all", "-o", out]
    i = 0
    while i < len(args):
        a = args[i]
        if a == "-o":
            i += 2
            continue
        if a.startswith("-Wl,"):
            cmd += [p for p in a[4:].split(",") if p]
        elif a in ("-T", "-L") and i + 1 < len(args):
            cmd += [a, args[i + 1]]
            i += 1
        elif a.startswith(("-T", "-L")):
            cmd.append(a)
        elif not a.startswith("-") and a.endswith((".o", ".a")):
            if not _is_lto(a):  # the wheel's prebuilt objects are GCC LTO bytecode GNU ld cannot read
                cmd.append(a)
        i += 1
    done = subprocess.run(cmd, capture_output=True, text=True)
    if done.returncode != 0:
        sys.stderr.write(done.stderr)
    return done.returncode


def main(args):
    if os.environ.get("TTTGEN_SFPI_LOG"):
        with open(os.environ["TTTGEN_SFPI_LOG"], "a") as f:
            f.write(" ".join(args) + "\n")
    if "--version" in args or "-dumpversion" in args or "-v" in args:
        print(VERSION)
        return 0
    out = _output(args)
    if "-E" in args or "c++-header" in args:
        open(out, "w").close()
        _write_deps(args, out)
        return 0
    if "-c" in args:
        shutil.copyfile(STUB_OBJECT, out)
        _write_deps(args, out)
        return 0
    return _link(args, out)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
