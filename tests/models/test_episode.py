"""The episode model's fast path for charges: the same charges as the model makes, and the
model's own validation whenever the fast path is not sure."""

from __future__ import annotations

import datetime as dt
import sys
from decimal import Decimal
from enum import StrEnum
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from daycare_settle.models import episode as episode_module
from daycare_settle.models.common import Category, Route, Setting
from daycare_settle.models.episode import (
    COMPACT_FROM,
    Charge,
    Episode,
    _fast_charge,
    _fast_charges,
)
from tests.builders import episode

BASE: dict[str, Any] = {
    "id": "c1",
    "at": "2025-03-10T09:00",
    "setting": "day_care",
    "category": "surgery",
    "amount": "12.50",
}

VARIANTS: list[dict[str, Any]] = [
    {},
    {"amount": "12.5"},
    {"amount": "12"},
    {"amount": "000012.50"},
    {"amount": "999999999999.99"},
    {"amount": 12},
    {"amount": Decimal("12.50")},
    {"amount": Decimal("12.5")},
    {"amount": Decimal("1E+1")},
    {"amount": Decimal("0E-7")},
    {"quantity": "2"},
    {"quantity": Decimal("2.500")},
    {"quantity": 3},
    {"quantity": None},
    {"setting": Setting.OUTPATIENT},
    {"category": "06"},
    {"category": Category.BED},
    {"route": "oral"},
    {"route": Route.TOPICAL},
    {"route": None},
    {"institution_id": "H-2", "item_code": "A001"},
    {"institution_id": None},
    {"related": True},
    {"related": False},
    {"at": "2025-03-10T09:00:30.5Z"},
    {"at": "2025-03-10T09:00:00+05:30"},
    {"id": "ａ1 b"},
]


@pytest.mark.parametrize("compact", [False, True], ids=["dict", "compact"])
@pytest.mark.parametrize("change", VARIANTS, ids=repr)
def test_a_charge_read_by_the_fast_path_is_the_charge_the_model_makes(
    change: dict[str, Any], compact: bool
) -> None:
    data = {**BASE, **change}
    fast = _fast_charge(data, compact)
    made = Charge.model_validate(data)
    assert fast is not None
    assert fast == made
    assert list(fast.__dict__.items()) == list(made.__dict__.items())
    assert [type(v) for v in fast.__dict__.values()] == [type(v) for v in made.__dict__.values()]
    assert fast.model_fields_set == made.model_fields_set == set(data)
    assert fast.model_dump_json() == made.model_dump_json()
    assert fast.model_dump(exclude_unset=True) == made.model_dump(exclude_unset=True)


@pytest.mark.parametrize(
    "change",
    [
        {"amount": "12.505"},
        {"amount": "-1.00"},
        {"amount": "1e3"},
        {"amount": "１２.50"},
        {"amount": 12.5},
        {"amount": True},
        {"amount": ["1.00"]},
        {"at": "2025-03-10"},
        {"at": dt.datetime(2025, 3, 10, 9)},
        {"setting": "ward"},
        {"setting": ["day_care"]},
        {"category": "15"},
        {"id": " c1"},
        {"id": "c\u200b1"},
        {"id": ""},
        {"id": 1},
        {"related": 1},
        {"route": "nasal"},
        {"quantity": "1.0000001"},
        {"unknown": 1},
    ],
    ids=repr,
)
def test_a_charge_the_fast_path_is_unsure_of_is_left_to_the_model(change: dict[str, Any]) -> None:
    assert _fast_charge({**BASE, **change}) is None


def test_a_charge_without_a_required_field_is_left_to_the_model() -> None:
    data = dict(BASE)
    del data["amount"]
    assert _fast_charge(data) is None


def test_an_episode_takes_the_fast_path_only_when_every_charge_does() -> None:
    data = episode()
    read = _fast_charges(data)
    assert read is not data
    assert isinstance(read["charges"], tuple)
    assert all(type(c) is Charge for c in read["charges"])
    assert data["charges"] == episode()["charges"]  # the input is never changed
    assert Episode.model_validate(data).charges == tuple(
        Charge.model_validate(c) for c in data["charges"]
    )
    data["charges"].append({**BASE, "id": "late", "amount": "1.001"})
    assert _fast_charges(data) is data


