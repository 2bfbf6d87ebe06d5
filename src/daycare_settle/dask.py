# mypy: disallow-untyped-calls=False
# (dask and distributed ship partial annotations; their calls are untyped.)
"""Settle a Dask bag — or JSON-lines files read by the workers — on a cluster, in order.

Install the extra: ``pip install 'daycare_settle[dask]'``. Then::

    from distributed import Client
    from daycare_settle.dask import settle_files

    with Client("tcp://scheduler:8786") as client:
        for record in settle_files(["s3://claims/2025-*.jsonl"], "panzhihua", client=client):
            out.write(record.to_json() + "\\n")

- **Workers read their own shards.** :func:`settle_files` builds the bag with
  ``dask.bag.read_text(paths, blocksize=...)``: the task graph holds byte ranges of files,
  never the episodes; each worker reads its blocks itself (so the paths must be readable
  by the workers: a shared file system or an object store fsspec knows).
- **The policy is shipped once per worker, as a name.** Tasks carry the policy id (or
  rule-file path) and a fingerprint of its rule files (the SHA-256 of every version), not
  the compiled policy. Each worker process compiles the policy on its first task and keeps
  it in a per-process cache keyed by (policy, fingerprint); a worker whose rule files
  differ from the client's refuses to settle (``policy_load_error``) instead of settling
  under other rules.
- **Platform records.** With ``source="platform"`` each item is a platform record set
  (:mod:`daycare_settle.platform`), settled as :func:`daycare_settle.platform.settle_records`
  does; the format travels with the policy name, and the records are byte-equal to
  ``settle_many(..., source="platform")``.
- **Order.** Partitions are computed a window at a time and read back in partition order;
  records come back in input order with their line numbers (counted over the files in the
  order given, blank lines included), byte-equal to :func:`daycare_settle.batch.settle_many`.
"""

from __future__ import annotations

import hashlib
from collections import deque
from collections.abc import Iterable, Iterator, Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any

import dask.bag as db
from dask.base import compute
from distributed import Client, Future, get_client

from .batch import (
    BatchItem,
    BatchRecord,
    InputFormat,
    RawRecord,
    _reader,
    is_blank,
    policy_spec,
    settle_one,
)
from .errors import PolicyLoadError
from .policy import Policy, resolve_policy, versions

PartitionResult = tuple[int, list[RawRecord]]
"""What a partition returns: how many items it held (blank lines too) and its records."""

DEFAULT_BLOCKSIZE = "8MiB"


def policy_fingerprint(spec: str) -> str:
    """One hash over the rule files behind a policy id (every version) or a rule-file path."""
    if spec.endswith((".yaml", ".yml")):
        hashes = [resolve_policy(spec).sha256]
    else:
        hashes = [version.sha256 for version in versions(spec)]
    return hashlib.sha256(" ".join(hashes).encode()).hexdigest()


@lru_cache(maxsize=8)
def _worker_policy(spec: str, fingerprint: str) -> str:
    """Compile the policy in this worker process once; check its rule files are the client's."""
    local = policy_fingerprint(spec)
    if local != fingerprint:
        raise PolicyLoadError(
            spec,
            None,
            f"the rule files on this worker (fingerprint {local[:12]}) differ from the "
            f"client's ({fingerprint[:12]}); deploy the same daycare_settle rules everywhere",
        )
    return spec


def settle_partition(
    items: Iterable[BatchItem], spec: str, fingerprint: str, source: InputFormat = "episode"
) -> list[Any]:
    """Settle one partition: ``[(items seen, raw records)]`` (a one-element partition); the
    items are episodes or, with ``source="platform"``, platform record sets."""
    policy = _worker_policy(spec, fingerprint)
    records: list[RawRecord] = []
    count = 0
    for count, item in enumerate(items, start=1):
        if not is_blank(item):
            records.append(settle_one(count, item, policy, source))
    result: PartitionResult = (count, records)
    return [result]


def results_bag(
    bag: db.Bag, policy: str | Path | Policy, *, source: InputFormat = "episode"
) -> db.Bag:
    """The lazy bag of settled partitions (one ``(count, records)`` element each); ``source``
    says what an item is (``"episode"`` or ``"platform"``: a platform record set).
    :class:`~daycare_settle.DaycareSettleError` for another format, before any task runs."""
    _reader(source)
    spec = policy_spec(policy)
    settled: db.Bag = bag.map_partitions(settle_partition, spec, policy_fingerprint(spec), source)
    return settled


def output_lines(part: PartitionResult) -> list[str]:
    """A settled partition's output lines (without newlines), for workers that write their
    own results: ``results_bag(bag, policy).map(output_lines).flatten().to_textfiles(...)``.
    An error record's ``line`` is then its line within the partition."""
    _, raws = part
    return [BatchRecord.from_raw(raw).to_json() for raw in raws]


def settle_bag(
    bag: db.Bag,
    policy: str | Path | Policy,
    *,
    client: Client | None = None,
    window: int | None = None,
    source: InputFormat = "episode",
) -> Iterator[BatchRecord]:
    """Settle every item of ``bag`` (JSON text lines, episode dicts; with
    ``source="platform"`` platform record sets) and yield a :class:`BatchRecord` per
    non-blank item, in bag order; ``line`` counts items from 1.

    With a ``client`` (or a current one), partitions run on its cluster, at most ``window``
    (default: twice the cluster's threads) at a time; without one, on Dask's local scheduler.
    """
    parts = results_bag(bag, policy, source=source).to_delayed()
    if client is None:
        try:
            client = get_client()
        except ValueError:
            client = None
    if client is None:
        yield from _ordered_local(parts, window or 4)
        return
    threads = sum(client.nthreads().values()) or 1
    yield from _ordered(parts, client, window or 2 * threads)


def settle_files(
    paths: Sequence[str | Path],
    policy: str | Path | Policy,
    *,
    scheduler: str | None = None,
    client: Client | None = None,
    blocksize: str | int = DEFAULT_BLOCKSIZE,
    source: InputFormat = "episode",
) -> Iterator[BatchRecord]:
    """Settle JSON-lines files on a cluster (``scheduler`` address or ``client``), the
    workers reading their own blocks; records in file order, lines numbered across files.
    A line is an episode or, with ``source="platform"``, a platform record set."""
    _reader(source)
    bag = db.read_text([str(path) for path in paths], blocksize=blocksize, encoding="utf-8")
    if client is None and scheduler is not None:
        with Client(scheduler) as own:
            yield from settle_bag(bag, policy, client=own, source=source)
        return
    yield from settle_bag(bag, policy, client=client, source=source)


def _records(results: list[Any], offset: int) -> tuple[int, list[BatchRecord]]:
    [(count, raws)] = results
    return offset + count, [BatchRecord.from_raw(raw, offset) for raw in raws]


def _ordered(parts: list[Any], client: Client, window: int) -> Iterator[BatchRecord]:
    pending: deque[Future[Any]] = deque()
    offset = 0
    try:
        for part in parts:
            pending.append(client.compute(part))
            if len(pending) >= window:
                offset, records = _records(pending.popleft().result(), offset)
                yield from records
        while pending:
            offset, records = _records(pending.popleft().result(), offset)
            yield from records
    finally:
        for future in pending:
            future.cancel()


def _ordered_local(parts: list[Any], window: int) -> Iterator[BatchRecord]:
    offset = 0
    for start in range(0, len(parts), window):
        for results in compute(*parts[start : start + window]):
            offset, records = _records(results, offset)
            yield from records
