"""The merge windows as values: the result's ``windows`` block records, per side, the span
the engine fixed for the episode (instants with offset), so that no consumer reads them
out of the trace text."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from daycare_settle import settle
from daycare_settle.engine import merge
from daycare_settle.models.common import SHANGHAI
from tests.builders import EXAMPLES, session

CHOLECYSTECTOMY = EXAMPLES / "panzhihua" / "day-surgery-cholecystectomy-preop-exams.json"


def test_pzh_7_the_result_records_the_calendar_day_windows_as_instants() -> None:
    text = CHOLECYSTECTOMY.read_text(encoding="utf-8")
    result = settle(text, "panzhihua")
    assert result.windows is not None
    pre, post = result.windows.pre_admission, result.windows.post_discharge
    assert pre is not None
    assert post is not None
    assert (pre.basis, pre.first_day, pre.last_day) == ("calendar_days", "2025-03-05", None)
    assert pre.start == "2025-03-05T00:00:00+08:00"
    assert pre.end == json.loads(text)["admitted_at"]
    assert (post.basis, post.first_day, post.last_day) == ("calendar_days", None, "2025-03-20")
    assert post.start == json.loads(text)["discharged_at"]
    assert post.end == "2025-03-21T00:00:00+08:00"  # through 2025-03-20
    assert pre.applied
    assert post.applied
    dumped = json.loads(result.to_json())["windows"]
    assert dumped["pre_admission"]["start"] == "2025-03-05T00:00:00+08:00"


def test_a_window_a_conversion_drops_is_recorded_as_not_applied() -> None:
    path = next(EXAMPLES.glob("*/day-surgery-converted-to-ward.json"))
    result = settle(path.read_text(encoding="utf-8"), path.parent.name)
    assert result.windows is not None
    assert result.windows.pre_admission is not None
    assert result.windows.pre_admission.applied
    assert result.windows.post_discharge is not None
    assert not result.windows.post_discharge.applied


def test_a_clinical_pathway_window_without_a_first_visit_has_no_start() -> None:
    path = next(EXAMPLES.glob("*/day-surgery-cataract-no-first-visit.json"))
    result = settle(path.read_text(encoding="utf-8"), path.parent.name)
    assert result.windows is not None
    pre = result.windows.pre_admission
    assert pre is not None
    assert (pre.basis, pre.start) == ("clinical_pathway", None)


def test_a_programme_the_policy_does_not_cover_records_no_windows() -> None:
    data = json.loads(CHOLECYSTECTOMY.read_text(encoding="utf-8"))
    data["programme"] = "oncology_day_ward"
    data["sessions"] = [session(data["admitted_at"], data["discharged_at"])]
    result = settle(data, "panzhihua")
    assert result.status == "rejected"
    assert result.windows is None


def test_pzh_7_a_calendar_day_window_holds_its_days_to_the_microsecond_in_any_zone() -> None:
    """The window's first and last days are Asia/Shanghai days, whatever zone a charge's
    time is written in: 00:00 of the first day is in, a microsecond before it is out; the
    last microsecond of the last day is in, 00:00 of the next day is out."""
    episode = json.loads(CHOLECYSTECTOMY.read_text(encoding="utf-8"))
    edges = {
        "first-day-start": ("2025-03-04T16:00:00+00:00", "outpatient"),
        "day-before-end": ("2025-03-04T15:59:59.999999+00:00", "outpatient"),
        "last-day-end": ("2025-03-20T15:59:59.999999+00:00", "post_discharge"),
        "day-after-start": ("2025-03-20T16:00:00+00:00", "post_discharge"),
        "last-day-noon-local": ("2025-03-20T12:00:00+08:00", "outpatient"),
    }
    episode["charges"] = [
        {
            "id": name,
            "at": when,
            "setting": setting,
            "category": "examination",
            "amount": "10.00",
            "related": True,
        }
        for name, (when, setting) in edges.items()
    ]
    reasons = {line.charge_id: line.reason for line in settle(episode, "panzhihua").lines}
    assert reasons == {
        "first-day-start": "MERGED_PRE_ADMISSION",
        "day-before-end": "NOT_MERGED_OUTSIDE_WINDOW",
        "last-day-end": "MERGED_POST_DISCHARGE",
        "day-after-start": "NOT_MERGED_OUTSIDE_WINDOW",
        "last-day-noon-local": "MERGED_POST_DISCHARGE",
    }


@pytest.mark.parametrize(
    "day", [dt.date(1900, 1, 1), dt.date(2024, 2, 29), dt.date(2025, 3, 5), dt.date(2999, 12, 31)]
)
def test_a_calendar_day_edge_is_written_as_its_midnight_in_shanghai(day: dt.date) -> None:
    """The window records write a day's 00:00 as the day's text and a fixed suffix: the
    text ``isoformat`` gives the instant."""
    midnight = dt.datetime.combine(day, dt.time(), SHANGHAI)
    assert day.isoformat() + merge._MIDNIGHT_TEXT == midnight.isoformat()
