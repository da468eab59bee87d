"""``ttnn.topk``, ``ttnn.sampling`` and ``ttnn.manual_seed``: on-device token sampling (ttnn 0.81.1).

Sources (see docs/emulator.md, "Sampling"):

* ``topk``: golden ``torch.topk`` (``ttnn.topk.golden_function``) and the docstring: values keep the input's dtype,
  indices are TILE and UINT16 unless 32-bit indices are needed ("tile-padded reduced dimension above 65536, or a
  float32 input_tensor") or an ``indices_tensor`` of UINT32/INT32 widens them. Measured on the 0.81.1 mock device:
  [1,1,32,W] bf16 gives UINT16 indices for W = 512, 32768, 65536 and UINT32 for W = 65568, 128256; fp32 input gives
  UINT32. Rejections quote ``topk_device_operation.cpp`` / ``topk.cpp`` of 0.81.1 (TT_FATAL lines in the comments).
* ``sampling``: the 0.81.1 kernels shipped in the wheel (``ttnn/cpp/ttnn/operations/reduction/sampling/device/
  kernels/compute/sampling.cpp`` and ``dataflow/writer_interleaved.cpp``), the device op's
  ``validate_on_program_cache_miss`` (``sampling_device_operation.cpp``; line numbers from 0.81.1's own TT_FATAL
  reports on the mock device) and the docstring.
* ``manual_seed``: the docstring, ``manual_seed/device/kernels/compute/manual_seed_set_seed.cpp`` (UINT32_MAX
  skips ``rand_tile_init``) and ``manual_seed/device/manual_seed_operation.cpp`` (the validation of seeds and
  user_ids tensors, quoted below), with tt-metal's ``manual_seed/docs/Manual_seed.md``: a seeds tensor maps seed i
  to the core whose id is user_ids[i] (ids 0..31); cores not listed keep their state.
"""

from __future__ import annotations

import struct
from typing import Optional

import torch

from ..configs import MemoryConfig
from ..device import SAMPLING_CORES, Device
from ..dtypes import DataType, Layout, round_bf16
from ..errors import EmulatorUnsupported, check
from ..tensor import Tensor, require_tensor
from .common import DRAM, make_output, set_values

TOPK_DTYPES = (DataType.BFLOAT16, DataType.BFLOAT8_B, DataType.FLOAT32)
TOPK_INDEX_DTYPES = (DataType.UINT16, DataType.UINT32, DataType.INT32)
UINT16_INDEX_LIMIT = 65536  # docstring: 32-bit indices when the tile-padded reduced dim is above 65536

SAMPLING_MAX_USERS = 32
SAMPLING_TOP = 32  # compute/sampling.cpp: nearest32_K = 32, the top-k stage always keeps 32 candidates
RAND_LATTICE = 65536  # writer_interleaved.cpp: threshold (hi * 256 + lo) / 65536, hi and lo digits in 0..255
UINT32_MAX = 0xFFFFFFFF


# ------------------------------------------------------------------------------------------------ topk


