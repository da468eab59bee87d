"""The pipeline: pass contracts, verification, target refusals and hints that change the answer."""

import re
from dataclasses import replace

import pytest

from plan_cache import cached_plan
from tttgen.build import build_graph
from tttgen.errors import DoesNotFit, PipelineError, UnsupportedTarget
from tttgen.generate import Request, plan
from tttgen.ir.graph import frozen
from tttgen.ir.verify import verify
from tttgen.passes import PIPELINE, run_pipeline
from tttgen.inputs.hints import Hints
from tttgen.inputs.load import load_device, load_model


def test_pipeline_is_ordered_by_its_contracts():
    done = set()
    for p in PIPELINE:
        assert p.requires <= done, p.name
        done |= p.produces
        assert p.doc


def test_pass_refuses_to_run_out_of_order():
    model, _ = load_model("llama-3.2-1b")
    device, _ = load_device("n150")
    graph = build_graph(model, device, Hints())
    with pytest.raises(PipelineError, match="pass 'matmul_program' needs"):
        run_pipeline(graph, passes=tuple(p for p in PIPELINE if p.name == "matmul_program"))


def test_verify_catches_a_missing_decision():
    graph = cached_plan("llama-3.2-1b", "n150").graph
    op = graph.ops_of("linear")[0]
    stripped = replace(op, decisions={k: v for k, v in op.decisions.items() if k != "program"})
    bad = graph.with_ops(stripped if o.key == op.key else o for o in graph.ops)
    with pytest.raises(PipelineError, match="lacks \\['program'\\]"):
        verify(bad, "test")


def test_grayskull_is_refused_with_the_reason():
    with pytest.raises(UnsupportedTarget, match="no GrayskullComputeKernelConfig"):
        plan(Request("llama-3.2-1b", "grayskull"))


@pytest.mark.parametrize("device", ["n300", "n300-eth", "t3k", "galaxy", "p150x4", "p300"])
def test_meshes_are_placed_by_the_parallelism_pass_and_rendered_as_mesh_packages(device):
    """target no longer refuses a mesh: the parallelism pass places the model and the package opens the mesh."""
    from tttgen.generate import render_plan

    p = plan(Request("llama-3.2-1b", device))
    assert p.graph.facts["mesh"]["strategy"] == "tensor_parallel"
    model = render_plan(p)["model.py"]
    assert "ttnn.open_mesh_device(" in model and "ttnn.set_fabric_config(" in model


def test_module_packages_on_a_mesh_render_data_parallel_or_name_what_they_cannot_split():
    """A module package on a mesh runs one design per chip (tests/test_mesh_modules.py), a per-layer input list's
    designs on dim 0 of each layer's tensor; what it cannot split that way yet (host-int inputs, KV-cache state) is
    refused at render, naming it."""
    from tttgen.generate import render_plan

    model = render_plan(plan(Request("boltz_transition", "p150x4")))["model.py"]
    assert "ttnn.ShardTensorToMesh(device, dim=0)" in model and "ttnn.open_mesh_device(" in model
    files = render_plan(plan(Request("boltz_diffusion_transformer", "p150x4")))
    assert re.search(r"mesh_mapper=self\.design_mapper,?\s*\)\s*for x in bias\s*\]", files["model.py"])
    assert 'DESIGN_DIMS = {\n    "bias": 1,\n}' in files["configs.py"]
    with pytest.raises(UnsupportedTarget, match="do not carry .*input slot is a host int"):
        render_plan(plan(Request("pi0", "p150x4")))


def test_dram_overflow_says_by_how_much():
    with pytest.raises(DoesNotFit, match=r"exceed the device DRAM of 12.00 GiB by \d+\.\d\d GiB"):
        plan(Request("llama-3.1-8b", "n150", None, (("max_seq_len", 8192),)))


def test_dram_budget_hint():
    with pytest.raises(DoesNotFit, match="exceed the DRAM budget"):
        plan(Request("llama-3.2-1b", "n150", None, (("dram_budget", 2**30),)))


def test_no_fit_check_records_problems():
    p = plan(Request("llama-3.1-70b", "p150", None, (("fit_check", False),)))
    problems = p.graph.facts["problems"]
    assert any("exceed" in x for x in problems)
    assert any("at most 32" in x for x in problems)


def test_precision_changes_weight_dtypes():
    acc = cached_plan("llama-3.2-1b", "n150").graph
    perf = cached_plan("llama-3.2-1b", "n150", (("precision", "performance"),)).graph
    assert acc.weight("w1").decisions["dtype"] == "bfloat8_b"
    assert perf.weight("w1").decisions["dtype"] == "bfloat4_b"
    assert perf.op("decode.w1").decisions["kernel"].math_fidelity == "LoFi"


