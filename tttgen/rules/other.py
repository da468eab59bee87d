"""Non-matmul ttnn rules (reference checklist 21-27): sharding, norms, SDPA, decode heads, prefill."""

from __future__ import annotations

from tttgen.ir.configs import MemoryPlacement, NormConfig, SdpaConfig
from tttgen.inputs.device import DeviceProfile
from tttgen.tiling import ceil_div

DECODE_BATCHES = (1, 2, 4, 8, 16, 32)


def r21_shard_spec(placement: MemoryPlacement, rows: int, cols: int, device: DeviceProfile) -> str | None:
    """Shards are L1 (DRAM only for width-sharded weights), whole tiles, cover the tensor exactly,
    and lie inside the device grid (create_sharded_memory_config, check_tensor_in_grid)."""
    if not placement.sharded or placement.infer_shard:
        return None
    if placement.shard_shape is None or placement.grid is None:
        return "a sharded placement needs a shard shape and a grid"
    sh, sw = placement.shard_shape
    if sh % 32 or sw % 32:
        return f"shard {sh}x{sw} is not whole tiles"
    cores = placement.grid.cores
    layout = placement.layout
    if layout == "WIDTH_SHARDED":
        covered = sh == rows and sw * cores == cols
    elif layout == "HEIGHT_SHARDED":
        covered = sw == cols and sh * cores == rows
    else:
        bx, by = placement.grid.bbox
        covered = sh * by == rows and sw * bx == cols
    if not covered:
        return f"{layout} shard {sh}x{sw} on {cores} cores does not cover a {rows}x{cols} tensor exactly"
    if placement.buffer == "L1":
        bx, by = placement.grid.bbox
        if bx > device.grid.x or by > device.grid.y:
            return f"shard grid {bx}x{by} is outside the device grid {device.grid.x}x{device.grid.y}"
    return None


