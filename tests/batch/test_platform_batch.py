"""Batch settlement of platform record sets (``source="platform"``, ``batch --from
platform``): one record per non-blank line, the same bytes as settling each record set
alone; bad record sets become error records."""

from __future__ import annotations

import json
from pathlib import Path

import dask.bag as db
import pytest

from daycare_settle import DaycareSettleError
from daycare_settle.batch import BatchRecord, settle_many
from daycare_settle.cli import main
from daycare_settle.dask import policy_fingerprint, results_bag, settle_files, settle_partition
from daycare_settle.platform import settle_records
from tests.batch.conftest import expected_lines
from tests.builders import EXAMPLES

RECORDS = EXAMPLES / "platform" / "panzhihua" / "day-chemo-breast-cancer.json"


def record_lines() -> list[str]:
    """A good record set, a blank line, malformed JSON, records missing their blocks, the
    good one again with another visit id, and records with a med_type the policy lacks."""
    good = json.loads(RECORDS.read_text(encoding="utf-8"))
    other = json.loads(json.dumps(good))
    other["dscginfo"]["mdtrt_id"] = "MDTRT-OTHER"
    unknown = json.loads(json.dumps(good))
    unknown["mdtrtinfo"]["med_type"] = "9999"
    return [
        json.dumps(good, ensure_ascii=False),
        "   ",
        "{not json",
        '{"mdtrtinfo": {}}',
        json.dumps(other, ensure_ascii=False),
        json.dumps(unknown, ensure_ascii=False),
    ]


def expected(lines: list[str]) -> list[str]:
    """What settling each line alone gives: the canonical JSON, or an error record."""
    return expected_lines(lines, lambda line: settle_records(line, policy="panzhihua"))


@pytest.mark.parametrize("workers", [1, 2])
def test_each_record_set_settles_as_alone_and_bad_ones_are_error_records(workers: int) -> None:
    lines = record_lines()
    records = list(settle_many(lines, "panzhihua", workers=workers, source="platform"))
    assert [r.to_json() for r in records] == expected(lines)
    assert [r.line for r in records] == [1, 3, 4, 5, 6]
    assert [r.code for r in records] == [
        None,
        "invalid_platform_records",
        "invalid_platform_records",
        None,
        "invalid_platform_records",
    ]
    assert json.loads(records[3].text)["episode_id"] == "MDTRT-OTHER"


def test_a_record_set_read_as_an_episode_is_an_error_record() -> None:
    (record,) = settle_many(record_lines()[:1], "panzhihua", workers=1)
    assert (record.status, record.code) == ("error", "invalid_episode")


def test_an_unknown_input_format_raises_before_reading() -> None:
    with pytest.raises(DaycareSettleError, match="unknown input format 'hl7'"):
        next(settle_many(record_lines(), "panzhihua", workers=1, source="hl7"))  # type: ignore[arg-type]


def test_command_from_platform_writes_one_line_per_record_set(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    lines = record_lines()
    source, out = tmp_path / "records.jsonl", tmp_path / "out.jsonl"
    source.write_text("\n".join(lines) + "\n", encoding="utf-8")
    argv = ["batch", str(source), "--policy", "panzhihua", "--from", "platform"]
    assert main([*argv, "--out", str(out), "--workers", "1"]) == 1  # some were errors
    assert out.read_text(encoding="utf-8").splitlines() == expected(lines)
    assert "5 episodes: 2 settled, 0 rejected, 3 errors" in capsys.readouterr().err


def test_a_partition_of_record_sets_settles_as_one_process_does() -> None:
    # what a Dask worker runs (tests/batch/test_dask.py runs it on a cluster)
    lines = record_lines()
    [(count, raws)] = settle_partition(
        lines, "panzhihua", policy_fingerprint("panzhihua"), "platform"
    )
    assert count == len(lines)
    assert [BatchRecord.from_raw(raw).to_json() for raw in raws] == expected(lines)


def test_an_unknown_format_is_refused_before_any_task(tmp_path: Path) -> None:
    with pytest.raises(DaycareSettleError, match="unknown input format 'hl7'"):
        results_bag(db.from_sequence(record_lines()), "panzhihua", source="hl7")  # type: ignore[arg-type]
    with pytest.raises(DaycareSettleError, match="unknown input format 'hl7'"):
        next(settle_files([tmp_path / "none.jsonl"], "panzhihua", source="hl7"))  # type: ignore[arg-type]
