"""Audit flag kinds (``audit`` of a programme): each finding is a flag citing its rule's
clause; the checks read the placements and never change them."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from pydantic import ValidationError

from daycare_settle.codes import LineReason
from daycare_settle.engine.audit import run_audit
from daycare_settle.engine.findings import Findings
from daycare_settle.engine.lines import Placement, disallowed, included, not_merged
from daycare_settle.engine.settle import parse_episode
from daycare_settle.policy.registry import resolve_policy
from daycare_settle.policy.schema import (
    ConsumablesShare,
    DuplicateCharges,
    ProgrammeRules,
    RelatedOutsideWindows,
)
from tests.builders import at, charge, episode

POLICY = resolve_policy("panzhihua", on=dt.date(2025, 3, 10))


def audit(rules: list[Any], charges: list[dict[str, Any]], placements: list[Placement]) -> Any:
    findings = Findings()
    parsed = parse_episode(episode(charges=charges))
    before = list(placements)
    run_audit(parsed, POLICY, tuple(rules), placements, findings)
    assert placements == before  # read, never changed
    return findings.flags


def test_duplicates_grouped_by_category_time_amount_and_institution() -> None:
    rule = DuplicateCharges(kind="duplicate_charges", source="art11")
    charges = [
        charge("a", at(1)),
        charge("b", at(1)),
        charge("c", at(1), institution_id="H-OTHER"),  # another institution
        charge("d", at(1), amount="100.01"),  # another amount
        charge("e", at(2)),
        charge("f", at(2)),
    ]
    flags = audit([rule], charges, [included(Decimal("100.00"), "IN_STAY", None)] * 6)
    assert [f.charge_ids for f in flags] == [("a", "b"), ("e", "f")]
    assert flags[0].citation.clause == "第十一条"
    assert type(flags[0].code) is str  # the plain text, as every other flag stores its code


def test_duplicate_groups_come_in_the_order_of_their_first_charge_with_its_text() -> None:
    """Groups are flagged in the order of their first charge (not of their second), and a
    group's message writes its first charge's time, as given (an equal instant written in
    another zone repeats it)."""
    rule = DuplicateCharges(kind="duplicate_charges", source="art11")
    utc = (dt.datetime(2025, 3, 10, 8, 0) + dt.timedelta(hours=1, minutes=-480)).isoformat()
    charges = [
        charge("a", at(2)),
        charge("b", at(1)),
        charge("c", at(1)),
        charge("d", f"{utc}+00:00"),  # the instant of "b" and "c", written in UTC
        charge("e", at(2)),
    ]
    flags = audit([rule], charges, [included(Decimal("100.00"), "IN_STAY", None)] * 5)
    assert [f.charge_ids for f in flags] == [("a", "e"), ("b", "c", "d")]
    assert "at 2025-03-10T09:00:00+08:00 look" in flags[1].message
    assert flags[1].message.startswith("3 surgery charges of 100.00 each")


def test_no_duplicates_no_flag() -> None:
    rule = DuplicateCharges(kind="duplicate_charges", source="art11")
    charges = [charge("a", at(1)), charge("b", at(2))]
    assert audit([rule], charges, [included(Decimal("100.00"), "IN_STAY", None)] * 2) == []


def test_related_outside_windows_only_related_and_outside() -> None:
    rule = RelatedOutsideWindows(kind="related_outside_windows", source="art11")
    charges = [
        charge("a", at(-50), "outpatient", "examination", related=True),
        charge("b", at(-50), "outpatient", "examination"),
        charge("c", at(-2), "outpatient", "examination", related=True),
    ]
    outside = not_merged(LineReason.NOT_MERGED_OUTSIDE_WINDOW, None)
    other = not_merged(LineReason.NOT_MERGED_OTHER_INSTITUTION, None)
    [found] = audit([rule], charges, [outside, outside, other])
    assert found.charge_ids == ("a",)
    assert type(found.code) is str
    assert audit([rule], charges, [other, outside, other]) == []


def test_consumables_share_counts_included_amounts_only() -> None:
    rule = ConsumablesShare(
        kind="consumables_share", source="art12", category="medical_material", max_share="0.5"
    )
    charges = [
        charge("s", at(1), amount="100.00"),
        charge("m", at(1), category="medical_material", amount="100.00"),
        charge("x", at(1), category="medical_material", amount="900.00"),
    ]
    kept = [
        included(Decimal("100.00"), "IN_STAY", None),
        included(Decimal("100.00"), "IN_STAY", None),
    ]
    # the disallowed 900.00 is not counted: 100 of 200 is not more than 0.5
    assert audit([rule], charges, [*kept, disallowed("FEE_CAPPED", None)]) == []
    [found] = audit([rule], charges, [*kept, included(Decimal("900.00"), "IN_STAY", None)])
    assert found.charge_ids == ("m", "x")
    assert found.citation.clause == "第十二条"
    assert type(found.code) is str


def test_consumables_share_silent_when_nothing_included() -> None:
    rule = ConsumablesShare(
        kind="consumables_share", source="art12", category="medical_material", max_share="0.4"
    )
    charges = [charge("m", at(1), category="medical_material")]
    assert audit([rule], charges, [disallowed("FEE_CAPPED", None)]) == []


@pytest.mark.parametrize("share", ["0", "1", "1.5"])
def test_consumables_share_must_be_a_share(share: str) -> None:
    with pytest.raises(ValidationError, match="max_share must be above 0 and below 1"):
        ConsumablesShare(
            kind="consumables_share", source="art12", category="western_drug", max_share=share
        )


def test_audit_rules_need_a_source_and_know_no_extra_keys() -> None:
    with pytest.raises(ValidationError, match="source"):
        DuplicateCharges.model_validate({"kind": "duplicate_charges"})
    with pytest.raises(ValidationError, match="extra"):
        DuplicateCharges.model_validate(
            {"kind": "duplicate_charges", "source": "art11", "item_code": True}
        )


def test_unknown_audit_kind_is_refused() -> None:
    rules = POLICY.rules.programmes
    data = next(iter(rules.values())).model_dump(mode="json")
    data["audit"] = [{"kind": "no_such_check", "source": "art11"}]
    with pytest.raises(ValidationError, match="no_such_check"):
        ProgrammeRules.model_validate(data)
