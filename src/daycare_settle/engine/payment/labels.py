"""Agency methods whose amount the agency's own grouper computes (DRG, disease score, value
based, fee-for-service; e.g. Panzhihua 第七条（二）: day surgery by DRG, day chemotherapy by
value): the result names the method, its basis and its clause; no amount."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal

from ...models.episode import Episode
from ...models.settlement import Payment
from ...policy.loader import Policy
from ...policy.schema import AgencyLabel
from ..findings import Findings
from ..trace import cite, once_per_policy, step
from .common import STEP, Base, payment_without_amount


def decide_label(
    episode: Episode,
    policy: Policy,
    rule: AgencyLabel,
    base: Base,
    allowed: Mapping[str, Decimal],
    findings: Findings,
) -> Payment:
    """The agency pays by ``rule.kind``; the amount is the agency's own computation."""
    findings.trace.append(  # reads nothing of the episode: one record per policy
        once_per_policy(
            policy,
            rule,
            "payment.label",
            lambda: step(
                policy,
                STEP,
                f"agency: {rule.kind}",
                f"agency pays by {rule.kind}; the amount is the agency's own computation",
                rule,
            ),
        )
    )
    return payment_without_amount(
        {**base, "agency": rule.kind, "agency_citation": cite(policy, rule), "basis": rule.basis}
    )
