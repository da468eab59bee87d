#!/usr/bin/env python3
"""Snapshot the public Python API of a ttnn wheel, without importing ttnn.

The real ``ttnn`` wheel only ships for CPython 3.12 and needs Tenstorrent
hardware libraries, so tttgen cannot import it.  This script reads the wheel
as data instead and writes ``tttgen/data/ttnn_api/<version>.json``:

* the wheel's Python sources (``ttnn/**/*.py``) are parsed with :mod:`ast`
  and the module-level statements of ``ttnn/__init__.py`` (and whatever it
  imports from inside the package) are evaluated symbolically to learn which
  names end up on ``ttnn``, ``ttnn.experimental``, ``ttnn.transformer``, ...;
* the nanobind extension ``ttnn/_ttnn.cpython-312-*.so`` is read as an ELF
  file.  The binding code of every registered C++ operation, class, enum and
  module function is decoded (a small x86-64 decoder follows string pointers
  from ``lea`` instructions through registers and stack slots into the
  ``nb::arg`` objects) to recover operation names, keyword-argument names,
  class ``__init__`` keywords, properties/methods and enum members.

Nothing from the wheel is executed.  The output is deterministic (sorted keys,
one entry per line) so the committed JSON can be reproduced byte for byte:

    python scripts/snapshot_ttnn_api.py            # download (cached) + write
    python scripts/snapshot_ttnn_api.py --check    # exit 1 if the JSON differs

See docs/api-check.md for what is extracted and the known limits.
"""

from __future__ import annotations

import argparse
import ast
import bisect
import hashlib
import json
import keyword
import re
import struct
import sys
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

TTNN_VERSION = "0.81.1"
# sha256 of the wheel each committed snapshot was made from (verified before use).
KNOWN_SHA256 = {
    "0.81.1": "cc6df66162c8b5f5a5eb7347fe687b6095bf57bd64f9ba1be3d9b7f42e01d64f",
}
REPO_ROOT = Path(__file__).resolve().parent.parent
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

from tttgen.ttnn_wheel import DEFAULT_CACHE, download_wheel  # noqa: E402
DEFAULT_OUTPUT_DIR = REPO_ROOT / "tttgen" / "data" / "ttnn_api"
FORMAT_VERSION = 1

# ttnn_jit is a separate package (tt-mlir tools/ttnn-jit); its decorator flags are
# not in the ttnn wheel.  Source: tt-mlir HEAD, tools/ttnn-jit/api.py, ``def jit(...)``.
TTNN_JIT = {
    "source": "tt-mlir HEAD tools/ttnn-jit/api.py (jit decorator keyword flags)",
    "names": {
        "ttnn_jit.jit": {
            "kind": "function",
            "kwargs": [
                "compile_only",
                "debug",
                "enable_cache",
                "extra_pipeline_options",
                "fallback",
                "math_fidelity",
                "memory_config",
            ],
        },
    },
}

IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


# ---------------------------------------------------------------------------
# wheel handling
# ---------------------------------------------------------------------------


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


# ---------------------------------------------------------------------------
# ELF reading
# ---------------------------------------------------------------------------


class Elf:
    """Just enough of an ELF64 little-endian reader for one shared object."""

    def __init__(self, data: bytes):
        if data[:4] != b"\x7fELF" or data[4] != 2 or data[5] != 1:
            raise ValueError("not an ELF64 little-endian file")
        self.data = data
        (shoff,) = struct.unpack_from("<Q", data, 0x28)
        shentsize, shnum, shstrndx = struct.unpack_from("<HHH", data, 0x3A)
        self.sections = []
        for i in range(shnum):
            name, typ, flags, addr, offset, size, link, _info, _align, _entsize = struct.unpack_from(
                "<IIQQQQIIQQ", data, shoff + i * shentsize
            )
            self.sections.append(
                {"name": name, "type": typ, "flags": flags, "addr": addr, "offset": offset, "size": size, "link": link}
            )
        strtab = self.sections[shstrndx]["offset"]
        for sec in self.sections:
            sec["name"] = self.cstr_at_offset(strtab + sec["name"]).decode("latin-1")
        self.by_name = {sec["name"]: sec for sec in self.sections}
        self._mapped = sorted(
            (s["addr"], s["addr"] + s["size"], s["offset"]) for s in self.sections if s["addr"] and s["type"] != 8
        )
        self._mapped_starts = [m[0] for m in self._mapped]

    def cstr_at_offset(self, offset: int) -> bytes:
        end = self.data.index(b"\0", offset)
        return self.data[offset:end]

    def offset_of(self, addr: int):
        i = bisect.bisect_right(self._mapped_starts, addr) - 1
        if i >= 0:
            lo, hi, off = self._mapped[i]
            if addr < hi:
                return addr - lo + off
        return None

    def symbols(self, section: str):
        sec = self.by_name.get(section)
        if sec is None:
            return []
        strs = self.sections[sec["link"]]["offset"]
        out = []
        for off in range(sec["offset"], sec["offset"] + sec["size"], 24):
            st_name, st_info, _other, _shndx, value, size = struct.unpack_from("<IBBHQQ", self.data, off)
            out.append((self.cstr_at_offset(strs + st_name).decode("latin-1"), st_info & 0xF, value, size))
        return out

    def relocations(self, section: str):
        sec = self.by_name.get(section)
        if sec is None:
            return []
        out = []
        for off in range(sec["offset"], sec["offset"] + sec["size"], 24):
            r_offset, r_info, r_addend = struct.unpack_from("<QQq", self.data, off)
            out.append((r_offset, r_info & 0xFFFFFFFF, r_info >> 32, r_addend))
        return out


# ---------------------------------------------------------------------------
# x86-64 instruction decoding (length + the operand fields we need)
# ---------------------------------------------------------------------------

_PREFIXES = frozenset([0xF0, 0xF2, 0xF3, 0x2E, 0x36, 0x3E, 0x26, 0x64, 0x65, 0x66, 0x67])
_MODRM_1 = set()
for _base in range(0x00, 0x40, 8):
    _MODRM_1.update({_base, _base + 1, _base + 2, _base + 3})
