"""Provenance per value: a rule's ``readings`` label single values the clause does not state."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from daycare_settle.engine.trace import read
from daycare_settle.policy.schema import StayHours

READING = {
    "provenance": "local-parameter",
    "note": "the clause gives no extension",
    "alternative": "leave extended_limit_hours out: no extension",
}


def test_a_value_with_a_reading_has_the_readings_provenance() -> None:
    rule = StayHours.model_validate(
        {
            "kind": "stay_hours",
            "limit_hours": 24,
            "extended_limit_hours": 48,
            "source": "art3",
            "readings": {"extended_limit_hours": READING},
        }
    )
    assert read("limit_hours", 24, rule).provenance == "explicit"
    assert read("extended_limit_hours", 48, rule).provenance == "local-parameter"
    assert read("extension", 48, rule, field="extended_limit_hours").provenance == (
        "local-parameter"
    )


def test_a_reading_must_name_a_value_of_the_rule() -> None:
    with pytest.raises(ValidationError, match="readings name limit, which this rule"):
        StayHours.model_validate(
            {"kind": "stay_hours", "limit_hours": 24, "source": "a", "readings": {"limit": READING}}
        )


def test_a_reading_says_what_the_alternative_is() -> None:
    reading = {k: v for k, v in READING.items() if k != "alternative"}
    with pytest.raises(ValidationError, match="alternative"):
        StayHours.model_validate(
            {
                "kind": "stay_hours",
                "limit_hours": 24,
                "source": "a",
                "readings": {"limit_hours": reading},
            }
        )


def test_a_national_definition_reading_names_its_clause() -> None:
    reading = {**READING, "provenance": "national-definition"}
    with pytest.raises(ValidationError, match="national-definition reading needs 'source'"):
        StayHours.model_validate(
            {
                "kind": "stay_hours",
                "limit_hours": 24,
                "source": "a",
                "readings": {"limit_hours": reading},
            }
        )


def test_every_rule_needs_a_source() -> None:
    with pytest.raises(ValidationError, match="source"):
        StayHours.model_validate({"kind": "stay_hours", "limit_hours": 24})
