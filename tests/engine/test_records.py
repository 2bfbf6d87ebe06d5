"""Result records built from the engine's own values (``engine/records.py``) are the records
the validating constructors make: on every example, the settlement made with the trusted
construction equals, node by node (values, their exact types, the fields given), the one
made with every such record validated from the fields the engine gives."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel

from daycare_settle import parse_episode, settle
from daycare_settle.engine import records
from daycare_settle.models.common import FrozenModel
from tests.builders import example_episodes

EPISODES = example_episodes()


def _validated(cls: type[FrozenModel], values: dict[str, Any], given: tuple[str, ...]) -> Any:
    return cls.model_validate({name: values[name] for name in given})


def _differences(made: object, validated: object, path: str = "") -> list[str]:
    if type(made) is not type(validated):
        return [f"{path}: {type(made).__name__} against {type(validated).__name__}"]
    if isinstance(made, BaseModel):
        assert isinstance(validated, BaseModel)
        found = []
        if made.model_fields_set != validated.model_fields_set:
            found.append(
                f"{path}: fields given {made.model_fields_set ^ validated.model_fields_set}"
            )
        for name in type(made).model_fields:
            found += _differences(getattr(made, name), getattr(validated, name), f"{path}.{name}")
        return found
    if isinstance(made, tuple):
        assert isinstance(validated, tuple)
        if len(made) != len(validated):
            return [f"{path}: {len(made)} items against {len(validated)}"]
        return [
            problem
            for at, (one, other) in enumerate(zip(made, validated, strict=True))
            for problem in _differences(one, other, f"{path}[{at}]")
        ]
    return [] if made == validated else [f"{path}: {made!r} against {validated!r}"]


def _users_of_record() -> list[str]:
    return [
        name
        for name, module in sys.modules.items()
        if name.startswith("daycare_settle.engine")
        and getattr(module, "record", None) is records.record
    ]


@pytest.mark.parametrize("episode", EPISODES, ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_trusted_records_equal_the_validated_ones(
    episode: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    text = episode.read_text(encoding="utf-8")
    made = settle(text, policy=episode.parent.name)
    users = _users_of_record()
    assert len(users) >= 5  # the settlement, time limit, windows, payment, conversion
    for name in users:
        monkeypatch.setattr(sys.modules[name], "record", _validated)
    validated = settle(text, policy=episode.parent.name)
    assert _differences(made, validated) == []
    assert made.to_json() == validated.to_json()


class _Text(str):
    """Text of a ``str`` subclass: not the engine's own, so the model validates it."""


def test_an_id_not_exactly_a_str_is_validated_into_one() -> None:
    text = EPISODES[0].read_text(encoding="utf-8")
    plain = settle(text, policy=EPISODES[0].parent.name)
    parsed = parse_episode(text)
    odd = parsed.model_copy(update={"episode_id": _Text(parsed.episode_id)})
    result = settle(odd, policy=EPISODES[0].parent.name)
    assert type(result.episode_id) is str  # the model's reading, not the subclass kept
    assert result.to_json() == plain.to_json()
