"""Panzhihua 攀医保规〔2024〕2号, clause by clause (POLICIES.md §2)."""

from __future__ import annotations

import shutil
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from daycare_settle import PolicyLoadError, PolicyNotInForce, settle
from tests.builders import at, charge, codes, episode, line, session

DOC = "攀医保规〔2024〕2号"


def settled(**fields: Any) -> Any:
    return settle(episode(**fields), policy="panzhihua")


# --- effective window (第十四条) -----------------------------------------------------------


def test_pzh_14_in_force_from_2024_11_12() -> None:
    first_day = episode(
        admitted_at="2024-11-12T00:00:00",
        discharged_at="2024-11-12T10:00:00",
        charges=[charge("c", "2024-11-12T05:00:00")],
    )
    assert settle(first_day, policy="panzhihua").status == "settled"


def test_pzh_14_not_in_force_the_day_before() -> None:
    day_before = episode(
        admitted_at="2024-11-11T23:59:59",
        discharged_at="2024-11-12T10:00:00",
        charges=[charge("c", "2024-11-12T05:00:00")],
    )
    with pytest.raises(PolicyNotInForce, match="2024-11-11"):
        settle(day_before, policy="panzhihua")


def test_pzh_14_admission_day_counted_in_shanghai() -> None:
    # 2024-11-11T16:30Z is 2024-11-12 00:30 in Shanghai: in force
    utc = episode(
        admitted_at="2024-11-11T16:30:00+00:00",
        discharged_at="2024-11-12T10:00:00+08:00",
        charges=[charge("c", "2024-11-12T05:00:00+08:00")],
    )
    assert settle(utc, policy="panzhihua").status == "settled"


# --- time limit (第三条) ---------------------------------------------------------------------

HOUR = 3600


@pytest.mark.parametrize(
    ("seconds", "reason", "status", "outcome"),
    [
        (24 * HOUR, None, "within", "settled"),
        (24 * HOUR + 1, None, "exceeded", "rejected"),
        (24 * HOUR + 1, "post-operative observation", "extended", "settled"),
        (48 * HOUR, "post-operative observation", "extended", "settled"),
        (48 * HOUR + 1, "post-operative observation", "exceeded", "rejected"),
    ],
)
def test_pzh_3_time_limit_boundaries(
    seconds: int, reason: str | None, status: str, outcome: str
) -> None:
    result = settled(discharged_at=at(seconds / HOUR), extension_reason=reason)
    assert result.time_limit.status.value == status
    assert result.time_limit.duration_seconds == seconds
    assert result.status == outcome
    assert result.time_limit.citation is not None
    assert result.time_limit.citation.clause == "第三条"
    if outcome == "rejected":
        assert codes(result) == ["TIME_LIMIT_EXCEEDED"]
        assert all(item.disposition.value == "disallowed" for item in result.lines)


def test_pzh_3_day_chemo_has_the_same_limits() -> None:
    result = settle(
        episode("day_chemo", discharged_at=at(30), extension_reason="neutropenia watch"),
        policy="panzhihua",
    )
    assert (result.time_limit.limit_hours, result.time_limit.extended_limit_hours) == (24, 48)
    assert result.time_limit.status.value == "extended"


def test_pzh_3_tcm_day_care_has_no_time_limit() -> None:
    days = [session(at(0.5, days=d), at(2.5, days=d), kind="tcm", route=None) for d in range(6)]
    result = settle(
        episode("tcm_day_care", discharged_at=at(4, days=5), sessions=days), policy="panzhihua"
    )
    assert result.status == "settled"
    assert result.time_limit.status.value == "not_applicable"
    assert result.time_limit.limit_hours is None
    assert result.time_limit.duration_seconds == 5 * 24 * HOUR + 4 * HOUR


def test_pzh_3_conversion_after_limit_is_flagged_not_rejected() -> None:
    result = settled(discharged_at=at(72), conversion={"at": at(30), "ward": "surgery"})
    assert result.status == "settled"
    assert result.settled_as == "ordinary_inpatient"
    assert result.time_limit.status.value == "exceeded"
    assert "DAY_CARE_LIMIT_EXCEEDED_BEFORE_CONVERSION" in [f.code for f in result.flags]


# --- eligibility (第三、四、六、七条) ------------------------------------------------------------


def test_pzh_4_programme_must_be_filed() -> None:
    result = settled(institution={"filed_programmes": ["day_chemo"]})
    assert codes(result) == ["PROGRAMME_NOT_FILED"]
    assert result.rejection_reasons[0].citation.clause == "第四条"
    assert result.settled_as is None
    assert result.payment is None


