"""The episode's fast paths (``fast_episode``, the charges' loop, the cross-field checks'
common case) against the model: the same values, types, fields-sets and JSON whenever a
fast path reads an input, and the model's own refusal whenever the model refuses."""

from __future__ import annotations

import copy
import datetime as dt
from decimal import Decimal, localcontext
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import BaseModel, ValidationError

from daycare_settle import InvalidEpisode, parse_episode
from daycare_settle.engine.settle import _invalid
from daycare_settle.errors import FieldProblem
from daycare_settle.models.common import (
    MAX_AMOUNT,
    MONEY_CONTEXT,
    Category,
    Programme,
    Route,
    Setting,
    identity_key,
)
from daycare_settle.models.episode import (
    Charge,
    Episode,
    InconsistentEpisode,
    _check_consistent,
    _fast_charges,
    fast_episode,
)
from tests.builders import HOSPITAL, at, charge, episode


def assert_same(fast: object, made: object, where: str = "") -> None:
    """``fast`` is what validation made: the same types, values, field order and fields-sets,
    down to every nested model, tuple and time zone."""
    assert type(fast) is type(made), where
    if isinstance(made, BaseModel):
        assert isinstance(fast, BaseModel)
        assert fast.__pydantic_fields_set__ == made.__pydantic_fields_set__, where
        assert fast.__pydantic_extra__ is made.__pydantic_extra__ is None, where
        assert fast.__pydantic_private__ is made.__pydantic_private__ is None, where
        assert list(fast.__dict__) == list(made.__dict__), where
        for name, value in made.__dict__.items():
            assert_same(fast.__dict__[name], value, f"{where}.{name}")
    elif isinstance(made, tuple):
        assert isinstance(fast, tuple)
        assert len(fast) == len(made), where
        for index, (one, other) in enumerate(zip(fast, made, strict=True)):
            assert_same(one, other, f"{where}[{index}]")
    elif isinstance(made, dt.datetime):
        assert isinstance(fast, dt.datetime)
        assert fast == made, where
        assert fast.tzinfo == made.tzinfo, where
        assert fast.tzname() == made.tzname(), where
    elif isinstance(made, Decimal):
        assert str(fast) == str(made), where
    else:
        assert fast == made, where


def model_outcome(data: Any) -> Episode | list[tuple[str, str]]:
    """What validation alone decides: the episode, or the problems ``parse_episode`` reports
    for it (the fast path turned off)."""
    try:
        return Episode.model_validate(data)
    except ValidationError as exc:
        error = _invalid(exc.errors(include_url=False, include_input=False))
        return [(p.path, p.message) for p in error.problems] + [("count", str(error.count))]


def check_against_the_model(data: Any) -> None:
    fast = fast_episode(data)
    made = model_outcome(data)
    try:
        parsed: Episode | list[tuple[str, str]] = parse_episode(data)
    except InvalidEpisode as error:
        parsed = [(p.path, p.message) for p in error.problems] + [("count", str(error.count))]
    if isinstance(made, list):
        assert fast is None, "the fast path read what the model refuses"
        assert parsed == made, "a refusal differs from the model's"
        return
    assert isinstance(parsed, Episode)
    assert_same(parsed, made)
    assert parsed.model_dump_json() == made.model_dump_json()
    if fast is not None:
        assert_same(fast, made)


def test_the_common_episode_takes_the_fast_path_and_is_the_model_s() -> None:
    data = episode(
        episode_id="ＥＰ-1",
        procedures=[{"code": "51.2300x001", "system": "ICD-9-CM-3"}],
        extension_reason="pain\tcontrol",
        agency_method_choice="quota",
        institution={"departments": ["surgery"], "filed_diseases": ["K80.20"]},
    )
    fast = fast_episode(data)
    assert fast is not None
    assert_same(fast, Episode.model_validate(data))
    check_against_the_model(data)


