"""Text and numbers that would change a decision: each is refused with its field path, never
silently read another way (issue 9, "Text that changes a decision"; ``docs/input.md``)."""

from __future__ import annotations

import datetime as dt
import decimal
import json
import threading
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from daycare_settle import InvalidEpisode, parse_episode, settle
from daycare_settle.models.common import MAX_AMOUNT
from daycare_settle.models.episode import Episode
from tests.builders import HOSPITAL, at, charge, episode, example_episodes
from tests.models.test_bad_input import only, problems

# --- extension_reason ------------------------------------------------------------------------

INVISIBLE_REASONS = [
    " ",
    "   ",
    "\t",
    "\n",
    "\x00",
    "\u200b",  # ZERO WIDTH SPACE
    "\u2060",  # WORD JOINER
    "\ufeff",  # BYTE ORDER MARK
    "\u202e",  # RIGHT-TO-LEFT OVERRIDE
    "\u00ad",  # SOFT HYPHEN
    "\u3000",  # IDEOGRAPHIC SPACE
    "\u00a0",  # NO-BREAK SPACE
    " \u200b\t\u200c ",
    "\x1f",
]


@pytest.mark.parametrize("reason", INVISIBLE_REASONS, ids=ascii)
def test_an_invisible_extension_reason_is_refused(reason: str) -> None:
    # 30 h: over the 24 h limit, inside the 48 h extension a reason would unlock.
    path, message = only(episode(discharged_at=at(30), extension_reason=reason))
    assert path == "extension_reason"
    assert "visible" in message


@pytest.mark.parametrize(
    "reason", ["observation\x00", "\u202eobservation", "obs\u200bervation", "watch\x85"], ids=ascii
)
def test_a_reason_with_hidden_characters_is_refused(reason: str) -> None:
    path, message = only(episode(discharged_at=at(30), extension_reason=reason))
    assert path == "extension_reason"
    assert "U+" in message


@pytest.mark.parametrize(
    "reason", ["术后观察", "bleeding watch", " observation ", "line one\nline two\tend"]
)
def test_a_visible_reason_unlocks_the_extension(reason: str) -> None:
    result = settle(episode(discharged_at=at(30), extension_reason=reason), "panzhihua")
    assert result.time_limit.status == "extended"
    assert result.status == "settled"


# --- identifiers -----------------------------------------------------------------------------


def _with_identifier(field: str, value: str) -> dict[str, Any]:
    """A valid episode with ``value`` at ``field`` (one of IDENTIFIER_FIELDS)."""
    if field == "episode_id":
        return episode(episode_id=value)
    if field == "patient.id":
        return episode(patient={"id": value})
    if field == "institution.id":
        return episode(institution={"id": value})
    if field == "institution.departments[0]":
        return episode(institution={"departments": [value]})
    if field == "institution.filed_diseases[0]":
        return episode(institution={"filed_diseases": [value]})
    if field == "charges[0].id":
        return episode(charges=[charge(value, at(1))])
    if field == "charges[0].institution_id":
        return episode(charges=[charge("c1", at(1), institution_id=value)])
    if field == "conversion.ward":
        return episode(conversion={"at": at(2), "ward": value})
    if field == "agency_method_choice":
        return episode(agency_method_choice=value)
    assert field == "diagnoses[0].code"
    return episode(diagnoses=[{"code": value, "system": "ICD-10"}])


IDENTIFIER_FIELDS = [
    "episode_id",
    "patient.id",
    "institution.id",
    "institution.departments[0]",
    "institution.filed_diseases[0]",
    "charges[0].id",
    "charges[0].institution_id",
    "conversion.ward",
    "agency_method_choice",
    "diagnoses[0].code",
]
BAD_IDENTIFIERS = [
    "",
    " ",
    "a ",
    " a",
    "a\x00",
    "a\x7f",  # DEL
    "a\x85",  # C1 NEXT LINE
    "a\tb",
    "a\nb",
    "a\u200b",  # ZERO WIDTH SPACE
    "\u202ea",  # RIGHT-TO-LEFT OVERRIDE
    "a\ufeff",  # BYTE ORDER MARK
    "a\u2028b",  # LINE SEPARATOR
    "a\u3000",  # IDEOGRAPHIC SPACE
    "\ud800",  # a lone surrogate: no UTF-8 text can carry it
]


