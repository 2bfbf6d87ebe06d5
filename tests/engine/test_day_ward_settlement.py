"""Unit tests of the day-ward kinds wired into eligibility, time limit and payment, under
the synthetic rule file (cycle limit 10 days, tier-3 bed cap 10.00, ordinary bed 30.00,
quota C50 1000.00)."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

from daycare_settle.engine.settle import settle_episode
from tests.engine.day_ward_policy import RULES, episode, policy

CHEMO = [(2, 9, 12, "chemotherapy"), (5, 9, 12, "chemotherapy"), (6, 9, 12, "radiotherapy")]


def test_sessions_required(tmp_path: Path) -> None:
    result = settle_episode(episode([], [("x", 2, 9, "treatment", "1.00")]), policy(tmp_path))
    assert [r.code for r in result.rejection_reasons] == ["SESSIONS_MISSING"]


def test_sessions_same_day_flags_but_does_not_reject(tmp_path: Path) -> None:
    ep = episode([(2, 22, 23.5, "chemotherapy")], [("x", 2, 22, "treatment", "1.00")])
    ep = ep.model_copy(
        update={"sessions": (ep.sessions[0].model_copy(update={"end": ep.discharged_at}),)}
    )
    result = settle_episode(ep, policy(tmp_path))
    assert result.status == "settled"
    assert result.time_limit.status == "not_applicable"
    assert {f.code for f in result.flags} == {"SESSION_SPANS_DAYS", "CYCLE_LONGER_THAN_USUAL"}


def test_cycle_within_max_days_not_flagged(tmp_path: Path) -> None:
    ep = episode(CHEMO, [("x", 2, 10, "treatment", "1.00")], discharged_at="2021-03-10T12:00:00")
    result = settle_episode(ep, policy(tmp_path))
    assert result.flags == ()


def test_quota_minus_fees_arithmetic(tmp_path: Path) -> None:
    ep = episode(
        CHEMO,
        [("b2", 2, 10, "bed", "15.00"), ("b5", 5, 10, "bed", "4.00"), ("b6", 6, 10, "bed", "4.00")],
        agency_method_choice="quota_minus_fees",
    )
    payment = settle_episode(ep, policy(tmp_path)).payment
    assert payment is not None
    # treatment days 2, 5, 6: 30 - 10 (capped), 30 - 4, 30 - 0 (radiotherapy: not chargeable)
    assert [s.amount for s in payment.calculation] == [
        Decimal("1000.00"),
        Decimal("20.00"),
        Decimal("26.00"),
        Decimal("30.00"),
        Decimal("76.00"),
        Decimal("924.00"),
    ]
    assert payment.agency_amount == Decimal("924.00")


def test_quota_never_below_zero(tmp_path: Path) -> None:
    sessions = [(d, 9, 12, "radiotherapy") for d in range(1, 20, 3)]
    ep = episode(
        sessions, [("x", 1, 10, "treatment", "1.00")], agency_method_choice="quota_minus_fees"
    )
    cheap = policy(tmp_path, text=RULES.replace('quota: "1000.00"', 'quota: "100.00"'))
    payment = settle_episode(ep, cheap).payment
    assert payment is not None
    assert payment.agency_amount == Decimal("0.00")


def test_quota_choice_needs_a_listed_disease(tmp_path: Path) -> None:
    ep = episode(
        CHEMO,
        [("x", 2, 10, "treatment", "1.00")],
        agency_method_choice="quota_minus_fees",
        diagnoses=[{"code": "C18.0", "system": "ICD-10"}],
    )
    result = settle_episode(ep, policy(tmp_path))
    assert [r.code for r in result.rejection_reasons] == ["QUOTA_DISEASE_NOT_LISTED"]
    assert result.payment is None
