"""Jining 济医保字〔2021〕44号 — the oncology radio-/chemotherapy day ward, clause by clause."""

from __future__ import annotations

import random
from decimal import Decimal
from pathlib import Path

import pytest

from daycare_settle import PolicyLoadError, PolicyNotInForce, settle
from daycare_settle.policy.loader import load_policy_file
from daycare_settle.policy.registry import rules_root
from tests.builders import example_episodes
from tests.policies.jining_builders import (
    at,
    charge,
    codes,
    conserved,
    cycle,
    flag_codes,
    line,
    run,
    session,
)

RULE_FILE = rules_root() / "jining" / "jiyibaozi-2021-44.yaml"


# --- window of the pilot ---------------------------------------------------------------------


@pytest.mark.parametrize("day", ["2021-09-15", "2022-09-14"])
def test_jn_pilot_window_boundary_days_in_force(day: str) -> None:
    episode = cycle(
        admitted_at=f"{day}T08:00:00",
        discharged_at=f"{day}T16:00:00",
        sessions=[{"start": f"{day}T09:00:00", "end": f"{day}T14:00:00", "kind": "radiotherapy"}],
        charges=[charge("t-1", f"{day}T10:00:00")],
    )
    assert run(episode).status == "settled"


@pytest.mark.parametrize("day", ["2021-09-14", "2022-09-15"])
def test_jn_pilot_window_outside_not_in_force(day: str) -> None:
    episode = cycle(
        admitted_at=f"{day}T08:00:00",
        discharged_at=f"{day}T16:00:00",
        sessions=[{"start": f"{day}T09:00:00", "end": f"{day}T14:00:00", "kind": "radiotherapy"}],
        charges=[charge("t-1", f"{day}T10:00:00")],
    )
    with pytest.raises(PolicyNotInForce):
        run(episode)


# --- 一, 二, 四: eligibility ---------------------------------------------------------------


def test_jn_1_valid_cycle_settles_as_one_inpatient_stay() -> None:
    result = run(cycle())
    assert result.status == "settled"
    assert result.settled_as == "day_care"
    assert result.payment.patient == "single_inpatient_stay"
    assert result.payment.patient_citation.clause == "三（一）"
    assert result.payment.agency == "fee_for_service"


@pytest.mark.parametrize("code", ["C00.0", "C97.x00", "C50.901"])
def test_jn_1_malignant_tumour_admitted(code: str) -> None:
    result = run(cycle(diagnoses=[{"code": code, "system": "ICD-10"}]))
    assert result.status == "settled"
    assert "STARTER_CATALOGUE" not in flag_codes(result)


@pytest.mark.parametrize("code", ["D05.1", "D37.0", "K80.20"])
def test_jn_1_not_malignant_rejected(code: str) -> None:
    result = run(cycle(diagnoses=[{"code": code, "system": "ICD-10"}]))
    assert result.status == "rejected"
    assert codes(result) == ["NOT_IN_CATALOGUE"]


def test_jn_2_tier_one_rejected() -> None:
    result = run(cycle(institution={"tier": 1}))
    assert codes(result) == ["TIER_TOO_LOW"]
    assert result.rejection_reasons[0].citation.clause == "二"


def test_jn_2_tier_two_admitted() -> None:
    assert run(cycle(institution={"tier": 2})).status == "settled"


def test_jn_2_not_filed_rejected() -> None:
    result = run(cycle(institution={"filed_programmes": []}))
    assert codes(result) == ["PROGRAMME_NOT_FILED"]


def test_jn_4_2_consent_required() -> None:
    result = run(cycle(consent_signed=False))
    assert codes(result) == ["CONSENT_NOT_SIGNED"]
    assert result.rejection_reasons[0].citation.clause == "四（二）"


def test_jn_1_no_sessions_rejected() -> None:
    result = run(cycle(sessions=[]))
    assert codes(result) == ["SESSIONS_MISSING"]
    assert all(ln.disposition == "disallowed" for ln in result.lines)


def test_jn_1_other_session_kind_rejected() -> None:
    result = run(cycle(sessions=[session(0), session(7, kind="tcm")]))
    assert codes(result) == ["SESSION_KIND_NOT_ALLOWED"]


