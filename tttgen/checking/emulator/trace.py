"""Trace capture and replay on the emulator (ttnn.begin_trace_capture / end_trace_capture / execute_trace /
release_trace / copy_host_to_device_tensor), with the contract a real trace has.

On hardware a trace records the dispatch commands of the ops run between begin and end; execute_trace replays them
on the same buffers: the tensors the capture produced are rewritten in place, and new inputs reach the trace only
through the persistent tensors it read (copy_host_to_device_tensor). The emulator records each outermost ttnn call
during capture and, on replay, runs it again and writes its result into the recorded output objects, so a package
whose traced step reads a tensor the trace does not own, or does host I/O while capturing, fails here as it would on
a device. Capture needs a device opened with a trace region (ttnn TT_FATALs on 0).

A capture records commands and runs none of them. The emulator runs each op to learn its outputs, then undoes what
the capture wrote into tensors it did not create (a KV cache, a step input advanced in place by ttnn.plus_one or
ttnn.copy) and into the devices' random streams (ttnn.sampling draws), so after end_trace_capture the device holds
what it held before begin_trace_capture, as on hardware.
"""

from __future__ import annotations

import functools
from typing import Any, Callable

from .errors import fail
from .tensor import Tensor

HOST_IO = ("from_torch", "to_torch", "as_tensor", "from_device", "to_device")


class Tracer:
    """Per emulated ttnn module: the capture in progress and the captured traces."""

    def __init__(self) -> None:
        self.capture: list[tuple[Callable, tuple, dict, Any]] | None = None
        self.traces: dict[int, list[tuple[Callable, tuple, dict, Any]]] = {}
        self.depth = 0
        # during a capture: tensors it created (by id), the values of tensors it did not create as they were before
        # it first touched them, and each device's random-stream states
        self.created: set[int] = set()
        self.saved: dict[int, tuple[Tensor, Any, bool]] = {}
        self.streams: list[tuple[Any, list]] = []

    def wrap(self, name: str, fn: Callable) -> Callable:
        """`fn` recorded when it is an outermost call during a capture (host I/O refused there)."""

        def run(*args, **kwargs):
            if self.capture is None or self.depth:
                return fn(*args, **kwargs)
            if name in HOST_IO and (name != "from_torch" or kwargs.get("device") is not None):
                fail(f"ttnn.{name}", "trace.host_io", f"ttnn.{name} moves data to or from the host during a trace "
                     "capture; a traced step reads its inputs from persistent device tensors")
            for value in list(args) + list(kwargs.values()):
                for t in _tensors(value):
                    if id(t) not in self.created and id(t) not in self.saved:
                        self.saved[id(t)] = (t, t._values.clone(), t._deallocated)
            self.depth += 1
            try:
                out = fn(*args, **kwargs)
            finally:
                self.depth -= 1
            self.created.update(id(t) for t in _tensors(out))
            self.capture.append((fn, args, kwargs, out))
            return out

        try:
            functools.update_wrapper(run, fn)
        except (AttributeError, TypeError):  # a callable object (a jitted block) keeps its own attributes
            pass
        run.__wrapped_op__ = fn
        return run

    # ---- the ttnn calls

    def begin_trace_capture(self, device, cq_id: int = 0) -> int:
        if getattr(device, "open_kwargs", {}).get("trace_region_size", 0) <= 0:
            fail("ttnn.begin_trace_capture", "trace.region", "the device was opened without a trace region "
                 "(open_device(trace_region_size=...)); ttnn cannot record a trace")
        if self.capture is not None:
            fail("ttnn.begin_trace_capture", "trace.nested", "a trace capture is already in progress")
        self.capture = []
        self.created, self.saved = set(), {}
        devices = getattr(device, "devices", [device])  # a mesh device: every chip
        self.streams = [(d, [g.get_state() for g in d.core_prngs]) for d in devices if hasattr(d, "core_prngs")]
        return len(self.traces)

    def end_trace_capture(self, device, trace_id: int, cq_id: int = 0) -> None:
        if self.capture is None:
            fail("ttnn.end_trace_capture", "trace.not_capturing", "no trace capture is in progress")
        self.traces[trace_id], self.capture = self.capture, None
        # nothing ran: tensors the capture did not create, and the random streams, are as they were before it
        for t, values, deallocated in self.saved.values():
            t._values, t._deallocated = values, deallocated
        for d, states in self.streams:
            for g, state in zip(d.core_prngs, states):
                g.set_state(state)
        self.created, self.saved, self.streams = set(), {}, []

    def execute_trace(self, device, trace_id: int, cq_id: int = 0, blocking: bool = True) -> None:
        if trace_id not in self.traces:
            fail("ttnn.execute_trace", "trace.unknown", f"trace {trace_id} was not captured (or was released)")
        for fn, args, kwargs, out in self.traces[trace_id]:
            _write_into(out, fn(*args, **kwargs))

    def release_trace(self, device, trace_id: int) -> None:
        self.traces.pop(trace_id, None)


