"""Payment method (支付方式): the patient side (how the stay counts for the insured person)
and the agency side (DRG, disease score, value-based, per bed-day, ...)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from decimal import Decimal
from typing import Literal

from ..codes import FlagCode, RejectionCode
from ..models.common import FEN, CodeSystem, Setting, local_date
from ..models.episode import Code, Episode
from ..models.settlement import CalculationStep, ParameterRead, Payment
from ..policy.loader import Policy, normalise_code
from ..policy.schema import (
    AgencyLabel,
    ConvertToOrdinaryInpatient,
    DiseaseRow,
    FeeForServiceOrQuota,
    PaymentRules,
    PerBedDay,
    PerDisease,
    QuotaDisease,
    Rule,
)
from .findings import Findings
from .sessions import day_ward_sessions
from .trace import cite, flag, read, reject, step

STEP = "payment"


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
    if isinstance(agency, FeeForServiceOrQuota):
        return _fee_for_service_or_quota(episode, policy, agency, base, allowed or {}, findings)
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


def quota_disease(rule: FeeForServiceOrQuota, code: Code) -> QuotaDisease | None:
    """The disease of ``rule``'s quota list an ICD-10 code falls under (原实行定额结算的病种),
    matched by code prefix; ``None`` for a code not on the list."""
    if code.system is not CodeSystem.ICD_10:
        return None
    text = normalise_code(code.code)
    return next((d for d in rule.quotas.diseases if text.startswith(normalise_code(d.code))), None)


def _fee_for_service_or_quota(
    episode: Episode,
    policy: Policy,
    rule: FeeForServiceOrQuota,
    base: dict[str, object],
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
        return Payment.model_validate(
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
        if RejectionCode.SESSIONS_MISSING in {r.code for r in findings.rejections}:
            return None  # already refused for it (an eligibility rule that needs sessions)
        findings.rejections.append(
            reject(
                policy,
                RejectionCode.SESSIONS_MISSING,
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
        assert match.code is not None  # a lookup without a row says why
        if match.code not in {r.code for r in findings.rejections}:
            # a disease outside the table cites the table's catalogue clause (二、（一）)
            cited = policy.rules.catalogues[rule.table] if match.unlisted else rule
            findings.rejections.append(
                reject(policy, RejectionCode(match.code), match.message, cited)
            )
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
    if rule.floor == "check_table" and row.below_floor_reason is not None:
        findings.flags.append(
            flag(
                policy,
                FlagCode.STANDARD_BELOW_PRE_PILOT,
                "info",
                f"{row.name}: the table's standard {row.standard} is below the pre-pilot "
                f"standard {row.pre_pilot_standard} by the region's stated exception: "
                f"{row.below_floor_reason}",
                rule,
            )
        )
    amount = applied
    outcome = f"{match.message}: {row.category}, {row.method}; {floor_text}"
    status = f"disease table ({table.header.status})"
    parameters = [
        read("disease_table", f"{table.header.id} v{table.header.version}", rule, field="table"),
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
        parameters.append(read("bed_days", rule.bed_days.count, rule.bed_days, field="count"))
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
    if rule.floor == "check_table" and row.below_floor_reason is not None:
        steps.append(
            CalculationStep(
                label="standard applied (below the floor by the table's stated exception)",
                amount=row.standard,
                note=row.below_floor_reason,
            )
        )
        text = (
            f"standard {row.standard} applied, below the pre-pilot standard "
            f"{row.pre_pilot_standard} by the table's stated exception"
        )
        return steps, row.standard, text
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