def test_jn_other_programme_not_covered() -> None:
    result = run(cycle(programme="day_chemo"))
    assert codes(result) == ["PROGRAMME_NOT_COVERED"]


# --- 一 / 三（一）: the settlement cycle, no 24 h limit ---------------------------------


def test_jn_3_1a_cycle_over_days_has_no_time_limit() -> None:
    result = run(cycle())
    assert result.time_limit.status == "not_applicable"
    assert result.time_limit.limit_hours is None
    assert result.time_limit.duration_seconds == 14 * 86400 + 8 * 3600
    assert "SESSION_SPANS_DAYS" not in flag_codes(result)


def test_jn_1_session_over_midnight_flagged() -> None:
    late = {"start": at(7, 20), "end": at(8, 1), "kind": "radiotherapy"}
    result = run(cycle(sessions=[session(0), late, session(14)]))
    assert result.status == "settled"
    flags = [f for f in result.flags if f.code == "SESSION_SPANS_DAYS"]
    assert len(flags) == 1
    assert flags[0].severity == "warning"
    assert "sessions[1]" in flags[0].message


def test_jn_1_cycle_over_three_months_flagged() -> None:
    result = run(cycle(discharged_at=at(92, 16), sessions=[session(0), session(92)]))
    assert result.status == "settled"
    assert "CYCLE_LONGER_THAN_USUAL" in flag_codes(result)


def test_jn_1_cycle_of_three_months_not_flagged() -> None:
    result = run(cycle(discharged_at=at(91, 16), sessions=[session(0), session(91)]))
    assert "CYCLE_LONGER_THAN_USUAL" not in flag_codes(result)


def test_jn_3_1a_auxiliary_examination_in_cycle_included() -> None:
    result = run(cycle(charges=[charge("x-1", at(0, 8.5), "examination", "320.00")]))
    assert line(result, "x-1").disposition == "included"
    assert line(result, "x-1").allowed_amount == Decimal("320.00")


# --- 三（一）: between sessions ---------------------------------------------------------


def test_jn_3_1b_treatment_between_sessions_disallowed() -> None:
    charges = [
        charge("t-1", at(0, 10)),
        charge("t-between", at(3, 10), "treatment", "260.00"),
        charge("m-between", at(4, 10), "medical_material", "35.00"),
    ]
    result = run(cycle(charges=charges))
    assert result.status == "settled"
    for cid in ("t-between", "m-between"):
        assert line(result, cid).disposition == "disallowed"
        assert line(result, cid).reason == "BETWEEN_SESSIONS_NOT_ALLOWED"
        assert line(result, cid).citation.clause == "三（一）"
    assert line(result, "t-1").disposition == "included"
    violation = next(f for f in result.flags if f.code == "BETWEEN_SESSIONS_CHARGES")
    assert violation.severity == "violation"
    assert violation.charge_ids == ("m-between", "t-between")
    assert result.totals.disallowed == Decimal("295.00")


def test_jn_3_1b_exams_labs_and_oral_drugs_between_sessions_included() -> None:
    charges = [
        charge("x", at(3, 10), "examination", "180.00", related=True),
        charge("l", at(3, 10), "lab_test", "96.00", related=True),
        charge("wd", at(4, 10), "western_drug", "420.00", route="oral", related=True),
        charge("cpd", at(5, 10), "chinese_patent_drug", "88.00", route="oral", related=True),
    ]
    result = run(cycle(charges=charges))
    assert all(ln.disposition == "included" for ln in result.lines)
    assert "BETWEEN_SESSIONS_CHARGES" not in flag_codes(result)


def test_jn_3_1b_oral_herbal_decoction_between_sessions_is_an_oral_drug() -> None:
    # 口服药物 of any kind: a decoction taken by mouth is an oral drug (the old reading
    # listed western and Chinese patent drugs only)
    decoction = charge("hd", at(4, 10), "herbal_decoction", "66.00", route="oral", related=True)
    result = run(cycle(charges=[charge("t-1", at(0, 10)), decoction]))
    assert line(result, "hd").disposition == "included"
    assert "BETWEEN_SESSIONS_CHARGES" not in flag_codes(result)


