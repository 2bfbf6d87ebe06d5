"""The worked example of docs/testing-your-policy.md: a property of the made-up city's own
rules, written with the kit's strategy."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

from hypothesis import given

from daycare_settle import settle
from daycare_settle.testing import episodes

EXAMPLE_CITY = Path(__file__).parent / "data" / "examplecity" / "examplecity-2025-1.yaml"


@given(episodes(EXAMPLE_CITY, "oncology_day_ward"))
def test_bed_days(episode: dict[str, Any]) -> None:
    result = settle(episode, EXAMPLE_CITY)
    assert result.payment is not None
    assert result.payment.units is not None
    days = result.payment.units.split()[0]
    assert result.payment.agency_amount == Decimal("300.00") * int(days)


@given(episodes(EXAMPLE_CITY, "day_surgery", conversion=True))
def test_conversions_are_not_settled(episode: dict[str, Any]) -> None:
    result = settle(episode, EXAMPLE_CITY)
    assert "CONVERSION_NOT_PROVIDED" in [r.code for r in result.rejection_reasons]
