"""Daily fees of a day ward (按日收取的床位费、护理费、诊察费): by the kind of session on a
treatment day, the schedule's categories are either not chargeable (e.g. 放疗不收取) or allowed
up to a daily amount by hospital tier (元/人次/天), the excess disallowed.

Several charges of one category on one day share the day's cap, allocated in canonical
(at, id) order so that the result does not depend on the input order. A charge of these
categories on a day with no session is disallowed: the schedule prices treatment days only.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from decimal import Decimal
from typing import Any

from ..codes import FlagCode, LineReason
from ..models.common import Category, SessionKind, local_date
from ..models.episode import Charge, Episode
from ..policy.loader import Policy
from ..policy.schema import CappedPerDay, DailyFeeSchedule, FeeDayRule, NotChargeable
from .dispatch import require_complete
from .findings import Findings
from .lines import ZERO, Placement, disallowed, included
from .sessions import day_ward_sessions, in_day_ward
from .trace import cite, flag, read, step

STEP = "daily_fees"


def fee_days(episode: Episode, schedule: DailyFeeSchedule) -> dict[dt.date, FeeDayRule | None]:
    """Each treatment day of the day-ward part and the schedule rule that decides it (the
    first whose session kind occurs that day), or ``None`` where no rule names its sessions."""
    kinds: dict[dt.date, set[SessionKind]] = {}
    for session in day_ward_sessions(episode):
        kinds.setdefault(local_date(session.start), set()).add(session.kind)
    return {
        day: next((rule for rule in schedule.days if rule.session_kind in present), None)
        for day, present in kinds.items()
    }


def place_daily_fees(
    episode: Episode,
    policy: Policy,
    schedule: DailyFeeSchedule | None,
    charges: Sequence[Charge],
    placements: list[Placement],
    findings: Findings,
) -> list[Placement]:
    """Apply the daily fee schedule to the day-ward charges of its categories."""
    if schedule is None:
        return placements
    days = fee_days(episode, schedule)
    tier = episode.institution.tier
    result = list(placements)
    used: dict[tuple[dt.date, Category], Decimal] = {}
    capped: list[str] = []
    order = sorted(
        (
            i
            for i, (charge, placement) in enumerate(zip(charges, placements, strict=True))
            if charge.category in schedule.categories and in_day_ward(episode, charge, placement)
        ),
        key=lambda i: (charges[i].at, charges[i].id),
    )
    for index in order:
        charge = charges[index]
        day = local_date(charge.at)
        if day not in days:
            result[index] = disallowed(LineReason.FEE_NO_SESSION_DAY, cite(policy, schedule))
            continue
        rule = days[day]
        if rule is None:
            result[index] = disallowed(LineReason.FEE_DAY_NOT_SCHEDULED, cite(policy, schedule))
        else:
            place: _Place = _FEE_DAYS[type(rule)]
            result[index] = place(policy, rule, tier, charge, day, used, capped)
    _report(policy, schedule, days, tier, len(order), capped, findings)
    return result


def _not_chargeable(
    policy: Policy,
    rule: NotChargeable,
    tier: int,
    charge: Charge,
    day: dt.date,
    used: dict[tuple[dt.date, Category], Decimal],
    capped: list[str],
) -> Placement:
    """A day whose session kind makes the schedule's categories not chargeable."""
    return disallowed(LineReason.FEE_NOT_CHARGEABLE, cite(policy, rule))


def _capped_per_day(
    policy: Policy,
    rule: CappedPerDay,
    tier: int,
    charge: Charge,
    day: dt.date,
    used: dict[tuple[dt.date, Category], Decimal],
    capped: list[str],
) -> Placement:
    """Allowed up to the day's cap for the hospital's tier, shared by the category's charges
    of that day in canonical order; the excess disallowed (``capped`` collects them)."""
    if tier not in rule.caps_by_tier:
        return disallowed(LineReason.FEE_TIER_NOT_SCHEDULED, cite(policy, rule))
    key = (day, charge.category)
    left = max(rule.caps_by_tier[tier][charge.category] - used.get(key, ZERO), ZERO)
    allowed = min(charge.amount, left)
    used[key] = used.get(key, ZERO) + allowed
    if allowed < charge.amount:
        capped.append(charge.id)
    reason = LineReason.FEE_WITHIN_CAP if allowed == charge.amount else LineReason.FEE_CAPPED
    return included(allowed, reason, cite(policy, rule))


def _not_chargeable_value(rule: NotChargeable, tier: int) -> object:
    return "not chargeable"


def _capped_value(rule: CappedPerDay, tier: int) -> object:
    caps = rule.caps_by_tier.get(tier)
    if caps is None:
        return "no caps for this tier"
    return [f"{c.value} {amount}" for c, amount in caps.items()]


_Place = Callable[
    [Policy, Any, int, Charge, dt.date, dict[tuple[dt.date, Category], Decimal], list[str]],
    Placement,
]
_FEE_DAYS: dict[type[Any], _Place] = {
    NotChargeable: _not_chargeable,
    CappedPerDay: _capped_per_day,
}
_FEE_DAY_VALUES: dict[type[Any], Callable[[Any, int], object]] = {
    NotChargeable: _not_chargeable_value,
    CappedPerDay: _capped_value,
}
"""One decision (and one trace value) per fee-day kind."""
require_complete(_FEE_DAYS, FeeDayRule, "engine/fees.py")
require_complete(_FEE_DAY_VALUES, FeeDayRule, "engine/fees.py trace values")


def _report(
    policy: Policy,
    schedule: DailyFeeSchedule,
    days: dict[dt.date, FeeDayRule | None],
    tier: int,
    judged: int,
    capped: list[str],
    findings: Findings,
) -> None:
    described = ", ".join(
        f"{day} {rule.kind if rule is not None else 'unscheduled'}"
        for day, rule in sorted(days.items())
    )
    parameters = [read("categories", [c.value for c in schedule.categories], schedule)]
    for rule in schedule.days:
        value = _FEE_DAY_VALUES[type(rule)](rule, tier)
        parameters.append(
            read(f"{rule.session_kind.value} day (tier {tier})", value, rule, field="caps_by_tier")
        )
    findings.trace.append(
        step(
            policy,
            STEP,
            schedule.kind,
            f"{judged} charge(s) of these categories judged over treatment days: "
            f"{described or 'none'}; {len(capped)} capped",
            schedule,
            tuple(parameters),
        )
    )
    if capped:
        capped.sort()
        findings.flags.append(
            flag(
                policy,
                FlagCode.FEE_OVER_DAILY_STANDARD,
                "warning",
                f"{len(capped)} charge(s) exceed the day ward's daily fee standard; the excess "
                f"is disallowed: {', '.join(capped)}",
                schedule,
                tuple(capped),
            )
        )
