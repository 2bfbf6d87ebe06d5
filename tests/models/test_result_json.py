"""The settlement's JSON written by hand (``models/result_json.py``) is byte for byte what
pydantic-core's ``model_dump_json`` writes, compact and indented, or it stands down and the
serialiser writes the settlement.

Differential throughout: every bundled example's result (settled by the engine, and read
back from its expected file), episodes the policy kit draws (settled, rejected, not
covered, converted), hand-made settlements whose texts hold every character that needs
care, with every optional field null and every tuple empty; and one test per case the
writer does not vouch for, showing that it stands down.
"""

from __future__ import annotations

import tracemalloc
import warnings
from collections.abc import Callable
from decimal import Decimal
from enum import StrEnum
from functools import partial
from pathlib import Path
from typing import Any, Literal, get_args, get_origin

import pytest
from hypothesis import HealthCheck, given, settings
from pydantic import BaseModel
from pydantic_core import PydanticSerializationError

from daycare_settle import load_policy, settle
from daycare_settle.models import Programme
from daycare_settle.models import result_json as module
from daycare_settle.models.common import FrozenModel
from daycare_settle.models.episode import COMPACT_FROM
from daycare_settle.models.result_json import FIELDS, write_settlement
from daycare_settle.models.settlement import (
    Citation,
    Disposition,
    Line,
    ParameterRead,
    PolicyRef,
    Settlement,
    TimeLimit,
)
from daycare_settle.policy.registry import policy_ids
from daycare_settle.testing import episodes
from tests.builders import EXPECTED_SUFFIX, charge, episode, example_episodes

ROOT = Path(__file__).resolve().parents[2]
EXPECTED = sorted((ROOT / "examples").glob(f"**/*{EXPECTED_SUFFIX}"))
EXAMPLES = example_episodes()
INDENTS = (2, None, 0, 4)
CASES = [
    (p, programme.value) for p in policy_ids() for programme in load_policy(p).rules.programmes
]

EVERY_CARE = (
    "".join(chr(code) for code in range(0x20))
    + '"\\/\x7f\x85\u2028\u2029\u00a0\ufeff\u200b'
    + "攀医保规〔2024〕2号 第七条（一）\U0001f600\U00010000\U0010ffff"
)
"""Every C0 control, the quote and the backslash, DEL, NEL, the line and paragraph
separators, spaces and format characters, Chinese, and characters beyond the BMP."""


def assert_written_as_the_serialiser_writes(result: Settlement) -> None:
    for indent in INDENTS:
        written = write_settlement(result, indent)
        assert written is not None, indent
        assert written == result.model_dump_json(indent=indent), indent
        assert result.to_json(indent=indent) == written
    assert result.to_json() == result.model_dump_json(indent=2)


def _settled(path: Path) -> Settlement:
    return settle(path.read_text(encoding="utf-8"), policy=path.parent.name)


# --- the fields the writer knows ------------------------------------------------------------


def _records(cls: type[BaseModel], found: set[type[BaseModel]]) -> set[type[BaseModel]]:
    """Every model class a ``cls`` record may hold, at any depth."""
    found.add(cls)
    for info in cls.model_fields.values():
        for kind in _types(info.annotation):
            if isinstance(kind, type) and issubclass(kind, BaseModel) and kind not in found:
                _records(kind, found)
    return found


def _types(annotation: Any) -> list[Any]:
    args = get_args(annotation)
    if not args or get_origin(annotation) is Literal:
        return [annotation]
    return [kind for arg in args for kind in _types(arg)]


def test_the_writer_knows_every_record_and_field_of_a_settlement() -> None:
    assert module.ENABLED
    assert set(FIELDS) == _records(Settlement, set())
    for cls, names in FIELDS.items():
        assert tuple(cls.model_fields) == names, cls.__name__


