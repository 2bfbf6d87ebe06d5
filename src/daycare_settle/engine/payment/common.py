"""What the payment kinds share: the trace step's name, the patient side's part of the
payment, and the count of bed-days."""

from __future__ import annotations

from typing import Any, Literal

from ...codes import RejectionCode
from ...models.common import local_date
from ...models.episode import Episode
from ...models.settlement import Citation, Payment
from ...policy.loader import Policy
from ...policy.schema import Rule
from ..findings import Findings
from ..records import record
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


def payment_without_amount(given: Base) -> Payment:
    """The :class:`Payment` of a method whose amount the agency computes (no amount, no
    calculation, no units): ``given`` holds the fields the engine gives (the patient side,
    the agency, its citation, and a basis where there is one). Built from them without a
    second validation where each is exactly of its field's type, else validated."""
    if not _REQUIRED <= given.keys() <= _PLAIN_FIELDS:
        return Payment.model_validate(given)
    citations = (given["patient_citation"], given["agency_citation"])
    basis = given.get("basis")
    if (
        type(given["patient"]) is str
        and type(given["agency"]) is str
        and type(given["counts_toward_annual_inpatient_cap"]) is bool
        and all(c is None or type(c) is Citation for c in citations)
        and (basis is None or type(basis) is str)
    ):
        values = {
            "patient": given["patient"],
            "agency": given["agency"],
            "counts_toward_annual_inpatient_cap": given["counts_toward_annual_inpatient_cap"],
            "patient_citation": citations[0],
            "agency_citation": citations[1],
            "agency_amount": None,
            "calculation": (),
            "basis": basis,
            "units": None,
        }
        return record(Payment, values, tuple(given))
    return Payment.model_validate(given)


_REQUIRED = frozenset(
    {
        "patient",
        "agency",
        "counts_toward_annual_inpatient_cap",
        "patient_citation",
        "agency_citation",
    }
)
_PLAIN_FIELDS = _REQUIRED | {"basis"}
