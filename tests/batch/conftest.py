"""A mixed JSON-lines input: settled, rejected, malformed, invalid, out of force, blank."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest

from daycare_settle import DaycareSettleError, Settlement
from tests.builders import at, charge, episode


def mixed_lines() -> list[str]:
    """Twelve lines: each kind of outcome, a blank line in the middle, distinct ids."""
    lines = []
    for number in range(6):
        lines.append(
            json.dumps(
                episode(
                    episode_id=f"EP-{number}",
                    charges=[
                        charge(f"c{number}-{k}", at(2), amount=f"{10 + k}.0{k}") for k in range(3)
                    ],
                )
            )
        )
    lines.append("")  # line 7: blank, skipped
    lines.append("{not json")  # line 8
    lines.append(json.dumps(episode(episode_id="EP-bad", programme="space")))  # line 9
    lines.append(  # line 10: before the policy came into force
        json.dumps(
            episode(
                episode_id="EP-old",
                admitted_at="2020-01-01T08:00:00",
                discharged_at="2020-01-01T10:00:00",
            )
        )
    )
    lines.append(json.dumps(episode(episode_id="EP-late", discharged_at=at(60))))  # line 11
    lines.append(json.dumps(episode(episode_id="EP-last")))  # line 12
    return lines


@pytest.fixture
def lines() -> list[str]:
    return mixed_lines()


def expected_lines(lines: list[str], settle_line: Callable[[str], Settlement]) -> list[str]:
    """What settling each non-blank line alone gives: the canonical JSON, or the error
    record a batch writes for it (its line number, code and message)."""
    out = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            out.append(settle_line(line).to_json(indent=None))
        except DaycareSettleError as exc:
            record = {
                "line": number,
                "status": "error",
                "error": {"code": exc.code, "message": exc.message},
            }
            out.append(json.dumps(record, ensure_ascii=False))
    return out
