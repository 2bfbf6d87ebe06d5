"""Readings (issue 8 §2, §7): the register of every reading of a compiled policy, the load
checks on provenance, and each contested reading switched in a copy of its rule file."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from daycare_settle import PolicyLoadError, load_policy, settle
from daycare_settle.cli import main
from daycare_settle.policy.readings import ReadingEntry, readings, render
from daycare_settle.policy.registry import policy_ids, rules_root

from ..builders import at, charge, episode, line

EXAMPLES = Path(__file__).parents[2] / "examples"
PZH = Path("panzhihua") / "panyibaogui-2024-2.yaml"
QY = Path("qingyuan") / "qingyibaodai-2020-49.yaml"
TCM_REGION = Path("tcm-pilot-2025") / "illustrative-region.yaml"
TCM_FRAME = Path("national") / "tcm-pilot-2025.yaml"


@pytest.fixture
def rules(tmp_path: Path) -> Path:
    """A copy of the bundled rules tree, to edit one setting in."""
    return Path(shutil.copytree(rules_root(), tmp_path / "rules"))


def edit(root: Path, file: Path, old: str, new: str) -> Path:
    path = root / file
    text = path.read_text(encoding="utf-8")
    assert text.count(old) == 1, old
    path.write_text(text.replace(old, new), encoding="utf-8")
    return path


def entry(policy: str, path: str) -> ReadingEntry:
    return next(e for e in readings(load_policy(policy)) if e.path == path)


# --- the register ---------------------------------------------------------------------------


def test_pzh_7_1_same_institution_is_a_registered_reading() -> None:
    found = entry("panzhihua", "programmes.day_surgery.merge.pre_admission.same_institution")
    assert found.clause == "第七条（一） (攀医保规〔2024〕2号)"
    assert (found.value, found.provenance) == ("true", "local-parameter")
    assert "same_institution: false" in found.alternative
    assert found.setting == "programmes.day_surgery.merge.pre_admission.same_institution"


def test_pzh_8_agency_is_explicit_keep_merges_a_reading() -> None:
    policy = load_policy("panzhihua")
    conversion = policy.rules.programmes[next(iter(policy.rules.programmes))].conversion
    assert conversion.provenance_of("agency") == "explicit"
    assert conversion.provenance_of("keep_merges") == "local-parameter"
    paths = {e.path for e in readings(policy)}
    assert "programmes.day_surgery.conversion.keep_merges" in paths
    assert "programmes.day_surgery.conversion.agency" not in paths


def test_tcm_frame_no_time_limit_is_a_local_parameter() -> None:
    found = entry("tcm-pilot-2025", "programmes.tcm_day_care.time_limit")
    assert (found.value, found.provenance) == ("kind: none", "local-parameter")
    assert "overrides" in found.alternative


def test_qy_time_limit_names_the_national_document() -> None:
    found = entry("qingyuan", "programmes.day_surgery.time_limit")
    assert found.provenance == "national-definition"
    assert "国卫办医政发〔2022〕16号" in found.clause
    extension = entry("qingyuan", "programmes.day_surgery.time_limit.extended_limit_hours")
    assert (extension.value, extension.provenance) == ("(absent)", "local-parameter")
    assert "extended_limit_hours: 48" in extension.alternative


@pytest.mark.parametrize("policy", policy_ids())
def test_every_bundled_reading_has_clause_note_and_alternative(policy: str) -> None:
    compiled = load_policy(policy)
    found = readings(compiled)
    assert found
    for item in found:
        assert item.clause, item.path
        assert item.note, item.path
        assert item.alternative, item.path
        if item.provenance == "national-definition":
            assert not item.clause.endswith(f"({compiled.rules.policy.document})"), item.path


def test_render_lists_each_reading_under_its_policy() -> None:
    page = render([load_policy("qingyuan")])
    assert "## qingyuan — 清医保待〔2020〕49号" in page
    assert page.count("\n### ") == len(readings(load_policy("qingyuan")))


def test_cli_policy_readings_by_id_and_path(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["policy", "readings", "qingyuan"]) == 0
    by_id = capsys.readouterr().out
    assert main(["policy", "readings", str(rules_root() / QY)]) == 0
    assert capsys.readouterr().out == by_id == render([load_policy("qingyuan")])


# --- load checks ------------------------------------------------------------------------------


def test_missing_source_is_a_load_error_at_its_line(rules: Path) -> None:
    path = edit(rules, PZH, "agency: {kind: drg, source: art7_2}", "agency: {kind: drg}")
    with pytest.raises(PolicyLoadError) as caught:
        load_policy(path)
    text = path.read_text(encoding="utf-8")
    assert caught.value.line == text[: text.index("agency: {kind: drg}")].count("\n") + 1
    assert "source: required key is missing" in caught.value.message


def test_missing_source_in_a_frame_is_a_load_error_naming_the_frame(rules: Path) -> None:
    edit(rules, TCM_FRAME, "      kind: none\n      source: tcm_2_5b\n", "      kind: none\n")
    with pytest.raises(PolicyLoadError) as caught:
        load_policy(rules / TCM_REGION)
    assert "time_limit.none.source: required key is missing" in caught.value.message
    assert str(rules / TCM_FRAME) in caught.value.message


def test_missing_scope_is_a_load_error(rules: Path) -> None:
    path = edit(rules, QY, "  scope: qy_2_5\n", "")
    with pytest.raises(PolicyLoadError, match=r"policy\.scope: required key is missing"):
        load_policy(path)


def test_national_definition_without_national_document_is_a_load_error(rules: Path) -> None:
    path = edit(
        rules,
        QY,
        "      source: nat_day_surgery\n      limit_hours: 24",
        "      source: qy_2_5\n      limit_hours: 24",
    )
    with pytest.raises(PolicyLoadError) as caught:
        load_policy(path)
    assert "national-definition cites 'qy_2_5', which names no national document" in (
        caught.value.message
    )
    text = path.read_text(encoding="utf-8")
    assert caught.value.line == text[: text.index("      source: qy_2_5\n")].count("\n") + 1


# --- each contested reading switched in YAML -------------------------------------------------


def pzh_exam_elsewhere() -> dict[str, object]:
    return episode(
        charges=[
            charge("c-stay", at(2)),
            charge(
                "op-exam",
                at(-30),
                setting="outpatient",
                category="examination",
                related=True,
                institution_id="H-OTHER",
            ),
        ]
    )


def test_pzh_7_1_same_institution_switch(rules: Path) -> None:
    default = settle(pzh_exam_elsewhere(), policy="panzhihua")
    assert line(default, "op-exam").reason == "NOT_MERGED_OTHER_INSTITUTION"
    path = edit(
        rules,
        PZH,
        "same_institution: true\n        requires_related: true\n        categories: [exam",
        "same_institution: false\n        requires_related: true\n        categories: [exam",
    )
    switched = settle(pzh_exam_elsewhere(), policy=path)
    assert line(switched, "op-exam").reason == "MERGED_PRE_ADMISSION"
    step = next(s for s in switched.trace if s.rule == "pre_admission: merge_window")
    read = {p.name: (p.value, p.provenance) for p in step.parameters}
    assert read["same_institution"] == ("false", "local-parameter")


def test_pzh_13_pre_admission_window_days_switch(rules: Path) -> None:
    exam = charge("op-exam", at(0, days=-10), setting="outpatient", category="examination")
    case = episode(charges=[charge("c-stay", at(2)), {**exam, "related": True}])
    assert line(settle(case, policy="panzhihua"), "op-exam").reason == "NOT_MERGED_OUTSIDE_WINDOW"
    text = (rules / PZH).read_text(encoding="utf-8")
    first = text.index("          days: 7\n")
    (rules / PZH).write_text(
        text[:first] + "          days: 14\n" + text[first + len("          days: 7\n") :],
        encoding="utf-8",
    )
    switched = settle(case, policy=rules / PZH)
    assert line(switched, "op-exam").reason == "MERGED_PRE_ADMISSION"


def test_pzh_7_1_during_stay_requires_related_switch(rules: Path) -> None:
    """第七条（一） 日间医疗期间发生的…医疗费用: read as every outpatient-booked charge in the
    stay (``requires_related: false``); the other reading is one setting away."""
    drug = charge("op-drug", at(3), setting="outpatient", category="western_drug")
    case = episode(charges=[charge("c-stay", at(2)), drug])
    assert line(settle(case, policy="panzhihua"), "op-drug").reason == "MERGED_DURING_STAY"
    found = entry("panzhihua", "programmes.day_surgery.merge.during_stay.requires_related")
    assert found.provenance == "local-parameter"
    text = (rules / PZH).read_text(encoding="utf-8")
    block = text.index("      during_stay:\n")
    old = "        requires_related: false\n"
    at_ = text.index(old, block)
    (rules / PZH).write_text(
        text[:at_] + "        requires_related: true\n" + text[at_ + len(old) :], encoding="utf-8"
    )
    switched = settle(case, policy=rules / PZH)
    assert line(switched, "op-drug").reason == "NOT_MERGED_UNRELATED"


def qy_example() -> dict[str, object]:
    file = EXAMPLES / "qingyuan" / "day-surgery-hernia-26h-rejected.json"
    data: dict[str, object] = json.loads(file.read_text(encoding="utf-8"))
    return data


def test_qy_time_no_extension_by_default() -> None:
    result = settle(qy_example(), policy="qingyuan")
    assert [r.code for r in result.rejection_reasons] == ["TIME_LIMIT_EXCEEDED"]
    assert result.time_limit.extended_limit_hours is None


def test_qy_time_national_extension_switched_on(rules: Path) -> None:
    path = edit(
        rules,
        QY,
        "      limit_hours: 24\n      provenance: national-definition",
        "      limit_hours: 24\n      extended_limit_hours: 48\n"
        "      provenance: national-definition",
    )
    result = settle(qy_example(), policy=path)
    assert result.status == "settled"
    assert result.time_limit.status.value == "extended"
    assert result.time_limit.extended_limit_hours == 48
    assert result.time_limit.citation is not None
    assert result.time_limit.citation.document == "国卫办医政发〔2022〕16号"


def tcm_example() -> str:
    return (EXAMPLES / "tcm-pilot-2025" / "stroke-rehabilitation-per-bed-day.json").read_text(
        encoding="utf-8"
    )


def test_tcm_time_limit_switched_by_region_override(rules: Path) -> None:
    assert settle(tcm_example(), policy="tcm-pilot-2025").time_limit.status.value == (
        "not_applicable"
    )
    region = rules / TCM_REGION
    text = region.read_text(encoding="utf-8")
    text = text.replace(
        "    merge:\n",
        "    time_limit:\n      kind: stay_hours\n      limit_hours: 24\n      source: tcm_1\n"
        "      provenance: illustrative\n      note: a region that limits the stay\n    merge:\n",
        1,
    )
    text += "overrides:\n  programmes.tcm_day_care.time_limit: this region limits the stay\n"
    region.write_text(text, encoding="utf-8")
    result = settle(tcm_example(), policy=region)
    assert [r.code for r in result.rejection_reasons] == ["TIME_LIMIT_EXCEEDED"]


def pzh_converted() -> str:
    return (EXAMPLES / "panzhihua" / "day-surgery-converted-to-ward.json").read_text(
        encoding="utf-8"
    )


def test_pzh_8_keep_merges_switch(rules: Path) -> None:
    default = settle(pzh_converted(), policy="panzhihua")
    assert line(default, "OP-01").reason == "MERGED_PRE_ADMISSION"
    assert line(default, "PD-01").reason == "NOT_MERGED_AFTER_CONVERSION"
    path = edit(rules, PZH, "keep_merges: [pre_admission]", "keep_merges: [post_discharge]")
    switched = settle(pzh_converted(), policy=path)
    assert line(switched, "OP-01").reason == "NOT_MERGED_AFTER_CONVERSION"
    assert line(switched, "PD-01").reason != "NOT_MERGED_AFTER_CONVERSION"


def test_national_definition_reading_needs_a_national_clause(rules: Path) -> None:
    path = edit(
        rules,
        QY,
        "          provenance: local-parameter\n          source: nat_day_surgery\n",
        "          provenance: national-definition\n          source: qy_2_5\n",
    )
    with pytest.raises(PolicyLoadError) as caught:
        load_policy(path)
    assert "cites 'qy_2_5', which names no national document" in caught.value.message
    text = path.read_text(encoding="utf-8")
    needle = "          source: qy_2_5\n"
    assert caught.value.line == text[: text.index(needle)].count("\n") + 1


# --- labels checked against the texts (docs/readings.md, POLICIES.md) -------------------------


def _catalogue_status(policy: str, key: str) -> str:
    compiled = load_policy(policy)
    found = compiled.catalogues.get(key) or compiled.disease_tables[key]
    return str(found.header.status)


def test_qy_2_1_the_starter_disease_catalogue_is_illustrative() -> None:
    """二、（一）: annex 1 is not published; the bundled list is a starter, not the text."""
    found = entry("qingyuan", "catalogues.day_surgery_diseases")
    assert found.provenance == "illustrative"
    assert "annex 1" in found.note
    assert _catalogue_status("qingyuan", "day_surgery_diseases") == "starter"


@pytest.mark.parametrize(
    ("key", "clause"),
    [
        ("day_surgery_procedures", "第六条（一）"),
        ("chemo_diseases", "第六条（二）"),
        ("tcm_diseases", "第六条（三）"),
    ],
)
def test_pzh_6_the_starter_catalogues_are_illustrative(key: str, clause: str) -> None:
    """第六条 names the lists without publishing them: the bundled ones are starters."""
    found = entry("panzhihua", f"catalogues.{key}")
    assert found.provenance == "illustrative"
    assert found.clause == f"{clause} (攀医保规〔2024〕2号)"
    assert _catalogue_status("panzhihua", key) == "starter"


@pytest.mark.parametrize("policy", policy_ids())
def test_no_catalogue_the_text_does_not_state_is_labelled_explicit(policy: str) -> None:
    """A catalogue whose own header says it is a starter or illustrative list is a reading
    of the clause that names it, never the clause's text."""
    compiled = load_policy(policy)
    for key, ref in compiled.rules.catalogues.items():
        if _catalogue_status(policy, key) != "official":
            assert ref.provenance != "explicit", f"{policy}: catalogues.{key}"
