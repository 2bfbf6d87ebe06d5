"""Episodes for the audit tests: one patient's stays at day offsets, as JSON lines."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from daycare_settle.audit import AuditError, AuditSummary, Finding, Record
from tests.builders import ADMITTED, at, charge, episode


def stay(
    eid: str,
    day: float,
    *,
    patient: str = "P-1",
    hospital: str = "H-PZH-001",
    diagnosis: str = "K80.20",
    hours: float = 20,
    programme: str = "day_surgery",
    charges: list[dict[str, Any]] | None = None,
    **fields: Any,
) -> dict[str, Any]:
    """A day-surgery stay admitted ``day`` days after the base admission."""
    base = ADMITTED + dt.timedelta(days=day)
    value = episode(
        programme,
        institution={"id": hospital},
        episode_id=eid,
        admitted_at=at(0, base=base),
        discharged_at=at(hours, base=base),
        patient={"id": patient},
        charges=charges or [charge(f"{eid}-c1", at(2, base=base))],
        **fields,
    )
    if programme == "day_surgery":
        value["diagnoses"] = [{"code": diagnosis, "system": "ICD-10"}]
    return value


def lines(*episodes: dict[str, Any]) -> list[str]:
    return [json.dumps(e) for e in episodes]


def findings(records: list[Record], code: str | None = None) -> list[Finding]:
    return [r for r in records if isinstance(r, Finding) and (code is None or r.code == code)]


def errors(records: list[Record]) -> list[AuditError]:
    return [r for r in records if isinstance(r, AuditError)]


def summary(records: list[Record]) -> AuditSummary:
    last = records[-1]
    assert isinstance(last, AuditSummary)
    return last
