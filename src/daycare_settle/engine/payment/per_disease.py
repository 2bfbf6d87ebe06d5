"""Pay by disease (按病种付费) from a disease table (TCM pilot 2025 二、（二）, 二、（五）): the
row's standard per case or per bed-day, the pre-pilot floor, and the reference standard."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal

from ...codes import FlagCode, RejectionCode
from ...models.common import FEN
from ...models.episode import Episode
from ...models.settlement import CalculationStep, ParameterRead, Payment
from ...policy.loader import Policy
from ...policy.schema import DiseaseRow, PerDisease
from ..findings import Findings
from ..trace import cite, flag, read, reject, step
from .common import STEP, Base, bed_days


def decide_per_disease(
    episode: Episode,
    policy: Policy,
    rule: PerDisease,
    base: Base,
    allowed: Mapping[str, Decimal],
    findings: Findings,
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
        units = bed_days(episode, policy, rule.bed_days, rule.bed_days.count, findings)
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
