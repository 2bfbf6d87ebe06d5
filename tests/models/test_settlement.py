"""The settlement's canonical JSON: a large settlement's text, put together line by line,
is byte for byte what the serialiser writes."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from daycare_settle import settle
from daycare_settle.models import settlement as module
from daycare_settle.models.settlement import Citation, Disposition, Line, Settlement
from tests.builders import charge, episode, example_episodes

EXAMPLES = example_episodes()


@pytest.fixture
def every_size(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(module, "WRITTEN_LINE_BY_LINE", 0)


def _settled(path: Path) -> Settlement:
    return settle(path.read_text(encoding="utf-8"), policy=path.parent.name)


@pytest.mark.usefixtures("every_size")
@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_the_line_by_line_text_of_an_example_is_the_serialisers(path: Path) -> None:
    result = _settled(path)
    written = module._compact_with_lines_written(result)
    assert written is not None
    assert written == result.model_dump_json()
    assert result.to_json(indent=None) == result.model_dump_json()
    assert result.to_json() == result.model_dump_json(indent=2)


@pytest.mark.usefixtures("every_size")
def test_a_line_whose_text_needs_escaping_leaves_the_whole_text_to_the_serialiser() -> None:
    result = settle(episode(charges=[charge('c"1', "2025-03-10T10:00")]), policy="panzhihua")
    assert module._compact_with_lines_written(result) is None
    assert result.to_json(indent=None) == result.model_dump_json()


@pytest.mark.usefixtures("every_size")
def test_lines_written_one_by_one_match_for_every_disposition_and_no_citation() -> None:
    result = settle(episode(), policy="panzhihua")
    cited = Citation(document="攀医保规〔2024〕2号", clause="第七条（一）")
    lines = tuple(
        Line(
            charge_id=f"ｃ-{n}",
            disposition=disposition,
            amount=Decimal("12.30"),
            allowed_amount=Decimal("0.00"),
            reason="X",
            citation=cited if n % 2 else None,
        )
        for n, disposition in enumerate(Disposition)
    )
    changed = result.model_copy(update={"lines": lines})
    assert module._compact_with_lines_written(changed) == changed.model_dump_json()
    empty = result.model_copy(update={"lines": ()})
    assert module._compact_with_lines_written(empty) == empty.model_dump_json()


def test_a_small_settlement_is_written_by_the_serialiser_alone() -> None:
    result = settle(episode(), policy="panzhihua")
    assert len(result.lines) < module.WRITTEN_LINE_BY_LINE
    assert result.to_json(indent=None) == result.model_dump_json()