_MODRM_1.update({0x62, 0x63, 0x69, 0x6B, 0x80, 0x81, 0x82, 0x83, 0xC0, 0xC1, 0xC4, 0xC5, 0xC6, 0xC7})
_MODRM_1.update(range(0x84, 0x90))
_MODRM_1.update({0xD0, 0xD1, 0xD2, 0xD3, 0xF6, 0xF7, 0xFE, 0xFF})
_MODRM_1.update(range(0xD8, 0xE0))
_IMM8_1 = (
    set(range(0x04, 0x40, 8))
    | {0x6A, 0x6B, 0x80, 0x82, 0x83, 0xA8, 0xC0, 0xC1, 0xC6, 0xCD, 0xD4, 0xD5, 0xE4, 0xE5, 0xE6, 0xE7, 0xEB}
    | set(range(0x70, 0x80))
    | set(range(0xB0, 0xB8))
    | set(range(0xE0, 0xE4))
)
_IMMZ_1 = set(range(0x05, 0x40, 8)) | {0x68, 0x69, 0x81, 0xA9, 0xC7, 0xE8, 0xE9}
_NO_MODRM_2 = (
    {0x05, 0x06, 0x07, 0x08, 0x09, 0x0B, 0x0E, 0x30, 0x31, 0x32, 0x33, 0x34, 0x35, 0x37, 0x77}
    | {0xA0, 0xA1, 0xA2, 0xA8, 0xA9, 0xAA}
    | set(range(0x80, 0x90))
    | set(range(0xC8, 0xD0))
)
_IMM8_2 = {0x70, 0x71, 0x72, 0x73, 0xA4, 0xAC, 0xBA, 0xC2, 0xC4, 0xC5, 0xC6}


class Insn:
    __slots__ = ("addr", "length", "op", "map", "rex", "vex", "mod", "reg", "rm", "base", "index", "disp", "rip")


def decode_insn(code: bytes, pos: int, addr: int) -> Insn:
    """Decode one instruction (legacy/REX/VEX/EVEX encodings) at ``code[pos:]``."""
    start = pos
    p66 = p67 = False
    while code[pos] in _PREFIXES:
        if code[pos] == 0x66:
            p66 = True
        elif code[pos] == 0x67:
            p67 = True
        pos += 1
    rex = 0
    if 0x40 <= code[pos] <= 0x4F:
        rex = code[pos]
        pos += 1
    op = code[pos]
    pos += 1
    omap = 0
    vex = False
    imm = 0
    if op in (0xC4, 0xC5, 0x62):
        vex = True
        if op == 0xC5:
            r1 = code[pos]
            pos += 1
            omap = 1
            rex = 0x40 | (0 if r1 & 0x80 else 4)
        else:
            r1, r2 = code[pos], code[pos + 1]
            pos += 2 if op == 0xC4 else 3
            omap = r1 & (0x1F if op == 0xC4 else 0x07)
            rex = (
                0x40
                | (0 if r1 & 0x80 else 4)
                | (0 if r1 & 0x40 else 2)
                | (0 if r1 & 0x20 else 1)
                | (8 if r2 & 0x80 else 0)
            )
        op = code[pos]
        pos += 1
        has_modrm = not (omap == 1 and op == 0x77)  # vzeroupper / vzeroall
        if omap == 3 or (omap == 1 and op in _IMM8_2):
            imm = 1
    elif op == 0x0F:
        op2 = code[pos]
        pos += 1
        if op2 == 0x38:
            omap, op, has_modrm = 2, code[pos], True
            pos += 1
        elif op2 == 0x3A:
            omap, op, has_modrm, imm = 3, code[pos], True, 1
            pos += 1
        else:
            omap, op = 1, op2
            if op2 == 0x0F:
                has_modrm, imm = True, 1
            else:
                has_modrm = op2 not in _NO_MODRM_2
                if op2 in _IMM8_2:
                    imm = 1
                elif 0x80 <= op2 <= 0x8F:
                    imm = 4
    else:
        has_modrm = op in _MODRM_1
        if op in _IMM8_1:
            imm = 1
        elif op in _IMMZ_1:
            imm = 2 if (p66 and op not in (0xE8, 0xE9)) else 4
        elif 0xB8 <= op <= 0xBF:
            imm = 8 if rex & 8 else (2 if p66 else 4)
        elif op in (0xA0, 0xA1, 0xA2, 0xA3):
            imm = 4 if p67 else 8
        elif op in (0xC2, 0xCA):
            imm = 2
        elif op == 0xC8:
            imm = 3
    ins = Insn()
    ins.addr, ins.op, ins.map, ins.rex, ins.vex = addr, op, omap, rex, vex
    ins.mod = ins.reg = ins.rm = ins.base = ins.index = None
    ins.disp = 0
    ins.rip = False
    if has_modrm:
        modrm = code[pos]
        pos += 1
        mod = modrm >> 6
        rm = modrm & 7
        ins.mod = mod
        ins.reg = ((modrm >> 3) & 7) | (8 if rex & 4 else 0)
        if mod == 3:
            ins.rm = rm | (8 if rex & 1 else 0)
        else:
            base = rm | (8 if rex & 1 else 0)
            index = None
            if rm == 4:
                sib = code[pos]
                pos += 1
                sbase = sib & 7
                sindex = ((sib >> 3) & 7) | (8 if rex & 2 else 0)
                index = None if sindex == 4 else sindex
                base = sbase | (8 if rex & 1 else 0)
                if sbase == 5 and mod == 0:
                    base = None
                    ins.disp = int.from_bytes(code[pos : pos + 4], "little", signed=True)
                    pos += 4
            elif rm == 5 and mod == 0:
                base = None
                ins.rip = True
                ins.disp = int.from_bytes(code[pos : pos + 4], "little", signed=True)
                pos += 4
            if mod == 1:
                ins.disp = int.from_bytes(code[pos : pos + 1], "little", signed=True)
                pos += 1
            elif mod == 2:
                ins.disp = int.from_bytes(code[pos : pos + 4], "little", signed=True)
                pos += 4
            ins.base, ins.index = base, index
        if not vex and omap == 0 and op in (0xF6, 0xF7) and (ins.reg & 7) in (0, 1):
            imm = 1 if op == 0xF6 else (2 if p66 else 4)
    if omap == 0 and not vex and op in (0xE8, 0xE9):
        ins.disp = int.from_bytes(code[pos : pos + 4], "little", signed=True)
    pos += imm
    ins.length = pos - start
    return ins


# ---------------------------------------------------------------------------
# nanobind binding recovery
# ---------------------------------------------------------------------------

