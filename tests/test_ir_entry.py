"""The IR carries no model: a graph names its entry kind (causal LM or module) and, for a causal LM, the config
verification builds its reference from; dimensions come from op facts (issue 21)."""

import pytest

from plan_cache import cached_plan
from tttgen.builder.expand import expand
from tttgen.errors import InputError
from tttgen.explain import op_flops
from tttgen.inputs.load import load_device
from tttgen.inputs.hints import Hints
from tttgen.inputs.module import load_module
from tttgen.inputs.model import ModelSpec
from tttgen.ir.facts import GraphFacts


def test_pi0_sdpa_flops_use_each_attentions_own_heads():
    graph = cached_plan("pi0", "n150").graph
    attentions = [op for op in graph.ops if op.kind == "sdpa"]
    widths = {(op.facts["num_heads"], op.facts["head_dim"]) for op in attentions}
    assert widths == {(16, 96), (8, 256)}  # SigLIP's vision tower, Gemma's language model and expert
    for op in attentions:
        assert op_flops(graph, op) == 2 * op.facts["num_heads"] * op.seq * op.seq * op.facts["head_dim"]
    vision = next(op for op in attentions if op.facts["num_heads"] == 16)
    first = attentions[0].facts  # what a graph-wide size would say: the first attention's, not the vision tower's
    assert (first["num_heads"], first["head_dim"]) != (16, 96)
    model_wide = 2 * first["num_heads"] * vision.seq * vision.seq * first["head_dim"]
    assert op_flops(graph, vision) != model_wide


def test_pi0_attention_ops_are_priced_with_their_own_heads():
    """Each attention-side op (heads split and concat, rotary, the attention itself) is priced with the heads and
    head width it states, not the graph-wide sizes (the first attention's): PI0's vision tower has 16 heads of 96,
    its language model and expert 8 of 256."""
    from tttgen.ops.kinds import kind_of
    from tttgen.passes.op_costs import cost_tools

    graph = cached_plan("pi0", "n150").graph
    first = graph.ops_of("sdpa")[0].facts  # what a graph-wide size would say: the first attention's (8 x 256)
    assert (first["num_heads"], first["head_dim"]) == (8, 256)
    assert "dims" not in GraphFacts.NAMES  # no graph-wide sizes to fall back on
    vision = [op for op in graph.ops if op.facts.get("num_heads") == 16 and op.facts.get("head_dim") == 96]
    assert {op.kind for op in vision} >= {"sdpa", "concat_heads"}
    for op in vision:
        kind, facts = kind_of(op).cost_facts(op, cost_tools(op, graph, graph.hints.max_seq_len))
        if op.kind == "concat_heads":
            assert facts["bytes"] == 2 * op.seq * 16 * 96 * 2
            assert facts["bytes"] != 2 * op.seq * first["num_heads"] * first["head_dim"] * 2
        if op.kind == "sdpa":
            assert (facts["heads"], facts["head_dim"]) == (16, 96) != (first["num_heads"], first["head_dim"])


def test_every_op_of_a_looped_call_carries_its_loop_count():
    """How often an op runs per call is its own fact `loop_count` (Op.runs): the builder puts it on every op of a
    looped call and on the moves between them, so no reader needs a graph-wide layer count."""
    for model in ("llama-3.2-1b", "pi0"):
        graph = cached_plan(model, "n150").graph
        layer_ops = [op for op in graph.ops if op.scope == "layer"]
        assert layer_ops and all("loop_count" in op.facts for op in layer_ops), model
    llama = cached_plan("llama-3.2-1b", "n150").graph
    moves = [op for op in llama.ops if op.kind == "reshard" and op.scope == "layer"]
    assert moves and {op.runs for op in moves} == {16}  # Llama 3.2 1B's 16 decoder layers
    pi0 = cached_plan("pi0", "n150").graph
    assert {op.runs for op in pi0.ops} == {1, 18, 27}  # once, the language/expert layers, the vision layers


