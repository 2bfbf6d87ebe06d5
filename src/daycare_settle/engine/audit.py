"""Audit flags (稽核提示): generic checks a rule file lists under a programme's ``audit``.
Each finding is a flag citing its rule's clause; they run on a settled episode only, after
placements and payment, and never change a line's disposition or an amount."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from decimal import Decimal
from typing import Any

from ..codes import FlagCode, LineReason
from ..models.episode import Charge, Episode
from ..models.settlement import Disposition
from ..policy.loader import Policy
from ..policy.schema import (
    AuditRule,
    ConsumablesShare,
    DuplicateCharges,
    RelatedOutsideWindows,
)
from .dispatch import require_complete
from .findings import Findings
from .lines import Placement
from .trace import flag

Check = Callable[[Any, Policy, Episode, Sequence[Placement], Findings], None]


def run_audit(
    episode: Episode,
    policy: Policy,
    rules: Sequence[AuditRule],
    placements: Sequence[Placement],
    findings: Findings,
) -> None:
    """Append the flags of each audit rule, in the rule file's order."""
    for rule in rules:
        _CHECKS[type(rule)](rule, policy, episode, placements, findings)


def _duplicates(
    rule: DuplicateCharges,
    policy: Policy,
    episode: Episode,
    placements: Sequence[Placement],
    findings: Findings,
) -> None:
    groups: dict[tuple[str, dt.datetime, Decimal, str | None], list[Charge]] = {}
    for charge in episode.charges:
        key = (charge.category, charge.at, charge.amount, charge.institution_id)
        groups.setdefault(key, []).append(charge)
    for (category, at, amount, institution), charges in groups.items():
        if len(charges) < 2:
            continue
        where = f" at institution {institution}" if institution is not None else ""
        findings.flags.append(
            flag(
                policy,
                FlagCode.DUPLICATE_CHARGES,
                "warning",
                f"{len(charges)} {category} charges of {amount} each at {at.isoformat()}{where} "
                "look split or duplicated",
                rule,
                tuple(c.id for c in charges),
            )
        )


def _related_outside_windows(
    rule: RelatedOutsideWindows,
    policy: Policy,
    episode: Episode,
    placements: Sequence[Placement],
    findings: Findings,
) -> None:
    ids = tuple(
        charge.id
        for charge, placement in zip(episode.charges, placements, strict=True)
        if charge.related and placement.reason == LineReason.NOT_MERGED_OUTSIDE_WINDOW
    )
    if ids:
        findings.flags.append(
            flag(
                policy,
                FlagCode.RELATED_COST_OUTSIDE_WINDOWS,
                "info",
                f"{len(ids)} charge(s) marked related to the episode fall outside every merge "
                "window; they stay outpatient costs",
                rule,
                ids,
            )
        )


def _consumables_share(
    rule: ConsumablesShare,
    policy: Policy,
    episode: Episode,
    placements: Sequence[Placement],
    findings: Findings,
) -> None:
    total = Decimal("0.00")
    share = Decimal("0.00")
    ids: list[str] = []
    for charge, placement in zip(episode.charges, placements, strict=True):
        if placement.disposition != Disposition.INCLUDED:
            continue
        total += placement.allowed
        if charge.category == rule.category:
            share += placement.allowed
            ids.append(charge.id)
    if share > rule.max_share * total:  # never with nothing included (0 > 0 is false)
        findings.flags.append(
            flag(
                policy,
                FlagCode.CONSUMABLES_SHARE_HIGH,
                "warning",
                f"{rule.category} charges make {share} of the {total} included, more than "
                f"the share {rule.max_share}",
                rule,
                tuple(ids),
            )
        )


_CHECKS: dict[type[Any], Check] = {
    DuplicateCharges: _duplicates,
    RelatedOutsideWindows: _related_outside_windows,
    ConsumablesShare: _consumables_share,
}
require_complete(_CHECKS, AuditRule, "audit")
