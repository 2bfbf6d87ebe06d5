"""The orchestrator: parse the episode, pick the policy version in force, run the decisions
in order (eligibility, time limit, conversion, merge, charges, payment) and assemble the
settlement with its trace. Pure: no I/O beyond the cached rule files, no global state.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable, Mapping
from decimal import localcontext
from pathlib import Path
from typing import Any, Literal, ParamSpec, TypeVar

from pydantic import ValidationError

from ..codes import FlagCode, LineReason, RejectionCode
from ..errors import (
    FieldProblem,
    InvalidArgument,
    InvalidEpisode,
    PolicyUnconfirmed,
)
from ..exact_json import loads_exact
from ..models.common import MONEY_CONTEXT, Programme, Setting, local_date
from ..models.episode import Episode, InconsistentEpisode, error_problems, fast_episode
from ..models.settlement import PolicyRef, RejectionReason, Settlement
from ..policy.loader import Policy
from ..policy.registry import resolve_policy
from ..policy.schema import (
    ConvertToOrdinaryInpatient,
    DuringStayRule,
    MergeRule,
    ProgrammeRules,
    Rule,
)
from .audit import run_audit
from .conversion import conversion_outcome, decide_conversion
from .eligibility import check_eligibility
from .fees import place_daily_fees
from .findings import Findings
from .lines import (
    Placement,
    build_lines_and_totals,
    disallowed,
)
from .merge import (
    MergePlan,
    during_stay_placer,
    merge_windows,
    plan_merge,
    side_placer,
)
from .payment import decide_payment
from .records import record
from .sessions import place_between_sessions
from .stay import separate_ward_part, stay_placer
from .time_limit import check_time_limit, flag_sessions_after_policy_end
from .trace import flag, once_per_policy, reject, step

EpisodeInput = Episode | Mapping[str, Any] | str | bytes
P = ParamSpec("P")
R = TypeVar("R")


def _in_money_context(function: Callable[P, R]) -> Callable[P, R]:
    """Run ``function`` in the library's decimal context (``MONEY_CONTEXT``), whatever
    context the caller's thread has set; the caller's context is restored after."""

    @functools.wraps(function)
    def run(*args: P.args, **kwargs: P.kwargs) -> R:
        with localcontext(MONEY_CONTEXT):
            return function(*args, **kwargs)

    return run


@_in_money_context
def settle(
    episode: EpisodeInput, policy: str | Path | Policy, *, strict: bool = False
) -> Settlement:
    """Settle one day-care episode under the policy version in force on its admission day.

    ``episode`` is an :class:`Episode`, a mapping, or JSON text; ``policy`` (required: there
    is no default city) a bundled policy id, the path of a rule file, or a :class:`Policy`.
    An episode admitted after the policy's ``confirmed_until`` settles with a
    ``POLICY_UNCONFIRMED`` flag; with ``strict=True`` it raises :class:`PolicyUnconfirmed`.
    Raises :class:`InvalidEpisode`, :class:`UnknownPolicy`, :class:`PolicyNotInForce`,
    :class:`PolicyLoadError` or :class:`InvalidArgument` (a ``policy`` or ``strict`` of the
    wrong type); never returns a partial result.
    """
    if not isinstance(strict, bool):
        raise InvalidArgument(f"strict= must be True or False, not {type(strict).__name__}")
    parsed = parse_episode(episode)
    compiled = resolve_policy(policy, on=local_date(parsed.admitted_at))
    if strict and _unconfirmed(parsed, compiled):
        raise PolicyUnconfirmed(_unconfirmed_text(parsed, compiled))
    return _settle_in_context(parsed, compiled)  # settle runs in the money context already


def _unconfirmed(episode: Episode, policy: Policy) -> bool:
    return local_date(episode.admitted_at) > policy.rules.policy.confirmed_until


def _unconfirmed_text(episode: Episode, policy: Policy) -> str:
    header = policy.rules.policy
    return (
        f"admitted on {local_date(episode.admitted_at)}, after {header.document} "
        f"(policy {header.id!r} version {header.version}) was last confirmed against its "
        f"source on {header.confirmed_until}: the rules may have changed since"
    )


@_in_money_context
def parse_episode(episode: EpisodeInput) -> Episode:
    """Validate input into an :class:`Episode`; JSON numbers are read as exact decimals."""
    data: Any = episode
    if type(episode) is not dict:  # a dict is neither an Episode, nor text, nor refused
        if isinstance(episode, Episode):
            return episode
        if isinstance(episode, str | bytes):
            data = _load_json(episode)
        if not isinstance(data, Mapping):
            raise InvalidEpisode([FieldProblem("", "an episode must be a JSON object")])
    fast = fast_episode(data)  # the common episode, read as the model would read it
    if fast is not None:
        return fast
    try:
        return Episode.model_validate(data)
    except ValidationError as exc:
        errors = exc.errors(include_url=False, include_input=False)
        raise _invalid(errors) from None


def _invalid(errors: Iterable[Any]) -> InvalidEpisode:
    """The first problems with their paths, and how many there are in all."""
    kept: list[FieldProblem] = []
    count = 0
    for error in errors:
        if len(kept) >= InvalidEpisode.KEPT and not isinstance(
            error.get("ctx", {}).get("error"), InconsistentEpisode
        ):
            count += 1  # past the kept ones, a problem of one field is only counted
            continue
        found = error_problems(error)
        count += len(found)
        kept.extend(found[: max(0, InvalidEpisode.KEPT - len(kept))])
    return InvalidEpisode(kept, count=count)


def _load_json(text: str | bytes) -> Any:
    try:
        return loads_exact(text)
    except (ValueError, RecursionError) as exc:
        raise InvalidEpisode([FieldProblem("", f"malformed JSON: {exc}")]) from None


@_in_money_context
def settle_episode(episode: Episode, policy: Policy) -> Settlement:
    """Settle a validated episode under a compiled policy already chosen for it."""
    return _settle_in_context(episode, policy)


def _settle_in_context(episode: Episode, policy: Policy) -> Settlement:
    """:func:`settle_episode` for a caller that runs in ``MONEY_CONTEXT`` already."""
    findings = Findings()
    if _unconfirmed(episode, policy):  # whatever else happens, before any other outcome
        scope = Rule(source=policy.rules.policy.scope)
        text = _unconfirmed_text(episode, policy)
        findings.flags.append(flag(policy, FlagCode.POLICY_UNCONFIRMED, "warning", text, scope))
    rules = policy.programme(episode.programme)
    if rules is None:
        return _not_covered(episode, policy, findings)
    programme = episode.programme.value
    findings.trace.append(
        once_per_policy(
            policy,
            rules.scope,
            f"scope.{programme}",
            lambda: step(
                policy,
                "scope",
                programme,
                f"programme {programme} is covered by {policy.rules.policy.document}"
                + _composition_text(policy),
                rules.scope,
            ),
        )
    )
    check_eligibility(episode, policy, rules.eligibility, findings)
    time_limit = check_time_limit(episode, policy, rules.time_limit, findings)
    flag_sessions_after_policy_end(episode, policy, findings)
    conversion = decide_conversion(episode, policy, rules.conversion, findings)
    plan = plan_merge(episode, policy, rules.merge, conversion, findings)
    placements = _place_charges(episode, policy, rules, conversion, plan, findings)
    placements = place_between_sessions(
        episode, policy, rules.between_sessions, episode.charges, placements, findings
    )
    placements = place_daily_fees(
        episode, policy, rules.fee_schedule, episode.charges, placements, findings
    )
    allowed = {c.id: p.allowed for c, p in zip(episode.charges, placements, strict=True)}
    payment = decide_payment(episode, policy, rules.payment, conversion, findings, allowed)
    rejected = bool(findings.rejections)
    if rejected:
        placements = _reject_all(episode, findings.rejections[0])
        payment = None
    else:
        run_audit(episode, policy, rules.audit, placements, findings)
    lines, totals = build_lines_and_totals(episode.charges, placements)
    values: dict[str, Any] = {
        "episode_id": episode.episode_id,
        "policy": policy.ref,
        "library_version": _LIBRARY_VERSION,
        "programme": episode.programme,
        "status": "rejected" if rejected else "settled",
        "rejection_reasons": tuple(findings.rejections),
        "settled_as": None if rejected else _settled_as(conversion),
        "conversion": None if rejected else conversion_outcome(episode, policy, conversion),
        "time_limit": time_limit,
        "windows": merge_windows(episode, plan),
        "payment": payment,
        "lines": lines,
        "totals": totals,
        "flags": tuple(findings.flags),
        "trace": tuple(findings.trace),
    }
    # Every value is the engine's own record or text; the episode's id and programme and
    # the policy's ref are checked to be exactly typed (else the model validates them).
    if (
        type(episode.episode_id) is str
        and type(episode.programme) is Programme
        and type(values["policy"]) is PolicyRef
    ):
        return record(Settlement, values, _SETTLEMENT_GIVEN)
    del values["library_version"]
    return Settlement(**values)


_LIBRARY_VERSION = Settlement.model_fields["library_version"].default
_SETTLEMENT_GIVEN = tuple(name for name in Settlement.model_fields if name != "library_version")
"""The fields ``settle_episode`` gives (the library's version is the model's default)."""


def _settled_as(
    conversion: ConvertToOrdinaryInpatient | None,
) -> Literal["day_care", "ordinary_inpatient"]:
    """A ``merged`` conversion settles one ordinary stay; otherwise (no conversion, or a
    ``separate`` one, whose ward part settles elsewhere) this settlement is day care."""
    if conversion is not None and conversion.mode == "merged":
        return "ordinary_inpatient"
    return "day_care"


def _composition_text(policy: Policy) -> str:
    """The frames a composed rule file builds on, the version an amendment amends, and what
    it overrides, for the trace."""
    text = ""
    if policy.frames:
        text += ", composed with frame " + ", ".join(f"{f.id} v{f.version}" for f in policy.frames)
    if policy.amends:
        text += ", amends " + ", ".join(
            f"{f.id} v{f.version} ({f.document})" for f in policy.amends
        )
    if text and policy.overrides:
        text += "; overriding " + "; ".join(f"{path} ({why})" for path, why in policy.overrides)
    return text


def _place_charges(
    episode: Episode,
    policy: Policy,
    rules: ProgrammeRules,
    conversion: ConvertToOrdinaryInpatient | None,
    plan: MergePlan,
    findings: Findings,
) -> list[Placement]:
    """One placement per charge, in input order; each charge judged on its own.

    The booking (``setting``) says where the hospital booked a charge; its time decides
    which part of the episode it belongs to: before admission, the stay (admission to
    discharge, both included), the ward part of a conversion (from the conversion instant),
    or after discharge. See docs/settings.md."""
    pre_admission = side_placer(episode, policy, plan.pre_admission)
    post_discharge = side_placer(episode, policy, plan.post_discharge)
    during_stay = during_stay_placer(episode, policy, plan.during_stay)
    stay = stay_placer(episode, policy, rules.payment.patient, conversion)
    admitted, discharged = episode.admitted_at, episode.discharged_at
    # an outpatient charge from then lies in the ward part that settles elsewhere
    ward = separate_ward_part(episode, policy, conversion)
    # the related charges of categories that do not merge, per merge side
    pre: list[str] = []
    during: list[str] = []
    post: list[str] = []
    other_category, outpatient, after_discharge = _OTHER_CATEGORY, _OUTPATIENT, _POST_DISCHARGE
    placements: list[Placement] = []
    append = placements.append
    for charge in episode.charges:
        setting = charge.setting
        if setting is outpatient:
            at = charge.at
            if at < admitted:
                placement, side = pre_admission(charge), pre
            elif at > discharged:  # an outpatient visit after discharge
                placement, side = post_discharge(charge), post
            elif ward is not None and at >= ward[0]:
                append(ward[1])
                continue
            else:
                placement, side = during_stay(charge), during
        elif setting is after_discharge:
            placement, side = post_discharge(charge), post
        else:
            append(stay(charge))
            continue
        if placement.reason == other_category and charge.related:
            side.append(charge.id)
        append(placement)
    merge = rules.merge
    for rule, ids in (
        (merge.pre_admission, pre),
        (merge.during_stay, during),
        (merge.post_discharge, post),
    ):
        _flag_related_outside_categories(policy, rule, tuple(ids), findings)
    return placements


_OTHER_CATEGORY = LineReason.NOT_MERGED_CATEGORY
_OUTPATIENT, _POST_DISCHARGE = Setting.OUTPATIENT, Setting.POST_DISCHARGE


def _flag_related_outside_categories(
    policy: Policy,
    rule: MergeRule | DuringStayRule,
    ids: tuple[str, ...],
    findings: Findings,
) -> None:
    if ids:
        findings.flags.append(
            flag(
                policy,
                FlagCode.RELATED_COST_OUTSIDE_MERGE_CATEGORIES,
                "info",
                f"{len(ids)} charge(s) marked related to the episode are of categories that do "
                "not merge; they stay outpatient costs",
                rule,
                ids,
            )
        )


def _reject_all(episode: Episode, first: RejectionReason) -> list[Placement]:
    placement = disallowed(LineReason.EPISODE_REJECTED, first.citation)
    return [placement] * len(episode.charges)


def _not_covered(episode: Episode, policy: Policy, findings: Findings) -> Settlement:
    """A programme the policy does not cover: rejected, citing the policy's scope clause."""
    covered = ", ".join(p.value for p in policy.rules.programmes)
    scope = Rule(source=policy.rules.policy.scope)
    reason = reject(
        policy,
        RejectionCode.PROGRAMME_NOT_COVERED,
        f"{policy.rules.policy.document} covers {covered}, not {episode.programme.value}",
        scope,
    )
    findings.trace.append(
        step(policy, "scope", episode.programme.value, f"rejected: {reason.message}", scope)
    )
    placements = _reject_all(episode, reason)
    time_limit = check_time_limit(episode, policy, None, findings)
    lines, totals = build_lines_and_totals(episode.charges, placements)
    return Settlement(
        episode_id=episode.episode_id,
        policy=policy.ref,
        programme=episode.programme,
        status="rejected",
        rejection_reasons=(reason,),
        settled_as=None,
        time_limit=time_limit.model_copy(update={"citation": reason.citation}),
        payment=None,
        lines=lines,
        totals=totals,
        flags=tuple(findings.flags),
        trace=tuple(findings.trace),
    )