def test_override_fidelity_and_weight_memory():
    flags = (("overrides", {"decode.wqkv": {"fidelity": "HiFi4"}, "wo": {"sharding": "interleaved", "memory": "DDR"}}),)
    graph = plan(Request("llama-3.2-1b", "n150", None, flags)).graph
    assert graph.op("decode.wqkv").decisions["kernel"].math_fidelity == "HiFi4"
    assert graph.op("prefill_128.wqkv").decisions["kernel"].math_fidelity == "HiFi2"
    assert graph.weight("wo").decisions["placement"].layout == "INTERLEAVED"
    assert graph.op("decode.wo").decisions["program"].type != "MatmulMultiCoreReuseMultiCastDRAMShardedProgramConfig"


def test_prefill_lengths_create_modes_and_chunks():
    graph = plan(Request("llama-3.1-8b", "p150", None, (("prefill_lens", [128, 4096]), ("max_seq_len", 4096)))).graph
    assert graph.mode_keys() == ["prefill_128", "prefill_4096", "decode"]
    w1 = graph.op("prefill_4096.w1").decisions["shape"]
    assert w1.m * w1.batch == 4096 and w1.m <= graph.device.prefill_len_cutoff


def test_decode_uses_dram_sharded_weights():
    graph = cached_plan("llama-3.1-8b", "n150").graph
    for name in ("wqkv", "wo", "w1", "w2", "w3"):
        assert graph.op(f"decode.{name}").decisions["program"].type == "MatmulMultiCoreReuseMultiCastDRAMShardedProgramConfig"


@pytest.mark.parametrize("device", ["n150", "p150"])
def test_prefill_row_chunks_follow_the_device_profile(device):
    # tt_transformers reshapes long prefills into row chunks: QKV 2048, WO 1024, MLP prefill_len_cutoff
    graph = plan(Request("llama-3.2-1b", device, None, (("prefill_lens", [4096]), ("max_seq_len", 4096)))).graph
    d = graph.device
    rows = {name: graph.op(f"prefill_4096.{name}").decisions["shape"] for name in ("wqkv", "wo", "w1", "w2")}
    assert all(s.m * s.batch == 4096 for s in rows.values())
    assert rows["wqkv"].m <= d.max_qkv_prefill_rows and rows["wo"].m <= d.wo_prefill_rows
    assert rows["w1"].m <= d.prefill_len_cutoff and rows["w2"].m <= d.prefill_len_cutoff



LLAMA_OP_NAMES = ("wqkv", "wo", "w1", "w2", "w3", "lm_head", "swiglu", "wqkv_out")


def test_passes_name_no_llama_ops():
    # issue 8: passes decide by op kind, weight role and graph structure, so graphs expanded from module
    # descriptions (any op names) get the same decisions; a quoted Llama op name in a pass is a special case.
    import re
    from pathlib import Path

    import tttgen.passes

    quoted = re.compile(r"""["'](%s)["']""" % "|".join(LLAMA_OP_NAMES))
    found = [
        f"{path.name}:{n}: {line.strip()}"
        for path in sorted(Path(tttgen.passes.__file__).parent.glob("*.py"))
        for n, line in enumerate(path.read_text().splitlines(), 1)
        if quoted.search(line)
    ]
    assert not found, found


def _new_name(name: str) -> str:
    return f"x{len(name)}_{name[::-1]}"


def _renamed(graph):
    """The same graph with every op and weight renamed (references in facts follow)."""
    new = _new_name
    refs = ("src", "dst", "shares_input_with")
    ops = [
        replace(
            op,
            name=new(op.name),
            weight=new(op.weight) if op.weight else None,
            facts=frozen({k: new(v) if k in refs and v else v for k, v in op.facts.items()}),
            # the builder's dataflow names producer ops too (the fusion pass follows it)
            dataflow=(
                frozen({**op.dataflow, "producers": {p: new(n) for p, n in op.dataflow.get("producers", {}).items()}})
                if op.dataflow
                else op.dataflow
            ),
        )
        for op in graph.ops
    ]
    return graph.with_ops(ops).with_weights(replace(w, name=new(w.name)) for w in graph.weights)


def test_decisions_do_not_depend_on_op_names():
    model, _ = load_model("llama-3.2-1b")
    device, _ = load_device("n150")
    graph = build_graph(model, device, Hints())
    want, got = run_pipeline(graph), run_pipeline(_renamed(graph))
    assert len(want.ops) == len(got.ops)
    # texts (jit block names, reasons) name ops: map the new names back before comparing
    back = sorted({(_new_name(op.name), op.name) for op in graph.ops}, key=lambda p: -len(p[0]))

    def unname(value):
        for new, old in back if isinstance(value, str) else ():
            value = value.replace(new, old)
        return value

    for a, b in zip(want.ops, got.ops):
        assert dict(a.decisions) == {k: unname(v) for k, v in b.decisions.items()}, a.key
    assert [dict(w.decisions) for w in want.weights] == [dict(w.decisions) for w in got.weights]
