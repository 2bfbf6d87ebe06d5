"""Trace records built without a second validation equal the validated ones; anything not
exactly of its field's type still goes through validation and is refused as before."""

from __future__ import annotations

import datetime as dt

import pytest
from pydantic import ValidationError

from daycare_settle.codes import FlagCode, RejectionCode
from daycare_settle.engine.trace import flag, once_per_policy, read, reject, step
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


def test_coded_flags_and_rejections_hold_the_plain_code_as_validation_does() -> None:
    made = flag(POLICY, FlagCode.STARTER_CATALOGUE, "info", "text", RULE)
    validated = Flag.model_validate({**made.model_dump(), "code": FlagCode.STARTER_CATALOGUE})
    assert made == validated
    assert type(made.code) is type(validated.code) is str
    reason = reject(POLICY, RejectionCode.PROGRAMME_NOT_COVERED, "text", RULE)
    assert type(reason.code) is str
    assert reason == RejectionReason(
        code=RejectionCode.PROGRAMME_NOT_COVERED, message="text", citation=reason.citation
    )


def test_rule_texts_and_per_policy_records_follow_the_rule_object() -> None:
    first = step(POLICY, "time_limit", "24h", "within", RULE)
    again = step(POLICY, "time_limit", "24h", "within", RULE)
    assert first == again
    made = once_per_policy(POLICY, RULE, "test.key", lambda: ["made"])
    assert once_per_policy(POLICY, RULE, "test.key", lambda: ["again"]) is made
    other = RULE.model_copy()  # an equal rule that is another object: made afresh
    assert once_per_policy(POLICY, other, "test.key", lambda: ["other"]) == ["other"]


def test_a_severity_outside_the_vocabulary_is_still_refused() -> None:
    with pytest.raises(ValidationError, match="severity"):
        flag(POLICY, "CODE", "fatal", "text", RULE)
