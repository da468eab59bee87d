"""Load ttnn 0.81.1's golden functions from the wheel's Python sources without importing ttnn's compiled module.

The wheel is a zip; the ``ttnn/operations/*.py`` files are executed against a stub ``ttnn`` package that provides only
what those files touch at import and call time: ``attach_golden_function`` (records the function under the op's
dotted name), ``register_python_operation`` / ``decorators`` no-ops, a few real values the goldens compare against
(``UnaryOpType``, dtypes, layouts - taken from the emulator so ``isinstance`` checks work), ``ttnn.Tensor(tensor=,
data_type=, layout=).to_torch()`` for block-float round trips (emulator quantization) and ``ttnn_dtype_to_torch_dtype``.
Everything else resolves to inert placeholders (``ttnn._ttnn.*`` imports, ``loguru``).
"""

from __future__ import annotations

import importlib.abc
import importlib.machinery
import os
import pathlib
import sys
import types
import zipfile
from typing import Callable, Optional

from tttgen.ttnn_wheel import DEFAULT_CACHE, download_wheel, wheel_filename

VERSION = "0.81.1"
WHEEL_NAME = wheel_filename(VERSION)
CACHE_DIR = DEFAULT_CACHE

# files that define the goldens the tests use, in dependency order
SOURCES = (
    "golden_common",
    "activations",
    "integer_golden",
    "transformer_golden",
    "matmul",
    "normalization",
    "embedding",
    "binary",
    "unary",
    "data_movement",
    "core",
    "creation",
    "transformer",
)


def find_wheel() -> Optional[pathlib.Path]:
    """Wheel path: $TTTGEN_TTNN_WHEEL, the tttgen cache, /tmp/ttnnwheel, else ``pip download`` into the cache."""
    env = os.environ.get("TTTGEN_TTNN_WHEEL")
    candidates = [pathlib.Path(env)] if env else []
    candidates += [CACHE_DIR / WHEEL_NAME, pathlib.Path("/tmp/ttnnwheel") / WHEEL_NAME]
    for c in candidates:
        if c.is_file():
            return c
    try:
        return download_wheel(VERSION, CACHE_DIR, quiet=True, timeout=900)
    except Exception:
        return None


def read_sources(wheel: pathlib.Path) -> dict[str, str]:
    with zipfile.ZipFile(wheel) as zf:
        return {name: zf.read(f"ttnn/operations/{name}.py").decode() for name in SOURCES}


class _Placeholder:
    """Inert stand-in for any compiled ttnn object; attribute access creates named children."""

    def __init__(self, name: str):
        object.__setattr__(self, "__name__", name)
        object.__setattr__(self, "_children", {})

    def __getattr__(self, attr: str):
        if attr.startswith("__") and attr.endswith("__"):
            raise AttributeError(attr)
        children = object.__getattribute__(self, "_children")
        if attr not in children:
            children[attr] = _Placeholder(f"{self.__name__}.{attr}")
        return children[attr]

    def __setattr__(self, attr, value):
        object.__getattribute__(self, "_children")[attr] = value

    def __call__(self, *args, **kwargs):
        if len(args) == 1 and callable(args[0]) and not kwargs:
            return args[0]
        return _Placeholder(f"{self.__name__}()")

    def __iter__(self):
        return iter(())

    def __repr__(self) -> str:
        return f"<placeholder {self.__name__}>"


class _PlaceholderModule(types.ModuleType):
    def __getattr__(self, attr: str):
        if attr.startswith("__") and attr.endswith("__"):
            raise AttributeError(attr)
        value = _Placeholder(f"{self.__name__}.{attr}")
        setattr(self, attr, value)
        return value