_CALLER_SAVED = (0, 1, 2, 6, 7, 8, 9, 10, 11)
# one-byte opcodes whose ModRM.reg is a source or an opcode extension when the other
# operand is memory (ALU r/m,r; group 1/2/3/5; mov m,imm; mov m8,r8)
_REG_IS_SOURCE_WITH_MEM = frozenset(
    [0x00, 0x01, 0x08, 0x09, 0x10, 0x11, 0x18, 0x19, 0x20, 0x21, 0x28, 0x29, 0x30, 0x31, 0x88]
    + [0x80, 0x81, 0x83, 0xC0, 0xC1, 0xC6, 0xC7, 0xD0, 0xD1, 0xD2, 0xD3, 0xF6, 0xF7, 0xFE, 0xFF]
)
_RSP = 4
_NB_CALLS = {
    "_ZN8nanobind6detail11nb_func_newEPKNS0_21func_data_prelim_baseE": "func",
    "_ZN8nanobind6detail11nb_type_newEPKNS0_14type_init_dataE": "type",
    "_ZN8nanobind6detail16property_installEP7_objectPKcS2_S2_": "property",
    "_ZN8nanobind6detail11enum_createEPNS0_14enum_init_dataE": "enum",
    "_ZN8nanobind6detail11enum_appendEP7_objectPKclS4_S4_": "enum_value",
}
_WRAPPER_TI = "_ZTIN4ttnn19unique_wrapper_base"
_ENUM_STORAGE = "_ZN9enchantum7details30reflection_data_string_storageI"


def _mangled_chars(mangled: str) -> list[str]:
    """The char-array template arguments (``Lc<code>E`` runs) of a mangled name."""
    runs = re.findall(r"((?:Lc\d+E)+)", mangled)
    return ["".join(chr(int(c)) for c in re.findall(r"Lc(\d+)E", run)) for run in runs]


def _nested_leaf(mangled: str, prefix: str):
    """``_ZTIN2tt8tt_metal12MathFidelityE`` -> ``MathFidelity`` (plain nested names only)."""
    if not mangled.startswith(prefix):
        return None
    rest = mangled[len(prefix) :]
    nested = rest.startswith("N")
    if nested:
        rest = rest[1:]
    leaf = None
    while rest and rest[0].isdigit():
        m = re.match(r"(\d+)", rest)
        n = int(m.group(1))
        leaf = rest[len(m.group(1)) : len(m.group(1)) + n]
        rest = rest[len(m.group(1)) + n :]
    if leaf is None or (nested and not rest.startswith("E")) or (not nested and rest):
        return None
    return leaf


def _count_params(descr: str) -> int:
    """Number of ``{...}`` parameter groups in a nanobind signature descriptor."""
    depth = count = 0
    for ch in descr[descr.index("(") + 1 :]:
        if ch == "{":
            if depth == 0:
                count += 1
            depth += 1
        elif ch == "}":
            depth -= 1
        elif ch == ")" and depth == 0:
            break
    return count


def _is_arg_name(s: str) -> bool:
    return (
        bool(IDENT.match(s))
        and s not in ("_t", "True", "False", "None")
        and not keyword.iskeyword(s)
        and not (s.startswith("__") and s.endswith("__"))
    )


def _is_descr(s: str) -> bool:
    return s.startswith("(") and ") -> " in s


@dataclass
class _Callable:
    kwargs: set = field(default_factory=set)
    max_params: int = -1  # excluding self; -1 = no signature seen

    def complete(self) -> bool:
        return self.max_params >= 0 and len(self.kwargs) >= self.max_params


@dataclass
class _Class:
    members: set = field(default_factory=set)
    init: _Callable = None


@dataclass
class CppApi:
    ops: dict = field(default_factory=dict)  # python dotted name -> _Callable
    classes: dict = field(default_factory=dict)  # binding name -> _Class
    enums: dict = field(default_factory=dict)  # binding name -> set(members)
    functions: dict = field(default_factory=dict)  # binding name -> _Callable


