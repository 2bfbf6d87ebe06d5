"""Charges between sessions (治疗间隔期费用: 完成当次治疗离开医疗机构至下次治疗前): after a
session ends and before the next one starts only the categories a rule lists may arise (e.g.
examinations, lab tests and oral drugs the treatment needs); any other charge lying there is
disallowed, and one violation flag lists them.

Only the day-ward part of the stay is judged, by time: charges dated inside the stay and,
for a converted episode (转普通住院), before the conversion, whether booked ``day_care`` or
``outpatient`` (a booking does not take a charge out of the interval); not ward charges,
nor charges another rule already disallowed.
"""

from __future__ import annotations

import datetime as dt
from bisect import bisect_right
from collections.abc import Sequence

from ..codes import FlagCode, LineReason
from ..models.common import Setting, local_date
from ..models.episode import Charge, Episode, Session
from ..policy.loader import Policy
from ..policy.schema import BetweenSessions
from .findings import Findings
from .lines import DISALLOWED, INCLUDED, Placement, disallowed
from .trace import cite, flag, read, step

STEP = "between_sessions"


def day_ward_sessions(episode: Episode) -> list[Session]:
    """The sessions of the day-ward part (before any conversion), sorted by start."""
    end = episode.conversion.at if episode.conversion is not None else None
    return sorted(
        (s for s in episode.sessions if end is None or s.start < end), key=lambda s: s.start
    )


def in_day_ward_part(episode: Episode, charge: Charge) -> bool:
    """Whether a charge is dated in the day-ward part of the stay (admission to discharge,
    before any conversion) and booked there or as an outpatient visit (not to the ward)."""
    if charge.setting not in _DAY_WARD_BOOKINGS:
        return False
    if not episode.admitted_at <= charge.at <= episode.discharged_at:
        return False
    return episode.conversion is None or charge.at < episode.conversion.at


_DAY_WARD_BOOKINGS = (Setting.DAY_CARE, Setting.OUTPATIENT)


def in_day_ward(episode: Episode, charge: Charge, placement: Placement) -> bool:
    """Whether a charge belongs to the day-ward part and is still open: dated there (see
    :func:`in_day_ward_part`) and included so far (not merged-out, not yet disallowed)."""
    return placement.disposition is INCLUDED and in_day_ward_part(episode, charge)


def place_between_sessions(
    episode: Episode,
    policy: Policy,
    rule: BetweenSessions | None,
    charges: Sequence[Charge],
    placements: list[Placement],
    findings: Findings,
) -> list[Placement]:
    """Disallow the day-ward charges between two sessions that ``rule`` does not allow."""
    if rule is None:
        return placements
    sessions = day_ward_sessions(episode)
    starts = [s.start for s in sessions]
    visit_days: set[dt.date] = set()
    if rule.exempt_session_days:
        for s in sessions:
            visit_days.update((local_date(s.start), local_date(s.end)))
    result = list(placements)
    violations: list[str] = []
    for index, (charge, placement) in enumerate(zip(charges, placements, strict=True)):
        if placement.disposition is DISALLOWED or not in_day_ward_part(episode, charge):
            continue
        if _allowed(rule, charge):
            continue
        if _between(sessions, starts, charge.at) and local_date(charge.at) not in visit_days:
            result[index] = disallowed(LineReason.BETWEEN_SESSIONS_NOT_ALLOWED, cite(policy, rule))
            violations.append(charge.id)
    violations.sort()
    allowed = [c.value for c in rule.categories]
    drugs = [
        f"{c.value} ({'/'.join(r.value for r in rule.drug_routes)})" for c in rule.drug_categories
    ]
    findings.trace.append(
        step(
            policy,
            STEP,
            rule.kind,
            f"{len(violations)} charge(s) between sessions of a category not allowed there"
            if violations
            else f"no disallowed charge between the {len(sessions)} session(s)",
            rule,
            (
                read("categories", allowed, rule),
                read("drugs", drugs or "none", rule, field="drug_categories"),
                read("requires_related", rule.requires_related, rule),
                read("exempt_session_days", rule.exempt_session_days, rule),
            ),
        )
    )
    if violations:
        findings.flags.append(
            flag(
                policy,
                FlagCode.BETWEEN_SESSIONS_CHARGES,
                "violation",
                f"{len(violations)} charge(s) arose between sessions although only "
                f"{', '.join(allowed + drugs)}"
                f"{' the treatment needs (marked related)' if rule.requires_related else ''} "
                f"may: {', '.join(violations)}",
                rule,
                tuple(violations),
            )
        )
    return result


def _allowed(rule: BetweenSessions, charge: Charge) -> bool:
    if rule.requires_related and not charge.related:
        return False
    if charge.category in rule.categories:
        return True
    return charge.category in rule.drug_categories and charge.route in rule.drug_routes


def _between(sessions: Sequence[Session], starts: Sequence[dt.datetime], at: dt.datetime) -> bool:
    """Strictly after a session's end and strictly before the next session's start."""
    after = bisect_right(starts, at)  # sessions starting at or before ``at``
    if after == 0 or after == len(sessions):
        return False
    return sessions[after - 1].end < at < starts[after]
