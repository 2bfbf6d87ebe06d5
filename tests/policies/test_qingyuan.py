"""清医保待〔2020〕49号 (policy ``qingyuan``), clause by clause.

Builders are local: a valid Qingyuan day-surgery episode at a hospital that filed the
programme, admitted 2025-05-20 08:00 (Asia/Shanghai), discharged 20 h later.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from daycare_settle import PolicyNotInForce, settle
from tests.builders import charge

HOSPITAL = "H-QY-RMYY"
ADMITTED = dt.datetime(2025, 5, 20, 8, 0)
QY = "清医保待〔2020〕49号"


def at(hours: float = 0, *, days: int = 0, base: dt.datetime = ADMITTED) -> str:
    return (base + dt.timedelta(days=days, hours=hours)).isoformat()


def outpatient(cid: str, when: str, category: str = "examination", **extra: Any) -> dict[str, Any]:
    return {
        "id": cid,
        "at": when,
        "setting": "outpatient",
        "category": category,
        "amount": "50.00",
        "related": True,
        **extra,
    }


def episode(*, institution: dict[str, Any] | None = None, **fields: Any) -> dict[str, Any]:
    value: dict[str, Any] = {
        "episode_id": "QY-1",
        "programme": "day_surgery",
        "admitted_at": at(0),
        "discharged_at": at(20),
        "institution": {
            "id": HOSPITAL,
            "tier": 3,
            "filed_programmes": ["day_surgery"],
            **(institution or {}),
        },
        "patient": {"id": "P-QY-1"},
        "consent_signed": False,
        "diagnoses": [{"code": "K80.201", "system": "ICD-10"}],
        "procedures": [{"code": "51.2300x001", "system": "ICD-9-CM-3"}],
        "charges": [charge("c-stay", at(2))],
    }
    value.update(fields)
    return value


def run(**fields: Any) -> Any:
    return settle(episode(**fields), policy="qingyuan")


def line(result: Any, charge_id: str) -> Any:
    return next(item for item in result.lines if item.charge_id == charge_id)


def codes(result: Any) -> list[str]:
    return [reason.code for reason in result.rejection_reasons]


# --- scope and dates -------------------------------------------------------------------------


def test_qy_scope_day_surgery_settles_without_consent_form() -> None:
    result = run()
    assert result.status == "settled"
    assert result.settled_as == "day_care"
    assert result.policy.id == "qingyuan"
    assert result.policy.frames == ()
    assert not any(step.rule == "consent_signed" for step in result.trace)


@pytest.mark.parametrize("programme", ["day_chemo", "tcm_day_care"])
def test_qy_scope_other_programmes_not_covered(programme: str) -> None:
    result = run(programme=programme)
    assert codes(result) == ["PROGRAMME_NOT_COVERED"]


def test_qy_end_in_force_from_issue_day() -> None:
    day = dt.datetime(2020, 9, 11, 0, 0)
    result = run(
        admitted_at=at(0, base=day),
        discharged_at=at(20, base=day),
        charges=[charge("c", at(1, base=day))],
    )
    assert result.status == "settled"


def test_qy_end_admission_before_issue_not_in_force() -> None:
    day = dt.datetime(2020, 9, 10, 23, 0)
    with pytest.raises(PolicyNotInForce):
        run(
            admitted_at=at(0, base=day),
            discharged_at=at(20, base=day),
            charges=[charge("c", at(1, base=day))],
        )


# --- eligibility -----------------------------------------------------------------------------


def test_qy_2_2_programme_not_filed_rejected() -> None:
    result = run(institution={"filed_programmes": []})
    assert codes(result) == ["PROGRAMME_NOT_FILED"]
    assert result.rejection_reasons[0].citation is not None
    assert result.rejection_reasons[0].citation.clause == "二、（二）"


def test_qy_2_3_filed_disease_list_checked_when_present() -> None:
    assert run(institution={"filed_diseases": ["K80.2"]}).status == "settled"
    result = run(institution={"filed_diseases": ["K40"]})
    assert codes(result) == ["DISEASE_NOT_FILED"]


def test_qy_2_3_filed_disease_list_absent_is_traced_not_checked() -> None:
    result = run()
    filed = next(step for step in result.trace if step.rule == "filed_diseases")
    assert filed.outcome.startswith("not checked")


def test_qy_2_1_disease_outside_starter_catalogue_rejected_and_flagged() -> None:
    result = run(diagnoses=[{"code": "J18.9", "system": "ICD-10"}])
    assert codes(result) == ["NOT_IN_CATALOGUE"]
    assert "STARTER_CATALOGUE" in [f.code for f in result.flags]


# --- time limit (national definition, no extension) ------------------------------------------


def test_qy_time_exactly_24h_within() -> None:
    result = run(discharged_at=at(24))
    assert result.time_limit.status.value == "within"
    assert result.time_limit.extended_limit_hours is None


def test_qy_time_24h_plus_1s_with_reason_exceeded() -> None:
    discharged = (ADMITTED + dt.timedelta(hours=24, seconds=1)).isoformat()
    result = run(discharged_at=discharged, extension_reason="post-operative bleeding watch")
    assert result.time_limit.status.value == "exceeded"
    assert codes(result) == ["TIME_LIMIT_EXCEEDED"]
    assert "no extension" in result.rejection_reasons[0].message


def test_qy_time_limit_is_national_definition_naming_the_national_document() -> None:
    result = run()
    step = next(s for s in result.trace if s.step == "time_limit")
    assert step.citation is not None
    assert step.citation.document == "国卫办医政发〔2022〕16号"
    assert result.time_limit.citation == step.citation
    assert "national-definition" in step.outcome
    read = {p.name: p.provenance for p in step.parameters}
    assert read["limit_hours"] == "national-definition"
    assert read["extended_limit_hours"] == "local-parameter"


# --- merge window 二、（五） ----------------------------------------------------------------


def test_qy_2_5b_related_outpatient_costs_of_all_categories_merge() -> None:
    charges = [
        outpatient("op-exam", at(-30), "examination"),
        outpatient("op-drug", at(-29), "western_drug"),
        outpatient("op-reg", at(-29), "registration"),
        outpatient("op-treat", at(-28), "treatment"),
        charge("c-stay", at(2)),
    ]
    pathway = {"first_visit_at": at(-48)}
    result = run(charges=charges, clinical_pathway=pathway)
    for cid in ("op-exam", "op-drug", "op-reg", "op-treat"):
        assert line(result, cid).reason == "MERGED_PRE_ADMISSION"
        assert line(result, cid).citation.clause == "二、（五）"
    assert result.totals.merged_pre_admission == 200
    assert result.totals.included == 300


def test_qy_2_5b_other_hospital_not_merged() -> None:
    charges = [outpatient("op-x", at(-5), institution_id="H-QY-OTHER"), charge("c", at(2))]
    result = run(charges=charges)
    assert line(result, "op-x").disposition.value == "not_merged"
    assert line(result, "op-x").reason == "NOT_MERGED_OTHER_INSTITUTION"


def test_qy_2_5b_unrelated_not_merged() -> None:
    charges = [outpatient("op-u", at(-5), related=False), charge("c", at(2))]
    result = run(charges=charges)
    assert line(result, "op-u").reason == "NOT_MERGED_UNRELATED"


def test_qy_2_5b_before_first_visit_not_merged() -> None:
    charges = [outpatient("op-old", at(-72)), outpatient("op-new", at(-24)), charge("c", at(2))]
    result = run(charges=charges, clinical_pathway={"first_visit_at": at(-48)})
    assert line(result, "op-old").reason == "NOT_MERGED_OUTSIDE_WINDOW"
    assert line(result, "op-new").reason == "MERGED_PRE_ADMISSION"


def test_qy_2_5b_no_first_visit_recorded_merges_every_related_cost_before() -> None:
    charges = [outpatient("op-year", at(-24 * 200)), charge("c", at(2))]
    result = run(charges=charges)
    assert line(result, "op-year").reason == "MERGED_PRE_ADMISSION"
    pre = next(s for s in result.trace if s.rule == "pre_admission: merge_window")
    assert "no clinical_pathway.first_visit_at" in pre.outcome


def test_qy_2_5b_post_discharge_within_pathway_merges() -> None:
    charges = [
        charge("c", at(2)),
        charge("pd-in", at(24 * 5), setting="post_discharge", category="treatment", related=True),
        charge("pd-out", at(24 * 12), setting="post_discharge", category="treatment", related=True),
    ]
    result = run(charges=charges, clinical_pathway={"ended_at": at(24 * 10)})
    assert line(result, "pd-in").reason == "MERGED_POST_DISCHARGE"
    assert line(result, "pd-out").reason == "NOT_MERGED_OUTSIDE_WINDOW"


def test_qy_2_5b_pathway_end_defaults_to_discharge() -> None:
    post = charge("pd", at(30), setting="post_discharge", category="treatment", related=True)
    result = run(charges=[charge("c", at(2)), post])
    assert line(result, "pd").reason == "NOT_MERGED_OUTSIDE_WINDOW"


def test_qy_2_5b_post_discharge_other_hospital_not_merged() -> None:
    post = charge("pd", at(30), setting="post_discharge", category="treatment")
    post.update(related=True, institution_id="H-QY-OTHER")
    result = run(charges=[charge("c", at(2)), post], clinical_pathway={"ended_at": at(24 * 10)})
    assert line(result, "pd").reason == "NOT_MERGED_OTHER_INSTITUTION"


def test_qy_2_5b_outpatient_booked_visit_after_discharge_merges_until_pathway_end() -> None:
    # 至日间手术病种临床路径结束，期间发生的所有医药费用: the pathway ends after discharge,
    # and a related same-hospital follow-up booked as an outpatient visit merges (the old
    # engine left every outpatient charge after admission out)
    charges = [
        charge("c", at(2)),
        outpatient("op-follow", at(24 * 5), category="treatment"),
        outpatient("op-late", at(24 * 12), category="treatment"),
        outpatient("op-unrelated", at(24 * 5), related=False),
    ]
    result = run(charges=charges, clinical_pathway={"ended_at": at(24 * 10)})
    assert line(result, "op-follow").disposition.value == "included"
    assert line(result, "op-follow").reason == "MERGED_POST_DISCHARGE"
    assert line(result, "op-follow").citation.clause == "二、（五）"
    assert line(result, "op-late").reason == "NOT_MERGED_OUTSIDE_WINDOW"
    assert line(result, "op-unrelated").reason == "NOT_MERGED_UNRELATED"
    assert str(result.totals.merged_post_discharge) == "50.00"


def test_qy_2_5b_outpatient_booked_cost_during_the_stay_merges() -> None:
    # 日间手术住院期间医疗费用: a cost dated in the stay is a cost of the stay
    charges = [
        charge("c", at(2)),
        outpatient("op-in", at(3)),
        outpatient("op-in-unrelated", at(3), related=False),
        outpatient("op-in-other", at(3), institution_id="H-QY-OTHER"),
    ]
    result = run(charges=charges)
    assert line(result, "op-in").reason == "MERGED_DURING_STAY"
    assert line(result, "op-in").citation.clause == "二、（五）"
    assert line(result, "op-in-unrelated").reason == "NOT_MERGED_UNRELATED"
    assert line(result, "op-in-other").reason == "NOT_MERGED_OTHER_INSTITUTION"


@pytest.mark.parametrize("setting", ["post_discharge", "outpatient"])
def test_qy_2_5b_charge_exactly_at_the_pathway_end_merges(setting: str) -> None:
    end = at(24 * 10)
    charges = [
        charge("c", at(2)),
        charge("edge", end, setting=setting, category="treatment", related=True),
        charge(
            "after",
            (ADMITTED + dt.timedelta(hours=240, microseconds=1)).isoformat(),
            setting=setting,
            category="treatment",
            related=True,
        ),
    ]
    result = run(charges=charges, clinical_pathway={"ended_at": end})
    assert line(result, "edge").reason == "MERGED_POST_DISCHARGE"
    assert line(result, "after").reason == "NOT_MERGED_OUTSIDE_WINDOW"


def test_qy_2_5b_charge_exactly_at_the_first_visit_merges() -> None:
    first = at(-48)
    just_before = (ADMITTED - dt.timedelta(hours=48, microseconds=1)).isoformat()
    charges = [outpatient("edge", first), outpatient("before", just_before), charge("c", at(2))]
    result = run(charges=charges, clinical_pathway={"first_visit_at": first})
    assert line(result, "edge").reason == "MERGED_PRE_ADMISSION"
    assert line(result, "before").reason == "NOT_MERGED_OUTSIDE_WINDOW"


def test_qy_2_5b_post_discharge_charge_exactly_at_discharge() -> None:
    # booked as a post-discharge follow-up at the discharge instant: a post-discharge cost
    # (merged until the pathway's end); booked as an outpatient visit at that instant: a
    # cost of the stay (the stay includes its discharge instant)
    discharged = at(20)
    charges = [
        charge("c", at(2)),
        charge("pd", discharged, setting="post_discharge", category="treatment", related=True),
        outpatient("op", discharged, category="treatment"),
    ]
    result = run(charges=charges)  # no pathway end: the window ends at discharge
    assert line(result, "pd").reason == "MERGED_POST_DISCHARGE"
    assert line(result, "op").reason == "MERGED_DURING_STAY"


def test_qy_2_5b_decisions_do_not_depend_on_charge_order() -> None:
    charges = [
        outpatient("a", at(-30)),
        outpatient("b", at(-5), institution_id="H-QY-OTHER"),
        outpatient("d", at(-4), related=False),
        charge("c", at(2)),
    ]
    forward = run(charges=charges)
    backward = run(charges=list(reversed(charges)))
    assert {x.charge_id: x.reason for x in forward.lines} == {
        x.charge_id: x.reason for x in backward.lines
    }
    assert forward.totals == backward.totals


# --- payment 二、（五）, 二、（三）, 三、（二） -----------------------------------------------


def test_qy_2_5a_patient_side_ordinary_inpatient_standard() -> None:
    payment = run().payment
    assert payment is not None
    assert payment.patient == "single_inpatient_stay"
    assert payment.counts_toward_annual_inpatient_cap is True
    assert payment.patient_citation is not None
    assert payment.patient_citation.clause == "二、（五）"


def test_qy_3_2_agency_dip_score_within_annual_budget() -> None:
    payment = run().payment
    assert payment is not None
    assert payment.agency == "dip_score"
    assert payment.agency_citation is not None
    assert payment.agency_citation.document == QY
    assert payment.agency_citation.clause == "三、（二）"
    assert payment.basis is not None
    assert "年度住院总控额" in payment.basis
    assert payment.agency_amount is None


# --- conversion (silent → refused) -----------------------------------------------------------


def test_qy_conversion_not_provided_rejected() -> None:
    ward = charge("w", at(10), setting="inpatient", category="bed")
    result = run(
        conversion={"at": at(6), "ward": "general surgery"},
        discharged_at=at(24 * 3),
        charges=[charge("c", at(2)), ward],
    )
    assert codes(result) == ["CONVERSION_NOT_PROVIDED"]
    assert all(x.reason == "EPISODE_REJECTED" for x in result.lines)
    assert result.totals.disallowed == result.totals.input
