"""Cost model, `tttgen cost matmul` (the generator's config search) and ttnn auto-config:
hand-computed small cases and the calibration goals."""

from __future__ import annotations

import json
import sys
from dataclasses import replace
from pathlib import Path

import pytest
from click.testing import CliRunner

from tttgen.cli import cli
from tttgen.cost import Coeffs, estimate_matmul, estimate_op, ttnn_auto_config, ttnn_cb_estimate
from tttgen.cost.calibration import CALIBRATION_PATH, load_calibration
from tttgen.cost.l1 import interm_tile_bytes
from tttgen.cost.model import OP_KINDS
from tttgen.cost.ttnn_auto import matmul_subblock_params
from tttgen.errors import DoesNotFit, InputError
from tttgen.ir.configs import (
    DRAM_INTERLEAVED,
    MATMUL_1D,
    MATMUL_2D,
    MATMUL_DRAM_SHARDED,
    ComputeKernelConfig,
    CoreRanges,
    MatmulConfig,
    MatmulShape,
    MemoryPlacement,
)
from tttgen.passes.matmul_program import search
from tttgen.passes.memory import dram_sharded_weight
from tttgen.rules.l1 import matmul_l1_bytes
from tttgen.rules.matmul import MatmulCase, matmul_violations
from tttgen.inputs.device import FIDELITIES
from tttgen.inputs.load import load_device

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "reference" / "data"

N150 = load_device("n150")[0]
P150 = load_device("p150")[0]
P150_LEGACY = load_device("p150-legacy-fw")[0]
P100 = load_device("p100")[0]

# Coefficients that switch every fitted effect off, so single terms can be checked by hand.
BARE = Coeffs(
    tile_kblock_cyc=0.0,
    unpack_Bpc=1e12,
    noc_Bpc=1e12,
    reader_Bpc=1e12,
    dram_eff=1.0,
    overlap=0.0,
    dram_sharded_overlap=0.0,
    fixed_ns=0.0,
    kblock_ns=0.0,
    mcast_dest_ns=0.0,
    op_fixed_ns=0.0,
)


def one_tile_2d() -> MatmulConfig:
    return MatmulConfig(
        type=MATMUL_2D,
        in0_block_w=1,
        per_core_M=1,
        per_core_N=1,
        out_subblock_h=1,
        out_subblock_w=1,
        out_block_h=1,
        out_block_w=1,
        grid=(1, 1),
        transpose_mcast=False,
        fuse_batch=True,
    )


# --------------------------------------------------------------------------- cost terms


@pytest.mark.parametrize("device", [N150, P150], ids=["n150", "p150"])
@pytest.mark.parametrize("fidelity", FIDELITIES)
def test_compute_of_one_tile_product_is_cycles_per_tile_over_clock(device, fidelity):
    cost_ = estimate_matmul(
        device,
        MatmulShape(32, 32, 32),
        one_tile_2d(),
        fidelity=fidelity,
        in0_storage="L1",
        in1_storage="l1",
        out_storage="L1",
        coeffs=BARE,
    )
    assert cost_.compute_ns == pytest.approx(device.cycles_per_tile[fidelity] / device.clock_ghz)
    assert cost_.active_cores == 1


def test_compute_scales_with_tile_products_of_the_busiest_core():
    # 2D on 2x2 cores, per core 2x3 output tiles, K = 4 tiles -> 24 tile products per core
    cfg = replace(one_tile_2d(), grid=(2, 2), per_core_M=2, per_core_N=3, out_block_h=2, out_block_w=3)
    cost_ = estimate_matmul(N150, MatmulShape(128, 128, 192), cfg, fidelity="HiFi2", coeffs=BARE)
    assert cost_.active_cores == 4
    assert cost_.compute_ns == pytest.approx(24 * 32 / N150.clock_ghz)