def r22_sharded_norm(cfg: NormConfig, placement: MemoryPlacement, rows: int, dim: int) -> str | None:
    """Sharded RMSNorm (layernorm_device_operation.cpp): not height-sharded; one tile of rows;
    block_w == ceil(Kt/cores); block shapes equal the shard; block_w % subblock_w == 0."""
    if placement.layout == "HEIGHT_SHARDED" or not placement.sharded:
        return "sharded norm input must be WIDTH or BLOCK sharded"
    if rows != 32 or cfg.block_h != 1:
        return f"sharded RMSNorm needs a single tile of rows (rows={rows}, block_h={cfg.block_h})"
    cores = placement.grid.cores if placement.grid else 0
    if cfg.block_w != ceil_div(dim // 32, cores):
        return f"block_w={cfg.block_w} must equal ceil(Kt/cores)={ceil_div(dim // 32, cores)}"
    sh, sw = placement.shard_shape or (0, 0)
    if cfg.block_h * 32 != sh or cfg.block_w * 32 != sw:
        return f"blocks {cfg.block_h}x{cfg.block_w} tiles do not match shard {sh}x{sw}"
    if cfg.block_w % cfg.subblock_w:
        return f"block_w={cfg.block_w} is not divisible by subblock_w={cfg.subblock_w}"
    bx, by = placement.grid.bbox if placement.grid else (0, 0)
    if bx > cfg.grid[0] or by > cfg.grid[1]:
        return "shard grid is outside the norm program-config grid"
    return None


def r23_sdpa(cfg: SdpaConfig, seq: int, device: DeviceProfile, nq: int, nkv: int) -> str | None:
    """SDPA: chunk sizes multiples of 32, dividing the sequence; GQA heads divide; grid in device."""
    if cfg.q_chunk_size % 32 or cfg.k_chunk_size % 32:
        return f"q_chunk_size={cfg.q_chunk_size} and k_chunk_size={cfg.k_chunk_size} must be multiples of 32"
    if seq % cfg.q_chunk_size or seq % cfg.k_chunk_size:
        return f"sequence {seq} is not divisible by the chunk sizes"
    if nq < nkv or nq % nkv:
        return f"query heads {nq} must be a multiple of KV heads {nkv}"
    if cfg.grid[0] > device.grid.x or cfg.grid[1] > device.grid.y:
        return "SDPA grid is outside the device grid"
    return None


def r24_qkv_heads_decode(batch_rows: int, batch: int, nq: int, nkv: int, out: MemoryPlacement, cores: int) -> str | None:
    """nlp_create_qkv_heads_decode: batch <= 32, <= 32 query heads, nq >= nkv, height-sharded output,
    at least one core per user."""
    if batch > 32 or batch_rows != 32:
        return f"decode batch {batch} must be <= 32 and padded to 32 rows"
    if nq > 32:
        return f"{nq} query heads: nlp_create_qkv_heads_decode allows at most 32 per chip"
    if nq < nkv:
        return "num_heads must be >= num_kv_heads"
    if out.layout != "HEIGHT_SHARDED":
        return "nlp_create_qkv_heads_decode output must be HEIGHT_SHARDED"
    if cores < batch:
        return f"needs at least {batch} cores, grid has {cores}"
    return None


def r31_heads_decode_rectangle(placement: MemoryPlacement) -> str | None:
    """nlp_create_qkv_heads_decode / nlp_concat_heads_decode need their height-sharded grid to be one
    rectangle (ttnn 0.81.1 on a mock p150: a C++ `bad optional access` with 32 cores as
    (0,0)-(10,1) + (0,2)-(9,2); (0,0)-(7,3) passes)."""
    if placement.sharded and placement.grid is not None and len(placement.grid.ranges) != 1:
        return f"decode heads ops need a rectangular core grid, got {len(placement.grid.ranges)} ranges {placement.grid.ranges}"
    return None


def r25_dram_sharded_weight(placement: MemoryPlacement, k: int, n: int, device: DeviceProfile) -> str | None:
    """DRAM width-sharded weights: one shard per bank, N padded to 32*banks, shard (K, padded_N/banks)."""
    if placement.buffer != "DRAM" or placement.layout != "WIDTH_SHARDED":
        return None
    banks = device.dram.banks
    if placement.grid is None or placement.grid.cores != banks:
        return f"DRAM-sharded weight must use all {banks} DRAM banks"
    padded = ceil_div(n, 32 * banks) * 32 * banks
    if placement.shard_shape != (k, padded // banks):
        return f"DRAM weight shard must be ({k}, {padded // banks}), got {placement.shard_shape}"
    return None


def r26_prefill_len(seq: int, max_qkv_rows: int) -> str | None:
    """Attention prefill: whole tiles of rows (nlp_create_qkv_heads reads tile rows); beyond the QKV chunk, seq
    divisible by it. The real ttnn accepts 64-row heads (Boltz triangle attention at n = 64, checked on the mock
    device), so the 128 tt_transformers pads prompts to is a Llama policy (hints.prefill_lens), not this rule."""
    if seq % 32:
        return f"prefill length {seq} is not a multiple of 32 (whole tile rows)"
    if seq > max_qkv_rows and seq % max_qkv_rows:
        return f"prefill length {seq} above {max_qkv_rows} must be a multiple of {max_qkv_rows}"
    return None


def r27_decode_batch(batch: int) -> str | None:
    """Decode batch is padded to 32 rows; max_batch_size in {1, 2, 4, 8, 16, 32} (tt_transformers)."""
    if batch > 32:
        return f"batch {batch} exceeds 32 users per chip"
    return None


# ttnn 0.81.1 unary_device_operation.cpp:197: TT_FATAL(arch == BLACKHOLE, "Unary: SOFTCAP is implemented for
# Blackhole only, got arch ..."): the real ttnn refuses ttnn.softcap on a Wormhole mock device.
SOFTCAP_ARCHS = ("blackhole",)


def has_fused_softcap(device: DeviceProfile) -> bool:
    """Whether ttnn.softcap runs on the device's arch; elsewhere cap * tanh(x / cap) is two multiplies and a tanh."""
    return device.arch in SOFTCAP_ARCHS
