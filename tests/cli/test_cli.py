"""The command line: settle, --explain, examples, and one clear message on bad input."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from daycare_settle.cli import main
from tests.builders import episode

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def write(tmp_path: Path, body: str) -> str:
    path = tmp_path / "episode.json"
    path.write_text(body, encoding="utf-8")
    return str(path)


def test_settle_prints_settlement_json(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["settle", write(tmp_path, json.dumps(episode())), "--policy", "panzhihua"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["status"] == "settled"
    assert result["totals"]["input"] == "100.00"


def test_explain_prints_the_decisions(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    main(["settle", write(tmp_path, json.dumps(episode())), "--policy", "panzhihua", "--explain"])
    out = capsys.readouterr().out
    assert "time_limit / stay_hours: within" in out
    assert "第三条" in out
    assert "c-stay: included 100.00 of 100.00 (IN_STAY)" in out


@pytest.mark.parametrize(
    ("body", "policy", "message"),
    [
        ("{not json", "panzhihua", "malformed JSON"),
        (json.dumps(episode(programme="space")), "panzhihua", "programme"),
        (json.dumps(episode()), "atlantis", "no policy with id 'atlantis'"),
        (
            json.dumps(
                episode(
                    admitted_at="2020-01-01T08:00:00",
                    discharged_at="2020-01-01T10:00:00",
                    charges=[],
                )
            ),
            "panzhihua",
            "charges",
        ),
    ],
)
def test_bad_input_exits_2_with_one_message(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], body: str, policy: str, message: str
) -> None:
    assert main(["settle", write(tmp_path, body), "--policy", policy]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert message in captured.err
    assert "Traceback" not in captured.err
    assert captured.err.count("\n") == 1


def test_missing_file_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["settle", "/nonexistent/episode.json", "--policy", "panzhihua"]) == 2
    assert "cannot read" in capsys.readouterr().err


def test_examples_all_settle(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["examples", str(EXAMPLES)]) == 0
    out = capsys.readouterr().out
    assert " 0 failed" in out
    assert "ERROR" not in out


def test_policies_lists_bundled_policies(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["policies"]) == 0
    assert "panzhihua" in capsys.readouterr().out
