from tttgen.tiling import ceil_div, compact_cores, divisors, largest_divisor_at_most, round_up, row_major_cores, subblocks


def test_ceil_and_round():
    assert ceil_div(33, 32) == 2 and ceil_div(32, 32) == 1
    assert round_up(14336, 32 * 12) == 14592


def test_divisors_sorted_and_complete():
    assert divisors(12) == [1, 2, 3, 4, 6, 12]
    assert divisors(1) == [1]
    assert largest_divisor_at_most(448, 8) == 8
    assert largest_divisor_at_most(7, 4) == 1


def test_subblocks_fit_dst_and_divide():
    found = subblocks(4, 6, 8)
    assert found[0] == (4, 2)  # largest area first (8 tiles)
    assert all(4 % h == 0 and 6 % w == 0 and h * w <= 8 for h, w in found)
    assert subblocks(1, 7, 4)[0] == (1, 1)


def test_row_major_cores_full_and_partial_rows():
    assert row_major_cores(16, 8) == (((0, 0), (7, 1)),)
    assert row_major_cores(32, 11) == (((0, 0), (10, 1)), ((0, 2), (9, 2)))
    assert row_major_cores(5, 8) == (((0, 0), (4, 0)),)


def test_compact_cores_prefers_one_rectangle():
    # 32 cores on an 11x10 grid: (0,0)-(7,3), not row-major (0,0)-(10,1) + (0,2)-(9,2)
    assert compact_cores(32, 11, 10) == (((0, 0), (7, 3)),)
    assert compact_cores(16, 11, 10) == (((0, 0), (7, 1)),)
    assert compact_cores(5, 8, 8) == (((0, 0), (4, 0)),)
    assert compact_cores(32, 8, 8) == row_major_cores(32, 8)
    assert compact_cores(13, 11, 10) == row_major_cores(13, 11)  # no rectangle of 13 fits 11 columns



def test_jit_block_grid_is_the_largest_divisor_per_dimension():
    from tttgen.tiling import jit_block_grid

    assert jit_block_grid(32, 256, 8, 8) == (8, 8)  # [1024 x 8192] over the whole n150 grid
    assert jit_block_grid(4, 56, 11, 10) == (8, 4)  # 56 tiles wide: 8 of p150's 11 columns divide it
    assert jit_block_grid(7, 13, 8, 8) == (1, 7)  # a prime width stays on one column
