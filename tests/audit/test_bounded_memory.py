"""``audit`` over a generated file of 10 000 episodes: the peak memory does not grow with the
file (it is bounded by the windows), measured with tracemalloc, as a ratio (never a time)."""

from __future__ import annotations

import datetime as dt
import json
import tracemalloc
from collections.abc import Iterator

from daycare_settle.audit import Auditor
from daycare_settle.codes import FlagCode
from tests.builders import ADMITTED

HOSPITALS = ("H-PZH-001", "H-PZH-002", "H-PZH-003")
DIAGNOSES = ("K80.20", "K40.90", "N20.0")


def generated(count: int) -> Iterator[str]:
    """Day-surgery episodes 2 hours apart (so 10 000 span 833 days), 400 patients in
    turn: a patient comes back every 800 hours (~33 days), outside the 30-day windows except
    when the turn repeats a disease early (every 7th episode comes back after 2 days)."""
    for index in range(count):
        admitted = ADMITTED + dt.timedelta(hours=2 * index)
        patient = f"P-{index % 400}" if index % 7 else f"P-{(index - 24) % 400}"
        eid = f"E{index:05d}"
        yield json.dumps(
            {
                "episode_id": eid,
                "programme": "day_surgery",
                "admitted_at": admitted.isoformat(),
                "discharged_at": (admitted + dt.timedelta(hours=20)).isoformat(),
                "institution": {
                    "id": HOSPITALS[index % 3],
                    "tier": 3,
                    "filed_programmes": ["day_surgery"],
                },
                "patient": {"id": patient},
                "consent_signed": True,
                "diagnoses": [{"code": DIAGNOSES[index % 3], "system": "ICD-10"}],
                "procedures": [{"code": "51.2300x001", "system": "ICD-9-CM-3"}],
                "charges": [
                    {
                        "id": f"{eid}-1",
                        "at": (admitted + dt.timedelta(hours=1)).isoformat(),
                        "setting": "day_care",
                        "category": "medical_material" if index % 5 == 0 else "surgery",
                        "amount": "120.00",
                    }
                ],
            }
        )


def test_peak_memory_does_not_grow_with_the_file() -> None:
    """The traced peak after 2 000 episodes and after 10 000 (one run), and the largest
    window state seen in each part."""
    auditor = Auditor("panzhihua", "background-strategy")
    states = [0, 0]
    tracemalloc.start()
    try:
        for number, text in enumerate(generated(10_000), start=1):
            auditor.feed(number, text)
            part = 0 if number <= 2_000 else 1
            states[part] = max(states[part], auditor.size())
            if number == 2_000:
                _, small = tracemalloc.get_traced_memory()
        auditor.finish()
        _, large = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    found = auditor.summary.findings_by_code
    # the windows hold the same few hundred episodes whatever the file's length
    assert states[1] <= states[0] * 1.1, states
    assert large <= small * 1.25, (small, large)
    assert found[FlagCode.READMISSION_WITHIN_WINDOW] > 0
    assert found[FlagCode.INSTITUTION_RATES] == 3
    assert found[FlagCode.CONSUMABLES_SHARE_HIGH] == 2_000  # every 5th: all material