class BindingScanner:
    """Recovers nanobind registrations from the machine code of ``_ttnn*.so``."""

    def __init__(self, data: bytes):
        self.elf = Elf(data)
        self.data = data
        symtab = self.elf.symbols(".symtab")
        dynsym = self.elf.symbols(".dynsym")
        self.sym_at = {}
        for name, _typ, value, _size in symtab:
            if value and name and not name.endswith("$got") and not name.endswith("$plt"):
                self.sym_at.setdefault(value, set()).add(name)
        self.sym_at = {k: min(v) for k, v in self.sym_at.items()}
        self.symtab = symtab
        got_sec = self.elf.by_name[".got"]
        self.got_lo, self.got_hi = got_sec["addr"], got_sec["addr"] + got_sec["size"]
        self.got = {}
        for r_offset, typ, sym, addend in self.elf.relocations(".rela.dyn"):
            if typ == 8:  # R_X86_64_RELATIVE
                name = self.sym_at.get(addend)
                if name:
                    self.got[r_offset] = name
            elif typ in (1, 6):  # R_X86_64_64 / GLOB_DAT
                self.got[r_offset] = dynsym[sym][0]
        self.str_ranges = []
        for name in (".rodata", ".rodata.str1.1", ".rodata.str1.16"):
            sec = self.elf.by_name.get(name)
            if sec:
                self.str_ranges.append((sec["addr"], sec["addr"] + sec["size"]))
        text = self.elf.by_name[".text"]
        self.text_addr = text["addr"]
        self.text = data[text["offset"] : text["offset"] + text["size"]]
        self.funcs = sorted(
            (value, size, name)
            for name, typ, value, size in symtab
            if typ == 2 and size and self.text_addr <= value < self.text_addr + len(self.text)
        )
        self.nb_calls = {}
        for name, typ, value, _size in symtab:
            if typ == 2 and name in _NB_CALLS:
                self.nb_calls[value] = _NB_CALLS[name]
        self._str_cache = {}

    # -- helpers ---------------------------------------------------------
    def string_at(self, addr: int):
        if addr in self._str_cache:
            return self._str_cache[addr]
        result = None
        if any(lo <= addr < hi for lo, hi in self.str_ranges):
            off = self.elf.offset_of(addr)
            end = self.data.find(b"\0", off, off + 65536)
            if end > off:
                raw = self.data[off:end]
                try:
                    text = raw.decode("utf-8")
                except UnicodeDecodeError:
                    text = None
                if text is not None and all(c.isprintable() or c in "\n\t\r" for c in text):
                    result = text
        self._str_cache[addr] = result
        return result

    def enum_storage(self, symbol: str) -> list[str]:
        for name, _typ, value, size in self.symtab:
            if name == symbol and size:
                off = self.elf.offset_of(value)
                blob = self.data[off : off + size]
                return [s.decode("latin-1") for s in blob.split(b"\0") if s]
        return []

    # -- per-function event stream ----------------------------------------
    def events(self, start: int, size: int):
        """Decode one function linearly; return its events in address order.

        ``("S", text, symbol)``: a string pointer is materialised (``lea``) or stored to memory
        (also when it was kept in a register / stack slot since an earlier ``lea``);
        ``("G", symbol, None)``: a GOT slot or symbol address is loaded;
        ``("C", kind, target)``: a direct call (``kind`` names the nanobind entry point or is "call").
        """
        code = self.text
        pos = start - self.text_addr
        end = pos + size
        regs = [None] * 16
        slots = {}
        out = []
        while pos < end:
            try:
                ins = decode_insn(code, pos, self.text_addr + pos)
            except IndexError:
                break
            pos += ins.length
            nxt = self.text_addr + pos
            op, omap = ins.op, ins.map
            if omap == 0 and not ins.vex:
                if op == 0x8D and ins.rex & 8:  # lea r64, m
                    val = None
                    if ins.rip:
                        tgt = nxt + ins.disp
                        s = self.string_at(tgt)
                        if s is not None:
                            val = ("S", s, self.sym_at.get(tgt))
                            out.append(val)
                        else:
                            name = self.sym_at.get(tgt)
                            if name:
                                val = ("G", name, None)
                                out.append(val)
                    regs[ins.reg] = val
                    continue
                if op == 0x8B and ins.mod != 3:  # mov r, m
                    val = None
                    if ins.rip:
                        tgt = nxt + ins.disp
                        name = self.got.get(tgt) if self.got_lo <= tgt < self.got_hi else self.sym_at.get(tgt)
                        if name:
                            val = ("G", name, None)
                            out.append(val)
                    elif ins.base == _RSP and ins.index is None and ins.rex & 8:
                        val = slots.get(ins.disp)
                    regs[ins.reg] = val
                    continue
                if op == 0x89:  # mov r/m, r
                    val = regs[ins.reg] if ins.rex & 8 else None
                    if ins.mod == 3:
                        regs[ins.rm] = val
                    else:
                        if val is not None and val[0] == "S":
                            out.append(val)
                        if ins.base == _RSP and ins.index is None:
                            slots[ins.disp] = val
                    continue
                if op == 0xE8:  # call rel32
                    tgt = nxt + ins.disp
                    kind = self.nb_calls.get(tgt)
                    out.append(("C", kind or "call", tgt))
                    for r in _CALLER_SAVED:
                        regs[r] = None
                    continue
                if op == 0xFF and ins.reg is not None and (ins.reg & 7) in (2, 3):  # indirect call
                    for r in _CALLER_SAVED:
                        regs[r] = None
                    continue
            self._clobber(ins, regs, slots)
        return out

    @staticmethod
    def _clobber(ins: Insn, regs: list, slots: dict) -> None:
        """Forget register / stack-slot contents the instruction may overwrite."""
        op, omap = ins.op, ins.map
        if ins.mod is None:
            if omap == 0 and not ins.vex:
                if 0xB8 <= op <= 0xBF or 0x58 <= op <= 0x5F or 0xB0 <= op <= 0xB7 or 0x90 <= op <= 0x97:
                    regs[(op & 7) | (8 if ins.rex & 1 else 0)] = None
                    regs[0] = None if 0x90 <= op <= 0x97 else regs[0]
                elif op in (0x98, 0x99) or 0xA4 <= op <= 0xAF:
                    for r in (0, 1, 2, 6, 7):
                        regs[r] = None
            else:
                for r in (0, 1, 2, 3):
                    regs[r] = None
            return
        if ins.mod == 3:
            if ins.vex:
                regs[ins.rm] = None
                regs[ins.reg] = None
                return
            if omap == 0 and op in (0x38, 0x39, 0x3A, 0x3B, 0x84, 0x85):  # cmp / test
                return
            if omap == 0 and op in (0x80, 0x81, 0x83) and (ins.reg & 7) == 7:  # cmp imm
                return
            if omap == 0 and op in (0xF6, 0xF7) and (ins.reg & 7) >= 4:
                regs[0] = regs[2] = None
            regs[ins.rm] = None
            regs[ins.reg] = None
            return
        # memory operand
        if not ins.vex and omap == 0 and op in (0x38, 0x39, 0x3A, 0x3B, 0x84, 0x85):
            return
        if omap == 0 and not ins.vex and op not in _REG_IS_SOURCE_WITH_MEM:
            regs[ins.reg] = None  # loads into reg
        elif ins.vex or omap != 0:
            regs[ins.reg] = None
        if ins.base == _RSP and ins.index is None:
            for d in [d for d in slots if ins.disp - 7 <= d < ins.disp + 64]:
                del slots[d]

    def _candidate_functions(self):
        """Functions with a direct call to nanobind's registration entry points or to a
        ``ttnn::bind_function<...>`` instantiation (cheap byte scan before real decoding)."""
        targets = set(self.nb_calls)
        targets.update(start for start, _size, name in self.funcs if name.startswith("_ZN4ttnn13bind_function"))
        starts = [f[0] for f in self.funcs]
        code = self.text
        base = self.text_addr + 5
        hits = set()
        for m in re.finditer(b"\xe8", code):
            pos = m.start()
            tgt = base + pos + int.from_bytes(code[pos + 1 : pos + 5], "little", signed=True)
            if tgt in targets:
                i = bisect.bisect_right(starts, self.text_addr + pos) - 1
                if i >= 0:
                    hits.add(i)
        return [self.funcs[i] for i in sorted(hits)]

    # -- interpretation ----------------------------------------------------
    def scan(self) -> CppApi:
        api = CppApi()
        streams = []
        for start, size, _name in self._candidate_functions():
            events = self.events(start, size)
            if any(e[0] == "C" for e in events):
                streams.append((start, events))
        # pass 0: names of all classes created with nb::class_ (nb_type_new) and of all enums
        self.class_names = set()
        self.enum_names = set()
        for _start, events in streams:
            seg = []
            for ev in events:
                if ev[0] != "C":
                    seg.append(ev)
                    continue
                if ev[1] == "type" and not any(e[0] == "G" and e[1].startswith(_WRAPPER_TI) for e in seg):
                    names = [e[1] for e in seg if e[0] == "S" and IDENT.match(e[1])]
                    if names:
                        self.class_names.add(names[-1])
                if ev[1] == "enum":
                    names = [e[1] for e in seg if e[0] == "S" and IDENT.match(e[1])]
                    tinfo = [e[1] for e in seg if e[0] == "G" and e[1].startswith("_ZTI")]
                    name = names[-1] if names else (_nested_leaf(tinfo[-1], "_ZTI") if tinfo else None)
                    if name:
                        self.enum_names.add(name)
                if ev[1] != "call":
                    seg = []
        # pass 1: functions that call nanobind's registration entry points
        op_funcs = {}  # function address -> op names registered inside it
        for start, events in streams:
            if any(e[0] == "C" and e[1] != "call" for e in events):
                defined = self._interpret(events, api)
                if defined:
                    op_funcs[start] = defined
        # thin ``bind_function<...>`` overload forwarders register through another instantiation
        names = {start: name for start, _size, name in self.funcs}
        for _round in range(3):
            for start, events in streams:
                if start in op_funcs or not names[start].startswith("_ZN4ttnn13bind_function"):
                    continue
                targets = {e[2] for e in events if e[0] == "C" and e[1] == "call" and e[2] in op_funcs}
                if len(targets) == 1:
                    op_funcs[start] = op_funcs[targets.pop()]
        # pass 2: out-of-line ``bind_function<...>`` instantiations get their nb::arg
        # objects from the caller; attribute the names built before each such call.
        for _start, events in streams:
            seg = []
            for ev in events:
                if ev[0] != "C":
                    seg.append(ev)
                elif ev[1] != "call":
                    seg = []
                elif ev[2] in op_funcs:
                    ops = op_funcs[ev[2]]
                    if len(ops) == 1:
                        api.ops[ops[0]].kwargs.update(self._idents(seg))
                    seg = []
        # enum member spellings (``BFLOAT16``) leak in from docstring formatting; no
        # keyword argument is spelled like that.
        members = {m for values in api.enums.values() for m in values if len(m) >= 3 and m.isupper()}
        for c in list(api.ops.values()) + list(api.functions.values()):
            c.kwargs -= members | self.enum_names
        return api

    @staticmethod
    def _idents(seg):
        return [e[1] for e in seg if e[0] == "S" and _is_arg_name(e[1])]

    def _function(self, seg, api: CppApi, cur_op, cur_class) -> None:
        """Handle one ``nb_func_new``: an op ``__call__``, a method or a module function."""
        descr_i = next((i for i, e in enumerate(seg) if e[0] == "S" and _is_descr(e[1])), None)
        if descr_i is None:
            return
        descr, descr_sym = seg[descr_i][1], seg[descr_i][2] or ""
        nparams = _count_params(descr)
        sig = next((m for m in (_SIG.match(e[1]) for e in seg if e[0] == "S") if m), None)
        sig_args = []
        if sig:
            fname = sig.group(1)
            sig_args = _sig_params(sig.group(2))
        else:
            fname = next((e[1] for e in seg[descr_i + 1 :] if e[0] == "S" and IDENT.match(e[1])), None)
        if fname is None:
            return  # unnamed getter / setter of a property
        args = set(self._idents(seg)) | set(sig_args)
        args.discard(fname)
        args -= self.class_names | self.enum_names
        is_method = "is_method" in descr_sym
        if fname == "__call__" and cur_op is not None:
            cur_op.kwargs.update(args)
            cur_op.max_params = max(cur_op.max_params, nparams - 1)
            return
        if cur_class is not None and (is_method or fname == "__init__"):
            cur_class.members.add(fname)
            if fname == "__init__":
                if cur_class.init is None:
                    cur_class.init = _Callable()
                cur_class.init.kwargs.update(args)
                cur_class.init.max_params = max(cur_class.init.max_params, nparams - 1)
            return
        if cur_class is not None:
            cur_class.members.add(fname)  # static methods look like module functions
        fn = api.functions.setdefault(fname, _Callable())
        fn.kwargs.update(args)
        fn.max_params = max(fn.max_params, nparams)

    def _interpret(self, events, api: CppApi) -> list:
        defined = []
        seg = []
        cur_op = None
        cur_class = None
        cur_enum = None
        for ev in events:
            if ev[0] != "C":
                seg.append(ev)
                continue
            kind = ev[1]
            if kind == "call":
                continue  # helper calls do not end a segment (nb::arg objects are built around them)
            if kind == "type":
                wrappers = [i for i, e in enumerate(seg) if e[0] == "G" and e[1].startswith(_WRAPPER_TI)]
                if wrappers:
                    wrapper = seg[wrappers[-1]][1]
                    chars = _mangled_chars(wrapper)
                    full = chars[1] + chars[0] if len(chars) >= 2 else chars[0]
                    begin = 0
                    for i in wrappers:
                        if seg[i][1] != wrapper:
                            begin = i + 1
                    stop = next(i for i in wrappers if i >= begin and seg[i][1] == wrapper)
                    cur_op = api.ops.setdefault(full, _Callable())
                    cur_op.kwargs.update(set(self._idents(seg[begin:stop])) - self.enum_names)
                    defined.append(full)
                    cur_class = None
                else:
                    cur_op = None
                    names = self._idents(seg)
                    tinfo = [e[1] for e in seg if e[0] == "G" and e[1].startswith("_ZTI")]
                    name = names[-1] if names else (_nested_leaf(tinfo[0], "_ZTI") if tinfo else None)
                    cur_class = api.classes.setdefault(name, _Class()) if name else None
                cur_enum = None
            elif kind == "enum":
                names = self._idents(seg)
                tinfo = [e[1] for e in seg if e[0] == "G" and e[1].startswith("_ZTI")]
                name = names[-1] if names else (_nested_leaf(tinfo[-1], "_ZTI") if tinfo else None)
                cur_enum = api.enums.setdefault(name, set()) if name else None
                cur_op = cur_class = None
            elif kind == "enum_value":
                if cur_enum is not None:
                    storage = [e[1] for e in seg if e[0] == "G" and e[1].startswith(_ENUM_STORAGE)]
                    for sym in storage:
                        cur_enum.update(self.enum_storage(sym))
                    names = self._idents(seg)
                    if names and not storage:
                        cur_enum.add(names[-1])
            elif kind == "property":
                reopened = [e[1] for e in seg if e[0] == "S" and e[1] in self.class_names]
                if reopened:
                    cur_class = api.classes.setdefault(reopened[-1], _Class())
                names = [e[1] for e in seg if e[0] == "S" and IDENT.match(e[1]) and e[1] not in self.class_names]
                if names and cur_class is not None:
                    cur_class.members.add(names[-1])
            elif kind == "func":
                # ``static_cast<nb::class_<T>>(m.attr("Name"))`` re-opens a class made elsewhere
                reopened = [e[1] for e in seg if e[0] == "S" and e[1] in self.class_names]
                if reopened:
                    cur_class = api.classes.setdefault(reopened[-1], _Class())
                    cur_op = None
                self._function(seg, api, cur_op, cur_class)
            seg = []
        return defined


