"""Settling versus merely validating an episode of 1 000, 10 000 and 100 000 charges.

A plain script, no asserts on time: ``PYTHONPATH=src python3 benchmarks/bench_settle.py``.
Both sides start from the same JSON text; "validate" is :func:`parse_episode`, "settle" is
:func:`settle` (which validates too). The target is a ratio within 2x: the decisions
should cost about as much as reading the input, and grow linearly with it.
"""

from __future__ import annotations

import datetime as dt
import json
import sys
import time
from collections.abc import Callable
from typing import Any

from daycare_settle import load_policy, parse_episode, settle

SIZES = (1_000, 10_000, 100_000)
ADMITTED = dt.datetime(2025, 3, 10, 8, 0, tzinfo=dt.timezone(dt.timedelta(hours=8)))
SETTINGS = ("day_care", "day_care", "day_care", "outpatient", "post_discharge")


def episode_text(size: int) -> str:
    """A day-surgery episode with ``size`` charges: mostly in the stay, some outpatient
    before admission and some after discharge (JSON, as a hospital system sends it)."""
    charges = []
    for number in range(size):
        setting = SETTINGS[number % len(SETTINGS)]
        offset = {"day_care": 2, "outpatient": -30, "post_discharge": 40}[setting]
        charges.append(
            {
                "id": f"c{number}",
                "at": (ADMITTED + dt.timedelta(hours=offset)).isoformat(),
                "setting": setting,
                "category": ("examination", "surgery", "06", "lab_test")[number % 4],
                "amount": f"{number % 5000}.{number % 100:02d}",
                "related": number % 3 == 0,
            }
        )
    episode: dict[str, Any] = {
        "episode_id": f"BENCH-{size}",
        "programme": "day_surgery",
        "admitted_at": ADMITTED.isoformat(),
        "discharged_at": (ADMITTED + dt.timedelta(hours=20)).isoformat(),
        "institution": {"id": "H-1", "tier": 3, "filed_programmes": ["day_surgery"]},
        "patient": {"id": "P-1"},
        "consent_signed": True,
        "diagnoses": [{"code": "K80.20", "system": "ICD-10"}],
        "procedures": [{"code": "51.2300x001", "system": "ICD-9-CM-3"}],
        "charges": charges,
    }
    return json.dumps(episode)


def best_of(repeats: int, run: Callable[[], object]) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> int:
    load_policy("panzhihua")  # the rule file is read and cached once, outside the timings
    print(f"{'charges':>8} {'validate s':>11} {'settle s':>9} {'ratio':>6}")
    for size in SIZES:
        text = episode_text(size)
        repeats = 5 if size < 100_000 else 3
        validate = best_of(repeats, lambda text=text: parse_episode(text))
        settled = best_of(repeats, lambda text=text: settle(text, policy="panzhihua"))
        print(f"{size:>8} {validate:>11.3f} {settled:>9.3f} {settled / validate:>6.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