def test_pzh_7_1_consent_must_be_signed() -> None:
    result = settled(consent_signed=False)
    assert codes(result) == ["CONSENT_NOT_SIGNED"]
    assert result.rejection_reasons[0].citation.clause == "第七条（一）"


def test_pzh_4_2_day_chemo_needs_tier_3() -> None:
    result = settle(episode("day_chemo", institution={"tier": 2}), policy="panzhihua")
    assert codes(result) == ["TIER_TOO_LOW"]
    assert result.rejection_reasons[0].citation.clause == "第四条（二）"


def test_pzh_4_2_day_chemo_needs_an_oncology_department() -> None:
    result = settle(
        episode("day_chemo", institution={"departments": ["tcm_ward"]}), policy="panzhihua"
    )
    assert codes(result) == ["DEPARTMENT_MISSING"]


def test_pzh_4_3_tcm_day_care_needs_tier_2_and_a_tcm_ward() -> None:
    tcm = [session(at(1), at(2), kind="tcm", route=None)]
    ok = settle(episode("tcm_day_care", sessions=tcm, institution={"tier": 2}), policy="panzhihua")
    assert ok.status == "settled"
    low = settle(
        episode("tcm_day_care", sessions=tcm, institution={"tier": 1, "departments": []}),
        policy="panzhihua",
    )
    assert codes(low) == ["TIER_TOO_LOW", "DEPARTMENT_MISSING"]
    assert [r.citation.clause for r in low.rejection_reasons] == ["第四条（三）", "第四条（三）"]


def tcm_care(**fields: Any) -> Any:
    fields.setdefault("sessions", [session(at(1), at(2), kind="tcm", route=None)])
    return settle(episode("tcm_day_care", **fields), policy="panzhihua")


@pytest.mark.parametrize("ward", ["tcm_ward", "acupuncture_ward", "tcm_rehabilitation_ward"])
def test_pzh_4_3_any_of_the_three_wards_suffices(ward: str) -> None:
    # 中医科或针灸科或中医康复科住院病区: an acupuncture or TCM-rehabilitation ward alone
    # was refused before (only tcm_ward was read)
    result = tcm_care(institution={"departments": [ward]})
    assert result.status == "settled"
    step = next(s for s in result.trace if s.rule == "department")
    assert step.parameters[0].value == "tcm_ward, acupuncture_ward, tcm_rehabilitation_ward"


@pytest.mark.parametrize(
    ("old", "new", "problem"),
    [
        (
            "departments: [tcm_ward, acupuncture_ward, tcm_rehabilitation_ward]",
            "departments: [tcm_ward, acupuncture_ward, tcm_rehabilitation_ward]\n"
            "        department: tcm_ward",
            "give exactly one of 'department'",
        ),
        (
            "departments: [tcm_ward, acupuncture_ward, tcm_rehabilitation_ward]",
            "provenance: explicit",
            "give exactly one of 'department'",
        ),
        (
            "departments: [tcm_ward, acupuncture_ward, tcm_rehabilitation_ward]",
            "departments: [tcm_ward, tcm_ward]",
            "names a department twice",
        ),
        (
            "mainly: {route: intravenous}",
            "mainly: {route: intravenous, session_kind: tcm}",
            "give exactly one of 'route' or 'session_kind'",
        ),
        (
            'min_share: "0.5"\n        comparison: at_least',
            'min_share: "1"\n        comparison: more_than',
            "can never hold",
        ),
    ],
)
def test_pzh_new_rule_forms_checked_at_load(
    tmp_path: Path, old: str, new: str, problem: str
) -> None:
    bad = variant(tmp_path, old, new)
    with pytest.raises(PolicyLoadError, match=problem) as error:
        settle(episode("day_chemo"), policy=bad)
    assert error.value.line is not None


def test_pzh_4_3_none_of_the_three_wards_rejected() -> None:
    result = tcm_care(institution={"departments": ["oncology", "rehabilitation"]})
    assert codes(result) == ["DEPARTMENT_MISSING"]
    assert "'tcm_ward' or 'acupuncture_ward' or 'tcm_rehabilitation_ward'" in (
        result.rejection_reasons[0].message
    )


