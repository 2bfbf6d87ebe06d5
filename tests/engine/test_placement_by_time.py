"""Generic placement by time, not booking (docs/settings.md), conversion modes and the policy
window flag, on the synthetic day-ward rule file (no city)."""

from __future__ import annotations

from pathlib import Path

import pytest

from daycare_settle import PolicyLoadError, settle
from daycare_settle.policy.loader import load_policy_file
from tests.engine.day_ward_policy import RULES, episode, policy, t

SESSIONS = [(2, 9, 12, "chemotherapy"), (9, 9, 12, "chemotherapy")]


def _outpatient(
    cid: str, day: int, hour: float, category: str, **extra: object
) -> dict[str, object]:
    return {
        "id": cid,
        "at": t(day, hour),
        "setting": "outpatient",
        "category": category,
        "amount": "10.00",
        **extra,
    }


def _with(ep_charges: list[dict[str, object]], **fields: object) -> dict[str, object]:
    base = episode(SESSIONS, [("c", 2, 10, "treatment", "10.00")], **fields)
    data = base.model_dump(mode="json")
    data["charges"] += ep_charges
    return data


def test_outpatient_booking_between_sessions_is_judged_like_day_care(tmp_path: Path) -> None:
    result = settle(
        _with([_outpatient("inf", 5, 10, "treatment"), _outpatient("lab", 5, 10, "lab_test")]),
        policy(tmp_path),
    )
    lines = {ln.charge_id: ln for ln in result.lines}
    assert lines["inf"].reason == "BETWEEN_SESSIONS_NOT_ALLOWED"
    assert lines["inf"].disposition.value == "disallowed"
    # allowed between sessions, but the during_stay rule is none: it stays an outpatient cost
    assert lines["lab"].reason == "OUTPATIENT_CHARGE_DURING_STAY"


def test_outpatient_booking_after_discharge_is_a_post_discharge_candidate(tmp_path: Path) -> None:
    result = settle(_with([_outpatient("late", 21, 10, "treatment")]), policy(tmp_path))
    assert result.lines[-1].reason == "NOT_MERGED_NO_POST_DISCHARGE_MERGE"


def test_outpatient_booking_exactly_at_discharge_belongs_to_the_stay(tmp_path: Path) -> None:
    result = settle(_with([_outpatient("edge", 20, 23, "lab_test")]), policy(tmp_path))
    assert result.lines[-1].reason == "OUTPATIENT_CHARGE_DURING_STAY"


def test_requires_related_withholds_the_exception(tmp_path: Path) -> None:
    text = RULES.replace("      requires_related: false\n", "      requires_related: true\n")
    related = _outpatient("lab", 5, 10, "lab_test", related=True)
    unrelated = {**_outpatient("lab2", 5, 10, "lab_test"), "setting": "day_care"}
    result = settle(_with([related, unrelated]), policy(tmp_path, text=text))
    lines = {ln.charge_id: ln for ln in result.lines}
    assert lines["lab"].reason == "OUTPATIENT_CHARGE_DURING_STAY"
    assert lines["lab2"].reason == "BETWEEN_SESSIONS_NOT_ALLOWED"


def test_separate_conversion_leaves_the_ward_part_to_another_settlement(tmp_path: Path) -> None:
    text = RULES.replace(
        "mode: merged, agency: drg,\n                 counts_toward_annual_inpatient_cap: true}",
        "mode: separate}",
    )
    assert text != RULES
    ward = {"id": "w", "at": t(12, 9), "setting": "inpatient", "category": "bed", "amount": "9.00"}
    moment = {
        "id": "m",
        "at": t(10, 8),
        "setting": "day_care",
        "category": "treatment",
        "amount": "5.00",
    }
    data = _with([ward, moment], conversion={"at": t(10, 8), "ward": "w3"})
    result = settle(data, policy(tmp_path, text=text))
    lines = {ln.charge_id: ln for ln in result.lines}
    assert result.settled_as == "day_care"
    assert result.conversion is not None
    assert result.conversion.mode == "separate"
    assert lines["w"].reason == lines["m"].reason == "WARD_STAY_SETTLED_SEPARATELY"
    assert lines["c"].reason == "IN_STAY"
    merged = settle(data, policy(tmp_path))
    assert merged.settled_as == "ordinary_inpatient"
    assert merged.conversion is not None
    assert merged.conversion.mode == "merged"
    assert {ln.charge_id: ln.reason for ln in merged.lines}["w"] == "IN_WARD_AFTER_CONVERSION"


@pytest.mark.parametrize(
    ("conversion", "message"),
    [
        ("{kind: ordinary_inpatient, source: c, mode: merged}", "needs agency"),
        (
            "{kind: ordinary_inpatient, source: c, agency: drg, "
            "counts_toward_annual_inpatient_cap: true}",
            "mode",
        ),
    ],
)
def test_conversion_mode_and_terms_checked_at_load(
    tmp_path: Path, conversion: str, message: str
) -> None:
    start = RULES.index("    conversion:")
    end = RULES.index("    between_sessions:")
    text = RULES[:start] + f"    conversion: {conversion}\n" + RULES[end:]
    path = tmp_path / "bad.yaml"
    path.write_text(text.replace("EXEMPT", "false"), encoding="utf-8")
    with pytest.raises(PolicyLoadError, match=message):
        load_policy_file(path)


def test_sessions_after_the_policy_end_flagged_generically(tmp_path: Path) -> None:
    text = RULES.replace(
        "  effective_from: 2020-01-01\n",
        "  effective_from: 2020-01-01\n  effective_until: 2021-03-05\n  source: c\n",
    )
    result = settle(_with([]), policy(tmp_path, text=text))
    late = next(f for f in result.flags if f.code == "SESSIONS_AFTER_POLICY_END")
    assert "2021-03-09T09:00:00+08:00" in late.message
    assert "2021-03-02T09" not in late.message
    assert late.citation is not None
    assert late.citation.clause == "1"
