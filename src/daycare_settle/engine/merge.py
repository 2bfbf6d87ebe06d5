"""Merge windows — 院前门诊费用合并 and 出院后处置费用合并: which outpatient charges before
admission, which outpatient-booked charges inside the stay and which charges after discharge
settle with the stay. The side is decided by the charge's time, not by its booking: an
outpatient charge dated before admission is a pre-admission candidate, one inside the stay a
during-stay candidate, one after discharge a post-discharge candidate.

A charge merges when it passes every condition of its window's rule, checked in a fixed
order (institution, relatedness, category, window) so that the reason names the first
condition it fails. Each charge is judged on its own: adding or removing another charge
never changes it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any, Literal, NamedTuple

from ..codes import LineReason
from ..models.common import SHANGHAI, Category, local_date
from ..models.episode import Charge, Episode
from ..models.settlement import (
    Citation,
    MergeWindowBounds,
    MergeWindows,
    ParameterRead,
    TraceStep,
)
from ..policy.loader import Policy
from ..policy.schema import (
    ClinicalPathwayWindow,
    ConvertToOrdinaryInpatient,
    DaysWindow,
    DuringStayRule,
    MergeDuringStay,
    MergeRule,
    MergeRules,
    MergeWindow,
    NoMerge,
    Rule,
    WindowRule,
)
from .dispatch import require_complete
from .findings import Findings
from .lines import INCLUDED, Placement, new_tuple, not_merged
from .records import record
from .trace import cite, once_per_policy, read, step

STEP = "merge"
Side = Literal["pre_admission", "post_discharge"]
_MERGED: dict[Side, LineReason] = {
    "pre_admission": LineReason.MERGED_PRE_ADMISSION,
    "post_discharge": LineReason.MERGED_POST_DISCHARGE,
}
_NO_MERGE: dict[Side, LineReason] = {
    "pre_admission": LineReason.NOT_MERGED_NO_PRE_ADMISSION_MERGE,
    "post_discharge": LineReason.NOT_MERGED_NO_POST_DISCHARGE_MERGE,
}


# The plans are named tuples: made for every settlement, and a tuple is the cheapest
# immutable record to make (a frozen dataclass sets each field through object.__setattr__).


class Bound(NamedTuple):
    """A window edge as a calendar day (Asia/Shanghai) and/or an exact moment."""

    day: dt.date | None = None
    moment: dt.datetime | None = None


class SidePlan(NamedTuple):
    """The compiled merge rule of one side, or why nothing of that side merges."""

    side: Side
    rule: MergeRule
    bound: Bound
    dropped_by: ConvertToOrdinaryInpatient | None = None
    citation: Citation | None = None


class StayPlan(NamedTuple):
    """The rule for outpatient-booked charges inside the stay."""

    rule: DuringStayRule
    citation: Citation | None


class MergePlan(NamedTuple):
    pre_admission: SidePlan
    post_discharge: SidePlan
    during_stay: StayPlan


def plan_merge(
    episode: Episode,
    policy: Policy,
    rules: MergeRules,
    conversion: ConvertToOrdinaryInpatient | None,
    findings: Findings,
) -> MergePlan:
    """Fix each side's window for this episode and record it in the trace."""
    plans = []
    for side in _SIDES:
        rule: MergeRule = getattr(rules, side)
        dropped = (
            conversion if conversion is not None and side not in conversion.keep_merges else None
        )
        bound = _bound(episode, side, rule)
        plans.append(SidePlan(side, rule, bound, dropped, cite(policy, rule)))
        findings.trace.append(_trace(policy, side, rule, bound, dropped))
    during = rules.during_stay
    findings.trace.append(_during_trace(policy, during))
    return MergePlan(
        pre_admission=plans[0],
        post_discharge=plans[1],
        during_stay=StayPlan(during, cite(policy, during)),
    )


def merge_windows(episode: Episode, plan: MergePlan) -> MergeWindows:
    """The merge windows of ``episode`` as values: the bounds :func:`plan_merge` fixed and
    the trace states, each marked applied unless a conversion dropped its side. What the
    result's ``windows`` block records."""
    sides: list[MergeWindowBounds | None] = []
    for side_plan in (plan.pre_admission, plan.post_discharge):
        window: Callable[[Episode, Side, Any, Bound, bool], MergeWindowBounds | None] = (
            _SIDE_WINDOWS[type(side_plan.rule)]
        )
        sides.append(
            window(
                episode,
                side_plan.side,
                side_plan.rule,
                side_plan.bound,
                side_plan.dropped_by is None,
            )
        )
    return record(MergeWindows, {"pre_admission": sides[0], "post_discharge": sides[1]}, _SIDES)


