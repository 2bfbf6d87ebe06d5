"""confirmed_until: an episode admitted after the day a rule file was last confirmed against
its source settles with a POLICY_UNCONFIRMED warning citing the policy's scope clause, or
fails under strict=True (docs/versions.md). Panzhihua has no end date (第十四条): a 2030
episode must not settle silently under the 2024 rules."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest

from daycare_settle import InvalidArgument, PolicyLoadError, PolicyUnconfirmed, settle
from daycare_settle.cli import main
from daycare_settle.policy.loader import load_policy_file
from daycare_settle.policy.registry import rules_root
from tests.builders import EXAMPLES, example_episodes, session

EPISODE = EXAMPLES / "panzhihua" / "day-surgery-cholecystectomy-preop-exams.json"
CONFIRMED = dt.date(2026, 11, 23)


def admitted_on(day: dt.date) -> dict[str, Any]:
    """The example episode moved so that it is admitted on ``day``."""
    data: dict[str, Any] = json.loads(EPISODE.read_text(encoding="utf-8"))
    delta = day - dt.datetime.fromisoformat(data["admitted_at"]).date()

    def move(text: str) -> str:
        return (dt.datetime.fromisoformat(text) + delta).isoformat()

    data["admitted_at"] = move(data["admitted_at"])
    data["discharged_at"] = move(data["discharged_at"])
    for charge in data["charges"]:
        charge["at"] = move(charge["at"])
    return data


def codes(result: Any) -> list[str]:
    return [f.code for f in result.flags]


def test_pzh_3_episode_on_the_confirmed_day_is_not_flagged() -> None:
    assert "POLICY_UNCONFIRMED" not in codes(settle(admitted_on(CONFIRMED), "panzhihua"))


def test_pzh_3_episode_in_2030_is_flagged_citing_the_scope_clause() -> None:
    result = settle(admitted_on(dt.date(2030, 3, 1)), "panzhihua")
    flag = next(f for f in result.flags if f.code == "POLICY_UNCONFIRMED")
    assert flag.severity == "warning"
    assert "2026-11-23" in flag.message
    assert "2030-03-01" in flag.message
    assert flag.citation is not None
    assert (flag.citation.document, flag.citation.clause) == ("攀医保规〔2024〕2号", "第三条")
    assert result.status == "settled"  # a flag, not a rejection


def test_pzh_3_the_day_after_confirmation_is_flagged() -> None:
    day = CONFIRMED + dt.timedelta(days=1)
    assert "POLICY_UNCONFIRMED" in codes(settle(admitted_on(day), "panzhihua"))


def test_strict_refuses_an_unconfirmed_episode_with_a_stable_code() -> None:
    with pytest.raises(PolicyUnconfirmed, match="last confirmed against its source on 2026-11-23"):
        settle(admitted_on(dt.date(2030, 3, 1)), "panzhihua", strict=True)
    assert PolicyUnconfirmed.code == "policy_unconfirmed"
    settle(admitted_on(CONFIRMED), "panzhihua", strict=True)  # confirmed: settles


def test_strict_must_be_a_bool() -> None:
    with pytest.raises(InvalidArgument, match="strict="):
        settle(admitted_on(CONFIRMED), "panzhihua", strict="yes")  # type: ignore[arg-type]


def test_cli_settle_strict_exits_2_for_an_unconfirmed_episode(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "late.json"
    path.write_text(json.dumps(admitted_on(dt.date(2030, 3, 1))), encoding="utf-8")
    assert main(["settle", str(path), "--policy", "panzhihua", "--strict"]) == 2
    assert "policy_unconfirmed" in capsys.readouterr().err
    assert main(["settle", str(path), "--policy", "panzhihua"]) == 0
    assert "POLICY_UNCONFIRMED" in capsys.readouterr().out


@pytest.mark.parametrize("path", example_episodes(), ids=lambda p: f"{p.parent.name}/{p.name}")
def test_no_bundled_example_is_unconfirmed(path: Path) -> None:
    assert "POLICY_UNCONFIRMED" not in codes(
        settle(path.read_text(encoding="utf-8"), path.parent.name)
    )


def test_a_rule_file_without_confirmed_until_is_a_load_error(tmp_path: Path) -> None:
    source = rules_root() / "qingyuan"
    text = (source / "qingyibaodai-2020-49.yaml").read_text(encoding="utf-8")
    kept = "".join(line for line in text.splitlines(keepends=True) if "confirmed_until" not in line)
    (tmp_path / "catalogues").symlink_to(source / "catalogues")
    path = tmp_path / "rules.yaml"
    path.write_text(kept, encoding="utf-8")
    with pytest.raises(PolicyLoadError, match="confirmed_until"):
        load_policy_file(path)


def test_a_region_may_not_be_confirmed_beyond_its_frame(tmp_path: Path) -> None:
    source = rules_root() / "tcm-pilot-2025" / "illustrative-region.yaml"
    text = source.read_text(encoding="utf-8").replace(
        "extends: ../national/", f"extends: {rules_root()}/national/", 1
    )
    text = text.replace("confirmed_until: 2026-11-23", "confirmed_until: 2027-01-01", 1)
    text = text.replace("file: catalogues/", f"file: {source.parent}/catalogues/")
    path = tmp_path / "region.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(PolicyLoadError, match="later than that of the frame"):
        load_policy_file(path)


def _uncovered(day: dt.date) -> dict[str, Any]:
    """The example moved to ``day`` as a programme Panzhihua does not cover."""
    data = admitted_on(day)
    data["programme"] = "oncology_day_ward"
    data["sessions"] = [session(data["admitted_at"], data["discharged_at"])]
    return data


def test_pzh_3_an_uncovered_programme_after_confirmation_still_carries_the_flag() -> None:
    result = settle(_uncovered(dt.date(2030, 3, 1)), "panzhihua")
    assert [r.code for r in result.rejection_reasons] == ["PROGRAMME_NOT_COVERED"]
    assert codes(result) == ["POLICY_UNCONFIRMED"]
    assert codes(settle(_uncovered(CONFIRMED), "panzhihua")) == []


def test_pzh_3_strict_refuses_an_uncovered_programme_after_confirmation() -> None:
    with pytest.raises(PolicyUnconfirmed):
        settle(_uncovered(dt.date(2030, 3, 1)), "panzhihua", strict=True)
