"""Ask the ttnn API snapshot whether a name exists in the targeted ttnn version."""

from __future__ import annotations

from functools import lru_cache

from tttgen import TARGET_TTNN_VERSION


@lru_cache(maxsize=1)
def _api():
    from tttgen.apicheck import load_api

    return load_api(TARGET_TTNN_VERSION)


def ttnn_has(dotted: str) -> bool:
    return _api().has(dotted)
