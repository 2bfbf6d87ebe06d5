"""Versions side by side: an amendment is a small rule file that ``extends:`` the version it
amends, keeps its id, states its own document, dates and clauses, and lists what it
overrides; the registry ends the base's window the day before the amendment starts.
The fixture (tests/policy/data/panzhihua-amendment-2026.yaml) is made up: it moves
Panzhihua's pre-admission window (第七条（一）, read as 7 days) to 14 days from 2026-01-01."""

from __future__ import annotations

import datetime as dt
import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from daycare_settle import PolicyLoadError, settle
from daycare_settle.cli import main
from daycare_settle.policy import registry
from daycare_settle.policy.loader import load_policy_file
from daycare_settle.policy.registry import refresh, resolve_policy, rules_root, versions
from tests.builders import EXAMPLES, charge, episode, session

FIXTURE = Path(__file__).parent / "data" / "panzhihua-amendment-2026.yaml"
EPISODE = EXAMPLES / "panzhihua" / "day-surgery-cholecystectomy-preop-exams.json"
EXAM_12_DAYS_BEFORE = "OP-0228-01"


@pytest.fixture
def root(tmp_path: Path) -> Path:
    """A rules folder holding the bundled Panzhihua files and the amendment beside them."""
    shutil.copytree(rules_root() / "panzhihua", tmp_path / "panzhihua")
    shutil.copy(FIXTURE, tmp_path / "panzhihua" / FIXTURE.name)
    refresh()
    return tmp_path


def shifted(days: int) -> dict[str, Any]:
    """The example episode moved ``days`` days later (every time in it)."""
    data: dict[str, Any] = json.loads(EPISODE.read_text(encoding="utf-8"))

    def move(text: str) -> str:
        return (dt.datetime.fromisoformat(text) + dt.timedelta(days=days)).isoformat()

    data["admitted_at"] = move(data["admitted_at"])
    data["discharged_at"] = move(data["discharged_at"])
    for item in data["charges"]:
        item["at"] = move(item["at"])
    return data


def disposition(result: Any, charge_id: str) -> str:
    return str(next(line for line in result.lines if line.charge_id == charge_id).disposition.value)


def test_pzh_7_1_amendment_ends_the_base_window_the_day_before(root: Path) -> None:
    base, amendment = versions("panzhihua", root)
    assert base.rules.policy.document == "攀医保规〔2024〕2号"
    assert amendment.rules.policy.document == "测试用修订（非真实文件）"
    on_last_day = resolve_policy("panzhihua", dt.date(2025, 12, 31), root=root)
    on_first_day = resolve_policy("panzhihua", dt.date(2026, 1, 1), root=root)
    assert on_last_day.file == base.file
    assert on_first_day.file == amendment.file


def test_pzh_7_1_episodes_before_and_after_settle_under_each_version(root: Path) -> None:
    policy = root / "panzhihua" / "panyibaogui-2024-2.yaml"
    before = settle(shifted(0), resolve_policy("panzhihua", dt.date(2025, 3, 12), root=root))
    after_policy = resolve_policy("panzhihua", dt.date(2026, 3, 12), root=root)
    after = settle(shifted(365), after_policy)
    # 12 days before admission: outside 7 days, inside 14
    assert disposition(before, EXAM_12_DAYS_BEFORE) == "not_merged"
    assert disposition(after, EXAM_12_DAYS_BEFORE) == "included"
    included = next(line for line in after.lines if line.charge_id == EXAM_12_DAYS_BEFORE)
    assert included.citation is not None
    assert included.citation.document == "攀医保规〔2024〕2号"  # 第七条（一） merges it
    assert before.policy.version == "2024.1"
    assert after.policy.version == "2026.1"
    assert before.policy.sha256 != after.policy.sha256
    assert [f.path for f in before.policy.files if not f.path.startswith("catalogues/")] == [
        policy.name
    ]
    assert {f.path for f in after.policy.files} - {f.path for f in before.policy.files} == {
        FIXTURE.name
    }
    assert [f.version for f in after.policy.amends] == ["2024.1"]
    assert after.policy.frames == ()  # an amended version is no national frame
    assert before.policy.amends == ()


