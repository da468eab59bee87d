"""Pass `step_state`: which of a causal LM's decode-step inputs live on the device between steps, and how each
advances there (templates/lm.py.j2 prints what this decides).

Inputs: the decode mode's inputs (the causal-LM entry contract: tokens, positions, rope_rows, and page_table when
paged) with their dtypes and shapes. Produces: `step_state` (graph fact; None for a module package, which has no
decode step):

- `inputs`: per decode input, in order, `advance`: how the step itself moves it to the next step's value inside the
  trace, or None (then the host copies it, and only when it changed):
  - `next_token` (tokens): the id the greedy or sampled tail picked, written into the input by `ttnn.copy`;
  - `plus_one_skip_idle` (positions): `ttnn.plus_one(..., skip_negative_entries=True)`, so an idle slot's -1 stays;
  - `plus_one` (rope_rows): `ttnn.plus_one`; the rotary rows are gathered on device from these indices. An idle
    slot's index advances too; the host keeps it inside the table (tt_transformers advances both counters so).
  `ttnn.plus_one` takes INT32 or UINT32 ROW_MAJOR tensors of 1 to 4 dims (its 0.81.1 docstring): an input outside
  that stays a host copy, with the reason.
- `on_change`: the inputs and sampling parameters the host copies only when a step's value differs from what the
  device holds (the page table, top_k / top_p / temperature).
- `per_token`: per decode tail (`logits`: the host reads the logits and picks the token; `greedy`; `sampled`) the
  inputs the host still copies every step in steady state.
"""

from __future__ import annotations

from typing import Any

from tttgen.ir.graph import Graph
from tttgen.passes.base import make_pass

PLUS_ONE_DTYPES = ("int32", "uint32")  # ttnn.plus_one 0.81.1 docstring
PLUS_ONE_MAX_RANK = 4
# the causal-LM decode inputs (tttgen/render/module.py LM_INPUTS) and how each could advance on device
ADVANCES = {"tokens": "next_token", "positions": "plus_one_skip_idle", "rope_rows": "plus_one"}
TAILS = ("logits", "greedy", "sampled")
SAMPLING_PARAMS = ("top_k", "top_p", "temperature")


def plan_inputs(io: dict[str, Any]) -> list[dict[str, Any]]:
    """Each decode input with how it advances on device (None: copied from the host when it changes) and why."""
    out = []
    for name, shape in io["inputs"].items():
        dtype = io["dtypes"].get(name, "bfloat16")
        advance = ADVANCES.get(name)
        why = {
            "next_token": "greedy / sampled steps write their token into it (ttnn.copy)",
            "plus_one_skip_idle": "ttnn.plus_one(skip_negative_entries=True): live slots +1, idle (-1) kept",
            "plus_one": "ttnn.plus_one: the rotary gather's index follows its position",
            None: "copied from the host when it changes",
        }[advance]
        if advance and advance.startswith("plus_one") and (dtype not in PLUS_ONE_DTYPES or not 1 <= len(shape) <= PLUS_ONE_MAX_RANK):
            advance, why = None, f"ttnn.plus_one takes int32 / uint32 of 1 to 4 dims, not {dtype} {list(shape)}: copied"
        out.append({"name": name, "dtype": dtype, "shape": list(shape), "advance": advance, "why": why})
    return out


def per_token(inputs: list[dict[str, Any]]) -> dict[str, list[str]]:
    """Per decode tail, the inputs still copied from the host every step in steady state: one that does not advance
    on device (unless it is copied only when it changes), and the tokens when no tail on device picks the next one."""

    def copied(i: dict[str, Any], tail: str) -> bool:
        if i["advance"] is None:
            return i["name"] not in ON_CHANGE_INPUTS
        return i["advance"] == "next_token" and tail == "logits"

    return {tail: [i["name"] for i in inputs if copied(i, tail)] for tail in TAILS}


ON_CHANGE_INPUTS = ("page_table",)  # what a server changes between requests, not between tokens


@make_pass("step_state", requires=("target",), produces=("step_state",))
def step_state(graph: Graph) -> Graph:
    """Keep the decode step's inputs on the device and advance them inside the trace, so a steady decode step copies
    nothing from the host and reads back only what is asked for."""
    if graph.entry.is_module or "decode" not in graph.facts.get("io", {}):
        return graph.with_facts(step_state=None, module_traces=module_traces(graph))
    inputs = plan_inputs(graph.facts["io"]["decode"])
    on_change = [i["name"] for i in inputs if i["advance"] is None and i["name"] in ON_CHANGE_INPUTS]
    return graph.with_facts(
        step_state={
            "inputs": inputs,
            "on_change": on_change + list(SAMPLING_PARAMS),
            "per_token": per_token(inputs),
        },
        module_traces=None,
    )


def module_traces(graph: Graph) -> dict[str, Any]:
    """Whether a module package's calls can run as traces (forward(..., traced=True), the sampler's loop, warmup()):
    a trace replays device commands only, so a mode that computes anything on the host per call (rotary tables built
    with torch) cannot be one."""
    host = sorted({fn["mode"] for fn in graph.facts.get("functions", ()) if any("host" in e for e in fn["body"])})
    if host:
        return {"traceable": False, "why": f"modes {host} compute rotary tables on the host per call"}
    return {"traceable": True, "why": "every mode runs device ops only: each call can replay a trace"}