def test_entry_kind_and_reference():
    lm = cached_plan("llama-3.2-1b", "n150").graph
    assert lm.entry.kind == "causal_lm" and not lm.entry.is_module
    assert isinstance(lm.entry.reference, ModelSpec) and lm.name == lm.entry.reference.name == "llama-3.2-1b"
    module = cached_plan("mlp", "n150").graph
    assert module.entry.kind == "module" and module.entry.is_module and module.entry.reference is None
    assert module.name == "mlp"
    assert not hasattr(lm, "model") and not hasattr(module, "model")


DESCRIPTION = """\
name: lm_without_config
description: "a description that says it is a causal LM"
entry: {entry}
params:
  rows: {{type: int, doc: "rows"}}
inputs:
  x: {{shape: [1, 1, rows, 64]}}
outputs:
  y: {{shape: [1, 1, rows, 64]}}
weights:
  w: {{shape: [64, 64], key: "w.weight", role: FF2}}
ops:
  - {{op: linear, name: proj, in: {{input: x, weight: w}}, out: y}}
"""


def test_entry_causal_lm_needs_a_model_config(tmp_path):
    path = tmp_path / "lm_without_config.yaml"
    path.write_text(DESCRIPTION.format(entry="causal_lm"))
    device, _ = load_device("n150")
    hints = Hints(prefill_lens=[128], max_seq_len=128)
    with pytest.raises(InputError) as info:
        expand(load_module(path), {}, device, hints, near=tmp_path)
    assert "entry: causal_lm needs the model config" in info.value.render()
    path.write_text(DESCRIPTION.format(entry="module"))
    graph = expand(load_module(path), {}, device, hints, near=tmp_path)
    assert graph.entry.kind == "module" and graph.name == "lm_without_config"


def test_entry_takes_only_its_two_kinds(tmp_path):
    path = tmp_path / "lm_without_config.yaml"
    path.write_text(DESCRIPTION.format(entry="decoder"))
    with pytest.raises(InputError) as info:
        load_module(path)
    text = info.value.render()
    assert "lm_without_config.yaml:3" in text and "entry" in text and "causal_lm" in text


# ------------------------------------------------------------------------------------------ typed graph facts


def _setters(record) -> dict[str, set[str]]:
    """Each field of a typed record -> who its one-line comment says sets it (`# memory, reshard: ...`)."""
    import inspect
    import re

    source = inspect.getsource(record)
    found = {
        name: set(who.split(", "))
        for name, who in re.findall(r"^    ([a-z_0-9]+): .* = UNSET  # ([a-z_]+(?:, [a-z_]+)*):", source, flags=re.M)
    }
    assert set(found) == set(record.NAMES), "every field has a one-line comment naming its setters"
    return found


@pytest.mark.parametrize("model,device", [("llama-3.2-1b", "t3k"), ("pi0", "n150"), ("llama-3.2-1b", "n150")])
def test_each_fact_and_decision_is_set_by_the_pass_its_comment_names(model, device):
    from tttgen.build import build_graph
    from tttgen.generate import Request, device_and_hints, module_source
    from tttgen.ir.facts import GraphFacts, OpDecisions, WeightDecisions
    from tttgen.passes import PIPELINE
    from tttgen.inputs.load import load_model

    facts, decisions, weights = _setters(GraphFacts), _setters(OpDecisions), _setters(WeightDecisions)
    passes = {p.name for p in PIPELINE}
    assert set().union(*facts.values()) <= {"builder"} | passes
    assert set().union(*decisions.values(), *weights.values()) <= passes
    device_profile, hints, _ = device_and_hints(Request(model, device))
    source = module_source(model)
    if source is not None:
        g = expand(load_module(source, hints.features), {}, device_profile, hints, near=source.parent)
    else:
        g = build_graph(load_model(model)[0], device_profile, hints)
    assert {k for k in g.facts if "builder" not in facts[k]} == set()
    assert all(len(op.decisions) == 0 for op in g.ops) and all(len(w.decisions) == 0 for w in g.weights)
    for p in PIPELINE:
        before = set(g.facts)
        decided = {op.key: op.decisions for op in g.ops}
        weighed = {w.name: w.decisions for w in g.weights}
        g = p(g)
        added = set(g.facts) - before
        assert all(p.name in facts[k] for k in added), (p.name, {k: facts[k] for k in added})
        for op in g.ops:
            old = decided.get(op.key)
            changed = {k for k, v in op.decisions.items() if old is None or k not in old or old[k] is not v}
            assert all(p.name in decisions[k] for k in changed), (p.name, op.key, {k: decisions[k] for k in changed})
        for w in g.weights:
            old = weighed.get(w.name)
            changed = {k for k, v in w.decisions.items() if old is None or k not in old or old[k] is not v}
            assert all(p.name in weights[k] for k in changed), (p.name, w.name, {k: weights[k] for k in changed})
    assert set(g.facts) == set(cached_plan(model, device).graph.facts)


