"""Dispatch tables: each decision maps every rule kind of its schema union to the function
that decides it, and checks at import that no kind is missing (no ``isinstance`` chain whose
last branch is a silent default)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any, get_args, get_origin


def kinds(union: Any) -> frozenset[type[Any]]:
    """The rule classes of a schema union (``Annotated[A | B, Field(discriminator=...)]``,
    ``A | B``) or of a single rule class."""
    if get_origin(union) is Annotated:
        union = get_args(union)[0]
    members = get_args(union)
    return frozenset(members) if members else frozenset({union})


def require_complete(table: Mapping[type[Any], object], union: Any, where: str) -> None:
    """Raise at import when ``table`` lacks (or has extra) kinds of ``union``."""
    wanted = kinds(union)
    if set(table) != wanted:
        missing = sorted(k.__name__ for k in wanted - set(table))
        extra = sorted(k.__name__ for k in set(table) - wanted)
        raise ImportError(f"{where}: dispatch table lacks {missing}, has extra {extra}")