def test_dram_term_is_bytes_over_bandwidth():
    # interleaved reads of in0 (2x4 tiles) and in1 (4x2 tiles); single out block: its write is the
    # tail after the math kernel, so it is counted in dram_bytes but not in the kernel-time term
    cfg = replace(one_tile_2d(), per_core_M=2, per_core_N=2, in0_block_w=4, out_block_h=2, out_block_w=2)
    shape = MatmulShape(64, 128, 64)
    cost_ = estimate_matmul(N150, shape, cfg, in0_dtype="bfloat8_b", fidelity="LoFi", coeffs=BARE)
    read = (8 + 8) * 1088
    assert cost_.dram_bytes == read + 4 * 1088
    assert cost_.dram_ns == pytest.approx(read / N150.dram.interleaved_gbps)
    # memory-bound element-wise op: every byte read and written goes through DRAM
    op = estimate_op(N150, "eltwise", elements=1024 * 640, inputs=2, coeffs=BARE)
    assert op.dram_bytes == 640 * 3 * 2048
    assert op.dram_ns == pytest.approx(640 * 3 * 2048 / N150.dram.interleaved_gbps)
    assert op.binding == "dram"


@pytest.mark.parametrize("tile_h,expected_rows", [(1, 8), (4, 8), (8, 8), (16, 16), (32, 32)])
def test_matrix_engine_processes_at_least_eight_rows(tile_h, expected_rows):
    cost_ = estimate_matmul(
        N150, MatmulShape(32, 32, 32), one_tile_2d(), fidelity="LoFi", in0_tile_h=tile_h, coeffs=BARE
    )
    assert cost_.compute_ns == pytest.approx(16 * expected_rows / 32 / N150.clock_ghz)


def test_decode_rows_cost_a_whole_tile():
    full = estimate_matmul(N150, MatmulShape(32, 32, 32), one_tile_2d(), coeffs=BARE)
    one_row = estimate_matmul(N150, MatmulShape(1, 32, 32), one_tile_2d(), coeffs=BARE)
    assert one_row.compute_ns == full.compute_ns


def test_binding_moves_from_dram_to_compute_as_m_grows():
    bindings = []
    for m in (32, 128, 1024, 4096):
        doc = cost_json(
            "--device", "n150", "--m", m, "--k", 4096, "--n", 4096, "--dtype", "bfloat8_b", "--fidelity", "HiFi4"
        )
        bindings.append(doc["binding"])
    assert bindings[0] == "dram"
    assert bindings[-1] == "compute"