def test_the_writer_stands_down_when_a_model_has_other_fields(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    result = _settled(EXAMPLES[0])
    monkeypatch.setitem(FIELDS, Line, ("charge_id", "amount"))
    enabled = all(tuple(cls.model_fields) == names for cls, names in FIELDS.items())
    assert not enabled
    monkeypatch.setattr(module, "ENABLED", enabled)
    assert write_settlement(result, 2) is None
    assert result.to_json() == result.model_dump_json(indent=2)


# --- the examples and drawn episodes --------------------------------------------------------


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_an_example_settled_is_written_as_the_serialiser_writes_it(path: Path) -> None:
    assert_written_as_the_serialiser_writes(_settled(path))


@pytest.mark.parametrize("path", EXPECTED, ids=lambda p: str(p.relative_to(ROOT / "examples")))
def test_an_expected_result_read_back_is_written_to_its_own_bytes(path: Path) -> None:
    """Read back, the records are the validator's (none shared with a policy), and the
    canonical text is the file's, the platform record sets' included."""
    text = path.read_text(encoding="utf-8")
    result = Settlement.model_validate_json(text)
    assert result.to_json() + "\n" == text
    assert_written_as_the_serialiser_writes(result)


def test_a_programme_the_policy_does_not_cover_is_written_as_the_serialiser_writes_it() -> None:
    data = episode("day_surgery")
    result = settle({**data, "programme": Programme.ONCOLOGY_DAY_WARD.value}, policy="panzhihua")
    assert [r.code for r in result.rejection_reasons] == ["PROGRAMME_NOT_COVERED"]
    assert result.windows is None
    assert_written_as_the_serialiser_writes(result)


def test_a_rejected_episode_is_written_as_the_serialiser_writes_it() -> None:
    result = settle(episode(consent_signed=False), policy="panzhihua")
    assert result.status == "rejected"
    assert_written_as_the_serialiser_writes(result)


def test_a_large_settlement_is_written_as_the_serialiser_writes_it() -> None:
    charges = [
        charge(
            f"c{n}",
            f"2025-03-{9 + n % 3:02d}T{7 + n % 10:02d}:00",
            ("day_care", "outpatient")[n % 2],
        )
        for n in range(600)
    ]
    result = settle(episode(charges=charges), policy="panzhihua")
    assert len(result.lines) == 600
    assert_written_as_the_serialiser_writes(result)


@pytest.mark.parametrize(("policy", "programme"), CASES, ids=[f"{p}-{g}" for p, g in CASES])
def test_a_drawn_episode_is_written_as_the_serialiser_writes_it(
    policy: str, programme: str
) -> None:
    compiled = load_policy(policy)

    @settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(episodes(compiled, programme, stay="any", eligible=False, conversion=None))
    def check(drawn: dict[str, Any]) -> None:
        assert_written_as_the_serialiser_writes(settle(drawn, policy=compiled))

    check()


@pytest.mark.parametrize(("policy", "programme"), CASES, ids=[f"{p}-{g}" for p, g in CASES])
def test_a_drawn_converted_episode_is_written_as_the_serialiser_writes_it(
    policy: str, programme: str
) -> None:
    compiled = load_policy(policy)

    @settings(max_examples=5, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(episodes(compiled, programme, conversion=True))
    def check(drawn: dict[str, Any]) -> None:
        assert_written_as_the_serialiser_writes(settle(drawn, policy=compiled))

    check()


# --- hand-made settlements ------------------------------------------------------------------


def _is_literal(annotation: Any) -> bool:
    return any(get_origin(kind) is Literal for kind in [annotation, *get_args(annotation)])


def _rewritten(value: Any, change: Callable[[BaseModel, str, Any], Any]) -> Any:
    """``value`` with every field of every record, at any depth, replaced by
    ``change(record, field, value)`` (the record's own fields rewritten first)."""
    if isinstance(value, tuple):
        return tuple(_rewritten(item, change) for item in value)
    if not isinstance(value, BaseModel):
        return value
    update = {
        name: change(value, name, _rewritten(getattr(value, name), change))
        for name in type(value).model_fields
    }
    return value.model_copy(update=update)


def _texts_to(text: str) -> Callable[[BaseModel, str, Any], Any]:
    def change(record: BaseModel, name: str, value: Any) -> Any:
        if _is_literal(type(record).model_fields[name].annotation):
            return value
        if type(value) is str:
            return text
        if type(value) is tuple and value and all(type(item) is str for item in value):
            return (text, text[::-1])
        return value

    return change


def _every_text_in(result: Settlement) -> set[str]:
    texts: set[str] = set()

    def collect(record: BaseModel, name: str, value: Any) -> Any:
        if type(value) is str:
            texts.add(value)
        return value

    _rewritten(result, collect)
    return texts


@pytest.mark.parametrize(
    "text",
    [EVERY_CARE, '"', "\\", "\u2028", "\u0085", "\U0001f600", "", "x" * 5000],
    ids=["every-care", "quote", "backslash", "u2028", "nel", "non-bmp", "empty", "long"],
)
@pytest.mark.parametrize("path", EXAMPLES[:3], ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_every_text_of_a_settlement_is_escaped_as_the_serialiser_escapes_it(
    path: Path, text: str
) -> None:
    result = _rewritten(_settled(path), _texts_to(text))
    assert text in _every_text_in(result)
    assert_written_as_the_serialiser_writes(result)


def test_every_character_is_escaped_as_the_serialiser_escapes_it() -> None:
    everything = "".join(chr(code) for code in range(0x110000) if not 0xD800 <= code < 0xE000)
    citation = Citation(document=everything, clause=everything[::-1])
    line = _settled(EXAMPLES[0]).lines[0].model_copy(update={"citation": citation})
    result = _settled(EXAMPLES[0]).model_copy(update={"lines": (line,)})
    assert_written_as_the_serialiser_writes(result)


def _nulled(record: BaseModel, name: str, value: Any) -> Any:
    annotation = type(record).model_fields[name].annotation
    if type(None) in get_args(annotation):
        return None
    if type(value) is tuple:
        return ()
    return value


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_a_settlement_with_every_optional_field_null_and_every_tuple_empty(path: Path) -> None:
    result = _rewritten(_settled(path), _nulled)
    assert result.payment is None
    assert result.lines == ()
    assert result.policy.files == ()
    assert_written_as_the_serialiser_writes(result)


def test_records_with_every_optional_field_null_inside_tuples() -> None:
    """Null fields of records held in tuples: a line's citation, a trace step's citation and
    quote, a flag's citation."""
    result = _settled(EXAMPLES[0])

    def nulled_inside(record: BaseModel, name: str, value: Any) -> Any:
        return None if name in {"citation", "quote", "note"} else value

    changed = _rewritten(result, nulled_inside)
    assert all(line.citation is None for line in changed.lines)
    assert all(step.quote is None for step in changed.trace)
    assert_written_as_the_serialiser_writes(changed)


def test_a_line_with_a_str_enum_reason_is_written_as_its_text() -> None:
    class Reason(StrEnum):
        IN = 'IN_"STAY"'

    result = _settled(EXAMPLES[0])
    lines = tuple(line.model_copy(update={"reason": Reason.IN}) for line in result.lines)
    assert_written_as_the_serialiser_writes(result.model_copy(update={"lines": lines}))


def test_lines_for_every_disposition_shared_and_unshared_citations() -> None:
    result = _settled(EXAMPLES[0])
    cited = Citation(document="攀医保规〔2024〕2号", clause="第七条（一）")
    lines = tuple(
        Line(
            charge_id=f"ｃ-{n}",
            disposition=disposition,
            amount=Decimal("12.30"),
            allowed_amount=Decimal("0.00"),
            reason="X",
            citation=(cited, None, Citation(document="d", clause=f"c{n}"))[n % 3],
        )
        for n, disposition in enumerate(list(Disposition) * 4)
    )
    assert_written_as_the_serialiser_writes(result.model_copy(update={"lines": lines}))


def test_amounts_are_written_as_their_text() -> None:
    result = _settled(EXAMPLES[0])
    amounts = ("0.00", "-0", "1E+2", "1E-7", "NaN", "123456789012.99")
    lines = tuple(
        line.model_copy(update={"amount": Decimal(text), "allowed_amount": Decimal(text)})
        for line, text in zip(result.lines, amounts * len(result.lines), strict=False)
    )
    totals = result.totals.model_copy(update={"input": Decimal("1E+2")})
    changed = result.model_copy(update={"lines": lines, "totals": totals})
    assert_written_as_the_serialiser_writes(changed)


def test_integers_at_the_ends_of_64_bits_are_written_as_their_digits() -> None:
    result = _settled(EXAMPLES[0])
    for value in (0, -(2**63), 2**64 - 1):
        limit = result.time_limit.model_copy(update={"duration_seconds": value})
        assert_written_as_the_serialiser_writes(result.model_copy(update={"time_limit": limit}))


# --- records shared between settlements -----------------------------------------------------


def test_a_record_shared_between_settlements_is_written_once_and_held() -> None:
    first = _settled(EXAMPLES[0])
    second = _settled(EXAMPLES[0])
    assert first.policy is second.policy  # the compiled policy's ref, shared
    first.to_json()
    entry = module._SHARED[id(first.policy)]
    assert entry[0] is first.policy
    texts = dict(entry[1])
    second.to_json()
    assert module._SHARED[id(first.policy)][1] == texts
    assert_written_as_the_serialiser_writes(second)


def test_a_citation_shared_at_several_depths_is_written_at_each() -> None:
    result = _settled(EXAMPLES[0])
    cited = result.time_limit.citation
    assert cited is not None
    lines = tuple(line.model_copy(update={"citation": cited}) for line in result.lines)
    steps = tuple(step.model_copy(update={"citation": cited}) for step in result.trace)
    changed = result.model_copy(update={"lines": lines, "trace": steps})
    assert_written_as_the_serialiser_writes(changed)


def test_the_shared_texts_are_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(module, "SHARED_KEPT", 8)
    module._SHARED.clear()
    for path in EXAMPLES[:4]:
        assert_written_as_the_serialiser_writes(_settled(path))
        assert len(module._SHARED) <= 8


def test_steps_of_the_same_value_share_their_text_and_it_is_bounded(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Two settlements of the same episode hold new step objects of the same value: the
    second finds the first's texts; the table of step texts is bounded."""
    first, second = _settled(EXAMPLES[0]), _settled(EXAMPLES[0])
    assert any(a is not b for a, b in zip(first.trace, second.trace, strict=True))
    module._STEPS.clear()
    first.to_json()
    kept = len(module._STEPS)
    assert kept
    assert_written_as_the_serialiser_writes(second)
    assert len(module._STEPS) == kept
    monkeypatch.setattr(module, "STEPS_KEPT", 4)
    module._STEPS.clear()
    for path in EXAMPLES[:4]:
        assert_written_as_the_serialiser_writes(_settled(path))
        assert len(module._STEPS) <= 4


def test_a_step_is_told_apart_by_its_citation_and_reads() -> None:
    """Steps equal in their texts but citing or reading other objects get their own text."""
    result = _settled(EXAMPLES[0])
    at = _read_step(result)
    step = result.trace[at]
    other_citation = step.model_copy(update={"citation": Citation(document="d", clause="c")})
    other_reads = step.model_copy(
        update={"parameters": (ParameterRead(name="n", value="v", provenance="explicit"),)}
    )
    changed = result.model_copy(update={"trace": (step, other_citation, other_reads, step)})
    assert_written_as_the_serialiser_writes(changed)


def test_the_layouts_kept_are_bounded() -> None:
    result = _settled(EXAMPLES[0])
    for indent in range(12):
        assert result.to_json(indent=indent) == result.model_dump_json(indent=indent)
        assert len(module._LAYOUTS) <= module._LAYOUTS_KEPT


# --- what the writer does not vouch for: it stands down -------------------------------------


class Text(str):
    """A str subclass that is not an enum."""

    __slots__ = ()


class SubCitation(Citation):
    pass


class SubSettlement(Settlement):
    pass


class Amount(Decimal):
    pass


def _line(result: Settlement, **update: Any) -> Settlement:
    lines = (result.lines[0].model_copy(update=update), *result.lines[1:])
    return result.model_copy(update={"lines": lines})


def _time_limit(result: Settlement, **update: Any) -> Settlement:
    return result.model_copy(update={"time_limit": result.time_limit.model_copy(update=update)})


def _read_step(result: Settlement) -> int:
    """The first trace step that read parameters."""
    return next(at for at, step in enumerate(result.trace) if step.parameters)


def _step(result: Settlement, **update: Any) -> Settlement:
    steps = list(result.trace)
    at = _read_step(result)
    steps[at] = steps[at].model_copy(update=update)
    return result.model_copy(update={"trace": tuple(steps)})


def _flag(result: Settlement, **update: Any) -> Settlement:
    flags = (result.flags[0].model_copy(update=update), *result.flags[1:])
    return result.model_copy(update={"flags": flags})


def _policy(result: Settlement, **update: Any) -> Settlement:
    return result.model_copy(update={"policy": result.policy.model_copy(update=update)})


UNVOUCHED: dict[str, Callable[[Settlement], Settlement]] = {
    "settlement-subclass": lambda r: SubSettlement.model_construct(**dict(r)),
    "str-subclass-episode-id": lambda r: r.model_copy(update={"episode_id": Text("EP")}),
    "str-subclass-charge-id": lambda r: _line(r, charge_id=Text("c1")),
    "str-subclass-reason": lambda r: _line(r, reason=Text("IN_STAY")),
    "str-subclass-outcome": lambda r: _step(r, outcome=Text("passed")),
    "str-enum-outcome-then-a-subclass-read": lambda r: _step(
        r,
        outcome=Disposition.INCLUDED,
        parameters=(ParameterRead.model_construct(name=Text("n"), value="v", provenance="p"),),
    ),
    "str-subclass-citation": lambda r: _line(
        r, citation=Citation.model_construct(document=Text("d"), clause="c")
    ),
    "int-in-str-field": lambda r: r.model_copy(update={"episode_id": 7}),
    "none-in-str-field": lambda r: _line(r, reason=None),
    "plain-str-disposition": lambda r: _line(r, disposition="included"),
    "plain-str-programme": lambda r: r.model_copy(update={"programme": "day_surgery"}),
    "plain-str-time-limit-status": lambda r: _time_limit(r, status="within"),
    "other-literal-status": lambda r: r.model_copy(update={"status": "pending"}),
    "other-literal-severity": lambda r: _flag(r, severity="fatal"),
    "enum-in-literal-field": lambda r: r.model_copy(update={"status": Disposition.INCLUDED}),
    "bool-in-int-field": lambda r: _time_limit(r, duration_seconds=True),
    "int-beyond-64-bits": lambda r: _time_limit(r, limit_hours=2**64),
    "int-below-64-bits": lambda r: _time_limit(r, limit_hours=-(2**63) - 1),
    "str-in-int-field": lambda r: _time_limit(r, duration_seconds="7"),
    "int-in-bool-field": lambda r: r.model_copy(
        update={
            "payment": r.payment
            and r.payment.model_copy(update={"counts_toward_annual_inpatient_cap": 1})
        }
    ),
    "float-amount": lambda r: _line(r, amount=1.5),
    "decimal-subclass-amount": lambda r: _line(r, allowed_amount=Amount("1.00")),
    "str-amount": lambda r: r.model_copy(
        update={"totals": r.totals.model_copy(update={"included": "1.00"})}
    ),
    "list-for-lines": lambda r: r.model_copy(update={"lines": list(r.lines)}),
    "list-for-trace": lambda r: r.model_copy(update={"trace": list(r.trace)}),
    "list-for-parameters": lambda r: _step(r, parameters=list(r.trace[_read_step(r)].parameters)),
    "list-for-charge-ids": lambda r: _flag(r, charge_ids=list(r.flags[0].charge_ids)),
    "list-for-files": lambda r: _policy(r, files=list(r.policy.files)),
    "citation-subclass-on-a-line": lambda r: _line(
        r, citation=SubCitation(document="d", clause="c")
    ),
    "citation-subclass-in-the-trace": lambda r: _step(
        r, citation=SubCitation(document="d", clause="c")
    ),
    "dict-for-a-record": lambda r: r.model_copy(update={"totals": r.totals.model_dump()}),
    "line-for-a-step": lambda r: r.model_copy(update={"trace": (r.lines[0], *r.trace)}),
    "read-for-a-read": lambda r: _step(r, parameters=(r.lines[0],)),
    "a-record-lacking-a-field": lambda r: _line(r, citation=Citation.model_construct(document="d")),
    "timelimit-lacking-a-field": lambda r: r.model_copy(
        update={"time_limit": TimeLimit.model_construct(limit_hours=24)}
    ),
    "policy-ref-subclass": lambda r: r.model_copy(
        update={"policy": type("Ref", (PolicyRef,), {})(**dict(r.policy))}
    ),
}


def _outcome(write: Callable[[], str]) -> tuple[str, object, list[str]]:
    """What writing gives: the text or the error, and the warnings raised."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            outcome: tuple[str, object] = ("text", write())
        except Exception as error:  # compared, whatever it is
            outcome = (type(error).__name__, str(error))
    return (*outcome, [str(w.message) for w in caught])


@pytest.mark.parametrize("case", UNVOUCHED, ids=str)
def test_what_the_writer_does_not_vouch_for_is_left_to_the_serialiser(case: str) -> None:
    path = next(p for p in EXAMPLES if "cholecystectomy" in p.name)
    result = UNVOUCHED[case](_settled(path))
    assert result.flags
    assert result.payment
    for indent in (2, None):
        assert write_settlement(result, indent) is None
        assert _outcome(partial(result.to_json, indent=indent)) == _outcome(
            partial(result.model_dump_json, indent=indent)
        )


@pytest.mark.parametrize(
    "text", ["\ud800", "a\udfffb", "\udbff\udc00x"], ids=["high", "low", "reversed-pair"]
)
@pytest.mark.parametrize(
    "where",
    ["episode_id", "charge_id", "reason", "citation", "outcome", "quote", "read", "flag"],
)
def test_a_lone_surrogate_is_left_to_the_serialiser_which_refuses_it(where: str, text: str) -> None:
    result = _settled(next(p for p in EXAMPLES if "cholecystectomy" in p.name))
    changed = {
        "episode_id": lambda r: r.model_copy(update={"episode_id": text}),
        "charge_id": lambda r: _line(r, charge_id=text),
        "reason": lambda r: _line(r, reason=text),
        "citation": lambda r: _line(r, citation=Citation(document="攀" + text, clause="c")),
        "outcome": lambda r: _step(r, outcome=text),
        "quote": lambda r: _step(r, quote=text),
        "read": lambda r: _step(
            r, parameters=(ParameterRead(name="n", value=text, provenance="explicit"),)
        ),
        "flag": lambda r: _flag(r, message=text),
    }[where](result)
    for indent in (2, None):
        assert write_settlement(changed, indent) is None
        with pytest.raises(PydanticSerializationError, match="surrogates not allowed"):
            changed.to_json(indent=indent)


@pytest.mark.parametrize("indent", [-1, True, 2.0, "2"], ids=repr)
def test_an_indent_other_than_a_non_negative_int_is_left_to_the_serialiser(indent: Any) -> None:
    result = _settled(EXAMPLES[0])
    assert write_settlement(result, indent) is None
    assert _outcome(lambda: result.to_json(indent=indent)) == _outcome(
        lambda: result.model_dump_json(indent=indent)
    )


def test_frozen_model_base_is_what_every_record_derives_from() -> None:
    """The writer's table covers frozen records only: none can change once written."""
    assert all(issubclass(cls, FrozenModel) and cls.model_config["frozen"] for cls in FIELDS)


def test_the_writer_never_changes_the_result_of_a_settlement_over_time() -> None:
    """Determinism across writes: the same settlement twice, and after others were written."""
    result = _settled(EXAMPLES[0])
    first = result.to_json()
    for path in EXAMPLES[1:4]:
        _settled(path).to_json(indent=None)
    assert result.to_json() == first


def test_writing_a_large_settlement_leaves_its_lines_as_compact_as_they_were() -> None:
    """A large settlement's lines keep their values against the class's shared key table
    (``trusted_compact``); reading a line's ``__dict__`` would give it a dict of its own for
    good (about 100 bytes a line). The writer reads attributes."""
    charges = [charge(f"c{n}", "2025-03-10T10:00") for n in range(COMPACT_FROM + 1000)]
    result = settle(episode(charges=charges), policy="panzhihua")
    settle(episode(), policy="panzhihua").to_json(indent=None)  # the layout and shared texts
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        text = result.to_json(indent=None)
        del text
        kept = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    assert kept < 20 * len(result.lines)