@pytest.mark.parametrize("value", BAD_IDENTIFIERS, ids=ascii)
@pytest.mark.parametrize("field", IDENTIFIER_FIELDS)
def test_a_bad_identifier_is_refused(field: str, value: str) -> None:
    path, _ = only(_with_identifier(field, value))
    assert path == field


@pytest.mark.parametrize("field", IDENTIFIER_FIELDS)
def test_a_bad_identifier_in_json_is_refused(field: str) -> None:
    text = json.dumps(_with_identifier(field, "PLACEHOLDER")).replace("PLACEHOLDER", "a\\u202e")
    path, message = only(text)
    assert path == field
    assert "U+202E (RIGHT-TO-LEFT OVERRIDE)" in message
    assert "\u202e" not in message  # the message names the character, never carries it


@pytest.mark.parametrize("value", ["肿瘤科", "H-攀枝花-001", "a b", "Ａ1", "é"])
@pytest.mark.parametrize("field", ["episode_id", "patient.id", "institution.departments[0]"])
def test_printable_identifiers_are_kept_as_written(field: str, value: str) -> None:
    parsed = parse_episode(_with_identifier(field, value))
    found = {
        "episode_id": parsed.episode_id,
        "patient.id": parsed.patient.id,
        "institution.departments[0]": parsed.institution.departments[0],
    }
    assert found[field] == value


@pytest.mark.parametrize(
    ("first", "second"),
    [
        ("a", "ａ"),  # FULLWIDTH LATIN SMALL LETTER A
        ("C-12", "C-１２"),  # full-width digits
        ("fi", "ﬁ"),  # LATIN SMALL LIGATURE FI
        ("é", "e\u0301"),  # composed and decomposed
        ("\u00c5", "\u212b"),  # LATIN CAPITAL A WITH RING ABOVE and ANGSTROM SIGN
        ("x²", "x2"),  # SUPERSCRIPT TWO
    ],
    ids=ascii,
)
def test_charge_ids_repeat_after_unicode_normalisation(first: str, second: str) -> None:
    data = episode(charges=[charge(first, at(1)), charge(second, at(2))])
    path, message = only(data)
    assert path == "charges[1].id"
    assert "repeats charges[0].id" in message
    assert "NFKC" in message


def test_distinct_charge_ids_stay_distinct() -> None:
    parsed = parse_episode(episode(charges=[charge("a", at(1)), charge("A", at(2))]))
    assert [c.id for c in parsed.charges] == ["a", "A"]


@pytest.mark.parametrize("lookalike", ["Ｈ-PZH-001", "H-PZH-００1"], ids=ascii)
def test_a_charge_institution_that_looks_like_the_episodes_is_refused(lookalike: str) -> None:
    # It would count as another hospital: a pre-admission charge would silently not merge.
    data = episode(charges=[charge("c1", at(1), institution_id=lookalike)])
    path, message = only(data)
    assert path == "charges[0].institution_id"
    assert "institution.id" in message


def test_a_charge_at_the_episodes_institution_by_name_is_accepted() -> None:
    parsed = parse_episode(episode(charges=[charge("c1", at(1), institution_id=HOSPITAL)]))
    assert parsed.charge_institution(parsed.charges[0]) == HOSPITAL


# --- amounts and quantities ------------------------------------------------------------------

BAD_NUMBER_STRINGS = [
    "1_000.00",
    "１２",  # full-width digits
    "١٢",  # Arabic-Indic digits
    "१२",  # Devanagari digits
    "12 ",
    " 12",
    "\u00a012",
    "12\x00",
    "+12",
    "1e2",
    "1E2",
    ".5",
    "5.",
    "12,5",
    "0x10",
    "1 000",
    "-0",
]
BAD_NUMBER_VALUES: list[Any] = [
    [0, [1, 2], -1],  # Decimal() would read this tuple form as 1.2
    [1],
    [],
    {"value": 1},
    None,
    12.5,
    True,
    False,
]


