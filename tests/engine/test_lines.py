"""Charge lines: a large settlement's compact lines are the lines a small one makes."""

from __future__ import annotations

import sys
from decimal import Decimal

from daycare_settle.engine.lines import build_lines_and_totals, included, not_merged
from daycare_settle.models.episode import COMPACT_FROM, Charge
from daycare_settle.models.settlement import Citation

CITED = Citation(document="攀医保规〔2024〕2号", clause="第七条（一）")


def _charges(count: int) -> list[Charge]:
    return [
        Charge.model_validate(
            {
                "id": f"c{n}",
                "at": "2025-03-10T09:00",
                "setting": "day_care",
                "category": "surgery",
                "amount": f"{n % 50}.25",
            }
        )
        for n in range(count)
    ]


def test_compact_lines_of_a_large_settlement_equal_the_lines_of_a_small_one() -> None:
    charges = _charges(COMPACT_FROM)
    placements = [
        included(c.amount, "IN_STAY", CITED) if n % 3 else not_merged("OUTSIDE", None)
        for n, c in enumerate(charges)
    ]
    large, totals = build_lines_and_totals(charges, placements)
    small, _ = build_lines_and_totals(charges[:2], placements[:2])
    assert large[:2] == small
    assert [line.model_dump_json() for line in large[:2]] == [
        line.model_dump_json() for line in small
    ]
    assert sys.getsizeof(large[0].__dict__) < sys.getsizeof(small[0].__dict__)
    assert totals.input == sum((c.amount for c in charges), Decimal("0.00"))
