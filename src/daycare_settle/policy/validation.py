"""Validate plain YAML data against a schema model; errors carry file:line."""

from __future__ import annotations

from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from ..errors import PolicyLoadError
from .yaml_source import YamlDocument

M = TypeVar("M", bound=BaseModel)


def validate_document(document: YamlDocument, model: type[M]) -> M:
    """Validate plain YAML data against a schema model; errors carry file:line."""
    if not isinstance(document.data, dict):
        raise PolicyLoadError(document.file, 1, "the file must hold a mapping at the top level")
    try:
        return model.model_validate(document.data)
    except ValidationError as exc:
        errors = exc.errors(include_url=False)
        first = errors[0]
        described = [f"{_loc_text(e['loc'])}: {_message(e)}" for e in errors[:1]]
        described += [
            f"{document.where(e['loc'])}: {_loc_text(e['loc'])}: {_message(e)}"
            for e in errors[1:10]
        ]
        more = f" (and {len(errors) - 10} more)" if len(errors) > 10 else ""
        raise document.error(first["loc"], "; ".join(described) + more) from None


def _loc_text(loc: tuple[Any, ...]) -> str:
    text = ""
    for part in loc:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text or "(top level)"


def _message(error: Any) -> str:
    if error["type"] == "extra_forbidden":
        return "unknown key"
    if error["type"] == "missing":
        return "required key is missing"
    return str(error["msg"])
