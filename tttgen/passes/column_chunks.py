"""A weight too wide to DRAM-shard whole, stored as column chunks: each chunk its own DRAM-sharded tensor and
matmul, the outputs joined. The chunk geometry and what the joins cost, for the memory pass (which chooses chunks)
and the matmul_program pass (which configures each chunk's matmul)."""

from __future__ import annotations

from dataclasses import dataclass

from tttgen.ir.configs import MemoryPlacement
from tttgen.ir.graph import Graph, Op
from tttgen.passes.op_costs import storage
from tttgen.scoring import op_time_ns
from tttgen.inputs.device import DeviceProfile
from tttgen.tiling import ceil_div


@dataclass(frozen=True)
class ColumnChunks:
    """A weight stored as `count` column blocks of `width` columns (the last zero-padded), each DRAM-sharded."""

    count: int
    width: int


def chunk_width(n: int, count: int, device: DeviceProfile) -> int:
    """Columns per chunk: whole tiles, a multiple of one tile per DRAM bank (so no chunk pads its bank shards)."""
    per_bank = 32 * device.dram.banks
    return ceil_div(ceil_div(n, count), per_bank) * per_bank


def chunk_joins_ns(graph: Graph, rows: int, n: int, chunks: ColumnChunks, out: MemoryPlacement) -> float:
    """What a column-chunked matmul adds to its chunks' time: each chunk's output moved to DRAM, one concat along
    the columns, and a slice back to `n` columns when the chunks pad it."""
    part = rows * chunks.width * 2  # bfloat16 outputs
    whole = part * chunks.count
    move = op_time_ns(graph.device, "reshard", bytes_in=part, bytes_out=part, src=storage(out), dst="dram").total_ns
    total = chunks.count * move + op_time_ns(graph.device, "reshard", bytes_in=whole, bytes_out=whole, src="dram").total_ns
    if chunks.count * chunks.width > n:
        size = rows * n * 2
        total += op_time_ns(graph.device, "reshard", bytes_in=size, bytes_out=size, src="dram").total_ns
    return total


def reads_one_tile_from_dram(op: Op, shape) -> bool:
    """A prefill matmul over one tile of rows (an LM head on the prompt's last tile): chunked, it runs the decode
    configs (the DRAM-sharded family, 32 rows from L1 width shards) after moving its input out of DRAM, since the
    configs prefill reads DRAM with cannot stream DRAM-sharded chunks as fast."""
    return op.mode != "decode" and shape.m * shape.batch == 32


def input_move_ns(graph: Graph, shape) -> float:
    size = shape.m * shape.k * 2  # bfloat16 activations
    return op_time_ns(graph.device, "reshard", bytes_in=size, bytes_out=size, src="dram", dst="sharded").total_ns
