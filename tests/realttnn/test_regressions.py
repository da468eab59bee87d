"""Ops the real ttnn 0.81.1 rejected in earlier committed packages, now judged by ttnn itself.

- n150: every 1D-multicast `linear` reading a DRAM width-sharded weight (Prefill128 wqkv, every lm_head):
  "DFB 'in1' borrows memory from TensorParameter 'in1', but its TensorSpec is not L1-resident".
- p150: `nlp_concat_heads_decode` on a height-sharded grid of two core ranges ("bad optional access").
- ttnn-jit's default output (maximally L1 block-sharded) fed to the next matmul.
"""

import pytest

from tttgen.cli_cost import generator_pick, kernel_config, weight_placement
from tttgen.ir.configs import DRAM_INTERLEAVED, MATMUL_1D, CoreRanges, MatmulConfig, MatmulShape, MemoryPlacement
from tttgen.checking.realttnn.oracle import MatmulCase, judge_matmuls, judge_sources
from tttgen.render import literals as L
from tttgen.inputs.load import load_device

DTYPES = ("bfloat16", "bfloat8_b", "bfloat16")

# (m, k, n, weight storage): the shapes of the rejected ops, and their neighbours.
PROBLEMS = [
    (128, 2048, 3072, "sharded"),  # 1B prefill-128 wqkv reading the decode layout of the weight
    (128, 4096, 6144, "sharded"),  # 8B prefill-128 wqkv
    (32, 2048, 128256, "dram"),  # 1B decode lm_head (no DRAM-sharded config fits L1 whole)
    (32, 4096, 128256, "dram"),  # 8B decode lm_head
    (32, 2048, 3072, "sharded"),  # 1B decode wqkv
    (1024, 2048, 8192, "dram"),  # 1B prefill-1024 w1
    (32, 8192, 2048, "sharded"),  # 1B decode w2
]


# Activation/weight/output dtypes and fp32 accumulation: prefill L1 overflowed with a bfloat8_b activation and
# fp32 accumulation (the output CB takes the output dtype's tile, plus a separate fp32 intermediate buffer).
PRECISIONS = [
    (("bfloat16", "bfloat8_b", "bfloat16"), True),
    (("bfloat8_b", "bfloat8_b", "bfloat16"), True),
    (("bfloat16", "bfloat4_b", "bfloat16"), False),
]


def chosen_case(device, m, k, n, storage, dtypes=DTYPES, fp32_acc=True):
    kernel = kernel_config("HiFi2", fp32_dest_acc_en=fp32_acc)
    in1 = weight_placement(storage, k, n, device)
    pick = generator_pick(device, MatmulShape(m, k, n), kernel, dtypes, in1, decode=m <= 32 and storage == "sharded")
    assert pick.best is not None, (m, k, n, storage, pick.pruned)
    extra = pick.best.extra
    case = MatmulCase(
        pick.shape,
        pick.best.config,
        kernel,
        dtypes,
        extra.get("in0", DRAM_INTERLEAVED),
        in1,
        extra.get("out", DRAM_INTERLEAVED),
    )
    return case, extra["l1"]


@pytest.mark.parametrize("precision", range(len(PRECISIONS)))
@pytest.mark.parametrize("device_name", ["n150", "p150"])
def test_generator_choices_are_accepted_by_ttnn_and_claim_enough_l1(real_ttnn, device_name, precision):
    dtypes, fp32_acc = PRECISIONS[precision]
    device, _ = load_device(device_name)
    cases = [chosen_case(device, *p, dtypes=dtypes, fp32_acc=fp32_acc) for p in PROBLEMS]
    verdicts = judge_matmuls(device, [c for c, _ in cases])
    for problem, (case, claim), verdict in zip(PROBLEMS, cases, verdicts):
        where = f"{device_name} {problem} {dtypes} {case.program.type}"
        assert verdict.accepted, f"{where}: {verdict.message}"
        assert claim >= verdict.l1_total, f"{where}: tttgen claims {claim} B/core, ttnn reports {verdict.l1_total}"


def test_1d_multicast_with_dram_sharded_weight_is_rejected_by_ttnn(real_ttnn):
    device, _ = load_device("n150")
    k, n = 2048, 3072
    in1 = weight_placement("sharded", k, n, device)
    program = MatmulConfig(
        MATMUL_1D,
        in0_block_w=2,
        per_core_M=4,
        per_core_N=2,
        out_subblock_h=1,
        out_subblock_w=2,
        grid=(8, 6),
        fuse_batch=True,
        mcast_in0=True,
    )
    case = MatmulCase(
        MatmulShape(128, k, n), program, kernel_config("HiFi2"), DTYPES, DRAM_INTERLEAVED, in1, DRAM_INTERLEAVED
    )
    [sharded] = judge_matmuls(device, [case])
    [interleaved] = judge_matmuls(
        device,
        [MatmulCase(case.shape, program, case.kernel, DTYPES, DRAM_INTERLEAVED, DRAM_INTERLEAVED, DRAM_INTERLEAVED)],
    )
    assert not sharded.accepted and "L1-resident" in sharded.message
    assert interleaved.accepted, interleaved.message


