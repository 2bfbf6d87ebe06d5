"""Unit tests of engine/sessions.py: charges between sessions (generic kind)."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

from daycare_settle.engine.findings import Findings
from daycare_settle.engine.lines import Placement, disallowed, included
from daycare_settle.engine.sessions import place_between_sessions
from daycare_settle.models.episode import Episode
from daycare_settle.policy.loader import Policy
from tests.engine.day_ward_policy import episode, policy

SESSIONS = [(2, 9, 12, "chemotherapy"), (9, 9, 12, "chemotherapy")]


def _run(pol: Policy, ep: Episode) -> tuple[list[Placement], Findings]:
    rules = pol.programme(ep.programme)
    assert rules is not None
    findings = Findings()
    start = [included(c.amount, "IN_STAY", None) for c in ep.charges]
    return place_between_sessions(ep, pol, rules.between_sessions, ep.charges, start, findings), (
        findings
    )


def test_only_listed_categories_and_drug_routes_between_sessions(tmp_path: Path) -> None:
    ep = episode(
        SESSIONS,
        [
            ("lab", 5, 10, "lab_test", "10.00"),
            ("exam", 5, 10, "examination", "10.00"),  # not listed in this synthetic rule
            ("drug", 5, 10, "western_drug", "10.00"),  # no route
        ],
    )
    placements, findings = _run(policy(tmp_path), ep)
    assert [p.reason for p in placements] == [
        "IN_STAY",
        "BETWEEN_SESSIONS_NOT_ALLOWED",
        "BETWEEN_SESSIONS_NOT_ALLOWED",
    ]
    assert placements[1].allowed == Decimal("0.00")
    assert findings.flags[0].charge_ids == ("drug", "exam")


def test_session_boundaries_are_not_between(tmp_path: Path) -> None:
    ep = episode(
        SESSIONS,
        [
            ("at-end", 2, 12, "treatment", "1.00"),
            ("at-start", 9, 9, "treatment", "1.00"),
            ("during", 2, 10, "treatment", "1.00"),
            ("after-end", 2, 12.5, "treatment", "1.00"),
            ("before-first", 1, 8, "treatment", "1.00"),
            ("after-last", 10, 8, "treatment", "1.00"),
        ],
    )
    placements, _ = _run(policy(tmp_path), ep)
    assert [p.reason for p in placements] == [
        "IN_STAY",
        "IN_STAY",
        "IN_STAY",
        "BETWEEN_SESSIONS_NOT_ALLOWED",
        "IN_STAY",
        "IN_STAY",
    ]


def test_exempt_session_days_keeps_the_visit_day(tmp_path: Path) -> None:
    ep = episode(
        SESSIONS, [("after-end", 2, 15, "treatment", "1.00"), ("mid", 5, 10, "treatment", "1.00")]
    )
    placements, _ = _run(policy(tmp_path, exempt_session_days=True), ep)
    assert [p.reason for p in placements] == ["IN_STAY", "BETWEEN_SESSIONS_NOT_ALLOWED"]


def test_already_decided_charges_are_left_alone(tmp_path: Path) -> None:
    ep = episode(SESSIONS, [("mid", 5, 10, "treatment", "1.00")])
    pol = policy(tmp_path)
    rules = pol.programme(ep.programme)
    assert rules is not None
    start = [disallowed("CHARGE_OUTSIDE_STAY", None)]
    out = place_between_sessions(ep, pol, rules.between_sessions, ep.charges, start, Findings())
    assert out == start


def test_no_rule_changes_nothing(tmp_path: Path) -> None:
    ep = episode(SESSIONS, [("mid", 5, 10, "treatment", "1.00")])
    start = [included(Decimal("1.00"), "IN_STAY", None)]
    assert place_between_sessions(ep, policy(tmp_path), None, ep.charges, start, Findings()) == (
        start
    )
