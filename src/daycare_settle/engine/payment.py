"""Payment method (支付方式): the patient side (how the stay counts for the insured person)
and the agency side (DRG, disease score, value-based, per bed-day, ...)."""

from __future__ import annotations

from decimal import Decimal
from typing import Literal

from ..models.common import FEN, local_date
from ..models.episode import Episode
from ..models.settlement import CalculationStep, ParameterRead, Payment
from ..policy.loader import Policy
from ..policy.schema import (
    AgencyLabel,
    ConvertToOrdinaryInpatient,
    DiseaseRow,
    PaymentRules,
    PerBedDay,
    PerDisease,
    Rule,
)
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
    if isinstance(agency, PerDisease):
        return _per_disease(episode, policy, agency, base, findings)
    return _per_bed_day(episode, policy, agency, base, findings)


def _per_bed_day(
    episode: Episode, policy: Policy, rule: PerBedDay, base: dict[str, object], findings: Findings
) -> Payment | None:
    units = _bed_days(episode, policy, rule, rule.count, findings)
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


def _bed_days(
    episode: Episode,
    policy: Policy,
    rule: Rule,
    count: Literal["session_days", "calendar_days"],
    findings: Findings,
) -> int | None:
    """Bed-days: calendar days with a session, or calendar days from admission to discharge."""
    if count == "calendar_days":
        first, last = local_date(episode.admitted_at), local_date(episode.discharged_at)
        return (last - first).days + 1
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
    return len(days)


def _per_disease(
    episode: Episode, policy: Policy, rule: PerDisease, base: dict[str, object], findings: Findings
) -> Payment | None:
    """Pay by disease (按病种付费) from the region's disease table — TCM pilot 二、（二）: the
    standard, never below the pre-pilot standard (试点后…付出尺度不低于试点前付出尺度), with the
    western DRG/DIP (or conservative-treatment) standard it references; 二、（五）: day wards
    per disease or per bed-day, selected rehabilitation diseases per bed-day."""
    table = policy.disease_tables[rule.table]
    match = table.lookup(episode.diagnoses)
    if match.row is None:
        if match.code not in {r.code for r in findings.rejections}:
            findings.rejections.append(reject(policy, str(match.code), match.message, rule))
        findings.trace.append(
            step(policy, STEP, "agency: per_disease", f"no standard: {match.message}", rule)
        )
        return None
    row = match.row
    units = None
    if row.method == "per_bed_day":
        assert rule.bed_days is not None  # checked at load
        units = _bed_days(episode, policy, rule.bed_days, rule.bed_days.count, findings)
        if units is None:
            return None
    calculation, applied, floor_text = _standard_steps(row, rule)
    amount = applied
    outcome = f"{match.message}: {row.category}, {row.method}; {floor_text}"
    status = f"disease table ({table.header.status})"
    parameters = [
        read("disease_table", f"{table.header.id} v{table.header.version}", rule),
        ParameterRead(name="disease", value=f"{row.tcd} / {row.icd10}", provenance=status),
        ParameterRead(name="standard", value=str(row.standard), provenance=status),
        ParameterRead(
            name="pre_pilot_standard", value=str(row.pre_pilot_standard), provenance=status
        ),
        read("floor", rule.floor, rule),
    ]
    if units is not None and rule.bed_days is not None:
        amount = (applied * Decimal(units)).quantize(FEN)
        calculation.append(CalculationStep(label=f"x {units} bed-day(s)", amount=amount))
        parameters.append(read("bed_days", rule.bed_days.count, rule.bed_days))
        outcome += f"; x {units} bed-day(s) ({rule.bed_days.count}) = {amount}"
    findings.trace.append(
        step(policy, STEP, f"agency: per_disease ({row.method})", outcome, rule, tuple(parameters))
    )
    reference = ""
    if row.reference is not None:
        group = f" {row.reference.group}" if row.reference.group else ""
        reference = f"; reference {row.reference.basis}{group}"
    return Payment.model_validate(
        {
            **base,
            "agency": row.method,
            "agency_citation": cite(policy, rule),
            "agency_amount": amount,
            "calculation": tuple(calculation),
            "basis": (
                f"{row.name} (TCD {row.tcd} ↔ ICD-10 {row.icd10}), {row.category}, "
                f"{row.method.replace('_', ' ')}: {floor_text}{reference}"
            ),
            "units": None if units is None else f"{units} bed-day(s) ({row.method})",
        }
    )


def _standard_steps(
    row: DiseaseRow, rule: PerDisease
) -> tuple[list[CalculationStep], Decimal, str]:
    """The standard, its reference and the pre-pilot floor, as calculation lines."""
    per = " per bed-day" if row.method == "per_bed_day" else " per case"
    steps = [CalculationStep(label=f"payment standard{per}", amount=row.standard)]
    if row.reference is not None and row.reference.amount is not None:
        steps.append(
            CalculationStep(
                label=f"reference standard ({row.reference.basis})",
                amount=row.reference.amount,
                note=f"{row.reference.group or 'group not named'}; shown, not applied",
            )
        )
    if rule.floor is None:
        return steps, row.standard, f"standard {row.standard} applied (no floor)"
    steps.append(CalculationStep(label="pre-pilot standard (floor)", amount=row.pre_pilot_standard))
    if row.standard < row.pre_pilot_standard:
        steps.append(
            CalculationStep(label="raised to the pre-pilot floor", amount=row.pre_pilot_standard)
        )
        text = f"standard {row.standard} raised to the pre-pilot floor {row.pre_pilot_standard}"
        return steps, row.pre_pilot_standard, text
    steps.append(
        CalculationStep(label="standard applied (not below the floor)", amount=row.standard)
    )
    text = (
        f"standard {row.standard} applied (not below the pre-pilot floor {row.pre_pilot_standard})"
    )
    return steps, row.standard, text
