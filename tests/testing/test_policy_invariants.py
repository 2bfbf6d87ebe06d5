"""The policy kit run on every bundled policy and on the made-up example city.

Adding a policy's invariants is one line: append its id to ``POLICIES``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from daycare_settle import load_policy, settle
from daycare_settle.models import Programme
from daycare_settle.policy.schema import StayHours
from daycare_settle.testing import (
    check_conservation,
    check_conversion_dominance,
    check_determinism,
    check_monotone_merge,
    check_policy_invariants,
    check_round_trip,
    check_time_limit_boundaries,
    episodes,
    extra_charges,
)

POLICIES = ["panzhihua", "jining", "qingyuan", "tcm-pilot-2025"]

EXAMPLE_CITY = Path(__file__).parent / "data" / "examplecity" / "examplecity-2025-1.yaml"
RULE_FILES = [*POLICIES, str(EXAMPLE_CITY)]


def _programmes(policy: str) -> list[tuple[str, str]]:
    return [(policy, p.value) for p in load_policy(policy).rules.programmes]


CASES = [case for policy in RULE_FILES for case in _programmes(policy)]
IDS = [f"{Path(p).stem}-{programme}" for p, programme in CASES]


@pytest.mark.parametrize("policy", RULE_FILES, ids=lambda p: Path(p).stem)
def test_rule_file_round_trips(policy: str) -> None:
    check_round_trip(policy)


@pytest.mark.parametrize(("policy", "programme"), CASES, ids=IDS)
def test_all_invariants(policy: str, programme: str) -> None:
    check_policy_invariants(policy, programmes=[programme])


@pytest.mark.parametrize(("policy", "programme"), CASES, ids=IDS)
def test_eligible_episodes_settle(policy: str, programme: str) -> None:
    """The strategy's eligible episodes pass every eligibility rule of the programme."""
    compiled = load_policy(policy)

    @given(episodes(compiled, programme, stay="eligible", conversion=False))
    def check(episode: dict[str, Any]) -> None:
        result = settle(episode, compiled)
        assert result.status == "settled", result.rejection_reasons
        assert result.settled_as == "day_care"

    check()


@pytest.mark.parametrize(("policy", "programme"), CASES, ids=IDS)
def test_exceeded_stays_are_rejected_at_the_limit(policy: str, programme: str) -> None:
    compiled = load_policy(policy)
    rules = compiled.programme(Programme(programme))
    assert rules is not None
    if not isinstance(rules.time_limit, StayHours):
        pytest.skip(f"no stay-length limit ({rules.time_limit.kind})")

    @given(episodes(compiled, programme, stay="exceeded", conversion=False))
    def check(episode: dict[str, Any]) -> None:
        result = settle(episode, compiled)
        assert "TIME_LIMIT_EXCEEDED" in [r.code for r in result.rejection_reasons]
        check_time_limit_boundaries(compiled, episode)

    check()


@pytest.mark.parametrize("policy", POLICIES)
def test_conversions(policy: str) -> None:
    compiled = load_policy(policy)
    for programme in compiled.rules.programmes:

        @given(episodes(compiled, programme, conversion=True), st.data())
        def check(episode: dict[str, Any], data: st.DataObject) -> None:
            check_conversion_dominance(compiled, episode)
            check_conservation(settle(episode, compiled), episode)
            order = data.draw(st.permutations(range(len(episode["charges"]))))
            check_determinism(compiled, episode, list(order))
            for extra in extra_charges(episode):
                check_monotone_merge(compiled, episode, extra)

        check()
