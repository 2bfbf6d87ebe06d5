"""A small synthetic day-ward rule file for unit tests of the generic kinds (not a city)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from daycare_settle.models.common import Setting
from daycare_settle.models.episode import Episode
from daycare_settle.policy.loader import Policy, load_policy_file

RULES = """
policy:
  id: synthetic
  document: TEST-1
  title: synthetic day ward
  version: "1"
  region: nowhere
  effective_from: 2020-01-01
  confirmed_until: 2026-11-23
  scope: c
clauses:
  c: {clause: "1", quote: "test clause"}
programmes:
  oncology_day_ward:
    scope: {source: c}
    eligibility:
      - {kind: min_tier, min_tier: 2, source: c}
      - {kind: sessions_required, session_kinds: [chemotherapy, radiotherapy], source: c}
    time_limit: {kind: sessions_same_day, source: c, max_cycle: {days: 10, source: c}}
    merge:
      pre_admission: {kind: none, source: c}
      post_discharge: {kind: none, source: c}
      during_stay: {kind: none, source: c}
    conversion: {kind: ordinary_inpatient, source: c, mode: merged, agency: drg,
                 counts_toward_annual_inpatient_cap: true}
    between_sessions:
      kind: only_listed_between_sessions
      source: c
      categories: [lab_test]
      drug_categories: [western_drug]
      drug_routes: [oral, subcutaneous]
      requires_related: false
      exempt_session_days: EXEMPT
    fee_schedule:
      kind: daily_fees_by_session
      source: c
      categories: [bed]
      days:
        - kind: capped_per_day
          session_kind: chemotherapy
          source: c
          caps_by_tier: {3: {bed: "10.00"}, 2: {bed: "7.50"}}
        - {kind: not_chargeable, session_kind: radiotherapy, source: c}
    payment:
      patient: {kind: single_inpatient_stay, counts_toward_annual_inpatient_cap: true, source: c}
      agency:
        kind: fee_for_service_or_quota
        source: c
        quotas:
          source: c
          diseases: [{code: C50, name: breast, quota: "1000.00"}]
        ordinary_daily_fees:
          source: c
          by_tier: {3: {bed: "30.00"}, 2: {bed: "25.00"}}
"""


def policy(tmp_path: Path, *, exempt_session_days: bool = False, text: str = RULES) -> Policy:
    path = tmp_path / f"synthetic-{exempt_session_days}.yaml"
    path.write_text(text.replace("EXEMPT", str(exempt_session_days).lower()), encoding="utf-8")
    return load_policy_file(path)


def t(day: int, hour: float) -> str:
    return f"2021-03-{day:02d}T{int(hour):02d}:{int(hour % 1 * 60):02d}:00"


def episode(
    sessions: list[tuple[int, float, float, str]],
    charges: list[tuple[str, int, float, str, str]],
    **fields: Any,
) -> Episode:
    """Sessions as (day, start hour, end hour, kind); charges as (id, day, hour, category,
    amount), all in March 2021, day care, at a tier-3 hospital."""
    value: dict[str, Any] = {
        "episode_id": "E",
        "programme": "oncology_day_ward",
        "admitted_at": t(1, 7),
        "discharged_at": t(20, 23),
        "institution": {"id": "H", "tier": 3, "filed_programmes": ["oncology_day_ward"]},
        "patient": {"id": "P"},
        "consent_signed": True,
        "diagnoses": [{"code": "C50.9", "system": "ICD-10"}],
        "sessions": [{"start": t(d, s), "end": t(d, e), "kind": k} for d, s, e, k in sessions],
        "charges": [
            {"id": i, "at": t(d, h), "setting": Setting.DAY_CARE.value, "category": c, "amount": a}
            for i, d, h, c, a in charges
        ],
    }
    value.update(fields)
    return Episode.model_validate(value)
