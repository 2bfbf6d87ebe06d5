"""Nothing is lost: for random Panzhihua episodes every charge appears exactly once, in input
order, and the totals add up to the input to the fen."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from daycare_settle import settle
from daycare_settle.models import Category
from tests.builders import ADMITTED, episode

SETTINGS = ["outpatient", "day_care", "post_discharge"]
amounts = st.decimals(min_value=0, max_value=Decimal("99999.99"), places=2).map(str)


@st.composite
def random_episodes(draw: st.DrawFn) -> dict[str, Any]:
    programme = draw(st.sampled_from(["day_surgery", "day_chemo"]))
    stay = draw(st.integers(min_value=1, max_value=60 * 3600))
    discharged = ADMITTED + dt.timedelta(seconds=stay)
    charges = []
    for index in range(draw(st.integers(min_value=1, max_value=25))):
        setting = draw(st.sampled_from(SETTINGS))
        if setting == "outpatient":
            when = ADMITTED - dt.timedelta(minutes=draw(st.integers(1, 20 * 24 * 60)))
        elif setting == "post_discharge":
            when = discharged + dt.timedelta(minutes=draw(st.integers(0, 20 * 24 * 60)))
        else:
            when = ADMITTED + dt.timedelta(seconds=draw(st.integers(-3600, stay + 3600)))
        charges.append(
            {
                "id": f"c{index}",
                "at": when.isoformat(),
                "setting": setting,
                "category": draw(st.sampled_from([c.value for c in Category])),
                "amount": draw(amounts),
                "related": draw(st.booleans()),
                "institution_id": draw(st.sampled_from(["H-PZH-001", "H-OTHER"])),
            }
        )
    sessions = [
        {
            "start": ADMITTED.isoformat(),
            "end": discharged.isoformat(),
            "kind": "chemotherapy",
            "route": "intravenous",
        }
    ]
    return episode(
        programme,
        sessions=sessions if programme == "day_chemo" else [],
        discharged_at=discharged.isoformat(),
        extension_reason=draw(st.sampled_from([None, "observation"])),
        consent_signed=draw(st.booleans()),
        charges=charges,
    )


@given(random_episodes())
def test_every_charge_once_and_totals_add_up(data: dict[str, Any]) -> None:
    result = settle(data, policy="panzhihua")
    assert [item.charge_id for item in result.lines] == [c["id"] for c in data["charges"]]
    totals = result.totals
    assert totals.input == sum(Decimal(c["amount"]) for c in data["charges"])
    assert totals.included + totals.not_merged + totals.disallowed == totals.input
    assert totals.included == sum(item.allowed_amount for item in result.lines)
    for item in result.lines:
        assert item.reason
        assert item.citation is not None
        assert Decimal(0) <= item.allowed_amount <= item.amount


@given(random_episodes())
def test_same_episode_gives_identical_json(data: dict[str, Any]) -> None:
    assert settle(data, policy="panzhihua").to_json() == settle(data, policy="panzhihua").to_json()