@pytest.mark.parametrize("value", BAD_NUMBER_STRINGS + BAD_NUMBER_VALUES, ids=ascii)
def test_an_amount_in_another_spelling_is_refused(value: Any) -> None:
    path, message = only(episode(charges=[charge("c1", at(1), amount=value)]))
    assert path == "charges[0].amount"
    assert "must" in message or "not a decimal amount" in message


@pytest.mark.parametrize(
    "value", BAD_NUMBER_STRINGS + [v for v in BAD_NUMBER_VALUES if v is not None], ids=ascii
)
def test_a_quantity_in_another_spelling_is_refused(value: Any) -> None:
    path, _ = only(episode(charges=[charge("c1", at(1), quantity=value)]))
    assert path == "charges[0].quantity"


def test_a_tuple_where_a_number_goes_is_refused() -> None:
    path, message = only(episode(charges=[charge("c1", at(1), amount=(0, (1, 2), -1))]))
    assert path == "charges[0].amount"
    assert "not a list" in message


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("12", "12.00"),
        ("12.5", "12.50"),
        ("007.10", "7.10"),
        ("999999999999.99", "999999999999.99"),
        ("1.000", "1.00"),
        (12, "12.00"),
        (Decimal("12.5"), "12.50"),
        (Decimal("1E+2"), "100.00"),
        (Decimal("-0"), "0.00"),
    ],
    ids=ascii,
)
def test_plain_amounts_are_read_exactly(value: Any, expected: str) -> None:
    result = settle(episode(charges=[charge("c1", at(1), amount=value)]), "panzhihua")
    assert json.loads(result.to_json())["lines"][0]["amount"] == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2", "2"),
        ("0.333333", "0.333333"),
        (3, "3"),
        (Decimal("1E+3"), "1000"),
        (Decimal("0E-999999"), "0.000000"),  # not a million zeros
        (Decimal("2.5000000"), "2.500000"),
    ],
    ids=ascii,
)
def test_quantities_are_read_exactly_and_bounded(value: Any, expected: str) -> None:
    parsed = parse_episode(episode(charges=[charge("c1", at(1), quantity=value)]))
    assert format(parsed.charges[0].quantity, "f") == expected


@pytest.mark.parametrize("value", ["0.3333333", Decimal("1E-7"), Decimal("1E-999999")], ids=str)
def test_a_quantity_finer_than_six_places_is_refused(value: Any) -> None:
    path, message = only(episode(charges=[charge("c1", at(1), quantity=value)]))
    assert path == "charges[0].quantity"
    assert "decimal places" in message


# --- times -----------------------------------------------------------------------------------

BAD_TIMES = [
    "2025-03-10T09:00:00\x00",
    "2025-03-10T09:00:00 ",
    " 2025-03-10T09:00:00",
    "2025-03-10T09:00:00\n",
    "2025-03-10T09:00:00\u200b",
    "2025-03-10 09:00:00",
    "2025-03-10X09:00",
    "2025-03-10t09:00",
    "20250310T090000",
    "2025-W11-1T09:00",
    "2025-069T09:00",
    "2025-03-10T09",
    "2025-03-10T09:00:00.1234567",  # finer than a microsecond: would be cut silently
    "2025-03-10T09:00:00,5",
    "2025-03-10T09:00:00+0800",
    "2025-03-10T09:00:00+08",
    "2025-03-10T09:00:00+08:00:30",
    "2025-03-10T09:00:00z",
    "２０２５-03-10T09:00:00",
    "2025-03-10T24:00:00",
    "2025-02-30T09:00:00",
    "2025-03-10T09:00:00+24:00",
]