def test_a_large_episode_keeps_its_charges_compact_and_equal() -> None:
    data = episode(charges=[{**BASE, "id": f"c{n}"} for n in range(COMPACT_FROM)])
    read = _fast_charges(data)["charges"]
    made = [Charge.model_validate(c) for c in data["charges"]]
    assert list(read) == made
    assert sys.getsizeof(read[0].__dict__) < sys.getsizeof(made[0].__dict__)
    assert read[-1].model_dump_json() == made[-1].model_dump_json()


def test_a_text_of_another_enumeration_is_left_to_the_model() -> None:
    class Other(StrEnum):
        SURGERY = "surgery"
        DAY_CARE = "day_care"

    assert _fast_charge({**BASE, "category": Other.SURGERY}) is None
    assert _fast_charge({**BASE, "setting": Other.DAY_CARE}) is None
    assert _fast_charge({**BASE, "setting": Category.SURGERY}) is None


def test_an_empty_charge_is_left_to_the_model_even_first_in_a_process(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(episode_module, "_LAST_FIELDS_SET", [set()])
    assert _fast_charge({}) is None
    data = episode(charges=[{}])
    with pytest.raises(ValidationError):
        Episode.model_validate(data)


# --- the fast path never decides differently from the model ----------------------------------

_TRICKY_TEXT = st.sampled_from(
    ["c1", "ａ1", "c 1", " c1", "c1 ", "c\u200b1", "c\u202e1", "c\u30001", "c\t1", "", "x" * 201]
)
_TRICKY_AMOUNT = st.sampled_from(
    [
        "12.50", "12.5", "12", "-1.00", "1e3", " 12.50", "12.50 ", "12.505", "١٢.٥٠", "+1.00",
        "0.00", "1_000.00", ".50", "12.", "NaN", "Infinity", "9999999999999.99", 12, -1, 12.5,
        True, None, Decimal("12.505"), Decimal("NaN"), Decimal("-0.00"), [12], {"v": 1},
    ]
)  # fmt: skip
_TRICKY_TIME = st.sampled_from(
    [
        "2025-03-10T09:00", "2025-03-10 09:00", "2025-03-10T09:00:00+08:00", "2025-03-10T24:00",
        "2025-02-30T09:00", "2025-03-10T09:00+24:00", "0999-03-10T09:00", "20250310T0900",
        "2025-03-10T09:00:00.1234567", "2025-03-10", 1741568400, None,
    ]
)  # fmt: skip


@given(
    charge_id=_TRICKY_TEXT,
    amount=_TRICKY_AMOUNT,
    at=_TRICKY_TIME,
    quantity=st.one_of(st.none(), _TRICKY_AMOUNT),
    setting=st.sampled_from(["day_care", "outpatient", "Day_care", "", 1, None]),
    category=st.sampled_from(["surgery", "06", "6", "SURGERY", "15", 6, None]),
    institution_id=st.one_of(st.none(), _TRICKY_TEXT),
    related=st.sampled_from([True, False, 0, 1, "true", None]),
    route=st.sampled_from([None, "oral", "ORAL", "iv", 1]),
    compact=st.booleans(),
)
def test_the_fast_path_decides_as_the_model_does(
    charge_id: Any,
    amount: Any,
    at: Any,
    quantity: Any,
    setting: Any,
    category: Any,
    institution_id: Any,
    related: Any,
    route: Any,
    compact: bool,
) -> None:
    data = {
        "id": charge_id,
        "at": at,
        "setting": setting,
        "category": category,
        "amount": amount,
        "quantity": quantity,
        "institution_id": institution_id,
        "related": related,
        "route": route,
    }
    fast = _fast_charge(data, compact)
    try:
        model = Charge.model_validate(data)
    except ValidationError:
        assert fast is None, "the fast path accepted what the model refuses"
        return
    if fast is not None:
        assert fast.model_dump(mode="json") == model.model_dump(mode="json")
        assert fast.model_fields_set == model.model_fields_set
