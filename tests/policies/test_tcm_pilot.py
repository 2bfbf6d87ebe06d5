"""National TCM advantaged-disease pilot (frame ``tcm-pilot-2025-frame``) with the bundled
illustrative region (policy ``tcm-pilot-2025``), clause by clause.

Builders are local: a TCM day-ward episode at a filed hospital, admitted 2025-10-13 08:00
(Asia/Shanghai), discharged on the fifth day, principal diagnosis given per test.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from daycare_settle import PolicyLoadError, PolicyNotInForce, load_policy, settle
from daycare_settle.policy import rules_root

ADMITTED = dt.datetime(2025, 10, 13, 8, 0)
FRAME_DOC = (
    "国家医保局办公室 国家中医药局综合司 关于开展中医优势病种按病种付费试点工作的通知（2025-09-24）"
)
REGION_FILE = rules_root() / "tcm-pilot-2025" / "illustrative-region.yaml"
FRAME_FILE = rules_root() / "national" / "tcm-pilot-2025.yaml"


def at(hours: float = 0, *, days: int = 0, base: dt.datetime = ADMITTED) -> str:
    return (base + dt.timedelta(days=days, hours=hours)).isoformat()


def icd(code: str) -> dict[str, str]:
    return {"code": code, "system": "ICD-10"}


def tcd(code: str) -> dict[str, str]:
    return {"code": code, "system": "TCD"}


def episode(*diagnoses: dict[str, str], **fields: Any) -> dict[str, Any]:
    value: dict[str, Any] = {
        "episode_id": "TCM-1",
        "programme": "tcm_day_care",
        "admitted_at": at(0),
        "discharged_at": at(3, days=4),
        "institution": {"id": "H-TCM-1", "tier": 2, "filed_programmes": ["tcm_day_care"]},
        "patient": {"id": "P-TCM-1"},
        "consent_signed": True,
        "diagnoses": list(diagnoses) or [icd("M51.202")],
        "charges": [
            {
                "id": "c1",
                "at": at(1),
                "setting": "day_care",
                "category": "treatment",
                "amount": "96.00",
            }
        ],
    }
    value.update(fields)
    return value


def run(*diagnoses: dict[str, str], policy: str = "tcm-pilot-2025", **fields: Any) -> Any:
    return settle(episode(*diagnoses, **fields), policy=policy)


def codes(result: Any) -> list[str]:
    return [reason.code for reason in result.rejection_reasons]


def labels(result: Any) -> list[tuple[str, str]]:
    return [(step.label, str(step.amount)) for step in result.payment.calculation]


# --- identity: region file plus frame --------------------------------------------------------


def test_tcm_result_records_region_and_frame() -> None:
    ref = run().policy
    assert ref.id == "tcm-pilot-2025"
    region_hash = hashlib.sha256(REGION_FILE.read_bytes()).hexdigest()
    frame_hash = hashlib.sha256(FRAME_FILE.read_bytes()).hexdigest()
    files = {f.path: f.sha256 for f in ref.files}
    assert files[REGION_FILE.name] == region_hash
    assert files["../national/" + FRAME_FILE.name] == frame_hash
    assert len(files) == 3  # region, frame and the disease table
    manifest = "".join(f"{digest}  {path}\n" for path, digest in sorted(files.items()))
    assert ref.sha256 == hashlib.sha256(manifest.encode()).hexdigest()
    (frame,) = ref.frames
    assert frame.id == "tcm-pilot-2025-frame"
    assert frame.document == FRAME_DOC
    frame_manifest = f"{frame_hash}  ../national/{FRAME_FILE.name}\n"
    assert frame.sha256 == hashlib.sha256(frame_manifest.encode()).hexdigest()


def test_tcm_scope_step_names_the_frame() -> None:
    scope = next(s for s in run().trace if s.step == "scope")
    assert "composed with frame tcm-pilot-2025-frame v2025.1" in scope.outcome
    assert "overriding" not in scope.outcome


def test_tcm_region_plugs_in_by_path() -> None:
    result = run(policy=str(REGION_FILE))
    assert result.status == "settled"
    assert result.policy.frames[0].id == "tcm-pilot-2025-frame"


def test_tcm_3_admission_before_notice_not_in_force() -> None:
    day = dt.datetime(2025, 9, 23, 23, 30)
    charge = {"id": "c", "at": at(1, base=day), "setting": "day_care", "category": "treatment"}
    charge["amount"] = "10.00"
    with pytest.raises(PolicyNotInForce):
        run(admitted_at=at(base=day), discharged_at=at(3, days=4, base=day), charges=[charge])


def test_tcm_3_admission_on_notice_day_settles() -> None:
    day = dt.datetime(2025, 9, 24, 8, 0)
    charge = {"id": "c", "at": at(1, base=day), "setting": "day_care", "category": "treatment"}
    charge["amount"] = "10.00"
    result = run(admitted_at=at(base=day), discharged_at=at(3, days=4, base=day), charges=[charge])
    assert result.status == "settled"


def test_tcm_garbled_quote_kept_verbatim_with_reading() -> None:
    step = next(s for s in run().trace if s.rule == "disease_mapped")
    assert step.quote is not None
    assert "树立同一的西医TCD编码和中医ICD编码之间的映射规定" in step.quote
    assert "[reading: " in step.quote
    assert "建立统一的中医TCD编码和西医ICD编码之间的映射规则" in step.quote
    assert step.citation is not None
    assert step.citation.document == FRAME_DOC


# --- TCM-2.5a mapping ------------------------------------------------------------------------


def test_tcm_2_5a_icd_only_diagnosis_mapped() -> None:
    result = run(icd("M51.202"))
    assert result.status == "settled"
    assert result.payment.basis.startswith("腰痛病")
    assert "ICD-10 M51.2" in result.payment.basis


def test_tcm_2_5a_tcd_only_diagnosis_mapped() -> None:
    result = run(tcd("ILL.TCD.02.01"))
    assert result.status == "settled"
    assert result.payment.agency_amount == 8600
    step = next(s for s in result.trace if s.rule == "disease_mapped")
    assert "ILL.TCD.02.01 (TCD) maps to 腰痛病" in step.outcome


def test_tcm_2_1_disease_outside_the_table_rejected_once_citing_the_catalogue() -> None:
    # 试点地区原则上在国家统一明确的病种目录范围内开展按病种付费: a disease outside the
    # table is outside the catalogue (二、（一）), not a fault of the mapping (二、（五）)
    result = run(icd("J45.901"))
    assert codes(result) == ["DISEASE_NOT_MAPPED"]
    assert result.payment is None
    assert result.rejection_reasons[0].citation.clause == "二、（一）遴选中医优势病种"
    assert "is not a disease of table" in result.rejection_reasons[0].message
    assert all(x.reason == "EPISODE_REJECTED" for x in result.lines)


def test_tcm_2_5a_procedure_coded_principal_not_mapped() -> None:
    # a code of a system the mapping does not cover is a mapping failure: 二、（五）
    result = run({"code": "93.3901", "system": "ICD-9-CM-3"})
    assert codes(result) == ["DISEASE_NOT_MAPPED"]
    assert "TCD and ICD-10 codes only" in result.rejection_reasons[0].message
    assert result.rejection_reasons[0].citation.clause == "二、（五）完善配套管理措施"


def test_tcm_2_5a_illustrative_table_flagged() -> None:
    assert "ILLUSTRATIVE_DISEASE_TABLE" in [f.code for f in run().flags]


# --- TCM-2.2 standard and pre-pilot floor ----------------------------------------------------


def test_tcm_2_2_standard_at_or_above_floor_applied() -> None:
    payment = run(icd("M51.202")).payment
    assert payment.agency == "per_disease"
    assert payment.agency_amount == 8600
    assert labels(run(icd("M51.202")))[-2:] == [
        ("pre-pilot standard (floor)", "8200.00"),
        ("standard applied (not below the floor)", "8600.00"),
    ]


def test_tcm_2_2_row_below_floor_by_stated_exception_paid_as_set() -> None:
    # 原则上…不低于试点前支付标准 governs the table: a row below its pre-pilot standard with
    # the region's stated reason is paid as the table sets it (it was raised to 7200 before)
    result = run(icd("M47.802"))
    assert result.payment.agency_amount == 6800
    assert labels(result) == [
        ("payment standard per case", "6800.00"),
        ("reference standard (western_drg_dip)", "6500.00"),
        ("pre-pilot standard (floor)", "7200.00"),
        ("standard applied (below the floor by the table's stated exception)", "6800.00"),
    ]
    assert "below the pre-pilot standard 7200.00 by the table's stated exception" in (
        result.payment.basis
    )
    assert result.payment.agency_citation.clause == "二、（二）合理确定中医优势病种支付标准"
    (flagged,) = [f for f in result.flags if f.code == "STANDARD_BELOW_PRE_PILOT"]
    assert flagged.citation.clause == "二、（二）合理确定中医优势病种支付标准"


BELOW_FLOOR_TABLE = """\
disease_table:
  id: test-floor
  title: test table
  version: "1"
  status: illustrative
  origin: test
