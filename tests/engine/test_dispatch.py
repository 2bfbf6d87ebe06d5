"""Every decision kind is dispatched through a table checked complete at import: a kind the
schema adds without an entry fails the import, never falls to a silent default branch."""

from __future__ import annotations

import pytest

from daycare_settle.engine import audit, conversion, eligibility, fees, merge, time_limit
from daycare_settle.engine import payment as payment_package
from daycare_settle.engine.dispatch import kinds, require_complete
from daycare_settle.policy.schema import (
    AgencyLabel,
    AgencyRule,
    AuditRule,
    ConversionRule,
    DuringStayRule,
    EligibilityRule,
    FeeDayRule,
    MergeRule,
    PatientSide,
    PerBedDay,
    PerDisease,
    TimeLimitRule,
    WindowRule,
)


def test_kinds_of_a_union_and_of_a_single_rule() -> None:
    assert kinds(AgencyRule) >= {AgencyLabel, PerBedDay, PerDisease}
    assert kinds(PatientSide) == {PatientSide}


def test_a_missing_kind_fails_at_import() -> None:
    table = {AgencyLabel: None, PerBedDay: None, PerDisease: None}
    with pytest.raises(ImportError, match="lacks \\['FeeForServiceOrQuota'\\]"):
        require_complete(table, AgencyRule, "here")


@pytest.mark.parametrize(
    ("table", "union"),
    [
        (eligibility._CHECKS, EligibilityRule),
        (time_limit._TIME_LIMITS, TimeLimitRule),
        (conversion._CONVERSIONS, ConversionRule),
        (merge._WINDOW_BOUNDS, WindowRule),
        (merge._SIDE_BOUNDS, MergeRule),
        (merge._SIDE_TRACES, MergeRule),
        (merge._SIDE_PLACERS, MergeRule),
        (merge._WINDOW_READS, WindowRule),
        (merge._WINDOW_EDGES, WindowRule),
        (merge._DURING_PLACERS, DuringStayRule),
        (merge._DURING_TRACES, DuringStayRule),
        (fees._FEE_DAYS, FeeDayRule),
        (fees._FEE_DAY_VALUES, FeeDayRule),
        (payment_package._AGENCIES, AgencyRule),
        (payment_package._PATIENT_SIDES, PatientSide),
        (audit._CHECKS, AuditRule),
    ],
    ids=lambda v: getattr(v, "__name__", None) or "table",
)
def test_each_decision_table_covers_its_union(table: dict[type, object], union: object) -> None:
    assert set(table) == kinds(union)
