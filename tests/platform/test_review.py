"""The platform review (3101 shape and per-row dispositions) of a settlement: every charge
exactly once, amounts reconciling to the settlement's totals, rejections and flags as result
entries with their clause and the ``feedetl_sn`` they involve, refunds carrying the original
row's disposition, and unknown rows refused."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from daycare_settle import settle
from daycare_settle.engine.settle import parse_episode
from daycare_settle.errors import DaycareSettleError
from daycare_settle.models.settlement import Disposition
from daycare_settle.platform.review import (
    InvalidFeeDetail,
    PlatformReview,
    review_3101,
    review_episode,
)
from tests.builders import at, charge, episode, example_episodes

EXAMPLES = example_episodes()
ZERO = Decimal("0.00")


def _review(path: Path) -> tuple[Any, PlatformReview]:
    parsed = parse_episode(path.read_text(encoding="utf-8"))
    result = settle(parsed, policy=path.parent.name)
    return result, review_3101(result, parsed)


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_every_charge_once_and_totals_reconcile(path: Path) -> None:
    result, review = _review(path)
    assert [row.feedetl_sn for row in review.rows] == [line.charge_id for line in result.lines]
    assert len({row.feedetl_sn for row in review.rows}) == len(review.rows)
    totals = result.totals
    assert sum((row.amount for row in review.rows), ZERO) == totals.input
    by = {d: [row for row in review.rows if row.disposition == d] for d in Disposition}
    assert sum((r.allowed_amount for r in by[Disposition.INCLUDED]), ZERO) == totals.included
    assert sum((r.amount for r in by[Disposition.NOT_MERGED]), ZERO) == totals.not_merged
    assert sum((r.disallowed_amount for r in review.rows), ZERO) == totals.disallowed
    for row in review.rows:
        assert row.reason
        assert row.refund_of is None
        assert row.allowed_amount + row.disallowed_amount <= row.amount


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_result_entries_cover_every_finding(path: Path) -> None:
    result, review = _review(path)
    by_source = {s: [e for e in review.result if e.source == s] for s in ("rejection", "flag")}
    assert [e.rule_id for e in by_source["rejection"]] == [r.code for r in result.rejection_reasons]
    assert [e.rule_id for e in by_source["flag"]] == [f.code for f in result.flags]
    # the disallowed money of the line entries is exactly the disallowed total, unless the
    # episode was rejected (its rejection entries carry the lines)
    lines = sum((e.vola_amt for e in review.result if e.source == "line"), ZERO)
    if result.status == "settled":
        assert lines == result.totals.disallowed
    for entry in review.result:
        assert entry.mdtrt_id == result.episode_id
        assert entry.vola_amt == sum((d.vola_amt for d in entry.judge_result_detail_dtos), ZERO)
        assert entry.vola_cont
        assert any("\u4e00" <= ch <= "\u9fff" for ch in entry.vola_cont)
    assert len({e.jr_id for e in review.result}) == len(review.result)


@pytest.mark.parametrize("path", EXAMPLES[:3], ids=lambda p: p.stem)
def test_review_is_byte_identical_for_the_same_input(path: Path) -> None:
    assert _review(path)[1].to_json() == _review(path)[1].to_json()


def test_pzh_3_2_oral_only_rejection_gives_an_entry_with_its_clause() -> None:
    path = next(p for p in EXAMPLES if p.stem == "day-chemo-oral-only-rejected")
    result, review = _review(path)
    entry = review.result[0]
    assert (entry.source, entry.rule_id, entry.sev_deg) == (
        "rejection",
        "SESSION_ROUTE_EXCLUDED",
        "1",
    )
    assert entry.vola_evid.startswith("攀医保规〔2024〕2号 第三条（二）：")
    assert "不包括单纯口服化学药物治疗" in entry.vola_evid
    assert entry.vola_amt == result.totals.input == Decimal("1240.00")
    assert [(d.feedetl_sn, d.vola_item_type) for d in entry.judge_result_detail_dtos] == [
        ("DC-01", "1")
    ]
    assert entry.patn_id == "P-002377"  # from the episode


def _duplicated() -> dict[str, Any]:
    return episode(
        charges=[
            charge("c-1", at(2), amount="80.00"),
            charge("c-2", at(2), amount="80.00"),
            charge("c-3", at(3), category="western_drug", amount="20.00"),
        ]
    )


def test_pzh_11_duplicate_charges_flag_gives_an_entry_with_feedetl_sn_detail() -> None:
    review = review_episode(_duplicated(), "panzhihua")
    (entry,) = [e for e in review.result if e.rule_id == "DUPLICATE_CHARGES"]
    assert (entry.source, entry.sev_deg, entry.sev_deg_name) == ("flag", "2", "高度可疑")
    assert [
        (d.feedetl_sn, d.vola_amt, d.vola_item_type) for d in entry.judge_result_detail_dtos
    ] == [
        ("c-1", Decimal("80.00"), "2"),
        ("c-2", Decimal("80.00"), "2"),
    ]
    assert entry.vola_amt == Decimal("160.00")
    assert entry.patn_id == "P-1"
    assert entry.judge_result_detail_dtos[0].jrd_id == f"{entry.jr_id}-001"
    assert "攀医保规〔2024〕2号" in entry.vola_evid


def test_flag_without_charges_has_zero_amount_and_no_detail() -> None:
    path = next(p for p in EXAMPLES if p.stem == "day-chemo-breast-cancer")
    _, review = _review(path)
    (entry,) = [e for e in review.result if e.rule_id == "STARTER_CATALOGUE"]
    assert entry.vola_amt == ZERO
    assert entry.judge_result_detail_dtos == ()
    assert entry.sev_deg == "3"


def test_capped_fee_excess_is_a_disallowed_entry() -> None:
    path = next(p for p in EXAMPLES if p.stem == "chemo-lung-tier3-capped-fees")
    result, review = _review(path)
    (entry,) = [e for e in review.result if e.rule_id == "FEE_CAPPED"]
    assert entry.source == "line"
    assert entry.sev_deg == "1"
    assert entry.vola_amt == result.totals.disallowed
    assert all(d.vola_item_type == "1" for d in entry.judge_result_detail_dtos)


def test_refund_rows_carry_the_original_rows_disposition() -> None:
    rows = [
        {"feedetl_sn": "c-1"},
        {"feedetl_sn": "c-2"},
        {"feedetl_sn": "c-3"},
        {"feedetl_sn": "c-3-r1", "init_feedetl_sn": "c-3"},
    ]
    review = review_episode(_duplicated(), "panzhihua", rows)
    assert [row.feedetl_sn for row in review.rows] == ["c-1", "c-2", "c-3", "c-3-r1"]
    original, refund = review.rows[2], review.rows[3]
    assert refund.refund_of == "c-3"
    assert original.refund_of is None
    assert refund.charge_id == original.charge_id == "c-3"
    assert refund.model_dump(exclude={"feedetl_sn", "refund_of"}) == original.model_dump(
        exclude={"feedetl_sn", "refund_of"}
    )


def test_rows_may_be_objects_with_the_fields() -> None:
    class Row:
        def __init__(self, sn: str, init: str | None = None) -> None:
            self.feedetl_sn = sn
            self.init_feedetl_sn = init

    rows = [Row("c-1"), Row("c-2"), Row("c-3"), Row("c-9", "c-1")]
    review = review_episode(_duplicated(), "panzhihua", rows)
    assert review.rows[3].refund_of == "c-1"
    assert review.rows[3].reason == review.rows[0].reason


@pytest.mark.parametrize(
    ("rows", "where"),
    [
        ([{"feedetl_sn": "c-1"}, {"feedetl_sn": "c-2"}, {"feedetl_sn": "nope"}], "rows[2]"),
        (
            [{"feedetl_sn": s} for s in ("c-1", "c-2", "c-3")]
            + [{"feedetl_sn": "r", "init_feedetl_sn": "gone"}],
            "rows[3].init_feedetl_sn",
        ),
        ([{"feedetl_sn": "c-1"}, {"feedetl_sn": "c-2"}], "c-3"),
        ([{"feedetl_sn": s} for s in ("c-1", "c-2", "c-3", "c-1")], "rows[3].feedetl_sn"),
        ([{"feedetl_sn": 1}], "rows[0].feedetl_sn"),
        ([{"init_feedetl_sn": "c-1"}], "rows[0].feedetl_sn"),
        ([{"feedetl_sn": "c-1", "init_feedetl_sn": "c-1"}], "rows[0].init_feedetl_sn"),
        ({"feedetl_sn": "c-1"}, "rows"),
    ],
)
def test_rows_that_do_not_match_the_settlement_are_refused(rows: Any, where: str) -> None:
    with pytest.raises(InvalidFeeDetail) as caught:
        review_episode(_duplicated(), "panzhihua", rows)
    assert isinstance(caught.value, DaycareSettleError)
    assert caught.value.code == "invalid_feedetail"
    assert where in caught.value.message


def test_review_json_has_the_3101_field_names() -> None:
    review = review_episode(_duplicated(), "panzhihua")
    data = json.loads(review.to_json())
    (entry,) = [e for e in data["result"] if e["rule_id"] == "DUPLICATE_CHARGES"]
    for name in (
        "jr_id",
        "rule_id",
        "rule_name",
        "vola_cont",
        "patn_id",
        "mdtrt_id",
        "vola_amt",
        "vola_amt_stas",
        "sev_deg",
        "vola_evid",
        "vola_bhvr_type",
        "task_id",
        "judge_result_detail_dtos",
    ):
        assert name in entry
    detail = entry["judge_result_detail_dtos"][0]
    assert set(detail) >= {
        "jrd_id",
        "patn_id",
        "mdtrt_id",
        "rx_id",
        "feedetl_sn",
        "vola_item_type",
        "vola_amt",
    }
    assert entry["vola_amt"] == "160.00"
