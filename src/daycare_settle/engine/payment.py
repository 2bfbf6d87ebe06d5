"""Payment method (支付方式): the patient side (how the stay counts for the insured person)
and the agency side (DRG, disease score, value-based, per bed-day, ...)."""

from __future__ import annotations

from decimal import Decimal

from ..models.common import local_date
from ..models.episode import Episode
from ..models.settlement import CalculationStep, Payment
from ..policy.loader import Policy
from ..policy.schema import AgencyLabel, ConvertToOrdinaryInpatient, PaymentRules, PerBedDay
from .explain import cite, read, reject, step
from .findings import Findings

STEP = "payment"


def decide_payment(
    episode: Episode,
    policy: Policy,
    rules: PaymentRules,
    conversion: ConvertToOrdinaryInpatient | None,
    findings: Findings,
) -> Payment | None:
    """The payment decision; ``None`` (with a rejection) where it cannot be made."""
    patient = rules.patient
    if conversion is not None:
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
        return Payment(
            patient=patient.kind,
            agency=conversion.agency,
            counts_toward_annual_inpatient_cap=conversion.counts_toward_annual_inpatient_cap,
            patient_citation=cite(policy, conversion),
            agency_citation=cite(policy, conversion),
            basis="converted to ordinary inpatient care",
        )
    findings.trace.append(
        step(
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
        )
    )
    base = {
        "patient": patient.kind,
        "counts_toward_annual_inpatient_cap": patient.counts_toward_annual_inpatient_cap,
        "patient_citation": cite(policy, patient),
    }
    agency = rules.agency
    if isinstance(agency, AgencyLabel):
        findings.trace.append(
            step(
                policy,
                STEP,
                f"agency: {agency.kind}",
                f"agency pays by {agency.kind}; the amount is the agency's own computation",
                agency,
            )
        )
        return Payment.model_validate(
            {
                **base,
                "agency": agency.kind,
                "agency_citation": cite(policy, agency),
                "basis": agency.basis,
            }
        )
    return _per_bed_day(episode, policy, agency, base, findings)


def _per_bed_day(
    episode: Episode, policy: Policy, rule: PerBedDay, base: dict[str, object], findings: Findings
) -> Payment | None:
    if rule.count == "session_days":
        days = {local_date(s.start) for s in episode.sessions}
        if not days:
            findings.rejections.append(
                reject(
                    policy,
                    "SESSIONS_MISSING",
                    "per bed-day payment counts treatment days, but the episode gives no sessions",
                    rule,
                )
            )
            return None
        units = len(days)
    else:
        first, last = local_date(episode.admitted_at), local_date(episode.discharged_at)
        units = (last - first).days + 1
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
