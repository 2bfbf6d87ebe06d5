"""A catalogue of bad inputs: each is refused with a field path, a reason and the stable
code ``invalid_episode``; none escapes as anything but :class:`InvalidEpisode`."""

from __future__ import annotations

import copy
import json
from decimal import Decimal
from typing import Any

import pytest

from daycare_settle import DaycareSettleError, InvalidEpisode, parse_episode, settle
from tests.builders import at, charge, episode, session


def problems(data: Any) -> list[tuple[str, str]]:
    with pytest.raises(InvalidEpisode) as caught:
        settle(data, "panzhihua")
    error = caught.value
    assert error.code == "invalid_episode"
    assert isinstance(error, DaycareSettleError)
    return [(p.path, p.message) for p in error.problems]


def only(data: Any) -> tuple[str, str]:
    found = problems(data)
    assert len(found) == 1, found
    return found[0]


def with_amount(amount: Any) -> dict[str, Any]:
    return episode(charges=[charge("c1", at(1), amount=amount)])


# --- malformed JSON and wrong shapes ---------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    ["", "{", "not json", '{"a": 1,}', b"\xff\xfe\x00", "[" * 100_000, '{"a": NaN}', "1" * 5000],
    ids=["empty", "unclosed", "words", "trailing-comma", "bad-bytes", "deep", "nan", "huge-int"],
)
def test_malformed_json(text: str | bytes) -> None:
    path, message = only(text)
    assert path == ""
    assert "malformed JSON" in message


@pytest.mark.parametrize("value", ["[]", "null", "3", '"text"'])
def test_json_that_is_not_an_object(value: str) -> None:
    assert only(value) == ("", "an episode must be a JSON object")


def test_wrong_types_name_each_field() -> None:
    data = episode(consent_signed="yes", institution={"tier": "3"}, diagnoses="K80")
    found = dict(problems(data))
    assert set(found) == {"consent_signed", "institution.tier", "diagnoses"}


def test_unknown_and_missing_fields() -> None:
    data = episode(surprise=1)
    del data["patient"]
    assert dict(problems(data)) == {
        "surprise": "unknown field",
        "patient": "required field is missing",
    }


# --- amounts ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("amount", "reason"),
    [
        ("-0.01", "must not be negative"),
        ("NaN", "finite"),
        ("Infinity", "finite"),
        ("sNaN", "finite"),
        ("1e309", "not a decimal amount"),  # an exponent is a JSON number's, not a string's
        ("1000000000000.00", "must not exceed"),
        ("1.005", "more than two decimal places"),
        ("0.001", "more than two decimal places"),
        (12.5, "not a float"),
        (True, "not a boolean"),
        ("twelve", "not a decimal amount"),
        ([], "must be a decimal string"),
    ],
)
def test_bad_amounts(amount: Any, reason: str) -> None:
    path, message = only(with_amount(amount))
    assert path == "charges[0].amount"
    assert reason in message


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("12.5", "12.50"), ("1e2", "100.00"), ("1.000", "1.00"), ("-0", "0.00")],
)
def test_json_numbers_are_exact_decimals(raw: str, expected: str) -> None:
    text = json.dumps(with_amount("PLACEHOLDER")).replace('"PLACEHOLDER"', raw)
    result = settle(text, "panzhihua")
    assert result.lines[0].amount == Decimal(expected)
    assert json.loads(result.to_json())["lines"][0]["amount"] == expected


@pytest.mark.parametrize("raw", ["1e309", "-1", "0.001", "NaN", "-Infinity"])
def test_bad_json_numbers(raw: str) -> None:
    text = json.dumps(with_amount("PLACEHOLDER")).replace('"PLACEHOLDER"', raw)
    with pytest.raises(InvalidEpisode):
        settle(text, "panzhihua")


# --- times -----------------------------------------------------------------------------------


def test_discharge_before_admission() -> None:
    assert only(episode(discharged_at=at(-1))) == ("discharged_at", "is before admitted_at")


def test_conversion_before_admission() -> None:
    data = episode(conversion={"at": at(-2), "ward": "surgery"})
    assert only(data) == ("conversion.at", "lies outside the stay (admitted_at..discharged_at)")


