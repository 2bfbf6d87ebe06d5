"""Conversion to ordinary inpatient care (转普通住院): whether the policy settles a converted
episode, and on what terms (the method, and which merge windows still apply)."""

from __future__ import annotations

from ..models.episode import Episode
from ..policy.loader import Policy
from ..policy.schema import ConversionNotProvided, ConversionRule, ConvertToOrdinaryInpatient
from .explain import read, reject, step
from .findings import Findings

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
    if isinstance(rule, ConversionNotProvided):
        findings.trace.append(
            step(policy, STEP, rule.kind, f"{moved}: the policy provides no settlement", rule)
        )
        findings.rejections.append(
            reject(
                policy,
                "CONVERSION_NOT_PROVIDED",
                f"the episode {moved}, but this policy does not settle converted episodes",
                rule,
            )
        )
        return None
    findings.trace.append(
        step(
            policy,
            STEP,
            rule.kind,
            f"{moved}: day-care and ward costs settle as one ordinary inpatient stay",
            rule,
            (
                read("agency", rule.agency, rule),
                read("keep_merges", list(rule.keep_merges) or "none", rule),
            ),
        )
    )
    return rule
