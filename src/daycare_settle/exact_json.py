"""JSON read exactly: numbers as :class:`~decimal.Decimal` (never a float), ``NaN`` and
``Infinity`` refused, a key given twice in one object refused (``json.loads`` would keep the
last silently). Episodes, platform records and platform catalogue files are read this way."""

from __future__ import annotations

import json
from decimal import Decimal, InvalidOperation
from typing import Any


def refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a number JSON allows")


def refuse_repeated_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result = dict(pairs)
    if len(result) != len(pairs):
        seen: set[str] = set()
        for key, _ in pairs:
            if key in seen:
                raise ValueError(f"key {key!r} is given twice in one object")
            seen.add(key)
    return result


DECODER = json.JSONDecoder(
    object_pairs_hook=refuse_repeated_keys, parse_float=Decimal, parse_constant=refuse_constant
)
"""For reading row by row (``raw_decode``) with the same rules as :func:`loads_exact`."""


def loads_exact(text: str | bytes) -> Any:
    """The JSON value of ``text``; raises ``ValueError`` (or ``RecursionError``, for a value
    nested too deeply) naming the problem.

    What ``json.loads`` with these hooks does, with one decoder built once instead of one
    per call (``json.loads`` builds a decoder and its scanner whenever a hook is given): the
    same decoding of bytes, and for anything else (a ``str`` opening with a byte-order mark,
    a value that is no text) ``json.loads`` itself, for its own error."""
    try:
        if type(text) is str:
            if not text.startswith("\ufeff"):
                return DECODER.decode(text)
        elif type(text) is bytes:
            return DECODER.decode(text.decode(json.detect_encoding(text), "surrogatepass"))
        return json.loads(
            text,
            parse_float=Decimal,
            parse_constant=refuse_constant,
            object_pairs_hook=refuse_repeated_keys,
        )
    except InvalidOperation:  # Decimal("1e9999999999999999999"): a refusal, not a crash
        raise ValueError(OUT_OF_RANGE) from None


OUT_OF_RANGE = (
    "a number's exponent is out of range for an exact decimal (beyond ±999999999999999999)"
)
