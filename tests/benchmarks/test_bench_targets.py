"""The benchmark's quick path runs, so the benchmark never rots (no time is asserted)."""

from __future__ import annotations

import pytest

from benchmarks import bench_targets


def test_quick_run_prints_every_figure(capsys: pytest.CaptureFixture[str]) -> None:
    assert bench_targets.main(["--quick", "--profile"]) == 0
    out = capsys.readouterr().out
    for figure in (
        "floor, dict",
        "where the time goes",
        "floor, JSON",
        "core",
        "end to end",
        "µs/charge",
        "p50",
        "p99",
        "peak memory",
        "catalogue of 500 entries",
        "batch, 16 20-charge episodes",
        "own time by where it is spent",
        "functions with the most own time",
    ):
        assert figure in out, figure


def test_the_floor_model_reads_the_benchmark_episode_as_the_library_does() -> None:
    data = bench_targets.episode(20)
    floor = bench_targets.FloorEpisode.model_validate(data)
    settled = bench_targets.settle(data, policy=bench_targets.POLICY)
    assert len(floor.charges) == len(settled.lines) == 20
    assert settled.status == "settled"
    assert sum(charge.amount for charge in floor.charges) == settled.totals.input