@pytest.mark.parametrize(
    ("category", "route"),
    [("examination", None), ("lab_test", None), ("western_drug", "oral")],
)
def test_jn_3_1b_unrelated_exception_category_between_sessions_disallowed(
    category: str, route: str | None
) -> None:
    # 肿瘤治疗所必需的: an examination, test or oral drug the treatment does not need (not
    # marked related) is not excepted
    extra = {} if route is None else {"route": route}
    result = run(cycle(charges=[charge("u", at(4, 10), category, "50.00", **extra)]))
    assert line(result, "u").disposition == "disallowed"
    assert line(result, "u").reason == "BETWEEN_SESSIONS_NOT_ALLOWED"
    assert "BETWEEN_SESSIONS_CHARGES" in flag_codes(result)


def test_jn_3_1b_outpatient_booked_infusion_between_sessions_disallowed() -> None:
    # booked as an outpatient visit, an infusion between sessions is still a charge
    # between sessions (the old engine let it out as not_merged)
    infusion = charge(
        "inf", at(4, 10), "western_drug", "268.00", setting="outpatient", route="intravenous"
    )
    result = run(cycle(charges=[charge("t-1", at(0, 10)), infusion]))
    assert line(result, "inf").disposition == "disallowed"
    assert line(result, "inf").reason == "BETWEEN_SESSIONS_NOT_ALLOWED"
    assert line(result, "inf").citation.clause == "三（一）"
    violation = next(f for f in result.flags if f.code == "BETWEEN_SESSIONS_CHARGES")
    assert violation.charge_ids == ("inf",)
    assert conserved(result)


def test_jn_3_1a_related_examination_booked_outpatient_joins_the_cycle() -> None:
    # 期间发生的且与本次治疗相关的辅助检查费用一并纳入该次费用结算, whatever the booking
    charges = [
        charge("t-1", at(0, 10)),
        charge("ct", at(4, 10), "examination", "480.00", setting="outpatient", related=True),
        charge("lab", at(7, 8), "lab_test", "92.00", setting="outpatient", related=True),
    ]
    result = run(cycle(charges=charges))
    for cid in ("ct", "lab"):
        assert line(result, cid).disposition == "included"
        assert line(result, cid).reason == "MERGED_DURING_STAY"
        assert line(result, cid).citation.clause == "三（一）"
    assert result.totals.included == Decimal("672.00")


def test_jn_3_1a_unrelated_outpatient_examination_on_a_session_day_not_merged() -> None:
    charges = [
        charge("t-1", at(0, 10)),
        charge("eye", at(7, 16), "examination", "40.00", setting="outpatient"),
        charge("oral", at(7, 16), "western_drug", "30.00", setting="outpatient", related=True),
    ]
    result = run(cycle(charges=charges))
    assert line(result, "eye").disposition == "not_merged"
    assert line(result, "eye").reason == "NOT_MERGED_UNRELATED"
    assert line(result, "oral").reason == "NOT_MERGED_CATEGORY"  # 辅助检查 only
    assert "RELATED_COST_OUTSIDE_MERGE_CATEGORIES" in flag_codes(result)


def test_jn_3_1_outpatient_visit_after_discharge_not_merged() -> None:
    result = run(
        cycle(charges=[charge("t-1", at(0, 10)), charge("fu", at(16, 9), setting="outpatient")])
    )
    assert line(result, "fu").disposition == "not_merged"
    assert line(result, "fu").reason == "NOT_MERGED_NO_POST_DISCHARGE_MERGE"
    assert line(result, "fu").citation is not None


def test_jn_3_1b_readings_label_values_the_text_does_not_state() -> None:
    result = run(cycle())
    between = next(s for s in result.trace if s.step == "between_sessions")
    provenance = {p.name: p.provenance for p in between.parameters}
    assert provenance["categories"] == "explicit"  # 检查、检验
    assert provenance["drugs"] == "local-parameter"
    assert provenance["requires_related"] == "local-parameter"
    assert provenance["exempt_session_days"] == "local-parameter"
    conversion = next(s for s in run(_converted()).trace if s.step == "conversion")
    assert {p.name: p.provenance for p in conversion.parameters}["mode"] == "explicit"


@pytest.mark.parametrize("route", ["intravenous", None])
def test_jn_3_1b_non_oral_drug_between_sessions_disallowed(route: str | None) -> None:
    extra: dict[str, object] = {"related": True}
    if route is not None:
        extra["route"] = route
    result = run(cycle(charges=[charge("d", at(3, 10), "western_drug", "500.00", **extra)]))
    assert line(result, "d").reason == "BETWEEN_SESSIONS_NOT_ALLOWED"


