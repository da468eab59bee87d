"""Times of ops taken as published measurements (measured_ops.yaml), for widths between or beyond the measured
points by the straight line through them (topk's time grows with the columns it sorts)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import yaml

_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml when present: the same data as safe_load, faster

MEASURED_PATH = Path(__file__).with_name("measured_ops.yaml")


@lru_cache(maxsize=1)
def measured() -> dict:
    return yaml.load(MEASURED_PATH.read_text(), Loader=_LOADER)


def topk_multi_core(width: int) -> bool:
    """Whether ttnn.topk (0.81.1) takes its multi-core factory for one tile row of `width` columns."""
    t = measured()["topk_k32_rows32"]
    return width & (width - 1) == 0 and t["multi_core_min_width"] <= width <= t["multi_core_max_width"]


def _line(points: dict[int, float], width: int) -> float:
    (w0, t0), (w1, t1) = sorted(points.items())[:2]
    slope = (t1 - t0) / (w1 - w0)
    return max(t0 + slope * (width - w0), 0.0)


def topk_ns(width: int) -> float:
    """ttnn.topk, k=32, 32 rows of `width` columns: the measured multi-core or single-core line."""
    t = measured()["topk_k32_rows32"]
    points = t["multi_core_us"] if topk_multi_core(width) else t["single_core_us"]
    return _line({int(w): float(us) for w, us in points.items()}, width) * 1e3


def sampling_ns() -> float:
    """ttnn.sampling over the candidates of 32 users."""
    return float(measured()["sampling_us"]["value"]) * 1e3
