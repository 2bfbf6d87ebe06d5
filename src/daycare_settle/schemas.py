"""JSON Schema (draft 2020-12) of the JSON the library reads and writes, from its models.

- ``episode``: what :func:`daycare_settle.settle` accepts (:class:`~daycare_settle.Episode`,
  validation mode: amounts as decimal strings or JSON numbers, times as ISO 8601 text);
- ``settlement``: what it returns as JSON (:class:`~daycare_settle.Settlement`, serialisation
  mode: amounts are decimal strings);
- ``policy``: a rule file (``rules/<city>/<document>.yaml``) read as JSON data;
- ``platform``: a record set of the national medical-insurance platform that
  ``settle --from platform`` reads (:class:`~daycare_settle.platform.PlatformRecords`);
- ``review``: what ``settle --to platform-review`` and ``POST /v1/review`` return
  (:class:`~daycare_settle.platform.review.PlatformReview`, serialisation mode).

The schemas are committed under ``docs/schemas/<name>.schema.json`` and
``tests/test_schemas.py`` fails when the models and those files drift apart. Regenerate them
with ``daycare-settle schema --write docs/schemas``.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel

from .models import Episode, Settlement
from .platform import PlatformRecords
from .platform.review import PlatformReview
from .policy.schema import RuleFile

DIALECT = "https://json-schema.org/draft/2020-12/schema"
BASE_ID = "https://daycare-settle.example/schemas/"
"""Stable ``$id`` prefix: a name, not a location the library serves (nothing is fetched)."""
NAMES = ("episode", "settlement", "policy", "platform", "review")
REGENERATE = "daycare-settle schema --write docs/schemas"

_MODELS: dict[str, tuple[type[BaseModel], Literal["validation", "serialization"]]] = {
    "episode": (Episode, "validation"),
    "settlement": (Settlement, "serialization"),
    "policy": (RuleFile, "validation"),
    "platform": (PlatformRecords, "validation"),
    "review": (PlatformReview, "serialization"),
}


def json_schema(name: str) -> dict[str, Any]:
    """The JSON Schema called ``name`` (one of :data:`NAMES`), with ``$schema`` and ``$id``
    first and every object's keys sorted below them. :class:`KeyError` for an unknown name."""
    model, mode = _MODELS[name]
    body = model.model_json_schema(mode=mode)
    if mode == "serialization":
        _require_every_property(body)
    body = _sorted(_without_openapi_words(body))
    return {"$schema": DIALECT, "$id": f"{BASE_ID}{name}.schema.json", **body}


def schema_text(name: str) -> str:
    """The canonical text of :func:`json_schema`: two-space indent, UTF-8 characters as
    written (the Chinese policy terms stay readable), a final newline."""
    return json.dumps(json_schema(name), ensure_ascii=False, indent=2) + "\n"


def file_name(name: str) -> str:
    """``<name>.schema.json``, the file a schema is committed as."""
    return f"{name}.schema.json"


def write(directory: Path, names: Sequence[str] = NAMES) -> list[Path]:
    """Write each named schema to ``directory/<name>.schema.json`` (UTF-8, canonical text),
    creating ``directory`` if needed; the paths written. :class:`OSError` if one cannot be."""
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for name in names:
        path = directory / file_name(name)
        path.write_bytes(schema_text(name).encode("utf-8"))
        written.append(path)
    return written


def _require_every_property(value: Any) -> None:
    """Output JSON always carries every field (``model_dump_json`` leaves none out), so in
    the serialisation schema every property is required, defaults or not: a class generated
    from it then need not treat ``conversion`` or ``library_version`` as maybe-absent."""
    if isinstance(value, dict):
        properties = value.get("properties")
        if value.get("type") == "object" and isinstance(properties, dict):
            value["required"] = list(properties)
        for item in value.values():
            _require_every_property(item)
    elif isinstance(value, list):
        for item in value:
            _require_every_property(item)


_OPENAPI_ONLY = frozenset({"discriminator"})
"""Keywords pydantic writes for OpenAPI that JSON Schema 2020-12 does not have: a tagged
union's ``discriminator`` (its ``oneOf`` branches already fix the tag with ``const``)."""
_NAME_TABLES = frozenset({"$defs", "dependentSchemas", "patternProperties", "properties"})
_DATA = frozenset({"const", "default", "enum", "examples"})


def _without_openapi_words(value: Any, *, table: bool = False) -> Any:
    """The schema without :data:`_OPENAPI_ONLY` keywords (a name in a ``properties`` or
    ``$defs`` table, and data under ``enum`` or ``default``, stay as they are)."""
    if isinstance(value, list):
        return [_without_openapi_words(item) for item in value]
    if not isinstance(value, dict):
        return value
    if table:
        return {key: _without_openapi_words(item) for key, item in value.items()}
    return {
        key: item if key in _DATA else _without_openapi_words(item, table=key in _NAME_TABLES)
        for key, item in value.items()
        if key not in _OPENAPI_ONLY
    }


def _sorted(value: Any, *, declared: bool = False) -> Any:
    """Keys sorted at every level, except a ``properties`` table, which keeps the model's
    field order (what a reader and a class generator should see first)."""
    if isinstance(value, dict):
        keys = list(value) if declared else sorted(value)
        table = not declared  # inside a properties table, "properties" is a field's name
        return {key: _sorted(value[key], declared=table and key == "properties") for key in keys}
    if isinstance(value, list):
        return [_sorted(item) for item in value]
    return value
