"""Per bed-day payment (按床日付费; e.g. Panzhihua 第七条（二）: TCM day care per bed-day):
bed-days counted as session days or calendar days, times the policy's rate where it sets
one; without a rate the amount is left to the agency."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal

from ...models.episode import Episode
from ...models.settlement import CalculationStep, Payment
from ...policy.loader import Policy
from ...policy.schema import PerBedDay
from ..findings import Findings
from ..trace import cite, read, step
from .common import STEP, Base, bed_days


def decide_per_bed_day(
    episode: Episode,
    policy: Policy,
    rule: PerBedDay,
    base: Base,
    allowed: Mapping[str, Decimal],
    findings: Findings,
) -> Payment | None:
    """The agency pays per bed-day."""
    units = bed_days(episode, policy, rule, rule.count, findings)
    if units is None:
        return None
    parameters = (read("count", rule.count, rule), read("rate", rule.rate, rule))
    calculation: tuple[CalculationStep, ...] = ()
    amount = None
    outcome = f"{units} bed-day(s) counted as {rule.count}"
    if rule.rate is not None:
        amount = (rule.rate * Decimal(units)).quantize(Decimal("0.01"))
        calculation = (
            CalculationStep(label="rate per bed-day", amount=rule.rate),
            CalculationStep(label=f"x {units} bed-day(s)", amount=amount),
        )
        outcome += f" x {rule.rate} = {amount}"
    else:
        outcome += "; the policy sets no rate, so the agency amount is left to the agency"
    findings.trace.append(step(policy, STEP, "agency: per_bed_day", outcome, rule, parameters))
    return Payment.model_validate(
        {
            **base,
            "agency": rule.kind,
            "agency_citation": cite(policy, rule),
            "agency_amount": amount,
            "calculation": calculation,
            "units": f"{units} bed-day(s) ({rule.count})",
        }
    )
