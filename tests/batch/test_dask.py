"""Dask: a real LocalCluster on loopback (two worker processes, no dashboard) settles the
same lines byte for byte as one process, in input order, the workers reading the file."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path

import dask
import dask.bag as db
import pytest
from distributed import Client, LocalCluster

import daycare_settle
from daycare_settle import PolicyLoadError
from daycare_settle.batch import settle_many
from daycare_settle.cli import main
from daycare_settle.dask import (
    _worker_policy,
    output_lines,
    policy_fingerprint,
    results_bag,
    settle_bag,
    settle_files,
    settle_partition,
)
from tests.batch.conftest import mixed_lines
from tests.batch.test_platform_batch import expected, record_lines
from tests.builders import episode

# The workers import the package from where this process did (the worktree's src/ or the
# installed copy), whatever the cluster's own path.
SRC = str(Path(daycare_settle.__file__).resolve().parents[1])


def test_without_a_cluster_the_local_scheduler_settles_in_order() -> None:
    # First in the module: the cluster fixture (and its default client) does not exist yet.
    lines = mixed_lines()
    with dask.config.set(scheduler="synchronous"):
        records = list(settle_bag(db.from_sequence(lines, npartitions=3), "panzhihua"))
    assert [r.to_json() for r in records] == single_process(lines)


@pytest.fixture(scope="module")
def client() -> Iterator[Client]:
    path = os.environ.get("PYTHONPATH", "")
    os.environ["PYTHONPATH"] = os.pathsep.join(p for p in (SRC, path) if p)
    try:
        with (
            LocalCluster(
                processes=True,
                n_workers=2,
                threads_per_worker=1,
                host="127.0.0.1",
                dashboard_address=None,
                worker_dashboard_address=None,
            ) as cluster,
            Client(cluster, timeout="30s") as connected,
        ):
            yield connected
    finally:
        os.environ["PYTHONPATH"] = path


def single_process(lines: list[str]) -> list[str]:
    return [r.to_json() for r in settle_many(lines, "panzhihua", workers=1)]


def test_files_on_the_cluster_match_one_process_byte_for_byte(
    client: Client, tmp_path: Path
) -> None:
    lines = mixed_lines() * 4  # 48 lines over several small blocks
    first, second = tmp_path / "a.jsonl", tmp_path / "b.jsonl"
    first.write_text("\n".join(lines) + "\n", encoding="utf-8")
    second.write_text("\n".join(lines[:5]) + "\n", encoding="utf-8")
    records = list(settle_files([first, second], "panzhihua", client=client, blocksize=4096))
    assert [r.to_json() for r in records] == single_process(lines + lines[:5])
    assert records[-1].line == len(lines) + 5  # numbered across the files
    # each worker process compiled the policy at most once, whatever its number of tasks
    misses = client.run(lambda: _worker_policy.cache_info().misses)
    assert len(misses) == 2
    assert all(count <= 1 for count in misses.values())
    # the graph holds byte ranges, not the episodes
    graph = results_bag(db.read_text([str(first)], blocksize=4096), "panzhihua").dask
    assert "EP-1" not in repr(dict(graph))


def test_a_bag_of_dicts_settles_in_order(client: Client) -> None:
    dicts = [episode(episode_id=f"EP-{n}") for n in range(9)]
    records = list(settle_bag(db.from_sequence(dicts, npartitions=3), "panzhihua", client=client))
    assert [json.loads(r.text)["episode_id"] for r in records] == [f"EP-{n}" for n in range(9)]
    assert [r.line for r in records] == list(range(1, 10))


def test_batch_command_runs_on_a_scheduler(
    client: Client, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    lines = mixed_lines()
    source, out = tmp_path / "in.jsonl", tmp_path / "out.jsonl"
    source.write_text("\n".join(lines) + "\n", encoding="utf-8")
    address = client.scheduler.address
    assert address.startswith("tcp://127.0.0.1:")
    argv = ["batch", str(source), "--policy", "panzhihua", "--out", str(out)]
    assert main([*argv, "--scheduler", address]) == 1  # three error lines
    assert out.read_text(encoding="utf-8").splitlines() == single_process(lines)
    assert "11 episodes: 7 settled, 1 rejected, 3 errors" in capsys.readouterr().err


def test_a_worker_with_other_rule_files_refuses() -> None:
    with pytest.raises(PolicyLoadError, match="differ from the client's"):
        settle_partition(mixed_lines()[:1], "panzhihua", "0" * 64)
    assert policy_fingerprint("panzhihua") != policy_fingerprint("jining")


def test_workers_can_write_their_own_results(client: Client, tmp_path: Path) -> None:
    lines = mixed_lines()
    bag = db.from_sequence(lines[:6], npartitions=2)
    results_bag(bag, "panzhihua").map(output_lines).flatten().to_textfiles(
        str(tmp_path / "part-*.jsonl"), encoding="utf-8", last_endline=True
    )
    written = [
        line
        for part in sorted(tmp_path.glob("part-*.jsonl"))
        for line in part.read_text(encoding="utf-8").splitlines()
    ]
    assert written == single_process(lines[:6])


def platform_single_process(lines: list[str]) -> list[str]:
    records = settle_many(lines, "panzhihua", workers=1, source="platform")
    return [r.to_json() for r in records]


def test_platform_record_sets_on_the_cluster_match_one_process_byte_for_byte(
    client: Client, tmp_path: Path
) -> None:
    lines = record_lines() * 3  # good, blank, malformed, incomplete, other visit, unknown code
    first, second = tmp_path / "a.jsonl", tmp_path / "b.jsonl"
    first.write_text("\n".join(lines) + "\n", encoding="utf-8")
    second.write_text("\n".join(lines[:2]) + "\n", encoding="utf-8")
    records = list(
        settle_files([first, second], "panzhihua", client=client, blocksize=4096, source="platform")
    )
    texts = [r.to_json() for r in records]
    assert texts == platform_single_process(lines + lines[:2])
    assert texts[: len(expected(lines[:6]))] == expected(lines[:6])  # as each set alone
    assert [r.status for r in records[:5]] == ["settled", "error", "error", "settled", "error"]
    assert records[-1].line == len(lines) + 1  # numbered across the files, blanks counted


def test_a_bag_of_record_sets_settles_in_order(client: Client) -> None:
    good = json.loads(record_lines()[0])
    sets = []
    for n in range(6):
        one = json.loads(json.dumps(good))
        one["dscginfo"]["mdtrt_id"] = f"MDTRT-{n}"
        sets.append(one)
    bag = db.from_sequence(sets, npartitions=3)
    records = list(settle_bag(bag, "panzhihua", client=client, source="platform"))
    assert [json.loads(r.text)["episode_id"] for r in records] == [f"MDTRT-{n}" for n in range(6)]


def test_batch_command_settles_platform_records_on_a_scheduler(
    client: Client, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    lines = record_lines()
    source, out = tmp_path / "records.jsonl", tmp_path / "out.jsonl"
    source.write_text("\n".join(lines) + "\n", encoding="utf-8")
    argv = ["batch", str(source), "--policy", "panzhihua", "--from", "platform"]
    assert main([*argv, "--out", str(out), "--scheduler", client.scheduler.address]) == 1
    assert out.read_text(encoding="utf-8").splitlines() == platform_single_process(lines)
    assert "5 episodes: 2 settled, 0 rejected, 3 errors" in capsys.readouterr().err