@pytest.mark.parametrize(
    "change",
    [
        {"sessions": [{"start": at(1), "end": at(2), "kind": "chemotherapy"}]},
        {"conversion": {"at": at(3), "ward": "W1"}},
        {"clinical_pathway": {"first_visit_at": at(-24)}},
        {"extension_reason": "疼痛"},
        {"diagnoses": [{"code": "Ｋ80", "system": "ICD-10"}]},
        {"charges": ({"id": "c1", "at": at(1), "setting": "day_care", "category": "06",
                      "amount": "1.00"},)},
    ],
    ids=repr,
)  # fmt: skip
def test_what_the_fast_path_does_not_read_is_left_to_the_model(change: dict[str, Any]) -> None:
    data = episode(**change)
    assert fast_episode(data) is None
    check_against_the_model(data)


def test_a_refusal_of_the_cross_field_checks_comes_from_the_model() -> None:
    data = episode(charges=[charge("c1", at(1)), charge("c1", at(2))])
    assert fast_episode(data) is None
    with pytest.raises(InvalidEpisode) as caught:
        parse_episode(data)
    assert [(p.path, p.message) for p in caught.value.problems] == [
        ("charges[1].id", "'c1' repeats charges[0].id")
    ]


# --- every shell the fast path reads is the model's ------------------------------------------

_TEXTS = ["H-1", "ａ1", "a b", " a", "a ", "a\u200b", "", "x" * 201, 7, None]
_TEXT = st.sampled_from(_TEXTS)
_TIMES = [
    "2025-03-10T08:00", "2025-03-10T08:00:00+08:00", "2025-03-11T07:00:00Z", "2025-03-09T08:00",
    "2025-03-10", "1899-12-31T23:00", dt.datetime(2025, 3, 10, 8), 5,
]  # fmt: skip
_TIME = st.sampled_from(_TIMES)
_CODE = st.fixed_dictionaries(
    {
        "code": st.sampled_from(["K80.20", "K 80", "Ｋ80", "K80\u00a0", "", "K" * 41, 80]),
        "system": st.sampled_from(["ICD-10", "TCD", "icd-10", None]),
    },
    optional={"extra": st.just(1)},
)
_CODES = st.one_of(st.lists(_CODE, max_size=2), st.lists(_CODE, max_size=2).map(tuple), _CODE)
_CHARGE = st.fixed_dictionaries(
    {
        "id": st.sampled_from(["c1", "c2", "ｃ1", "c 1", "c\u200b1", 3]),
        "at": _TIME,
        "setting": st.sampled_from(["day_care", "inpatient", "outpatient", Setting.DAY_CARE, "x"]),
        "category": st.sampled_from(["surgery", "06", Setting.DAY_CARE, "15"]),
        "amount": st.sampled_from(["1.00", "12.5", "999999999999.99", 3, "1.005", 1.5, "-1"]),
    },
    optional={
        "institution_id": st.sampled_from(["H-1", "Ｈ-1", "H-2", None, " H"]),
        "item_code": st.sampled_from(["A1", None, ""]),
        "quantity": st.sampled_from(["2", Decimal("2.5"), None, "x"]),
        "related": st.sampled_from([True, False, 1]),
        "route": st.sampled_from(["oral", None, "nasal"]),
        "unknown": st.just(1),
    },
)
_SHELL_FIELDS: dict[str, st.SearchStrategy[Any]] = {
    "episode_id": _TEXT,
    "programme": st.sampled_from(["day_surgery", Programme.DAY_CHEMO, "surgery", None]),
    "admitted_at": _TIME,
    "discharged_at": _TIME,
    "institution": st.one_of(
        st.fixed_dictionaries(
            {"id": _TEXT, "tier": st.sampled_from([3, 1, 0, 4, "3", True, 3.0])},
            optional={
                "filed_programmes": st.sampled_from(
                    [["day_surgery"], (), [Programme.DAY_CHEMO], ["x"], None, "day_surgery"]
                ),
                "departments": st.one_of(st.lists(_TEXT, max_size=2), st.none()),
                "filed_diseases": st.one_of(st.lists(_TEXT, max_size=2), st.none()),
                "extra": st.just(1),
            },
        ),
        st.sampled_from([None, "H-1", []]),
    ),
    "patient": st.one_of(
        st.fixed_dictionaries({"id": _TEXT}, optional={"name": st.just("x")}), st.none()
    ),
    "consent_signed": st.sampled_from([True, False, 1, "true"]),
    "diagnoses": _CODES,
    "charges": st.one_of(
        st.lists(_CHARGE, max_size=4), st.lists(_CHARGE, max_size=2).map(tuple), st.none()
    ),
    "extension_reason": st.sampled_from(["pain", " ", "\t", "a\x00", "", "y" * 201, None, 1]),
    "procedures": _CODES,
    "sessions": st.sampled_from([[], (), None, [{}]]),
    "conversion": st.sampled_from([None, {"at": "2025-03-10T10:00", "ward": "W"}]),
    "clinical_pathway": st.sampled_from([None, {}]),
    "agency_method_choice": _TEXT,
    "surprise": st.just(1),
}
_REQUIRED_FIELDS = (
    "episode_id",
    "programme",
    "admitted_at",
    "discharged_at",
    "institution",
    "patient",
    "consent_signed",
    "diagnoses",
    "charges",
)
_SHELL = st.fixed_dictionaries(
    {name: _SHELL_FIELDS[name] for name in _REQUIRED_FIELDS},
    optional={name: s for name, s in _SHELL_FIELDS.items() if name not in _REQUIRED_FIELDS},
)
_SHELL_KEYS = frozenset(_SHELL_FIELDS)


