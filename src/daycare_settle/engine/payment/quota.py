"""Fee-for-service or the former quota (Jining 三（二）: 按服务项目结算; 原实行定额结算的病种，
可按原定额扣除床位费、护理费、诊察费等相应差额结算): the hospital's choice per episode."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from decimal import Decimal

from ...codes import RejectionCode
from ...models.common import CodeSystem, Setting, local_date
from ...models.episode import Code, Episode
from ...models.settlement import CalculationStep, Payment
from ...policy.loader import Policy, normalise_code
from ...policy.schema import FeeForServiceOrQuota, QuotaDisease
from ..findings import Findings
from ..sessions import day_ward_sessions
from ..trace import cite, read, reject, step
from .common import STEP, Base, payment_without_amount


def quota_disease(rule: FeeForServiceOrQuota, code: Code) -> QuotaDisease | None:
    """The disease of ``rule``'s quota list an ICD-10 code falls under (原实行定额结算的病种),
    matched by code prefix; ``None`` for a code not on the list."""
    if code.system is not CodeSystem.ICD_10:
        return None
    text = normalise_code(code.code)
    return next((d for d in rule.quotas.diseases if text.startswith(normalise_code(d.code))), None)


def decide_fee_for_service_or_quota(
    episode: Episode,
    policy: Policy,
    rule: FeeForServiceOrQuota,
    base: Base,
    allowed: Mapping[str, Decimal],
    findings: Findings,
) -> Payment | None:
    """Fee-for-service (按服务项目结算), or at the hospital's choice for a disease formerly on
    a quota: the quota minus the daily-fee difference (按原定额扣除床位费、护理费、诊察费等
    相应差额)."""
    choice = episode.agency_method_choice
    chosen = read("agency_method_choice", choice, None)
    if choice in (None, "fee_for_service"):
        findings.trace.append(
            step(
                policy,
                STEP,
                "agency: fee_for_service",
                "agency pays fee-for-service",
                rule,
                (chosen,),
            )
        )
        return payment_without_amount(
            {**base, "agency": "fee_for_service", "agency_citation": cite(policy, rule)}
        )
    failure: tuple[str, str] | None = None
    code = episode.principal_diagnosis
    disease = quota_disease(rule, code)
    daily = rule.ordinary_daily_fees.by_tier.get(episode.institution.tier)
    if choice != "quota_minus_fees":
        failure = (
            RejectionCode.AGENCY_CHOICE_UNKNOWN,
            f"agency_method_choice {choice!r} is not offered (fee_for_service, quota_minus_fees)",
        )
    elif disease is None:
        failure = (
            RejectionCode.QUOTA_DISEASE_NOT_LISTED,
            f"quota_minus_fees was chosen, but the principal diagnosis {code.code} is not "
            "among the diseases formerly settled on a quota",
        )
    elif daily is None:
        failure = (
            RejectionCode.QUOTA_TIER_NOT_PRICED,
            f"no ordinary daily fees are set for tier {episode.institution.tier}",
        )
    if failure is not None:
        findings.trace.append(
            step(
                policy, STEP, "agency: quota_minus_fees", f"rejected: {failure[1]}", rule, (chosen,)
            )
        )
        findings.rejections.append(reject(policy, failure[0], failure[1], rule))
        return None
    assert disease is not None  # a missing disease is a failure above
    assert daily is not None  # so is a missing tier
    days = sorted({local_date(s.start) for s in day_ward_sessions(episode)})
    charged: dict[dt.date, Decimal] = dict.fromkeys(days, Decimal("0.00"))
    for charge in episode.charges:
        day = local_date(charge.at)
        if charge.setting is Setting.DAY_CARE and charge.category in daily and day in charged:
            charged[day] += allowed.get(charge.id, Decimal("0.00"))
    ordinary = sum(daily.values(), Decimal("0.00"))
    calculation = [
        CalculationStep(
            label=f"former quota {disease.code} {disease.name}",
            amount=disease.quota,
            note=rule.quotas.note,
        )
    ]
    difference = Decimal("0.00")
    for day in days:
        gap = max(ordinary - charged[day], Decimal("0.00"))
        difference += gap
        calculation.append(
            CalculationStep(
                label=f"{day}: ordinary daily fees {ordinary} - day ward allowed {charged[day]}",
                amount=gap,
            )
        )
    amount = max(disease.quota - difference, Decimal("0.00"))
    calculation += [
        CalculationStep(label=f"difference over {len(days)} treatment day(s)", amount=difference),
        CalculationStep(label="quota - difference", amount=amount),
    ]
    findings.trace.append(
        step(
            policy,
            STEP,
            "agency: quota_minus_fees",
            f"quota {disease.quota} - difference {difference} = {amount}",
            rule,
            (
                chosen,
                read("quota", f"{disease.code} {disease.quota}", rule.quotas, field="diseases"),
                read(
                    f"ordinary_daily_fees (tier {episode.institution.tier})",
                    [f"{c.value} {v}" for c, v in daily.items()],
                    rule.ordinary_daily_fees,
                    field="by_tier",
                ),
            ),
        )
    )
    return Payment.model_validate(
        {
            **base,
            "agency": "quota_minus_fees",
            "agency_citation": cite(policy, rule),
            "agency_amount": amount,
            "calculation": tuple(calculation),
            "units": f"{len(days)} treatment day(s)",
        }
    )