_SIG = re.compile(r"^def (\w+)\((.*?)\)(?: ->|$)", re.S)


def _sig_params(params: str) -> list[str]:
    """Parameter names of an ``nb::sig`` text (``\\*, a: int, b: X = ...``)."""
    out, depth, cur = [], 0, ""
    for ch in params + ",":
        if ch in "([{":
            depth += 1
        elif ch in ")]}":
            depth -= 1
        if ch == "," and depth == 0:
            name = cur.strip().lstrip("\\").split(":")[0].split("=")[0].strip()
            if IDENT.match(name) and name != "self":
                out.append(name)
            cur = ""
        else:
            cur += ch
    return out


def scan_binary(data: bytes) -> CppApi:
    return BindingScanner(data).scan()


# ---------------------------------------------------------------------------
# Python sources: symbolic evaluation of the package's module-level code
# ---------------------------------------------------------------------------
#
# Values are small tuples:
#   ("module", "ttnn.types")      a Python module of the package (or a synthetic one)
#   ("cpp", ("tensor", "DataType"))  something reached through ``ttnn._ttnn``
#   ("op", "ttnn.linear")         a C++ operation registered at that dotted name
#   ("func", params_or_None)      a Python ``def`` (None = accepts **kwargs)
#   ("class", members, init_kwargs, bases)  a Python class
#   ("value",)                    anything else that exists (constants, instances, ...)
#   ("ext", "json")               a module from outside the package (ignored)

