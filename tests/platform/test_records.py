"""Platform records → episode: field mapping, refunds netted into their originals, and the
records refused with a named field (``daycare_settle.platform.records``)."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from typing import Any

import pytest
from jsonschema import Draft202012Validator

from daycare_settle import DaycareSettleError, InvalidEpisode
from daycare_settle.models.common import SHANGHAI, Category, CodeSystem, Programme, Setting
from daycare_settle.platform import (
    InvalidPlatformRecords,
    PlatformNotConfigured,
    parse_records,
    records_to_episode,
    settle_records,
)
from daycare_settle.policy import resolve_policy
from daycare_settle.schemas import json_schema
from tests.platform.records_builders import records, refund, row


def invalid(data: Any) -> InvalidPlatformRecords:
    with pytest.raises(InvalidPlatformRecords) as caught:
        parse_records(data)
    return caught.value


def refused(data: Any, policy: str = "panzhihua") -> InvalidPlatformRecords:
    with pytest.raises(InvalidPlatformRecords) as caught:
        records_to_episode(data, policy)
    assert caught.value.code == "invalid_platform_records"
    assert isinstance(caught.value, InvalidEpisode)  # the service's 422 with problems
    return caught.value


def paths(error: InvalidPlatformRecords) -> list[str]:
    return [p.path for p in error.problems]


# --- field mapping --------------------------------------------------------------------------


def test_episode_fields_come_from_the_records() -> None:
    episode = records_to_episode(records(), "panzhihua")
    assert episode.episode_id == "PZH-DC-2025-0004"  # dscginfo.mdtrt_id
    assert episode.programme is Programme.DAY_CHEMO  # med_type 2801 in the rule file
    assert episode.admitted_at == dt.datetime(2025, 6, 3, 8, 0, tzinfo=SHANGHAI)
    assert episode.discharged_at == dt.datetime(2025, 6, 3, 16, 30, tzinfo=SHANGHAI)
    assert episode.patient.id == "P-002311"
    assert [(c.code, c.system) for c in episode.procedures] == [("99.2501", CodeSystem.ICD_9_CM_3)]
    assert episode.institution.id == "H-PZH-ZXYY"  # from the supplement


def test_charges_map_id_category_item_code_and_setting() -> None:
    episode = records_to_episode(records(), "panzhihua")
    by_id = {c.id: c for c in episode.charges}
    assert list(by_id) == ["OP-01", "OP-02", "DC-01", "DC-02", "DC-03", "DC-04"]
    lab = by_id["OP-01"]
    assert lab.setting is Setting.OUTPATIENT  # another mdtrt_id
    assert lab.category is Category.LAB_TEST  # med_chrgitm_type 04
    assert lab.item_code == "X040001"  # med_list_codg
    assert lab.related is True  # from supplement.charges
    drug = by_id["DC-02"]
    assert drug.setting is Setting.DAY_CARE
    assert drug.category is Category.WESTERN_DRUG
    assert drug.amount == Decimal("3862.50")
    assert drug.route == "intravenous"


def test_rows_after_the_conversion_are_booked_to_the_ward() -> None:
    data = records()
    data["supplement"]["conversion"] = {"at": "2025-06-03T10:00:00", "ward": "W-ONC"}
    episode = records_to_episode(data, "panzhihua")
    settings = {c.id: c.setting for c in episode.charges}
    assert settings["DC-01"] is Setting.DAY_CARE  # 08:10, before
    assert settings["DC-04"] is Setting.DAY_CARE  # 09:00, before
    row(data, "DC-03")["fee_ocur_time"] = "2025-06-03 10:00:00"
    converted = {c.id: c.setting for c in records_to_episode(data, "panzhihua").charges}
    assert converted["DC-03"] is Setting.INPATIENT  # at the conversion: the ward's


def test_principal_diagnosis_first_then_by_sort_number_tcm_as_tcd() -> None:
    data = records()
    data["diseinfo"] = [
        {"diag_type": "3", "maindiag_flag": "0", "diag_srt_no": 3, "diag_code": "B02.03.01"},
        {"diag_type": "1", "maindiag_flag": "0", "diag_srt_no": "2", "diag_code": "I10.x00"},
        {"diag_type": "1", "maindiag_flag": "1", "diag_srt_no": 1, "diag_code": "C50.901"},
        {"diag_type": "2", "maindiag_flag": "0", "diag_srt_no": 4, "diag_code": "BNV010"},
    ]
    episode = records_to_episode(data, "panzhihua")
    assert [(d.code, d.system) for d in episode.diagnoses] == [
        ("C50.901", CodeSystem.ICD_10),
        ("I10.x00", CodeSystem.ICD_10),
        ("B02.03.01", CodeSystem.TCD),
        ("BNV010", CodeSystem.TCD),
    ]


def test_exactly_one_principal_diagnosis() -> None:
    data = records()
    data["diseinfo"][0]["maindiag_flag"] = "0"
    assert "diseinfo" in paths(refused(data))


def test_fields_the_engine_does_not_read_are_accepted() -> None:
    data = records()
    data["mdtrtinfo"]["coner_name"] = "张三"
    data["feedetail"][0]["drord_no"] = "ORD-1"
    assert records_to_episode(data, "panzhihua").episode_id == "PZH-DC-2025-0004"


def test_the_supplement_refuses_unknown_keys() -> None:
    data = records()
    data["supplement"]["tier"] = 3
    error = invalid(data)
    assert paths(error) == ["supplement.tier"]


# --- refunds --------------------------------------------------------------------------------


def test_partial_refund_nets_into_the_original() -> None:
    episode = records_to_episode(records(), "panzhihua")  # DC-04: 3 × 19.30, 1 refunded
    charge = next(c for c in episode.charges if c.id == "DC-04")
    assert charge.amount == Decimal("38.60")
    assert charge.quantity == Decimal("2")
    assert "DC-04-R1" not in {c.id for c in episode.charges}


def test_full_refund_leaves_a_zero_charge_settled_once() -> None:
    data = records()
    refund(data, "DC-03", "DC-03-R1", "-1", "-64.00")
    episode = records_to_episode(data, "panzhihua")
    charge = next(c for c in episode.charges if c.id == "DC-03")
    assert charge.amount == Decimal("0.00")
    result = settle_records(data, "panzhihua")
    assert [line.charge_id for line in result.lines].count("DC-03") == 1
    assert "DC-03-R1" not in {line.charge_id for line in result.lines}


def test_two_refunds_of_one_row_both_net() -> None:
    data = records()
    refund(data, "DC-04", "DC-04-R2", "-1", "-19.30")
    charge = next(c for c in records_to_episode(data, "panzhihua").charges if c.id == "DC-04")
    assert charge.amount == Decimal("19.30")
    assert charge.quantity == Decimal("1")


def test_refund_before_its_original_in_the_list_still_nets() -> None:
    data = records()
    data["feedetail"].reverse()
    charge = next(c for c in records_to_episode(data, "panzhihua").charges if c.id == "DC-04")
    assert charge.amount == Decimal("38.60")


def test_refund_of_an_unknown_row_is_refused() -> None:
    data = records()
    refund(data, "DC-03", "X-R1", "-1", "-64.00")["init_feedetl_sn"] = "NO-SUCH-ROW"
    error = refused(data)
    assert paths(error) == ["feedetail[7].init_feedetl_sn"]
    assert "NO-SUCH-ROW" in error.message


def test_refunding_more_than_was_charged_is_refused() -> None:
    data = records()
    refund(data, "DC-04", "DC-04-R2", "-2", "-38.61")
    error = refused(data)
    assert paths(error) == ["feedetail[7].init_feedetl_sn"]
    assert "refunds more than" in error.message


def test_refunding_more_units_than_were_charged_is_refused() -> None:
    data = records()
    refund(data, "DC-04", "DC-04-R2", "-3", "-0.00")
    assert paths(refused(data)) == ["feedetail[7].init_feedetl_sn"]


def test_refund_of_a_refund_is_refused() -> None:
    data = records()
    refund(data, "DC-04", "DC-04-R2", "-1", "-1.00")["init_feedetl_sn"] = "DC-04-R1"
    error = refused(data)
    assert paths(error) == ["feedetail[7].init_feedetl_sn"]
    assert "itself a refund" in error.message


def test_negative_count_without_an_original_is_refused() -> None:
    data = records()
    refund(data, "DC-03", "X-R1", "-1", "-64.00")["init_feedetl_sn"] = ""
    assert paths(refused(data)) == ["feedetail[7].cnt"]


def test_an_original_named_on_a_positive_row_is_refused() -> None:
    data = records()
    refund(data, "DC-03", "X-R1", "1", "64.00")
    assert paths(refused(data)) == ["feedetail[7].cnt"]


def test_refund_of_another_item_is_refused() -> None:
    data = records()
    refund(data, "DC-03", "X-R1", "-1", "-1.00")["med_list_codg"] = "OTHER"
    assert paths(refused(data)) == ["feedetail[7].med_list_codg"]


def test_repeated_feedetl_sn_is_refused() -> None:
    data = records()
    data["feedetail"].append(dict(row(data, "DC-03")))
    assert "feedetail[7].feedetl_sn" in paths(refused(data))


# --- codes, numbers, times ------------------------------------------------------------------


def test_unknown_med_type_names_the_field() -> None:
    data = records()
    data["mdtrtinfo"]["med_type"] = "21"
    error = refused(data)
    assert paths(error) == ["mdtrtinfo.med_type"]
    assert "'21'" in error.message
    assert "2801 (day_chemo)" in error.message


def test_a_policy_without_a_platform_section_cannot_settle_records() -> None:
    policy = resolve_policy("panzhihua", on=dt.date(2025, 6, 3))
    bare = type(policy)(
        rules=policy.rules.model_copy(update={"platform": None}),
        file=policy.file,
        sha256=policy.sha256,
        files=policy.files,
        catalogues=policy.catalogues,
        disease_tables=policy.disease_tables,
    )
    with pytest.raises(PlatformNotConfigured) as caught:
        records_to_episode(records(), bare)
    assert caught.value.code == "platform_not_configured"
    assert isinstance(caught.value, DaycareSettleError)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("det_item_fee_sumamt", "45.001"),  # (16,2)
        ("cnt", "1.00001"),  # (16,4)
        ("pric", "45.0000001"),  # (16,6)
        ("det_item_fee_sumamt", Decimal("45.001")),  # a JSON number
        ("det_item_fee_sumamt", 45.0),  # a float
        ("pric", "-45.00"),
        ("det_item_fee_sumamt", "100000000000000.00"),  # 15 integer digits
        ("det_item_fee_sumamt", Decimal("1E+999999999999999999")),  # no overflow: refused
    ],
)
def test_numbers_past_the_platform_precision_are_refused_not_rounded(
    field: str, value: object
) -> None:
    data = records()
    row(data, "DC-01")[field] = value
    error = invalid(data)
    assert paths(error) == [f"feedetail[2].{field}"]


def test_trailing_zeros_within_precision_are_accepted() -> None:
    data = records()
    row(data, "DC-01")["det_item_fee_sumamt"] = "45.0000"
    row(data, "DC-01")["pric"] = Decimal("45.000000")
    charge = next(c for c in records_to_episode(data, "panzhihua").charges if c.id == "DC-01")
    assert charge.amount == Decimal("45.00")


@pytest.mark.parametrize(
    "value",
    ["2025-06-03T08:10:00", "2025-06-03 08:10", "2025/06/03 08:10:00", "2025-06-31 08:10:00", 1],
)
def test_a_time_not_in_platform_form_is_refused(value: object) -> None:
    data = records()
    row(data, "DC-01")["fee_ocur_time"] = value
    error = invalid(data)
    assert paths(error) == ["feedetail[2].fee_ocur_time"]


def test_a_zero_with_an_exponent_reads_as_zero_to_the_fen() -> None:
    data = records()
    row(data, "DC-01")["det_item_fee_sumamt"] = Decimal("0E+999999999999999999")
    charge = next(c for c in records_to_episode(data, "panzhihua").charges if c.id == "DC-01")
    assert str(charge.amount) == "0.00"


def test_malformed_json_is_a_library_error() -> None:
    with pytest.raises(InvalidPlatformRecords) as caught:
        parse_records(b"{not json")
    assert "malformed JSON" in caught.value.message


def test_an_inconsistent_episode_is_refused_with_its_path() -> None:
    data = records()
    data["dscginfo"]["endtime"] = "2025-06-03 07:00:00"  # before begntime
    assert "(episode) discharged_at" in paths(refused(data))


# --- one bad row is reported once -----------------------------------------------------------


@pytest.mark.parametrize("block", ["diseinfo", "feedetail"])
def test_a_list_whose_every_row_is_bad_is_refused_for_its_rows_only(block: str) -> None:
    data = records()
    data[block] = data[block][:1]
    field = "diag_srt_no" if block == "diseinfo" else "cnt"
    data[block][0][field] = "x"
    error = invalid(data)
    assert paths(error) == [f"{block}[0].{field}"]
    assert "at least 1 item" not in error.message
    assert error.message.count(f"{block}[0].{field}") == 1


@pytest.mark.parametrize("block", ["diseinfo", "feedetail"])
def test_an_empty_list_is_refused_once_by_name(block: str) -> None:
    data = records()
    data[block] = []
    error = invalid(data)
    assert [(p.path, p.message) for p in error.problems] == [(block, "must list at least one item")]


# --- diag_srt_no and the schema -------------------------------------------------------------


def _model_accepts(data: Any) -> bool:
    try:
        parse_records(json.dumps(data, default=str))
    except InvalidPlatformRecords:
        return False
    return True


def _schema_accepts(data: Any) -> bool:
    return PLATFORM_SCHEMA.is_valid(json.loads(json.dumps(data, default=str)))


PLATFORM_SCHEMA = Draft202012Validator(json_schema("platform"))


@pytest.mark.parametrize(
    ("value", "accepted"),
    [
        (0, True),
        (99, True),
        ("2", True),
        ("0099", True),
        ("00", True),
        (100, False),
        (-1, False),
        ("100", False),
        ("0100", False),
        ("00099", False),
        ("-1", False),
        ("２", False),
        (" 2", False),
        (True, False),
        (None, False),
    ],
)
def test_diag_srt_no_is_0_to_99_in_the_model_and_the_schema(value: object, accepted: bool) -> None:
    data = records()
    principal = next(d for d in data["diseinfo"] if d["maindiag_flag"] == "1")
    principal["diag_srt_no"] = value
    assert _model_accepts(data) is accepted
    assert _schema_accepts(data) is accepted


@pytest.mark.parametrize(
    ("value", "accepted"),
    [
        ("1900-01-01 00:00:00", True),
        ("2999-12-31 23:59:59", True),
        ("2025-06-03 08:10:00", True),
        ("1899-12-31 23:59:59", False),
        ("3000-01-01 00:00:00", False),
        ("0000-01-01 08:00:00", False),
        ("9999-06-03 08:10:00", False),
        ("2025-13-03 08:10:00", False),
        ("2025-06-00 08:10:00", False),
        ("2025-06-32 08:10:00", False),
        ("2025-06-03 24:00:00", False),
        ("2025-06-03 08:60:00", False),
        ("2025-06-03 08:10:60", False),
    ],
)
def test_a_platform_time_lies_in_the_calendar_in_the_model_and_the_schema(
    value: str, accepted: bool
) -> None:
    data = records()
    data["mdtrtinfo"]["begntime"] = value
    assert _model_accepts(data) is accepted
    assert _schema_accepts(data) is accepted


@pytest.mark.parametrize(
    ("field", "value", "accepted"),
    [
        ("det_item_fee_sumamt", 10**14 - 1, True),
        ("det_item_fee_sumamt", -(10**14) + 1, True),
        ("det_item_fee_sumamt", 10**14, False),
        ("det_item_fee_sumamt", -(10**14), False),
        ("cnt", 999999999999, True),
        ("cnt", 10**12, False),
        ("pric", 0, True),
        ("pric", 10**10, False),
        ("pric", -1, False),
    ],
)
def test_a_platform_number_as_a_json_number_is_bounded_in_the_model_and_the_schema(
    field: str, value: object, accepted: bool
) -> None:
    data = records()
    row(data, "DC-01")[field] = value
    assert _schema_accepts(data) is accepted
    assert _model_accepts(data) is accepted


def test_supplement_charges_are_keyed_by_identifiers_in_the_schema() -> None:
    data = records()
    data["supplement"]["charges"][" DC-02"] = {"related": True}
    assert not _schema_accepts(data)
    assert not _model_accepts(data)