@pytest.mark.parametrize(
    ("kinds", "ok"),
    [
        (["tcm", "tcm", "surgery"], True),
        (["tcm", "chemotherapy"], True),  # half: at_least 0.5
        (["tcm", "chemotherapy", "radiotherapy"], False),
        (["surgery"], False),
    ],
)
def test_pzh_6_3_tcm_day_care_sessions_mainly_tcm(kinds: list[str], ok: bool) -> None:
    # 以针灸等中医治疗为主: a course mainly of other treatment settled as TCM day care before
    days = [
        session(at(1, days=d), at(2, days=d), kind=kind, route=None) for d, kind in enumerate(kinds)
    ]
    result = tcm_care(sessions=days, discharged_at=at(4, days=len(kinds)))
    assert (result.status == "settled") is ok
    if not ok:
        assert codes(result) == ["SESSIONS_NOT_MAINLY_KIND"]
        assert result.rejection_reasons[0].citation.clause == "第六条（三）"


def test_pzh_6_3_tcm_share_is_a_labelled_reading() -> None:
    step = next(s for s in tcm_care().trace if s.rule == "sessions_mainly")
    read = {p.name: (p.value, p.provenance) for p in step.parameters}
    assert read["sessions"] == ("all", "explicit")
    assert read["mainly"] == ("tcm sessions", "explicit")
    assert read["min_share"] == ("0.5", "local-parameter")


@pytest.mark.parametrize(
    ("programme", "fields"),
    [
        ("day_surgery", {}),
        ("day_chemo", {"sessions": [session(at(1), at(2))]}),
        ("tcm_day_care", {"sessions": [session(at(1), at(2), kind="tcm", route=None)]}),
    ],
)
def test_pzh_2_2_disease_not_filed_rejected(programme: str, fields: dict[str, Any]) -> None:
    # 定点医疗机构可根据实际情况申请日间医疗病种备案: a hospital's filing list is now read
    unfiled = episode(programme, institution={"filed_diseases": ["Z99"]}, **fields)
    result = settle(unfiled, policy="panzhihua")
    assert codes(result) == ["DISEASE_NOT_FILED"]
    assert result.rejection_reasons[0].citation.clause == "第二条（二）"
    filed = episode(programme, **fields)
    principal = filed["diagnoses"][0]["code"]
    filed["institution"]["filed_diseases"] = [principal[:3]]
    assert settle(filed, policy="panzhihua").status == "settled"


def test_pzh_2_2_without_a_filing_list_not_checked() -> None:
    step = next(s for s in settled().trace if s.rule == "filed_diseases")
    assert step.outcome.startswith("not checked: the institution records no per-disease filing")
    assert step.citation.clause == "第二条（二）"


def test_pzh_3_2_pure_oral_chemo_is_not_day_chemo() -> None:
    # 不包括单纯口服化学药物治疗 keeps its own code; an all-oral regimen is not mainly
    # intravenous either, and says so with the 为主 code.
    oral = [session(at(1), at(2), route="oral"), session(at(3), at(4), route="oral")]
    result = settle(episode("day_chemo", sessions=oral), policy="panzhihua")
    assert codes(result) == ["SESSION_ROUTE_EXCLUDED", "SESSIONS_NOT_MAINLY_ROUTE"]
    assert [r.citation.clause for r in result.rejection_reasons] == ["第三条（二）"] * 2


def chemo(*routes: str) -> Any:
    sessions = [session(at(2 * i), at(2 * i + 1), route=route) for i, route in enumerate(routes)]
    return settle(episode("day_chemo", sessions=sessions), policy="panzhihua")


@pytest.mark.parametrize("route", ["subcutaneous", "intramuscular", "intrathecal"])
def test_pzh_3_2_chemo_without_intravenous_sessions_is_not_day_chemo(route: str) -> None:
    # 通过静脉注射途径为主: a regimen given only by another route is refused (it settled as
    # day chemo paid by value before this reading of 为主)
    result = chemo(route, route)
    assert codes(result) == ["SESSIONS_NOT_MAINLY_ROUTE"]
    reason = result.rejection_reasons[0]
    assert reason.citation.clause == "第三条（二）"
    assert "0 of 2 chemotherapy session(s) are by the intravenous route" in reason.message
    assert "at least 0.5" in reason.message


@pytest.mark.parametrize(
    ("routes", "ok"),
    [
        (["intravenous", "subcutaneous"], True),  # exactly half: at_least 0.5 holds
        (["intravenous", "intravenous", "subcutaneous"], True),
        (["intravenous", "subcutaneous", "oral"], False),  # one in three
        (["intravenous", "subcutaneous", "subcutaneous", "intramuscular"], False),
        (["intravenous"], True),
    ],
)
def test_pzh_3_2_chemo_mainly_intravenous_share_boundary(routes: list[str], ok: bool) -> None:
    result = chemo(*routes)
    assert (result.status == "settled") is ok
    if not ok:
        assert codes(result) == ["SESSIONS_NOT_MAINLY_ROUTE"]


