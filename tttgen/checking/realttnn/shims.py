"""Shape-only stand-ins for `torch` and `safetensors`, for running a generated package under the real ttnn.

The real-ttnn check runs in a torch-free Python 3.12 venv: ttnn validates every op on a mock device, where tensors
are allocated but never filled, so the host-side torch work of a generated package (weight transforms, index and
table tensors) only has to produce the right *shapes*. `FakeTensor` carries a shape and a dtype name through the
operations the packages use; anything else raises `ShimError` naming the missing function, so a package that
starts using more torch on the host shows up here instead of being silently mis-shaped.

Values are all zero, conceptually: `bool()` is False, `int()` is 0. Runtime guards in generated code that compare
host values therefore pass, and guards on shapes work as usual.

Standard library only: this module is imported by `runner.py` inside the ttnn venv.
"""

from __future__ import annotations

import json
import math
import sys
import types
from pathlib import Path


class ShimError(RuntimeError):
    pass


def _norm_shape(shape) -> tuple[int, ...]:
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        shape = shape[0]
    if len(shape) == 1 and isinstance(shape[0], FakeSize):
        shape = tuple(shape[0])
    return tuple(int(s) for s in shape)


def _broadcast(a: tuple[int, ...], b: tuple[int, ...]) -> tuple[int, ...]:
    n = max(len(a), len(b))
    a = (1,) * (n - len(a)) + a
    b = (1,) * (n - len(b)) + b
    out = []
    for x, y in zip(a, b):
        if x != y and 1 not in (x, y):
            raise ShimError(f"shapes {a} and {b} do not broadcast")
        out.append(max(x, y))
    return tuple(out)


class FakeSize(tuple):
    def numel(self) -> int:
        return math.prod(self)


class FakeDtype:
    def __init__(self, name: str):
        self.name = name

    def __repr__(self) -> str:
        return f"torch.{self.name}"


DTYPES = {
    name: FakeDtype(name)
    for name in ("float32", "float64", "float16", "bfloat16", "int32", "int64", "uint8", "int8", "bool", "long", "float")
}