_VALUE = ("value",)
_INHERIT = "<inherit>"  # class without its own __init__


def _func_params(node) -> list | None:
    a = node.args
    if a.kwarg is not None:
        return None
    return sorted({p.arg for p in a.args + a.kwonlyargs} - {"self", "cls"})


class PythonScanner:
    def __init__(self, sources: dict, cpp: CppApi):
        self.sources = sources  # "ttnn/types.py" -> source text
        self.cpp = cpp
        self.modules = {}  # dotted module name -> namespace dict
        self.in_progress = set()
        self.op_modules = set()

    # -- module files --------------------------------------------------------
    def module_file(self, name: str):
        base = name.replace(".", "/")
        for cand in (base + ".py", base + "/__init__.py"):
            if cand in self.sources:
                return cand
        return None

    def ensure_module(self, name: str) -> dict:
        """Namespace of a (possibly synthetic) module, creating parents like create_module_if_not_exists."""
        if name in self.modules:
            return self.modules[name]
        if self.module_file(name) and name not in self.in_progress:
            return self.load(name)
        ns = self.modules.setdefault(name, {})
        parent, _, child = name.rpartition(".")
        if parent:
            self.ensure_module(parent).setdefault(child, ("module", name))
        return ns

    def load(self, name: str) -> dict:
        if name in self.modules and name not in self.in_progress:
            return self.modules[name]
        path = self.module_file(name)
        ns = self.modules.setdefault(name, {})
        if path is None or name in self.in_progress:
            return ns
        self.in_progress.add(name)
        parent, _, child = name.rpartition(".")
        if parent:
            if parent not in self.modules:
                self.load(parent)
            self.modules[parent].setdefault(child, ("module", name))
        tree = ast.parse(self.sources[path], filename=path)
        package = name if path.endswith("__init__.py") else parent
        self.exec_body(tree.body, ns, name, package)
        if path.endswith("__init__.py") and "walk_packages" in self.sources[path]:
            # ttnn/operations/__init__.py imports every submodule it finds
            prefix = name.replace(".", "/") + "/"
            subs = sorted(
                {p[len(prefix) :].split("/")[0].removesuffix(".py") for p in self.sources if p.startswith(prefix)}
                - {"__init__"}
            )
            for sub in subs:
                if self.module_file(f"{name}.{sub}"):
                    self.load(f"{name}.{sub}")
                    ns.setdefault(sub, ("module", f"{name}.{sub}"))
        self.in_progress.discard(name)
        return ns

    # -- statements ------------------------------------------------------------
    def exec_body(self, body, ns, modname, package):
        for stmt in body:
            self.exec_stmt(stmt, ns, modname, package)

    def exec_stmt(self, stmt, ns, modname, package):
        if isinstance(stmt, ast.Import):
            for alias in stmt.names:
                if alias.name == "ttnn" or alias.name.startswith("ttnn."):
                    self.import_dotted(alias.name)
                    if alias.asname:
                        ns[alias.asname] = self.resolve_dotted(alias.name)
                    else:
                        ns["ttnn"] = ("module", "ttnn")
                else:
                    ns[alias.asname or alias.name.split(".")[0]] = ("ext", alias.name)
        elif isinstance(stmt, ast.ImportFrom):
            self.exec_import_from(stmt, ns, modname, package)
        elif isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef)):
            value = ("func", _func_params(stmt))
            ns[stmt.name] = value
            for deco in stmt.decorator_list:
                self.maybe_register(deco, value, ns, modname)
        elif isinstance(stmt, ast.ClassDef):
            ns[stmt.name] = self.class_value(stmt, ns, modname)
        elif isinstance(stmt, (ast.Assign, ast.AnnAssign)):
            targets = stmt.targets if isinstance(stmt, ast.Assign) else [stmt.target]
            value = self.eval(stmt.value, ns, modname) if stmt.value is not None else _VALUE
            for target in targets:
                self.assign(target, value, ns, modname)
        elif isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Call):
            self.exec_call(stmt.value, ns, modname)
        elif isinstance(stmt, ast.If):
            test = stmt.test
            if isinstance(test, ast.Compare) and isinstance(test.left, ast.Name) and test.left.id == "__name__":
                return
            self.exec_body(stmt.body, ns, modname, package)
            self.exec_body(stmt.orelse, ns, modname, package)
        elif isinstance(stmt, ast.Try):
            self.exec_body(stmt.body, ns, modname, package)
            for handler in stmt.handlers:
                self.exec_body(handler.body, ns, modname, package)
            self.exec_body(stmt.orelse, ns, modname, package)
            self.exec_body(stmt.finalbody, ns, modname, package)
        elif isinstance(stmt, (ast.With, ast.For, ast.While)):
            if (
                isinstance(stmt, ast.For)
                and "iter_modules" in ast.unparse(stmt.iter)
                and "_experimental" in ast.unparse(stmt)
            ):
                self.attach_experimental()
                return
            self.exec_body(stmt.body, ns, modname, package)
        elif isinstance(stmt, ast.Delete):
            for target in stmt.targets:
                if isinstance(target, ast.Name):
                    ns.pop(target.id, None)

    def exec_import_from(self, stmt, ns, modname, package):
        if stmt.level:
            base = package.split(".")
            base = base[: len(base) - (stmt.level - 1)]
            source = ".".join(base + ([stmt.module] if stmt.module else []))
        else:
            source = stmt.module or ""
        if not (source == "ttnn" or source.startswith("ttnn.")):
            for alias in stmt.names:
                if alias.name != "*":
                    ns[alias.asname or alias.name] = ("ext", f"{source}.{alias.name}")
            return
        if source == "ttnn._ttnn" or source.startswith("ttnn._ttnn."):
            path = tuple(source.split(".")[2:])
            for alias in stmt.names:
                ns[alias.asname or alias.name] = ("cpp", path + (alias.name,))
            return
        src_ns = self.import_dotted(source)
        for alias in stmt.names:
            if alias.name == "*":
                exported = src_ns.get("__all__")
                for key, value in list(src_ns.items()):
                    if not key.startswith("_") and (exported is None or key in exported) and value[0] != "ext":
                        ns[key] = value
                continue
            value = src_ns.get(alias.name)
            if value is None and self.module_file(f"{source}.{alias.name}"):
                self.load(f"{source}.{alias.name}")
                value = ("module", f"{source}.{alias.name}")
            ns[alias.asname or alias.name] = value if value is not None else _VALUE

    def import_dotted(self, name: str) -> dict:
        parts = name.split(".")
        for i in range(1, len(parts) + 1):
            sub = ".".join(parts[:i])
            if sub == "ttnn._ttnn" or sub.startswith("ttnn._ttnn."):
                self.ensure_module("ttnn")["_ttnn"] = ("cpp", ())
                return {}
            if self.module_file(sub):
                self.load(sub)
            else:
                self.ensure_module(sub)
        return self.modules.get(name, {})

    def resolve_dotted(self, name: str):
        if name == "ttnn._ttnn" or name.startswith("ttnn._ttnn."):
            return ("cpp", tuple(name.split(".")[2:]))
        return ("module", name)

    def attach_experimental(self):
        """``for _, name, ispkg in pkgutil.iter_modules(ttnn._experimental.__path__)`` in ttnn/__init__.py."""
        exp = self.ensure_module("ttnn.experimental")
        prefix = "ttnn/_experimental/"
        subs = sorted(
            {p[len(prefix) :].split("/")[0].removesuffix(".py") for p in self.sources if p.startswith(prefix)}
        )
        for sub in subs:
            if sub != "__init__" and self.module_file(f"ttnn._experimental.{sub}"):
                self.load(f"ttnn._experimental.{sub}")
                exp[sub] = ("module", f"ttnn._experimental.{sub}")

    def class_value(self, node: ast.ClassDef, ns, modname):
        members = set()
        init = _INHERIT
        is_dataclass = any("dataclass" in ast.unparse(d) for d in node.decorator_list)
        fields = []
        for stmt in node.body:
            if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef)):
                members.add(stmt.name)
                if stmt.name == "__init__":
                    init = _func_params(stmt)
            elif isinstance(stmt, ast.ClassDef):
                members.add(stmt.name)
            elif isinstance(stmt, ast.Assign):
                for t in stmt.targets:
                    if isinstance(t, ast.Name):
                        members.add(t.id)
            elif isinstance(stmt, ast.AnnAssign) and isinstance(stmt.target, ast.Name):
                members.add(stmt.target.id)
                fields.append(stmt.target.id)
        bases = tuple(self.eval(b, ns, modname) for b in node.bases)
        if init == _INHERIT and is_dataclass:
            init = sorted(fields)
        return ("class", frozenset(members), init, bases)

    def assign(self, target, value, ns, modname):
        if isinstance(target, ast.Name):
            ns[target.id] = value
        elif isinstance(target, (ast.Tuple, ast.List)):
            for elt in target.elts:
                self.assign(elt, _VALUE, ns, modname)
        elif isinstance(target, ast.Attribute):
            base = self.eval(target.value, ns, modname)
            if base and base[0] == "module":
                self.ensure_module(base[1])[target.attr] = value

    def exec_call(self, call: ast.Call, ns, modname):
        func = call.func
        fname = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", None)
        if fname == "auto_register_ttnn_cpp_operations":
            for full in sorted(self.cpp.ops):
                mod, _, leaf = full.rpartition(".")
                self.ensure_module(mod)[leaf] = ("op", full)
            return
        if fname == "setattr" and len(call.args) == 3 and isinstance(call.args[1], ast.Constant):
            base = self.eval(call.args[0], ns, modname)
            if base and base[0] == "module" and isinstance(call.args[1].value, str):
                self.ensure_module(base[1])[call.args[1].value] = self.eval(call.args[2], ns, modname)
            return
        if isinstance(func, ast.Call) and call.args:
            # register_python_operation(name="ttnn.x")(target)
            self.maybe_register(func, self.eval(call.args[0], ns, modname), ns, modname)

    def maybe_register(self, deco, value, ns, modname):
        if not isinstance(deco, ast.Call):
            return
        func = deco.func
        fname = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", None)
        if fname != "register_python_operation":
            return
        kw = {k.arg: k.value for k in deco.keywords}
        if kw.get("is_method") is not None and getattr(kw["is_method"], "value", False):
            return
        name = kw.get("name")
        if isinstance(name, ast.Constant) and isinstance(name.value, str) and name.value.startswith("ttnn."):
            mod, _, leaf = name.value.rpartition(".")
            self.ensure_module(mod)[leaf] = value

    # -- expressions -------------------------------------------------------------
    def eval(self, node, ns, modname):
        if isinstance(node, ast.Name):
            if node.id in ns:
                return ns[node.id]
            if node.id == "ttnn":
                return ("module", "ttnn")
            return _VALUE
        if isinstance(node, ast.Attribute):
            base = self.eval(node.value, ns, modname)
            return self.getattr(base, node.attr)
        return _VALUE

    def getattr(self, base, attr):
        kind = base[0]
        if kind == "module":
            if base[1] == "ttnn" and attr == "_ttnn":
                return ("cpp", ())
            mod_ns = self.modules.get(base[1])
            if mod_ns is None:
                mod_ns = self.ensure_module(base[1])
            if attr in mod_ns:
                return mod_ns[attr]
            sub = f"{base[1]}.{attr}"
            if self.module_file(sub):
                return ("module", sub)
            if sub in self.modules:
                return ("module", sub)
            return _VALUE
        if kind == "cpp":
            return ("cpp", base[1] + (attr,))
        return _VALUE

    # -- output ------------------------------------------------------------------
    def describe(self, value) -> dict:
        kind = value[0]
        if kind == "op":
            return _callable_entry("op", self.cpp.ops[value[1]])
        if kind == "func":
            return {"kind": "function", "kwargs": value[1]}
        if kind == "cpp":
            return self.describe_cpp(value[1])
        if kind == "class":
            _kind, members, init, bases = value
            all_members = set(members)
            known = True
            for base in bases:
                if base[0] == "ext" and base[1].rsplit(".", 1)[-1] in ("Enum", "IntEnum", "Flag", "IntFlag"):
                    return {"kind": "enum", "members": sorted(m for m in members if not m.startswith("_"))}
                info = self.describe(base) if base[0] != "ext" else {"kind": "value"}
                if info.get("members") is None:
                    known = False  # base class we know nothing about
                else:
                    all_members.update(info["members"])
                if init == _INHERIT and info["kind"] == "class":
                    init = info.get("init_kwargs")
            if init == _INHERIT:
                init = None if bases else []
            members_out = sorted(m for m in all_members if not (m.startswith("__") and m.endswith("__")))
            return {"kind": "class", "init_kwargs": init, "members": members_out if known else None}
        return {"kind": "value"}

    def describe_cpp(self, path: tuple) -> dict:
        if not path:
            return {"kind": "value"}
        leaf = path[-1]
        owner = path[-2] if len(path) >= 2 else None
        if owner in self.cpp.enums and leaf in self.cpp.enums[owner]:
            return {"kind": "value"}
        if owner in self.cpp.classes and leaf in self.cpp.classes[owner].members and leaf in self.cpp.functions:
            return _callable_entry("function", self.cpp.functions[leaf])
        if owner in self.cpp.classes or owner in self.cpp.enums:
            return {"kind": "value"}
        if leaf in self.cpp.enums:
            return {"kind": "enum", "members": sorted(self.cpp.enums[leaf])}
        if leaf in self.cpp.classes:
            cls = self.cpp.classes[leaf]
            init = cls.init.kwargs if cls.init is not None and cls.init.complete() else None
            entry = {"kind": "class", "init_kwargs": sorted(init) if init is not None else None}
            entry["members"] = sorted(m for m in cls.members if not (m.startswith("__") and m.endswith("__")))
            return entry
        if leaf in self.cpp.functions:
            return _callable_entry("function", self.cpp.functions[leaf])
        return {"kind": "value"}

    def collect(self) -> dict:
        out = {}
        visited = {"ttnn"}

        def walk(modname: str, public: str):
            ns = self.modules.get(modname, {})
            for key in sorted(ns):
                if key.startswith("_"):
                    continue
                value = ns[key]
                path = f"{public}.{key}"
                if value[0] == "ext":
                    continue
                if value[0] == "module":
                    target = value[1]
                    if target != f"{modname}.{key}" and not target.startswith("ttnn._experimental."):
                        continue  # e.g. ``import ttnn`` inside a submodule
                    out[path] = {"kind": "module"}
                    if target not in visited:
                        visited.add(target)
                        walk(target, path)
                    continue
                out[path] = self.describe(value)

        walk("ttnn", "ttnn")
        return out