_SIDES: tuple[Side, Side] = ("pre_admission", "post_discharge")
"""The merge sides, in the order of a :class:`MergePlan`'s first two fields."""


def _none_window(
    episode: Episode, side: Side, rule: NoMerge, bound: Bound, applied: bool
) -> MergeWindowBounds | None:
    return None


def _window_bounds(
    episode: Episode, side: Side, rule: MergeWindow, bound: Bound, applied: bool
) -> MergeWindowBounds | None:
    if bound.day is not None:
        day = bound.day.isoformat()
        if side == "pre_admission":  # from 00:00 of the first day
            start = day + _MIDNIGHT_TEXT
            return _bounds(
                "calendar_days", start, episode.admitted_at.isoformat(), day, None, applied
            )
        end = (bound.day + _ONE_DAY).isoformat() + _MIDNIGHT_TEXT  # to 00:00 after the last
        return _bounds("calendar_days", episode.discharged_at.isoformat(), end, None, day, applied)
    moment = None if bound.moment is None else bound.moment.isoformat()
    if side == "pre_admission":
        return _bounds(
            "clinical_pathway", moment, episode.admitted_at.isoformat(), None, None, applied
        )
    end = moment or episode.discharged_at.isoformat()
    return _bounds("clinical_pathway", episode.discharged_at.isoformat(), end, None, None, applied)


def _bounds(
    basis: Literal["calendar_days", "clinical_pathway"],
    start: str | None,
    end: str,
    first_day: str | None,
    last_day: str | None,
    applied: bool,
) -> MergeWindowBounds:
    """The window record from the texts the engine formatted (``isoformat`` of validated
    times and days), built without a second validation; its fields given are the ones the
    validating constructor was handed (a calendar-day window its first or last day)."""
    given = (
        _GIVEN_FIRST_DAY
        if first_day is not None
        else _GIVEN_LAST_DAY
        if last_day is not None
        else _GIVEN_PATHWAY
    )
    return record(
        MergeWindowBounds,
        {
            "basis": basis,
            "start": start,
            "end": end,
            "first_day": first_day,
            "last_day": last_day,
            "applied": applied,
        },
        given,
    )


_GIVEN_FIRST_DAY = ("basis", "start", "end", "first_day", "applied")
_GIVEN_LAST_DAY = ("basis", "start", "end", "last_day", "applied")
_GIVEN_PATHWAY = ("basis", "start", "end", "applied")


def _during_trace(policy: Policy, rule: DuringStayRule) -> TraceStep:
    """The during-stay step reads nothing of the episode: one record per policy."""
    trace: Callable[[Policy, Any], TraceStep] = _DURING_TRACES[type(rule)]
    return once_per_policy(policy, rule, "merge.during_stay", lambda: trace(policy, rule))


def _conditions(
    policy: Policy, rule: MergeWindow | MergeDuringStay
) -> tuple[ParameterRead, ParameterRead, ParameterRead]:
    """The reads of a merge rule's conditions (institution, relatedness, categories): the
    rule's own values, the same in every settlement under the policy."""

    def make() -> tuple[ParameterRead, ParameterRead, ParameterRead]:
        categories = (
            rule.categories if rule.categories == "all" else [c.value for c in rule.categories]
        )
        return (
            read("same_institution", rule.same_institution, rule),
            read("requires_related", rule.requires_related, rule),
            read("categories", categories, rule),
        )

    return once_per_policy(policy, rule, "merge.conditions", make)


def _during_none_trace(policy: Policy, rule: NoMerge) -> TraceStep:
    return step(
        policy, STEP, "during_stay: none", "no outpatient-booked cost in the stay merges", rule
    )


def _during_stay_trace(policy: Policy, rule: MergeDuringStay) -> TraceStep:
    return step(
        policy,
        STEP,
        f"during_stay: {rule.kind}",
        "outpatient-booked charges dated inside the stay are judged as costs of the stay",
        rule,
        _conditions(policy, rule),
    )


Placer = Callable[[Charge], Placement]
"""The placement of one charge of a side. A placer is made per settlement: what depends on
the episode and the rule (the conditions, the window's instants) is fixed when it is made,
and the refusals, which depend on the policy alone (a reason and a citation), are one shared
record per policy, so that placing a charge is a few comparisons."""


def during_stay_placer(episode: Episode, policy: Policy, plan: StayPlan) -> Placer:
    """The placer of the outpatient-booked charges dated inside the stay (admission to
    discharge)."""
    make: Callable[[Episode, Policy, StayPlan, Any], Placer] = _DURING_PLACERS[type(plan.rule)]
    return make(episode, policy, plan, plan.rule)


