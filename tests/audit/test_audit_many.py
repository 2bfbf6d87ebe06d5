"""Findings across episodes (``audit_many``) under Panzhihua's ``audit_across`` rules
(第十一条/第十二条): each kind fires on a crafted set and is silent on a clean one."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

from daycare_settle.audit import Auditor, audit_many
from daycare_settle.codes import FlagCode
from daycare_settle.errors import PolicyLoadError, UnknownPolicy
from tests.audit.helpers import errors, findings, lines, stay, summary
from tests.builders import ADMITTED, at, charge

POLICY = "panzhihua"


def run(*episodes: dict[str, object]) -> list[object]:
    return list(audit_many(lines(*episodes), POLICY))


# --- readmission_within: 15 days, same institution, same ICD-10 category ------------------


def test_pzh_12_readmission_same_category_within_15_days_fires() -> None:
    records = run(stay("A", 0, diagnosis="K80.20"), stay("B", 10, diagnosis="K80.50"))
    (found,) = findings(records, FlagCode.READMISSION_WITHIN_WINDOW)
    assert found.episode_ids == ("A", "B")
    assert found.lines == (1, 2)
    assert found.values["gap_days"] == "9.17"  # day 10, 0 h after day 0, 20 h
    assert found.citation is not None
    assert found.citation.clause == "第十二条"
    assert found.profile is None


def test_pzh_12_readmission_silent_on_clean_set() -> None:
    records = run(
        stay("A", 0),
        stay("B", 20),  # after the window
        stay("C", 22, diagnosis="J18.0"),  # another disease
        stay("D", 23, hospital="H-PZH-OTHER"),  # another institution
        stay("E", 24, patient="P-2"),  # another patient
    )
    assert findings(records, FlagCode.READMISSION_WITHIN_WINDOW) == []


def test_pzh_12_readmission_reports_the_latest_earlier_stay_only() -> None:
    records = run(stay("A", 0), stay("B", 5), stay("C", 9))
    found = findings(records, FlagCode.READMISSION_WITHIN_WINDOW)
    assert [f.episode_ids for f in found] == [("A", "B"), ("B", "C")]


def test_pzh_12_readmission_window_is_measured_from_discharge() -> None:
    # discharged day 0 + 20 h; the next admission 15 days after that discharge is inside
    base = ADMITTED + dt.timedelta(hours=20, days=15)
    later = stay("B", 0)
    later["admitted_at"] = at(0, base=base)
    later["discharged_at"] = at(20, base=base)
    later["charges"] = [charge("B-c1", at(2, base=base))]
    assert findings(run(stay("A", 0), later), FlagCode.READMISSION_WITHIN_WINDOW)
    later["admitted_at"] = at(1, base=base)
    assert not findings(run(stay("A", 0), later), FlagCode.READMISSION_WITHIN_WINDOW)


# --- same_charge_in_episodes: 30 days ------------------------------------------------------


def shared_exam(cid: str, **extra: object) -> dict[str, object]:
    return charge(cid, at(-48), "outpatient", "examination", "180.00", related=True, **extra)


def test_pzh_11_same_charge_in_two_episodes_fires() -> None:
    first = stay("A", 0, charges=[shared_exam("X1"), charge("A-c1", at(2))])
    second = stay("B", 0.5, charges=[shared_exam("X2"), charge("B-c1", at(14))], hours=8)
    second["admitted_at"] = at(12)
    records = run(first, second)
    (found,) = findings(records, FlagCode.SAME_CHARGE_IN_EPISODES)
    assert found.episode_ids == ("A", "B")
    assert found.charge_ids == ("X1", "X2")
    assert found.values == {"charges": "1", "amount": "180.00"}
    assert found.citation is not None
    assert found.citation.clause == "第十一条"


def test_pzh_11_same_charge_item_codes_must_agree_when_both_are_given() -> None:
    first = stay("A", 0, charges=[shared_exam("X1", item_code="250101001")])
    second = stay("B", 1, charges=[shared_exam("X2", item_code="250101002")])
    second["charges"][0]["at"] = first["charges"][0]["at"]
    assert not findings(run(first, second), FlagCode.SAME_CHARGE_IN_EPISODES)
    second["charges"][0]["item_code"] = "250101001"
    assert findings(run(first, second), FlagCode.SAME_CHARGE_IN_EPISODES)


def test_pzh_11_same_charge_silent_on_clean_set() -> None:
    first = stay("A", 0, charges=[shared_exam("X1")])
    other_time = stay("B", 1, charges=[charge("B-c1", at(26))])
    other_patient = stay("C", 1, patient="P-2", charges=[shared_exam("X3")])
    records = run(first, other_time, other_patient)
    assert findings(records, FlagCode.SAME_CHARGE_IN_EPISODES) == []


# --- institution_rates: reported, not judged ------------------------------------------------


def converted(eid: str, day: float, hospital: str = "H-PZH-001") -> dict[str, object]:
    base = ADMITTED + dt.timedelta(days=day)
    return stay(
        eid,
        day,
        hospital=hospital,
        hours=30,
        conversion={"at": at(10, base=base), "ward": "general_surgery"},
        charges=[
            charge(f"{eid}-c1", at(2, base=base)),
            charge(f"{eid}-c2", at(12, base=base), setting="inpatient"),
        ],
    )


def test_pzh_12_institution_rates_counted_and_not_judged() -> None:
    extended = stay("E", 3, patient="P-3", hours=30, extension_reason="bleeding after surgery")
    records = run(
        stay("A", 0, patient="P-1"),
        converted("B", 1),
        extended,
        stay("D", 4, patient="P-4", hospital="H-PZH-OTHER"),
    )
    rates = findings(records, FlagCode.INSTITUTION_RATES)
    assert [f.values for f in rates] == [
        {
            "institution": "H-PZH-001",
            "settled": "3",
            "converted": "1",
            "conversion_rate": "0.3333",
            "extended": "1",
            "extension_rate": "0.3333",
        },
        {
            "institution": "H-PZH-OTHER",
            "settled": "1",
            "converted": "0",
            "conversion_rate": "0.0000",
            "extended": "0",
            "extension_rate": "0.0000",
        },
    ]
    assert all(f.severity == "info" for f in rates)
    assert not findings(records, FlagCode.CONVERSION_RATE_HIGH)
    assert not findings(records, FlagCode.EXTENSION_RATE_HIGH)
    assert [dict(i) for i in summary(records).to_dict()["institutions"]] == [
        dict(f.values) for f in rates
    ]


def with_thresholds(tmp_path: Path, text: str) -> Path:
    rules = Path(__file__).resolve().parents[2] / "rules" / "panzhihua"
    copy = tmp_path / "pzh.yaml"
    body = (rules / "panyibaogui-2024-2.yaml").read_text(encoding="utf-8")
    body = body.replace("file: catalogues/", f"file: {rules}/catalogues/")
    marker = "  - kind: institution_rates\n"
    assert marker in body
    copy.write_text(body.replace(marker, marker + text), encoding="utf-8")
    return copy


def test_institution_rates_judged_against_a_configured_threshold(tmp_path: Path) -> None:
    path = with_thresholds(tmp_path, '    max_conversion_rate: "0.2"\n    min_episodes: 2\n')
    episodes = lines(stay("A", 0), converted("B", 1), stay("C", 2, hospital="H-PZH-OTHER"))
    records = list(audit_many(episodes, path))
    (high,) = findings(records, FlagCode.CONVERSION_RATE_HIGH)
    assert high.values["institution"] == "H-PZH-001"
    assert high.values["limit"] == "0.2"
    assert high.severity == "warning"
    # one episode at H-PZH-OTHER: below min_episodes, never judged
    clean = list(audit_many(lines(stay("A", 0), stay("C", 2)), path))
    assert not findings(clean, FlagCode.CONVERSION_RATE_HIGH)


# --- in-episode flags come from the engine ------------------------------------------------


def test_pzh_11_in_episode_duplicate_flag_is_reported_with_its_episode() -> None:
    dup = stay("A", 0, charges=[charge("d1", at(2)), charge("d2", at(2))])
    (found,) = findings(run(dup), FlagCode.DUPLICATE_CHARGES)
    assert found.kind == "duplicate_charges"
    assert found.episode_ids == ("A",)
    assert found.charge_ids == ("d1", "d2")
    assert not findings(run(stay("A", 0)), FlagCode.DUPLICATE_CHARGES)


# --- order, windows, errors ----------------------------------------------------------------


def test_out_of_order_line_is_an_error_record_and_enters_no_check() -> None:
    records = run(stay("A", 10), stay("B", 2), stay("C", 12))
    (error,) = errors(records)
    assert error.line == 2
    assert error.code == "out_of_order"
    assert "sort the input" in error.message
    assert [f.episode_ids for f in findings(records, FlagCode.READMISSION_WITHIN_WINDOW)] == [
        ("A", "C")
    ]
    assert summary(records).errors_by_code == {"out_of_order": 1}


def test_admissions_within_the_tolerance_may_go_back() -> None:
    later = stay("A", 5)
    earlier = stay("B", 4.5, patient="P-2")
    records = run(later, earlier)
    assert errors(records) == []
    strict = list(audit_many(lines(later, earlier), POLICY, tolerance=dt.timedelta(0)))
    assert [e.code for e in errors(strict)] == ["out_of_order"]


def test_state_is_dropped_once_the_window_has_passed() -> None:
    auditor = Auditor(POLICY)
    for index in range(5):
        auditor.feed(index + 1, json.dumps(stay(f"E{index}", index, patient=f"P-{index}")))
    held = auditor.size()
    assert held > 0
    # 40 days on: every window (15 and 30 days, plus one day's tolerance) has passed
    auditor.feed(6, json.dumps(stay("late", 40, patient="P-late")))
    assert auditor.size() < held
    assert auditor.size() == 2  # the late episode, once per window kind


def test_bad_lines_are_error_records_with_their_line_number() -> None:
    good = json.dumps(stay("A", 0))
    records = list(audit_many([good, "", "{not json", '{"episode_id": "x"}', good], POLICY))
    assert [(e.line, e.code) for e in errors(records)] == [
        (3, "invalid_episode"),
        (4, "invalid_episode"),
    ]
    assert summary(records).episodes == 4  # the blank line holds no episode


def test_unknown_policy_raises_before_reading() -> None:
    def never() -> object:
        raise AssertionError("read")
        yield  # pragma: no cover

    with pytest.raises(UnknownPolicy):
        audit_many(never(), "atlantis")  # type: ignore[arg-type]


def test_rule_file_refuses_the_profile_provenance(tmp_path: Path) -> None:
    path = with_thresholds(tmp_path, "")
    text = path.read_text(encoding="utf-8").replace(
        "  - kind: institution_rates\n    source: art12\n    provenance: local-parameter",
        "  - kind: institution_rates\n    source: art12\n    provenance: background-strategy",
    )
    path.write_text(text, encoding="utf-8")
    with pytest.raises(PolicyLoadError, match="audit profiles only"):
        Auditor(path)


def test_findings_are_deterministic_json() -> None:
    episodes = (stay("A", 0), stay("B", 3), stay("C", 4, patient="P-2"))
    first = [r.to_json() for r in run(*episodes)]
    second = [r.to_json() for r in run(*episodes)]
    assert first == second
    last = json.loads(first[-1])
    assert last["record"] == "summary"
    assert last["findings_by_code"]["READMISSION_WITHIN_WINDOW"] == 1
    assert last["worst"]["READMISSION_WITHIN_WINDOW"][0]["episode_ids"] == ["A", "B"]