diseases:
  - {name: 腰痛病, tcd: T.01, icd10: M51.2, category: internal, method: per_disease,
     standard: "8600.00", pre_pilot_standard: "8200.00"}
  - {name: 项痹病, tcd: T.02, icd10: M47.8, category: internal, method: per_disease,
     standard: "6800.00", pre_pilot_standard: "7200.00"}
"""


def _region_with(tmp_path: Path, table: str, frame_edit: tuple[str, str] | None = None) -> str:
    """The bundled region over ``table``; with ``frame_edit``, over an edited frame copy."""
    frame_dir = FRAME_FILE.parent
    if frame_edit is not None:
        frame_dir = tmp_path / "national"
        frame_dir.mkdir()
        text = FRAME_FILE.read_text(encoding="utf-8")
        assert frame_edit[0] in text
        (frame_dir / FRAME_FILE.name).write_text(text.replace(*frame_edit), encoding="utf-8")
    text = REGION_FILE.read_text(encoding="utf-8")
    text = text.replace("extends: ../national/", f"extends: {frame_dir}/")
    text = text.replace("file: catalogues/illustrative-diseases.yaml", "file: table.yaml")
    (tmp_path / "table.yaml").write_text(table, encoding="utf-8")
    region = tmp_path / "region.yaml"
    region.write_text(text, encoding="utf-8")
    return str(region)


def test_tcm_2_2_row_below_floor_without_reason_is_a_load_error(tmp_path: Path) -> None:
    # checked when the table loads, naming the row at file:line (it was raised per case before)
    with pytest.raises(PolicyLoadError) as error:
        run(policy=_region_with(tmp_path, BELOW_FLOOR_TABLE))
    assert error.value.file == str(tmp_path / "table.yaml")
    assert error.value.line == 10  # the 项痹病 row
    assert "'项痹病' (T.02 / M47.8): standard 6800.00 is below its pre-pilot standard 7200.00" in (
        str(error.value)
    )
    assert "below_floor_reason" in str(error.value)


def test_tcm_2_2_row_at_its_pre_pilot_standard_loads(tmp_path: Path) -> None:
    # the boundary: a standard equal to the pre-pilot standard is not below it
    at_floor = BELOW_FLOOR_TABLE.replace('standard: "6800.00"', 'standard: "7200.00"')
    result = run(icd("M47.802"), policy=_region_with(tmp_path, at_floor))
    assert result.payment.agency_amount == 7200
    assert labels(result)[-1] == ("standard applied (not below the floor)", "7200.00")
    assert "STANDARD_BELOW_PRE_PILOT" not in [f.code for f in result.flags]


def test_tcm_2_2_raise_payment_is_the_other_reading(tmp_path: Path) -> None:
    edit = ("floor: check_table", "floor: raise_payment")
    region = _region_with(tmp_path, BELOW_FLOOR_TABLE, edit)
    result = run(icd("M47.802"), policy=region)
    assert result.payment.agency_amount == 7200
    assert labels(result)[-1] == ("raised to the pre-pilot floor", "7200.00")
    step = next(s for s in result.trace if s.step == "payment" and "per_disease" in s.rule)
    read = {p.name: (p.value, p.provenance) for p in step.parameters}
    assert read["floor"] == ("raise_payment", "local-parameter")


PER_BED_DAY_FEN_TABLE = """\
disease_table:
  id: test-bed-day-fen
  title: test table
  version: "1"
  status: illustrative
  origin: test
