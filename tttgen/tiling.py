"""Small pure helpers for tile, grid and subblock arithmetic."""

from __future__ import annotations

TILE = 32


def ceil_div(a: int, b: int) -> int:
    return -(-a // b)


def round_up(value: int, multiple: int) -> int:
    return ceil_div(value, multiple) * multiple


def tiles(elements: int) -> int:
    """Number of 32-wide tiles covering `elements`."""
    return ceil_div(elements, TILE)


def divisors(n: int) -> list[int]:
    """All positive divisors of n, ascending."""
    small, large = [], []
    i = 1
    while i * i <= n:
        if n % i == 0:
            small.append(i)
            if i != n // i:
                large.append(n // i)
        i += 1
    return small + large[::-1]


def largest_divisor_at_most(n: int, limit: int) -> int:
    """Largest divisor of n that is <= limit (1 at least)."""
    return max(d for d in divisors(n) if d <= max(limit, 1))


def subblocks(per_core_m: int, per_core_n: int, dst_limit: int) -> list[tuple[int, int]]:
    """(h, w) output subblocks that divide the per-core block and fit DST, largest area first.

    Ties prefer wide subblocks (w >= h), then larger w, so the order is deterministic.
    """
    found = [
        (h, w)
        for h in divisors(per_core_m)
        for w in divisors(per_core_n)
        if h * w <= dst_limit
    ]
    return sorted(found, key=lambda hw: (-hw[0] * hw[1], -hw[1], hw[0]))


def row_major_cores(count: int, grid_x: int) -> tuple[tuple[tuple[int, int], tuple[int, int]], ...]:
    """`count` cores in row-major order on a grid `grid_x` wide, as inclusive rectangles."""
    full_rows, rest = divmod(count, grid_x)
    ranges = []
    if full_rows:
        ranges.append(((0, 0), (grid_x - 1, full_rows - 1)))
    if rest:
        ranges.append(((0, full_rows), (rest - 1, full_rows)))
    return tuple(ranges)


def compact_cores(count: int, grid_x: int, grid_y: int) -> tuple[tuple[tuple[int, int], tuple[int, int]], ...]:
    """`count` cores as one w x h rectangle from (0, 0), widest w <= grid_x first, when one fits the grid;
    else row-major. Some ops reject a grid of two ranges (nlp_concat_heads_decode on an 11-wide p150)."""
    for w in range(min(count, grid_x), 0, -1):
        if count % w == 0 and count // w <= grid_y:
            return (((0, 0), (w - 1, count // w - 1)),)
    return row_major_cores(count, grid_x)


def largest_divisor(n: int, limit: int) -> int:
    """The largest divisor of n that is at most limit."""
    return max(d for d in range(1, min(n, limit) + 1) if n % d == 0)


def jit_block_grid(rows_tiles: int, cols_tiles: int, grid_x: int, grid_y: int) -> tuple[int, int]:
    """(x, y) cores of ttnn-jit's default output, "maximally L1 block sharded": per dimension the largest tile-count
    divisor that fits the compute grid (tt-mlir tools/ttnn-jit _src/tensor_translator.py _infer_block_sharding_grid).
    Standard library only: the real-ttnn runner loads this file by path."""
    return largest_divisor(cols_tiles, grid_x), largest_divisor(rows_tiles, grid_y)


def next_pow2(n: int) -> int:
    """The smallest power of two >= n (n >= 1)."""
    return 1 << (max(n, 1) - 1).bit_length()


def pow2_splits(tiles_total: int, max_width_tiles: int) -> tuple[int, int]:
    """(splits, padded width in tiles): the fewest power-of-two count of near-equal chunks of `tiles_total` tiles
    whose width, padded up to a power of two, stays below `max_width_tiles`."""
    splits = 1
    while next_pow2(ceil_div(tiles_total, splits)) >= max_width_tiles:
        splits *= 2
    return splits, next_pow2(ceil_div(tiles_total, splits))


def even_chunks(total: int, count: int) -> list[tuple[int, int]]:
    """`total` split into `count` contiguous [start, end) chunks whose sizes differ by at most one."""
    base, extra = divmod(total, count)
    chunks, start = [], 0
    for i in range(count):
        end = start + base + (1 if i < extra else 0)
        chunks.append((start, end))
        start = end
    return chunks