def _index_dtype(op: str, t: Tensor, reduced: int, indices_tensor: Optional[Tensor]) -> DataType:
    """The output index dtype: the docstring's rule, confirmed on the mock device (see the module docstring)."""
    padded = -(-reduced // 32) * 32
    needs_32bit = t.dtype == DataType.FLOAT32 or padded > UINT16_INDEX_LIMIT
    if indices_tensor is None:
        return DataType.UINT32 if needs_32bit else DataType.UINT16
    check(
        indices_tensor.dtype in TOPK_INDEX_DTYPES and indices_tensor.layout == Layout.TILE,
        op,
        "topk.indices_tensor_format",
        f"indices_tensor must be in TILE layout and be UINT16, UINT32, or INT32 (got {indices_tensor.dtype.name} "
        f"{indices_tensor.layout.name})",
    )
    check(
        list(indices_tensor.shape) == list(t.shape),
        op,
        "topk.indices_tensor_shape",
        f"indices_tensor must have the same logical shape as input_tensor ({list(indices_tensor.shape)} vs "
        f"{list(t.shape)})",
    )
    check(
        not (needs_32bit and indices_tensor.dtype == DataType.UINT16),
        op,
        "topk.indices_tensor_width",
        "a UINT16 indices_tensor is rejected when 32-bit indices are required (tile-padded reduced dimension "
        f"{padded} above 65536, or a float32 input_tensor)",
    )
    return indices_tensor.dtype


def topk(
    input_tensor: Tensor,
    k: int = 32,
    dim: int = -1,
    largest: bool = True,
    sorted: bool = True,
    *,
    memory_config: Optional[MemoryConfig] = None,
    sub_core_grids=None,
    indices_tensor: Optional[Tensor] = None,
    output_tensor=None,
    stable: bool = False,
    queue_id=None,
) -> tuple[Tensor, Tensor]:
    """``(values, indices)`` of the ``k`` largest (smallest) elements along ``dim``, sorted (golden ``torch.topk``).

    Ties keep torch.topk's order (the golden: the device may return any index among equal values); ``stable=True``
    orders ties by the lowest index and returns -0.0 as +0.0 (docstring). ``sorted=False`` returns the sorted order
    too (one of the orders the device may give). With ``indices_tensor`` the labels it holds at the selected
    positions are returned instead of positions."""
    op = "ttnn.topk"
    t = require_tensor(input_tensor, op, "input_tensor")
    device = t.require_device(op)
    # topk_device_operation.cpp:218 "The input must be in tiled format"
    check(t.layout == Layout.TILE, op, "topk.layout", f"The input must be in tiled format (got {t.layout.name})")
    # topk_device_operation.cpp:226
    check(
        t.dtype in TOPK_DTYPES,
        op,
        "topk.dtype",
        f"Input tensor must be BFLOAT16, BFLOAT8_B, or FLOAT32, got: DataType::{t.dtype.name}",
    )
    rank = t.shape.rank
    check(-rank <= int(dim) < rank, op, "topk.dim", f"dim {dim} is out of range for rank {rank}")
    dim = int(dim) % rank
    size = int(t.shape[dim])
    k = int(k)
    # topk.cpp:466
    check(k <= size, op, "topk.k", f"K cannot be larger than the dimension size! K={k}, dimension size={size}")
    if k < 1:
        raise EmulatorUnsupported(f"{op}: k={k} (an empty result) is not emulated")
    if dim == rank - 1 and k % 32:
        raise EmulatorUnsupported(
            f"{op}: k={k} along the last dim gives a TILE output of width {k}; the emulator holds only tile-aligned "
            "widths (docs/emulator.md, padding policy): use k a multiple of 32 and slice on the host"
        )
    if output_tensor is not None:
        raise EmulatorUnsupported(f"{op}: output_tensor= (preallocated outputs) is not emulated")
    if indices_tensor is not None:
        indices_tensor = require_tensor(indices_tensor, op, "indices_tensor")
        # topk_device_operation.cpp:199
        check(
            not stable,
            op,
            "topk.stable_indices",
            "TopK stable=true does not support a custom indices_tensor: tie-breaking against caller-supplied labels "
            "is not defined. Use positional indices (indices_tensor=None).",
        )
    index_dtype = _index_dtype(op, t, size, indices_tensor)
    mem = memory_config if memory_config is not None else t.memory_config()
    # docstring "Sharded output memory configs are not supported"; 0.81.1 fails with "bad optional access"
    check(not mem.is_sharded(), op, "topk.sharded_output", "Sharded output memory configs are not supported")

    vals = t.values.float()
    if stable:
        vals = torch.where(vals == 0, torch.zeros_like(vals), vals)  # -0.0 canonicalized to +0.0
        ordered, order = torch.sort(vals, dim=dim, descending=bool(largest), stable=True)
        top_vals, top_ids = ordered.narrow(dim, 0, k), order.narrow(dim, 0, k)
    else:
        top_vals, top_ids = torch.topk(vals, k, dim=dim, largest=bool(largest), sorted=True)
    if indices_tensor is not None:
        top_ids = torch.gather(indices_tensor.values, dim, top_ids)
    values_out = make_output(op, top_vals.shape, t.dtype, Layout.TILE, device, mem)
    indices_out = make_output(op, top_ids.shape, index_dtype, Layout.TILE, device, mem)
    # selected bf16/fp32 values are exact; block-float values are repacked in their new face rows
    set_values(values_out, top_vals.contiguous(), quantized=t.dtype != DataType.BFLOAT8_B)
    set_values(indices_out, top_ids.to(torch.int64).contiguous())
    return values_out, indices_out


# ------------------------------------------------------------------------------------------------ sampling


def _f32(x: float) -> float:
    """x rounded to float32 (the writer kernel's float arithmetic on the RISC-V core)."""
    return struct.unpack("f", struct.pack("f", x))[0]


def _device_tensor(obj, op: str, name: str) -> Tensor:
    t = require_tensor(obj, op, name)
    t.require_device(op)
    return t


def _check_seed(op: str, seed) -> None:
    if isinstance(seed, bool) or not isinstance(seed, int) or not 0 <= seed <= UINT32_MAX:
        raise TypeError(f"{op}: seed must be an int in [0, 2**32) (a uint32_t), got {seed!r}")


def _validate_sampling(op, values, indices, k, p, temp, sub_core_grids, output_tensor) -> int:
    """The rules of ``SamplingDeviceOperation::validate_on_program_cache_miss`` (0.81.1; line numbers from its TT_FATAL
    reports on the mock device) in its order, then the docstring's ranges of k and p. Returns the number of users."""
    for name, t in (("input_values_tensor", values), ("input_indices_tensor", indices)):
        check(
            not t.is_sharded(),
            op,
            "sampling.interleaved",
            f"Only INTERLEAVED memory layout is supported for inputs! ({name} is {t.memory_config().memory_layout.name})",
        )
    check(
        values.dtype == DataType.BFLOAT16, op, "sampling.values_dtype", "Only BFLOAT16 is supported for inputs!"
    )  # :40
    check(
        values.layout == Layout.TILE, op, "sampling.values_layout", "Only TILE_LAYOUT is supported for inputs!"
    )  # :41
    check(
        indices.dtype in (DataType.UINT32, DataType.INT32),
        op,
        "sampling.indices_dtype",
        f"Only UINT32 & INT32 dtypes are supported for input indices! (got {indices.dtype.name})",
    )  # :49
    check(
        indices.layout == Layout.ROW_MAJOR,
        op,
        "sampling.indices_layout",
        "Only ROW_MAJOR is supported for input indices!",
    )  # :55
    check(
        list(indices.shape) == list(values.shape),
        op,
        "sampling.indices_shape",
        f"Input values and indices must have the same shape! ({list(values.shape)} vs {list(indices.shape)})",
    )  # :59
    shape = list(values.shape)
    check(len(shape) == 4, op, "sampling.rank", f"Sampling input_values must be rank-4; got rank {len(shape)}")  # :61
    check(
        shape[0] == 1 and shape[1] == 1,
        op,
        "sampling.nc",
        f"Sampling requires input dims 0 and 1 (N, C) to be 1; got {shape}!",
    )  # :72
    users, width = shape[2], shape[3]
    check(
        1 <= users <= SAMPLING_MAX_USERS,
        op,
        "sampling.users",
        f"Sampling currently supports between 1 and 32 users (one core per user); got {users}!",
    )  # :78
    check(
        width != 0 and width % 32 == 0,
        op,
        "sampling.width",
        f"Input inner dim ({width}) must be non-zero and divisible by 32, pad if needed!",
    )  # :82
    wt = width // 32
    check(
        wt & (wt - 1) == 0,
        op,
        "sampling.width_pow2",
        f"Input inner dim ({width}) must yield a power-of-2 number of tiles (Wt = W/32 = {wt}); pad W up to the next "
        "power-of-2 multiple of 32 (e.g. with -inf values and dummy indices) if needed!",
    )  # :93
    if sub_core_grids is not None:
        cores = sub_core_grids.num_cores()
        check(
            cores >= users,
            op,
            "sampling.sub_core_grids",
            f"Subcore grid must supply at least num_users ({users}) cores, but found {cores}!",
        )
    if output_tensor is not None:
        o = output_tensor
        check(
            o.dtype in (DataType.UINT32, DataType.INT32),
            op,
            "sampling.output_dtype",
            f"Only UINT32 & INT32 dtypes are supported for outputs! (got {o.dtype.name})",
        )  # :115
        check(
            not o.is_sharded(),
            op,
            "sampling.output_interleaved",
            "Only INTERLEAVED memory layout is supported for outputs!",
        )
        check(
            o.shape.rank == 4,
            op,
            "sampling.output_rank",
            f"Sampling preallocated output must be rank-4, got rank {o.shape.rank}",
        )
        check(
            list(o.shape) == [1, 1, 1, users],
            op,
            "sampling.output_shape",
            f"Sampling preallocated output logical shape must be [1,1,1,{users}] (input dim 2), got "
            f"[{','.join(str(d) for d in o.shape)}]",
        )  # :139
    check(
        k.dtype in (DataType.UINT32, DataType.INT32),
        op,
        "sampling.k_dtype",
        f"Only UINT32 & INT32 dtypes are supported for k! (got {k.dtype.name})",
    )  # :145
    check(p.dtype == DataType.BFLOAT16, op, "sampling.p_dtype", "Only BFLOAT16 dtypes are supported for p!")  # :150
    check(
        temp.dtype == DataType.BFLOAT16, op, "sampling.temp_dtype", "Only BFLOAT16 dtypes are supported for temp!"
    )  # :151
    for name, t in (("k", k), ("p", p), ("temp", temp)):
        check(
            t.layout == Layout.ROW_MAJOR,
            op,
            f"sampling.{name}_layout",
            f"Only ROW_MAJOR layout is supported for {name}!",
        )  # :152-154
    for name, t in (("k", k), ("p", p), ("temp", temp)):
        check(
            list(t.shape) == [users],
            op,
            f"sampling.{name}_shape",
            f"{name} must have shape [{users}] (one per user)! (got {list(t.shape)})",
        )  # :157-159
    # docstring Limitations (values are not checked by the device op; the kernels would read other users' rows)
    ks = k.values.to(torch.int64)
    check(
        bool(((ks > 0) & (ks <= SAMPLING_TOP)).all()),
        op,
        "sampling.k_range",
        f"k values must be in the range (0,32] (docstring), got {ks.tolist()}",
    )
    ps = p.values.float()
    check(
        bool(((ps >= 0) & (ps <= 1)).all()),
        op,
        "sampling.p_range",
        f"p values must be in the range [0.0, 1.0] (docstring), got {ps.tolist()}",
    )
    return users


def _probabilities(top_vals: torch.Tensor, k: int, temp: float) -> torch.Tensor:
    """compute/sampling.cpp after its top-k stage, for one user's 32 sorted candidates: add the top-k mask (0 for the
    first k, -inf after: generate_mask(.., k - 1) in the writer), multiply by temp (1/T), then softmax: row max,
    exp(x - max), row sum, reciprocal, product. Every step is packed to the values buffer's format (bf16; DST holds
    Float16_b without fp32 accumulation); the row sum is taken in fp32 then packed (an approximation of the reduce)."""
    masked = top_vals.clone()
    masked[k:] = float("-inf")
    scaled = round_bf16(masked * temp)
    peak = scaled.max()
    e = round_bf16(torch.exp(round_bf16(scaled - peak)))
    total = round_bf16(e.sum())
    return round_bf16(e * round_bf16(1.0 / total))


def _draw(probs: list[float], k: int, p: float, rand_f: float) -> int:
    """writer_interleaved.cpp, in float32: keep the smallest prefix of the k sorted probabilities whose cumulative sum
    exceeds p (all k if none does), then return the first kept position whose renormalized cumulative sum exceeds the
    random threshold (the top-1 when none does). The kernel's two passes (face 0 then face 1 of the tile) walk the
    sorted positions 0..15 then 16..k-1, i.e. one pass over 0..k-1."""
    cum = 0.0
    kept = k
    for i in range(k):
        cum = _f32(cum + probs[i])
        if cum > p:
            kept = i + 1
            break
    running = 0.0
    for i in range(kept):
        running = _f32(running + _f32(probs[i] / cum))
        if running > rand_f:
            return i
    return 0


def sampling(
    input_values_tensor: Tensor,
    input_indices_tensor: Tensor,
    k: Tensor,
    p: Tensor,
    temp: Tensor,
    *,
    seed: Optional[int] = None,
    sub_core_grids=None,
    output_tensor: Optional[Tensor] = None,
    queue_id=None,
) -> Tensor:
    """One token id per user: ``input_indices_tensor[0, 0, u, j]`` for the position j drawn from user u's top-k /
    top-p filtered softmax of ``values * temp`` (``temp`` is 1/T). Output ``[1, 1, 1, users]`` UINT32 ROW_MAJOR in
    the values' memory config (``compute_output_specs``), or ``output_tensor`` filled in place.

    Randomness: user u draws its threshold, uniform on the kernel's lattice ``j / 65536``, from the random stream of
    core u (``Device.core_prngs[u]``; the op runs one user per core). A non-zero ``seed`` reseeds every core alike
    before the draw (the compute kernel calls ``rand_tile_init(seed)`` only ``if (seed != 0)``), so users with equal
    logits and parameters then draw equal tokens, as on the device (tt-metal #44661); ``seed=None`` or ``0``
    continues the streams, so calls without a seed (and replays of a trace) draw new numbers. Per-user streams come
    from ``manual_seed`` with a seed per user id."""
    op = "ttnn.sampling"
    values = _device_tensor(input_values_tensor, op, "input_values_tensor")
    device = values.device()
    indices = _device_tensor(input_indices_tensor, op, "input_indices_tensor")
    k_t = _device_tensor(k, op, "k")
    p_t = _device_tensor(p, op, "p")
    temp_t = _device_tensor(temp, op, "temp")
    if output_tensor is not None:
        output_tensor = _device_tensor(output_tensor, op, "output_tensor")
    if seed is not None:
        _check_seed(op, seed)
    users = _validate_sampling(op, values, indices, k_t, p_t, temp_t, sub_core_grids, output_tensor)

    if output_tensor is None:
        out = make_output(op, [1, 1, 1, users], DataType.UINT32, Layout.ROW_MAJOR, device, values.memory_config())
    else:
        out = output_tensor
        device.op_log.append(op)
    if seed is not None and seed != 0:
        for prng in device.core_prngs:
            prng.manual_seed(int(seed))
    thresholds = [int(torch.randint(0, RAND_LATTICE, (1,), generator=device.core_prngs[u])) for u in range(users)]

    rows = values.values.float().reshape(users, -1)
    # the kernel's top-k stage keeps the 32 largest of each row, sorted; stable: on ties the lowest position wins
    ordered, order = torch.sort(rows, dim=-1, descending=True, stable=True)
    top_vals, top_pos = ordered[:, :SAMPLING_TOP], order[:, :SAMPLING_TOP]
    labels = indices.values.reshape(users, -1)
    chosen = []
    for u in range(users):
        k_u = int(k_t.values[u])
        probs = _probabilities(top_vals[u], k_u, float(temp_t.values[u])).tolist()
        j = _draw(probs, k_u, float(p_t.values[u]), int(thresholds[u]) / RAND_LATTICE)
        chosen.append(int(labels[u, top_pos[u, j]]))
    return set_values(out, torch.tensor(chosen, dtype=torch.int64).reshape(1, 1, 1, users))


# ------------------------------------------------------------------------------------------------ manual_seed


def _seed_ids(op: str, t: Tensor, name: str) -> list[int]:
    """A seeds or user_ids tensor's values (manual_seed_operation.cpp: UINT32, ROW_MAJOR)."""
    label = {"seeds": "Seeds", "user_ids": "User IDs"}[name]
    check(t.dtype == DataType.UINT32, op, f"manual_seed.{name}_dtype", f"{label} tensor must be of type UINT32.")
    check(t.layout == Layout.ROW_MAJOR, op, f"manual_seed.{name}_layout", f"{label} tensor must have ROW_MAJOR layout.")
    return [int(v) for v in t.values.reshape(-1).tolist()]


def manual_seed(
    seeds=0, *, device: Optional[Device] = None, user_ids=None, sub_core_grids=None, queue_id=None
) -> Tensor:
    """Seeds the random streams of the cores ``sampling`` draws on: an int seed for every core (``rand_tile_init(seed)``
    on every core, ``manual_seed_set_seed.cpp``), an int seed for one core id or for the ids of a ``user_ids``
    tensor, or a tensor of seeds, seed i for the core id ``user_ids[i]`` (both tensors UINT32 ROW_MAJOR, 1-D, one
    shape). A seed of ``UINT32_MAX`` leaves its core unchanged (docstring); core ids outside 0..31 match no core.
    Returns the placeholder the real op returns: a [1] UINT32 ROW_MAJOR DRAM tensor (measured on the mock device).
    ``sub_core_grids`` (cores other than the default grid) is not emulated."""
    op = "ttnn.manual_seed"
    if sub_core_grids is not None:
        raise EmulatorUnsupported(f"{op}: sub_core_grids (seeding another core grid) is not emulated")
    seeds_tensor = isinstance(seeds, Tensor)
    ids_tensor = isinstance(user_ids, Tensor)
    if seeds_tensor:
        device = _device_tensor(seeds, op, "seeds").device()
        values = _seed_ids(op, seeds, "seeds")
        # manual_seed_operation.cpp validate_on_program_cache_hit
        check(
            user_ids is None or ids_tensor,
            op,
            "manual_seed.user_ids_scalar",
            "Seeds were provided as a tensor, so user_ids must not be provided as a scalar.",
        )
        # without user_ids tt-metal selects no program factory for a seeds tensor (a logged "logic error")
        if user_ids is None:
            raise EmulatorUnsupported(f"{op}: a seeds tensor without a user_ids tensor selects no program factory")
        ids = _seed_ids(op, _device_tensor(user_ids, op, "user_ids"), "user_ids")
        check(
            len(values) == len(ids),
            op,
            "manual_seed.volume",
            "Seeds tensor and User IDs tensor must have the same number of elements. Got seeds volume: "
            f"{len(values)} and user_ids volume: {len(ids)}",
        )
        check(
            list(seeds.shape) == list(user_ids.shape),
            op,
            "manual_seed.shape",
            "Seeds tensor and User IDs tensor must have the same shape.",
        )
        check(
            seeds.shape.rank == 1, op, "manual_seed.rank", "Seeds tensor and User IDs tensor must be 1-dimensional."
        )
        assignments = list(zip(ids, values))
    else:
        _check_seed(op, seeds)
        # manual_seed_operation.cpp:125
        check(device is not None, op, "manual_seed.device", "Device must be provided when seeds is a uint32_t value.")
        if ids_tensor:
            ids = _seed_ids(op, _device_tensor(user_ids, op, "user_ids"), "user_ids")
        elif user_ids is not None:
            _check_seed(op, user_ids)
            check(0 <= user_ids <= 31, op, "manual_seed.user_id_range", "User IDs scalar must be in the range [0, 31].")
            ids = [int(user_ids)]
        else:
            ids = list(range(SAMPLING_CORES))
        assignments = [(core, int(seeds)) for core in ids]
    if not isinstance(device, Device):
        raise TypeError(f"{op}: device must be a device from ttnn.open_device, got {type(device).__name__}")
    check(device.is_open, op, "device.closed", "the device was closed with ttnn.close_device")
    out = make_output(op, [1], DataType.UINT32, Layout.ROW_MAJOR, device, DRAM)
    # each core takes the seed of the first entry naming it (the reader kernel stops at its first match)
    seeded = set()
    for core, seed in assignments:
        if 0 <= core < SAMPLING_CORES and core not in seeded:
            seeded.add(core)
            if seed != UINT32_MAX:
                device.core_prngs[core].manual_seed(seed)
    return out
