"""The pass contract: a name, what it needs, what it adds, and a pure run(graph) -> graph."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Callable

from tttgen.ir.graph import Graph


@dataclass(frozen=True)
class Pass:
    name: str
    requires: frozenset[str]
    produces: frozenset[str]
    run: Callable[[Graph], Graph]
    doc: str

    def __call__(self, graph: Graph) -> Graph:
        out = self.run(graph)
        return replace(out, annotated=graph.annotated | self.produces)


def make_pass(name: str, requires: tuple[str, ...], produces: tuple[str, ...]):
    """Decorator turning `run(graph) -> graph` into a Pass; the docstring says why the pass exists."""

    def wrap(fn: Callable[[Graph], Graph]) -> Pass:
        return Pass(name, frozenset(requires), frozenset(produces), fn, (fn.__doc__ or "").strip())

    return wrap