def _during_none(episode: Episode, policy: Policy, plan: StayPlan, rule: NoMerge) -> Placer:
    placement = once_per_policy(
        policy,
        rule,
        "place.during_stay",
        lambda: not_merged(LineReason.OUTPATIENT_CHARGE_DURING_STAY, plan.citation),
    )
    return lambda charge: placement


_Refusals = tuple[Placement, Placement, Placement, frozenset[Category] | None]


def _refusals(rule: MergeWindow | MergeDuringStay, citation: Citation | None) -> _Refusals:
    """A merge rule's refusals for its conditions (another institution, not related, a
    category that does not merge), and its categories as a set (``None``: all); kept once
    per policy by the callers. ``citation`` is the rule's own."""
    return (
        not_merged(LineReason.NOT_MERGED_OTHER_INSTITUTION, citation),
        not_merged(LineReason.NOT_MERGED_UNRELATED, citation),
        not_merged(LineReason.NOT_MERGED_CATEGORY, citation),
        None if rule.categories == "all" else frozenset(rule.categories),
    )


def _during_stay(episode: Episode, policy: Policy, plan: StayPlan, rule: MergeDuringStay) -> Placer:
    refused = _first_refusal(
        episode,
        rule,
        once_per_policy(policy, rule, "place.during_stay", lambda: _refusals(rule, plan.citation)),
    )
    citation = plan.citation
    reason = LineReason.MERGED_DURING_STAY

    def place(charge: Charge) -> Placement:
        refusal = refused(charge)
        if refusal is not None:
            return refusal
        return new_tuple(Placement, (INCLUDED, charge.amount, reason, citation, None))

    return place


def _first_refusal(
    episode: Episode, rule: MergeWindow | MergeDuringStay, refusals: _Refusals
) -> Callable[[Charge], Placement | None]:
    """A merge rule's conditions in their fixed order (institution, relatedness, category):
    the refusal of the first a charge fails, or ``None`` when it meets them all."""
    elsewhere, unrelated, other_category, categories = refusals
    own = episode.institution.id if rule.same_institution else None
    related = rule.requires_related

    def refused(charge: Charge) -> Placement | None:
        if own is not None and (charge.institution_id or own) != own:
            return elsewhere
        if related and not charge.related:
            return unrelated
        if categories is not None and charge.category not in categories:
            return other_category
        return None

    return refused


def _bound(episode: Episode, side: Side, rule: MergeRule) -> Bound:
    bound: Callable[[Episode, Side, Any], Bound] = _SIDE_BOUNDS[type(rule)]
    return bound(episode, side, rule)


def _none_bound(episode: Episode, side: Side, rule: NoMerge) -> Bound:
    """A side that merges nothing has no window to bound."""
    return Bound()


def _window_bound(episode: Episode, side: Side, rule: MergeWindow) -> Bound:
    bound: Callable[[Episode, Side, Any], Bound] = _WINDOW_BOUNDS[type(rule.window)]
    return bound(episode, side, rule.window)


def _days_bound(episode: Episode, side: Side, window: DaysWindow) -> Bound:
    if side == "pre_admission":
        return Bound(day=local_date(episode.admitted_at) - dt.timedelta(days=window.days))
    return Bound(day=local_date(episode.discharged_at) + dt.timedelta(days=window.days))


def _pathway_bound(episode: Episode, side: Side, window: ClinicalPathwayWindow) -> Bound:
    pathway = episode.clinical_pathway
    if side == "pre_admission":
        return Bound(moment=None if pathway is None else pathway.first_visit_at)
    end = None if pathway is None else pathway.ended_at
    return Bound(moment=end or episode.discharged_at)


def _trace(
    policy: Policy, side: Side, rule: MergeRule, bound: Bound, dropped: Rule | None
) -> TraceStep:
    trace: Callable[[Policy, Side, Any, Bound, Rule | None], TraceStep] = _SIDE_TRACES[type(rule)]
    return trace(policy, side, rule, bound, dropped)


def _none_trace(
    policy: Policy, side: Side, rule: NoMerge, bound: Bound, dropped: Rule | None
) -> TraceStep:
    return once_per_policy(
        policy,
        rule,
        f"merge.none.{side}",
        lambda: step(
            policy, STEP, f"{side}: none", f"no {side.replace('_', '-')} costs merge", rule
        ),
    )


