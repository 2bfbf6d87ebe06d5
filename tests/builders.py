"""Shared builders: each test states only what matters to it.

``episode(...)`` returns a plain dict (the JSON a hospital system would send) for a valid
Panzhihua day-surgery episode at a filed tier-3 hospital; keyword arguments replace
top-level fields, ``institution`` entries are merged in.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
EXPECTED_SUFFIX = ".expected.json"
"""The expected result beside each example episode (``<name>.expected.json``)."""


def example_episodes(policy: str = "*") -> list[Path]:
    """The bundled example episodes of ``policy`` (all policies by default), without the
    expected results beside them."""
    return sorted(
        path
        for path in EXAMPLES.glob(f"{policy}/*.json")
        if not path.name.endswith(EXPECTED_SUFFIX)
    )


HOSPITAL = "H-PZH-001"
ADMITTED = dt.datetime(2025, 3, 10, 8, 0)


def at(hours: float = 0, *, days: int = 0, base: dt.datetime = ADMITTED) -> str:
    """A naive ISO time ``days`` days and ``hours`` hours after admission (Asia/Shanghai)."""
    return (base + dt.timedelta(days=days, hours=hours)).isoformat()


def charge(
    cid: str,
    when: str,
    setting: str = "day_care",
    category: str = "surgery",
    amount: str = "100.00",
    **extra: Any,
) -> dict[str, Any]:
    return {
        "id": cid,
        "at": when,
        "setting": setting,
        "category": category,
        "amount": amount,
        **extra,
    }


def session(
    start: str, end: str, kind: str = "chemotherapy", route: str | None = "intravenous"
) -> dict[str, Any]:
    value: dict[str, Any] = {"start": start, "end": end, "kind": kind}
    if route is not None:
        value["route"] = route
    return value


PROGRAMME_DEFAULTS: dict[str, dict[str, Any]] = {
    "day_surgery": {
        "diagnoses": [{"code": "K80.20", "system": "ICD-10"}],
        "procedures": [{"code": "51.2300x001", "system": "ICD-9-CM-3"}],
    },
    "day_chemo": {
        "diagnoses": [{"code": "C50.901", "system": "ICD-10"}],
        "procedures": [{"code": "99.25", "system": "ICD-9-CM-3"}],
        "sessions": [session(at(1), at(5))],
    },
    "tcm_day_care": {
        "diagnoses": [{"code": "M51.202", "system": "ICD-10"}],
        "procedures": [{"code": "99.92", "system": "ICD-9-CM-3"}],
    },
}


def episode(
    programme: str = "day_surgery", *, institution: dict[str, Any] | None = None, **fields: Any
) -> dict[str, Any]:
    value: dict[str, Any] = {
        "episode_id": "EP-1",
        "programme": programme,
        "admitted_at": at(0),
        "discharged_at": at(20),
        "institution": {
            "id": HOSPITAL,
            "tier": 3,
            "filed_programmes": ["day_surgery", "day_chemo", "tcm_day_care"],
            "departments": ["oncology", "tcm_ward"],
            **(institution or {}),
        },
        "patient": {"id": "P-1"},
        "consent_signed": True,
        **PROGRAMME_DEFAULTS.get(programme, {}),
        "charges": [charge("c-stay", at(2))],
    }
    value.update(fields)
    return value


def line(result: Any, charge_id: str) -> Any:
    """The settlement line of one charge."""
    return next(item for item in result.lines if item.charge_id == charge_id)


def codes(result: Any) -> list[str]:
    """The rejection codes of a settlement."""
    return [reason.code for reason in result.rejection_reasons]
