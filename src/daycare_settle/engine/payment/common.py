"""What the payment kinds share: the trace step's name, the patient side's part of the
payment, and the count of bed-days."""

from __future__ import annotations

from typing import Any, Literal

from ...codes import RejectionCode
from ...models.common import local_date
from ...models.episode import Episode
from ...policy.loader import Policy
from ...policy.schema import Rule
from ..findings import Findings
from ..trace import reject

STEP = "payment"
Base = dict[str, Any]
"""The patient side's fields of the :class:`Payment` (kind, cap, citation)."""


def bed_days(
    episode: Episode,
    policy: Policy,
    rule: Rule,
    count: Literal["session_days", "calendar_days"],
    findings: Findings,
) -> int | None:
    """Bed-days: calendar days with a session, or calendar days from admission to discharge."""
    if count == "calendar_days":
        first, last = local_date(episode.admitted_at), local_date(episode.discharged_at)
        return (last - first).days + 1
    days = {local_date(s.start) for s in episode.sessions}
    if not days:
        if RejectionCode.SESSIONS_MISSING in {r.code for r in findings.rejections}:
            return None  # already refused for it (an eligibility rule that needs sessions)
        findings.rejections.append(
            reject(
                policy,
                RejectionCode.SESSIONS_MISSING,
                "per bed-day payment counts treatment days, but the episode gives no sessions",
                rule,
            )
        )
        return None
    return len(days)
