"""Unit tests of engine/fees.py: the daily fee schedule (generic kind)."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from daycare_settle.engine.fees import place_daily_fees
from daycare_settle.engine.findings import Findings
from daycare_settle.engine.lines import Placement, included
from daycare_settle.errors import PolicyLoadError
from daycare_settle.models.episode import Episode
from daycare_settle.policy.loader import Policy
from tests.engine.day_ward_policy import RULES, episode, policy


def _run(pol: Policy, ep: Episode) -> list[Placement]:
    rules = pol.programme(ep.programme)
    assert rules is not None
    start = [included(c.amount, "IN_STAY", None) for c in ep.charges]
    return place_daily_fees(ep, pol, rules.fee_schedule, ep.charges, start, Findings())


def test_cap_shared_by_day_and_category_in_canonical_order(tmp_path: Path) -> None:
    ep = episode(
        [(2, 9, 12, "chemotherapy"), (3, 9, 12, "chemotherapy")],
        [
            ("b", 2, 10, "bed", "6.00"),
            ("a", 2, 10, "bed", "6.00"),
            ("c", 2, 8, "bed", "3.00"),
            ("next-day", 3, 8, "bed", "12.00"),
            ("drug", 2, 8, "western_drug", "99.00"),
        ],
    )
    out = _run(policy(tmp_path), ep)
    allowed = {c.id: p.allowed for c, p in zip(ep.charges, out, strict=True)}
    assert allowed == {
        "c": Decimal("3.00"),
        "a": Decimal("6.00"),
        "b": Decimal("1.00"),
        "next-day": Decimal("10.00"),
        "drug": Decimal("99.00"),
    }
    assert [p.reason for p in out] == [
        "FEE_CAPPED",
        "FEE_WITHIN_CAP",
        "FEE_WITHIN_CAP",
        "FEE_CAPPED",
        "IN_STAY",
    ]


def test_tier_two_cap(tmp_path: Path) -> None:
    ep = episode(
        [(2, 9, 12, "chemotherapy")],
        [("b", 2, 10, "bed", "9.00")],
        institution={"id": "H", "tier": 2},
    )
    assert _run(policy(tmp_path), ep)[0].allowed == Decimal("7.50")


def test_not_chargeable_and_no_session_days(tmp_path: Path) -> None:
    ep = episode(
        [(2, 9, 12, "radiotherapy")],
        [("rt", 2, 10, "bed", "5.00"), ("none", 4, 10, "bed", "5.00")],
    )
    assert [p.reason for p in _run(policy(tmp_path), ep)] == [
        "FEE_NOT_CHARGEABLE",
        "FEE_NO_SESSION_DAY",
    ]


def test_day_whose_sessions_no_rule_names(tmp_path: Path) -> None:
    ep = episode([(2, 9, 12, "tcm")], [("b", 2, 10, "bed", "5.00")])
    assert _run(policy(tmp_path), ep)[0].reason == "FEE_DAY_NOT_SCHEDULED"


def test_schedule_must_price_every_admitted_tier(tmp_path: Path) -> None:
    broken = RULES.replace(', 2: {bed: "7.50"}', "")
    with pytest.raises(PolicyLoadError, match=r"synthetic-False\.yaml:\d+: .*tier \[2\]"):
        policy(tmp_path, text=broken)


def test_caps_must_cover_the_schedule_categories(tmp_path: Path) -> None:
    broken = RULES.replace('3: {bed: "10.00"}', '3: {nursing: "10.00"}')
    with pytest.raises(PolicyLoadError, match="exactly the schedule's categories"):
        policy(tmp_path, text=broken)


def test_caps_refuse_float_amounts(tmp_path: Path) -> None:
    broken = RULES.replace('3: {bed: "10.00"}', "3: {bed: 10.5}")
    with pytest.raises(PolicyLoadError, match="float"):
        policy(tmp_path, text=broken)


def test_one_rule_per_session_kind(tmp_path: Path) -> None:
    broken = RULES.replace("session_kind: radiotherapy", "session_kind: chemotherapy")
    with pytest.raises(PolicyLoadError, match="only one rule"):
        policy(tmp_path, text=broken)
