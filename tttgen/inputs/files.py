"""Where an input came from and how a validation failure reads: shared by every loader in tttgen/inputs/."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping, TypeVar

from pydantic import BaseModel, ValidationError

from tttgen.errors import InputError

ROOT = Path(__file__).resolve().parents[2]
DEVICE_DIR = ROOT / "device_profiles"
MODEL_DIR = ROOT / "model_specs"

M = TypeVar("M", bound=BaseModel)


@dataclass(frozen=True)
class InputFile:
    """An input and its provenance, for headers and the manifest."""

    label: str  # path relative to the project, or as given by the user
    sha256: str
    ignored_fields: tuple[str, ...] = ()  # accepted fields that do not change the math (HF bookkeeping)
    called: bool = False  # a module description the input calls: hashed in the manifest, not named in headers


def _display(path: Path) -> str:
    try:
        return path.resolve().relative_to(ROOT).as_posix()
    except ValueError:
        return str(path)


def describe_error(error: Mapping[str, Any]) -> str:
    """One pydantic error as `field 'a.b': what is wrong`."""
    loc = ".".join(str(p) for p in error["loc"]) or "(top level)"
    msg = error["msg"]
    if error["type"] == "extra_forbidden":
        msg = "unknown field"
    elif error["type"] == "missing":
        msg = "required field is missing"
    return f"field '{loc}': {msg}"


def format_validation_error(err: ValidationError, where: str) -> InputError:
    """Every problem pydantic found, in one message (the first on the first line)."""
    return InputError("; ".join(describe_error(e) for e in err.errors()), where=where)


def validate_as(model: type[M], data: Any, where: str) -> M:
    if not isinstance(data, dict):
        raise InputError(f"expected a mapping of fields, got {type(data).__name__}", where=where)
    try:
        return model.model_validate(data)
    except ValidationError as err:
        raise format_validation_error(err, where) from None