def _tensors(value: Any) -> list[Tensor]:
    """The tensors in an op's argument or result (lists and tuples of them included)."""
    if isinstance(value, Tensor):
        return [value]
    if isinstance(value, (list, tuple)):
        return [t for v in value for t in _tensors(v)]
    if hasattr(value, "chips"):  # a mesh tensor: each chip's tensor
        return [t for v in value.chips for t in _tensors(v)]
    return []


class Event:
    """What ttnn.record_event returns: the emulator runs every command when it is enqueued, so an event is complete
    as soon as it is recorded."""

    def __init__(self, device) -> None:
        self.device = device


def record_event(mesh_device, cq_id=None, sub_device_ids=(), device_range=None) -> Event:
    return Event(mesh_device)


def event_synchronize(mesh_event: Event) -> None:
    if not isinstance(mesh_event, Event):
        raise TypeError(f"ttnn.event_synchronize expects an event from ttnn.record_event, got {type(mesh_event).__name__}")


def wait_for_event(cq_id, mesh_event: Event) -> None:
    event_synchronize(mesh_event)


def _write_into(recorded: Any, new: Any) -> None:
    """The replayed result written into the object the capture returned (its consumers hold that one)."""
    if isinstance(recorded, Tensor):
        for slot in Tensor.__slots__:
            setattr(recorded, slot, getattr(new, slot))
    elif isinstance(recorded, (tuple, list)):
        for r, n in zip(recorded, new):
            _write_into(r, n)
    elif hasattr(recorded, "chips") and hasattr(new, "chips"):  # a mesh tensor: each chip's tensor
        for r, n in zip(recorded.chips, new.chips):
            _write_into(r, n)


def copy_host_to_device_tensor(host_tensor: Tensor, device_tensor: Tensor, cq_id: int = 0) -> None:
    """A host tensor's values into an allocated device tensor of the same shape, dtype and layout."""
    op = "ttnn.copy_host_to_device_tensor"
    if not isinstance(host_tensor, Tensor) or host_tensor._device is not None:
        fail(op, "trace.copy_source", "the source must be a host ttnn.Tensor (from_torch without a device)")
    if not isinstance(device_tensor, Tensor) or device_tensor._device is None:
        fail(op, "trace.copy_target", "the target must be a device ttnn.Tensor")
    same = (
        tuple(host_tensor._values.shape) == tuple(device_tensor._values.shape)
        and host_tensor._dtype == device_tensor._dtype
        and host_tensor._layout == device_tensor._layout
    )
    if not same:
        fail(op, "trace.copy_spec", f"host {list(host_tensor._values.shape)} {host_tensor._dtype.name} "
             f"{host_tensor._layout.name} does not match device {list(device_tensor._values.shape)} "
             f"{device_tensor._dtype.name} {device_tensor._layout.name}")
    device_tensor._values = host_tensor._values.clone()
    device_tensor._deallocated = False