def test_pzh_3_2_mainly_is_a_labelled_reading_in_the_trace() -> None:
    step = next(s for s in chemo("intravenous").trace if s.rule == "sessions_mainly")
    read = {p.name: (p.value, p.provenance) for p in step.parameters}
    assert read["min_share"] == ("0.5", "local-parameter")
    assert read["comparison"] == ("at_least", "local-parameter")
    assert read["mainly"] == ("by the intravenous route", "explicit")
    assert step.citation.clause == "第三条（二）"
    assert step.outcome == "passed: 1 of 1 chemotherapy session(s) are by the intravenous route"


RULES = Path(__file__).resolve().parents[2] / "rules" / "panzhihua"
RULE_FILE = "panyibaogui-2024-2.yaml"


def variant(tmp_path: Path, old: str, new: str) -> str:
    """A copy of the Panzhihua rule file (with its catalogues) with one text replaced."""
    shutil.copytree(RULES, tmp_path / "panzhihua")
    path = tmp_path / "panzhihua" / RULE_FILE
    text = path.read_text(encoding="utf-8")
    assert text.count(old) >= 1
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    return str(path)


def test_pzh_3_2_strict_majority_is_the_other_reading(tmp_path: Path) -> None:
    # a deployment that reads 为主 as a strict majority switches it in YAML
    strict = variant(tmp_path, "comparison: at_least", "comparison: more_than")
    half = [session(at(1), at(2)), session(at(3), at(4), route="subcutaneous")]
    result = settle(episode("day_chemo", sessions=half), policy=strict)
    assert codes(result) == ["SESSIONS_NOT_MAINLY_ROUTE"]
    assert "more than 0.5" in result.rejection_reasons[0].message


@pytest.mark.parametrize(
    ("share", "problem"),
    [
        ('"1.5"', "min_share must be above 0 and at most 1"),
        ('"0"', "min_share must be above 0 and at most 1"),
        ("0.5", "is a floating-point number"),
    ],
)
def test_pzh_3_2_min_share_must_be_a_decimal_share(
    tmp_path: Path, share: str, problem: str
) -> None:
    bad = variant(tmp_path, 'min_share: "0.5"', f"min_share: {share}")
    with pytest.raises(PolicyLoadError, match=problem) as error:
        settle(episode("day_chemo", sessions=[session(at(1), at(2))]), policy=bad)
    assert error.value.line is not None


def test_pzh_3_2_mixed_oral_and_intravenous_is_day_chemo() -> None:
    mixed = [session(at(1), at(2), route="oral"), session(at(3), at(4), route="intravenous")]
    assert settle(episode("day_chemo", sessions=mixed), policy="panzhihua").status == "settled"


@pytest.mark.parametrize(
    ("sessions", "code"),
    [
        ([], "SESSION_MISSING"),
        ([{"start": at(1), "end": at(2), "kind": "chemotherapy"}], "SESSION_ROUTE_MISSING"),
    ],
)
def test_pzh_3_2_chemo_route_must_be_known(sessions: list[Any], code: str) -> None:
    result = settle(episode("day_chemo", sessions=sessions), policy="panzhihua")
    assert codes(result) == [code]


@pytest.mark.parametrize(
    "code", ["51.23", "51.2300x001", "53.0400", "53.00", "13.4100x001", "13.41"]
)
def test_pzh_6_1_catalogue_procedures_match_by_prefix(code: str) -> None:
    result = settled(procedures=[{"code": code, "system": "ICD-9-CM-3"}])
    assert result.status == "settled"
    assert "STARTER_CATALOGUE" in [f.code for f in result.flags]


@pytest.mark.parametrize(
    "procedure",
    [
        {"code": "47.0100", "system": "ICD-9-CM-3"},  # appendectomy: not in the catalogue
        {"code": "51.22", "system": "ICD-9-CM-3"},  # open cholecystectomy
        {"code": "51.23", "system": "ICD-10"},  # right code, wrong system
    ],
)
def test_pzh_6_1_procedure_outside_catalogue_rejected(procedure: dict[str, str]) -> None:
    result = settled(procedures=[procedure])
    assert codes(result) == ["NOT_IN_CATALOGUE"]
    assert result.rejection_reasons[0].citation.clause == "第六条（一）"


