"""Trace records built without a second validation equal the validated ones; anything not
exactly of its field's type still goes through validation and is refused as before."""

from __future__ import annotations

import datetime as dt

import pytest
from pydantic import ValidationError

from daycare_settle.engine.trace import flag, read, reject, step
from daycare_settle.models.common import Setting
from daycare_settle.models.settlement import Flag, ParameterRead, RejectionReason, TraceStep
from daycare_settle.policy import resolve_policy

POLICY = resolve_policy("panzhihua", on=dt.date(2025, 3, 10))
RULE = POLICY.rules.programmes[next(iter(POLICY.rules.programmes))].time_limit


def test_a_read_equals_the_validated_record_and_is_shared() -> None:
    made = read("limit_hours", 24, RULE)
    assert made == ParameterRead(name="limit_hours", value="24", provenance=made.provenance)
    assert read("limit_hours", 24, RULE) is made
    enum_value = read("setting", Setting.DAY_CARE, None)  # a str subclass: validated
    assert enum_value == ParameterRead(name="setting", value="day_care", provenance="episode")


def test_a_step_equals_the_validated_record() -> None:
    parameters = (read("limit_hours", 24, RULE),)
    made = step(POLICY, "time_limit", "24h", "within", RULE, parameters)
    validated = TraceStep(
        step="time_limit",
        rule="24h",
        outcome=made.outcome,
        citation=made.citation,
        quote=made.quote,
        parameters=parameters,
    )
    assert made == validated
    assert made.model_dump_json() == validated.model_dump_json()
    as_list = step(POLICY, "time_limit", "24h", "within", RULE, list(parameters))  # type: ignore[arg-type]
    assert as_list == validated
    assert isinstance(as_list.parameters, tuple)


def test_flags_and_rejections_equal_the_validated_records() -> None:
    made = flag(POLICY, "CODE", "warning", "text", RULE, ("c1", "c2"))
    assert made == Flag.model_validate(made.model_dump())
    reason = reject(POLICY, "CODE", "text", RULE)
    assert reason == RejectionReason.model_validate(reason.model_dump())


def test_a_severity_outside_the_vocabulary_is_still_refused() -> None:
    with pytest.raises(ValidationError, match="severity"):
        flag(POLICY, "CODE", "fatal", "text", RULE)