diseases:
  - {name: 中风病, tcd: T.05, icd10: I69.3, category: rehabilitation, method: per_bed_day,
     standard: "123.45", pre_pilot_standard: "120.00", reference: {basis: historical_cost}}
"""


def test_tcm_2_5b_per_bed_day_standard_with_fen(tmp_path: Path) -> None:
    # 123.45 per bed-day x 3 calendar days = 370.35, exact to the fen
    region = _region_with(tmp_path, PER_BED_DAY_FEN_TABLE)
    result = run(icd("I69.301"), policy=region, discharged_at=at(3, days=2))
    assert result.payment.units == "3 bed-day(s) (per_bed_day)"
    assert result.payment.agency_amount == Decimal("370.35")
    assert str(result.payment.agency_amount) == "370.35"
    assert labels(result)[0] == ("payment standard per bed-day", "123.45")
    assert labels(result)[-1] == ("x 3 bed-day(s)", "370.35")


def test_tcm_2_2_surgical_disease_references_conservative_standard() -> None:
    result = run(icd("S52.501"))
    assert ("reference standard (western_conservative_drg_dip)", "4600.00") in labels(result)
    assert result.payment.agency_amount == 5200


def test_tcm_2_2_standard_values_traced_with_table_status() -> None:
    step = next(s for s in run().trace if s.step == "payment" and "per_disease" in s.rule)
    read = {p.name: (p.value, p.provenance) for p in step.parameters}
    assert read["standard"] == ("8600.00", "disease table (illustrative)")
    assert read["floor"] == ("check_table", "local-parameter")


# --- TCM-2.5b per bed-day rehabilitation disease ---------------------------------------------


def test_tcm_2_5b_rehabilitation_disease_per_bed_day() -> None:
    result = run(icd("I69.301"))
    payment = result.payment
    assert payment.agency == "per_bed_day"
    assert payment.units == "5 bed-day(s) (per_bed_day)"
    assert payment.agency_amount == 2100
    assert labels(result)[-1] == ("x 5 bed-day(s)", "2100.00")


def test_tcm_2_5b_day_ward_spans_days_without_limit() -> None:
    result = run()
    assert result.time_limit.status.value == "not_applicable"
    assert result.time_limit.duration_hours == "99.0000"


# --- region choices --------------------------------------------------------------------------


def test_tcm_region_requires_filed_hospital() -> None:
    result = run(institution={"id": "H-X", "tier": 2, "filed_programmes": []})
    assert codes(result) == ["PROGRAMME_NOT_FILED"]


def test_tcm_region_outpatient_costs_do_not_merge() -> None:
    outpatient = {"id": "op", "at": at(-24), "setting": "outpatient", "category": "examination"}
    outpatient.update(amount="80.00", related=True)
    result = run(charges=[outpatient, episode()["charges"][0]])
    line = next(x for x in result.lines if x.charge_id == "op")
    assert line.reason == "NOT_MERGED_NO_PRE_ADMISSION_MERGE"


def test_tcm_region_conversion_refused() -> None:
    ward = {"id": "w", "at": at(4, days=2), "setting": "inpatient", "category": "bed"}
    ward["amount"] = "60.00"
    result = run(
        conversion={"at": at(2, days=2), "ward": "TCM inpatient"},
        charges=[episode()["charges"][0], ward],
    )
    assert codes(result) == ["CONVERSION_NOT_PROVIDED"]


def test_tcm_other_programmes_not_covered() -> None:
    assert codes(run(programme="day_surgery")) == ["PROGRAMME_NOT_COVERED"]


def test_tcm_policy_exposes_composed_rules() -> None:
    policy = load_policy("tcm-pilot-2025")
    rules = policy.rules.programmes[next(iter(policy.rules.programmes))]
    assert [rule.kind for rule in rules.eligibility] == ["disease_mapped", "programme_filed"]


# --- ambiguous mapping (a region's table with one ICD-10 code for two TCD diseases) ----------

AMBIGUOUS_TABLE = """\
disease_table:
  id: test-ambiguous
  title: test table
  version: "1"
  status: illustrative
  origin: test