def test_pzh_6_1_no_procedure_rejected() -> None:
    assert codes(settled(procedures=[])) == ["NOT_IN_CATALOGUE"]


@pytest.mark.parametrize(
    ("diagnosis", "ok"),
    [
        ("C50.901", True),
        ("C34.1", True),
        ("C16.0", True),
        ("C18.7", True),
        ("C19", True),
        ("C20.x00", True),
        ("C21.0", False),
        ("C17.1", False),
        ("D05.1", False),
    ],
)
def test_pzh_6_2_chemo_diseases(diagnosis: str, ok: bool) -> None:
    result = settle(
        episode("day_chemo", diagnoses=[{"code": diagnosis, "system": "ICD-10"}]),
        policy="panzhihua",
    )
    assert (result.status == "settled") is ok


@pytest.mark.parametrize(
    ("diagnosis", "ok"), [("M51.202", True), ("M17.0", True), ("M51.1", False)]
)
def test_pzh_6_3_tcm_diseases(diagnosis: str, ok: bool) -> None:
    tcm = [session(at(1), at(2), kind="tcm", route=None)]
    result = settle(
        episode("tcm_day_care", sessions=tcm, diagnoses=[{"code": diagnosis, "system": "ICD-10"}]),
        policy="panzhihua",
    )
    assert (result.status == "settled") is ok


def test_pzh_programme_outside_the_policy_rejected() -> None:
    ward = episode(
        "oncology_day_ward",
        sessions=[session(at(1), at(2))],
        diagnoses=[{"code": "C50.9", "system": "ICD-10"}],
    )
    result = settle(ward, policy="panzhihua")
    assert codes(result) == ["PROGRAMME_NOT_COVERED"]
    assert result.lines[0].reason == "EPISODE_REJECTED"


def test_pzh_all_failures_are_reported_together() -> None:
    result = settled(
        consent_signed=False, institution={"filed_programmes": []}, discharged_at=at(25)
    )
    assert codes(result) == ["PROGRAMME_NOT_FILED", "CONSENT_NOT_SIGNED", "TIME_LIMIT_EXCEEDED"]


# --- merge (第七条（一）) ------------------------------------------------------------------------


def pre(cid: str, days_before: int, category: str = "examination", **extra: Any) -> dict[str, Any]:
    extra.setdefault("related", True)
    return charge(cid, at(1, days=-days_before), "outpatient", category, **extra)


def test_pzh_7_1_related_pre_admission_exam_and_lab_merge() -> None:
    result = settled(charges=[pre("x", 2), pre("l", 1, "lab_test"), charge("s", at(2))])
    assert line(result, "x").reason == "MERGED_PRE_ADMISSION"
    assert line(result, "l").disposition.value == "included"
    assert result.totals.merged_pre_admission == Decimal("200.00")
    assert line(result, "x").citation.clause == "第七条（一）"


@pytest.mark.parametrize(
    ("category", "reason"),
    [
        ("western_drug", "NOT_MERGED_CATEGORY"),
        ("treatment", "NOT_MERGED_CATEGORY"),
        ("registration", "NOT_MERGED_CATEGORY"),
    ],
)
def test_pzh_7_1_only_examinations_merge_before_admission(category: str, reason: str) -> None:
    result = settled(charges=[pre("p", 1, category), charge("s", at(2))])
    assert line(result, "p").disposition.value == "not_merged"
    assert line(result, "p").reason == reason
    assert "RELATED_COST_OUTSIDE_MERGE_CATEGORIES" in [f.code for f in result.flags]


def test_pzh_7_1_unrelated_exam_not_merged() -> None:
    result = settled(charges=[pre("p", 1, related=False), charge("s", at(2))])
    assert line(result, "p").reason == "NOT_MERGED_UNRELATED"


def test_pzh_7_1_other_hospital_exam_not_merged() -> None:
    result = settled(charges=[pre("p", 1, institution_id="H-OTHER"), charge("s", at(2))])
    assert line(result, "p").reason == "NOT_MERGED_OTHER_INSTITUTION"


def test_pzh_7_1_lookback_window_is_seven_calendar_days() -> None:
    # admitted 2025-03-10 08:00: 2025-03-03 at any hour is inside, 2025-03-02 23:59 is not
    result = settled(
        charges=[
            charge("in", "2025-03-03T00:00:00", "outpatient", "examination", related=True),
            charge("out", "2025-03-02T23:59:59", "outpatient", "examination", related=True),
            charge("s", at(2)),
        ]
    )
    assert line(result, "in").reason == "MERGED_PRE_ADMISSION"
    assert line(result, "out").reason == "NOT_MERGED_OUTSIDE_WINDOW"
    window = next(t for t in result.trace if t.rule == "pre_admission: merge_window")
    days = next(p for p in window.parameters if p.name == "pre_admission_window_days")
    assert (days.value, days.provenance) == ("7", "local-parameter")


