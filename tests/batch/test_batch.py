"""Batch settlement: one record per non-blank line, in input order, the same bytes as
settling each episode alone; bad lines become error records; the command and its summary."""

from __future__ import annotations

import io
import itertools
import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from daycare_settle import UnknownPolicy, load_policy, settle
from daycare_settle.batch import BatchSummary, Progress, settle_many
from daycare_settle.cli import main
from tests.batch.conftest import expected_lines, mixed_lines
from tests.builders import episode


def expected(lines: list[str]) -> list[str]:
    """What settling each line alone gives: the canonical JSON, or an error record."""
    return expected_lines(lines, lambda line: settle(line, policy="panzhihua"))


def test_one_worker_gives_each_episodes_own_settlement(lines: list[str]) -> None:
    records = list(settle_many(lines, "panzhihua", workers=1))
    assert [r.to_json() for r in records] == expected(lines)
    assert [r.line for r in records] == [1, 2, 3, 4, 5, 6, 8, 9, 10, 11, 12]
    assert [r.status for r in records].count("error") == 3
    assert [r.code for r in records if r.code] == [
        "invalid_episode",
        "invalid_episode",
        "policy_not_in_force",
    ]


@pytest.mark.parametrize("chunk_size", [1, 5])
def test_two_workers_give_the_same_bytes_in_input_order(lines: list[str], chunk_size: int) -> None:
    many = lines * 3  # 33 episodes: more chunks than the in-flight window at chunk size 1
    records = list(settle_many(many, "panzhihua", workers=2, chunk_size=chunk_size))
    assert [r.to_json() for r in records] == expected(many)


def test_dicts_bytes_and_a_compiled_policy_are_accepted() -> None:
    items = [episode(episode_id="EP-d"), json.dumps(episode(episode_id="EP-b")).encode()]
    records = list(settle_many(items, load_policy("panzhihua"), workers=1))
    assert [json.loads(r.text)["episode_id"] for r in records] == ["EP-d", "EP-b"]


def test_input_is_read_lazily_so_an_endless_stream_can_be_settled() -> None:
    endless: Iterator[str] = itertools.cycle(mixed_lines()[:6])
    for workers in (1, 2):
        records = settle_many(endless, "panzhihua", workers=workers, chunk_size=2)
        first = list(itertools.islice(records, 7))
        records.close()  # type: ignore[attr-defined]  # stops the pool
        assert [r.line for r in first] == list(range(1, 8))


def test_unknown_policy_raises_before_reading(lines: list[str]) -> None:
    with pytest.raises(UnknownPolicy):
        next(settle_many(lines, "atlantis", workers=2))


def test_summary_counts_statuses_and_sums_dispositions(lines: list[str]) -> None:
    summary = BatchSummary()
    for record in settle_many(lines, "panzhihua", workers=1):
        summary.add(record)
    data = summary.to_dict()
    assert data["episodes"] == 11
    assert data["status"] == {"settled": 7, "rejected": 1, "error": 3}
    assert data["errors_by_code"] == {"invalid_episode": 2, "policy_not_in_force": 1}
    settled = [settle(line, policy="panzhihua") for line in lines[:6] + lines[10:]]
    for name in ("included", "not_merged", "disallowed"):
        total = sum(getattr(s.totals, name) for s in settled)
        assert data["disposition"][name] == str(total)


def write(tmp_path: Path, lines: list[str]) -> Path:
    path = tmp_path / "episodes.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_command_writes_results_and_summary(
    tmp_path: Path, lines: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    source, out, summary = write(tmp_path, lines), tmp_path / "out.jsonl", tmp_path / "sum.json"
    argv = ["batch", str(source), "--policy", "panzhihua", "--out", str(out), "--workers", "2"]
    assert main([*argv, "--summary", str(summary)]) == 1  # some lines were errors
    assert out.read_text(encoding="utf-8").splitlines() == expected(lines)
    assert json.loads(summary.read_text(encoding="utf-8"))["status"]["error"] == 3
    err = capsys.readouterr().err
    assert "11 episodes: 7 settled, 1 rejected, 3 errors" in err
    assert "\r" not in err  # not a terminal: no progress bar


def test_fail_fast_stops_after_the_first_error(tmp_path: Path, lines: list[str]) -> None:
    source, out = write(tmp_path, lines), tmp_path / "out.jsonl"
    argv = ["batch", str(source), "--policy", "panzhihua", "--out", str(out), "--fail-fast"]
    assert main([*argv, "--workers", "1"]) == 1
    written = out.read_text(encoding="utf-8").splitlines()
    assert written == expected(lines)[:7]
    assert json.loads(written[-1])["line"] == 8


def test_stdin_to_stdout(
    lines: list[str], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    good = lines[:6]
    data = ("\n".join(good) + "\n").encode()
    monkeypatch.setattr("sys.stdin", io.TextIOWrapper(io.BytesIO(data), encoding="utf-8"))
    assert main(["batch", "-", "--policy", "panzhihua", "--workers", "1"]) == 0
    assert capsys.readouterr().out.splitlines() == expected(good)


def test_unknown_policy_or_missing_file_exits_2(
    tmp_path: Path, lines: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    source = write(tmp_path, lines)
    assert main(["batch", str(source), "--policy", "atlantis", "--out", str(tmp_path / "o")]) == 2
    assert main(["batch", str(tmp_path / "nope.jsonl"), "--policy", "panzhihua"]) == 2
    assert main(["batch", str(source), "--policy", "panzhihua", "--workers", "0"]) == 2
    err = capsys.readouterr().err
    assert "no policy with id 'atlantis'" in err
    assert "cannot read" in err
    assert "--workers must be at least 1, not 0" in err
    assert "Traceback" not in err


def test_progress_bar_shows_rate_and_eta_on_a_terminal() -> None:
    stream = io.StringIO()
    progress = Progress(stream, total_bytes=1000, position=lambda: 250, enabled=True)
    progress.update(50, force=True)
    assert "25%" in stream.getvalue()
    assert "50 episodes" in stream.getvalue()
    assert "/s" in stream.getvalue()
    assert "ETA 0:" in stream.getvalue()
    progress.close()
    quiet = io.StringIO()
    Progress(quiet, 1000, lambda: 250).update(50, force=True)  # StringIO is not a tty
    assert quiet.getvalue() == ""


def test_interrupt_keeps_what_was_written_and_exits_130(
    tmp_path: Path,
    lines: list[str],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    real = settle_many

    def interrupted(*args: object, **kwargs: object) -> Iterator[object]:
        records = real(*args, **kwargs)  # type: ignore[arg-type]
        yield next(records)
        records.close()  # type: ignore[attr-defined]
        raise KeyboardInterrupt

    monkeypatch.setattr("daycare_settle.batch.settle_many", interrupted)
    source, out = write(tmp_path, lines), tmp_path / "out.jsonl"
    argv = ["batch", str(source), "--policy", "panzhihua", "--out", str(out), "--workers", "1"]
    assert main(argv) == 130  # several workers write a file by shards: test_batch_shards.py
    assert out.read_text(encoding="utf-8").splitlines() == expected(lines)[:1]
    assert "interrupted after 1 episodes" in capsys.readouterr().err


def test_scheduler_needs_a_file_the_workers_can_read(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["batch", "-", "--policy", "panzhihua", "--scheduler", "tcp://127.0.0.1:1"]) == 2
    assert "give a path" in capsys.readouterr().err
