"""YAML of the files people edit (taxonomy, triage, routing, mappings, the settings file): a mistake
is named in one line by file, line and column, where PyYAML's own message spans several and a
command's error shows only the first ("while parsing a flow sequence")."""

from __future__ import annotations

from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ConfigDict, ValidationError

_Model = TypeVar("_Model", bound=BaseModel)

# A file's models: a key they do not know is a typo, never skipped.
STRICT = ConfigDict(extra="forbid", frozen=True)


def load_yaml(text: str, source: str) -> Any:
    """The document of `text`, or a ValueError naming `source` and where the YAML breaks."""
    try:
        return yaml.safe_load(text)
    except yaml.MarkedYAMLError as exc:
        raise ValueError(f"{source}{_at(exc.problem_mark, ', ')}: not valid YAML: {exc.problem}"
                         + (f" ({exc.context}{_at(exc.context_mark, ' at ')})" if exc.context else "")) from exc
    except yaml.YAMLError as exc:
        raise ValueError(f"{source}: not valid YAML: {exc}") from exc


def load_model(model: type[_Model], text: str, source: str) -> _Model:
    """The file's document validated by `model`, or a ValueError naming `source` and each problem."""
    doc = load_yaml(text, source)
    if not isinstance(doc, dict):
        raise ValueError(f"{source}: expected a mapping at the top level, got {type(doc).__name__}")
    try:
        return model.model_validate(doc)
    except ValidationError as exc:
        raise ValueError(f"{source}: {problems(exc)}") from exc


def problems(exc: ValidationError) -> str:
    """A model's validation errors in one line, each by its place in the file ("detect: Field
    required; detcet: Extra inputs are not permitted"): pydantic's own message spans lines."""
    return "; ".join(f"{'.'.join(map(str, e['loc'])) or '(top)'}: {e['msg']}" for e in exc.errors())


def _at(mark: yaml.Mark | None, lead: str) -> str:
    return f"{lead}line {mark.line + 1}, column {mark.column + 1}" if mark else ""
