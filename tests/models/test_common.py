"""Shared value types: records built from trusted values, money written to JSON."""

from __future__ import annotations

import sys
from decimal import Decimal

import pytest

from daycare_settle.models.common import _to_money, trusted, trusted_compact
from daycare_settle.models.episode import Charge
from daycare_settle.models.settlement import Citation, Disposition, Line, Totals

CITATION = Citation(document="doc", clause="§1")
LINE = {
    "charge_id": "c1",
    "disposition": Disposition.INCLUDED,
    "amount": Decimal("12.30"),
    "allowed_amount": Decimal("10.00"),
    "reason": "IN_STAY",
    "citation": CITATION,
}


def test_a_trusted_record_is_what_model_construct_makes() -> None:
    made = trusted(Line, dict(LINE))
    constructed = Line.model_construct(**LINE)
    assert made == constructed == Line(**LINE)
    assert made.model_fields_set == constructed.model_fields_set == set(LINE)
    assert made.model_dump_json() == constructed.model_dump_json() == Line(**LINE).model_dump_json()


def test_a_trusted_record_stays_frozen_and_its_shared_fields_set_unchanged() -> None:
    first, second = trusted(Line, dict(LINE)), trusted(Line, dict(LINE))
    assert first.model_fields_set is second.model_fields_set
    with pytest.raises(ValueError, match="frozen"):
        first.reason = "OTHER"  # type: ignore[misc]
    copy = first.model_copy(update={"reason": "OTHER"})
    assert copy.reason == "OTHER"
    assert first.reason == "IN_STAY"
    assert copy.model_fields_set is not first.model_fields_set
    assert second.model_fields_set == set(LINE)


@pytest.mark.parametrize(
    "text", ["0", "0.0", "0.00", "7", "12.3", "12.30", "999999999999.99", "100", "0.01"]
)
def test_money_is_written_as_fixed_point_with_two_places(text: str) -> None:
    amount = _to_money(text)
    totals = Totals(
        input=amount,
        included=amount,
        not_merged=Decimal(0),
        disallowed=Decimal("1E+2"),
        merged_pre_admission=Decimal("0E-7"),
        merged_post_discharge=Decimal("5.000"),
    )
    dumped = totals.model_dump(mode="json")
    assert dumped["input"] == format(amount, "f") == str(amount)
    assert dumped["not_merged"] == "0.00"
    assert dumped["disallowed"] == "100.00"  # read as money first: never "1E+2"
    assert dumped["merged_pre_admission"] == "0.00"
    assert dumped["merged_post_discharge"] == "5.00"


def test_charges_share_their_fields_set_but_keep_their_own_contents() -> None:
    base = {"at": "2025-03-10T08:00", "setting": "day_care", "category": "surgery"}
    one = Charge.model_validate({**base, "id": "a", "amount": "1.00"})
    two = Charge.model_validate({**base, "id": "b", "amount": "2.00"})
    other = Charge.model_validate({**base, "id": "c", "amount": "3.00", "related": True})
    assert one.model_fields_set is two.model_fields_set
    assert other.model_fields_set == {*base, "id", "amount", "related"}
    assert set(one.model_dump(exclude_unset=True)) == {*base, "id", "amount"}
    copy = one.model_copy(update={"related": True})
    assert "related" in copy.model_fields_set
    assert "related" not in two.model_fields_set


def test_a_compact_record_is_the_trusted_record_with_a_smaller_dict() -> None:
    compact = trusted_compact(Line, tuple(LINE.values()))
    made = trusted(Line, dict(LINE))
    assert compact == made == Line(**LINE)
    assert list(compact.__dict__.items()) == list(made.__dict__.items())
    assert compact.model_fields_set == set(LINE)
    assert compact.model_dump_json() == made.model_dump_json()
    assert sys.getsizeof(compact.__dict__) < sys.getsizeof(made.__dict__)
    with pytest.raises(ValueError, match="zip"):
        trusted_compact(Line, tuple(LINE.values())[:-1])
