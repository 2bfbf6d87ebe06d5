"""Audit flags (稽核提示): generic checks a rule file lists under a programme's ``audit``.
Each finding is a flag citing its rule's clause; they run on a settled episode only, after
placements and payment, and never change a line's disposition or an amount."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from decimal import Decimal
from typing import Any

from ..codes import FlagCode, LineReason
from ..models.common import Category
from ..models.episode import Charge, Episode
from ..models.settlement import Citation, Disposition, Flag, Line
from ..policy.loader import Policy
from ..policy.schema import (
    AuditRule,
    ConsumablesShare,
    DuplicateCharges,
    RelatedOutsideWindows,
    Rule,
)
from .dispatch import require_complete
from .findings import Findings
from .lines import Placement
from .trace import cite as cite_rule
from .trace import cited_flag

Cite = Callable[[Rule], Citation | None]
"""The citation of a rule: its policy clause, or an audit profile's strategy."""
Check = Callable[[Any, Cite, Episode, Sequence[Placement], list[Flag]], None]

KIND_OF_FLAG: dict[str, str] = {
    FlagCode.DUPLICATE_CHARGES: "duplicate_charges",
    FlagCode.RELATED_COST_OUTSIDE_WINDOWS: "related_outside_windows",
    FlagCode.CONSUMABLES_SHARE_HIGH: "consumables_share",
}
"""The flag code each audit kind raises, and the kind (what ``daycare-settle audit`` reports
per episode)."""


def run_audit(
    episode: Episode,
    policy: Policy,
    rules: Sequence[AuditRule],
    placements: Sequence[Placement],
    findings: Findings,
) -> None:
    """Append the flags of each audit rule, in the rule file's order."""
    findings.flags.extend(audit_flags(episode, rules, placements, lambda r: cite_rule(policy, r)))


def audit_flags(
    episode: Episode,
    rules: Sequence[AuditRule],
    placements: Sequence[Placement],
    cite: Cite,
) -> list[Flag]:
    """The flags of each audit rule, in order, each cited by ``cite``."""
    flags: list[Flag] = []
    for rule in rules:
        _CHECKS[type(rule)](rule, cite, episode, placements, flags)
    return flags


def placements_of(lines: Sequence[Line]) -> list[Placement]:
    """The placements behind a settlement's lines (to audit a settled result again)."""
    return [
        Placement(line.disposition, line.allowed_amount, line.reason, line.citation)
        for line in lines
    ]


def _duplicates(
    rule: DuplicateCharges,
    cite: Cite,
    episode: Episode,
    placements: Sequence[Placement],
    flags: list[Flag],
) -> None:
    # Charges with an item code repeat only with the same code; without one, as before.
    # Most charges repeat nothing: each key is kept with the position of its first charge,
    # and a group (in the order of its first charge, charges in input order) is made only
    # for a key that repeats.
    first: dict[_Key, int] = {}
    repeated: dict[_Key, list[Charge]] = {}
    charges = episode.charges
    for index, charge in enumerate(charges):
        key: _Key = (
            charge.category,
            charge.at,
            charge.amount,
            charge.institution_id,
            charge.item_code,
        )
        at_first = first.setdefault(key, index)
        if at_first != index:
            group = repeated.get(key)
            if group is None:
                repeated[key] = [charges[at_first], charge]
            else:
                group.append(charge)
    for key in sorted(repeated, key=first.__getitem__) if len(repeated) > 1 else repeated:
        group = repeated[key]
        # the group's text is its first charge's (equal instants may be written in two zones)
        category, at, amount, institution, _code = _key(group[0])
        where = f" at institution {institution}" if institution is not None else ""
        flags.append(
            cited_flag(
                cite(rule),
                FlagCode.DUPLICATE_CHARGES,
                "warning",
                f"{len(group)} {category} charges of {amount} each at {at.isoformat()}{where} "
                "look split or duplicated",
                tuple(c.id for c in group),
            )
        )


_Key = tuple[Category, dt.datetime, Decimal, str | None, str | None]


def _key(charge: Charge) -> _Key:
    """What a repeated charge repeats (an item code counts where the charge has one)."""
    return (charge.category, charge.at, charge.amount, charge.institution_id, charge.item_code)


def _related_outside_windows(
    rule: RelatedOutsideWindows,
    cite: Cite,
    episode: Episode,
    placements: Sequence[Placement],
    flags: list[Flag],
) -> None:
    outside = LineReason.NOT_MERGED_OUTSIDE_WINDOW  # read once, not per charge
    ids = tuple(
        charge.id
        for charge, placement in zip(episode.charges, placements, strict=True)
        if charge.related and placement.reason == outside
    )
    if ids:
        flags.append(
            cited_flag(
                cite(rule),
                FlagCode.RELATED_COST_OUTSIDE_WINDOWS,
                "info",
                f"{len(ids)} charge(s) marked related to the episode fall outside every merge "
                "window; they stay outpatient costs",
                ids,
            )
        )


def _consumables_share(
    rule: ConsumablesShare,
    cite: Cite,
    episode: Episode,
    placements: Sequence[Placement],
    flags: list[Flag],
) -> None:
    total = Decimal("0.00")
    share = Decimal("0.00")
    ids: list[str] = []
    included = Disposition.INCLUDED  # read once, not per charge
    for charge, placement in zip(episode.charges, placements, strict=True):
        if placement.disposition != included:
            continue
        total += placement.allowed
        if charge.category == rule.category:
            share += placement.allowed
            ids.append(charge.id)
    if share > rule.max_share * total:  # never with nothing included (0 > 0 is false)
        flags.append(
            cited_flag(
                cite(rule),
                FlagCode.CONSUMABLES_SHARE_HIGH,
                "warning",
                f"{rule.category} charges make {share} of the {total} included, more than "
                f"the share {rule.max_share}",
                tuple(ids),
            )
        )


_CHECKS: dict[type[Any], Check] = {
    DuplicateCharges: _duplicates,
    RelatedOutsideWindows: _related_outside_windows,
    ConsumablesShare: _consumables_share,
}
require_complete(_CHECKS, AuditRule, "audit")