@settings(max_examples=400)
@given(data=_SHELL)
def test_the_fast_path_decides_as_the_model_does(data: dict[str, Any]) -> None:
    check_against_the_model(data)


_VALID_CODE = st.fixed_dictionaries(
    {
        "code": st.sampled_from(["K80.20", "51.2300x001", "Z51.1"]),
        "system": st.sampled_from(["ICD-10", "TCD", "ICD-9-CM-3"]),
    }
)
_VALID_CHARGE = st.fixed_dictionaries(
    {
        "at": st.sampled_from(
            ["2025-03-10T09:00", "2025-03-09T09:00:00+08:00", "2025-03-12T01:00Z"]
        ),
        "setting": st.sampled_from(["day_care", "outpatient", "post_discharge", Setting.DAY_CARE]),
        "category": st.sampled_from(["surgery", "06", "14", Category.BED]),
        "amount": st.sampled_from(["1.00", "12.5", "0012.50", 3, Decimal("2.5"), "999.99"]),
    },
    optional={
        "institution_id": st.sampled_from(["H-1", "H-2", None]),
        "item_code": st.sampled_from(["A1", None]),
        "quantity": st.sampled_from(["2", Decimal("2.500"), None, 1]),
        "related": st.booleans(),
        "route": st.sampled_from(["oral", Route.TOPICAL, None]),
    },
)
_VALID_SHELL = st.fixed_dictionaries(
    {
        "episode_id": st.sampled_from(["EP-1", "ＥＰ-1", "a b"]),
        "programme": st.sampled_from(["day_surgery", Programme.DAY_CHEMO, "tcm_day_care"]),
        "admitted_at": st.sampled_from(
            ["2025-03-10T08:00", "2025-03-10T08:00:00+08:00", "2025-03-10T00:00:00Z"]
        ),
        "discharged_at": st.sampled_from(["2025-03-10T20:00", "2025-03-11T12:00:00.5+08:00"]),
        "institution": st.fixed_dictionaries(
            {"id": st.sampled_from(["H-1", "Ｈ-9"]), "tier": st.sampled_from([1, 2, 3])},
            optional={
                "filed_programmes": st.sampled_from(
                    [["day_surgery"], (), [Programme.DAY_CHEMO, "tcm_day_care"]]
                ),
                "departments": st.sampled_from([[], ["surgery", "外科"], ("oncology",)]),
                "filed_diseases": st.sampled_from([None, [], ["K80.20"]]),
            },
        ),
        "patient": st.fixed_dictionaries({"id": st.sampled_from(["P-1", "患者"])}),
        "consent_signed": st.booleans(),
        "diagnoses": st.lists(_VALID_CODE, min_size=1, max_size=2),
        "charges": st.lists(_VALID_CHARGE, min_size=1, max_size=4),
    },
    optional={
        "extension_reason": st.sampled_from(["pain", "pain\tcontrol\n", None]),
        "procedures": st.one_of(st.lists(_VALID_CODE, max_size=2), st.just(())),
        "sessions": st.sampled_from([[], ()]),
        "conversion": st.none(),
        "clinical_pathway": st.none(),
        "agency_method_choice": st.sampled_from(["quota", None]),
    },
)