def _concat_heads_case(grid: CoreRanges, users=32, heads=32, head_dim=64):
    placement = MemoryPlacement("L1", "HEIGHT_SHARDED", (32, head_dim), grid, "ROW_MAJOR")
    return {
        "op": "ttnn.experimental.nlp_concat_heads_decode",
        "operands": [{"shape": [1, users, 32, head_dim], "dtype": "ttnn.bfloat16", "memory": L.memory(placement)}],
        "kwargs": {"num_heads": str(heads)},
    }


def test_concat_heads_decode_needs_a_rectangular_grid(real_ttnn):
    device, _ = load_device("p150")
    two_ranges = CoreRanges((((0, 0), (10, 1)), ((0, 2), (9, 2))))
    rectangle = CoreRanges((((0, 0), (7, 3)),))
    bad, good = judge_sources(device, [_concat_heads_case(two_ranges), _concat_heads_case(rectangle)])
    assert not bad.accepted
    assert good.accepted, good.message


def _linear_after(memory_source: str):
    program = MatmulConfig(
        "MatmulMultiCoreReuseMultiCastProgramConfig",
        in0_block_w=4,
        per_core_M=4,
        per_core_N=8,
        out_subblock_h=1,
        out_subblock_w=4,
        grid=(8, 8),
        transpose_mcast=False,
        fuse_batch=False,
    )
    return {
        "op": "ttnn.linear",
        "operands": [
            {"shape": [1, 1, 1024, 8192], "dtype": "ttnn.bfloat16", "memory": memory_source},
            {"shape": [1, 1, 8192, 2048], "dtype": "ttnn.bfloat8_b", "memory": "ttnn.DRAM_MEMORY_CONFIG"},
        ],
        "kwargs": {
            "program_config": L.matmul_program(program),
            "memory_config": "ttnn.DRAM_MEMORY_CONFIG",
            "dtype": "ttnn.bfloat16",
        },
    }


def test_jit_default_output_is_not_what_the_prefill_matmul_reads(real_ttnn):
    """ttnn-jit returns a maximally L1 block-sharded tensor unless memory_config is set; the 2D prefill w2 config
    that reads the SwiGLU output from DRAM rejects that layout, so every JIT block must declare its output."""
    device, _ = load_device("n150")
    block_sharded = (
        "ttnn.create_sharded_memory_config([1, 1, 1024, 8192], ttnn.CoreGrid(x=8, y=8), ttnn.ShardStrategy.BLOCK)"
    )
    default, declared = judge_sources(device, [_linear_after(block_sharded), _linear_after("ttnn.DRAM_MEMORY_CONFIG")])
    assert not default.accepted
    assert declared.accepted, declared.message


@pytest.mark.parametrize("device_name", ["n150", "p150"])
def test_l1_interleaved_output_is_claimed(real_ttnn, device_name):
    """An L1-interleaved matmul output (a pinned override can ask for one) is in tttgen's L1 claim: its tiles
    dealt over one L1 bank per core."""
    from tttgen.ir.configs import L1_INTERLEAVED
    from tttgen.rules.l1 import matmul_l1_bytes
    from tttgen.rules.matmul import MatmulCase as RulesCase

    device, _ = load_device(device_name)
    kernel = kernel_config("HiFi2", fp32_dest_acc_en=True)
    for m, k, n in [(128, 256, 512), (1024, 2048, 2048), (256, 512, 4096)]:
        pick = generator_pick(device, MatmulShape(m, k, n), kernel, DTYPES, DRAM_INTERLEAVED, decode=False)
        case = MatmulCase(
            pick.shape, pick.best.config, kernel, DTYPES, DRAM_INTERLEAVED, DRAM_INTERLEAVED, L1_INTERLEAVED
        )
        [verdict] = judge_matmuls(device, [case])
        claim = matmul_l1_bytes(
            RulesCase(device, case.shape, case.program, kernel, case.in0, case.in1, case.out, *DTYPES)
        )
        assert verdict.accepted and claim >= verdict.l1_total, (m, k, n, claim, verdict.l1_total)


def test_jit_block_without_its_memory_config_is_rejected_by_the_matmul_reading_it(real_ttnn, monkeypatch):
    """A ttnn-jit block writes ttnn-jit's default (maximal L1 block sharding) unless its decorator names the
    consumer's placement; w2's 2D program config then cannot read it. The emulator leaves program-config legality
    to ttnn, so this is ttnn's judgment."""
    import importlib

    from tttgen.generate import Request, plan, render_plan
    from tttgen.checking.realttnn.check import verdict_for_rendered

    fusion = importlib.import_module("tttgen.passes.fusion")
    real = fusion.form_costs

    def jit_cheaper(chain, graph, block):
        c = real(chain, graph, block)
        return dict(c, jit=c["jit"] - 1.0)

    monkeypatch.setattr(fusion, "form_costs", jit_cheaper)
    p = plan(
        Request("tests/data/tiny-llama/config.json", "n150", None, (("max_seq_len", 256), ("prefill_lens", [128])))
    )
    files = render_plan(p)
    assert verdict_for_rendered(files, p.out_subdir, p.graph).ok  # with the decorator's memory_config: accepted
    edited = files["model.py"].replace("memory_config=C.SWIGLU_PREFILL_JIT_MEMORY,\n", "")
    assert edited != files["model.py"]
    verdict = verdict_for_rendered({**files, "model.py": edited}, p.out_subdir, p.graph)
    assert not verdict.ok and any("prefill_128.w2" in f and "in0_block_w" in f for f in verdict.findings)