def test_overlapping_sessions() -> None:
    data = episode("day_chemo", sessions=[session(at(1), at(4)), session(at(3), at(5))])
    assert only(data) == ("sessions[1]", "overlaps sessions[0]")


def test_naive_times_are_read_as_shanghai() -> None:
    parsed = parse_episode(episode(admitted_at="2025-03-10T08:00:00"))
    assert parsed.admitted_at.isoformat() == "2025-03-10T08:00:00+08:00"


def test_mixed_time_zones_compare_as_instants() -> None:
    # 08:00 in Shanghai is 00:00 UTC: a discharge at 23:30 UTC the day before is earlier.
    early = episode(admitted_at="2025-03-10T08:00:00", discharged_at="2025-03-09T23:30:00Z")
    assert only(early) == ("discharged_at", "is before admitted_at")
    late = episode(
        admitted_at="2025-03-10T08:00:00",
        discharged_at="2025-03-10T10:00:00+00:00",  # 18:00 in Shanghai: ten hours later
        charges=[charge("c1", "2025-03-10T01:00:00+00:00")],
    )
    result = settle(late, "panzhihua")
    assert result.time_limit.duration_seconds == 10 * 3600
    assert result.lines[0].reason == "IN_STAY"


@pytest.mark.parametrize("value", ["2025-03-10", "tomorrow", "0001-01-01T00:00:00+14:00", 5])
def test_bad_times(value: Any) -> None:
    path, _ = only(episode(charges=[charge("c1", value)]))
    assert path == "charges[0].at"


# --- ids, codes, lists -----------------------------------------------------------------------


def test_duplicate_charge_ids() -> None:
    data = episode(charges=[charge("c1", at(1)), charge("c2", at(1)), charge("c1", at(2))])
    assert only(data) == ("charges[2].id", "'c1' repeats charges[0].id")


def test_unknown_programme() -> None:
    data = episode()
    data["programme"] = "day_dentistry"
    path, message = only(data)
    assert path == "programme"
    assert "day_surgery" in message


@pytest.mark.parametrize("category", ["15", "00", "1", "surgical", ""])
def test_unknown_category(category: str) -> None:
    path, message = only(episode(charges=[charge("c1", at(1), category=category)]))
    assert path == "charges[0].category"
    assert "01-14" in message


@pytest.mark.parametrize(("code", "name"), [("01", "bed"), ("06", "surgery"), ("14", "other")])
def test_category_by_national_code(code: str, name: str) -> None:
    parsed = parse_episode(episode(charges=[charge("c1", at(1), category=code)]))
    assert parsed.charges[0].category.value == name


def test_one_bad_charge_is_reported_once() -> None:
    data = episode(charges=[charge("c1", at(1), amount="-5"), charge("c2", at(1))])
    assert [path for path, _ in problems(data)] == ["charges[0].amount"]


def test_empty_charge_list() -> None:
    assert only(episode(charges=[])) == ("charges", "must list at least one item")


def test_empty_diagnoses() -> None:
    assert only(episode(diagnoses=[])) == ("diagnoses", "must list at least one item")


# --- size and immutability -------------------------------------------------------------------


def test_a_hundred_thousand_charges_settle() -> None:
    charges = [
        charge(f"c{i}", at(1 + i % 10), amount=f"{i % 100}.{i % 97:02d}") for i in range(100_000)
    ]
    result = settle(episode(charges=charges), "panzhihua")
    assert len(result.lines) == 100_000
    assert result.totals.input == sum((Decimal(c["amount"]) for c in charges), Decimal("0.00"))


def test_input_is_not_mutated_and_results_are_frozen() -> None:
    data = episode(
        charges=[charge("c1", at(1)), charge("o1", at(-30), setting="outpatient", related=True)]
    )
    before = copy.deepcopy(data)
    result = settle(data, "panzhihua")
    assert data == before
    with pytest.raises(ValueError, match="frozen"):
        result.status = "rejected"  # type: ignore[misc]
    with pytest.raises(ValueError, match="frozen"):
        result.lines[0].allowed_amount = Decimal(0)  # type: ignore[misc]


def test_a_key_given_twice_in_json_is_refused() -> None:
    text = json.dumps(episode()).replace(
        '"consent_signed": true', '"consent_signed": true, "consent_signed": false'
    )
    path, message = only(text)
    assert path == ""
    assert "key 'consent_signed' is given twice" in message
