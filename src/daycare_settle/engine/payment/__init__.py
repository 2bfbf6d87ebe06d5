"""Payment method (支付方式): the patient side (how the stay counts for the insured person)
and the agency side, one module per agency kind — ``labels`` (DRG, disease score, value
based, fee-for-service), ``per_bed_day``, ``quota`` (fee-for-service or the former quota) and
``per_disease`` (a disease table) — dispatched through tables checked complete at import."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import Any

from ...models.episode import Episode
from ...models.settlement import Payment
from ...policy.loader import Policy
from ...policy.schema import (
    AgencyLabel,
    AgencyRule,
    ConvertToOrdinaryInpatient,
    FeeForServiceOrQuota,
    PatientSide,
    PaymentRules,
    PerBedDay,
    PerDisease,
)
from ..dispatch import require_complete
from ..findings import Findings
from ..trace import cite, once_per_policy, read, step
from .common import STEP, Base, payment_without_amount
from .labels import decide_label
from .per_bed_day import decide_per_bed_day
from .per_disease import decide_per_disease
from .quota import decide_fee_for_service_or_quota, quota_disease

__all__ = ["decide_payment", "quota_disease"]


def decide_payment(
    episode: Episode,
    policy: Policy,
    rules: PaymentRules,
    conversion: ConvertToOrdinaryInpatient | None,
    findings: Findings,
    allowed: Mapping[str, Decimal] | None = None,
) -> Payment | None:
    """The payment decision; ``None`` (with a rejection) where it cannot be made.
    ``allowed`` maps charge ids to their allowed amounts (read by a quota option)."""
    patient = rules.patient
    if conversion is not None and conversion.mode == "merged":
        # one ordinary stay: the conversion's terms; a ``separate`` conversion settles the
        # day-ward part below by the programme's own rules, the ward stay elsewhere
        assert conversion.agency is not None  # required in merged mode by the schema
        assert conversion.counts_toward_annual_inpatient_cap is not None
        findings.trace.append(
            step(
                policy,
                STEP,
                "conversion",
                f"agency side {conversion.agency}, as ordinary inpatient care",
                conversion,
                (read("agency", conversion.agency, conversion),),
            )
        )
        return payment_without_amount(
            {
                "patient": patient.kind,
                "agency": conversion.agency,
                "counts_toward_annual_inpatient_cap": (
                    conversion.counts_toward_annual_inpatient_cap
                ),
                "patient_citation": cite(policy, conversion),
                "agency_citation": cite(policy, conversion),
                "basis": "converted to ordinary inpatient care",
            }
        )
    side: Callable[[Policy, Any, Findings], Base] = _PATIENT_SIDES[type(patient)]
    base = side(policy, patient, findings)
    agency: _Agency = _AGENCIES[type(rules.agency)]
    return agency(episode, policy, rules.agency, base, allowed or {}, findings)


def _single_inpatient_stay(policy: Policy, patient: PatientSide, findings: Findings) -> Base:
    """The stay is one inpatient stay for the insured person (按一次住院结算), counted
    toward the annual inpatient maximum where the rule says so."""
    findings.trace.append(  # reads nothing of the episode: one record per policy
        once_per_policy(
            policy,
            patient,
            "payment.patient",
            lambda: step(
                policy,
                STEP,
                f"patient: {patient.kind}",
                "one inpatient stay"
                + (
                    ", counted toward the annual inpatient cap"
                    if patient.counts_toward_annual_inpatient_cap
                    else ""
                ),
                patient,
                (
                    read(
                        "counts_toward_annual_inpatient_cap",
                        patient.counts_toward_annual_inpatient_cap,
                        patient,
                    ),
                ),
            ),
        )
    )
    return {
        "patient": patient.kind,
        "counts_toward_annual_inpatient_cap": patient.counts_toward_annual_inpatient_cap,
        "patient_citation": cite(policy, patient),
    }


_PATIENT_SIDES: dict[type[Any], Callable[[Policy, Any, Findings], Base]] = {
    PatientSide: _single_inpatient_stay,
}
_Agency = Callable[[Episode, Policy, Any, Base, Mapping[str, Decimal], Findings], Payment | None]
_AGENCIES: dict[type[Any], _Agency] = {
    AgencyLabel: decide_label,
    PerBedDay: decide_per_bed_day,
    FeeForServiceOrQuota: decide_fee_for_service_or_quota,
    PerDisease: decide_per_disease,
}
"""One decision per patient-side kind and per agency kind."""
require_complete(_PATIENT_SIDES, PatientSide, "engine/payment patient side")
require_complete(_AGENCIES, AgencyRule, "engine/payment agency")
