"""Result records the engine makes from its own values, without a second validation.

The validating constructor of a result record (the :class:`Settlement`, its time limit,
windows, payment, conversion) only checks values the engine has made already: texts it
formatted, members of its own vocabularies, records it built. :func:`record` builds the
instance the validating constructor would build — the same ``__dict__`` in field order,
defaults included, and the same set of fields given (``model_fields_set``, which
``exclude_unset`` reads) — with :func:`~daycare_settle.models.common.constructed`.

Only for values exactly of their field's type: every caller checks what it cannot vouch
for and validates the usual way otherwise (``tests/engine/test_records.py`` compares the
two on every example).
"""

from __future__ import annotations

from typing import Any, TypeVar

from ..models.common import FrozenModel, constructed

_M = TypeVar("_M", bound=FrozenModel)
_GIVEN: dict[tuple[type[FrozenModel], tuple[str, ...]], set[str]] = {}
"""One set of given fields per (class, fields given): shared, as ``trusted`` shares its own
(a frozen model never changes it; ``model_copy`` copies it)."""


def record(cls: type[_M], values: dict[str, Any], given: tuple[str, ...]) -> _M:
    """An instance of ``cls`` from ``values`` (every field, in field order, defaults
    included), counting as set the fields in ``given``: what the validating constructor
    makes when it is handed the fields in ``given`` and the defaults fill the rest."""
    fields = _GIVEN.get((cls, given))
    if fields is None:
        fields = _GIVEN.setdefault((cls, given), set(given))
    return constructed(cls, values, fields)
