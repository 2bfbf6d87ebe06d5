"""``daycare-settle settle --from platform RECORDS.json --policy P``."""

from __future__ import annotations

from pathlib import Path

import pytest

from daycare_settle import settle
from daycare_settle.cli import main
from tests.platform.records_builders import BASE, ROOT


def test_settle_from_platform_prints_the_native_result(
    capsysbinary: pytest.CaptureFixture[bytes],
) -> None:
    assert main(["settle", "--from", "platform", str(BASE), "--policy", "panzhihua"]) == 0
    out = capsysbinary.readouterr().out
    native = ROOT / "examples" / "panzhihua" / BASE.name
    assert out == (settle(native.read_bytes(), policy="panzhihua").to_json() + "\n").encode()


def test_settle_defaults_to_episodes(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["settle", str(BASE), "--policy", "panzhihua"]) == 2
    assert "[invalid_episode]" in capsys.readouterr().err


def test_bad_records_are_one_message_naming_the_field(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text = BASE.read_text(encoding="utf-8").replace('"2801"', '"99"', 1)
    path = tmp_path / "records.json"
    path.write_text(text, encoding="utf-8")
    assert main(["settle", "--from", "platform", str(path), "--policy", "panzhihua"]) == 2
    err = capsys.readouterr().err
    assert "[invalid_platform_records]" in err
    assert "mdtrtinfo.med_type" in err
    assert "Traceback" not in err


def test_unknown_input_format_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["settle", "--from", "hl7", str(BASE), "--policy", "panzhihua"]) == 2
    assert "invalid choice" in capsys.readouterr().err


def test_schema_platform_prints_the_committed_schema(
    capsysbinary: pytest.CaptureFixture[bytes],
) -> None:
    assert main(["schema", "platform"]) == 0
    committed = ROOT / "docs" / "schemas" / "platform.schema.json"
    assert capsysbinary.readouterr().out == committed.read_bytes()