def _callable_entry(kind: str, c: _Callable) -> dict:
    if c.complete():
        return {"kind": kind, "kwargs": sorted(c.kwargs)}
    entry = {"kind": kind, "kwargs": None}
    if c.kwargs:
        entry["kwargs_seen"] = sorted(c.kwargs)
    return entry


# ---------------------------------------------------------------------------
# snapshot assembly
# ---------------------------------------------------------------------------

_SKIP_DIRS = ("ttnn/tt_metal/", "ttnn/runtime/", "ttnn/build/", "ttnn/ttnn/")


def read_wheel(wheel: Path):
    """(python sources, extension bytes) from the wheel, without extracting it to disk."""
    sources = {}
    ext = None
    with zipfile.ZipFile(wheel) as zf:
        for info in zf.infolist():
            name = info.filename
            if name.startswith("ttnn/") and name.endswith(".py") and not name.startswith(_SKIP_DIRS):
                sources[name] = zf.read(info).decode("utf-8")
            elif re.fullmatch(r"ttnn/_ttnn\.cpython-[^/]*\.so", name):
                ext = zf.read(info)
    if ext is None:
        raise SystemExit(f"{wheel}: no ttnn/_ttnn*.so inside")
    return sources, ext


def build_snapshot(wheel: Path, version: str, sha256: str) -> dict:
    sources, ext = read_wheel(wheel)
    cpp = scan_binary(ext)
    py = PythonScanner(sources, cpp)
    py.load("ttnn")
    names = py.collect()
    ops = [v for v in names.values() if v["kind"] == "op"]
    return {
        "format": FORMAT_VERSION,
        "ttnn_version": version,
        "source": {
            "wheel": wheel.name,
            "sha256": sha256,
            "download": (
                "pip download --no-deps --only-binary=:all: --python-version 3.12 "
                f"--platform manylinux_2_34_x86_64 ttnn=={version}"
            ),
            "generator": "scripts/snapshot_ttnn_api.py",
        },
        "stats": {
            "names": len(names),
            "cpp_ops": len(cpp.ops),
            "cpp_ops_with_unknown_kwargs": sorted(k for k, c in cpp.ops.items() if not c.complete()),
            "cpp_classes": len(cpp.classes),
            "cpp_enums": len(cpp.enums),
            "cpp_functions": len(cpp.functions),
            "op_entries": len(ops),
        },
        "names": names,
        "ttnn_jit": TTNN_JIT,
    }


