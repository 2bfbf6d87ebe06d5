"""Platform records in: settle an episode from the records a HIS already uploads to the
national medical-insurance platform (2401 admission, 2402 discharge with its diagnoses, 2301
fee details with refunds), plus a ``supplement`` for what those records do not carry.

>>> from daycare_settle.platform import settle_records
>>> result = settle_records(records_json, policy="panzhihua")   # doctest: +SKIP

The mapping of platform fields to episode fields is in ``docs/integration.md``; a policy
names its programmes' ``med_type`` codes in its rule file's ``platform:`` section.
"""

from __future__ import annotations

import os

from ..engine import settle
from ..models import Episode, Settlement
from ..policy.loader import Policy
from ..policy.registry import resolve_policy
from .records import (
    InvalidPlatformRecords,
    PlatformNotConfigured,
    PlatformRecords,
    RecordsInput,
    Supplement,
    parse_records,
    platform_programme,
    records_to_episode,
)


def settle_records(
    records: RecordsInput,
    policy: str | os.PathLike[str] | Policy,
    *,
    strict: bool = False,
) -> Settlement:
    """Settle the episode that platform records describe: :func:`records_to_episode`, then
    :func:`daycare_settle.settle` (``strict`` as there). The result is the one the same
    episode given natively settles to."""
    parsed = parse_records(records)
    compiled = resolve_policy(policy, on=parsed.mdtrtinfo.begntime.date())  # looked up once
    episode: Episode = records_to_episode(parsed, compiled)
    return settle(episode, policy=compiled, strict=strict)


__all__ = [
    "InvalidPlatformRecords",
    "PlatformNotConfigured",
    "PlatformRecords",
    "RecordsInput",
    "Supplement",
    "parse_records",
    "platform_programme",
    "records_to_episode",
    "settle_records",
]