@pytest.mark.parametrize("value", BAD_TIMES, ids=ascii)
def test_a_time_with_junk_or_another_form_is_refused(value: str) -> None:
    path, message = only(episode(charges=[charge("c1", value)]))
    assert path == "charges[0].at"
    assert "date-time" in message


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2025-03-10T09:00", "2025-03-10T09:00:00+08:00"),
        ("2025-03-10T09:00:00.5", "2025-03-10T09:00:00.500000+08:00"),
        ("2025-03-10T01:00:00Z", "2025-03-10T01:00:00+00:00"),
        ("2025-03-10T04:00:00-05:00", "2025-03-10T04:00:00-05:00"),
        ("2025-03-10T09:00:00+08:00", "2025-03-10T09:00:00+08:00"),
    ],
)
def test_iso_date_times_are_read(value: str, expected: str) -> None:
    parsed = parse_episode(episode(charges=[charge("c1", value)]))
    assert parsed.charges[0].at.isoformat() == expected


@pytest.mark.parametrize(
    "naive",
    ["1988-07-01T08:00:00", "1990-08-01T08:00:00", "1900-01-01T00:00:00", "2999-12-31T23:59:59"],
)
def test_naive_times_are_always_utc_plus_8(naive: str) -> None:
    # Shanghai kept daylight time in 1986-1991 and a local mean time before 1901; the
    # policies count in China Standard Time, one fixed +08:00.
    parsed = parse_episode(
        episode(admitted_at=naive, discharged_at=naive, charges=[charge("c1", naive)])
    )
    assert parsed.admitted_at.utcoffset() == dt.timedelta(hours=8)
    assert parsed.admitted_at.isoformat() == naive + "+08:00"


# --- categories ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "category", [" 06", "06 ", "０６", "٠٦", " surgery", "surgery\x00"], ids=ascii
)
def test_a_category_in_another_spelling_is_refused(category: str) -> None:
    path, message = only(episode(charges=[charge("c1", at(1), category=category)]))
    assert path == "charges[0].category"
    assert "01-14" in message


# --- the money ceiling -----------------------------------------------------------------------


@pytest.mark.parametrize("count", [2, 3, 1000])
def test_charges_summing_past_the_ceiling_are_refused(count: int) -> None:
    charges = [charge(f"c{i}", at(1), amount=str(MAX_AMOUNT)) for i in range(count)]
    path, message = only(episode(charges=charges))
    assert path == "charges"
    assert f"sum to {MAX_AMOUNT * count}, above the ceiling {MAX_AMOUNT}" in message


def test_charges_summing_to_the_ceiling_settle() -> None:
    charges = [charge("c1", at(1), amount="999999999999.00"), charge("c2", at(1), amount="0.99")]
    assert settle(episode(charges=charges), "panzhihua").totals.input == MAX_AMOUNT


# --- bounded errors --------------------------------------------------------------------------


def test_a_hundred_thousand_bad_amounts_make_a_short_error() -> None:
    charges = [charge(f"c{i}", at(1), amount="-1") for i in range(100_000)]
    with pytest.raises(InvalidEpisode) as caught:
        settle(episode(charges=charges), "panzhihua")
    error = caught.value
    assert error.count == 100_000
    assert len(error.problems) == InvalidEpisode.KEPT
    assert [p.path for p in error.problems[:2]] == ["charges[0].amount", "charges[1].amount"]
    assert str(error).endswith(f"; ... and {100_000 - InvalidEpisode.SHOWN:,} more problems")
    assert str(error).count("must not be negative") == InvalidEpisode.SHOWN
    assert len(str(error)) < 3_000


@pytest.mark.parametrize("count", [1, InvalidEpisode.SHOWN])
def test_a_few_problems_are_all_listed(count: int) -> None:
    charges = [charge(f"c{i}", at(1), amount="-1") for i in range(count)]
    found = problems(episode(charges=charges))
    assert len(found) == count
    with pytest.raises(InvalidEpisode) as caught:
        settle(episode(charges=charges), "panzhihua")
    assert "more problems" not in str(caught.value)