def test_jn_3_1b_charges_on_session_days_are_part_of_the_visit() -> None:
    charges = [
        charge("before", at(7, 8), "treatment"),  # session day, before the session
        charge("after", at(7, 17), "treatment"),  # session day, after the session
    ]
    result = run(cycle(charges=charges))
    assert [ln.disposition for ln in result.lines] == ["included", "included"]


def test_jn_3_1b_before_first_and_after_last_session_not_between() -> None:
    episode = cycle(
        admitted_at=at(0, 8),
        sessions=[session(1), session(7)],
        discharged_at=at(8, 12),
        charges=[charge("d0", at(0, 9)), charge("d8", at(8, 9))],
    )
    result = run(episode)
    assert [ln.reason for ln in result.lines] == ["IN_STAY", "IN_STAY"]


# --- 三（二）: daily fees ---------------------------------------------------------------


def _fees(day: int, bed: str, nursing: str, consultation: str) -> list[dict[str, object]]:
    return [
        charge(f"bed-{day}", at(day, 8.5), "bed", bed),
        charge(f"nur-{day}", at(day, 8.5), "nursing", nursing),
        charge(f"con-{day}", at(day, 8.5), "consultation", consultation),
    ]


def test_jn_3_2b_chemo_day_fee_capped_tier3() -> None:
    result = run(cycle(charges=_fees(0, "45.00", "30.00", "13.00")))
    assert (line(result, "bed-0").allowed_amount, line(result, "bed-0").reason) == (
        Decimal("20.00"),
        "FEE_CAPPED",
    )
    assert line(result, "bed-0").disposition == "included"
    assert line(result, "nur-0").allowed_amount == Decimal("19.00")
    assert line(result, "con-0").allowed_amount == Decimal("13.00")
    assert line(result, "con-0").reason == "FEE_WITHIN_CAP"
    assert line(result, "bed-0").citation.clause == "三（二）"
    assert result.totals.included == Decimal("52.00")
    assert result.totals.disallowed == Decimal("36.00")
    assert "FEE_OVER_DAILY_STANDARD" in flag_codes(result)
    assert conserved(result)


def test_jn_3_2b_chemo_day_fee_capped_tier2() -> None:
    result = run(cycle(institution={"tier": 2}, charges=_fees(0, "45.00", "30.00", "20.00")))
    allowed = [line(result, c).allowed_amount for c in ("bed-0", "nur-0", "con-0")]
    assert allowed == [Decimal("17.00"), Decimal("16.00"), Decimal("11.00")]


def test_jn_3_2b_cap_is_per_day() -> None:
    result = run(
        cycle(charges=_fees(0, "20.00", "19.00", "13.00") + _fees(7, "20.00", "19.00", "13.00"))
    )
    assert result.totals.disallowed == Decimal("0.00")
    assert result.totals.included == Decimal("104.00")


def test_jn_3_2b_charges_of_one_day_share_the_cap_in_time_order() -> None:
    charges = [
        charge("bed-b", at(0, 12), "bed", "15.00"),
        charge("bed-a", at(0, 8), "bed", "15.00"),
    ]
    result = run(cycle(charges=charges))
    assert line(result, "bed-a").allowed_amount == Decimal("15.00")
    assert line(result, "bed-b").allowed_amount == Decimal("5.00")
    assert line(result, "bed-b").reason == "FEE_CAPPED"


def test_jn_3_2b_same_time_ties_broken_by_id_whatever_the_input_order() -> None:
    charges = [charge(f"bed-{i}", at(0, 8), "bed", "8.00") for i in range(5)]
    expected = None
    for seed in range(5):
        shuffled = charges[:]
        random.Random(seed).shuffle(shuffled)
        result = run(cycle(charges=shuffled))
        got = {ln.charge_id: ln.allowed_amount for ln in result.lines}
        assert [ln.charge_id for ln in result.lines] == [c["id"] for c in shuffled]
        expected = expected or got
        assert got == expected
    assert expected == {
        "bed-0": Decimal("8.00"),
        "bed-1": Decimal("8.00"),
        "bed-2": Decimal("4.00"),
        "bed-3": Decimal("0.00"),
        "bed-4": Decimal("0.00"),
    }