def test_pzh_7_1_the_trace_says_the_amendment_amends_its_base(root: Path) -> None:
    after = settle(shifted(365), resolve_policy("panzhihua", dt.date(2026, 3, 12), root=root))
    scope = next(s for s in after.trace if s.step == "scope")
    assert ", amends panzhihua v2024.1 (攀医保规〔2024〕2号)" in scope.outcome
    assert "composed with frame" not in scope.outcome
    assert "; overriding " in scope.outcome
    assert "programmes.day_surgery.merge.pre_admission.window (the amendment" in scope.outcome


def test_an_amendment_carries_over_every_base_section_it_does_not_override(root: Path) -> None:
    base, amendment = versions("panzhihua", root)
    assert base.rules.platform is not None
    assert base.rules.audit_across
    assert amendment.rules.platform == base.rules.platform
    assert amendment.rules.audit_across == base.rules.audit_across
    assert amendment.rules.catalogues == base.rules.catalogues


def test_pzh_7_1_amendment_cites_its_own_clause_for_the_window(root: Path) -> None:
    amendment = resolve_policy("panzhihua", dt.date(2026, 1, 1), root=root)
    window = amendment.rules.programmes["day_surgery"].merge.pre_admission.window  # type: ignore[union-attr]
    assert window.days == 14  # type: ignore[union-attr]
    citation = amendment.citation(window.source)
    assert citation is not None
    assert (citation.document, citation.clause) == ("测试用修订（非真实文件）", "第一条")
    # inherited clauses keep citing the document that states them
    assert amendment.citation("art3") == resolve_policy("panzhihua").citation("art3")


def edited(root: Path, old: str, new: str) -> Path:
    path = root / "panzhihua" / FIXTURE.name
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    refresh()
    return path


def test_an_amendment_starting_with_its_base_is_an_overlap_error(root: Path) -> None:
    path = edited(root, "effective_from: 2026-01-01", "effective_from: 2024-11-12")
    with pytest.raises(PolicyLoadError, match="overlaps"):
        resolve_policy("panzhihua", dt.date(2025, 1, 1), root=root)
    with pytest.raises(PolicyLoadError, match="an amendment starts after its base"):
        load_policy_file(path)


def test_an_amendment_inside_a_stated_base_window_is_an_overlap_error(root: Path) -> None:
    base = root / "panzhihua" / "panyibaogui-2024-2.yaml"
    text = base.read_text(encoding="utf-8")
    base.write_text(
        text.replace(
            "  effective_from: 2024-11-12\n",
            "  effective_from: 2024-11-12\n  effective_until: 2026-06-30\n  source: art13\n",
            1,
        ),
        encoding="utf-8",
    )
    refresh()
    with pytest.raises(PolicyLoadError, match="overlaps"):
        resolve_policy("panzhihua", dt.date(2025, 1, 1), root=root)
    with pytest.raises(PolicyLoadError, match="overlaps the version it amends"):
        load_policy_file(root / "panzhihua" / FIXTURE.name)


def test_an_amendment_keeps_the_id_of_the_policy_it_amends(root: Path) -> None:
    path = edited(root, "  id: panzhihua", "  id: panzhihua-2026")
    with pytest.raises(PolicyLoadError, match="keeps the id of the policy it amends"):
        load_policy_file(path)


def test_an_amendment_changing_a_value_without_override_is_a_conflict(root: Path) -> None:
    path = edited(
        root,
        "  programmes.tcm_day_care.merge.pre_admission.window: the amendment sets 14 days"
        " (第一条)\n",
        "",
    )
    with pytest.raises(PolicyLoadError, match=r"tcm_day_care\.merge\.pre_admission\.window"):
        load_policy_file(path)


def test_an_amendment_that_extends_itself_is_refused(root: Path) -> None:
    path = edited(root, "extends: panyibaogui-2024-2.yaml", f"extends: {FIXTURE.name}")
    with pytest.raises(PolicyLoadError, match="cycle"):
        load_policy_file(path)


