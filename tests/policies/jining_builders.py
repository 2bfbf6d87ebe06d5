"""Builders for Jining (济医保字〔2021〕44号) tests: a valid oncology day-ward cycle.

``cycle(...)`` returns the episode JSON a hospital system would send: a filed tier-3
hospital, lung cancer, three chemotherapy sessions a week apart (days 0, 7 and 14, each
09:00-14:00), one treatment charge. Keyword arguments replace top-level fields;
``institution`` entries are merged in.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from daycare_settle import settle
from tests import builders

POLICY = "jining"
ADMITTED = dt.datetime(2021, 10, 8, 8, 0)


def at(day: int = 0, hour: float = 9) -> str:
    """A naive ISO time on cycle day ``day`` at ``hour`` o'clock (Asia/Shanghai)."""
    return (ADMITTED.replace(hour=0) + dt.timedelta(days=day, hours=hour)).isoformat()


def charge(
    cid: str,
    when: str,
    category: str = "treatment",
    amount: str = "100.00",
    setting: str = "day_care",
    **extra: Any,
) -> dict[str, Any]:
    """A charge, day-ward defaults (category before setting, as most day-ward tests vary it)."""
    return builders.charge(cid, when, setting, category, amount, **extra)


def session(
    day: int, kind: str = "chemotherapy", start: float = 9, end: float = 14
) -> dict[str, Any]:
    value: dict[str, Any] = {"start": at(day, start), "end": at(day, end), "kind": kind}
    if kind == "chemotherapy":
        value["route"] = "intravenous"
    return value


def cycle(*, institution: dict[str, Any] | None = None, **fields: Any) -> dict[str, Any]:
    value: dict[str, Any] = {
        "episode_id": "JN-1",
        "programme": "oncology_day_ward",
        "admitted_at": at(0, 8),
        "discharged_at": at(14, 16),
        "institution": {
            "id": "H-JN-001",
            "tier": 3,
            "filed_programmes": ["oncology_day_ward"],
            "departments": ["oncology"],
            **(institution or {}),
        },
        "patient": {"id": "P-1"},
        "consent_signed": True,
        "diagnoses": [{"code": "C34.901", "system": "ICD-10"}],
        "sessions": [session(0), session(7), session(14)],
        "charges": [charge("t-1", at(0, 10))],
    }
    value.update(fields)
    return value


def run(episode: dict[str, Any]) -> Any:
    return settle(episode, POLICY)


def line(result: Any, charge_id: str) -> Any:
    return next(item for item in result.lines if item.charge_id == charge_id)


def codes(result: Any) -> list[str]:
    return [reason.code for reason in result.rejection_reasons]


def flag_codes(result: Any) -> list[str]:
    return [f.code for f in result.flags]


def conserved(result: Any) -> bool:
    """Σ allowed (included lines) + not merged + disallowed == input, line by line and in
    the totals, to the fen."""
    included = sum(
        (ln.allowed_amount for ln in result.lines if ln.disposition == "included"), Decimal("0.00")
    )
    not_merged = sum(
        (ln.amount for ln in result.lines if ln.disposition == "not_merged"), Decimal("0.00")
    )
    disallowed = sum(
        (ln.amount - ln.allowed_amount for ln in result.lines if ln.disposition != "not_merged"),
        Decimal("0.00"),
    )
    total = sum((ln.amount for ln in result.lines), Decimal("0.00"))
    t = result.totals
    return included + not_merged + disallowed == total == t.input and (
        t.included,
        t.not_merged,
        t.disallowed,
    ) == (included, not_merged, disallowed)