def test_jn_3_2a_radiotherapy_day_fees_not_chargeable() -> None:
    result = run(
        cycle(
            sessions=[session(0, "radiotherapy")],
            discharged_at=at(0, 16),
            charges=[*_fees(0, "20.00", "19.00", "13.00"), charge("rt", at(0, 10))],
        )
    )
    for cid in ("bed-0", "nur-0", "con-0"):
        assert line(result, cid).disposition == "disallowed"
        assert line(result, cid).reason == "FEE_NOT_CHARGEABLE"
    assert line(result, "rt").disposition == "included"
    assert result.totals.disallowed == Decimal("52.00")


def test_jn_3_2b_day_with_chemo_and_radiotherapy_is_a_chemo_day() -> None:
    sessions = [session(0, "radiotherapy", 8, 8.5), session(0, "chemotherapy", 9, 14)]
    result = run(
        cycle(
            sessions=sessions, discharged_at=at(0, 16), charges=_fees(0, "30.00", "19.00", "13.00")
        )
    )
    assert line(result, "bed-0").allowed_amount == Decimal("20.00")


def test_jn_3_2_fee_on_a_day_without_session_disallowed() -> None:
    episode = cycle(
        sessions=[session(1), session(7)],
        discharged_at=at(8, 12),
        charges=[
            charge("bed-0", at(0, 9), "bed", "20.00"),
            charge("bed-8", at(8, 9), "bed", "20.00"),
        ],
    )
    result = run(episode)
    assert [ln.reason for ln in result.lines] == ["FEE_NO_SESSION_DAY", "FEE_NO_SESSION_DAY"]


def test_jn_3_1b_fee_between_sessions_is_a_between_sessions_violation() -> None:
    result = run(cycle(charges=[charge("bed-3", at(3, 9), "bed", "20.00")]))
    assert line(result, "bed-3").reason == "BETWEEN_SESSIONS_NOT_ALLOWED"


def test_jn_3_2b_other_categories_at_actual_cost() -> None:
    charges = [
        charge("drug", at(0, 9), "western_drug", "3862.50", route="intravenous"),
        charge("mat", at(0, 9), "medical_material", "38.60"),
    ]
    result = run(cycle(charges=charges))
    assert result.totals.included == Decimal("3901.10")


def _edited(tmp_path: Path, name: str, old: str, new: str) -> Path:
    """A copy of the Jining rule file (with its catalogues) named ``name``, ``old`` replaced."""
    text = RULE_FILE.read_text(encoding="utf-8")
    assert old in text, old
    (tmp_path / "catalogues").mkdir()
    for catalogue in (RULE_FILE.parent / "catalogues").iterdir():
        (tmp_path / "catalogues" / catalogue.name).write_bytes(catalogue.read_bytes())
    path = tmp_path / name
    path.write_text(text.replace(old, new), encoding="utf-8")
    return path


def test_jn_3_2_fee_schedule_missing_admitted_tier_is_a_load_error(tmp_path: Path) -> None:
    path = _edited(
        tmp_path,
        "broken.yaml",
        '            2: {bed: "17.00", nursing: "16.00", consultation: "11.00"}\n',
        "",
    )
    broken = path.read_text(encoding="utf-8")
    with pytest.raises(PolicyLoadError) as error:
        load_policy_file(path)
    expected_line = broken.splitlines().index("          caps_by_tier:") + 1
    assert error.value.line == expected_line
    assert f"broken.yaml:{expected_line}" in str(error.value)
    assert "tier [2]" in str(error.value)


# --- 三（二）: agency side ---------------------------------------------------------------


def test_jn_3_2c_fee_for_service_by_default() -> None:
    result = run(cycle())
    assert result.payment.agency == "fee_for_service"
    assert result.payment.agency_amount is None
    assert result.payment.agency_citation.clause == "三（二）"