def test_many_repeated_ids_are_counted_not_all_listed() -> None:
    charges = [charge("same", at(1)) for _ in range(500)]
    with pytest.raises(InvalidEpisode) as caught:
        settle(episode(charges=charges), "panzhihua")
    assert caught.value.count == 499
    assert len(caught.value.problems) == InvalidEpisode.KEPT
    assert "and 479 more problems" in str(caught.value)


# --- the decimal context ---------------------------------------------------------------------

HOSTILE = decimal.Context(
    prec=3, rounding=decimal.ROUND_FLOOR, capitals=0, clamp=1, Emax=20, Emin=-20, traps=[]
)
TRAPPING = decimal.Context(prec=9, traps=[decimal.Inexact, decimal.Rounded])


def _in_thread(context: decimal.Context, work: Any) -> Any:
    """Run ``work()`` in a fresh thread whose decimal context is ``context``."""
    outcome: dict[str, Any] = {}

    def run() -> None:
        decimal.setcontext(context.copy())
        try:
            outcome["value"] = work()
        except BaseException as exc:  # handed back to the test thread
            outcome["error"] = exc

    thread = threading.Thread(target=run)
    thread.start()
    thread.join()
    if "error" in outcome:
        raise outcome["error"]
    return outcome["value"]


EXAMPLE_FILES = example_episodes()


@pytest.mark.parametrize("context", [HOSTILE, TRAPPING], ids=["prec3-floor-nocaps", "traps"])
@pytest.mark.parametrize("path", EXAMPLE_FILES, ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_results_do_not_depend_on_the_callers_decimal_context(
    path: Path, context: decimal.Context
) -> None:
    text = path.read_text(encoding="utf-8")
    policy = path.parent.name
    expected = settle(text, policy).to_json()
    assert _in_thread(context, lambda: settle(text, policy).to_json()) == expected


@pytest.mark.parametrize("context", [HOSTILE, TRAPPING], ids=["prec3-floor-nocaps", "traps"])
def test_validation_does_not_depend_on_the_callers_decimal_context(
    context: decimal.Context,
) -> None:
    data = episode(
        charges=[
            charge("c1", at(1), amount="123456.78", quantity="1234.5"),
            charge("c2", at(2), amount=Decimal("99999999999.99")),
            charge("c3", at(3), amount=Decimal("1E+5"), quantity=Decimal("0E-9")),
        ]
    )
    expected = Episode.model_validate(data)
    assert _in_thread(context, lambda: Episode.model_validate(data)) == expected
    # the same episode as JSON text, its Decimals written as JSON numbers
    text = json.dumps(data, default=lambda d: f"@@{d}@@").replace('"@@', "").replace('@@"', "")
    assert _in_thread(context, lambda: parse_episode(text)) == expected
    over = episode(charges=[charge(f"c{i}", at(1), amount=str(MAX_AMOUNT)) for i in range(2)])
    with pytest.raises(InvalidEpisode, match="above the ceiling"):
        _in_thread(context, lambda: parse_episode(over))


def test_the_callers_context_is_left_as_it_was() -> None:
    def work() -> decimal.Context:
        settle(episode(), "panzhihua")
        return decimal.getcontext()

    after = _in_thread(HOSTILE, work)
    assert (after.prec, after.rounding, after.capitals) == (3, decimal.ROUND_FLOOR, 0)


# --- unknown keys in messages ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("key", "shown"),
    [
        ("\x1b[31mred", "'\\x1b[31mred'"),
        ("a\u202eb", "'a\\u202eb'"),
        ("k" * 1000, "'" + "k" * 64 + "'..."),
        ("surprise", "surprise"),
    ],
    ids=["escape", "bidi", "long", "plain"],
)
def test_an_unknown_key_is_named_safely(key: str, shown: str) -> None:
    assert only(episode(**{key: 1})) == (shown, "unknown field")
    path, _ = only(episode(charges=[{**charge("c1", at(1)), key: 1}]))
    assert path == f"charges[0].{shown}"
