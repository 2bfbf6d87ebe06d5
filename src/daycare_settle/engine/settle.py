"""The orchestrator: parse the episode, pick the policy version in force, run the decisions
in order (eligibility, time limit, conversion, merge, charges, payment) and assemble the
settlement with its trace. Pure: no I/O beyond the cached rule files, no global state.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from decimal import Decimal
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from ..errors import FieldProblem, InvalidEpisode
from ..models.common import Setting, local_date
from ..models.episode import Episode, InconsistentEpisode
from ..models.settlement import RejectionReason, Settlement
from ..policy.loader import Policy
from ..policy.registry import resolve_policy
from ..policy.schema import ConvertToOrdinaryInpatient, MergeRule, ProgrammeRules, Rule
from .conversion import decide_conversion
from .eligibility import check_eligibility
from .explain import flag, reject, step
from .fees import place_daily_fees
from .findings import Findings
from .lines import Placement, build_lines, build_totals, disallowed, not_merged
from .merge import place_outside_charge, plan_merge
from .payment import decide_payment
from .sessions import place_between_sessions
from .stay import place_stay_charge
from .time_limit import check_time_limit

EpisodeInput = Episode | Mapping[str, Any] | str | bytes


def settle(episode: EpisodeInput, policy: str | Path | Policy = "panzhihua") -> Settlement:
    """Settle one day-care episode under the policy version in force on its admission day.

    ``episode`` is an :class:`Episode`, a mapping, or JSON text; ``policy`` a bundled policy
    id, the path of a rule file, or a :class:`Policy`. Raises :class:`InvalidEpisode`,
    :class:`UnknownPolicy` or :class:`PolicyNotInForce`; never returns a partial result.
    """
    parsed = parse_episode(episode)
    compiled = resolve_policy(policy, on=local_date(parsed.admitted_at))
    return settle_episode(parsed, compiled)


def parse_episode(episode: EpisodeInput) -> Episode:
    """Validate input into an :class:`Episode`; JSON numbers are read as exact decimals."""
    if isinstance(episode, Episode):
        return episode
    data: Any = episode
    if isinstance(episode, str | bytes):
        data = _load_json(episode)
    if not isinstance(data, Mapping):
        raise InvalidEpisode([FieldProblem("", "an episode must be a JSON object")])
    try:
        return Episode.model_validate(data)
    except ValidationError as exc:
        errors = exc.errors(include_url=False)
        raise InvalidEpisode([p for error in errors for p in _problems(error)]) from None


def _load_json(text: str | bytes) -> Any:
    def refuse_constant(name: str) -> Any:
        raise ValueError(f"{name} is not a number JSON allows")

    def refuse_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        result: dict[str, Any] = {}
        for key, value in pairs:
            if key in result:  # json.loads would keep the last silently
                raise ValueError(f"key {key!r} is given twice in one object")
            result[key] = value
        return result

    try:
        return json.loads(
            text,
            parse_float=Decimal,
            parse_constant=refuse_constant,
            object_pairs_hook=refuse_duplicates,
        )
    except (ValueError, RecursionError) as exc:
        raise InvalidEpisode([FieldProblem("", f"malformed JSON: {exc}")]) from None


def _problems(error: Any) -> tuple[FieldProblem, ...]:
    cause = error.get("ctx", {}).get("error")
    if isinstance(cause, InconsistentEpisode):  # checks across fields, each with its path
        return cause.problems
    return (_problem(error),)


def _problem(error: Any) -> FieldProblem:
    path = ""
    for part in error["loc"]:
        path += f"[{part}]" if isinstance(part, int) else (f".{part}" if path else str(part))
    message = str(error["msg"])
    if error["type"] == "extra_forbidden":
        message = "unknown field"
    elif error["type"] == "missing":
        message = "required field is missing"
    return FieldProblem(path, message.removeprefix("Value error, "))


def settle_episode(episode: Episode, policy: Policy) -> Settlement:
    """Settle a validated episode under a compiled policy already chosen for it."""
    findings = Findings()
    rules = policy.programme(episode.programme)
    if rules is None:
        return _not_covered(episode, policy, findings)
    findings.trace.append(
        step(
            policy,
            "scope",
            episode.programme.value,
            f"programme {episode.programme.value} is covered by {policy.rules.policy.document}"
            + _composition_text(policy),
            rules.scope,
        )
    )
    check_eligibility(episode, policy, rules.eligibility, findings)
    time_limit = check_time_limit(episode, policy, rules.time_limit, findings)
    conversion = decide_conversion(episode, policy, rules.conversion, findings)
    placements = _place_charges(episode, policy, rules, conversion, findings)
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
    return Settlement(
        episode_id=episode.episode_id,
        policy=policy.ref,
        programme=episode.programme,
        status="rejected" if rejected else "settled",
        rejection_reasons=tuple(findings.rejections),
        settled_as=None if rejected else ("ordinary_inpatient" if conversion else "day_care"),
        time_limit=time_limit,
        payment=payment,
        lines=build_lines(episode.charges, placements),
        totals=build_totals(episode.charges, placements),
        flags=tuple(findings.flags),
        trace=tuple(findings.trace),
    )


def _composition_text(policy: Policy) -> str:
    """The frames a composed rule file builds on and what it overrides, for the trace."""
    if not policy.frames:
        return ""
    frames = ", ".join(f"{f.id} v{f.version}" for f in policy.frames)
    text = f", composed with frame {frames}"
    if policy.overrides:
        text += "; overriding " + "; ".join(f"{path} ({why})" for path, why in policy.overrides)
    return text


def _place_charges(
    episode: Episode,
    policy: Policy,
    rules: ProgrammeRules,
    conversion: ConvertToOrdinaryInpatient | None,
    findings: Findings,
) -> list[Placement]:
    """One placement per charge, in input order; each charge judged on its own."""
    plan = plan_merge(episode, policy, rules.merge, conversion, findings)
    placements: list[Placement] = []
    for charge in episode.charges:
        if charge.setting is Setting.OUTPATIENT:
            if charge.at >= episode.admitted_at:
                placement = not_merged(
                    "OUTPATIENT_CHARGE_DURING_OR_AFTER_STAY", plan.pre_admission.citation
                )
            else:
                placement = place_outside_charge(episode, policy, plan.pre_admission, charge)
        elif charge.setting is Setting.POST_DISCHARGE:
            placement = place_outside_charge(episode, policy, plan.post_discharge, charge)
        else:
            placement = place_stay_charge(
                episode, policy, rules.payment.patient, conversion, charge
            )
        placements.append(placement)
    _flag_related_outside_categories(
        episode, policy, rules.merge.pre_admission, placements, findings
    )
    return placements


def _flag_related_outside_categories(
    episode: Episode,
    policy: Policy,
    rule: MergeRule,
    placements: list[Placement],
    findings: Findings,
) -> None:
    ids = tuple(
        charge.id
        for charge, placement in zip(episode.charges, placements, strict=True)
        if placement.reason == "NOT_MERGED_CATEGORY" and charge.related
    )
    if ids:
        findings.flags.append(
            flag(
                policy,
                "RELATED_COST_OUTSIDE_MERGE_CATEGORIES",
                "info",
                f"{len(ids)} charge(s) marked related to the episode are of categories that do "
                "not merge; they stay outpatient costs",
                rule,
                ids,
            )
        )


def _reject_all(episode: Episode, first: RejectionReason) -> list[Placement]:
    placement = disallowed("EPISODE_REJECTED", first.citation)
    return [placement] * len(episode.charges)


def _not_covered(episode: Episode, policy: Policy, findings: Findings) -> Settlement:
    """A programme the policy does not cover: rejected, citing the policy's scope clause."""
    covered = ", ".join(p.value for p in policy.rules.programmes)
    scope = Rule(source=policy.rules.policy.scope)
    reason = reject(
        policy,
        "PROGRAMME_NOT_COVERED",
        f"{policy.rules.policy.document} covers {covered}, not {episode.programme.value}",
        scope,
    )
    findings.trace.append(
        step(policy, "scope", episode.programme.value, f"rejected: {reason.message}", scope)
    )
    placements = _reject_all(episode, reason)
    time_limit = check_time_limit(episode, policy, None, findings)
    return Settlement(
        episode_id=episode.episode_id,
        policy=policy.ref,
        programme=episode.programme,
        status="rejected",
        rejection_reasons=(reason,),
        settled_as=None,
        time_limit=time_limit.model_copy(update={"citation": reason.citation}),
        payment=None,
        lines=build_lines(episode.charges, placements),
        totals=build_totals(episode.charges, placements),
        flags=(),
        trace=tuple(findings.trace),
    )