def test_jn_3_2c_quota_minus_fees_for_a_listed_disease() -> None:
    charges = _fees(0, "20.00", "19.00", "13.00") + _fees(7, "30.00", "19.00", "13.00")
    result = run(cycle(agency_method_choice="quota_minus_fees", charges=charges))
    payment = result.payment
    assert payment.agency == "quota_minus_fees"
    # C34 quota 8500.00; ordinary tier-3 daily fees 50 + 30 + 20 = 100 per treatment day;
    # day ward allowed 52 on days 0 and 7 (day 7's bed capped at 20), 0 on day 14.
    assert [s.amount for s in payment.calculation] == [
        Decimal("8500.00"),
        Decimal("48.00"),
        Decimal("48.00"),
        Decimal("100.00"),
        Decimal("196.00"),
        Decimal("8304.00"),
    ]
    assert payment.agency_amount == Decimal("8304.00")
    assert payment.units == "3 treatment day(s)"


def test_jn_3_2c_quota_for_an_unlisted_disease_rejected() -> None:
    result = run(
        cycle(
            agency_method_choice="quota_minus_fees",
            diagnoses=[{"code": "C22.0", "system": "ICD-10"}],
        )
    )
    assert codes(result) == ["QUOTA_DISEASE_NOT_LISTED"]


def test_jn_3_2c_unknown_agency_choice_rejected() -> None:
    result = run(cycle(agency_method_choice="per_diem"))
    assert codes(result) == ["AGENCY_CHOICE_UNKNOWN"]


def test_jn_3_2c_explicit_fee_for_service_choice() -> None:
    assert run(cycle(agency_method_choice="fee_for_service")).payment.agency == "fee_for_service"


# --- 三（三）: conversion ---------------------------------------------------------------


def _converted() -> dict[str, object]:
    return cycle(
        sessions=[session(0), session(7)],
        conversion={"at": at(7, 15), "ward": "oncology-ward-3"},
        discharged_at=at(12, 10),
        charges=[
            *_fees(0, "45.00", "19.00", "13.00"),
            charge("t-between", at(3, 10)),
            charge("ward-bed", at(9, 8), "bed", "50.00", setting="inpatient"),
            charge(
                "ward-drug",
                at(10, 8),
                "western_drug",
                "600.00",
                setting="inpatient",
                route="intravenous",
            ),
            charge("ward-ct", at(8, 10), "examination", "300.00", setting="outpatient"),
            charge("at-move", at(7, 15), "treatment", "80.00"),
        ],
        agency_method_choice="quota_minus_fees",
    )


def test_jn_3_3_conversion_is_two_settlements() -> None:
    # 日间治疗结算后可及时转普通住院治疗，并按原住院结算方法结算: the day-ward cycle is
    # settled here first; the ward stay settles separately (the old reading merged both
    # into one ordinary stay, paid fee-for-service)
    result = run(_converted())
    assert result.status == "settled"
    assert result.settled_as == "day_care"
    assert result.conversion is not None
    assert (result.conversion.mode, result.conversion.ward) == ("separate", "oncology-ward-3")
    assert result.conversion.at == "2021-10-15T15:00:00+08:00"
    assert result.conversion.citation.clause == "三（三）"
    # the day-ward part settles by the day ward's own payment rule (here the quota option)
    assert result.payment.agency == "quota_minus_fees"
    assert result.payment.units == "2 treatment day(s)"
    assert line(result, "bed-0").allowed_amount == Decimal("20.00")
    assert line(result, "t-between").reason == "BETWEEN_SESSIONS_NOT_ALLOWED"
    # the ward part, from the conversion instant, whatever its booking, is not this one
    for cid in ("ward-bed", "ward-drug", "ward-ct", "at-move"):
        assert line(result, cid).disposition == "not_merged"
        assert line(result, cid).reason == "WARD_STAY_SETTLED_SEPARATELY"
        assert line(result, cid).citation.clause == "三（三）"
    assert result.totals.not_merged == Decimal("1030.00")
    assert conserved(result)


def test_jn_3_3_conversion_mode_is_a_rule_file_setting(tmp_path: Path) -> None:
    path = _edited(
        tmp_path,
        "merged.yaml",
        "      mode: separate\n",
        "      mode: merged\n      agency: fee_for_service\n"
        "      counts_toward_annual_inpatient_cap: true\n",
    )
    result = settle(_converted(), load_policy_file(path))
    assert result.settled_as == "ordinary_inpatient"
    assert result.conversion.mode == "merged"
    assert line(result, "ward-bed").reason == "IN_WARD_AFTER_CONVERSION"
    assert result.payment.agency == "fee_for_service"


