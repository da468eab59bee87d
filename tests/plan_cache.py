"""Plans and renders shared by tests in one process (each distinct request is computed once)."""

import functools

from tttgen.generate import Request, plan, render_plan


@functools.lru_cache(maxsize=None)
def cached_plan(model: str, device: str, flags: tuple = ()):
    return plan(Request(model, device, None, flags))


@functools.lru_cache(maxsize=None)
def cached_files(model: str, device: str, flags: tuple = ()):
    return render_plan(cached_plan(model, device, flags))
