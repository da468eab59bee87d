"""Judge each distinct ttnn call once: a key for everything ttnn's validation and program creation can depend on,
and a stand-in output for a call whose key was judged (and accepted) before.

A generated model runs the same ops with the same shapes, dtypes, layouts, memory configs and program configs in
every layer; only the weight tensors differ, and on a mock device a tensor holds no data. So the runner
(`runner.py`) asks `CallMemo.key` for a call's key before running it. The key holds:

- the op's name;
- every argument, positional and keyword, in order: a tensor by its storage, logical and padded shape, dtype,
  layout, tile, memory config (with its shard spec), device or mesh, tensor topology, whether it is allocated,
  whether its buffer is in the allocator (weights, caches, inputs) or was made inside the runner's capture, and
  which other argument shares its buffer (`ttnn.add(x, x)` is not `ttnn.add(x, y)`); anything else by value:
  numbers, strings, enums, and ttnn objects (program configs, compute-kernel configs, core grids, ...) by their
  repr and every property they expose, recursively;
- the allocator state of every device the call touches: the address and size of every allocated L1 and L1_SMALL
  block (ttnn checks circular buffers against the lowest occupied L1 address, so the same op can be legal in one
  layer and clash with a live L1 tensor in another).

A value the key cannot represent faithfully (an object of unknown type, a ttnn object with neither properties nor
a repr known to state all of its fields) makes the call unkeyed: it is judged as before. A key is only reused
after ttnn *accepted* its first call (a rejected call is judged again every time), and only when its outputs can
be rebuilt exactly: every output a device tensor (or None) that is either a new buffer — reallocated with the same
shape, dtype, layout and memory config, then compared with the first output's spec, padded shape and topology —
or one of the call's own inputs returned as is (`to_memory_config` to the config it has); and the allocator state
after the rebuild must equal the state the first call left. Any mismatch frees what the rebuild allocated, runs
the call for real and stops reusing that key.

Standard library and ttnn only (imported by `runner.py` inside the ttnn venv).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Any

# ttnn types with no Python-visible properties whose repr prints the whole value (every range of a CoreRangeSet,
# every dim of a Shape, every placement and coordinate of a TensorTopology; tests/realttnn/test_call_memo.py)
REPR_COMPLETE = frozenset({"Shape", "CoreRangeSet", "TensorTopology", "MeshShape", "MeshCoordinate", "MeshCoordinateRange"})
DEVICE_TYPES = frozenset({"MeshDevice", "IDevice", "Device"})
MAX_DEPTH = 8


class NotKeyable(Exception):
    """The call holds something the key cannot represent faithfully: judge it for real."""


@dataclass
class _Output:
    alias: int | None  # index of the input tensor returned as is
    shape: Any = None
    dtype: Any = None
    layout: Any = None
    memory_config: Any = None
    device: Any = None
    spec: Any = None
    padded: tuple = ()
    topology: Any = None
    topology_repr: str = ""
    address: int = 0  # 0 for a buffer made inside the runner's capture


@dataclass
class Entry:
    outputs: list[_Output] | None  # None: the call returned None
    shape: str  # "none", "tensor", "tuple", "list"
    post_state: tuple
    figures: dict[str, int] = field(default_factory=dict)


# properties computed from others, so a repr need not print them: MemoryConfig.interleaved is its memory_layout
DERIVED = frozenset({("MemoryConfig", "interleaved")})
_PROPERTIES: dict[type, tuple[str, ...]] = {}
_REPR_NAMES_FIELDS: dict[type, bool] = {}


def _properties(kind: type) -> tuple[str, ...]:
    """The public properties of a (pybind11) class, its fields: looked up once per class."""
    if kind not in _PROPERTIES:
        _PROPERTIES[kind] = tuple(
            sorted({n for k in kind.__mro__ for n, v in vars(k).items() if isinstance(v, property) and not n.startswith("_")})
        )
    return _PROPERTIES[kind]


def _repr_names_fields(kind: type, text: str) -> bool:
    """Does this class's repr print every property as `name=` (tt-metal's reflection-based reprs do)? Decided
    once per class, on its first repr."""
    if kind not in _REPR_NAMES_FIELDS:
        props = [n for n in _properties(kind) if (kind.__name__, n) not in DERIVED]
        _REPR_NAMES_FIELDS[kind] = bool(props) and all(f"{n}=" in text for n in props)
    return _REPR_NAMES_FIELDS[kind]


def _has_float(desc) -> bool:
    if isinstance(desc, tuple):
        return (len(desc) == 2 and desc[0] == "float") or any(_has_float(d) for d in desc)
    return False


class _Walk:
    """One key computation: the tensors met (in order), their buffers, and the devices touched."""

    def __init__(self, ttnn, repr_cache: dict):
        self.ttnn = ttnn
        self.Tensor = ttnn.Tensor
        self.repr_cache = repr_cache
        self.tensors: list = []
        self.buffers: list = []
        self.devices: dict[tuple, Any] = {}
        self.device_idents: dict[int, tuple] = {}  # id(device) -> (device, its description), within this call

    def value(self, x, depth: int = 0):
        if depth > MAX_DEPTH:
            raise NotKeyable("nested too deep")
        if x is None or isinstance(x, (bool, int, str)):
            return (type(x).__name__, x)
        if isinstance(x, float):
            return ("float", repr(x))
        if isinstance(x, (list, tuple)):
            return (type(x).__name__, tuple(self.value(v, depth + 1) for v in x))
        if isinstance(x, dict):
            if not all(isinstance(k, str) for k in x):
                raise NotKeyable("dict with non-string keys")
            return ("dict", tuple((k, self.value(x[k], depth + 1)) for k in sorted(x)))
        if isinstance(x, self.Tensor):
            return self.tensor(x)
        if isinstance(x, enum.Enum):
            return ("enum", type(x).__qualname__, x.name)
        kind = type(x)
        if not kind.__module__.startswith("ttnn"):
            raise NotKeyable(f"argument of type {kind.__module__}.{kind.__qualname__}")
        if hasattr(kind, "__members__") and hasattr(x, "value"):  # a pybind11 enum
            return ("enum", kind.__qualname__, int(x.value))
        if kind.__name__ in DEVICE_TYPES:
            return self.device(x)
        return self.ttnn_object(x, depth)

    def ttnn_object(self, x, depth: int):
        kind = type(x)
        text = repr(x) if kind.__repr__ is not object.__repr__ else ""
        if " at 0x" in text:  # a default repr after all
            text = ""
        # An object whose repr prints every field by name and held no float (a float may print rounded) is
        # described as the first object of its class with the same repr was: its properties are read once.
        trusted = bool(text) and _repr_names_fields(kind, text)
        if trusted:
            cached = self.repr_cache.get((kind, text))
            if cached is not None:
                return cached
        desc = self._fields(x, kind, text, depth)
        if trusted and not _has_float(desc):
            self.repr_cache[(kind, text)] = desc
        return desc

    def _fields(self, x, kind: type, text: str, depth: int):
        props = _properties(kind)
        if not props and not (text and kind.__name__ in REPR_COMPLETE):
            raise NotKeyable(f"{kind.__qualname__} exposes no properties and no complete repr")
        fields = []
        for name in props:
            try:
                v = getattr(x, name)
            except Exception as err:
                raise NotKeyable(f"{kind.__qualname__}.{name}: {err}") from None
            if callable(v) and not isinstance(v, (self.Tensor, enum.Enum)) and not hasattr(type(v), "__members__"):
                raise NotKeyable(f"{kind.__qualname__}.{name} is callable")
            fields.append((name, self.value(v, depth + 1)))
        return ("obj", kind.__module__, kind.__qualname__, text, tuple(fields))

    def device(self, d):
        known = self.device_idents.get(id(d))
        if known is None:
            try:
                ident = (type(d).__name__, d.id(), tuple(d.get_device_ids()), repr(d.shape))
            except Exception as err:
                raise NotKeyable(f"device: {err}") from None
            known = self.device_idents[id(d)] = (d, ident)  # holding d: its id is not reused during this call
            self.devices.setdefault(ident, d)
        return ("device",) + known[1]

    def tensor(self, t):
        ttnn = self.ttnn
        self.tensors.append(t)
        storage = t.storage_type()
        desc = [
            "tensor", repr(storage), tuple(t.shape), tuple(t.padded_shape), repr(t.dtype), repr(t.layout),
            self.value(t.tile, 1), self.value(t.memory_config(), 1),
        ]
        if storage == ttnn.StorageType.DEVICE:
            if not t.is_allocated():
                desc.append("deallocated")
                self.buffers.append(None)
            else:
                device = self.device(t.device())
                buffer = (device, int(t.buffer_unique_id()))
                shared = self.buffers.index(buffer) if buffer in self.buffers else None
                self.buffers.append(buffer)
                # a buffer the runner's capture made (address 0) or one in the allocator (weights, caches, inputs)
                placed = int(t.buffer_address()) != 0
                desc += [device, repr(t.tensor_topology()), ("shares buffer with", shared), ("in allocator", placed)]
        else:
            self.buffers.append(None)
            desc.append(repr(t.tensor_topology()))
        return tuple(desc)


class CallMemo:
    """Keys of calls ttnn judged, with what they returned and the L1 figures ttnn reported for them."""

    def __init__(self, ttnn):
        self.ttnn = ttnn
        self.enabled = True  # False: every call judged (the job's judge_every_call)
        self.entries: dict[tuple, Entry | str] = {}  # a str: accepted, but its outputs cannot be rebuilt (why)
        self.seen: set[tuple] = set()
        self.repr_cache: dict[tuple, tuple] = {}  # (class, repr) -> description (_Walk.ttnn_object)
        # the binding ttnn.allocate_tensor_on_device wraps (its Python wrapper adds nothing a rebuild needs)
        self.allocate = getattr(ttnn.allocate_tensor_on_device, "function", ttnn.allocate_tensor_on_device)
        self.calls = 0  # op calls the runner recorded
        self.judged = 0  # of them, run by ttnn
        self.unkeyed = 0  # judged because the key could not represent them
        self.not_rebuilt = 0  # judged again because a repeated key's outputs could not be rebuilt
        self.unkeyed_reasons: dict[str, int] = {}
        self.not_rebuilt_reasons: dict[str, int] = {}

    def clear(self) -> None:
        """A device was opened or closed, or the fabric changed: nothing judged before applies."""
        self.entries.clear()

    # keys
    def key(self, name: str, args, kwargs):
        """(key, walk) of a call, or (None, None) when the call holds something the key cannot represent."""
        walk = _Walk(self.ttnn, self.repr_cache)
        try:
            described = (
                name,
                walk.value(tuple(args)),
                tuple((k, walk.value(kwargs[k])) for k in sorted(kwargs)),
            )
            key = described + (self.state(walk.devices),)
        except NotKeyable as err:
            reason = str(err).split(":")[0]
            self.unkeyed_reasons[reason] = self.unkeyed_reasons.get(reason, 0) + 1
            return None, None
        except Exception as err:  # a property that failed to read: not representable
            reason = f"{type(err).__name__} while keying"
            self.unkeyed_reasons[reason] = self.unkeyed_reasons.get(reason, 0) + 1
            return None, None
        return key, walk

    def state(self, devices: dict) -> tuple:
        """Every allocated L1 and L1_SMALL block (address, size) of each device touched. (Outputs made inside the
        runner's NO_DISPATCH capture never enter the allocator, so DRAM cannot run out there and is left out.)"""
        ttnn = self.ttnn
        out = []
        for ident in sorted(devices):
            d = devices[ident]
            for buffer_type in (ttnn.BufferType.L1, ttnn.BufferType.L1_SMALL):
                view = ttnn.get_memory_view(d, buffer_type)
                blocks = sorted((int(b["address"]), int(b["size"])) for b in view.block_table if b["allocated"] == "yes")
                out.append((ident, repr(buffer_type), tuple(blocks)))
        return tuple(out)

    # after a real call
    def remember(self, key, walk: _Walk, out, figures: dict[str, int]) -> None:
        """Keep an accepted call's outputs (how to rebuild them) and figures under its key."""
        if key in self.entries:
            return
        try:
            self.entries[key] = self._entry(walk, out, figures)
        except Exception as err:  # NotKeyable, or a property that failed to read: judge this key every time
            self.entries[key] = f"{key[0]}: {err}"

    def _entry(self, walk: _Walk, out, figures) -> Entry:
        ttnn = self.ttnn
        if out is None:
            return Entry(None, "none", self.state(walk.devices), dict(figures))
        if isinstance(out, ttnn.Tensor):
            items, shape = [out], "tensor"
        elif isinstance(out, (tuple, list)) and all(isinstance(o, ttnn.Tensor) for o in out):
            items, shape = list(out), type(out).__name__
        else:
            raise NotKeyable("output is not a tensor, a tuple of tensors or None")
        outputs, used = [], set()
        for o in items:
            if o.storage_type() != ttnn.StorageType.DEVICE or not o.is_allocated():
                raise NotKeyable("output not on device")
            device = o.device()
            ident = walk.device(device)
            buffer = (ident, int(o.buffer_unique_id()))
            if buffer in used:
                raise NotKeyable("outputs share a buffer")
            used.add(buffer)
            if buffer in walk.buffers:  # an input returned as is
                index = walk.buffers.index(buffer)
                same = walk.tensors[index]
                if not (same.spec == o.spec and tuple(same.padded_shape) == tuple(o.padded_shape)
                        and repr(same.tensor_topology()) == repr(o.tensor_topology())):
                    raise NotKeyable("output is a view of an input")
                outputs.append(_Output(alias=index))
                continue
            outputs.append(
                _Output(
                    alias=None, shape=o.shape, dtype=o.dtype, layout=o.layout, memory_config=o.memory_config(),
                    device=device, spec=o.spec, padded=tuple(o.padded_shape), topology=o.tensor_topology(),
                    topology_repr=repr(o.tensor_topology()), address=int(o.buffer_address()),
                )
            )
        return Entry(outputs, shape, self.state(walk.devices), dict(figures))

    # a repeated key
    def replay(self, key, walk: _Walk):
        """(output, figures) rebuilt for a key judged and accepted before, or None to judge the call for real."""
        entry = self.entries.get(key)
        if entry is None:
            return None
        if isinstance(entry, str):
            self._not_rebuilt(entry)
            return None
        if entry.outputs is None:
            if self.state(walk.devices) != entry.post_state:
                self.entries[key] = f"{key[0]}: allocator state differs"
                self._not_rebuilt(self.entries[key])
                return None
            return None, entry.figures  # the call returns None: (None, figures) is a hit
        ttnn = self.ttnn
        graph = ttnn._ttnn.graph
        made, results = [], []
        try:
            fresh = [o for o in entry.outputs if o.alias is None]
            if fresh:
                # allocated as the op allocates its outputs in the runner's NO_DISPATCH capture: tracked by the
                # graph, not placed in the device's allocator (address 0), so later calls see the same L1 state
                graph.begin_graph_capture(graph.RunMode.NO_DISPATCH)
                try:
                    for o in fresh:
                        made.append(self.allocate(o.shape, o.dtype, o.layout, o.device, o.memory_config))
                finally:
                    graph.end_graph_capture()
            built = iter(made)
            for o in entry.outputs:
                if o.alias is not None:
                    results.append(walk.tensors[o.alias])
                    continue
                t = next(built)
                if repr(t.tensor_topology()) != o.topology_repr:
                    t.update_tensor_topology(o.topology)
                if not (
                    t.spec == o.spec and tuple(t.padded_shape) == o.padded and repr(t.tensor_topology()) == o.topology_repr
                    and int(t.buffer_address()) == o.address
                ):
                    raise NotKeyable("rebuilt output differs")
                results.append(t)
            if self.state(walk.devices) != entry.post_state:
                raise NotKeyable("allocator state differs after the rebuild")
        except Exception as err:
            for t in made:
                try:
                    ttnn.deallocate(t)
                except Exception:
                    pass
            self.entries[key] = f"{key[0]}: {err}"
            self._not_rebuilt(self.entries[key])
            return None
        if entry.shape == "tensor":
            return results[0], entry.figures
        return (tuple(results) if entry.shape == "tuple" else results), entry.figures

    def _not_rebuilt(self, reason: str) -> None:
        self.not_rebuilt += 1
        self.not_rebuilt_reasons[reason] = self.not_rebuilt_reasons.get(reason, 0) + 1

    def summary(self) -> dict[str, Any]:
        distinct = len(self.seen) + self.unkeyed
        return {
            "calls": self.calls,
            "distinct": distinct,
            "judged": self.judged,
            "reused": self.calls - self.judged,
            "unkeyed": self.unkeyed,
            "not_rebuilt": self.not_rebuilt,
            "unkeyed_reasons": dict(sorted(self.unkeyed_reasons.items())),
            "not_rebuilt_reasons": dict(sorted(self.not_rebuilt_reasons.items())),
        }

