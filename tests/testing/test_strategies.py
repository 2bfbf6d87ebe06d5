"""The kit's strategies: valid episodes parse, bad inputs fail where they say, an unknown
rule kind fails loudly, and the invariants catch a broken settlement."""

from __future__ import annotations

import dataclasses
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given

from daycare_settle import InvalidEpisode, load_policy, parse_episode, settle
from daycare_settle.policy.schema import Rule
from daycare_settle.testing import (
    BadInput,
    UnsupportedRule,
    amounts,
    check_conservation,
    episodes,
    invalid_episodes,
)
from tests import builders


@given(amounts())
def test_amounts_have_at_most_two_decimals(text: str) -> None:
    exponent = Decimal(text).as_tuple().exponent
    assert isinstance(exponent, int)
    assert exponent >= -2


@given(episodes("panzhihua", "tcm_day_care", stay="any", conversion=None, eligible=False))
def test_drawn_episodes_are_valid_input(episode: dict[str, Any]) -> None:
    parsed = parse_episode(episode)
    assert parsed.admitted_at <= parsed.discharged_at


@given(invalid_episodes("panzhihua", "day_chemo"))
def test_invalid_episodes_fail_at_their_path(bad: BadInput) -> None:
    with pytest.raises(InvalidEpisode) as caught:
        settle(bad.data)
    assert any(p.path.startswith(bad.path) for p in caught.value.problems), bad.defect


class _Invented(Rule):
    kind: str = "invented_rule"


def test_unknown_rule_kind_fails_loudly() -> None:
    policy = load_policy("panzhihua")
    surgery = policy.rules.programmes["day_surgery"]  # type: ignore[index]
    odd = surgery.model_copy(update={"eligibility": (_Invented(source="art4"),)})
    rules = policy.rules.model_copy(update={"programmes": {"day_surgery": odd}})
    broken = dataclasses.replace(policy, rules=rules)
    with pytest.raises(UnsupportedRule, match="invented_rule"):
        episodes(broken, "day_surgery")


def test_conservation_catches_a_lost_fen() -> None:
    episode = builders.episode()
    result = settle(episode)
    line = result.lines[0]
    tampered = result.model_copy(
        update={"lines": (line.model_copy(update={"allowed_amount": line.amount + 1}),)}
    )
    with pytest.raises(AssertionError):
        check_conservation(tampered, episode)
