"""``daycare-settle audit``: JSON lines of findings ending with a summary, and an HTML summary
that loads nothing from outside."""

from __future__ import annotations

import io
import json
import re
import sys
from pathlib import Path

import pytest

from daycare_settle.cli import main
from tests.audit.helpers import lines, stay


def episodes_file(tmp_path: Path, *text: str) -> str:
    path = tmp_path / "episodes.jsonl"
    path.write_text("\n".join(text) + "\n", encoding="utf-8")
    return str(path)


def test_audit_writes_json_lines_and_html(tmp_path: Path) -> None:
    who = "P-<b>1"  # escaped on the page
    source = episodes_file(
        tmp_path, *lines(stay("A", 0, patient=who), stay("B", 4, patient=who), stay("C", 6))
    )
    out, page = tmp_path / "findings.jsonl", tmp_path / "summary.html"
    argv = ["audit", source, "--policy", "panzhihua", "--out", str(out), "--html", str(page)]
    assert main([*argv, "--profile", "background-strategy"]) == 0
    records = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert records[-1]["record"] == "summary"
    assert records[-1]["profile"] == "background-strategy"
    readmissions = [r for r in records if r.get("code") == "READMISSION_WITHIN_WINDOW"]
    assert {(r["source"], tuple(r["episode_ids"])) for r in readmissions} == {
        ("policy", ("A", "B")),
        ("profile", ("A", "B")),
    }
    policy_one = next(r for r in readmissions if r["source"] == "policy")
    assert policy_one["citation"] == {"document": "攀医保规〔2024〕2号", "clause": "第十二条"}
    text = page.read_text(encoding="utf-8")
    assert "READMISSION_WITHIN_WINDOW" in text
    assert "H-PZH-001" in text  # the rates table
    assert "background-strategy profile" in text
    assert "第十二条" in text
    assert "P-&lt;b&gt;1" in text
    assert "<b>" not in text
    assert not re.search(r"<script|<link|@import|url\(|https?://", text, re.IGNORECASE)


def test_audit_reads_stdin_and_exits_1_on_error_lines(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    body = "\n".join([*lines(stay("A", 3)), "{oops", *lines(stay("B", 1))]) + "\n"
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(body.encode())))
    assert main(["audit", "-", "--policy", "panzhihua"]) == 1
    captured = capsys.readouterr()
    records = [json.loads(line) for line in captured.out.splitlines()]
    assert [(r["line"], r["error"]["code"]) for r in records if r["record"] == "error"] == [
        (2, "invalid_episode"),
        (3, "out_of_order"),
    ]
    assert "3 episodes" in captured.err


def test_audit_unknown_profile_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    source = episodes_file(tmp_path, *lines(stay("A", 0)))
    assert main(["audit", source, "--policy", "panzhihua", "--profile", "nope"]) == 2
    assert "unknown_profile" in capsys.readouterr().err


def test_an_unreadable_input_leaves_an_existing_out_file_alone(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "findings.jsonl"
    out.write_text("kept\n", encoding="utf-8")
    missing = str(tmp_path / "missing.jsonl")
    assert main(["audit", missing, "--policy", "panzhihua", "--out", str(out)]) == 2
    captured = capsys.readouterr()
    assert f"cannot read {missing}" in captured.err
    assert "Traceback" not in captured.err
    assert out.read_text(encoding="utf-8") == "kept\n"