def _window_trace(
    policy: Policy, side: Side, rule: MergeWindow, bound: Bound, dropped: Rule | None
) -> TraceStep:
    window = rule.window
    describe: Callable[[Side, Bound, Any], str] = _WINDOW_EDGES[type(window)]
    edge = describe(side, bound, window)
    read_window: Callable[[Side, Any], ParameterRead] = _WINDOW_READS[type(window)]
    parameters = once_per_policy(
        policy,
        rule,
        f"merge.window.{side}",
        lambda: (*_conditions(policy, rule), read_window(side, window)),
    )
    outcome = f"{side.replace('_', '-')} window {edge}"
    if dropped is not None:
        outcome += "; not applied: the episode converted to ordinary inpatient care"
    return step(policy, STEP, f"{side}: {rule.kind}", outcome, rule, parameters)


def _days_read(side: Side, window: DaysWindow) -> ParameterRead:
    return read(f"{side}_window_days", window.days, window, field="days")


def _days_edge(side: Side, bound: Bound, window: DaysWindow) -> str:
    return f"{'from' if side == 'pre_admission' else 'until'} {bound.day} (calendar day)"


def _pathway_read(side: Side, window: ClinicalPathwayWindow) -> ParameterRead:
    return read(f"{side}_window", "clinical_pathway", window, field="kind")


def _pathway_edge(side: Side, bound: Bound, window: ClinicalPathwayWindow) -> str:
    if side == "pre_admission":
        if bound.moment is None:
            return "from any time before admission (no clinical_pathway.first_visit_at)"
        return f"from the first visit for this disease at {bound.moment.isoformat()}"
    end = bound.moment.isoformat() if bound.moment else "discharge"
    return f"until the end of the clinical pathway at {end}"


def side_placer(episode: Episode, policy: Policy, plan: SidePlan) -> Placer:
    """The placer of ``plan``'s side of ``episode``: outpatient charges dated before
    admission, or post-discharge candidates (booked ``post_discharge``, or booked
    ``outpatient`` and dated after discharge).

    A post-discharge candidate dated before discharge is no post-discharge cost, whatever
    the window; then a side a conversion dropped merges nothing; then the side's rule."""
    side, rule = plan.side, plan.rule
    discharged = None if side == "pre_admission" else episode.discharged_at
    dropped_by = plan.dropped_by
    if dropped_by is None:
        make: Callable[[Episode, Policy, SidePlan, Any, dt.datetime | None], Placer]
        make = _SIDE_PLACERS[type(rule)]
        return make(episode, policy, plan, rule, discharged)
    fixed = once_per_policy(
        policy,
        dropped_by,
        "place.dropped",
        lambda: not_merged(LineReason.NOT_MERGED_AFTER_CONVERSION, cite(policy, dropped_by)),
    )
    return _fixed_after(discharged, _before_discharge(plan), fixed)


def _before_discharge(plan: SidePlan) -> Placement:
    return not_merged(LineReason.POST_DISCHARGE_CHARGE_BEFORE_DISCHARGE, plan.citation)


def _fixed_after(discharged: dt.datetime | None, before: Placement, fixed: Placement) -> Placer:
    """One placement for every charge of the side (``before`` for a charge dated before
    ``discharged``, where that is given)."""
    if discharged is None:
        return lambda charge: fixed
    return lambda charge: before if charge.at < discharged else fixed


def _side_none(
    episode: Episode, policy: Policy, plan: SidePlan, rule: NoMerge, discharged: dt.datetime | None
) -> Placer:
    before, fixed = once_per_policy(
        policy,
        rule,
        f"place.none.{plan.side}",
        lambda: (_before_discharge(plan), not_merged(_NO_MERGE[plan.side], plan.citation)),
    )
    return _fixed_after(discharged, before, fixed)


def _side_window(
    episode: Episode,
    policy: Policy,
    plan: SidePlan,
    rule: MergeWindow,
    discharged: dt.datetime | None,
) -> Placer:
    # The conditions in their fixed order: institution, relatedness, category; then the
    # window (see _window_instants).
    before, outside, refusals = once_per_policy(
        policy,
        rule,
        f"place.window.{plan.side}",
        lambda: (
            _before_discharge(plan),
            not_merged(
                LineReason.NOT_MERGED_OUTSIDE_WINDOW, cite(policy, rule.window) or plan.citation
            ),
            _refusals(rule, plan.citation),
        ),
    )
    refused = _first_refusal(episode, rule, refusals)
    from_day, from_moment, before_day, to_moment = _window_instants(plan)
    side, reason, citation = plan.side, _MERGED[plan.side], plan.citation

    def place(charge: Charge) -> Placement:
        at = charge.at
        if discharged is not None and at < discharged:
            return before
        refusal = refused(charge)
        if refusal is not None:
            return refusal
        if (
            (from_day is not None and at < from_day)
            or (from_moment is not None and at < from_moment)
            or (before_day is not None and at >= before_day)
            or (to_moment is not None and at > to_moment)
        ):
            return outside
        return new_tuple(Placement, (INCLUDED, charge.amount, reason, citation, side))

    return place