def test_pzh_7_1_post_discharge_handling_merges_within_seven_days() -> None:
    # discharged 2025-03-11 04:00; window ends 2025-03-18
    result = settled(
        charges=[
            charge("s", at(2)),
            charge("dress", "2025-03-18T20:00:00", "post_discharge", "treatment", related=True),
            charge("late", "2025-03-19T08:00:00", "post_discharge", "treatment", related=True),
            charge("drug", "2025-03-12T08:00:00", "post_discharge", "western_drug", related=True),
            charge(
                "elsewhere",
                "2025-03-12T08:00:00",
                "post_discharge",
                "treatment",
                related=True,
                institution_id="H-OTHER",
            ),
        ]
    )
    assert line(result, "dress").reason == "MERGED_POST_DISCHARGE"
    assert line(result, "late").reason == "NOT_MERGED_OUTSIDE_WINDOW"
    assert line(result, "drug").reason == "NOT_MERGED_CATEGORY"
    assert line(result, "elsewhere").reason == "NOT_MERGED_OTHER_INSTITUTION"
    assert result.totals.merged_post_discharge == Decimal("100.00")


def test_pzh_7_1_outpatient_booked_charge_during_stay_is_a_cost_of_the_stay() -> None:
    """第七条（一） 日间医疗期间发生的…医疗费用…按一次住院结算: a charge dated inside the stay
    joins it whatever its booking and relatedness (readings); at another hospital it does not."""
    result = settled(
        charges=[
            charge("s", at(2)),
            charge("o", at(3), "outpatient", "examination", related=True),
            charge("u", at(3), "outpatient", "western_drug"),
            charge("x", at(3), "outpatient", "examination", institution_id="H-OTHER"),
        ]
    )
    assert line(result, "o").reason == "MERGED_DURING_STAY"
    assert line(result, "u").reason == "MERGED_DURING_STAY"
    assert line(result, "x").reason == "NOT_MERGED_OTHER_INSTITUTION"
    assert line(result, "o").citation is not None
    assert line(result, "o").citation.clause == "第七条（一）"


def test_pzh_day_care_charge_outside_stay_disallowed() -> None:
    result = settled(charges=[charge("s", at(2)), charge("late", at(22))])
    assert line(result, "late").disposition.value == "disallowed"
    assert line(result, "late").reason == "CHARGE_OUTSIDE_STAY"


# --- conversion (第八条) -------------------------------------------------------------------------


def converted(**fields: Any) -> Any:
    base: dict[str, Any] = {
        "discharged_at": at(4, days=4),
        "conversion": {"at": at(12), "ward": "general surgery"},
        "charges": [
            pre("exam", 2),
            charge("dc", at(2)),
            charge("ward1", at(24), "inpatient", "bed", "60.00"),
            charge("ward2", at(50), "inpatient", "western_drug", "300.00"),
            charge("early", at(6), "inpatient", "bed", "60.00"),
            charge("post", at(2, days=6), "post_discharge", "treatment", related=True),
        ],
    }
    return settled(**{**base, **fields})


def test_pzh_8_conversion_merges_day_care_and_ward_costs() -> None:
    result = converted()
    assert result.status == "settled"
    assert result.settled_as == "ordinary_inpatient"
    assert line(result, "dc").disposition.value == "included"
    assert line(result, "dc").citation.clause == "第八条"
    assert line(result, "ward1").reason == "IN_WARD_AFTER_CONVERSION"
    assert line(result, "ward2").disposition.value == "included"
    assert result.payment.agency == "drg"
    assert result.payment.agency_citation.clause == "第八条"
    assert result.payment.counts_toward_annual_inpatient_cap is True


def test_pzh_8_pre_admission_exams_stay_merged_post_discharge_window_dropped() -> None:
    result = converted()
    assert line(result, "exam").reason == "MERGED_PRE_ADMISSION"
    assert line(result, "post").reason == "NOT_MERGED_AFTER_CONVERSION"


def test_pzh_8_ward_charge_before_conversion_disallowed() -> None:
    assert line(converted(), "early").reason == "WARD_CHARGE_BEFORE_CONVERSION"