class FakeTensor:
    """A tensor with a shape and no data."""

    def __init__(self, shape, dtype: str = "float32"):
        self._shape = FakeSize(_norm_shape((shape,)) if not isinstance(shape, tuple) else _norm_shape(shape))
        self.dtype = DTYPES.get(dtype, FakeDtype(dtype))

    # shape
    @property
    def shape(self) -> FakeSize:
        return self._shape

    def size(self, dim=None):
        return self._shape if dim is None else self._shape[dim]

    def dim(self) -> int:
        return len(self._shape)

    ndim = property(dim)

    def numel(self) -> int:
        return math.prod(self._shape)

    def __len__(self) -> int:
        return self._shape[0]

    def __iter__(self):
        # iterating a tensor yields its first dim's entries (a per-layer input); without this Python would call
        # __getitem__ with 0, 1, 2, ... and never stop
        return (self[i] for i in range(self._shape[0]))

    def __repr__(self) -> str:
        return f"FakeTensor(shape={list(self._shape)}, dtype={self.dtype.name})"

    def _like(self, shape, dtype=None) -> "FakeTensor":
        return FakeTensor(tuple(shape), dtype or self.dtype.name)

    # values: all zero
    def __bool__(self) -> bool:
        return False

    def __int__(self) -> int:
        return 0

    def __float__(self) -> float:
        return 0.0

    def __index__(self) -> int:
        return 0

    def item(self):
        return 0

    def tolist(self):
        def build(shape):
            return 0 if not shape else [build(shape[1:]) for _ in range(shape[0])]

        return build(self._shape)

    # reshaping
    def reshape(self, *shape) -> "FakeTensor":
        shape = list(_norm_shape(shape))
        if -1 in shape:
            known = math.prod(s for s in shape if s != -1)
            shape[shape.index(-1)] = self.numel() // max(known, 1)
        if math.prod(shape) != self.numel():
            raise ShimError(f"cannot reshape {list(self._shape)} to {shape}")
        return self._like(shape)

    view = reshape

    def flatten(self, start_dim=0, end_dim=-1) -> "FakeTensor":
        n = len(self._shape)
        s, e = start_dim % n if n else 0, end_dim % n if n else 0
        return self._like(self._shape[:s] + (math.prod(self._shape[s : e + 1]),) + self._shape[e + 1 :])

    def transpose(self, a: int, b: int) -> "FakeTensor":
        shape = list(self._shape)
        shape[a], shape[b] = shape[b], shape[a]
        return self._like(shape)

    def permute(self, *dims) -> "FakeTensor":
        dims = _norm_shape(dims)
        return self._like([self._shape[d] for d in dims])

    @property
    def T(self) -> "FakeTensor":
        return self._like(self._shape[::-1])

    def t(self) -> "FakeTensor":
        return self.T

    def unsqueeze(self, dim: int) -> "FakeTensor":
        shape = list(self._shape)
        shape.insert(dim if dim >= 0 else len(shape) + dim + 1, 1)
        return self._like(shape)

    def squeeze(self, dim=None) -> "FakeTensor":
        if dim is None:
            return self._like([s for s in self._shape if s != 1])
        shape = list(self._shape)
        if shape[dim] == 1:
            shape.pop(dim)
        return self._like(shape)

    def repeat(self, *reps) -> "FakeTensor":
        reps = _norm_shape(reps)
        shape = (1,) * (len(reps) - len(self._shape)) + self._shape
        return self._like([s * r for s, r in zip(shape, reps)])

    def expand(self, *shape) -> "FakeTensor":
        shape = _norm_shape(shape)
        return self._like([s if s != -1 else o for s, o in zip(shape, (1,) * (len(shape) - len(self._shape)) + self._shape)])

    def chunk(self, n: int, dim: int = 0):
        shape = list(self._shape)
        shape[dim] //= n
        return tuple(self._like(shape) for _ in range(n))

    def split(self, size, dim: int = 0):
        sizes = [size] * (self._shape[dim] // size) if isinstance(size, int) else list(size)
        out = []
        for s in sizes:
            shape = list(self._shape)
            shape[dim] = s
            out.append(self._like(shape))
        return tuple(out)

    # dtype and memory
    def to(self, *args, **kwargs) -> "FakeTensor":
        dtype = kwargs.get("dtype")
        for a in args:
            if isinstance(a, FakeDtype):
                dtype = a
        return self._like(self._shape, dtype.name if dtype else None)

    def float(self) -> "FakeTensor":
        return self._like(self._shape, "float32")

    def double(self) -> "FakeTensor":
        return self._like(self._shape, "float64")

    def int(self) -> "FakeTensor":
        return self._like(self._shape, "int32")

    def long(self) -> "FakeTensor":
        return self._like(self._shape, "int64")

    def bfloat16(self) -> "FakeTensor":
        return self._like(self._shape, "bfloat16")

    def contiguous(self) -> "FakeTensor":
        return self

    def clone(self) -> "FakeTensor":
        return self

    def detach(self) -> "FakeTensor":
        return self

    def cpu(self) -> "FakeTensor":
        return self

    def numpy(self):
        raise ShimError("FakeTensor.numpy(): the shape-only torch stand-in holds no data")

    # reductions (shape only)
    def _reduce(self, dim=None, keepdim=False):
        if dim is None:
            return self._like(())
        shape = list(self._shape)
        if keepdim:
            shape[dim] = 1
        else:
            shape.pop(dim)
        return self._like(shape)

    def sum(self, dim=None, keepdim=False):
        return self._reduce(dim, keepdim)

    mean = max = min = amax = amin = sum

    def argmax(self, dim=None, keepdim=False):
        return self._reduce(dim, keepdim).to(dtype=DTYPES["int64"])

    def any(self, *a, **k):
        return self._like((), "bool")

    all = any

    # indexing
    def __getitem__(self, index) -> "FakeTensor":
        if not isinstance(index, tuple):
            index = (index,)
        if any(i is Ellipsis for i in index):
            at = index.index(Ellipsis)
            fill = len(self._shape) - (len(index) - 1 - sum(i is None for i in index))
            index = index[:at] + (slice(None),) * fill + index[at + 1 :]
        shape, dim, advanced = [], 0, None
        for i in index:
            if i is None:
                shape.append(1)
                continue
            size = self._shape[dim]
            if isinstance(i, slice):
                shape.append(len(range(*i.indices(size))))
            elif isinstance(i, FakeTensor):
                if advanced is None:
                    advanced = len(shape)
                    shape.extend(i.shape)
            elif isinstance(i, (list, tuple)):
                if advanced is None:
                    advanced = len(shape)
                    shape.append(len(i))
            # an int index drops the dim
            dim += 1
        shape.extend(self._shape[dim:])
        return self._like(shape)

    def __setitem__(self, index, value) -> None:
        return None

    # arithmetic: broadcast shapes
    def _binary(self, other, dtype=None) -> "FakeTensor":
        shape = other.shape if isinstance(other, FakeTensor) else ()
        return self._like(_broadcast(self._shape, tuple(shape)), dtype)

    def __add__(self, other):
        return self._binary(other)

    __radd__ = __sub__ = __rsub__ = __mul__ = __rmul__ = __truediv__ = __rtruediv__ = __add__
    __pow__ = __rpow__ = __floordiv__ = __rfloordiv__ = __mod__ = __matmul__ = __add__

    def __neg__(self):
        return self

    def _compare(self, other):
        return self._binary(other, "bool")

    __lt__ = __le__ = __gt__ = __ge__ = __and__ = __or__ = _compare

    def __invert__(self):
        return self

    def __eq__(self, other):  # noqa: D105 - elementwise, as torch
        return self._compare(other)

    def __ne__(self, other):
        return self._compare(other)

    __hash__ = object.__hash__


def _shape_of(x) -> tuple[int, ...]:
    return tuple(x.shape) if isinstance(x, FakeTensor) else ()


def make_torch() -> types.ModuleType:
    """The `torch` stand-in module: FakeTensor factories and the functions generated packages call."""
    torch = types.ModuleType("torch")
    torch.__tttgen_shim__ = True
    torch.Tensor = FakeTensor
    torch.Size = FakeSize
    torch.dtype = FakeDtype
    for name, dtype in DTYPES.items():
        setattr(torch, name, dtype)
    torch.long = DTYPES["int64"]

    def factory(*shape, dtype=None, **_):
        return FakeTensor(_norm_shape(shape), dtype.name if dtype else "float32")

    torch.zeros = torch.ones = torch.empty = torch.randn = torch.rand = factory

    def full(shape, fill_value, dtype=None, **_):
        return FakeTensor(_norm_shape((shape,)), dtype.name if dtype else "float32")

    torch.full = full

    def like(t, *a, dtype=None, **k):
        return FakeTensor(tuple(t.shape), dtype.name if dtype else t.dtype.name)

    torch.zeros_like = torch.ones_like = torch.empty_like = torch.full_like = torch.randn_like = like

    def arange(start, end=None, step=1, dtype=None, **_):
        if end is None:
            start, end = 0, start
        return FakeTensor((len(range(int(start), int(end), int(step))),), dtype.name if dtype else "int64")

    torch.arange = arange

    def tensor(data, dtype=None, **_):
        def shape(d):
            return (len(d),) + shape(d[0]) if isinstance(d, (list, tuple)) and d else ((0,) if isinstance(d, (list, tuple)) else ())

        return FakeTensor(shape(data), dtype.name if dtype else "float32")

    torch.tensor = torch.as_tensor = tensor

    def cat(tensors, dim=0):
        tensors = list(tensors)
        shape = list(tensors[0].shape)
        shape[dim] = sum(t.shape[dim] for t in tensors)
        return FakeTensor(tuple(shape), tensors[0].dtype.name)

    torch.cat = torch.concat = torch.concatenate = cat

    def stack(tensors, dim=0):
        tensors = list(tensors)
        shape = list(tensors[0].shape)
        shape.insert(dim if dim >= 0 else len(shape) + dim + 1, len(tensors))
        return FakeTensor(tuple(shape), tensors[0].dtype.name)

    torch.stack = stack

    def elementwise(x, *a, **k):
        return x._like(x.shape) if isinstance(x, FakeTensor) else x

    for name in ("cos", "sin", "exp", "log", "sqrt", "rsqrt", "tanh", "sigmoid", "abs", "floor", "ceil", "round", "clamp", "neg"):
        setattr(torch, name, elementwise)

    def where(cond, a, b):
        shape = _broadcast(_broadcast(_shape_of(cond), _shape_of(a)), _shape_of(b))
        ref = a if isinstance(a, FakeTensor) else b
        return FakeTensor(shape, ref.dtype.name if isinstance(ref, FakeTensor) else "float32")

    torch.where = where
    torch.equal = lambda a, b: False  # values unknown: never equal (a package copies what may have changed)

    def repeat_interleave(x, repeats, dim=None):
        if dim is None:
            return FakeTensor((x.numel() * repeats,), x.dtype.name)
        shape = list(x.shape)
        shape[dim] *= repeats
        return FakeTensor(tuple(shape), x.dtype.name)

    torch.repeat_interleave = repeat_interleave

    def outer(a, b):
        return FakeTensor((a.shape[0], b.shape[0]), a.dtype.name)

    torch.outer = outer
    torch.matmul = lambda a, b: a @ b
    torch.no_grad = _NoGrad
    torch.inference_mode = _NoGrad
    torch.manual_seed = lambda *_: None

    def pad(x, widths, mode="constant", value=0.0):
        """torch.nn.functional.pad: `widths` pairs count from the last dim backwards."""
        shape = list(x.shape)
        for i in range(len(widths) // 2):
            shape[-1 - i] += widths[2 * i] + widths[2 * i + 1]
        return FakeTensor(tuple(shape), x.dtype.name)

    torch.nn = types.ModuleType("torch.nn")
    torch.nn.functional = types.ModuleType("torch.nn.functional")
    torch.nn.functional.pad = pad

    def missing(name):
        raise ShimError(f"torch.{name} is not in the shape-only torch stand-in (tttgen/checking/realttnn/shims.py)")

    torch.__getattr__ = missing
    return torch


class _NoGrad:
    def __init__(self, *a, **k):
        pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False

    def __call__(self, fn):
        return fn


def make_safetensors(shapes: dict[str, list[int]]) -> tuple[types.ModuleType, types.ModuleType]:
    """`safetensors` whose `safe_open` serves FakeTensors of the checkpoint's shapes (no file is read)."""
    pkg = types.ModuleType("safetensors")
    torch_mod = types.ModuleType("safetensors.torch")

    class SafeOpen:
        def __init__(self, path, framework="pt", device="cpu"):
            self.path = path

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            return False

        def keys(self):
            return sorted(shapes)

        def get_tensor(self, key):
            return FakeTensor(tuple(shapes[key]))

        def get_slice(self, key):
            return FakeTensor(tuple(shapes[key]))

    def load_file(path, device="cpu"):
        return {k: FakeTensor(tuple(v)) for k, v in sorted(shapes.items())}

    pkg.safe_open = SafeOpen
    torch_mod.load_file = load_file
    pkg.torch = torch_mod
    return pkg, torch_mod


def install(shapes_file: Path) -> None:
    """Put the stand-ins in sys.modules before a generated package is imported."""
    shapes = json.loads(Path(shapes_file).read_text())
    sys.modules["torch"] = make_torch()
    pkg, torch_mod = make_safetensors(shapes)
    sys.modules["safetensors"] = pkg
    sys.modules["safetensors.torch"] = torch_mod