@settings(max_examples=300)
@given(data=_VALID_SHELL, ids=st.lists(st.sampled_from(["c1", "c2", "c3", "ｃ1"]), min_size=4))
def test_every_plain_episode_takes_the_fast_path_and_is_the_model_s(
    data: dict[str, Any], ids: list[str]
) -> None:
    for item, charge_id in zip(data["charges"], ids, strict=False):
        item["id"] = charge_id
    check_against_the_model(data)
    if not isinstance(model_outcome(data), list):
        assert fast_episode(data) is not None, "a plain episode was left to the model"


_NESTED_OFF: dict[tuple[Any, ...], list[Any]] = {
    ("institution", "id"): _TEXTS,
    ("institution", "tier"): [0, 4, "3", True, 3.0, None],
    ("institution", "filed_programmes"): [None, "day_surgery", ["x"], [1]],
    ("institution", "departments"): [None, [" a"], ["a\u200b"], "a", [1]],
    ("institution", "filed_diseases"): [[""], "K80", [None], ["x" * 201]],
    ("institution", "extra"): [1],
    ("patient", "id"): _TEXTS,
    ("patient", "name"): ["x"],
    ("diagnoses", 0, "code"): ["K 80", "Ｋ80", "K80\u00a0", "", "K" * 41, 80],
    ("diagnoses", 0, "system"): ["icd-10", None, "ICD10"],
    ("diagnoses", 0, "extra"): [1],
    ("charges", 0, "id"): _TEXTS,
    ("charges", 0, "at"): _TIMES,
    ("charges", 0, "setting"): ["inpatient", "x", None, Category.BED],
    ("charges", 0, "category"): ["15", "6", None, Setting.DAY_CARE],
    ("charges", 0, "amount"): ["1.005", "-1", 1.5, True, "1e3", None],
    ("charges", 0, "quantity"): ["x", "-1", 1.5, "0.0000001"],
    ("charges", 0, "related"): [1, "true", None],
    ("charges", 0, "route"): ["nasal", 1],
    ("charges", 0, "institution_id"): [" H", "", "Ｈ-1"],
}
_OFF_PATHS = sorted([(name,) for name in _SHELL_FIELDS] + list(_NESTED_OFF), key=repr)


@settings(max_examples=500)
@given(data=_VALID_SHELL, path=st.sampled_from(_OFF_PATHS), value=st.data())
def test_an_episode_one_field_off_is_decided_as_the_model_does(
    data: dict[str, Any], path: tuple[Any, ...], value: st.DataObject
) -> None:
    for index, item in enumerate(data["charges"]):
        item["id"] = f"c{index}"
    target: Any = data
    for step in path[:-1]:
        target = target[step]
    strategy = st.sampled_from(_NESTED_OFF[path]) if path in _NESTED_OFF else _SHELL_FIELDS[path[0]]
    target[path[-1]] = value.draw(strategy)
    check_against_the_model(data)


