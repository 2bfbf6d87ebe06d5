"""Charge lines and totals: every input charge becomes exactly one line, and the totals
add up to the input to the fen (nothing is lost)."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import Literal, NamedTuple

from ..models.common import _to_money, trusted, trusted_compact
from ..models.episode import COMPACT_FROM, Charge
from ..models.settlement import Citation, Disposition, Line, Totals

ZERO = Decimal("0.00")


class Placement(NamedTuple):
    """The decision for one charge before it becomes a :class:`Line` (a named tuple: one is
    made per charge, and a tuple is the cheapest immutable record to make and to keep)."""

    disposition: Disposition
    allowed: Decimal
    reason: str
    citation: Citation | None
    merged: Literal["pre_admission", "post_discharge"] | None = None


new_tuple = tuple.__new__
"""``new_tuple(Placement, (disposition, allowed, reason, citation, merged))`` builds a
placement directly, as the named tuple's own ``__new__`` does after a Python-level call: one
is made per charge. The members below are read once (an enum member read through its class
costs a lookup of its own each time)."""
INCLUDED, NOT_MERGED, DISALLOWED = (
    Disposition.INCLUDED,
    Disposition.NOT_MERGED,
    Disposition.DISALLOWED,
)


def included(
    amount: Decimal,
    reason: str,
    citation: Citation | None,
    merged: Literal["pre_admission", "post_discharge"] | None = None,
) -> Placement:
    return new_tuple(Placement, (INCLUDED, amount, reason, citation, merged))


def not_merged(reason: str, citation: Citation | None) -> Placement:
    return new_tuple(Placement, (NOT_MERGED, ZERO, reason, citation, None))


def disallowed(reason: str, citation: Citation | None) -> Placement:
    return new_tuple(Placement, (DISALLOWED, ZERO, reason, citation, None))


def build_lines_and_totals(
    charges: Sequence[Charge], placements: Sequence[Placement]
) -> tuple[tuple[Line, ...], Totals]:
    """One line per charge and the totals, in one pass over the charges. Included is the
    allowed part; what an included line was capped by counts as disallowed; not-merged
    lines count in full."""
    if len(charges) != len(placements):  # pragma: no cover - an engine bug, never input
        raise AssertionError("every charge must be placed exactly once")
    total = included_sum = not_merged_sum = disallowed_sum = pre = post = ZERO
    outside = NOT_MERGED
    lines: list[Line] = []
    append = lines.append
    # The values are validated already (the charge by the episode model, the placement by
    # the engine's types), so the lines are constructed without validating them again; a
    # large settlement's lines are set attribute by attribute, so that each keeps a compact,
    # key-sharing __dict__ (slower to make: only where memory is what counts).
    compact = len(charges) >= COMPACT_FROM
    for charge, placement in zip(charges, placements, strict=True):
        disposition, allowed, reason, citation, merged = placement
        amount = charge.amount
        if compact:
            append(
                trusted_compact(Line, (charge.id, disposition, amount, allowed, reason, citation))
            )
        else:
            append(
                trusted(
                    Line,
                    {
                        "charge_id": charge.id,
                        "disposition": disposition,
                        "amount": amount,
                        "allowed_amount": allowed,
                        "reason": reason,
                        "citation": citation,
                    },
                )
            )
        total += amount
        if disposition is outside:
            not_merged_sum += amount
            continue
        included_sum += allowed
        disallowed_sum += amount - allowed
        if merged == "pre_admission":
            pre += allowed
        elif merged == "post_discharge":
            post += allowed
    if included_sum + not_merged_sum + disallowed_sum != total:  # pragma: no cover
        raise AssertionError("totals do not add up to the input")
    # Each total goes through the Money reading itself (a sum of amounts is money already,
    # and the reading returns it as it is), without a model validation around it.
    totals = trusted(
        Totals,
        {
            "input": _to_money(total),
            "included": _to_money(included_sum),
            "not_merged": _to_money(not_merged_sum),
            "disallowed": _to_money(disallowed_sum),
            "merged_pre_admission": _to_money(pre),
            "merged_post_discharge": _to_money(post),
        },
    )
    return tuple(lines), totals