def test_pzh_8_chemo_conversion_pays_drg_not_value_based() -> None:
    result = settle(
        episode(
            "day_chemo",
            discharged_at=at(50),
            conversion={"at": at(10), "ward": "oncology"},
            charges=[charge("c", at(2)), charge("w", at(30), "inpatient", "bed")],
        ),
        policy="panzhihua",
    )
    assert result.payment.agency == "drg"


# --- payment (第七条) ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("programme", "agency"),
    [("day_surgery", "drg"), ("day_chemo", "value_based"), ("tcm_day_care", "per_bed_day")],
)
def test_pzh_7_2_agency_method_by_programme(programme: str, agency: str) -> None:
    fields: dict[str, Any] = {}
    if programme == "tcm_day_care":
        fields["sessions"] = [session(at(1), at(2), kind="tcm", route=None)]
    result = settle(episode(programme, **fields), policy="panzhihua")
    assert result.payment.agency == agency
    assert result.payment.agency_citation.clause == "第七条（二）"
    assert result.payment.patient == "single_inpatient_stay"
    assert result.payment.counts_toward_annual_inpatient_cap is True
    assert result.payment.patient_citation.clause == "第七条（一）"


def test_pzh_7_2_tcm_bed_days_are_treatment_days() -> None:
    days = [session(at(1, days=d), at(2, days=d), kind="tcm", route=None) for d in (0, 1, 3)]
    result = settle(
        episode("tcm_day_care", discharged_at=at(4, days=3), sessions=days), policy="panzhihua"
    )
    assert result.payment.units == "3 bed-day(s) (session_days)"
    assert result.payment.agency_amount is None  # the policy publishes no rate


def test_pzh_7_2_tcm_without_sessions_rejected() -> None:
    result = settle(episode("tcm_day_care", sessions=[]), policy="panzhihua")
    assert codes(result) == ["SESSIONS_MISSING"]


# --- the result as a whole -----------------------------------------------------------------------


def test_pzh_result_records_policy_and_hash() -> None:
    result = settled()
    assert result.policy.id == "panzhihua"
    assert result.policy.document == DOC
    assert len(result.policy.sha256) == 64


def test_pzh_every_trace_step_cites_its_clause() -> None:
    result = converted()
    assert all(step.citation is not None and step.citation.document == DOC for step in result.trace)
    assert all(item.citation is not None for item in result.lines)


def test_pzh_json_is_plain_with_decimal_strings() -> None:
    dumped = settled(charges=[charge("s", at(2), amount="12.30")]).model_dump(mode="json")
    assert dumped["lines"][0]["amount"] == "12.30"
    assert dumped["totals"]["input"] == "12.30"


# --- the bundled examples ------------------------------------------------------------------------

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "panzhihua"


@pytest.mark.parametrize(
    ("name", "status", "settled_as", "included", "not_merged"),
    [
        ("day-surgery-cholecystectomy-preop-exams", "settled", "day_care", "5384.66", "685.40"),
        ("day-surgery-hernia-extended-30h", "settled", "day_care", "4394.00", "0.00"),
        ("day-surgery-converted-to-ward", "settled", "ordinary_inpatient", "5835.00", "25.00"),
        ("day-chemo-breast-cancer", "settled", "day_care", "4264.10", "0.00"),
        ("day-chemo-oral-only-rejected", "rejected", None, "0.00", "0.00"),
        (
            "day-chemo-subcutaneous-not-mainly-intravenous-rejected",
            "rejected",
            None,
            "0.00",
            "0.00",
        ),
        ("tcm-day-care-lumbar-disc-5-days", "settled", "day_care", "1191.50", "0.00"),
    ],
)
def test_pzh_examples(
    name: str, status: str, settled_as: str | None, included: str, not_merged: str
) -> None:
    result = settle((EXAMPLES / f"{name}.json").read_text(encoding="utf-8"), policy="panzhihua")
    assert (result.status, result.settled_as) == (status, settled_as)
    assert (result.totals.included, result.totals.not_merged) == (
        Decimal(included),
        Decimal(not_merged),
    )


# --- audit flags (第十一条, 第十二条): flags only, never a line or an amount ---------------------


def _flags(result: Any, code: str) -> list[Any]:
    return [f for f in result.flags if f.code == code]


def _without_audit(tmp_path: Path) -> str:
    """A copy of the rule file without its audit lists (the programmes' ``audit`` keys)."""
    shutil.copytree(RULES, tmp_path / "panzhihua")
    path = tmp_path / "panzhihua" / RULE_FILE
    text = path.read_text(encoding="utf-8")
    start = text.index("    audit: &pzh_audit\n")
    end = text.index("\n  day_chemo:", start)
    text = text[:start] + text[end + 1 :]
    assert text.count("    audit: *pzh_audit\n") == 2
    path.write_text(text.replace("    audit: *pzh_audit\n", ""), encoding="utf-8")
    return str(path)


