"""Conversion to ordinary inpatient care (转普通住院): whether the policy settles a converted
episode, and on what terms (the mode, the method, and which merge windows still apply).

``merged``: day-care and ward costs settle here as one ordinary inpatient stay. ``separate``:
two settlements; the day-ward part settles here, the ward part (from the conversion instant,
which belongs to the ward) belongs to a separate ordinary inpatient settlement.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..codes import RejectionCode
from ..models.episode import Episode
from ..models.settlement import ConversionOutcome
from ..policy.loader import Policy
from ..policy.schema import ConversionNotProvided, ConversionRule, ConvertToOrdinaryInpatient
from .dispatch import require_complete
from .findings import Findings
from .records import record
from .trace import cite, read, reject, step

STEP = "conversion"


def decide_conversion(
    episode: Episode, policy: Policy, rule: ConversionRule, findings: Findings
) -> ConvertToOrdinaryInpatient | None:
    """The conversion rule that applies, or ``None`` when the episode did not convert."""
    if episode.conversion is None:
        findings.trace.append(
            step(policy, STEP, rule.kind, "no conversion: settled as day care", rule)
        )
        return None
    moved = f"converted at {episode.conversion.at.isoformat()} to ward {episode.conversion.ward!r}"
    decide: _Decide = _CONVERSIONS[type(rule)]
    return decide(policy, rule, moved, findings)


def _not_provided(
    policy: Policy, rule: ConversionNotProvided, moved: str, findings: Findings
) -> None:
    """The policy does not settle a converted episode: rejected."""
    findings.trace.append(
        step(policy, STEP, rule.kind, f"{moved}: the policy provides no settlement", rule)
    )
    findings.rejections.append(
        reject(
            policy,
            RejectionCode.CONVERSION_NOT_PROVIDED,
            f"the episode {moved}, but this policy does not settle converted episodes",
            rule,
        )
    )


def _ordinary_inpatient(
    policy: Policy, rule: ConvertToOrdinaryInpatient, moved: str, findings: Findings
) -> ConvertToOrdinaryInpatient:
    """Settled as ordinary inpatient care, ``merged`` here or ``separate``."""
    parameters = [read("mode", rule.mode, rule)]
    if rule.mode == "merged":
        outcome = f"{moved}: day-care and ward costs settle as one ordinary inpatient stay"
        parameters.append(read("agency", rule.agency, rule))
    else:
        outcome = (
            f"{moved}: the day-ward part settles here; the ward part, from the conversion, "
            "is a separate ordinary inpatient settlement"
        )
    parameters.append(read("keep_merges", list(rule.keep_merges) or "none", rule))
    findings.trace.append(step(policy, STEP, rule.kind, outcome, rule, tuple(parameters)))
    return rule


_Decide = Callable[[Policy, Any, str, Findings], ConvertToOrdinaryInpatient | None]
_CONVERSIONS: dict[type[Any], _Decide] = {
    ConversionNotProvided: _not_provided,
    ConvertToOrdinaryInpatient: _ordinary_inpatient,
}
"""One decision per conversion kind."""
require_complete(_CONVERSIONS, ConversionRule, "engine/conversion.py")


def conversion_outcome(
    episode: Episode, policy: Policy, conversion: ConvertToOrdinaryInpatient | None
) -> ConversionOutcome | None:
    """The result's statement of a settled conversion and its mode."""
    if conversion is None or episode.conversion is None:
        return None
    values = {
        "at": episode.conversion.at.isoformat(),
        "ward": episode.conversion.ward,
        "mode": conversion.mode,
        "citation": cite(policy, conversion),
    }
    if type(values["ward"]) is str and type(values["mode"]) is str:  # the rest is the engine's
        return record(ConversionOutcome, values, _OUTCOME_FIELDS)
    return ConversionOutcome.model_validate(values)


_OUTCOME_FIELDS = tuple(ConversionOutcome.model_fields)