def test_jn_3_3_separate_mode_refuses_merged_terms(tmp_path: Path) -> None:
    path = _edited(
        tmp_path,
        "broken.yaml",
        "      mode: separate\n",
        "      mode: separate\n      agency: drg\n",
    )
    with pytest.raises(PolicyLoadError, match="separate"):
        load_policy_file(path)


# --- the pilot window (序言): sessions after its last day ------------------------------------


def test_jn_preamble_sessions_after_the_pilot_flagged() -> None:
    # admitted 2022-09-01, inside the pilot; sessions on 09-14 (its last day) and later
    episode = cycle(
        admitted_at="2022-09-01T08:00:00",
        discharged_at="2022-09-29T16:00:00",
        sessions=[
            {
                "start": f"2022-09-{d}T09:00:00",
                "end": f"2022-09-{d}T14:00:00",
                "kind": "radiotherapy",
            }
            for d in ("01", "14", "15", "29")
        ],
        charges=[charge("t-1", "2022-09-01T10:00:00")],
    )
    result = run(episode)
    assert result.status == "settled"
    late = next(f for f in result.flags if f.code == "SESSIONS_AFTER_POLICY_END")
    assert late.severity == "warning"
    assert late.citation.clause == "序言"
    assert "2022-09-15T09:00:00+08:00" in late.message
    assert "2022-09-29T09:00:00+08:00" in late.message
    assert "2022-09-14T09" not in late.message


def test_jn_preamble_sessions_inside_the_pilot_not_flagged() -> None:
    assert "SESSIONS_AFTER_POLICY_END" not in flag_codes(run(cycle()))


# --- 三（二）: a daily cap above the ordinary fee --------------------------------------------


def test_jn_3_2c_difference_never_below_zero_when_the_day_ward_allows_more(
    tmp_path: Path,
) -> None:
    # ordinary daily fees set below the day ward's caps: the day's difference is zero,
    # never negative (a negative gap would raise the payment above the quota)
    path = _edited(
        tmp_path,
        "low.yaml",
        '            3: {bed: "50.00", nursing: "30.00", consultation: "20.00"}',
        '            3: {bed: "10.00", nursing: "10.00", consultation: "10.00"}',
    )
    episode = cycle(
        agency_method_choice="quota_minus_fees", charges=_fees(0, "20.00", "19.00", "13.00")
    )
    result = settle(episode, load_policy_file(path))
    # day 0: ordinary 30.00 - allowed 52.00 -> 0; days 7 and 14: 30.00 each
    assert [s.amount for s in result.payment.calculation] == [
        Decimal("8500.00"),
        Decimal("0.00"),
        Decimal("30.00"),
        Decimal("30.00"),
        Decimal("60.00"),
        Decimal("8440.00"),
    ]


# --- conservation on the examples ------------------------------------------------------------


@pytest.mark.parametrize(
    "path",
    example_episodes("jining"),
    ids=lambda p: p.name,
)
def test_jn_examples_conserve_every_fen(path: Path) -> None:
    result = run(path.read_text(encoding="utf-8"))
    assert conserved(result)
    assert len(result.lines) == len({ln.charge_id for ln in result.lines})
    assert all(ln.reason and ln.citation is not None for ln in result.lines)


EXPECTED = {
    "chemo-lung-tier3-capped-fees": ("settled", "fee_for_service", "108.00"),
    "radiotherapy-nasopharynx-bed-fees-disallowed": ("settled", "fee_for_service", "132.00"),
    "between-sessions-infusion-violation": ("settled", "fee_for_service", "319.00"),
    "quota-minus-fees-breast": ("settled", "quota_minus_fees", "0.00"),
    "converted-to-ordinary-inpatient": ("settled", "fee_for_service", "50.00"),
    "no-sessions-rejected": ("rejected", None, "880.00"),
}


@pytest.mark.parametrize(("name", "expected"), sorted(EXPECTED.items()))
def test_jn_examples_settle_as_intended(name: str, expected: tuple[str, str | None, str]) -> None:
    path = Path(__file__).resolve().parents[2] / "examples" / "jining" / f"{name}.json"
    result = run(path.read_text(encoding="utf-8"))
    agency = None if result.payment is None else result.payment.agency
    assert (result.status, agency, str(result.totals.disallowed)) == expected