class _StubFinder(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    PREFIXES = ("ttnn._ttnn", "loguru")

    def find_spec(self, fullname, path=None, target=None):
        if any(fullname == p or fullname.startswith(p + ".") for p in self.PREFIXES):
            return importlib.machinery.ModuleSpec(fullname, self, is_package=True)
        return None

    def create_module(self, spec):
        mod = _PlaceholderModule(spec.name)
        mod.__path__ = []
        if spec.name == "loguru":
            mod.logger = _Placeholder("loguru.logger")
        return mod

    def exec_module(self, module):
        pass


def _make_stub_ttnn(registry: dict[str, Callable]) -> types.ModuleType:
    from tttgen.checking.emulator import configs, dtypes

    ttnn = _PlaceholderModule("ttnn")
    ttnn.__path__ = []
    decorators = _PlaceholderModule("ttnn.decorators")

    def attach_golden_function(operation, golden_function=None, **_kwargs):
        name = getattr(operation, "__name__", repr(operation))
        registry[name] = golden_function

    def register_python_operation(*_args, name=None, golden_function=None, **_kwargs):
        def deco(fn):
            if name and golden_function is not None:
                registry.setdefault(name, golden_function)
            return fn

        return deco

    decorators.get_golden_function = lambda op: registry.get(getattr(op, "__name__", ""))
    decorators.set_golden_comparison_config = lambda tensor, **_: tensor
    decorators.default_preprocess_golden_function_inputs = lambda a, k: (a, k)
    decorators._copy_golden_comparison_config = lambda source, destination: destination
    decorators.attach_golden_function = attach_golden_function
    ttnn.decorators = decorators
    ttnn.attach_golden_function = attach_golden_function
    ttnn.register_python_operation = register_python_operation
    ttnn.get_golden_function = decorators.get_golden_function

    for name in ("bfloat16", "float32", "bfloat8_b", "bfloat4_b", "uint32", "int32", "uint16", "uint8"):
        setattr(ttnn, name, getattr(dtypes, name))
    ttnn.DataType = dtypes.DataType
    ttnn.Layout = dtypes.Layout
    ttnn.TILE_LAYOUT = dtypes.Layout.TILE
    ttnn.ROW_MAJOR_LAYOUT = dtypes.Layout.ROW_MAJOR
    ttnn.TILE_SIZE = 32
    ttnn.UnaryOpType = configs.UnaryOpType
    ttnn.UnaryWithParam = configs.UnaryWithParam
    ttnn.int8 = _Placeholder("ttnn.int8")
    ttnn.fp8_e4m3 = _Placeholder("ttnn.fp8_e4m3")

    def ttnn_dtype_to_torch_dtype(dtype):
        return dtypes.TORCH_DTYPE[dtype]

    class Tensor:
        """Host round trip used by ``golden_to_output_dtype`` for block floats."""

        def __init__(self, tensor=None, data_type=None, layout=None, **_):
            self._values = dtypes.quantize(tensor.float(), data_type)

        def to_torch(self, *_, **__):
            return self._values

    ttnn.Tensor = Tensor
    ttnn.ttnn_dtype_to_torch_dtype = ttnn_dtype_to_torch_dtype
    ttnn.get_arch_name = lambda: "wormhole_b0"
    return ttnn


def load_goldens(wheel: pathlib.Path) -> dict[str, Callable]:
    """Execute the wheel's operation modules against the stub; return {dotted op name: golden function}."""
    sources = read_sources(wheel)
    registry: dict[str, Callable] = {}
    saved = {
        k: v
        for k, v in sys.modules.items()
        if k == "ttnn" or k.startswith("ttnn.") or k == "loguru" or k.startswith("loguru.")
    }
    for k in saved:
        del sys.modules[k]
    finder = _StubFinder()
    sys.meta_path.insert(0, finder)
    try:
        ttnn = _make_stub_ttnn(registry)
        operations = types.ModuleType("ttnn.operations")
        operations.__path__ = []
        ttnn.operations = operations
        sys.modules["ttnn"] = ttnn
        sys.modules["ttnn.decorators"] = ttnn.decorators
        sys.modules["ttnn.operations"] = operations
        for name in SOURCES:
            mod = types.ModuleType(f"ttnn.operations.{name}")
            mod.__file__ = f"{wheel}!/ttnn/operations/{name}.py"
            sys.modules[mod.__name__] = mod
            setattr(operations, name, mod)
            exec(compile(sources[name], mod.__file__, "exec"), mod.__dict__)
    finally:
        sys.meta_path.remove(finder)
        for k in [
            k for k in sys.modules if k == "ttnn" or k.startswith("ttnn.") or k == "loguru" or k.startswith("loguru.")
        ]:
            del sys.modules[k]
        sys.modules.update(saved)
    return registry