_Instant = dt.datetime | None


def _window_instants(plan: SidePlan) -> tuple[_Instant, _Instant, _Instant, _Instant]:
    """The window as instants: before admission, from 00:00 of its first day (Asia/
    Shanghai) and from its first moment, both included; after discharge, before 00:00 of
    the day after its last day, and until its last moment, included (``None`` where the
    window has no such edge). A calendar day compared as the instants it spans gives the
    same answer as the instant's local day, without converting each charge's time."""
    day, moment = plan.bound
    if plan.side == "pre_admission":
        return (None if day is None else _combine(day, _MIDNIGHT, SHANGHAI)), moment, None, None
    return (
        None,
        None,
        (None if day is None else _combine(day + _ONE_DAY, _MIDNIGHT, SHANGHAI)),
        moment,
    )


_combine = dt.datetime.combine
_MIDNIGHT = dt.time()
_ONE_DAY = dt.timedelta(days=1)
_MIDNIGHT_TEXT = _combine(dt.date(2000, 1, 1), _MIDNIGHT, SHANGHAI).isoformat()[len("2000-01-01") :]
"""What ``isoformat`` writes after a day for 00:00 of that day in Asia/Shanghai
(``T00:00:00+08:00``): a window's calendar-day edge is its day's text and this."""


_WINDOW_BOUNDS: dict[type[Any], Callable[[Episode, Side, Any], Bound]] = {
    DaysWindow: _days_bound,
    ClinicalPathwayWindow: _pathway_bound,
}
_WINDOW_READS: dict[type[Any], Callable[[Side, Any], ParameterRead]] = {
    DaysWindow: _days_read,
    ClinicalPathwayWindow: _pathway_read,
}
_WINDOW_EDGES: dict[type[Any], Callable[[Side, Bound, Any], str]] = {
    DaysWindow: _days_edge,
    ClinicalPathwayWindow: _pathway_edge,
}
_SIDE_BOUNDS: dict[type[Any], Callable[[Episode, Side, Any], Bound]] = {
    NoMerge: _none_bound,
    MergeWindow: _window_bound,
}
_SIDE_WINDOWS: dict[
    type[Any], Callable[[Episode, Side, Any, Bound, bool], MergeWindowBounds | None]
] = {
    NoMerge: _none_window,
    MergeWindow: _window_bounds,
}
_SIDE_TRACES: dict[type[Any], Callable[[Policy, Side, Any, Bound, Rule | None], TraceStep]] = {
    NoMerge: _none_trace,
    MergeWindow: _window_trace,
}
_SIDE_PLACERS: dict[
    type[Any], Callable[[Episode, Policy, SidePlan, Any, dt.datetime | None], Placer]
] = {
    NoMerge: _side_none,
    MergeWindow: _side_window,
}
_DURING_TRACES: dict[type[Any], Callable[[Policy, Any], TraceStep]] = {
    NoMerge: _during_none_trace,
    MergeDuringStay: _during_stay_trace,
}
_DURING_PLACERS: dict[type[Any], Callable[[Episode, Policy, StayPlan, Any], Placer]] = {
    NoMerge: _during_none,
    MergeDuringStay: _during_stay,
}
"""One decision per merge kind: window (its edge and trace), side rule, during-stay rule."""
require_complete(_WINDOW_BOUNDS, WindowRule, "engine/merge.py windows")
require_complete(_WINDOW_READS, WindowRule, "engine/merge.py window reads")
require_complete(_WINDOW_EDGES, WindowRule, "engine/merge.py window edges")
require_complete(_SIDE_BOUNDS, MergeRule, "engine/merge.py side bounds")
require_complete(_SIDE_WINDOWS, MergeRule, "engine/merge.py side windows")
require_complete(_SIDE_TRACES, MergeRule, "engine/merge.py side traces")
require_complete(_SIDE_PLACERS, MergeRule, "engine/merge.py sides")
require_complete(_DURING_PLACERS, DuringStayRule, "engine/merge.py during_stay")
require_complete(_DURING_TRACES, DuringStayRule, "engine/merge.py during_stay traces")
