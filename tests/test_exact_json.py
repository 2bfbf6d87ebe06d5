"""``loads_exact`` (one decoder built once) against ``json.loads`` with the same hooks: the
same value, the same types and the same refusal for every text and every encoding."""

from __future__ import annotations

import json
from decimal import Decimal, InvalidOperation
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from daycare_settle import InvalidEpisode, parse_episode
from daycare_settle.exact_json import (
    OUT_OF_RANGE,
    loads_exact,
    refuse_constant,
    refuse_repeated_keys,
)


def reference(text: str | bytes) -> Any:
    try:
        return json.loads(
            text,
            parse_float=Decimal,
            parse_constant=refuse_constant,
            object_pairs_hook=refuse_repeated_keys,
        )
    except InvalidOperation:  # json.loads lets Decimal's own error out: a ValueError here
        raise ValueError(OUT_OF_RANGE) from None


def typed(value: Any) -> Any:
    """``value`` with every type spelled out (``1 == 1.0 == True`` and ``Decimal('1.0') ==
    Decimal('1.00')`` must not pass for the same), key order kept."""
    if isinstance(value, dict):
        return ("dict", [(key, typed(item)) for key, item in value.items()])
    if isinstance(value, list):
        return ("list", [typed(item) for item in value])
    if isinstance(value, Decimal):
        return ("Decimal", str(value))
    return (type(value).__name__, value)


def outcome(read: Any, text: str | bytes) -> Any:
    try:
        return typed(read(text))
    except (ValueError, RecursionError, TypeError) as exc:
        return (type(exc).__name__, str(exc))


def assert_alike(text: str | bytes) -> None:
    assert outcome(loads_exact, text) == outcome(reference, text)


_SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(),
)
_VALUES = st.recursive(
    _SCALARS,
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(st.text(), inner)),
    max_leaves=20,
)
_PIECES = st.sampled_from(
    [
        '{"a": 1, "a": 2}', '{"a": {"b": 1, "b": 1}}', '[{"x": [], "y": {"x": 1, "x": 2}}]',
        '{"a": 1, "\\u0061": 2}', "NaN", "-Infinity", "Infinity", '{"a": NaN}', "1e400",
        "-0", "0.10", "1E-7", "12345678901234567890.123456789", "-1.5e+3", '"\\ud800"',
        '"\\udc00\\ud800"', '"\\u00e9\\n\\t\\\\\\""', "\ufeff{}", "\ufeff", "", " ", "[1,]",
        "{", "[", '{"a" 1}', "tru", "nul", "[1] x", "\x00", '"\x01"', "[" * 3000 + "]" * 3000,
        "[" * 100_000, "1e9999999999999999999", "-1.5E-99999999999999999999",
        '{"é": "日本"}', '"\ud800"',
    ]
)  # fmt: skip


@settings(max_examples=300)
@given(value=_VALUES, ensure_ascii=st.booleans(), indent=st.sampled_from([None, 0, 2]))
def test_any_json_text_reads_as_json_loads_reads_it(
    value: Any, ensure_ascii: bool, indent: int | None
) -> None:
    text = json.dumps(value, ensure_ascii=ensure_ascii, indent=indent)
    assert_alike(text)
    assert_alike(text.encode())


@settings(max_examples=300)
@given(parts=st.lists(st.one_of(_PIECES, st.text(max_size=8)), min_size=1, max_size=4))
def test_any_text_is_read_or_refused_as_json_loads_does(parts: list[str]) -> None:
    text = "".join(parts)
    assert_alike(text)
    assert_alike("[" + ",".join(parts) + "]")
    assert_alike('{"k": [' + ",".join(parts) + '], "k": 1}')


@pytest.mark.parametrize(
    "encoding", ["utf-8", "utf-8-sig", "utf-16", "utf-16-le", "utf-16-be", "utf-32", "utf-32-le",
                 "utf-32-be"],
)  # fmt: skip
@given(value=_VALUES, duplicate=st.booleans())
def test_bytes_in_every_json_encoding_read_alike(
    encoding: str, value: Any, duplicate: bool
) -> None:
    text = json.dumps({"v": value, "w": [value]}, ensure_ascii=False)
    if duplicate:
        text = text[:-1] + ', "v": 1}'
    assert_alike(text.encode(encoding, "surrogatepass"))


@pytest.mark.parametrize(
    "text",
    [b"\xff\xfe\x00", b"\xef\xbb\xbf[1]", b'"\xed\xa0\x80"', b"\x00\x00", bytearray(b"[1]"),
     "\ufeff[1]", 3, None, ["[1]"]],
    ids=repr,
)  # fmt: skip
def test_odd_inputs_are_refused_as_json_loads_refuses_them(text: Any) -> None:
    assert_alike(text)


@pytest.mark.parametrize("number", ["1e9999999999999999999", "-2.5E-99999999999999999999"])
def test_a_number_no_exact_decimal_holds_is_refused_as_malformed_json(number: str) -> None:
    with pytest.raises(InvalidEpisode) as caught:
        parse_episode(f'{{"episode_id": "e", "x": [{number}]}}')
    assert [(p.path, p.message) for p in caught.value.problems] == [
        ("", f"malformed JSON: {OUT_OF_RANGE}")
    ]
