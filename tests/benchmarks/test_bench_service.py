"""The service benchmark's quick path runs, so it never rots (no time is asserted)."""

from __future__ import annotations

import pytest

from benchmarks import bench_service


def test_a_short_run_prints_every_figure(capsys: pytest.CaptureFixture[str]) -> None:
    assert (
        bench_service.main(["--requests", "12", "--connections", "2", "--batch-repeat", "1"]) == 0
    )
    out = capsys.readouterr().out
    assert "12 requests over 2 connections" in out
    assert "0 answers other than 200" in out
    for figure in ("requests/s", "p50", "p99", "POST /v1/batch"):
        assert figure in out, figure
