"""The settlement's canonical JSON: ``to_json`` is the serialiser's text, written by
``models/result_json.py`` (whose own tests compare the two in depth), or by the serialiser
when that writer stands down."""

from __future__ import annotations

from pathlib import Path

import pytest

from daycare_settle import settle
from daycare_settle.models import result_json
from daycare_settle.models.settlement import Settlement
from tests.builders import charge, episode, example_episodes

EXAMPLES = example_episodes()


def _settled(path: Path) -> Settlement:
    return settle(path.read_text(encoding="utf-8"), policy=path.parent.name)


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_the_canonical_text_of_an_example_is_the_serialisers(path: Path) -> None:
    result = _settled(path)
    assert result.to_json() == result.model_dump_json(indent=2)
    assert result.to_json(indent=None) == result.model_dump_json()


def test_a_line_whose_text_needs_escaping_is_written_as_the_serialiser_writes_it() -> None:
    result = settle(episode(charges=[charge('c"1\\', "2025-03-10T10:00")]), policy="panzhihua")
    assert result_json.write_settlement(result, None) is not None
    assert result.to_json(indent=None) == result.model_dump_json()
    assert result.to_json() == result.model_dump_json(indent=2)


def test_the_serialiser_writes_what_the_writer_stands_down_for(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    result = settle(episode(), policy="panzhihua")
    monkeypatch.setattr(result_json, "ENABLED", False)
    assert result_json.write_settlement(result, 2) is None
    assert result.to_json() == result.model_dump_json(indent=2)
    assert result.to_json(indent=None) == result.model_dump_json()