diseases:
  - {name: 腰痛病, tcd: T.01, icd10: M51.2, category: internal, method: per_disease,
     standard: "100.00", pre_pilot_standard: "90.00"}
  - {name: 痹病, tcd: T.02, icd10: M51.2, category: internal, method: per_disease,
     standard: "200.00", pre_pilot_standard: "90.00"}
"""


def test_tcm_2_5a_ambiguous_icd_code_refused(tmp_path: Path) -> None:
    result = run(icd("M51.202"), policy=_region_with(tmp_path, AMBIGUOUS_TABLE))
    assert codes(result) == ["DISEASE_MAPPING_AMBIGUOUS"]


def test_tcm_2_5a_ambiguity_settled_by_tcd_secondary_diagnosis(tmp_path: Path) -> None:
    result = run(icd("M51.202"), tcd("T.02"), policy=_region_with(tmp_path, AMBIGUOUS_TABLE))
    assert result.status == "settled"
    assert result.payment.agency_amount == 200


def test_tcm_decisions_do_not_depend_on_charge_order() -> None:
    charges = [
        {"id": f"c{i}", "at": at(1, days=i), "setting": "day_care", "category": "treatment"}
        for i in range(4)
    ]
    for item in charges:
        item["amount"] = "50.00"
    forward = run(icd("I69.301"), charges=charges)
    backward = run(icd("I69.301"), charges=list(reversed(charges)))
    assert forward.payment == backward.payment
    assert forward.totals == backward.totals
