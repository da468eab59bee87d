"""Decode move candidates: where an activation may have to change placement between two decode ops.

In decode, activations live in L1 in placements the passes choose (matmul in0/out by the program search) or that
op contracts fix (norms and elementwise ops on the residual stream, heads height-sharded, SDPA output in DRAM).
Where a producer's output placement may differ from what its consumer reads, the builder puts a `reshard` op;
the reshard pass later resolves it to the consumer's placement, or elides it when they are equal. Which edges
need one is a property of op kinds, listed once in MOVES; prefill ops all read and write DRAM interleaved.
"""

from __future__ import annotations

from dataclasses import replace
from math import prod

from tttgen.ir.graph import Op, frozen

ANY = "*"
# (producer kind, consumer kind) -> how the move is named: "in" (`<consumer>_in`) or "out" (`<producer>_out`).
MOVES: dict[tuple[str, str], str] = {
    (ANY, "linear"): "in",  # a linear's in0 placement is the program search's choice
    ("linear", "binary"): "out",  # ... and so is its output's; the residual stream has its own
    ("linear", "create_heads"): "out",  # create_qkv_heads_decode reads L1 interleaved
    ("sdpa_decode", "concat_heads"): "out",  # SDPA decode writes DRAM; concat_heads_decode reads height-sharded
    ("rotary", "sdpa_explicit_decode"): "in",  # the attention written out as ops regroups q in DRAM ...
    ("sdpa_explicit_decode", "concat_heads"): "out",  # ... and writes DRAM, as SDPA decode
    ("embedding", "rms_norm"): "out",  # the embedding writes L1 interleaved; the norm reads the residual shards
    ("linear", "rms_norm"): "out",  # a post-norm (Gemma's) reads a projection's output: its placement is the search's
    ("embedding", "layer_norm"): "out",
    ("reshape", "rotary"): "out",  # gathered rotary rows (DRAM) -> one row per user core, as the rotary op reads
    ("create_heads", "rms_norm"): "in",  # a per-head norm reads the heads interleaved (ttnn norms: no height shards)
    ("rms_norm", "rotary"): "out",  # ... and the rotary embedding reads them height-sharded again
}


def _rule(producer: Op, consumer: Op) -> str | None:
    return MOVES.get((producer.kind, consumer.kind)) or MOVES.get((ANY, consumer.kind))


def decode_moves(ops: list[Op], alternates: dict[str, list[str]] | None = None) -> list[Op]:
    """The ops of one decode mode with a reshard before each consumer whose input may need a move.

    A matmul reading the tensor an earlier matmul already had moved reads the moved one (no second move); an
    elementwise op whose inputs are all matmul outputs computes in their placement (no move). A move out of an op
    of another scope (the embedding, before the layer loop) sits right after its producer, in its scope.
    `alternates` names, per producer of a looped call's input, the producers of the values some iterations pass
    instead (loop.every: Gemma's global rotary tables): a move out of the producer is made out of each of them
    too, to the same consumer's placement."""
    alternates = alternates or {}
    by_name = {op.name: op for op in ops}
    out: list[Op] = []
    moved: set[tuple[str, str]] = set()  # (producer, rule) already moved
    after: dict[str, list[Op]] = {}  # producer name -> moves placed right after it
    for op in ops:
        producers = [by_name[name] for name in op.dataflow.get("producers", {}).values() if name in by_name]
        from_matmuls = bool(producers) and all(p.kind == "linear" for p in producers)
        for p in producers:
            how = _rule(p, op)
            if how is None or (op.kind == "binary" and from_matmuls):
                continue
            value = next(v for v, name_ in op.dataflow["producers"].items() if name_ == p.name)
            # one move per producer (and way), per output value of a producer with several (create_heads' q, k, v)
            read = op.dataflow["in"].get(value) if len(p.dataflow.get("out", ())) > 1 else None
            key = (p.name, how if how == "out" else "in", read)
            if key in moved:
                continue
            moved.add(key)
            shape = op.dataflow["shapes"]["in"][value]
            alts = [by_name[a] for a in alternates.get(p.name, ()) if a in by_name] if how == "out" else []
            for src in [p, *alts]:
                name = f"{op.name}_in" if how == "in" else f"{src.name}_out"
                home = op if src.scope == op.scope else src  # the op whose scope (and loop) the move runs in
                facts = {"rows": op.seq, "dim": prod(shape) // op.seq, "src": src.name, "dst": op.name}
                if "loop_count" in home.facts:
                    facts["loop_count"] = home.facts["loop_count"]  # runs as often as the ops around it
                move = Op(
                    name=name,
                    kind="reshard",
                    mode=op.mode,
                    seq=op.seq,
                    mode_name=op.mode_name,
                    scope=home.scope,
                    facts=frozen(facts),
                )
                if src.scope == op.scope:
                    out.append(move)
                else:
                    after.setdefault(src.name, []).append(move)
        out.append(op)
    placed: list[Op] = []
    for op in out:
        placed.append(op)
        placed += after.get(op.name, [])
    return placed


def rename(op: Op, names: dict[str, str], weights: dict[str, str] | None = None) -> Op:
    """`op` with the op names it holds mapped through `names` (its own, `shares_input_with`, move ends,
    producers) and the weight names through `weights`."""
    weights = weights or {}
    facts = dict(op.facts)
    for fact in ("shares_input_with", "src", "dst"):
        if fact in facts:
            facts[fact] = names.get(facts[fact], facts[fact])
    if "bias" in facts:
        facts["bias"] = weights.get(facts["bias"], facts["bias"])
    flow = dict(op.dataflow)
    if "producers" in flow:
        flow["producers"] = {port: names.get(n, n) for port, n in flow["producers"].items()}
    if "in" in flow:
        flow["in"] = {port: _weight_refs(ref, weights) for port, ref in flow["in"].items()}
    return replace(
        op,
        name=names.get(op.name, op.name),
        weight=weights.get(op.weight, op.weight) if op.weight else None,
        facts=frozen(facts),
        dataflow=frozen(flow) if flow else op.dataflow,
    )


def _weight_refs(ref, weights: dict[str, str]):
    if isinstance(ref, list):
        return [_weight_refs(r, weights) for r in ref]
    if isinstance(ref, dict):
        return {"weight": weights.get(ref["weight"], ref["weight"])}
    return ref