def test_graph_facts_refuse_a_name_they_do_not_declare():
    graph = cached_plan("mlp", "n150").graph
    with pytest.raises(KeyError, match="no graph fact 'kv_dytpe'"):
        graph.facts.get("kv_dytpe")
    with pytest.raises(KeyError, match="no graph fact kv_dytpe"):
        graph.with_facts(kv_dytpe="bfloat16")
    op = graph.ops[0]
    with pytest.raises(KeyError, match="no op decision 'dtype'"):
        op.decisions.get("dtype")  # a weight's decision, not an op's
    with pytest.raises(KeyError, match="no op decision programm"):
        op.decide(programm=None)
    assert op.decide(elide=True).decisions.elide is True and op.decisions.dtypes == op.get("dtypes")
    assert graph.with_facts(kv_dtype="bfloat8_b").facts.kv_dtype == "bfloat8_b"
    assert graph.facts.kv_dtype == graph.facts["kv_dtype"] and "mesh" not in graph.facts
    assert list(graph.facts) == sorted(graph.facts) and "io" in graph.facts.keys()


def test_only_checking_reads_the_bound_model_config():
    """Passes, kinds and the renderer read op facts and graph facts; the config a causal LM was bound to is for
    building its transformers reference (verification, the real-ttnn check's checkpoint shapes)."""
    from pathlib import Path

    root = Path(__file__).resolve().parents[1] / "tttgen"
    readers = sorted(p.relative_to(root).as_posix() for p in root.rglob("*.py") if "entry.reference" in p.read_text())
    assert readers == ["checking/realttnn/check.py", "checking/verification.py"]


def test_an_embedding_is_priced_at_its_own_table_width():
    """A lookup moves rows of its own table: Llama's rotary tables (cos, sin: head_dim wide) are embeddings too, and
    were priced as hidden_size wide when the graph-wide width priced every embedding."""
    from tttgen.ops.kinds import kind_of
    from tttgen.passes.op_costs import cost_tools

    graph = cached_plan("llama-3.2-1b", "n150").graph
    lookups = graph.ops_of("embedding")
    widths = {op.facts["dim"] for op in lookups}
    assert widths == {2048, 64}  # the token table (hidden_size) and the rotary tables (head_dim)
    for op in lookups:
        _, facts = kind_of(op).cost_facts(op, cost_tools(op, graph, graph.hints.max_seq_len))
        assert facts["bytes"] == 2 * op.seq * op.facts["dim"] * 2


def test_feasibility_counts_the_largest_activation_an_op_writes():
    """The activations feasibility budgets are as large as the largest prefill output (its own shape), not the
    first input's width times the prompt length: a pair module's [1, n, n, c] tensors hold n x n rows."""
    from math import prod

    from tttgen.passes.feasibility import ACTIVATION_BUFFERS

    llama = cached_plan("llama-3.2-1b", "n150").graph
    assert llama.facts["dram"]["activations"] == ACTIVATION_BUFFERS * 1024 * 8192 * 2  # w1's output at 1024 rows
    pair = cached_plan("boltz_outer_product_mean", "n150").graph
    largest = max(prod(s) for op in pair.ops if op.dataflow for s in op.dataflow["shapes"]["out"])
    n = max(op.seq for op in pair.ops)
    assert largest > n * max(s[-1] for op in pair.ops if op.dataflow for s in op.dataflow["shapes"]["out"])
    assert pair.facts["dram"]["activations"] == ACTIVATION_BUFFERS * largest * 2
