"""``daycare-settle policies`` with one broken rule file: the others are listed, the broken
one is one error line naming its file and line, the exit status is 1, never a traceback."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from daycare_settle.cli import main
from daycare_settle.policy import registry


@pytest.fixture
def rules(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = tmp_path / "rules"
    shutil.copytree(registry.rules_root(), root)
    monkeypatch.setattr(registry, "rules_root", lambda: root)
    return root


def test_all_policies_listed_when_every_file_loads(
    rules: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["policies"]) == 0
    out = capsys.readouterr()
    assert [row.split("\t")[0] for row in out.out.splitlines()] == registry.policy_ids()
    assert out.err == ""


def test_a_broken_policy_is_one_error_line_and_the_others_are_listed(
    rules: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    broken = rules / "qingyuan" / "qingyibaodai-2020-49.yaml"
    text = broken.read_text(encoding="utf-8")
    assert text.count("    conversion:\n") == 1
    broken.write_text(text.replace("    conversion:\n", "    conversoin:\n"), encoding="utf-8")
    assert main(["policies"]) == 1
    out = capsys.readouterr()
    listed = {row.split("\t")[0] for row in out.out.splitlines()}
    assert listed == set(registry.policy_ids()) - {"qingyuan"}
    errors = out.err.splitlines()
    assert len(errors) == 1, out.err
    assert errors[0].startswith("daycare-settle: error: qingyuan: [policy_load_error] ")
    assert str(broken.resolve()) in errors[0]
    assert "Traceback" not in out.err
