"""Regressions found by the policy kit: exact time-limit boundaries and outside charges
dated on the wrong side of the stay."""

from __future__ import annotations

import pytest

from daycare_settle import settle
from tests.builders import at, charge, episode, line


@pytest.mark.parametrize(
    ("discharged", "reason", "status"),
    [
        ("2025-03-11T08:00:00", None, "within"),  # exactly 24 h
        ("2025-03-11T08:00:00.000001", None, "exceeded"),  # 24 h and a microsecond
        ("2025-03-11T08:00:00.900000", "observation", "extended"),
        ("2025-03-12T08:00:00", "observation", "extended"),  # exactly 48 h
        ("2025-03-12T08:00:00.500000", "observation", "exceeded"),
    ],
)
def test_pzh_3_limits_are_judged_on_the_exact_stay(
    discharged: str, reason: str | None, status: str
) -> None:
    result = settle(episode(discharged_at=discharged, extension_reason=reason), "panzhihua")
    assert result.time_limit.status.value == status
    assert (result.status == "rejected") == (status == "exceeded")


def test_a_post_discharge_charge_dated_before_discharge_does_not_merge() -> None:
    early = charge("pd", at(-24 * 400), "post_discharge", "treatment", related=True)
    during = charge("pd2", at(3), "post_discharge", "treatment", related=True)
    after = charge("pd3", at(30), "post_discharge", "treatment", related=True)
    result = settle(episode(charges=[charge("c1", at(1)), early, during, after]), "panzhihua")
    assert line(result, "pd").reason == "POST_DISCHARGE_CHARGE_BEFORE_DISCHARGE"
    assert line(result, "pd2").reason == "POST_DISCHARGE_CHARGE_BEFORE_DISCHARGE"
    assert line(result, "pd3").reason == "MERGED_POST_DISCHARGE"
    assert result.totals.merged_post_discharge == line(result, "pd3").amount