@pytest.mark.parametrize(
    ("path", "value"),
    [(path, value) for path, values in _NESTED_OFF.items() for value in values],
    ids=repr,
)
def test_a_plain_episode_with_one_nested_value_off_is_decided_as_the_model_does(
    path: tuple[Any, ...], value: Any
) -> None:
    data = copy.deepcopy(episode(procedures=[{"code": "51.23", "system": "ICD-9-CM-3"}]))
    data["charges"].append(charge("c-2", at(2), institution_id="H-2", quantity="2"))
    target: Any = data
    for step in path[:-1]:
        target = target[step]
    target[path[-1]] = value
    check_against_the_model(data)


@given(items=st.lists(_CHARGE, min_size=1, max_size=6))
def test_charges_of_mixed_fields_each_get_the_model_s_fields_set(items: list[Any]) -> None:
    data = episode(charges=items)
    read = _fast_charges(data)
    try:
        made = [Charge.model_validate(item) for item in items]
    except ValidationError:
        assert read is data
        return
    if read is not data:
        assert_same(read["charges"], tuple(made))


# --- the cross-field checks against their one-loop reading ------------------------------------


def one_loop_problems(episode: Episode) -> list[FieldProblem]:
    """The cross-field checks on charges as one plain loop (the reading before the common
    case was decided in C): repeated ids, look-alike institutions, the ceiling, inpatient."""
    own = episode.institution.id
    seen: dict[str, int] = {}
    duplicates, lookalikes, inpatient = [], [], []
    with localcontext(MONEY_CONTEXT):
        total = sum((c.amount for c in episode.charges), Decimal(0))
    for index, item in enumerate(episode.charges):
        first = seen.setdefault(identity_key(item.id), index)
        if first != index:
            earlier = episode.charges[first].id
            message = f"{item.id!r} repeats charges[{first}].id"
            if earlier != item.id:
                message += f" ({earlier!r}) once Unicode-normalised (NFKC)"
            duplicates.append(FieldProblem(f"charges[{index}].id", message))
        other = item.institution_id
        if other is not None and other != own and identity_key(other) == identity_key(own):
            lookalikes.append(
                FieldProblem(
                    f"charges[{index}].institution_id",
                    f"{other!r} differs from institution.id ({own!r}) only in its "
                    "Unicode form (NFKC); write it exactly as institution.id",
                )
            )
        if item.setting is Setting.INPATIENT:
            inpatient.append(
                FieldProblem(
                    f"charges[{index}].setting", "'inpatient' needs a conversion on the episode"
                )
            )
    ceiling = []
    if total > MAX_AMOUNT:
        ceiling.append(
            FieldProblem(
                "charges",
                f"the {len(episode.charges)} charges sum to {total}, above the ceiling "
                f"{MAX_AMOUNT} for any amount or total",
            )
        )
    return duplicates + lookalikes + ceiling + inpatient


@given(
    items=st.lists(
        st.tuples(
            st.sampled_from(["c1", "c2", "ｃ1", "c１", "Ⅸ", "IX"]),
            st.sampled_from([None, HOSPITAL, HOSPITAL.replace("H", "Ｈ"), "H-2", "Ｈ-2"]),
            st.sampled_from(["day_care", "inpatient", "outpatient"]),
            st.sampled_from(["1.00", "999999999999.99", "0.01"]),
        ),
        min_size=1,
        max_size=6,
    )
)
def test_the_cross_field_checks_find_what_one_loop_finds(
    items: list[tuple[str, str | None, str, str]],
) -> None:
    charges = [
        {"id": cid, "at": at(1), "setting": setting, "category": "06", "amount": amount}
        | ({} if institution is None else {"institution_id": institution})
        for cid, institution, setting, amount in items
    ]
    data = episode(charges=charges)
    shell = Episode.model_validate(episode())
    built = shell.model_copy(update={"charges": tuple(Charge.model_validate(c) for c in charges)})
    expected = one_loop_problems(built)
    if expected:
        with pytest.raises(InconsistentEpisode) as caught:
            _check_consistent(built)
        assert list(caught.value.problems) == expected
    else:
        _check_consistent(built)
    check_against_the_model(data)
