"""Time limit (24 h / 48 h): admission to discharge within the limit, a condition-driven
extension up to the ceiling, or no limit for programmes whose stay spans days.

A converted episode is measured up to the conversion: the day-care part must keep the
limit, but an overrun there is a flag, not a rejection, because the stay settles as
ordinary inpatient care anyway.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from ..codes import FlagCode, RejectionCode
from ..models.common import local_date
from ..models.episode import Episode
from ..models.settlement import Citation, Flag, TimeLimit, TimeLimitStatus
from ..policy.loader import Policy
from ..policy.schema import NoTimeLimit, Rule, SessionsSameDay, StayHours, TimeLimitRule
from .dispatch import require_complete
from .findings import Findings
from .records import record
from .trace import cite, flag, once_per_policy, read, reject, step

STEP = "time_limit"


def day_care_span(episode: Episode) -> dt.timedelta:
    """From admission to discharge, or to the conversion where there is one."""
    end = episode.conversion.at if episode.conversion is not None else episode.discharged_at
    return end - episode.admitted_at


def check_time_limit(
    episode: Episode, policy: Policy, rule: TimeLimitRule | None, findings: Findings
) -> TimeLimit:
    """Measure the day-care span against the programme's time-limit rule; ``rule`` is
    ``None`` only for an episode no programme covers (measured, judged against nothing)."""
    span = day_care_span(episode)
    seconds = int(span.total_seconds())  # whole seconds; the limit is judged on the exact span
    micro = Decimal(span // _MICROSECOND)
    hours = str((micro / _MICROSECONDS_AN_HOUR).quantize(_HOURS_PLACES))
    if rule is None:
        return _not_applicable(policy, None, seconds, hours)
    decide: _Decide = _TIME_LIMITS[type(rule)]
    return decide(episode, policy, rule, span, seconds, hours, findings)


_MICROSECOND = dt.timedelta(microseconds=1)
_MICROSECONDS_AN_HOUR = Decimal(3_600_000_000)
_HOURS_PLACES = Decimal("0.0001")


def _not_applicable(policy: Policy, rule: Rule | None, seconds: int, hours: str) -> TimeLimit:
    return _time_limit(
        None, None, hours, seconds, TimeLimitStatus.NOT_APPLICABLE, cite(policy, rule)
    )


def _time_limit(
    limit: int | None,
    extended: int | None,
    hours: str,
    seconds: int,
    status: TimeLimitStatus,
    citation: Citation | None,
) -> TimeLimit:
    """The time-limit record: built from the engine's own values where each is exactly of
    its field's type (the rule's limits are strict integers), else validated."""
    values = {
        "limit_hours": limit,
        "extended_limit_hours": extended,
        "duration_hours": hours,
        "duration_seconds": seconds,
        "status": status,
        "citation": citation,
    }
    if (
        (limit is None or type(limit) is int)
        and (extended is None or type(extended) is int)
        and type(hours) is str
        and type(seconds) is int
        and type(status) is TimeLimitStatus
        and (citation is None or type(citation) is Citation)
    ):
        return record(TimeLimit, values, _TIME_LIMIT_FIELDS)
    return TimeLimit.model_validate(values)


_TIME_LIMIT_FIELDS = tuple(TimeLimit.model_fields)


def _no_time_limit(
    episode: Episode,
    policy: Policy,
    rule: NoTimeLimit,
    span: dt.timedelta,
    seconds: int,
    hours: str,
    findings: Findings,
) -> TimeLimit:
    """No stay-length limit (the stay spans days)."""
    findings.trace.append(
        step(policy, STEP, "none", f"no stay-length limit for this programme ({hours} h)", rule)
    )
    return _not_applicable(policy, rule, seconds, hours)


def _stay_hours(
    episode: Episode,
    policy: Policy,
    rule: StayHours,
    span: dt.timedelta,
    seconds: int,
    hours: str,
    findings: Findings,
) -> TimeLimit:
    """Admission (to discharge, or to the conversion) within the limit, or the extension."""
    status = _status(rule, span, episode.extension_reason)
    converted = episode.conversion is not None
    outcome = f"{status.value}: {hours} h against {rule.limit_hours} h"
    if rule.extended_limit_hours is not None:
        outcome += f" (extension with a reason up to {rule.extended_limit_hours} h)"
    findings.trace.append(
        step(
            policy,
            STEP,
            rule.kind,
            outcome,
            rule,
            (
                *once_per_policy(
                    policy,
                    rule,
                    "time_limit.limits",
                    lambda: (
                        read("limit_hours", rule.limit_hours, rule),
                        read("extended_limit_hours", rule.extended_limit_hours, rule),
                    ),
                ),
                read("extension_reason", episode.extension_reason, None),
            ),
        )
    )
    if status is TimeLimitStatus.EXCEEDED:
        message = _exceeded_message(rule, hours, episode.extension_reason)
        if converted:
            findings.flags.append(
                flag(
                    policy,
                    FlagCode.DAY_CARE_LIMIT_EXCEEDED_BEFORE_CONVERSION,
                    "warning",
                    f"before the conversion the day-care stay {message}",
                    rule,
                )
            )
        else:
            findings.rejections.append(
                reject(policy, RejectionCode.TIME_LIMIT_EXCEEDED, f"the stay {message}", rule)
            )
    return _time_limit(
        rule.limit_hours, rule.extended_limit_hours, hours, seconds, status, cite(policy, rule)
    )


def _status(rule: StayHours, span: dt.timedelta, reason: str | None) -> TimeLimitStatus:
    # The exact span, not whole seconds: 24 h and 0.9 s is over a 24 h limit.
    if span <= dt.timedelta(hours=rule.limit_hours):
        return TimeLimitStatus.WITHIN
    ceiling = rule.extended_limit_hours
    if ceiling is not None and reason is not None and span <= dt.timedelta(hours=ceiling):
        return TimeLimitStatus.EXTENDED
    return TimeLimitStatus.EXCEEDED


def _exceeded_message(rule: StayHours, hours: str, reason: str | None) -> str:
    if rule.extended_limit_hours is None:
        return (
            f"lasted {hours} h, over the {rule.limit_hours} h limit (this policy has no extension)"
        )
    if reason is None:
        return (
            f"lasted {hours} h, over the {rule.limit_hours} h limit, and no extension_reason "
            f"is given for an extension up to {rule.extended_limit_hours} h"
        )
    return f"lasted {hours} h, over the {rule.extended_limit_hours} h ceiling for an extended stay"


def _sessions_same_day(
    episode: Episode,
    policy: Policy,
    rule: SessionsSameDay,
    span: dt.timedelta,
    seconds: int,
    hours: str,
    findings: Findings,
) -> TimeLimit:
    """No limit on a settlement cycle (结算周期); each session on one calendar day (Asia/
    Shanghai), and the cycle within ``max_cycle`` days, else a warning flag."""
    for index, session in enumerate(episode.sessions):
        first, last = local_date(session.start), local_date(session.end)
        if first != last:
            findings.flags.append(
                flag(
                    policy,
                    FlagCode.SESSION_SPANS_DAYS,
                    "warning",
                    f"sessions[{index}] runs from {first} to {last}; the patient goes home "
                    "after each session",
                    rule,
                )
            )
    cycle_days = (local_date(episode.discharged_at) - local_date(episode.admitted_at)).days + 1
    limit = rule.max_cycle
    if limit is not None and cycle_days > limit.days:
        findings.flags.append(
            flag(
                policy,
                FlagCode.CYCLE_LONGER_THAN_USUAL,
                "warning",
                f"the settlement cycle spans {cycle_days} calendar days, over the usual "
                f"{limit.days}",
                limit,
            )
        )
    findings.trace.append(
        step(
            policy,
            STEP,
            rule.kind,
            f"no stay-length limit for a settlement cycle ({cycle_days} day(s), {hours} h); "
            f"{len(episode.sessions)} session(s) checked for starting and ending on one day",
            rule,
            (
                read(
                    "max_cycle_days",
                    None if limit is None else limit.days,
                    limit or rule,
                    field="days" if limit else "max_cycle",
                ),
            ),
        )
    )
    return _not_applicable(policy, rule, seconds, hours)


_Decide = Callable[[Episode, Policy, Any, dt.timedelta, int, str, Findings], TimeLimit]
_TIME_LIMITS: dict[type[Any], _Decide] = {
    StayHours: _stay_hours,
    NoTimeLimit: _no_time_limit,
    SessionsSameDay: _sessions_same_day,
}
"""One decision per time-limit kind."""
require_complete(_TIME_LIMITS, TimeLimitRule, "engine/time_limit.py")


def flag_sessions_after_policy_end(episode: Episode, policy: Policy, findings: Findings) -> None:
    """Flag the sessions that start after the last day of a policy with an end (e.g. a
    pilot), in an episode admitted while it was in force: the policy chosen by the admission
    day settles the whole cycle, but those sessions lie outside its window. The flag names
    the sessions and cites the clause stating the window (the header's ``source``)."""
    header = policy.rules.policy
    last = policy.last_day  # the registry's end where a later amendment ends the version
    if last is None:
        return
    late = sorted(s.start for s in episode.sessions if local_date(s.start) > last)
    if not late:
        return
    named = f"{len(late)} session(s) starting " + ", ".join(s.isoformat() for s in late)
    ended = "" if policy.end is None else f", amended by {policy.end.amended_by} from the next day"
    findings.flags.append(
        Flag(
            code=FlagCode.SESSIONS_AFTER_POLICY_END,
            severity="warning",
            message=(
                f"{named}: after {last}, the last day of {header.document} "
                f"({header.effective_from}..{last}{ended}); the cycle was admitted inside "
                "the window"
            ),
            citation=(
                policy.end.citation if policy.end is not None else policy.citation(header.source)
            ),
        )
    )