@pytest.mark.parametrize("device,banks", [(N150, 12), (P150, 8), (P100, 7)], ids=["n150", "p150", "p100"])
def test_dram_sharded_computes_on_one_core_per_bank(device, banks):
    shape = MatmulShape(32, 4096, 6144)  # Nt = 192
    cfg = MatmulConfig(type=MATMUL_DRAM_SHARDED, in0_block_w=4, per_core_M=1, per_core_N=6)
    cost_ = estimate_matmul(
        device,
        shape,
        cfg,
        in1_dtype="bfloat8_b",
        fidelity="LoFi",
        in0_storage="sharded",
        in1_storage="dram_sharded",
        out_storage="sharded",
        coeffs=BARE,
    )
    per_bank = -(-192 // banks)
    assert cost_.active_cores == -(-192 // per_bank)
    assert cost_.compute_ns == pytest.approx(per_bank * 128 * 16 / device.clock_ghz)
    weight = cost_.active_cores * per_bank * 128 * 1088
    assert cost_.dram_bytes == weight
    assert cost_.dram_ns == pytest.approx(weight / device.dram.sharded_gbps)


def test_more_dram_banks_read_the_weight_faster():
    shape = MatmulShape(32, 4096, 14336)
    kw = dict(
        in1_dtype="bfloat4_b", fidelity="LoFi", in0_storage="sharded", in1_storage="dram_sharded", out_storage="sharded"
    )
    cfg = MatmulConfig(type=MATMUL_DRAM_SHARDED, in0_block_w=4, per_core_M=1, per_core_N=14)
    assert (
        estimate_matmul(N150, shape, cfg, **kw).compute_ns
        < estimate_matmul(replace_banks(N150, 6), shape, cfg, **kw).compute_ns
    )


def replace_banks(device, banks):
    return device.model_copy(update={"dram": device.dram.model_copy(update={"banks": banks})})


def test_traced_overhead_is_smaller_than_untraced():
    shape = MatmulShape(256, 256, 256)
    cfg = ttnn_auto_config(N150, shape)
    traced = estimate_matmul(N150, shape, cfg, traced=True)
    untraced = estimate_matmul(N150, shape, cfg, traced=False)
    assert traced.overhead_ns < untraced.overhead_ns
    assert traced.total_ns < untraced.total_ns
    assert traced.device_ns == untraced.device_ns
    assert traced.total_ns == pytest.approx(traced.device_ns + N150.op_gap.traced_ns)


def test_small_subblocks_cost_more_compute():
    shape = MatmulShape(256, 1024, 256)
    base = replace(one_tile_2d(), per_core_M=8, per_core_N=8, in0_block_w=8, out_block_h=8, out_block_w=8)
    big = estimate_matmul(N150, shape, replace(base, out_subblock_h=2, out_subblock_w=4), fidelity="LoFi")
    small = estimate_matmul(N150, shape, replace(base, out_subblock_h=1, out_subblock_w=1), fidelity="LoFi")
    assert small.compute_ns > big.compute_ns


def test_narrow_in0_block_costs_more_than_wide():
    shape = MatmulShape(256, 2048, 256)
    base = replace(
        one_tile_2d(),
        grid=(1, 1),
        per_core_M=8,
        per_core_N=8,
        out_block_h=8,
        out_block_w=8,
        out_subblock_h=2,
        out_subblock_w=4,
    )
    wide = estimate_matmul(N150, shape, replace(base, in0_block_w=8), in0_storage="L1", in1_storage="l1")
    narrow = estimate_matmul(N150, shape, replace(base, in0_block_w=1), in0_storage="L1", in1_storage="l1")
    assert narrow.device_ns > wide.device_ns


def test_estimates_are_deterministic():
    shape = MatmulShape(1000, 3000, 5000)
    cfg = ttnn_auto_config(P150, shape)
    assert estimate_matmul(P150, shape, cfg) == estimate_matmul(P150, shape, cfg)


# --------------------------------------------------------------------------- other ops


@pytest.mark.parametrize(
    "kind,facts",
    [
        ("rms_norm", dict(rows=32, dim=4096, storage="sharded", cores=32)),
        ("rms_norm", dict(rows=2048, dim=4096)),
        ("sdpa_prefill", dict(heads=32, kv_heads=8, seq=2048, head_dim=128)),
        ("sdpa_decode", dict(batch=32, heads=32, kv_heads=8, kv_len=4096, head_dim=128)),
        ("eltwise", dict(elements=32 * 14336, op="mul", storage="sharded", cores=64)),
        ("reshard", dict(bytes=2 * 32 * 4096 * 2, src="sharded", dst="sharded", cores=32)),
        ("typecast", dict(bytes_in=2048 * 1024 * 2, bytes_out=2048 * 1024 * 1.0625)),
        ("concat_heads", dict(bytes=2 * 32 * 4096 * 2, src="l1")),
        ("create_heads", dict(bytes=2 * 32 * 6144 * 2, src="l1")),
        ("rotary", dict(bytes=2 * 32 * 32 * 128 * 2, src="sharded")),
        ("cache_update", dict(bytes=2 * 32 * 8 * 128 * 2)),
        ("cache_fill", dict(bytes=2 * 2048 * 8 * 128 * 2)),
        ("embedding", dict(bytes_in=32 * 4096 * 2, bytes_out=32 * 4096 * 2)),
    ],
)
def test_every_op_kind_has_an_estimate(kind, facts):
    c = estimate_op(N150, kind, **facts)
    assert kind in OP_KINDS
    assert c.device_ns >= load_calibration().coeffs("wormhole_b0").op_fixed_ns
    assert c.total_ns > c.device_ns
    assert c.binding in ("compute", "dram", "noc", "overhead")


def test_sdpa_decode_reads_the_kv_cache_once():
    c = estimate_op(
        N150,
        "sdpa_decode",
        batch=32,
        heads=32,
        kv_heads=8,
        kv_len=8192,
        head_dim=128,
        kv_dtype="bfloat8_b",
        coeffs=BARE,
    )
    kv = 2 * 32 * 8 * 8192 * 128 * 1088 / 1024
    assert c.dram_bytes == int(kv + 2 * 32 * 32 * 128 * 2)
    assert c.binding == "dram"


def test_unknown_op_facts_are_rejected():
    with pytest.raises(ValueError, match="unknown facts"):
        estimate_op(N150, "eltwise", elements=1024, colour="red")
    with pytest.raises(ValueError, match="unknown op kind"):
        estimate_op(N150, "softmax", elements=1024)


# --------------------------------------------------------------------------- tttgen cost matmul


def invoke_cost(*args):
    return CliRunner().invoke(cli, ["cost", "matmul", *map(str, args)])


def cost_json(*args) -> dict:
    result = invoke_cost(*args, "--json")
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def _placement(doc: dict) -> MemoryPlacement:
    grid = doc["grid"]
    return MemoryPlacement(
        doc["buffer"],
        doc["layout"],
        tuple(doc["shard_shape"]) if doc["shard_shape"] else None,
        CoreRanges(tuple((tuple(a), tuple(b)) for a, b in grid)) if grid else None,
        doc["orientation"],
        doc["infer_shard"],
    )


def _config(doc: dict) -> MatmulConfig:
    fields = {k: v for k, v in doc.items() if k != "compute_with_storage_grid_size"}
    grid = doc.get("compute_with_storage_grid_size")
    return MatmulConfig(**fields, grid=tuple(grid) if grid else None)


def printed_case(doc: dict, device) -> MatmulCase:
    """The MatmulCase the printed config, placements, kernel and dtypes describe."""
    per_call = doc["shape_per_call"]
    placements = doc["placements"]
    return MatmulCase(
        device,
        MatmulShape(per_call["m"], per_call["k"], per_call["n"], per_call["batch"]),
        _config(doc["program_config"]),
        ComputeKernelConfig(**doc["kernel"]),
        _placement(placements["in0"]),
        _placement(placements["in1"]),
        _placement(placements["out"]),
        doc["dtypes"]["in0"],
        doc["dtypes"]["in1"],
        doc["dtypes"]["out"],
    )


DECODE_ARGS = ("--device", "n150", "--m", 32, "--k", 4096, "--n", 6144, "--dtype", "bfloat8_b", "--storage", "sharded")
SQUARE_ARGS = ("--device", "n150", "--m", 2048, "--k", 2048, "--n", 2048, "--dtype", "bf16")
WIDE_ARGS = ("--device", "n150", "--m", 32, "--k", 256, "--n", 2048, "--dtype", "bf16")


def test_cost_matmul_decode_sharded_is_dram_sharded():
    # Kt = 128, Nt = 192: the activation is width-sharded over cores that divide Kt, the weight is
    # read once from its DRAM bank at the profile's sharded bandwidth, so the op is DRAM-bound.
    doc = cost_json(*DECODE_ARGS)
    cfg = doc["program_config"]
    assert doc["mode"] == "decode"
    assert cfg["type"] == MATMUL_DRAM_SHARDED and cfg["per_core_M"] == 1
    in0, out = doc["placements"]["in0"], doc["placements"]["out"]
    assert (in0["buffer"], in0["layout"], out["buffer"], out["layout"]) == (
        "L1",
        "WIDTH_SHARDED",
        "L1",
        "WIDTH_SHARDED",
    )
    assert doc["placements"]["in1"]["buffer"] == "DRAM" and doc["placements"]["in1"]["layout"] == "WIDTH_SHARDED"
    cores = 192 // cfg["per_core_N"]
    assert cores * cfg["per_core_N"] == 192 and in0["shard_shape"] == [32, 4096 // cores]
    assert (128 // cores) % cfg["in0_block_w"] == 0
    weight = 128 * 192 * 1088  # bfloat8_b tiles of the weight, each read once
    assert doc["dram_bytes"] == weight
    assert doc["terms"]["dram_ns"] == pytest.approx(weight / N150.dram.sharded_gbps, abs=0.1)
    assert doc["binding"] == "dram"


def test_cost_matmul_big_square_prefill_is_2d_on_the_full_grid():
    # Mt = Nt = 64 over the 8x8 grid: 8x8 tiles per core; in0_block_w 16 (the search's largest)
    # needs in0 + in1 CBs 2 * 2 * 8*16 tiles and one CB of 64 bf16 tiles the output and the bf16
    # partials share (same format) = 1.125 MiB.
    doc = cost_json(*SQUARE_ARGS)
    cfg = doc["program_config"]
    assert doc["mode"] == "prefill" and doc["shape_per_call"]["batch"] == 1
    assert cfg["type"] == MATMUL_2D
    assert cfg["compute_with_storage_grid_size"] == [8, 8]
    assert (cfg["per_core_M"], cfg["per_core_N"], cfg["in0_block_w"]) == (8, 8, 16)
    assert doc["active_cores"] == 64 and doc["binding"] == "compute"
    assert doc["l1_bytes"] == 2 * 2 * 8 * 16 * 2048 + 64 * 2048
    assert all(p["buffer"] == "DRAM" and p["layout"] == "INTERLEAVED" for p in doc["placements"].values())


def test_cost_matmul_narrow_wide_shape_is_1d_mcast_in0():
    # one tile row (Mt = 1), Nt = 64: every core gets one output tile, in0 is multicast to all
    doc = cost_json(*WIDE_ARGS)
    cfg = doc["program_config"]
    assert cfg["type"] == MATMUL_1D and cfg["mcast_in0"] is True
    assert cfg["per_core_M"] == 1
    gx, gy = cfg["compute_with_storage_grid_size"]
    assert -(-64 // cfg["per_core_N"]) <= gx * gy
    assert 8 % cfg["in0_block_w"] == 0
    assert doc["binding"] == "dram"


@pytest.mark.parametrize("args", [DECODE_ARGS, SQUARE_ARGS, WIDE_ARGS], ids=["decode", "square", "wide"])
def test_cost_matmul_prints_a_legal_config(args):
    doc = cost_json(*args)
    case = printed_case(doc, N150)
    assert matmul_violations(case) == []
    assert doc["l1_bytes"] == matmul_l1_bytes(case) <= N150.usable_l1_bytes


@pytest.mark.parametrize("args", [DECODE_ARGS, SQUARE_ARGS, WIDE_ARGS], ids=["decode", "square", "wide"])
def test_cost_matmul_is_the_generators_search(args):
    doc = cost_json(*args)
    case = printed_case(doc, N150)
    decode = doc["mode"] == "decode"
    best, _, _ = search(
        N150, case.shape, case.kernel, (case.in0_dtype, case.in1_dtype, case.out_dtype), case.in1, decode
    )
    assert best.config == case.config
    assert (best.extra["in0"], best.extra["out"]) == (case.in0, case.out)
    assert doc["device_time_ns"] == round(best.extra["cost"].device_ns, 1)
    assert doc["binding"] == best.extra["cost"].binding
    expected_in1 = dram_sharded_weight(4096, 6144, N150) if decode else DRAM_INTERLEAVED
    assert case.in1 == expected_in1


def test_cost_matmul_halves_rows_when_nothing_fits_like_the_generator():
    # At M = 2048 every 2D per-core block is >= 8 x 112 tiles: the bf16 output CB alone is 1.75 MiB.
    doc = cost_json("--device", "n150", "--m", 2048, "--k", 4096, "--n", 28672, "--dtype", "bfloat8_b")
    assert (doc["shape_per_call"]["m"], doc["shape_per_call"]["batch"]) == (1024, 2)
    assert doc["pruned"] and any("halved" in note for note in doc["notes"])
    assert matmul_violations(printed_case(doc, N150)) == []


def test_cost_matmul_is_deterministic():
    for args in (DECODE_ARGS, SQUARE_ARGS):
        first = invoke_cost(*args, "--json").output
        assert first == invoke_cost(*args, "--json").output
        text = invoke_cost(*args).output
        assert text == invoke_cost(*args).output


def test_cost_matmul_json_keys_and_ttnn_default():
    doc = cost_json(*SQUARE_ARGS)
    for key in ("device_time_ns", "program_config", "binding", "terms", "ttnn_default"):
        assert key in doc
    assert doc["device_time_ns"] > 0
    assert doc["program_config"]["type"].startswith("MatmulMultiCore")
    assert "in0_block_w" in doc["program_config"]
    assert doc["binding"] in ("compute", "dram", "noc", "overhead")
    assert set(doc["terms"]) == {"compute_ns", "dram_ns", "noc_ns", "overhead_ns"}
    shape = MatmulShape(2048, 2048, 2048)
    auto = ttnn_auto_config(N150, shape)
    assert doc["ttnn_default"]["program_config"] == {"type": auto.type, **auto.fields()}
    assert doc["ttnn_default"]["device_time_ns"] == round(estimate_matmul(N150, shape, auto).device_ns, 1)


def test_cost_matmul_text():
    result = invoke_cost(*DECODE_ARGS)
    assert result.exit_code == 0, result.output
    assert "config: ttnn.MatmulMultiCoreReuseMultiCastDRAMShardedProgramConfig(" in result.output
    assert "predicted device time" in result.output and "ttnn default" in result.output


def test_cost_matmul_errors():
    ragged = invoke_cost("--device", "n150", "--m", 33, "--k", 256, "--n", 2048)
    assert isinstance(ragged.exception, InputError) and ragged.exception.exit_code == 2
    assert "not a multiple of 32" in ragged.exception.render()
    nothing = invoke_cost("--device", "n150", "--m", 32, "--k", 100, "--n", 2048)
    assert isinstance(nothing.exception, DoesNotFit) and nothing.exception.exit_code == 2
    assert "no legal" in nothing.exception.render() and "r01_tile_aligned" in nothing.exception.render()
    bad = invoke_cost("--device", "nope", "--m", 32, "--k", 32, "--n", 32)
    assert isinstance(bad.exception, InputError) and "unknown device" in bad.exception.render()


def test_cost_matmul_exit_code_through_main(monkeypatch, capsys):
    from tttgen.cli import main

    monkeypatch.setattr(
        sys, "argv", ["tttgen", "cost", "matmul", "--device", "n150", "--m", "33", "--k", "32", "--n", "32"]
    )
    with pytest.raises(SystemExit) as exit_info:
        main()
    assert exit_info.value.code == 2
    assert "not a multiple of 32" in capsys.readouterr().err


# --------------------------------------------------------------------------- ttnn auto-config


def test_auto_config_short_m_goes_1d_mcast_in0():
    # Mt = 16 fits one 16x16 block row: single-row block grid -> 1D mcast_in0 on the device grid
    cfg = ttnn_auto_config(N150, MatmulShape(512, 1024, 1024))
    assert (cfg.type, cfg.mcast_in0, cfg.grid) == (MATMUL_1D, True, (8, 8))
    assert (cfg.per_core_M, cfg.per_core_N, cfg.in0_block_w) == (16, 1, 2)
    assert (cfg.out_subblock_h, cfg.out_subblock_w) == (8, 1)


def test_auto_config_square_goes_2d_full_grid():
    cfg = ttnn_auto_config(N150, MatmulShape(1024, 1024, 1024))
    assert (cfg.type, cfg.grid, cfg.fuse_batch) == (MATMUL_2D, (8, 8), False)
    assert (cfg.per_core_M, cfg.per_core_N, cfg.in0_block_w) == (4, 4, 4)  # in0_block_w = Kt / grid.x
    assert (cfg.out_subblock_h, cfg.out_subblock_w) == (4, 2)


def test_auto_config_shrinks_out_blocks_to_fit_l1():
    cfg = ttnn_auto_config(N150, MatmulShape(4096, 4096, 4096))
    assert (cfg.per_core_M, cfg.per_core_N, cfg.in0_block_w) == (16, 16, 16)
    assert (cfg.out_block_h, cfg.out_block_w) == (8, 8)
    # ttnn's own estimate of the shrunk block fits (get_multi_dim_per_core_factor's condition)
    interm = interm_tile_bytes(N150, "bfloat16", False)
    size = ttnn_cb_estimate(N150, 8, 8, 16, in0_dtype="bfloat16", in1_dtype="bfloat16", interm_tile=interm)
    assert size == 8 * 16 * 2 * 2048 * 2 + 64 * 2048 * 2 < N150.usable_l1_bytes


def test_auto_config_narrow_shapes():
    wide = ttnn_auto_config(N150, MatmulShape(32, 4096, 4096))
    assert (wide.type, wide.mcast_in0, wide.per_core_M, wide.per_core_N) == (MATMUL_1D, True, 1, 2)
    tall = ttnn_auto_config(N150, MatmulShape(4096, 4096, 32))
    assert (tall.type, tall.mcast_in0, tall.per_core_M, tall.per_core_N) == (MATMUL_1D, False, 2, 1)


def test_auto_config_sharded_activation():
    width = ttnn_auto_config(N150, MatmulShape(32, 4096, 4096), in0_sharded="WIDTH", in0_shard_grid=(8, 4))
    assert (width.type, width.mcast_in0, width.per_core_M) == (MATMUL_1D, True, 1)
    assert width.per_core_N == 4 and width.in0_block_w == 4  # gcd(shard width 4 tiles, Kt 128)
    height = ttnn_auto_config(N150, MatmulShape(2048, 1024, 256), in0_sharded="HEIGHT")
    assert (height.type, height.mcast_in0, height.per_core_M, height.per_core_N) == (MATMUL_1D, False, 1, 8)
    assert height.in0_block_w == 32
    block = ttnn_auto_config(N150, MatmulShape(1024, 1024, 1024), in0_sharded="BLOCK")
    assert (block.type, block.per_core_M, block.per_core_N, block.in0_block_w) == (MATMUL_2D, 4, 4, 4)


def test_subblock_choice_table_order():
    assert matmul_subblock_params(4, 4, False, False, False) == (4, 2)
    assert matmul_subblock_params(4, 4, False, False, True) == (2, 2)  # fp32 acc: area <= 4
    assert matmul_subblock_params(3, 5, False, False, False) == (1, 5)  # area 5 comes before (3, 1)
    assert matmul_subblock_params(2, 6, False, True, False) == (1, 6)  # sharded out: w == per_core_N


# --------------------------------------------------------------------------- calibration


@pytest.mark.skipif(not (DATA / "gemm_measured_calibration.csv").exists(), reason="reference data absent")
def test_committed_calibration_meets_the_goals():
    pytest.importorskip("numpy")  # the calibration script fits with numpy (not a runtime dependency)
    sys.path.insert(0, str(ROOT / "benchmarks"))
    try:
        import calibrate
    finally:
        sys.path.remove(str(ROOT / "benchmarks"))
    cases = calibrate.load_cases(DATA)
    scores = calibrate.score_committed(cases, CALIBRATION_PATH)
    assert set(scores) == {"n150", "p150-legacy-fw"}
    for name, s in scores.items():
        assert s["median"] <= calibrate.GOAL_MEDIAN, (name, s)
        assert s["p90"] <= calibrate.GOAL_P90, (name, s)
    recorded = load_calibration().provenance["scores"]
    for name, s in recorded.items():
        assert s["cross_validated"]["median"] <= calibrate.GOAL_MEDIAN, name
        assert s["cross_validated"]["p90"] <= calibrate.GOAL_P90, name


def test_calibration_file_has_every_coefficient():
    calib = load_calibration()
    for arch in ("wormhole_b0", "blackhole"):
        assert arch in calib.per_arch
    assert calib.coeffs("grayskull") == calib.per_arch["wormhole_b0"]


@pytest.mark.skipif(not (DATA / "gemm_measured_calibration.csv").exists(), reason="reference data absent")
def test_calibrate_scores_the_generators_picks():
    pytest.importorskip("numpy")
    sys.path.insert(0, str(ROOT / "benchmarks"))
    try:
        import calibrate
    finally:
        sys.path.remove(str(ROOT / "benchmarks"))
    cases = calibrate.load_cases(DATA, tuned="chooser")
    tuned = [c for c in cases if c.family == "manually_tuned"]
    assert tuned and all(c.in0_storage == c.out_storage == "DRAM" for c in tuned)
    for c in tuned[:6]:
        case = MatmulCase(
            c.device,
            c.shape,
            c.config,
            ComputeKernelConfig(c.fidelity, False, False, True),
            DRAM_INTERLEAVED,
            DRAM_INTERLEAVED,
            DRAM_INTERLEAVED,
            c.dtype,
            c.dtype,
            c.dtype,
        )
        assert matmul_violations(case) == []
    assert "Generator's pick vs the benchmark's config" in calibrate.render_generator_report(DATA)
