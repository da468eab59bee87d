"""Plans and renders shared by tests in one process (each distinct request is planned and rendered once).

Plans and their graphs are frozen, so sharing one between tests cannot leak a change from one test into another.
"""

import dataclasses
import functools
import json

from tttgen.generate import Request, plan, render_plan

_plans: dict[str, object] = {}
_files: dict[str, dict[str, str]] = {}


def request_key(request: Request) -> str:
    """Requests carry lists in their flags (unhashable); their JSON is the key."""
    return json.dumps(dataclasses.asdict(request), sort_keys=True)


def cached_request_plan(request: Request):
    key = request_key(request)
    if key not in _plans:
        _plans[key] = plan(request)
    return _plans[key]


def cached_request_files(request: Request) -> dict[str, str]:
    key = request_key(request)
    if key not in _files:
        _files[key] = render_plan(cached_request_plan(request))
    return _files[key]


@functools.lru_cache(maxsize=None)
def cached_plan(model: str, device: str, flags: tuple = ()):
    return cached_request_plan(Request(model, device, None, flags))


def cached_files(model: str, device: str, flags: tuple = ()):
    return cached_request_files(Request(model, device, None, flags))