def test_policy_diff_between_dates_shows_the_changed_values(
    root: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    base = str(root / "panzhihua" / "panyibaogui-2024-2.yaml")
    amendment = str(root / "panzhihua" / FIXTURE.name)
    assert main(["policy", "diff", base, amendment]) == 0
    out = capsys.readouterr().out
    assert "~ programmes.day_surgery.merge.pre_admission.window.days: 7 → 14" in out
    assert "~ programmes.day_surgery.merge.pre_admission.window.source: 'art13' → 'amd_1'" in out
    assert "+ clauses.amd_1.clause: '第一条' (added)" in out
    assert "clauses.art3." not in out  # inherited clauses are unchanged


def test_policy_diff_of_one_version_with_itself_says_nothing_differs(
    capsys: pytest.CaptureFixture[str],
) -> None:
    args = ["policy", "diff", "panzhihua", "--from", "2025-01-01", "--to", "2026-06-01"]
    assert main(args) == 0
    assert "no rule, clause or header value differs" in capsys.readouterr().out


def test_policy_diff_needs_dates_or_two_files(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["policy", "diff", "panzhihua"]) == 2
    assert "invalid_argument" in capsys.readouterr().err


def test_policy_show_on_a_date_prints_the_rules_in_force(
    root: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    amendment = str(root / "panzhihua" / FIXTURE.name)
    assert main(["policy", "show", amendment, "--on", "2026-02-01"]) == 0
    out = capsys.readouterr().out
    assert (
        "| day_surgery | merge.pre_admission.window | days | days=14 "
        "| 测试用修订（非真实文件） 第一条 | explicit |" in out
    )
    assert "confirmed against its source until 2026-11-23" in out


def test_policy_show_of_a_bundled_policy_lists_readings(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["policy", "show", "panzhihua", "--on", "2025-03-12"]) == 0
    out = capsys.readouterr().out
    assert (
        "| day_surgery | merge.pre_admission.window | days | days=7 "
        "| 攀医保规〔2024〕2号 第十三条 | explicit; readings: days local-parameter |" in out
    )
    assert main(["policy", "show", "panzhihua", "--on", "2024-01-01"]) == 2
    assert "policy_not_in_force" in capsys.readouterr().err


def test_pzh_7_1_the_amended_version_ends_the_day_before_everywhere(root: Path) -> None:
    base, amendment = versions("panzhihua", root)
    assert base.rules.policy.effective_until is None  # the header states no end
    assert base.last_day == dt.date(2025, 12, 31)
    assert base.window_text() == "2024-11-12 .. 2025-12-31"
    assert not base.in_force_on(dt.date(2026, 1, 1))
    assert base.end is not None
    assert base.end.amended_by == "测试用修订（非真实文件） v2026.1"
    assert amendment.last_day is None
    assert amendment.end is None


def test_pzh_7_1_sessions_after_the_amended_end_are_flagged(root: Path) -> None:
    admitted = "2025-12-31T20:00:00+08:00"
    cycle = episode(
        "day_chemo",
        admitted_at=admitted,
        discharged_at="2026-01-01T10:00:00+08:00",
        sessions=[session("2025-12-31T21:00:00+08:00", "2026-01-01T03:00:00+08:00")],
        charges=[charge("c-stay", "2025-12-31T22:00:00+08:00")],
    )
    policy = resolve_policy("panzhihua", dt.date(2025, 12, 31), root=root)
    assert "SESSIONS_AFTER_POLICY_END" not in [f.code for f in settle(cycle, policy).flags]
    cycle["sessions"].append(session("2026-01-01T04:00:00+08:00", "2026-01-01T08:00:00+08:00"))
    result = settle(cycle, policy)
    late = next(f for f in result.flags if f.code == "SESSIONS_AFTER_POLICY_END")
    assert "2026-01-01T04:00:00+08:00" in late.message
    assert "after 2025-12-31" in late.message
    assert "amended by 测试用修订（非真实文件） v2026.1" in late.message
    assert late.citation is not None
    assert late.citation.document == "攀医保规〔2024〕2号"  # the amendment's scope clause


def test_pzh_7_1_policies_lists_the_registry_end(
    root: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(registry, "rules_root", lambda: root)
    refresh()
    assert main(["policies"]) == 0
    rows = [row.split("\t") for row in capsys.readouterr().out.splitlines()]
    assert [row[2] for row in rows if row[0] == "panzhihua"] == [
        "2024-11-12 .. 2025-12-31",
        "2026-01-01 .. open",
    ]
