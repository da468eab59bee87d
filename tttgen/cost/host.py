"""Host-side cost of one call into a generated package: the ttnn host calls it makes and the bytes it moves over
PCIe. Device time is priced elsewhere (tttgen.cost.model); the two are serial in the emitted code, because each
call waits for its outputs before returning and the next call's inputs are only copied after that."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from tttgen.inputs.device import HostLink


@dataclass(frozen=True)
class HostIO:
    """One call's host traffic: bytes of each tensor copied in and read out, and other enqueued host calls
    (a trace replay). Scalars passed as Python ints are not tensors and cost nothing here."""

    inputs: tuple[int, ...] = ()
    outputs: tuple[int, ...] = ()
    other_calls: int = 0


def transfer_ns(link: HostLink, nbytes: int, to_device: bool) -> float:
    """One tensor over PCIe: the minimal-transfer latency, then the bytes at the large-transfer bandwidth."""
    if to_device:
        return link.h2d_latency_ns + nbytes / link.h2d_gbps
    return link.d2h_latency_ns + nbytes / link.d2h_gbps


def host_io_ns(link: HostLink, io: HostIO) -> float:
    """Host time of one call: every tensor copy and read is one enqueued host call plus its transfer."""
    calls = len(io.inputs) + len(io.outputs) + io.other_calls
    moved = sum(transfer_ns(link, b, True) for b in io.inputs) + sum(transfer_ns(link, b, False) for b in io.outputs)
    return calls * link.host_call_ns + moved


def tensor_bytes(shapes: Iterable[tuple[tuple[int, ...], int]]) -> tuple[int, ...]:
    """(shape, bytes per element) pairs -> bytes per tensor; a 0-d shape is a Python scalar, not a tensor."""
    out = []
    for shape, itemsize in shapes:
        if not shape:
            continue
        n = itemsize
        for d in shape:
            n *= d
        out.append(n)
    return tuple(out)
