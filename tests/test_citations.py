"""A citation on everything (issue 8 §1): no settled or rejected result of any bundled policy
carries a null citation — not on a line, the payment, a rejection reason, a flag, a trace step
or the time limit.

The episodes are every bundled example (``examples/<policy>/*.json``), every example moved to
a programme its policy does not cover (``PROGRAMME_NOT_COVERED`` cites the policy's scope
clause), and episodes the policy kit draws from each programme's compiled rules.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings

from daycare_settle import load_policy, settle
from daycare_settle.models import Programme
from daycare_settle.models.settlement import Settlement
from daycare_settle.policy.registry import policy_ids
from daycare_settle.testing import episodes
from tests.builders import example_episodes

EXAMPLE_FILES = example_episodes()
CASES = [
    (p, programme.value) for p in policy_ids() for programme in load_policy(p).rules.programmes
]


def null_citations(value: Any, path: str = "result") -> list[str]:
    """The paths of every citation key whose value is null, anywhere in a result."""
    found: list[str] = []
    if isinstance(value, dict):
        for key, item in value.items():
            where = f"{path}.{key}"
            if "citation" in key and item is None:
                found.append(where)
            found += null_citations(item, where)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found += null_citations(item, f"{path}[{index}]")
    return found


def cited(result: Settlement) -> list[str]:
    return null_citations(result.model_dump(mode="json"))


def test_null_citations_are_found() -> None:
    """The walker itself: a null citation at any depth is reported with its path."""
    data = {"lines": [{"citation": None}], "payment": {"patient_citation": None}}
    assert null_citations(data) == ["result.lines[0].citation", "result.payment.patient_citation"]


def test_every_bundled_policy_has_examples() -> None:
    assert sorted({f.parent.name for f in EXAMPLE_FILES}) == policy_ids()


@pytest.mark.parametrize("file", EXAMPLE_FILES, ids=lambda f: f"{f.parent.name}/{f.stem}")
def test_example_result_cites_everything(file: Path) -> None:
    result = settle(file.read_text(encoding="utf-8"), policy=file.parent.name)
    assert cited(result) == []
    for step in result.trace:
        assert step.citation is not None, step.step
        assert step.quote, step.step


@pytest.mark.parametrize("policy", policy_ids())
def test_programme_not_covered_cites_the_scope_clause(policy: str) -> None:
    compiled = load_policy(policy)
    uncovered = [p for p in Programme if p not in compiled.rules.programmes]
    if not uncovered:
        pytest.skip(f"{policy} covers every programme")
    scope = compiled.citation(compiled.rules.policy.scope)
    settled = 0
    for file in example_episodes(policy):
        data = json.loads(file.read_text(encoding="utf-8"))
        for programme in uncovered:
            result = settle({**data, "programme": programme.value}, policy=policy)
            assert [r.code for r in result.rejection_reasons] == ["PROGRAMME_NOT_COVERED"]
            assert result.rejection_reasons[0].citation == scope
            assert result.time_limit.citation == scope
            assert cited(result) == []
            settled += 1
    assert settled


@pytest.mark.parametrize(("policy", "programme"), CASES, ids=[f"{p}-{g}" for p, g in CASES])
def test_kit_drawn_results_cite_everything(policy: str, programme: str) -> None:
    compiled = load_policy(policy)

    @settings(max_examples=25)
    @given(episodes(compiled, programme, stay="any", eligible=False, conversion=None))
    def check(episode: dict[str, Any]) -> None:
        assert cited(settle(episode, policy=compiled)) == []

    check()
