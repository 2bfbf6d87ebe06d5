"""verify: a stored result is settled again and compared, field by field, and the rule files
it names are compared by hash with the ones read now (docs/versions.md)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from daycare_settle import __version__, settle
from daycare_settle.cli import main
from daycare_settle.errors import InvalidResult
from daycare_settle.policy.registry import rules_root
from daycare_settle.verify import SHOWN, verify
from tests.builders import EXAMPLES

EPISODE = EXAMPLES / "panzhihua" / "day-surgery-cholecystectomy-preop-exams.json"
RULE_FILE = "panyibaogui-2024-2.yaml"


def stored() -> dict[str, object]:
    return json.loads(settle(EPISODE.read_text(encoding="utf-8"), "panzhihua").to_json())


def test_an_untouched_result_matches_with_rules_and_library_unchanged() -> None:
    outcome = verify(json.dumps(stored()), EPISODE.read_text(encoding="utf-8"))
    assert outcome.match
    assert outcome.differences == ()
    assert not outcome.rules_changed
    assert not outcome.library_changed
    assert outcome.library_version == __version__
    assert outcome.text().startswith("match")


def test_a_tampered_disposition_is_reported_with_its_path() -> None:
    result = stored()
    lines = result["lines"]
    assert isinstance(lines, list)
    was = lines[3]["disposition"]
    lines[3]["disposition"] = "disallowed" if was != "disallowed" else "included"
    outcome = verify(result, EPISODE.read_text(encoding="utf-8"))
    assert not outcome.match
    assert outcome.difference_count == 1
    assert outcome.differences[0].startswith("lines[3].disposition: stored ")
    assert f'now "{was}"' in outcome.differences[0]
    assert not outcome.rules_changed  # the result changed, not the rules


def test_a_tampered_total_and_a_removed_field_are_both_named() -> None:
    result = stored()
    totals = result["totals"]
    assert isinstance(totals, dict)
    totals["included"] = "0.00"
    del result["settled_as"]
    outcome = verify(result, EPISODE.read_text(encoding="utf-8"))
    assert {d.split(":")[0] for d in outcome.differences} == {"totals.included", "settled_as"}
    assert any("stored absent" in d for d in outcome.differences)


def test_the_list_of_differences_is_capped_but_all_are_counted() -> None:
    result = stored()
    lines = result["lines"]
    assert isinstance(lines, list)
    for line in lines:
        line["reason"] = "TAMPERED"
    outcome = verify(result, EPISODE.read_text(encoding="utf-8"))
    assert outcome.difference_count == len(lines) > 0
    assert len(outcome.differences) == min(len(lines), SHOWN)


def test_a_changed_rule_file_is_detected_and_named(tmp_path: Path) -> None:
    folder = tmp_path / "panzhihua"
    shutil.copytree(rules_root() / "panzhihua", folder)
    rule_file = folder / RULE_FILE
    original = json.loads(settle(EPISODE.read_text(encoding="utf-8"), str(rule_file)).to_json())
    text = rule_file.read_text(encoding="utf-8")
    rule_file.write_text(text.replace("days: 7", "days: 14", 1), encoding="utf-8")
    outcome = verify(original, EPISODE.read_text(encoding="utf-8"), policy=str(rule_file))
    assert outcome.rules_changed
    assert outcome.files_changed == (RULE_FILE,)
    assert outcome.files_added == outcome.files_removed == ()
    # 14 days reach the examination 12 days before admission: the result differs too
    assert not outcome.match
    assert any(d.startswith("lines[5].disposition") for d in outcome.differences)
    assert f"changed {RULE_FILE}" in outcome.text()


def test_a_rule_file_changed_in_a_comment_only_changes_the_hash_not_the_result(
    tmp_path: Path,
) -> None:
    folder = tmp_path / "panzhihua"
    shutil.copytree(rules_root() / "panzhihua", folder)
    rule_file = folder / RULE_FILE
    original = json.loads(settle(EPISODE.read_text(encoding="utf-8"), str(rule_file)).to_json())
    rule_file.write_text(rule_file.read_text(encoding="utf-8") + "# reviewed\n", "utf-8")
    outcome = verify(original, EPISODE.read_text(encoding="utf-8"), policy=rule_file)
    assert outcome.files_changed == (RULE_FILE,)
    # the hashes in the result differ, nothing else
    assert outcome.differences
    assert all(d.startswith(("policy.sha256", "policy.files[")) for d in outcome.differences)


def test_stored_files_the_policy_no_longer_reads_are_removed_ones() -> None:
    result = stored()
    policy = result["policy"]
    assert isinstance(policy, dict)
    policy["files"] = [*policy["files"], {"path": "catalogues/gone.yaml", "sha256": "0" * 64}]
    outcome = verify(result, EPISODE.read_text(encoding="utf-8"))
    assert outcome.files_removed == ("catalogues/gone.yaml",)
    assert outcome.rules_changed


def test_a_different_library_version_is_reported() -> None:
    result = stored()
    result["library_version"] = "0.0.1"
    outcome = verify(result, EPISODE.read_text(encoding="utf-8"))
    assert outcome.library_changed
    assert "library version stored 0.0.1" in outcome.text()


@pytest.mark.parametrize(
    ("result", "message"),
    [("not json", "not JSON"), ("[1]", "JSON object"), ("{}", "policy.id")],
)
def test_a_stored_result_that_is_no_result_is_a_library_error(result: str, message: str) -> None:
    with pytest.raises(InvalidResult, match=message) as caught:
        verify(result, EPISODE.read_text(encoding="utf-8"))
    assert caught.value.code == "invalid_result"


def test_cli_verify_exits_0_on_match_1_on_difference_2_on_bad_input(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    good = tmp_path / "result.json"
    good.write_text(json.dumps(stored()), encoding="utf-8")
    assert main(["verify", str(good), str(EPISODE)]) == 0
    assert capsys.readouterr().out.startswith("match")
    result = stored()
    result["status"] = "rejected"
    bad = tmp_path / "tampered.json"
    bad.write_text(json.dumps(result), encoding="utf-8")
    assert main(["verify", str(bad), str(EPISODE)]) == 1
    assert 'status: stored "rejected", now "settled"' in capsys.readouterr().out
    broken = tmp_path / "broken.json"
    broken.write_text("{", encoding="utf-8")
    assert main(["verify", str(broken), str(EPISODE)]) == 2
    assert "invalid_result" in capsys.readouterr().err


def test_cli_verify_names_a_result_file_that_is_not_utf8(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "latin1.json"
    path.write_bytes(b'{"policy": "\xe9"}')
    assert main(["verify", str(path), str(EPISODE)]) == 2
    err = capsys.readouterr().err
    assert "latin1.json: not UTF-8 text" in err
    assert "Traceback" not in err