def render(snapshot: dict) -> str:
    """Deterministic JSON: sorted keys, one ``names`` entry per line."""
    dump = lambda v: json.dumps(v, sort_keys=True, separators=(",", ":"), ensure_ascii=True)  # noqa: E731
    lines = ["{"]
    keys = sorted(snapshot)
    for i, key in enumerate(keys):
        comma = "," if i < len(keys) - 1 else ""
        value = snapshot[key]
        if key == "names":
            lines.append(f"{dump(key)}:{{")
            names = sorted(value)
            for j, name in enumerate(names):
                lines.append(f"{dump(name)}:{dump(value[name])}" + ("," if j < len(names) - 1 else ""))
            lines.append("}" + comma)
        else:
            lines.append(f"{dump(key)}:{dump(value)}{comma}")
    lines.append("}")
    return "\n".join(lines) + "\n"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--version", default=TTNN_VERSION)
    parser.add_argument("--cache-dir", type=Path, default=DEFAULT_CACHE)
    parser.add_argument("--wheel", type=Path, help="use this wheel file instead of downloading")
    parser.add_argument("--output", type=Path, help="default: tttgen/data/ttnn_api/<version>.json")
    parser.add_argument("--check", action="store_true", help="do not write; exit 1 if the output would change")
    args = parser.parse_args(argv)
    wheel = args.wheel or download_wheel(args.version, args.cache_dir)
    digest = sha256_file(wheel)
    print(f"{wheel.name} sha256={digest}", file=sys.stderr)
    expected = KNOWN_SHA256.get(args.version)
    if expected and digest != expected:
        raise SystemExit(f"sha256 mismatch for {wheel}: expected {expected}")
    text = render(build_snapshot(wheel, args.version, digest))
    output = args.output or DEFAULT_OUTPUT_DIR / f"{args.version}.json"
    if args.check:
        current = output.read_text() if output.exists() else None
        if current != text:
            print(f"{output} is out of date", file=sys.stderr)
            return 1
        print(f"{output} is up to date", file=sys.stderr)
        return 0
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(text)
    print(f"wrote {output} ({len(text)} bytes)", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