DUPLICATED = [
    charge("c-stay", at(2)),
    charge("c-a", at(3), category="medical_material", amount="300.00"),
    charge("c-b", at(3), category="medical_material", amount="300.00"),
    charge("c-c", at(3), category="medical_material", amount="299.00"),
]


def test_pzh_11_duplicate_charges_flagged() -> None:
    result = settled(charges=DUPLICATED)
    [found] = _flags(result, "DUPLICATE_CHARGES")
    assert found.charge_ids == ("c-a", "c-b")
    assert found.severity == "warning"
    assert (found.citation.document, found.citation.clause) == (DOC, "第十一条")
    assert line(result, "c-b").disposition == "included"


def test_pzh_11_no_duplicate_flag_on_distinct_charges() -> None:
    result = settled(
        charges=[
            charge("c-stay", at(2)),
            charge("c-a", at(3), amount="100.00"),
            charge("c-b", at(4), amount="100.00"),  # another time
            charge("c-c", at(3), category="lab_test", amount="100.00"),  # another category
        ]
    )
    assert _flags(result, "DUPLICATE_CHARGES") == []


RELATED_OUTSIDE = [
    charge("c-stay", at(2)),
    charge("c-exam-old", at(-2, days=-20), "outpatient", "examination", related=True),
    charge("c-exam-near", at(-2, days=-2), "outpatient", "examination", related=True),
    charge("c-exam-unrelated", at(-2, days=-20), "outpatient", "examination"),
]


def test_pzh_11_related_outside_windows_flagged() -> None:
    result = settled(charges=RELATED_OUTSIDE)
    [found] = _flags(result, "RELATED_COST_OUTSIDE_WINDOWS")
    assert found.charge_ids == ("c-exam-old",)
    assert found.citation.clause == "第十一条"
    assert line(result, "c-exam-old").reason == "NOT_MERGED_OUTSIDE_WINDOW"
    assert line(result, "c-exam-near").disposition == "included"


def test_pzh_11_no_related_flag_when_related_costs_merge() -> None:
    # the related exam merges; only the unrelated old one stays outside the window
    result = settled(charges=[RELATED_OUTSIDE[0], RELATED_OUTSIDE[2], RELATED_OUTSIDE[3]])
    assert _flags(result, "RELATED_COST_OUTSIDE_WINDOWS") == []


def test_pzh_12_sets_no_consumables_threshold() -> None:
    # 第十二条 states no share; the 40 % of the background strategy is not this policy's rule,
    # so an episode half of whose included cost is medical material is not flagged.
    result = settled(
        charges=[
            charge("c-stay", at(2), amount="500.00"),
            charge("c-mesh", at(3), category="medical_material", amount="500.00"),
        ]
    )
    assert _flags(result, "CONSUMABLES_SHARE_HIGH") == []


@pytest.mark.parametrize("programme", ["day_surgery", "day_chemo", "tcm_day_care"])
def test_pzh_11_12_audit_never_changes_lines_or_amounts(tmp_path: Path, programme: str) -> None:
    plain = _without_audit(tmp_path)
    fields: dict[str, Any] = {"charges": [*DUPLICATED, *RELATED_OUTSIDE[1:]]}
    if programme == "tcm_day_care":  # a TCM episode needs its TCM sessions
        fields["sessions"] = [session(at(1), at(3), "tcm", None)]
    with_audit = settle(episode(programme, **fields), policy="panzhihua")
    without = settle(episode(programme, **fields), policy=plain)
    assert with_audit.status == "settled"
    assert {f.code for f in with_audit.flags} >= {
        "DUPLICATE_CHARGES",
        "RELATED_COST_OUTSIDE_WINDOWS",
    }
    assert not {f.code for f in without.flags} & {
        "DUPLICATE_CHARGES",
        "RELATED_COST_OUTSIDE_WINDOWS",
    }
    assert (with_audit.status, with_audit.lines, with_audit.totals, with_audit.payment) == (
        without.status,
        without.lines,
        without.totals,
        without.payment,
    )


def test_pzh_11_no_audit_flags_on_a_rejected_episode() -> None:
    result = settled(charges=DUPLICATED, consent_signed=False)
    assert result.status == "rejected"
    assert _flags(result, "DUPLICATE_CHARGES") == []
