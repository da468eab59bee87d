"""docs/module-descriptions.md documents every key a module description may hold: each field of every strict model
tttgen/inputs/module.py reaches from a description (top level, ops and calls, weights, generators, transforms,
reference, sampler, features, key maps, ...) and every `kind` of a transform or generated weight appears in the
doc's code (a code span or block), so the doc stays true as the schema grows."""

from __future__ import annotations

import re
import typing
from pathlib import Path

from pydantic import BaseModel

from tttgen.inputs import module as M

DOC = Path(__file__).resolve().parent.parent / "docs" / "module-descriptions.md"


def _models_in(annotation) -> list[type[BaseModel]]:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    return [m for arg in typing.get_args(annotation) for m in _models_in(arg)]


def schema_models() -> list[type[BaseModel]]:
    """Every strict model reachable from a description's top level, ops and calls."""
    seen: list[type[BaseModel]] = []
    todo = [M.ModuleDescription, M.OpStep, M.CallStep]
    while todo:
        model = todo.pop()
        if model in seen:
            continue
        seen.append(model)
        for field in model.model_fields.values():
            todo += _models_in(field.annotation)
    return seen


def doc_code() -> str:
    text = DOC.read_text()
    blocks = re.findall(r"```.*?```", text, re.S)
    spans = re.findall(r"`[^`]+`", re.sub(r"```.*?```", "", text, flags=re.S))
    return "\n".join(blocks + spans)


def _mentioned(word: str, code: str) -> bool:
    return re.search(rf"(?<![A-Za-z0-9_]){re.escape(word)}(?![A-Za-z0-9_])", code) is not None


def test_the_walk_reaches_the_nested_sections():
    names = {m.__name__ for m in schema_models()}
    assert {
        "ModuleDescription",
        "OpStep",
        "CallStep",
        "Loop",
        "Weight",
        "Reference",
        "KeyMap",
        "Sampler",
        "RopeTable",
        "Split",
    } <= names


def undocumented(models, code: str) -> list[str]:
    return [
        f"{model.__name__}.{field.alias or name}"
        for model in models
        for name, field in model.model_fields.items()
        if not _mentioned(field.alias or name, code)
    ]


def test_every_schema_key_is_in_the_doc():
    missing = undocumented(schema_models(), doc_code())
    assert not missing, f"docs/module-descriptions.md does not mention: {', '.join(missing)}"


def test_every_transform_and_generator_kind_is_in_the_doc():
    code = doc_code()
    kinds = [
        value
        for model in schema_models()
        if "kind" in model.model_fields
        for value in typing.get_args(model.model_fields["kind"].annotation)
        if isinstance(value, str)
    ]
    assert {"transpose", "split", "rope_cos", "sinusoid_steps", "row_mask"} <= set(kinds)
    missing = [k for k in kinds if not _mentioned(k, code)]
    assert not missing, f"docs/module-descriptions.md does not mention the kinds: {', '.join(missing)}"


def test_the_check_fails_on_an_undocumented_key():
    """Planted: a section with a key the doc never names is reported (and a documented one is not)."""

    class Planted(M.Strict):
        convention: str = "half"
        no_such_description_key: int = 0

    assert undocumented([Planted], doc_code()) == ["Planted.no_such_description_key"]
